"""What a care team and a patient do in the browser, end to end.

Needs Debian's chromium at /usr/bin/chromium (skipped with the reason otherwise).
The PDF's text is checked with pypdf.
"""

from __future__ import annotations

import io
import re

import pytest

from .conftest import log_in


def wait_for_charts(page, *chart_ids: str) -> None:
    for chart_id in chart_ids:
        page.wait_for_selector(f"#{chart_id}[data-drawn='true']")


def trace_length(page, chart_id: str, name: str) -> int:
    return page.evaluate(
        "([id, name]) => document.getElementById(id).data.find(t => t.name === name).x.length", [chart_id, name])


def test_login_page(page, live_app, screenshots):
    page.goto(live_app.at("/patients"))
    page.wait_for_url(re.compile(r"/login\?next="))
    assert page.get_by_role("heading", name="Log in to allcare").is_visible()
    assert "not a diagnosis" in page.get_by_role("note").first.inner_text()
    page.screenshot(path=str(screenshots / "01-login.png"), full_page=True)
    page.get_by_label("Username").fill("doc")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong username or password."


def test_clinician_finds_a_patient_adds_a_blood_count_and_sees_chart_and_status_change(page, live_app, screenshots):
    log_in(page, live_app, "doc")
    page.wait_for_url(live_app.at("/patients"))
    assert page.get_by_role("heading", name="Patients").is_visible()
    page.screenshot(path=str(screenshots / "02-patient-list.png"), full_page=True)

    page.get_by_role("searchbox", name="Search").fill("awaiting")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"q=awaiting"))
    assert page.get_by_role("status").first.inner_text().startswith("1 patient")
    page.get_by_role("link", name="Robin Awaiting-Count").click()

    page.wait_for_url(live_app.at(f"/patients/{live_app.patients['awaiting_count']}"))
    wait_for_charts(page, "chart-status", "chart-counts", "chart-mrd")
    assert page.locator("#current-status").inner_text() == "Indeterminate"
    counts_before = trace_length(page, "chart-counts", "WBC")
    page.screenshot(path=str(screenshots / "03-patient-before-count.png"), full_page=True)

    page.get_by_role("link", name="Blood count", exact=True).click()
    page.get_by_label("Date").fill("2024-10-31")
    page.get_by_label("WBC", exact=True).fill("4.2")
    page.get_by_label("ANC", exact=True).fill("1.6")
    page.get_by_label("Haemoglobin", exact=True).fill("10.1")
    page.get_by_label("Platelets", exact=True).fill("140")
    page.screenshot(path=str(screenshots / "04-form-blood-count.png"), full_page=True)
    page.get_by_role("button", name="Save blood count").click()

    page.wait_for_url(re.compile(r"\?added=cbc"))
    assert "Blood count added" in page.get_by_role("status").first.inner_text()
    wait_for_charts(page, "chart-status", "chart-counts")
    assert page.locator("#current-status").inner_text() == "Complete remission"
    assert trace_length(page, "chart-counts", "WBC") == counts_before + 1
    status_points = page.evaluate(
        "() => document.getElementById('chart-status').data.find(t => t.name === 'Disease status').y")
    assert status_points[-1] == "Complete remission"
    page.screenshot(path=str(screenshots / "05-patient-after-count.png"), full_page=True)
    assert not [p for p in page.console_problems if "Content Security Policy" in p], page.console_problems


def test_a_rejected_blood_count_shows_the_reason_next_to_the_field(page, live_app, screenshots):
    log_in(page, live_app, "doc")
    page.goto(live_app.at(f"/patients/{live_app.patients['relapse']}/findings/new/cbc"))
    page.get_by_label("Date").fill("2021-12-21")
    page.get_by_label("WBC", exact=True).fill("12400")
    page.get_by_role("button", name="Save blood count").click()
    summary = page.get_by_role("alert")
    assert "The finding was not saved" in summary.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    error = page.locator("#wbc-error")
    assert "choose it in the unit list" in error.inner_text()
    assert page.get_by_label("WBC", exact=True).get_attribute("aria-invalid") == "true"
    page.screenshot(path=str(screenshots / "06-form-error.png"), full_page=True)
    page.get_by_label("WBC unit").select_option("/uL")
    page.get_by_role("button", name="Save blood count").click()
    page.wait_for_url(re.compile(r"\?added=cbc"))


