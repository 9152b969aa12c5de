"""The CDS Hooks 2.0 patient-view service, served by uvicorn on loopback, with a stub FHIR server.

The stub serves real FHIR JSON (an example case exported by allcare, plus the mCODE paediatric
example) with bearer-token checks and paged searchsets, so the fetch path runs for real.
"""

from __future__ import annotations

import json
import uuid

import httpx
import msgspec
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from allcare.engine import assess
from allcare.interop.casefile import load_case
from allcare.interop.cdshooks import CdsResponse, CdsSettings, create_app
from allcare.interop.cdshooks.auth import CdsAuth
from allcare.interop.fhir import case_resources
from fhir_helpers import BRIAN, EXAMPLES, ServerThread

TOKEN = "test-token-123"
EXAMPLE = EXAMPLES / "t_all_mediastinal_mass_svc_hyperleukocytosis.yaml"


def stub_fhir_server(resources: list[dict], page_size: int = 7) -> tuple[FastAPI, list[dict]]:
    """A minimal FHIR read/search server over ``resources``; it records what it was asked."""
    app = FastAPI()
    seen: list[dict] = []

    def allowed(request: Request) -> bool:
        seen.append({"path": request.url.path, "query": str(request.url.query), "auth": request.headers.get("authorization")})
        return request.headers.get("authorization") == f"Bearer {TOKEN}"

    @app.get("/fhir/Patient/{pid}")
    def read_patient(pid: str, request: Request):
        if not allowed(request):
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=401)
        found = [r for r in resources if r["resourceType"] == "Patient" and r["id"] == pid]
        return JSONResponse(found[0] if found else {"resourceType": "OperationOutcome"}, status_code=200 if found else 404)

    @app.get("/fhir/{rtype}")
    def search(rtype: str, patient: str, request: Request, page: int = 0):
        if not allowed(request):
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=401)
        matches = [r for r in resources if r["resourceType"] == rtype and (r.get("subject") or r.get("patient") or {}).get("reference") == f"Patient/{patient}"]
        chunk = matches[page * page_size:(page + 1) * page_size]
        bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(matches),
                  "entry": [{"fullUrl": f"{request.base_url}fhir/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}} for r in chunk],
                  "link": [{"relation": "self", "url": str(request.url)}]}
        if (page + 1) * page_size < len(matches):
            bundle["link"].append({"relation": "next", "url": f"{request.base_url}fhir/{rtype}?patient={patient}&page={page + 1}"})
        return JSONResponse(bundle, media_type="application/fhir+json")

    return app, seen


@pytest.fixture(scope="module")
def example_resources() -> list[dict]:
    return case_resources(load_case(EXAMPLE))


@pytest.fixture(scope="module")
def cds():
    with ServerThread(create_app(CdsSettings(allcare_url="https://allcare.example.org"), auth=CdsAuth(allow_anonymous=True))) as server:
        yield server


@pytest.fixture(scope="module")
def fhir(example_resources):
    brian = [e["resource"] for e in json.loads(BRIAN.read_text())["entry"]]
    app, seen = stub_fhir_server(example_resources + brian)
    with ServerThread(app) as server:
        server.seen = seen
        yield server


def searchset(resources: list[dict], rtype: str) -> dict:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources if r["resourceType"] == rtype]}


def prefetch_for(resources: list[dict]) -> dict:
    return {"patient": resources[0], "observations": searchset(resources, "Observation"), "conditions": searchset(resources, "Condition"),
            "medications": searchset(resources, "MedicationAdministration"), "careplans": searchset(resources, "CarePlan"),
            "medicationrequests": searchset(resources, "MedicationRequest"), "diagnosticreports": searchset(resources, "DiagnosticReport")}


def hook(patient_id: str, **extra) -> dict:
    return {"hook": "patient-view", "hookInstance": str(uuid.uuid4()), "context": {"userId": "Practitioner/doc-1", "patientId": patient_id}, **extra}


def post(cds, body) -> httpx.Response:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return httpx.post(f"{cds.url}/cds-services/all-assessment", content=data, headers={"Content-Type": "application/json"}, timeout=60)


