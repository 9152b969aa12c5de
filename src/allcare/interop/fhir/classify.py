"""What a resource is, for allcare: which kind of finding it feeds, or none.

Classification is by code (LOINC first, then allcare's own codes), never by
free text, except for a measurable-residual-disease result that a lab coded
only by name (no published LOINC code for ALL MRD was found).
"""

from __future__ import annotations

import re

from . import codes as C
from . import monitoring
from .read_helpers import code_in, concept_text, ext_value, is_derived, profiles
from .shapes import CONTEXT_TYPES

CBC_CODES = {code: a for a in C.CBC_ANALYTES for code in a.import_codes}
CSF_CODES = {code: a for a in C.CSF_ANALYTES for code in a.import_codes}
_ALLCARE_KIND = {
    C.A_MRD: "mrd", C.A_CSF_BLASTS: "csf", C.A_CSF_TRAUMATIC: "csf", C.A_CSF_PANEL: "csf-panel",
    C.A_EXPRESSION_SUBTYPE: "genetics", C.A_EXTRAMEDULLARY: "extramedullary",
    monitoring.A_ASPARAGINASE: "asparaginase_activity",
}
_MRD_TEXT = re.compile(r"\b(minimal|measurable) residual disease\b|\bMRD\b", re.IGNORECASE)
DERIVED_PROFILES = frozenset({C.PROFILE_CANCER_DISEASE_STATUS, C.PROFILE_ALL_RISK_ASSESSMENT, C.MCODE + "mcode-cancer-risk-assessment"})

# Finding type each kind feeds.
FINDING_TYPE = {
    "cbc": "cbc", "cbc-panel": "cbc", "csf": "csf", "csf-panel": "csf", "marrow": "marrow", "marrow-report": "marrow",
    "immunophenotype": "immunophenotype", "cytogenetics": "cytogenetics", "genetics": "genetics",
    "genetics-report": "genetics", "mrd": "mrd", "extramedullary": "extramedullary", "treatment": "treatment",
    "treatment-plan": "treatment", "treatment-request": "treatment", "treatment-statement": "treatment",
    "radiotherapy": "treatment", **monitoring.FINDING_TYPES,
}


def kind_of(resource) -> str | None:
    """A kind from :data:`FINDING_TYPE`, ``derived``, ``condition``, ``patient``, ``report`` or None (not used)."""
    rtype = resource.resource_type
    if rtype != "Condition" and resource.extension is not None and is_derived(resource):
        return "derived"
    if rtype == "Observation":
        return _observation_kind(resource)
    if rtype == "Patient":
        return "patient"
    if rtype == "Condition":
        return "condition"
    if rtype == "DiagnosticReport":
        if code_in(resource.code, C.LOINC, C.GENOMICS_REPORT_CODES) or any(code_in(c, C.DIAGNOSTIC_SERVICE, ["GE"]) for c in resource.category or []):
            return "genetics-report"
        return "report"
    if rtype in ("MedicationAdministration", "MedicationRequest") and monitoring.medication_kind(resource, ext_value):
        return "dose"
    if rtype == "AdverseEvent":
        return "adverse_event"
    if rtype == "MedicationAdministration":
        return "treatment"
    if rtype == "MedicationRequest":
        return "treatment-request"
    if rtype == "MedicationStatement":
        return "treatment-statement"
    if rtype == "CarePlan":
        return "treatment-plan" if any(code_in(c, C.ALLCARE_PHASES) for c in resource.category or []) else None
    if rtype == "Procedure":
        if code_in(resource.code, C.ALLCARE_PHASES):
            return "treatment-plan"
        if code_in(resource.code, C.SNOMED, [C.RADIOTHERAPY_COURSE[0]]) or C.PROFILE_RADIOTHERAPY_COURSE in profiles(resource):
            return "radiotherapy"
        return None
    return None


def _loinc_kinds() -> dict[str, str]:
    """The kind an Observation's LOINC code gives, the first listed winning where codes are shared."""
    out: dict[str, str] = {}
    for codes, kind in ((CBC_CODES, "cbc"), ((C.CBC_PANEL,), "cbc-panel"), (CSF_CODES, "csf"),
                        (C.MARROW_BLASTS.import_codes, "marrow"), ((C.MARROW_REPORT,), "marrow-report"),
                        ((C.IMMUNOPHENOTYPE,), "immunophenotype"), (C.KARYOTYPE_CODES, "cytogenetics"),
                        ((C.GENETIC_VARIANT,), "genetics"), ((C.CANCER_DISEASE_STATUS,), "derived")):
        for code in codes:
            out.setdefault(code, kind)
    return out


_LOINC_KIND = _loinc_kinds()


def _observation_kind(obs) -> str | None:
    """By allcare's own code, else the NCI risk code, else the first LOINC code; read in one pass over the codings."""
    if obs.meta is not None and obs.meta.profile and not DERIVED_PROFILES.isdisjoint(obs.meta.profile):
        return "derived"
    own = loinc = None
    risk = False
    for c in obs.code.coding or () if obs.code is not None else ():
        code, system = c.code, c.system
        if not code:
            continue
        if system == C.LOINC:
            loinc = loinc or code
        elif system == C.ALLCARE_CODES:
            own = own or code
        elif system == C.NCIT and code == C.ALL_RISK_CODE:
            risk = True
    if own:
        return "derived" if own in C.DERIVED_CODES else _ALLCARE_KIND.get(own)
    if risk:
        return "derived"
    kind = _LOINC_KIND.get(loinc) if loinc else None
    if kind is not None:
        return kind
    monitored = monitoring.observation_kind(obs, code_in)
    if monitored:
        return monitored
    panel = _panel_of_components(obs)
    if panel:
        return panel
    if _MRD_TEXT.search(concept_text(obs.code) or ""):
        return "mrd"
    return None


def _panel_of_components(obs) -> str | None:
    """``cbc-panel`` / ``csf-panel`` for an Observation of another code (a CBC-with-differential panel, a local
    panel code) whose components carry blood-count / spinal-fluid count LOINC codes.

    FHIR R4 Observation, "Components" (https://hl7.org/fhir/R4/observation.html#component): component
    observations share the Observation's subject, time and specimen, and each is identified by its own code,
    so the components' codes say what they are whatever the panel's code.
    """
    for comp in obs.component or ():
        code = code_in(comp.code, C.LOINC)
        if code in CBC_CODES:
            return "cbc-panel"
        if code in CSF_CODES:
            return "csf-panel"
    return None


def unused_reason(resource) -> str:
    """Why a resource of a kind allcare does not use is not mapped (for the report)."""
    rtype = resource.resource_type
    if rtype == "Observation":
        loinc = code_in(resource.code, C.LOINC)
        if loinc in C.NOT_MARROW_BLASTS:
            return C.NOT_MARROW_BLASTS[loinc]
        label = f"LOINC {loinc}" if loinc else repr(concept_text(resource.code) or "no code")
        return f"observation {label} ({concept_text(resource.code) or 'no name'}) is not one allcare uses"
    if rtype == "Procedure":
        return f"procedure {concept_text(resource.code) or ''!s}: allcare reads results from Observations, treatments from medications"
    if rtype in CONTEXT_TYPES or rtype == "Medication":
        return f"{rtype} is context, not patient data allcare uses"
    if rtype == "DiagnosticReport":
        return "report with no results allcare uses"
    if rtype == "Specimen":
        return "Specimen is read only as the sample of the results that name it (Observation.specimen)"
    return f"{rtype} is not used by allcare"
