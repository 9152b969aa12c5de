"""Chart specifications built from assessments: what is drawn, and that plotly accepts every figure."""

from __future__ import annotations

import json
import math

import pytest

from allcare.engine import DEFAULT_RULES, assess, case_from_dict
from allcare.engine.counts.ctcae import DECREASE_TERMS, LEUKOCYTOSIS_GRADE3_ABOVE
from allcare.web.charts import counts_chart, mrd_chart, patient_charts, percent_text, status_chart

go = pytest.importorskip("plotly.graph_objects")

DIAGNOSIS = [
    {"type": "marrow", "date": "2024-01-08", "blasts_pct": 90, "timepoint": "diagnosis"},
    {"type": "immunophenotype", "date": "2024-01-08", "sample": "marrow",
     "markers": {"CD19": "positive", "CD10": "positive", "cCD79a": "positive", "TdT": "positive", "cCD3": "negative",
                 "MPO": "negative"}},
]


def assessed(*findings: dict, birth: str = "2019-05-14", **case):
    return assess(case_from_dict({"schema": "allcare.case/1", "patient": {"id": "C-1", "birth_date": birth, "sex": "male"},
                                  "findings": [*DIAGNOSIS, *findings], **case}))


def cbc(date: str, **values) -> dict:
    return {"type": "cbc", "date": date, **values}


def valid(chart) -> None:
    go.Figure(chart.figure["data"], chart.figure["layout"])  # raises on any property plotly does not know


def test_nothing_to_draw_gives_no_chart():
    charts = patient_charts(assessed())
    assert charts["counts"] is None and charts["mrd"] is None


def test_status_timeline_draws_each_treatment_phase_as_a_band():
    a = assessed(
        cbc("2024-01-08", wbc=12.0, anc=0.8, platelets=40, hemoglobin=8.0),
        {"type": "treatment", "phase": "induction", "start": "2024-01-09", "end": "2024-02-05"},
        {"type": "treatment", "phase": "consolidation", "start": "2024-02-06"},
        {"type": "marrow", "date": "2024-02-05", "blasts_pct": 1, "timepoint": "end_of_induction"},
        cbc("2024-02-05", anc=1.5, platelets=150, blasts_pct=0),
    )
    chart = status_chart(a)
    valid(chart)
    bands = [t for t in chart.figure["data"] if t.get("fill") == "toself"]
    assert [b["name"] for b in bands] == ["Induction", "Consolidation"]
    assert bands[0]["x"][0] == "2024-01-09" and bands[0]["x"][2] == "2024-02-05"
    assert bands[1]["x"][2] == a.as_of.isoformat()  # a running phase reaches the assessment date
    line = next(t for t in chart.figure["data"] if t.get("name") == "Disease status")
    assert line["y"][-1] == "Complete remission"
    assert "Complete remission" in chart.description
    assert chart.table.rows[-1][1] == "Complete remission"


@pytest.mark.parametrize("analyte", ["wbc", "anc", "hemoglobin", "platelets"])
def test_blood_count_panels_shade_the_ctcae_grade_lines_of_each_count(analyte):
    a = assessed(cbc("2024-01-08", wbc=2.5, anc=0.4, hemoglobin=7.5, platelets=20),
                 cbc("2024-01-20", wbc=4.0, anc=1.6, hemoglobin=11.0, platelets=180))
    chart = counts_chart(a)
    valid(chart)
    layout = chart.figure["layout"]
    axis_id = {"wbc": "y", "anc": "y2", "hemoglobin": "y3", "platelets": "y4"}[analyte]
    bands = sorted((s["y0"], s["y1"]) for s in layout["shapes"] if s["yref"] == axis_id)
    lines = DECREASE_TERMS[analyte].below
    expected = sorted(zip([0.0] + [lines[g] for g in sorted(lines, reverse=True)][:-1],
                          [lines[g] for g in sorted(lines, reverse=True)], strict=True))
    assert bands == expected


