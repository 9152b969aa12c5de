"""Accounts and access (issue 9): tokens end with the password, admins manage tokens, demo logins do not
outlive the demo, CSRF tokens belong to one session, registrars read the coded view, reads are audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from allcare.store.models import AuditEvent
from conftest import PASSWORD

API = "/api/v1"


def login(client, username="clinician", password=PASSWORD):
    return client.post(f"{API}/auth/login", json={"username": username, "password": password})


# --- 10. API tokens end with the password -----------------------------------------------------------------


def test_changing_the_password_revokes_the_api_tokens(client, world):
    auth = world.auth("clinician")
    changed = client.post(f"{API}/auth/password", headers=auth,
                          json={"current_password": PASSWORD, "new_password": "another long passphrase"})
    assert changed.status_code == 204
    assert client.get(f"{API}/patients", headers=auth).status_code == 401


def test_an_admin_password_reset_revokes_the_users_tokens(client, world):
    reset = client.patch(f"{API}/users/{world.user_ids['registrar']}", headers=world.auth("admin"),
                         json={"password": "reset by the admin"})
    assert reset.status_code == 200
    assert client.get(f"{API}/cohort", headers=world.auth("registrar")).status_code == 401


def test_admins_list_and_revoke_any_users_tokens(client, world):
    listed = client.get(f"{API}/users/{world.user_ids['clinician']}/tokens", headers=world.auth("admin"))
    assert listed.status_code == 200 and [t["id"] for t in listed.json()] == [world.token_ids["clinician"]]
    assert world.tokens["clinician"] not in listed.text
    revoked = client.delete(f"{API}/users/{world.user_ids['clinician']}/tokens/{world.token_ids['clinician']}",
                            headers=world.auth("admin"))
    assert revoked.status_code == 204
    assert client.get(f"{API}/patients", headers=world.auth("clinician")).status_code == 401
    other = client.delete(f"{API}/users/{world.user_ids['registrar']}/tokens/{world.token_ids['clinician']}",
                          headers=world.auth("admin"))
    assert other.status_code == 404  # a token is revoked under its own user only


def test_a_role_change_revokes_the_users_api_tokens(client, world):
    """A token carries the power its user had when it was made: a clinician demoted to registrar must not
    keep a clinician's script, nor a registrar promoted to admin hand admin power to an old script."""
    auth = world.auth("clinician")
    changed = client.patch(f"{API}/users/{world.user_ids['clinician']}", headers=world.auth("admin"),
                           json={"role": "registrar"})
    assert changed.status_code == 200
    assert client.get(f"{API}/cohort", headers=auth).status_code == 401
    listed = client.get(f"{API}/users/{world.user_ids['clinician']}/tokens", headers=world.auth("admin")).json()
    assert [t["revoked_at"] is not None for t in listed] == [True]


def test_relinking_a_patient_user_revokes_their_api_tokens(client, world):
    """A token made for one child's record (a parent's app) must not open another child's after an admin
    links the login to another record."""
    auth = world.auth("patient_a")
    assert client.get(f"{API}/patients/{world.patient_a}/case", headers=auth).status_code == 200
    relinked = client.patch(f"{API}/users/{world.user_ids['patient_a']}", headers=world.auth("admin"),
                            json={"patient_id": world.patient_b})
    assert relinked.status_code == 200
    assert client.get(f"{API}/patients/{world.patient_b}/case", headers=auth).status_code == 401
    assert client.get(f"{API}/auth/whoami", headers=auth).status_code == 401


def test_a_display_name_change_keeps_the_api_tokens(client, world):
    changed = client.patch(f"{API}/users/{world.user_ids['clinician']}", headers=world.auth("admin"),
                           json={"display_name": "Dr A"})
    assert changed.status_code == 200
    assert client.get(f"{API}/patients", headers=world.auth("clinician")).status_code == 200


@pytest.mark.parametrize("change", [{"role": "clinician"}, {"active": False}])
def test_an_admin_cannot_demote_or_disable_their_own_account_through_the_api(client, world, change):
    """The admin page refuses it; the API let the only admin demote themselves, leaving no one to manage
    accounts. Another admin may."""
    me = world.user_ids["admin"]
    refused = client.patch(f"{API}/users/{me}", headers=world.auth("admin"), json=change)
    assert refused.status_code == 422 and "your own" in refused.text
    kept = client.get(f"{API}/users/{me}", headers=world.auth("admin")).json()
    assert (kept["role"], kept["active"]) == ("admin", True)
    renamed = client.patch(f"{API}/users/{me}", headers=world.auth("admin"), json={"display_name": "Ada"})
    assert renamed.status_code == 200


# --- 13. demo logins do not outlive the demo --------------------------------------------------------------


