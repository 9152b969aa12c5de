"""The registrar's coded table: filters by year, entity and code, CSV export, no clinical detail."""

from __future__ import annotations

import csv
import io

import pytest

from conftest import case_dict
from test_web_pages import logged_in


def app_client(app):
    from fastapi.testclient import TestClient

    return TestClient(app)


def _add(world, identifier: str, diagnosed: str) -> None:
    from allcare.engine.case import case_from_dict
    from allcare.store import Actor
    from allcare.store.cases import import_case

    case = case_dict(identifier)
    case["diagnosis_date"] = diagnosed
    for finding in case["findings"]:
        for key in ("date", "start"):
            if key in finding:
                finding[key] = diagnosed[:4] + finding[key][4:]
    with world.store.transaction() as session:
        import_case(session, Actor.cli("test"), case_from_dict(case))


def test_registrar_filters_the_coded_table_by_year_and_code_and_downloads_it(app, world):
    _add(world, "P-2022", "2022-01-08")
    client = logged_in(app, "registrar")
    page = client.get("/registry").text
    assert "P-A" in page and "P-2022" in page and "Registry table" in page
    assert "blasts" not in page.lower()  # coded data only
    year = client.get("/registry", params={"year": "2022"}).text
    assert "P-2022" in year and ">P-A<" not in year
    exported = client.get("/registry.csv", params={"year": "2022"})
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["identifier"] for row in rows] == ["P-2022"]
    assert rows[0]["diagnosis_date"] == "2022-01-08" and rows[0]["icd_o_3"]
    code = rows[0]["icd_o_3"]
    assert len(list(csv.DictReader(io.StringIO(client.get("/registry.csv", params={"code": code}).text)))) == 3
    assert list(csv.DictReader(io.StringIO(client.get("/registry.csv", params={"code": "0000"}).text))) == []
    entity = rows[0]["who_key"]
    assert len(list(csv.DictReader(io.StringIO(client.get("/registry.csv", params={"entity": entity}).text)))) == 3


def test_a_bad_year_is_a_form_error_and_other_roles_are_refused(app, world):
    client = logged_in(app, "registrar")
    bad = client.get("/registry", params={"year": "20x4"})
    assert bad.status_code == 422 and 'id="year-error"' in bad.text
    assert logged_in(app, "admin").get("/registry").status_code == 403
    assert logged_in(app, "patient_a").get("/registry.csv").status_code in (403, 303)


@pytest.mark.parametrize("year", ["\u00b2", "\u0662\u0660\u0662\u0664", "\uff12\uff10\uff12\uff14", "+2024"])
def test_a_year_in_other_digits_is_a_form_error_not_a_server_error(app, world, year):
    client = logged_in(app, "registrar")
    for path in ("/registry", "/registry.csv"):
        response = client.get(path, params={"year": year})
        assert response.status_code == 422 and 'id="year-error"' in response.text, (path, response.status_code)


def test_the_registry_lists_every_record_and_marks_rows_not_from_a_current_assessment(app, world):
    """A registrar's export must not drop a record whose summary is missing (just restored, first start) nor pass
    off a summary of an older rule set as current: every record is a row, and ``assessment_current`` says which."""
    from sqlalchemy import delete

    from allcare.engine.rules import DEFAULT_RULES
    from allcare.store.models import PatientSummary

    _add(world, "P-2022", "2022-01-08")
    with world.store.transaction() as session:
        session.execute(delete(PatientSummary).where(PatientSummary.patient_id == world.patient_b))
    client = logged_in(app, "registrar")
    rows = {row["identifier"]: row for row in csv.DictReader(io.StringIO(client.get("/registry.csv").text))}
    assert set(rows) == {"P-A", "P-B", "P-2022"}
    assert rows["P-B"]["assessment_current"] == "false" and rows["P-B"]["icd_o_3"] == ""
    assert rows["P-A"]["assessment_current"] == "true" and rows["P-A"]["icd_o_3"]
    page = client.get("/registry").text
    assert "P-B" in page and "1 row is not from a current assessment" in page
    cohort = app_client(app).get("/api/v1/cohort", headers=world.auth("registrar")).json()
    assert (cohort["patients"], cohort["assessed"], cohort["not_current"]) == (3, 2, 1)

    world.store.use_rules(DEFAULT_RULES.model_copy(update={"version": "centre/2027.1"}))
    rows = list(csv.DictReader(io.StringIO(client.get("/registry.csv").text)))
    assert {row["assessment_current"] for row in rows} == {"false"}


