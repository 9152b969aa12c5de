"""Dose findings read as a history: which dose of an agent applied on a date, and how much.

A dose finding is either one administration (``frequency: once``) or a regimen
(daily mercaptopurine, weekly methotrexate) that runs from ``start`` until its
``end`` or until the next dose finding of the same agent replaces it, as a
prescription chart reads. Amounts per m2 or per kg become mg with the body
size of the day (:mod:`.body_size`); without it they stay per m2, and what
needs mg says so instead of guessing.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from ..case import Dose
from ..view import CaseView, Indexed
from .body_size import Size

# Administrations per week of each regimen (a single dose has none).
PER_WEEK = {"daily": 7.0, "weekly": 1.0, "twice_weekly": 2.0, "every_2_weeks": 0.5, "every_3_weeks": 1 / 3, "every_4_weeks": 0.25}
# Days between administrations, for counting the doses of a finished regimen.
INTERVAL_DAYS = {"daily": 1, "weekly": 7, "twice_weekly": 3.5, "every_2_weeks": 14, "every_3_weeks": 21, "every_4_weeks": 28}


@dataclass(frozen=True)
class DoseSpan:
    """One dose finding with the days it applied (its end, or the day before the agent's next dose)."""

    item: Indexed[Dose]
    start: dt.date
    end: dt.date | None

    @property
    def dose(self) -> Dose:
        return self.item.finding

    def covers(self, when: dt.date) -> bool:
        return self.start <= when and (self.end is None or when <= self.end)

    def per_week(self) -> float | None:
        """Administrations per week (days_per_week for a daily drug given on fewer days); None for a single dose."""
        dose = self.dose
        if dose.frequency == "daily" and dose.days_per_week is not None:
            return float(dose.days_per_week)
        return PER_WEEK.get(dose.frequency)

    def administrations(self, until: dt.date) -> float:
        """How many administrations fell from start to its end (or ``until``), for cumulative doses."""
        dose = self.dose
        if dose.frequency == "once":
            return 1.0
        last = min(self.end, until) if self.end is not None else until
        days = (last - self.start).days
        if days < 0:
            return 0.0
        count = float(int(days // INTERVAL_DAYS[dose.frequency]) + 1)
        if dose.frequency == "daily" and dose.days_per_week is not None:
            count = round(count * dose.days_per_week / 7.0, 2)
        return count


def spans(view: CaseView, agent: str) -> list[DoseSpan]:
    """Every dose of ``agent`` in date order, each ending where the next one starts."""
    items = sorted((x for x in view.of_type("dose") if x.finding.agent == agent), key=lambda x: (x.finding.start, x.index))
    starts = [x.finding.start for x in items]
    result = []
    for item in items:
        end = item.finding.end
        later = bisect_right(starts, item.finding.start)  # the first dose that started after this one
        if later < len(items) and item.finding.frequency != "once":
            replaced = starts[later] - dt.timedelta(days=1)
            end = replaced if end is None else min(end, replaced)
        elif item.finding.frequency == "once":
            end = item.finding.start
        result.append(DoseSpan(item, item.finding.start, end))
    return result


def applying(history: list[DoseSpan], dates: list[dt.date]) -> list[DoseSpan | None]:
    """The dose that applied on each of ``dates`` (in date order): the latest that started on or before
    it, if it had not ended; None without one.

    Each span is the latest from its start until the next span starts, and applies until its end
    within that stretch; dates and spans are both in date order, so each span's rows are found by
    bisecting the dates (counts come far more often than doses change).
    """
    applied: list[DoseSpan | None] = [None] * len(dates)
    for n, span in enumerate(history):
        lo = bisect_left(dates, span.start)
        hi = bisect_left(dates, history[n + 1].start) if n + 1 < len(history) else len(dates)
        if span.end is not None:
            hi = min(hi, bisect_right(dates, span.end))
        if hi > lo:
            applied[lo:hi] = [span] * (hi - lo)
    return applied


def mg_per_administration(span: DoseSpan, size: Size) -> float | None:
    """The amount of one administration in mg (None: units, or the body size it needs is unknown)."""
    quantity = span.dose.dose
    if quantity.unit == "mg":
        return quantity.value
    if quantity.unit == "mg/m2":
        return None if size.bsa is None else quantity.value * size.bsa
    if quantity.unit == "mg/kg":
        return None if size.weight_kg is None else quantity.value * size.weight_kg
    return None


def mg_m2_per_administration(span: DoseSpan, size: Size) -> float | None:
    """The amount of one administration per m2 (None: units per kg, or no body size for an amount in mg)."""
    quantity = span.dose.dose
    if quantity.unit == "mg/m2":
        return quantity.value
    if quantity.unit == "mg":
        return None if not size.bsa else quantity.value / size.bsa
    return None


def weekly(span: DoseSpan, size: Size) -> tuple[float | None, float | None]:
    """(mg per week, mg/m2 per week) of a regimen; (None, None) for a single dose."""
    per_week = span.per_week()
    if per_week is None:
        return None, None
    mg = mg_per_administration(span, size)
    per_m2 = mg_m2_per_administration(span, size)
    return (None if mg is None else mg * per_week), (None if per_m2 is None else per_m2 * per_week)


def describe(dose: Dose) -> str:
    text = f"{dose.agent} {dose.dose.value:g} {dose.dose.unit}"
    if dose.frequency != "once":
        text += f" {dose.frequency.replace('_', ' ')}"
        if dose.days_per_week is not None:
            text += f" ({dose.days_per_week} days a week)"
    if dose.route:
        text += f" {dose.route}"
    return text
