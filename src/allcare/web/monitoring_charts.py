"""Charts of treatment monitoring: the maintenance course and chemistry with CTCAE grade zones.

Kept apart from ``charts.py`` (diagnosis and response) so they can move with the patient page's
layout; they follow its conventions (plain plotly dictionaries, a text description and a table of
the plotted numbers, every line drawn from the engine's output, never from a literal here).

- :func:`maintenance_chart`: the steering count with the protocol family's target band (and its
  hold and reduce lines), over the weekly doses as bars in % of the protocol dose.
- :func:`chemistry_chart`: ALT, AST, bilirubin and creatinine as multiples of the lab's upper limit,
  with the CTCAE v5.0 grade lines of each term shaded; potassium on its absolute lines.
- :func:`event_markers`: adverse events, febrile neutropenia and tumour lysis as markers on the
  status timeline.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..engine.assessment import Assessment
from ..engine.maintenance.forecast import forecast
from ..engine.monitoring_output import ChemistryAnalyte, Maintenance, MaintenanceRows
from ..engine.toxicity.ctcae_chemistry import ABSOLUTE_TERMS, ULN_TERMS
from .charts import (
    CONFIG,
    GRADE_COLOURS,
    GRID,
    INK,
    Chart,
    ChartTable,
    _base_layout,
    _date_axis,
    _hband,
    _iso,
    _number,
    date_range,
)

ZONE_COLOURS = {"hold": "#b91c1c", "reduce": "#c2410c", "target": "#047857", "above": "#1f3a5f", "below": "#c2410c",
                "unknown": "#6b7280"}
DRUG_COLOURS = {"mercaptopurine": "#0072B2", "methotrexate": "#E69F00"}
ZONE_WORDS = {"hold": "hold line", "reduce": "reduce line", "target": "in target", "above": "above target",
              "below": "below target", "unknown": "not settled"}
ULN_CHART = ("alt", "ast", "bilirubin", "creatinine")
LABELS = {"alt": "ALT", "ast": "AST", "bilirubin": "Bilirubin", "creatinine": "Creatinine", "potassium": "Potassium"}


def _day_ms(start: dt.date, end: dt.date) -> int:
    return ((end - start).days + 1) * 86_400_000


def maintenance_chart(assessment: Assessment) -> Chart | None:
    m = assessment.maintenance
    if m is None or not (m.counts or m.doses):
        return None
    counts = m.counts.read(assessment.blood_counts)
    zones = counts.column("zones")  # the table read as columns (building a row object per count cost more than the chart)
    mercaptopurine, methotrexate = counts.column("mercaptopurine_di_pct"), counts.column("methotrexate_di_pct")
    steering = m.steering.upper()
    start, end = m.start, max(assessment.as_of, m.start)
    layout = _base_layout(460, margin={"l": 72, "r": 48, "t": 16, "b": 48})
    layout["xaxis"] = _date_axis(start, end, anchor="y2")
    steered = counts.steered(m.steering)
    values = [v for v in steered if v is not None]
    ceiling = max(values + [m.target_high * 1.6]) * 1.1
    layout["yaxis"] = {"domain": [0.42, 1.0], "title": {"text": f"{steering}<br>x10^9/L"}, "range": [0, ceiling],
                       "showgrid": True, "gridcolor": GRID, "fixedrange": True, "zeroline": False}
    layout["yaxis2"] = {"domain": [0.0, 0.32], "title": {"text": "Dose<br>% of protocol"}, "showgrid": True, "gridcolor": GRID,
                        "fixedrange": True, "rangemode": "tozero"}
    shapes = [_hband("y", m.target_low, m.target_high, "#10b981")]
    targets = _lines(assessment, m)
    shapes += [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": y, "y1": y,
                "line": {"color": colour, "width": 1.2, "dash": "dash"}} for y, colour, _ in targets]
    shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y2", "y0": 100, "y1": 100,
                   "line": {"color": INK, "width": 1, "dash": "dot"}})
    data: list[dict[str, Any]] = [{
        "type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": f"{m.family_label} target band",
        "marker": {"symbol": "square", "size": 14, "color": "rgba(16,185,129,0.35)"}, "hoverinfo": "skip",
    }]
    data += [{"type": "scatter", "x": [None], "y": [None], "mode": "lines", "name": name,
              "line": {"color": colour, "dash": "dash"}, "hoverinfo": "skip"} for _, colour, name in targets]
    counted = [i for i, v in enumerate(steered) if v is not None]  # the counts with a steering value
    hovers = []
    if counted:
        data.append({
            "type": "scatter", "x": [_iso(counts.dates[i]) for i in counted], "y": [steered[i] for i in counted],
            "yaxis": "y", "mode": "lines+markers", "name": steering, "line": {"color": INK, "width": 2},
            "marker": {"size": 9, "color": [ZONE_COLOURS[zones[i]] for i in counted], "line": {"color": "#ffffff", "width": 1}},
            "hoverinfo": "text",
        })
        hovers.append(_count_hover(len(data) - 1, counts, zones, mercaptopurine, counted))
    for drug in ("mercaptopurine", "methotrexate"):
        dosed = [(p, weekly) for p in m.doses if p.agent == drug and (weekly := p.weekly_mg_m2) is not None]
        if not dosed:
            continue
        periods = [p for p, _ in dosed]
        protocol = m_protocol(m, drug)
        ends = [p.end or assessment.as_of for p in periods]
        data.append({
            "type": "bar", "x": [_iso(p.start) for p in periods], "y": [round(100 * weekly / protocol, 1) for _, weekly in dosed],
            "width": [_day_ms(p.start, e) for p, e in zip(periods, ends, strict=True)], "offset": 0, "yaxis": "y2",
            "name": f"{drug} (% of {protocol / (7 if drug == 'mercaptopurine' else 1):g} mg/m2/{'day' if drug == 'mercaptopurine' else 'week'})",
            "marker": {"color": DRUG_COLOURS[drug], "opacity": 0.55},
            "hoverinfo": "text", "text": [f"<b>{drug}</b> {p.dose:g} {p.unit} {p.frequency.replace('_', ' ')}<br>{_iso(p.start)} to "
                                          f"{_iso(e)}<br>{p.weekly_mg or 0:g} mg/week" for p, e in zip(periods, ends, strict=True)],
        })
    outlook = forecast(m, counts, assessment.as_of) if m.steering == "anc" else None
    if outlook is not None:
        last = counted[-1] if counted else None
        xs = ([_iso(counts.dates[last])] if last is not None else []) + [_iso(p.date) for p in outlook.points]
        first = [counts.anc[last]] if last is not None else []
        data.append({"type": "scatter", "x": xs, "y": first + [p.low for p in outlook.points], "yaxis": "y", "mode": "lines",
                     "line": {"width": 0}, "hoverinfo": "skip", "showlegend": False, "name": "forecast low"})
        data.append({"type": "scatter", "x": xs, "y": first + [p.high for p in outlook.points], "yaxis": "y", "mode": "lines",
                     "line": {"width": 0}, "fill": "tonexty", "fillcolor": "rgba(86,180,233,0.25)", "hoverinfo": "skip",
                     "name": "Forecast, 80% interval (research model)"})
        data.append({"type": "scatter", "x": xs, "y": first + [p.anc for p in outlook.points], "yaxis": "y",
                     "mode": "lines+markers", "line": {"color": "#0072B2", "dash": "dash", "width": 2}, "marker": {"size": 6},
                     "name": "Forecast (median)", "hoverinfo": "text",
                     "text": ([f"{_iso(counts.dates[last])}: last count"] if last is not None else [])
                     + [f"{_iso(p.date)}: ANC {p.anc:g} (80%: {p.low:g}-{p.high:g}) if the doses stay as they are"
                        for p in outlook.points]})
    layout["barmode"] = "overlay"
    layout["shapes"] = shapes
    table_rows = [[_iso(day), _number(anc), _number(platelets), _number(wbc), ZONE_WORDS[zone], _number(mp), _number(mtx)]
                  for day, anc, platelets, wbc, zone, mp, mtx in zip(
                      counts.dates, counts.anc, counts.platelets, counts.wbc, zones,
                      mercaptopurine, methotrexate, strict=True)]
    description = f"Maintenance from {_iso(m.start)} against the {m.family_label} target ({_band(m)})."
    if m.time_in_target_pct is not None:
        description += f" {steering} in target {m.time_in_target_pct:g}% of the time."
    if m.suggestion is not None:
        description += f" Latest suggestion ({_iso(m.suggestion.date)}): {m.suggestion.action.replace('_', ' ')}."
    notes = [f"Green band: {m.family_label} target ({_band(m)}); source: {m.source}.",
             "Bars: each prescribed dose for as long as it ran, as % of the protocol dose per m2 (100% dotted)."]
    if outlook is not None:
        description += " Forecast for the next four weeks at the current doses: " + ", ".join(
            f"{_iso(p.date)} {p.anc:g} ({p.low:g}-{p.high:g})" for p in outlook.points) + "."
        notes.append(f"Dashed: ANC forecast for four weeks at the current doses, with its 80% interval - {outlook.model}; "
                     f"{outlook.source}; {outlook.validation}. Fitted to {outlook.fitted_counts} counts. A research aid, "
                     "not a basis for dosing on its own.")
    return Chart(
        id="chart-maintenance", title="Maintenance", description=description,
        figure={"data": data, "layout": layout, "config": CONFIG, "hover": hovers},
        table=ChartTable("Maintenance counts (x10^9/L) and dose intensity (% of protocol dose)",
                         ["Date", "ANC", "Platelets", "WBC", "Zone", "Mercaptopurine %", "Methotrexate %"], table_rows),
        notes=notes,
    )


def m_protocol(m: Maintenance, drug: str) -> float:
    """The protocol dose per m2 per week the family's targets name (for the bars)."""
    from ..engine.maintenance_targets import MAINTENANCE_FAMILIES

    family = MAINTENANCE_FAMILIES.get(m.family)
    if family is None:
        return 1.0
    return family.mercaptopurine_mg_m2_day * 7 if drug == "mercaptopurine" else family.methotrexate_mg_m2_week


