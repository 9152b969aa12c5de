"""The treatment-monitoring finding types of allcare.case/1: units converted like counts, and every
bad value reported with its finding, its field and the accepted range (never a silent wrong number)."""

from __future__ import annotations

import pytest

from allcare.engine.case import CaseValidationError, case_from_dict


def case(*findings: dict) -> dict:
    return {"schema": "allcare.case/1", "patient": {"id": "in", "birth_date": "2015-03-01"}, "findings": list(findings)}


def finding(data: dict):
    return case_from_dict(case(data)).findings[0]


def problems_of(*findings: dict) -> list[str]:
    with pytest.raises(CaseValidationError) as raised:
        case_from_dict(case(*findings))
    return [str(p) for p in raised.value.problems]


CHEM = {"type": "chemistry", "date": "2024-01-02"}


@pytest.mark.parametrize(("field", "raw", "expected", "unit"), [
    ("potassium", 4.1, 4.1, "mmol/L"),
    ("potassium", {"value": 4.1, "unit": "mEq/L"}, 4.1, "mmol/L"),
    ("uric_acid", {"value": 8.0, "unit": "mg/dL"}, 476.0, "umol/L"),
    ("uric_acid", {"value": 0.476, "unit": "mmol/L"}, 476.0, "umol/L"),
    ("creatinine", {"value": 1.0, "unit": "mg/dL"}, 88.4, "umol/L"),
    ("phosphate", {"value": 6.5, "unit": "mg/dL"}, 2.1, "mmol/L"),
    ("phosphate", {"value": 4.5, "unit": "mg/dL"}, 1.45, "mmol/L"),
    ("calcium", {"value": 7.0, "unit": "mg/dL"}, 1.75, "mmol/L"),
    ("calcium", {"value": 4.0, "unit": "mEq/L"}, 2.0, "mmol/L"),
    ("bilirubin", {"value": 1.0, "unit": "mg/dL"}, 17.1, "umol/L"),
    ("albumin", {"value": 3.5, "unit": "g/dL"}, 35.0, "g/L"),
    ("glucose", {"value": 90, "unit": "mg/dL"}, 5.0, "mmol/L"),
    ("triglycerides", {"value": 150, "unit": "mg/dL"}, 1.69, "mmol/L"),
    ("fibrinogen", {"value": 250, "unit": "mg/dL"}, 2.5, "g/L"),
    ("alt", {"value": 0.5, "unit": "ukat/L"}, 30.0, "U/L"),
    ("alt", 35, 35.0, "U/L"),
    ("ldh", {"value": 480, "unit": "IU/L"}, 480.0, "U/L"),
])
def test_chemistry_units_convert_to_si(field, raw, expected, unit):
    q = getattr(finding({**CHEM, field: raw}), field)
    assert (q.value, q.unit) == (pytest.approx(expected), unit)


def test_the_reported_value_and_unit_are_kept_for_export():
    data = finding({**CHEM, "uric_acid": {"value": 8.0, "unit": "mg/dL", "upper_limit": 5.5}})
    assert data.uric_acid.reported == {"value": 8.0, "unit": "mg/dL", "upper_limit": 5.5}
    assert data.uric_acid.upper_limit == 327.0


@pytest.mark.parametrize("field", ["uric_acid", "creatinine", "bilirubin", "phosphate", "calcium", "glucose", "albumin",
                                   "fibrinogen", "triglycerides"])
def test_analytes_reported_in_many_fold_different_units_need_their_unit(field):
    (problem,) = problems_of({**CHEM, field: 8.0})
    assert problem.startswith(f"findings[0] (chemistry, 2024-01-02): {field}: give the unit")


@pytest.mark.parametrize(("field", "raw", "fragment"), [
    ("potassium", 40, "must be <= 15 mmol/L"),
    ("potassium", -1, "must be >= 0"),
    ("potassium", {"value": 4, "unit": "U/L"}, "unit 'U/L' is not accepted for a potassium concentration"),
    ("creatinine", {"value": 88, "unit": "10*9/L"}, "not accepted for a creatinine concentration"),
    ("alt", 250000, "must be <= 100000 U/L"),
    ("alt", {"value": "high", "unit": "U/L"}, "'value' must be a number"),
    ("calcium", {"value": 9.5, "unit": "mmol/L"}, "must be <= 6 mmol/L"),
    ("sodium", 140, "unknown field"),
])
def test_bad_chemistry_names_the_field_and_the_range(field, raw, fragment):
    problems = problems_of({**CHEM, field: raw})
    assert any(f"(chemistry, 2024-01-02): {field}" in p and fragment in p for p in problems), problems


def test_an_empty_chemistry_is_refused():
    (problem,) = problems_of(CHEM)
    assert "a chemistry finding needs at least one of potassium" in problem


# Vital signs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    (38.5, 38.5), ({"value": 101, "unit": "[degF]"}, 38.33), ({"value": 100.4, "unit": "degF"}, 38.0),
    ({"value": 38.5, "unit": "°C"}, 38.5),
])
def test_temperature_converts_fahrenheit_with_its_offset(raw, expected):
    assert finding({"type": "vitals", "date": "2024-01-02", "temperature": raw}).temperature.value == expected