# What a spreadsheet runs as a formula: a cell starting with = + - @, or with a tab or a line break
# before one (OWASP, "CSV Injection"), or after spaces (some spreadsheets skip them on import).
SPREADSHEET_FORMULAS = ["=1+1", "+1+1", "-1+1", "@SUM(1)", "\t=1+1", "\r=1+1", "\n=1+1", " =1+1", "\u00a0=1+1"]


def test_no_exported_cell_is_run_as_a_formula_by_a_spreadsheet(app, world):
    from allcare.web.pages.common import csv_response

    # An identifier is stored without surrounding white space and without control characters (the case model),
    # so the ones a record can hold go through the registry, and every formula through the CSV writer itself.
    storable = [text for text in SPREADSHEET_FORMULAS if text == text.strip()]
    for number, identifier in enumerate(storable):
        _add(world, identifier, f"202{number % 5}-0{1 + number // 5}-08")
    rows = list(csv.DictReader(io.StringIO(logged_in(app, "registrar").get("/registry.csv").text)))
    exported = {row["identifier"] for row in rows}
    for identifier in storable:
        assert "'" + identifier in exported, f"{identifier!r} is exported as it is: a spreadsheet would run it"
    assert {"P-A", "P-B"} <= exported  # plain identifiers unchanged
    written = csv_response(("text",), [{"text": text} for text in SPREADSHEET_FORMULAS], "x.csv").body.decode()
    assert [row["text"] for row in csv.DictReader(io.StringIO(written, newline=""))] == [
        "'" + text for text in SPREADSHEET_FORMULAS]


def test_the_code_filter_reads_the_spellings_registry_data_uses(app, world):
    """Registry extracts and coders write codes in several spellings: lower case, ICD-10 without its dot
    (C9100), ICD-O-3 histology and behaviour run together (98113, NAACCR items 522/523) or with an 'M' prefix.
    Each must find the same rows as the canonical spelling, never silently none."""
    client = logged_in(app, "registrar")

    def identifiers(code: str) -> list[str]:
        response = client.get("/registry.csv", params={"code": code})
        assert response.status_code == 200
        return [row["identifier"] for row in csv.DictReader(io.StringIO(response.text))]

    rows = list(csv.DictReader(io.StringIO(client.get("/registry.csv").text)))
    icd_10, icd_o = rows[0]["icd_10_cm"], rows[0]["icd_o_3"]
    assert icd_10 and icd_o
    by_icd_10, by_icd_o = identifiers(icd_10), identifiers(icd_o)
    assert by_icd_10 and by_icd_o
    for spelling in (icd_10.lower(), icd_10.replace(".", ""), f" {icd_10.replace('.', '').lower()} "):
        assert identifiers(spelling) == by_icd_10, spelling
    assert identifiers(icd_10[:5].replace(".", "")) == identifiers(icd_10[:5])  # a category prefix: C910 = C91.0
    for spelling in (icd_o.replace("/", ""), "M" + icd_o, "m-" + icd_o, icd_o.replace("/", "-")):
        assert identifiers(spelling) == by_icd_o, spelling


def test_a_csv_larger_than_the_export_limit_is_refused_not_cut_short(app, world, monkeypatch):
    """The page promises "the CSV has all": a cohort over the CSV's row limit must not be cut silently (a registrar
    would report a wrong count); the export is refused with what to do, and a filtered export still works."""
    from allcare.web.pages import registry

    _add(world, "P-2022", "2022-01-08")
    monkeypatch.setattr(registry, "CSV_LIMIT", 2)
    client = logged_in(app, "registrar")
    refused = client.get("/registry.csv")
    assert refused.status_code == 422
    assert "more than 2 records match" in refused.text and "year of diagnosis" in refused.text
    exported = client.get("/registry.csv", params={"year": "2022"})
    assert [row["identifier"] for row in csv.DictReader(io.StringIO(exported.text))] == ["P-2022"]


