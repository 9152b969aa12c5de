"""The allcare.case/1 input model: units, vocabulary, validation messages."""

from __future__ import annotations

import json
from typing import Literal, get_args, get_origin

import pytest

from allcare.engine.case import CaseValidationError, case_from_dict, normalise_lesion, normalise_marker_name


def case(*findings: dict, patient: dict | None = None, **extra) -> dict:
    return {
        "schema": "allcare.case/1",
        "patient": patient or {"id": "t1", "birth_date": "2015-03-01", "sex": "female"},
        "findings": list(findings),
        **extra,
    }


def problems_of(data: dict) -> list[str]:
    with pytest.raises(CaseValidationError) as raised:
        case_from_dict(data)
    return [str(p) for p in raised.value.problems]


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ("wbc", 12.4, 12.4),
        ("wbc", {"value": 12400, "unit": "/uL"}, 12.4),
        ("wbc", {"value": 12400, "unit": "cells/uL"}, 12.4),
        ("wbc", {"value": 12400, "unit": "/mm3"}, 12.4),
        ("wbc", {"value": 12.4, "unit": "10*9/L"}, 12.4),
        ("wbc", {"value": 12.4, "unit": "10^9/L"}, 12.4),
        ("wbc", {"value": 12.4, "unit": "10*3/uL"}, 12.4),
        ("wbc", {"value": 12.4, "unit": "K/uL"}, 12.4),
        ("platelets", {"value": 85000, "unit": "/uL"}, 85.0),
        ("anc", {"value": 450, "unit": "cells/uL"}, 0.45),
        ("hemoglobin", {"value": 82, "unit": "g/L"}, 8.2),
        ("hemoglobin", {"value": 8.2, "unit": "g/dL"}, 8.2),
        ("hemoglobin", {"value": 6.2, "unit": "mmol/L"}, 9.99068),
        ("rbc", {"value": 3.1, "unit": "10*12/L"}, 3.1),
    ],
)
def test_units_convert_to_the_canonical_unit(field, raw, expected):
    parsed = case_from_dict(case({"type": "cbc", "date": "2024-01-02", field: raw}))
    assert getattr(parsed.findings[0], field).value == pytest.approx(expected, rel=1e-6)


def test_reported_value_and_unit_survive_a_round_trip():
    data = case(
        {
            "type": "cbc",
            "date": "2024-01-02",
            "wbc": {"value": 12400, "unit": "/uL", "lower_limit": 4500, "upper_limit": 13500},
            "platelets": 30,
        }
    )
    parsed = case_from_dict(data)
    assert parsed.findings[0].wbc.lower_limit == pytest.approx(4.5)
    again = case_from_dict(json.loads(json.dumps(parsed.to_json_dict())))
    assert again == parsed
    assert parsed.to_json_dict()["findings"][0]["wbc"] == {"value": 12400, "unit": "/uL", "lower_limit": 4500, "upper_limit": 13500}


def test_an_unknown_unit_names_the_field_and_the_accepted_units():
    [problem] = problems_of(case({"type": "cbc", "date": "2024-01-02", "platelets": {"value": 3, "unit": "mg/dL"}}))
    assert problem.startswith("findings[0] (cbc, 2024-01-02): platelets:")
    assert "'mg/dL'" in problem and "K/uL" in problem and "/uL" in problem


def test_g_per_litre_is_not_giga_per_litre():
    """G/L is a count spelling, g/L a haemoglobin one: each is only accepted where it belongs."""
    assert case_from_dict(case({"type": "cbc", "date": "2024-01-02", "wbc": {"value": 5, "unit": "G/L"}})).findings[0].wbc.value == 5
    [problem] = problems_of(case({"type": "cbc", "date": "2024-01-02", "hemoglobin": {"value": 90, "unit": "10^9/L"}}))
    assert "hemoglobin" in problem and "g/dL" in problem


