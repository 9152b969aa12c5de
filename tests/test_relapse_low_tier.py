"""Low-level marrow involvement after remission (docs/decisions.md#relapse-tiers: the project's clinical
decisions, with the Ponte di Legno table where they are silent; Buchmann et al., Blood 2022;139:1785).

Leukaemic cells at 1 to < 5% by an MRD test are relapse with two other tests >= 1%; with fewer, not a
relapse (the molecular-relapse alert speaks for them). 5 to < 25% is a suspected relapse that a test by
another method >= 1% or a second marrow >= 5% confirms. Leukaemic cells in the blood ask for the marrow.
"""

from __future__ import annotations

import pytest

from test_response import assess, count, day, in_first_remission, marrow, point


def mrd(n: int, percent: float, method: str = "flow") -> dict:
    return {"type": "mrd", "date": day(n), "percent": percent, "method": method, "sample": "marrow"}


@pytest.mark.parametrize(("tests", "expected"), [
    ([mrd(200, 0.5)], "complete_remission"),                                   # below 1%: molecular only
    ([mrd(200, 2)], "complete_remission"),                                     # 1 to < 5% alone: not a relapse
    ([mrd(200, 2), mrd(200, 3, "pcr")], "complete_remission"),                 # one other test
    ([mrd(200, 2), mrd(200, 3, "pcr"), mrd(200, 1.5, "ngs")], "relapse"),      # two other tests
])
def test_one_to_five_percent_after_remission(tests, expected):
    status = assess(in_first_remission(marrow(200, 1), count(200), *tests))
    assert point(status, 200).status == expected


@pytest.mark.parametrize(("percent", "expected"), [(0.5, "complete_remission"), (1.0, "suspected_relapse"),
                                                   (3.0, "suspected_relapse")])
def test_a_blood_mrd_of_1_percent_or_more_after_remission_asks_for_the_marrow(percent, expected):
    """Blood runs lower than marrow: >= 1% leukaemic cells in blood means at least as many in the marrow."""
    blood = {"type": "mrd", "date": day(200), "percent": percent, "method": "flow", "sample": "blood"}
    p = point(assess(in_first_remission(blood)), 200)
    assert p.status == expected
    if expected == "suspected_relapse":
        assert "bone marrow examination" in p.conclusion.missing


# The second marrow of a suspected relapse: >= 5% by any test confirms it (the project's clinical decisions,
# which on second-marrow confirmation take precedence over the Ponte di Legno table; docs/decisions.md#relapse-tiers)


@pytest.mark.parametrize("second", [
    [mrd(230, 12)],                      # followed by MRD, as marrows after remission usually are
    [mrd(230, 8)],
    [marrow(230, 12)],                   # morphology alone
])
def test_a_second_marrow_of_5_percent_or_more_confirms_a_suspected_relapse(second):
    status = assess(in_first_remission(marrow(200, 1), count(200), mrd(200, 8), count(230), *second))
    assert point(status, 200).status == "suspected_relapse"
    assert point(status, 230).status == "relapse"
