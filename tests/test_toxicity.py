"""Toxicity rules through ``assess``, each at its guideline boundaries: febrile neutropenia (IDSA 2010,
CTCAE v5.0), tumour lysis (Cairo-Bishop 2004), HD-MTX (Ramsey 2018 consensus), asparaginase activity
(van der Sluis 2016), CTCAE v5.0 chemistry grades and cumulative anthracyclines."""

from __future__ import annotations

import datetime as dt

import pytest

from allcare.engine import assess, case_from_dict, rules_from_dict
from allcare.engine.toxicity.methotrexate import line_at

DX = dt.date(2024, 3, 1)


def day(n: int) -> str:
    return (DX + dt.timedelta(days=n)).isoformat()


def case(*findings: dict, age: float = 6.0, treatment: bool = True) -> dict:
    start = [{"type": "treatment", "phase": "induction", "start": day(1)}] if treatment else []
    return {
        "schema": "allcare.case/1",
        "patient": {"id": "tox", "age_years": age, "sex": "male"},
        "diagnosis_date": DX.isoformat(),
        "findings": [{"type": "marrow", "date": day(0), "blasts_pct": 85}, *start, *findings],
    }


def run(data: dict, as_of: dt.date | None = None, rules=None):
    kwargs = {"rules": rules} if rules is not None else {}
    return assess(case_from_dict(data), as_of=as_of, **kwargs)


def alerts(result) -> dict:
    return {a.code: a for a in result.alerts}


# Febrile neutropenia ------------------------------------------------------------------------


def fever(n: int, temperature, **extra) -> dict:
    return {"type": "vitals", "date": day(n), "temperature": temperature, **extra}


@pytest.mark.parametrize(("temperature", "status"), [
    (38.3, "febrile_neutropenia"),  # a single temperature >= 38.3
    (38.29, None),
    ({"value": 101, "unit": "[degF]"}, "febrile_neutropenia"),  # 38.33 C
    ({"value": 100.9, "unit": "[degF]"}, None),  # 38.28 C stays below 38.3
])
def test_single_temperature_line(temperature, status):
    result = run(case(fever(10, temperature), {"type": "cbc", "date": day(10), "anc": 0.2}))
    episodes = result.toxicity.febrile_neutropenia
    assert (episodes[0].status if episodes else None) == status


@pytest.mark.parametrize(("temperature", "minutes", "fever_found"), [
    (38.0, 60, True), (38.0, 59, False), (37.9, 120, False), ({"value": 100.4, "unit": "[degF]"}, 60, True),
])
def test_sustained_temperature_line(temperature, minutes, fever_found):
    result = run(case(fever(10, temperature, sustained_minutes=minutes), {"type": "cbc", "date": day(10), "anc": 0.2}))
    assert bool(result.toxicity.febrile_neutropenia) is fever_found


def test_two_readings_of_38_an_hour_apart_are_a_fever():
    apart = run(case(fever(10, 38.1, time="08:00"), fever(10, 38.0, time="09:00"), {"type": "cbc", "date": day(10), "anc": 0.3}))
    assert apart.toxicity.febrile_neutropenia[0].fever_by == "repeated"
    close = run(case(fever(10, 38.1, time="08:00"), fever(10, 38.0, time="08:59"), {"type": "cbc", "date": day(10), "anc": 0.3}))
    assert close.toxicity.febrile_neutropenia == []


@pytest.mark.parametrize(("anc", "status", "alerted"), [
    (0.49, "febrile_neutropenia", True), (0.5, "fever_without_neutropenia", False), ({"value": 0.1, "comparator": "<"}, "febrile_neutropenia", True),
])
def test_anc_line_of_febrile_neutropenia(anc, status, alerted):
    result = run(case(fever(10, 38.6), {"type": "cbc", "date": day(10), "anc": anc}))
    assert result.toxicity.febrile_neutropenia[0].status == status
    assert ("febrile_neutropenia" in alerts(result)) is alerted
    if alerted:
        assert alerts(result)["febrile_neutropenia"].severity == "critical"