def check_cards(response: httpx.Response, patient_id: str) -> list[dict]:
    """The CDS Hooks 2.0 response shape, checked rule by rule (and by the strict model)."""
    assert response.status_code == 200, response.text
    body = response.json()
    CdsResponse.model_validate(body)
    assert set(body) <= {"cards", "systemActions"}
    for card in body["cards"]:
        assert 0 < len(card["summary"]) <= 140
        assert card["indicator"] in ("info", "warning", "critical")
        assert card["source"]["label"]
        uuid.UUID(card["uuid"])
        assert card["links"] == [{"label": "Open in allcare (full derivation trail)", "type": "absolute",
                                  "url": f"https://allcare.example.org/patients?q={patient_id}"}]
    return body["cards"]


def test_discovery_lists_the_patient_view_service_with_prefetch_templates(cds):
    body = httpx.get(f"{cds.url}/cds-services").json()
    (service,) = body["services"]
    assert service["hook"] == "patient-view" and service["id"] == "all-assessment" and service["description"]
    prefetch = service["prefetch"]
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    assert prefetch["observations"] == "Observation?patient={{context.patientId}}"
    assert prefetch["conditions"] == "Condition?patient={{context.patientId}}"
    assert prefetch["medications"] == "MedicationAdministration?patient={{context.patientId}}"


def test_prefetch_gives_a_summary_card_and_one_card_per_alert(cds, example_resources):
    pid = example_resources[0]["id"]
    cards = check_cards(post(cds, hook(pid, prefetch=prefetch_for(example_resources))), pid)
    expected = assess(load_case(EXAMPLE))
    assert len(cards) == 1 + len(expected.alerts)
    summary = cards[0]
    assert "T-lymphoblastic" in summary["summary"] and "On treatment" in summary["summary"]  # allcare.labels.STATUS
    assert summary["source"]["label"].startswith("allcare")
    by_topic = {c["source"]["topic"]["code"]: c for c in cards[1:]}
    assert by_topic["hyperleukocytosis"]["indicator"] == "critical"
    assert "CTCAE" in by_topic["hyperleukocytosis"]["source"]["label"]
    assert {a.code for a in expected.alerts} == set(by_topic)


def test_missing_prefetch_is_fetched_from_the_fhir_server_with_the_token(cds, fhir, example_resources):
    pid = example_resources[0]["id"]
    fhir.seen.clear()
    body = hook(pid, fhirServer=f"{fhir.url}/fhir",
                fhirAuthorization={"access_token": TOKEN, "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read", "subject": "allcare"})
    with_prefetch = check_cards(post(cds, hook(pid, prefetch=prefetch_for(example_resources))), pid)
    fetched = check_cards(post(cds, body), pid)
    assert [c["summary"] for c in fetched] == [c["summary"] for c in with_prefetch]
    assert all(s["auth"] == f"Bearer {TOKEN}" for s in fhir.seen)
    assert sum(s["path"] == "/fhir/Observation" for s in fhir.seen) > 1  # paged searchset followed


def test_only_the_missing_keys_are_fetched(cds, fhir, example_resources):
    pid = example_resources[0]["id"]
    fhir.seen.clear()
    prefetch = {**prefetch_for(example_resources), "careplans": {"resourceType": "OperationOutcome"}}
    del prefetch["observations"]
    body = hook(pid, prefetch=prefetch, fhirServer=f"{fhir.url}/fhir",
                fhirAuthorization={"access_token": TOKEN, "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read", "subject": "x"})
    check_cards(post(cds, body), pid)
    assert {s["path"] for s in fhir.seen} == {"/fhir/Observation", "/fhir/CarePlan"}


def test_mcode_example_patient_through_the_fhir_server(cds, fhir):
    body = hook("cancer-patient-brian-l", fhirServer=f"{fhir.url}/fhir",
                fhirAuthorization={"access_token": TOKEN, "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read", "subject": "x"})
    cards = check_cards(post(cds, body), "cancer-patient-brian-l")
    assert cards[0]["summary"].startswith("Indeterminate, B-cell lineage · ") and "marrow blast" in cards[0]["detail"]


def test_missing_prefetch_without_a_fhir_server_is_412(cds, example_resources):
    response = post(cds, hook(example_resources[0]["id"], prefetch={"patient": example_resources[0]}))
    assert response.status_code == 412
    detail = response.json()["detail"]
    assert "no fhirServer" in detail["error"] and any("observations" in p for p in detail["problems"])


