"""CNS and testicular status at diagnosis: COG CNS1-CNS3c with Steinherz/Bleyer."""

from __future__ import annotations

import datetime as dt

import pytest

from allcare.engine.case import case_from_dict
from allcare.engine.cns import assess_cns
from allcare.engine.course.treatment import TreatmentHistory
from allcare.engine.rules import DEFAULT_RULES
from allcare.engine.view import CaseView

DX = dt.date(2024, 3, 1)
LP = dt.date(2024, 3, 2)


def day(n: int) -> str:
    return str(DX + dt.timedelta(days=n))


def cns(*findings, sex="male", as_of=None):
    """Assess a case whose diagnosis is a blood count with blasts on DX."""
    diagnostic_count = {"type": "cbc", "date": str(DX), "wbc": 30, "blasts_pct": 60}
    case = case_from_dict(
        {
            "schema": "allcare.case/1",
            "patient": {"id": "p1", "age_years": 6, "sex": sex},
            "findings": [diagnostic_count, *findings],
        }
    )
    view = CaseView(case, as_of, DEFAULT_RULES)
    return assess_cns(view, TreatmentHistory(view))


def csf(date=LP, **values):
    return {"type": "csf", "date": str(date), **values}


def blood(date=LP, wbc=10.0, rbc=1.0):
    """Blood WBC 10 x10^9/L (10,000/uL) and RBC 1.0 x10^12/L (10^6/uL): WBC/RBC ratio 0.01."""
    return {"type": "cbc", "date": str(date), "wbc": wbc, "rbc": rbc}


def status_conclusion(result):
    return next(c for c in result.conclusions if c.topic == "cns.status")


# COG table branches and their boundaries --------------------------------------------------------------


@pytest.mark.parametrize(
    "values, status, rule",
    [
        ({"wbc": 50, "rbc": 500, "blasts": False}, "CNS1", "CNS.STATUS.NO_BLASTS"),
        ({"blasts": False}, "CNS1", "CNS.STATUS.NO_BLASTS"),
        ({"wbc": 4, "rbc": 9, "blasts": True}, "CNS2a", "CNS.STATUS.CSF_WBC"),
        ({"wbc": 4.9, "rbc": 0, "blasts": True}, "CNS2a", "CNS.STATUS.CSF_WBC"),
        ({"wbc": 4, "rbc": 10, "blasts": True}, "CNS2b", "CNS.STATUS.TRAUMATIC_TAP"),
        ({"wbc": 5, "rbc": 9, "blasts": True}, "CNS3a", "CNS.STATUS.CSF_WBC"),
        ({"wbc": 40, "rbc": 0, "blasts": True}, "CNS3a", "CNS.STATUS.CSF_WBC"),
    ],
)
def test_cog_table_without_steinherz_bleyer(values, status, rule):
    result = cns(csf(**values))
    conclusion = status_conclusion(result)
    assert (result.status, result.date, conclusion.rule, conclusion.determined) == (status, LP, rule, True)


@pytest.mark.parametrize(
    "csf_wbc, csf_rbc, status",
    [
        (20, 1000, "CNS2c"),  # CSF ratio 0.02 = exactly 2 x blood ratio 0.01: not above
        (21, 1000, "CNS3b"),  # 0.021 > 0.02
        (19, 1000, "CNS2c"),
        (5, 10, "CNS3b"),  # the smallest traumatic CNS3 tap: 0.5 > 0.02
    ],
)
def test_steinherz_bleyer_on_traumatic_taps(csf_wbc, csf_rbc, status):
    result = cns(csf(wbc=csf_wbc, rbc=csf_rbc, blasts=True), blood())
    conclusion = status_conclusion(result)
    assert (result.status, conclusion.rule, result.traumatic_tap) == (status, "CNS.STATUS.STEINHERZ_BLEYER", True)
    assert {e.type for e in conclusion.evidence} == {"csf", "cbc"}


def test_steinherz_bleyer_exactly_2x_with_inexact_floats_is_cns2c():
    """Blood 50 x10^9/L / 3.0 x10^12/L = 0.01667; CSF 100/3000 = 0.0333 = exactly 2x."""
    result = cns(csf(wbc=100, rbc=3000, blasts=True), blood(wbc=50, rbc=3.0))
    assert result.status == "CNS2c"


def test_steinherz_bleyer_factor_is_a_rule_parameter():
    case = case_from_dict(
        {
            "schema": "allcare.case/1",
            "patient": {"id": "p1", "age_years": 6, "sex": "female"},
            "findings": [csf(wbc=21, rbc=1000, blasts=True), blood()],
        }
    )
    rules = DEFAULT_RULES.model_copy(update={"steinherz_bleyer_factor": 3.0})
    view = CaseView(case, None, rules)
    assert assess_cns(view, TreatmentHistory(view)).status == "CNS2c"


