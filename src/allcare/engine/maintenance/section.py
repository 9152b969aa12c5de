"""The maintenance section: the course against the protocol family's targets.

Maintenance is the treatment block(s) with phase ``maintenance``. Every blood
count in it is placed against the family's lines (:mod:`.counts`) and paired
with the mercaptopurine and methotrexate doses that applied that day
(:mod:`.doses`), giving dose intensities, time in the target range and the
weighted means allMT computes (:mod:`.metrics`); the latest count gets the
family's dose-adjustment suggestion (:mod:`.suggestion`).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Callable

from .. import sources
from ..assessment import PhaseSpan
from ..case import Cbc, Treatment
from ..columns import fold
from ..explain import Conclusion, conclude, undetermined
from ..maintenance_targets import MaintenanceTargets
from ..monitoring_output import (
    MAINTENANCE_ANALYTES,
    DosePeriod,
    DoseSuggestion,
    Maintenance,
    MaintenanceCounts,
    MaintenanceRows,
)
from ..response.phases import effective_end
from ..view import CaseView, Indexed
from .body_size import Size, size_on, sizes_on
from .counts import Column, band_text, in_target, zones
from .doses import DoseSpan, applying, spans, weekly
from .metrics import Metrics, escalation_start, maximum_tolerated, metrics, visit_weights
from .suggestion import History, suggest

MERCAPTOPURINE, METHOTREXATE = "mercaptopurine", "methotrexate"
TOPIC = "maintenance"


def maintenance_span(view: CaseView, spans: list[PhaseSpan]) -> tuple[dt.date, dt.date | None, bool, list[Indexed[Treatment]]] | None:
    """(start, last day or None while open, running on ``as_of``, the treatment blocks) of maintenance.

    The blocks' ends are the course's (:func:`..response.phases.effective_end`): an open-ended block ends
    the day before the next backbone block starts (a relapse block, say). None without a maintenance block.
    """
    found = [n for n, span in enumerate(spans) if span.phase == "maintenance"]
    if not found:
        return None
    last_days: list[dt.date | None] = []
    for n in found:
        end = effective_end(spans, n)
        last_days.append(end if end is None or spans[n].end is not None else end - dt.timedelta(days=1))
    known = [e for e in last_days if e is not None]
    end = max(known) if len(known) == len(last_days) else None  # open while any block is
    indices = {spans[n].index for n in found}
    blocks = [x for x in view.of_type("treatment") if x.index in indices]
    return spans[found[0]].start, end, any(spans[n].running for n in found), blocks


def assess_maintenance(view: CaseView, spans: list[PhaseSpan]) -> Maintenance | None:
    """The maintenance section; ``spans`` are the course's treatment blocks (:func:`..response.phases.phase_spans`)."""
    span = maintenance_span(view, spans)
    if span is None:
        return None
    start, end, running, blocks = span
    t: MaintenanceTargets = view.rules.maintenance
    last_day = min(end, view.as_of) if end is not None else view.as_of
    mp_history, mtx_history = _regimen(view, MERCAPTOPURINE, start), _regimen(view, METHOTREXATE, start)
    rows, anc = _table(view, t, start, last_day, mp_history, mtx_history)
    first = rows.table.first_row
    cbcs: list[Indexed[Cbc]] = view.counts.items[first:first + len(rows)]  # the findings of the table's rows
    mp_di, mtx_di = rows.column("mercaptopurine_di_pct"), rows.column("methotrexate_di_pct")
    m = metrics(rows.column("weight_weeks"), rows.column("in_target"), rows.steered(t.steering), mp_di, mtx_di)
    at_start = _weekly_at_start(view)
    history = _history(t, mp_history, mtx_history, last_day, at_start, rows.dates)
    suggestion = suggest(t, rows, anc, view.as_of, view.rules.maintenance_count_max_age_days, history) if running else None
    with_dose = sum([a is not None or b is not None for a, b in zip(mp_di, mtx_di, strict=True)]) if mp_history or mtx_history else 0
    # the count the suggestion read: the first of its date (rows and findings are in the same order)
    read = cbcs[bisect_left(rows.dates, suggestion.date)] if suggestion is not None else None
    conclusions = _conclusions(view, t, blocks, cbcs, with_dose, m, suggestion, read, bool(mp_history or mtx_history), running)
    return Maintenance(
        family=t.family, family_label=t.label, source=t.source, steering=t.steering,
        target_low=t.target_low, target_high=t.target_high, target_low_inclusive=t.target_low_inclusive,
        start=start, end=end, running=running,
        counts=rows.table, doses=_periods([*mp_history, *mtx_history], at_start),
        weeks_observed=_round(m.weeks), time_in_target_pct=_round(m.time_in_target_pct),
        weighted_mean_count=_round(m.weighted_mean_count, 3), mercaptopurine_di_pct=_round(m.mercaptopurine_di_pct),
        methotrexate_di_pct=_round(m.methotrexate_di_pct), antimetabolite_di_pct=_round(m.antimetabolite_di_pct),
        mercaptopurine_mtd_mg_week=history.mtd_mg_week, suggestion=suggestion, conclusions=conclusions,
    )


