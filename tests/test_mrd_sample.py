"""An MRD whose sample is not stated, read at a marrow line (docs/decisions.md#remission-mrd-line).

Blood runs lower than marrow (about one log in B-ALL), so a result of unstated sample at or above a marrow
line shows marrow disease, but below the line it may be a blood result and cannot show a marrow below it:
no MRD-negative end of induction, no remission after salvage, no low-risk relapse, no 'isolated'
extramedullary relapse from it. Every case goes through ``assess``.
"""

from __future__ import annotations

import pytest

from allcare.engine import assess, case_from_dict
from test_course import B_MARKERS, case, first_line, month, relapse_marrow, relapse_of, run
from test_course import day as course_day
from test_response_mrd_remission import count, day, induction, marrow, on, point


def eoi_first_line(sample: str | None) -> list[dict]:
    findings = first_line()
    eoi = next(f for f in findings if f["type"] == "mrd")
    eoi.pop("sample")
    if sample:
        eoi["sample"] = sample
    eoi["sensitivity"] = 1e-5
    return findings


@pytest.mark.parametrize(("sample", "expected"), [("marrow", "negative"), (None, None), ("blood", None)])
def test_an_end_of_induction_mrd_below_the_line_is_negative_only_from_marrow(sample, expected):
    result = run(case(*eoi_first_line(sample)), as_of=course_day(60))
    persistence = result.risk.mrd_persistence
    assert persistence == expected
    if sample is None:
        c = next(c for c in result.risk.conclusions if c.rule == "RISK.MRD_PERSISTENCE")
        assert not c.determined
        assert any("sample" in m for m in c.missing)


@pytest.mark.parametrize(("sample", "group"), [("marrow", "low"), (None, None)])
def test_a_late_relapse_is_low_risk_only_on_a_marrow_mrd_below_0_1_percent(sample, group):
    onset = month(40)
    findings = [*first_line(end_of_therapy=month(30)), *relapse_marrow(onset, markers=B_MARKERS)]
    block1 = {"type": "mrd", "date": month(41, 5), "method": "flow", "percent": 0.05, "sensitivity": 1e-4}
    findings.append(block1 | ({"sample": sample} if sample else {}))
    assert relapse_of(run(case(*findings))).risk.cog == group


@pytest.mark.parametrize(("sample", "expected"), [("marrow", "complete_remission"), (None, "refractory")])
def test_remission_after_induction_failure_shown_by_mrd_alone_needs_a_marrow_sample(sample, expected):
    later = {"type": "mrd", "date": day(84), "value": 0.001, "method": "flow"} | ({"sample": sample} if sample else {})
    data = {"patient": {"id": "r", "age_years": 40}, "diagnosis_date": day(-1),
            "findings": induction(marrow(28, 30), count(28), later, count(84))}
    result = assess(case_from_dict(data))
    p = point(result.status, 84)
    assert p.status == expected
    if sample is None:
        assert any("sample" in m for m in p.conclusion.missing)
    assert on(84) == p.date


def test_an_extramedullary_relapse_is_isolated_only_on_a_marrow_known_below_5_percent():
    on_ = month(40)
    cns3 = {"type": "csf", "date": on_, "wbc": 40, "rbc": 0, "blasts": True}
    relapse = [cns3, {"type": "mrd", "date": on_, "percent": 0.5, "method": "pcr", "sensitivity": 1e-5},
               {"type": "treatment", "phase": "salvage", "start": month(40, 3)}]
    episode = relapse_of(run(case(*first_line(end_of_therapy=month(24)), *relapse)))
    assert episode.site is None  # isolated CNS or combined: the marrow is not known


@pytest.mark.parametrize("order", [0, 1])
def test_end_of_block_1_results_of_one_day_on_both_sides_of_0_1_percent_leave_the_cog_group_open(order):
    onset = month(40)
    findings = [*first_line(end_of_therapy=month(30)), *relapse_marrow(onset, markers=B_MARKERS)]
    day_results = [{"type": "mrd", "date": month(41, 5), "method": "flow", "percent": 0.05, "sensitivity": 1e-4,
                    "sample": "marrow"},
                   {"type": "mrd", "date": month(41, 5), "method": "pcr", "percent": 0.2, "sensitivity": 1e-5,
                    "sample": "marrow"}]
    if order:
        day_results.reverse()
    relapse = relapse_of(run(case(*findings, *day_results)))
    assert relapse.risk.cog is None
    c = next(c for c in relapse.conclusions if c.rule == "COURSE.RELAPSE.RISK.COG")
    assert not c.determined and c.conflicts


@pytest.mark.parametrize("order", [0, 1])
def test_an_end_of_induction_marrow_mrd_is_read_before_one_of_unstated_sample_of_the_same_day(order):
    findings = first_line()
    eoi = next(f for f in findings if f["type"] == "mrd")
    unstated = {k: v for k, v in eoi.items() if k != "sample"} | {"method": "pcr", "sensitivity": 1e-5}
    at = findings.index(eoi)
    findings[at:at + 1] = [eoi, unstated] if order else [unstated, eoi]
    assert run(case(*findings), as_of=course_day(60)).risk.mrd_persistence == "negative"
