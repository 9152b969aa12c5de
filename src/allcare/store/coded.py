"""The coded view of a record: what a cancer registrar reports, and nothing of the raw findings.

Codes (ICD-O-3 morphology and primary site, ICD-10-CM, SNOMED CT), the WHO-HAEM5 and ICC entities, the
dates (birth, diagnosis, assessment, last visit), the risk groups and the
status, read from the record's derived summary. Blood counts, karyotype text,
MRD values, notes and the engine's evidence (which quotes findings) are not in
it, so a registrar reads the record without seeing the clinical detail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, extract, func, or_, select
from sqlalchemy.orm import Session

from ..engine.codes import code_spellings
from ..engine.dates import exact_years
from . import audit
from .assessments import read_record, store_epoch
from .audit import Actor
from .listing import fresh_in_sql, record_row, stale_seen
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
        "age_at_diagnosis": age_at_diagnosis(r.birth_date, r.diagnosis_date, record.patient.age_years),
        "as_of": r.as_of,
        "last_visit": r.last_visit,
        "disease": r.disease,
        "lineage": r.lineage,
        "who_haem5": {"key": r.who_haem5, "name": r.who_haem5_name},
        "icc_2022": {"key": r.icc_2022, "name": r.icc_2022_name},
        "codes": {"icd_o_3": r.icd_o_3, "icd_o_3_topography": r.icd_o_3_topography, "icd_10_cm": r.icd_10_cm,
                  "snomed_ct": r.snomed_ct},
        "risk": {"nci": r.nci_risk, "genetic": r.genetic_risk, "cog_group": r.cog_group},
        "status": {"current": r.status, "since": r.status_since, "phase": r.phase},
        "alerts": [alert.code for alert in r.alerts],
        "error": r.error if r.assessed else "not assessed yet",
        # As the registry CSV says it: False while the codes come from no or an earlier revision, engine or rule set.
        "assessment_current": r.fresh,
    }


_FROM_PATIENT = ("patient_id", "identifier", "sex", "birth_date")
REGISTRY_COLUMNS = ("patient_id", "identifier", "sex", "birth_date", "diagnosis_date", "age_at_diagnosis", "disease",
                    "lineage", "who_key", "who_name", "icc_key", "icc_name", "icd_o_3", "icd_o_3_topography",
                    "icd_10_cm", "snomed_ct", "nci_risk", "genetic_risk", "status", "status_since", "phase", "as_of",
                    "assessment_current")
"""The registry table's columns. ``icd_10_cm``, ``status`` and ``phase`` are those of the assessment date ``as_of``
(ICD-10-CM codes the disease status: C91.00 / .01 / .02), the entities and ICD-O-3 (morphology ``icd_o_3`` and
primary site ``icd_o_3_topography``) those of the diagnosis."""


@dataclass(frozen=True)
class RegistryFilters:
    """Year of diagnosis, entity (a WHO-HAEM5 or ICC key) and a code prefix (ICD-O-3 morphology or topography,
    ICD-10-CM or SNOMED CT)."""

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
    # Columns, not ORM objects: an export of 50,000 records read ~100,000 objects (patient and summary, each
    # with its JSON) and checked each summary's freshness in Python; the database now answers both.
    summary_columns = [getattr(PatientSummary, name) for name in REGISTRY_COLUMNS if hasattr(PatientSummary, name)
                       and name not in _FROM_PATIENT]
    current = case((fresh_in_sql(session, epoch), True), else_=False).label("assessment_current")
    query = (select(Patient.id.label("patient_id"), Patient.identifier, Patient.sex, Patient.birth_date, Patient.age_years,
                    Patient.diagnosis_date.label("recorded_diagnosis_date"), *summary_columns, current)
             .outerjoin(PatientSummary, PatientSummary.patient_id == Patient.id))
    if filters.year is not None:
        day = func.coalesce(PatientSummary.diagnosis_date, Patient.diagnosis_date)
        query = query.where(day >= dt.date(filters.year, 1, 1), day < dt.date(filters.year + 1, 1, 1))
    if filters.entity:
        query = query.where(or_(PatientSummary.who_key == filters.entity, PatientSummary.icc_key == filters.entity))
    if filters.code:
        query = query.where(or_(*(column.startswith(spelling, autoescape=True) for spelling in code_spellings(filters.code)
                                  for column in (PatientSummary.icd_o_3, PatientSummary.icd_o_3_topography,
                                                 PatientSummary.icd_10_cm, PatientSummary.snomed_ct))))
    query = query.order_by(Patient.identifier)
    if limit is not None:
        query = query.limit(limit)
    rows = []
    for found in session.execute(query).mappings():
        row = {name: found.get(name) for name in REGISTRY_COLUMNS}
        row["diagnosis_date"] = found["diagnosis_date"] or found["recorded_diagnosis_date"]
        row["assessment_current"] = bool(found["assessment_current"])
        row["age_at_diagnosis"] = age_at_diagnosis(found["birth_date"], row["diagnosis_date"], found["age_years"])
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
    # The distinct years, counted by the database (not one date per record brought back); a record without a
    # summary yet is filtered by its recorded diagnosis date, so its year is offered too.
    day = func.coalesce(PatientSummary.diagnosis_date, Patient.diagnosis_date)
    years = session.scalars(select(extract("year", day)).select_from(Patient)
                            .outerjoin(PatientSummary, PatientSummary.patient_id == Patient.id).distinct())
    entities = session.execute(select(PatientSummary.who_key, PatientSummary.who_name)
                               .where(PatientSummary.who_key.is_not(None)).distinct())
    return {"years": sorted({int(year) for year in years if year is not None}, reverse=True),
            "entities": sorted({row.who_key: row.who_name for row in entities}.items(), key=lambda item: item[1] or item[0])}
