"""``allcare export fhir`` and ``allcare import fhir``, run as real processes: files, exit codes, messages."""

from __future__ import annotations

import json

from allcare.interop.casefile import load_case
from fhir_helpers import BRIAN, EXAMPLE_CASES, allcare_cli


def test_export_then_import_recreates_the_case_and_a_second_import_changes_nothing(tmp_path):
    source = EXAMPLE_CASES[0]
    bundle, case_file = tmp_path / "bundle.json", tmp_path / "case.json"
    done = allcare_cli("export", "fhir", "--case", str(source), "-o", str(bundle))
    assert done.returncode == 0, done.stderr
    assert json.loads(bundle.read_text())["resourceType"] == "Bundle"
    done = allcare_cli("import", "fhir", str(bundle), "--to-case", str(case_file))
    assert done.returncode == 0, done.stderr
    assert "derived" in done.stderr and "for comparison" in done.stderr
    first = case_file.read_text()
    assert len(load_case(case_file).findings) == len(load_case(source).findings)
    assert allcare_cli("import", "fhir", str(bundle), "--to-case", str(case_file)).returncode == 0
    assert case_file.read_text() == first


def test_export_to_standard_output(tmp_path):
    done = allcare_cli("export", "fhir", "--case", str(EXAMPLE_CASES[1]), "--no-assessment")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["entry"][0]["resource"]["resourceType"] == "Patient"


def test_import_writes_yaml_when_the_case_file_is_yaml_and_reports_unmapped(tmp_path):
    target = tmp_path / "brian.yaml"
    done = allcare_cli("import", "fhir", str(BRIAN), "--to-case", str(target), "--report", str(tmp_path / "report.json"))
    assert done.returncode == 0, done.stderr
    assert target.read_text().startswith("schema: allcare.case/1")
    assert "unmapped: Observation/hematocrit-brian-l" in done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["patients"][str(target)]["counts"] == {"mapped": 11, "derived": 3, "unmapped": 10, "skipped": 4}


def test_bad_input_exits_2_lists_the_problem_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p", "birthDate": "2017-06-01", "extension": [
            {"url": "urn:allcare:extension:age-at-diagnosis", "valueDecimal": 30},
            {"url": "urn:allcare:extension:diagnosis-date", "valueDate": "2024-01-01"}]}},
        {"resource": {"resourceType": "Observation", "id": "w", "status": "final", "subject": {"reference": "Patient/p"},
                      "effectiveDateTime": "2024-01-01", "code": {"coding": [{"system": "http://loinc.org", "code": "26464-8"}]},
                      "valueQuantity": {"value": 4, "unit": "10*9/L"}}}]}))
    target = tmp_path / "case.json"
    done = allcare_cli("import", "fhir", str(bad), "--to-case", str(target))
    assert done.returncode == 2
    assert "Patient/p: patient.age_years 30 contradicts birth_date" in done.stderr
    assert "Traceback" not in done.stderr
    assert not target.exists() and list(tmp_path.iterdir()) == [bad]


def test_an_existing_case_is_left_untouched_when_the_import_fails(tmp_path):
    target = tmp_path / "case.json"
    assert allcare_cli("import", "fhir", str(BRIAN), "--to-case", str(target)).returncode == 0
    before = target.read_text()
    broken = tmp_path / "broken.json"
    broken.write_text(BRIAN.read_text()[:-200])
    done = allcare_cli("import", "fhir", str(broken), "--to-case", str(target))
    assert done.returncode == 2 and "not valid JSON" in done.stderr
    assert target.read_text() == before


def test_oversized_file_is_refused_with_the_limit(tmp_path):
    done = allcare_cli("import", "fhir", str(BRIAN), "--to-case", str(tmp_path / "c.json"), "--max-size", "0.001")
    assert done.returncode == 2 and "over the limit" in done.stderr and "--max-size" in done.stderr


