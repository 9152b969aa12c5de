"""Every route of the app, read from its router, against every role: the whole table, kept complete.

A route added without a row here fails ``test_the_table_names_every_route``, so no route reaches users
without its access being stated and checked. Requests carry no body: a role that may use a route gets
past the access check (then 2xx, 3xx, 409 or 422 for the missing body); one that may not gets 403, and a
patient user asking for another record gets 404 (as for a record that does not exist).

Letters: C clinician, R registrar, A admin, P the patient user of the record (another patient user: 404),
p every patient user (not record-bound), * anyone, logged in or not.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

ROLES = {"C": "clinician", "R": "registrar", "A": "admin"}

# (method, path template) -> who gets past the access check
TABLE: dict[tuple[str, str], str] = {
    # the REST API
    ("GET", "/api/v1/health"): "*",
    ("POST", "/api/v1/auth/login"): "*",
    ("POST", "/api/v1/auth/logout"): "CRAp",
    ("GET", "/api/v1/auth/whoami"): "CRAp",
    ("POST", "/api/v1/auth/password"): "CRAp",
    ("GET", "/api/v1/auth/tokens"): "CRAp",
    ("POST", "/api/v1/auth/tokens"): "CRAp",
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): "CRAp",
    ("GET", "/api/v1/patients"): "CRp",
    ("POST", "/api/v1/patients"): "C",
    ("GET", "/api/v1/patients/{patient_id}"): "CRP",
    ("PUT", "/api/v1/patients/{patient_id}"): "C",
    ("DELETE", "/api/v1/patients/{patient_id}"): "C",
    ("GET", "/api/v1/patients/{patient_id}/findings"): "CP",
    ("POST", "/api/v1/patients/{patient_id}/findings"): "C",
    ("GET", "/api/v1/patients/{patient_id}/findings/{finding_id}"): "CP",
    ("PUT", "/api/v1/patients/{patient_id}/findings/{finding_id}"): "C",
    ("DELETE", "/api/v1/patients/{patient_id}/findings/{finding_id}"): "C",
    ("GET", "/api/v1/patients/{patient_id}/treatments"): "CP",
    ("POST", "/api/v1/patients/{patient_id}/treatments"): "C",
    ("GET", "/api/v1/patients/{patient_id}/treatments/{finding_id}"): "CP",
    ("PUT", "/api/v1/patients/{patient_id}/treatments/{finding_id}"): "C",
    ("DELETE", "/api/v1/patients/{patient_id}/treatments/{finding_id}"): "C",
    ("GET", "/api/v1/patients/{patient_id}/coded"): "CRP",
    ("GET", "/api/v1/patients/{patient_id}/assessment"): "CP",
    ("POST", "/api/v1/cases"): "C",
    ("POST", "/api/v1/cases/upload"): "C",
    ("GET", "/api/v1/patients/{patient_id}/case"): "CP",
    ("POST", "/api/v1/fhir/import"): "C",
    ("GET", "/api/v1/patients/{patient_id}/$everything"): "CP",
    ("GET", "/api/v1/fhir/metadata"): "*",
    ("GET", "/api/v1/fhir/$export"): "C",
    ("GET", "/api/v1/cohort"): "CR",
    ("GET", "/api/v1/users"): "A",
    ("POST", "/api/v1/users"): "A",
    ("GET", "/api/v1/users/{user_id}"): "A",
    ("PATCH", "/api/v1/users/{user_id}"): "A",
    ("GET", "/api/v1/users/{user_id}/tokens"): "A",
    ("DELETE", "/api/v1/users/{user_id}/tokens/{token_id}"): "A",
    ("GET", "/api/v1/audit"): "A",
    # the pages
    ("GET", "/"): "*",
    ("GET", "/login"): "*",
    ("POST", "/login"): "*",
    ("POST", "/logout"): "*",
    ("GET", "/no-record"): "CRAp",
    ("GET", "/vendor/plotly-{digest}.min.js"): "*",
    ("GET", "/vendor/plotly-{digest}.css"): "*",
    ("GET", "/admin"): "A",
    ("POST", "/admin/users"): "A",
    ("POST", "/admin/users/{user_id}"): "A",
    ("GET", "/admin/audit"): "A",
    ("GET", "/admin/audit.csv"): "A",
    ("GET", "/registry"): "CR",
    ("GET", "/registry.csv"): "CR",
    ("GET", "/patients/import"): "C",
    ("POST", "/patients/import"): "C",
    ("GET", "/patients/new"): "C",
    ("POST", "/patients/new"): "C",
    ("GET", "/patients"): "CRp",
    ("GET", "/patients/{patient_id}"): "CRP",
    ("GET", "/patients/{patient_id}/findings/new/{kind}"): "C",
    ("POST", "/patients/{patient_id}/findings/new/{kind}"): "C",
    ("GET", "/patients/{patient_id}/findings/{finding_id}/edit"): "C",
    ("POST", "/patients/{patient_id}/findings/{finding_id}/edit"): "C",
    ("GET", "/patients/{patient_id}/findings/{finding_id}/delete"): "C",
    ("POST", "/patients/{patient_id}/findings/{finding_id}/delete"): "C",
    ("POST", "/patients/{patient_id}/findings/{finding_id}/end"): "C",
    ("GET", "/karyotype/parse"): "CR",
    ("GET", "/patients/{patient_id}/report"): "CP",
    ("GET", "/patients/{patient_id}/report.pdf"): "CP",
    # CDS Hooks: the EHR's signed JWT, not a user (tests/test_cds_auth.py)
    ("GET", "/cds-services"): "*",
    ("POST", "/cds-services/all-assessment"): "cds",
    ("POST", "/cds-services/all-assessment/feedback"): "cds",
    # documentation
    ("GET", "/api/openapi.json"): "*",
    ("GET", "/api/docs"): "*",
    ("GET", "/api/docs/assets/{name}"): "*",
}
# Pages that answer 404 to everyone they let in: a patient login without a linked record is told so.
NOT_FOUND_BY_DESIGN = {("GET", "/no-record")}


def app_routes(app) -> set[tuple[str, str]]:
    """(method, full path template) of every route the app serves, read from its routers."""
    found: set[tuple[str, str]] = set()

    def walk(routes, prefix: str) -> None:
        for route in routes:
            original = getattr(route, "original_router", None)
            if original is not None:  # an included router (FastAPI keeps it whole)
                walk(original.routes, prefix + route.include_context.prefix)
            elif hasattr(route, "methods") and route.methods:
                found.update((method, prefix + route.path) for method in route.methods if method != "HEAD")
            elif hasattr(route, "routes") and not hasattr(route, "app"):
                walk(route.routes, prefix)

    walk(app.routes, "")
    return found


def test_the_table_names_every_route(app):
    served = app_routes(app)
    assert served - set(TABLE) == set(), "a route without its row in TABLE: state who may use it"
    assert set(TABLE) - served == set(), "a row in TABLE for a route the app no longer serves"


def _url(template: str, world, ids: dict, who: str) -> str:
    own_token = template.startswith("/api/v1/auth/")  # a user revokes only their own tokens
    return template.format(patient_id=world.patient_a, finding_id=ids["finding"], user_id=world.user_ids["registrar"],
                           token_id=world.token_ids[who if own_token else "registrar"], kind="cbc", digest="0")


def _verdict(status: int) -> str:
    if status in (401, 403):
        return "refused"
    if status == 404:
        return "not found"
    assert status < 500, status
    return "ok"


def _expected(who: str, letters: str) -> str:
    if letters == "*":
        return "ok"
    if who == "patient_a":
        return "ok" if "P" in letters or "p" in letters else "refused"
    if who == "patient_b":
        return "ok" if "p" in letters else ("not found" if "P" in letters else "refused")
    return "ok" if any(ROLES.get(letter) == who for letter in letters) else "refused"


USER_ROUTES = sorted(key for key, letters in TABLE.items() if letters not in ("*", "cds"))


@pytest.mark.parametrize(("method", "template"), USER_ROUTES, ids=[f"{m} {t}" for m, t in USER_ROUTES])
def test_every_role_reaches_only_what_its_row_says(app, world, method, template):
    client = TestClient(app, raise_server_exceptions=False)
    treatment = template.startswith("/api/v1/patients/{patient_id}/treatments/")
    findings = client.get(f"/api/v1/patients/{world.patient_a}/findings", headers=world.auth("clinician")).json()
    ids = {"finding": next(item["id"] for item in findings if (item["type"] == "treatment") == treatment)}
    letters = TABLE[(method, template)]
    outcomes, expected = {}, {}
    for who in ("clinician", "registrar", "admin", "patient_a", "patient_b"):
        url = _url(template, world, ids, who)
        query = "?version=999999" if method == "DELETE" else ""  # a stale version: allowed, but nothing deleted
        response = client.request(method, url + query, headers=world.auth(who), follow_redirects=False)
        outcomes[who], expected[who] = _verdict(response.status_code), _expected(who, letters)
        if (method, template) in NOT_FOUND_BY_DESIGN and outcomes[who] == "not found":
            outcomes[who] = "ok"
    anonymous = client.request(method, _url(template, world, ids, "registrar"), follow_redirects=False)
    assert anonymous.status_code in (401, 303), (anonymous.status_code, anonymous.text[:200])
    if anonymous.status_code == 303:
        assert anonymous.headers["location"].startswith("/login")
    assert outcomes == expected


@pytest.mark.parametrize("template", ["/api/v1/fhir/metadata", "/api/v1/health", "/", "/login", "/cds-services",
                                      "/api/openapi.json", "/api/docs"])
def test_the_public_routes_answer_without_a_login(app, template):
    response = TestClient(app).get(template, follow_redirects=False)
    assert response.status_code in (200, 303), (template, response.status_code)