@pytest.mark.parametrize(
    "values, status",
    [
        ({"wbc": 4, "rbc": 5, "blasts": True, "traumatic": True}, "CNS2b"),
        ({"wbc": 4, "rbc": 50, "blasts": True, "traumatic": False}, "CNS2a"),
        ({"wbc": 8, "rbc": 50, "blasts": True, "traumatic": False}, "CNS3a"),
        ({"wbc": 8, "rbc": 5, "blasts": True, "traumatic": True}, "CNS3b"),  # 1.6 > 0.02
    ],
)
def test_recorded_traumatic_flag_overrides_the_rbc_line(values, status):
    result = cns(csf(**values), blood())
    assert (result.status, result.traumatic_tap) == (status, values["traumatic"])


# Undecidable CSF: say what is still possible and what would decide it -------------------------------------


def test_no_blood_count_within_the_window_leaves_cns2c_or_cns3b():
    result = cns(csf(wbc=8, rbc=100, blasts=True), blood(date=LP + dt.timedelta(days=4)))
    conclusion = status_conclusion(result)
    assert result.status is None and result.possible == ['CNS2c', 'CNS3b']
    assert not conclusion.determined and conclusion.rule == "CNS.STATUS.STEINHERZ_BLEYER"
    assert conclusion.missing == ["blood WBC and RBC within 3 days of the lumbar puncture"]


def test_blood_count_at_the_window_edge_is_used():
    result = cns(csf(wbc=8, rbc=100, blasts=True), blood(date=LP + dt.timedelta(days=3)))
    assert result.status == "CNS3b"


def test_blood_count_without_rbc_cannot_be_used():
    result = cns(csf(wbc=8, rbc=100, blasts=True), {"type": "cbc", "date": str(LP), "wbc": 10})
    assert result.status is None and result.possible == ['CNS2c', 'CNS3b']


def test_traumatic_flag_without_csf_rbc_needs_the_rbc_count():
    result = cns(csf(wbc=8, blasts=True, traumatic=True), blood())
    conclusion = status_conclusion(result)
    assert result.status is None and result.possible == ['CNS2c', 'CNS3b']
    assert conclusion.missing == ["CSF RBC count (for Steinherz/Bleyer)"]


def test_unknown_cytospin_is_undetermined():
    result = cns(csf(wbc=2, rbc=0))
    conclusion = status_conclusion(result)
    assert (result.status, result.possible) == (None, ["CNS1", "CNS2a"])
    assert (conclusion.determined, conclusion.rule) == (False, "CNS.STATUS.CYTOSPIN")
    assert conclusion.missing == ["CSF cytospin for blasts"]


def test_missing_csf_wbc_with_blasts_is_undetermined():
    result = cns(csf(rbc=0, blasts=True))
    conclusion = status_conclusion(result)
    assert (result.status, result.possible, conclusion.determined) == (None, ['CNS2a', 'CNS3a'], False)
    assert conclusion.missing == ["CSF WBC count"]


def test_missing_csf_rbc_with_blasts_and_low_wbc():
    result = cns(csf(wbc=3, blasts=True))
    assert result.status is None and result.possible == ['CNS2a', 'CNS2b']
    assert status_conclusion(result).missing == ["CSF RBC count (or whether the tap was traumatic)"]


# Clinical signs: CNS3c ------------------------------------------------------------------------------------


def test_cranial_nerve_palsy_makes_cns3c_even_with_a_cns1_csf():
    palsy = {"type": "extramedullary", "date": str(DX), "site": "cns", "present": True, "detail": "cranial_nerve_palsy"}
    result = cns(csf(wbc=1, rbc=0, blasts=False), palsy)
    conclusion = status_conclusion(result)
    assert (result.status, result.date, conclusion.rule) == ("CNS3c", DX, "CNS.STATUS.CLINICAL_SIGNS")
    assert "CNS1" in conclusion.explanation
    assert {e.type for e in conclusion.evidence} == {"extramedullary", "csf"}


def test_clinical_signs_without_any_csf_are_cns3c():
    result = cns({"type": "extramedullary", "date": str(DX), "site": "cns", "present": True})
    assert result.status == "CNS3c" and status_conclusion(result).determined


def test_recorded_absence_of_cns_signs_leaves_the_csf_status():
    result = cns(csf(wbc=3, rbc=0, blasts=True), {"type": "extramedullary", "date": str(DX), "site": "cns", "present": False})
    assert result.status == "CNS2a"


def test_cns_signs_present_and_absent_on_the_same_day_contradict():
    findings = [
        {"type": "extramedullary", "date": str(DX), "site": "cns", "present": True},
        {"type": "extramedullary", "date": str(DX), "site": "cns", "present": False},
    ]
    result = cns(csf(wbc=1, rbc=0, blasts=False), *findings)
    conclusion = status_conclusion(result)
    assert result.status is None and conclusion.conflicts