def _band(m: Maintenance) -> str:
    return f"{m.steering.upper()} {'>' if not m.target_low_inclusive else '>='} {m.target_low:g} to <= {m.target_high:g}"


def _lines(assessment: Assessment, m: Maintenance) -> list[tuple[float, str, str]]:
    from ..engine.maintenance_targets import MAINTENANCE_FAMILIES

    family = MAINTENANCE_FAMILIES.get(m.family)
    if family is None or not family.dose_steps or m.steering != "anc":
        return []
    # A family with dose steps must name both lines (its validator says so); this check only tells the type checker.
    hold, reduce = family.hold_anc_at_or_below, family.reduce_anc_at_or_below
    if hold is None or reduce is None:
        return []
    return [(hold, "#b91c1c", f"hold at ANC <= {hold:g}"),
            (reduce, "#c2410c", f"reduce at ANC <= {reduce:g}")]


def _count_hover(trace: int, counts: MaintenanceRows, zones: list[str], doses: list[float | None],
                 counted: list[int]) -> dict[str, Any]:
    """The columns app.js writes a maintenance count's hover text from ("maintenance": date, zone, counts, the
    mercaptopurine dose intensity ``doses``), for the counts (row numbers) ``counted``."""
    return {"trace": trace, "kind": "maintenance", "zones": ZONE_WORDS, "zone": [zones[i] for i in counted],
            **{name: [column[i] for i in counted]
               for name, column in (("anc", counts.anc), ("platelets", counts.platelets), ("wbc", counts.wbc),
                                    ("mercaptopurine_di_pct", doses))}}


