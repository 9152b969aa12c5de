"""The demo cohort: synthetic, valid, realistic in its shares, alive as of today."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from sqlalchemy import select

from allcare.engine.case import case_from_dict
from allcare.store.demo import DEMO_LOGINS, demo_case, seed_demo
from allcare.store.models import Patient, PatientSummary, User

TODAY = dt.date(2026, 3, 1)


def cohort(size=600):
    rng = random.Random(3)
    return [demo_case(rng, number, TODAY) for number in range(1, size + 1)]


def test_every_demo_case_is_a_valid_case_that_ends_by_today():
    for data in cohort(150):
        case = case_from_dict(data)
        assert max(f.date for f in case.findings) <= TODAY
        assert all(f.end is None or f.end <= TODAY for f in case.findings if f.type == "treatment")
        assert TODAY - dt.timedelta(days=3 * 366) <= case.diagnosis_date <= TODAY


def test_the_demo_cohorts_shares_follow_the_published_figures():
    cases = cohort()
    sexes = Counter(data["patient"]["sex"] for data in cases)
    assert 0.52 <= sexes["male"] / len(cases) <= 0.62  # ACS 2025: 56.6% of new cases male
    t_lineage = sum(1 for data in cases if any(f.get("markers", {}).get("cCD3") == "positive" for f in data["findings"]))
    assert 0.08 <= t_lineage / len(cases) <= 0.20  # ~15% T in children, fewer in infants
    children = sum(1 for data in cases
                   if (dt.date.fromisoformat(data["diagnosis_date"]) - dt.date.fromisoformat(data["patient"]["birth_date"])).days
                   < 18 * 365.25)
    assert 0.70 <= children / len(cases) <= 0.85  # most ALL is paediatric
    relapsed = sum(1 for data in cases if any(f.get("timepoint") == "relapse" for f in data["findings"]))
    assert 0.05 <= relapsed / len(cases) <= 0.25


def test_seeding_adds_patients_demo_users_and_their_summaries(store):
    ids = seed_demo(store, patients=8, today=TODAY, hasher_args={"time_cost": 1, "memory_kib": 64, "parallelism": 1})
    assert len(ids) == 8
    with store.sessions() as session:
        assert len(session.scalars(select(Patient)).all()) == 8
        users = {user.username: user for user in session.scalars(select(User))}
        assert {login.username for login in DEMO_LOGINS} == set(users)
        assert users["patient"].patient_id in ids
        assert len([s for s in session.scalars(select(PatientSummary)) if s.error is None]) == 8
