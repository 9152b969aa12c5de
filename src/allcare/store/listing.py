"""The patient list (search and filters), its one row projection, and cohort counts.

Filters on status, risk, lineage and alerts read the derived
``patient_summaries`` table, so a list of a thousand patients is one indexed
query, not a thousand engine runs. A list never runs the engine: each writer
stores its record's summary before it commits, and summaries of an older engine
or rule set (or of a restored store) are served marked ``fresh=False`` while the
server's background pass recomputes them (:mod:`allcare.store.summaries`).

What a list of patients shows (:class:`PatientListRow`) is projected here once, by
:func:`list_row`: the web list, the API's ``summary`` and the registrar's coded view read it,
so a column has one name and one meaning everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from . import audit
from .assessments import KeyedRecord, engine_version, is_fresh, rules_version, store_epoch
from .audit import Actor
from .db import STALE_KEY
from .models import Patient, PatientSummary

Urgency = Literal["critical", "warning", "info"]
_URGENCY_ORDER: tuple[Urgency, ...] = ("critical", "warning", "info")


@dataclass(frozen=True, slots=True)
class AlertBadge:
    code: str
    severity: str
    historical: bool = False  # a condition that is over (shown as history, not as a current alert)


@dataclass(frozen=True, slots=True)
class PatientListRow:
    """One patient as a list shows it: the record's identity and the engine's headline outputs.

    Names follow the assessment (``who_haem5`` is the WHO-HAEM5 entity key, ``status`` the
    current status ...). The engine fields are None until the record is assessed; ``fresh`` is
    False while the summary is of another revision, engine or rule set than the store's (the
    background pass is recomputing it), ``error`` says why the engine could not assess it.
    """

    id: int
    identifier: str
    name: str | None
    sex: str | None
    birth_date: dt.date | None
    diagnosis_date: dt.date | None
    fresh: bool
    as_of: dt.date | None = None
    last_visit: dt.date | None = None
    disease: str | None = None
    lineage: str | None = None
    who_haem5: str | None = None
    who_haem5_name: str | None = None
    icc_2022: str | None = None
    icc_2022_name: str | None = None
    status: str | None = None
    status_since: dt.date | None = None
    phase: str | None = None
    nci_risk: str | None = None
    genetic_risk: str | None = None
    cog_group: str | None = None
    icd_10_cm: str | None = None
    icd_o_3: str | None = None
    icd_o_3_topography: str | None = None
    snomed_ct: str | None = None
    alerts: tuple[AlertBadge, ...] = ()
    critical_alerts: int = 0
    warning_alerts: int = 0
    error: str | None = None
    assessed: bool = False

    @property
    def urgency(self) -> Urgency | None:
        """The most severe current alert (critical, warning, info), None without alerts."""
        severities = {alert.severity for alert in self.alerts if not alert.historical}
        return next((level for level in _URGENCY_ORDER if level in severities), None)


def list_row(patient: Patient, summary: PatientSummary | None, epoch: str | None) -> PatientListRow:
    """THE projection of a record and its summary onto a list row."""
    identity = dict(id=patient.id, identifier=patient.identifier, name=patient.display_name, sex=patient.sex,
                    birth_date=patient.birth_date,
                    diagnosis_date=patient.diagnosis_date or (summary.diagnosis_date if summary is not None else None),
                    fresh=summary is not None and epoch is not None and is_fresh(summary, patient, epoch))
    if summary is None:
        return PatientListRow(**identity)  # type: ignore[arg-type]
    s = summary
    return PatientListRow(
        **identity,  # type: ignore[arg-type]
        as_of=s.as_of, last_visit=s.last_visit, disease=s.disease, lineage=s.lineage,
        who_haem5=s.who_key, who_haem5_name=s.who_name, icc_2022=s.icc_key, icc_2022_name=s.icc_name,
        status=s.status, status_since=s.status_since, phase=s.phase, nci_risk=s.nci_risk,
        genetic_risk=s.genetic_risk, cog_group=s.cog_group, icd_10_cm=s.icd_10_cm, icd_o_3=s.icd_o_3,
        icd_o_3_topography=s.icd_o_3_topography, snomed_ct=s.snomed_ct, alerts=tuple(AlertBadge(a["code"], a["severity"], bool(a.get("historical"))) for a in s.alerts or []),
        critical_alerts=s.critical_alerts, warning_alerts=s.warning_alerts, error=s.error, assessed=True,
    )


SortKey = Literal["identifier", "-identifier", "last_visit", "-last_visit", "status", "created", "-created", "urgency"]


@dataclass(frozen=True)
class PatientFilters:
    q: str | None = None
    status: str | None = None
    risk: str | None = None
    genetic_risk: str | None = None
    lineage: str | None = None
    alert: str | None = None
    last_visit_from: dt.date | None = None
    last_visit_to: dt.date | None = None
    only_patient_id: int | None = None  # a patient user sees their own record only
    sort: SortKey = "identifier"
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class PatientPage:
    items: list[tuple[Patient, PatientListRow]]
    """Each record with its list row (the API adds the record's own fields; pages show the row)."""
    total: int
    epoch: str

    @property
    def rows(self) -> list[PatientListRow]:
        return [row for _, row in self.items]


def record_row(session: Session, record: KeyedRecord) -> PatientListRow:
    """The list row of one record already read (and audited) by the caller, as stored."""
    patient = record.patient
    row = list_row(patient, session.get(PatientSummary, patient.id), record.epoch)
    if not row.fresh:
        stale_seen(session)
    return row


def stale_seen(session: Session) -> None:
    """Tell the store's background pass (if one runs) that a reader was served a stale summary."""
    wake = session.info.get(STALE_KEY)
    if wake is not None:
        wake()


def list_patients(session: Session, actor: Actor, filters: PatientFilters) -> PatientPage:
    epoch = store_epoch(session)
    query = select(Patient, PatientSummary).outerjoin(PatientSummary, PatientSummary.patient_id == Patient.id)
    if filters.only_patient_id is not None:
        query = query.where(Patient.id == filters.only_patient_id)
    if filters.q:
        # The identifier, the name, and the diagnosis as coded (disease, WHO-HAEM5 and ICC entity names
        # and keys), so "ETV6" or "Ph-like" finds the patients with that entity.
        needle = filters.q.strip().lower()
        query = query.where(or_(*(
            func.lower(func.coalesce(column, "")).contains(needle, autoescape=True)
            for column in (Patient.identifier, Patient.display_name, PatientSummary.disease, PatientSummary.who_name,
                           PatientSummary.who_key, PatientSummary.icc_name, PatientSummary.icc_key)
        )))
    for column, value in (
        (PatientSummary.status, filters.status),
        (PatientSummary.nci_risk, filters.risk),
        (PatientSummary.genetic_risk, filters.genetic_risk),
        (PatientSummary.lineage, filters.lineage),
    ):
        if value:
            query = query.where(column == value)
    if filters.alert:
        query = query.where(PatientSummary.alert_codes.contains(f",{filters.alert},", autoescape=True))
    if filters.last_visit_from:
        query = query.where(PatientSummary.last_visit >= filters.last_visit_from)
    if filters.last_visit_to:
        query = query.where(PatientSummary.last_visit <= filters.last_visit_to)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    orderings: dict[SortKey, list[ColumnElement[Any] | InstrumentedAttribute[Any]]] = {
        "identifier": [Patient.identifier],
        "-identifier": [Patient.identifier.desc()],
        "last_visit": [PatientSummary.last_visit.asc(), Patient.identifier],
        "-last_visit": [PatientSummary.last_visit.desc(), Patient.identifier],
        "status": [PatientSummary.status, Patient.identifier],
        "created": [Patient.id],
        "-created": [Patient.id.desc()],
        # Most urgent first: current critical alerts, then warnings (a record not yet assessed last).
        "urgency": [func.coalesce(PatientSummary.critical_alerts, -1).desc(),
                    func.coalesce(PatientSummary.warning_alerts, -1).desc(), Patient.identifier],
    }
    rows = session.execute(query.order_by(*orderings[filters.sort]).limit(filters.limit).offset(filters.offset)).all()
    # The ids shown are logged: who saw which records, not only how many.
    audit.record(session, actor, "patient.list", object_type="patient",
                 detail={"returned": len(rows), "ids": [row[0].id for row in rows]})
    items = [(row[0], list_row(row[0], row[1], epoch)) for row in rows]
    if not all(row.fresh for _, row in items):
        stale_seen(session)
    return PatientPage(items=items, total=total, epoch=epoch)


_BREAKDOWNS = {"by_disease": "disease", "by_lineage": "lineage", "by_who_haem5": "who_key", "by_status": "status",
               "by_phase": "phase", "by_nci_risk": "nci_risk", "by_genetic_risk": "genetic_risk",
               "by_icd_10_cm": "icd_10_cm", "by_icd_o_3": "icd_o_3",
               "by_icd_o_3_topography": "icd_o_3_topography"}


def fresh_in_sql(session: Session, epoch: str) -> ColumnElement[bool]:
    """:func:`is_fresh` as a SQL condition on the joined summary (NULL, i.e. not fresh, without one)."""
    return and_(PatientSummary.epoch == epoch, PatientSummary.revision == Patient.revision,
                PatientSummary.engine_version == engine_version(), PatientSummary.rules_version == rules_version(session))


def cohort_counts(session: Session, actor: Actor) -> dict:
    """Counts of the whole cohort by coded outputs (the stored summaries): what a registrar reports.

    One grouped query: the database counts each combination of coded values and only those groups (a few
    hundred, whatever the cohort's size) come back, so a cohort of 50,000 records is not 100,000 objects in
    memory, and every figure comes from the same snapshot (statements run one after another could each see
    another commit, and the breakdowns would no longer add up).
    """
    epoch = store_epoch(session)
    assessed = and_(PatientSummary.patient_id.is_not(None), PatientSummary.error.is_(None))
    flags = (case((fresh_in_sql(session, epoch), 1), else_=0).label("fresh"), case((assessed, 1), else_=0).label("assessed"))
    columns = [getattr(PatientSummary, name) for name in _BREAKDOWNS.values()]
    # Grouped over a subquery's columns: PostgreSQL does not see two CASE expressions with their own bound
    # parameters (in SELECT and in GROUP BY) as the same expression.
    per_record = (select(Patient.sex, *flags, *columns, PatientSummary.alert_codes).select_from(Patient)
                  .outerjoin(PatientSummary, PatientSummary.patient_id == Patient.id).subquery())
    query = select(*per_record.c, func.count().label("n")).group_by(*per_record.c)
    patients = not_current = not_assessed = 0
    sexes: Counter[str] = Counter()
    counts: dict[str, Counter[str]] = {key: Counter() for key in _BREAKDOWNS}
    alerts: Counter[str] = Counter()
    for row in session.execute(query):
        n = row.n
        patients += n
        sexes[row.sex] += n
        not_current += 0 if row.fresh else n
        if not row.assessed:
            # Records without an assessment are one bucket of every breakdown, so each adds up to ``patients``
            # (a registrar's table of counts must not lose a record).
            not_assessed += n
            continue
        for key, name in _BREAKDOWNS.items():
            counts[key][getattr(row, name) or "undetermined"] += n
        for code in filter(None, (row.alert_codes or "").split(",")):
            alerts[code] += n  # patients with the alert: a code is listed once per record
    if not_current:
        stale_seen(session)
    audit.record(session, actor, "cohort.read", object_type="cohort")
    for breakdown in counts.values():
        if not_assessed:
            breakdown["not_assessed"] = not_assessed
    return {
        "patients": patients,
        "assessed": patients - not_assessed,
        "not_current": not_current,
        "by_sex": dict(sorted(sexes.items())),
        **{key: dict(sorted(breakdown.items())) for key, breakdown in counts.items()},
        "alerts": dict(sorted(alerts.items())),
    }