@pytest.mark.parametrize(("data", "fragment"), [
    ({"temperature": 101}, "temperature: must be <= 45 Cel"),  # Fahrenheit without its unit
    ({"temperature": 20}, "temperature: must be >= 25 Cel"),
    ({"temperature": {"value": 38, "unit": "K"}}, "temperature: unit 'K' is not accepted"),
    ({"temperature": 38.4, "time": "25:00"}, "time: String should match pattern"),
    ({"temperature": 38.4, "sustained_minutes": 0}, "sustained_minutes: Input should be greater than or equal to 1"),
    ({"sustained_minutes": 60, "heart_rate": 120}, "sustained_minutes describes a temperature"),
    ({"temperature": 38.4, "temperature_site": "armpit"}, "temperature_site: Input should be"),
    ({"systolic_bp": 80, "diastolic_bp": 90}, "diastolic_bp is above systolic_bp"),
    ({"heart_rate": 500}, "heart_rate: must be <= 350"),
    ({}, "a vitals finding needs at least one of temperature"),
])
def test_bad_vitals(data, fragment):
    problems = problems_of({"type": "vitals", "date": "2024-01-02", **data})
    assert any(fragment in p and p.startswith("findings[0] (vitals, 2024-01-02)") for p in problems), problems


# Body size -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "fragment"), [
    ({"height": 1.2}, "height: must be >= 20 cm"),  # metres without the unit
    ({"height": {"value": 1.2, "unit": "m"}, "weight": 900}, "weight: must be <= 350 kg"),
    ({"bsa": 5}, "bsa: must be <= 4 m2"),
    ({"weight": {"value": 44, "unit": "stone"}}, "weight: unit 'stone' is not accepted for a body weight"),
    ({}, "an anthropometry finding needs at least one of height, weight, bsa"),
])
def test_bad_anthropometry(data, fragment):
    problems = problems_of({"type": "anthropometry", "date": "2024-01-02", **data})
    assert any(fragment in p for p in problems), problems


def test_height_and_weight_units_convert():
    f = finding({"type": "anthropometry", "date": "2024-01-02", "height": {"value": 1.2, "unit": "m"},
                 "weight": {"value": 44, "unit": "[lb_av]"}})
    assert f.height.value == 120 and f.weight.value == pytest.approx(19.958, abs=1e-3)


# Doses ---------------------------------------------------------------------------------------


def test_a_dose_keeps_its_kind_from_its_unit_and_folds_the_agent():
    f = finding({"type": "dose", "agent": " 6-MP ", "dose": {"value": 1.5, "unit": "g/m2"}, "start": "2024-01-02"})
    assert (f.agent, f.dose.value, f.dose.unit, f.date) == ("mercaptopurine", 1500, "mg/m2", f.start)
    units = finding({"type": "dose", "agent": "Oncaspar", "dose": {"value": 2500, "unit": "IU/m2"}, "start": "2024-01-02"})
    assert (units.agent, units.dose.unit) == ("pegaspargase", "[iU]/m2")
    unlisted = finding({"type": "dose", "agent": "Cotrimoxazole", "dose": {"value": 240, "unit": "mg"}, "start": "2024-01-02"})
    assert unlisted.agent == "cotrimoxazole"


@pytest.mark.parametrize("unit", ["mg/m2", "mg/m^2", "mg/m²", "mg/m**2"])
def test_a_power_of_a_unit_symbol_is_read_in_any_notation(unit):
    f = finding({"type": "dose", "agent": "mercaptopurine", "dose": {"value": 75, "unit": unit}, "start": "2024-01-02"})
    assert (f.dose.value, f.dose.unit, f.dose.reported["unit"]) == (75, "mg/m2", unit)


@pytest.mark.parametrize(("unit", "fragment"), [("%", "not accepted for a dose"), ("mg/mL", "not accepted for a dose")])
def test_a_dose_unit_of_no_dose_kind_is_refused(unit, fragment):
    # mg/kg and % are both pure numbers to UCUM: a dose per weight reads only its own spellings.
    assert any(fragment in p for p in problems_of(
        {"type": "dose", "agent": "mercaptopurine", "dose": {"value": 1, "unit": unit}, "start": "2024-01-02"}))


