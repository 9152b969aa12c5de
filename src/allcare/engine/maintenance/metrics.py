"""Maintenance metrics, defined as allMT defines them so the figures can be cross-checked.

- Visit weight: weeks from a count to the next one; the last count weighs one week.
- Weighted mean count: sum(weight x count) / sum(weight) (wmANC for an ANC-steered family).
- Dose intensity (DI): prescribed weekly dose / protocol weekly dose x 100 (mercaptopurine: the
  protocol's daily mg/m2 x 7; methotrexate: its weekly mg/m2).
- Antimetabolite DI: the weighted mean of the per-count product of both DIs (allMT's code; its
  manual describes a product of the two means instead, which differs).
- Time in the target range: the weighted share of counts inside the band (each count holds
  until the next one, as the visit weights do).
- Maximum tolerated dose (MTD): the highest weekly mercaptopurine dose given without
  interruption for the family's span (ICiCLe-ALL-14: 6 weeks), the reference of "50% of MTD".
"""

from __future__ import annotations

import datetime as dt
import itertools
import operator
from collections.abc import Callable
from dataclasses import dataclass

from .doses import DoseSpan


def visit_weights(dates: list[dt.date]) -> list[float]:
    """Weeks from each count to the next; the last count weighs one week."""
    return [(later - earlier).days / 7.0 for earlier, later in itertools.pairwise(dates)] + ([1.0] if dates else [])


def weighted_mean(weights: list[float], values: list[float | None]) -> float | None:
    """sum(w x v) / sum(w) over the entries with a value; None when they have no weight."""
    if None not in values:  # every entry has a value (the usual column): the same sums, in C
        total = sum(weights)
        return None if total <= 0 else sum(map(operator.mul, weights, values)) / total
    total = sum([w for w, v in zip(weights, values, strict=True) if v is not None])
    return None if total <= 0 else sum([w * v for w, v in zip(weights, values, strict=True) if v is not None]) / total


@dataclass(frozen=True)
class Metrics:
    weeks: float | None
    time_in_target_pct: float | None
    weighted_mean_count: float | None
    mercaptopurine_di_pct: float | None
    methotrexate_di_pct: float | None
    antimetabolite_di_pct: float | None


def metrics(weights: list[float], in_target: list[bool | None], steered: list[float | None],
            mercaptopurine_di: list[float | None], methotrexate_di: list[float | None]) -> Metrics:
    """The metrics of the maintenance counts, from their columns (one entry per count, in date order):
    visit weights, whether the steering count was in the band, the steering count, and both dose intensities."""
    judged = sum(weights) if None not in in_target else sum(
        [w for w, inside in zip(weights, in_target, strict=True) if inside is not None])
    ttr = None if judged <= 0 else 100.0 * sum(itertools.compress(weights, in_target)) / judged
    both = [None if a is None or b is None else a * b / 100.0
            for a, b in zip(mercaptopurine_di, methotrexate_di, strict=True)]
    return Metrics(
        weeks=sum(weights) if weights else None,
        time_in_target_pct=ttr,
        weighted_mean_count=weighted_mean(weights, steered),
        mercaptopurine_di_pct=weighted_mean(weights, mercaptopurine_di),
        methotrexate_di_pct=weighted_mean(weights, methotrexate_di),
        antimetabolite_di_pct=weighted_mean(weights, both),
    )


def maximum_tolerated(periods: list[tuple[dt.date, dt.date, float]], min_days: int) -> float | None:
    """Highest weekly dose held (at or above it) without interruption for ``min_days``.

    ``periods`` are (first day, last day, weekly dose) in date order; a gap between
    periods, or a dose of 0, interrupts.
    """
    levels = sorted({dose for _, _, dose in periods if dose > 0}, reverse=True)
    for level in levels:
        run_start = previous_end = None
        for start, end, dose in periods:
            continuing = previous_end is not None and (start - previous_end).days <= 1
            if dose >= level:
                if run_start is None or not continuing:
                    run_start = start
                if (end - run_start).days + 1 >= min_days:
                    return level
            else:
                run_start = None
            previous_end = end
    return None


def escalation_start(history: list[DoseSpan], weekly_of: Callable[[DoseSpan], float | None], before: dt.date) -> dt.date | None:
    """Start of the latest mercaptopurine dose on or before ``before`` that was higher than the one it replaced."""
    latest = None
    for previous, current in itertools.pairwise(history):
        if current.start > before:
            break
        old, new = weekly_of(previous), weekly_of(current)
        if old is not None and new is not None and new > old:
            latest = current.start
    return latest
