"""JSON Schemas generated from the models, so the documentation cannot drift from the code."""

from __future__ import annotations

from typing import Any

from .assessment import Assessment
from .case import Case
from .rules import RuleSet

_MODELS = {"case": (Case, "validation"), "assessment": (Assessment, "serialization"), "rules": (RuleSet, "validation")}
_IDS = {
    "case": "https://allcare.example/schemas/allcare.case-1.json",
    "assessment": "https://allcare.example/schemas/allcare.assessment-1.json",
    "rules": "https://allcare.example/schemas/allcare.rules-1.json",
}


def json_schema(which: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``case``, ``assessment`` or ``rules``; KeyError otherwise."""
    model, mode = _MODELS[which]
    schema = model.model_json_schema(mode=mode, by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": _IDS[which], **schema}
