"""The coded view of a record: what a cancer registrar reports, and nothing of the raw findings.

Codes (ICD-O-3, ICD-10-CM, SNOMED CT), the WHO-HAEM5 and ICC entities, the
dates (birth, diagnosis, assessment, last visit), the risk groups and the
status, read from the record's derived summary. Blood counts, karyotype text,
MRD values, notes and the engine's evidence (which quotes findings) are not in
it, so a registrar reads the record without seeing the clinical detail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..engine.codes import code_spellings
from ..engine.dates import exact_years
from . import audit
from .assessments import is_fresh, read_record, store_epoch
from .audit import Actor
from .listing import record_row, stale_seen
from .models import Patient, PatientSummary


def coded_view(session: Session, actor: Actor, patient_id: int) -> dict[str, Any]:
    record = read_record(session, actor, patient_id, action="coded.read")
    r = record_row(session, record)
    return {
        "patient_id": r.id,
        "identifier": r.identifier,
        "sex": r.sex,
        "birth_date": r.birth_date,
        "diagnosis_date": r.diagnosis_date,
        "as_of": r.as_of,
        "last_visit": r.last_visit,
        "disease": r.disease,
        "lineage": r.lineage,
        "who_haem5": {"key": r.who_haem5, "name": r.who_haem5_name},
        "icc_2022": {"key": r.icc_2022, "name": r.icc_2022_name},
        "codes": {"icd_o_3": r.icd_o_3, "icd_10_cm": r.icd_10_cm, "snomed_ct": r.snomed_ct},
        "risk": {"nci": r.nci_risk, "genetic": r.genetic_risk, "cog_group": r.cog_group},
        "status": {"current": r.status, "since": r.status_since, "phase": r.phase},
        "alerts": [alert.code for alert in r.alerts],
        "error": r.error if r.assessed else "not assessed yet",
    }


REGISTRY_COLUMNS = ("patient_id", "identifier", "sex", "birth_date", "diagnosis_date", "age_at_diagnosis", "disease",
                    "lineage", "who_key", "who_name", "icc_key", "icc_name", "icd_o_3", "icd_10_cm", "snomed_ct",
                    "nci_risk", "genetic_risk", "status", "status_since", "phase", "assessment_current")


@dataclass(frozen=True)
class RegistryFilters:
    """Year of diagnosis, entity (a WHO-HAEM5 or ICC key) and a code prefix (ICD-O-3, ICD-10-CM or SNOMED CT)."""

    year: int | None = None
    entity: str | None = None
    code: str | None = None


def registry_rows(
    session: Session, actor: Actor, filters: RegistryFilters, limit: int | None = None
) -> list[dict[str, Any]]:
    """The coded view of every matching record, one dict per patient (no findings, no evidence).

    Every record is a row, even one with no summary yet (a restored store, a first start):
    a registrar's count must not lose it. ``assessment_current`` is False for a row whose
    codes are missing or come from an earlier revision, engine or rule set; the background
    pass is woken to recompute them.
    """
    epoch = store_epoch(session)
    query = select(Patient, PatientSummary).outerjoin(PatientSummary, PatientSummary.patient_id == Patient.id)
    if filters.year is not None:
        day = func.coalesce(PatientSummary.diagnosis_date, Patient.diagnosis_date)
        query = query.where(day >= dt.date(filters.year, 1, 1), day < dt.date(filters.year + 1, 1, 1))
    if filters.entity:
        query = query.where(or_(PatientSummary.who_key == filters.entity, PatientSummary.icc_key == filters.entity))
    if filters.code:
        query = query.where(or_(*(column.startswith(spelling, autoescape=True) for spelling in code_spellings(filters.code)
                                  for column in (PatientSummary.icd_o_3, PatientSummary.icd_10_cm, PatientSummary.snomed_ct))))
    query = query.order_by(Patient.identifier)
    if limit is not None:
        query = query.limit(limit)
    rows = []
    for patient, summary in session.execute(query):
        row = {name: getattr(summary, name, None) for name in REGISTRY_COLUMNS}
        row.update(patient_id=patient.id, identifier=patient.identifier, sex=patient.sex, birth_date=patient.birth_date,
                   diagnosis_date=(summary.diagnosis_date if summary is not None else None) or patient.diagnosis_date,
                   assessment_current=is_fresh(summary, patient, epoch))
        row["age_at_diagnosis"] = age_at_diagnosis(patient.birth_date, row["diagnosis_date"], patient.age_years)
        rows.append(row)
    if not all(row["assessment_current"] for row in rows):
        stale_seen(session)
    audit.record(session, actor, "coded.list", object_type="patient",
                 detail={"returned": len(rows), "ids": [row["patient_id"] for row in rows]})
    return rows


def age_at_diagnosis(birth: dt.date | None, diagnosed: dt.date | None, age_years: float | None) -> int | None:
    """Completed years on the diagnosis date, as registries report the age (NAACCR item 230: 0 below one year).

    From the birth date when both dates are known, else the recorded age at diagnosis (a record may carry
    only that); None when neither is known, never a guess.
    """
    if birth is not None and diagnosed is not None:
        return int(exact_years(birth, diagnosed))
    return None if age_years is None else int(age_years)


def registry_choices(session: Session) -> dict[str, list]:
    """The years and entities present, for the filters' lists."""
    years = session.scalars(select(func.coalesce(PatientSummary.diagnosis_date, Patient.diagnosis_date))
                            .join(Patient, Patient.id == PatientSummary.patient_id))
    entities = session.execute(select(PatientSummary.who_key, PatientSummary.who_name)
                               .where(PatientSummary.who_key.is_not(None)).distinct())
    return {"years": sorted({day.year for day in years if day is not None}, reverse=True),
            "entities": sorted({row.who_key: row.who_name for row in entities}.items(), key=lambda item: item[1] or item[0])}
