"""Starting and correcting a record in the browser's forms: new patient, correct, delete with a
reason, end a phase, and a stale form (someone saved in between) that keeps the input."""

from __future__ import annotations

import re

from conftest import PASSWORD  # noqa: F401 - the logins of the world fixture
from test_web_pages import csrf, logged_in, post_form

API = "/api/v1"


def _finding_id(client, patient_id: int, kind: str) -> tuple[int, int, dict]:
    item = client.get(f"{API}/patients/{patient_id}/findings?type={kind}").json()[0]
    return item["id"], item["version"], item["finding"]


def test_new_patient_form_creates_the_record(app, world):
    client = logged_in(app, "clinician")
    response = post_form(client, "/patients/new", {"identifier": "NEW-1", "display_name": "Noor New",
                                                   "birth_date": "2018-03-04", "sex": "female",
                                                   "conditions": ["down_syndrome"], "diagnosis_date": "2024-05-01"})
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"]).text
    assert "Noor New" in page and "Patient created." in page
    patient_id = int(re.search(r"/patients/(\d+)", response.headers["location"]).group(1))
    stored = client.get(f"{API}/patients/{patient_id}").json()
    assert stored["patient"]["conditions"] == ["down_syndrome"] and stored["patient"]["sex"] == "female"


def test_new_patient_form_errors_name_their_fields_and_keep_the_input(app, world):
    client = logged_in(app, "clinician")
    response = post_form(client, "/patients/new", {"identifier": "", "birth_date": "2018-02-30", "age_years": "-2",
                                                   "display_name": "Kept Name"})
    assert response.status_code == 422
    assert 'id="identifier-error"' in response.text and 'value="Kept Name"' in response.text
    response = post_form(client, "/patients/new", {"identifier": "NEW-2", "birth_date": "2018-02-30"})
    assert response.status_code == 422 and 'id="birth_date-error"' in response.text
    response = post_form(client, "/patients/new", {"identifier": "P-A"})
    assert response.status_code == 409 and "already exists" in response.text


def test_the_patient_page_lists_findings_with_correct_and_delete(app, world):
    client = logged_in(app, "clinician")
    page = client.get(f"/patients/{world.patient_a}").text
    finding_id, _, _ = _finding_id(client, world.patient_a, "marrow")
    assert 'id="findings"' in page
    assert f"/patients/{world.patient_a}/findings/{finding_id}/edit" in page
    assert f"/patients/{world.patient_a}/findings/{finding_id}/delete" in page
    assert "End this phase" in page  # the induction block has no end
    assert "Marrow blasts: 88" in page
    only = client.get(f"/patients/{world.patient_a}?type=mrd").text
    assert "No findings of this type yet." in only


def test_the_findings_list_shows_the_newest_twenty_by_type_or_all(app, world, store):
    """Each way of listing (newest 20 or all, any type or one) shows exactly its findings, newest first."""
    from allcare.engine.case import case_from_dict
    from allcare.store import Actor
    from allcare.store.cases import import_case
    from conftest import case_dict

    case = case_dict("MANY-1")
    case["findings"] += [{"type": "cbc", "date": f"2024-03-{day:02d}", "wbc": 4.0, "anc": round(1 + day / 10, 1)}
                         for day in range(1, 26)]
    with store.transaction() as session:
        patient = import_case(session, Actor.cli("test"), case_from_dict(case)).id
    client = logged_in(app, "clinician")
    total = len(client.get(f"{API}/patients/{patient}/findings").json())
    cbcs = len(client.get(f"{API}/patients/{patient}/findings?type=cbc").json())

    def rows(query: str) -> list[str]:
        page = client.get(f"/patients/{patient}{query}").text
        return re.findall(r'<tr>\s*<td class="nowrap">([^<]+)</td>', page)

    newest = rows("")
    assert len(newest) == 20 and newest[0] == "25 Mar 2024" and newest[19] == "6 Mar 2024"
    assert f"Show all {total} findings" in client.get(f"/patients/{patient}").text
    assert len(rows("?findings=all")) == total
    assert rows("?type=cbc") == newest  # the 25 counts are the newest findings
    assert len(rows("?type=cbc&findings=all")) == cbcs
    assert len(rows("?type=marrow")) == 1


