"""Blood counts: CTCAE v5.0 bands, reference intervals, plain-word names."""

from __future__ import annotations

import datetime as dt

import pytest

from allcare.engine.case import case_from_dict
from allcare.engine.columns import Coded
from allcare.engine.counts import grade_counts, reference_range
from allcare.engine.rules import DEFAULT_RULES
from allcare.engine.view import CaseView

DAY = dt.date(2024, 3, 1)


def table(findings, *, as_of=None, **patient):
    """The blood-count table of a case."""
    patient = {"id": "p1", **patient}
    if "age_years" not in patient and "birth_date" not in patient:
        patient["age_years"] = 30
    case = case_from_dict({"schema": "allcare.case/1", "patient": patient, "findings": findings})
    return grade_counts(CaseView(case, as_of, DEFAULT_RULES))


def counts(findings, *, as_of=None, **patient):
    """The table read as rows, one per count."""
    return table(findings, as_of=as_of, **patient).rows()


def cbc(date=DAY, **values):
    return {"type": "cbc", "date": str(date), **values}


def one(analyte, value, **patient):
    """The result and the whole table of a single-analyte count."""
    patient.setdefault("sex", "male")
    graded = table([cbc(**{analyte: value})], **patient)
    [row] = graded.rows()
    [result] = row.results
    return result, graded


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
    _, graded = one("hemoglobin", 5.0)
    [conclusion] = graded.notable
    assert "grade 4" in conclusion.explanation and "clinical judgement" in conclusion.explanation


@pytest.mark.parametrize(
    "value, grade",
    [(3.5, 0), (3.4, 1), (3.0, 1), (2.99, 2), (2.0, 2), (1.99, 3), (1.0, 3), (0.99, 4)],
)
def test_white_blood_cell_decreased_bands(value, grade):
    result, _ = one("wbc", value)
    assert (result.ctcae_term, result.grade) == ("White blood cell decreased", grade)


def test_wbc_of_exactly_100_is_not_leukocytosis_grade_3():
    result, graded = one("wbc", 100)
    assert (result.ctcae_term, result.grade, result.flag) == ("White blood cell decreased", 0, "high")
    assert "leukocytosis" in graded.named and "hyperleukocytosis" not in graded.named


def test_wbc_above_100_is_leukocytosis_grade_3_and_leukostasis_is_left_clinical():
    result, graded = one("wbc", 100.1)
    assert (result.ctcae_term, result.grade) == ("Leukocytosis", 3)
    assert {"leukocytosis", "hyperleukocytosis"} <= set(graded.named)
    [conclusion] = graded.notable
    assert "leukostasis" in conclusion.explanation and "hyperleukocytosis" in conclusion.explanation


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
    result, graded = one("platelets", 100, age_years=2)
    assert (result.grade, result.lower_limit, result.range_source, result.flag) == (None, None, None, None)
    [conclusion] = graded.notable
    assert not conclusion.determined and conclusion.rule == "COUNTS.CTCAE.GRADE1_NEEDS_LLN"
    assert conclusion.value == {"Platelet count decreased": [0, 1]}
    assert any("lower limit of normal for platelets" in m for m in conclusion.missing)


def test_no_lower_limit_still_grades_below_the_grade_2_line():
    result, graded = one("platelets", 60, age_years=2)
    assert result.grade == 2
    assert graded.notable == []  # grade 2, decided: a value in the table, no conclusion


def test_unknown_age_means_no_reference_interval():
    case = case_from_dict(
        {"schema": "allcare.case/1", "patient": {"id": "p", "sex": "female"}, "findings": [cbc(anc=1.6)]}
    )
    graded = grade_counts(CaseView(case, None, DEFAULT_RULES))
    assert graded.column("anc", "grades") == [None]
    assert "birth date or age" in graded.notable[0].missing[0]


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
    result = count.results[0]
    assert (result.grade, result.flag, result.lower_limit) == (grade, flag, lower)


