"""A read-only view of a case at one date, shared by all rule modules.

Rules ask the same questions again and again (findings of a type up to the
assessment date, age at diagnosis, the blood count nearest a marrow). Answering
them once here keeps the rule modules short and makes "which findings count"
the same everywhere: a finding dated after ``as_of`` does not exist yet.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from functools import cached_property
from operator import attrgetter, ge, gt, itemgetter, le, lt
from typing import Any, Generic, TypeVar, get_args

import msgspec

from .case import Case, Cbc, Condition, Finding, Marrow, Patient
from .case.bounds import above, at_least, at_most, below
from .case.models import CbcAnalyte
from .dates import exact_years
from .explain import EvidenceRef
from .rules import DEFAULT_RULES, RuleSet

D = TypeVar("D")
F_co = TypeVar("F_co", covariant=True)  # Indexed is frozen: an Indexed[Csf] is an Indexed[Csf | Extramedullary]


class Indexed(msgspec.Struct, Generic[F_co], frozen=True, gc=False):
    """A finding with its position in the case file (how evidence is cited) and its date.

    A case has a hundred or more findings and the view wraps each one, so this
    is a struct built in C rather than a dataclass, and not tracked by the
    garbage collector (it points at a finding, which never points back).
    """

    index: int
    finding: F_co
    date: dt.date

    def ref(self, summary: str) -> EvidenceRef:
        return EvidenceRef(index=self.index, date=self.date, type=self.finding.type, summary=summary)  # type: ignore[attr-defined]


def _shift(when: dt.date, days: int) -> dt.date | None:
    """``when`` moved by ``days``; None when that falls off the calendar (no bound on that side)."""
    try:
        return when + dt.timedelta(days=days)
    except OverflowError:
        return None


_PLAIN_COMPARISON: dict[Callable[[float, str | None, float], bool | None], Callable[[float, float], bool]] = {
    above: gt, below: lt, at_least: ge, at_most: le,
}
"""The plain comparison each bound-aware test reduces to when no value is a bound."""


def default_as_of(case: Case) -> dt.date | None:
    """The default assessment date: the case's latest finding (a treatment's end counts), else its diagnosis date.

    None for a case with nothing dated: the engine reads no clock, so the caller
    must then say which day to assess (the edges pass today's date).
    """
    fields = [f.__dict__ for f in case.findings]
    return _default_as_of(fields, [d["date"] for d in fields], [d["type"] for d in fields], case.diagnosis_date)


def _default_as_of(
    fields: list[dict[str, Any]], dates: list[dt.date], types: list[str], diagnosis_date: dt.date | None
) -> dt.date | None:
    """:func:`default_as_of` from the findings' fields, dates and types (the view reads them once for everything)."""
    ends = [d["end"] for d, kind in zip(fields, types, strict=True) if kind == "treatment" and d["end"] is not None]
    return max(dates + ends, default=None) or diagnosis_date


_DATE_ORDER = attrgetter("date", "index")
"""Date, then position in the case file: the order every rule reads findings in."""
_SORT_FRACTION = 4
"""A combination of finding types with fewer than 1/4 of the findings is sorted; a larger one is picked (``_merged_of``)."""

_CBC_ANALYTES: tuple[CbcAnalyte, ...] = get_args(CbcAnalyte)
_ANALYTES_OF = itemgetter(*_CBC_ANALYTES)


class CountColumns:
    """The blood counts known on ``as_of`` as columns, in date order: built once per view.

    A case holds a hundred or more counts and every analyte is read across all
    of them (grading, charts, alerts), so each is kept as a list of values with
    the same position for the same count, beside the lists of dates and of
    finding indexes. An analyte no count measured has no column.
    """

    __slots__ = ("items", "indexes", "dates", "analytes", "values", "units", "comparators", "lab_lower", "lab_upper", "reported",
                 "reported_units")

    def __init__(self, items: list[Indexed[Cbc]]):
        self.items = items
        self.indexes: list[int] = [item.index for item in items]
        self.dates: list[dt.date] = [item.date for item in items]
        self.analytes: list[CbcAnalyte] = []  # the analytes measured at least once, in the case format's order
        self.values: dict[str, list[float | None]] = {}
        self.units: dict[str, str] = {}
        self.comparators: dict[str, list[str | None]] = {}
        self.lab_lower: dict[str, list[float | None]] = {}
        self.lab_upper: dict[str, list[float | None]] = {}
        self.reported: dict[str, list[int]] = {}  # rows written as an object: a unit, a lab range or a comparator
        self.reported_units: dict[str, dict[int, str]] = {}  # of those rows, the unit the lab wrote
        rows = len(items)
        if not rows:
            return
        # A pydantic model's attributes are slow to read one by one: read each count's analytes at once
        # and turn the rows into one column per analyte (both in C).
        columns = zip(*map(_ANALYTES_OF, [item.finding.__dict__ for item in items]), strict=True)
        for analyte, quantities in zip(_CBC_ANALYTES, columns, strict=True):
            if not any(quantities):
                continue
            self.analytes.append(analyte)
            self.values[analyte] = [None if q is None else q.value for q in quantities]
            self.units[analyte] = next(q for q in quantities if q is not None).unit
            # Only a result written as an object can carry limits or a comparator (``Quantity.reported``).
            special = [row for row, q in enumerate(quantities) if q is not None and q.reported is not None]
            comparators: list[str | None] = [None] * rows
            lower: list[float | None] = [None] * rows
            upper: list[float | None] = [None] * rows
            units: dict[int, str] = {}
            for row in special:
                q = quantities[row]
                comparators[row], lower[row], upper[row] = q.comparator, q.lower_limit, q.upper_limit
                unit = q.reported.get("unit") if q.reported else None
                if isinstance(unit, str):
                    units[row] = unit
            self.reported[analyte] = special
            self.reported_units[analyte] = units
            self.comparators[analyte], self.lab_lower[analyte], self.lab_upper[analyte] = comparators, lower, upper

    def rows_where(self, analyte: str, test: Callable[[float, str | None, float], bool | None], line: float) -> list[int]:
        """The rows whose ``analyte`` certainly passes ``test`` (``bounds.above`` / ``below`` ...) against ``line``.

        A result reported as a bound counts only when the bound settles it.
        """
        values = self.values.get(analyte)
        if values is None:
            return []
        if not self.reported[analyte]:  # exact values only: the test is a plain comparison
            compare = _PLAIN_COMPARISON[test]
            return [row for row, value in enumerate(values) if value is not None and compare(value, line)]
        comparators = self.comparators[analyte]
        return [row for row, value in enumerate(values) if value is not None and test(value, comparators[row], line)]

    def latest(self, analyte: str) -> int | None:
        """The row of the latest count that measured ``analyte``; None when none did."""
        values = self.values.get(analyte, [])
        return next((row for row in range(len(values) - 1, -1, -1) if values[row] is not None), None)


class CaseView:
    """The case as known on ``as_of`` (default: the date of its latest finding)."""

    def __init__(self, case: Case, as_of: dt.date | None = None, rules: RuleSet = DEFAULT_RULES):
        self.case = case
        self.rules = rules
        findings = case.findings
        # A pydantic model's attributes are slow to read one by one: read each finding's fields once.
        fields = [f.__dict__ for f in findings]
        dates = [d["date"] for d in fields]
        types = [d["type"] for d in fields]
        if as_of is None:
            as_of = _default_as_of(fields, dates, types, case.diagnosis_date)
            if as_of is None:
                raise ValueError("the case has no dated finding and no diagnosis date: pass as_of (the assessment date)")
        self.as_of: dt.date = as_of
        # In date order, ties in file order (a stable sort; files are usually in date order already).
        order: Iterable[int] = range(len(dates))
        if dates != sorted(dates):
            order = sorted(order, key=dates.__getitem__)
        if dates and max(dates) > as_of:
            order = [i for i in order if dates[i] <= as_of]
        if isinstance(order, range):
            self.findings: list[Indexed[Finding]] = list(map(Indexed, order, findings, dates))
            kinds = types
        else:
            self.findings = list(map(Indexed, order, [findings[i] for i in order], [dates[i] for i in order]))
            kinds = [types[i] for i in order]
        # Rules ask for one type at a time, dozens of times per case: group once.
        self._kinds = kinds  # the type of each of ``self.findings``
        self._by_type: dict[str, list[Indexed[Any]]] = {}  # by type name (see of_type)
        for item, kind in zip(self.findings, kinds, strict=True):
            self._by_type.setdefault(kind, []).append(item)
        self._merged: dict[tuple[str, ...], list[Indexed[Any]]] = {}  # filled by ``of_type`` for several types
        self._dates: dict[str | tuple[str, ...], list[dt.date]] = {}  # per type(s), filled by ``between`` when first asked
        self._all_dates: list[dt.date] | None = None  # filled by ``until`` when first asked
        self._derived: dict[Callable[[CaseView], Any], Any] = {}  # filled by ``derived``

    def derived(self, build: Callable[[CaseView], D]) -> D:
        """``build(self)``, built once per view: a rule module's own index of this view's findings (such as
        the body-size series maintenance bisects) lives and dies with the view, not in a process-wide table."""
        try:
            value: D = self._derived[build]
        except KeyError:
            value = self._derived[build] = build(self)
        return value

    @cached_property
    def latest_date(self) -> dt.date | None:
        """The latest date of the findings known on ``as_of`` (a treatment's end counts), None without findings."""
        ends = [x.finding.end for x in self._by_type.get("treatment", ()) if x.finding.end is not None]
        return max([x.date for x in self.findings] + ends, default=None)

    @cached_property
    def counts(self) -> CountColumns:
        """The blood counts up to ``as_of`` as columns (see :class:`CountColumns`)."""
        return CountColumns(self._by_type.get("cbc", []))

    def of_type(self, *types: str) -> list[Indexed[Any]]:
        """Findings of these types in date order (a new list: callers may change it).

        The finding type is chosen by name at run time, so the items are typed ``Indexed[Any]``:
        callers annotate what they asked for (``Indexed[Marrow]``)."""
        return list(self._by_type.get(types[0], ()) if len(types) == 1 else self._merged_of(types))

    def _merged_of(self, types: tuple[str, ...]) -> list[Indexed[Any]]:
        """The findings of several types in date order, merged once per view for each combination asked.

        ``self.findings`` is already in the order rules read (date, then file order): a combination that
        holds most findings (the samples, with every blood count) is picked from it in one pass; a
        small one is sorted, which costs less than reading every finding.
        """
        merged = self._merged.get(types)
        if merged is None:
            groups = [self._by_type.get(t, ()) for t in dict.fromkeys(types)]
            if sum(map(len, groups)) * _SORT_FRACTION < len(self.findings):
                merged = sorted((x for group in groups for x in group), key=_DATE_ORDER)
            else:
                wanted = set(types)
                merged = [x for x, kind in zip(self.findings, self._kinds, strict=True) if kind in wanted]
            self._merged[types] = merged
        return merged

    # Patient -----------------------------------------------------------------
    @property
    def patient(self) -> Patient:
        return self.case.patient

    def has(self, condition: Condition) -> bool:
        return condition in self.case.patient.conditions

    @cached_property
    def diagnosis_date(self) -> dt.date | None:
        """Explicit, else the first marrow or blood finding showing blasts, else the first finding."""
        if self.case.diagnosis_date:
            return self.case.diagnosis_date
        for item in self.findings:
            f = item.finding
            q = f.blasts_pct if isinstance(f, (Marrow, Cbc)) else None
            if q is not None and above(q.value, q.comparator, 0.0) is True:  # "< 1%" shows no blasts
                return item.date
        return self.findings[0].date if self.findings else None

    def age_at(self, when: dt.date | None) -> float | None:
        """Age in years on a date, by calendar birthdays (:func:`..dates.exact_years`).

        Exactly 10.0 on the 10th birthday, so every age cut-off applies from that
        day. With only ``age_years`` (the age at diagnosis) the age is that number
        on the diagnosis date, plus the calendar time since.
        """
        birth = self.case.patient.birth_date
        if birth is not None and when is not None:
            return exact_years(birth, when)
        if self.case.patient.age_years is not None:
            if when is None or self.diagnosis_date is None or when == self.diagnosis_date:
                return self.case.patient.age_years
            return self.case.patient.age_years + exact_years(self.diagnosis_date, when)
        return None

    @cached_property
    def age_at_diagnosis(self) -> float | None:
        if self.case.patient.birth_date is None:
            return self.case.patient.age_years
        return self.age_at(self.diagnosis_date)

    # Finding look-ups --------------------------------------------------------
    def nearest(
        self, items: Iterable[Indexed[Any]], when: dt.date, window_days: int, having: str | None = None
    ) -> Indexed[Any] | None:
        """The item closest in time to ``when`` within the window (ties: the earlier one)."""
        best = None
        for item in items:
            if having is not None and getattr(item.finding, having, None) is None:
                continue
            gap = abs((item.date - when).days)
            if gap <= window_days and (best is None or gap < best[0]):
                best = (gap, item)
        return best[1] if best else None

    def nearest_cbc(self, when: dt.date, window_days: int, having: str | None = None) -> Indexed[Cbc] | None:
        return self.nearest(self.within("cbc", when, window_days), when, window_days, having)

    def cbcs_on(self, day: dt.date, having: str) -> list[Indexed[Any]]:
        """The blood counts of ``day`` that report ``having`` (an analyte), in the order the case lists them.

        Findings carry a date, not a time: the counts of one day have no order, so a rule that reads "the"
        count of a day must look at all of them (docs/decisions.md#same-day).
        """
        return [c for c in self.between("cbc", day, day) if getattr(c.finding, having) is not None]

    def until(self, end: dt.date) -> list[Indexed[Finding]]:
        """Findings of any type dated on or before ``end``, in date order (a new list)."""
        if self._all_dates is None:
            self._all_dates = [x.date for x in self.findings]
        return self.findings[: bisect_right(self._all_dates, end)]

    def within(self, type_: str, when: dt.date, window_days: int) -> list[Indexed[Any]]:
        """Findings of one type dated within ``window_days`` of ``when``, in date order."""
        return self.between(type_, _shift(when, -window_days), _shift(when, window_days))

    def between(self, type_: str | tuple[str, ...], start: dt.date | None, end: dt.date | None) -> list[Indexed[Any]]:
        """Findings of one type (or of several: a tuple) dated from ``start`` to ``end`` (both included; None:
        open), in date order.

        A case can hold hundreds of blood counts and rules ask for the few in a
        stretch of time: bisecting the date-ordered list finds them without
        reading all.
        """
        items = self._by_type.get(type_, []) if isinstance(type_, str) else self._merged_of(type_)
        dates = self._dates.get(type_)
        if dates is None:
            dates = self._dates[type_] = [x.date for x in items]
        lo = 0 if start is None else bisect_left(dates, start)
        hi = len(items) if end is None else bisect_right(dates, end)
        return items[lo:hi]