@pytest.mark.parametrize("order", ["low first", "low last"])
def test_a_neutropenic_count_of_the_fever_day_is_read_whatever_its_order(order):
    """The fever day's counts carry no order: an ANC 1.2 written after an ANC 0.3 does not exclude neutropenia."""
    counts = [{"type": "cbc", "date": day(10), "anc": 0.3}, {"type": "cbc", "date": day(10), "anc": 1.2}]
    result = run(case(fever(10, 38.6), *(counts if order == "low first" else counts[::-1])))
    episode = result.toxicity.febrile_neutropenia[0]
    assert (episode.status, episode.anc) == ("febrile_neutropenia", 0.3)
    assert {e.summary for e in episode.evidence} >= {"ANC 0.3 x10^9/L", "ANC 1.2 x10^9/L"}
    assert alerts(result)["febrile_neutropenia"].severity == "critical"


def test_fever_without_a_count_during_treatment_cannot_exclude_febrile_neutropenia():
    result = run(case(fever(10, 38.5)))
    episode = result.toxicity.febrile_neutropenia[0]
    assert episode.status == "fever_anc_unknown"
    alert = alerts(result)["febrile_neutropenia"]
    assert alert.severity == "critical" and "cannot be excluded" in alert.message
    conclusion = [c for c in result.toxicity.conclusions if c.topic == "toxicity.febrile_neutropenia"][0]
    assert not conclusion.determined and "ANC" in conclusion.missing[0]


def test_an_old_episode_is_history_not_an_alert():
    result = run(case(fever(10, 38.6), {"type": "cbc", "date": day(10), "anc": 0.2}, {"type": "cbc", "date": day(20), "anc": 2.0}))
    assert result.toxicity.febrile_neutropenia[0].status == "febrile_neutropenia"
    assert "febrile_neutropenia" not in alerts(result)


def test_ctcae_febrile_neutropenia_criteria_are_reported_beside_idsa():
    # CTCAE v5.0: ANC < 1.0 with a single temperature > 38.3 (38.3 itself is not above it)
    at_line = run(case(fever(10, 38.3), {"type": "cbc", "date": day(10), "anc": 0.2})).toxicity.febrile_neutropenia[0]
    assert at_line.status == "febrile_neutropenia" and at_line.ctcae_grade3_criteria is False
    above = run(case(fever(10, 38.4), {"type": "cbc", "date": day(10), "anc": 0.9})).toxicity.febrile_neutropenia[0]
    assert above.status == "fever_without_neutropenia" and above.ctcae_grade3_criteria is True


def test_a_centre_may_use_a_single_38_0_line():
    rules = rules_from_dict({"fever_single_min": 38.0})
    result = run(case(fever(10, 38.0), {"type": "cbc", "date": day(10), "anc": 0.2}), rules=rules)
    assert result.toxicity.febrile_neutropenia[0].status == "febrile_neutropenia"


# Tumour lysis (Cairo-Bishop) ---------------------------------------------------------------


def chem(n: int, **values) -> dict:
    return {"type": "chemistry", "date": day(n), **values}


def umol(value):
    return {"value": value, "unit": "umol/L"}


def mmol(value):
    return {"value": value, "unit": "mmol/L"}


def tls(*findings: dict, age: float = 6.0, as_of: dt.date | None = None):
    result = run(case(*findings, age=age), as_of=as_of)
    return result.toxicity.tumour_lysis[0], result


@pytest.mark.parametrize(("values", "expected"), [
    ({"uric_acid": umol(476), "potassium": 6.0}, True),
    ({"uric_acid": umol(475), "potassium": 6.0, "phosphate": mmol(1.0), "calcium": mmol(2.3)}, False),
    ({"uric_acid": {"value": 8.0, "unit": "mg/dL"}, "potassium": 6.0}, True),  # 8.0 mg/dL = 476 umol/L
    ({"potassium": 5.9, "phosphate": mmol(2.1), "uric_acid": umol(300), "calcium": mmol(2.3)}, False),
    ({"potassium": 6.0, "phosphate": mmol(2.1)}, True),
    ({"potassium": 6.0, "phosphate": mmol(2.09), "uric_acid": umol(300), "calcium": mmol(2.3)}, False),
    ({"potassium": 6.0, "calcium": mmol(1.75)}, True),
    ({"potassium": 6.0, "calcium": mmol(1.76), "phosphate": mmol(1.0), "uric_acid": umol(300)}, False),
    ({"potassium": 6.0, "calcium": {"value": 7.0, "unit": "mg/dL"}}, True),  # 7.0 mg/dL = 1.75 mmol/L
])
def test_each_laboratory_criterion_at_its_line(values, expected):
    result, _ = tls(chem(3, **values))
    assert result.laboratory is expected


