"""Forms to add a finding of every type, and the live karyotype reading behind the karyotype box."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from ...engine.case import FINDING_TYPES
from ...engine.karyotype import describe, parse_under_rules
from ...engine.karyotype.sex_check import sex_mismatch
from ...store.errors import Conflict, InvalidRecord
from ...store.findings import add_finding, finding_from_json
from ...store.patients import case_patient, get_patient
from ..deps import CodedDataReader, PatientId, PatientWriter, get_store
from . import forms
from .common import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
FindingKind = Annotated[str, Path(pattern="^(" + "|".join(FINDING_TYPES) + ")$")]
MAX_KARYOTYPE = 2000


def _patient(request: Request, patient_id: int, who):
    """The record a form is about; opening or posting a form shows it, so it is an audited read."""
    with get_store(request).transaction() as session:
        return get_patient(session, who.actor, patient_id, action="finding.form")


def _page(request: Request, row, kind: str, values: dict, result: forms.FormResult | None, status: int = 200,
          duplicate_of: int | None = None) -> Response:
    return render(request, "finding_form.html", {
        "patient": row, "kind": kind, "title": forms.TITLES[kind], "fields": forms.FORMS[kind], "values": values,
        "errors": result.errors if result else {}, "kinds": FINDING_TYPES, "titles": forms.TITLES,
        "duplicate_of": duplicate_of,
    }, status_code=status)


@router.get("/patients/{patient_id}/findings/new/{kind}")
def new_finding_form(request: Request, patient_id: PatientId, kind: FindingKind, who: PatientWriter) -> Response:
    row = _patient(request, patient_id, who)
    return _page(request, row, kind, forms.blank_values(kind, dt.date.today()), None)


@router.post("/patients/{patient_id}/findings/new/{kind}")
async def add_finding_from_form(request: Request, patient_id: PatientId, kind: FindingKind, who: PatientWriter) -> Response:
    submitted = await request.form()
    from starlette.concurrency import run_in_threadpool

    def save() -> Response:
        row = _patient(request, patient_id, who)
        patient = case_patient(row).model_dump(mode="json", exclude_none=True)
        result = forms.validate_finding(forms.finding_from_form(kind, submitted), patient, row.diagnosis_date)
        if result.ok:
            try:
                with get_store(request).transaction() as session:
                    add_finding(session, who.actor, patient_id, finding_from_json(result.data),
                                allow_duplicate=forms.field_text(submitted, "allow_duplicate") == "1")
            except InvalidRecord as error:
                for location, message in error.problems:
                    forms.attach(result, location, message)
            except Conflict as error:  # the same finding is stored already: sent twice? Saving again stores a second
                return _page(request, row, kind, forms.form_values(submitted), None, status=409,
                             duplicate_of=error.extra.get("finding_id"))  # type: ignore[arg-type]
        if not result.ok:
            return _page(request, row, kind, forms.form_values(submitted), result, status=422)
        return RedirectResponse(f"/patients/{patient_id}?added={kind}", status_code=303)

    return await run_in_threadpool(save)


@router.get("/karyotype/parse")
def karyotype_parse(
    request: Request,
    who: CodedDataReader,
    text: Annotated[str, Query(max_length=MAX_KARYOTYPE)] = "",
    sex: Annotated[str | None, Query(pattern="^(female|male|other|unknown)$")] = None,
) -> JSONResponse:
    """What the engine reads in a karyotype, for the form's live preview (no patient data involved:
    the form sends the recorded sex itself, for the sex-chromosome cross-check)."""
    text = text.strip()
    if not text:
        return JSONResponse({"empty": True, "lines": [], "problems": [], "recurrent": []})
    try:
        karyotype = parse_under_rules(text, get_store(request).rule_set())
    except Exception:  # noqa: BLE001 - the parser promises not to raise; a preview must never 500
        raise HTTPException(422, "could not read this karyotype") from None
    problems = list(karyotype.problems)
    return JSONResponse({
        "empty": False,
        "modal_number": karyotype.modal_number,
        "abnormality_count": karyotype.abnormality_count,
        "is_complex": karyotype.is_complex,
        "recurrent": [lesion.key for lesion in karyotype.recurrent],
        "lines": describe(karyotype),
        "problems": [p.message for p in problems],
        "ok": not any(p.severity != "warning" for p in problems),
        "sex_mismatch": sex_mismatch(karyotype, sex),
    })
