"""Finding forms: from submitted fields to a case-file finding, and the case model's verdict per field."""

from __future__ import annotations

import datetime as dt

import pytest

from allcare.engine.case import FINDING_TYPES
from allcare.web.pages.forms import FORMS, attach, blank_values, finding_from_form, validate_finding

PATIENT = {"id": "F-1", "birth_date": "2019-05-14", "sex": "female"}


def parsed(kind: str, **fields: str):
    return validate_finding(finding_from_form(kind, fields), PATIENT)


def test_there_is_a_form_for_every_finding_type():
    assert set(FORMS) == set(FINDING_TYPES)


@pytest.mark.parametrize(("fields", "expected"), [
    ({"wbc": "3.4"}, 3.4),
    ({"wbc": "3,4"}, 3.4),
    ({"wbc": "0,45"}, 0.45),
    ({"wbc": "3400", "wbc_unit": "/uL"}, {"value": 3400.0, "unit": "/uL"}),
    ({"wbc": "3.4", "wbc_unit": "10^9/L", "wbc_lower": "4.5", "wbc_upper": "13.5"},
     {"value": 3.4, "unit": "10^9/L", "lower_limit": 4.5, "upper_limit": 13.5}),
])
def test_a_quantity_keeps_the_unit_and_range_the_lab_reported(fields, expected):
    result = parsed("cbc", date="2024-01-08", **fields)
    assert result.ok, result.errors
    assert result.data["wbc"] == expected


@pytest.mark.parametrize("typed", ["12,400", "1,000,000", "3,400.5"])
def test_a_thousands_separator_is_refused_rather_than_guessed(typed):
    result = parsed("cbc", date="2024-01-08", wbc=typed)
    assert "ambiguous" in result.errors["wbc"][0]
    assert "wbc" not in result.data


@pytest.mark.parametrize("typed", ["\u0661\u0662", "1\u0662", "\uff11\uff12", "1_200", "\u0967\u0968", "nan", "infinity"])
def test_a_number_in_other_digits_or_with_underscores_is_refused_naming_the_field(typed):
    """Python's float() reads Arabic-Indic, Devanagari and full-width digits and '1_200' as numbers; a form
    must not store 12 for a field whose digits the clinician may have read differently (a browser's number
    field and the API accept only 0-9)."""
    for field in ("wbc", "blasts_pct"):
        result = parsed("cbc", date="2024-01-08", **{field: typed})
        assert field in result.errors and field not in result.data, (field, result.errors)
    lower = parsed("cbc", date="2024-01-08", wbc="3.4", wbc_lower=typed)
    assert "wbc" in lower.errors


def test_a_range_without_a_value_is_an_error_on_that_field():
    result = parsed("cbc", date="2024-01-08", anc="1.0", wbc_lower="4")
    assert result.errors == {"wbc": ["a reference range needs the value too"]}


def test_markers_are_read_one_per_line_in_several_spellings():
    result = parsed("immunophenotype", date="2024-01-08", markers="CD19 98\ncyCD79a: positive\nCD10=dim; MPO negative\n\n")
    assert result.ok, result.errors
    assert result.data["markers"] == {"CD19": 98.0, "cyCD79a": "positive", "CD10": "dim", "MPO": "negative"}


def test_lists_are_comma_separated():
    result = parsed("genetics", date="2024-01-08", fusions="BCR::ABL1, ", negative="KMT2A-r; ETV6::RUNX1")
    assert result.data["fusions"] == ["BCR::ABL1"]
    assert result.data["negative"] == ["KMT2A-r", "ETV6::RUNX1"]


@pytest.mark.parametrize(("value", "expected"), [("yes", True), ("no", False), ("", None)])
def test_tristate_answers(value, expected):
    result = parsed("csf", date="2024-01-08", wbc="1", blasts=value)
    assert result.data.get("blasts") is expected


def test_the_treatment_date_defaults_to_its_start():
    result = parsed("treatment", phase="induction", start="2024-01-09", agents="vincristine, dexamethasone")
    assert result.ok, result.errors
    assert "date" not in result.data and result.data["agents"] == ["vincristine", "dexamethasone"]


@pytest.mark.parametrize(("kind", "fields", "field"), [
    ("cbc", {"date": "2024-01-08", "wbc": "12400"}, "wbc"),
    ("cbc", {"date": "2018-01-01", "wbc": "3"}, "date"),
    ("treatment", {"phase": "induction", "start": "2018-01-01"}, "start"),
    ("treatment", {"phase": "induction", "start": "2024-02-01", "end": "2024-01-01"}, "end"),
    ("mrd", {"date": "2024-01-08", "percent": "101"}, "percent"),
    ("cbc", {"date": "2024-01-08"}, ""),
    ("marrow", {"date": "2024-01-08", "method": "biopsy"}, "method"),
])
def test_the_case_model_names_the_field(kind, fields, field):
    result = parsed(kind, **fields)
    assert not result.ok
    assert field in result.errors, result.errors


def test_a_problem_from_the_whole_record_lands_on_its_field():
    result = finding_from_form("cbc", {"date": "2024-01-08", "wbc": "3"})
    attach(result, "findings[7] (cbc, 2024-01-08): wbc", "must be >= 0 10^9/L")
    attach(result, "findings[7] (cbc, 2024-01-08)", "dated before birth_date 2025-01-01")
    assert result.errors == {"wbc": ["must be >= 0 10^9/L"], "date": ["dated before birth_date 2025-01-01"]}


def test_a_blank_form_starts_today_in_canonical_units():
    values = blank_values("cbc", dt.date(2024, 3, 1))
    assert values["date"] == "2024-03-01"
    assert values["wbc_unit"] == "10^9/L" and values["hemoglobin_unit"] == "g/dL"
    assert blank_values("treatment", dt.date(2024, 3, 1))["start"] == "2024-03-01"
