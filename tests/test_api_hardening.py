"""The server under load and bad input: imports off the event loop, no lost updates, bounded bodies,
text that cannot be stored, deep nesting and upper bounds (issue 9, each reproduced first)."""

from __future__ import annotations

import contextlib
import json
import socket
import statistics
import threading
import time

import httpx
import pytest

from allcare.engine.case import case_from_dict
from allcare.interop.fhir import bundle_json
from conftest import PASSWORD, case_dict
from fhir_helpers import ServerThread

API = "/api/v1"


def replicated_bundle(size_mb: float) -> bytes:
    """A FHIR Bundle of many patients (copies of one three-year synthetic record under other ids)."""
    import datetime as dt
    import random

    from allcare.cohort.synthetic import generate_case

    data = generate_case(random.Random(7), 1, start=dt.date(2021, 1, 1), years=3.0)
    data["patient"]["id"] = "BULK"
    one = json.dumps(bundle_json(case_from_dict(data), None)["entry"])[1:-1]
    copies = int(size_mb * 1024 * 1024 / len(one)) + 1
    entries = ",".join(one.replace("BULK", f"BULK{copy:05d}") for copy in range(copies))
    return ('{"resourceType": "Bundle", "type": "collection", "entry": [' + entries + "]}").encode()


# --- 2. one request cannot freeze the service -------------------------------------------------------------


def test_health_answers_quickly_while_a_25_mb_import_runs(app, world, database_url):
    if database_url.startswith("postgresql"):
        pytest.skip("the event loop does not depend on the database; SQLite also has the one write lock")
    body = replicated_bundle(25)
    assert len(body) >= 25 * 1024 * 1024
    latencies: list[float] = []
    with ServerThread(app) as server:
        result: dict = {}

        def importer():
            result["response"] = httpx.post(f"{server.url}{API}/fhir/import", content=body, timeout=600,
                                            headers={**world.auth("clinician"), "Content-Type": "application/fhir+json"})

        thread = threading.Thread(target=importer)
        thread.start()
        time.sleep(0.2)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            edit = None
            while thread.is_alive():
                started = time.perf_counter()
                assert client.get(f"{API}/health").status_code == 200
                latencies.append(time.perf_counter() - started)
                if edit is None and len(latencies) == 20:  # a concurrent write gets its turn too (no deadlock)
                    started = time.perf_counter()
                    edit = client.post(f"{API}/patients/{world.patient_a}/findings", headers=world.auth("clinician"),
                                       json={"type": "cbc", "date": "2024-02-01", "wbc": 3.1})
                    assert edit.status_code == 201
                    assert time.perf_counter() - started < 5
                time.sleep(0.02)
        thread.join()
    assert result["response"].status_code == 200, result["response"].text[:500]
    assert result["response"].json()["counts"]["created"] >= 20
    assert len(latencies) >= 20
    latencies.sort()
    print(f"health while importing: n={len(latencies)} median={statistics.median(latencies) * 1000:.1f} ms "  # noqa: T201
          f"p90={latencies[int(len(latencies) * 0.9)] * 1000:.1f} ms max={latencies[-1] * 1000:.1f} ms")
    assert statistics.median(latencies) < 0.1 and latencies[int(len(latencies) * 0.9)] < 0.1
    # The rare slower answer is a pause of Python's cyclic garbage collector over the import's
    # objects (measured up to ~0.8 s on a loaded 2-core machine), not the import holding the loop.
    assert latencies[-1] < 2.0


