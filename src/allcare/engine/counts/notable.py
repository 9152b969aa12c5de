"""The conclusions of the blood-count table: only for what a care team must read.

Most counts need no words: the table holds each value, its range, flag and
grade, and a screen or report says them in its own words. A conclusion is
written for the counts that matter, one per kind of finding (and, for grades
and named conditions, apart before and after treatment starts, because CTCAE
grades adverse events of treatment). It says how many counts it covers and
when, and cites the first, the most severe and the latest of them: every one is
a row of the table, and a three-year record can have a hundred.

- a CTCAE grade of 3 or more, every term in one conclusion (``COUNTS.CTCAE.GRADES``);
- a grade that cannot be decided: no lower limit of normal for grade 1
  (``COUNTS.CTCAE.GRADE1_NEEDS_LLN``), or a result reported as a bound that
  straddles a grade line (``COUNTS.CTCAE.BOUND``), with what would decide it;
- a grade of 2 within the age-specific range (``COUNTS.CTCAE.ABSOLUTE_LINES``);
- pancytopenia and circulating blasts (``COUNTS.NAMED``).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..case.bounds import describe
from ..explain import Conclusion, EvidenceRef, conclude, undetermined
from ..sources import CTCAE_V5, REF_INTERVALS
from ..view import CaseView, CountColumns
from .ctcae import ANEMIA, LEUKOCYTOSIS, LEUKOCYTOSIS_GRADE3_ABOVE, LEUKOCYTOSIS_GRADE4
from .naming import CIRCULATING_BLASTS, PANCYTOPENIA, SIGNS

if TYPE_CHECKING:
    from .grading import Cell

RULE_GRADES = "COUNTS.CTCAE.GRADES"
RULE_NEEDS_LLN = "COUNTS.CTCAE.GRADE1_NEEDS_LLN"
RULE_BOUND = "COUNTS.CTCAE.BOUND"
RULE_ABSOLUTE_LINES = "COUNTS.CTCAE.ABSOLUTE_LINES"
RULE_NAMED = "COUNTS.NAMED"
TOPIC = "blood_counts.ctcae"
NAMED_TOPIC = "blood_counts.named"

# Why a value is notable: the bits of ``grading.Cell.notable``, kept above the sign bits in ``Cell.bits``.
NOTABLE_SHIFT = SIGNS.bit_length()
SEVERE = 1  # CTCAE grade 3 or more
UNDECIDED = 2  # a CTCAE term applies but the grade cannot be decided
WITHIN_RANGE = 4  # grade 2 although within the range for age

LABELS = {
    "wbc": "WBC",
    "hemoglobin": "haemoglobin",
    "platelets": "platelets",
    "anc": "ANC",
    "rbc": "RBC",
    "blasts_pct": "blood blasts",
}
BEFORE_TREATMENT = (
    "No treatment had started: CTCAE grades adverse events on treatment, so these grades describe "
    "the presentation of the disease, not an adverse event."
)
NAMED_WORDS = {
    PANCYTOPENIA: "Pancytopenia (anaemia, low white cells or neutrophils, and thrombocytopenia on the same count)",
    CIRCULATING_BLASTS: "Blasts in the peripheral blood",
}


def _grades(grades: list[int]) -> str:
    return " or ".join(str(g) for g in sorted(set(grades)))


class _Table:
    """The graded table as the conclusions read it, and how they cite a count."""

    def __init__(
        self, counts: CountColumns, cells: dict[str, list[Cell]], bits: dict[str, tuple[int, ...]],
        treatment_start: dt.date | None,
    ):
        self.counts = counts
        self.cells = cells
        # The rows worth a word are few, and most columns have none (no bits above the signs): for each
        # column, the rows of each notable value (a value is one of a few shared ones: searched in C).
        self.notable: dict[str, dict[int, list[int]]] = {
            analyte: {value: _positions(column, value) for value in set(column) if value > SIGNS}
            for analyte, column in bits.items() if max(column) > SIGNS
        }
        self.rows: dict[tuple[str, int], list[int]] = {}
        self.iso: dict[int, str] = {}
        # Counts up to this row were taken before treatment started (on its first day included).
        self.split = len(counts.dates) if treatment_start is None else bisect_right(counts.dates, treatment_start)

    def flagged(self, analyte: str, bit: int) -> list[int]:
        """The rows of ``analyte`` whose cell has this notable bit."""
        where = self.notable.get(analyte)
        if where is None:
            return []
        rows = self.rows.get((analyte, bit))
        if rows is None:
            mask = bit << NOTABLE_SHIFT
            rows = self.rows[(analyte, bit)] = sorted(row for value, at in where.items() if value & mask for row in at)
        return rows

    def date(self, row: int) -> str:
        text = self.iso.get(row)
        if text is None:
            text = self.iso[row] = self.counts.dates[row].isoformat()
        return text

    def halves(self, rows: list[int]) -> list[tuple[bool, list[int]]]:
        """``rows`` split into those before treatment started and those after (each when not empty)."""
        cut = bisect_right(rows, self.split - 1)
        return [(before, part) for before, part in ((True, rows[:cut]), (False, rows[cut:])) if part]

    def span(self, rows: list[int]) -> str:
        if len(rows) == 1:
            return f"on {self.date(rows[0])}"
        return f"on {len(rows)} counts from {self.date(rows[0])} to {self.date(rows[-1])}"

    def result(self, analyte: str, row: int) -> str:
        """The result as the lab wrote it: 'ANC 0.31 10^9/L', 'platelets < 5 10^9/L'."""
        counts = self.counts
        value = counts.values[analyte][row]
        return f"{LABELS[analyte]} {describe(value, counts.comparators[analyte][row], counts.units[analyte])}"  # type: ignore[arg-type]

    def cite(self, rows: list[int], summary: Callable[[int], str], worst: int | None = None) -> list[EvidenceRef]:
        """The first, the most severe (``worst``) and the latest of ``rows``, in date order."""
        chosen = sorted({rows[0], rows[-1]} | ({worst} if worst is not None else set()))
        return [self.counts.items[row].ref(summary(row)) for row in chosen]


def _positions(column: tuple[int, ...], value: int) -> list[int]:
    """Every row holding ``value`` (searched in C: the value is one of a few shared ones)."""
    rows, row = [], -1
    try:
        while True:
            row = column.index(value, row + 1)
            rows.append(row)
    except ValueError:
        return rows


def _severe(table: _Table) -> list[tuple[int, Conclusion]]:
    """Grade 3 or more: one conclusion before treatment started and one after, every term in it."""
    halves = {analyte: dict(table.halves(flagged)) for analyte in table.cells if (flagged := table.flagged(analyte, SEVERE))}
    out = []
    for before in (True, False):
        value: dict[str, int] = {}
        parts: list[str] = []
        cited: dict[int, list[str]] = {}
        for analyte, split in halves.items():
            rows = split.get(before)
            if not rows:
                continue
            cells = table.cells[analyte]
            grades = [cells[row].grade for row in rows]
            worst_grade = max(grades)  # type: ignore[type-var]
            worst = rows[grades.index(worst_grade)]
            term = cells[worst].term
            value[term] = worst_grade  # type: ignore[index,assignment]
            parts.append(
                f"{term} grade 3 or higher {table.span(rows)}, worst grade {worst_grade} "
                f"({table.result(analyte, worst)} on {table.date(worst)})."
            )
            if term == LEUKOCYTOSIS:
                parts.append(
                    f"A WBC above {LEUKOCYTOSIS_GRADE3_ABOVE:g} x10^9/L is hyperleukocytosis; leukocytosis grade 4 "
                    f"({LEUKOCYTOSIS_GRADE4}) is a clinical judgement, not assigned from the count."
                )
            if term == ANEMIA.term:
                parts.append(
                    f"Anemia grade 4 ({ANEMIA.clinical_grades[4]}) is a clinical judgement, never assigned from the "
                    "haemoglobin value."
                )
            parts += _within_range_notes(table, analyte, rows)
            for row in {rows[0], worst, rows[-1]}:
                cited.setdefault(row, []).append(f"{table.result(analyte, row)} (grade {cells[row].grade})")
        if not cited:
            continue
        if before:
            parts.append(BEFORE_TREATMENT)
        evidence = [table.counts.items[row].ref(", ".join(cited[row])) for row in sorted(cited)]
        text = "CTCAE v5: " + " ".join(parts)
        out.append((min(cited), conclude(TOPIC, value, RULE_GRADES, CTCAE_V5, text, evidence)))
    return out


def _within_range_notes(table: _Table, analyte: str, rows: list[int]) -> list[str]:
    cells = table.cells[analyte]
    flags = [cells[row].flag for row in rows]
    if "normal" not in flags:
        return []
    inside = rows[flags.index("normal")]
    cell = cells[inside]
    return [
        f"{table.result(analyte, inside)} is within the range for age ({cell.lower:g}-{cell.upper:g}), "
        "but CTCAE grades 2 and above are absolute lines."
    ]


def _within_range(table: _Table, analyte: str) -> list[tuple[int, Conclusion]]:
    """Grade 2 within the age-specific range: the CTCAE line and the child's normal disagree."""
    rows = table.flagged(analyte, WITHIN_RANGE)
    if not rows:
        return []
    term = table.cells[analyte][rows[0]].term
    evidence = table.cite(rows, lambda row: f"{table.result(analyte, row)} (grade 2, within the range for age)")
    text = f"CTCAE v5 {term} grade 2 {table.span(rows)}. " + " ".join(_within_range_notes(table, analyte, rows))
    source = f"{CTCAE_V5}; {REF_INTERVALS}"
    return [(rows[0], conclude(TOPIC, {term: 2}, RULE_ABSOLUTE_LINES, source, text, evidence))]


