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

from .assessments import AssessmentCache, engine_available, is_fresh, read_record, refresh_summaries
from .audit import Actor
from .models import PatientSummary


def coded_view(session: Session, actor: Actor, patient_id: int, cache: AssessmentCache | None = None) -> dict[str, Any]:
    record = read_record(session, actor, patient_id, action="coded.read")
    patient = record.patient
    summary = session.get(PatientSummary, patient_id)
    if not is_fresh(summary, patient, record.epoch) and engine_available():
        refresh_summaries(session, [patient_id], cache)
        summary = session.get(PatientSummary, patient_id, populate_existing=True)
    s = summary
    return {
        "patient_id": patient.id,
        "identifier": patient.identifier,
        "sex": patient.sex,
        "birth_date": patient.birth_date,
        "diagnosis_date": patient.diagnosis_date,
        "as_of": s.as_of if s else None,
        "last_visit": s.last_visit if s else None,
        "disease": s.disease if s else None,
        "lineage": s.lineage if s else None,
        "who_haem5": {"key": s.who_key if s else None, "name": s.who_name if s else None},
        "icc_2022": {"key": s.icc_key if s else None, "name": s.icc_name if s else None},
        "codes": {"icd_o_3": s.icd_o_3 if s else None, "icd_10_cm": s.icd_10_cm if s else None,
                  "snomed_ct": s.snomed_ct if s else None},
        "risk": {"nci": s.nci_risk if s else None, "genetic": s.genetic_risk if s else None,
                 "cog_group": s.cog_group if s else None},
        "status": {"current": s.status if s else None, "since": s.status_since if s else None,
                   "phase": s.phase if s else None},
        "alerts": [alert["code"] for alert in (s.alerts or [])] if s else [],
        "error": s.error if s else "not assessed yet",
    }
