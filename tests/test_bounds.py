"""Results reported as a bound ("< 0.01%", "> 1000"): case model and three-valued comparison.

A lab writes a value below its assay's limit as "< limit" (FHIR Quantity.comparator,
HL7 R4 datatypes). Read as the number, "< 0.01%" MRD would be 0.01% and positive.
"""

from __future__ import annotations

import json

import pytest

from allcare.engine.case import CaseValidationError, case_from_dict
from allcare.engine.case.bounds import above, at_least, at_most, below


def case(*findings: dict) -> dict:
    return {"schema": "allcare.case/1", "patient": {"id": "b1", "sex": "male"}, "findings": list(findings)}


@pytest.mark.parametrize(
    ("value", "comparator", "threshold", "expected"),
    [
        # exact values
        (5.0, None, 5.0, True),
        (4.9, None, 5.0, False),
        # "< x": the value lies in [0, x)
        (5.0, "<", 5.0, False),  # below the threshold itself: settled
        (4.0, "<", 5.0, False),
        (6.0, "<", 5.0, None),  # < 6 may be 5.5 or 4: straddles
        # "<= x": [0, x]
        (5.0, "<=", 5.0, None),  # may be exactly 5
        (4.9, "<=", 5.0, False),
        # "> x": (x, inf)
        (5.0, ">", 5.0, True),
        (4.0, ">", 5.0, None),
        # ">= x": [x, inf)
        (5.0, ">=", 5.0, True),
        (4.9, ">=", 5.0, None),
    ],
)
def test_at_least_is_decided_only_when_the_bound_settles_it(value, comparator, threshold, expected):
    assert at_least(value, comparator, threshold) is expected
    assert below(value, comparator, threshold) is (None if expected is None else not expected)


@pytest.mark.parametrize(
    ("value", "comparator", "threshold", "expected"),
    [
        (5.0, None, 5.0, False),
        (5.1, None, 5.0, True),
        (5.0, "<", 5.0, False),
        (5.0, "<=", 5.0, False),
        (6.0, "<=", 5.0, None),
        (5.0, ">", 5.0, True),
        (5.0, ">=", 5.0, None),  # may be exactly 5
        (5.1, ">=", 5.0, True),
        (4.0, ">", 5.0, None),
    ],
)
def test_above_is_decided_only_when_the_bound_settles_it(value, comparator, threshold, expected):
    assert above(value, comparator, threshold) is expected
    assert at_most(value, comparator, threshold) is (None if expected is None else not expected)


def test_a_count_reported_as_a_bound_keeps_its_comparator_and_round_trips():
    data = case({"type": "cbc", "date": "2024-01-02", "platelets": {"value": 5, "unit": "10^9/L", "comparator": "<"}})
    parsed = case_from_dict(data)
    platelets = parsed.findings[0].platelets
    assert (platelets.value, platelets.comparator) == (5.0, "<")
    written = parsed.to_json_dict()["findings"][0]["platelets"]
    assert written == {"value": 5, "unit": "10^9/L", "comparator": "<"}
    assert case_from_dict(json.loads(json.dumps(parsed.to_json_dict()))) == parsed


def test_a_converted_count_keeps_its_comparator():
    parsed = case_from_dict(case({"type": "cbc", "date": "2024-01-02", "anc": {"value": 100, "unit": "/uL", "comparator": "<"}}))
    assert (parsed.findings[0].anc.value, parsed.findings[0].anc.comparator) == (0.1, "<")


def test_an_mrd_reported_below_the_assay_limit_keeps_its_comparator():
    parsed = case_from_dict(case({"type": "mrd", "date": "2024-01-02", "value": 0.0001, "comparator": "<"}))
    mrd = parsed.findings[0]
    assert (mrd.fraction, mrd.comparator) == (0.0001, "<")
    assert parsed.to_json_dict()["findings"][0]["comparator"] == "<"


@pytest.mark.parametrize("comparator", ["~", "less than", "=<", ""])
def test_an_unknown_comparator_is_rejected_naming_the_field(comparator):
    with pytest.raises(CaseValidationError) as raised:
        case_from_dict(case({"type": "cbc", "date": "2024-01-02", "wbc": {"value": 5, "comparator": comparator}}))
    [problem] = [str(p) for p in raised.value.problems]
    assert "wbc" in problem and "comparator" in problem and "<" in problem


def test_an_mrd_comparator_needs_a_value():
    with pytest.raises(CaseValidationError) as raised:
        case_from_dict(case({"type": "mrd", "date": "2024-01-02", "comparator": "<", "method": "flow"}))
    assert any("comparator needs the value" in str(p) for p in raised.value.problems)