def test_correcting_a_finding_changes_it_and_keeps_what_the_form_cannot_show(app, world):
    client = logged_in(app, "clinician")
    finding_id, version, _ = _finding_id(client, world.patient_a, "marrow")
    url = f"/patients/{world.patient_a}/findings/{finding_id}/edit"
    form = client.get(url).text
    assert 'value="88"' in form and 'name="version"' in form
    response = post_form(client, url, {"date": "2024-01-09", "blasts_pct": "91", "timepoint": "diagnosis",
                                       "version": str(version), "opened": "{}"})
    assert response.status_code == 303, response.text
    _, new_version, after = _finding_id(client, world.patient_a, "marrow")
    assert after["blasts_pct"] == 91 and new_version == version + 1


def test_a_stale_form_keeps_the_input_and_shows_what_changed(app, world):
    client = logged_in(app, "clinician")
    finding_id, version, finding = _finding_id(client, world.patient_a, "marrow")
    url = f"/patients/{world.patient_a}/findings/{finding_id}/edit"
    form = client.get(url).text
    opened = re.search(r'name="opened" value="([^"]*)"', form).group(1).replace("&#34;", '"')
    # Someone else saves first (through the API).
    changed = {**finding, "blasts_pct": 70}
    assert client.put(f"{API}/patients/{world.patient_a}/findings/{finding_id}",
                      json={"finding": changed, "version": version},
                      headers={"X-CSRF-Token": csrf(form)}).status_code == 200
    response = client.post(url, data={"csrf_token": csrf(form), "date": "2024-01-09", "blasts_pct": "93",
                                      "timepoint": "diagnosis", "version": str(version), "opened": opened},
                           follow_redirects=False)
    assert response.status_code == 409
    assert "Someone else saved this finding" in response.text
    assert "Marrow blasts: 88 → <strong>70</strong>" in response.text
    assert 'value="93"' in response.text  # the user's input is kept
    assert f'name="version" value="{version + 1}"' in response.text
    assert _finding_id(client, world.patient_a, "marrow")[2]["blasts_pct"] == 70


def test_deleting_a_finding_needs_a_reason_which_the_audit_log_keeps(app, world):
    client = logged_in(app, "clinician")
    finding_id, version, _ = _finding_id(client, world.patient_a, "marrow")
    url = f"/patients/{world.patient_a}/findings/{finding_id}/delete"
    response = post_form(client, url, {"reason": "", "version": str(version)})
    assert response.status_code == 422 and 'id="reason-error"' in response.text
    response = post_form(client, url, {"reason": "entered for the wrong patient", "version": str(version)})
    assert response.status_code == 303
    assert client.get(f"{API}/patients/{world.patient_a}/findings?type=marrow").json() == []
    events = client.get(f"{API}/audit", params={"action": "finding.delete"}, headers=world.auth("admin")).json()
    assert events["items"][0]["detail"] == {"type": "marrow", "reason": "entered for the wrong patient"}


