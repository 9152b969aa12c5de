"""Treatments: the findings of type ``treatment``, with the engine's ``Treatment`` model as the body.

A separate route set so that scripts and forms recording therapy blocks get a
body type that cannot be anything but a treatment.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from ...engine.case import Treatment
from ...store.errors import NotFound
from ...store.findings import add_finding, delete_finding, get_finding, list_findings, update_finding
from ..deps import MAX_ID, DbSession, FindingId, PatientId, PatientReader, PatientWriter
from .findings import AllowDuplicate
from .schemas import ConflictOut, FindingOut, TreatmentUpdate, finding_out

router = APIRouter(prefix="/patients/{patient_id}/treatments", tags=["treatments"])


def _treatment(db, who, patient_id: int, finding_id: int):
    stored = get_finding(db, who.actor, patient_id, finding_id)
    if stored.row.type != "treatment":
        raise NotFound("treatment", finding_id)
    return stored


@router.get("", response_model=list[FindingOut], responses={404: {}})
def treatments(patient_id: PatientId, who: PatientReader, db: DbSession) -> list[FindingOut]:
    return [finding_out(item) for item in list_findings(db, who.actor, patient_id, kind="treatment")]


@router.post("", response_model=FindingOut, status_code=201, responses={404: {}, 409: {"model": ConflictOut}})
def new_treatment(
    patient_id: PatientId, treatment: Treatment, who: PatientWriter, db: DbSession, allow_duplicate: AllowDuplicate = False
) -> FindingOut:
    return finding_out(add_finding(db, who.actor, patient_id, treatment, allow_duplicate=allow_duplicate))


@router.get("/{finding_id}", response_model=FindingOut, responses={404: {}})
def treatment(patient_id: PatientId, finding_id: FindingId, who: PatientReader, db: DbSession) -> FindingOut:
    return finding_out(_treatment(db, who, patient_id, finding_id))


@router.put("/{finding_id}", response_model=FindingOut, responses={404: {}, 409: {"model": ConflictOut}})
def change_treatment(
    patient_id: PatientId, finding_id: FindingId, body: TreatmentUpdate, who: PatientWriter, db: DbSession
) -> FindingOut:
    _treatment(db, who, patient_id, finding_id)
    return finding_out(update_finding(db, who.actor, patient_id, finding_id, body.finding, body.version))


@router.delete("/{finding_id}", status_code=204, responses={404: {}, 409: {"model": ConflictOut}})
def remove_treatment(
    patient_id: PatientId,
    finding_id: FindingId,
    who: PatientWriter,
    db: DbSession,
    version: Annotated[int, Query(ge=1, le=MAX_ID)],
) -> Response:
    _treatment(db, who, patient_id, finding_id)
    delete_finding(db, who.actor, patient_id, finding_id, version)
    return Response(status_code=204)
