"""Patient and Condition resources -> the case's ``patient`` block and diagnosis date.

Only two kinds of Condition matter to the engine: the predisposing conditions
of the case model (Down syndrome, prior chemotherapy ...) and the leukaemia
diagnosis itself, whose asserted (or onset) date becomes ``diagnosis_date``.
The source system's diagnosis codes are not input: allcare derives its own and
keeps the source's for comparison in the report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

from ...engine.codes import icd_10_spelling
from . import codes as C
from .problems import MappingReport
from .read_helpers import as_date, code_in, codings, concept_text, ext_value, identifier_value, is_derived, profiles
from .shapes import encode

SEXES = {"female", "male", "other", "unknown"}


def patient_identifiers(patient) -> list[tuple[str, str]]:
    """The Patient's business identifiers (system, value): MRNs, national ids, allcare's own."""
    out = []
    for ident in patient.identifier or []:
        if ident.system and ident.value and (ident.system, ident.value) not in out:
            out.append((ident.system, ident.value))
    return out


def stable_patient_id(patient, full_url: str | None) -> str:
    """The case's patient id: allcare's own identifier, else the resource id, else one that the same
    Patient always gets (its ``urn:uuid`` fullUrl, its first identifier, or a digest of its content),
    so that a Bundle without ids imported twice names the same patient, never one after the file."""
    own = identifier_value(patient, C.ALLCARE_PATIENT_ID)
    if own or patient.id:
        return own or patient.id
    if full_url and full_url.startswith("urn:uuid:"):
        return full_url[len("urn:uuid:"):]
    identifiers = patient_identifiers(patient)
    if identifiers:
        system, value = identifiers[0]
        return f"{value}@{hashlib.sha256(system.encode()).hexdigest()[:8]}"[:200]
    return "patient-" + hashlib.sha256(encode(patient)).hexdigest()[:24]


def patient_block(patient, pid: str, ref: str, report: MappingReport) -> dict[str, Any]:
    out: dict[str, Any] = {"id": pid}
    if patient.gender in SEXES:
        out["sex"] = patient.gender
    birth = getattr(patient, "birthDate", None)
    if birth is not None:
        day = as_date(birth) if len(str(birth)) >= 10 or isinstance(birth, dt.date) else None
        if day is not None:
            out["birth_date"] = day.isoformat()
        else:
            report.add(ref, "unmapped", f"birthDate {birth!s} has no day: age is taken from other data")
    age = ext_value(patient, C.EXT_AGE_AT_DIAGNOSIS)
    if age is not None:
        out["age_years"] = age
    diagnosed = as_date(ext_value(patient, C.EXT_DIAGNOSIS_DATE))
    if diagnosed is not None:
        out["diagnosis_date"] = diagnosed.isoformat()
    report.add(ref, "mapped", finding="patient")
    return out


def _icd_10_cm(condition) -> str:
    """The condition's ICD-10-CM code as allcare spells codes ("c9100" and "C9100" are C91.00), or ""."""
    code = code_in(condition.code, C.ICD10CM) or ""
    return icd_10_spelling(code) or code


# Words that name the leukaemia allcare assesses, for a condition coded only in a local system.
_NAMES_THE_LEUKAEMIA = re.compile(r"lymphoblastic|acute lymphoid|acute lymphocytic|mixed[- ]phenotype", re.IGNORECASE)


def names_the_leukaemia(condition) -> bool:
    """Whether a Condition is the leukaemia allcare assesses (ALL, lymphoblastic lymphoma, an acute leukaemia
    of ambiguous lineage): its ICD-10-CM code (C91.0, C83.5, C95.0) or SNOMED CT code says so, or, coded only
    locally, its words do. An mCODE PrimaryCancerCondition is any primary cancer (a breast cancer, a CLL) and is
    not this by its profile alone."""
    if _icd_10_cm(condition).startswith(C.ALL_ICD10_PREFIXES) or code_in(condition.code, C.SNOMED, C.ALL_SNOMED):
        return True
    code = condition.code
    words = [concept_text(code) or ""] + [c.display or "" for c in codings(code)]
    return any(_NAMES_THE_LEUKAEMIA.search(text) for text in words)