def test_grade_2_within_the_age_range_is_explained():
    graded = table([cbc(dt.date(2023, 3, 15), hemoglobin=9.2)], birth_date=str(BIRTH), sex="female")
    [conclusion] = graded.notable
    assert conclusion.rule == "COUNTS.CTCAE.ABSOLUTE_LINES" and conclusion.value == {"Anemia": 2}
    assert "within the range for age" in conclusion.explanation


@pytest.mark.parametrize(
    "sex, grade, flag, lower",
    [("male", 1, "low", 13.5), ("female", 0, "normal", 12.0), ("unknown", None, None, None)],
)
def test_adult_haemoglobin_depends_on_sex(sex, grade, flag, lower):
    result, graded = one("hemoglobin", 13.0, sex=sex)
    assert (result.grade, result.flag, result.lower_limit) == (grade, flag, lower)
    if sex == "unknown":
        assert "sex" in graded.notable[0].missing[0]


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
    graded = table([cbc(rbc={"value": 3.1, "lower_limit": 4.3, "upper_limit": 5.7}, blasts_pct=40)], sex="male")
    [count] = graded.rows()
    rbc, blasts = count.results
    assert (rbc.flag, rbc.range_source, rbc.ctcae_term, rbc.grade) == ("low", "lab", None, None)
    assert (blasts.flag, blasts.ctcae_term, blasts.grade) == ("high", None, None)
    assert count.named == ["circulating blasts"]
    [conclusion] = graded.notable
    assert (conclusion.rule, conclusion.value) == ("COUNTS.NAMED", "circulating blasts")


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


def test_only_notable_counts_have_a_conclusion():
    graded = table([cbc(hemoglobin=14, anc=3, platelets=200), cbc(DAY + dt.timedelta(1), anc=1.2, platelets=120),
                    cbc(DAY + dt.timedelta(2), anc=0.3, platelets=20)], sex="male")
    [conclusion] = graded.notable  # grade 1-2 counts are values in the table, with no words
    assert conclusion.determined and conclusion.rule == "COUNTS.CTCAE.GRADES"
    assert conclusion.value == {"Platelet count decreased": 4, "Neutrophil count decreased": 4}
    assert [e.index for e in conclusion.evidence] == [2]


def test_grades_before_treatment_describe_the_presentation():
    treatment = {"type": "treatment", "phase": "induction", "start": "2024-03-03"}
    graded = table([cbc(anc=0.3), treatment, cbc(dt.date(2024, 3, 20), anc=0.3)], sex="male")
    before, after = graded.notable
    assert "presentation" in before.explanation and [e.index for e in before.evidence] == [0]
    assert "presentation" not in after.explanation and [e.index for e in after.evidence] == [2]


def test_one_conclusion_covers_many_counts_citing_the_first_worst_and_latest():
    days = [DAY + dt.timedelta(days=7 * n) for n in range(10)]
    anc = [0.9, 0.8, 0.3, 0.9, 0.7, 0.9, 0.95, 0.6, 0.9, 0.8]
    graded = table([cbc(day, anc=value) for day, value in zip(days, anc, strict=True)], sex="male")
    [conclusion] = graded.notable
    assert conclusion.value == {"Neutrophil count decreased": 4}
    assert "on 10 counts from" in conclusion.explanation and "ANC 0.3 10^9/L" in conclusion.explanation
    assert [e.index for e in conclusion.evidence] == [0, 2, 9]


# The table's shape ---------------------------------------------------------------------------------------


