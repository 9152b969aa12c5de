"""MRD status and series (ELN/NCCN via decisions.md: negative < 1e-4 with an assay reaching 1e-4)."""

from __future__ import annotations

import datetime as dt

import pytest

from allcare.engine.case import case_from_dict
from allcare.engine.course.build import build_course
from allcare.engine.response import assess_response, mrd_status
from allcare.engine.rules import DEFAULT_RULES, rules_from_dict
from allcare.engine.view import CaseView

START = dt.date(2024, 1, 1)


def day(n: int) -> str:
    return (START + dt.timedelta(days=n)).isoformat()


def mrd_finding(**fields):
    case = case_from_dict({"patient": {"id": "m"}, "findings": [{"type": "mrd", "date": day(0), **fields}]})
    return case.findings[0]


def assess(findings, as_of: int | None = None):
    case = case_from_dict({"patient": {"id": "m", "age_years": 7}, "diagnosis_date": day(0), "findings": findings})
    view = CaseView(case, None if as_of is None else START + dt.timedelta(days=as_of), DEFAULT_RULES)
    return assess_response(view, build_course(view))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"value": 1e-4, "sensitivity": 1e-5}, "positive"),  # exactly the line is positive
        ({"value": 1e-4}, "positive"),  # positive needs no sensitivity
        ({"value": 0.2, "sensitivity": 1e-2}, "positive"),
        ({"value": 0.99e-4, "sensitivity": 1e-4}, "negative"),  # assay reaches 1e-4
        ({"value": 0.0, "sensitivity": 1e-6}, "negative"),
        ({"value": 0.99e-4, "sensitivity": 2e-4}, "not_evaluable"),  # assay does not reach 1e-4
        ({"value": 0.0, "sensitivity": 1e-3}, "not_evaluable"),
        ({"value": 0.0}, "not_evaluable"),  # sensitivity unknown
        ({"method": "flow", "sensitivity": 1e-4}, "not_evaluable"),  # no value
    ],
)
def test_mrd_status_threshold_and_sensitivity(fields, expected):
    assert mrd_status(mrd_finding(**fields), DEFAULT_RULES) == expected


@pytest.mark.parametrize(
    ("percent", "sensitivity", "expected"),
    [
        (0.01, 1e-4, "positive"),  # 0.01% = 1e-4
        (0.0099, 1e-4, "negative"),
        (0.0099, 1e-3, "not_evaluable"),
        (1.5, None, "positive"),
    ],
)
def test_mrd_status_percent_input(percent, sensitivity, expected):
    fields = {"percent": percent} | ({"sensitivity": sensitivity} if sensitivity else {})
    assert mrd_status(mrd_finding(**fields), DEFAULT_RULES) == expected


def test_mrd_line_is_a_rule_set_parameter():
    centre = rules_from_dict({"mrd_negative_below": 1e-3, "mrd_required_sensitivity": 1e-3})
    finding = mrd_finding(value=5e-4, sensitivity=1e-3)
    assert mrd_status(finding, DEFAULT_RULES) == "positive"
    assert mrd_status(finding, centre) == "negative"


def test_series_in_date_order_and_latest_respects_as_of():
    findings = [
        {"type": "mrd", "date": day(60), "value": 2e-3, "method": "pcr", "sensitivity": 1e-5},
        {"type": "mrd", "date": day(28), "value": 5e-5, "method": "flow", "sensitivity": 1e-4, "sample": "marrow"},
        {"type": "mrd", "date": day(8), "percent": 3.0, "sample": "blood", "timepoint": "day8"},
    ]
    _, summary = assess(findings)
    assert [r.date for r in summary.series] == [START + dt.timedelta(days=n) for n in (8, 28, 60)]
    assert [r.status for r in summary.series] == ["positive", "negative", "positive"]
    assert summary.series[0].value == pytest.approx(0.03)
    assert summary.latest.date == START + dt.timedelta(days=60)

    _, earlier = assess(findings, as_of=40)
    assert earlier.latest.date == START + dt.timedelta(days=28)
    assert earlier.latest.status == "negative"
    assert earlier.latest.method == "flow" and earlier.latest.sample == "marrow"


def test_no_mrd_gives_empty_summary():
    _, summary = assess([{"type": "marrow", "date": day(0), "blasts_pct": 80}])
    assert summary.latest is None and summary.series == []


def test_not_evaluable_mrd_conclusion_names_what_is_missing():
    status, _ = assess([{"type": "mrd", "date": day(28), "value": 0.0, "sensitivity": 1e-3}])
    card = next(c for c in status.conclusions if c.rule == "MRD.STATUS")
    assert card.value == "not_evaluable"
    assert not card.determined
    assert card.missing and "1e-04" in card.missing[0]
    assert card.evidence[0].index == 0


@pytest.mark.parametrize(
    ("mrd_day", "mrd_label", "joins_marrow"),
    [
        (28, None, True),  # same date
        (31, None, True),  # within the 3-day pairing window
        (32, None, False),  # outside it
        (30, "end_of_induction", True),  # same label, different spelling of EOI
        (30, "day15", False),  # a different timepoint is a different assessment
    ],
)
def test_mrd_joins_the_marrow_it_was_taken_with(mrd_day, mrd_label, joins_marrow):
    findings = [
        {"type": "marrow", "date": day(0), "blasts_pct": 85},
        {"type": "treatment", "phase": "induction", "start": day(0)},
        {"type": "marrow", "date": day(28), "blasts_pct": 1, "timepoint": "EOI"},
        {"type": "cbc", "date": day(28), "anc": 2.0, "platelets": 150, "blasts_pct": 0},
        {"type": "mrd", "date": day(mrd_day), "value": 2e-5, "sensitivity": 1e-5}
        | ({"timepoint": mrd_label} if mrd_label else {}),
    ]
    status, _ = assess(findings)
    marrow_point = next(p for p in status.timeline if p.date == START + dt.timedelta(days=28))
    if joins_marrow:
        assert marrow_point.mrd is not None and marrow_point.mrd.status == "negative"
        assert len(status.timeline) == 2
    else:
        assert marrow_point.mrd is None
        mrd_point = next(p for p in status.timeline if p.date == START + dt.timedelta(days=mrd_day))
        assert mrd_point.mrd.value == pytest.approx(2e-5)


@pytest.mark.parametrize("order", [0, 1])
def test_the_latest_mrd_of_a_day_with_two_results_does_not_depend_on_their_order(order):
    """Flow negative and PCR positive of one day (docs/decisions.md#same-day): the latest MRD shown (CLI, web,
    patient report, CDS card) is the positive one whatever the order of the record."""
    day_results = [
        {"type": "mrd", "date": day(60), "value": 0.0, "method": "flow", "sensitivity": 1e-4, "sample": "marrow"},
        {"type": "mrd", "date": day(60), "value": 3e-4, "method": "pcr", "sensitivity": 1e-5, "sample": "marrow"},
    ]
    if order:
        day_results.reverse()
    _, summary = assess(day_results)
    assert summary.latest.status == "positive" and summary.latest.method == "pcr"