@pytest.mark.parametrize(("age", "phosphate", "expected"), [(17.9, 1.45, False), (18.0, 1.45, True), (18.0, 1.44, False)])
def test_phosphate_has_an_adult_line(age, phosphate, expected):
    result, _ = tls(chem(3, potassium=6.0, phosphate=mmol(phosphate), uric_acid=umol(300), calcium=mmol(2.3)), age=age)
    assert result.laboratory is expected


def test_a_25_percent_change_from_baseline_meets_a_criterion():
    # potassium 4.0 -> 5.0 (+25%); uric acid 300 -> 375 (+25%); the baseline is the first value before therapy
    met, _ = tls(chem(-1, potassium=4.0, uric_acid=umol(300)), chem(3, potassium=5.0, uric_acid=umol(375)))
    assert met.laboratory is True and {c.met_by for c in met.criteria} == {"change"}
    short, _ = tls(chem(-1, potassium=4.0, uric_acid=umol(300), phosphate=mmol(1.2), calcium=mmol(2.3)),
                   chem(3, potassium=4.9, uric_acid=umol(374), phosphate=mmol(1.2), calcium=mmol(2.3)))
    assert short.laboratory is False
    calcium, _ = tls(chem(-1, calcium=mmol(2.4), potassium=6.0), chem(3, calcium=mmol(1.8)))
    assert calcium.laboratory is True and [c.met_by for c in calcium.criteria if c.analyte == "calcium"] == ["change"]


def test_the_window_is_3_days_before_to_7_days_after_therapy_starts():
    before, _ = tls(chem(-2, uric_acid=umol(500), potassium=6.5))  # therapy starts day 1: day -2 is 3 days before
    assert before.laboratory is True
    after, _ = tls(chem(8, uric_acid=umol(500), potassium=6.5))  # day 8 is 7 days after
    assert after.laboratory is True
    outside = run(case(chem(9, uric_acid=umol(500), potassium=6.5)))
    assert outside.toxicity.tumour_lysis == []  # nothing measured in the window: nothing to read


def test_one_criterion_with_unmeasured_analytes_cannot_be_decided():
    result, full = tls(chem(3, potassium=6.5))
    assert result.laboratory is None
    conclusion = [c for c in full.toxicity.conclusions if c.topic == "toxicity.tumour_lysis"][0]
    assert not conclusion.determined and any("uric acid" in m for m in conclusion.missing)


@pytest.mark.parametrize(("creatinine", "clinical", "grade"), [(74, False, None), (75, True, 1), (76, True, 2), (151, True, 3), (301, True, 4)])
def test_clinical_tls_creatinine_lines_and_grades(creatinine, clinical, grade):
    # ULN 50 umol/L: 1.5 x ULN = 75 (grade 1), > 1.5-3 = 2, > 3-6 = 3, > 6 = 4
    result, _ = tls(chem(3, potassium=6.5, uric_acid=umol(500), creatinine={"value": creatinine, "unit": "umol/L", "upper_limit": 50}))
    assert (result.clinical, result.grade) == (clinical, grade)


@pytest.mark.parametrize("term", ["seizure", "ventricular_tachycardia", "Atrial fibrillation"])
def test_clinical_tls_by_an_arrhythmia_or_a_seizure(term):
    result, full = tls(chem(3, potassium=6.5, uric_acid=umol(500), creatinine={"value": 40, "unit": "umol/L", "upper_limit": 50}),
                       {"type": "adverse_event", "term": term, "grade": 3, "start": day(4)}, as_of=DX + dt.timedelta(days=5))
    assert result.clinical is True and result.grade == 3
    assert alerts(full)["tumour_lysis"].severity == "critical"


def test_laboratory_tls_without_a_creatinine_leaves_the_clinical_question_open():
    result, _ = tls(chem(3, potassium=6.5, uric_acid=umol(500)))
    assert result.laboratory is True and result.clinical is None


# High-dose methotrexate (Ramsey et al. 2018) -------------------------------------------------


def mtx_case(value, hours, creatinine_after=40, infusion=24):
    return case(
        {"type": "dose", "agent": "methotrexate", "dose": {"value": 5000, "unit": "mg/m2"}, "start": day(40), "infusion_hours": infusion},
        chem(40, creatinine={"value": 40, "unit": "umol/L", "upper_limit": 60}),
        chem(42, creatinine={"value": creatinine_after, "unit": "umol/L", "upper_limit": 60}),
        {"type": "methotrexate_level", "date": day(42), "value": value, "hours_after_start": hours},
    )


