"""THE words for the assessment's coded values, as the care team reads them.

The engine writes keys (``complete_remission``, ``cns_disease``, ``b_all_kmt2a`` ...); the CLI, the web
pages and charts and the CDS Hooks cards show these words for them, so a status, phase or alert is
called the same on every screen. The patient report explains the same keys in plain words
(:mod:`allcare.labels.plain`); ``tests/test_labels.py`` checks that both cover every value the engine
can emit (the output model's Literal types and every alert code the engine writes).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..engine.lesion_vocabulary import BCR_ABL1, ETV6_RUNX1, IAMP21, IGH_IL3, TCF3_HLF, TCF3_PBX1

STATUS: dict[str, str] = {
    "newly_diagnosed": "Newly diagnosed",
    "on_treatment": "On treatment",
    "complete_remission": "Complete remission",
    "cr_incomplete_recovery": "CR, incomplete count recovery",
    "refractory": "Refractory",
    "suspected_relapse": "Suspected relapse",
    "relapse": "Relapse",
    "indeterminate": "Indeterminate",
}
STATUS_SHORT: dict[str, str] = {
    "newly_diagnosed": "New",
    "on_treatment": "On treatment",
    "complete_remission": "CR",
    "cr_incomplete_recovery": "CRi",
    "refractory": "Refractory",
    "suspected_relapse": "Relapse?",
    "relapse": "Relapse",
    "indeterminate": "Unclear",
}
"""The same statuses in at most 12 characters, for the status axis of a phone-width chart."""
PHASE: dict[str, str] = {
    "prephase": "Prephase",
    "induction": "Induction",
    "consolidation": "Consolidation",
    "interim_maintenance": "Interim maintenance",
    "delayed_intensification": "Delayed intensification",
    "maintenance": "Maintenance",
    "hsct": "Stem cell transplant",
    "car_t": "CAR T-cell therapy",
    "targeted": "Targeted therapy",
    "salvage": "Salvage",
    "other": "Other treatment",
}
ALERT: dict[str, str] = {
    "hyperleukocytosis": "Hyperleukocytosis",
    "mediastinal_mass": "Mediastinal mass",
    "severe_neutropenia": "Severe neutropenia",
    "severe_thrombocytopenia": "Severe thrombocytopenia",
    "cns_disease": "CNS disease",
    "testicular_disease": "Testicular disease",
    "ph_positive": "Ph-positive",
    "immunotherapy_indication": "Immunotherapy indication",
    "down_syndrome": "Down syndrome",
    "missing_end_of_induction": "Missing end-of-induction assessment",
    "lineage_switch": "Lineage switch",
    "antigen_loss": "Antigen loss at relapse",
    "mrd_recurrence": "Molecular relapse",
    "mrd_persistent": "Persistent MRD",
    "germline_tp53_testing": "Germline TP53 testing",
    "abl_class_tki": "ABL-class fusion: TKI",
    "stale_data": "Data out of date",
    "before_diagnosis": "Assessed before diagnosis",
    "febrile_neutropenia": "Febrile neutropenia",
    "tumour_lysis": "Tumour lysis",
    "methotrexate_clearance": "Methotrexate clearance",
    "asparaginase_inactivation": "Asparaginase inactivation",
    "hepatotoxicity": "Hepatotoxicity",
    "anthracycline_cumulative": "Cumulative anthracyclines",
    "thiopurine_pharmacogenetics": "Thiopurine pharmacogenetics",
    "maintenance_dose": "Maintenance dose",
}
SEVERITY: dict[str, str] = {"critical": "Critical", "warning": "Warning", "info": "Information"}
CNS: dict[str, str] = {
    "CNS1": "CNS1 (no blasts in the CSF)",
    "CNS2a": "CNS2a (blasts, CSF WBC below the CNS3 line)",
    "CNS2b": "CNS2b (blasts, traumatic tap)",
    "CNS2c": "CNS2c (blasts, traumatic tap, Steinherz/Bleyer negative)",
    "CNS3a": "CNS3a (blasts, CSF WBC at or above the CNS3 line)",
    "CNS3b": "CNS3b (traumatic tap, Steinherz/Bleyer positive)",
    "CNS3c": "CNS3c (clinical signs of CNS disease)",
}
DISEASE: dict[str, str] = {
    "ALL": "Acute lymphoblastic leukaemia (ALL)",
    "LBL": "Lymphoblastic lymphoma (LBL)",
    "MPAL": "Mixed phenotype acute leukaemia (MPAL)",
    "not_ALL": "Not ALL",
    "indeterminate": "Indeterminate",
}
LINEAGE: dict[str, str] = {
    "B": "B-cell", "T": "T-cell", "B/myeloid": "Mixed B-cell and myeloid", "T/myeloid": "Mixed T-cell and myeloid",
    "B/T": "Mixed B-cell and T-cell", "B/T/myeloid": "Mixed B-cell, T-cell and myeloid",
}
STAGE: dict[str, str] = {
    "pro_b": "pro-B (B-I)", "common_b": "common B (B-II)", "pre_b": "pre-B (B-III)", "mature_b": "mature B (B-IV)",
    "pro_t": "pro-T (T-I)", "pre_t": "pre-T (T-II)", "cortical_t": "cortical T (T-III)", "mature_t": "mature T (T-IV)",
}
ETP: dict[str, str] = {"etp": "ETP", "near_etp": "near-ETP", "not_etp": "not ETP"}
NCI_RISK: dict[str, str] = {
    "standard": "Standard", "high": "High", "infant": "Infant (outside NCI)", "not_applicable": "Not applicable",
}
GENETIC_RISK: dict[str, str] = {"standard": "Standard", "poor": "Poor"}
COG_GROUP: dict[str, str] = {"low": "Low", "average": "Average", "high": "High", "very_high": "Very high"}
MRD_STATUS: dict[str, str] = {"negative": "Negative", "positive": "Positive", "not_evaluable": "Not evaluable"}
ENTITY_SHORT: dict[str, str] = {
    "b_all_nos": "B-ALL NOS", "b_all_high_hyperdiploidy": "High hyperdiploidy", "b_all_hypodiploidy": "Hypodiploidy",
    "b_all_iamp21": IAMP21, "b_all_bcr_abl1": BCR_ABL1, "b_all_bcr_abl1_like": f"{BCR_ABL1}-like",
    "b_all_kmt2a": "KMT2A-rearranged", "b_all_etv6_runx1": ETV6_RUNX1, "b_all_etv6_runx1_like": f"{ETV6_RUNX1}-like",
    "b_all_tcf3_pbx1": TCF3_PBX1, "b_all_igh_il3": IGH_IL3, "b_all_tcf3_hlf": TCF3_HLF,
    "b_all_other_defined": "Other defined", "t_all_nos": "T-ALL NOS", "etp_all": "ETP-ALL",
    "mpal_bcr_abl1": f"MPAL {BCR_ABL1}", "mpal_kmt2a": "MPAL KMT2A-rearranged", "mpal_b_myeloid": "MPAL B/myeloid",
    "mpal_t_myeloid": "MPAL T/myeloid", "mpal_other": "MPAL, other",
}
"""Short names of the WHO-HAEM5 entities for lists and cards (the diagnosis panel shows the full name)."""

ANALYTE: dict[str, str] = {
    "wbc": "WBC", "anc": "ANC", "hemoglobin": "Haemoglobin", "platelets": "Platelets", "rbc": "RBC",
    "blasts_pct": "Blood blasts",
}
"""Blood-count analytes as charts and tables name them."""
UNKNOWN = "Not yet known"
"""What nobody has recorded yet (a finding not taken)."""
UNDETERMINED = "cannot determine"
"""What the engine could not decide from what is recorded (its conclusion lists what it needs)."""


def number_as_recorded(value: float) -> str:
    """A number as recorded (up to 6 significant digits, which only trims a unit conversion's float noise), on
    every screen and in the patient report: never rounded to fewer digits, since a value just under a cut-off
    (a white count of 49.99, a marrow of 4.996% blasts, platelets of 99.96) must not read as the cut-off."""
    return f"{value:,.0f}" if abs(value) >= 1e6 else f"{value:.6g}"


def label(words: Mapping[str, str], key: str | None, unknown: str = UNKNOWN) -> str:
    """The word for ``key``; a key the set does not know is shown as written (never hidden), None as ``unknown``."""
    if not key:
        return unknown
    return words.get(key) or key.replace("_", " ").capitalize()


def status_label(status: str | None) -> str:
    return label(STATUS, status)


def phase_label(phase: str | None) -> str:
    return label(PHASE, phase, "")


def alert_label(code: str) -> str:
    return label(ALERT, code)


def cns_label(status: str | None) -> str:
    """A CNS status, or the statuses still possible ("CNS2c or CNS3b") when the data leave more than one."""
    if not status:
        return "Cannot determine"
    return " or ".join(CNS.get(part, part) for part in status.split(" or "))


def entity_short(key: str | None) -> str:
    return "" if not key else ENTITY_SHORT.get(key, key.replace("_", " "))
