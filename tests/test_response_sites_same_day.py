"""Extramedullary findings of one day carry no order (docs/decisions.md#same-day).

Two spinal taps (or two findings of one site by the same kind of test) of one day that disagree leave
the site open: neither is "the latest". A site's finding that cannot be decided (a bloody tap with
blasts and no blood count for Steinherz/Bleyer) at the end of induction leaves remission open rather
than being passed over. Day numbers are days after induction start (test_response's helpers).
"""

from __future__ import annotations

import pytest

from test_response import assess, count, day, in_first_remission, induction, marrow, on, point

CNS3 = {"type": "csf", "wbc": 40, "rbc": 0, "blasts": True}
CNS1 = {"type": "csf", "wbc": 1, "rbc": 0, "blasts": False}


def on_day(n: int, finding: dict) -> dict:
    return finding | {"date": day(n)}


@pytest.mark.parametrize("first", ["cns3", "cns1"])
def test_two_taps_of_one_day_that_disagree_after_remission_are_a_possible_cns_relapse_in_either_order(first):
    taps = [on_day(300, CNS3), on_day(300, CNS1)]
    if first == "cns1":
        taps.reverse()
    p = point(assess(in_first_remission(*taps)), 300)
    assert p.status == "suspected_relapse"
    assert not p.conclusion.determined
    assert any("valid" in m for m in p.conclusion.missing)


@pytest.mark.parametrize("first", ["present", "absent"])
def test_two_testis_findings_of_one_day_that_disagree_leave_the_relapse_open(first):
    found = [{"type": "extramedullary", "date": None, "site": "testis", "present": True},
             {"type": "extramedullary", "date": None, "site": "testis", "present": False}]
    found = [on_day(400, f) for f in found]
    if first == "absent":
        found.reverse()
    p = point(assess(in_first_remission(*found)), 400)
    assert p.status == "suspected_relapse"
    assert "testis" in p.conclusion.explanation and "CNS" not in p.conclusion.explanation


@pytest.mark.parametrize("first", ["cns3", "cns1"])
def test_two_taps_of_one_day_that_disagree_at_the_end_of_induction_leave_remission_open(first):
    taps = [on_day(28, CNS3), on_day(28, CNS1)]
    if first == "cns1":
        taps.reverse()
    findings = induction(on_day(2, CNS3), marrow(28, 1), count(28), *taps)
    p = point(assess(findings, age=30), 28)
    assert p.status == "indeterminate"
    assert not p.conclusion.determined


def test_a_bloody_tap_with_blasts_at_the_end_of_induction_without_a_blood_count_leaves_remission_open():
    """The blood count of that day has no WBC/RBC: Steinherz/Bleyer cannot tell CNS3 from a contaminated tap."""
    findings = induction(on_day(2, CNS3), marrow(28, 1), count(28),
                         on_day(28, {"type": "csf", "wbc": 30, "rbc": 5000, "blasts": True}))
    p = point(assess(findings, age=30), 28)
    assert p.status == "indeterminate"
    assert any("RBC" in m or "WBC" in m for m in p.conclusion.missing)


def test_a_clinical_finding_of_cns_disease_is_not_undone_by_a_clear_tap_of_the_same_day():
    """Cranial nerve palsy is CNS disease (CNS3c) whatever the CSF shows: different tests do not conflict."""
    palsy = {"type": "extramedullary", "site": "cns", "present": True, "detail": "cranial_nerve_palsy"}
    for found in ([on_day(300, palsy), on_day(300, CNS1)], [on_day(300, CNS1), on_day(300, palsy)]):
        assert point(assess(in_first_remission(*found)), 300).status == "relapse"


@pytest.mark.parametrize("reverse", [False, True])
def test_disagreeing_taps_beside_a_clear_examination_of_that_day_are_read_the_same_in_any_order(reverse):
    """Found by an order-reversal fuzz: the merged finding took whichever finding of the day was listed first."""
    found = [on_day(20, {"type": "extramedullary", "site": "cns", "present": False}), on_day(20, CNS1), on_day(20, CNS3)]
    if reverse:
        found.reverse()
    status = assess(induction(*found, marrow(28, 1), count(28)), age=30)
    assert [p.date for p in status.timeline] == [on(n) for n in (-1, 28)]
    assert status.current == "complete_remission"
