"""Response and disease status over time (NCCN/ELN CR/CRi/refractory; Ponte di Legno relapse; decisions.md).

Day numbers below are days after induction start (induction starts on day 0 here).
"""

from __future__ import annotations

import datetime as dt

import pytest

from allcare.engine.case import case_from_dict
from allcare.engine.course.build import build_course
from allcare.engine.response import assess_response, marrow_grade
from allcare.engine.rules import DEFAULT_RULES
from allcare.engine.view import CaseView

START = dt.date(2024, 1, 1)


def day(n: int) -> str:
    return (START + dt.timedelta(days=n)).isoformat()


def on(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


def assess(findings, as_of: int | None = None, diagnosis_day: int | None = -1, age: float = 8):
    data = {"patient": {"id": "r", "age_years": age}, "findings": findings}
    if diagnosis_day is not None:
        data["diagnosis_date"] = day(diagnosis_day)
    view = CaseView(case_from_dict(data), None if as_of is None else on(as_of), DEFAULT_RULES)
    status, _ = assess_response(view, build_course(view))
    return status


def point(status, n: int):
    return next(p for p in status.timeline if p.date == on(n))


def marrow(n: int, blasts: float, **extra) -> dict:
    return {"type": "marrow", "date": day(n), "blasts_pct": blasts, **extra}


def count(n: int, anc: float = 2.0, platelets: float = 150, blasts: float | None = 0) -> dict:
    cbc = {"type": "cbc", "date": day(n), "anc": anc, "platelets": platelets}
    return cbc | ({"blasts_pct": blasts} if blasts is not None else {})


def induction(*later: dict) -> list[dict]:
    """Diagnostic marrow, induction from day 0."""
    return [marrow(-1, 88, timepoint="diagnosis"), {"type": "treatment", "phase": "induction", "start": day(0)}, *later]


def in_first_remission(*later: dict) -> list[dict]:
    """Induction with a CR at day 28, consolidation from day 35, then ``later``."""
    return induction(
        marrow(28, 1), count(28),
        {"type": "treatment", "phase": "consolidation", "start": day(35)},
        *later,
    )


# Marrow grade ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("blasts", "grade"), [(0.0, "M1"), (4.9, "M1"), (5.0, "M2"), (24.9, "M2"), (25.0, "M3"), (100.0, "M3")]
)
def test_marrow_grade_boundaries(blasts, grade):
    assert marrow_grade(blasts, DEFAULT_RULES) == grade


def test_timeline_point_carries_grade_and_blasts():
    status = assess(induction(marrow(14, 24.9)))
    assert point(status, -1).marrow_grade == "M3"
    assert point(status, 14).marrow_grade == "M2"
    assert point(status, 14).marrow_blasts_pct == 24.9


# Newly diagnosed / on treatment -------------------------------------------------------------


def test_diagnosis_point_is_newly_diagnosed_even_when_prephase_starts_that_day():
    findings = [marrow(0, 90), {"type": "treatment", "phase": "prephase", "start": day(0)}]
    status = assess(findings, as_of=0, diagnosis_day=0)
    assert [p.status for p in status.timeline] == ["newly_diagnosed"]
    assert status.current == "newly_diagnosed"
    later = assess(findings, as_of=3, diagnosis_day=0)
    assert later.current == "on_treatment"
    assert later.since == on(0)
    assert later.current_phase == "prephase"


def test_before_treatment_is_newly_diagnosed():
    status = assess([marrow(-1, 70), count(-1, anc=0.3, platelets=20, blasts=40)])
    assert status.current == "newly_diagnosed"
    assert status.since == on(-1)
    assert status.timeline[0].conclusion.rule == "RESPONSE.NEWLY_DIAGNOSED"


def test_no_findings_gives_no_current_status():
    status = assess([], as_of=0, diagnosis_day=None)
    assert status.current is None and status.timeline == []
    card = next(c for c in status.conclusions if c.rule == "STATUS.CURRENT")
    assert not card.determined and card.missing


# CR and CRi at end of induction --------------------------------------------------------------