def test_the_csv_gives_the_age_at_diagnosis_even_without_a_birth_date(app, world):
    """A record may carry only the age at diagnosis (no birth date, as registries often receive it): the export
    must not lose it. Completed years, as registries report it (NAACCR item 230: 0 below one year)."""
    from allcare.engine.case import case_from_dict
    from allcare.store import Actor
    from allcare.store.cases import import_case

    old, infant = case_dict("P-old"), case_dict("P-infant")
    del old["patient"]["birth_date"]
    old["patient"]["age_years"] = 104.6
    infant["patient"]["birth_date"] = "2023-02-09"  # 10 months 30 days on 2024-01-08
    with world.store.transaction() as session:
        for case in (old, infant):
            import_case(session, Actor.cli("test"), case_from_dict(case))
    rows = {row["identifier"]: row for row in csv.DictReader(io.StringIO(logged_in(app, "registrar").get("/registry.csv").text))}
    assert rows["P-old"]["birth_date"] == "" and rows["P-old"]["age_at_diagnosis"] == "104"
    assert rows["P-infant"]["age_at_diagnosis"] == "0"
    assert rows["P-A"]["age_at_diagnosis"] == "4"  # born 2019-05-14, diagnosed 2024-01-08


def test_every_cohort_breakdown_adds_up_to_the_patients(app, world):
    """A record without a summary yet (a restored store, a first start) must be counted in each breakdown, as
    not assessed, so a registrar's table of counts adds up to the number of patients."""
    from sqlalchemy import delete

    from allcare.store.models import PatientSummary

    with world.store.transaction() as session:
        session.execute(delete(PatientSummary).where(PatientSummary.patient_id == world.patient_b))
    cohort = app_client(app).get("/api/v1/cohort", headers=world.auth("registrar")).json()
    breakdowns = {name: counts for name, counts in cohort.items() if name.startswith("by_")}
    assert breakdowns and all(sum(counts.values()) == cohort["patients"] == 2 for counts in breakdowns.values()), breakdowns
    assert cohort["by_disease"]["not_assessed"] == 1


def test_cohort_counts_are_the_registry_rows_counted(app, world):
    """The cohort counts (grouped in the database) and the registry export (one row per record) tell the same
    cohort: a record without a summary, one whose summary is stale, one with an engine error, one with two
    alerts; each alert counts the patients who have it."""
    from collections import Counter

    from sqlalchemy import delete, update

    from allcare.store.models import PatientSummary

    _add(world, "P-2022", "2022-01-08")
    _add(world, "P-ERR", "2023-12-31")
    with world.store.transaction() as session:
        session.execute(delete(PatientSummary).where(PatientSummary.patient_id == world.patient_b))
        session.execute(update(PatientSummary).where(PatientSummary.patient_id == world.patient_a)
                        .values(revision=0, alert_codes=",cns3,ph_positive,",
                                alerts=[{"code": "cns3", "severity": "critical"}, {"code": "cns3", "severity": "info"},
                                        {"code": "ph_positive", "severity": "warning"}]))
    with world.store.transaction() as session:
        from allcare.store.models import Patient
        err = session.query(Patient).filter_by(identifier="P-ERR").one().id
        session.execute(update(PatientSummary).where(PatientSummary.patient_id == err).values(error="engine failed"))
    rows = list(csv.DictReader(io.StringIO(logged_in(app, "registrar").get("/registry.csv").text)))
    cohort = app_client(app).get("/api/v1/cohort", headers=world.auth("registrar")).json()
    assert cohort["patients"] == len(rows) == 4
    assert cohort["assessed"] == 2 and cohort["not_current"] == sum(row["assessment_current"] == "false" for row in rows) == 2
    assert cohort["by_sex"] == dict(Counter(row["sex"] for row in rows))
    assert cohort["by_icd_o_3"]["not_assessed"] == 2 and sum(cohort["by_icd_o_3"].values()) == 4
    assert cohort["alerts"] == {"cns3": 1, "ph_positive": 1}


