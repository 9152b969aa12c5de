"""The patient list (search and filters) and the patient page."""

from __future__ import annotations

import datetime as dt
import functools
import urllib.parse
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from sqlalchemy import bindparam, func, select

from ...engine.case import FINDING_TYPES
from ...engine.rules import DEFAULT_RULES
from ...labels import ALERT as ALERT_LABELS
from ...labels import NCI_RISK as NCI_LABELS
from ...labels import STATUS as STATUS_LABELS
from ...labels import alert_label
from ...labels import entity_short as who_short
from ...store.assessments import engine_version, keyed_assessment_gzip, read_record, rules_version
from ...store.coded import coded_view
from ...store.listing import PatientFilters, SortKey, list_patients
from ...store.models import FindingRow, Patient
from ..charts import patient_charts
from ..deps import CodedPatientReader, ListReader, PatientId, get_caches, get_store
from ..monitoring_charts import monitoring_charts
from . import forms
from .common import PageRoute, WhyBoxes, long_date, parse_assessment, render, templates
from .fragments import CSRF_PLACEHOLDER, FindingsSection, PatientFragments, cached_findings, cached_fragments
from .panels import derivation_trail, diagnosis_panel, episode_sections

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 50
FINDINGS_SHOWN = 20  # newest first; "all" shows the rest (a 3-year record has ~170)
LINEAGES = ("B", "T", "B/myeloid", "T/myeloid", "B/T", "B/T/myeloid")
# Last-visit presets: (label, from days ago, to days ago); None = open.
VISIT_WINDOWS = {
    "7": ("in the last 7 days", 7, None),
    "30": ("in the last 30 days", 30, None),
    "90": ("in the last 90 days", 90, None),
    "365": ("in the last year", 365, None),
    "older90": ("more than 90 days ago", None, 90),
    "older365": ("more than a year ago", None, 365),
}
SORTS: dict[SortKey, str] = {"identifier": "Identifier", "urgency": "Urgency (critical alerts, then warnings)", "-last_visit": "Last visit (newest first)", "last_visit": "Last visit (oldest first)",
         "status": "Status", "-created": "Newest records"}
ADDED = dict(forms.TITLES)


def _clean(value: str | None, allowed) -> str | None:
    return value if value in allowed else None


def _sort_key(value: str | None) -> SortKey:
    return next((key for key in SORTS if key == value), "identifier")


