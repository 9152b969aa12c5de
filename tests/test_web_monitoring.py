"""Treatment monitoring on the web: the maintenance and toxicity charts (plotly accepts them, their lines come
from the engine), the panels on the patient page and the care-at-home words of the patient report."""

from __future__ import annotations

import io
import json

import pytest
import yaml

from allcare.engine import assess
from allcare.interop.casefile import load_case
from allcare.web.charts import status_chart
from allcare.web.monitoring_charts import chemistry_chart, maintenance_chart
from allcare.web.report.content import build_report
from fhir_helpers import EXAMPLES
from test_web_pages import chart_specs, logged_in, post_form

go = pytest.importorskip("plotly.graph_objects")


def example(name: str):
    return assess(load_case(EXAMPLES / f"{name}.yaml"))


def valid(chart) -> None:
    go.Figure(chart.figure["data"], chart.figure["layout"])


def test_maintenance_chart_draws_the_target_band_the_lines_and_the_doses():
    a = example("maintenance_icicle_hold_after_neutropenia")
    chart = maintenance_chart(a)
    valid(chart)
    layout = chart.figure["layout"]
    band = layout["shapes"][0]
    assert (band["y0"], band["y1"]) == (a.maintenance.target_low, a.maintenance.target_high)
    dashed = {s["y0"] for s in layout["shapes"] if s.get("line", {}).get("dash") == "dash"}
    assert dashed == {0.5, 0.75}  # ICiCLe-ALL-14 hold and reduce lines
    bars = [t for t in chart.figure["data"] if t["type"] == "bar"]
    assert {b["name"].split(" ")[0] for b in bars} == {"mercaptopurine", "methotrexate"}
    anc = next(t for t in chart.figure["data"] if t.get("name") == "ANC")
    assert anc["y"] == [1.3, 1.1, 0.45]
    assert "in target 80%" in chart.description and "hold" in chart.description
    assert [row[4] for row in chart.table.rows] == ["in target", "in target", "hold line"]


def test_chemistry_chart_draws_multiples_of_the_upper_limit_with_ctcae_zones():
    a = example("hepatotoxicity_in_maintenance")
    chart = chemistry_chart(a)
    valid(chart)
    alt = next(t for t in chart.figure["data"] if t.get("name") == "ALT")
    assert alt["y"] == [22 / 40, 520 / 40]
    assert any(row[1] == "ALT" and row[4] == "3" for row in chart.table.rows)


def test_adverse_events_and_toxicity_are_markers_on_the_status_timeline():
    chart = status_chart(example("tumour_lysis_t_all_hyperleukocytosis"))
    valid(chart)
    events = next(t for t in chart.figure["data"] if t.get("name") == "Adverse events")
    assert any("Seizure" in text for text in events["text"]) and any("tumour lysis" in text for text in events["text"])


def test_nothing_to_draw_gives_no_monitoring_chart():
    a = example("childhood_b_all_standard_risk")
    assert chemistry_chart(a) is None


def test_the_patient_page_shows_the_maintenance_panel_and_the_suggestion(app, world):
    client = logged_in(app, "clinician")
    text = yaml.safe_dump(json.loads(json.dumps(load_case(EXAMPLES / "maintenance_icicle_hold_after_neutropenia.yaml").to_json_dict())))
    response = post_form(client, "/patients/import", {"display_name": "Maintenance child"},
                         files={"file": ("m.yaml", io.BytesIO(text.encode()), "application/yaml")})
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"]).text
    assert 'id="maintenance"' in page and "ICiCLe-ALL-14" in page
    assert "decision support" in page and "stops mercaptopurine and methotrexate" in page
    assert "Maintenance dose" in page  # the alert, by its label
    specs = chart_specs(page)
    assert "chart-maintenance" in specs
    report = client.get(response.headers["location"].split("?")[0] + "/report").text
    assert "call the team now" in report and "50 mg every day, as prescribed" in report


def test_report_care_words_are_only_for_a_running_treatment():
    assert build_report(example("febrile_neutropenia_in_maintenance")).care is not None
    finished = build_report(example("isolated_testicular_relapse"))
    assert finished.care is None or finished.care.fever_steps


def test_report_explains_a_thiopurine_gene_result_in_plain_words():
    care = build_report(example("tpmt_poor_metaboliser_maintenance")).care
    assert "much more slowly than usual" in care.gene_text
    assert "CPIC" not in care.gene_text