def test_the_coded_view_says_whether_its_codes_are_current_and_gives_the_age_at_diagnosis(app, world):
    """The API's coded view served the codes of an older rule set as if current (the registry CSV said
    assessment_current=false for the same record) and had no age at diagnosis (the CSV has it)."""
    from allcare.engine.rules import DEFAULT_RULES

    client = app_client(app)
    coded = client.get(f"/api/v1/patients/{world.patient_a}/coded", headers=world.auth("registrar")).json()
    assert coded["assessment_current"] is True and coded["age_at_diagnosis"] == 4  # born 2019-05-14, diagnosed 2024-01-08
    world.store.use_rules(DEFAULT_RULES.model_copy(update={"version": "centre/2027.1"}))
    coded = client.get(f"/api/v1/patients/{world.patient_a}/coded", headers=world.auth("registrar")).json()
    assert coded["assessment_current"] is False
    page = logged_in(app, "registrar").get(f"/patients/{world.patient_a}")
    assert page.status_code == 200 and "not from a current assessment" in page.text


def test_the_csv_says_the_date_its_status_code_is_of(app, world):
    """ICD-10-CM's fifth character is the disease status (C91.00 not in remission, .01 in remission, .02 in
    relapse) on the assessment date: the CSV gave the code without that date."""
    rows = list(csv.DictReader(io.StringIO(logged_in(app, "registrar").get("/registry.csv").text)))
    coded = app_client(app).get(f"/api/v1/patients/{world.patient_a}/coded", headers=world.auth("registrar")).json()
    row = next(row for row in rows if row["identifier"] == "P-A")
    assert row["as_of"] == coded["as_of"] and row["icd_10_cm"] == coded["codes"]["icd_10_cm"]


def _import_example(world, name: str) -> None:
    from pathlib import Path

    from allcare.interop.casefile import load_case
    from allcare.store import Actor
    from allcare.store.cases import import_case

    with world.store.transaction() as session:
        import_case(session, Actor.cli("test"), load_case(Path(__file__).parent.parent / "examples" / name))


def test_the_registrar_sees_and_filters_by_the_icd_o_3_primary_site(app, world):
    """The engine codes the ICD-O-3 topography (C42.1 bone marrow for an ALL, the lymph node region for a
    lymphoblastic lymphoma), but the registry table, its CSV, the coded view, the code filter and the cohort
    counts left it out: a registrar, who reports the primary site beside the morphology, had to open each
    record's assessment to find it."""
    _import_example(world, "t_lymphoblastic_lymphoma.yaml")  # a mediastinal mass: C77.1
    client, api = logged_in(app, "registrar"), app_client(app)

    def identifiers(code: str) -> list[str]:
        response = client.get("/registry.csv", params={"code": code})
        assert response.status_code == 200
        return [row["identifier"] for row in csv.DictReader(io.StringIO(response.text))]

    rows = {row["identifier"]: row for row in csv.DictReader(io.StringIO(client.get("/registry.csv").text))}
    lymphoma = next(identifier for identifier in rows if identifier not in ("P-A", "P-B"))
    assert rows["P-A"]["icd_o_3_topography"] == rows["P-B"]["icd_o_3_topography"] == "C42.1"
    assert rows[lymphoma]["icd_o_3_topography"] == "C77.1"
    header = client.get("/registry.csv").text.splitlines()[0].split(",")
    assert header.index("icd_o_3_topography") == header.index("icd_o_3") + 1  # the site beside the morphology
    for spelling in ("C42.1", "c421", " C42 ", "c42.1"):
        assert identifiers(spelling) == ["P-A", "P-B"], spelling
    assert identifiers("c771") == identifiers("C77") == [lymphoma]
    page = client.get("/registry").text
    assert "ICD-O-3 site" in page and "<code>C77.1</code>" in page and "<code>C42.1</code>" in page
    assert "Intrathoracic lymph nodes" in page and "Bone marrow" in page  # the site's term, as the engine names it

    coded = api.get(f"/api/v1/patients/{world.patient_a}/coded", headers=world.auth("registrar")).json()
    assert coded["codes"]["icd_o_3_topography"] == "C42.1" and coded["assessment_current"] is True
    assert "C42.1 Bone marrow" in client.get(f"/patients/{world.patient_a}").text  # the registrar's coded page
    listed = api.get("/api/v1/patients", headers=world.auth("clinician")).json()["items"]
    assert {item["summary"]["icd_o_3_topography"] for item in listed} == {"C42.1", "C77.1"}
    cohort = api.get("/api/v1/cohort", headers=world.auth("registrar")).json()
    assert cohort["by_icd_o_3_topography"] == {"C42.1": 2, "C77.1": 1}
