"""Grade every blood count: reference range, flag, CTCAE v5 grade and plain-word names, as columns.

Each value is read on its own date against the range that applies to the
patient on that date (the lab's when it reported one, else the age- and
sex-specific interval), because a child's normal changes month by month in
the first year. The result is the ``blood_counts`` table of the assessment:
plain values for every count, and conclusions only where a count is notable
(:mod:`.notable`).

A case with years of follow-up has hundreds of counts and the same values come
back again and again (labs report one or two decimals), and the reference rows
change only at a few birthdays. So the table is graded a column at a time, one
stretch of equal reference rows at a time, and what a value means against those
rows is worked out once (:func:`_shared_cells`) and shared by every count that repeats
it. Results with a lab range or reported as a bound are read on their own.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from typing import NamedTuple

from ..assessment import AnalyteColumns, BloodCounts, RangeSource
from ..case.bounds import above, at_least, at_most, below
from ..case.models import CbcAnalyte
from ..columns import fold, fold_records
from ..course.treatment import TreatmentHistory
from ..view import CaseView, CountColumns
from .ctcae import LEUKOCYTOSIS, ctcae_grade
from .naming import DECREASED, NAMED_FROM, NAMES, PRESENT, RAISED, SIGNS, VERY_HIGH, names_for
from .notable import NOTABLE_SHIFT, SEVERE, UNDECIDED, WITHIN_RANGE, notable_conclusions
from .reference_ranges import EDGES, NO_ROWS, AgeBand, band_table


class Info(NamedTuple):
    """What the values of one analyte share within a stretch of age: their CTCAE term and reference range."""

    term: str | None
    lower: float | None
    upper: float | None
    source: RangeSource | None
    rows_found: int  # reference rows that applied (2: the sexes differ and sex is unknown)


class Cell(NamedTuple):
    """What one value means: the table's entries for it, and what the notable conclusions need.

    A column of cells is turned into the table's columns at once (``zip``), so
    a cell holds few fields: what changes from count to count (flag, grade, the
    bits) and one shared :class:`Info` (one object per stretch of age and term,
    so a column whose counts agree is recognised by identity).
    """

    flag: str | None
    grade: int | None
    bits: int  # the plain-word signs (DECREASED | RAISED | VERY_HIGH | PRESENT) and, above them, the notable bits
    info: Info
    outcomes: tuple[tuple[str, int], ...]  # possible (CTCAE term, grade) pairs; several when undecided

    @property
    def term(self) -> str | None:
        return self.info.term

    @property
    def lower(self) -> float | None:
        return self.info.lower

    @property
    def upper(self) -> float | None:
        return self.info.upper

    @property
    def source(self) -> str | None:
        return self.info.source

    @property
    def rows_found(self) -> int:
        return self.info.rows_found

    @property
    def signs(self) -> int:
        return self.bits & SIGNS

    @property
    def notable(self) -> int:
        return self.bits >> NOTABLE_SHIFT


# The fields of an :class:`Info` that are columns of the table (``ctcae_terms``, ``lower_limits``, ...).
_INFO_COLUMNS = ("term", "lower", "upper", "source")

_INFOS: dict[Info, Info] = {}


def _info(info: Info) -> Info:
    """One object for equal infos (a few dozen exist; the map is bounded all the same)."""
    if len(_INFOS) >= 4096:
        _INFOS.clear()
    return _INFOS.setdefault(info, info)


EMPTY = Cell(None, None, 0, _info(Info(None, None, None, None, 0)), ())

# Values graded against one set of reference rows, shared by every count and case that repeats
# them; each map is emptied when it reaches the cap (a synthetic cohort of 3,000 cases shows a few
# hundred distinct values per analyte and stretch of age).
_SHARED: dict[tuple[str, AgeBand], dict[float | None, Cell]] = {}
_SHARED_CAP = 4096


def _flag(value: float, comparator: str | None, llns: list[float], ulns: list[float]) -> str | None:
    """low / high / normal when every possible range agrees (and the bound settles it); None otherwise."""
    if llns and below(value, comparator, min(llns)):
        return "low"
    if ulns and above(value, comparator, max(ulns)):
        return "high"
    if llns and ulns and at_least(value, comparator, max(llns)) and at_most(value, comparator, min(ulns)):
        return "normal"
    return None


def _single(values: list[float]) -> float | None:
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


def grade_value(
    analyte: str, value: float, comparator: str | None, lab_lower: float | None, lab_upper: float | None,
    band: AgeBand, unit: str | None = None,
) -> Cell:
    """One value against the lab's limits, else the band's reference rows: the scalar reference for the table.

    ``unit``: the unit the lab reported the value in (CTCAE has its own lines for some units).
    """
    rows = band.rows
    llns = [lab_lower] if lab_lower is not None else [r.lower for r in rows]
    ulns = [lab_upper] if lab_upper is not None else [r.upper for r in rows]
    lower, upper = _single(llns), _single(ulns)
    source: RangeSource | None
    if lower is not None:
        source = "lab" if lab_lower is not None else "reference"
    elif upper is not None:
        source = "lab" if lab_upper is not None else "reference"
    else:
        source = None
    flag = _flag(value, comparator, llns, ulns)
    grading = ctcae_grade(analyte, value, comparator, llns, unit)
    grade = grading.grade
    signs = 0
    if flag == "low" or (grading.term not in (None, LEUKOCYTOSIS) and grade is not None and grade >= 1):
        signs |= DECREASED
    if grading.term == LEUKOCYTOSIS:
        signs |= RAISED | (VERY_HIGH if grade is not None and grade >= 3 else 0)
    elif flag == "high":
        signs |= RAISED
    if above(value, comparator, 0.0):
        signs |= PRESENT
    notable = 0
    if grade is not None and grade >= 3:
        notable |= SEVERE
    if grade is None and grading.outcomes:
        notable |= UNDECIDED
    if grade == 2 and flag == "normal":
        notable |= WITHIN_RANGE
    info = _info(Info(grading.term, lower, upper, source, len(rows)))
    return Cell(flag, grade, signs | notable << NOTABLE_SHIFT, info, grading.outcomes)


def _shared_cells(analyte: str, band: AgeBand, values: list[float | None]) -> dict[float | None, Cell]:
    """The shared map of ``(analyte, band)``, holding a cell for every one of ``values``."""
    shared = _SHARED.get((analyte, band))
    if shared is None:
        shared = _SHARED[(analyte, band)] = {None: EMPTY}
    new = set(values).difference(shared)
    if len(shared) + len(new) > _SHARED_CAP:
        shared.clear()
        shared[None] = EMPTY
        new = set(values)
        new.discard(None)
    for value in new:
        if value is not None:  # None (not measured) is EMPTY, kept above
            shared[value] = grade_value(analyte, value, None, None, None, band)
    return shared


def _stretches(view: CaseView, dates: list[dt.date]) -> list[tuple[int, int, dict[str, AgeBand]]]:
    """(first row, row after the last, reference rows) for each run of counts in one stretch of age.

    Age grows with the date, so the stretch changes only where a count is the
    first past an edge of the table: found by bisecting the counts, not by
    working out every count's age.
    """
    age_at = view.age_at
    first, last = age_at(dates[0]), age_at(dates[-1])
    if first is None or last is None:
        return [(0, len(dates), {})]
    table = band_table(view.patient.sex.value)
    begin, end = bisect_right(EDGES, first), bisect_right(EDGES, last)

    def age(row: int) -> float:
        return age_at(dates[row]) or 0.0  # known on every date: it is known on the first and the last

    starts = [0] + [bisect_left(range(len(dates)), EDGES[edge], key=age) for edge in range(begin, end)]
    stops = starts[1:] + [len(dates)]
    return [(start, stop, table[begin + n]) for n, (start, stop) in enumerate(zip(starts, stops, strict=True)) if start < stop]


def grade_column(analyte: str, counts: CountColumns, stretches: list[tuple[int, int, dict[str, AgeBand]]]) -> list[Cell]:
    """One cell per count (EMPTY where the analyte was not measured)."""
    values = counts.values[analyte]
    cells: list[Cell] = []
    for start, stop, bands in stretches:
        band = bands.get(analyte, NO_ROWS)
        run = values[start:stop]
        shared = _SHARED.get((analyte, band), {})
        try:
            cells += map(shared.__getitem__, run)  # values seen before: a look-up each
        except KeyError:
            del cells[start:]
            shared = _shared_cells(analyte, band, run)
            cells += map(shared.__getitem__, run)
    # Results with a lab range or reported as a bound are few, and read on their own.
    comparators, lower, upper = counts.comparators[analyte], counts.lab_lower[analyte], counts.lab_upper[analyte]
    units = counts.reported_units[analyte]
    for row in counts.reported[analyte]:
        value = values[row]
        if value is None:  # a reported result always holds a value
            continue
        band = next(b for start, stop, b in stretches if start <= row < stop).get(analyte, NO_ROWS)
        cells[row] = grade_value(analyte, value, comparators[row], lower[row], upper[row], band, units.get(row))
    return cells


def _names(bits_of: dict[str, tuple[int, ...]], rows: int) -> dict[str, list[int]]:
    """For each plain-word name, the rows it applies to (from the signs of the analytes names depend on)."""
    nothing = (0,) * rows
    groups: dict[tuple[int, ...], list[int]] = {}  # counts with the same bits have the same names
    for row, key in enumerate(zip(*[bits_of.get(a, nothing) for a in NAMED_FROM], strict=True)):
        groups.setdefault(key, []).append(row)
    named: dict[str, list[int]] = {}
    for key, where in groups.items():
        for name in names_for(key):  # it reads only the sign bits
            named.setdefault(name, []).extend(where)
    return {name: sorted(named[name]) for name in NAMES if name in named}


def grade_counts(view: CaseView, treatment_start: dt.date | None = None) -> BloodCounts:
    """The blood-count table up to ``view.as_of``, in date order, with its notable conclusions.

    ``treatment_start`` is the course's one treatment start (:mod:`..course.treatment`): grades before it
    describe the presentation, not adverse events. Without it, the view's treatment history gives it.
    """
    if treatment_start is None:
        treatment_start = TreatmentHistory(view).start
    counts = view.counts
    if not counts.dates:
        return BloodCounts()
    stretches = _stretches(view, counts.dates)
    analytes: dict[CbcAnalyte, AnalyteColumns] = {}
    cells_of: dict[str, list[Cell]] = {}
    bits_of: dict[str, tuple[int, ...]] = {}
    for analyte in counts.analytes:
        cells = cells_of[analyte] = grade_column(analyte, counts, stretches)
        flags, grades, bits, infos, _ = zip(*cells, strict=True)
        bits_of[analyte] = bits
        term, lower, upper, source = fold_records(infos, _INFO_COLUMNS)
        analytes[analyte] = AnalyteColumns(
            unit=counts.units[analyte],
            values=counts.values[analyte],
            comparators=fold(counts.comparators[analyte]),
            lower_limits=lower,
            upper_limits=upper,
            range_sources=source,
            flags=fold(flags),
            ctcae_terms=term,
            grades=fold(grades),
        )
    named = _names(bits_of, len(counts.dates))
    notable = notable_conclusions(view, counts, cells_of, bits_of, named, treatment_start)
    return BloodCounts(indexes=counts.indexes, dates=counts.dates, analytes=analytes, named=named, notable=notable)