def test_blood_counts_show_the_reference_range_of_each_result():
    a = assessed(cbc("2024-01-08", platelets={"value": 42, "unit": "K/uL", "lower_limit": 150, "upper_limit": 450}),
                 cbc("2024-01-20", platelets={"value": 210, "unit": "K/uL", "lower_limit": 140, "upper_limit": 400}))
    chart = counts_chart(a)
    valid(chart)
    upper = next(t for t in chart.figure["data"] if t.get("name") == "Reference range")
    lower = next(t for t in chart.figure["data"] if t.get("name") == "lower limit")
    # Each range holds until the next result, and the band spans the whole time axis.
    assert lower["y"] == [150, 150, 140, 140] and upper["y"] == [450, 450, 400, 400]
    assert upper["x"][0] == chart.figure["layout"]["xaxis"]["range"][0]
    assert upper["x"][-1] == chart.figure["layout"]["xaxis"]["range"][1]
    assert upper["fill"] == "tonexty"
    values = next(t for t in chart.figure["data"] if t.get("name") == "Platelets")
    assert values["y"] == [42, 210]


@pytest.mark.parametrize(("wbc", "band"), [(100.0, False), (100.1, True), (350.0, True)])
def test_hyperleukocytosis_zone_appears_only_above_the_grade_3_line(wbc, band):
    chart = counts_chart(assessed(cbc("2024-01-08", wbc=wbc), cbc("2024-01-20", wbc=3.0)))
    valid(chart)
    shaded = [s for s in chart.figure["layout"]["shapes"] if s["yref"] == "y" and s["y0"] == LEUKOCYTOSIS_GRADE3_ABOVE]
    assert bool(shaded) is band


def test_a_very_high_wbc_is_drawn_on_a_log_axis():
    chart = counts_chart(assessed(cbc("2024-01-08", wbc=350.0), cbc("2024-01-20", wbc=0.8)))
    assert chart.figure["layout"]["yaxis"]["type"] == "log"
    low, high = chart.figure["layout"]["yaxis"]["range"]
    assert 10 ** low < 0.8 and 10 ** high > 350


def test_only_recorded_counts_get_a_panel():
    chart = counts_chart(assessed(cbc("2024-01-08", anc=0.3)))
    valid(chart)
    assert "yaxis2" not in chart.figure["layout"]
    assert chart.figure["layout"]["yaxis"]["title"]["text"].startswith("ANC")


def test_mrd_is_drawn_on_a_log_scale_with_the_negative_line():
    a = assessed(
        {"type": "treatment", "phase": "induction", "start": "2024-01-09"},
        {"type": "mrd", "date": "2024-01-16", "value": 0.0006, "method": "flow", "sensitivity": 1e-4, "sample": "blood"},
        {"type": "mrd", "date": "2024-02-05", "value": 0.0, "method": "flow", "sensitivity": 1e-4, "sample": "marrow"},
    )
    chart = mrd_chart(a)
    valid(chart)
    layout = chart.figure["layout"]
    assert layout["yaxis"]["type"] == "log"
    line = next(t for t in chart.figure["data"] if t["name"].startswith("MRD-negative line"))
    assert line["y"] == [DEFAULT_RULES.mrd_negative_below * 100] * 2 == [0.01, 0.01]
    detected = next(t for t in chart.figure["data"] if t["name"] == "MRD detected")
    assert detected["y"] == [pytest.approx(0.06)]
    undetectable = next(t for t in chart.figure["data"] if t["name"].startswith("Undetectable"))
    assert undetectable["y"] == [pytest.approx(0.01)]  # drawn at the assay's sensitivity
    low, high = layout["yaxis"]["range"]
    assert low < math.log10(0.01) < math.log10(0.06) < high
    assert [row[2] for row in chart.table.rows] == ["positive", "negative"]


def test_an_undetectable_mrd_without_sensitivity_is_listed_not_drawn():
    chart = mrd_chart(assessed({"type": "mrd", "date": "2024-02-05", "value": 0.0}))
    valid(chart)
    assert not any(t["name"].startswith(("MRD detected", "Undetectable")) for t in chart.figure["data"])
    assert chart.table.rows[0][1] == "0%"


