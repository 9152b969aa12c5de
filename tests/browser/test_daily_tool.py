"""The daily tool in the browser (issue 12): a clinician starts and corrects a record, an
administrator adds a user and finds it in the audit log, a registrar filters and downloads the
coded table; and every page, at 390 px (a phone) and 1366 px, is screenshotted and checked by
axe-core (vendored in tests/fixtures/axe, injected into the page) with zero violations.

Few browser launches: the module's one chromium, one context per role.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from .conftest import log_in

AXE = Path(__file__).resolve().parents[1] / "fixtures" / "axe" / "axe.min.js"
WIDTHS = (390, 1366)
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.slice(0, 4).map(n => n.target.join(" "))}));
}"""


def axe_violations(page) -> list[dict]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # through the debugger: the page's CSP is untouched
    return page.evaluate(AXE_RUN)


def check_page(page, live_app, path: str, name: str, screenshots, *, charts: bool = False) -> None:
    """Open ``path`` at each width: no sideways scroll of the page, a screenshot, no axe violation."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
        page.goto(live_app.at(path))
        if charts:
            page.wait_for_function("() => [...document.querySelectorAll('[data-chart]')]"
                                   ".every(c => c.getAttribute('data-drawn') === 'true')")
        page.screenshot(path=str(screenshots / f"daily-{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} at {width}px scrolls sideways by {overflow}px"
        violations = axe_violations(page)
        assert violations == [], f"{path} at {width}px: {violations}"


@pytest.fixture
def as_role(browser, live_app):
    """A logged-in page per role (one browser context each, closed after the test)."""
    opened = []

    def open_as(username: str):
        context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True, locale="en-GB")
        opened.append(context)
        page = context.new_page()
        page.set_default_timeout(20000)
        log_in(page, live_app, username)
        return page

    yield open_as
    for context in opened:
        context.close()


def alert_names(page) -> list[str]:
    return [text.strip() for text in page.locator(".alert-list .alert__head strong").all_inner_texts()]


def test_clinician_new_patient_then_finding_added_corrected_deleted_changes_the_assessment(as_role, live_app,
                                                                                         screenshots):
    page = as_role("doc")
    page.get_by_role("link", name="New patient").first.click()
    page.get_by_label("Identifier").fill("BT-NEW")
    page.get_by_label("Name").fill("Nia New")
    page.get_by_label("Birth date").fill("2016-04-02")
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("Diagnosis date").fill("2024-03-01")
    page.get_by_role("button", name="Save patient").click()
    page.wait_for_url(re.compile(r"/patients/\d+\?created=1"))
    assert page.get_by_role("heading", name="Nia New").is_visible()
    patient_path = re.search(r"(/patients/\d+)", page.url).group(1)

    page.get_by_role("link", name="Blood count", exact=True).click()
    page.get_by_label("Date").fill("2024-03-01")
    page.get_by_label("WBC", exact=True).fill("250")
    page.get_by_role("button", name="Save blood count").click()
    page.wait_for_url(re.compile(r"\?added=cbc"))
    assert "Hyperleukocytosis" in " ".join(alert_names(page))

    page.get_by_role("link", name=re.compile("^Correct blood count")).click()
    assert page.get_by_label("WBC", exact=True).input_value() == "250"
    page.get_by_label("WBC", exact=True).fill("20")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(re.compile(r"\?changed=cbc"))
    assert "Hyperleukocytosis" not in " ".join(alert_names(page))
    assert "WBC: 20" in page.locator("#findings").inner_text()

    page.get_by_role("link", name=re.compile("^Delete blood count")).click()
    page.get_by_role("button", name="Delete blood count").click()
    assert page.get_by_role("alert").first.is_visible()  # the reason is required
    page.get_by_label("Reason").fill("entered for the wrong patient")
    page.get_by_role("button", name="Delete blood count").click()
    page.wait_for_url(re.compile(r"\?deleted=cbc"))
    assert "No findings yet." in page.locator("#findings").inner_text()
    check_page(page, live_app, patient_path, "new-patient-page", screenshots)


def test_admin_adds_a_user_and_finds_the_audit_entries(as_role, live_app, screenshots):
    page = as_role("boss")
    page.get_by_label("Username").fill("nurse.kay")
    page.locator("#f-password").fill("a-long-enough-password")
    page.locator("#f-role").select_option("clinician")
    page.get_by_role("button", name="Add user").click()
    assert page.get_by_role("status").first.inner_text() == "User nurse.kay added."
    page.get_by_role("link", name="Audit log").first.click()
    page.get_by_label("Action").fill("user.create")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"action=user.create"))
    assert "user.create" in page.locator(".audit-table").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert rows and {row["action"] for row in rows} == {"user.create"}
    check_page(page, live_app, "/admin", "admin-users", screenshots)
    check_page(page, live_app, "/admin/audit?action=user.", "admin-audit", screenshots)


def test_registrar_filters_the_coded_table_and_downloads_the_csv(as_role, live_app, screenshots):
    page = as_role("reg")
    page.wait_for_url(live_app.at("/registry"))
    code = page.locator(".registry-table tbody tr td code").first.inner_text()  # an ICD-O-3 code in the table
    page.get_by_label("Code starts with").fill(code)
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"code="))
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert rows and all(code in (row["icd_o_3"], row["icd_10_cm"], row["snomed_ct"]) for row in rows)
    shown = page.locator(".registry-table tbody tr").count()
    assert shown == len(rows)
    check_page(page, live_app, "/registry", "registry", screenshots)


def test_every_clinician_page_fits_a_phone_and_passes_axe(as_role, live_app, screenshots):
    page = as_role("doc")
    relapse = live_app.patients["relapse"]
    check_page(page, live_app, "/patients", "patient-list", screenshots)
    check_page(page, live_app, f"/patients/{relapse}", "patient-page", screenshots, charts=True)
    check_page(page, live_app, f"/patients/{relapse}/findings/new/cytogenetics", "finding-form", screenshots)
    check_page(page, live_app, "/patients/new", "new-patient-form", screenshots)
    check_page(page, live_app, "/patients/import", "import", screenshots)
    check_page(page, live_app, f"/patients/{relapse}/report", "report", screenshots)
    page.goto(live_app.at(f"/patients/{relapse}"))
    edit = page.locator("a[href$='/edit']").first.get_attribute("href")
    check_page(page, live_app, edit, "finding-edit", screenshots)
    check_page(page, live_app, edit.replace("/edit", "/delete"), "finding-delete", screenshots)


def test_login_and_patient_report_pass_axe(as_role, browser, live_app, screenshots):
    context = browser.new_context(locale="en-GB")
    try:
        check_page(context.new_page(), live_app, "/login", "login", screenshots)
    finally:
        context.close()
    page = as_role("ada")
    check_page(page, live_app, f"/patients/{live_app.patients['standard_risk']}/report", "own-report", screenshots)
