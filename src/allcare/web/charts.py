"""Chart specifications built from an :class:`~allcare.engine.assessment.Assessment`.

Each chart is a plain plotly figure dictionary (``data``, ``layout``, ``config``)
that the page embeds as JSON and plotly.js draws in the browser. The figures are
written as dictionaries rather than through ``plotly.graph_objects`` because
the patient page is on the hot path (p99 < 150 ms) and graph objects validate
every property on construction; the tests feed every spec to
``plotly.graph_objects.Figure`` so a misspelt property still fails loudly.

Every chart also carries a text alternative and a table of the plotted numbers,
so a screen-reader user, a printout or a browser without JavaScript loses
nothing. Lines drawn on the charts come from the engine, never from literals
here: CTCAE bands from :mod:`allcare.engine.counts.ctcae`, the MRD line from the
rule set, reference ranges from each result (the lab's, or the engine's
age- and sex-specific interval).

The hover texts of the traces with many points (blood counts, maintenance counts,
MRD) are written in the browser by ``static/app.js``: the figure carries, under
``hover``, each such trace's columns (numbers, dates, codes) and its kind, and
app.js builds the text from them, escaping every string. That keeps a three-year
record's page small and its first view cheap; the traces with a few points
(phases, status, events) keep their text from here, escaped with :func:`user_text`.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import math
from dataclasses import dataclass, field
from typing import Any

from ..engine.assessment import AnalyteColumns, Assessment, MrdResult, PhaseSpan
from ..engine.case.models import CbcAnalyte
from ..engine.columns import pick, unfold
from ..engine.counts.ctcae import DECREASE_TERMS, LEUKOCYTOSIS_GRADE3_ABOVE
from ..engine.rules import DEFAULT_RULES, RuleSet
from ..labels import ANALYTE as ANALYTE_LABELS
from ..labels import STATUS_SHORT, number_as_recorded, phase_label, status_label

# ---------------------------------------------------------------------------------------------
# Order and colours (the words are in allcare.labels).

# Bottom to top: the better the response, the higher the point.
STATUS_ORDER = [
    "relapse", "refractory", "suspected_relapse", "indeterminate", "newly_diagnosed", "on_treatment",
    "cr_incomplete_recovery", "complete_remission",
]
# Colour-blind-safe hues (Okabe-Ito, and Tol's wine for salvage), drawn pale behind the data. Each phase
# that can sit next to another has its own hue; salvage is also hatched (PHASE_PATTERNS), so it reads apart
# from delayed intensification without colour.
PHASE_COLOURS: dict[str, str] = {
    "prephase": "#999999",
    "induction": "#E69F00",
    "consolidation": "#56B4E9",
    "interim_maintenance": "#009E73",
    "delayed_intensification": "#D55E00",
    "maintenance": "#0072B2",
    "hsct": "#CC79A7",
    "car_t": "#CC79A7",
    "targeted": "#F0E442",
    "salvage": "#882255",
    "other": "#999999",
}
PHASE_PATTERNS: dict[str, str] = {"salvage": "/", "car_t": ".", "hsct": "."}
CHART_ANALYTES: tuple[CbcAnalyte, ...] = ("wbc", "anc", "hemoglobin", "platelets")
GRADE_COLOURS = {1: "#fde68a", 2: "#fdba74", 3: "#f87171", 4: "#b91c1c"}
INK_BLUE = "#1f3a5f"
MARKER_BY_GRADE = {None: INK_BLUE, 0: INK_BLUE, 1: "#a16207", 2: "#c2410c", 3: "#b91c1c", 4: "#7f1d1d"}
MRD_COLOURS = {"positive": "#b91c1c", "negative": "#047857", "not_evaluable": "#6b7280"}
INK = "#1f2937"
GRID = "#e5e7eb"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
# No mode bar: its buttons inject per-chart style rules the CSP forbids, and they are not
# keyboard-friendly; zoom by dragging, double-click to reset, and the numbers are in the table.
CONFIG = {"displayModeBar": False, "displaylogo": False, "responsive": True, "scrollZoom": False}


@dataclass(frozen=True)
class ChartTable:
    """The plotted numbers as a table: the chart's text alternative for people and printers."""

    caption: str
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Chart:
    """One chart: an element id, a title, a sentence describing it, the figure, and its numbers."""

    id: str
    title: str
    description: str
    figure: dict[str, Any]
    table: ChartTable
    notes: list[str] = field(default_factory=list)