def test_a_refused_token_and_an_unreachable_server_are_both_412(cds, fhir, example_resources):
    """CDS Hooks 2.0 (Providing FHIR Resources): a service that cannot obtain required data because it cannot
    access the FHIR server, and the prefetch lacks it, SHALL answer 412 Precondition Failed; an unreachable
    server was answered 502, which an EHR does not read as 'send the prefetch'."""
    pid = example_resources[0]["id"]
    auth = {"access_token": "wrong", "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read", "subject": "x"}
    response = post(cds, hook(pid, fhirServer=f"{fhir.url}/fhir", fhirAuthorization=auth))
    assert response.status_code == 412 and "401" in response.json()["detail"]["error"]
    from fhir_helpers import free_port

    response = post(cds, hook(pid, fhirServer=f"http://127.0.0.1:{free_port()}/fhir"))
    assert response.status_code == 412 and "could not be reached" in response.json()["detail"]["error"]


@pytest.mark.parametrize("body,status,message", [
    (b"{not json", 400, "not valid JSON"),
    ({"hook": "order-sign", "hookInstance": "x", "context": {"userId": "u", "patientId": "p"}}, 400, "'patient-view' hook"),
    ({"hook": "patient-view", "hookInstance": "x", "context": {"userId": "u"}}, 400, "not a valid CDS Hooks request"),
    ({"hook": "patient-view", "hookInstance": "x", "context": {"userId": "u", "patientId": "p"},
      "fhirAuthorization": {"access_token": "t", "token_type": "Bearer", "expires_in": 1, "scope": "s", "subject": "s"}}, 400, "not a valid"),
])
def test_invalid_requests_are_4xx_with_a_clear_message(cds, body, status, message):
    response = post(cds, body)
    assert response.status_code == status
    assert message in json.dumps(response.json())


def test_invalid_fhir_in_the_prefetch_is_422_naming_resource_and_field(cds, example_resources):
    resources = json.loads(json.dumps(example_resources))
    wbc = next(r for r in resources if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "26464-8")
    wbc["valueQuantity"] = {"value": "four", "unit": "10*9/L"}
    response = post(cds, hook(resources[0]["id"], prefetch=prefetch_for(resources)))
    assert response.status_code == 422
    assert any(p.startswith(f"Observation/{wbc['id']}: valueQuantity.value") for p in response.json()["detail"]["problems"])


def test_a_prefetch_patient_other_than_the_context_patient_is_refused(cds, example_resources):
    response = post(cds, hook("someone-else", prefetch=prefetch_for(example_resources)))
    assert response.status_code == 400 and "not the patient in context" in response.json()["detail"]["error"]


def test_the_same_resources_sent_again_give_the_same_cards_and_a_changed_one_is_assessed_afresh(cds, example_resources):
    """The service keeps the assessment of an unchanged prefetch; any change to a resource is a new assessment."""
    import copy

    pid = example_resources[0]["id"]
    first = check_cards(post(cds, hook(pid, prefetch=prefetch_for(example_resources))), pid)
    again = check_cards(post(cds, hook(pid, prefetch=prefetch_for(example_resources))), pid)
    assert [(c["summary"], c["indicator"]) for c in again] == [(c["summary"], c["indicator"]) for c in first]
    assert {c["uuid"] for c in again}.isdisjoint({c["uuid"] for c in first})  # each hook instance its own cards
    changed = copy.deepcopy(example_resources)
    high = [r for r in changed if r["resourceType"] == "Observation" and "valueQuantity" in r
            and any(c.get("code") in ("26464-8", "6690-2") for c in r["code"].get("coding", []))
            and r["valueQuantity"]["value"] >= 100]
    assert high
    for wbc in high:
        wbc["valueQuantity"]["value"] = 5  # no longer hyperleukocytosis
    cards = check_cards(post(cds, hook(pid, prefetch=prefetch_for(changed))), pid)
    assert "hyperleukocytosis" in {c["source"]["topic"]["code"] for c in first[1:]}
    assert "hyperleukocytosis" not in {c["source"]["topic"]["code"] for c in cards[1:]}


def test_a_prefetch_already_assessed_is_refused_for_another_patient_in_context(cds, example_resources):
    """The assessment kept for a prefetch is found by its text and the patient in context together."""
    pid = example_resources[0]["id"]
    check_cards(post(cds, hook(pid, prefetch=prefetch_for(example_resources))), pid)
    response = post(cds, hook("someone-else", prefetch=prefetch_for(example_resources)))
    assert response.status_code == 400 and "not the patient in context" in response.json()["detail"]["error"]


