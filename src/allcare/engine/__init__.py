"""The assessment engine: pure functions from a case to an explained assessment.

No I/O and no web code here: everything the engine needs arrives as a validated
:class:`~allcare.engine.case.Case` and leaves as an :class:`Assessment`, so the
CLI, the web app, FHIR and CDS Hooks all get the same answers.
"""

from .assessment import ASSESSMENT_SCHEMA, Assessment, assessment_from_json, assessment_to_json
from .case import CASE_SCHEMA, Case, CaseValidationError, case_from_dict
from .explain import Conclusion, EvidenceRef
from .pipeline import assess
from .rules import DEFAULT_RULES, RULES_VERSION, RuleSet, RuleSetError, rules_from_dict

__all__ = [
    "ASSESSMENT_SCHEMA", "Assessment", "assessment_from_json", "assessment_to_json", "CASE_SCHEMA", "Case", "CaseValidationError", "Conclusion", "DEFAULT_RULES",
    "EvidenceRef", "RULES_VERSION", "RuleSet", "RuleSetError", "assess", "case_from_dict", "rules_from_dict",
]
