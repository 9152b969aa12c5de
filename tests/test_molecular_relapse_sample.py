"""Molecular relapse compares an MRD with the previous one of a comparable sample
(docs/decisions.md#molecular-relapse).

Blood runs lower than marrow (about one log in B-ALL): a negative blood MRD does not show a negative marrow,
and a tenfold difference between a blood and a marrow result is not a rise. A positive blood (or
unstated-sample) MRD after a negative marrow is still a recurrence.
"""

from __future__ import annotations

import pytest

from test_response import assess, day, in_first_remission, on, point


def mrd(n: int, value: float, sample: str | None) -> dict:
    return {"type": "mrd", "date": day(n), "value": value, "sensitivity": 1e-5, "method": "flow"} | (
        {"sample": sample} if sample else {})


def molecular(status) -> list:
    return [c for c in status.conclusions if c.rule == "RESPONSE.MOLECULAR_RELAPSE"]


@pytest.mark.parametrize(("before", "after", "expected"), [
    ("marrow", "marrow", True),
    ("marrow", "blood", True),   # marrow negative, then leukaemic cells in blood
    ("marrow", None, True),
    ("blood", "blood", True),
    ("blood", "marrow", False),  # a negative blood MRD never showed a negative marrow
    ("blood", None, False),
])
def test_recurrence_after_a_negative_result_of_a_comparable_sample(before, after, expected):
    status = assess(in_first_remission(mrd(120, 0.0, before), mrd(200, 5e-4, after)))
    assert bool(molecular(status)) is expected
    p = point(status, 200)
    assert ("molecular relapse" in p.conclusion.explanation) is expected


@pytest.mark.parametrize(("before", "after", "expected"), [
    ("marrow", "marrow", True),
    ("blood", "blood", True),
    ("blood", "marrow", False),  # blood 0.01% and marrow 0.2%: about the usual gap, not a rise
    ("marrow", "blood", False),
])
def test_a_tenfold_rise_is_read_on_one_kind_of_sample(before, after, expected):
    status = assess(in_first_remission(mrd(120, 1e-4, before), mrd(200, 2e-3, after)))
    assert bool(molecular(status)) is expected
    if expected:
        assert molecular(status)[0].value == on(200)


@pytest.mark.parametrize("order", [0, 1])
def test_results_of_one_day_are_not_compared_with_each_other(order):
    """Flow negative and PCR positive of one marrow are one day's results (docs/decisions.md#same-day): no
    'recurrence after a negative result' drawn from the order the record lists them."""
    day_results = [mrd(200, 0.0, "marrow"), mrd(200, 5e-4, "marrow") | {"method": "pcr"}]
    if order:
        day_results.reverse()
    status = assess(in_first_remission(*day_results, mrd(260, 6e-4, "marrow")))
    assert molecular(status) == []
