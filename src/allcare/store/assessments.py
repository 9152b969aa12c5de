"""Assessments: derived from the stored findings on read, cached, never stored by hand.

The engine is pure and deterministic, so an assessment is a function of the
record (its never-reused id and its ``revision``, bumped by every write, within
the store's ``epoch``, replaced by every restore), the assessment date and the
rule set. Caches are keyed by exactly that, which makes invalidation automatic
and correct across processes: a write anywhere changes the revision every
reader sees, and a restore anywhere changes the epoch. Two levels:

- ``patient_summaries`` keeps, per patient, the columns the list filters on
  (status, risk, lineage, alerts, last visit) and the default assessment itself,
  gzip-compressed (a three-year record's JSON is ~280 KB, ~17 KB compressed);
- an in-process LRU of the same compressed bytes, also for other ``as_of`` dates
  (``Caches.assessments``, owned by the app).

Compressed bytes are what the API sends when the client accepts gzip, so a
cached read costs no engine run, no JSON encoding and no compression.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, object_session, undefer

from .. import __version__
from ..caches import LRU
from ..engine.case import Case
from . import audit
from .audit import Actor
from .cases import case_of
from .db import RULES_KEY
from .errors import NotFound, StoreError
from .models import Patient, PatientSummary, StoreState
from .types import utcnow

AssessmentCache = LRU[tuple, bytes]


@functools.cache
def engine_version() -> str:
    """allcare's version and a digest of the assessment's JSON Schema and of the summary's columns, as stored
    beside each summary.

    One release has written more than one assessment layout (lists, then tables of columns),
    so the version alone cannot say whether a stored assessment decodes as the current
    one: a summary of another layout is not current, and is recomputed instead of served.
    Likewise a summary stored before a column was added (the ICD-O-3 topography) has nothing
    in it: it is recomputed, never served as current with that column empty.
    """
    import hashlib
    import json

    from ..engine.schemas import json_schema

    columns = sorted(PatientSummary.__table__.columns.keys())
    layout = hashlib.sha256(json.dumps([json_schema("assessment"), columns], sort_keys=True).encode()).hexdigest()[:12]
    return f"{__version__}+{layout}"
EPOCH = select(StoreState.epoch).where(StoreState.id == 1).scalar_subquery()
_RECORD = select(Patient, EPOCH).where(Patient.id == bindparam("patient_id"))  # built once: read on every page


@dataclass(frozen=True)
class KeyedRecord:
    """A patient row read together with the store epoch, in one statement (so one snapshot).

    ``key`` names exactly this state of this record in this store: the epoch is
    read with the row, never after it, so content read later can only be newer
    than the key says, never belong to a key that a restored store reaches again.
    """

    patient: Patient
    epoch: str

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.epoch, self.patient.id, self.patient.revision)


def read_record(session: Session, actor: Actor | None, patient_id: int, *, action: str = "patient.read") -> KeyedRecord:
    """A patient with the store epoch; with an actor, the read is audited."""
    found = session.execute(_RECORD, {"patient_id": patient_id}).first()
    if found is None:
        raise NotFound("patient", patient_id)
    if actor is not None:
        audit.record(session, actor, action, object_type="patient", object_id=patient_id, patient_id=patient_id)
    return KeyedRecord(found[0], found[1])


def store_epoch(session: Session) -> str:
    epoch = session.scalar(select(StoreState.epoch).where(StoreState.id == 1))
    if epoch is None:  # written by the first migration; only a store that was never migrated lacks it
        raise StoreError("the store has no epoch: run its migrations first")
    return epoch


def rules_of(session: Session) -> Any:
    """The rule set of the store this session belongs to (``Store.use_rules``), else allcare's defaults."""
    rules = session.info.get(RULES_KEY)
    if rules is None:
        from ..engine.rules import DEFAULT_RULES

        return DEFAULT_RULES
    return rules


def rules_version(session: Session) -> str:
    return rules_of(session).version


def run_engine(case: Case, as_of: dt.date | None = None, rules: Any = None) -> Any:
    """The engine's assessment with ``rules`` (default: allcare's; imported on first use: the store works without it)."""
    from ..clock import assessment_date
    from ..engine import DEFAULT_RULES, assess

    return assess(case, as_of=assessment_date(case, as_of), rules=rules or DEFAULT_RULES)


def compress(result: Any) -> bytes:
    from ..engine import assessment_to_json

    return gzip.compress(assessment_to_json(result), compresslevel=6, mtime=0)


def is_fresh(summary: PatientSummary | None, patient: Patient, epoch: str) -> bool:
    """The summary was computed from this revision, by this engine, with the rule set of its store."""
    session = object_session(summary) if summary is not None else None
    return (
        summary is not None
        and session is not None
        and summary.epoch == epoch
        and summary.revision == patient.revision
        and summary.engine_version == engine_version()
        and summary.rules_version == rules_version(session)
    )


def assessment_gzip(
    session: Session, actor: Actor, patient_id: int, cache: AssessmentCache, *, as_of: dt.date | None = None
) -> bytes:
    """The engine's ``allcare.assessment/3`` JSON for one record, gzip-compressed (audited as a read)."""
    return keyed_assessment_gzip(session, read_record(session, actor, patient_id, action="assessment.read"), cache,
                                 as_of=as_of)