def test_columns_line_up_with_dates_and_shared_entries_are_written_once():
    graded = table([cbc(anc=0.4, platelets=200), cbc(DAY + dt.timedelta(1), anc=2.0),
                    cbc(DAY + dt.timedelta(2), anc={"value": 1.6, "lower_limit": 1.5, "upper_limit": 7.0})], sex="male")
    assert graded.indexes == [0, 1, 2] and len(graded.dates) == 3
    anc, platelets = graded.analytes["anc"], graded.analytes["platelets"]
    assert anc.values == [0.4, 2.0, 1.6] and platelets.values == [200.0, None, None]
    assert anc.ctcae_terms == "Neutrophil count decreased"  # the same for every count: written once
    assert anc.grades == [4, 0, 0]  # whole numbers: a list (a code would be no shorter)
    assert anc.range_sources == Coded(levels=["reference", "lab"], codes=[0, 0, 1])  # few distinct texts: coded
    assert anc.flags == Coded(levels=["low", "normal"], codes=[0, 1, 1])
    assert anc.comparators is None
    assert graded.column("anc", "ctcae_terms") == ["Neutrophil count decreased"] * 3
    assert graded.column("anc", "range_sources") == ["reference", "reference", "lab"]
    assert graded.column("anc", "upper_limits")[2] == 7.0
    assert graded.column("rbc", "values") == [None, None, None]
    assert graded.latest("platelets") == 0 and graded.latest("rbc") is None
    assert [r.index for r in graded.rows()] == [0, 1, 2]


def test_the_table_survives_a_json_round_trip():
    from allcare.engine import assess, assessment_from_json, assessment_to_json

    case = case_from_dict({"schema": "allcare.case/1", "patient": {"id": "p", "age_years": 30, "sex": "male"},
                           "findings": [cbc(anc={"value": 1.0, "comparator": "<"}, platelets=20), cbc(DAY, wbc=150)]})
    result = assess(case)
    assert assessment_from_json(assessment_to_json(result)) == result


# Results reported as a bound (Quantity.comparator) --------------------------------------------------------


@pytest.mark.parametrize(
    "analyte, reported, term, grade",
    [
        ("platelets", {"value": 5, "comparator": "<"}, "Platelet count decreased", 4),  # wholly below the grade-4 line
        ("anc", {"value": 0.5, "comparator": "<"}, "Neutrophil count decreased", 4),  # below 0.5 is grade 4
        ("anc", {"value": 1.5, "comparator": ">="}, "Neutrophil count decreased", None),  # grade 1 or 0
        ("wbc", {"value": 100, "comparator": ">"}, "Leukocytosis", 3),
        ("hemoglobin", {"value": 7.9, "comparator": "<="}, "Anemia", 3),
    ],
)
def test_a_bound_is_graded_when_it_settles_the_grade(analyte, reported, term, grade):
    result, _ = one(analyte, reported)
    assert (result.comparator, result.ctcae_term, result.grade) == (reported["comparator"], term, grade)


def test_anc_below_1_may_be_grade_3_or_4_and_says_what_would_decide():
    """Read as the number, '< 1.0' was 1.0: grade 2. The true value is below 1.0: grade 3 or 4."""
    result, graded = one("anc", {"value": 1.0, "unit": "10^9/L", "comparator": "<"})
    assert (result.value, result.comparator, result.ctcae_term, result.grade) == (1.0, "<", "Neutrophil count decreased", None)
    assert result.flag == "low"
    [conclusion] = graded.notable
    assert (conclusion.rule, conclusion.determined) == ("COUNTS.CTCAE.BOUND", False)
    assert conclusion.value == {"Neutrophil count decreased": [3, 4]}
    assert "grade 3 or 4" in conclusion.explanation and "< 1 10^9/L" in conclusion.explanation
    assert conclusion.missing == ["ANC as an exact value (a bound that may be CTCAE grade 3 or 4)"]
    assert "neutropenia" in graded.named  # below the lower limit either way


def test_platelets_below_30_are_grade_3_or_4_not_grade_3():
    result, graded = one("platelets", {"value": 30, "comparator": "<"})
    assert result.grade is None and graded.notable[0].value == {"Platelet count decreased": [3, 4]}


