"""Assessments: derived from the stored findings on read, cached, never stored by hand.

The engine is pure and deterministic, so an assessment is a function of the
record's ``revision`` (bumped by every write), the assessment date and the rule
set. Caches are keyed by exactly that, which makes invalidation automatic and
correct across processes: a write anywhere changes the revision every reader
sees. Two levels:

- ``patient_summaries`` keeps, per patient, the columns the list filters on
  (status, risk, lineage, alerts, last visit) and the default assessment itself,
  gzip-compressed (a three-year record's JSON is ~280 KB, ~17 KB compressed);
- an in-process LRU of the same compressed bytes, also for other ``as_of`` dates.

Compressed bytes are what the API sends when the client accepts gzip, so a
cached read costs no engine run, no JSON encoding and no compression.
"""

from __future__ import annotations

import datetime as dt
import gzip
import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .. import __version__ as ENGINE_VERSION
from ..engine.case import Case
from .audit import Actor
from .cases import case_of
from .models import Patient, PatientSummary
from .patients import get_patient
from .types import utcnow


class AssessmentCache:
    """A small thread-safe LRU of gzip-compressed assessment JSON, one per store."""

    def __init__(self, size: int = 2048):
        self.size = size
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple, value: bytes) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def rules_version() -> str:
    from ..engine.rules import DEFAULT_RULES

    return DEFAULT_RULES.version


def run_engine(case: Case, as_of: dt.date | None = None) -> Any:
    """The engine's assessment (imported on first use: the store works without it)."""
    from ..clock import assessment_date
    from ..engine import assess

    return assess(case, as_of=assessment_date(case, as_of))


def compress(result: Any) -> bytes:
    from ..engine import assessment_to_json

    return gzip.compress(assessment_to_json(result), compresslevel=6, mtime=0)


def is_fresh(summary: PatientSummary | None, patient: Patient) -> bool:
    return (
        summary is not None
        and summary.revision == patient.revision
        and summary.engine_version == ENGINE_VERSION
        and summary.rules_version == rules_version()
    )


def assessment_gzip(
    session: Session, actor: Actor, patient_id: int, cache: AssessmentCache, *, as_of: dt.date | None = None
) -> bytes:
    """The engine's ``allcare.assessment/2`` JSON for one record, gzip-compressed (audited as a read)."""
    patient = get_patient(session, actor, patient_id, action="assessment.read")
    key = (patient.id, patient.revision, as_of, rules_version())
    cached = cache.get(key)
    if cached is not None:
        return cached
    if as_of is None:
        summary = session.get(PatientSummary, patient.id)
        if is_fresh(summary, patient) and summary.assessment_gz:  # type: ignore[union-attr]
            cache.put(key, summary.assessment_gz)  # type: ignore[union-attr,arg-type]
            return summary.assessment_gz  # type: ignore[union-attr,return-value]
    case = case_of(session, patient)
    result = run_engine(case, as_of)
    data = compress(result)
    cache.put(key, data)
    if as_of is None:
        save_summary(session, patient, case, result, data)
    return data


def summary_values(case: Case, result: Any) -> dict[str, Any]:
    alerts = [{"code": alert.code, "severity": alert.severity} for alert in result.alerts]
    codes = list(dict.fromkeys(alert["code"] for alert in alerts))
    return {
        "as_of": result.as_of,
        "last_visit": max((finding.date for finding in case.findings), default=None),
        "disease": result.diagnosis.disease,
        "lineage": result.diagnosis.lineage,
        "who_key": result.diagnosis.who_haem5.key,
        "status": result.status.current,
        "phase": result.status.current_phase,
        "nci_risk": result.risk.nci,
        "genetic_risk": result.risk.genetic,
        "cog_group": result.risk.cog.group,
        "icd_10_cm": result.codes.icd_10_cm,
        "icd_o_3": result.codes.icd_o_3,
        "alerts": alerts,
        "alert_codes": "," + ",".join(codes) + "," if codes else "",
        "critical_alerts": sum(1 for alert in alerts if alert["severity"] == "critical"),
        "error": None,
    }


_EMPTY = {name: None for name in ("as_of", "last_visit", "disease", "lineage", "who_key", "status", "phase",
                                  "nci_risk", "genetic_risk", "cog_group", "icd_10_cm", "icd_o_3")}


def save_summary(
    session: Session, patient: Patient, case: Case | None, result: Any, data: bytes | None = None,
    error: str | None = None,
) -> None:
    """Insert or replace the patient's summary row (an upsert, safe when two readers race)."""
    values: dict[str, Any] = {
        "patient_id": patient.id,
        "revision": patient.revision,
        "engine_version": ENGINE_VERSION,
        "rules_version": rules_version(),
        "computed_at": utcnow(),
        "assessment_gz": data,
    }
    if result is not None and case is not None:
        values.update(summary_values(case, result))
    else:
        values.update(_EMPTY, alerts=[], alert_codes="", critical_alerts=0, error=error)
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(PatientSummary).values(**values)
    updates = {key: statement.excluded[key] for key in values if key != "patient_id"}
    session.execute(statement.on_conflict_do_update(index_elements=["patient_id"], set_=updates))


def stale_patient_ids(session: Session, limit: int | None = None) -> list[int]:
    """Patients whose summary is missing or was computed from another revision, engine or rule set."""
    query = (
        select(Patient.id)
        .outerjoin(PatientSummary, PatientSummary.patient_id == Patient.id)
        .where(
            or_(
                PatientSummary.patient_id.is_(None),
                PatientSummary.revision != Patient.revision,
                PatientSummary.engine_version != ENGINE_VERSION,
                PatientSummary.rules_version != rules_version(),
            )
        )
        .order_by(Patient.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def refresh_summaries(session: Session, patient_ids: list[int], cache: AssessmentCache | None = None) -> int:
    """Recompute the summaries of ``patient_ids``; a record the engine fails on gets an error summary."""
    done = 0
    for patient_id in patient_ids:
        patient = session.get(Patient, patient_id)
        if patient is None:
            continue
        try:
            case = case_of(session, patient)
            result = run_engine(case)
        except Exception as error:  # noqa: BLE001 - one bad record must not hide the others
            save_summary(session, patient, None, None, error=f"the engine failed: {type(error).__name__}")
        else:
            data = compress(result)
            save_summary(session, patient, case, result, data)
            if cache is not None:
                cache.put((patient.id, patient.revision, None, rules_version()), data)
        done += 1
    return done


def engine_available() -> bool:
    try:
        from ..engine import assess  # noqa: F401
    except Exception:  # noqa: BLE001 - any import failure means "not yet"
        return False
    return True
