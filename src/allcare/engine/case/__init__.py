"""The ``allcare.case/1`` case model: validated, unit-normalised input to the engine."""

from .errors import CaseValidationError, case_from_dict, case_from_json
from .markers import KNOWN_MARKERS, normalise_marker_name
from .models import (
    CASE_SCHEMA,
    FINDING_TYPES,
    Case,
    Cbc,
    Condition,
    Csf,
    Cytogenetics,
    Extramedullary,
    Finding,
    Genetics,
    Immunophenotype,
    Marrow,
    Mrd,
    Patient,
    Sex,
    Treatment,
)
from .quantity import Quantity
from .vocabulary import normalise_lesion

__all__ = [
    "CASE_SCHEMA", "FINDING_TYPES", "KNOWN_MARKERS", "Case", "CaseValidationError", "Cbc", "Condition", "Csf",
    "Cytogenetics", "Extramedullary", "Finding", "Genetics", "Immunophenotype", "Marrow", "Mrd", "Patient",
    "Quantity", "Sex", "Treatment", "case_from_dict", "case_from_json", "normalise_lesion", "normalise_marker_name",
]
