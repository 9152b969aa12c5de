"""What several risk rules read from the case: the presenting WBC, treatment dates, MRD time points.

Each is answered once here so that NCI/Rome, the adult factors and Interfant
agree on which blood count is "the presenting WBC" and which MRD is "day 29".
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..assessment import Diagnosis, MrdResult, MrdSummary
from ..case import Cbc, Quantity
from ..case.bounds import describe
from ..explain import Conclusion, EvidenceRef
from ..response.mrd import level_at_least, value_text
from ..timepoints import timepoint_of
from ..view import CaseView, Indexed

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """One risk output with the conclusion that explains it and the factors that drove it."""

    value: T
    conclusion: Conclusion
    factors: list[str] = field(default_factory=list)


# Three-valued logic (True / False / None = unknown) -----------------------------------------
def any3(values: list[bool | None]) -> bool | None:
    if any(v is True for v in values):
        return True
    return False if all(v is False for v in values) else None


def all3(values: list[bool | None]) -> bool | None:
    if any(v is False for v in values):
        return False
    return True if all(v is True for v in values) else None


# Formatting ---------------------------------------------------------------------------------
def years(age: float) -> str:
    """Age truncated (not rounded) to 2 decimals, so 9.999 y never reads as '10'."""
    shown = f"{math.floor(age * 100) / 100:.2f}".rstrip("0").rstrip(".")
    return f"{shown} y"


def num(value: float) -> str:
    return f"{value:g}"


def pct(fraction: float) -> str:
    return f"{fraction * 100:g}%"


# Lineage ------------------------------------------------------------------------------------
def is_mixed(diagnosis: Diagnosis) -> bool:
    return diagnosis.disease == "MPAL" or (diagnosis.lineage is not None and diagnosis.lineage not in ("B", "T"))


# Presenting WBC -----------------------------------------------------------------------------
def presenting_wbc(view: CaseView, treatment_start: dt.date | None) -> Indexed[Cbc] | None:
    """The first diagnostic blood count: the first WBC on/after diagnosis, before any treatment.

    The highest pre-treatment WBC is sometimes used; allcare takes the first
    diagnostic count because later pre-treatment counts may already reflect
    hydration or leukapheresis. A count on the first treatment day is taken as
    drawn before the first dose. When there is none, the latest count in the
    few days before the diagnosis date is used (the count that led to the marrow),
    never one drawn after treatment started: steroids given before the diagnostic
    marrow lower the WBC, so the count before them is the presenting one.
    """
    diagnosed = view.diagnosis_date
    if diagnosed is None:
        return None
    after = [c for c in view.between("cbc", diagnosed, _work_up_end(view, diagnosed, treatment_start))
             if c.finding.wbc is not None]
    if after:
        return after[0]
    earliest = diagnosed - dt.timedelta(days=view.rules.presenting_wbc_lookback_days)
    latest = diagnosed - dt.timedelta(days=1)
    if treatment_start is not None and treatment_start < latest:
        latest = treatment_start
    before = [c for c in view.between("cbc", earliest, latest) if c.finding.wbc is not None]
    return before[-1] if before else None


def _work_up_end(view: CaseView, diagnosed: dt.date, treatment_start: dt.date | None) -> dt.date:
    """The last day a diagnostic blood count may be drawn: the treatment start; without a recorded
    treatment, the diagnostic window (``diagnostic_window_days``, as for the episode's work-up), ending
    the day before a later marrow (a response marrow shows treatment was given)."""
    if treatment_start is not None:
        return treatment_start
    end = diagnosed + dt.timedelta(days=view.rules.diagnostic_window_days)
    later = [m.date for m in view.between("marrow", diagnosed + dt.timedelta(days=1), end)]
    return min([end, *(d - dt.timedelta(days=1) for d in later)])


@dataclass(frozen=True)
class WbcAgainstLine:
    """Where the presenting WBC lies against one line, read on every count of the presenting day."""

    side: bool | None
    conflicts: list[str] = field(default_factory=list)
    refs: list[EvidenceRef] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def presenting_wbc_against(view: CaseView, count: Indexed[Cbc] | None,
                           side: Callable[[float, str | None], bool | None]) -> WbcAgainstLine:
    """``side`` (a three-valued line test) of the presenting WBC, over every count of its day (unknown
    without a presenting count).

    Counts of one day carry no time, so none of them is "the first": when they fall on both sides of
    the line the presenting WBC is contradictory and decides nothing (the conflicts name them). Otherwise
    the presenting count's own side is the answer.
    """
    if count is None:
        return WbcAgainstLine(None)
    day = view.cbcs_on(count.date, "wbc")
    sides = {c.index: side(c.finding.wbc.value, c.finding.wbc.comparator) for c in day}
    known = {v for v in sides.values() if v is not None}
    if len(known) > 1:
        shown = [f"presenting WBC {wbc_text(c.finding.wbc)} x10^9/L (blood count #{c.index} on {c.date})" for c in day]
        refs = [c.ref(f"presenting WBC {wbc_text(c.finding.wbc)} x10^9/L") for c in day if c is not count]
        return WbcAgainstLine(None, shown, refs, [f"which count of {count.date} is the presenting WBC (or a corrected record)"])
    return WbcAgainstLine(sides[count.index])


def wbc_text(q: Quantity) -> str:
    """'12.4' or '> 100' (a bound as the lab wrote it)."""
    return describe(q.value, q.comparator)


# Peripheral blast response ------------------------------------------------------------------
@dataclass(frozen=True)
class BlastResponse:
    """Absolute peripheral blasts on the count that judges a prednisone response."""

    poor: bool | None
    text: str
    refs: list[EvidenceRef] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def blast_response(view: CaseView, reference: dt.date, what: str) -> BlastResponse:
    """Blood blasts (WBC x blasts %) on the first day within the window from ``reference`` that has a usable count.

    Counts of one day carry no order: when that day's counts fall on both sides of the line the response
    is contradictory and decides nothing.
    """
    rules = view.rules
    last = reference + dt.timedelta(days=rules.prephase_response_window_days)
    usable = [(item, absolute) for item in view.between("cbc", reference, last)
              if (absolute := _absolute_blasts(item.finding)) is not None]
    if not usable:
        need = f"blood count with WBC and blast % {what} ({reference.isoformat()} to {last.isoformat()})"
        return BlastResponse(None, "prednisone response unknown", missing=[need])
    day = [(item, absolute) for item, absolute in usable if item.date == usable[0][0].date]
    readings = [(item, absolute >= rules.prephase_poor_blasts_from, _blasts_summary(item.finding, absolute))
                for item, absolute in day]
    if len({poor for _, poor, _ in readings}) > 1:
        shown = "; ".join(summary for _, _, summary in readings)
        return BlastResponse(None, f"prednisone response contradictory: the counts of {day[0][0].date} disagree ({shown})",
                             [item.ref(summary) for item, _, summary in readings],
                             [f"which blood count of {day[0][0].date} judges the prednisone response (the counts disagree)"])
    item, poor, summary = readings[0]
    sign = ">=" if poor else "<"
    text = f"{'poor' if poor else 'good'} prednisone response: {summary} {what} ({sign} {num(rules.prephase_poor_blasts_from)} x10^9/L)"
    return BlastResponse(poor, text, [item.ref(summary)])


def _absolute_blasts(f: Cbc) -> float | None:
    """Blood blasts in 10^9/L (0 with 0% blasts even without a WBC); None when a bound or a missing value hides it."""
    if f.blasts_pct is None or f.blasts_pct.comparator:
        return None
    if f.blasts_pct.value == 0:
        return 0.0
    if f.wbc is None or f.wbc.comparator:
        return None
    return f.wbc.value * f.blasts_pct.value / 100


def _blasts_summary(f: Cbc, absolute: float) -> str:
    assert f.blasts_pct is not None  # a count without a blast % has no absolute blast count
    return f"blood blasts {num(round(absolute, 3))} x10^9/L" + (
        f" (WBC {num(f.wbc.value)} x {num(f.blasts_pct.value)}%)" if f.wbc is not None else " (0% blasts)")


# MRD ----------------------------------------------------------------------------------------
def mrd_ref(result: MrdResult) -> EvidenceRef:
    return EvidenceRef(index=result.index, date=result.date, type="mrd", summary=mrd_text(result))


def mrd_text(result: MrdResult) -> str:
    where = result.sample or "sample not stated"
    value = value_text(result) if result.value is not None else result.status
    when = f", {result.timepoint}" if result.timepoint else ""
    return f"MRD {value} ({where}{when}, {result.status})"


@dataclass(frozen=True)
class MrdSide:
    """Whether a time point's MRD is at or above a line, read on every result of its sample that day."""

    side: bool | None
    disagreement: str | None = None
    """Set when the day's results (flow and PCR, say) fall on both sides of the line: they decide nothing."""


def mrd_at_least(mrd: MrdSummary, chosen: MrdResult, line: float) -> MrdSide:
    """``chosen`` >= ``line``, unless another result of its day and sample lies on the other side of the line:
    discordant methods are not ordered by how the record lists them (the protocol names its method)."""
    day = [r for r in mrd.series if r.date == chosen.date and r.sample == chosen.sample]
    if len({side for side in (level_at_least(r, line) for r in day) if side is not None}) > 1:
        shown = "; ".join(f"{value_text(r)} ({r.method or 'method not stated'}, {r.status})" for r in day)
        return MrdSide(None, f"the {chosen.sample or 'unstated-sample'} MRD results of {chosen.date} disagree at "
                             f"{pct(line)}: {shown}")
    return MrdSide(level_at_least(chosen, line))


def pick_mrd(
    mrd: MrdSummary, point: str, sample: str | None, start: dt.date | None, window: tuple[int, int] | None
) -> MrdResult | None:
    """The first MRD labelled with this time point (:mod:`..timepoints`), else the first dated in the
    window after ``start`` that is not labelled as another time point."""
    series = sorted(mrd.series, key=lambda r: (r.date, r.index))
    usable = [r for r in series if sample is None or r.sample == sample]
    for r in usable:
        if timepoint_of(r.timepoint) == point:
            return r
    if start is None or window is None:
        return None
    low, high = min(window), max(window)
    for r in usable:
        if low <= (r.date - start).days <= high and timepoint_of(r.timepoint) is None:
            return r
    return None
