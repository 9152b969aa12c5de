"""Bulk NDJSON import: one resource type per file (as FHIR Bulk Data writes them), streamed per patient."""

from __future__ import annotations

import json
import random
import tracemalloc
from collections import defaultdict
from pathlib import Path

import pytest

from allcare.cohort.synthetic import generate_case
from allcare.engine import assess, case_from_dict
from allcare.interop.casefile import load_case
from allcare.interop.fhir import FhirInputError, NdjsonImport, case_resources, iter_ndjson
from fhir_helpers import BRIAN, EXAMPLE_CASES


def write_bulk_export(directory: Path, resources: list[dict]) -> list[Path]:
    """Resources into ``<Type>.ndjson`` files, one line each."""
    by_type: dict[str, list[dict]] = defaultdict(list)
    for r in resources:
        by_type[r["resourceType"]].append(r)
    paths = []
    for rtype, items in sorted(by_type.items()):
        path = directory / f"{rtype}.ndjson"
        path.write_text("".join(json.dumps(r) + "\n" for r in items))
        paths.append(path)
    return paths


@pytest.fixture
def export_of_three(tmp_path):
    cases = [load_case(p) for p in EXAMPLE_CASES[:3]]
    resources = [r for case in cases for r in case_resources(case, assess(case))]
    resources += [e["resource"] for e in json.loads(BRIAN.read_text())["entry"]]
    return cases, write_bulk_export(tmp_path, resources)


def test_bulk_export_gives_one_case_per_patient_with_progress(export_of_three):
    cases, paths = export_of_three
    seen = []
    job = NdjsonImport(paths, progress=seen.append, bucket_bytes=20_000)
    outcomes = {o.patient_ref: o for o in job.patients()}
    assert all(o.imported is not None for o in outcomes.values()), [o.problems for o in outcomes.values()]
    assert len(outcomes) == 4
    for case in cases:
        imported = next(o.imported for o in outcomes.values() if o.imported.patient_id == case.patient.id)
        # Files are per resource type, so findings arrive in another order: compare them as a set.
        key = lambda f: json.dumps(f, sort_keys=True)  # noqa: E731
        strip = lambda c: sorted(key({k: v for k, v in f.items() if k != "id"}) for f in c.to_json_dict()["findings"])  # noqa: E731, B023
        assert strip(imported.case) == strip(case)
        before, after = assess(case), assess(imported.case)
        assert (after.diagnosis.who_haem5.key, after.risk.nci, after.status.current) == (
            before.diagnosis.who_haem5.key, before.risk.nci, before.status.current)
    assert outcomes["Patient/cancer-patient-brian-l"].imported.report.counts["unmapped"] == 10
    stages = [p.stage for p in seen]
    assert stages[0] == "scan" and stages[-1] == "import"
    assert seen[-1].bytes_done == seen[-1].bytes_total == sum(p.stat().st_size for p in paths)


def test_a_patient_with_bad_data_fails_alone(export_of_three, tmp_path):
    _, paths = export_of_three
    patients = next(p for p in paths if p.name == "Patient.ndjson")
    lines = patients.read_text().splitlines()
    broken = json.loads(next(line for line in lines if "cancer-patient-brian-l" in line))
    broken["extension"] = [{"url": "urn:allcare:extension:age-at-diagnosis", "valueDecimal": 40},
                           {"url": "urn:allcare:extension:diagnosis-date", "valueDate": "2024-01-01"}]
    patients.write_text("\n".join(line if "cancer-patient-brian-l" not in line else json.dumps(broken) for line in lines) + "\n")
    outcomes = {o.patient_ref: o for o in NdjsonImport(paths).patients()}
    assert outcomes["Patient/cancer-patient-brian-l"].imported is None
    assert "patient.age_years 40 contradicts birth_date" in str(outcomes["Patient/cancer-patient-brian-l"].problems[0])
    assert sum(o.imported is not None for o in outcomes.values()) == 3


def test_a_malformed_date_fails_its_patient_alone_naming_the_field(export_of_three):
    _, paths = export_of_three
    observations = next(p for p in paths if p.name == "Observation.ndjson")
    lines = observations.read_text().splitlines()
    broken = json.loads(next(line for line in lines if "white-blood-cell-brian-l" in line))
    broken["effectiveDateTime"] = "2024-02-03 10:00"
    observations.write_text("\n".join(line if "white-blood-cell-brian-l" not in line else json.dumps(broken) for line in lines) + "\n")
    outcomes = {o.patient_ref: o for o in NdjsonImport(paths).patients()}
    assert outcomes["Patient/cancer-patient-brian-l"].imported is None
    (problem,) = map(str, outcomes["Patient/cancer-patient-brian-l"].problems)
    assert problem.startswith("Observation.ndjson line ") and ": effectiveDateTime: Expected 'str' matching regex" in problem
    assert sum(o.imported is not None for o in outcomes.values()) == 3


def test_a_unit_allcare_cannot_read_drops_the_value_not_the_patient(export_of_three):
    _, paths = export_of_three
    observations = next(p for p in paths if p.name == "Observation.ndjson")
    lines = observations.read_text().splitlines()
    broken = json.loads(next(line for line in lines if "white-blood-cell-brian-l" in line))
    broken["valueQuantity"]["unit"] = broken["valueQuantity"]["code"] = "mg"
    observations.write_text("\n".join(line if "white-blood-cell-brian-l" not in line else json.dumps(broken) for line in lines) + "\n")
    outcomes = {o.patient_ref: o for o in NdjsonImport(paths).patients()}
    brian = outcomes["Patient/cancer-patient-brian-l"].imported
    assert brian is not None and all(getattr(f, "wbc", None) is None for f in brian.case.findings)
    assert any(e.resource == "Observation/white-blood-cell-brian-l" and "unit 'mg'" in e.reason for e in brian.report.not_mapped())


