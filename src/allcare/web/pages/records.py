"""Start and correct a record without files: the new-patient form, editing and deleting a finding
(with its reason kept in the audit log) and ending a running treatment phase.

Every change goes through the store functions the API uses, with the same optimistic locking:
each form carries the ``version`` it was opened with, and a form saved after someone else's
change is shown again with the person's own input kept and the fields that changed listed.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ...engine.case.errors import dotted_path
from ...engine.case.models import Condition, Sex, unstorable_text
from ...store.errors import Conflict, InvalidRecord
from ...store.findings import delete_finding, finding_from_json, get_finding, update_finding
from ...store.patients import PatientRecordIn, case_patient, create_patient, get_patient
from ..deps import MAX_ID, Clinician, PatientId, PatientWriter, get_store
from . import forms
from .common import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
FindingId = Annotated[int, Path(ge=1, le=MAX_ID)]
MAX_REASON = 500

PATIENT_FIELDS = [
    forms.Field("identifier", "Identifier", "text", required=True, help="the hospital number or study id"),
    forms.Field("display_name", "Name", "text", help="shown to the care team; never exported"),
    forms.Field("birth_date", "Birth date", "date", help="or the age at diagnosis below"),
    forms.Field("age_years", "Age at diagnosis (years)", "number", min=0, max=120,
                help="only when the birth date is not known"),
    forms.Field("sex", "Sex", "select", options=forms.choices(*(s.value for s in Sex))),
    forms.Field("diagnosis_date", "Diagnosis date", "date"),
    forms.Field("conditions", "Conditions", "checks", options=forms.choices(*(c.value for c in Condition)),
                help="conditions that change classification, risk or toxicity"),
]
_PATIENT_LOCATIONS = {"patient.id": "identifier", "patient.birth_date": "birth_date", "patient.age_years": "age_years",
                      "patient.sex": "sex", "patient.conditions": "conditions", "diagnosis_date": "diagnosis_date",
                      "display_name": "display_name"}


def _patient_form(request: Request, values: dict, errors: dict, status: int = 200) -> Response:
    return render(request, "patient_form.html", {"fields": PATIENT_FIELDS, "values": values, "errors": errors},
                  status_code=status)


@router.get("/patients/new")
def new_patient_form(request: Request, who: Clinician) -> Response:
    return _patient_form(request, {"sex": "unknown"}, {})


def patient_record_from_form(form: Any) -> tuple[PatientRecordIn | None, dict[str, list[str]]]:
    """The form as the API's request model; problems by form field, in the case model's words."""
    result = forms.FormResult({})
    text = {spec.name: forms.field_text(form, spec.name) for spec in PATIENT_FIELDS}
    patient: dict[str, Any] = {"id": text["identifier"], "sex": text["sex"] or "unknown",
                               "conditions": [c for c in form.getlist("conditions") if isinstance(c, str)]}
    if text["birth_date"]:
        patient["birth_date"] = text["birth_date"]
    if text["age_years"]:
        age = forms.typed_number(result, "age_years", text["age_years"])
        if age is not None:
            patient["age_years"] = age
    if not text["identifier"]:
        result.add("identifier", "required")
    data = {"patient": patient, "diagnosis_date": text["diagnosis_date"] or None,
            "display_name": text["display_name"] or None}
    if not result.ok:
        return None, result.errors
    try:
        return PatientRecordIn.model_validate(data), {}
    except ValidationError as error:
        for item in error.errors(include_url=False):
            name = _PATIENT_LOCATIONS.get(dotted_path([p for p in item["loc"] if not isinstance(p, int)]), "")
            result.add(name, item["msg"].removeprefix("Value error, "))
        return None, result.errors


@router.post("/patients/new")
async def add_patient(request: Request, who: Clinician) -> Response:
    form = await request.form()
    values = forms.form_values(form) | {"conditions": [c for c in form.getlist("conditions") if isinstance(c, str)]}
    record, errors = patient_record_from_form(form)
    if record is None:
        return _patient_form(request, values, errors, 422)

    def save() -> int:
        with get_store(request).transaction() as session:
            return create_patient(session, who.actor, record).id

    try:
        patient_id = await run_in_threadpool(save)
    except Conflict as error:
        existing = error.extra.get("patient_id")
        return _patient_form(request, values | {"existing": existing},
                             {"identifier": [f"a patient with identifier {record.patient.id!r} already exists"]}, 409)
    except InvalidRecord as error:
        for location, message in error.problems:
            errors.setdefault(_PATIENT_LOCATIONS.get(location, ""), []).append(message)
        return _patient_form(request, values, errors, 422)
    return RedirectResponse(f"/patients/{patient_id}?created=1", status_code=303)


# --- editing a finding ---------------------------------------------------------------------------


def _stored(request: Request, who, patient_id: int, finding_id: int):
    """The patient row and the stored finding a form is about (an audited read)."""
    with get_store(request).transaction() as session:
        row = get_patient(session, who.actor, patient_id, action="finding.form")
        return row, get_finding(session, who.actor, patient_id, finding_id).row


def _edit_page(request: Request, row, stored, values: dict, errors: dict, *, opened: dict | None = None,
               changes: list | None = None, status: int = 200) -> Response:
    kind = stored.type
    return render(request, "finding_form.html", {
        "patient": row, "kind": kind, "title": forms.TITLES[kind], "fields": forms.FORMS[kind], "values": values,
        "errors": errors, "kinds": (), "titles": forms.TITLES, "editing": stored, "changes": changes or [],
        "opened": json.dumps(opened if opened is not None else values), "version": stored.version,
        "action": f"/patients/{row.id}/findings/{stored.id}/edit",
    }, status_code=status)


@router.get("/patients/{patient_id}/findings/{finding_id}/edit")
def edit_finding_form(request: Request, patient_id: PatientId, finding_id: FindingId, who: PatientWriter) -> Response:
    row, stored = _stored(request, who, patient_id, finding_id)
    return _edit_page(request, row, stored, forms.values_from_finding(stored.reported), {})


def _version(form: Any) -> int:
    version = forms.whole_number(forms.field_text(form, "version")) or 0
    return version if 1 <= version <= MAX_ID else 0


def _opened(form: Any) -> dict[str, str]:
    try:
        opened = json.loads(forms.field_text(form, "opened") or "{}")
    except (ValueError, RecursionError):  # the form sends a flat object; anything else is not its own
        return {}
    return {str(k): str(v) for k, v in opened.items()} if isinstance(opened, dict) else {}


@router.post("/patients/{patient_id}/findings/{finding_id}/edit")
async def save_finding(request: Request, patient_id: PatientId, finding_id: FindingId, who: PatientWriter) -> Response:
    submitted = await request.form()
    return await run_in_threadpool(_save_edit, request, who, patient_id, finding_id, submitted)


def _save_edit(request: Request, who, patient_id: int, finding_id: int, submitted: Any) -> Response:
    """Validate and save an edited finding, or show the form again (problems, or a newer version)."""
    row, stored = _stored(request, who, patient_id, finding_id)
    values, version = forms.form_values(submitted), _version(submitted)
    if version != stored.version:
        return _conflict_page(request, row, stored, values, _opened(submitted))
    patient = case_patient(row).model_dump(mode="json", exclude_none=True)
    result = forms.finding_from_form(stored.type, submitted)
    if result.ok:
        result.data = forms.merged_finding(stored.reported, result.data)
    result = forms.validate_finding(result, patient, row.diagnosis_date)
    if result.ok:
        try:
            with get_store(request).transaction() as session:
                update_finding(session, who.actor, patient_id, finding_id, finding_from_json(result.data), version)
        except Conflict:
            return _conflict_page(request, row, _stored(request, who, patient_id, finding_id)[1], values,
                                  _opened(submitted))
        except InvalidRecord as error:
            for location, message in error.problems:
                forms.attach(result, location, message)
    if not result.ok:
        return _edit_page(request, row, stored, values, result.errors, opened=_opened(submitted), status=422)
    return RedirectResponse(f"/patients/{patient_id}?changed={stored.type}#findings", status_code=303)


def _conflict_page(request: Request, row, current, values: dict, opened: dict) -> Response:
    """Someone saved this finding after the form was opened: keep the input, list what they changed.

    The form now carries the current version, so saving again replaces their change on purpose.
    """
    now = forms.values_from_finding(current.reported)
    changes = forms.changed_fields(current.type, opened, now)
    return _edit_page(request, row, current, values, {}, opened=now, changes=changes or [("", "", "")], status=409)


# --- deleting a finding, ending a phase --------------------------------------------------------


def _delete_page(request: Request, row, stored, reason: str = "", error: str = "", status: int = 200) -> Response:
    return render(request, "finding_delete.html", {
        "patient": row, "finding": stored, "title": forms.TITLES.get(stored.type, stored.type),
        "summary": forms.finding_summary(stored.reported), "reason": reason, "error": error,
        "max_reason": MAX_REASON,
    }, status_code=status)


@router.get("/patients/{patient_id}/findings/{finding_id}/delete")
def delete_finding_form(request: Request, patient_id: PatientId, finding_id: FindingId, who: PatientWriter) -> Response:
    row, stored = _stored(request, who, patient_id, finding_id)
    return _delete_page(request, row, stored)


@router.post("/patients/{patient_id}/findings/{finding_id}/delete")
async def remove_finding(request: Request, patient_id: PatientId, finding_id: FindingId, who: PatientWriter) -> Response:
    submitted = await request.form()

    def remove() -> Response:
        row, stored = _stored(request, who, patient_id, finding_id)
        reason = forms.field_text(submitted, "reason")
        if not reason or len(reason) > MAX_REASON:
            return _delete_page(request, row, stored, reason[:MAX_REASON],
                                f"say why (1 to {MAX_REASON} characters); the reason is kept in the audit log", 422)
        unstorable = unstorable_text(reason)
        if unstorable:
            return _delete_page(request, row, stored, "", f"the reason {unstorable}", 422)
        try:
            with get_store(request).transaction() as session:
                delete_finding(session, who.actor, patient_id, finding_id, _version(submitted), reason=reason)
        except Conflict:
            return _delete_page(request, row, stored, reason, "this finding was changed by someone else since you "
                                "opened this page; check it below and delete again if it is still wrong", 409)
        return RedirectResponse(f"/patients/{patient_id}?deleted={stored.type}#findings", status_code=303)

    return await run_in_threadpool(remove)


@router.post("/patients/{patient_id}/findings/{finding_id}/end")
async def end_phase(request: Request, patient_id: PatientId, finding_id: FindingId, who: PatientWriter) -> Response:
    """End a running treatment phase: the stored phase with an end date, saved as an edit would be
    (same version check, same case-model judgement: an end before the start is refused by name)."""
    submitted = await request.form()

    def save() -> Response:
        row, stored = _stored(request, who, patient_id, finding_id)
        if stored.type != "treatment" or stored.reported.get("end"):
            return _edit_page(request, row, stored, forms.values_from_finding(stored.reported),
                              {"end": ["only a running treatment phase can be ended"]}, status=422)
        opened = forms.values_from_finding(stored.reported)
        edited = opened | {"end": forms.field_text(submitted, "end") or dt.date.today().isoformat(),
                           "version": forms.field_text(submitted, "version"), "opened": json.dumps(opened)}
        return _save_edit(request, who, patient_id, finding_id, edited)

    return await run_in_threadpool(save)