@pytest.mark.parametrize(
    ("field", "unit"),
    [("wbc", "g/L"), ("platelets", "g/L"), ("hemoglobin", "G/L"), ("anc", "mmol/L")],
)
def test_a_unit_of_another_kind_is_not_matched_by_ignoring_case(field, unit):
    """G/L and g/L differ only in case; each spelling is read only as its own kind."""
    [problem] = problems_of(case({"type": "cbc", "date": "2024-01-02", field: {"value": 5, "unit": unit}}))
    assert problem.startswith(f"findings[0] (cbc, 2024-01-02): {field}: unit {unit!r} is not accepted")


@pytest.mark.parametrize(("unit", "expected"), [("k/ul", 5.0), ("CELLS/UL", 0.005), ("10^9/l", 5.0)])
def test_lab_spellings_in_another_case_are_still_accepted(unit, expected):
    data = case({"type": "cbc", "date": "2024-01-02", "wbc": {"value": 5, "unit": unit}})
    assert case_from_dict(data).findings[0].wbc.value == pytest.approx(expected)


@pytest.mark.parametrize("when", ["9999-12-31", "1899-12-31", "2200-01-01"])
def test_a_date_no_record_can_hold_is_rejected_with_its_field(when):
    problems = problems_of(case({"type": "cbc", "date": when, "wbc": 5}, patient={"id": "t1", "age_years": 5}))
    assert problems == [f"findings[0] (cbc, {when}): date: " + problems[0].split(": date: ")[1]]
    assert "1900-01-01" in problems[0] or "2199-12-31" in problems[0]


@pytest.mark.parametrize("field", ["fusions", "alterations", "negative"])
def test_a_blank_lesion_name_is_rejected(field):
    [problem] = problems_of(case({"type": "genetics", "date": "2024-01-02", field: ["BCR::ABL1", "  "]}))
    assert problem.startswith(f"findings[0] (genetics, 2024-01-02): {field}[1]:") and "blank" in problem


def test_a_count_in_per_microlitre_without_its_unit_is_caught():
    [problem] = problems_of(case({"type": "cbc", "date": "2024-01-02", "wbc": 12400}))
    assert "wbc" in problem and "<= 2000" in problem and "'unit'" in problem


@pytest.mark.parametrize(
    ("finding", "fragment"),
    [
        ({"type": "cbc", "date": "2024-01-02", "wbc": -1}, "wbc: must be >= 0"),
        ({"type": "marrow", "date": "2024-01-02", "blasts_pct": 100.1}, "blasts_pct: must be <= 100"),
        ({"type": "mrd", "date": "2024-01-02", "percent": 101}, "percent"),
        ({"type": "mrd", "date": "2024-01-02", "value": 1.5}, "value"),
        ({"type": "csf", "date": "2024-01-02", "wbc": -3, "blasts": True}, "wbc: must be >= 0"),
        ({"type": "treatment", "phase": "induction", "start": "2024-02-01", "end": "2024-01-01"}, "end (2024-01-01) is before start"),
        ({"type": "treatment", "phase": "chemo", "start": "2024-02-01"}, "phase"),
        ({"type": "biopsy", "date": "2024-01-02"}, "unknown finding type 'biopsy'"),
        ({"date": "2024-01-02"}, "finding has no 'type'"),
        ({"type": "cbc", "date": "2024-01-02", "wcb": 3, "wbc": 3}, "wcb: unknown field"),
        ({"type": "cbc", "date": "2024-02-30", "wbc": 3}, "date"),
        ({"type": "cbc", "date": "2024-01-02"}, "at least one of"),
        ({"type": "extramedullary", "date": "2024-01-02", "site": "brain", "present": True}, "site"),
        ({"type": "immunophenotype", "date": "2024-01-02", "markers": {"CD19": "maybe"}}, "markers"),
        ({"type": "immunophenotype", "date": "2024-01-02", "markers": {"CD19": 120}}, "markers"),
    ],
)
def test_impossible_values_name_the_finding_and_the_field(finding, fragment):
    problems = problems_of(case(finding))
    assert problems, "expected a validation problem"
    assert any(fragment in p for p in problems), problems
    assert all(p.startswith("findings[0] (") for p in problems), problems