def _why_no_lln(view: CaseView, table: _Table, analyte: str, rows: list[int]) -> str:
    label = LABELS[analyte]
    first, last = (view.age_at(table.counts.dates[row]) for row in (rows[0], rows[-1]))
    if first is None or last is None:
        return f"lower limit of normal for {label}: the lab's range, or the patient's birth date or age for a reference interval"
    if table.cells[analyte][rows[0]].rows_found > 1:
        return f"lower limit of normal for {label}: the lab's range, or the patient's sex (adult intervals differ by sex)"
    at = f"age {first:.2f} y" if f"{first:.2f}" == f"{last:.2f}" else f"ages {first:.2f}-{last:.2f} y"
    return f"lower limit of normal for {label}: the lab's range (no reference interval for {label} at {at})"


def _undecided(view: CaseView, table: _Table, analyte: str) -> list[tuple[int, Conclusion]]:
    """Grades that cannot be decided: grade 1 or 0 without a lower limit of normal, or a bound across a line."""
    cells = table.cells[analyte]
    comparators = table.counts.comparators[analyte]
    groups: dict[tuple[str, tuple[tuple[str, int], ...]] | tuple[str, bool], list[int]] = {}
    for row in table.flagged(analyte, UNDECIDED):
        cell = cells[row]
        key = ("bound", cell.outcomes) if comparators[row] is not None else ("lln", cell.rows_found > 1)
        groups.setdefault(key, []).append(row)
    out = []
    for key, rows in groups.items():
        outcomes = cells[rows[0]].outcomes
        value: dict[str, list[int]] = {}
        for term, grade in outcomes:
            value.setdefault(term, []).append(grade)
        if key[0] == "bound":
            grades = _grades([grade for _, grade in outcomes])
            text = (
                f"CTCAE v5 grade {grades} {table.span(rows)}: {table.result(analyte, rows[0])} is reported as a bound "
                "that lies across a grade line, so the grade cannot be decided."
            )
            missing = [f"{LABELS[analyte]} as an exact value (a bound that may be CTCAE grade {grades})"]
            evidence = table.cite(rows, lambda row: f"{table.result(analyte, row)} (grade {grades})")  # noqa: B023 - called here
            conclusion = undetermined(TOPIC, RULE_BOUND, CTCAE_V5, missing, text, evidence, value=value)
        else:
            text = (
                f"CTCAE v5 grade 1 or 0 cannot be decided for {LABELS[analyte]} {table.span(rows)}: the value is "
                "above the grade-2 line and grade 1 starts below the lower limit of normal, which is not known."
            )
            missing = [_why_no_lln(view, table, analyte, rows)]
            evidence = table.cite(rows, lambda row: table.result(analyte, row))
            source = f"{CTCAE_V5}; {REF_INTERVALS}"
            conclusion = undetermined(TOPIC, RULE_NEEDS_LLN, source, missing, text, evidence, value=value)
        out.append((rows[0], conclusion))
    return out