@pytest.mark.parametrize(
    ("anc", "platelets", "expected", "rule"),
    [
        (1.0, 100, "complete_remission", "RESPONSE.CR"),
        (0.99, 100, "cr_incomplete_recovery", "RESPONSE.CRI"),
        (1.0, 99, "cr_incomplete_recovery", "RESPONSE.CRI"),
        (0.4, 30, "cr_incomplete_recovery", "RESPONSE.CRI"),
    ],
)
def test_cr_versus_cri_on_counts(anc, platelets, expected, rule):
    status = assess(induction(marrow(28, 4.9), count(28, anc=anc, platelets=platelets)))
    p = point(status, 28)
    assert p.status == expected
    assert p.conclusion.rule == rule
    assert p.conclusion.source.startswith("NCCN/ELN")
    assert {e.type for e in p.conclusion.evidence} == {"marrow", "cbc"}
    assert status.current == expected and status.since == on(28)


@pytest.mark.parametrize("order", ["recovered first", "low first"])
def test_same_day_counts_on_both_sides_of_a_cr_line_leave_cr_and_cri_open(order):
    """Counts of one day carry no order: the count written first is not the one that decides CR vs CRi."""
    counts = [count(28, anc=1.5), count(28, anc=0.8)]
    status = assess(induction(marrow(28, 2), *(counts if order == "recovered first" else counts[::-1])))
    p = point(status, 28)
    assert p.status == "indeterminate" and not p.conclusion.determined
    assert any("ANC 1.5" in m for m in p.conclusion.missing) and any("ANC 0.8" in m for m in p.conclusion.missing)


def test_a_same_day_count_with_circulating_blasts_is_seen_whatever_its_order():
    p = point(assess(induction(marrow(28, 2), count(28, blasts=0), count(28, blasts=3))), 28)
    assert p.status == "indeterminate" and any("3% circulating blasts" in c for c in p.conclusion.conflicts)


def test_same_day_counts_that_agree_on_the_cr_lines_decide():
    assert point(assess(induction(marrow(28, 2), count(28, anc=1.5), count(28, anc=1.2))), 28).status == "complete_remission"


@pytest.mark.parametrize(("gap", "expected"), [(7, "complete_remission"), (-7, "complete_remission"), (8, "indeterminate")])
def test_blood_count_must_be_within_seven_days_of_the_marrow(gap, expected):
    status = assess(induction(marrow(28, 2), count(28 + gap)))
    p = point(status, 28)
    assert p.status == expected
    if expected == "indeterminate":
        assert not p.conclusion.determined
        assert any("ANC" in m for m in p.conclusion.missing)


def test_missing_peripheral_blast_count_does_not_block_cr_but_is_named():
    status = assess(induction(marrow(28, 2), count(28, blasts=None)))
    p = point(status, 28)
    assert p.status == "complete_remission"
    assert any("peripheral blast" in m for m in p.conclusion.missing)


def test_marrow_below_5_with_circulating_blasts_is_indeterminate_listing_both_sides():
    status = assess(induction(marrow(28, 2), count(28, blasts=30)))
    p = point(status, 28)
    assert p.status == "indeterminate"
    assert not p.conclusion.determined
    assert any("marrow blasts 2%" in c for c in p.conclusion.conflicts)
    assert any("30% circulating blasts" in c for c in p.conclusion.conflicts)


def test_same_date_marrows_that_disagree_are_indeterminate():
    status = assess(induction(marrow(28, 3, method="flow"), marrow(28, 30, method="morphology"), count(28)))
    p = point(status, 28)
    assert p.status == "indeterminate"
    assert len(p.conclusion.conflicts) == 2


# Refractory ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "blasts", "label", "expected"),
    [
        (28, 5.0, None, "refractory"),  # first response marrow >= 28 days after start
        (28, 4.9, None, "complete_remission"),
        (14, 5.0, None, "on_treatment"),  # interim (day 15) marrow: slow response, not refractory
        (14, 30.0, "day15", "on_treatment"),
        (25, 5.0, "end_of_induction", "refractory"),  # labelled EOI before day 28
        (25, 5.0, "Day 33", "refractory"),
        (27, 5.0, None, "on_treatment"),
    ],
)
def test_refractory_only_at_end_of_induction(n, blasts, label, expected):
    """NCCN/ELN (an adult): any marrow >= 5% at end of induction is induction failure."""
    extra = {"timepoint": label} if label else {}
    status = assess(induction(marrow(n, blasts, **extra), count(n)), age=30)
    p = point(status, n)
    assert p.status == expected
    if expected == "refractory":
        assert p.conclusion.rule == "RESPONSE.REFRACTORY"
    if expected == "on_treatment":
        assert "slow early response" in p.conclusion.explanation