def test_to_case_needs_exactly_one_patient(tmp_path):
    bundles = []
    for n, path in enumerate(EXAMPLE_CASES[:2]):
        bundles.append(tmp_path / f"b{n}.json")
        assert allcare_cli("export", "fhir", "--case", str(path), "-o", str(bundles[-1]), "--no-assessment").returncode == 0
    done = allcare_cli("import", "fhir", *map(str, bundles), "--to-case", str(tmp_path / "one.json"))
    assert done.returncode == 2 and "--to-case takes one patient" in done.stderr
    done = allcare_cli("import", "fhir", *map(str, bundles), "--to-case-dir", str(tmp_path / "cases"))
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "cases").glob("*.json"))) == 2


def test_bulk_ndjson_import_shows_progress_and_writes_one_case_per_patient(tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    by_type: dict[str, list[str]] = {}
    for entry in json.loads(BRIAN.read_text())["entry"]:
        by_type.setdefault(entry["resource"]["resourceType"], []).append(json.dumps(entry["resource"]))
    for rtype, lines in by_type.items():
        (export / f"{rtype}.ndjson").write_text("\n".join(lines) + "\n")
    cases = tmp_path / "cases"
    done = allcare_cli("import", "fhir", *sorted(str(p) for p in export.iterdir()), "--to-case-dir", str(cases))
    assert done.returncode == 0, done.stderr
    assert "resources" in done.stderr and "importing" in done.stderr
    assert [p.name for p in cases.iterdir()] == ["cancer-patient-brian-l.json"]


def test_usage_errors_exit_2(tmp_path):
    done = allcare_cli("import", "fhir", str(BRIAN), "--to-case", str(tmp_path / "a.json"), "--to-case-dir", str(tmp_path))
    assert done.returncode == 2 and "--to-case" in done.stderr
    done = allcare_cli("export", "fhir", "--case", str(tmp_path / "missing.yaml"))
    assert done.returncode == 2 and "no such file" in done.stderr


def test_mixing_bundles_and_ndjson_is_refused(tmp_path):
    ndjson = tmp_path / "Patient.ndjson"
    ndjson.write_text("{}\n")
    done = allcare_cli("import", "fhir", str(BRIAN), str(ndjson), "--to-case-dir", str(tmp_path / "x"))
    assert done.returncode == 2 and "not both" in done.stderr




def test_import_into_the_store_is_idempotent_and_the_record_exports_again(tmp_path):
    """Without --to-case the patients go into the record store; the same Bundle twice changes nothing."""
    database = tmp_path / "store.db"
    first = allcare_cli("import", "fhir", str(BRIAN), database=database)
    assert first.returncode == 0, first.stderr
    assert "1 created, 0 updated, 0 unchanged" in first.stderr
    again = allcare_cli("import", "fhir", str(BRIAN), database=database)
    assert again.returncode == 0, again.stderr
    assert "0 created, 0 updated, 1 unchanged" in again.stderr
    from_file = tmp_path / "brian.json"
    assert allcare_cli("import", "fhir", str(BRIAN), "--to-case", str(from_file)).returncode == 0
    patient_id = load_case(from_file).patient.id
    exported = allcare_cli("export", "case", patient_id, database=database)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout) == load_case(from_file).to_json_dict()


def test_a_store_import_of_an_invalid_bundle_stores_nothing(tmp_path):
    database = tmp_path / "store.db"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p", "birthDate": "2017-06-01", "extension": [
            {"url": "urn:allcare:extension:age-at-diagnosis", "valueDecimal": 30},
            {"url": "urn:allcare:extension:diagnosis-date", "valueDate": "2024-01-01"}]}},
        {"resource": {"resourceType": "Observation", "id": "w", "status": "final", "subject": {"reference": "Patient/p"},
                      "effectiveDateTime": "2024-01-01", "code": {"coding": [{"system": "http://loinc.org", "code": "26464-8"}]},
                      "valueQuantity": {"value": 4, "unit": "10*9/L"}}}]}))
    done = allcare_cli("import", "fhir", str(bad), database=database)
    assert done.returncode == 2 and "contradicts birth_date" in done.stderr and "Traceback" not in done.stderr
    listed = allcare_cli("export", "case", "p", database=database)
    assert listed.returncode == 2 and "no patient" in listed.stderr
