"""Patients: list with search and filters, create, read, update (versioned), delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ...store.assessments import read_record
from ...store.listing import PatientFilters, SortKey, list_patients, record_row
from ...store.patients import (
    PatientRecordIn,
    PatientRecordUpdate,
    create_patient,
    delete_patient,
    update_patient,
)
from ..deps import MAX_ID, Clinician, CodedPatientReader, DbSession, ListReader, PatientId, PatientWriter, QueryDate, caches_of
from .schemas import ConflictOut, PatientOut, PatientPageOut, patient_out

router = APIRouter(prefix="/patients", tags=["patients"])

Status = Annotated[str | None, Query(max_length=40, description="status.current, e.g. complete_remission")]


@router.get("", response_model=PatientPageOut)
def patients(
    request: Request,
    who: ListReader,
    db: DbSession,
    q: Annotated[str | None, Query(max_length=200, description="part of the identifier or name")] = None,
    status: Status = None,
    risk: Annotated[str | None, Query(max_length=40, description="NCI risk: standard, high, infant, not_applicable")] = None,
    genetic_risk: Annotated[str | None, Query(max_length=40, description="standard or poor")] = None,
    lineage: Annotated[str | None, Query(max_length=40, description="B, T, B/myeloid ...")] = None,
    alert: Annotated[str | None, Query(max_length=60, description="an alert code, e.g. hyperleukocytosis")] = None,
    last_visit_from: QueryDate | None = None,
    last_visit_to: QueryDate | None = None,
    sort: SortKey = "identifier",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> PatientPageOut:
    """Clinicians and registrars see every patient; a patient user sees only their own record."""
    filters = PatientFilters(
        q=q, status=status, risk=risk, genetic_risk=genetic_risk, lineage=lineage, alert=alert,
        last_visit_from=last_visit_from, last_visit_to=last_visit_to, sort=sort, limit=limit, offset=offset,
        only_patient_id=(who.patient_id or 0) if who.role == "patient" else None,
    )
    page = list_patients(db, who.actor, filters)
    return PatientPageOut(items=[patient_out(record, row) for record, row in page.items], total=page.total,
                          limit=limit, offset=offset)


@router.post("", response_model=PatientOut, status_code=201, responses={409: {"model": ConflictOut}})
def new_patient(body: PatientRecordIn, who: Clinician, db: DbSession) -> PatientOut:
    return patient_out(create_patient(db, who.actor, body))


@router.get("/{patient_id}", response_model=PatientOut, responses={404: {}})
def patient(patient_id: PatientId, who: CodedPatientReader, db: DbSession) -> PatientOut:
    record = read_record(db, who.actor, patient_id)
    return patient_out(record.patient, record_row(db, record))


@router.put("/{patient_id}", response_model=PatientOut, responses={404: {}, 409: {"model": ConflictOut}})
def change_patient(patient_id: PatientId, body: PatientRecordUpdate, who: PatientWriter, db: DbSession) -> PatientOut:
    """Replace the demographics. Send the ``version`` you read; if someone saved in between: 409."""
    return patient_out(update_patient(db, who.actor, patient_id, body))


@router.delete("/{patient_id}", status_code=204, responses={404: {}, 409: {"model": ConflictOut}})
def remove_patient(
    patient_id: PatientId,
    request: Request,
    who: PatientWriter,
    db: DbSession,
    version: Annotated[int, Query(ge=1, le=MAX_ID, description="the version you read")],
) -> Response:
    delete_patient(db, who.actor, patient_id, version)
    caches_of(request).forget_patient(patient_id)
    return Response(status_code=204)
