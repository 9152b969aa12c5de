"""Treatment phases: running block, expected durations, end-of-induction assessment (COG/BFM phases)."""

from __future__ import annotations

import datetime as dt

import pytest

from allcare.engine.case import case_from_dict
from allcare.engine.course.build import build_course
from allcare.engine.response import assess_response
from allcare.engine.rules import DEFAULT_RULES, rules_from_dict
from allcare.engine.view import CaseView

START = dt.date(2024, 1, 1)


def day(n: int) -> str:
    return (START + dt.timedelta(days=n)).isoformat()


def on(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


def block(phase: str, start: int, end: int | None = None, **extra) -> dict:
    return {"type": "treatment", "phase": phase, "start": day(start)} | ({"end": day(end)} if end is not None else {}) | extra


def assess(findings, as_of: int, rules=DEFAULT_RULES):
    data = {"patient": {"id": "ph", "age_years": 9}, "diagnosis_date": day(-1), "findings": findings}
    view = CaseView(case_from_dict(data), on(as_of), rules)
    status, _ = assess_response(view, build_course(view))
    return status


def span(status, phase: str):
    return next(s for s in status.phases if s.phase == phase)


def eoi_card(status):
    return next(c for c in status.conclusions if c.rule == "STATUS.EOI_ASSESSMENT")


def first_line(*later: dict) -> list[dict]:
    return [
        {"type": "marrow", "date": day(-1), "blasts_pct": 80},
        block("induction", 0, 34, agents=["vincristine", "dexamethasone", "pegaspargase"], protocol="AALL0932"),
        block("consolidation", 35),
        *later,
    ]


# Running phase ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "phase"),
    [(-1, None), (0, "induction"), (34, "induction"), (35, "consolidation"), (200, "consolidation")],
)
def test_phase_running_on_a_date(when, phase):
    status = assess(first_line(), as_of=when)
    assert status.current_phase == phase


def test_open_ended_block_runs_until_the_next_starts():
    findings = [block("induction", 0), block("consolidation", 30), block("interim_maintenance", 90)]
    status = assess(findings, as_of=60)
    assert status.current_phase == "consolidation"
    assert [s.running for s in status.phases] == [False, True]  # interim maintenance not started by as_of
    assert span(status, "induction").end is None
    later = assess(findings, as_of=95)
    assert later.current_phase == "interim_maintenance"
    assert [s.running for s in later.phases] == [False, False, True]


def test_spans_keep_agents_protocol_index_and_expected_days():
    status = assess(first_line(), as_of=40)
    induction = span(status, "induction")
    assert induction.agents == ["vincristine", "dexamethasone", "pegaspargase"]
    assert induction.protocol == "AALL0932"
    assert induction.index == 1
    assert induction.expected_days == DEFAULT_RULES.induction_days == (28, 42)
    assert induction.start == on(0) and induction.end == on(34) and not induction.running
    assert span(status, "consolidation").running


def test_targeted_therapy_runs_alongside_the_backbone():
    findings = [block("induction", 0), block("targeted", 10, agents=["dasatinib"]), block("consolidation", 40)]
    status = assess(findings, as_of=60)
    assert status.current_phase == "consolidation"
    assert span(status, "targeted").running and span(status, "consolidation").running
    assert not span(status, "induction").running


# End-of-induction assessment ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "value", "note"),
    [
        (30, None, "due by"),
        (49, None, "due by"),  # day 42 + 7 days grace: not yet flagged
        (50, False, "end-of-induction response assessment missing (expected by day 42)"),
    ],
)
def test_missing_end_of_induction_assessment_flagged_only_after_grace(as_of, value, note):
    status = assess([block("induction", 0)], as_of=as_of)
    assert eoi_card(status).value is value
    assert any(note in n for n in span(status, "induction").notes)
    if value is False:
        assert eoi_card(status).missing


@pytest.mark.parametrize(
    "assessment",
    [
        {"type": "marrow", "date": day(29), "blasts_pct": 1},
        {"type": "mrd", "date": day(28), "value": 0.0, "sensitivity": 1e-5},  # MRD counts as the assessment
        {"type": "marrow", "date": day(25), "blasts_pct": 1, "timepoint": "end_of_induction"},  # labelled, early
        {"type": "marrow", "date": day(49), "blasts_pct": 1},
    ],
)
def test_end_of_induction_assessment_found(assessment):
    status = assess([block("induction", 0), assessment], as_of=80)
    card = eoi_card(status)
    assert card.value is True
    assert any(e.type in ("marrow", "mrd") for e in card.evidence)
    assert not any("missing" in n for n in span(status, "induction").notes)


@pytest.mark.parametrize(
    "assessment",
    [
        {"type": "marrow", "date": day(14), "blasts_pct": 1, "timepoint": "day15"},  # interim only
        {"type": "marrow", "date": day(50), "blasts_pct": 1},  # past the window
    ],
)
def test_interim_or_too_late_marrow_is_not_the_end_of_induction_assessment(assessment):
    status = assess([block("induction", 0), assessment], as_of=80)
    assert eoi_card(status).value is False


def test_grace_days_are_a_rule_set_parameter():
    rules = rules_from_dict({"end_of_induction_grace_days": 0})
    assert eoi_card(assess([block("induction", 0)], as_of=43, rules=rules)).value is False
    assert eoi_card(assess([block("induction", 0)], as_of=43)).value is None


def test_no_induction_means_no_eoi_verdict():
    status = assess([{"type": "marrow", "date": day(-1), "blasts_pct": 80}], as_of=60)
    assert eoi_card(status).value is None
    assert status.phases == []
    assert status.current_phase is None


# Durations ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("length", "flagged"), [(42, False), (43, True)])
def test_induction_longer_than_expected(length, flagged):
    status = assess([block("induction", 0, length), {"type": "marrow", "date": day(29), "blasts_pct": 1}], as_of=100)
    notes = span(status, "induction").notes
    assert any(f"longer than expected ({length} days; expected up to 42)" == n for n in notes) == flagged


def test_running_block_is_measured_to_as_of():
    status = assess([block("induction", 0), {"type": "marrow", "date": day(29), "blasts_pct": 1}], as_of=60)
    assert "longer than expected (60 days; expected up to 42)" in span(status, "induction").notes


@pytest.mark.parametrize(("years", "flagged"), [(2.0, False), (3.1, True)])
def test_maintenance_lasts_about_two_years(years, flagged):
    length = int(years * 365)
    findings = [
        {"type": "marrow", "date": day(-1), "blasts_pct": 80},
        block("induction", 0, 34),
        {"type": "marrow", "date": day(29), "blasts_pct": 1},
        {"type": "cbc", "date": day(29), "anc": 1.5, "platelets": 140, "blasts_pct": 0},
        block("maintenance", 200, 200 + length),
    ]
    status = assess(findings, as_of=200 + length + 10)
    maintenance = span(status, "maintenance")
    low, high = maintenance.expected_days
    assert low <= 730 <= high
    assert any("longer than expected" in n for n in maintenance.notes) == flagged
    assert not any("without a documented remission" in n for n in maintenance.notes)


def test_maintenance_without_documented_remission_is_noted():
    findings = [
        {"type": "marrow", "date": day(-1), "blasts_pct": 80},
        block("induction", 0, 34),
        {"type": "marrow", "date": day(29), "blasts_pct": 1},  # no blood count: remission not documented
        block("maintenance", 200),
    ]
    status = assess(findings, as_of=260)
    notes = span(status, "maintenance").notes
    assert any(n == "maintenance started without a documented remission (status then: indeterminate)" for n in notes)
