"""FHIR R4 (mCODE STU4-aligned) import and export of allcare cases.

- :func:`case_to_bundle` / :func:`bundle_json`: a case (and its assessment) as a Bundle;
- :func:`import_bundle`: a Bundle (or a single resource) -> one validated case per patient;
- :class:`NdjsonImport` / :func:`iter_ndjson`: bulk-export NDJSON, streamed, per patient;
- :class:`MappingReport`: what became of every resource; :class:`FhirInputError`: bad input.

The mapping table is in docs/fhir.md.
"""

from ...engine.case.merge import MergeError, merge_cases
from .assemble import PatientImport
from .export import bundle_json, case_resources, case_to_bundle
from .importer import ImportResult, import_bundle, import_items, import_resources
from .ndjson import NdjsonImport, PatientOutcome, Progress, iter_ndjson
from .problems import FhirInputError, FhirProblem, MappingReport, ReportEntry
from .reader import DEFAULT_MAX_BUNDLE_BYTES

__all__ = [
    "DEFAULT_MAX_BUNDLE_BYTES", "FhirInputError", "FhirProblem", "ImportResult", "MappingReport", "MergeError",
    "NdjsonImport", "PatientImport", "PatientOutcome", "Progress", "ReportEntry", "bundle_json", "case_resources",
    "case_to_bundle", "import_bundle", "import_items", "import_resources", "iter_ndjson", "merge_cases",
]
