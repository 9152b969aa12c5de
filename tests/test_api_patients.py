"""The REST API for records: CRUD with versions, findings, treatments, assessment, case files, audit."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import httpx
import pytest
import yaml

from allcare.engine import assess
from allcare.engine.case import case_from_dict
from allcare.interop.casefile import load_case
from conftest import case_dict

API = "/api/v1"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "childhood_b_all_standard_risk.yaml"


@pytest.fixture
def auth(world):
    return world.auth("clinician")


def fields(response) -> list[str]:
    return [item["field"] for item in response.json()["detail"]]


def test_patient_crud_with_versions(client, world, auth):
    body = {"patient": {"id": "NEW-7", "birth_date": "2015-02-03", "sex": "male", "conditions": ["down_syndrome"]},
            "diagnosis_date": "2024-03-01", "display_name": "Sam"}
    created = client.post(f"{API}/patients", json=body, headers=auth)
    assert created.status_code == 201
    patient = created.json()
    assert patient["version"] == 1 and patient["patient"]["conditions"] == ["down_syndrome"]
    url = f"{API}/patients/{patient['id']}"
    assert client.post(f"{API}/patients", json=body, headers=auth).status_code == 409

    changed = client.put(url, json={**body, "display_name": "Samuel", "version": 1}, headers=auth)
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = client.put(url, json={**body, "display_name": "Sammy", "version": 1}, headers=auth)
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert client.get(url, headers=auth).json()["display_name"] == "Samuel"

    assert client.delete(url, params={"version": 1}, headers=auth).status_code == 409
    assert client.delete(url, params={"version": 2}, headers=auth).status_code == 204
    assert client.get(url, headers=auth).status_code == 404


@pytest.mark.parametrize("suffix", ["", "/findings", "/treatments", "/assessment", "/case", "/findings/1"])
def test_an_unknown_record_is_404(client, world, auth, suffix):
    response = client.get(f"{API}/patients/987654{suffix}", headers=auth)
    assert response.status_code == 404


def test_a_finding_of_another_patient_is_404(client, world, auth):
    finding = client.post(f"{API}/patients/{world.patient_b}/findings", headers=auth,
                          json={"type": "cbc", "date": "2024-02-01", "wbc": 3.0}).json()
    assert client.get(f"{API}/patients/{world.patient_a}/findings/{finding['id']}", headers=auth).status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"type": "cbc", "date": "2024-02-01", "wbc": -1}, "body.wbc", ">= 0"),
        ({"type": "cbc", "date": "2024-02-01", "wbc": 12400}, "body.wbc", "unit"),
        ({"type": "cbc", "date": "2024-02-01", "wbc": {"value": 5, "unit": "mmol/L"}}, "body.wbc", "not accepted"),
        ({"type": "cbc", "date": "2024-02-01", "wcb": 4}, "body.wcb", "Extra inputs"),
        ({"type": "cbc", "date": "2024-02-01"}, "body", "at least one"),
        ({"type": "biopsy", "date": "2024-02-01"}, "body", "biopsy"),
        ({"type": "marrow", "blasts_pct": 3}, "body.date", "required"),
        ({"type": "mrd", "date": "2024-02-01", "value": 2}, "body.value", "less than or equal to 1"),
        ({"type": "treatment", "phase": "induction", "start": "2024-02-01", "end": "2024-01-01"}, "body", "before start"),
        ({"type": "cbc", "date": "2010-01-01", "wbc": 3}, "body.findings[4] (cbc, 2010-01-01)", "before birth_date"),
    ],
)
def test_bad_findings_get_422_with_the_field_and_the_reason(client, world, auth, body, field, reason):
    response = client.post(f"{API}/patients/{world.patient_a}/findings", json=body, headers=auth)
    assert response.status_code == 422
    problems = {item["field"]: item["msg"] for item in response.json()["detail"]}
    assert field in problems and reason in problems[field], problems


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"{API}/patients?limit=0", "query.limit"),
        (f"{API}/patients?sort=shoe_size", "query.sort"),
        (f"{API}/patients?last_visit_from=yesterday", "query.last_visit_from"),
        (f"{API}/patients/abc", "path.patient_id"),
        (f"{API}/patients/0", "path.patient_id"),
        (f"{API}/patients/99999999999999999999", "path.patient_id"),
        (f"{API}/patients/1/assessment?as_of=2024-13-01", "query.as_of"),
        (f"{API}/patients/1/findings?type=biopsy", "query.type"),
    ],
)
def test_bad_query_and_path_values_get_422(client, world, auth, url, field):
    response = client.get(url, headers=auth)
    assert response.status_code == 422 and field in fields(response)


def test_findings_are_added_listed_changed_and_deleted(client, world, auth):
    url = f"{API}/patients/{world.patient_a}/findings"
    created = client.post(url, headers=auth, json={"type": "cbc", "date": "2024-02-01",
                                                   "wbc": {"value": 3100, "unit": "/uL"}})
    assert created.status_code == 201
    finding = created.json()
    assert finding["index"] == 4 and finding["finding"]["wbc"] == {"value": 3100, "unit": "/uL"}
    assert finding["canonical"]["wbc"] == {"value": 3.1, "unit": "10^9/L"}
    listed = client.get(url, headers=auth, params={"type": "cbc"}).json()
    assert [item["index"] for item in listed] == [0, 4]

    one = f"{url}/{finding['id']}"
    new = {"type": "cbc", "date": "2024-02-01", "wbc": 3.3}
    assert client.put(one, headers=auth, json={"version": 1, "finding": new}).json()["version"] == 2
    stale = client.put(one, headers=auth, json={"version": 1, "finding": new})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    wrong_type = client.put(one, headers=auth, json={"version": 2, "finding": {"type": "marrow", "date": "2024-02-01"}})
    assert wrong_type.status_code == 422
    assert client.delete(one, headers=auth, params={"version": 2}).status_code == 204
    assert client.get(one, headers=auth).status_code == 404


def test_treatments_are_the_treatment_findings(client, world, auth):
    url = f"{API}/patients/{world.patient_a}/treatments"
    created = client.post(url, headers=auth, json={"type": "treatment", "phase": "consolidation",
                                                   "start": "2024-02-07", "agents": ["cytarabine"]})
    assert created.status_code == 201 and created.json()["finding"]["date"] == "2024-02-07"
    assert client.post(url, headers=auth, json={"type": "cbc", "date": "2024-02-01", "wbc": 3}).status_code == 422
    assert [item["finding"]["phase"] for item in client.get(url, headers=auth).json()] == ["induction", "consolidation"]
    cbc = client.post(f"{API}/patients/{world.patient_a}/findings", headers=auth,
                      json={"type": "cbc", "date": "2024-02-01", "wbc": 3}).json()
    assert client.get(f"{url}/{cbc['id']}", headers=auth).status_code == 404
    ended = client.put(f"{url}/{created.json()['id']}", headers=auth,
                       json={"version": 1, "finding": {"type": "treatment", "phase": "consolidation",
                                                       "start": "2024-02-07", "end": "2024-03-30"}})
    assert ended.status_code == 200 and ended.json()["finding"]["end"] == "2024-03-30"


def test_the_assessment_endpoint_returns_the_engines_json(client, world, auth):
    url = f"{API}/patients/{world.patient_a}/assessment"
    expected = assess(case_from_dict(case_dict("P-A"))).to_json_dict()
    zipped = client.get(url, headers=auth)  # the client asks for gzip by default
    assert zipped.headers["content-encoding"] == "gzip" and zipped.json() == expected
    plain = client.get(url, headers={**auth, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json() == expected
    early = client.get(url, headers=auth, params={"as_of": "2024-01-08"}).json()
    assert early["as_of"] == "2024-01-08"


def test_a_new_blood_count_changes_the_assessment(client, world, auth):
    url = f"{API}/patients/{world.patient_a}/assessment"
    before = client.get(url, headers=auth).json()
    client.post(f"{API}/patients/{world.patient_a}/findings", headers=auth,
                json={"type": "cbc", "date": "2024-01-12", "wbc": 180})
    after = client.get(url, headers=auth).json()
    assert "hyperleukocytosis" not in [a["code"] for a in before["alerts"]]
    assert "hyperleukocytosis" in [a["code"] for a in after["alerts"]]
    summary = client.get(f"{API}/patients/{world.patient_a}", headers=auth).json()["summary"]
    assert summary["fresh"] and "hyperleukocytosis" in [a["code"] for a in summary["alerts"]]


def test_case_files_are_imported_and_exported_without_loss(client, world, auth):
    case = load_case(EXAMPLE)
    created = client.post(f"{API}/cases", headers=auth, json=case.to_json_dict())
    assert created.status_code == 201
    exported = client.get(f"{API}/patients/{created.json()['id']}/case", headers=auth)
    assert exported.headers["content-disposition"].endswith('.case.json"')
    assert exported.json() == case.to_json_dict()
    as_yaml = client.get(f"{API}/patients/{created.json()['id']}/case", headers=auth, params={"format": "yaml"})
    assert yaml.safe_load(as_yaml.text) == case.to_json_dict()
    assert client.post(f"{API}/cases", headers=auth, json=case.to_json_dict()).status_code == 409


def test_a_case_file_can_be_uploaded(client, world, auth):
    text = EXAMPLE.read_text(encoding="utf-8").replace("id: ", "id: UPLOADED-", 1)
    response = client.post(f"{API}/cases/upload", headers=auth, files={"file": ("case.yaml", text, "application/yaml")})
    assert response.status_code == 201 and response.json()["patient"]["id"].startswith("UPLOADED-")


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"{not json", "file"),
        (b"\xff\xfe", "file"),
        (b"schema: allcare.case/1\npatient: {id: X}\nfindings: [{type: cbc, date: 2024-01-01, wbc: -3}]\n",
         "findings[0] (cbc, 2024-01-01): wbc"),
    ],
)
def test_a_bad_upload_gets_422_with_each_problem(client, world, auth, content, field):
    response = client.post(f"{API}/cases/upload", headers=auth, files={"file": ("case.json", content, "text/plain")})
    assert response.status_code == 422 and f"body.{field}" in fields(response)


def test_an_invalid_case_body_names_the_finding_and_field(client, world, auth):
    case = case_dict("BAD-1")
    case["findings"][1]["blasts_pct"] = 140
    response = client.post(f"{API}/cases", headers=auth, json=case)
    assert response.status_code == 422 and "body.findings[1].blasts_pct" in fields(response)


def test_the_patient_list_filters_and_pages(client, world, auth):
    client.post(f"{API}/patients/{world.patient_b}/findings", headers=auth,
                json={"type": "cbc", "date": "2024-01-12", "wbc": 180})
    everyone = client.get(f"{API}/patients", headers=auth).json()
    assert everyone["total"] == 2 and all(item["summary"]["fresh"] for item in everyone["items"])
    alerted = client.get(f"{API}/patients", headers=auth, params={"alert": "hyperleukocytosis"}).json()
    assert [item["id"] for item in alerted["items"]] == [world.patient_b]
    lineage = everyone["items"][0]["summary"]["lineage"]
    assert client.get(f"{API}/patients", headers=auth, params={"lineage": lineage}).json()["total"] == 2
    assert client.get(f"{API}/patients", headers=auth, params={"q": "p-b"}).json()["items"][0]["id"] == world.patient_b
    assert client.get(f"{API}/patients", headers=auth, params={"last_visit_from": "2024-01-11"}).json()["total"] == 1
    page = client.get(f"{API}/patients", headers=auth, params={"limit": 1, "offset": 1, "sort": "-identifier"}).json()
    assert page["total"] == 2 and [item["id"] for item in page["items"]] == [world.patient_a]


def test_an_admin_pages_through_the_audit_log(client, world):
    auth = world.auth("clinician")
    for _ in range(3):
        client.get(f"{API}/patients/{world.patient_a}", headers=auth)
    admin = world.auth("admin")
    first = client.get(f"{API}/audit", headers=admin, params={"limit": 2, "patient_id": world.patient_a}).json()
    assert len(first["items"]) == 2 and first["next_before"]
    second = client.get(f"{API}/audit", headers=admin,
                        params={"limit": 2, "patient_id": world.patient_a, "before": first["next_before"]}).json()
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4
    reads = client.get(f"{API}/audit", headers=admin, params={"action": "patient.read"}).json()
    assert reads["total"] == 3
    assert {(item["username"], item["via"], item["ip"]) for item in reads["items"]} == {("clinician", "token", "testclient")}


def test_the_upload_endpoint_refuses_huge_files(app, world, auth, monkeypatch):
    from allcare.web.api import cases

    monkeypatch.setattr(cases, "MAX_CASE_FILE_BYTES", 10)
    transport = httpx.ASGITransport(app=app)

    async def post():
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as async_client:
            return await async_client.post(f"{API}/cases/upload", headers=auth,
                                           files={"file": ("c.json", json.dumps(case_dict()), "application/json")})

    import asyncio

    response = asyncio.run(post())
    assert response.status_code == 422 and "larger than" in response.text


def test_gzip_bytes_are_the_json(client, world, auth):
    raw = client.get(f"{API}/patients/{world.patient_a}/assessment", headers=auth).read()
    assert json.loads(raw)["schema"] == "allcare.assessment/3"
    assert gzip  # the test client already decoded it (Content-Encoding: gzip)


def test_a_value_that_would_not_read_back_is_refused(client, world, auth):
    """A lesion of only spaces names nothing: the case model refuses it, naming the list item."""
    body = {"type": "genetics", "date": "2024-01-12", "alterations": ["IKZF1 deletion", " "]}
    response = client.post(f"{API}/patients/{world.patient_a}/findings", headers=auth, json=body)
    assert response.status_code == 422 and "body.alterations[1]" in fields(response)
    case = case_dict("SPACES")
    case["findings"].append(body)
    response = client.post(f"{API}/cases", headers=auth, json=case)
    assert response.status_code == 422 and "body.findings[4].alterations[1]" in fields(response)
    assert client.get(f"{API}/patients/{world.patient_a}/assessment", headers=auth).status_code == 200


def test_an_assessment_date_out_of_range_is_422(client, world, auth):
    response = client.get(f"{API}/patients/{world.patient_a}/assessment", headers=auth, params={"as_of": "9999-12-31"})
    assert response.status_code == 422 and fields(response) == ["query.as_of"]


@pytest.mark.parametrize("finding", [
    {"type": "marrow", "date": "9999-12-30", "blasts_pct": 3},
    {"type": "treatment", "phase": "induction", "start": "2024-02-01", "end": "9999-01-01"},
    {"type": "mrd", "date": "2200-01-01", "value": 0.001},
])
def test_dates_no_clinical_record_can_have_are_422(client, world, auth, finding):
    response = client.post(f"{API}/patients/{world.patient_a}/findings", headers=auth, json=finding)
    assert response.status_code == 422 and "2199-12-31" in response.text
