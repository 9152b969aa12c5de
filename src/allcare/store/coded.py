"""The coded view of a record: what a cancer registrar reports, and nothing of the raw findings.

Codes (ICD-O-3, ICD-10-CM, SNOMED CT), the WHO-HAEM5 and ICC entities, the
dates (birth, diagnosis, assessment, last visit), the risk groups and the
status, read from the record's derived summary. Blood counts, karyotype text,
MRD values, notes and the engine's evidence (which quotes findings) are not in
it, so a registrar reads the record without seeing the clinical detail.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .assessments import AssessmentCache, read_record
from .audit import Actor
from .listing import record_row


def coded_view(session: Session, actor: Actor, patient_id: int, cache: AssessmentCache | None = None) -> dict[str, Any]:
    record = read_record(session, actor, patient_id, action="coded.read")
    r = record_row(session, record, cache)
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