def test_the_explanation_of_a_conclusion_opens_with_the_keyboard(page, live_app, screenshots):
    log_in(page, live_app, "doc")
    page.goto(live_app.at(f"/patients/{live_app.patients['standard_risk']}"))
    row = page.locator("#dx-disease")
    assert row.locator(".dx__value").inner_text() == "Acute lymphoblastic leukaemia (ALL)"
    rule = row.get_by_text("DX.DISEASE.MARROW_BLASTS", exact=True).last
    assert not rule.is_visible()
    row.get_by_text("How this was decided").focus()
    page.keyboard.press("Enter")
    conclusion = row.locator("details.why").first
    conclusion.locator("summary").focus()
    page.keyboard.press("Enter")
    assert rule.is_visible()
    body = conclusion.locator(".why__body").inner_text()
    assert "WHO 2016" in body and "marrow blasts 88%" in body
    row.screenshot(path=str(screenshots / "07-explanation.png"))


def test_alerts_come_first_and_open_to_their_rule(page, live_app, screenshots):
    log_in(page, live_app, "doc")
    page.goto(live_app.at(f"/patients/{live_app.patients['relapse']}"))
    wait_for_charts(page, "chart-status", "chart-counts", "chart-mrd")
    alerts = page.locator(".alert")
    assert alerts.count() >= 1
    first = alerts.first
    assert "critical" in first.get_attribute("class")
    first.get_by_text("Why this alert").click()
    assert first.locator("code").first.is_visible()
    page.screenshot(path=str(screenshots / "08-patient-relapse-alerts.png"), full_page=True)


def test_the_karyotype_field_shows_the_reading_as_you_type(page, live_app, screenshots):
    log_in(page, live_app, "doc")
    page.goto(live_app.at(f"/patients/{live_app.patients['ph_positive']}/findings/new/cytogenetics"))
    page.get_by_label("Karyotype (ISCN)").press_sequentially("46,XY,t(9;22)(q34;q11.2)[20]", delay=5)
    reading = page.locator("#f-karyotype-parse")
    reading.get_by_text("recurrent: BCR::ABL1").wait_for()
    assert "modal number 46" in reading.inner_text()
    page.screenshot(path=str(screenshots / "09-form-karyotype.png"), full_page=True)
    page.get_by_label("Karyotype (ISCN)").fill("46,XY,foo(3)[20]")
    reading.locator(".problem").first.wait_for()


def test_the_report_pdf_downloads_and_holds_the_report(page, live_app, screenshots, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    log_in(page, live_app, "doc")
    page.goto(live_app.at(f"/patients/{live_app.patients['standard_risk']}/report"))
    assert page.get_by_role("heading", name="Your ALL report").is_visible()
    page.screenshot(path=str(screenshots / "10-report.png"), full_page=True)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as PDF").click()
    download = download_info.value
    assert download.suggested_filename == "allcare-report-EX-001.pdf"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    reader = pypdf.PdfReader(io.BytesIO(target.read_bytes()))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "Your ALL report" in text and "Ada Standard" in text
    assert "In remission" in text and "Maintenance" in text
    assert "Questions you may want to ask your care team" in text
    assert "decision support, not a diagnosis" in text


def test_a_patient_login_sees_only_its_own_report(page, live_app, screenshots):
    own, other = live_app.patients["standard_risk"], live_app.patients["ph_positive"]
    log_in(page, live_app, "ada")
    page.wait_for_url(live_app.at(f"/patients/{own}/report"))
    assert page.get_by_role("heading", name="Your ALL report").is_visible()
    assert page.get_by_role("link", name="Patients").count() == 0
    page.screenshot(path=str(screenshots / "11-patient-own-report.png"), full_page=True)

    response = page.goto(live_app.at(f"/patients/{other}/report"))
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    assert "Sam Philadelphia" not in page.content()
    page.screenshot(path=str(screenshots / "12-patient-other-record-refused.png"), full_page=True)

    assert page.goto(live_app.at(f"/patients/{other}")).status == 404
    assert page.context.request.get(live_app.at(f"/patients/{other}/report.pdf")).status == 404
    assert page.context.request.get(live_app.at(f"/api/v1/patients/{other}/assessment")).status == 404
    page.goto(live_app.at("/patients"))
    assert page.url == live_app.at(f"/patients/{own}/report")


def test_the_patient_page_fits_a_tablet(page, live_app, screenshots):
    page.set_viewport_size({"width": 820, "height": 1180})
    log_in(page, live_app, "doc")
    page.goto(live_app.at(f"/patients/{live_app.patients['ph_positive']}"))
    wait_for_charts(page, "chart-status", "chart-counts", "chart-mrd")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(screenshots / "13-patient-tablet.png"), full_page=True)
    page.goto(live_app.at("/patients"))
    page.screenshot(path=str(screenshots / "14-patient-list-tablet.png"), full_page=True)


