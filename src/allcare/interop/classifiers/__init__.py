"""RNA-seq B-/T-ALL subtype classifier results (ALLSorts, ALLCatchR, TALLSorts, MD-ALL) as genetics findings.

:func:`read_calls` reads one tool's output file, :func:`read_patient_map` the
sample -> patient/date map, :func:`findings_by_patient` turns calls into
``genetics`` findings with ``expression_subtype`` and ``expression_confidence``;
:func:`map_label` gives each tool label's allcare label and WHO-HAEM5/ICC entity.
"""

from .findings import SampleOrigin, call_to_finding, expression_subtype, findings_by_patient, read_patient_map
from .labels import TOOL_NAMES, TOOLS, LabelMapping, label_table, map_label
from .readers import ClassifierCall, ClassifierFileError, read_calls

__all__ = [
    "TOOLS", "TOOL_NAMES", "ClassifierCall", "ClassifierFileError", "LabelMapping", "SampleOrigin", "call_to_finding",
    "expression_subtype", "findings_by_patient", "label_table", "map_label", "read_calls", "read_patient_map",
]