@router.get("/patients")
def patient_list(
    request: Request,
    who: ListReader,
    q: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(max_length=40)] = None,
    risk: Annotated[str | None, Query(max_length=40)] = None,
    lineage: Annotated[str | None, Query(max_length=40)] = None,
    alert: Annotated[str | None, Query(max_length=60)] = None,
    visit: Annotated[str | None, Query(max_length=20)] = None,
    sort: Annotated[str | None, Query(max_length=20)] = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    if who.role == "patient":
        return RedirectResponse(f"/patients/{who.patient_id}/report" if who.patient_id else "/no-record", status_code=303)
    chosen = {
        "q": (q or "").strip()[:200] or None,
        "status": _clean(status, STATUS_LABELS),
        "risk": _clean(risk, NCI_LABELS),
        "lineage": _clean(lineage, LINEAGES),
        "alert": _clean(alert, ALERT_LABELS),
        "visit": _clean(visit, VISIT_WINDOWS),
        "sort": _sort_key(sort),
    }
    today = dt.date.today()
    visit_from = visit_to = None
    if chosen["visit"]:
        _, since, before = VISIT_WINDOWS[chosen["visit"]]
        visit_from = today - dt.timedelta(days=since) if since is not None else None
        visit_to = today - dt.timedelta(days=before) if before is not None else None
    filters = PatientFilters(q=chosen["q"], status=chosen["status"], risk=chosen["risk"], lineage=chosen["lineage"],
                             alert=chosen["alert"], last_visit_from=visit_from, last_visit_to=visit_to,
                             sort=_sort_key(sort), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    store = get_store(request)
    with store.transaction() as session:
        result = list_patients(session, who.actor, filters)
    query = {k: v for k, v in chosen.items() if v and not (k == "sort" and v == "identifier")}
    pages = max(1, -(-result.total // PAGE_SIZE))

    def page_link(number: int) -> str:
        return "/patients?" + urllib.parse.urlencode({**query, "page": number})

    return render(request, "patients.html", {
        "rows": result.items, "total": result.total, "chosen": chosen, "page": page, "pages": pages,
        "prev_link": page_link(page - 1) if page > 1 else None,
        "next_link": page_link(page + 1) if page < pages else None,
        "statuses": STATUS_LABELS, "risks": NCI_LABELS, "lineages": LINEAGES, "alerts": ALERT_LABELS,
        "visits": VISIT_WINDOWS, "sorts": SORTS, "alert_label": alert_label, "who_short": who_short, "filtered": bool(query),
        "can_write": who.role == "clinician", "today": today,
        "stale_since": functools.partial(stale_since, limit_days=store.rule_set().stale_data_days),
    })


@router.get("/patients/{patient_id}")
def patient_page(request: Request, patient_id: PatientId, who: CodedPatientReader) -> Response:
    if who.role == "patient":
        return RedirectResponse(f"/patients/{patient_id}/report", status_code=303)
    store, caches = get_store(request), get_caches(request)
    if who.role == "registrar":  # the coded view: no blood counts, karyotype, MRD or evidence
        with store.transaction() as session:
            coded = coded_view(session, who.actor, patient_id)
        return render(request, "patient_coded.html", {"c": coded, "who_short": who_short})
    engine_error = None
    with store.transaction() as session:
        # Read (and audited) on every view; parsed and rendered only when this revision is new here.
        record = read_record(session, who.actor, patient_id, action="assessment.read")
        row = record.patient
        try:
            data = keyed_assessment_gzip(session, record, caches.assessments)
        except Exception as error:  # noqa: BLE001 - a record the engine cannot read still gets a page
            data, engine_error = None, type(error).__name__
        all_findings = request.query_params.get("findings") == "all"
        kind = _clean(request.query_params.get("type"), FINDING_TYPES)
        limit, today = None if all_findings else FINDINGS_SHOWN, dt.date.today()
        findings = cached_findings(caches.page_fragments, (*record.key, "findings", kind, limit, today),
                                   lambda: _findings_section(session, row, kind, limit, today))
        if data is None:
            fragments = _render_fragments(row, None, _finding_counts(session, patient_id), store.rule_set())
        else:
            fragments = cached_fragments(
                caches.page_fragments, (*record.key, engine_version(), rules_version(session)),
                lambda: _render_fragments(row, parse_assessment(data),
                                         _finding_counts(session, patient_id), store.rule_set()))
    added = request.query_params.get("added")
    return render(request, "patient.html", {
        "patient": row,
        "meta": fragments.meta,
        "body": fragments.body,
        "engine_error": engine_error,
        "kinds": FINDING_TYPES,
        "titles": forms.TITLES,
        "can_write": who.role == "clinician",
        "added": ADDED.get(added or "") if data is not None else None,
        "changed": ADDED.get(request.query_params.get("changed") or ""),
        "deleted": ADDED.get(request.query_params.get("deleted") or ""),
        "created": request.query_params.get("created") == "1",
        "findings": findings.for_viewer(getattr(request.state, "csrf_token", "")) if who.role == "clinician" else None,
        "stale": stale_since(findings.latest, today, store.rule_set().stale_data_days),
    })


def stale_since(latest: dt.date | None, today: dt.date, limit_days: int = DEFAULT_RULES.stale_data_days) -> int | None:
    """Days since the latest finding when that is longer than the rule set's stale-data limit (else None):
    the page then says the picture is as of that date, not today."""
    if latest is None:
        return None
    days = (today - latest).days
    return days if days > limit_days else None


# The findings list's statements, built once (building them was a third of a millisecond per first view),
# each with or without the type filter (and the rows with or without a limit).
_OF_PATIENT = FindingRow.patient_id == bindparam("patient_id")
_FILTERS = {False: (_OF_PATIENT,), True: (_OF_PATIENT, FindingRow.type == bindparam("kind"))}
_TOTAL_AND_LATEST = {typed: select(func.count(), func.max(FindingRow.date)).where(*where) for typed, where in _FILTERS.items()}
_LATEST = select(func.max(FindingRow.date)).where(_OF_PATIENT)


# Only what the list shows: whole ORM rows (the canonical JSON decoded too, each row tracked by the
# session) made reading the 20 rows most of the list's cost.
_LISTED = (FindingRow.id, FindingRow.date, FindingRow.type, FindingRow.version, FindingRow.reported)


def _rows_statement(typed: bool, limited: bool):
    query = select(*_LISTED).where(*_FILTERS[typed]).order_by(FindingRow.date.desc(), FindingRow.position.desc())
    return query.limit(bindparam("limit")) if limited else query


_ROWS = {(typed, limited): _rows_statement(typed, limited) for typed in (False, True) for limited in (False, True)}
_COUNTS_BY_TYPE = select(FindingRow.type, func.count()).where(_OF_PATIENT).group_by(FindingRow.type)


def _findings_section(session, patient: Patient, kind: str | None, limit: int | None,
                      today: dt.date) -> FindingsSection:
    """The list under the assessment: the record's newest ``limit`` findings (all when None) of type ``kind``
    (any when None), newest first, with the versions their edit, delete and end-phase forms send back.

    Only the rows shown are read and summarised: a three-year record has ~170 and the page shows 20."""
    params = {"patient_id": patient.id, "kind": kind, "limit": limit}
    total, latest = session.execute(_TOTAL_AND_LATEST[kind is not None], params).one()
    if kind:
        latest = session.scalar(_LATEST, params)
    rows = session.execute(_ROWS[kind is not None, limit is not None], params)
    findings = []
    for row in rows:  # each row's texts worked out once here (the template wrote the date three times per row)
        title = forms.TITLES.get(row.type, row.type)
        findings.append({"row": row, "summary": forms.finding_summary(row.reported), "title": title,
                         "when": long_date(row.date), "what": title.lower(),
                         "running": row.type == "treatment" and not row.reported.get("end")})
    html = templates.get_template("_patient_findings.html").render(
        patient=patient, findings=findings, findings_total=total, finding_type=kind, all_findings=limit is None,
        kinds=FINDING_TYPES, titles=forms.TITLES, today=today, csrf_token=CSRF_PLACEHOLDER)
    return FindingsSection(html, latest)


def _finding_counts(session, patient_id: int) -> dict[str, int]:
    return dict(session.execute(_COUNTS_BY_TYPE, {"patient_id": patient_id}).all())


def _render_fragments(row, assessment, counts: dict[str, int], rules) -> PatientFragments:
    """The parts of the patient page that depend only on the record (see pages/fragments.py)."""
    meta = templates.get_template("_patient_meta.html").render(patient=row, a=assessment)
    if assessment is None:
        return PatientFragments(Markup(meta), None)  # noqa: S704 - autoescaped template output
    body = templates.get_template("_patient_assessment.html").render(
        patient=row, a=assessment, panel=diagnosis_panel(assessment), trail=derivation_trail(assessment),
        charts=patient_charts(assessment, rules), monitoring=monitoring_charts(assessment), counts=counts, kinds=FINDING_TYPES,
        titles=forms.TITLES, alert_label=alert_label, episodes=episode_sections(assessment), conclusions=WhyBoxes(),
    )
    return PatientFragments(Markup(meta), Markup(body))  # noqa: S704 - autoescaped template output