def _table(view: CaseView, t: MaintenanceTargets, start: dt.date, last_day: dt.date, mp_history: list[DoseSpan],
           mtx_history: list[DoseSpan]) -> tuple[MaintenanceRows, Column]:
    """The maintenance counts (the rows of the view's blood-count columns from ``start`` to ``last_day``)
    as a table joined with its counts, and the ANC column (values with their comparators) the suggestion reads."""
    counts = view.counts
    lo, hi = bisect_left(counts.dates, start), bisect_right(counts.dates, last_day)
    dates = counts.dates[lo:hi]
    if not dates:
        return MaintenanceRows(MaintenanceCounts(), [], [], [], [], []), Column([])

    def column(analyte: str) -> Column:
        values = counts.values.get(analyte)
        if values is None:
            return Column([None] * len(dates))
        comparators = counts.comparators[analyte][lo:hi]
        return Column(values[lo:hi], comparators if any(comparators) else None)

    anc, platelets, wbc = map(column, MAINTENANCE_ANALYTES)
    weights = visit_weights(dates)
    rounded = {weight: round(weight, 4) for weight in set(weights)}  # a few distinct gaps between counts
    mp, mtx = applying(mp_history, dates), applying(mtx_history, dates)
    # only a dose needs the body size of the day, once for both agents
    sizes = sizes_on(view, [None if a is None and b is None else when for when, a, b in zip(dates, mp, mtx, strict=True)])
    mp_mg, mp_di = _dose_columns(mp, sizes, t.mercaptopurine_mg_m2_day * 7)
    mtx_mg, mtx_di = _dose_columns(mtx, sizes, t.methotrexate_mg_m2_week)
    table = MaintenanceCounts(
        first_row=lo, row_count=len(dates),
        zones=fold(zones(t, anc, platelets, wbc)),
        in_target=fold(in_target(t, anc if t.steering == "anc" else wbc)),
        weight_weeks=fold([rounded[weight] for weight in weights]),
        mercaptopurine_mg_week=fold(mp_mg), mercaptopurine_di_pct=fold(mp_di),
        methotrexate_mg_week=fold(mtx_mg), methotrexate_di_pct=fold(mtx_di),
    )
    return MaintenanceRows(table, counts.indexes[lo:hi], dates, anc.values, platelets.values, wbc.values), anc


def _dose_columns(applied: list[DoseSpan | None], sizes: list[Size | None],
                  protocol_week_mg_m2: float) -> tuple[list[float | None], list[float | None]]:
    """(mg per week, dose intensity %) of the agent's dose that applied at each count (``applied``,
    :func:`.doses.applying`), with the body size of the count's day; None without a dose.

    Counts come more often than doses change and the body size changes more slowly still: each
    (dose, body size) pair is worked out once."""
    worked: dict[tuple[int, float | None, int], tuple[float | None, float | None]] = {}
    mg: list[float | None] = []
    di: list[float | None] = []
    for span, size in zip(applied, sizes, strict=True):
        if span is None or size is None:  # a size is looked up for every day a dose applied
            cell: tuple[float | None, float | None] = (None, None)
        else:
            key = (id(span), size.bsa, id(size.weight))  # what a dose per m2 or per kg reads
            found = worked.get(key)
            cell = worked[key] = _di(span, size, protocol_week_mg_m2) if found is None else found
        mg.append(cell[0])
        di.append(cell[1])
    return mg, di