def test_a_bound_across_the_leukocytosis_line_decides_neither_term():
    result, graded = one("wbc", {"value": 150, "comparator": "<"})
    assert (result.ctcae_term, result.grade) == (None, None)
    assert graded.notable[0].value == {"Leukocytosis": [3], "White blood cell decreased": [0, 1, 2, 3, 4]}
    assert "hyperleukocytosis" not in graded.named


def test_blasts_below_1_percent_are_not_named_circulating_blasts():
    _, graded = one("blasts_pct", {"value": 1, "comparator": "<"})
    assert graded.named == {} and graded.notable == []


# The table agrees with the scalar grader on every value ---------------------------------------------------

from hypothesis import given, settings
from hypothesis import strategies as st

from allcare.engine.counts.grading import grade_value
from allcare.engine.counts.reference_ranges import age_band

_VALUES = {"wbc": 400.0, "hemoglobin": 25.0, "platelets": 600.0, "anc": 30.0, "rbc": 9.0, "blasts_pct": 100.0}


def _at_most(anc, wbc):
    """``anc`` lowered to the WBC's value when both are exact and it is above it."""
    def exact(v):
        return v if isinstance(v, float) else v["value"] if "comparator" not in v else None
    a, w = exact(anc), exact(wbc)
    if a is None or w is None or a <= w:
        return anc
    return w if isinstance(anc, float) else {**anc, "value": w}


@st.composite
def reported(draw, analyte):
    top = _VALUES[analyte]
    value = draw(st.one_of(st.floats(0, top).map(lambda v: round(v, 2)), st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 8.0, 10.0, 25.0, 50.0, 75.0, 100.0])))
    value = min(value, top)
    kind = draw(st.sampled_from(["bare", "bare", "bound", "lab"]))
    if kind == "bare":
        return value
    if kind == "bound":
        return {"value": value, "comparator": draw(st.sampled_from(["<", "<=", ">=", ">"]))}
    lower = draw(st.floats(0, top / 2).map(lambda v: round(v, 1)))
    return {"value": value, "lower_limit": lower, "upper_limit": round(lower + draw(st.floats(0, top / 2)), 1)}


@st.composite
def blood_counts(draw):
    birth = dt.date(2000, 1, 1) + dt.timedelta(days=draw(st.integers(0, 9000)))
    start = birth + dt.timedelta(days=draw(st.integers(0, 9000)))
    findings = []
    for _ in range(draw(st.integers(1, 25))):
        values = {a: draw(reported(a)) for a in draw(st.sets(st.sampled_from(list(_VALUES)), min_size=1))}
        if "anc" in values and "wbc" in values:  # neutrophils are white cells: the case refuses an ANC above the WBC
            values["anc"] = _at_most(values["anc"], values["wbc"])
        findings.append(cbc(start + dt.timedelta(days=draw(st.integers(0, 1500))), **values))
    patient = {"birth_date": str(birth)} if draw(st.booleans()) else {}
    return findings, patient, draw(st.sampled_from(["male", "female", "unknown", "other"]))


@settings(max_examples=300, deadline=None)
@given(blood_counts())
def test_every_cell_of_the_table_is_what_the_scalar_grader_says(data):
    findings, patient, sex = data
    case = case_from_dict({"schema": "allcare.case/1", "patient": {"id": "p", "sex": sex, **patient}, "findings": findings})
    view = CaseView(case, None, DEFAULT_RULES)
    graded = grade_counts(view)
    for analyte, columns in graded.analytes.items():
        for row, value in enumerate(columns.values):
            if value is None:
                continue
            q = getattr(view.counts.items[row].finding, analyte)
            band = age_band(analyte, view.age_at(graded.dates[row]), sex)
            cell = grade_value(analyte, q.value, q.comparator, q.lower_limit, q.upper_limit, band)
            assert value == q.value
            expected = (q.comparator, cell.lower, cell.upper, cell.source, cell.flag, cell.term, cell.grade)
            actual = tuple(graded.column(analyte, name)[row] for name in
                           ("comparators", "lower_limits", "upper_limits", "range_sources", "flags", "ctcae_terms", "grades"))
            assert actual == expected, (analyte, row, q)