def _iso(day: dt.date) -> str:
    return day.isoformat()


@functools.lru_cache(maxsize=4096)  # ~1,000 calls per three-year page, mostly for values seen before
def _number(value: float | None) -> str:
    """A plotted value as recorded (allcare.labels.number_as_recorded: a marrow of 4.996% or platelets of
    99.96 never read as the 5% or 100 line), empty when there is none."""
    return "" if value is None else number_as_recorded(value)


def percent_text(fraction: float | None) -> str:
    """An MRD fraction as a percentage a clinician reads at a glance (0.0003 -> '0.03%')."""
    if fraction is None:
        return "-"
    pct = fraction * 100
    if pct == 0:
        return "0%"
    return f"{pct:.4g}%" if pct >= 0.001 else f"{pct:.2g}%"


def _base_layout(height: int, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "template": "none",
        "height": height,
        "margin": {"l": 64, "r": 24, "t": 24, "b": 48},
        "font": {"family": FONT, "size": 13, "color": INK},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "hovermode": "closest",
        "legend": {"orientation": "h", "x": 0, "y": -0.14, "yanchor": "top"},
    }
    layout.update(extra)
    return layout


NARROW_BELOW = 600  # px: a chart narrower than this gets its "narrow" layout (app.js applies it)


def _narrow(extra: dict[str, Any]) -> dict[str, Any]:
    """Layout changes for a phone-width chart, merged into the layout by app.js before drawing:
    fewer date ticks (dates overlapped at 390 px), a legend in small type, and the chart's own margins."""
    return {"below": NARROW_BELOW, "layout": {"xaxis": {"nticks": 4, "tickfont": {"size": 11}},
                                              "legend": {"font": {"size": 11}}, **extra}}


