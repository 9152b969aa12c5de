"""Findings of one patient: list, read, add, replace (versioned), delete.

The request body of a new finding is the engine's ``Finding`` union itself,
discriminated by ``type``, so the API accepts exactly what a case file accepts
and rejects what it rejects, with the same messages.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AfterValidator

from ...engine.case import FINDING_TYPES, Finding
from ...engine.case.models import refuse_unstorable_text
from ...store.findings import add_finding, delete_finding, get_finding, list_findings, update_finding
from ..deps import MAX_ID, DbSession, FindingId, PatientId, PatientReader, PatientWriter
from .schemas import ConflictOut, FindingOut, FindingUpdate, finding_out

router = APIRouter(prefix="/patients/{patient_id}/findings", tags=["findings"])
FindingType = Annotated[str | None, Query(pattern="^(" + "|".join(FINDING_TYPES) + ")$", description="only this type")]


@router.get("", response_model=list[FindingOut], responses={404: {}})
def findings(patient_id: PatientId, who: PatientReader, db: DbSession, type: FindingType = None) -> list[FindingOut]:
    return [finding_out(item) for item in list_findings(db, who.actor, patient_id, kind=type)]


AllowDuplicate = Annotated[bool, Query(description="store it even when an identical finding is already stored "
                                                   "(without: 409 naming that finding, so a retried request is stored once)")]


@router.post("", response_model=FindingOut, status_code=201, responses={404: {}, 409: {"model": ConflictOut}})
def new_finding(
    patient_id: PatientId, finding: Finding, who: PatientWriter, db: DbSession, allow_duplicate: AllowDuplicate = False
) -> FindingOut:
    return finding_out(add_finding(db, who.actor, patient_id, finding, allow_duplicate=allow_duplicate))


@router.get("/{finding_id}", response_model=FindingOut, responses={404: {}})
def finding(patient_id: PatientId, finding_id: FindingId, who: PatientReader, db: DbSession) -> FindingOut:
    return finding_out(get_finding(db, who.actor, patient_id, finding_id))


@router.put("/{finding_id}", response_model=FindingOut, responses={404: {}, 409: {"model": ConflictOut}})
def change_finding(
    patient_id: PatientId, finding_id: FindingId, body: FindingUpdate, who: PatientWriter, db: DbSession
) -> FindingOut:
    """Replace a finding. Send the ``version`` you read; if someone saved in between: 409."""
    return finding_out(update_finding(db, who.actor, patient_id, finding_id, body.finding, body.version))


@router.delete("/{finding_id}", status_code=204, responses={404: {}, 409: {"model": ConflictOut}})
def remove_finding(
    patient_id: PatientId,
    finding_id: FindingId,
    who: PatientWriter,
    db: DbSession,
    version: Annotated[int, Query(ge=1, le=MAX_ID, description="the version you read")],
    reason: Annotated[str | None, AfterValidator(refuse_unstorable_text),
                      Query(max_length=500, description="why; kept in the audit log")] = None,
) -> Response:
    delete_finding(db, who.actor, patient_id, finding_id, version, reason=reason)
    return Response(status_code=204)