@pytest.mark.parametrize(("data", "fragment"), [
    ({"dose": 60}, "dose: a dose needs its unit"),
    ({"dose": {"value": 60}}, "dose: a dose needs its unit"),
    ({"dose": {"value": 60, "unit": "mg/dL"}}, "unit 'mg/dL' is not accepted for a dose"),
    ({"dose": {"value": -5, "unit": "mg"}}, "must be >= 0 mg"),
    ({"dose": {"value": 200000, "unit": "mg"}}, "must be <= 100000 mg"),
    ({"dose": {"value": 60, "unit": "mg", "lower_limit": 1}}, "unexpected key(s) ['lower_limit']"),
    ({"agent": "  "}, "agent: is blank"),
    ({"frequency": "hourly"}, "frequency: Input should be"),
    ({"route": "inhaled"}, "route: Input should be"),
    ({"days_per_week": 3}, "days_per_week applies to a daily dose only"),
    ({"frequency": "daily", "days_per_week": 8}, "days_per_week: Input should be less than or equal to 7"),
    ({"end": "2023-12-01"}, "end (2023-12-01) is before start (2024-01-02)"),
    ({"infusion_hours": 0}, "infusion_hours: Input should be greater than 0"),
])
def test_bad_doses(data, fragment):
    base = {"type": "dose", "agent": "methotrexate", "dose": {"value": 20, "unit": "mg"}, "start": "2024-01-02"}
    problems = problems_of({**base, **data})
    assert any(fragment in p for p in problems), problems


# Pharmacogenetics, drug levels, adverse events ----------------------------------------------------


@pytest.mark.parametrize(("data", "fragment"), [
    ({"gene": "CYP2D6", "phenotype": "NM"}, "gene: Input should be 'TPMT' or 'NUDT15'"),
    ({"gene": "TPMT", "phenotype": "rapid"}, "phenotype: Input should be"),
    ({"gene": "TPMT", "diplotype": "1/3A"}, "diplotype: String should match pattern"),
    ({"gene": "TPMT"}, "needs the phenotype or the diplotype"),
])
def test_bad_pharmacogenetics(data, fragment):
    problems = problems_of({"type": "pharmacogenetics", "date": "2024-01-02", **data})
    assert any(fragment in p for p in problems), problems


def test_cpic_phenotype_spellings_are_folded():
    for raw, folded in (("IM", "intermediate_metabolizer"), ("Poor Metaboliser", "poor_metabolizer"),
                        ("possible IM", "possible_intermediate_metabolizer"), ("normal", "normal_metabolizer")):
        assert finding({"type": "pharmacogenetics", "date": "2024-01-02", "gene": "nudt15", "phenotype": raw}).phenotype == folded


@pytest.mark.parametrize(("data", "fragment"), [
    ({"value": 12, "hours_after_start": 0}, "hours_after_start: Input should be greater than 0"),
    ({"value": 12}, "hours_after_start: required field is missing"),
    ({"value": 20000, "hours_after_start": 42}, "value: must be <= 10000 umol/L"),
    ({"value": {"value": 12, "unit": "mL"}, "hours_after_start": 42}, "not accepted for a methotrexate concentration"),
    ({"value": 12, "hours_after_start": 42, "infusion_hours": 200}, "infusion_hours: Input should be less than or equal to 168"),
])
def test_bad_methotrexate_levels(data, fragment):
    problems = problems_of({"type": "methotrexate_level", "date": "2024-01-02", **data})
    assert any(fragment in p for p in problems), problems


def test_methotrexate_in_nanomoles_converts():
    f = finding({"type": "methotrexate_level", "date": "2024-01-02", "value": {"value": 450, "unit": "nmol/L"}, "hours_after_start": 48})
    assert f.value.value == 0.45


@pytest.mark.parametrize(("data", "fragment"), [
    ({"value": 150}, "value: must be <= 100 IU/mL"),  # IU/L without its unit
    ({"value": 0.1, "preparation": "pegylated"}, "preparation: Input should be"),
    ({"value": 0.1, "days_after_dose": -1}, "days_after_dose: Input should be greater than or equal to 0"),
])
def test_bad_asparaginase_activity(data, fragment):
    problems = problems_of({"type": "asparaginase_activity", "date": "2024-01-02", **data})
    assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize(("data", "fragment"), [
    ({"term": "pancreatitis", "grade": 1}, "CTCAE defines grades 2, 3, 4, 5 for Pancreatitis (got grade 1)"),
    ({"term": "Febrile neutropenia", "grade": 2}, "CTCAE defines grades 3, 4, 5 for Febrile neutropenia"),
    ({"term": "anaphylaxis", "grade": 1}, "for Anaphylaxis"),
    ({"term": "osteonecrosis", "grade": 6}, "grade: Input should be less than or equal to 5"),
    ({"term": " ", "grade": 2}, "term: is blank"),
    ({"term": "osteonecrosis", "grade": 2, "end": "2023-01-01"}, "end (2023-01-01) is before start"),
    ({"term": "osteonecrosis", "grade": 2, "ctcae_version": "4.03"}, "ctcae_version: Input should be '5.0' or '6.0'"),
])
def test_bad_adverse_events(data, fragment):
    problems = problems_of({"type": "adverse_event", "start": "2024-01-02", **data})
    assert any(fragment in p for p in problems), problems


def test_every_new_finding_type_is_named_in_the_unknown_type_message():
    (problem,) = problems_of({"type": "biopsy", "date": "2024-01-02"})
    for kind in ("anthropometry", "dose", "chemistry", "vitals", "pharmacogenetics", "methotrexate_level",
                 "asparaginase_activity", "adverse_event"):
        assert kind in problem