def keyed_assessment_gzip(session: Session, record: KeyedRecord, cache: AssessmentCache | None, *,
                          as_of: dt.date | None = None) -> bytes:
    """As :func:`assessment_gzip`, for a record already read (and audited) by the caller."""
    rules = rules_of(session)
    patient, key = record.patient, (*record.key, as_of, rules.version)
    cached = cache.get(key) if cache is not None else None
    if cached is not None:
        return cached
    if as_of is None:
        # The blob is deferred for lists; here it is what was asked for, so read with the row.
        summary = session.get(PatientSummary, patient.id, options=[undefer(PatientSummary.assessment_gz)])
        if summary is not None and is_fresh(summary, patient, record.epoch) and summary.assessment_gz:
            if cache is not None:
                cache.put(key, summary.assessment_gz)
            return summary.assessment_gz
    data = compress(run_engine(case_of(session, patient), as_of, rules))
    if cache is not None:
        cache.put(key, data)
    return data


def is_historical(alert: Any) -> bool:
    """An alert about something that is over (a resolved presentation, a relapse now in remission).

    The engine keeps such alerts as ``info`` with a message starting "History:" (engine/alerts.py),
    so lists and pages can show them apart from what is true now.
    """
    return alert.severity == "info" and alert.message.startswith("History:")


def summary_values(case: Case, result: Any) -> dict[str, Any]:
    """The coded outputs kept beside the assessment: what lists filter on and what a registrar may see."""
    alerts = [{"code": alert.code, "severity": alert.severity, "historical": is_historical(alert)}
              for alert in result.alerts]
    codes = list(dict.fromkeys(alert["code"] for alert in alerts))
    diagnosis = result.diagnosis
    return {
        "as_of": result.as_of,
        "diagnosis_date": result.diagnosis_date,
        "last_visit": max((finding.date for finding in case.findings), default=None),
        "disease": diagnosis.disease,
        "lineage": diagnosis.lineage,
        "who_key": diagnosis.who_haem5.key,
        "who_name": diagnosis.who_haem5.name,
        "icc_key": diagnosis.icc_2022.key,
        "icc_name": diagnosis.icc_2022.name,
        "status": result.status.current,
        "status_since": result.status.since,
        "phase": result.status.current_phase,
        "nci_risk": result.risk.nci,
        "genetic_risk": result.risk.genetic,
        "cog_group": result.risk.cog.group,
        "icd_10_cm": result.codes.icd_10_cm,
        "icd_o_3": result.codes.icd_o_3,
        "icd_o_3_topography": result.codes.icd_o_3_topography,
        "snomed_ct": result.codes.snomed_ct,
        "alerts": alerts,
        "alert_codes": "," + ",".join(codes) + "," if codes else "",
        "critical_alerts": sum(1 for alert in alerts if alert["severity"] == "critical"),
        "warning_alerts": sum(1 for alert in alerts if alert["severity"] == "warning"),
        "error": None,
    }


_EMPTY = dict.fromkeys(("as_of", "diagnosis_date", "last_visit", "disease", "lineage", "who_key", "who_name", "icc_key", "icc_name", "status", "status_since", "phase", "nci_risk", "genetic_risk", "cog_group", "icd_10_cm", "icd_o_3", "icd_o_3_topography", "snomed_ct"))


def save_summary(
    session: Session, patient: Patient, epoch: str, case: Case | None, result: Any, data: bytes | None = None,
    error: str | None = None,
) -> None:
    """Insert or replace the patient's summary row (an upsert, safe when two readers race)."""
    values: dict[str, Any] = {
        "patient_id": patient.id,
        "revision": patient.revision,
        "epoch": epoch,
        "engine_version": engine_version(),
        "rules_version": rules_version(session),
        "computed_at": utcnow(),
        "assessment_gz": data,
    }
    if result is not None and case is not None:
        values.update(summary_values(case, result))
    else:
        values.update(_EMPTY, alerts=[], alert_codes="", critical_alerts=0, warning_alerts=0,
                      error=error)
    statement = _dialect_insert(session).values(**values)
    updates = {key: statement.excluded[key] for key in values if key != "patient_id"}
    session.execute(statement.on_conflict_do_update(index_elements=["patient_id"], set_=updates))


def _dialect_insert(session: Session) -> postgresql.Insert | sqlite.Insert:
    """An INSERT of a summary that can say what to do on a conflict (both dialects spell it alike)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(PatientSummary)
    return sqlite.insert(PatientSummary)


def stale_patient_ids(session: Session, limit: int | None = None) -> list[int]:
    """Patients whose summary is missing or was computed from another revision, engine or rule set."""
    query = (
        select(Patient.id)
        .outerjoin(PatientSummary, PatientSummary.patient_id == Patient.id)
        .where(
            or_(
                PatientSummary.patient_id.is_(None),
                PatientSummary.epoch != EPOCH,
                PatientSummary.revision != Patient.revision,
                PatientSummary.engine_version != engine_version(),
                PatientSummary.rules_version != rules_version(session),
            )
        )
        .order_by(Patient.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def compute_summary(session: Session, patient: Patient) -> tuple[Case | None, Any, bytes | None, str | None]:
    """The arguments of :func:`save_summary` for ``patient`` as this session reads it: the case, the
    engine's result and its compressed JSON, or an error when the engine fails on the record."""
    try:
        case = case_of(session, patient)
        result = run_engine(case, rules=rules_of(session))
    except Exception as error:  # noqa: BLE001 - one bad record must not hide the others
        return None, None, None, f"the engine failed: {type(error).__name__}"
    return case, result, compress(result), None


def refresh_summaries(session: Session, patient_ids: list[int]) -> int:
    """Recompute the summaries of ``patient_ids`` in this transaction; a record the engine fails on gets an error summary."""
    done = 0
    for patient_id in patient_ids:
        try:
            record = read_record(session, None, patient_id)
        except NotFound:
            continue
        save_summary(session, record.patient, record.epoch, *compute_summary(session, record.patient))
        done += 1
    return done


def engine_available() -> bool:
    try:
        from ..engine import assess  # noqa: F401
    except Exception:  # noqa: BLE001 - any import failure means "not yet"
        return False
    return True
