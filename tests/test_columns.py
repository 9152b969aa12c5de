"""The three forms a table column is written in (docs/assessment-format.md, "Columns"), and reading them back."""

from __future__ import annotations

import json
from typing import NamedTuple

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from allcare.engine import assess, assessment_from_json, assessment_to_json
from allcare.engine.case import case_from_dict
from allcare.engine.columns import MAX_LEVELS, Coded, entry, fold, fold_records, pick, unfold


def test_a_column_every_row_shares_is_written_once():
    assert fold(["Anemia"] * 4) == "Anemia"
    assert fold([None, None]) is None


def test_few_distinct_texts_or_decimals_are_coded_in_order_of_first_appearance():
    assert fold(["low", "normal", "low", None]) == Coded(levels=["low", "normal", None], codes=[0, 1, 0, 2])
    assert fold([5.5, 5.5, 4.5]) == Coded(levels=[5.5, 4.5], codes=[0, 0, 1])
    assert fold([True, False, None]) == Coded(levels=[True, False, None], codes=[0, 1, 2])


def test_whole_numbers_and_many_distinct_entries_stay_a_list():
    assert fold([4, 0, None, 0]) == [4, 0, None, 0]  # grades: a code would be no shorter
    many = [float(n) for n in range(MAX_LEVELS + 1)]
    assert fold(many) == many


@given(st.lists(st.one_of(st.none(), st.sampled_from(["low", "normal", "high"]), st.integers(0, 4),
                          st.floats(allow_nan=False, allow_infinity=False)), min_size=1, max_size=40))
def test_every_form_reads_back_as_the_column(column):
    folded = fold(column)
    rows = len(column)
    assert unfold(folded, rows) == column
    assert [entry(folded, row) for row in range(-rows, rows)] == column + column
    picked = pick(folded, list(range(0, rows, 2)))
    assert (picked if isinstance(picked, list) else [picked] * len(range(0, rows, 2))) == column[::2]


def test_records_are_folded_into_one_column_per_field_sharing_their_codes():
    class Info(NamedTuple):
        term: str
        lower: float
        source: str

    a, b = Info("Anemia", 11.5, "reference"), Info("Anemia", 10.5, "reference")
    term, lower, source = fold_records([a, a, b, a], ("term", "lower", "source"))
    assert term == "Anemia" and source == "reference"
    assert lower == Coded(levels=[11.5, 10.5], codes=[0, 0, 1, 0])
    assert fold_records([a, a], ("term", "lower", "source")) == ["Anemia", 11.5, "reference"]


def test_a_coded_column_with_a_code_past_its_levels_is_refused_when_read():
    with pytest.raises(ValueError, match="past the last of 2 levels"):
        Coded(levels=["low", "high"], codes=[0, 2])
    with pytest.raises(msgspec.ValidationError, match="past the last"):
        msgspec.json.decode(b'{"levels": ["low"], "codes": [0, 1]}', type=Coded[str])
    with pytest.raises(msgspec.ValidationError, match=">= 0"):
        msgspec.json.decode(b'{"levels": ["low"], "codes": [-1]}', type=Coded[str])


def _case() -> dict:
    cbc = {"type": "cbc", "date": "2024-03-01", "anc": 0.4, "platelets": 20, "hemoglobin": 7.1}
    return {"schema": "allcare.case/1", "patient": {"id": "p", "age_years": 6, "sex": "female"},
            "findings": [cbc, {**cbc, "date": "2024-03-08", "anc": 2.1, "platelets": 180, "hemoglobin": 11.9},
                         {**cbc, "date": "2024-03-15", "anc": 0.9}]}


def test_the_json_writes_coded_columns_and_leaves_out_a_conclusions_empty_parts():
    result = assess(case_from_dict(_case()))
    document = json.loads(assessment_to_json(result))
    assert document["schema"] == "allcare.assessment/3"
    assert document["blood_counts"]["analytes"]["anc"]["flags"] == {"levels": ["low", "normal"], "codes": [0, 1, 0]}
    conclusions = [c for section in ("diagnosis", "risk", "status") for c in document[section]["conclusions"]]
    assert conclusions and all({"topic", "value", "determined", "rule", "source"} <= c.keys() for c in conclusions)
    assert not any(c.get(part) == [] for c in conclusions for part in ("evidence", "missing", "conflicts"))
    undecided = [c for c in conclusions if not c["determined"]]
    assert undecided and all(c["missing"] or c["conflicts"] for c in undecided)  # what is missing is still written
    read = assessment_from_json(assessment_to_json(result))
    assert read == result
    assert all(c.missing == [] for c in read.diagnosis.conclusions if c.determined)


def test_a_document_of_another_schema_version_is_refused_naming_the_field():
    document = json.loads(assessment_to_json(assess(case_from_dict(_case()))))
    document["schema"] = "allcare.assessment/2"
    with pytest.raises(msgspec.ValidationError, match=r"\$\.schema"):
        assessment_from_json(json.dumps(document).encode())


def test_every_undecided_conclusion_of_the_examples_still_says_what_would_decide_it():
    """/3 leaves empty ``missing`` and ``conflicts`` out: an undecided conclusion must never lose its reason."""
    from pathlib import Path

    from allcare.interop.casefile import load_case

    examples = Path(__file__).resolve().parents[1] / "examples"
    undecided = []
    for path in sorted(examples.iterdir()):
        if path.suffix in (".json", ".yaml", ".yml") and path.name != "expectations.yaml":
            found: list[dict] = []
            _conclusions(json.loads(assessment_to_json(assess(load_case(path)))), found)
            undecided += [(path.name, c) for c in found if not c["determined"]]
    assert len(undecided) > 20
    assert [(name, c["rule"]) for name, c in undecided if not (c.get("missing") or c.get("conflicts"))] == []


def _conclusions(value: object, found: list[dict]) -> None:
    if isinstance(value, dict):
        if {"topic", "rule", "determined"} <= value.keys():
            found.append(value)
        for item in value.values():
            _conclusions(item, found)
    elif isinstance(value, list):
        for item in value:
            _conclusions(item, found)
