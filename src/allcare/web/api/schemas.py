"""Request and response bodies of the REST API that the engine's models do not already define.

Clinical content is never re-declared here: a finding in a request is the
engine's ``Finding`` union, a patient is the engine's case-file ``Patient``,
an assessment is the engine's ``Assessment``. These models only add the
record-keeping around them (ids, versions, timestamps).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, TypeGuard, get_args

from pydantic import BaseModel, ConfigDict, Field

from ...engine.case import Finding, Treatment
from ...engine.case import Patient as CasePatient
from ...engine.case.models import StorableText
from ...store.models import ROLES

Role = Literal["clinician", "registrar", "patient", "admin"]
if set(ROLES) != set(get_args(Role)):
    raise RuntimeError("the API's Role literal and the store's ROLES differ")


def is_role(value: str) -> TypeGuard[Role]:
    """Whether a stored role (plain text in the database) is one the API knows."""
    return value in ROLES

Version = Field(ge=1, le=2**31 - 1, description="the version you read; a stale one gets HTTP 409")


class _In(StorableText):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class AlertOut(BaseModel):
    code: str
    severity: str


class SummaryOut(BaseModel):
    """The engine's headline outputs for lists; the full assessment is at ``/assessment``."""

    fresh: bool = Field(description="false while the record changed since; re-read for the new state")
    as_of: dt.date | None
    last_visit: dt.date | None
    disease: str | None
    lineage: str | None
    who_haem5: str | None
    status: str | None
    phase: str | None
    nci_risk: str | None
    genetic_risk: str | None
    cog_group: str | None
    icd_10_cm: str | None
    icd_o_3: str | None
    icd_o_3_topography: str | None = Field(description="ICD-O-3 topography: the primary site (C42.1 bone marrow ...)")
    alerts: list[AlertOut]
    critical_alerts: int
    error: str | None


class PatientOut(BaseModel):
    id: int
    patient: CasePatient
    diagnosis_date: dt.date | None
    display_name: str | None
    version: int
    revision: int = Field(description="changes with every change to the record, findings included")
    created_at: dt.datetime
    updated_at: dt.datetime
    summary: SummaryOut | None = None


class PatientPageOut(BaseModel):
    items: list[PatientOut]
    total: int
    limit: int
    offset: int


class FindingOut(BaseModel):
    id: int
    version: int
    index: int | None = Field(description="position in the case file; the assessment's evidence cites it")
    type: str
    date: dt.date
    finding: dict[str, Any] = Field(description="the case-file finding as reported (original units)")
    canonical: dict[str, Any] = Field(description="the same finding with quantities in canonical units")
    created_at: dt.datetime
    updated_at: dt.datetime


class FindingUpdate(_In):
    version: int = Version
    finding: Finding


class TreatmentUpdate(_In):
    version: int = Version
    finding: Treatment


class ConflictOut(BaseModel):
    detail: str
    current_version: int | None


class LoginIn(_In):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class WhoAmI(BaseModel):
    user_id: int
    username: str
    display_name: str | None
    role: Role
    patient_id: int | None
    via: str
    csrf_token: str | None = Field(default=None, description="send as X-CSRF-Token (or form field csrf_token) "
                                   "with state-changing requests that use the session cookie")


class PasswordChange(_In):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class TokenIn(_In):
    name: str = Field(min_length=1, max_length=100)
    days: int | None = Field(default=None, ge=1, le=3650)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="shown once; store it now")


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str | None
    role: Role
    patient_id: int | None
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class UserIn(_In):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=1024)
    role: Role
    patient_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    display_name: str | None = Field(default=None, max_length=200)


class UserPatch(_In):
    role: Role | None = None
    active: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=1024)
    patient_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    display_name: str | None = Field(default=None, max_length=200)


class AuditOut(BaseModel):
    id: int
    at: dt.datetime
    user_id: int | None
    username: str | None
    role: str | None
    action: str
    outcome: str
    object_type: str | None
    object_id: str | None
    patient_id: int | None
    ip: str | None
    via: str | None
    detail: dict[str, Any] | None


