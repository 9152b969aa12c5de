"""The patient and what allcare concluded, as mCODE resources.

CancerPatient, the patient's predisposing conditions, and, when an assessment
is given: PrimaryCancerCondition (codes, ICD-O-3 histology, clinical status that
follows remission and relapse), ALL risk assessment (NCI/Rome), CancerDiseaseStatus,
and plainly coded Observations for what mCODE has no profile for (CNS status,
response status, current treatment phase). Conclusions carry the
``derived-by-allcare`` extension: an importer must recompute them from the
findings, never read them back as input.
"""

from __future__ import annotations

from ...engine.case import Case
from . import codes as C
from .model import Element, allcare_concept, child_id, coding, concept, extension, identifier, meta, reference, resource


def patient_resource(case: Case, patient_id: str, identifiers=()):
    """CancerPatient: allcare's id, then the identifiers other systems gave the patient (MRNs)."""
    p = case.patient
    extensions = []
    if p.age_years is not None:
        extensions.append(extension(C.EXT_AGE_AT_DIAGNOSIS, valueDecimal=p.age_years))
    if case.diagnosis_date:
        extensions.append(extension(C.EXT_DIAGNOSIS_DATE, valueDate=case.diagnosis_date))
    # US Core requires a name; allcare holds none, so the name is marked as withheld (us-core-6).
    name = {"extension": [extension(C.DATA_ABSENT_EXTENSION, valueCode="masked")]}
    return resource(
        "Patient", id=patient_id, meta=meta(C.PROFILE_CANCER_PATIENT),
        identifier=[identifier(C.ALLCARE_PATIENT_ID, p.id)] + [identifier(system, value) for system, value in identifiers
                                                                if system != C.ALLCARE_PATIENT_ID],
        name=[name], gender=p.sex.value,
        birthDate=p.birth_date, extension=extensions,
    )


def condition_resources(case: Case, patient_id: str, patient: Element) -> list:
    out = []
    for condition in case.patient.conditions:
        codings = [coding(C.ALLCARE_CONDITIONS, condition.value)]
        if condition.value in C.CONDITION_ICD10:
            codings.append(coding(C.ICD10CM, *C.CONDITION_ICD10[condition.value]))
        out.append(resource(
            "Condition", id=child_id(patient_id, f"cond-{condition.value.replace('_', '-')}"),
            clinicalStatus=concept(coding(C.CONDITION_CLINICAL, "active")),
            verificationStatus=concept(coding(C.CONDITION_VERIFICATION, "confirmed")),
            category=[concept(coding(C.CONDITION_CATEGORY, "problem-list-item"))],
            code=concept(*codings, text=condition.value.replace("_", " ")), subject=patient,
        ))
    return out


def clinical_status(current: str | None) -> str:
    """Condition clinical status matching the disease status: remission, relapse, otherwise active."""
    if current in ("complete_remission", "cr_incomplete_recovery"):
        return "remission"
    if current == "relapse":
        return "relapse"
    return "active"


def primary_cancer_condition(case: Case, assessment, patient_id: str, patient: Element):
    """PrimaryCancerCondition, only when the engine assigned a diagnosis code (mCODE requires Condition.code)."""
    codes = assessment.codes
    if not (codes.snomed_ct or codes.icd_10_cm):
        return None
    codings = []
    if codes.snomed_ct:
        codings.append(coding(C.SNOMED, codes.snomed_ct, codes.snomed_ct_term))
    if codes.icd_10_cm:
        codings.append(coding(C.ICD10CM, codes.icd_10_cm, codes.icd_10_cm_term))
    extensions = [extension(C.EXT_DERIVED, valueBoolean=True)]
    if codes.icd_o_3:
        extensions.append(extension(C.EXT_HISTOLOGY, valueCodeableConcept=concept(coding(C.ICDO3, codes.icd_o_3, codes.icd_o_3_term))))
    if case.diagnosis_date:
        extensions.append(extension(C.CONDITION_ASSERTED_DATE, valueDateTime=case.diagnosis_date))
    name = assessment.diagnosis.who_haem5.name or codes.snomed_ct_term or codes.icd_10_cm_term
    return resource(
        "Condition", id=child_id(patient_id, "primary-cancer"), meta=meta(C.PROFILE_PRIMARY_CANCER_CONDITION),
        extension=extensions,
        clinicalStatus=concept(coding(C.CONDITION_CLINICAL, clinical_status(assessment.status.current))),
        verificationStatus=concept(coding(C.CONDITION_VERIFICATION, "confirmed")),
        category=[concept(coding(C.CONDITION_CATEGORY, "problem-list-item"))],
        code=concept(*codings, text=name), subject=patient, onsetDateTime=case.diagnosis_date,
        # The primary site as registries code it (ICD-O-3 topography; mCODE's bodySite binding is extensible).
        bodySite=[concept(coding(C.ICDO3, codes.icd_o_3_topography, codes.icd_o_3_topography_term))]
        if codes.icd_o_3_topography else None,
    )