def test_health_answers_quickly_while_a_large_case_file_is_uploaded_through_the_page(app, world, database_url):
    """The import page reads a case file of up to 50 MB (YAML is the slowest to read): never on the event loop."""
    if database_url.startswith("postgresql"):
        pytest.skip("the event loop does not depend on the database")
    import yaml

    from test_web_pages import csrf

    case = case_dict("P-LARGE")
    count = case["findings"][0]
    case["findings"] += [dict(count, date=f"2024-01-{1 + i % 28:02d}", note="n" * 9000) for i in range(600)]
    text = yaml.safe_dump(case).encode()
    latencies: list[float] = []
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=600) as browser:
        token = csrf(browser.get("/login").text)
        browser.post("/login", data={"username": "clinician", "password": PASSWORD, "csrf_token": token, "next": ""})
        token = csrf(browser.get("/patients/import").text)
        result: dict = {}

        def upload():
            result["response"] = browser.post("/patients/import", data={"csrf_token": token},
                                              files={"file": ("large.yaml", text, "application/yaml")})

        thread = threading.Thread(target=upload)
        thread.start()
        time.sleep(0.2)
        with httpx.Client(base_url=server.url, timeout=60) as client:
            while thread.is_alive():
                started = time.perf_counter()
                assert client.get(f"{API}/health").status_code == 200
                latencies.append(time.perf_counter() - started)
                time.sleep(0.02)
        thread.join()
    assert result["response"].status_code == 303, result["response"].text[:500]
    latencies.sort()
    assert len(latencies) >= 10
    assert statistics.median(latencies) < 0.1 and latencies[int(len(latencies) * 0.9)] < 0.5, \
        f"health waited up to {latencies[-1]:.1f} s behind the upload"


# --- 7. imports never revert a clinician's committed edit ---------------------------------------------------


def test_concurrent_imports_never_revert_a_clinicians_edit(client, world):
    auth = world.auth("clinician")
    bundle = json.dumps(bundle_json(case_from_dict(case_dict("P-A")), None))
    failures: list = []

    def importer():
        for _ in range(5):
            response = client.post(f"{API}/fhir/import", content=bundle,
                                   headers={**auth, "Content-Type": "application/fhir+json"})
            if response.status_code != 200:
                failures.append(response.text)

    threads = [threading.Thread(target=importer) for _ in range(3)]
    for thread in threads:
        thread.start()
    conditions: list[str] = []
    for condition in ("down_syndrome", "prior_chemotherapy", "li_fraumeni"):
        current = client.get(f"{API}/patients/{world.patient_a}", headers=auth).json()
        conditions.append(condition)
        body = {"patient": {**current["patient"], "conditions": list(conditions)},
                "diagnosis_date": current["diagnosis_date"], "display_name": "edited by hand",
                "version": current["version"]}
        saved = client.put(f"{API}/patients/{world.patient_a}", headers=auth, json=body)
        if saved.status_code == 409:  # an import changed the demographics in between: re-read and apply again
            conditions.pop()
            continue
        assert saved.status_code == 200, saved.text
    for thread in threads:
        thread.join()
    assert not failures
    final = client.get(f"{API}/patients/{world.patient_a}", headers=auth).json()
    assert set(conditions) <= set(final["patient"]["conditions"])
    assert final["display_name"] == "edited by hand"


# --- 5. text no database can keep ----------------------------------------------------------------------------


@pytest.mark.parametrize("path, body, field", [
    ("findings", {"type": "cbc", "date": "2024-02-01", "wbc": 3.1, "note": "lone \ud800 surrogate"}, "body.note"),
    ("findings", {"type": "genetics", "date": "2024-02-01", "fusions": ["BCR::ABL1\x00"]}, "body.fusions"),
    ("findings", {"type": "immunophenotype", "date": "2024-02-01", "markers": {"CD19\x00": "positive"}},
     "body.markers"),
])
def test_nul_and_lone_surrogates_are_refused_naming_the_field(client, world, path, body, field):
    response = client.post(f"{API}/patients/{world.patient_a}/{path}", content=json.dumps(body),  # \u escapes
                           headers={**world.auth("clinician"), "Content-Type": "application/json"})
    assert response.status_code == 422
    assert any(item["field"].startswith(field) for item in response.json()["detail"]), response.text
    assert client.get(f"{API}/patients/{world.patient_a}/assessment", headers=world.auth("clinician")).status_code == 200