def test_every_problem_is_reported_at_once():
    problems = problems_of(
        case(
            {"type": "cbc", "date": "2024-01-02", "wbc": -1},
            {"type": "marrow", "date": "2010-01-01", "blasts_pct": 30},
            {"type": "nonsense", "date": "2024-01-02"},
            patient={"id": "t1", "birth_date": "2015-03-01", "sex": "woman"},
        )
    )
    joined = "\n".join(problems)
    assert "patient.sex" in joined
    assert "findings[0] (cbc, 2024-01-02): wbc" in joined
    assert "findings[1] (marrow, 2010-01-01): dated before birth_date 2015-03-01" in joined
    assert "findings[2] (nonsense, 2024-01-02): unknown finding type" in joined


def test_a_finding_dated_before_birth_is_rejected_on_its_own():
    problems = problems_of(case({"type": "marrow", "date": "2014-12-31", "blasts_pct": 80}))
    assert problems == ["findings[0] (marrow, 2014-12-31): dated before birth_date 2015-03-01"]


def test_age_and_birth_date_that_disagree_are_rejected():
    problems = problems_of(
        case(
            {"type": "marrow", "date": "2024-01-02", "blasts_pct": 80},
            patient={"id": "t1", "birth_date": "2015-03-01", "age_years": 30},
            diagnosis_date="2024-01-02",
        )
    )
    assert any("contradicts birth_date" in p for p in problems)


def test_an_unsupported_schema_is_named():
    problems = problems_of(case({"type": "marrow", "date": "2024-01-02", "blasts_pct": 80}, schema="allcare.case/9"))
    assert problems == ["schema: unsupported schema 'allcare.case/9'; this version of allcare reads 'allcare.case/1'"]


def test_not_an_object():
    with pytest.raises(CaseValidationError):
        case_from_dict([1, 2, 3])


def test_treatment_date_defaults_to_its_start():
    parsed = case_from_dict(case({"type": "treatment", "phase": "induction", "start": "2024-01-05"}))
    assert parsed.findings[0].date.isoformat() == "2024-01-05"


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("cd19", "CD19"),
        ("CyCD79a", "cCD79a"),
        ("CD79a", "cCD79a"),
        ("cyCD3", "cCD3"),
        ("cCD3", "cCD3"),
        ("CD3", "sCD3"),
        ("sCD3", "sCD3"),
        ("hla dr", "HLA-DR"),
        ("HLA-DR", "HLA-DR"),
        ("tdt", "TdT"),
        ("cIgM", "cIgM"),
        ("sIg", "sIg"),
        ("CDw65", "CD65"),
        ("MPO", "MPO"),
        ("CD371", "CD371"),
        ("CD200", "CD200"),
    ],
)
def test_marker_names_are_folded(raw, canonical):
    assert normalise_marker_name(raw) == canonical


def test_the_same_marker_twice_with_different_values_is_an_error():
    problems = problems_of(case({"type": "immunophenotype", "date": "2024-01-02", "markers": {"CD19": "positive", "cd19": "negative"}}))
    assert any("CD19 is given twice" in p for p in problems)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("BCR::ABL1", "BCR::ABL1"),
        ("BCR-ABL1", "BCR::ABL1"),
        ("bcr/abl", "BCR::ABL1"),
        ("Ph", "BCR::ABL1"),
        ("ETV6-RUNX1", "ETV6::RUNX1"),
        ("TEL-AML1", "ETV6::RUNX1"),
        ("IL3::IGH", "IGH::IL3"),
        ("KMT2A-r", "KMT2A_rearrangement"),
        ("MLL", "KMT2A_rearrangement"),
        ("KMT2A::AFF1", "KMT2A::AFF1"),
        ("iamp21", "iAMP21"),
        ("IKZF1 deletion", "IKZF1_deletion"),
        ("ikzf1_del", "IKZF1_deletion"),
        ("TP53 mutated", "TP53_mutation"),
        ("PAX5 p80r", "PAX5_P80R"),
        ("IKZF1_N159Y", "IKZF1_N159Y"),
        ("CRLF2-r", "CRLF2_rearrangement"),
        ("CRLF2 rearranged", "CRLF2_rearrangement"),
    ],
)
def test_lesion_spellings_are_folded_so_negative_and_detected_compare(raw, canonical):
    assert normalise_lesion(raw) == canonical


