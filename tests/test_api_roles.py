"""Each role reaches what it should and nothing else.

clinician: every patient, read and write; registrar: read-only coded data and
cohorts; patient: only their own record; admin: users and the audit log.
The target record is patient A's; ``patient_b`` is another patient's login.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from allcare.store.models import AuditEvent
from conftest import case_dict

ROLES = ["clinician", "registrar", "admin", "patient_a", "patient_b"]
OK = "ok"
CBC = {"type": "cbc", "date": "2024-02-01", "wbc": 3.0}
TREATMENT = {"type": "treatment", "phase": "consolidation", "start": "2024-02-07"}
PATIENT = {"patient": {"id": "P-A", "birth_date": "2019-05-14", "sex": "female"}, "version": 1,
           "diagnosis_date": "2024-01-08"}

# (method, path, body, expected per role: OK or the refusal status)
MATRIX = [
    ("GET", "/patients", None, dict(clinician=OK, registrar=OK, admin=403, patient_a=OK, patient_b=OK)),
    ("GET", "/patients/{a}", None, dict(clinician=OK, registrar=OK, admin=403, patient_a=OK, patient_b=404)),
    ("PUT", "/patients/{a}", PATIENT, dict(clinician=OK, registrar=403, admin=403, patient_a=403, patient_b=403)),
    ("DELETE", "/patients/{a}?version=99", None,
     dict(clinician=OK, registrar=403, admin=403, patient_a=403, patient_b=403)),
    ("GET", "/patients/{a}/findings", None, dict(clinician=OK, registrar=403, admin=403, patient_a=OK, patient_b=404)),
    ("POST", "/patients/{a}/findings", CBC, dict(clinician=OK, registrar=403, admin=403, patient_a=403, patient_b=403)),
    ("GET", "/patients/{a}/treatments", None,
     dict(clinician=OK, registrar=403, admin=403, patient_a=OK, patient_b=404)),
    ("POST", "/patients/{a}/treatments", TREATMENT,
     dict(clinician=OK, registrar=403, admin=403, patient_a=403, patient_b=403)),
    ("GET", "/patients/{a}/assessment", None, dict(clinician=OK, registrar=403, admin=403, patient_a=OK, patient_b=404)),
    ("GET", "/patients/{a}/coded", None, dict(clinician=OK, registrar=OK, admin=403, patient_a=OK, patient_b=404)),
    ("GET", "/users/{clinician_user}/tokens", None,
     dict(clinician=403, registrar=403, admin=OK, patient_a=403, patient_b=403)),
    ("GET", "/patients/{a}/case", None, dict(clinician=OK, registrar=403, admin=403, patient_a=OK, patient_b=404)),
    ("POST", "/patients", {"patient": {"id": "NEW-1"}},
     dict(clinician=OK, registrar=403, admin=403, patient_a=403, patient_b=403)),
    ("POST", "/cases", case_dict("NEW-2"), dict(clinician=OK, registrar=403, admin=403, patient_a=403, patient_b=403)),
    ("GET", "/cohort", None, dict(clinician=OK, registrar=OK, admin=403, patient_a=403, patient_b=403)),
    ("GET", "/audit", None, dict(clinician=403, registrar=403, admin=OK, patient_a=403, patient_b=403)),
    ("GET", "/users", None, dict(clinician=403, registrar=403, admin=OK, patient_a=403, patient_b=403)),
    ("POST", "/users", {"username": "new.user", "password": "long enough pw", "role": "registrar"},
     dict(clinician=403, registrar=403, admin=OK, patient_a=403, patient_b=403)),
    ("PATCH", "/users/{clinician_user}", {"display_name": "Dr A"},
     dict(clinician=403, registrar=403, admin=OK, patient_a=403, patient_b=403)),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_each_role_reaches_only_what_it_may(client, world, method, path, body, expected):
    url = "/api/v1" + path.format(a=world.patient_a, clinician_user=world.user_ids["clinician"])
    outcomes = {}
    for role in ROLES:
        response = client.request(method, url, json=body, headers=world.auth(role))
        allowed = response.status_code < 400 or response.status_code == 409  # 409: allowed, but a stale version
        outcomes[role] = OK if allowed else response.status_code
    assert outcomes == expected


def test_a_patient_lists_only_their_own_record(client, world):
    for who, mine in (("patient_a", world.patient_a), ("patient_b", world.patient_b)):
        listed = client.get("/api/v1/patients", headers=world.auth(who)).json()
        assert [item["id"] for item in listed["items"]] == [mine] and listed["total"] == 1


def test_refusals_are_audited(client, world, store):
    client.get(f"/api/v1/patients/{world.patient_a}", headers=world.auth("patient_b"))
    client.post(f"/api/v1/patients/{world.patient_a}/findings", headers=world.auth("registrar"), json=CBC)
    client.get("/api/v1/users", headers=world.auth("clinician"))
    with store.sessions() as session:
        denied = [(e.username, e.patient_id, e.object_id)
                  for e in session.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied"))]
    assert denied == [
        ("patient_b", world.patient_a, "GET /api/v1/patients/{patient_id}"),
        ("registrar", world.patient_a, "POST /api/v1/patients/{patient_id}/findings"),
        ("clinician", None, "GET /api/v1/users"),
    ]


def test_a_deactivated_users_token_stops_working(client, world):
    patch = client.patch(f"/api/v1/users/{world.user_ids['registrar']}", headers=world.auth("admin"),
                         json={"active": False})
    assert patch.status_code == 200 and patch.json()["active"] is False
    assert client.get("/api/v1/cohort", headers=world.auth("registrar")).status_code == 401


def test_a_patient_user_must_be_linked_to_an_existing_record(client, world):
    auth = world.auth("admin")
    unlinked = client.post("/api/v1/users", headers=auth, json={"username": "kid", "password": "long enough pw",
                                                                 "role": "patient"})
    assert unlinked.status_code == 422 and unlinked.json()["detail"][0]["field"] == "body.patient_id"
    missing = client.post("/api/v1/users", headers=auth, json={"username": "kid", "password": "long enough pw",
                                                                "role": "patient", "patient_id": 999})
    assert missing.status_code == 422
    linked = client.post("/api/v1/users", headers=auth, json={"username": "kid", "password": "long enough pw",
                                                               "role": "patient", "patient_id": world.patient_b})
    assert linked.status_code == 201 and linked.json()["patient_id"] == world.patient_b