def test_demo_logins_with_published_passwords_are_deactivated_without_the_demo(settings, store, world):
    from allcare.store.demo import DEMO_LOGINS, add_demo_users
    from allcare.web.app import create_app

    for login_ in DEMO_LOGINS:  # the world's users already have the demo names: rename them
        with store.transaction() as session:
            from allcare.store.models import User

            user = session.scalar(select(User).where(User.username == login_.username))
            if user is not None:
                user.username = f"real.{login_.username}"
    add_demo_users(store, world.patient_a, hasher_args={"time_cost": 1, "memory_kib": 64, "parallelism": 1})
    client = TestClient(create_app(settings, store=store))  # ALLCARE_DEMO=false (the test settings)
    for login_ in DEMO_LOGINS:
        assert login(client, login_.username, login_.password).status_code == 401
    assert login(client, "real.clinician").status_code == 200  # real accounts are untouched


# --- 16. CSRF tokens belong to one session --------------------------------------------------------------


def test_a_csrf_token_of_another_session_is_refused(app, world):
    """Cookie tossing: an attacker plants their own valid CSRF cookie in the victim's browser and sends the
    matching token; the token must belong to the victim's session, not merely match a cookie."""
    attacker, victim = TestClient(app), TestClient(app)
    attacker.get("/login")
    planted = attacker.cookies.get("allcare_csrf")
    login(victim, "clinician")
    victim.cookies.set("allcare_csrf", planted)
    url = f"{API}/patients/{world.patient_a}/findings"
    body = {"type": "cbc", "date": "2024-02-01", "wbc": 3.1}
    assert victim.post(url, json=body, headers={"X-CSRF-Token": planted}).status_code == 403
    own = victim.get(f"{API}/auth/whoami").json()["csrf_token"]
    assert victim.post(url, json=body, headers={"X-CSRF-Token": own}).status_code == 201


def test_cookies_carry_the_host_prefix_over_tls(app, world):
    with TestClient(app, base_url="https://testserver") as client:
        response = client.get("/login")
        assert any(v.startswith("__Host-allcare_csrf=") and "Secure" in v
                   for k, v in response.headers.multi_items() if k == "set-cookie")
        token = login(client).json()["csrf_token"]
        assert client.get(f"{API}/auth/whoami").status_code == 200
        assert client.post(f"{API}/patients/{world.patient_a}/findings", headers={"X-CSRF-Token": token},
                           json={"type": "cbc", "date": "2024-02-01", "wbc": 3.1}).status_code == 201
    with TestClient(app, base_url="https://testserver") as client:  # an unprefixed cookie is not a session
        client.cookies.set("allcare_session", "planted-by-a-subdomain")
        assert client.get(f"{API}/auth/whoami").status_code == 401


# --- 12. the registrar's coded view -----------------------------------------------------------------------


def test_a_registrar_reads_codes_and_status_but_no_raw_findings(client, world):
    auth = world.auth("registrar")
    assert client.get(f"{API}/patients/{world.patient_a}/assessment", headers=auth).status_code == 403
    coded = client.get(f"{API}/patients/{world.patient_a}/coded", headers=auth)
    assert coded.status_code == 200
    body = coded.json()
    assert body["codes"]["icd_o_3"] and body["lineage"] == "B" and body["status"]["current"]
    assert body["diagnosis_date"] == "2024-01-08"
    for raw in ("12400", "12.4", "88", "CD19", "vincristine", "evidence", "blasts"):
        assert raw not in coded.text, raw


# --- 21. reads are audited with what they showed ---------------------------------------------------------


def test_a_list_read_logs_the_ids_it_returned(client, world, store):
    assert client.get(f"{API}/patients", headers=world.auth("clinician")).status_code == 200
    with store.sessions() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "patient.list"))
    assert sorted(event.detail["ids"]) == sorted([world.patient_a, world.patient_b])


def test_a_bulk_export_is_in_the_audit_trail_of_every_record_it_sent(client, world):
    """'Who read record A?' (the audit log filtered by patient) must show the FHIR bulk export that sent
    A's whole record, not only the single-record reads."""
    exported = client.get(f"{API}/fhir/$export", headers=world.auth("clinician"))
    assert exported.status_code == 200 and exported.text
    for patient in (world.patient_a, world.patient_b):
        trail = client.get(f"{API}/audit", params={"patient_id": patient}, headers=world.auth("admin")).json()
        exports = [item for item in trail["items"] if item["action"] == "fhir.export"]
        assert [(item["username"], item["patient_id"]) for item in exports] == [("clinician", patient)]


def test_opening_an_add_finding_form_is_an_audited_read(app, world, store):
    from test_web_pages import logged_in

    client = logged_in(app, "clinician")
    assert client.get(f"/patients/{world.patient_a}/findings/new/cbc").status_code == 200
    with store.sessions() as session:
        reads = list(session.scalars(select(AuditEvent).where(AuditEvent.patient_id == world.patient_a,
                                                              AuditEvent.action == "finding.form")))
    assert len(reads) == 1 and reads[0].username == "clinician"