def _named(table: _Table, named: dict[str, list[int]]) -> list[tuple[int, Conclusion]]:
    """Pancytopenia and circulating blasts, before and after treatment started."""
    values = table.counts.values

    def pancytopenia(row: int) -> str:
        shown = ("hemoglobin", "wbc", "anc", "platelets")
        return ", ".join(table.result(a, row) for a in shown if a in values and values[a][row] is not None)

    out = []
    describe_row: dict[str, Callable[[int], str]] = {
        PANCYTOPENIA: pancytopenia,
        CIRCULATING_BLASTS: lambda row: table.result("blasts_pct", row),
    }
    for name, words in NAMED_WORDS.items():
        for before, rows in table.halves(named.get(name, [])):
            highest = max(rows, key=lambda row: values["blasts_pct"][row] or 0.0) if name == CIRCULATING_BLASTS else None
            text = f"{words} {table.span(rows)}" + (", before treatment started." if before else ", on or after treatment.")
            evidence = table.cite(rows, describe_row[name], highest)
            out.append((rows[0], conclude(NAMED_TOPIC, name, RULE_NAMED, f"{CTCAE_V5}; {REF_INTERVALS}", text, evidence)))
    return out


def notable_conclusions(
    view: CaseView, counts: CountColumns, cells: dict[str, list[Cell]], bits: dict[str, tuple[int, ...]],
    named: dict[str, list[int]], treatment_start: dt.date | None,
) -> list[Conclusion]:
    """The conclusions of the table, in the order of the first count each covers."""
    table = _Table(counts, cells, bits, treatment_start)
    found = _severe(table)
    for analyte in cells:
        found += _within_range(table, analyte)
        found += _undecided(view, table, analyte)
    found += _named(table, named)
    return [conclusion for _, conclusion in sorted(found, key=lambda pair: pair[0])]