# Each prefetch resource is decoded once, straight into the elements allcare reads; what that one
# pass must still catch and what it must still pass over:
@pytest.mark.parametrize(("key", "resource", "element", "version"), [
    ("observations", {"resourceType": "Observation", "id": "o-stu3", "status": "final", "code": {"text": "x"},
                      "context": {"reference": "Encounter/e"}}, "context", "STU3"),
    ("medications", {"resourceType": "MedicationAdministration", "id": "m-r5", "status": "completed",
                     "medication": {"concept": {"text": "vincristine"}}, "occurenceDateTime": "2024-01-01"}, "occurenceDateTime", "R5"),
    ("observations", {"resourceType": "Observation", "id": "o-null", "status": "final", "comment": None}, "comment", "STU3"),
])
def test_a_prefetch_resource_of_another_fhir_version_is_422_naming_it(cds, example_resources, key, resource, element, version):
    patient_id = example_resources[0]["id"]
    resource = {**resource, "subject": {"reference": f"Patient/{patient_id}"}}
    prefetch = prefetch_for(example_resources)
    prefetch[key] = {**prefetch[key], "entry": [*prefetch[key]["entry"], {"resource": resource}]}
    response = post(cds, hook(patient_id, prefetch=prefetch))
    assert response.status_code == 422
    (problem,) = response.json()["detail"]["problems"]
    assert problem.startswith(f"{resource['resourceType']}/{resource['id']}: {element}") and f"FHIR {version}" in problem


@pytest.mark.parametrize(("change", "field"), [
    ({"effectiveDateTime": "2024-03-01 08:30"}, "effectiveDateTime"),
    ({"effectiveDateTime": "1 March 2024"}, "effectiveDateTime"),
    ({"extension": [{"url": "urn:x", "valueDate": "2024-3-1"}]}, "extension[0].valueDate"),
    ({"issued": "2024-03-01T08:30:00.000+0100"}, "issued"),
])
def test_a_malformed_date_in_a_prefetch_bundle_is_422_naming_resource_and_field(cds, example_resources, change, field):
    """The prefetch's Bundles are decoded in one pass: a date allcare reads is still checked there, never read as
    another date or as none."""
    resources = json.loads(json.dumps(example_resources))
    observation = next(r for r in resources if r["resourceType"] == "Observation")
    observation.update(change)
    response = post(cds, hook(resources[0]["id"], prefetch=prefetch_for(resources)))
    assert response.status_code == 422
    problems = response.json()["detail"]["problems"]
    assert [p for p in problems if p.startswith(f"Observation/{observation['id']}: {field}: Expected 'str' matching regex")], problems


def test_a_search_outcome_with_a_malformed_id_is_passed_over(cds, example_resources):
    patient_id = example_resources[0]["id"]
    expected = check_cards(post(cds, hook(patient_id, prefetch=prefetch_for(example_resources))), patient_id)
    prefetch = prefetch_for(example_resources)
    prefetch["observations"] = {**prefetch["observations"], "entry": [
        *prefetch["observations"]["entry"], {"resource": {"resourceType": "OperationOutcome", "id": "no good!"}}]}
    cards = check_cards(post(cds, hook(patient_id, prefetch=prefetch)), patient_id)
    assert [(c["summary"], c["indicator"]) for c in cards] == [(c["summary"], c["indicator"]) for c in expected]


@pytest.mark.parametrize(("resource", "problem"), [
    ({"resourceType": "Biopsy", "id": "b1"}, "Biopsy/b1: resourceType: unknown resource type 'Biopsy'"),
    ({"id": "x1", "status": "final"}, "prefetch.observations.entry[0]: resourceType: missing"),
    ({"resourceType": "Observation", "id": "bad id!"}, "Observation/bad id!: id: Expected"),
])
def test_a_prefetch_resource_that_is_not_r4_is_422_naming_it(cds, example_resources, resource, problem):
    prefetch = prefetch_for(example_resources)
    prefetch["observations"] = {**prefetch["observations"], "entry": [{"resource": resource}, *prefetch["observations"]["entry"]]}
    response = post(cds, hook(example_resources[0]["id"], prefetch=prefetch))
    assert response.status_code == 422
    assert any(p.startswith(problem) for p in response.json()["detail"]["problems"]), response.json()


