"""Login, sessions, CSRF, throttling, API tokens, security headers, and logs without patient data."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from allcare.store.models import AuditEvent
from conftest import PASSWORD, case_dict


def login(client, username="clinician", password=PASSWORD):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_login_sets_an_httponly_samesite_session_cookie(client, world):
    response = login(client)
    assert response.status_code == 200
    assert response.json()["role"] == "clinician" and response.json()["csrf_token"]
    cookie = [v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("allcare_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert client.get("/api/v1/auth/whoami").json()["username"] == "clinician"


def test_the_session_cookie_is_secure_over_tls(app, world):
    with TestClient(app, base_url="https://testserver") as client:
        response = login(client)
    cookie = [v for k, v in response.headers.multi_items()
              if k == "set-cookie" and v.startswith("__Host-allcare_session=")][0]
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_logout_ends_the_session(client, world):
    token = login(client).json()["csrf_token"]
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": token}).status_code == 204
    assert client.get("/api/v1/auth/whoami").status_code == 401


def test_requests_without_credentials_are_refused(client, world):
    assert client.get(f"/api/v1/patients/{world.patient_a}").status_code == 401
    assert client.get("/api/v1/patients", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert client.get("/api/v1/patients", headers={"Authorization": "Basic abc"}).status_code == 401


def test_repeated_failures_throttle_logins_even_with_the_right_password(client, world, store):
    for _ in range(3):  # login_max_failures=3 in the test settings
        assert login(client, password="wrong password").status_code == 401
    throttled = login(client)
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    with store.sessions() as session:
        outcomes = list(session.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "auth.login")))
    assert outcomes == ["failed", "failed", "failed", "throttled"]


def test_guesses_at_one_account_lock_out_neither_other_accounts_nor_other_addresses(app, world):
    """Throttled per (user, address): a shared proxy or an attacker cannot lock the admin out."""
    with TestClient(app, client=("10.0.0.1", 1000)) as attacker:
        for _ in range(4):
            login(attacker, username="admin", password="wrong password")
        assert login(attacker, username="admin").status_code == 429
        assert login(attacker, username="registrar").status_code == 200  # same address, other account
    with TestClient(app, client=("10.0.0.2", 1000)) as admin:
        assert login(admin, username="admin").status_code == 200  # the admin, from their own address


def test_concurrent_guesses_get_no_more_tries_than_sequential_ones(app, world):
    """The check and the count are one step: 40 guesses at once are not all checked."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from fhir_helpers import ServerThread

    with ServerThread(app) as server:
        def guess(_):
            return httpx.post(f"{server.url}/api/v1/auth/login", json={"username": "clinician", "password": "nope"},
                              timeout=60).status_code

        with ThreadPoolExecutor(40) as pool:
            statuses = list(pool.map(guess, range(40)))
    assert statuses.count(401) <= 3 and statuses.count(429) >= 37


def test_the_lockout_grows_with_each_round_of_failures(app, world):
    throttle = app.state.login_throttle
    waits = []
    for _ in range(3):
        for _ in range(3):
            assert throttle.begin("someone\0addr") == 0
            throttle.end("someone\0addr", succeeded=False)
        waits.append(throttle.begin("someone\0addr"))
        throttle._pairs.get("someone\0addr").locked_until = 0  # as if the wait were over
    assert waits[0] < waits[1] < waits[2]


@pytest.mark.parametrize("forwarded, proxies, expected", [
    ("203.0.113.7", 1, "203.0.113.7"),
    ("6.6.6.6, 203.0.113.7", 1, "203.0.113.7"),  # a client-written entry on the left proves nothing
    ("6.6.6.6, 203.0.113.7, 10.0.0.5", 2, "203.0.113.7"),
])
def test_the_client_address_is_the_one_the_trusted_proxies_added(settings, store, forwarded, proxies, expected):
    from allcare.store.models import AuditEvent as Event
    from allcare.web.app import create_app

    behind = settings.model_copy(update={"trust_proxy_headers": True, "trusted_proxies": proxies})
    with TestClient(create_app(behind, store=store)) as client:
        client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x"},
                    headers={"X-Forwarded-For": forwarded})
    with store.sessions() as session:
        assert session.scalar(select(Event.ip).order_by(Event.id.desc()).limit(1)) == expected