# Chemistry -------------------------------------------------------------------------------------


def _uln_bands(analyte: str) -> list[tuple[int, float, float | None]]:
    """(grade, low, high) in multiples of the upper limit; the top grade's high is None (open-ended)."""
    term = next((t for t in ULN_TERMS if t.analyte == analyte), None)
    if term is None:
        return []
    lines = sorted(term.uln_multiples, key=lambda gm: gm[1])
    bands = []
    for n, (grade, multiple) in enumerate(lines):
        top = lines[n + 1][1] if n + 1 < len(lines) else None
        bands.append((grade, multiple, top))
    return bands


def _plotted(name: str, a: ChemistryAnalyte) -> float | None:
    """The value drawn: potassium as measured, the others as a multiple of the lab's upper limit (None: no
    upper limit given, so the result is in the table only)."""
    if name == "potassium":
        return a.value
    return a.value / a.upper_limit if a.upper_limit else None


def chemistry_chart(assessment: Assessment) -> Chart | None:
    table = assessment.chemistry
    series: dict[str, list[tuple[dt.date, float, Any]]] = {}
    for name in (*ULN_CHART, "potassium"):
        points = [(table.dates[row], y, a) for row, a in table.results(name) if (y := _plotted(name, a)) is not None]
        if points:
            series[name] = points
    panels = [name for name in (*ULN_CHART, "potassium") if name in series]
    if not panels:
        return None
    start, end = date_range(assessment)
    layout = _base_layout(140 + 150 * len(panels), margin={"l": 80, "r": 48, "t": 16, "b": 48})
    bottom = f"y{len(panels)}" if len(panels) > 1 else "y"
    layout["xaxis"] = _date_axis(start, end, anchor=bottom)
    gap = 0.06
    height = (1.0 - gap * (len(panels) - 1)) / len(panels)
    data, shapes, rows = [], [], []
    for n, name in enumerate(panels):
        axis_id = "y" if n == 0 else f"y{n + 1}"
        top = 1.0 - n * (height + gap)
        points = series[name]
        ys = [y for _, y, _ in points]
        if name == "potassium":
            ceiling = max(ys + [7.5]) * 1.05
            layout["yaxis" if n == 0 else f"yaxis{n + 1}"] = {
                "domain": [max(0.0, top - height), top], "anchor": "x", "title": {"text": "Potassium<br>mmol/L"},
                "range": [min(ys + [2.0]) * 0.9, ceiling], "fixedrange": True, "showgrid": True, "gridcolor": GRID}
            for term in (t for t in ABSOLUTE_TERMS if t.analyte == "potassium"):
                previous = None
                for line in sorted(term.lines, key=lambda g: g.si):
                    if term.direction == "high":
                        upper = next((g.si for g in sorted(term.lines, key=lambda g: g.si) if g.si > line.si), ceiling)
                        shapes.append(_hband(axis_id, line.si, upper, GRADE_COLOURS[line.grade]))
                    else:
                        shapes.append(_hband(axis_id, previous or 0.0, line.si, GRADE_COLOURS[line.grade]))
                        previous = line.si
        else:
            bands = _uln_bands(name)
            ceiling = max(ys + [bands[-1][1] * 1.2 if bands else 2.0])
            layout["yaxis" if n == 0 else f"yaxis{n + 1}"] = {
                "domain": [max(0.0, top - height), top], "anchor": "x", "title": {"text": f"{LABELS[name]}<br>x ULN"},
                "type": "log", "range": [-0.5, max(0.5, _log10(ceiling) + 0.15)], "fixedrange": True, "showgrid": True,
                "gridcolor": GRID}
            for grade, low, high in bands:
                shapes.append(_hband(axis_id, low, high or ceiling * 2, GRADE_COLOURS.get(grade, "#b91c1c")))
        data.append({
            "type": "scatter", "x": [_iso(d) for d, _, _ in points], "y": ys, "yaxis": axis_id, "mode": "lines+markers",
            "name": LABELS[name], "showlegend": False, "line": {"color": "#1f3a5f", "width": 2},
            "marker": {"size": 8, "color": [_grade_colour(a.grade) for _, _, a in points]},
            "hoverinfo": "text", "text": [_chem_hover(d, a) for d, _, a in points],
        })
        rows += [[_iso(d), LABELS[name], f"{_number(a.value)} {a.unit}", _number(a.upper_limit) if a.upper_limit else "",
                  "" if a.grade is None else str(a.grade) if a.grade else "0"] for d, _, a in points]
    for grade in (1, 2, 3, 4):
        data.append({"type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": f"CTCAE grade {grade} zone",
                     "marker": {"symbol": "square", "size": 14, "color": GRADE_COLOURS[grade]}, "hoverinfo": "skip"})
    layout["shapes"] = shapes
    return Chart(
        id="chart-chemistry", title="Chemistry", description=(
            "Liver and kidney tests as multiples of the lab's upper limit of normal, and potassium, with CTCAE v5.0 grade zones."),
        figure={"data": data, "layout": layout, "config": CONFIG},
        table=ChartTable("Chemistry (CTCAE v5.0 grade)", ["Date", "Test", "Value", "Upper limit", "Grade"], rows),
        notes=["ALT, AST, bilirubin and creatinine are drawn as multiples of the lab's upper limit (results without the "
               "lab's range are in the table only); zones are the CTCAE v5.0 grade lines for a normal baseline.",
               "Potassium zones: hyperkalaemia grades 2-4 above 5.5 / 6.0 / 7.0 mmol/L, hypokalaemia grades 3-4 below 3.0 / 2.5."],
    )


