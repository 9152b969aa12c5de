"""The store's FHIR routes: one person across imports and servers (identifiers), OperationOutcome errors,
the CapabilityStatement, and bulk NDJSON export (API and CLI)."""

from __future__ import annotations

import json

import orjson

from allcare.interop.fhir import import_bundle
from fhir_conformance import schema_errors
from fhir_helpers import BRIAN, allcare_cli

API = "/api/v1"
MRN = "http://hospital.example.org/mrn"
LOINC = "http://loinc.org"


def post(client, auth, data, content_type="application/fhir+json"):
    body = data if isinstance(data, (bytes, str)) else json.dumps(data)
    return client.post(f"{API}/fhir/import", content=body, headers={**auth, "Content-Type": content_type})


def server_bundle(patient_id: str, observation_id: str, value: float, **patient) -> dict:
    """What one FHIR server sends for the patient with MRN 4711 (its own resource ids)."""
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": patient_id, "gender": "female", "birthDate": "2016-04-01",
                      "identifier": [{"system": MRN, "value": "4711"}], **patient}},
        {"resource": {"resourceType": "Observation", "id": observation_id, "status": "final",
                      "code": {"coding": [{"system": LOINC, "code": "6690-2"}]}, "subject": {"reference": f"Patient/{patient_id}"},
                      "effectiveDateTime": "2024-02-01", "valueQuantity": {"value": value, "unit": "x10E3/uL"}}}]}


def test_the_same_mrn_from_two_servers_is_one_record_with_its_identifiers_in_everything(client, world):
    auth = world.auth("clinician")
    first = post(client, auth, server_bundle("epic-9f3", "o-1", 4.2)).json()["patients"][0]
    second = post(client, auth, server_bundle("cerner-77", "o-77", 5.1)).json()["patients"][0]
    assert first["action"] == "created" and second["action"] == "updated"
    assert second["patient_id"] == first["patient_id"]
    bundle = client.get(f"{API}/patients/{first['patient_id']}/$everything", headers=auth).json()
    patient = bundle["entry"][0]["resource"]
    assert {"system": MRN, "value": "4711"} in patient["identifier"]
    again = import_bundle(bundle).patients[0]
    assert (MRN, "4711") in again.identifiers and len([f for f in again.case.findings if f.type == "cbc"]) == 2


def test_a_bundle_without_ids_imported_twice_is_the_same_patient(client, world):
    auth = world.auth("clinician")
    data = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:7a5c0e62-57a4-4c3c-b2a4-9a4f0f3d1c11", "resource": {"resourceType": "Patient", "gender": "male"}},
        {"fullUrl": "urn:uuid:1e2d3c4b-5a69-4788-9abc-def012345678", "resource": {
            "resourceType": "Observation", "status": "final", "code": {"coding": [{"system": LOINC, "code": "718-7"}]},
            "subject": {"reference": "urn:uuid:7a5c0e62-57a4-4c3c-b2a4-9a4f0f3d1c11"}, "effectiveDateTime": "2024-01-01",
            "valueQuantity": {"value": 9.1, "unit": "g/dL"}}}]}
    first = post(client, auth, data).json()["patients"][0]
    second = post(client, auth, data).json()["patients"][0]
    assert (first["action"], second["action"]) == ("created", "unchanged")
    assert first["patient_id"] == second["patient_id"] and first["identifier"] == "7a5c0e62-57a4-4c3c-b2a4-9a4f0f3d1c11"


def test_identifiers_naming_two_stored_patients_fail_that_import(client, world):
    auth = world.auth("clinician")
    post(client, auth, server_bundle("a", "oa", 4.0))
    other = server_bundle("b", "ob", 4.0, identifier=[{"system": MRN, "value": "9999"}])
    post(client, auth, other)
    both = server_bundle("c", "oc", 4.0, identifier=[{"system": MRN, "value": "4711"}, {"system": MRN, "value": "9999"}])
    (outcome,) = post(client, auth, both).json()["patients"]
    assert outcome["action"] == "failed" and "different stored patients" in " ".join(outcome["problems"])