def test_cookie_authenticated_writes_need_the_csrf_token(client, world):
    csrf = login(client).json()["csrf_token"]
    body = {"type": "cbc", "date": "2024-02-01", "wbc": 3.1}
    url = f"/api/v1/patients/{world.patient_a}/findings"
    refused = client.post(url, json=body)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert client.post(url, json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post(url, json=body, headers={"X-CSRF-Token": csrf}).status_code == 201


def test_a_cross_site_login_form_is_refused(client, world):
    """Login CSRF: a form post (what another site can make a browser send) needs the token."""
    response = client.post("/api/v1/auth/login", data={"username": "clinician", "password": PASSWORD})
    assert response.status_code == 403


def test_bearer_tokens_need_no_csrf_token(client, world):
    response = client.post(f"/api/v1/patients/{world.patient_a}/findings", headers=world.auth("clinician"),
                           json={"type": "cbc", "date": "2024-02-01", "wbc": 3.1})
    assert response.status_code == 201


def test_api_tokens_can_be_created_listed_used_and_revoked(client, world):
    created = client.post("/api/v1/auth/tokens", headers=world.auth("registrar"), json={"name": "cohort export"})
    assert created.status_code == 201
    token = created.json()["token"]
    listed = client.get("/api/v1/auth/tokens", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200 and token not in listed.text
    assert client.get("/api/v1/cohort", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    removed = client.delete(f"/api/v1/auth/tokens/{created.json()['id']}", headers=world.auth("registrar"))
    assert removed.status_code == 204
    assert client.get("/api/v1/cohort", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_changing_the_password_needs_the_current_one(client, world):
    auth = world.auth("clinician")
    wrong = client.post("/api/v1/auth/password", headers=auth,
                        json={"current_password": "nope", "new_password": "a brand new passphrase"})
    assert wrong.status_code == 403
    short = client.post("/api/v1/auth/password", headers=auth,
                        json={"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 422 and short.json()["detail"][0]["field"] == "body.new_password"
    ok = client.post("/api/v1/auth/password", headers=auth,
                     json={"current_password": PASSWORD, "new_password": "a brand new passphrase"})
    assert ok.status_code == 204
    assert login(client, password="a brand new passphrase").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/patients", "/api/v1/no-such-thing", "/api/docs"])
def test_security_headers_are_on_every_response(client, path):
    headers = client.get(path).headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    if path.startswith("/api/v1"):
        assert headers["cache-control"] == "no-store"


def test_the_openapi_document_is_served(client):
    schema = client.get("/api/openapi.json").json()
    assert "/api/v1/patients/{patient_id}/assessment" in schema["paths"]
    assert "Assessment" in schema["components"]["schemas"]
    assert client.get("/api/docs").status_code == 200


def test_application_logs_hold_no_patient_data(client, world, caplog):
    caplog.set_level(logging.DEBUG)
    auth = world.auth("clinician")
    case = case_dict("SECRET-IDENTIFIER-42")
    case["findings"][0]["note"] = "private note"
    created = client.post("/api/v1/cases", headers=auth, json=case)
    assert created.status_code == 201
    patient = created.json()["id"]
    client.get("/api/v1/patients", headers=auth, params={"q": "SECRET-IDENTIFIER-42"})
    client.get(f"/api/v1/patients/{patient}/case", headers=auth)
    client.get(f"/api/v1/patients/{patient}/assessment", headers=auth)
    client.post(f"/api/v1/patients/{patient}/findings", headers=auth, json={"type": "cbc", "date": "2024-01-20",
                                                                             "wbc": "SECRET-VALUE"})
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]  # not the test client
    assert "GET /api/v1/patients/{patient_id}/assessment 200" in " ".join(r.getMessage() for r in server_side)
    text = " ".join(r.getMessage() for r in server_side)
    for secret in ("SECRET-IDENTIFIER-42", "private note", "SECRET-VALUE", "12400"):
        assert secret not in text


def test_a_bug_is_a_plain_500_logged_without_its_message(app, client, world, caplog):
    """Unhandled errors carry no message into the log (a message can quote the input)."""

    @app.get("/api/v1/_boom")
    def boom(value: str):
        raise ValueError(f"cannot use {value}")

    caplog.set_level(logging.DEBUG)
    response = client.get("/api/v1/_boom", params={"value": "SECRET-PATIENT-VALUE"})
    assert response.status_code == 500 and "SECRET" not in response.text
    assert "internal error ValueError in GET /api/v1/_boom" in caplog.text
    server_side = " ".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore")))
    assert "SECRET-PATIENT-VALUE" not in server_side
    assert response.headers["x-content-type-options"] == "nosniff"