@pytest.mark.parametrize(("value", "hours", "status"), [
    (30.0, 36, "below_line"), (30.1, 36, "delayed_clearance"),
    (10.0, 42, "below_line"), (10.1, 42, "delayed_clearance"),
    (5.0, 48, "below_line"), (5.1, 48, "delayed_clearance"), (5.1, 72, "delayed_clearance"),
    (80.0, 24, "before_lines"),
])
def test_consensus_lines(value, hours, status):
    result = run(mtx_case(value, hours))
    assert result.toxicity.methotrexate_levels[0].status == status


@pytest.mark.parametrize(("creatinine", "status", "severity"), [(60, "glucarpidase_criteria", "critical"), (59, "delayed_clearance", "warning")])
def test_glucarpidase_needs_kidney_injury(creatinine, status, severity):
    # pre-infusion 40 umol/L: 1.5 x = 60
    result = run(mtx_case(12.0, 42, creatinine_after=creatinine))
    assert result.toxicity.methotrexate_levels[0].status == status
    assert alerts(result)["methotrexate_clearance"].severity == severity


def test_a_36_to_42_hour_infusion_has_only_the_48_hour_line_and_other_durations_none():
    assert run(mtx_case(5.1, 48, infusion=36)).toxicity.methotrexate_levels[0].status == "delayed_clearance"
    assert run(mtx_case(5.1, 40, infusion=36)).toxicity.methotrexate_levels[0].status == "before_lines"
    other = run(mtx_case(50, 48, infusion=30))
    assert other.toxicity.methotrexate_levels[0].status == "cannot_determine"


def test_line_between_the_consensus_points_is_log_linear():
    points = ((36.0, 30.0), (42.0, 10.0), (48.0, 5.0))
    assert line_at(points, 39.0) == pytest.approx((30 * 10) ** 0.5, rel=1e-3)
    assert line_at(points, 35.9) is None and line_at(points, 96) == 5.0


# Asparaginase activity ------------------------------------------------------------------------


def asp_case(value, n_after: int, *extra: dict, preparation="pegaspargase"):
    agent = {"pegaspargase": "pegaspargase", "erwinia": "crisantaspase", "native_e_coli": "asparaginase"}[preparation]
    return case({"type": "dose", "agent": agent, "dose": {"value": 2500, "unit": "IU/m2"}, "start": day(10)},
                {"type": "asparaginase_activity", "date": day(10 + n_after), "value": value}, *extra)


@pytest.mark.parametrize(("value", "status"), [(0.1, "adequate"), (0.099, "low"), ({"value": 100, "unit": "IU/L"}, "adequate")])
def test_activity_line(value, status):
    assert run(asp_case(value, 7)).toxicity.asparaginase_activity[0].status == status


@pytest.mark.parametrize(("days", "status"), [(6, "not_interpretable"), (7, "low"), (14, "low"), (15, "not_interpretable")])
def test_pegaspargase_is_read_from_day_7_to_14(days, status):
    assert run(asp_case(0.05, days)).toxicity.asparaginase_activity[0].status == status


def test_native_and_erwinia_windows():
    assert run(asp_case(0.05, 2, preparation="native_e_coli")).toxicity.asparaginase_activity[0].status == "low"
    assert run(asp_case(0.05, 4, preparation="native_e_coli")).toxicity.asparaginase_activity[0].status == "not_interpretable"
    assert run(asp_case(0.05, 2, preparation="erwinia")).toxicity.asparaginase_activity[0].status == "low"
    assert run(asp_case(0.05, 3, preparation="erwinia")).toxicity.asparaginase_activity[0].status == "not_interpretable"


def test_a_second_low_level_confirms_silent_inactivation():
    result = run(asp_case(0.05, 7, {"type": "asparaginase_activity", "date": day(24), "value": 0.04}))
    first, second = result.toxicity.asparaginase_activity
    assert (first.status, second.status) == ("low", "low_confirmed")
    alert = alerts(result)["asparaginase_inactivation"]
    assert "silent inactivation confirmed" in alert.message


def test_low_activity_after_an_allergy_is_not_silent():
    result = run(asp_case(0.05, 7, {"type": "adverse_event", "term": "allergic_reaction", "grade": 2, "start": day(11),
                                    "agent": "pegaspargase"}))
    assert result.toxicity.asparaginase_activity[0].with_hypersensitivity
    assert "inactivation with hypersensitivity" in alerts(result)["asparaginase_inactivation"].message


