"""JSON Schemas generated from the models, so the documentation cannot drift from the code.

The input models (case, rule set) are pydantic models and give their validation
schema; the assessment is a tree of ``msgspec`` structs and gives the schema of
the document it encodes.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .assessment import Assessment
from .case import Case
from .rules import RuleSet

_IDS = {
    "case": "https://allcare.example/schemas/allcare.case-1.json",
    "assessment": "https://allcare.example/schemas/allcare.assessment-1.json",
    "rules": "https://allcare.example/schemas/allcare.rules-1.json",
}


def openapi_components(ref_template: str = "#/components/schemas/{name}") -> tuple[dict[str, Any], dict[str, Any]]:
    """The assessment for an OpenAPI document: (the schema a response refers to, the component schemas)."""
    (schema,), components = msgspec.json.schema_components([Assessment], ref_template=ref_template)
    return schema, components


def json_schema(which: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``case``, ``assessment`` or ``rules``; KeyError otherwise."""
    if which == "assessment":
        schema = msgspec.json.schema(Assessment)
    elif which == "case":
        schema = Case.model_json_schema(mode="validation", by_alias=True)
    elif which == "rules":
        schema = RuleSet.model_json_schema(mode="validation", by_alias=True)
    else:
        raise KeyError(which)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": _IDS[which], **schema}