def test_outcomes_non_resources_and_resources_listed_twice_in_a_prefetch_are_passed_over(cds, example_resources):
    expected = check_cards(post(cds, hook(example_resources[0]["id"], prefetch=prefetch_for(example_resources))),
                           example_resources[0]["id"])
    prefetch = prefetch_for(example_resources)
    report_members = prefetch["observations"]["entry"][:5]  # also matched by another search
    prefetch["diagnosticreports"] = {**prefetch["diagnosticreports"], "entry": [
        *prefetch["diagnosticreports"]["entry"], *report_members,
        {"resource": {"resourceType": "OperationOutcome", "id": "warn", "issue": "not a list"}},
        {"resource": "not an object"}, {"search": {"mode": "outcome"}, "resource": {"resourceType": "OperationOutcome"}}]}
    cards = check_cards(post(cds, hook(example_resources[0]["id"], prefetch=prefetch)), example_resources[0]["id"])
    assert [(c["summary"], c["indicator"]) for c in cards] == [(c["summary"], c["indicator"]) for c in expected]


@pytest.mark.parametrize("nci, genetic", [("standard", "poor"), ("high", "standard"), ("infant", None),
                                          ("not_applicable", "poor"), (None, None)])
def test_cards_name_risk_groups_in_the_words_of_allcare_labels(nci, genetic):
    """NCI and genetic risk are named as on every other screen (``allcare.labels``), not by their keys."""
    import msgspec

    from allcare import labels
    from allcare.interop.cdshooks.cards import summary_card

    base = assess(load_case(EXAMPLE))
    a = msgspec.structs.replace(base, risk=msgspec.structs.replace(base.risk, nci=nci, genetic=genetic))
    card = summary_card(a, str(uuid.uuid4()), None)
    nci_words = labels.NCI_RISK[nci] if nci else labels.UNDETERMINED
    genetic_words = labels.GENETIC_RISK[genetic] if genetic else labels.UNDETERMINED
    assert f"NCI risk: {nci_words}" in card.summary
    assert f"**Risk**: NCI {nci_words}; genetic {genetic_words}" in card.detail


@pytest.mark.parametrize("mrd_status", ["negative", "positive", "not_evaluable"])
def test_cards_name_the_latest_mrd_and_an_unclassified_disease_in_words(mrd_status):
    """No key reaches a clinician as written: the MRD status and the disease and lineage shown when no
    WHO-HAEM5 entity is named read ``allcare.labels``."""
    import msgspec

    from allcare import labels
    from allcare.interop.cdshooks.cards import summary_card

    base = assess(load_case(EXAMPLES / "mrd_positive_eoi_blinatumomab_indication.yaml"))
    assert base.mrd.latest is not None
    diagnosis = msgspec.structs.replace(
        base.diagnosis, disease="ALL", lineage="B", who_haem5=msgspec.structs.replace(base.diagnosis.who_haem5, name=None))
    a = msgspec.structs.replace(base, diagnosis=diagnosis,
                                mrd=msgspec.structs.replace(base.mrd, latest=msgspec.structs.replace(base.mrd.latest, status=mrd_status)))
    card = summary_card(a, str(uuid.uuid4()), None)
    assert f"): {labels.MRD_STATUS[mrd_status]}" in card.detail
    assert card.summary.startswith(f"{labels.DISEASE['ALL']}, {labels.LINEAGE['B']} lineage · ")
    assert "not_evaluable" not in card.detail and "-lineage" not in card.detail