def test_genetics_lists_are_canonical_and_deduplicated():
    parsed = case_from_dict(
        case({"type": "genetics", "date": "2024-01-02", "fusions": ["BCR-ABL1", "BCR::ABL1"], "negative": ["MLL", "KMT2A-r"]})
    )
    genetics = parsed.findings[0]
    assert genetics.fusions == ["BCR::ABL1"]
    assert genetics.negative == ["KMT2A_rearrangement"]


# Validation paths: a bare number checked by pydantic-core, JSON validated in one pass -----------------------

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from allcare.engine.case import Cbc, case_from_json
from allcare.engine.case.quantity import CELL_COUNT, quantity_parser
from allcare.interop.casefile import load_case

EXAMPLES = sorted(p for p in (Path(__file__).resolve().parents[1] / "examples").iterdir()
                  if p.suffix in (".json", ".yaml") and p.name != "expectations.yaml")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_json_validated_in_one_pass_gives_the_same_case(path):
    expected = load_case(path)
    assert case_from_json(json.dumps(expected.to_json_dict())) == expected


_parse_cell_count = quantity_parser(CELL_COUNT, 0.0, 2000.0)
_RAW = st.one_of(
    st.integers(-5, 3000), st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.text(max_size=3),
    st.just(-0.0), st.just(2000.0), st.just(2000.0000001), st.just(10**400),
    st.fixed_dictionaries({"value": st.floats(0, 5000)}, optional={"unit": st.sampled_from(["/uL", "K/uL", "g/L", "x"]),
                                                                  "comparator": st.sampled_from(["<", ">=", "~"])}),
)


@settings(max_examples=400, deadline=None)
@given(_RAW)
def test_a_quantity_field_says_what_its_parser_says(raw):
    """The fast branch for bare numbers agrees with the parser: the same quantity, or the parser's message alone."""
    try:
        expected = _parse_cell_count(raw)
    except ValueError as error:
        message = str(error)
        data = case({"type": "cbc", "date": "2024-01-02", "wbc": raw})
        assert problems_of(data) == [f"findings[0] (cbc, 2024-01-02): wbc: {message}"]
        with pytest.raises(CaseValidationError) as raised:
            case_from_json(json.dumps(data)) if isinstance(raw, (dict, str, bool, int)) else case_from_dict(data)
        assert [str(p) for p in raised.value.problems] == [f"findings[0] (cbc, 2024-01-02): wbc: {message}"]
        return
    got = Cbc(date="2024-01-02", wbc=raw).wbc
    assert (got, repr(got.value)) == (expected, repr(expected.value))


@pytest.mark.parametrize("value", [
    10**400, -(10**400), {"value": 10**400, "unit": "10*9/L"}, {"value": 3.1, "unit": "10*9/L", "upper_limit": 10**400},
], ids=["bare", "bare negative", "value", "limit"])
@pytest.mark.parametrize("read", [case_from_dict, lambda data: case_from_json(json.dumps(data))], ids=["dict", "json"])
def test_a_number_too_large_for_a_float_is_refused_naming_the_field(value, read):
    """JSON integers have no size limit; one beyond a float's range is refused like infinity, never a traceback."""
    data = case({"type": "cbc", "date": "2024-01-02", "wbc": value})
    with pytest.raises(CaseValidationError) as raised:
        read(data)
    [problem] = [str(p) for p in raised.value.problems]
    assert problem.startswith("findings[0] (cbc, 2024-01-02): wbc: ") and "must be a finite number" in problem


@pytest.mark.parametrize("read", [case_from_dict, lambda data: case_from_json(json.dumps(data))], ids=["dict", "json"])
def test_a_dose_too_large_for_a_float_is_refused_naming_the_field(read):
    data = case({"type": "dose", "agent": "daunorubicin", "dose": {"value": 10**400, "unit": "mg/m2"},
                 "start": "2024-01-02"})
    with pytest.raises(CaseValidationError) as raised:
        read(data)
    assert [str(p) for p in raised.value.problems] == [
        "findings[0] (dose, 2024-01-02): dose: 'value' must be a finite number"]