def _regimen(view: CaseView, agent: str, start: dt.date) -> list[DoseSpan]:
    """The agent's daily or weekly doses that ran into maintenance (a single high-dose infusion is not one)."""
    return [s for s in spans(view, agent) if s.dose.frequency != "once" and (s.end is None or s.end >= start)]


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _di(span: DoseSpan, size: Size, protocol_week_mg_m2: float) -> tuple[float | None, float | None]:
    """(mg per week, dose intensity %) of ``span``'s dose on a day of ``size``; a held dose is 0 mg, 0%."""
    mg, mg_m2 = weekly(span, size)
    di = None if mg_m2 is None else 100.0 * mg_m2 / protocol_week_mg_m2
    return (None if mg is None else round(mg, 2)), (None if di is None else round(di, 2))


WeeklyAtStart = Callable[[DoseSpan], tuple[float | None, float | None]]


def _weekly_at_start(view: CaseView) -> WeeklyAtStart:
    """(mg, mg/m2) per week of a dose with the body size of its first day, worked out once per dose
    (the MTD, the escalation and the dose periods all read it)."""
    worked: dict[int, tuple[float | None, float | None]] = {}

    def of(span: DoseSpan) -> tuple[float | None, float | None]:
        found = worked.get(id(span))
        if found is None:
            found = worked[id(span)] = weekly(span, size_on(view, span.start))
        return found
    return of


def _held(history: list[DoseSpan], dates: list[dt.date]) -> list[bool]:
    """Was the agent held on each of ``dates``: after its first recorded dose, a dose of 0 applied or
    none did (stopped, or a gap between doses)? A date before any recorded dose is not known to be held."""
    if not history:
        return [False] * len(dates)
    first = history[0].start
    return [when >= first and (span is None or span.dose.dose.value == 0)
            for when, span in zip(dates, applying(history, dates), strict=True)]


def _history(t: MaintenanceTargets, mp: list[DoseSpan], mtx: list[DoseSpan], until: dt.date,
             at_start: WeeklyAtStart, dates: list[dt.date]) -> History:
    def of(span: DoseSpan) -> float | None:
        return at_start(span)[0]

    def mtd(history: list[DoseSpan]) -> float | None:
        if t.mtd_min_days is None:
            return None
        periods = []
        for span in history:
            if span.start > until:
                break
            mg = of(span)
            if mg is None:
                return None  # a dose the body size cannot convert: the MTD cannot be read
            periods.append((span.start, min(span.end or until, until), mg))
        value = maximum_tolerated(periods, t.mtd_min_days)
        return None if value is None else round(value, 2)

    mp_held, mtx_held = _held(mp, dates), _held(mtx, dates)
    held = {when: [agent for agent, off in ((MERCAPTOPURINE, a), (METHOTREXATE, b)) if off]
            for when, a, b in zip(dates, mp_held, mtx_held, strict=True) if a or b}
    return History(mtd_mg_week=mtd(mp), methotrexate_mtd_mg_week=mtd(mtx), escalated_on=escalation_start(mp, of, until),
                   held_on=held)


def _periods(history: list[DoseSpan], at_start: WeeklyAtStart) -> list[DosePeriod]:
    periods = []
    for span in sorted(history, key=lambda s: (s.start, s.item.index)):
        mg, mg_m2 = at_start(span)
        dose = span.dose
        periods.append(DosePeriod(
            index=span.item.index, agent=dose.agent, start=span.start, end=span.end, dose=dose.dose.value,
            unit=dose.dose.unit, frequency=dose.frequency,
            weekly_mg=None if mg is None else round(mg, 2), weekly_mg_m2=None if mg_m2 is None else round(mg_m2, 2),
        ))
    return periods


