"""Administration pages: accounts (add, disable, role, password) and the audit log with filters and CSV."""

from __future__ import annotations

import csv
import io

import pytest

from conftest import PASSWORD
from test_web_pages import csrf, logged_in


def test_admin_adds_a_user_who_can_log_in_and_finds_the_audit_entries(app, world):
    admin = logged_in(app, "admin")
    token = csrf(admin.get("/admin").text)
    response = admin.post("/admin/users", data={"csrf_token": token, "username": "nurse.jo", "display_name": "Jo",
                                                "password": PASSWORD, "role": "clinician"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    page = admin.get(response.headers["location"]).text
    assert "User nurse.jo added." in page and "nurse.jo" in page
    logged_in(app, "nurse.jo")  # the new account works
    audit = admin.get("/admin/audit", params={"action": "user.create"}).text
    assert "user.create" in audit and "role: clinician" in audit
    mine = admin.get("/admin/audit", params={"user": world.user_ids["admin"], "action": "user."}).text
    assert "user.create" in mine


def test_refused_user_input_is_shown_by_field(app, world):
    admin = logged_in(app, "admin")
    token = csrf(admin.get("/admin").text)
    short = admin.post("/admin/users", data={"csrf_token": token, "username": "x1", "password": "short",
                                             "role": "clinician"})
    assert short.status_code == 422 and 'id="password-error"' in short.text
    taken = admin.post("/admin/users", data={"csrf_token": token, "username": "clinician", "password": PASSWORD,
                                             "role": "clinician"})
    assert taken.status_code == 409 and "already exists" in taken.text


def test_disable_change_role_and_reset_password(app, world):
    admin = logged_in(app, "admin")
    token = csrf(admin.get("/admin").text)
    target = world.user_ids["registrar"]
    assert admin.post(f"/admin/users/{target}", data={"csrf_token": token, "action": "role", "role": "clinician"},
                      follow_redirects=False).status_code == 303
    assert admin.get(f"/api/v1/users/{target}", headers=world.auth("admin")).json()["role"] == "clinician"
    new_password = "another-long-password"
    assert admin.post(f"/admin/users/{target}", data={"csrf_token": token, "action": "password",
                                                      "password": new_password}, follow_redirects=False).status_code == 303
    assert admin.post(f"/admin/users/{target}", data={"csrf_token": token, "action": "disable"},
                      follow_redirects=False).status_code == 303
    assert admin.get(f"/api/v1/users/{target}", headers=world.auth("admin")).json()["active"] is False
    own = admin.post(f"/admin/users/{world.user_ids['admin']}", data={"csrf_token": token, "action": "disable"})
    assert own.status_code == 422 and "your own account" in own.text


def test_audit_filters_by_patient_and_date_and_exports_csv(app, world):
    clinician = logged_in(app, "clinician")
    clinician.get(f"/patients/{world.patient_a}")
    admin = logged_in(app, "admin")
    page = admin.get("/admin/audit", params={"patient": world.patient_a, "action": "assessment.read"}).text
    assert "assessment.read" in page and "finding.create" not in page
    future = admin.get("/admin/audit", params={"from": "2999-01-01"}).text
    assert "No events match." in future
    bad = admin.get("/admin/audit", params={"from": "2024-02-30"})
    assert bad.status_code == 422 and 'id="from-error"' in bad.text
    exported = admin.get("/admin/audit.csv", params={"patient": world.patient_a, "action": "assessment.read"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows and {row["action"] for row in rows} == {"assessment.read"}
    assert {row["patient_id"] for row in rows} == {str(world.patient_a)}
    assert "audit.export" in admin.get("/admin/audit", params={"action": "audit.export"}).text


def test_only_admins_open_the_admin_pages(app, world):
    clinician = logged_in(app, "clinician")
    for path in ("/admin", "/admin/audit", "/admin/audit.csv"):
        assert clinician.get(path).status_code == 403


@pytest.mark.parametrize("patient_id", ["99999999999999999999", "2147483648", "0"])
def test_a_record_number_out_of_range_is_a_form_error_naming_the_field(app, world, patient_id):
    admin = logged_in(app, "admin")
    token = csrf(admin.get("/admin").text)
    response = admin.post("/admin/users", data={"csrf_token": token, "username": "linked", "password": PASSWORD,
                                                "role": "patient", "patient_id": patient_id})
    assert response.status_code == 422, response.text[:300]
    assert "a record number from 1 to 2147483647" in response.text


def test_a_display_name_with_a_nul_is_a_form_error_on_every_store(app, world):
    admin = logged_in(app, "admin")
    token = csrf(admin.get("/admin").text)
    response = admin.post("/admin/users", data={"csrf_token": token, "username": "named", "password": PASSWORD,
                                                "role": "clinician", "display_name": "Jo\x00"})
    assert response.status_code == 422, response.text[:300]
    assert "NUL" in response.text
    assert "named" not in [user["username"] for user in admin.get("/api/v1/users").json()]


@pytest.mark.parametrize("patient_id", ["\u0661", "\u00b2", "1_0"])
def test_a_record_number_in_other_digits_is_a_form_error_not_another_record(app, world, patient_id):
    admin = logged_in(app, "admin")
    token = csrf(admin.get("/admin").text)
    response = admin.post("/admin/users", data={"csrf_token": token, "username": "linked", "password": PASSWORD,
                                                "role": "patient", "patient_id": patient_id})
    assert response.status_code == 422, response.text[:300]
    assert 'id="patient_id-error"' in response.text
    assert "linked" not in [user["username"] for user in admin.get("/api/v1/users").json()]


@pytest.mark.parametrize(("name", "value"), [("to", "9999-12-31"), ("from", "9999-12-31"), ("to", "0001-01-01")])
def test_the_audit_log_filters_at_the_ends_of_the_calendar(app, world, name, value):
    admin = logged_in(app, "admin")
    for path in ("/admin/audit", "/admin/audit.csv"):
        assert admin.get(path, params={name: value}).status_code == 200, path


@pytest.mark.parametrize(("name", "value"), [("patient", "\u0661"), ("user", "\u00b2"), ("patient", "1_0")])
def test_an_audit_filter_number_in_other_digits_is_a_form_error(app, world, name, value):
    response = logged_in(app, "admin").get("/admin/audit", params={name: value})
    assert response.status_code == 422 and f'id="{name}-error"' in response.text
