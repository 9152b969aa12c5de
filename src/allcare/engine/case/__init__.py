"""The ``allcare.case/1`` case model: validated, unit-normalised input to the engine."""

from ..lesion_vocabulary import normalise_lesion
from .errors import CaseValidationError, case_from_dict, case_from_json
from .markers import KNOWN_MARKERS, normalise_marker_name
from .models import (
    CASE_SCHEMA,
    FINDING_TYPES,
    AdverseEvent,
    Anthropometry,
    AsparaginaseActivity,
    Case,
    Cbc,
    Chemistry,
    Condition,
    Csf,
    Cytogenetics,
    Dose,
    Extramedullary,
    Finding,
    Genetics,
    Immunophenotype,
    Marrow,
    MethotrexateLevel,
    Mrd,
    Patient,
    Pharmacogenetics,
    Sex,
    Treatment,
    Vitals,
)
from .quantity import Quantity

__all__ = [
    "AdverseEvent", "Anthropometry", "AsparaginaseActivity", "Chemistry", "Dose", "MethotrexateLevel",
    "Pharmacogenetics", "Vitals",
    "CASE_SCHEMA", "FINDING_TYPES", "KNOWN_MARKERS", "Case", "CaseValidationError", "Cbc", "Condition", "Csf",
    "Cytogenetics", "Extramedullary", "Finding", "Genetics", "Immunophenotype", "Marrow", "Mrd", "Patient",
    "Quantity", "Sex", "Treatment", "case_from_dict", "case_from_json", "normalise_lesion", "normalise_marker_name",
]