def test_errors_of_the_fhir_routes_are_operation_outcomes(client, world):
    auth = world.auth("clinician")
    malformed = post(client, auth, b'{"resourceType": "Bundle", "entry": [')
    assert malformed.status_code == 422 and malformed.headers["content-type"].startswith("application/fhir+json")
    outcome = malformed.json()
    assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["severity"] == "error"
    assert outcome["issue"][0]["code"] == "invalid" and "not valid JSON" in outcome["issue"][0]["diagnostics"]
    assert schema_errors(outcome) == []
    wrong_type = post(client, auth, "x", content_type="text/plain")
    assert wrong_type.status_code == 415 and wrong_type.json()["issue"][0]["code"] == "not-supported"
    missing = client.get(f"{API}/patients/999999/$everything", headers=auth)
    assert missing.status_code == 404 and missing.json()["issue"][0]["code"] == "not-found"
    anonymous = client.get(f"{API}/patients/1/$everything")
    assert anonymous.status_code == 401 and anonymous.json()["resourceType"] == "OperationOutcome"
    assert client.get(f"{API}/patients/999999", headers=auth).json().get("resourceType") is None  # REST routes unchanged


def test_metadata_is_a_valid_capability_statement(client):
    response = client.get(f"{API}/fhir/metadata")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/fhir+json")
    statement = response.json()
    assert statement["resourceType"] == "CapabilityStatement" and statement["fhirVersion"] == "4.0.1"
    assert {op["name"] for op in statement["rest"][0]["operation"]} == {"export"}
    assert statement["rest"][0]["resource"][0]["operation"][0]["name"] == "everything"
    assert schema_errors(statement) == []


def test_bulk_export_streams_every_record_as_ndjson(client, world):
    auth = world.auth("clinician")
    post(client, auth, BRIAN.read_bytes())
    response = client.get(f"{API}/fhir/$export", headers=auth)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/fhir+ndjson")
    resources = [orjson.loads(line) for line in response.content.splitlines() if line.strip()]
    patients = [r for r in resources if r["resourceType"] == "Patient"]
    assert len(patients) >= 3 and all(schema_errors(r) == [] for r in resources[:200])
    only = client.get(f"{API}/fhir/$export?_type=Patient,Condition", headers=auth)
    assert {orjson.loads(line)["resourceType"] for line in only.content.splitlines() if line.strip()} <= {"Patient", "Condition"}
    assert client.get(f"{API}/fhir/$export?_type=Widget", headers=auth).status_code == 400
    assert client.get(f"{API}/fhir/$export", headers=world.auth("registrar")).status_code == 403


def test_the_cli_writes_bulk_ndjson_of_case_files_and_of_the_store(tmp_path):
    case = tmp_path / "case.json"
    done = allcare_cli("import", "fhir", str(BRIAN), "--to-case", str(case))
    assert done.returncode == 0, done.stderr
    out = tmp_path / "bulk"
    done = allcare_cli("export", "fhir", "--case", str(case), "--ndjson", str(out))
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in out.iterdir())
    assert "Patient.ndjson" in names and "Observation.ndjson" in names and all(n.endswith(".ndjson") for n in names)
    database = tmp_path / "store.db"
    assert allcare_cli("import", "fhir", str(BRIAN), database=database).returncode == 0
    store_out = tmp_path / "from-store"
    done = allcare_cli("export", "fhir", "--ndjson", str(store_out), database=database)
    assert done.returncode == 0, done.stderr
    assert (store_out / "Patient.ndjson").read_text().count("\n") == 1
    import sqlite3

    with sqlite3.connect(database) as connection:  # the record sent is in its own audit trail
        exported = connection.execute("SELECT object_type, patient_id FROM audit_events WHERE action = 'fhir.export' "
                                      "ORDER BY id").fetchall()
    assert exported == [("store", None), ("patient", 1)]
    again = allcare_cli("import", "fhir", *(str(p) for p in sorted(store_out.iterdir())), "--to-case-dir", str(tmp_path / "cases"))
    assert again.returncode == 0, again.stderr
