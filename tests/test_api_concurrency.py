"""Concurrent edits through the API: one writer wins, the others get 409 with the current version."""

from __future__ import annotations

import asyncio

import httpx

API = "/api/v1"


def race(app, requests):
    """Send all requests at once (the sync routes run in parallel in the thread pool)."""

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(*(client.request(method, url, json=body, headers=headers)
                                          for method, url, body, headers in requests))

    return asyncio.run(go())


def test_simultaneous_updates_of_a_patient_do_not_overwrite_each_other(app, world):
    auth = world.auth("clinician")
    url = f"{API}/patients/{world.patient_a}"
    bodies = [{"patient": {"id": "P-A", "birth_date": "2019-05-14", "sex": "female"}, "display_name": f"edit {n}",
               "version": 1} for n in range(6)]
    responses = race(app, [("PUT", url, body, auth) for body in bodies])
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [409] * 5
    winner = next(r for r in responses if r.status_code == 200).json()
    assert {r.json()["current_version"] for r in responses if r.status_code == 409} == {2}
    final = race(app, [("GET", url, None, auth)])[0].json()
    assert final["display_name"] == winner["display_name"] and final["version"] == 2


def test_simultaneous_edits_of_one_finding_do_not_overwrite_each_other(app, world):
    auth = world.auth("clinician")
    created = race(app, [("POST", f"{API}/patients/{world.patient_a}/findings",
                          {"type": "cbc", "date": "2024-02-01", "wbc": 1.0}, auth)])[0].json()
    url = f"{API}/patients/{world.patient_a}/findings/{created['id']}"
    edits = [("PUT", url, {"version": 1, "finding": {"type": "cbc", "date": "2024-02-01", "wbc": 2.0 + n}}, auth)
             for n in range(4)]
    statuses = sorted(response.status_code for response in race(app, edits))
    assert statuses == [200, 409, 409, 409]


def test_simultaneous_new_findings_are_all_kept(app, world):
    auth = world.auth("clinician")
    url = f"{API}/patients/{world.patient_a}/findings"
    adds = [("POST", url, {"type": "cbc", "date": f"2024-02-{n + 1:02d}", "wbc": 3.0}, auth) for n in range(8)]
    assert {response.status_code for response in race(app, adds)} == {201}
    listed = race(app, [("GET", url, None, auth)])[0].json()
    assert len(listed) == 4 + 8 and [item["index"] for item in listed] == list(range(12))


DOSE = {"type": "dose", "start": "2024-01-11", "agent": "daunorubicin", "dose": {"value": 25, "unit": "mg/m2"},
        "route": "iv"}


def _cumulative_anthracycline(client, world) -> float:
    import json
    import re

    text = json.dumps(client.get(f"{API}/patients/{world.patient_a}/assessment", headers=world.auth("clinician")).json())
    return float(re.search(r'"cumulative_mg_m2": ([0-9.]+)', text).group(1))


def test_a_retried_or_double_sent_new_finding_is_stored_once(app, client, world):
    """A request sent again after a timeout, or a double click, must not store the finding twice: a second
    daunorubicin dose doubled the cumulative anthracycline dose. The same finding sent twice at once is
    stored once too; a second, separate one is stored when the request says so."""
    auth = world.auth("clinician")
    url = f"{API}/patients/{world.patient_a}/findings"
    statuses = sorted(response.status_code for response in race(app, [("POST", url, DOSE, auth)] * 3))
    assert statuses == [201, 409, 409]
    again = client.post(url, json=DOSE, headers=auth)
    assert again.status_code == 409 and "identical" in again.json()["detail"] and again.json()["finding_id"]
    assert _cumulative_anthracycline(client, world) == 25.0
    treatment = client.post(f"{API}/patients/{world.patient_a}/treatments", headers=auth,
                            json={"type": "treatment", "phase": "induction", "start": "2024-01-10",
                                  "agents": ["vincristine"]})  # the case file's own induction, sent again
    assert treatment.status_code == 409
    second = client.post(url, params={"allow_duplicate": "true"}, json=DOSE, headers=auth)
    assert second.status_code == 201
    assert _cumulative_anthracycline(client, world) == 50.0
    other_day = client.post(url, json=DOSE | {"start": "2024-01-12"}, headers=auth)
    assert other_day.status_code == 201


def test_the_add_finding_form_sent_twice_stores_it_once_and_offers_a_second_one(app, world):
    from test_web_pages import csrf, logged_in

    browser = logged_in(app, "clinician")
    form_url = f"/patients/{world.patient_a}/findings/new/cbc"
    fields = {"csrf_token": csrf(browser.get(form_url).text), "date": "2024-02-01", "wbc": "3.1", "wbc_unit": "10^9/L"}
    assert browser.post(form_url, data=fields, follow_redirects=False).status_code == 303
    twice = browser.post(form_url, data=fields, follow_redirects=False)
    assert twice.status_code == 409 and "already stored" in twice.text and 'name="allow_duplicate"' in twice.text
    cbcs = browser.get(f"{API}/patients/{world.patient_a}/findings", params={"type": "cbc"}).json()
    assert [item["date"] for item in cbcs].count("2024-02-01") == 1
    assert browser.post(form_url, data=fields | {"allow_duplicate": "1"}, follow_redirects=False).status_code == 303
    cbcs = browser.get(f"{API}/patients/{world.patient_a}/findings", params={"type": "cbc"}).json()
    assert [item["date"] for item in cbcs].count("2024-02-01") == 2
