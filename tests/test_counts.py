"""Blood counts: CTCAE v5 bands (clinical-standards §7.1), reference intervals (§7.2), plain-word names."""

from __future__ import annotations

import datetime as dt

import pytest

from allcare.engine.case import case_from_dict
from allcare.engine.counts import grade_counts, reference_range
from allcare.engine.rules import DEFAULT_RULES
from allcare.engine.view import CaseView

DAY = dt.date(2024, 3, 1)


def counts(findings, *, as_of=None, **patient):
    patient = {"id": "p1", **patient}
    if "age_years" not in patient and "birth_date" not in patient:
        patient["age_years"] = 30
    case = case_from_dict({"schema": "allcare.case/1", "patient": patient, "findings": findings})
    return grade_counts(CaseView(case, as_of, DEFAULT_RULES))


def cbc(date=DAY, **values):
    return {"type": "cbc", "date": str(date), **values}


def one(analyte, value, **patient):
    """The AnalyteResult and CountResult for a single-analyte count."""
    patient.setdefault("sex", "male")
    [result] = counts([cbc(**{analyte: value})], **patient)
    [analyte_result] = result.analytes
    return analyte_result, result


# CTCAE bands for an adult man: reference LLNs ANC 1.7, platelets 150, Hb 13.5, WBC 3.5 --------------------


@pytest.mark.parametrize(
    "value, grade",
    [(1.7, 0), (1.6, 1), (1.5, 1), (1.49, 2), (1.0, 2), (0.99, 3), (0.5, 3), (0.49, 4), (0.0, 4)],
)
def test_neutrophil_count_decreased_bands(value, grade):
    result, _ = one("anc", value)
    assert (result.ctcae_term, result.grade) == ("Neutrophil count decreased", grade)


@pytest.mark.parametrize(
    "value, grade",
    [(150, 0), (149, 1), (75, 1), (74.9, 2), (50, 2), (49.9, 3), (25, 3), (24.9, 4), (2, 4)],
)
def test_platelet_count_decreased_bands(value, grade):
    result, _ = one("platelets", value)
    assert (result.ctcae_term, result.grade) == ("Platelet count decreased", grade)


@pytest.mark.parametrize(
    "value, grade",
    [(13.5, 0), (13.4, 1), (10.0, 1), (9.9, 2), (8.0, 2), (7.9, 3), (3.0, 3)],
)
def test_anemia_bands_never_reach_grade_4_from_a_number(value, grade):
    result, _ = one("hemoglobin", value)
    assert (result.ctcae_term, result.grade) == ("Anemia", grade)


def test_anemia_grade_3_says_grade_4_is_clinical():
    _, count = one("hemoglobin", 5.0)
    [conclusion] = count.conclusions
    assert "grade 4" in conclusion.explanation and "clinical judgement" in conclusion.explanation


@pytest.mark.parametrize(
    "value, grade",
    [(3.5, 0), (3.4, 1), (3.0, 1), (2.99, 2), (2.0, 2), (1.99, 3), (1.0, 3), (0.99, 4)],
)
def test_white_blood_cell_decreased_bands(value, grade):
    result, _ = one("wbc", value)
    assert (result.ctcae_term, result.grade) == ("White blood cell decreased", grade)


def test_wbc_of_exactly_100_is_not_leukocytosis_grade_3():
    result, count = one("wbc", 100)
    assert (result.ctcae_term, result.grade, result.flag) == ("White blood cell decreased", 0, "high")
    assert "leukocytosis" in count.named and "hyperleukocytosis" not in count.named


def test_wbc_above_100_is_leukocytosis_grade_3_and_leukostasis_is_left_clinical():
    result, count = one("wbc", 100.1)
    assert (result.ctcae_term, result.grade) == ("Leukocytosis", 3)
    assert {"leukocytosis", "hyperleukocytosis"} <= set(count.named)
    [conclusion] = count.conclusions
    assert "leukostasis" in conclusion.explanation


# Which lower limit of normal ---------------------------------------------------------------------------


def test_lab_lower_limit_wins_over_the_reference_interval():
    lab, _ = one("anc", {"value": 1.6, "unit": "10^9/L", "lower_limit": 1.5, "upper_limit": 7.0})
    assert (lab.grade, lab.range_source, lab.lower_limit, lab.upper_limit, lab.flag) == (0, "lab", 1.5, 7.0, "normal")
    reference, _ = one("anc", 1.6)
    assert (reference.grade, reference.range_source, reference.lower_limit, reference.flag) == (1, "reference", 1.7, "low")


