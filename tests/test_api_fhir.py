"""FHIR through the REST API: ``POST /api/v1/fhir/import`` into the store and ``GET /patients/{id}/$everything``."""

from __future__ import annotations

import json

import pytest

from allcare.engine import assess
from allcare.interop.casefile import load_case
from allcare.interop.fhir import bundle_json, import_bundle
from fhir_helpers import BRIAN, EXAMPLE_CASES

API = "/api/v1"
FHIR_JSON = {"Content-Type": "application/fhir+json"}


def post_bundle(client, auth, data, content_type="application/fhir+json"):
    body = data if isinstance(data, (bytes, str)) else json.dumps(data)
    return client.post(f"{API}/fhir/import", content=body, headers={**auth, "Content-Type": content_type})


def test_a_bundle_is_imported_once_and_a_second_import_changes_nothing(client, world):
    auth = world.auth("clinician")
    first = post_bundle(client, auth, BRIAN.read_bytes())
    assert first.status_code == 200, first.text
    [patient] = first.json()["patients"]
    assert patient["action"] == "created" and patient["findings_added"] > 0
    assert any(e["resource"] == "Observation/hematocrit-brian-l" for e in patient["not_mapped"])
    again = post_bundle(client, auth, BRIAN.read_bytes())
    assert again.json()["counts"] == {"created": 0, "updated": 0, "unchanged": 1, "failed": 0}
    expected = import_bundle(BRIAN.read_bytes()).patients[0].case
    stored = client.get(f"{API}/patients/{patient['patient_id']}/case", headers=auth).json()
    assert stored == expected.to_json_dict()


def test_a_changed_resource_replaces_its_finding_and_a_new_one_is_added(client, world):
    auth = world.auth("clinician")
    bundle = json.loads(BRIAN.read_text())
    created = post_bundle(client, auth, bundle).json()["patients"][0]
    observation = next(e["resource"] for e in bundle["entry"]
                        if e["resource"]["resourceType"] == "Observation" and "valueQuantity" in e["resource"]
                        and any(c.get("code") == "26464-8" for c in e["resource"]["code"].get("coding", [])))
    observation["valueQuantity"]["value"] = observation["valueQuantity"]["value"] + 1
    later = json.loads(json.dumps(observation))
    later["id"], later["effectiveDateTime"] = "wbc-later", "2026-01-05"
    bundle["entry"].append({"fullUrl": "urn:uuid:later", "resource": later})
    updated = post_bundle(client, auth, bundle).json()["patients"][0]
    assert updated["action"] == "updated" and updated["patient_id"] == created["patient_id"]
    assert (updated["findings_added"], updated["findings_replaced"]) == (1, 1)


def test_ndjson_lines_are_imported(client, world):
    auth = world.auth("clinician")
    resources = [e["resource"] for e in json.loads(BRIAN.read_text())["entry"]]
    body = "\n".join(json.dumps(r) for r in resources) + "\n"
    response = post_bundle(client, auth, body, "application/fhir+ndjson")
    assert response.status_code == 200, response.text
    assert response.json()["counts"]["created"] == 1


@pytest.mark.parametrize(
    ("body", "content_type", "status", "fragment"),
    [
        (b"{not json", "application/fhir+json", 422, "not valid JSON"),
        (json.dumps({"resourceType": "Bundle", "type": "collection", "fhirVersion": "5.0.0", "entry": []}),
         "application/fhir+json", 422, "5.0.0"),
        (json.dumps({"resourceType": "Spaceship", "id": "x"}), "application/fhir+json", 422, "Spaceship"),
        (b"<Bundle/>", "application/xml", 415, "application/fhir+json"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_problem_and_stores_nothing(client, world, body, content_type, status, fragment):
    auth = world.auth("clinician")
    before = client.get(f"{API}/patients", headers=auth).json()
    response = post_bundle(client, auth, body, content_type)
    assert response.status_code == status, response.text
    assert fragment in response.text
    assert client.get(f"{API}/patients", headers=auth).json() == before


def test_a_patient_whose_data_cannot_be_mapped_is_reported_and_the_others_are_stored(client, world):
    auth = world.auth("clinician")
    good = json.loads(BRIAN.read_text())
    bad_patient = {"resourceType": "Patient", "id": "bad-unit", "birthDate": "2017-06-01", "extension": [
            {"url": "urn:allcare:extension:age-at-diagnosis", "valueDecimal": 30},
            {"url": "urn:allcare:extension:diagnosis-date", "valueDate": "2024-01-01"}]}
    bad_obs = {"resourceType": "Observation", "id": "w", "status": "final", "subject": {"reference": "Patient/bad-unit"},
               "effectiveDateTime": "2024-01-01", "code": {"coding": [{"system": "http://loinc.org", "code": "26464-8"}]},
               "valueQuantity": {"value": 4, "unit": "10*9/L"}}
    good["entry"] += [{"resource": bad_patient}, {"resource": bad_obs}]
    response = post_bundle(client, auth, good)
    assert response.status_code == 200, response.text
    outcome = {p["identifier"]: p for p in response.json()["patients"]}
    failed = [p for p in outcome.values() if p["action"] == "failed"]
    assert len(failed) == 1 and "contradicts birth_date" in " ".join(failed[0]["problems"]) and failed[0]["patient_id"] is None
    assert response.json()["counts"]["created"] == 1


@pytest.mark.parametrize("role", ["registrar", "admin", "patient_a"])
def test_only_clinicians_import(client, world, role):
    assert post_bundle(client, world.auth(role), BRIAN.read_bytes()).status_code == 403


def test_everything_is_the_records_bundle_with_allcares_conclusions(client, world):
    auth = world.auth("clinician")
    case = load_case(EXAMPLE_CASES[0])
    created = client.post(f"{API}/cases", headers=auth, json=case.to_json_dict()).json()
    response = client.get(f"{API}/patients/{created['id']}/$everything", headers=auth)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    assert bundle == bundle_json(case, assess(case)) | {k: bundle[k] for k in ("id", "timestamp") if k in bundle}
    back = import_bundle(bundle).patients[0].case
    assert assess(back) == assess(case)


def test_a_patient_reads_only_their_own_everything(client, world):
    assert client.get(f"{API}/patients/{world.patient_a}/$everything", headers=world.auth("patient_a")).status_code == 200
    assert client.get(f"{API}/patients/{world.patient_a}/$everything", headers=world.auth("patient_b")).status_code == 404
    assert client.get(f"{API}/patients/999999/$everything", headers=world.auth("clinician")).status_code == 404


def test_the_cds_hooks_service_is_mounted_and_does_not_fetch_from_unlisted_servers(settings, store):
    from fastapi.testclient import TestClient

    from allcare.web.app import create_app

    client = TestClient(create_app(settings.model_copy(update={"cds_allow_anonymous": True}), store=store))
    discovery = client.get("/cds-services")
    assert discovery.status_code == 200 and discovery.json()["services"][0]["id"] == "all-assessment"
    request = {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
               "fhirServer": "http://169.254.169.254/fhir", "context": {"userId": "Practitioner/1", "patientId": "p"}}
    response = client.post("/cds-services/all-assessment", json=request)
    assert response.status_code == 412 and "may not fetch" in response.text
