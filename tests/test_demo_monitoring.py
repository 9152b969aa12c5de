"""The demo cohort's treatment monitoring: doses titrated to the counts, fevers, tumour lysis and the other
toxicities at plausible rates, and the same cohort from the same seed."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from allcare.engine import assess, case_from_dict
from allcare.store.demo import demo_case

TODAY = dt.date(2026, 3, 1)


def cohort(size: int = 120):
    rng = random.Random(11)
    return [demo_case(rng, number, TODAY) for number in range(1, size + 1)]


def test_the_same_seed_gives_the_same_cohort():
    assert cohort(20) == cohort(20)


def test_maintenance_doses_follow_the_counts():
    cases = [case_from_dict(data) for data in cohort()]
    results = [assess(case) for case in cases]
    in_maintenance = [r for r in results if r.maintenance and len(r.maintenance.counts) >= 6]
    assert len(in_maintenance) >= 40
    # doses change during maintenance (titrated), and a held dose follows a count at the hold line
    changed = [r for r in in_maintenance if len({p.dose for p in r.maintenance.doses if p.agent == "mercaptopurine"}) > 1]
    assert len(changed) >= len(in_maintenance) // 3
    for r in in_maintenance:
        for period in r.maintenance.doses:
            if period.agent == "mercaptopurine" and period.dose == 0:
                count = next(c for c in r.maintenance.counts.read(r.blood_counts).rows() if c.date == period.start)
                assert count.zone == "hold"
    ttr = sorted(r.maintenance.time_in_target_pct for r in in_maintenance if r.maintenance.time_in_target_pct is not None)
    assert 30 <= ttr[len(ttr) // 2] <= 90  # most children spend part of maintenance outside the band


def test_toxicities_occur_at_plausible_rates():
    results = [assess(case_from_dict(data)) for data in cohort()]
    statuses = Counter(e.status for r in results for e in r.toxicity.febrile_neutropenia)
    assert statuses["febrile_neutropenia"] >= 10
    lysis = [t for r in results for t in r.toxicity.tumour_lysis if t.laboratory]
    assert 1 <= len(lysis) <= len(results) // 5
    tested = [r.pharmacogenetics for r in results if r.pharmacogenetics]
    assert len(tested) >= len(results) // 2
    assert Counter(a.code for r in results for a in r.alerts)["asparaginase_inactivation"] <= len(results) // 8