class AuditPageOut(BaseModel):
    items: list[AuditOut]
    total: int
    next_before: int | None = Field(description="pass as ?before= for the next (older) page")


class CodedEntityOut(BaseModel):
    key: str | None
    name: str | None


class CodesOut(BaseModel):
    icd_o_3: str | None = Field(description="ICD-O-3 morphology with behaviour (9811/3 ...)")
    icd_o_3_topography: str | None = Field(description="ICD-O-3 topography: the primary site (C42.1 bone marrow for a "
                                                       "leukaemia, C77.x the lymph node region of a lymphoblastic lymphoma)")
    icd_10_cm: str | None
    snomed_ct: str | None


class CodedRiskOut(BaseModel):
    nci: str | None
    genetic: str | None
    cog_group: str | None


class CodedStatusOut(BaseModel):
    current: str | None
    since: dt.date | None
    phase: str | None


class CodedOut(BaseModel):
    """A record as a registrar sees it: codes, entities, dates, risk and status; no raw findings."""

    patient_id: int
    identifier: str
    sex: str
    birth_date: dt.date | None
    diagnosis_date: dt.date | None
    age_at_diagnosis: int | None = Field(description="completed years on the diagnosis date (NAACCR item 230: 0 below "
                                                     "one year); None when neither a birth date nor an age is recorded")
    as_of: dt.date | None
    last_visit: dt.date | None
    disease: str | None
    lineage: str | None
    who_haem5: CodedEntityOut
    icc_2022: CodedEntityOut
    codes: CodesOut
    risk: CodedRiskOut
    status: CodedStatusOut
    alerts: list[str] = Field(description="alert codes")
    error: str | None = Field(description="why the record could not be assessed")
    assessment_current: bool = Field(description="false while these codes come from no or an earlier assessment "
                                                 "(another revision, engine or rule set; the server is recomputing it)")


class CohortOut(BaseModel):
    patients: int
    assessed: int
    not_current: int = Field(description="records whose counts below come from no or an earlier assessment "
                                         "(the server is recomputing them)")
    by_sex: dict[str, int]
    by_disease: dict[str, int]
    by_lineage: dict[str, int]
    by_who_haem5: dict[str, int]
    by_status: dict[str, int]
    by_phase: dict[str, int]
    by_nci_risk: dict[str, int]
    by_genetic_risk: dict[str, int]
    by_icd_10_cm: dict[str, int]
    by_icd_o_3: dict[str, int]
    by_icd_o_3_topography: dict[str, int] = Field(description="by ICD-O-3 primary site")
    alerts: dict[str, int] = Field(description="assessed patients with each alert code (a patient counts once per code)")


def patient_out(row, listed=None) -> PatientOut:
    """A record, with the list row (``store.listing.PatientListRow``) as its summary once it was assessed."""
    from ...store.patients import case_patient

    return PatientOut(
        id=row.id, patient=case_patient(row), diagnosis_date=row.diagnosis_date, display_name=row.display_name,
        version=row.version, revision=row.revision, created_at=row.created_at, updated_at=row.updated_at,
        summary=SummaryOut.model_validate(listed, from_attributes=True) if listed is not None and listed.assessed
        else None,
    )


def finding_out(stored) -> FindingOut:
    row = stored.row if hasattr(stored, "row") else stored
    index = getattr(stored, "index", None)
    return FindingOut(id=row.id, version=row.version, index=index, type=row.type, date=row.date,
                      finding=row.reported, canonical=row.canonical, created_at=row.created_at,
                      updated_at=row.updated_at)


def token_out(row) -> TokenOut:
    return TokenOut(id=row.id, name=row.name, prefix=row.prefix, created_at=row.created_at,
                    expires_at=row.expires_at, last_used_at=row.last_used_at, revoked_at=row.revoked_at)


def user_out(row) -> UserOut:
    return UserOut(id=row.id, username=row.username, display_name=row.display_name, role=row.role,
                   patient_id=row.patient_id, active=row.active, created_at=row.created_at, updated_at=row.updated_at)