def _padded(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The shared date span with a little room at both ends (the x axis range of every chart)."""
    pad = dt.timedelta(days=max(2, (end - start).days // 40))
    return start - pad, end + pad


def _date_axis(start: dt.date, end: dt.date, **extra: Any) -> dict[str, Any]:
    first, last = _padded(start, end)
    axis = {
        "type": "date",
        "range": [_iso(first), _iso(last)],
        "showgrid": True,
        "gridcolor": GRID,
        "linecolor": "#9ca3af",
        "ticks": "outside",
    }
    axis.update(extra)
    return axis


def _span_end(span: PhaseSpan, spans: list[PhaseSpan], as_of: dt.date) -> dt.date:
    """Where to stop drawing a phase: its end, else the next backbone start, else the assessment date."""
    if span.end is not None:
        return span.end
    if span.phase != "targeted":
        later = [s.start for s in spans if s.start > span.start and s.phase != "targeted"]
        if later:
            return min(later)
    return max(as_of, span.start)


def _dates_of(assessment: Assessment) -> list[dt.date]:
    days = [p.date for p in assessment.status.timeline]
    days += assessment.blood_counts.dates
    days += [m.date for m in assessment.mrd.series]
    for span in assessment.status.phases:
        days += [span.start] + ([span.end] if span.end else [])
    if assessment.diagnosis_date:
        days.append(assessment.diagnosis_date)
    return days


def date_range(assessment: Assessment) -> tuple[dt.date, dt.date]:
    """The span every chart of one patient shares, so their x axes line up."""
    days = _dates_of(assessment) or [assessment.as_of]
    return min(days), max(*days, assessment.as_of)


def phase_band_traces(assessment: Assessment, yaxis: str, *, legend: bool) -> list[dict[str, Any]]:
    """Treatment phases as pale filled bands on an invisible 0-1 axis, with legend entries and hover."""
    traces, seen = [], set()
    spans = assessment.status.phases
    for span in spans:
        end = _span_end(span, spans, assessment.as_of)
        label = phase_label(span.phase)
        status = "running" if span.running else f"to {_iso(end)}"
        hover = f"<b>{label}</b><br>from {_iso(span.start)} {status}"
        if span.protocol:
            hover += f"<br>{user_text(span.protocol)}"
        traces.append({
            "type": "scatter",
            "x": [_iso(span.start), _iso(span.start), _iso(end), _iso(end), _iso(span.start)],
            "y": [0, 1, 1, 0, 0],
            "yaxis": yaxis,
            "mode": "lines",
            "fill": "toself",
            "fillcolor": _rgba(PHASE_COLOURS.get(span.phase, "#999999"), 0.16),
            **({"fillpattern": {"shape": PHASE_PATTERNS[span.phase], "fgcolor": _rgba(PHASE_COLOURS[span.phase], 0.45),
                                "size": 8, "solidity": 0.2}} if span.phase in PHASE_PATTERNS else {}),
            "line": {"width": 0},
            "hoveron": "fills",
            "hoverinfo": "text",
            "text": hover,
            "name": label,
            "legendgroup": f"phase-{span.phase}",
            "showlegend": legend and span.phase not in seen,
        })
        seen.add(span.phase)
    return traces


def user_text(value: str) -> str:
    """Text a person typed, made inert in a Plotly label: Plotly reads <b>, <a href> ... in hover text."""
    return html.escape(value, quote=False)


def _rgba(hex_colour: str, alpha: float) -> str:
    value = hex_colour.lstrip("#")
    red, green, blue = (int(value[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red},{green},{blue},{alpha})"


def _band_axis(overlaying: str) -> dict[str, Any]:
    return {"overlaying": overlaying, "range": [0, 1], "visible": False, "fixedrange": True}


# ---------------------------------------------------------------------------------------------
# Status timeline


def status_chart(assessment: Assessment) -> Chart | None:
    """Disease status over time as a step line, treatment phases as bands behind it."""
    from .monitoring_charts import event_markers  # it builds on this module's helpers

    timeline = assessment.status.timeline
    events = event_markers(assessment, "y2")  # adverse events, febrile neutropenia, tumour lysis
    if not timeline and not assessment.status.phases and not events:
        return None
    start, end = date_range(assessment)
    xs = [_iso(p.date) for p in timeline]
    ys = [status_label(p.status) for p in timeline]
    hovers = []
    for point in timeline:
        parts = [f"<b>{status_label(point.status)}</b> ({_iso(point.date)})"]
        if point.phase:
            parts.append(f"phase: {phase_label(point.phase)}")
        if point.marrow_grade:
            parts.append(f"marrow {point.marrow_grade} ({_number(point.marrow_blasts_pct)}% blasts)")
        if point.mrd is not None:
            parts.append(f"MRD {percent_text(point.mrd.value)} ({point.mrd.status.replace('_', ' ')})")
        parts.append(f"rule {point.conclusion.rule}")
        hovers.append("<br>".join(parts))
    data = phase_band_traces(assessment, "y2", legend=True)
    data += events
    if timeline:
        if timeline[-1].date < assessment.as_of:
            data.append({
                "type": "scatter", "x": [xs[-1], _iso(assessment.as_of)], "y": [ys[-1], ys[-1]], "mode": "lines",
                "line": {"color": INK, "width": 2, "dash": "dot"}, "hoverinfo": "skip", "showlegend": False,
                "name": "carried forward",
            })
        data.append({
            "type": "scatter", "x": xs, "y": ys, "mode": "lines+markers", "name": "Disease status",
            "line": {"color": INK, "width": 2.5, "shape": "hv"},
            "marker": {"size": 10, "color": [_status_colour(p.status) for p in timeline],
                       "line": {"color": "#ffffff", "width": 1.5}},
            "hoverinfo": "text", "text": hovers, "showlegend": False,
        })
    layout = _base_layout(
        340,
        xaxis=_date_axis(start, end),
        yaxis={"type": "category", "categoryorder": "array",
               "categoryarray": [status_label(s) for s in STATUS_ORDER],
               "range": [-0.5, len(STATUS_ORDER) - 0.5], "showgrid": True, "gridcolor": GRID, "automargin": True,
               "fixedrange": True},
        yaxis2=_band_axis("y"),
        margin={"l": 200, "r": 24, "t": 16, "b": 48},
    )
    rows = [[_iso(p.date), status_label(p.status), phase_label(p.phase) if p.phase else "",
             (p.marrow_grade or "") + (f" ({_number(p.marrow_blasts_pct)}%)" if p.marrow_blasts_pct is not None else ""),
             percent_text(p.mrd.value) if p.mrd else "", p.conclusion.explanation] for p in timeline]
    phases = ", ".join(f"{phase_label(s.phase)} from {_iso(s.start)}" for s in assessment.status.phases)
    current = status_label(assessment.status.current)
    description = f"Disease status over time; current status: {current}."
    if phases:
        description += f" Treatment phases: {phases}."
    # At phone width the long status names would leave the plot ~70 px: short names, narrower margin.
    narrow = {"margin": {"l": 84, "r": 8, "t": 16, "b": 40},
              "yaxis": {"tickmode": "array", "tickvals": [status_label(s) for s in STATUS_ORDER],
                        "ticktext": [STATUS_SHORT[s] for s in STATUS_ORDER], "tickfont": {"size": 11}}}
    return Chart(
        id="chart-status",
        title="Status timeline",
        description=description,
        figure={"data": data, "layout": layout, "config": CONFIG, "narrow": _narrow(narrow)},
        table=ChartTable("Status at each assessment", ["Date", "Status", "Phase", "Marrow", "MRD", "Why"], rows),
    )


def _status_colour(status: str) -> str:
    if status == "complete_remission":
        return "#047857"
    if status in ("relapse", "refractory"):
        return "#b91c1c"
    if status in ("suspected_relapse", "cr_incomplete_recovery"):
        return "#c2410c"
    return "#1f3a5f"


# ---------------------------------------------------------------------------------------------
# Blood counts


def _measured(assessment: Assessment) -> dict[str, tuple[list[int], AnalyteColumns]]:
    """Each charted analyte's columns and the rows (counts) that measured it, in date order."""
    counts = assessment.blood_counts
    found: dict[str, tuple[list[int], AnalyteColumns]] = {}
    for name in CHART_ANALYTES:
        columns = counts.analytes.get(name)
        if columns is not None:
            rows = [i for i, value in enumerate(columns.values) if value is not None]
            if rows:
                found[name] = (rows, columns)
    return found


def _grade_bands(analyte: str) -> list[tuple[int, float, float]]:
    """(grade, low, high) bands for grades 2-4 of a CTCAE "count decreased" term."""
    term = DECREASE_TERMS.get(analyte)
    if term is None:
        return []
    bands, floor = [], 0.0
    for grade in sorted(term.below, reverse=True):
        bands.append((grade, floor, term.below[grade]))
        floor = term.below[grade]
    return bands


def counts_chart(assessment: Assessment) -> Chart | None:
    """WBC, ANC, haemoglobin and platelets stacked on one time axis.

    The pale green band is the reference range of each result (the lab's when it
    gave one), drawn as a step so a change of range shows; the warm bands are the
    CTCAE v5 grade 2-4 lines of the "count decreased" terms (grade 1 is the space
    between the grade-2 line and the lower limit of normal); leukocytosis grade 3
    is shaded on the WBC panel when a count reaches it.
    """
    measured = _measured(assessment)
    panels = list(measured)
    if not panels:
        return None
    start, end = date_range(assessment)
    dates = [_iso(day) for day in assessment.blood_counts.dates]
    gap = 0.06
    height_each = (1.0 - gap * (len(panels) - 1)) / len(panels)
    data: list[dict[str, Any]] = []
    hovers: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    layout = _base_layout(150 + 150 * len(panels), margin={"l": 72, "r": 48, "t": 16, "b": 48})
    bottom_axis = f"y{len(panels)}" if len(panels) > 1 else "y"
    layout["xaxis"] = _date_axis(start, end, anchor=bottom_axis)
    for n, name in enumerate(panels):
        axis_id = "y" if n == 0 else f"y{n + 1}"
        axis_key = "yaxis" if n == 0 else f"yaxis{n + 1}"
        top = 1.0 - n * (height_each + gap)
        rows, columns = measured[name]
        # `rows` are the counts that measured this analyte, so the filter drops nothing: it tells the checker so.
        values = [value for i in rows if (value := columns.values[i]) is not None]
        upper_limits = unfold(columns.upper_limits, len(dates))
        uppers = [limit for i in rows if (limit := upper_limits[i]) is not None]
        log_axis = name == "wbc" and max(values) > LEUKOCYTOSIS_GRADE3_ABOVE / 2 and min(values) > 0
        ceiling = max(values + uppers) * 1.15 or 1.0
        axis: dict[str, Any] = {
            "domain": [max(0.0, top - height_each), top], "anchor": "x",
            "title": {"text": f"{ANALYTE_LABELS[name]}<br>{columns.unit}"},
            "showgrid": True, "gridcolor": GRID, "zeroline": False, "fixedrange": True, "automargin": True,
        }
        if log_axis:
            floor = min(values + [b[1] for b in _grade_bands(name) if b[1] > 0]) / 2
            axis.update({"type": "log", "range": [math.log10(floor), math.log10(ceiling)], "dtick": 1})
        else:
            floor = 0.0
            axis.update({"type": "linear", "range": [0, ceiling]})
        layout[axis_key] = axis
        # CTCAE grade bands (absolute lines) behind everything.
        for grade, low, high in _grade_bands(name):
            low_drawn = max(low, floor) if log_axis else low
            high_drawn = min(high, ceiling)
            if high_drawn <= low_drawn:
                continue
            shapes.append(_hband(axis_id, low_drawn, high_drawn, GRADE_COLOURS[grade]))
            if _share(low_drawn, high_drawn, floor, ceiling, log_axis) >= MIN_LABELLED_BAND:
                middle = math.sqrt(low_drawn * high_drawn) if log_axis else (low_drawn + high_drawn) / 2
                annotations.append(_band_label(axis_id, middle, f"G{grade}"))
        if name == "wbc" and max(values) > LEUKOCYTOSIS_GRADE3_ABOVE:
            shapes.append(_hband(axis_id, LEUKOCYTOSIS_GRADE3_ABOVE, ceiling, GRADE_COLOURS[3]))
            annotations.append(_band_label(axis_id, LEUKOCYTOSIS_GRADE3_ABOVE, "G3 high", anchor="bottom"))
        data += _range_band(dates, rows, columns, axis_id, n == 0, _padded(start, end))
        grades = pick(columns.grades, rows)
        data.append({
            "type": "scatter", "x": [dates[i] for i in rows], "y": values, "yaxis": axis_id,
            "mode": "lines+markers", "name": ANALYTE_LABELS[name], "showlegend": False,
            "line": {"color": "#1f3a5f", "width": 2},
            "marker": {"size": 8, "line": {"color": "#ffffff", "width": 1}, **_grade_markers(grades)},
            "hoverinfo": "text",
        })
        # The hover text is written in the browser (app.js, "count") from these columns.
        hovers.append({"trace": len(data) - 1, "kind": "count", "label": ANALYTE_LABELS[name], "unit": columns.unit,
                       "grade": grades, **{key: pick(getattr(columns, field), rows) for key, field in _HOVER_COLUMNS}})
    layout["shapes"] = shapes
    layout["annotations"] = annotations
    for grade in (2, 3, 4):
        data.append({"type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": f"CTCAE grade {grade} zone",
                     "marker": {"symbol": "square", "size": 14, "color": GRADE_COLOURS[grade]}, "hoverinfo": "skip"})
    cells = [_cells(measured[name][1], len(dates)) if name in measured else [""] * len(dates) for name in CHART_ANALYTES]
    named = _named(assessment.blood_counts.named, len(dates))
    table_rows: list[list[str]] = [[day, *row, names] for day, names, *row in zip(dates, named, *cells, strict=True)]
    latest = table_rows[-1] if table_rows else None
    description = "Blood counts over time with reference ranges and CTCAE grade zones."
    if latest:
        description += f" Latest ({latest[0]}): " + "; ".join(
            f"{ANALYTE_LABELS[n]} {v}" for n, v in zip(CHART_ANALYTES, latest[1:5], strict=False) if v) + "."
    return Chart(
        id="chart-counts",
        title="Blood counts",
        description=description,
        figure={"data": data, "layout": layout, "config": CONFIG, "hover": hovers,
                "narrow": _narrow({"margin": {"l": 56, "r": 8, "t": 16, "b": 40}})},
        table=ChartTable("Blood counts (canonical units; G = CTCAE v5 grade)",
                         ["Date", "WBC", "ANC", "Haemoglobin", "Platelets", "Named"], table_rows),
        notes=["Green band: reference range (the lab's when reported, else the age- and sex-specific interval).",
               "Shaded zones: CTCAE v5 grade 2-4 lines; grade 1 lies between the grade-2 line and the lower limit of normal.",
               "CTCAE grades adverse events on treatment; at diagnosis they describe the disease, not a side effect."],
    )


MIN_LABELLED_BAND = 0.08  # a grade zone thinner than this share of its panel is shaded but not labelled


def _share(low: float, high: float, floor: float, ceiling: float, log_axis: bool) -> float:
    """How much of a panel's height a band takes (labels on thin bands would overlap)."""
    if log_axis:
        return (math.log10(high) - math.log10(low)) / (math.log10(ceiling) - math.log10(floor))
    return (high - low) / (ceiling - floor)


def _grade_symbol(grade: int | None) -> str:
    return {3: "diamond", 4: "x"}.get(grade or 0, "circle")


def _hband(axis_id: str, low: float, high: float, colour: str) -> dict[str, Any]:
    return {"type": "rect", "xref": "paper", "x0": 0, "x1": 1, "yref": axis_id, "y0": low, "y1": high,
            "fillcolor": colour, "opacity": 0.22, "line": {"width": 0}, "layer": "below"}


def _band_label(axis_id: str, y: float, text: str, anchor: str = "middle") -> dict[str, Any]:
    """A grade zone's name inside the plot at its left edge, on the zone itself (in the right margin
    the labels drifted away from their zones on the log axis, and were clipped on a phone)."""
    return {"xref": "paper", "x": 0.005, "xanchor": "left", "yref": axis_id, "y": y, "yanchor": anchor,
            "text": text, "showarrow": False, "font": {"size": 10, "color": "#7f1d1d"},
            "bgcolor": "rgba(255,255,255,0.7)", "borderpad": 1}


def _range_band(dates: list[str], rows: list[int], columns: AnalyteColumns, axis_id: str, legend: bool,
                span: tuple[dt.date, dt.date]) -> list[dict[str, Any]]:
    """The reference range as a step band, from the chart's first day to its last.

    Each result's range holds from its date to the next result's; before the first result the first
    range is drawn, after the last the last one (a range belongs to the person, not to the day of the test).
    """
    count = len(dates)
    lower, upper = unfold(columns.lower_limits, count), unfold(columns.upper_limits, count)
    limited = [i for i in rows if lower[i] is not None and upper[i] is not None]
    if not limited:
        return []
    xs = [dates[i] for i in limited]
    lows = [lower[i] for i in limited]
    highs = [upper[i] for i in limited]
    first, last = (_iso(day) for day in span)
    if first < xs[0]:
        xs, lows, highs = [first] + xs, [lows[0]] + lows, [highs[0]] + highs
    if last > xs[-1]:
        xs, lows, highs = xs + [last], lows + [lows[-1]], highs + [highs[-1]]
    common = {"type": "scatter", "x": xs, "yaxis": axis_id, "mode": "lines", "hoverinfo": "skip",
              "line": {"width": 0.5, "color": "rgba(4,120,87,0.35)", "shape": "hv"}, "legendgroup": "range"}
    return [
        {**common, "y": lows, "showlegend": False, "name": "lower limit"},
        {**common, "y": highs, "fill": "tonexty",
         "fillcolor": "rgba(16,185,129,0.14)", "name": "Reference range", "showlegend": legend},
    ]


# The columns of a count's hover text, as the browser reads them: (key sent, AnalyteColumns field).
_HOVER_COLUMNS = (("comparator", "comparators"), ("lower", "lower_limits"), ("upper", "upper_limits"),
                  ("source", "range_sources"), ("flag", "flags"), ("term", "ctcae_terms"))


def _grade_markers(grades: int | list[int | None] | None) -> dict[str, Any]:
    """Marker colour and symbol by CTCAE grade: one for the trace when every count has the same grade."""
    if isinstance(grades, list):
        return {"color": [MARKER_BY_GRADE.get(g, INK_BLUE) for g in grades], "symbol": list(map(_grade_symbol, grades))}
    return {"color": MARKER_BY_GRADE.get(grades, INK_BLUE), "symbol": _grade_symbol(grades)}


def _cells(columns: AnalyteColumns, count: int) -> list[str]:
    """One analyte's column of the numbers table: '< 5', '0.4 (low) G4' (the value as reported, its flag, its grade)."""
    values, comparators, flags, grades = (unfold(getattr(columns, c), count)
                                          for c in ("values", "comparators", "flags", "grades"))
    cells = []
    for value, comparator, flag, grade in zip(values, comparators, flags, grades, strict=True):
        if value is None:
            cells.append("")
            continue
        text = f"{comparator} {_number(value)}" if comparator else _number(value)
        if flag and flag != "normal":
            text += f" ({flag})"
        if grade:
            text += f" G{grade}"
        cells.append(text)
    return cells


def _named(named: dict[str, list[int]], count: int) -> list[str]:
    """The plain-word names (anaemia, pancytopenia ...) of each count, comma-separated."""
    names: list[list[str]] = [[] for _ in range(count)]
    for name, rows in named.items():
        for i in rows:
            names[i].append(name)
    return [", ".join(n) for n in names]


# ---------------------------------------------------------------------------------------------
# MRD


def mrd_chart(assessment: Assessment, rules: RuleSet = DEFAULT_RULES) -> Chart | None:
    """MRD in percent on a log scale, with the MRD-negative line (0.01% by default).

    A log axis cannot show zero, so an undetectable result is drawn at its assay's
    sensitivity as an open downward triangle ("below this"); one without a
    sensitivity is listed in the table only.
    """
    series = assessment.mrd.series
    if not series:
        return None
    start, end = date_range(assessment)
    line_pct = rules.mrd_negative_below * 100
    plotted: dict[str, list[tuple[float, MrdResult]]] = {"detected": [], "undetectable": []}
    for result in series:
        if result.value is not None and result.value > 0:
            plotted["detected"].append((result.value * 100, result))
        elif result.sensitivity:
            plotted["undetectable"].append((result.sensitivity * 100, result))
    values = [v for group in plotted.values() for v, _ in group] + [line_pct]
    # At least one decade either side of the line, so a single result still reads against it.
    low = min(math.floor(math.log10(min(values))), math.log10(line_pct) - 1) - 0.3
    high = max(math.ceil(math.log10(max(values))), math.log10(line_pct) + 2) + 0.3
    ticks = [10.0 ** k for k in range(math.ceil(low), math.floor(high) + 1)]
    data = phase_band_traces(assessment, "y2", legend=False)
    data.append({
        "type": "scatter", "x": [_iso(start), _iso(end)], "y": [line_pct, line_pct], "mode": "lines",
        "name": f"MRD-negative line ({percent_text(rules.mrd_negative_below)})",
        "line": {"color": "#b91c1c", "width": 1.5, "dash": "dash"}, "hoverinfo": "name",
    })
    hovers: list[dict[str, Any]] = []
    if plotted["detected"]:
        group = plotted["detected"]
        data.append({
            "type": "scatter", "x": [_iso(r.date) for _, r in group], "y": [v for v, _ in group],
            "mode": "lines+markers", "name": "MRD detected", "line": {"color": "#1f3a5f", "width": 2},
            "marker": {"size": 10, "color": [MRD_COLOURS["positive"] if v >= line_pct else MRD_COLOURS["negative"]
                                             for v, _ in group], "line": {"color": "#ffffff", "width": 1}},
            "hoverinfo": "text",
        })
        hovers.append(_mrd_hover(len(data) - 1, group))
    if plotted["undetectable"]:
        group = plotted["undetectable"]
        data.append({
            "type": "scatter", "x": [_iso(r.date) for _, r in group], "y": [v for v, _ in group],
            "mode": "markers", "name": "Undetectable (drawn at assay sensitivity)",
            "marker": {"size": 12, "symbol": "triangle-down-open", "color": MRD_COLOURS["negative"],
                       "line": {"width": 2}},
            "hoverinfo": "text",
        })
        hovers.append(_mrd_hover(len(data) - 1, group))
    layout = _base_layout(
        320,
        xaxis=_date_axis(start, end),
        yaxis={"type": "log", "range": [low, high], "title": {"text": "MRD (% of cells)"}, "tickvals": ticks,
               "ticktext": [percent_text(t / 100) for t in ticks], "showgrid": True, "gridcolor": GRID,
               "fixedrange": True, "automargin": True},
        yaxis2=_band_axis("y"),
        margin={"l": 80, "r": 24, "t": 16, "b": 48},
    )
    rows = [[_iso(r.date), percent_text(r.value), r.status.replace("_", " "), r.method or "", r.sample or "",
             percent_text(r.sensitivity) if r.sensitivity else "", (r.timepoint or "").replace("_", " ")]
            for r in series]
    latest = assessment.mrd.latest
    description = f"MRD over time on a log scale with the {percent_text(rules.mrd_negative_below)} line."
    if latest is not None:
        description += f" Latest ({_iso(latest.date)}): {percent_text(latest.value)}, {latest.status.replace('_', ' ')}."
    return Chart(
        id="chart-mrd",
        title="Measurable residual disease (MRD)",
        description=description,
        figure={"data": data, "layout": layout, "config": CONFIG, "hover": hovers,
                "narrow": _narrow({"margin": {"l": 60, "r": 8, "t": 16, "b": 40}})},
        table=ChartTable("MRD results", ["Date", "MRD", "Status", "Method", "Sample", "Sensitivity", "Time point"], rows),
        notes=[f"Negative means below {percent_text(rules.mrd_negative_below)} with an assay reaching "
               f"{percent_text(rules.mrd_required_sensitivity)}; a negative from a less sensitive assay is not evaluable."],
    )


def _mrd_hover(trace: int, group: list[tuple[float, MrdResult]]) -> dict[str, Any]:
    """The columns app.js writes an MRD result's hover text from ("mrd"); method, sample and time
    point may be typed by a person, and app.js escapes them like every other text."""
    return {"trace": trace, "kind": "mrd", **{name: [getattr(r, name) for _, r in group]
                                              for name in ("value", "status", "method", "sample", "timepoint", "sensitivity")}}


def patient_charts(assessment: Assessment, rules: RuleSet = DEFAULT_RULES) -> dict[str, Chart | None]:
    """The three charts of the patient page (a chart is None when there is nothing to draw)."""
    return {"status": status_chart(assessment), "counts": counts_chart(assessment), "mrd": mrd_chart(assessment, rules)}
