"""RNA-seq classifier results (ALLSorts, ALLCatchR, TALLSorts, MD-ALL) as genetics findings.

Fixtures in tests/fixtures/classifiers are written in each tool's own output format (column
names and label spellings from the tools' source code).
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from allcare.engine import assess, case_from_dict
from allcare.engine.diagnosis.lesions import classify_expression
from allcare.engine.diagnosis.names import ICC_NAMES, WHO_NAMES
from allcare.interop.casefile import load_case
from allcare.interop.classifiers import (
    TOOLS,
    ClassifierFileError,
    findings_by_patient,
    label_table,
    map_label,
    read_calls,
    read_patient_map,
)
from fhir_helpers import FIXTURES, allcare_cli

DIR = FIXTURES / "classifiers"
FILES = {
    "allsorts": DIR / "allsorts" / "predictions.csv",
    "allcatchr": DIR / "allcatchr" / "predictions.tsv",
    "tallsorts": DIR / "tallsorts" / "predictions.csv",
    "mdall": DIR / "mdall" / "MDall_output_batch1.txt",
}
MAP = DIR / "patient-map.csv"


def findings(tool: str) -> dict[str, dict]:
    by_patient = findings_by_patient(read_calls(tool, FILES[tool]), read_patient_map(MAP), FILES[tool].name)
    return {patient: items[0] for patient, items in by_patient.items()}


@pytest.mark.parametrize("tool,sample,label,confidence,confident", [
    ("allsorts", "S01", "Ph-like", 0.874, True),
    ("allsorts", "S03", "Unclassified", 0.31, False),
    ("allsorts", "S04", "PAX5alt / Ph-like", 0.58, False),
    ("allcatchr", "P1", "DUX4", 0.95, True),
    ("allcatchr", "P2", "BCR::ABL1-like", 0.62, False),
    ("tallsorts", "T1", "TLX3", 0.93, True),
    ("tallsorts", "T2", "Unclassified", 0.31, False),
    ("mdall", "M1", "Phlike", 0.86, True),
    ("mdall", "M2", "PAX5alt", 0.55, False),
])
def test_each_tool_file_is_read_with_its_confidence(tool, sample, label, confidence, confident):
    call = next(c for c in read_calls(tool, FILES[tool]) if c.sample == sample)
    assert (call.label, call.confidence, call.confident) == (label, pytest.approx(confidence), confident)


@pytest.mark.parametrize("tool,patient,subtype,confidence", [
    ("allsorts", "CL-001", "BCR::ABL1-like", 0.874),
    ("allsorts", "CL-002", "High hyperdiploid", 0.912),
    ("allsorts", "CL-005", "ETV6::RUNX1", 0.951),
    ("allcatchr", "CL-101", "DUX4-r", 0.95),
    ("tallsorts", "CL-201", "T-ALL TLX3", 0.93),
    ("mdall", "CL-301", "BCR::ABL1-like", 0.86),
])
def test_confident_calls_use_the_vocabulary_label(tool, patient, subtype, confidence):
    finding = findings(tool)[patient]
    assert finding["expression_subtype"] == subtype and finding["expression_confidence"] == pytest.approx(confidence)
    assert finding["type"] == "genetics" and finding["id"].startswith(f"{tool}:")


@pytest.mark.parametrize("tool,patient,subtype", [
    ("allsorts", "CL-003", "Unclassified"),
    ("allsorts", "CL-004", "PAX5alt / Ph-like [ALLSorts: several subtypes called]"),
    ("allcatchr", "CL-102", "BCR::ABL1-like [ALLCatchR: tier candidate]"),
    ("allcatchr", "CL-103", "ZNF384-r [ALLCatchR: tier unclassified]"),
    ("tallsorts", "CL-202", "Unclassified"),
    ("mdall", "CL-302", "PAX5alt [MD-ALL: methods disagree: PhenoGraph PAX5alt (0.55) vs SVM ETV6::RUNX1-like (0.6)]"),
])
def test_low_confidence_ambiguous_and_unclassified_calls_are_kept_as_such(tool, patient, subtype):
    finding = findings(tool)[patient]
    assert finding["expression_subtype"] == subtype[:100]
    assert "expression_confidence" in finding
    assert classify_expression(finding["expression_subtype"]) is None  # the engine reports it, never classifies on it


B_ALL = {
    "schema": "allcare.case/1", "patient": {"id": "CL-001", "birth_date": "2010-02-01", "sex": "male"},
    "findings": [
        {"type": "cbc", "date": "2024-03-01", "wbc": 24, "hemoglobin": 8.0, "platelets": 40, "anc": 0.8, "blasts_pct": 40},
        {"type": "marrow", "date": "2024-03-01", "blasts_pct": 85, "timepoint": "diagnosis"},
        {"type": "immunophenotype", "date": "2024-03-01", "markers": {"CD19": "positive", "cCD79a": "positive", "CD10": "positive",
                                                                      "TdT": "positive", "cCD3": "negative", "MPO": "negative"}},
        {"type": "genetics", "date": "2024-03-02", "negative": ["BCR::ABL1", "KMT2A_rearrangement", "ETV6::RUNX1", "TCF3::PBX1"]},
    ],
}


def _assessed_with(finding: dict):
    case = case_from_dict({**B_ALL, "findings": [*B_ALL["findings"], finding]})
    return assess(case)


def test_a_confident_ph_like_call_gives_the_who_entity():
    a = _assessed_with(findings("allsorts")["CL-001"])
    assert a.diagnosis.who_haem5.key == "b_all_bcr_abl1_like"


def test_a_candidate_ph_like_call_is_not_promoted_to_the_entity():
    a = _assessed_with(findings("allcatchr")["CL-102"])
    assert a.diagnosis.who_haem5.key != "b_all_bcr_abl1_like"
    assert "ALLCatchR" in (a.diagnosis.genetics.expression_subtype or "")


def test_every_label_maps_to_a_known_entity_and_engine_label():
    for tool, scheme in [*((tool, "") for tool in TOOLS), ("mdall", "gep")]:
        for alias, mapping in label_table(tool, scheme):
            assert mapping.who_haem5 is None or mapping.who_haem5 in WHO_NAMES, alias
            assert mapping.icc_2022 is None or mapping.icc_2022 in ICC_NAMES, alias
            usable = classify_expression(mapping.subtype) is not None
            names_entity = mapping.who_haem5 is not None and mapping.icc_2022 is not None
            assert usable == names_entity, f"{tool} {alias!r} -> {mapping.subtype!r}"


def test_tool_spellings_fold_onto_one_label():
    assert map_label("allsorts", "Ph-like") == map_label("allcatchr", "BCR::ABL1-like") == map_label("mdall", "Phlike")
    assert map_label("allcatchr", "Near.haploid").subtype == "Near haploid"
    assert map_label("allsorts", "Ph Group").who_haem5 is None  # a meta-group names no single entity
    assert map_label("tallsorts", "BCL11B").icc_2022 == "icc_etp_all_bcl11b" and map_label("tallsorts", "BCL11B").confirm


def test_the_note_says_where_the_call_points_and_what_must_confirm_it():
    note = findings("allsorts")["CL-005"]["note"]
    assert "b_all_etv6_runx1" in note and "must be shown" in note


def test_a_sample_missing_from_the_patient_map_is_an_error(tmp_path):
    partial = tmp_path / "map.csv"
    partial.write_text("sample,patient,date\nS01,CL-001,2024-03-04\n")
    with pytest.raises(ClassifierFileError) as info:
        findings_by_patient(read_calls("allsorts", FILES["allsorts"]), read_patient_map(partial), "predictions.csv")
    assert "sample 'S02' is not in the patient map" in info.value.problems


@pytest.mark.parametrize("content,message", [
    ("sample,patient\nS01,CL-1\n", "no column 'date'"),
    ("sample,patient,date\nS01,CL-1,04/03/2024\n", "is not YYYY-MM-DD"),
])
def test_bad_patient_maps_are_reported(tmp_path, content, message):
    path = tmp_path / "map.csv"
    path.write_text(content)
    with pytest.raises(ClassifierFileError, match=message):
        read_patient_map(path)


def test_a_file_of_the_wrong_tool_names_the_missing_column():
    with pytest.raises(ClassifierFileError, match="the columns are those of TALLSorts, not ALLCatchR"):
        read_calls("allcatchr", FILES["tallsorts"])
    with pytest.raises(ClassifierFileError, match="no column 'Score'"):
        read_calls("allcatchr", MAP)


def test_cli_adds_calls_to_case_files_idempotently(tmp_path):
    cases = tmp_path / "cases"
    cases.mkdir()
    existing = cases / "CL-001.yaml"
    existing.write_text(json.dumps(B_ALL))
    args = ("import", "classifier", str(FILES["allsorts"]), "--tool", "allsorts", "--patient-map", str(MAP), "--to-case-dir", str(cases))
    done = allcare_cli(*args)
    assert done.returncode == 0, done.stderr
    case = load_case(existing)
    assert [f.type for f in case.findings][-1] == "genetics" and case.findings[-1].expression_subtype == "BCR::ABL1-like"
    assert sorted(p.name for p in cases.iterdir()) == ["CL-001.yaml", "CL-002.json", "CL-003.json", "CL-004.json", "CL-005.json"]
    before = {p.name: p.read_text() for p in cases.iterdir()}
    assert allcare_cli(*args).returncode == 0
    assert {p.name: p.read_text() for p in cases.iterdir()} == before


def test_cli_errors_exit_2(tmp_path):
    done = allcare_cli("import", "classifier", str(FILES["allsorts"]), "--tool", "bogus", "--patient-map", str(MAP), "--to-case-dir", str(tmp_path))
    assert done.returncode == 2 and "unknown tool 'bogus'" in done.stderr
    partial = tmp_path / "map.csv"
    partial.write_text("sample,patient,date\nS01,CL-001,2024-03-04\n")
    done = allcare_cli("import", "classifier", str(FILES["allsorts"]), "--tool", "allsorts", "--patient-map", str(partial), "--to-case-dir", str(tmp_path / "c"))
    assert done.returncode == 2 and "S05" in done.stderr and not (tmp_path / "c").exists()


def test_a_spreadsheet_saved_table_reads_the_same(tmp_path):
    """A table re-saved by a spreadsheet in a comma-decimal locale: byte-order mark, Windows line ends, ';' between
    fields and ',' as the decimal mark (RFC 4180 leaves the separator to the writer). It must read the same calls."""
    def resave(source, target):
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        for row in csv.reader(io.StringIO(source.read_text())):
            writer.writerow([cell.replace(".", ",") if cell.replace(".", "").isdigit() else cell for cell in row])
        target.write_bytes(("\ufeff" + buffer.getvalue()).encode("utf-8"))

    european = tmp_path / "allsorts"
    european.mkdir()
    for name in ("predictions.csv", "probabilities.csv"):
        resave(DIR / "allsorts" / name, european / name)
    mapped = tmp_path / "patient-map.csv"
    resave(MAP, mapped)
    expected = [(c.sample, c.label, c.confidence) for c in read_calls("allsorts", FILES["allsorts"])]
    assert [(c.sample, c.label, c.confidence) for c in read_calls("allsorts", european / "predictions.csv")] == expected
    assert read_patient_map(mapped) == read_patient_map(MAP)