from allcare.engine.counts.ctcae import DECREASE_TERMS as _TERMS
from allcare.engine.counts.ctcae import LEUKOCYTOSIS_GRADE3_ABOVE as _LEUKOCYTOSIS
from allcare.engine.counts.ctcae import ctcae_grade


def _exact_grade(analyte, x, llns):
    """CTCAE v5 of an exact value, written straight from the table (the definition the grader follows)."""
    if analyte == "wbc" and x > _LEUKOCYTOSIS:
        return {("Leukocytosis", 3)}
    term = _TERMS[analyte]
    for grade in sorted(term.below, reverse=True):
        if x < term.below[grade]:
            return {(term.term, grade)}
    if not llns:
        return {(term.term, 0), (term.term, 1)}
    return {(term.term, 1 if x < lln else 0) for lln in llns}


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(list(_TERMS)), st.floats(0, 300).map(lambda v: round(v, 2)),
       st.sampled_from([None, "<", "<=", ">=", ">"]), st.lists(st.floats(0, 200).map(lambda v: round(v, 1)), max_size=2))
def test_a_bound_allows_exactly_the_grades_of_the_values_it_covers(analyte, value, comparator, llns):
    lines = {0.0, value, _LEUKOCYTOSIS, *_TERMS[analyte].below.values(), *llns}
    points = {p + d for p in lines for d in (-1e-6, 0.0, 1e-6)} | {1e6}
    inside = {
        None: lambda x: x == value, "<": lambda x: 0 <= x < value, "<=": lambda x: 0 <= x <= value,
        ">": lambda x: x > value, ">=": lambda x: x >= value,
    }[comparator]
    covered = [x for x in points if inside(x)]
    if not covered:  # "< 0": no count can be below zero
        return
    expected = set().union(*(_exact_grade(analyte, x, llns) for x in covered))
    assert set(ctcae_grade(analyte, value, comparator, llns).outcomes) == expected


# CTCAE v5.0 prints each anaemia line in three units, each rounded on its own: grade 1 is
# "<LLN - 10.0 g/dL; <LLN - 6.2 mmol/L; <LLN - 100 g/L", grade 2 "<10.0 - 8.0 g/dL; <6.2 - 4.9
# mmol/L; <100 - 80 g/L", grade 3 "<8.0 g/dL; <4.9 mmol/L; <80 g/L". 6.2 mmol/L is 9.99 g/dL and
# 4.9 mmol/L is 7.90 g/dL, so a result is graded at the lines of the unit it was reported in.
@pytest.mark.parametrize(
    "value, unit, grade",
    [
        (6.2, "mmol/L", 1),  # at the grade-2 line: not below it
        (6.1, "mmol/L", 2),
        (4.9, "mmol/L", 2),  # at the grade-3 line
        (4.8, "mmol/L", 3),
        (100, "g/L", 1),
        (99, "g/L", 2),
        (80, "g/L", 2),
        (79, "g/L", 3),
        (10.0, "g/dL", 1),
        (7.9, "g/dL", 3),
    ],
)
def test_anaemia_is_graded_at_the_lines_of_the_reported_unit(value, unit, grade):
    result, _ = one("hemoglobin", {"value": value, "unit": unit}, sex="male")
    assert result.grade == grade


def test_a_bound_in_mmol_per_litre_is_read_at_the_mmol_lines():
    """'>= 6.2 mmol/L' with the lab's LLN 6.0 mmol/L: never below the grade-2 line, at or above the LLN: grade 0."""
    written = {"value": 6.2, "unit": "mmol/L", "comparator": ">=", "lower_limit": 6.0}
    result, _ = one("hemoglobin", written, sex="male")
    assert result.grade == 0
