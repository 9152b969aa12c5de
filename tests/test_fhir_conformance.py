"""Exports checked by independent validators (the official R4 JSON Schema, the mCODE STU4 profiles),
and the official mCODE example Bundles imported (fixtures and licences in tests/fixtures/fhir/hl7/)."""

from __future__ import annotations

import json
from functools import lru_cache

import pytest

from allcare.engine import assess
from allcare.interop.casefile import load_case
from allcare.interop.fhir import bundle_json, import_bundle
from allcare.interop.fhir.capability import capability_statement
from fhir_conformance import HL7, ProfileReport, profile_problems, schema_errors, shape_signature, value_set_codes
from fhir_helpers import BRIAN, EXAMPLE_CASES

JENNY = HL7 / "Bundle-mcode-patient-bundle-jenny-m.json"
ADAM = HL7 / "Bundle-gx-genomic-bundle-adam-anyperson.json"
CANCER_DISEASE_STATUS = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-cancer-disease-status"


@lru_cache(maxsize=1)
def exported_bundles() -> list[dict]:
    out = []
    for path in EXAMPLE_CASES:
        case = load_case(path)
        out.append(bundle_json(case, assess(case)))
    return out


def test_there_are_45_example_bundles_to_check():
    assert len(exported_bundles()) >= 45


def test_every_export_is_valid_against_the_official_r4_json_schema():
    problems = {b["entry"][0]["resource"]["id"]: schema_errors(b) for b in exported_bundles()}
    assert {k: v for k, v in problems.items() if v} == {}
    assert schema_errors(capability_statement("https://allcare.example.org/api/v1", "0.1.0")) == []


def test_the_schema_check_is_not_vacuous():
    bundle = json.loads(json.dumps(exported_bundles()[0]))
    bundle["entry"][1]["resource"]["status"] = 7
    del bundle["entry"][2]["fullUrl"]
    bundle["entry"][2]["resource"]["valueQuantity"] = {"value": "high"}
    assert len(schema_errors(bundle)) >= 2


def test_every_export_meets_the_mcode_stu4_profiles_it_claims():
    """Each distinct shape (structure + codes) of every profiled resource of the 45 examples, checked once."""
    shapes: dict[str, dict] = {}
    for bundle in exported_bundles():
        for entry in bundle["entry"]:
            resource = entry["resource"]
            if resource.get("meta", {}).get("profile"):
                shapes.setdefault(shape_signature(resource), resource)
    report = ProfileReport()
    for resource in shapes.values():
        profile_problems(resource, report)
    assert report.problems == []
    assert report.resources_checked >= 100 and report.invariants_checked >= 1000


def test_disease_status_values_come_from_condition_status_trend_vs():
    """The binding is 'preferred' in the profile, but the issue asks for its value set: every value is in it."""
    trend = value_set_codes("http://hl7.org/fhir/us/mcode/ValueSet/mcode-condition-status-trend-vs")
    values = [(c["system"], c["code"]) for b in exported_bundles() for e in b["entry"]
              if CANCER_DISEASE_STATUS in e["resource"].get("meta", {}).get("profile", [])
              for c in e["resource"]["valueCodeableConcept"]["coding"]]
    assert values and set(values) <= trend and ("http://snomed.info/sct", "268910001") in values


def test_the_profile_check_finds_the_errors_issue_10_reported():
    """The deprecated evidence-type URL and a risk assessment without category fail the mCODE profiles."""
    bundle = next(b for b in exported_bundles() if any(
        CANCER_DISEASE_STATUS in e["resource"].get("meta", {}).get("profile", []) for e in b["entry"]))
    status = json.loads(json.dumps(next(e["resource"] for e in bundle["entry"]
                                        if CANCER_DISEASE_STATUS in e["resource"].get("meta", {}).get("profile", []))))
    status["extension"] = [{**x, "url": "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-evidence-type"}
                           if "evidence-type" in x["url"] else x for x in status["extension"]]
    problems = profile_problems(status)
    assert any("mcode-evidence-type" in p for p in problems)
    risk = json.loads(json.dumps(next(e["resource"] for b in exported_bundles() for e in b["entry"]
                                      if "mcode-ALL-risk-assessment" in str(e["resource"].get("meta")))))
    del risk["category"]
    assert any("category is required" in p for p in profile_problems(risk))


@pytest.mark.parametrize("path", [JENNY, ADAM, BRIAN], ids=lambda p: p.name)
def test_the_official_mcode_example_bundles_import(path):
    """Jenny M (neutrophils of 3000 x10^3/uL, references to resources not in the Bundle) and Adam Anyperson
    (a report result that is not in the Bundle) were rejected whole; now each imports with a report."""
    result = import_bundle(path.read_bytes())
    assert result.failed == {} and len(result.patients) == 1
    report = result.patients[0].report
    assert report.total >= 10 and all(e.reason for e in report.not_mapped())


def test_a_patient_without_leukaemia_gets_no_cancer_disease_status():
    """Jenny M has breast cancer: allcare finds no leukaemia, so its export has no mCODE disease status."""
    (patient,) = import_bundle(JENNY.read_bytes()).patients
    assessment = assess(patient.case)
    assert assessment.diagnosis.disease not in ("ALL", "LBL", "MPAL")
    exported = bundle_json(patient.case, assessment)
    profiles = [p for e in exported["entry"] for p in e["resource"].get("meta", {}).get("profile", [])]
    assert CANCER_DISEASE_STATUS not in profiles
    assert not any(e["resource"].get("code", {}).get("coding", [{}])[0].get("code") == "97509-4" for e in exported["entry"])
    assert schema_errors(exported) == []


def test_every_entry_has_a_full_url_and_agents_are_coded():
    for bundle in exported_bundles():
        assert all(e.get("fullUrl", "").startswith("urn:uuid:") for e in bundle["entry"])
    administrations = [e["resource"] for b in exported_bundles() for e in b["entry"]
                       if e["resource"]["resourceType"] == "MedicationAdministration"]
    coded = [a for a in administrations if a["medicationCodeableConcept"].get("coding")]
    assert len(coded) / len(administrations) > 0.95
    methotrexate = [a for a in administrations if "methotrexate" in a["medicationCodeableConcept"]["text"].lower()]
    assert methotrexate and all({"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "6851", "display": "methotrexate"}
                                in a["medicationCodeableConcept"]["coding"] for a in methotrexate)
    radiotherapy = [e["resource"] for b in exported_bundles() for e in b["entry"] if e["resource"]["resourceType"] == "Procedure"]
    assert radiotherapy and all(r["code"]["coding"][0]["code"] == "1217123003" for r in radiotherapy)
    assert not any("irradiation" in a["medicationCodeableConcept"]["text"] for a in administrations)