def test_interim_marrow_then_end_of_induction_marrow():
    status = assess(induction(marrow(14, 12), marrow(28, 8), marrow(56, 1), count(56)), age=30)
    assert [p.status for p in status.timeline] == ["newly_diagnosed", "on_treatment", "refractory", "complete_remission"]
    assert status.current == "complete_remission"
    assert "after induction failure" in point(status, 56).conclusion.explanation


@pytest.mark.parametrize("csf_day", [21, 28, 35])
def test_persistent_extramedullary_disease_at_end_of_induction_is_refractory(csf_day):
    findings = induction(
        {"type": "csf", "date": day(csf_day), "wbc": 30, "rbc": 0, "blasts": True},
        marrow(28, 1), count(28),
    )
    p = point(assess(findings), 28)
    assert p.status == "refractory"
    assert "persistent extramedullary disease" in p.conclusion.explanation
    assert any(e.type == "csf" for e in p.conclusion.evidence)


def test_extramedullary_disease_not_reassessed_near_end_of_induction_leaves_remission_open():
    findings = induction(
        {"type": "extramedullary", "date": day(14), "site": "mediastinum", "present": True, "detail": "mass"},
        marrow(28, 1), count(28),
    )
    p = point(assess(findings), 28)
    assert p.status == "indeterminate" and not p.conclusion.determined
    assert any("mediastinum" in m for m in p.conclusion.missing)


def test_cleared_csf_allows_remission():
    findings = induction(
        {"type": "csf", "date": day(7), "wbc": 30, "rbc": 0, "blasts": True},
        {"type": "csf", "date": day(21), "wbc": 1, "rbc": 0, "blasts": False},
        marrow(28, 1), count(28),
    )
    assert point(assess(findings), 28).status == "complete_remission"


def test_disease_at_diagnosis_never_followed_up_is_named_missing():
    findings = induction(
        {"type": "extramedullary", "date": day(-1), "site": "mediastinum", "present": True, "detail": "mass"},
        marrow(28, 1), count(28),
    )
    p = point(assess(findings), 28)
    assert p.status == "complete_remission"
    assert any("mediastinum" in m for m in p.conclusion.missing)


# Relapse ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("later", "expected", "rule"),
    [
        ([marrow(200, 25)], "relapse", "RESPONSE.RELAPSE.MARROW"),
        ([marrow(200, 24.9)], "suspected_relapse", "RESPONSE.SUSPECTED_RELAPSE"),
        ([marrow(200, 10)], "suspected_relapse", "RESPONSE.SUSPECTED_RELAPSE"),
        ([marrow(200, 10), {"type": "mrd", "date": day(200), "value": 0.01}], "relapse", "RESPONSE.RELAPSE.MARROW"),
        ([marrow(200, 10), {"type": "mrd", "date": day(200), "value": 0.0099}], "suspected_relapse", "RESPONSE.SUSPECTED_RELAPSE"),
        ([marrow(200, 10), {"type": "mrd", "date": day(201), "percent": 2.0}], "relapse", "RESPONSE.RELAPSE.MARROW"),
    ],
)
def test_marrow_relapse_after_remission(later, expected, rule):
    status = assess(in_first_remission(*later))
    p = point(status, 200)
    assert p.status == expected
    assert p.conclusion.rule == rule
    assert p.conclusion.source.startswith("Ponte di Legno")
    if expected == "suspected_relapse":
        assert p.conclusion.missing  # what would confirm it