@pytest.mark.parametrize("order", ["clear first", "blasts first"])
def test_two_diagnostic_lumbar_punctures_of_one_day_that_disagree_leave_the_status_open(order):
    """One day's taps carry no order: a CNS3a tap is not a "later" LP because another was written first."""
    taps = [csf(wbc=0, rbc=0, blasts=False), csf(wbc=10, rbc=0, blasts=True)]
    result = cns(*(taps if order == "clear first" else taps[::-1]))
    conclusion = status_conclusion(result)
    assert result.status is None and not conclusion.determined
    assert result.possible == ["CNS1", "CNS3a"]
    assert conclusion.rule == "CNS.STATUS.CONFLICT" and len(conclusion.conflicts) == 2
    assert not [c for c in result.conclusions if c.topic == "cns.later_lp"]


def test_two_diagnostic_lumbar_punctures_of_one_day_that_agree_decide():
    result = cns(csf(wbc=0, rbc=0, blasts=False), csf(wbc=2, rbc=0, blasts=False))
    assert result.status == "CNS1"


# No CSF, later CSF, traumatic with blasts -----------------------------------------------------------------


def test_no_csf_means_no_status_and_says_what_is_missing():
    result = cns(sex="female")
    conclusion = status_conclusion(result)
    assert (result.status, result.date, result.traumatic_tap) == (None, None, None)
    assert conclusion.missing == ["diagnostic lumbar puncture (CSF cell count and cytospin)"]


def test_later_lumbar_punctures_are_reported_without_changing_the_diagnostic_status():
    result = cns(csf(wbc=1, rbc=0, blasts=False), csf(dt.date(2024, 9, 1), wbc=30, rbc=0, blasts=True))
    assert (result.status, result.date) == ("CNS1", LP)
    [later] = [c for c in result.conclusions if c.topic == "cns.later_lp"]
    assert (later.value, later.rule, later.evidence[0].date) == ("CNS3a", "CNS.STATUS.LATER_LP", dt.date(2024, 9, 1))


def test_first_csf_long_after_diagnosis_is_not_the_diagnostic_lp():
    late = DX + dt.timedelta(days=DEFAULT_RULES.cns_diagnostic_window_days + 1)
    result = cns(csf(late, wbc=1, rbc=0, blasts=False))
    assert result.status is None
    assert any(c.topic == "cns.later_lp" and c.value == "CNS1" for c in result.conclusions)


def test_diagnostic_window_counts_from_the_start_of_induction():
    induction = {"type": "treatment", "phase": "induction", "start": day(10)}
    result = cns(induction, csf(DX + dt.timedelta(days=20), wbc=1, rbc=0, blasts=False))
    assert result.status == "CNS1"


def test_later_undecided_lp_names_its_date_in_what_is_missing():
    result = cns(csf(wbc=1, rbc=0, blasts=False), csf(dt.date(2024, 9, 1), wbc=1, rbc=0))
    [later] = [c for c in result.conclusions if c.topic == "cns.later_lp"]
    assert not later.determined and later.missing == ["CSF cytospin for blasts (lumbar puncture of 2024-09-01)"]


@pytest.mark.parametrize(
    "values, adverse",
    [
        ({"wbc": 3, "rbc": 200, "blasts": True}, True),
        ({"wbc": 3, "rbc": 2, "blasts": True, "traumatic": True}, True),
        ({"wbc": 3, "rbc": 200, "blasts": False}, False),
        ({"wbc": 3, "rbc": 2, "blasts": True}, False),
    ],
)
def test_traumatic_diagnostic_lp_with_blasts_is_flagged_adverse(values, adverse):
    result = cns(csf(**values))
    flagged = [c for c in result.conclusions if c.rule == "CNS.TRAUMATIC_LP_WITH_BLASTS"]
    assert bool(flagged) is adverse


# Testicular -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("present", [True, False])
def test_testicular_finding_at_diagnosis(present):
    result = cns(csf(blasts=False), {"type": "extramedullary", "date": str(DX), "site": "testis", "present": present})
    assert result.testicular is present
    testicular = [c for c in result.conclusions if c.topic == "cns.testicular"]
    assert [c.value for c in testicular] == ([True] if present else [])


@pytest.mark.parametrize("sex, listed_missing", [("male", True), ("female", False), ("unknown", False)])
def test_unrecorded_testicular_status_is_missing_only_for_boys(sex, listed_missing):
    result = cns(csf(blasts=False), sex=sex)
    assert result.testicular is None
    missing = [m for c in result.conclusions for m in c.missing]
    assert ("testicular examination at diagnosis" in missing) is listed_missing


def test_testicular_disease_after_diagnosis_is_reported_for_the_response_assessment():
    later = {"type": "extramedullary", "date": "2025-01-10", "site": "testis", "present": True}
    result = cns(csf(blasts=False), {"type": "extramedullary", "date": str(DX), "site": "testis", "present": False}, later)
    assert result.testicular is False
    assert [c.rule for c in result.conclusions if c.topic == "cns.later_testis"] == ["CNS.LATER_TESTIS_INVOLVEMENT"]