# CTCAE v5.0 chemistry --------------------------------------------------------------------------


def graded(analyte: str, value, unit: str, uln=None, lln=None, *baseline: dict):
    q = {"value": value, "unit": unit}
    if uln is not None:
        q["upper_limit"] = uln
    if lln is not None:
        q["lower_limit"] = lln
    result = run(case(*baseline, chem(20, **{analyte: q})))
    return next(a for a in result.chemistry.rows()[-1].analytes if a.analyte == analyte)


@pytest.mark.parametrize(("value", "grade"), [(1.0, 0), (1.01, 1), (1.5, 1), (1.51, 2), (3.0, 2), (3.01, 3), (10.0, 3), (10.01, 4)])
def test_bilirubin_grades(value, grade):
    assert graded("bilirubin", value, "mg/dL", uln=1.0).grade == grade


@pytest.mark.parametrize("analyte", ["alt", "ast"])
@pytest.mark.parametrize(("value", "grade"), [(40, 0), (41, 1), (120, 1), (121, 2), (200, 2), (201, 3), (800, 3), (801, 4)])
def test_transaminase_grades(analyte, value, grade):
    assert graded(analyte, value, "U/L", uln=40).grade == grade


@pytest.mark.parametrize(("value", "grade"), [(119, 0), (120, 1), (240, 1), (241, 2), (401, 3), (1601, 4)])
def test_alt_against_an_abnormal_baseline(value, grade):
    baseline = chem(0, alt={"value": 80, "unit": "U/L", "upper_limit": 40})  # before treatment started (day 1)
    result = graded("alt", value, "U/L", 40, None, baseline)
    assert result.grade == grade and "abnormal baseline 80" in result.note


def test_bilirubin_in_umol_per_litre_grades_on_its_own_multiple():
    assert graded("bilirubin", 25.65, "umol/L", uln=17.1).grade == 1  # exactly 1.5 x ULN
    assert graded("bilirubin", 25.7, "umol/L", uln=17.1).grade == 2


def test_a_multiple_of_uln_needs_the_labs_limit():
    result = run(case(chem(20, alt={"value": 500, "unit": "U/L"})))
    a = result.chemistry.rows()[0].analytes[0]
    assert a.grade is None
    assert any("upper limit of normal for ALT" in m for m in result.chemistry.rows()[0].conclusions[0].missing)


@pytest.mark.parametrize(("value", "unit", "grade"), [
    (7.1, "mmol/L", 4), (6.1, "mmol/L", 3), (6.0, "mmol/L", 2), (5.6, "mmol/L", 2), (5.5, "mmol/L", None),
])
def test_hyperkalemia_lines(value, unit, grade):
    assert graded("potassium", value, unit).grade == grade


@pytest.mark.parametrize(("value", "unit", "grade"), [
    (1.99, "mmol/L", 2), (1.74, "mmol/L", 3), (1.49, "mmol/L", 4), (7.9, "mg/dL", 2), (6.9, "mg/dL", 3), (5.9, "mg/dL", 4),
])
def test_hypocalcemia_lines_in_either_unit(value, unit, grade):
    assert graded("calcium", value, unit).grade == grade


@pytest.mark.parametrize(("value", "unit", "grade"), [(150, "mg/dL", 1), (149, "mg/dL", 0), (1.71, "mmol/L", 1), (301, "mg/dL", 2), (1001, "mg/dL", 4)])
def test_triglycerides_use_ctcaes_line_in_the_reported_unit(value, unit, grade):
    assert graded("triglycerides", value, unit).grade == grade


@pytest.mark.parametrize(("value", "grade", "possible"), [(150, 1, []), (151, 2, []), (201, None, [2, 3]), (501, None, [3, 4])])
def test_lipase_grades_that_depend_on_symptoms_are_left_open(value, grade, possible):
    result = graded("lipase", value, "U/L", uln=100)
    assert (result.grade, result.possible_grades) == (grade, possible)


def test_liver_alert_from_grade_3():
    result = run(case(chem(20, alt={"value": 201, "unit": "U/L", "upper_limit": 40})))
    assert alerts(result)["hepatotoxicity"].severity == "warning"
    result = run(case(chem(20, alt={"value": 200, "unit": "U/L", "upper_limit": 40})))
    assert "hepatotoxicity" not in alerts(result)


