"""The server-rendered pages, through HTTP, against a real store (the ``world`` of tests/conftest.py).

Each role logs in through the login form (with its CSRF token) and gets exactly
the pages it may: a clinician everything, a registrar read-only pages, a
patient only their own report, an administrator no patient data.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from fastapi.testclient import TestClient

from allcare import DISCLAIMER
from conftest import PASSWORD, case_dict

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(page_html: str) -> str:
    match = CSRF.search(page_html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def logged_in(app, username: str) -> TestClient:
    client = TestClient(app)
    token = csrf(client.get("/login").text)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token, "next": ""},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def post_form(client: TestClient, form_url: str, data: dict, files=None):
    token = csrf(client.get(form_url).text)
    return client.post(form_url, data={**data, "csrf_token": token}, files=files, follow_redirects=False)


def chart_specs(page_html: str) -> dict[str, dict]:
    specs = re.findall(r'<script type="application/json" id="(chart-[a-z]+)-spec">(.*?)</script>', page_html, re.DOTALL)
    return {name: json.loads(body) for name, body in specs}


# --- login, logout, redirects ----------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_the_login_page_with_the_way_back(client):
    response = client.get("/patients?status=relapse", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fpatients%3Fstatus%3Drelapse"


def test_login_page_is_accessible_and_carries_the_disclaimer(client):
    page = client.get("/login").text
    assert DISCLAIMER in page
    assert '<label class="field__label" for="username">' in page and 'id="username"' in page
    assert 'autocomplete="current-password"' in page
    assert '<main id="main"' in page and 'href="#main"' in page  # landmark and skip link


@pytest.mark.parametrize(("username", "landing"), [("clinician", "/patients"), ("registrar", "/registry"),
                                                   ("admin", "/admin"), ("patient_a", "/patients/{a}/report")])
def test_each_role_lands_on_its_home_page(app, world, username, landing):
    client = TestClient(app)
    token = csrf(client.get("/login").text)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == landing.format(a=world.patient_a)
    assert "httponly" in response.headers["set-cookie"].lower()


def test_wrong_password_shows_the_form_again_with_a_message(app, world):
    client = TestClient(app)
    token = csrf(client.get("/login").text)
    response = client.post("/login", data={"username": "clinician", "password": "wrong", "csrf_token": token})
    assert response.status_code == 401
    assert "Wrong username or password." in response.text
    assert 'value="clinician"' in response.text


def test_login_without_the_csrf_token_is_refused(app, world):
    client = TestClient(app)
    client.get("/login")
    response = client.post("/login", data={"username": "clinician", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_login_never_redirects_to_another_site(app, world, target):
    client = TestClient(app)
    token = csrf(client.get("/login").text)
    response = client.post("/login", data={"username": "clinician", "password": PASSWORD, "csrf_token": token,
                                           "next": target}, follow_redirects=False)
    assert response.headers["location"] == "/patients"


def test_login_follows_a_same_site_next_path(app, world):
    client = TestClient(app)
    token = csrf(client.get("/login").text)
    response = client.post("/login", data={"username": "clinician", "password": PASSWORD, "csrf_token": token,
                                           "next": f"/patients/{world.patient_b}"}, follow_redirects=False)
    assert response.headers["location"] == f"/patients/{world.patient_b}"


def test_a_patient_login_is_kept_to_its_own_report_whatever_next_says(app, world):
    client = TestClient(app)
    token = csrf(client.get("/login").text)
    response = client.post("/login", data={"username": "patient_a", "password": PASSWORD, "csrf_token": token,
                                           "next": f"/patients/{world.patient_b}/report"}, follow_redirects=False)
    assert response.headers["location"] == f"/patients/{world.patient_a}/report"


def test_logout_ends_the_session(app, world):
    client = logged_in(app, "clinician")
    token = csrf(client.get("/patients").text)
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.headers["location"] == "/login"
    assert client.get("/patients", follow_redirects=False).status_code == 303


def test_logout_without_the_csrf_token_is_refused(app, world):
    client = logged_in(app, "clinician")
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert client.get("/patients").status_code == 200


# --- who may open which page -----------------------------------------------------------------

OK = 200
PAGES = [
    ("/patients", dict(clinician=OK, registrar=OK, admin=403, patient_a=303, patient_b=303)),
    ("/patients/{a}", dict(clinician=OK, registrar=OK, admin=403, patient_a=303, patient_b=404)),
    ("/patients/{a}/report", dict(clinician=OK, registrar=403, admin=403, patient_a=OK, patient_b=404)),
    ("/patients/{a}/report.pdf", dict(clinician=OK, registrar=403, admin=403, patient_a=OK, patient_b=404)),
    ("/patients/{a}/findings/new/cbc", dict(clinician=OK, registrar=403, admin=403, patient_a=403, patient_b=403)),
    ("/patients/import", dict(clinician=OK, registrar=403, admin=403, patient_a=403, patient_b=403)),
    ("/karyotype/parse?text=46,XY[20]", dict(clinician=OK, registrar=OK, admin=403, patient_a=403, patient_b=403)),
    ("/admin", dict(clinician=403, registrar=403, admin=OK, patient_a=403, patient_b=403)),
]


@pytest.mark.parametrize(("path", "expected"), PAGES, ids=[p for p, _ in PAGES])
def test_each_role_opens_only_the_pages_it_may(app, world, path, expected):
    if path.endswith(".pdf"):
        pytest.importorskip("weasyprint")
    url = path.format(a=world.patient_a)
    outcomes = {}
    for role in expected:
        outcomes[role] = logged_in(app, role).get(url, follow_redirects=False).status_code
    assert outcomes == expected


def test_refusals_are_html_pages_not_json(app, world):
    response = logged_in(app, "patient_b").get(f"/patients/{world.patient_a}/report")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Not found" in response.text and DISCLAIMER in response.text


def test_a_patient_opening_the_staff_page_of_their_own_record_gets_their_report(app, world):
    client = logged_in(app, "patient_a")
    response = client.get(f"/patients/{world.patient_a}", follow_redirects=False)
    assert response.headers["location"] == f"/patients/{world.patient_a}/report"


def test_pages_are_not_cached_and_carry_the_security_headers(app, world):
    response = logged_in(app, "clinician").get(f"/patients/{world.patient_a}")
    assert response.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


# --- patient list ----------------------------------------------------------------------------


def test_patient_list_shows_status_and_alerts_of_every_patient(app, world):
    page = logged_in(app, "clinician").get("/patients").text
    assert "P-A" in page and "P-B" in page
    assert "2 patients" in page
    assert "On treatment" in page or "Newly diagnosed" in page
    assert DISCLAIMER in page


@pytest.mark.parametrize(("query", "shown", "hidden"), [
    ("q=P-B", ["P-B"], ["P-A"]),
    ("q=p-a", ["P-A"], ["P-B"]),
    ("lineage=T", [], ["P-A", "P-B"]),
    ("lineage=B", ["P-A", "P-B"], []),
    ("status=relapse", [], ["P-A", "P-B"]),
    ("risk=standard", ["P-A", "P-B"], []),
    ("visit=older90", ["P-A", "P-B"], []),
])
def test_patient_list_filters(app, world, query, shown, hidden):
    page = logged_in(app, "clinician").get(f"/patients?{query}").text
    rows = re.findall(r'class="patient-link">([^<]+)<', page)
    assert sorted(rows) == sorted(shown)
    for name in hidden:
        assert name not in rows


def test_unknown_filter_values_are_ignored_not_errors(app, world):
    response = logged_in(app, "clinician").get("/patients?status=nonsense&risk=%3Cscript%3E&sort=drop")
    assert response.status_code == 200
    assert "<script>" not in response.text


def test_registrar_sees_the_list_without_write_actions(app, world):
    page = logged_in(app, "registrar").get("/patients").text
    assert "Import case file" not in page


# --- patient page ----------------------------------------------------------------------------


def test_patient_page_has_alerts_first_then_the_diagnosis_panel_with_explanations(app, world):
    page = logged_in(app, "clinician").get(f"/patients/{world.patient_a}").text
    assert page.index('id="alerts-title"') < page.index('id="dx-title"')
    for label in ("Disease", "Lineage", "WHO-HAEM5", "ICC 2022", "Codes", "Risk groups", "CNS status at diagnosis"):
        assert f"<dt>{label}</dt>" in page
    assert "Acute lymphoblastic leukaemia (ALL)" in page
    assert "<details class=\"explain\">" in page
    assert "DX.DISEASE.MARROW_BLASTS" in page  # the rule behind the disease
    assert "marrow blasts 88%" in page  # its evidence
    assert 'id="missing-title"' in page
    assert DISCLAIMER in page


def test_patient_page_embeds_the_three_charts_as_plotly_json(app, world):
    page = logged_in(app, "clinician").get(f"/patients/{world.patient_a}").text
    specs = chart_specs(page)
    assert set(specs) == {"chart-status", "chart-counts"}  # no MRD result yet: no MRD chart
    assert "No MRD results recorded yet." in page
    phases = [t["name"] for t in specs["chart-status"]["data"] if t.get("fill") == "toself"]
    assert phases == ["Induction"]
    assert "Show the numbers" in page  # the table behind each chart


def test_text_in_a_chart_figure_cannot_end_its_script_element(app, world, store):
    """The figures travel as JSON inside <script> elements: a time point typed as '</script><img ...>'
    must neither close the element nor become markup, and must reach the browser unchanged."""
    from allcare.engine.case import case_from_dict
    from allcare.store import Actor
    from allcare.store.cases import import_case

    injected = "</script><img src=x onerror=alert(1)> & 'quoted' <!--"
    case = case_dict("INJ-1")
    case["findings"].append({"type": "mrd", "date": "2024-02-05", "value": 0.001, "method": "flow",
                             "timepoint": injected})
    with store.transaction() as session:
        patient = import_case(session, Actor.cli("test"), case_from_dict(case)).id
    page = logged_in(app, "clinician").get(f"/patients/{patient}").text
    assert "<img src=x" not in page and "</script><img" not in page
    mrd = chart_specs(page)["chart-mrd"]
    assert [h["timepoint"] for h in mrd["hover"]] == [[injected]]


def test_patient_page_loads_plotly_from_this_server(app, world):
    import hashlib

    from allcare.web.pages.assets import PLOTLY_JS

    page = logged_in(app, "clinician").get(f"/patients/{world.patient_a}").text
    script = re.search(r'<script src="(/vendor/plotly-[^"]+\.min\.js)"', page).group(1)
    # The vendored partial bundle, named by its content, so a new build gets a new URL.
    assert hashlib.sha256(PLOTLY_JS.read_bytes()).hexdigest()[:16] in script
    assert PLOTLY_JS.stat().st_size < 1_500_000
    css = re.search(r'id="plotly.js-style-global" class="no-inline-styles" href="([^"]+)"', page).group(1)
    client = TestClient(app)
    js = client.get(script, headers={"Accept-Encoding": "gzip"})
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "max-age=31536000" in js.headers["cache-control"]
    style = client.get(css)
    assert style.status_code == 200 and ".js-plotly-plot .plotly .modebar" in style.text
    assert client.get("/vendor/plotly-0.0.0.min.js").status_code == 404
    assert int(js.headers["content-length"]) < 500_000  # gzip


def test_registrar_sees_the_coded_patient_page_without_raw_findings_or_forms(app, world):
    page = logged_in(app, "registrar").get(f"/patients/{world.patient_a}").text
    assert "Coded record" in page and "ICD-O-3" in page
    assert "/findings/new/" not in page
    for raw in ("12400", "blasts", "plotly", "CD19", "evidence"):  # counts, markers, charts, the derivation trail
        assert raw not in page, raw


def test_unknown_patient_is_a_404_page(app, world):
    response = logged_in(app, "clinician").get("/patients/999999")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]


# --- finding forms ---------------------------------------------------------------------------

VALID = {
    "cbc": {"date": "2024-02-01", "wbc": "3400", "wbc_unit": "/uL", "anc": "1.2", "hemoglobin": "10.2",
            "platelets": "150", "platelets_lower": "150", "platelets_upper": "450"},
    "marrow": {"date": "2024-02-07", "blasts_pct": "2", "method": "morphology", "timepoint": "end_of_induction"},
    "immunophenotype": {"date": "2024-01-09", "sample": "blood", "markers": "CD19 98\ncCD79a: positive\nCD10 dim"},
    "cytogenetics": {"date": "2024-01-12", "karyotype": "46,XX,t(12;21)(p13;q22)[18]/46,XX[2]"},
    "genetics": {"date": "2024-01-12", "fusions": "ETV6::RUNX1", "negative": "BCR-ABL1, KMT2A-r",
                 "expression_confidence": "0.9"},
    "csf": {"date": "2024-01-10", "wbc": "2", "rbc": "0", "blasts": "no"},
    "extramedullary": {"date": "2024-01-10", "site": "testis", "present": "no"},
    "mrd": {"date": "2024-02-07", "percent": "0.005", "method": "flow", "sensitivity": "0.0001", "sample": "marrow"},
    "treatment": {"phase": "consolidation", "start": "2024-02-08", "agents": "vincristine, mercaptopurine"},
    "dose": {"agent": "6-MP", "dose": "50", "dose_unit": "mg", "frequency": "daily", "route": "oral", "start": "2024-02-10"},
    "anthropometry": {"date": "2024-02-01", "height": "110", "weight": "19"},
    "chemistry": {"date": "2024-02-01", "potassium": "4.2", "uric_acid": "5.0", "uric_acid_unit": "mg/dL", "alt": "35",
                  "alt_upper": "40"},
    "vitals": {"date": "2024-02-01", "time": "20:15", "temperature": "38.6", "temperature_site": "oral", "heart_rate": "120"},
    "pharmacogenetics": {"date": "2024-02-01", "gene": "TPMT", "phenotype": "intermediate_metabolizer", "diplotype": "*1/*3A"},
    "methotrexate_level": {"date": "2024-02-03", "value": "0.4", "hours_after_start": "48", "infusion_hours": "24"},
    "asparaginase_activity": {"date": "2024-02-08", "value": "0.2", "preparation": "pegaspargase", "days_after_dose": "7"},
    "adverse_event": {"term": "Osteonecrosis", "grade": "2", "start": "2024-02-01", "serious": "no"},
}


@pytest.mark.parametrize("kind", list(VALID))
def test_every_finding_type_can_be_added_through_its_form(app, world, kind):
    client = logged_in(app, "clinician")
    url = f"/patients/{world.patient_a}/findings/new/{kind}"
    assert client.get(url).status_code == 200
    response = post_form(client, url, VALID[kind])
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/patients/{world.patient_a}?added={kind}"
    stored = client.get(f"/api/v1/patients/{world.patient_a}/findings?type={kind}").json()
    assert stored, f"no {kind} stored"


def test_an_added_blood_count_is_stored_in_its_reported_unit_and_drawn(app, world):
    client = logged_in(app, "clinician")
    post_form(client, f"/patients/{world.patient_a}/findings/new/cbc", VALID["cbc"])
    cbcs = client.get(f"/api/v1/patients/{world.patient_a}/findings?type=cbc").json()
    latest = max(cbcs, key=lambda f: f["finding"]["date"])["finding"]
    assert latest["wbc"] == {"value": 3400.0, "unit": "/uL"}
    page = client.get(f"/patients/{world.patient_a}?added=cbc").text
    assert "Blood count added." in page
    counts = chart_specs(page)["chart-counts"]
    wbc = next(t for t in counts["data"] if t.get("name") == "WBC")
    assert wbc["x"] == ["2024-01-08", "2024-02-01"] and wbc["y"] == [12.4, 3.4]


# (kind, submitted fields, field that must carry the message, part of the message)
INVALID = [
    ("cbc", {"date": "2024-02-01", "wbc": "12400"}, "wbc", "choose it in the unit list"),
    ("cbc", {"date": "2024-02-01", "wbc": "-1"}, "wbc", "must be >= 0"),
    ("cbc", {"date": "2024-02-01", "wbc": "abc"}, "wbc", "must be a number"),
    ("cbc", {"date": "2024-02-01"}, "", "a cbc needs at least one of"),
    ("cbc", {"date": "2010-02-01", "hemoglobin": "9"}, "date", "dated before birth_date"),
    ("cbc", {"date": "2024-02-01", "platelets": "50", "platelets_lower": "450", "platelets_upper": "150"},
     "platelets", "'lower_limit' is above 'upper_limit'"),
    ("cbc", {"date": "", "wbc": "3"}, "date", "required"),
    ("marrow", {"date": "2024-02-01", "blasts_pct": "101"}, "blasts_pct", "must be <= 100"),
    ("mrd", {"date": "2024-02-01", "percent": "150"}, "percent", "less than or equal to 100"),
    ("mrd", {"date": "2024-02-01", "percent": "0.01", "sensitivity": "2"}, "sensitivity", "less than or equal to 1"),
    ("treatment", {"phase": "induction", "start": "2024-02-01", "end": "2024-01-01"}, "end", "is before start"),
    ("treatment", {"phase": "", "start": "2024-02-01"}, "phase", "required"),
    ("immunophenotype", {"date": "2024-02-01", "markers": "CD19 posi"}, "markers", "Input should be"),
    ("immunophenotype", {"date": "2024-02-01", "markers": "CD19"}, "markers", "write a marker name and a result"),
    ("extramedullary", {"date": "2024-02-01", "site": "testis"}, "present", "choose yes or no"),
    ("genetics", {"date": "2024-02-01", "expression_confidence": "1.5"}, "expression_confidence", "less than or equal to 1"),
    ("cytogenetics", {"date": "2024-02-01", "modal_number": "0"}, "modal_number", "greater than or equal to 1"),
    ("csf", {"date": "2024-02-01", "wbc": "-3"}, "wbc", "must be >= 0"),
    ("chemistry", {"date": "2024-02-01", "potassium": "40"}, "potassium", "must be <= 15"),
    ("vitals", {"date": "2024-02-01", "temperature": "101"}, "temperature", "must be <= 45"),
    ("vitals", {"date": "2024-02-01", "temperature": "38.5", "time": "8pm"}, "time", "should match pattern"),
    ("dose", {"agent": "MTX", "dose": "-5", "start": "2024-02-01"}, "dose", "must be >= 0 mg"),
    ("adverse_event", {"term": "pancreatitis", "grade": "1", "start": "2024-02-01"}, "", "CTCAE defines grades 2, 3, 4, 5"),
    ("methotrexate_level", {"date": "2024-02-01", "value": "12"}, "hours_after_start", "required"),
    ("pharmacogenetics", {"date": "2024-02-01", "gene": "TPMT", "diplotype": "1/3A"}, "diplotype", "should match pattern"),
    ("anthropometry", {"date": "2024-02-01", "height": "1.2"}, "height", "must be >= 20"),
    ("asparaginase_activity", {"date": "2024-02-01", "value": "150"}, "value", "must be <= 100"),
]


@pytest.mark.parametrize(("kind", "data", "field", "message"), INVALID,
                         ids=[f"{k}-{f or 'form'}-{i}" for i, (k, _, f, _) in enumerate(INVALID)])
def test_a_rejected_finding_shows_the_reason_next_to_its_field(app, world, kind, data, field, message):
    client = logged_in(app, "clinician")
    response = post_form(client, f"/patients/{world.patient_a}/findings/new/{kind}", data)
    assert response.status_code == 422
    page = response.text
    assert "The finding was not saved" in page
    if field:
        block = re.search(rf'<p class="field__error" id="{field}-error">(.*?)</p>', page, re.DOTALL)
        assert block, f"no error next to {field}"
        assert message in block.group(1).replace("&#39;", "'").replace("&gt;", ">").replace("&lt;", "<")
        assert f'id="f-{field}"' in page
    else:
        assert message in page
    for name, value in data.items():
        if value and name != "date":
            assert f'value="{value}"' in page or f">{value}</textarea>" in page  # what was typed is kept
    assert len(client.get(f"/api/v1/patients/{world.patient_a}/findings?type={kind}").json()) == \
        sum(1 for f in case_dict()["findings"] if f["type"] == kind)


def test_registrar_cannot_post_a_finding(app, world):
    clinician = logged_in(app, "clinician")
    registrar = logged_in(app, "registrar")
    token = csrf(registrar.get("/patients").text)
    response = registrar.post(f"/patients/{world.patient_a}/findings/new/cbc",
                              data={"csrf_token": token, "date": "2024-02-01", "wbc": "3"})
    assert response.status_code == 403
    assert len(clinician.get(f"/api/v1/patients/{world.patient_a}/findings?type=cbc").json()) == 1


def test_a_form_post_without_csrf_token_is_refused(app, world):
    client = logged_in(app, "clinician")
    response = client.post(f"/patients/{world.patient_a}/findings/new/cbc", data={"date": "2024-02-01", "wbc": "3"})
    assert response.status_code == 403


# --- karyotype preview -----------------------------------------------------------------------


def test_karyotype_preview_reads_the_karyotype_as_the_engine_does(app, world):
    client = logged_in(app, "clinician")
    result = client.get("/karyotype/parse", params={"text": "47,XY,+8,t(9;22)(q34;q11.2)[15]/46,XY[5]"}).json()
    assert result["modal_number"] == 47
    assert result["recurrent"] == ["BCR::ABL1"]
    assert result["ok"] is True
    assert any(line.startswith("Clone 1") for line in result["lines"])


def test_karyotype_preview_reports_what_it_cannot_read(app, world):
    client = logged_in(app, "clinician")
    result = client.get("/karyotype/parse", params={"text": "46,XY,foo(3)[20]"}).json()
    assert result["ok"] is False
    assert result["problems"]
    assert client.get("/karyotype/parse", params={"text": "  "}).json()["empty"] is True


def test_karyotype_preview_rejects_overlong_text(app, world):
    client = logged_in(app, "clinician")
    assert client.get("/karyotype/parse", params={"text": "4" * 2001}).status_code == 422


# --- case-file upload ------------------------------------------------------------------------


def test_a_case_file_upload_creates_the_patient(app, world):
    import yaml

    client = logged_in(app, "clinician")
    text = yaml.safe_dump(case_dict("UP-1"))
    response = post_form(client, "/patients/import", {"display_name": "Uploaded child"},
                         files={"file": ("up.yaml", io.BytesIO(text.encode()), "application/yaml")})
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "Uploaded child" in page and "Case file imported." in page


def test_an_invalid_case_file_lists_every_problem(app, world):
    client = logged_in(app, "clinician")
    bad = case_dict("UP-2")
    bad["findings"][0]["wbc"] = -1
    bad["findings"].append({"type": "biopsy", "date": "2024-01-02"})
    response = post_form(client, "/patients/import", {},
                         files={"file": ("bad.json", io.BytesIO(json.dumps(bad).encode()), "application/json")})
    assert response.status_code == 422
    assert "must be &gt;= 0" in response.text
    assert "unknown finding type &#39;biopsy&#39;" in response.text


def test_a_duplicate_case_file_links_to_the_existing_patient(app, world):
    client = logged_in(app, "clinician")
    response = post_form(client, "/patients/import", {},
                         files={"file": ("dup.json", io.BytesIO(json.dumps(case_dict("P-A")).encode()), "application/json")})
    assert response.status_code == 409
    assert f'href="/patients/{world.patient_a}"' in response.text


def test_an_upload_without_a_file_asks_for_one(app, world):
    client = logged_in(app, "clinician")
    response = post_form(client, "/patients/import", {})
    assert response.status_code == 422
    assert "Choose a case file" in response.text


# --- patient report --------------------------------------------------------------------------


def test_the_patient_sees_their_report_in_plain_words(app, world):
    client = logged_in(app, "patient_a")
    page = client.get(f"/patients/{world.patient_a}/report").text
    assert "Your ALL report" in page
    assert "Acute lymphoblastic leukaemia (ALL)" in page
    assert "Questions you may want to ask your care team" in page
    assert DISCLAIMER in page
    assert "/patients\"" not in page  # no link to the staff patient list
    assert "DX.DISEASE" not in page  # no rule ids for families


def test_the_report_pdf_says_what_the_page_says(app, world):
    pytest.importorskip("weasyprint")
    pypdf = pytest.importorskip("pypdf")
    client = logged_in(app, "patient_a")
    response = client.get(f"/patients/{world.patient_a}/report.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert 'filename="allcare-report-P-A.pdf"' in response.headers["content-disposition"]
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    assert "Your ALL report" in text
    assert "Acute lymphoblastic leukaemia (ALL)" in text
    assert "not a diagnosis" in text


def test_registrar_is_not_offered_the_report_it_may_not_open(app, world):
    page = logged_in(app, "registrar").get(f"/patients/{world.patient_a}").text
    assert "/report" not in page


def test_patient_page_writes_each_conclusions_box_once_and_the_trail_links_to_boxes_shown_above(app, world):
    page = logged_in(app, "clinician").get(f"/patients/{world.patient_a}").text
    boxes = re.findall(r'<details class="why[^"]*" id="(why-\d+)">\s*<summary>(.*?)</summary>(.*?)</details>', page, re.DOTALL)
    assert boxes
    ids = [anchor for anchor, _, _ in boxes]
    assert len(set(ids)) == len(ids)
    assert len({(summary, body) for _, summary, body in boxes}) == len(boxes)  # no box written twice
    trail = page[page.index('id="trail-title"'):]
    shown = int(re.search(r"<summary>(\d+) conclusions, in reading order</summary>", trail).group(1))
    links = re.findall(r'<p class="why-ref"><a href="#(why-\d+)">(.*?)</a></p>', trail, re.DOTALL)
    assert links, "the diagnosis panel's conclusions are in the trail too"
    assert shown == len(links) + len(re.findall(r'<details class="why', trail))
    summaries = {anchor: summary for anchor, summary, _ in boxes}
    for anchor, summary in links:  # each links to its box, shown earlier on the page, with the same topic, value and rule
        assert summaries[anchor] == summary
        assert page.index(f'id="{anchor}"') < page.index(f'href="#{anchor}"')


@pytest.mark.parametrize(("years", "shown"), [(9.96, "9.9 years"), (9.999, "9.9 years"), (10.0, "10 years"),
                                              (17.99, "17 years"), (1.99, "23 months"), (0.5, "6 months"),
                                              (4.31, "4.3 years")])
def test_an_age_on_the_patient_page_is_counted_down_never_rounded_across_a_birthday(years, shown):
    """The page header read '10.0 years at diagnosis' for 9.96 years beside an NCI standard-risk call (the
    10-year line) and '24 months' for a child of 23: ages are shown counted down, as the engine, the CLI and
    the patient report show them (docs/decisions.md#ages)."""
    from allcare.web.pages.common import age_text

    assert age_text(years) == shown