@pytest.mark.parametrize("text", ["\ud800", "46,XX\udfff[20]"])
def test_text_that_is_not_unicode_is_refused_with_a_message_that_says_so(text):
    """JSON may escape a lone surrogate (\\ud800); no store, page or PDF can keep it, so the edge refuses it plainly."""
    data = case({"type": "cytogenetics", "date": "2024-01-02", "karyotype": text})
    expected = ["findings[0] (cytogenetics, 2024-01-02): karyotype: text is not valid Unicode (it holds a lone surrogate); "
                "re-export the file as UTF-8"]
    assert problems_of(data) == expected
    with pytest.raises(CaseValidationError) as raised:
        case_from_json(json.dumps(data))
    assert [str(p) for p in raised.value.problems] == expected


def _holds_free_text(annotation: object) -> bool:
    """Whether a field's type can hold text other than a fixed word (a Literal's or an Enum's)."""
    if annotation is str:
        return True
    if get_origin(annotation) is Literal:
        return False
    return any(_holds_free_text(arg) for arg in get_args(annotation))


def test_every_field_that_holds_free_text_is_checked_for_text_no_store_can_keep():
    """The case model checks only its text fields for NUL and lone surrogates (numbers and dates cost nothing);
    a new text field must join them."""
    from allcare.engine.case import Case, Finding, Patient
    from allcare.engine.case.models import TEXT_FIELDS

    models = _models_within(Case)
    assert {Patient, *get_args(get_args(Finding)[0])} <= set(models)
    unchecked = [f"{model.__name__}.{name}" for model in models for name, info in model.model_fields.items()
                 if _holds_free_text(info.annotation) and name not in TEXT_FIELDS]
    assert not unchecked


def _models_within(model: type[BaseModel]) -> list[type[BaseModel]]:
    """``model`` and every model its fields can hold, however deeply nested (in lists, unions, mappings)."""
    found: list[type[BaseModel]] = []

    def visit(annotation: object) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation not in found:
                found.append(annotation)
                for info in annotation.model_fields.values():
                    visit(info.annotation)
            return
        for arg in get_args(annotation):
            visit(arg)

    visit(model)
    return found


@pytest.mark.parametrize(("finding", "where"), [
    ({"type": "cbc", "date": "2024-01-02", "wbc": 3.1, "note": "typed\x00by a scanner"}, "(cbc, 2024-01-02): note"),
    ({"type": "cbc", "date": "2024-01-02", "wbc": 3.1, "id": "obs\x001"}, "(cbc, 2024-01-02): id"),
    ({"type": "genetics", "date": "2024-01-02", "fusions": ["BCR::ABL1\x00"]}, "(genetics, 2024-01-02): fusions"),
    ({"type": "immunophenotype", "date": "2024-01-02", "markers": {"CD19\x00": "positive"}},
     "(immunophenotype, 2024-01-02): markers"),
    ({"type": "treatment", "start": "2024-01-02", "phase": "induction", "agents": ["vincristine\x00"]},
     "(treatment, 2024-01-02): agents"),
    ({"type": "marrow", "date": "2024-01-02", "blasts_pct": 3, "timepoint": "day\x0029"}, "(marrow, 2024-01-02): timepoint"),
])
def test_a_nul_in_any_text_field_is_refused_naming_the_field(finding, where):
    expected = [f"findings[0] {where}: contains a NUL character (\\x00); remove it"]
    assert problems_of(case(finding)) == expected
    with pytest.raises(CaseValidationError) as raised:
        case_from_json(json.dumps(case(finding)))
    assert [str(p) for p in raised.value.problems] == expected


def test_bare_numbers_are_shared_quantities_and_a_negative_zero_reads_as_zero():
    """A bare number seen before is the same Quantity object. A count has no signed zero: -0 reads as 0
    (whichever comes first), so no count prints as "-0"."""
    for values in ((0.0, -0.0), (-0.0, 0.0)):
        first, second = (case_from_json(json.dumps(case({"type": "cbc", "date": "2024-01-02", "wbc": 3.25, "anc": value})))
                         for value in values)
        assert first.findings[0].wbc is second.findings[0].wbc
        assert [repr(c.findings[0].anc.value) for c in (first, second)] == ["0.0", "0.0"]
    written = case_from_json(json.dumps(case({"type": "cbc", "date": "2024-01-02", "anc": {"value": -0.0, "unit": "10^9/L"}})))
    assert repr(written.findings[0].anc.value) == "0.0"