def test_ending_a_running_phase_sets_its_end_and_refuses_an_end_before_the_start(app, world):
    client = logged_in(app, "clinician")
    finding_id, version, _ = _finding_id(client, world.patient_a, "treatment")
    url = f"/patients/{world.patient_a}/findings/{finding_id}/end"
    token = csrf(client.get(f"/patients/{world.patient_a}").text)
    response = client.post(url, data={"csrf_token": token, "end": "2023-01-01", "version": str(version)},
                           follow_redirects=False)
    assert response.status_code == 422 and "is before start" in response.text
    response = client.post(url, data={"csrf_token": token, "end": "2024-02-05", "version": str(version)},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    assert _finding_id(client, world.patient_a, "treatment")[2]["end"] == "2024-02-05"


def test_ending_a_finding_that_is_no_running_phase_says_so_instead_of_a_500(app, world):
    """The button is only on running phases, but a stale page, another tab or a crafted request can send it for
    a blood count: the error summary looked up a field the count's form does not have and crashed."""
    client = logged_in(app, "clinician")
    finding_id, version, _ = _finding_id(client, world.patient_a, "cbc")
    token = csrf(client.get(f"/patients/{world.patient_a}").text)
    response = client.post(f"/patients/{world.patient_a}/findings/{finding_id}/end",
                           data={"csrf_token": token, "end": "2024-02-05", "version": str(version)}, follow_redirects=False)
    assert response.status_code == 422 and "only a running treatment phase can be ended" in response.text


def test_registrar_cannot_open_the_correction_forms(app, world):
    client = logged_in(app, "registrar")
    finding_id, _, _ = _finding_id(logged_in(app, "clinician"), world.patient_a, "marrow")
    assert client.get(f"/patients/{world.patient_a}/findings/{finding_id}/edit").status_code == 403
    assert client.get("/patients/new").status_code == 403


def test_karyotype_preview_cross_checks_the_sex_chromosomes_and_reads_the_modal_number(app, world):
    client = logged_in(app, "clinician")
    read = client.get("/karyotype/parse", params={"text": "46,XY,t(12;21)(p13;q22)[20]", "sex": "female"}).json()
    assert read["modal_number"] == 46
    assert read["sex_mismatch"] == "the karyotype shows a Y chromosome (XY) but the patient is recorded as female"
    male = client.get("/karyotype/parse", params={"text": "46,XX[20]", "sex": "male"}).json()
    assert "no Y chromosome" in male["sex_mismatch"]
    lost_y = client.get("/karyotype/parse", params={"text": "45,X,-Y[20]", "sex": "male"}).json()
    assert lost_y["sex_mismatch"] is None  # acquired loss of Y is not a mismatch
    form = client.get(f"/patients/{world.patient_a}/findings/new/cytogenetics").text
    assert 'data-patient-sex="female"' in form


def test_a_bound_reported_by_the_lab_survives_a_correction(app, world):
    client = logged_in(app, "clinician")
    token = csrf(client.get(f"/patients/{world.patient_a}").text)
    added = client.post(f"{API}/patients/{world.patient_a}/findings", headers={"X-CSRF-Token": token}, json={
        "type": "cbc", "date": "2024-01-20", "anc": {"value": 0.1, "unit": "10^9/L", "comparator": "<"},
        "platelets": 30})
    assert added.status_code == 201, added.text
    finding_id, version = added.json()["id"], added.json()["version"]
    url = f"/patients/{world.patient_a}/findings/{finding_id}/edit"
    form = client.get(url).text
    assert 'value="&lt; 0.1"' in form
    response = post_form(client, url, {"date": "2024-01-20", "anc": "< 0.1", "anc_unit": "10^9/L",
                                       "platelets": "35", "version": str(version), "opened": "{}"})
    assert response.status_code == 303, response.text
    stored = client.get(f"{API}/patients/{world.patient_a}/findings/{finding_id}").json()["finding"]
    assert stored["anc"]["comparator"] == "<" and stored["anc"]["value"] == 0.1 and stored["platelets"] == 35


def test_the_findings_list_kept_between_views_carries_each_viewers_own_csrf_token_and_follows_writes(app, world):
    """The findings list is rendered once per record revision and kept: the end-phase form in it must still
    carry the token of the session looking at it, never that of whoever viewed the record first."""
    first, second = logged_in(app, "clinician"), logged_in(app, "clinician")
    page = f"/patients/{world.patient_a}"
    tokens = []
    for client in (first, second, first):
        html = client.get(page).text
        assert "End this phase" in html
        found = set(re.findall(r'name="csrf_token" value="([^"]+)"', html))
        assert len(found) == 1, found  # the end-phase form and the logout form carry the same, own token
        tokens.append(found.pop())
    assert tokens[0] == tokens[2] != tokens[1]
    finding_id, version, _ = _finding_id(second, world.patient_a, "treatment")
    response = second.post(f"{page}/findings/{finding_id}/end",
                           data={"csrf_token": tokens[1], "end": "2024-02-05", "version": str(version)},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    assert "End this phase" not in first.get(page).text  # a write changes the revision: the list is read again