def test_lab_range_in_another_unit_is_converted():
    result, _ = one("anc", {"value": 1400, "unit": "/uL", "lower_limit": 1800, "upper_limit": 7700})
    assert (result.value, result.lower_limit, result.grade, result.flag) == (1.4, 1.8, 2, "low")


def test_no_lower_limit_leaves_grade_1_open_above_the_grade_2_line():
    """Platelets have no reference interval under 4 years (§7.2); the lab gave none."""
    result, count = one("platelets", 100, age_years=2)
    assert (result.grade, result.lower_limit, result.range_source, result.flag) == (None, None, None, None)
    [conclusion] = count.conclusions
    assert not conclusion.determined and conclusion.rule == "COUNTS.CTCAE.GRADE1_NEEDS_LLN"
    assert any("lower limit of normal for platelets" in m for m in conclusion.missing)


def test_no_lower_limit_still_grades_below_the_grade_2_line():
    result, count = one("platelets", 60, age_years=2)
    assert result.grade == 2
    assert count.conclusions[0].determined and count.conclusions[0].missing == []


def test_unknown_age_means_no_reference_interval():
    case = case_from_dict(
        {"schema": "allcare.case/1", "patient": {"id": "p", "sex": "female"}, "findings": [cbc(anc=1.6)]}
    )
    [count] = grade_counts(CaseView(case, None, DEFAULT_RULES))
    assert count.analytes[0].grade is None
    assert "birth date or age" in count.conclusions[0].missing[0]


# Age and sex ----------------------------------------------------------------------------------------------

BIRTH = dt.date(2023, 1, 1)


@pytest.mark.parametrize(
    "date, value, grade, flag, lower",
    [
        (dt.date(2023, 5, 1), 10.0, 0, "normal", 9.5),  # 4 months: 3-6 mo row 9.5-14.1
        (dt.date(2023, 10, 1), 10.0, 1, "low", 11.3),  # 9 months: 6 mo-1 y row 11.3-14.1
        (dt.date(2024, 7, 1), 10.0, None, None, None),  # 18 months: no haemoglobin row for 1-2 y
        (dt.date(2023, 3, 15), 9.2, 2, "normal", 9.0),  # 2.5 months: 2-3 mo row 9.0-14.1
    ],
)
def test_haemoglobin_interval_follows_age_in_the_first_years(date, value, grade, flag, lower):
    [count] = counts([cbc(date, hemoglobin=value)], birth_date=str(BIRTH), sex="female")
    result = count.analytes[0]
    assert (result.grade, result.flag, result.lower_limit) == (grade, flag, lower)


def test_grade_2_within_the_age_range_is_explained():
    [count] = counts([cbc(dt.date(2023, 3, 15), hemoglobin=9.2)], birth_date=str(BIRTH), sex="female")
    assert "within the range for age" in count.conclusions[0].explanation


@pytest.mark.parametrize(
    "sex, grade, flag, lower",
    [("male", 1, "low", 13.5), ("female", 0, "normal", 12.0), ("unknown", None, None, None)],
)
def test_adult_haemoglobin_depends_on_sex(sex, grade, flag, lower):
    result, count = one("hemoglobin", 13.0, sex=sex)
    assert (result.grade, result.flag, result.lower_limit) == (grade, flag, lower)
    if sex == "unknown":
        assert "sex" in count.conclusions[0].missing[0]


@pytest.mark.parametrize("value, grade, flag", [(16.0, 0, None), (11.0, 1, "low"), (9.0, 2, "low")])
def test_unknown_sex_grades_when_both_sexes_agree(value, grade, flag):
    result, _ = one("hemoglobin", value, sex="unknown")
    assert (result.grade, result.flag) == (grade, flag)