def test_a_nul_in_an_identifier_is_refused_on_every_way_in(client, world):
    auth = world.auth("clinician")
    case = case_dict("NUL\x00ID")
    assert client.post(f"{API}/cases", headers=auth, json=case).status_code == 422
    created = client.post(f"{API}/patients", headers=auth,
                          json={"patient": {"id": "X\x00", "sex": "female"}, "display_name": "n"})
    assert created.status_code == 422 and "patient.id" in created.text
    named = client.post(f"{API}/patients", headers=auth, json={"patient": {"id": "OK-1"}, "display_name": "a\x00b"})
    assert named.status_code == 422 and "display_name" in named.text
    bundle = bundle_json(case_from_dict(case_dict("FHIR-NUL")), None)
    bundle["entry"][0]["resource"]["id"] = "FHIR\x00NUL"
    imported = client.post(f"{API}/fhir/import", headers={**auth, "Content-Type": "application/fhir+json"},
                           content=json.dumps(bundle))
    assert imported.status_code in (200, 422)
    if imported.status_code == 200:
        assert imported.json()["counts"]["created"] == 0


# --- 11. bounded request bodies ----------------------------------------------------------------------------


def raw_request(port: int, head: bytes, sent: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(head)
        with contextlib.suppress(OSError):
            connection.sendall(b"x" * sent)
        connection.settimeout(10)
        return connection.recv(4096)


def test_an_anonymous_body_over_the_limit_is_refused_before_it_is_read(app):
    with ServerThread(app) as server:
        for path in (f"{API}/auth/login", f"{API}/fhir/import", "/login", "/cds-services/all-assessment"):
            head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {256 * 1024 * 1024}\r\n\r\n").encode()
            assert raw_request(server.port, head, 1024).startswith(b"HTTP/1.1 413"), path


def test_a_chunked_body_is_stopped_at_the_limit(app, world):
    """No Content-Length: the body is counted as it arrives and refused at the route's limit (32 MB)."""
    import select

    head = (f"POST {API}/fhir/import HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {world.tokens['clinician']}\r\n"
            "Content-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    chunk = b"100000\r\n" + b" " * 0x100000 + b"\r\n"  # 1 MB
    sent, answer = 0, b""
    with ServerThread(app) as server, socket.create_connection(("127.0.0.1", server.port)) as connection:
        connection.sendall(head)
        while sent < 64 * 1024 * 1024:
            if select.select([connection], [], [], 0)[0]:
                break
            try:
                connection.sendall(chunk)
            except OSError:
                break
            sent += 0x100000
        connection.settimeout(30)
        answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413")
    assert sent < 40 * 1024 * 1024


def test_every_route_has_a_limit(client, world):
    big = {"type": "cbc", "date": "2024-02-01", "wbc": 3.1, "note": "x" * (2 * 1024 * 1024)}
    response = client.post(f"{API}/patients/{world.patient_a}/findings", headers=world.auth("clinician"), json=big)
    assert response.status_code == 413


def _first_finding(client, world) -> dict:
    return client.get(f"{API}/patients/{world.patient_a}/findings", headers=world.auth("clinician")).json()[0]


@pytest.mark.parametrize("who, path, name", [
    ("clinician", f"{API}/patients", "q"),
    ("clinician", f"{API}/patients", "status"),
    ("admin", f"{API}/audit", "action"),
    ("clinician", "/patients", "q"),
])
def test_a_nul_in_a_query_parameter_is_refused_naming_it_on_every_store(client, world, who, path, name):
    """SQLite searched for it, PostgreSQL refused it as a 422 about the body: the same answer on both."""
    response = client.get(path, params={name: "P-\x00"}, headers=world.auth(who))
    assert response.status_code == 422, response.text[:300]
    assert [item["field"] for item in response.json()["detail"]] == [f"query.{name}"]
    assert "NUL" in response.text


def test_a_deletion_reason_no_database_can_keep_is_refused_naming_the_field(client, world):
    """The reason goes into the audit log: refused like any other text at the input edge, the finding kept."""
    finding = _first_finding(client, world)
    url = f"{API}/patients/{world.patient_a}/findings/{finding['id']}"
    response = client.request("DELETE", url, headers=world.auth("clinician"),
                              params={"version": finding["version"], "reason": "scanned\x00twice"})
    assert response.status_code == 422, response.text
    assert any(item["field"] == "query.reason" for item in response.json()["detail"]), response.text
    assert client.get(url, headers=world.auth("clinician")).status_code == 200


def test_the_delete_form_refuses_a_nul_in_its_reason(app, world):
    from test_web_pages import csrf, logged_in

    page_client = logged_in(app, "clinician")
    finding = _first_finding(page_client, world)
    url = f"/patients/{world.patient_a}/findings/{finding['id']}/delete"
    token = csrf(page_client.get(url).text)
    response = page_client.post(url, data={"csrf_token": token, "version": str(finding["version"]),
                                           "reason": "scanned\x00twice"}, follow_redirects=False)
    assert response.status_code == 422 and "NUL" in response.text
    assert page_client.get(f"{API}/patients/{world.patient_a}/findings/{finding['id']}").status_code == 200


# --- 17. deep nesting ---------------------------------------------------------------------------------------


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("path, content_type", [
    (f"{API}/cases", "application/json"),
    (f"{API}/fhir/import", "application/fhir+json"),
    (f"{API}/fhir/import", "application/fhir+ndjson"),
    (f"{API}/patients", "application/json"),
])
def test_deeply_nested_json_is_a_4xx_on_every_path(client, world, path, content_type):
    response = client.post(path, headers={**world.auth("clinician"), "Content-Type": content_type}, content=DEEP)
    assert 400 <= response.status_code < 500, response.text[:300]


@pytest.mark.parametrize("opened", [DEEP, '{"a":' * 5000 + "1" + "}" * 5000])
def test_deeply_nested_json_in_a_correction_form_is_a_4xx(app, world, opened):
    """The correction form sends back, as JSON, the values it showed (to tell what changed meanwhile)."""
    from test_web_pages import csrf, logged_in

    page_client = logged_in(app, "clinician")
    finding = page_client.get(f"{API}/patients/{world.patient_a}/findings").json()[0]
    url = f"/patients/{world.patient_a}/findings/{finding['id']}/edit"
    token = csrf(page_client.get(url).text)
    response = page_client.post(url, data={"csrf_token": token, "version": str(finding["version"]), "opened": opened})
    assert 400 <= response.status_code < 500, response.text[:300]


def test_deeply_nested_case_files_are_a_4xx_when_uploaded(client, world):
    response = client.post(f"{API}/cases/upload", headers=world.auth("clinician"),
                           files={"file": ("deep.json", DEEP.encode(), "application/json")})
    assert response.status_code == 422


def test_deeply_nested_input_is_exit_2_on_the_command_line(tmp_path):
    from fhir_helpers import allcare_cli

    deep = tmp_path / "deep.json"
    deep.write_text(DEEP)
    for command in (["assess", str(deep)], ["validate", str(deep)], ["import", "fhir", str(deep), "--to-case",
                                                                     str(tmp_path / "out.json")]):
        result = allcare_cli(*command)
        assert result.returncode == 2, (command, result.stderr[-500:])
        assert "Traceback" not in result.stderr


def _case_with_a_long_number(fmt: str) -> str:
    """A case file whose haemoglobin is a whole number of 5,000 digits (past Python's 4,300-digit limit
    for reading integers from text)."""
    case = case_dict("LONG-1")
    if fmt == "json":
        return json.dumps(case).replace('"hemoglobin": 8.1', '"hemoglobin": 1' + "0" * 4999)
    return ("schema: allcare.case/1\npatient: {id: LONG-1, sex: female}\nfindings:\n"
            "- {type: cbc, date: 2024-01-08, hemoglobin: 1" + "0" * 4999 + "}\n")


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_number_of_thousands_of_digits_in_a_case_file_is_a_4xx_naming_it(app, client, world, fmt):
    from test_web_pages import csrf, logged_in

    text = _case_with_a_long_number(fmt)
    response = client.post(f"{API}/cases/upload", headers=world.auth("clinician"),
                           files={"file": (f"long.{fmt}", text.encode())})
    assert response.status_code == 422, response.text[:300]
    assert "digits" in response.text
    browser = logged_in(app, "clinician")
    page = browser.post("/patients/import", files={"file": (f"long.{fmt}", text.encode())},
                        data={"csrf_token": csrf(browser.get("/patients/import").text)}, follow_redirects=False)
    assert page.status_code == 422 and "digits" in page.text


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_number_of_thousands_of_digits_is_exit_2_on_the_command_line(tmp_path, fmt):
    from fhir_helpers import allcare_cli

    path = tmp_path / f"long.{fmt}"
    path.write_text(_case_with_a_long_number(fmt))
    for command in (["validate", str(path)], ["assess", str(path)]):
        result = allcare_cli(*command)
        assert result.returncode == 2, (command, result.stderr[-500:])
        assert "digits" in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize("since", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"])
def test_an_audit_moment_out_of_range_is_named_as_the_query_parameter(client, world, since):
    response = client.get(f"{API}/audit", params={"since": since}, headers=world.auth("admin"))
    assert response.status_code == 422
    assert [item["field"] for item in response.json()["detail"]] == ["query.since"]


SPOOFED_NAMES = ["\u202eneerG ycuL", "Lucy\u2066 Green", "Lucy\x1b[2J Green", "Lucy\nGreen", "Lucy\u2028Green"]


@pytest.mark.parametrize("name", SPOOFED_NAMES)
def test_a_patient_name_that_would_display_as_another_is_refused_on_every_way_in(app, client, world, name):
    """The list shows names: a right-to-left override makes '\u202eneerG ycuL' read 'Lucy Green', another
    child's name, and a clinician picks the wrong record. Identifiers refuse such characters; names too."""
    from test_web_pages import csrf, logged_in

    auth = world.auth("clinician")
    created = client.post(f"{API}/patients", headers=auth, json={"patient": {"id": "SPOOF-1"}, "display_name": name})
    assert created.status_code == 422 and created.json()["detail"][0]["field"] == "body.display_name", created.text
    current = client.get(f"{API}/patients/{world.patient_a}", headers=auth).json()
    changed = client.put(f"{API}/patients/{world.patient_a}", headers=auth,
                         json={"patient": current["patient"], "version": current["version"], "display_name": name})
    assert changed.status_code == 422
    browser = logged_in(app, "clinician")
    form = browser.post("/patients/new", data={"csrf_token": csrf(browser.get("/patients/new").text),
                                               "identifier": "SPOOF-2", "display_name": name, "sex": "female"})
    assert form.status_code == 422 and 'id="display_name-error"' in form.text
    upload = browser.post("/patients/import", data={"csrf_token": csrf(browser.get("/patients/import").text),
                                                    "display_name": name},
                          files={"file": ("c.json", json.dumps(case_dict("SPOOF-3")).encode())}, follow_redirects=False)
    assert upload.status_code == 422
    user = client.post(f"{API}/users", headers=world.auth("admin"),
                       json={"username": "spoof", "password": PASSWORD, "role": "clinician", "display_name": name})
    assert user.status_code == 422
    listed = [item["patient"]["id"] for item in client.get(f"{API}/patients", headers=auth).json()["items"]]
    assert not any(identifier.startswith("SPOOF") for identifier in listed)


@pytest.mark.parametrize("name", ["\u0645\u062d\u0645\u062f\u200c\u0631\u0636\u0627", "Zo\u00eb O\u2019Neil",
                                  "\u0928\u093f\u0916\u093f\u200d\u0932"])
def test_names_that_need_joiners_are_kept(client, world, name):
    created = client.post(f"{API}/patients", headers=world.auth("clinician"),
                          json={"patient": {"id": f"NAME-{len(name)}"}, "display_name": name})
    assert created.status_code == 201 and created.json()["display_name"] == name


# --- 24. upper bounds ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("finding, field", [
    ({"type": "cbc", "date": "2024-02-01", "wbc": 3.1, "note": "n" * 10_001}, "body.note"),
    ({"type": "treatment", "phase": "induction", "start": "2024-02-01", "agents": ["a"] * 101}, "body.agents"),
    ({"type": "immunophenotype", "date": "2024-02-01", "markers": {f"CD{n}": "positive" for n in range(301)}},
     "body.markers"),
])
def test_lists_and_texts_have_upper_bounds(client, world, finding, field):
    response = client.post(f"{API}/patients/{world.patient_a}/findings", headers=world.auth("clinician"), json=finding)
    assert response.status_code == 422 and any(item["field"] == field for item in response.json()["detail"])


def test_a_record_holds_at_most_five_thousand_findings(client, world):
    case = case_dict("HUGE")
    case["findings"] = [{"type": "cbc", "date": "2024-01-08", "wbc": 3.0 + n / 10_000} for n in range(5_001)]
    response = client.post(f"{API}/cases", headers=world.auth("clinician"), json=case)
    assert response.status_code == 422 and "findings" in response.text


# --- 19. karyotype problems quote the offending part -------------------------------------------------------


@pytest.mark.parametrize("karyotype", ["/" * 1000 + "46,XY", "46,XY," + "x" * 1990, "47,XY,+8[" + "9" * 1990])
def test_a_long_bad_karyotype_gives_a_short_answer(client, world, karyotype):
    auth = world.auth("clinician")
    finding = {"type": "cytogenetics", "date": "2024-01-09", "karyotype": karyotype[:2000]}
    assert client.post(f"{API}/patients/{world.patient_a}/findings", headers=auth, json=finding).status_code == 201
    assessment = client.get(f"{API}/patients/{world.patient_a}/assessment", headers=auth)
    before = client.get(f"{API}/patients/{world.patient_b}/assessment", headers=auth)
    assert assessment.status_code == 200
    assert len(assessment.content) < len(before.content) + 40_000  # was 4 MB: every problem carried the whole text


# --- 23. the OpenAPI contract ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "1700000000", "2024-1-5", "1899-12-31", "2200-01-01", "tomorrow"])
def test_as_of_is_an_iso_date_within_the_record_bounds(client, world, value):
    response = client.get(f"{API}/patients/{world.patient_a}/assessment", params={"as_of": value},
                          headers=world.auth("clinician"))
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "query.as_of"


def test_options_answers_with_allow(client, world):
    response = client.options(f"{API}/patients/{world.patient_a}")
    assert response.status_code == 204
    assert set(response.headers["allow"].split(", ")) == {"GET", "PUT", "DELETE", "OPTIONS"}
    assert client.options(f"{API}/no-such-thing").status_code == 404


def test_the_openapi_document_declares_the_common_refusals_and_date_bounds(client):
    schema = client.get("/api/openapi.json").json()
    operation = schema["paths"]["/api/v1/patients/{patient_id}/assessment"]["get"]
    assert {"400", "403", "413", "422", "503"} <= set(operation["responses"])
    as_of = next(p for p in operation["parameters"] if p["name"] == "as_of")
    text = json.dumps(as_of["schema"])
    assert "(19|20|21)" in text  # years 1900-2199


def test_a_form_refuses_a_nul_character_next_to_its_field(app, world):
    from test_web_pages import logged_in, post_form

    client = logged_in(app, "clinician")
    response = post_form(client, f"/patients/{world.patient_a}/findings/new/cbc",
                         {"date": "2024-02-01", "wbc": "3.1", "note": "typed\x00by a scanner"})
    assert response.status_code == 422 and "NUL" in response.text


def test_the_import_page_refuses_a_nul_in_the_display_name(app, world):
    from test_web_pages import csrf, logged_in

    client = logged_in(app, "clinician")
    token = csrf(client.get("/patients/import").text)
    response = client.post("/patients/import", data={"csrf_token": token, "display_name": "Jo\x00"},
                           files={"file": ("case.json", json.dumps(case_dict("P-NAMED")).encode(), "application/json")},
                           follow_redirects=False)
    assert response.status_code == 422 and "NUL" in response.text
    assert client.get(f"{API}/patients", params={"q": "P-NAMED"}).json()["total"] == 0
