"""The JSON Schemas in docs/ are generated from the models and must not drift from them."""

import json
from pathlib import Path

import pytest

from allcare.engine.schemas import json_schema

DOCS = Path(__file__).resolve().parents[1] / "docs" / "schemas"


@pytest.mark.parametrize("which", ["case", "assessment", "rules"])
def test_documented_schema_is_the_generated_one(which):
    documented = json.loads((DOCS / f"{which}.schema.json").read_text())
    assert documented == json_schema(which), f"run: allcare schema {which} > docs/schemas/{which}.schema.json"