@pytest.mark.parametrize(("fraction", "text"), [(None, "-"), (0.0, "0%"), (1e-4, "0.01%"), (0.0006, "0.06%"),
                                                (0.35, "35%"), (1e-6, "0.0001%")])
def test_percent_text(fraction, text):
    assert percent_text(fraction) == text


def test_every_chart_carries_a_text_alternative_and_its_numbers():
    a = assessed(cbc("2024-01-08", wbc=3.0), {"type": "mrd", "date": "2024-02-05", "value": 0.001},
                 {"type": "treatment", "phase": "induction", "start": "2024-01-09"})
    for chart in patient_charts(a).values():
        assert chart is not None
        valid(chart)
        assert chart.description and chart.table.headers and chart.table.rows
        assert chart.figure["config"]["displayModeBar"] is False


def test_text_typed_by_a_person_cannot_inject_plotly_markup():
    """Protocol names are escaped on the server; an MRD time point travels as data (the figure's hover
    columns) and only the browser writes it into a label, escaped (tests/browser checks that text)."""
    injected = '<a href="https://evil.example">click</a><img src=x>'
    assessment = assessed(
        {"type": "treatment", "phase": "induction", "start": "2024-01-10", "protocol": injected},
        {"type": "mrd", "date": "2024-02-05", "value": 0.001, "method": "flow", "timepoint": injected},
    )
    texts = []
    for trace in status_chart(assessment).figure["data"]:
        text = trace.get("text")
        texts += text if isinstance(text, list) else [text or ""]
    joined = " ".join(texts)
    assert "&lt;a href=" in joined and "<a href" not in joined and "<img" not in joined
    mrd = mrd_chart(assessment).figure
    assert "<a href" not in json.dumps(mrd["data"]) + json.dumps(mrd["layout"])  # nothing plotly draws holds it
    assert [h["timepoint"] for h in mrd["hover"]] == [[injected]]


def test_hover_columns_name_traces_that_exist_and_have_one_entry_per_point():
    """The browser writes each hover text from the columns the server sends: they must line up with the points."""
    a = assessed(cbc("2024-01-08", wbc=12.0, anc=0.4, platelets=40), cbc("2024-01-20", wbc=2.0, anc=1.2),
                 {"type": "mrd", "date": "2024-02-05", "value": 0.001, "sensitivity": 1e-5, "method": "flow"},
                 {"type": "mrd", "date": "2024-03-05", "value": 0, "sensitivity": 1e-5, "method": "flow"})
    for chart in (counts_chart(a), mrd_chart(a)):
        kinds = {h["kind"] for h in chart.figure["hover"]}
        assert kinds <= {"count", "mrd"}
        for h in chart.figure["hover"]:
            trace = chart.figure["data"][h["trace"]]
            assert trace["hoverinfo"] == "text" and "text" not in trace
            for key, column in h.items():
                if isinstance(column, list):
                    assert len(column) == len(trace["x"]), key
    anc = next(h for h in counts_chart(a).figure["hover"] if h["label"] == "ANC")
    assert anc["grade"][0] == 4  # 0.4 x10^9/L is CTCAE grade 4 neutropenia


def test_delayed_intensification_and_salvage_bands_look_different():
    from allcare.web.charts import PHASE_COLOURS, PHASE_PATTERNS

    a = assessed(cbc("2024-01-08", wbc=12.0),
                 {"type": "treatment", "phase": "delayed_intensification", "start": "2024-03-01", "end": "2024-04-20"},
                 {"type": "treatment", "phase": "salvage", "start": "2024-06-01"})
    chart = status_chart(a)
    valid(chart)
    bands = {t["name"]: t for t in chart.figure["data"] if t.get("fill") == "toself"}
    assert bands["Delayed intensification"]["fillcolor"] != bands["Salvage"]["fillcolor"]
    assert "fillpattern" in bands["Salvage"] and "fillpattern" not in bands["Delayed intensification"]
    hues = [PHASE_COLOURS[p] for p in ("induction", "consolidation", "interim_maintenance", "delayed_intensification",
                                       "maintenance", "salvage")]
    assert len(set(hues)) == len(hues) and "salvage" in PHASE_PATTERNS