@pytest.mark.parametrize(("second", "expected"), [(6, "relapse"), (5, "relapse"), (3, "complete_remission")])
def test_second_marrow_confirms_or_clears_a_suspected_relapse(second, expected):
    status = assess(in_first_remission(marrow(200, 10), marrow(214, second), count(214)))
    assert point(status, 200).status == "suspected_relapse"
    assert point(status, 214).status == expected
    assert status.current == expected


def test_isolated_cns_relapse():
    status = assess(in_first_remission({"type": "csf", "date": day(300), "wbc": 12, "rbc": 2, "blasts": True}))
    p = point(status, 300)
    assert p.status == "relapse"
    assert p.conclusion.rule == "RESPONSE.RELAPSE.EXTRAMEDULLARY"
    assert "isolated from combined" in p.conclusion.explanation and "CNS3" in p.conclusion.explanation  # no marrow
    assert status.current == "relapse" and status.since == on(300)


def test_traumatic_tap_after_remission_judged_by_steinherz_bleyer():
    # CSF WBC/RBC = 50/1000 = 0.05 > 2 x blood (5/4 x 1e-3) -> CNS3b
    findings = in_first_remission(
        count(300, anc=2, platelets=200, blasts=None) | {"wbc": 5.0, "rbc": 4.0},
        {"type": "csf", "date": day(300), "wbc": 50, "rbc": 1000, "blasts": True},
    )
    assert point(assess(findings), 300).status == "relapse"


@pytest.mark.parametrize(
    ("csf", "point_made", "expected"),
    [
        ({"wbc": 3, "rbc": 0, "blasts": True}, False, None),  # CNS2: not CNS disease
        ({"wbc": 0, "rbc": 0, "blasts": False}, False, None),  # CNS1
        ({"wbc": 20, "blasts": True}, True, "suspected_relapse"),  # traumatic tap unknown
    ],
)
def test_csf_after_remission_without_cns3(csf, point_made, expected):
    status = assess(in_first_remission({"type": "csf", "date": day(300), **csf}))
    dates = [p.date for p in status.timeline]
    assert (on(300) in dates) == point_made
    if point_made:
        p = point(status, 300)
        assert p.status == expected and not p.conclusion.determined
        assert any("RBC" in m for m in p.conclusion.missing)


def test_extramedullary_relapse_is_called_isolated_only_beside_a_marrow_below_5_percent():
    csf = {"type": "csf", "date": day(300), "wbc": 12, "rbc": 2, "blasts": True}
    with_marrow = point(assess(in_first_remission(csf, marrow(300, 2))), 300).conclusion.explanation
    assert with_marrow.startswith("isolated extramedullary relapse")
    without = point(assess(in_first_remission(csf)), 300).conclusion.explanation
    assert without.startswith("extramedullary relapse") and "isolated from combined" in without


def test_testicular_relapse():
    status = assess(in_first_remission({"type": "extramedullary", "date": day(400), "site": "testis", "present": True}))
    p = point(status, 400)
    assert p.status == "relapse" and p.conclusion.rule == "RESPONSE.RELAPSE.EXTRAMEDULLARY"


def test_combined_relapse_names_both():
    status = assess(in_first_remission(
        marrow(400, 12), {"type": "extramedullary", "date": day(400), "site": "testis", "present": True},
    ))
    p = point(status, 400)
    assert p.status == "relapse" and "combined" in p.conclusion.explanation


def test_circulating_blasts_after_remission_raise_suspicion():
    status = assess(in_first_remission(count(300, blasts=12)))
    p = point(status, 300)
    assert p.status == "suspected_relapse"
    assert "bone marrow examination" in p.conclusion.missing


def test_mrd_positive_after_negative_keeps_cr_with_molecular_relapse_note():
    status = assess(in_first_remission(
        {"type": "mrd", "date": day(120), "value": 0.0, "sensitivity": 1e-5},
        {"type": "mrd", "date": day(200), "value": 3e-3, "sensitivity": 1e-5},
    ))
    p = point(status, 200)
    assert p.status == "complete_remission"
    assert p.mrd.status == "positive"
    assert "molecular relapse" in p.conclusion.explanation
    card = next(c for c in status.conclusions if c.rule == "RESPONSE.MOLECULAR_RELAPSE")
    assert card.value == on(200)


# After relapse ---------------------------------------------------------------------------------


