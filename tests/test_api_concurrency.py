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
