"""CDS Hooks 2.0 as EHRs really call it: null prefetch, paged searches, other origins, CORS, feedback, card text and links.

Each test runs the service under uvicorn on loopback; FHIR servers are stubs that record what
they were asked (and with which token), so "the token never leaves its server" is checked on
the wire, not assumed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from allcare.interop.casefile import load_case
from allcare.interop.cdshooks import CdsSettings, create_app
from allcare.interop.cdshooks.auth import CdsAuth
from allcare.interop.cdshooks.cards import short
from allcare.interop.fhir import case_resources
from fhir_helpers import EXAMPLES, ServerThread, free_port
from test_cdshooks import TOKEN, check_cards, hook, prefetch_for, searchset

EXAMPLE = EXAMPLES / "t_all_mediastinal_mass_svc_hyperleukocytosis.yaml"
AUTH = {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read", "subject": "x"}

ANONYMOUS = CdsAuth(allow_anonymous=True)  # these tests are about the data; JWT checks: test_cds_auth.py


@pytest.fixture(scope="module")
def resources() -> list[dict]:
    return case_resources(load_case(EXAMPLE))


@pytest.fixture(scope="module")
def cds():
    with ServerThread(create_app(CdsSettings(allcare_url="https://allcare.example.org"), auth=ANONYMOUS)) as server:
        yield server


def post(server, body: dict, path: str = "/cds-services/all-assessment", **headers) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", content=json.dumps(body), timeout=60,
                      headers={"Content-Type": "application/json", **headers})


def pages(bundle: dict, size: int) -> list[dict]:
    entries = bundle["entry"]
    return [{**bundle, "entry": entries[n:n + size]} for n in range(0, len(entries), size)]


class PageServer:
    """A FHIR server that serves the pages of one search (``/fhir/page/N``) and records every request."""

    def __init__(self, page_list: list[dict], next_base: str | None = None):
        self.pages, self.seen, self.next_base = page_list, [], next_base
        app = FastAPI()

        @app.get("/fhir/page/{n}")
        def page(n: int, request: Request):
            self.seen.append({"path": request.url.path, "auth": request.headers.get("authorization")})
            body = dict(self.pages[n])
            if n + 1 < len(self.pages):
                body["link"] = [{"relation": "next", "url": f"{self.next_base or str(request.base_url).rstrip('/')}/fhir/page/{n + 1}"}]
            return JSONResponse(body)

        self.thread = ServerThread(app)

    def __enter__(self):
        self.thread.__enter__()
        return self

    def __exit__(self, *exc):
        self.thread.__exit__(*exc)

    @property
    def url(self) -> str:
        return self.thread.url


def test_discovery_offers_medication_request_and_diagnostic_report_templates(cds):
    (service,) = httpx.get(f"{cds.url}/cds-services").json()["services"]
    assert service["prefetch"]["medicationrequests"] == "MedicationRequest?patient={{context.patientId}}"
    assert service["prefetch"]["diagnosticreports"] == "DiagnosticReport?patient={{context.patientId}}"


def test_null_prefetch_means_no_data_not_missing(cds, resources):
    """CDS Hooks 2.0: null = the client found nothing; the service answers without fetching (no fhirServer here)."""
    pid = resources[0]["id"]
    prefetch = {**prefetch_for(resources), "conditions": None, "medicationrequests": None, "careplans": None}
    cards = check_cards(post(cds, hook(pid, prefetch=prefetch)), pid)
    assert "T-lymphoblastic" in cards[0]["summary"]
    only_patient = dict.fromkeys(prefetch) | {"patient": None}
    response = post(cds, hook(pid, prefetch=only_patient))
    assert response.status_code == 200 and response.json()["cards"][0]["summary"].startswith("Indeterminate · ")


def test_a_paged_prefetch_without_a_server_to_finish_it_is_refused_as_incomplete(cds, resources):
    pid = resources[0]["id"]
    first, *_ = pages(searchset(resources, "Observation"), 10)
    first = {**first, "link": [{"relation": "next", "url": "https://ehr.example.org/fhir/Observation?page=2"}]}
    response = post(cds, hook(pid, prefetch={**prefetch_for(resources), "observations": first}))
    assert response.status_code == 412
    detail = response.json()["detail"]
    assert "incomplete" in detail["error"] and any("'observations' is one page" in p for p in detail["problems"])


def test_a_paged_prefetch_is_fetched_to_the_end_from_the_same_server(resources):
    pid = resources[0]["id"]
    observation_pages = pages(searchset(resources, "Observation"), 10)
    with PageServer(observation_pages) as fhir:
        first = {**observation_pages[0], "link": [{"relation": "next", "url": f"{fhir.url}/fhir/page/1"}]}
        settings = CdsSettings(allcare_url="https://allcare.example.org", allowed_fhir_servers=(f"{fhir.url}/fhir",))
        with ServerThread(create_app(settings, auth=ANONYMOUS)) as cds:
            whole = check_cards(post(cds, hook(pid, prefetch=prefetch_for(resources))), pid)
            paged = check_cards(post(cds, hook(pid, prefetch={**prefetch_for(resources), "observations": first},
                                              fhirServer=f"{fhir.url}/fhir", fhirAuthorization=AUTH)), pid)
    assert [c["summary"] for c in paged] == [c["summary"] for c in whole]
    assert len(fhir.seen) == len(observation_pages) - 1 and all(s["auth"] == f"Bearer {TOKEN}" for s in fhir.seen)


def test_next_links_to_another_origin_are_not_followed_and_the_token_never_goes_there(resources):
    pid = resources[0]["id"]
    observation_pages = pages(searchset(resources, "Observation"), 10)
    with PageServer(observation_pages) as elsewhere, PageServer(observation_pages, next_base=None) as home:
        home.next_base = elsewhere.url  # the home server's pages point to another host:port
        first = {**observation_pages[0], "link": [{"relation": "next", "url": f"{home.url}/fhir/page/1"}]}
        settings = CdsSettings(allcare_url="https://allcare.example.org", allowed_fhir_servers=(f"{home.url}/fhir",))
        with ServerThread(create_app(settings, auth=ANONYMOUS)) as cds:
            response = post(cds, hook(pid, prefetch={**prefetch_for(resources), "observations": first},
                                      fhirServer=f"{home.url}/fhir", fhirAuthorization=AUTH))
    assert response.status_code == 412 and "incomplete" in response.json()["detail"]["error"]
    assert elsewhere.seen == []
    assert home.seen and all(s["auth"] == f"Bearer {TOKEN}" for s in home.seen)


def test_browser_based_ehrs_get_cors_headers_and_preflight_answers(cds, resources):
    preflight = httpx.options(f"{cds.url}/cds-services/all-assessment", headers={
        "Origin": "https://ehr.example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, authorization"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    assert "access-control-allow-credentials" not in preflight.headers
    pid = resources[0]["id"]
    response = post(cds, hook(pid, prefetch=prefetch_for(resources)), Origin="https://ehr.example.org")
    assert response.headers["access-control-allow-origin"] == "*"
    assert httpx.get(f"{cds.url}/cds-services", headers={"Origin": "https://ehr.example.org"}).headers[
        "access-control-allow-origin"] == "*"


def test_the_feedback_endpoint_takes_card_outcomes(cds, resources):
    pid = resources[0]["id"]
    card = post(cds, hook(pid, prefetch=prefetch_for(resources))).json()["cards"][0]
    feedback = {"feedback": [{"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2024-06-01T10:00:00Z",
                              "overrideReason": {"reason": {"code": "not-relevant", "system": "urn:x"}}}]}
    response = post(cds, feedback, path="/cds-services/all-assessment/feedback")
    assert response.status_code == 200 and response.json() == {}
    bad = post(cds, {"feedback": [{"outcome": "maybe"}]}, path="/cds-services/all-assessment/feedback")
    assert bad.status_code == 400 and "feedback" in bad.json()["detail"]["error"]


@pytest.mark.parametrize("text", [
    "B-lymphoblastic leukaemia/lymphoma with BCR::ABL1-like features · NCI risk: High · Complete remission with incomplete "
    "haematological recovery after consolidation",
    "x" * 300,
    "short enough",
])
def test_summaries_are_under_140_characters_and_cut_at_a_word(text):
    summary = short(text)
    assert len(summary) < 140
    if len(text) < 140:
        assert summary == text
    else:
        kept = summary.rstrip("…")
        assert summary.endswith("…") and text.startswith(kept)
        if " " in text[:139]:
            assert text[len(kept)] in " ·" or text[len(kept):].startswith(" ")


def test_the_server_timing_header_splits_the_time(cds, resources):
    """A first request is parsed, decoded, checked, mapped and assessed; the same prefetch again is known by its text."""
    import copy

    pid = resources[0]["id"]
    fresh = copy.deepcopy(resources)
    fresh[0]["birthDate"] = "2015-01-02"  # a prefetch no other test sent

    def stages() -> list[str]:
        response = post(cds, hook(pid, prefetch=prefetch_for(fresh)))
        assert response.status_code == 200, response.text
        return [part.split(";")[0].strip() for part in response.headers["server-timing"].split(",")]

    assert stages() == ["parse", "decode", "check", "map", "assess", "cards"]
    assert stages() == ["parse", "known", "cards"]


def test_card_links_use_the_address_allcare_serve_was_started_with(resources, tmp_path):
    """``allcare serve --port N``: card links name that port (the factory reads its settings in the server process)."""
    port = free_port()
    env = {**os.environ, "ALLCARE_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}", "ALLCARE_DEMO": "false",
           "ALLCARE_SECRET_KEY": "k" * 40, "ALLCARE_ARGON2_MEMORY_KIB": "64", "ALLCARE_ARGON2_TIME_COST": "1",
           "ALLCARE_ARGON2_PARALLELISM": "1", "ALLCARE_CDS_ALLOW_ANONYMOUS": "true"}
    env.pop("ALLCARE_PORT", None)
    env.pop("ALLCARE_PUBLIC_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "allcare", "serve", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/cds-services", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "allcare serve did not start"
            time.sleep(0.2)
        pid = resources[0]["id"]
        response = httpx.post(f"http://127.0.0.1:{port}/cds-services/all-assessment", timeout=60,
                              json=hook(pid, prefetch=prefetch_for(resources)))
        assert response.status_code == 200, response.text
        assert response.json()["cards"][0]["links"][0]["url"] == f"http://127.0.0.1:{port}/patients?q={pid}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_card_links_keep_the_public_urls_port_and_path():
    settings = CdsSettings(allcare_url="https://allcare.example.org:8443/oncology/")
    assert settings.patient_url("p 1") == "https://allcare.example.org:8443/oncology/patients?q=p%201"


def _fresh(resources: list[dict], birth_date: str) -> list[dict]:
    """The example's resources with a birth date no other test sent: a prefetch no server has assessed."""
    import copy

    fresh = copy.deepcopy(resources)
    fresh[0]["birthDate"] = birth_date
    return fresh


def test_a_refusal_of_the_cold_work_is_answered_as_itself(cds, resources):
    """FHIR data that cannot be imported is 422 with its problems (the cold work raises its refusal, the service
    answers it)."""
    pid = resources[0]["id"]
    broken = _fresh(resources, "2015-01-05")
    observation = next(r for r in broken if r["resourceType"] == "Observation")
    observation["valueQuantity"] = {"value": "not a number", "unit": "10*9/L"}
    response = post(cds, hook(pid, prefetch=prefetch_for(broken)))
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["error"] == "the FHIR data for this patient cannot be imported"
    assert any("valueQuantity" in problem for problem in detail["problems"])