def _log10(value: float) -> float:
    import math

    return math.log10(max(value, 1e-3))


def _grade_colour(grade: int | None) -> str:
    return {None: "#1f3a5f", 0: "#1f3a5f", 1: "#a16207", 2: "#c2410c", 3: "#b91c1c", 4: "#7f1d1d"}.get(grade, "#1f3a5f")


def _chem_hover(day: dt.date, a) -> str:
    text = f"<b>{LABELS.get(a.analyte, a.analyte)} {_number(a.value)} {a.unit}</b> ({_iso(day)})"
    if a.upper_limit:
        text += f"<br>upper limit {_number(a.upper_limit)} ({a.value / a.upper_limit:.1f} x)"
    if a.grade:
        text += f"<br>{a.ctcae_term}: grade {a.grade}"
    elif a.possible_grades:
        text += f"<br>{a.ctcae_term}: grade {' or '.join(map(str, a.possible_grades))}"
    return text


# Events on the status timeline ------------------------------------------------------------------


def event_markers(assessment: Assessment, yaxis: str) -> list[dict[str, Any]]:
    """Adverse events, febrile neutropenia and tumour lysis as markers near the top of the status chart."""
    t = assessment.toxicity
    points: list[tuple[dt.date, str]] = []
    points += [(e.start, f"<b>{e.label}</b> grade {e.grade}" + (f" ({e.agent})" if e.agent else "")) for e in t.adverse_events]
    points += [(e.date, f"<b>Fever</b> {e.temperature:g} C" + (f", ANC {e.anc:g}" if e.anc is not None else ", no ANC")
                + (" - febrile neutropenia" if e.status == "febrile_neutropenia" else "")) for e in t.febrile_neutropenia]
    points += [(min((c.date for c in r.criteria), default=r.therapy_start),
                "<b>" + ("Clinical" if r.clinical else "Laboratory") + " tumour lysis</b>"
                + (f" grade {r.grade}" if r.grade else "")) for r in t.tumour_lysis if r.laboratory]
    if not points:
        return []
    return [{
        "type": "scatter", "x": [_iso(d) for d, _ in points], "y": [0.93] * len(points), "yaxis": yaxis,
        "mode": "markers", "name": "Adverse events", "marker": {"symbol": "triangle-down", "size": 12, "color": "#b91c1c"},
        "hoverinfo": "text", "text": [text for _, text in points],
    }]


def monitoring_charts(assessment: Assessment) -> dict[str, Chart | None]:
    return {"maintenance": maintenance_chart(assessment), "chemistry": chemistry_chart(assessment)}