def _conclusions(view: CaseView, t: MaintenanceTargets, blocks: list[Indexed[Treatment]], cbcs: list[Indexed[Cbc]],
                 with_dose: int, m: Metrics, suggestion: DoseSuggestion | None, read: Indexed[Cbc] | None, doses_recorded: bool,
                 running: bool) -> list[Conclusion]:
    out = []
    block_refs = [x.ref(f"maintenance from {x.finding.start}" + (f" to {x.finding.end}" if x.finding.end else "")) for x in blocks]
    out.append(conclude(
        f"{TOPIC}.targets", t.family, "MAINT.TARGETS", t.source,
        f"Maintenance counts are read against the {t.label} targets: {band_text(t)}"
        + (f"; doses held at ANC <= {t.hold_anc_at_or_below:g} or platelets <= {t.hold_platelets_at_or_below:g}, "
           f"reduced at ANC <= {t.reduce_anc_at_or_below:g} or platelets <= {t.reduce_platelets_at_or_below:g}"
           if t.dose_steps else "; the family's dose steps are not encoded (direction only)")
        + f". Protocol doses: mercaptopurine {t.mercaptopurine_mg_m2_day:g} mg/m2/day, methotrexate "
          f"{t.methotrexate_mg_m2_week:g} mg/m2/week."
        + ("" if cbcs or running else " No blood count was recorded during maintenance."),
        block_refs,
    ))
    if not cbcs:
        # A count is asked for only while maintenance runs: for a finished maintenance it changes
        # nothing now, so there is no undecided time in target (which would list it as missing).
        if running:
            out.append(undetermined(f"{TOPIC}.time_in_target", "MAINT.TIME_IN_TARGET", sources.ALLMT_METRICS,
                                    ["a blood count during maintenance"], evidence=block_refs))
        return out
    last = cbcs[-1].ref(f"latest maintenance count ({len(cbcs)} from {cbcs[0].date} to {cbcs[-1].date})")
    if m.time_in_target_pct is None:
        out.append(undetermined(f"{TOPIC}.time_in_target", "MAINT.TIME_IN_TARGET", sources.ALLMT_METRICS,
                                [f"a measured {t.steering.upper()} during maintenance"], evidence=[last]))
    else:
        out.append(conclude(
            f"{TOPIC}.time_in_target", round(m.time_in_target_pct, 1), "MAINT.TIME_IN_TARGET", sources.ALLMT_METRICS,
            f"{t.steering.upper()} in the {t.label} band for {m.time_in_target_pct:.0f}% of {m.weeks:.1f} weighted weeks "
            f"({len(cbcs)} counts; each count holds until the next, the last for one week); time-weighted mean "
            f"{t.steering.upper()} {m.weighted_mean_count:.2f} x10^9/L.",
            [last],
        ))
    if with_dose:
        parts = []
        if m.mercaptopurine_di_pct is not None:
            parts.append(f"mercaptopurine {m.mercaptopurine_di_pct:.0f}%")
        if m.methotrexate_di_pct is not None:
            parts.append(f"methotrexate {m.methotrexate_di_pct:.0f}%")
        if m.antimetabolite_di_pct is not None:
            parts.append(f"antimetabolite (product) {m.antimetabolite_di_pct:.0f}%")
        out.append(conclude(
            f"{TOPIC}.dose_intensity", round(m.antimetabolite_di_pct or m.mercaptopurine_di_pct or 0, 1),
            "MAINT.DOSE_INTENSITY", f"{sources.ALLMT_METRICS}; {t.source}",
            f"Time-weighted dose intensity against the {t.label} protocol doses: {', '.join(parts)} "
            f"({with_dose} of {len(cbcs)} counts with a recorded dose).", [last],
        ))
    elif doses_recorded:  # doses in mg, but no body size to put them per m2
        out.append(undetermined(
            f"{TOPIC}.dose_intensity", "MAINT.DOSE_INTENSITY", sources.ALLMT_METRICS,
            [f"height and weight (or BSA) within {view.rules.body_size_max_age_days} days of the maintenance counts, "
             "to put the doses in mg per m2"],
            evidence=[last],
        ))
    if suggestion is not None and read is not None:
        refs = [read.ref(f"count read by the suggestion ({suggestion.date})")]
        if suggestion.action == "cannot_determine":
            needed = (f"a maintenance blood count (ANC and platelets) from the last "
                      f"{view.rules.maintenance_count_max_age_days} days" if suggestion.rule.endswith("NO_RECENT_COUNT")
                      else f"which blood count of {suggestion.date} is current (or a repeat count)"
                      if suggestion.rule.endswith("SAME_DAY_CONFLICT")
                      else "a blood count taken on mercaptopurine and methotrexate (the latest was taken while one was held)"
                      if suggestion.rule.endswith("COUNT_OFF_DRUG")
                      else f"a measured {t.steering.upper()} and platelet count at the latest maintenance visit")
            out.append(undetermined(f"{TOPIC}.suggestion", suggestion.rule, suggestion.source, [needed],
                                    suggestion.wording, refs, value="cannot_determine"))
        else:
            out.append(conclude(f"{TOPIC}.suggestion", suggestion.action, suggestion.rule, suggestion.source,
                                suggestion.wording, refs))
    return out