# Condition.verificationStatus codes of a condition only suspected (FHIR R4 condition-ver-status: unconfirmed and
# its children provisional and differential); a predisposing condition counts only when confirmed or unqualified.
SUSPECTED = ("unconfirmed", "provisional", "differential")


def read_condition(condition, ref: str, report: MappingReport, conditions: list[str], dates: list[dt.date]) -> None:
    """Add a predisposing condition or a diagnosis date; everything else goes to the report."""
    verification = code_in(condition.verificationStatus, C.CONDITION_VERIFICATION)
    if verification in ("refuted", "entered-in-error"):
        report.add(ref, "skipped", f"verificationStatus {verification}")
        return
    own = code_in(condition.code, C.ALLCARE_CONDITIONS)
    icd = _icd_10_cm(condition)
    by_icd = next((name for prefix, name in C.ICD10_CONDITION_PREFIX.items() if icd.startswith(prefix)), None)
    name = own or by_icd
    if name and verification in SUSPECTED:
        report.add(ref, "unmapped", f"{name.replace('_', ' ')} with verificationStatus {verification}: not confirmed, so "
                                    "not taken as present (confirm it to have it count)")
        return
    if name:
        if name not in conditions:
            conditions.append(name)
        report.add(ref, "mapped", finding="patient.conditions")
        return
    leukaemia = names_the_leukaemia(condition)
    if not leukaemia and C.PROFILE_PRIMARY_CANCER_CONDITION in profiles(condition):
        report.add(ref, "unmapped", f"cancer condition {_code_words(condition)}: its code does not name the leukaemia "
                                    "allcare assesses (ALL, lymphoblastic lymphoma, MPAL), so its date is not the "
                                    "diagnosis date")
        return
    if leukaemia:
        period = getattr(condition, "onsetPeriod", None)
        day = (as_date(ext_value(condition, C.CONDITION_ASSERTED_DATE)) or as_date(getattr(condition, "onsetDateTime", None))
               or (as_date(period.start) if period is not None else None))
        if day is not None:
            dates.append(day)
        histology = ext_value(condition, C.EXT_HISTOLOGY)
        status = code_in(condition.clinicalStatus, C.CONDITION_CLINICAL)
        text = f"diagnosis: {_code_words(condition)}"
        if histology is not None:
            text += f"; histology {concept_text(histology)}"
        if status:
            text += f"; clinical status {status}"
        origin = "allcare export" if is_derived(condition) else "source"
        report.source_conclusions.append(f"{origin} {text}")
        reason = "diagnosis and codes are derived by allcare from the findings; "
        reason += f"diagnosis date {day.isoformat()} taken" if day else "no asserted or onset date"
        report.add(ref, "derived", reason)
        return
    report.add(ref, "unmapped", f"condition {concept_text(condition.code) or 'without a code'}: allcare uses only "
                                "predisposing conditions and the leukaemia diagnosis")


def _code_words(condition) -> str:
    codes = ", ".join(f"{c.code}" + (f" {c.display}" if c.display else "") for c in codings(condition.code))
    return codes or concept_text(condition.code) or "without a code"


_DERIVED_NAMES = {C.ALL_RISK_CODE: "ALL risk assessment", C.CANCER_DISEASE_STATUS: "Cancer disease status"}


def derived_summary(resource) -> str:
    """One line for a conclusion found in the input (risk, disease status, ...), for the report."""
    code = code_in(resource.code, C.NCIT) or code_in(resource.code, C.LOINC)
    name = _DERIVED_NAMES.get(code or "") or concept_text(resource.code) or resource.resource_type
    value = concept_text(getattr(resource, "valueCodeableConcept", None))
    when = as_date(getattr(resource, "effectiveDateTime", None))
    origin = "allcare export" if is_derived(resource) else "source"
    return f"{origin} {name}: {value or 'no value'}" + (f" ({when.isoformat()})" if when else "")