def test_a_case_file_upload_opens_the_new_patient(page, live_app, screenshots, tmp_path):
    from .conftest import EXAMPLES

    log_in(page, live_app, "doc")
    page.goto(live_app.at("/patients/import"))
    page.get_by_label("Case file").set_input_files(str(EXAMPLES / "iamp21.yaml"))
    page.get_by_label("Display name").fill("Uploaded iAMP21")
    page.screenshot(path=str(screenshots / "15-upload.png"), full_page=True)
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(re.compile(r"/patients/\d+\?imported=1"))
    assert page.get_by_role("heading", name="Uploaded iAMP21").is_visible()


def test_the_api_docs_run_from_this_server_under_the_strict_policy(page, live_app):
    """Swagger UI loads from the app itself (no CDN) and runs with no inline script allowed."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_app.at("/api/docs"))
    page.get_by_text("/api/v1/patients/{patient_id}/assessment", exact=True).first.wait_for(timeout=30000)
    assert all(url.startswith((live_app.url, "data:")) for url in requested), requested
    assert not [p for p in page.console_problems if "Content Security Policy" in p], page.console_problems


def test_the_page_writes_hover_texts_and_typed_text_stays_text(page, live_app, tmp_path):
    """The server sends the charts' columns; app.js writes each point's hover text from them. A time point
    typed by a person reaches plotly escaped, so it shows as text and cannot become a link or an image."""
    import json

    injected = '<a href="https://evil.example">click</a><img src=x>'
    case = {"schema": "allcare.case/1", "patient": {"id": "BT-HOVER", "birth_date": "2019-05-14", "sex": "male"},
            "findings": [
                {"type": "marrow", "date": "2024-01-08", "blasts_pct": 90, "timepoint": "diagnosis"},
                {"type": "cbc", "date": "2024-01-08", "wbc": 12.0, "anc": 0.4, "platelets": 40, "hemoglobin": 8.0},
                {"type": "treatment", "phase": "induction", "start": "2024-01-10"},
                {"type": "mrd", "date": "2024-02-05", "value": 0.001, "method": "flow", "sample": "marrow",
                 "sensitivity": 1e-5, "timepoint": injected}]}
    file = tmp_path / "hover.json"
    file.write_text(json.dumps(case))
    log_in(page, live_app, "doc")
    page.goto(live_app.at("/patients/import"))
    page.get_by_label("Case file").set_input_files(str(file))
    page.get_by_label("Display name").fill("Hover Text")
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(re.compile(r"/patients/\d+\?imported=1"))
    wait_for_charts(page, "chart-counts", "chart-mrd")

    def texts(chart_id: str, name: str) -> list[str]:
        return page.evaluate("([id, name]) => document.getElementById(id).data.find(t => t.name === name).text",
                             [chart_id, name])

    anc = texts("chart-counts", "ANC")
    assert anc[0].startswith("<b>ANC 0.4 10^9/L</b> (2024-01-08)<br>reference ") and "grade 4" in anc[0], anc
    mrd = texts("chart-mrd", "MRD detected")[0]
    assert mrd.startswith("<b>MRD 0.1%</b> (2024-02-05)<br>positive · flow · marrow · "), mrd
    assert "&lt;a href=" in mrd and "<a href" not in mrd and "<img" not in mrd
    assert "sensitivity 0.001%" in mrd
    assert page.locator("#chart-mrd a[href*='evil.example'], #chart-mrd img").count() == 0
    assert not page.console_problems, page.console_problems
