"""FHIR JSON read in place: attribute access over parsed JSON, with targeted checks.

Validating every resource with its R4B model costs about 0.2 ms and was most of
the time of an import, while allcare reads a few dozen elements. The importer
therefore reads resources straight from the parsed JSON through :class:`Node`
(``obs.valueQuantity.value`` reads ``obs["valueQuantity"]["value"]``; an absent
element is None), and :func:`check` verifies, before anything is read, that
every element allcare reads has the JSON shape FHIR R4 gives it: an object, a
list, text, a number, a boolean, a date. A wrong shape is reported with the
resource and the element path, as the R4B model would; elements allcare does not
read are not looked at (``--strict`` validates those too, with the R4B models).
"""

from __future__ import annotations

import re
from typing import Any

from .problems import FhirProblem


class Node:
    """Read-only attribute view of a FHIR JSON object (absent element -> None; lists of objects -> lists of Nodes)."""

    __slots__ = ("_data",)

    def __init__(self, data: dict):
        self._data = data

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return wrap(self._data.get(name))

    def get_resource_type(self) -> str:
        return self._data.get("resourceType")

    @property
    def json(self) -> dict:
        return self._data

    def __repr__(self) -> str:
        return f"Node({self._data!r})"


def wrap(value: Any) -> Any:
    if type(value) is dict:
        return Node(value)
    if type(value) is list:
        return [Node(v) if type(v) is dict else v for v in value]
    return value


# Shapes ---------------------------------------------------------------------------------
# A shape is a JSON type name, a dict of element -> shape (an object), or a one-item list
# [shape] (a list of that). Only the elements allcare reads are listed.
_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
_DATETIME = re.compile(r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?")

CODING = {"system": "str", "code": "str", "display": "str"}
CONCEPT = {"coding": [CODING], "text": "str"}
QUANTITY = {"value": "num", "unit": "str", "code": "str", "system": "str", "comparator": "str"}
REFERENCE = {"reference": "str", "display": "str", "identifier": {"system": "str", "value": "str"}}
PERIOD = {"start": "datetime", "end": "datetime"}
IDENTIFIER = {"system": "str", "value": "str"}
EXTENSION = {"url": "str", "valueString": "str", "valueCode": "str", "valueDecimal": "num", "valueBoolean": "bool",
             "valueDate": "date", "valueDateTime": "datetime", "valueInteger": "int", "valueCodeableConcept": CONCEPT}
RANGE_ITEM = {"low": QUANTITY, "high": QUANTITY, "text": "str"}
COMPONENT = {"code": CONCEPT, "valueQuantity": QUANTITY, "valueCodeableConcept": CONCEPT, "valueString": "str",
             "valueInteger": "int", "valueBoolean": "bool"}
_COMMON = {"id": "str", "meta": {"profile": ["str"]}, "extension": [EXTENSION], "identifier": [IDENTIFIER],
           "status": "str", "subject": REFERENCE, "patient": REFERENCE, "contained": ["obj"]}
_EFFECTIVE = {"effectiveDateTime": "datetime", "effectiveInstant": "datetime", "effectivePeriod": PERIOD, "issued": "datetime"}
_MEDICATION = {"medicationCodeableConcept": CONCEPT, "medicationReference": REFERENCE, "request": REFERENCE,
               "authoredOn": "datetime", "dateAsserted": "datetime",
               "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": PERIOD}}}]}

SHAPES: dict[str, dict] = {
    "Patient": {**_COMMON, "gender": "str", "birthDate": "date"},
    "Observation": {**_COMMON, **_EFFECTIVE, "code": CONCEPT, "category": [CONCEPT], "valueQuantity": QUANTITY,
                    "valueCodeableConcept": CONCEPT, "valueString": "str", "valueBoolean": "bool", "valueInteger": "int",
                    "method": CONCEPT, "bodySite": CONCEPT, "component": [COMPONENT], "referenceRange": [RANGE_ITEM],
                    "hasMember": [REFERENCE]},
    "DiagnosticReport": {**_COMMON, **_EFFECTIVE, "code": CONCEPT, "category": [CONCEPT], "result": [REFERENCE]},
    "Condition": {**_COMMON, "code": CONCEPT, "clinicalStatus": CONCEPT, "verificationStatus": CONCEPT,
                  "onsetDateTime": "datetime"},
    "MedicationAdministration": {**_COMMON, **_EFFECTIVE, **_MEDICATION},
    "MedicationRequest": {**_COMMON, **_MEDICATION},
    "MedicationStatement": {**_COMMON, **_EFFECTIVE, **_MEDICATION},
    "Medication": {**_COMMON, "code": CONCEPT},
    "CarePlan": {**_COMMON, "category": [CONCEPT], "period": PERIOD, "activity": [{"outcomeReference": [REFERENCE]}]},
    "Procedure": {**_COMMON, "code": CONCEPT, "category": CONCEPT, "performedDateTime": "datetime",
                  "performedPeriod": PERIOD},
}
_DEFAULT = {"id": "str", "subject": REFERENCE, "patient": REFERENCE}

_TYPE_NAMES = {"str": "text", "num": "a number", "int": "an integer", "bool": "true or false", "obj": "a JSON object",
               "date": "a date (YYYY, YYYY-MM or YYYY-MM-DD)", "datetime": "a FHIR dateTime"}


def check(resource: dict, name: str) -> list[FhirProblem]:
    """Every element allcare reads that does not have its FHIR R4 JSON shape, named by its path."""
    problems: list[FhirProblem] = []
    _check_object(resource, SHAPES.get(resource.get("resourceType"), _DEFAULT), "", name, problems)
    return problems


def _check_object(data: dict, shape: dict, path: str, name: str, problems: list[FhirProblem]) -> None:
    for key, expected in shape.items():
        if key in data:
            _check_value(data[key], expected, f"{path}.{key}" if path else key, name, problems)


def _check_value(value: Any, expected: Any, path: str, name: str, problems: list[FhirProblem]) -> None:
    if value is None:
        problems.append(FhirProblem(name, path, "null is not a FHIR value; leave the element out"))
    elif isinstance(expected, dict):
        if type(value) is not dict:
            problems.append(FhirProblem(name, path, "must be a JSON object"))
        else:
            _check_object(value, expected, path, name, problems)
    elif isinstance(expected, list):
        if type(value) is not list:
            problems.append(FhirProblem(name, path, "must be a list (FHIR repeats this element)"))
        else:
            for n, item in enumerate(value):
                _check_value(item, expected[0], f"{path}[{n}]", name, problems)
    elif not _is(value, expected):
        problems.append(FhirProblem(name, path, f"must be {_TYPE_NAMES[expected]} (got {value!r:.60})"))


def _is(value: Any, expected: str) -> bool:
    kind = type(value)
    if expected == "str":
        return kind is str and value.strip() != ""
    if expected == "num":
        return kind in (int, float)
    if expected == "int":
        return kind is int
    if expected == "bool":
        return kind is bool
    if expected == "obj":
        return kind is dict
    if expected == "date":
        return kind is str and _DATE.fullmatch(value) is not None
    if expected == "datetime":
        return kind is str and _DATETIME.fullmatch(value) is not None
    raise ValueError(expected)