@pytest.mark.parametrize(
    "analyte, age, sex, expected",
    [
        ("hemoglobin", 0.02, "male", (13.4, 19.9)),
        ("hemoglobin", 0.3, "female", (9.5, 14.1)),
        ("hemoglobin", 0.75, "male", (11.3, 14.1)),
        ("hemoglobin", 1.5, "male", None),
        ("hemoglobin", 6.9, "unknown", (10.0, 13.3)),
        ("hemoglobin", 7.0, "unknown", (10.7, 14.0)),
        ("hemoglobin", 17.0, "male", (11.0, 15.0)),
        ("hemoglobin", 30, "male", (13.5, 17.5)),
        ("hemoglobin", 30, "female", (12.0, 15.5)),
        ("hemoglobin", 30, "unknown", None),
        ("wbc", 3.99, "male", (5.5, 15.5)),
        ("wbc", 4.0, "male", (5.0, 15.0)),
        ("wbc", 18.0, "male", (3.5, 10.5)),
        ("anc", 3, "female", (1.5, 8.5)),
        ("anc", 40, "female", (1.7, 7.5)),
        ("platelets", 2, "male", None),
        ("platelets", 10, "male", (160.0, 380.0)),
        ("platelets", 50, "other", (150.0, 450.0)),
        ("rbc", 30, "male", None),
        ("anc", None, "male", None),
    ],
)
def test_reference_range_table(analyte, age, sex, expected):
    assert reference_range(analyte, age, sex) == expected


# Flag-only analytes -------------------------------------------------------------------------------------


def test_rbc_and_blasts_are_flagged_but_not_graded():
    [count] = counts([cbc(rbc={"value": 3.1, "lower_limit": 4.3, "upper_limit": 5.7}, blasts_pct=40)], sex="male")
    rbc, blasts = count.analytes
    assert (rbc.flag, rbc.range_source, rbc.ctcae_term, rbc.grade) == ("low", "lab", None, None)
    assert (blasts.flag, blasts.ctcae_term, blasts.grade) == ("high", None, None)
    assert count.named == ["circulating blasts"] and count.conclusions == []


def test_rbc_without_lab_range_has_no_flag():
    result, _ = one("rbc", 3.1)
    assert (result.flag, result.lower_limit, result.range_source) == (None, None, None)


# Names ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, names",
    [
        ({"hemoglobin": 9.0, "anc": 0.8, "platelets": 40}, ["anaemia", "neutropenia", "thrombocytopenia", "pancytopenia"]),
        ({"hemoglobin": 9.0, "wbc": 2.5, "platelets": 40}, ["anaemia", "leukopenia", "thrombocytopenia", "pancytopenia"]),
        ({"hemoglobin": 9.0, "anc": 0.8, "platelets": 200}, ["anaemia", "neutropenia"]),
        ({"hemoglobin": 14.0, "anc": 3.0, "platelets": 200, "blasts_pct": 0}, []),
        ({"wbc": 150, "blasts_pct": 80, "platelets": 30}, ["leukocytosis", "hyperleukocytosis", "thrombocytopenia", "circulating blasts"]),
    ],
)
def test_plain_word_names(values, names):
    [count] = counts([cbc(**values)], sex="male")
    assert count.named == names


# Order, conclusions, treatment ----------------------------------------------------------------------------


def test_one_result_per_count_in_date_order_up_to_as_of():
    findings = [cbc(dt.date(2024, 3, 5), anc=0.4), cbc(dt.date(2024, 3, 1), anc=2.0), cbc(dt.date(2024, 4, 1), anc=1.2)]
    results = counts(findings, sex="male", as_of=dt.date(2024, 3, 31))
    assert [(r.index, r.date) for r in results] == [(1, dt.date(2024, 3, 1)), (0, dt.date(2024, 3, 5))]


def test_normal_count_has_no_conclusion_and_abnormal_has_exactly_one():
    normal, abnormal = counts([cbc(hemoglobin=14, anc=3, platelets=200), cbc(DAY + dt.timedelta(1), anc=0.3, platelets=20)], sex="male")
    assert normal.conclusions == []
    [conclusion] = abnormal.conclusions
    assert conclusion.determined and conclusion.rule == "COUNTS.CTCAE.GRADES"
    assert conclusion.value == {"Neutrophil count decreased": 4, "Platelet count decreased": 4}
    assert conclusion.evidence[0].index == 1


def test_grades_before_treatment_describe_the_presentation():
    treatment = {"type": "treatment", "phase": "induction", "start": "2024-03-03"}
    before, after = counts([cbc(anc=0.3), treatment, cbc(dt.date(2024, 3, 20), anc=0.3)], sex="male")
    assert "presentation" in before.conclusions[0].explanation
    assert "presentation" not in after.conclusions[0].explanation
