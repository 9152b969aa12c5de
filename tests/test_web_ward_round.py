"""The ward-round list and page: who the patient is at a glance, urgency order, entity search,
historical alerts apart from current ones, and a cue when the latest finding is old."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import case_dict
from test_web_pages import logged_in

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _import(store, path: str, name: str) -> int:
    from allcare.interop.casefile import load_case
    from allcare.store import Actor
    from allcare.store.cases import import_case

    with store.transaction() as session:
        return import_case(session, Actor.cli("test"), load_case(EXAMPLES / path), display_name=name).id


def _row_names(html: str) -> list[str]:
    return re.findall(r'class="patient-link">([^<]+)</a>', html)


def test_the_list_shows_age_and_sex_and_searches_the_entity(app, world):
    etv6 = _import(world.store, "childhood_b_all_standard_risk.yaml", "Eve Tee")
    client = logged_in(app, "clinician")
    page = client.get("/patients").text
    assert '<th scope="col">Age</th>' in page and '<th scope="col">Sex</th>' in page
    found = client.get("/patients", params={"q": "etv6"}).text
    assert _row_names(found) == ["Eve Tee"], _row_names(found)
    assert f'href="/patients/{etv6}"' in found


def test_urgency_sort_puts_critical_alerts_first_then_warnings(app, world):
    from allcare.engine.case import case_from_dict
    from allcare.store import Actor
    from allcare.store.cases import import_case

    hot = case_dict("P-HOT")
    hot["findings"][0]["wbc"] = {"value": 250, "unit": "10^9/L"}  # hyperleukocytosis: critical
    with world.store.transaction() as session:
        import_case(session, Actor.cli("test"), case_from_dict(hot), display_name="Zed Hot")
    client = logged_in(app, "clinician")
    names = _row_names(client.get("/patients", params={"sort": "urgency"}).text)
    assert names[0] == "Zed Hot", names
    by_id = _row_names(client.get("/patients").text)
    assert by_id[-1] == "Zed Hot"
    api = client.get("/api/v1/patients", params={"sort": "urgency"}).json()["items"]
    assert api[0]["patient"]["id"] == "P-HOT"


def test_historical_alerts_look_different_from_current_ones(app, world):
    relapse = _import(world.store, "late_isolated_cns_relapse.yaml", "Kim Relapse")
    client = logged_in(app, "clinician")
    page = client.get(f"/patients/{relapse}").text
    assert 'class="alert alert--history"' in page and '<span class="badge badge--history">history</span>' in page
    listing = client.get("/patients", params={"q": "Kim Relapse"}).text
    assert 'class="badge badge--history"' in listing


def test_an_old_record_says_it_may_be_out_of_date(app, world):
    client = logged_in(app, "clinician")
    page = client.get(f"/patients/{world.patient_a}").text  # the latest finding is from 2024
    assert "Out of date?" in page and "days old" in page
    assert "days ago" in client.get("/patients").text


def test_each_episode_is_a_section_with_its_work_up_and_its_own_latest_mrd(app, world):
    relapse = _import(world.store, "late_relapse_with_cns_disease.yaml", "Kim Relapse")
    page = logged_in(app, "clinician").get(f"/patients/{relapse}").text
    course = page.split('id="course-episodes"', 1)[1]
    sections = re.findall(r'<section class="episode episode--(\w+)[^"]*" aria-labelledby="episode-\d">\s*<h3[^>]*>([^<]+)',
                          course)
    assert [(kind, title.strip()) for kind, title in sections] == [("initial", "Diagnosis"), ("relapse", "Relapse 1")]
    first, second = course.split('aria-labelledby="episode-2"', 1)
    assert "0% (negative) on 12 May 2015" in first  # the first remission's MRD stays with the diagnosis
    assert "28% (positive) on 20 Dec 2021" in second
    assert "Work-up" in first and "Work-up" in second
