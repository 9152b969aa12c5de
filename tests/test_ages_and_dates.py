"""Ages by calendar birthdays and calendar-month arithmetic; the engine reads no clock.

NCI/Rome (PDQ): standard risk is "1 to younger than 10 years" - a child is 10 on the 10th birthday.
Every age cut-off applies from that day (decisions.md "Ages"): infant < 1 y, Interfant-99 < 6 months,
COG HR age split 13 y, paediatric < 18 y.
"""

from __future__ import annotations

import datetime as dt

import pytest

from allcare.engine import assess, case_from_dict
from allcare.engine.dates import add_months, exact_years, whole_months

B_MARKERS = {"CD19": 95, "CD10": 90, "cCD79a": 92, "CD22": 80, "TdT": 85, "CD34": 70, "cCD3": 0, "MPO": 0,
             "sIg": "negative"}


def b_all(birth: str | None, dx: str, age_years: float | None = None, wbc: float = 10) -> dict:
    patient = {"id": "age", "sex": "female"} | ({"birth_date": birth} if birth else {"age_years": age_years})
    return {"schema": "allcare.case/1", "patient": patient, "diagnosis_date": dx, "findings": [
        {"type": "cbc", "date": dx, "wbc": wbc},
        {"type": "marrow", "date": dx, "blasts_pct": 80},
        {"type": "immunophenotype", "date": dx, "markers": B_MARKERS},
    ]}


@pytest.mark.parametrize(("start", "months", "expected"), [
    ("2020-01-31", 1, "2020-02-29"),  # the 31st of a short month: its last day
    ("2021-01-31", 1, "2021-02-28"),
    ("2020-03-15", 18, "2021-09-15"),
    ("2020-08-31", -6, "2020-02-29"),
])
def test_add_months(start, months, expected):
    assert add_months(dt.date.fromisoformat(start), months) == dt.date.fromisoformat(expected)


def test_exact_years_is_exact_on_every_birthday_and_month_day():
    birth = dt.date(2014, 5, 20)
    assert exact_years(birth, dt.date(2024, 5, 20)) == 10.0
    assert exact_years(birth, dt.date(2024, 5, 19)) < 10.0
    assert exact_years(birth, dt.date(2014, 11, 20)) == 0.5
    assert exact_years(birth, dt.date(2014, 11, 19)) < 0.5
    assert whole_months(birth, dt.date(2016, 5, 19)) == 23
    assert exact_years(dt.date(2016, 2, 29), dt.date(2026, 2, 28)) == 10.0  # a leap-day birthday


@pytest.mark.parametrize(("dx", "nci"), [("2024-05-19", "standard"), ("2024-05-20", "high")])
def test_nci_age_10_applies_on_the_10th_birthday(dx, nci):
    result = assess(case_from_dict(b_all("2014-05-20", dx)))
    assert result.risk.nci == nci


@pytest.mark.parametrize(("dx", "nci", "infant"), [("2024-05-19", "infant", True), ("2024-05-20", None, False)])
def test_infant_ends_on_the_first_birthday(dx, nci, infant):
    result = assess(case_from_dict(b_all("2023-05-20", dx)))
    assert result.risk.infant is infant
    if nci:
        assert result.risk.nci == nci
    else:
        assert result.risk.nci != "infant"


@pytest.mark.parametrize(("dx", "young"), [("2024-05-19", True), ("2024-05-20", False)])
def test_interfant_six_months_is_exact(dx, young):
    data = b_all("2023-11-20", dx, wbc=400)
    data["findings"].append({"type": "genetics", "date": dx, "fusions": ["KMT2A::AFF1"]})
    result = assess(case_from_dict(data))
    conclusion = next(c for c in result.risk.conclusions if c.rule == "RISK.INTERFANT")
    assert ("(< 0.5 y)" in conclusion.explanation) is young
    assert result.risk.interfant_high_risk is young


def test_age_given_only_as_age_years_is_kept_as_given():
    result = assess(case_from_dict(b_all(None, "2024-05-20", age_years=9.99)))
    assert result.patient.age_at_diagnosis == 9.99 and result.risk.nci == "standard"


def test_age_shown_is_truncated_not_rounded():
    """9.999 years is not '10' anywhere in the output."""
    result = assess(case_from_dict(b_all("2014-05-20", "2024-05-19")))
    assert result.patient.age_at_diagnosis == 9.99


def test_engine_reads_no_clock():
    """A case with nothing dated needs an assessment date from the caller (the edges pass today's)."""
    undated = case_from_dict({"schema": "allcare.case/1", "patient": {"id": "empty"}})
    with pytest.raises(ValueError, match="as_of"):
        assess(undated)
    assert assess(undated, as_of=dt.date(2024, 1, 1)).as_of == dt.date(2024, 1, 1)


def test_assessment_before_diagnosis_and_stale_data_are_said():
    data = b_all("2014-05-20", "2024-05-20")
    early = {a.code: a for a in assess(case_from_dict(data), as_of=dt.date(2024, 5, 1)).alerts}
    assert early["before_diagnosis"].severity == "warning"
    late = {a.code: a for a in assess(case_from_dict(data), as_of=dt.date(2025, 5, 20)).alerts}
    assert "stale_data" in late and "365 days" in late["stale_data"].message
    fresh = {a.code for a in assess(case_from_dict(data), as_of=dt.date(2024, 8, 1)).alerts}
    assert "stale_data" not in fresh and "before_diagnosis" not in fresh
