"""The patient report: a plain-language page and the same as a PDF.

Clinicians open it for any record (to print or discuss it); a patient login
sees only its own, and this is the only view of the record a patient has.
"""

from __future__ import annotations

import logging
import re

from fastapi import APIRouter, Request, Response

from ...store.assessments import keyed_assessment_gzip, read_record
from ...store.cases import case_of
from ..deps import PatientId, PatientReader, get_caches, get_store
from ..report import build_report, report_pdf
from .common import PageRoute, error_page, parse_assessment, render

log = logging.getLogger("allcare.web")

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _report(request: Request, patient_id: int, who, action: str):
    store = get_store(request)
    with store.transaction() as session:
        record = read_record(session, who.actor, patient_id, action=action)
        row = record.patient
        data = keyed_assessment_gzip(session, record, get_caches(request).assessments)
        assessment = parse_assessment(data)
        case = case_of(session, row)
    return row, build_report(assessment, case=case, patient_name=row.display_name or row.identifier, rules=store.rule_set())


@router.get("/patients/{patient_id}/report")
def report_page(request: Request, patient_id: PatientId, who: PatientReader) -> Response:
    row, report = _report(request, patient_id, who, "report.read")
    return render(request, "report.html", {"patient": row, "r": report, "is_patient": who.role == "patient"})


@router.get("/patients/{patient_id}/report.pdf")
def report_download(request: Request, patient_id: PatientId, who: PatientReader) -> Response:
    row, report = _report(request, patient_id, who, "report.pdf")
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", row.identifier)[:80] or "patient"
    try:
        pdf = report_pdf(report)
    except (ImportError, OSError):  # WeasyPrint or the system's Pango library is not installed
        log.error("report PDF unavailable: WeasyPrint or Pango is missing")  # noqa: TRY400 - expected, no traceback
        return error_page(request, 503, "PDF reports are not available on this server (WeasyPrint and the Pango "
                                        "library are needed). The report page can be printed instead.")
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="allcare-report-{name}.pdf"',
        "Cache-Control": "no-store",
    })