def test_grade_labels_sit_on_their_zones_inside_the_plot():
    chart = counts_chart(assessed(cbc("2024-01-08", wbc=350.0), cbc("2024-01-20", wbc=0.8)))
    layout = chart.figure["layout"]
    shapes = [s for s in layout["shapes"] if s["yref"] == "y"]
    labels = [a for a in layout["annotations"] if a["yref"] == "y"]
    assert labels and all(a["xref"] == "paper" and 0 <= a["x"] < 0.05 for a in labels)
    for label in labels:
        if label["text"].startswith("G") and label["yanchor"] == "middle":
            assert any(s["y0"] <= label["y"] <= s["y1"] for s in shapes), label


def test_each_chart_has_a_phone_layout_that_keeps_the_plot_wide():
    a = assessed(cbc("2024-01-08", wbc=12.0), {"type": "treatment", "phase": "induction", "start": "2024-01-09"},
                 {"type": "mrd", "date": "2024-02-05", "value": 0.001, "sensitivity": 1e-5, "method": "flow"})
    for chart in patient_charts(a).values():
        narrow = chart.figure["narrow"]
        assert narrow["below"] >= 390 and narrow["layout"]["xaxis"]["nticks"] <= 5
        assert narrow["layout"]["margin"]["l"] <= 90  # at 390 px the plot keeps most of the width
        merged = go.Figure(chart.figure["data"], {**chart.figure["layout"], **narrow["layout"]})
        assert merged is not None
    status = patient_charts(a)["status"].figure["narrow"]["layout"]["yaxis"]
    assert len(status["ticktext"]) == len(status["tickvals"]) and max(map(len, status["ticktext"])) <= 12


@pytest.mark.parametrize(("rows", "html"), [
    ([], ""),
    ([["2024-01-02", "< 5", "0.4 (low) G4", ""]],
     '<tr><th scope="row">2024-01-02</th><td>&lt; 5</td><td>0.4 (low) G4</td><td></td></tr>'),
    ([["a&b", 1], ["<script>", None]],
     '<tr><th scope="row">a&amp;b</th><td>1</td></tr><tr><th scope="row">&lt;script&gt;</th><td>None</td></tr>'),
    ([["only"], ["x", "y"]], '<tr><th scope="row">only</th></tr><tr><th scope="row">x</th><td>y</td></tr>'),
    ([["x\x1fy", "\x1e"], ["\x1d", "z"]],  # cells holding the separators the fast path uses
     '<tr><th scope="row">x\x1fy</th><td>\x1e</td></tr><tr><th scope="row">\x1d</th><td>z</td></tr>'),
])
def test_a_numbers_table_body_escapes_every_cell_and_heads_each_row(rows, html):
    from allcare.web.pages.common import table_rows

    assert str(table_rows(rows)) == html


def test_a_marrow_just_under_the_m1_line_is_never_shown_rounded_onto_it():
    """The care team's status chart rounded to 3 digits: a marrow of 4.996% blasts (M1, under the 5% line)
    read '5%' in its table and hover text beside the word remission; values are shown as recorded, as in
    the patient report (one formatter, allcare.labels.number_as_recorded)."""
    a = assessed(
        cbc("2024-01-08", wbc=12.0, anc=0.8, platelets=40, hemoglobin=8.0),
        {"type": "treatment", "phase": "induction", "start": "2024-01-09", "end": "2024-02-05"},
        {"type": "marrow", "date": "2024-02-05", "blasts_pct": 4.996, "timepoint": "end_of_induction"},
        cbc("2024-02-05", anc=1.5, platelets=150, blasts_pct=0),
    )
    chart = status_chart(a)
    assert any(row[3] == "M1 (4.996%)" for row in chart.table.rows)
    line = next(t for t in chart.figure["data"] if t.get("name") == "Disease status")
    assert any("4.996% blasts" in text for text in line["text"])