def test_a_prefetch_searchset_with_a_search_outcome_is_still_decoded_in_one_pass(example_resources):
    """Many FHIR servers add an OperationOutcome entry (``search.mode: outcome``) to a searchset; it must not
    send the whole prefetch the slower way, one resource at a time (a resource of a type allcare does not
    read still does, and is then passed over as before)."""
    from allcare.interop.cdshooks.prefetch import _decoded

    observations = prefetch_for(example_resources)["observations"]
    outcome = {"search": {"mode": "outcome"},
               "resource": {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational"}]}}
    with_outcome = {**observations, "entry": [*observations["entry"], outcome]}
    decoded = _decoded("observations", json.dumps(with_outcome).encode())
    assert decoded is not None and decoded.entry
    assert [type(e.resource).__name__ for e in decoded.entry[:-1]] == ["Observation"] * len(observations["entry"])
    assert decoded.entry[-1].resource.resource_type == "OperationOutcome"


def _with_included_context(example_resources: list[dict], encounter: dict | None = None) -> dict:
    """The prefetch with each search's ``_include``d context: the patient's Encounter and its Practitioner."""
    patient_id = example_resources[0]["id"]
    encounter = encounter or {"resourceType": "Encounter", "id": "enc-1", "status": "finished",
                              "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                              "subject": {"reference": f"Patient/{patient_id}"},
                              "participant": [{"individual": {"reference": "Practitioner/doc-1"}}]}
    practitioner = {"resourceType": "Practitioner", "id": "doc-1", "name": [{"family": "Okafor"}]}
    prefetch = prefetch_for(example_resources)
    for key in ("observations", "medications"):
        prefetch[key] = {**prefetch[key], "entry": [
            *prefetch[key]["entry"], {"resource": encounter, "search": {"mode": "include"}},
            {"resource": practitioner, "search": {"mode": "include"}}]}
    return prefetch


def test_included_encounters_and_practitioners_are_passed_over_in_the_one_pass_decoding(cds, example_resources):
    """An EHR's search may ``_include`` the Encounter and Practitioner of its results: allcare does not read them,
    and they must not send the whole Bundle the slower way of one resource at a time; the cards are those of
    the prefetch without them."""
    from allcare.interop.cdshooks.prefetch import _decoded

    patient_id = example_resources[0]["id"]
    prefetch = _with_included_context(example_resources)
    decoded = _decoded("observations", json.dumps(prefetch["observations"]).encode())
    assert decoded is not None and decoded.entry
    assert all(not isinstance(e.resource, bytes | msgspec.Raw) for e in decoded.entry)
    assert [e.resource.resource_type for e in decoded.entry[-2:]] == ["Encounter", "Practitioner"]
    expected = check_cards(post(cds, hook(patient_id, prefetch=prefetch_for(example_resources))), patient_id)
    cards = check_cards(post(cds, hook(patient_id, prefetch=prefetch)), patient_id)
    assert [(c["summary"], c["indicator"], c["detail"]) for c in cards] == [
        (c["summary"], c["indicator"], c["detail"]) for c in expected]


@pytest.mark.parametrize(("change", "problem"), [
    ({"subject": "Patient/p"}, "Encounter/enc-1: subject: Expected 'object | null', got 'str'"),
    ({"id": "bad id!"}, "Encounter/bad id!: id: Expected"),
])
def test_an_included_encounter_with_a_malformed_element_is_422_naming_it(cds, example_resources, change, problem):
    encounter = {"resourceType": "Encounter", "id": "enc-1", "status": "finished", **change}
    prefetch = _with_included_context(example_resources, encounter)
    response = post(cds, hook(example_resources[0]["id"], prefetch=prefetch))
    assert response.status_code == 422
    assert any(p.startswith(problem) for p in response.json()["detail"]["problems"]), response.json()


@pytest.mark.parametrize("left_out", [("careplans",), ("careplans", "medicationrequests", "diagnosticreports")])
def test_an_ehr_that_cannot_prefetch_an_optional_key_gets_an_assessment_that_says_what_it_went_without(
        cds, example_resources, left_out):
    """CDS Hooks 2.0: a client omits the prefetch keys it cannot fulfil. An EHR that does not support CarePlan
    search (and names no FHIR server) was refused with 412 on every chart; the patient and observations are
    what the assessment cannot go without, the rest it can: it is assessed, and a card names what was left out."""
    pid = example_resources[0]["id"]
    prefetch = {key: value for key, value in prefetch_for(example_resources).items() if key not in left_out}
    cards = check_cards(post(cds, hook(pid, prefetch=prefetch)), pid)
    without = [card for card in cards if card["source"].get("topic", {}).get("code") == "prefetch-not-sent"]
    assert len(without) == 1 and without[0]["indicator"] == "info"
    assert all(key in without[0]["detail"] for key in left_out)
    again = check_cards(post(cds, hook(pid, prefetch=prefetch)), pid)  # the same prefetch, answered from its assessment
    assert [c["summary"] for c in again] == [c["summary"] for c in cards]


def test_an_ehr_that_cannot_prefetch_the_observations_is_still_refused(cds, example_resources):
    pid = example_resources[0]["id"]
    prefetch = {key: value for key, value in prefetch_for(example_resources).items() if key != "observations"}
    response = post(cds, hook(pid, prefetch=prefetch))
    assert response.status_code == 412 and any("observations" in p for p in response.json()["detail"]["problems"])