def _derived_observation(rid: str, patient: Element, code, when, value, focus: Element | None, profile: str | None = None, **extra):
    return resource(
        "Observation", id=rid, meta=meta(profile) if profile else None, status="final", code=code, subject=patient,
        category=extra.pop("category", None),
        focus=[focus] if focus else None, effectiveDateTime=when, valueCodeableConcept=value,
        extension=[extension(C.EXT_DERIVED, valueBoolean=True), *extra.pop("extension", [])], **extra,
    )


def conclusion_resources(assessment, patient_id: str, patient: Element, condition: Element | None) -> list:
    """Risk, disease status, CNS status, response status and current phase as derived Observations."""
    out = []
    as_of = assessment.as_of
    if assessment.risk.nci in C.NCI_RISK:
        out.append(_derived_observation(
            child_id(patient_id, "nci-risk"), patient, concept(coding(C.NCIT, C.ALL_RISK_CODE, "Leukemia Finding")), as_of,
            concept(coding(C.NCIT, *C.NCI_RISK[assessment.risk.nci])), condition, C.PROFILE_ALL_RISK_ASSESSMENT,
            method=concept(text="NCI/Rome criteria (age and presenting WBC)"),
            category=[concept(coding(C.OBSERVATION_CATEGORY, "exam", "Exam"))],
        ))
    current = assessment.status.current
    # mCODE's disease status is about a cancer: only written when allcare diagnosed one (and coded
    # it as a PrimaryCancerCondition, its focus), never for a person without leukaemia.
    if current and condition is not None and assessment.diagnosis.disease in C.CANCER_DISEASES:
        trend = C.TREND[C.STATUS_TREND.get(current, "undetermined")]
        out.append(_derived_observation(
            child_id(patient_id, "disease-status"), patient, concept(coding(C.LOINC, C.CANCER_DISEASE_STATUS, "Cancer disease status")),
            as_of, concept(coding(C.SNOMED, *trend)), condition, C.PROFILE_CANCER_DISEASE_STATUS,
            extension=[extension(C.EXT_EVIDENCE_TYPE, valueCodeableConcept=concept(coding(C.SNOMED, *C.EVIDENCE_LAB_INTERPRETATION)))],
        ))
    if current:
        out.append(_derived_observation(
            child_id(patient_id, "response-status"), patient, allcare_concept(C.A_RESPONSE_STATUS, "Disease status (allcare)"),
            assessment.status.since or as_of, allcare_concept(current), condition,
        ))
    if assessment.cns_status:
        out.append(_derived_observation(
            child_id(patient_id, "cns-status"), patient, allcare_concept(C.A_CNS_STATUS, "CNS status"),
            assessment.cns.date or as_of, allcare_concept(assessment.cns_status), condition,
        ))
    out += episode_observations(assessment, patient_id, patient, condition)
    if assessment.status.current_phase:
        out.append(_derived_observation(
            child_id(patient_id, "current-phase"), patient, allcare_concept(C.A_TREATMENT_PHASE, "Current treatment phase"),
            as_of, concept(coding(C.ALLCARE_PHASES, assessment.status.current_phase)), condition,
        ))
    return out


def episode_observations(assessment, patient_id: str, patient: Element, condition: Element | None) -> list:
    """Each relapse (or induction failure with its own work-up) as a derived Observation dated at its onset.

    The value names the episode (relapse 1, relapse 2 ...); components carry its
    site, timing, risk groups, and a lineage switch or antigen loss when found.
    """
    out = []
    for episode in assessment.course.episodes:
        if episode.kind == "initial":
            continue
        parts = [
            (C.A_RELAPSE_SITE, episode.site),
            (C.A_RELAPSE_TIMING_IBFM, episode.timing.ibfm if episode.timing else None),
            (C.A_RELAPSE_TIMING_COG, episode.timing.cog if episode.timing else None),
            (C.A_RELAPSE_RISK_BFM, episode.risk.bfm if episode.risk else None),
            (C.A_RELAPSE_RISK_INTREALL, episode.risk.intreall if episode.risk else None),
            (C.A_RELAPSE_RISK_COG, episode.risk.cog if episode.risk else None),
        ]
        components: list[Element] = [{"code": allcare_concept(code), "valueCodeableConcept": allcare_concept(value)}
                                      for code, value in parts if value]
        if episode.lineage_switch is not None:
            components.append({"code": allcare_concept(C.A_LINEAGE_SWITCH), "valueBoolean": episode.lineage_switch})
        if episode.antigen_loss:
            components.append({"code": allcare_concept(C.A_ANTIGEN_LOSS), "valueString": ", ".join(episode.antigen_loss)})
        name = f"{episode.kind.replace('_', ' ')} {episode.number}"
        out.append(_derived_observation(
            child_id(patient_id, f"episode-{episode.kind}-{episode.number}"), patient,
            allcare_concept(C.A_EPISODE, "Disease episode (allcare)"), episode.onset,
            allcare_concept(episode.kind, name), condition, component=components or None,
        ))
    return out


def condition_reference(condition) -> Element | None:
    return reference("Condition", condition["id"]) if condition is not None else None