def relapsed(*later: dict) -> list[dict]:
    """First remission, marrow relapse on day 300, re-induction from day 302."""
    return in_first_remission(marrow(300, 60), {"type": "treatment", "phase": "salvage", "start": day(302)}, *later)


def test_second_remission_after_relapse():
    status = assess(relapsed(marrow(316, 8), marrow(332, 1), count(332)))
    assert point(status, 300).status == "relapse"
    assert point(status, 316).status == "relapse"  # interim marrow during re-induction
    p = point(status, 332)
    assert p.status == "complete_remission"
    assert "second complete remission" in p.conclusion.explanation
    assert status.current == "complete_remission" and status.since == on(332)


def test_refractory_relapse():
    status = assess(relapsed(marrow(330, 30), count(330)))
    p = point(status, 330)
    assert p.status == "refractory" and "refractory relapse" in p.conclusion.explanation


def test_isolated_cns_relapse_is_not_cleared_by_a_normal_marrow():
    findings = in_first_remission(
        {"type": "csf", "date": day(300), "wbc": 40, "rbc": 0, "blasts": True},
        marrow(302, 1), count(302),
    )
    assert point(assess(findings), 302).status == "relapse"


# Current status and as_of ---------------------------------------------------------------------------


def test_current_status_at_an_earlier_date():
    findings = in_first_remission(marrow(300, 40))
    assert assess(findings).current == "relapse"
    earlier = assess(findings, as_of=100)
    assert earlier.current == "complete_remission"
    assert earlier.since == on(28)
    assert earlier.current_phase == "consolidation"
    assert all(p.date <= on(100) for p in earlier.timeline)
    assert assess(findings, as_of=10).current == "on_treatment"


def test_point_phase_is_the_block_running_that_day():
    status = assess(in_first_remission(marrow(200, 2), count(200)))
    assert point(status, -1).phase is None
    assert point(status, 28).phase == "induction"
    assert point(status, 200).phase == "consolidation"


def test_status_current_conclusion_has_evidence():
    status = assess(induction(marrow(28, 1), count(28)))
    card = next(c for c in status.conclusions if c.rule == "STATUS.CURRENT")
    assert card.value == "complete_remission"
    assert card.evidence and card.determined


def test_clinical_cns_disease_after_remission_is_a_cns_relapse():
    status = assess(in_first_remission(
        {"type": "extramedullary", "date": day(300), "site": "cns", "present": True, "detail": "cranial_nerve_palsy"},
    ))
    p = point(status, 300)
    assert p.status == "relapse" and "CNS disease present" in p.conclusion.explanation


@pytest.mark.parametrize(
    ("label", "called_eoi"),
    [(None, True), ("end_of_induction", True), ("end_of_consolidation", False), ("EOC", False)],
)
def test_an_mrd_named_as_another_assessment_is_not_called_end_of_induction(label, called_eoi):
    """With no end-of-induction marrow, an MRD-only sample at day 84 is read as the end-of-induction
    assessment only when nothing names it otherwise; either way the status carries on."""
    mrd = {"type": "mrd", "date": day(84), "value": 0.0003, "method": "pcr", "sensitivity": 1e-5, "sample": "marrow"}
    status = assess(induction(mrd | ({"timepoint": label} if label else {})))
    p = point(status, 84)
    assert p.status == "on_treatment"
    assert ("end-of-induction MRD" in p.conclusion.explanation) is called_eoi
    assert ("end-of-induction marrow morphology" in p.conclusion.missing) is called_eoi


def test_the_inferred_diagnosis_date_is_a_finding_that_shows_blasts_not_one_below_a_limit():
    """Without a stated diagnosis date, a blood count reporting blasts '< 1%' shows no blasts."""
    from allcare.engine import assess as assess_case
    data = {"patient": {"id": "r", "age_years": 8}, "findings": [
        {"type": "cbc", "date": day(-10), "wbc": 6.0, "blasts_pct": {"value": 1, "comparator": "<"}},
        {"type": "marrow", "date": day(-1), "blasts_pct": 85},
    ]}
    assert assess_case(case_from_dict(data)).diagnosis_date == on(-1)
