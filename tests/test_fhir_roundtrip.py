"""Round trip over every example case: export, then import, gives the same findings and the same assessment.

Also: importing the same Bundle twice into a case file changes nothing (idempotent by id), and an
import keeps the FHIR resource (or allcare group) id in each finding's ``id``.
"""

from __future__ import annotations

import json

import pytest

from allcare.engine import assess
from allcare.interop.casefile import load_case
from allcare.interop.fhir import bundle_json, import_bundle, merge_cases
from fhir_helpers import EXAMPLE_CASES


def _without_generated_ids(original: dict, imported: dict) -> dict:
    """Findings that had no id get one on import (their resource's); compare the rest exactly."""
    out = json.loads(json.dumps(imported))
    for before, after in zip(original["findings"], out["findings"], strict=True):
        if "id" not in before:
            after.pop("id", None)
    return out


def _round_trip(case, with_assessment: bool):
    assessment = assess(case) if with_assessment else None
    text = json.dumps(bundle_json(case, assessment))
    result = import_bundle(text)
    assert result.failed == {}, result.problems
    assert len(result.patients) == 1
    return result.patients[0]


def test_there_are_examples_to_round_trip():
    assert len(EXAMPLE_CASES) >= 30


@pytest.mark.parametrize("path", EXAMPLE_CASES, ids=lambda p: p.stem)
def test_export_then_import_gives_the_same_findings_and_assessment(path):
    case = load_case(path)
    imported = _round_trip(case, with_assessment=True)
    before = case.to_json_dict()
    assert _without_generated_ids(before, imported.case.to_json_dict()) == before
    assert assess(imported.case).to_json_dict() == assess(case).to_json_dict()
    assert imported.report.counts["unmapped"] == 0 and imported.report.counts["skipped"] == 0


@pytest.mark.parametrize("path", EXAMPLE_CASES[:8], ids=lambda p: p.stem)
def test_every_imported_finding_keeps_its_fhir_id(path):
    imported = _round_trip(load_case(path), with_assessment=False)
    ids = [f.id for f in imported.case.findings]
    assert all(ids) and len(set(ids)) == len(ids)
    assert all(i.split("/")[0] in ("Observation", "DiagnosticReport", "CarePlan", "MedicationAdministration", "AdverseEvent") for i in ids)


def test_importing_the_same_bundle_twice_changes_nothing():
    case = load_case(EXAMPLE_CASES[0])
    text = json.dumps(bundle_json(case, assess(case)))
    first = import_bundle(text).patients[0].case
    once = merge_cases(None, first)
    twice = merge_cases(once, import_bundle(text).patients[0].case)
    assert twice.to_json_dict() == once.to_json_dict()
    # ...and a re-export of the imported case keeps the same resource ids.
    again = import_bundle(json.dumps(bundle_json(once))).patients[0].case
    assert [f.id for f in again.findings] == [f.id for f in once.findings]


def test_findings_with_their_own_ids_keep_them():
    case = load_case(EXAMPLE_CASES[0])
    data = case.to_json_dict()
    for n, finding in enumerate(data["findings"]):
        finding["id"] = f"lab system #{n}"
    from allcare.engine import case_from_dict

    tagged = case_from_dict(data)
    imported = _round_trip(tagged, with_assessment=False)
    assert [f.id for f in imported.case.findings] == [f"lab system #{n}" for n in range(len(data["findings"]))]