# Cumulative anthracyclines -----------------------------------------------------------------


def anthracycline(agent, value, n, unit="mg/m2", frequency="once", end=None):
    data = {"type": "dose", "agent": agent, "dose": {"value": value, "unit": unit}, "start": day(n), "frequency": frequency}
    if end is not None:
        data["end"] = day(end)
    return data


def test_doxorubicin_equivalents_and_the_surveillance_lines():
    # daunorubicin 25 mg/m2 weekly x 4 = 100 x 0.6 = 60; doxorubicin 30 x 3 weekly = 90; total 150
    # (a regimen's doses count up to the assessment date: a dose's end does not move it)
    result = run(case(anthracycline("daunorubicin", 25, 2, frequency="weekly", end=23),
                      anthracycline("adriamycin", 30, 60, frequency="weekly", end=74)), as_of=DX + dt.timedelta(days=80))
    a = result.toxicity.anthracyclines
    assert a.total_mg_m2 == 150 and a.band == "moderate" and a.profile == "feijen_2019"
    assert alerts(result)["anthracycline_cumulative"].severity == "info"
    cog = run(case(anthracycline("daunorubicin", 25, 2, frequency="weekly", end=23)), as_of=DX + dt.timedelta(days=30),
              rules=rules_from_dict({"anthracycline_equivalence": "cog_ltfu_v5"}))
    assert cog.toxicity.anthracyclines.total_mg_m2 == 50


@pytest.mark.parametrize(("total", "band"), [(249, "moderate"), (250, "high"), (99, "low"), (100, "moderate")])
def test_anthracycline_bands(total, band):
    assert run(case(anthracycline("doxorubicin", total, 2))).toxicity.anthracyclines.band == band


def test_a_dose_in_mg_without_body_size_leaves_the_total_undetermined():
    result = run(case(anthracycline("daunorubicin", 30, 2, unit="mg")))
    assert result.toxicity.anthracyclines.total_mg_m2 is None
    conclusion = [c for c in result.toxicity.conclusions if c.topic == "toxicity.anthracyclines"][0]
    assert not conclusion.determined and "height and weight" in conclusion.missing[0]


def test_adverse_events_are_listed_as_recorded():
    result = run(case({"type": "adverse_event", "term": "Osteonecrosis", "grade": 2, "start": day(100), "end": day(200)}))
    event = result.toxicity.adverse_events[0]
    assert (event.term, event.label, event.grade, event.ctcae_version) == ("osteonecrosis", "Osteonecrosis", 2, "5.0")


def test_the_baseline_is_before_the_courses_treatment_start():
    # Treatment starts on the first day of the first block of any phase (a prephase included): a value
    # taken on prephase day 3 is already on treatment, not a baseline.
    data = case(chem(3, alt={"value": 80, "unit": "U/L", "upper_limit": 40}),
                chem(20, alt={"value": 130, "unit": "U/L", "upper_limit": 40}), treatment=False)
    data["findings"] += [{"type": "treatment", "phase": "prephase", "start": day(1), "end": day(7)},
                         {"type": "treatment", "phase": "induction", "start": day(8)}]
    latest = run(data).chemistry.rows()[-1].analytes[0]
    assert latest.grade == 2 and "no pre-treatment value" in latest.note  # 130 > 3 x ULN, the day-3 value is no baseline


def test_doses_without_a_block_mean_treatment_has_started():
    # Administrations imported without their plan: treatment starts on the first dose.
    given = {"type": "dose", "agent": "mercaptopurine", "dose": {"value": 50, "unit": "mg"}, "frequency": "daily",
             "start": day(2)}
    result = run(case(given, fever(10, 38.5), treatment=False))
    assert alerts(result)["febrile_neutropenia"].severity == "critical"
    untreated = run(case(fever(10, 38.5), treatment=False))
    assert "febrile_neutropenia" not in alerts(untreated)


@pytest.mark.parametrize("order", [(402, 30), (30, 402)])
def test_a_same_day_normal_value_does_not_silence_a_liver_alert(order):
    """One day's results carry no order: a grade-3 ALT is not cancelled by a normal ALT of the same day
    written after it (a repeat, another lab), and the worse one is the one named."""
    result = run(case(*[chem(20, alt={"value": v, "unit": "U/L", "upper_limit": 40}) for v in order]))
    alert = alerts(result)["hepatotoxicity"]
    assert "ALT 402" in alert.message and "grade 3" in alert.message