@pytest.mark.parametrize(
    ("identifier", "shown"),
    [
        ("\x1b[31mMRN-1", "\\x1b"),  # a terminal escape: it recolours the CLI's output
        ("MRN\t1", "\\t"),
        ("MRN-1\n", "\\n"),
        ("MRN-\u202e1-TXT", "\\u202e"),  # right-to-left override: the id shows reversed in lists
        ("\u2066MRN-1\u2069", "\\u2066"),
        ("MRN\u200f-1", "\\u200f"),
    ],
)
def test_a_patient_identifier_that_would_display_as_something_else_is_refused(identifier, shown):
    """An identifier is matched and shown character for character: control and bidirectional formatting
    characters would make one record's identifier look like another's (or rewrite a terminal), so they are
    refused at the input edge, naming the field and the character."""
    problems = problems_of(case(patient={"id": identifier, "sex": "female"}))
    assert len(problems) == 1
    assert problems[0].startswith("patient.id")
    assert shown in problems[0]


def test_a_patient_identifier_in_any_script_is_kept():
    for identifier in ("MRN-0001", "Ödön 12", "患者-7", "مريض-٣", "a b.c/d_e"):
        assert case_from_dict(case(patient={"id": identifier, "sex": "male"})).patient.id == identifier


@pytest.mark.parametrize(("when", "fragment"), [
    ("2023", "a year alone is not a date"),
    ("2023-05", "a year and month alone are not a date"),
    ("20230515", "write it 2023-05-15"),
    ("15/05/2023", "a date is written YYYY-MM-DD"),
    (1684108800.5, "a date is written YYYY-MM-DD, not as a number"),
])
def test_a_date_as_registry_extracts_write_it_is_refused_with_what_to_write(when, fragment):
    """Registry data often carries a year or year and month only, or YYYYMMDD (NAACCR's layout). pydantic read
    '2023' and '20230515' as seconds since 1970 ('Datetimes provided to dates should have zero time') and said
    'input is too short' for '2023-05'. allcare never invents a day: the message says what to write."""
    for data in (case({"type": "cbc", "date": when, "wbc": 5}),
                 case(patient={"id": "t1", "birth_date": when, "sex": "female"}),
                 case(diagnosis_date=when)):
        problems = problems_of(data)
        assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize("when", [0, "0", 86400, "19000101"])
def test_a_birth_or_diagnosis_date_written_as_a_number_is_not_read_as_1970(when):
    """pydantic reads numbers as seconds since 1970: birth_date 0 (an 'unknown' code) made a 54-year-old of a child."""
    for data in (case(patient={"id": "t1", "birth_date": when, "sex": "female"}), case(diagnosis_date=when)):
        problems = problems_of(data)
        assert any("not as a number" in p or "write it" in p for p in problems), problems


@pytest.mark.parametrize(("wbc", "anc", "refused"), [
    (3.2, 1500, True),   # ANC in cells/uL written without its unit, beside a WBC in 10^9/L
    (3.2, 500, True),
    (3.2, 3.2, False),   # every white cell a neutrophil: possible
    (3.2, 3.3, False),   # within the labs' rounding of two separately reported numbers
    (3.2, {"value": 1500, "unit": "cells/uL"}, False),
    ({"value": 3.2, "unit": "10^9/L", "comparator": "<"}, 2.0, False),
])
def test_a_neutrophil_count_above_the_white_cell_count_of_the_same_sample_is_refused(wbc, anc, refused):
    """Neutrophils are white cells: an ANC above the WBC of its own count is a unit misread (a bare ANC in
    cells/uL read as 10^9/L would call a neutropenic child's count high and raise the maintenance dose)."""
    data = case({"type": "cbc", "date": "2024-01-02", "wbc": wbc, "anc": anc})
    if refused:
        with pytest.raises(CaseValidationError, match=r"anc.*above the WBC.*unit"):
            case_from_dict(data)
    else:
        case_from_dict(data)