def test_resources_of_a_patient_missing_from_the_export_are_reported(tmp_path):
    path = tmp_path / "Observation.ndjson"
    path.write_text(json.dumps({"resourceType": "Observation", "id": "o", "status": "final", "code": {"text": "x"},
                                "subject": {"reference": "Patient/ghost"}}) + "\n")
    job = NdjsonImport([path])
    assert list(job.patients()) == []
    (entry,) = job.report.entries
    assert entry.resource == "Observation/o" and entry.status == "unmapped" and "'Patient/ghost'" in entry.reason


@pytest.mark.parametrize("line,message", [
    ('{"resourceType": "Observation", "id": ', "not valid JSON"),
    ('{"resourceType": "Widget", "id": "w"}', "unknown resource type 'Widget'"),
    ('[1, 2]', "one FHIR resource"),
])
def test_bad_lines_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "Observation.ndjson"
    path.write_text(json.dumps({"resourceType": "Patient", "id": "p"}) + "\n\n" + line + "\n")
    with pytest.raises(FhirInputError) as info:
        list(NdjsonImport([path]).patients())
    assert message in str(info.value) and ("line 3" in str(info.value) or "Widget/w" in str(info.value))


def test_oversized_file_and_line_limits(tmp_path):
    path = tmp_path / "Patient.ndjson"
    path.write_text(json.dumps({"resourceType": "Patient", "id": "p", "gender": "female"}) + "\n")
    with pytest.raises(FhirInputError, match="over the limit of 10 bytes"):
        list(NdjsonImport([path], max_bytes=10).patients())
    with pytest.raises(FhirInputError, match="line 1: line longer than 20 bytes"):
        list(iter_ndjson(path, max_line_bytes=20))


def test_reader_streams_instead_of_loading_the_file(tmp_path):
    path = tmp_path / "Observation.ndjson"
    line = json.dumps({"resourceType": "Observation", "id": "x" * 40, "status": "final", "code": {"text": "y" * 200}}) + "\n"
    path.write_text(line * 20_000)  # about 5.5 MB
    tracemalloc.start()
    count = sum(1 for _ in iter_ndjson(path))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 20_000 and peak < 200_000


def _peak_memory_of_bulk_import(tmp_path: Path, lines_of_one: list[str], patients: int) -> int:
    """Peak traced memory importing ``patients`` copies of one patient (ids rewritten)."""
    directory = tmp_path / f"export-{patients}"
    directory.mkdir(parents=True)
    by_type: dict[str, list[str]] = defaultdict(list)
    for n in range(patients):
        for line in lines_of_one:
            by_type[json.loads(line)["resourceType"]].append(line.replace("SYN-00000", f"SYN-{n:05d}"))
    paths = []
    for rtype, lines in by_type.items():
        paths.append(directory / f"{rtype}.ndjson")
        paths[-1].write_text("\n".join(lines) + "\n")
    tracemalloc.start()
    imported = 0
    for outcome in NdjsonImport(paths, bucket_bytes=64_000).patients():
        imported += outcome.imported is not None
        del outcome
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert imported == patients
    return peak


def test_bulk_import_memory_stays_flat_as_the_export_grows(tmp_path):
    case = case_from_dict(generate_case(random.Random(11), 0, years=1.0))
    lines = [json.dumps(r) for r in case_resources(case)]
    # Compare steady states: a first import builds what a process builds once (how much is left to
    # build depends on the tests that ran before), and a handful of patients fills fewer 64 KB buckets
    # than a long export does (4 patients peaked at 1.7 MB, 8 to 64 at 2.2-2.6 MB, on this code and the last).
    _peak_memory_of_bulk_import(tmp_path / "warm-up", lines, 2)
    small = _peak_memory_of_bulk_import(tmp_path, lines, 8)
    large = _peak_memory_of_bulk_import(tmp_path, lines, 48)
    assert large < 1.5 * small, f"peak {large:,} bytes for 48 patients vs {small:,} for 8"


def test_worker_processes_give_the_same_patients_in_the_same_order(export_of_three):
    _, paths = export_of_three
    one = [(o.patient_ref, o.imported.case if o.imported else o.problems) for o in NdjsonImport(paths, bucket_bytes=2_000).patients()]
    two = [(o.patient_ref, o.imported.case if o.imported else o.problems)
           for o in NdjsonImport(paths, bucket_bytes=2_000, workers=2).patients()]
    assert len(one) == 4 and two == one


def test_gzip_compressed_ndjson_is_read_as_a_stream(export_of_three, tmp_path):
    import gzip

    _, paths = export_of_three
    zipped = []
    for path in paths:
        target = tmp_path / (path.name + ".gz")
        target.write_bytes(gzip.compress(path.read_bytes()))
        zipped.append(target)
    plain = {o.patient_ref: o.imported.case for o in NdjsonImport(paths).patients()}
    assert {o.patient_ref: o.imported.case for o in NdjsonImport(zipped).patients()} == plain
