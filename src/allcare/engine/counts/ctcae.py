"""CTCAE v5.0 grading of the blood count (NCI CTCAE v5.0, 27 Nov 2017; docs/decisions.md#ctcae-counts).

The bands are the published standard, not a centre's choice: a grade is only
"CTCAE v5" if it uses exactly these lines, so they live here as a transcribed
table rather than as rule-set parameters.

Grades 2 to 4 are absolute lines, so a count below the grade-2 line is graded
even without a lower limit of normal. Grade 1 is "below the LLN down to the
grade-2 line", so it needs the LLN; without one, a value above the grade-2
line cannot be told apart between grade 0 and grade 1 and stays ungraded.
Anaemia grade 4 ("life-threatening; urgent intervention") and leukocytosis
grade 4 ("clinical leukostasis") are clinical judgements: never assigned from
a number.

A result reported as a bound ("< 5", see :mod:`..case.bounds`) is graded with
the same lines, three-valued: platelets "< 5" lie wholly below the grade-4 line
(grade 4, decided), an ANC "< 1.0" may be grade 3 or grade 4 (undecided, and
both are named). :func:`ctcae_grade` is the readable reference for one value;
the blood-count table grades whole columns through it (see ``grading``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from ..case.bounds import above, below
from ..case.units import HEMOGLOBIN, UnitError, UnitKind


@dataclass(frozen=True)
class DecreaseTerm:
    """A "count decreased" term: grade g applies when the value is below ``below[g]``."""

    analyte: str
    term: str
    below: dict[int, float]
    clinical_grades: dict[int, str]
    kind: UnitKind | None = None
    below_in: dict[str, dict[int, float]] = field(default_factory=dict)
    """The lines as CTCAE prints them in other units. CTCAE gives each unit its own
    rounded line (anaemia grade 2 is < 10.0 g/dL and < 6.2 mmol/L, and 6.2 mmol/L is
    9.99 g/dL), so a result is graded at the lines of the unit the lab reported it in."""

    def in_unit(self, unit: str | None) -> DecreaseTerm:
        """This term with the lines of ``unit`` (in the canonical unit) when CTCAE prints lines for it."""
        return self if unit is None or not self.below_in else _in_unit(self.analyte, unit)

    @property
    def grade2_line(self) -> float:
        return self.below[2]

    @property
    def highest(self) -> int:
        """The highest grade a number can give (grade 4 of anaemia is clinical)."""
        return max(self.below)


ANEMIA = DecreaseTerm(
    "hemoglobin", "Anemia", {2: 10.0, 3: 8.0}, {4: "life-threatening consequences; urgent intervention indicated"},
    kind=HEMOGLOBIN, below_in={"mmol/L": {2: 6.2, 3: 4.9}, "g/L": {2: 100.0, 3: 80.0}},
)
NEUTROPHILS_DECREASED = DecreaseTerm("anc", "Neutrophil count decreased", {2: 1.5, 3: 1.0, 4: 0.5}, {})
PLATELETS_DECREASED = DecreaseTerm("platelets", "Platelet count decreased", {2: 75.0, 3: 50.0, 4: 25.0}, {})
WBC_DECREASED = DecreaseTerm("wbc", "White blood cell decreased", {2: 3.0, 3: 2.0, 4: 1.0}, {})

DECREASE_TERMS: dict[str, DecreaseTerm] = {t.analyte: t for t in (WBC_DECREASED, ANEMIA, PLATELETS_DECREASED, NEUTROPHILS_DECREASED)}



@lru_cache(maxsize=64)
def _in_unit(analyte: str, unit: str) -> DecreaseTerm:
    """``term`` with the lines CTCAE prints for ``unit``, converted exactly as the case converts a value in it.

    The same conversion of the value and of the line keeps their order: a haemoglobin of
    6.2 mmol/L is not below the 6.2 mmol/L line, whatever it is in g/dL.
    """
    term = DECREASE_TERMS[analyte]
    assert term.kind is not None
    try:
        factor = term.kind.factor(unit)
        lines = next((
            (written, below_lines) for written, below_lines in term.below_in.items() if term.kind.factor(written) == factor
        ), None)
    except UnitError:
        return term
    if lines is None:
        return term
    written, below_lines = lines
    return replace(term, below={g: round(term.kind.to_canonical(line, written), 9) for g, line in below_lines.items()})


LEUKOCYTOSIS = "Leukocytosis"
LEUKOCYTOSIS_GRADE3_ABOVE = 100.0
LEUKOCYTOSIS_GRADE4 = "clinical leukostasis; urgent intervention indicated"

GRADED_ANALYTES = tuple(DECREASE_TERMS)


@dataclass(frozen=True)
class Grading:
    """What CTCAE says of one result: every (term, grade) the true value allows.

    One outcome: decided. Several: the grade (or, for a WBC bound straddling
    the leukocytosis line, even the term) is undecided, and ``outcomes`` says
    between what. None: the analyte has no CTCAE term.
    """

    outcomes: tuple[tuple[str, int], ...]

    @property
    def term(self) -> str | None:
        """The term every outcome shares; None when there is none or they differ."""
        terms = {term for term, _ in self.outcomes}
        return terms.pop() if len(terms) == 1 else None

    @property
    def grade(self) -> int | None:
        """The grade when decided, else None."""
        return self.outcomes[0][1] if len(self.outcomes) == 1 else None

    @property
    def grades(self) -> tuple[int, ...]:
        """The possible grades, lowest first."""
        return tuple(sorted({grade for _, grade in self.outcomes}))


NOT_GRADED = Grading(())


def decrease_grades(
    term: DecreaseTerm, value: float, comparator: str | None, llns: Sequence[float], ceiling: float | None = None
) -> tuple[int, ...]:
    """The grades a "count decreased" result allows, lowest first; ``llns`` are the possible lower limits of normal.

    Grade g (2 and up) applies to the values below its line and not below the
    next line; grade 1 to the values from the grade-2 line up to an LLN; grade 0
    to the values at or above the LLN. With no LLN known (empty ``llns``), grade
    1 and 0 cannot be told apart above the grade-2 line. With several (sex not
    recorded, and the reference differs by sex) a grade is possible when it is
    for one of them. A bound allows every grade its interval reaches.
    """
    lines = sorted(term.below.items())  # (2, line2), (3, line3) ...
    answers = [below(value, comparator, line) for _, line in lines]  # is the value below each line?
    possible = []
    for n, (grade, _) in enumerate(lines):
        beneath_next = answers[n + 1] if n + 1 < len(answers) else False
        if answers[n] is not False and beneath_next is not True:
            possible.append(grade)
    if answers[0] is not True:  # the value may be at or above the grade-2 line: grade 1 or 0
        line2 = lines[0][1]
        # Grade 1 is [grade-2 line, LLN): empty when an LLN lies at or below the grade-2 line.
        if not llns or any(lln > line2 and below(value, comparator, lln) is not False for lln in llns):
            possible.append(1)
        if not llns or any(
            below(value, comparator, lln) is not True and (ceiling is None or lln <= ceiling) for lln in llns
        ):
            possible.append(0)
    return tuple(sorted(possible))


def ctcae_grade(
    analyte: str, value: float, comparator: str | None = None, llns: Sequence[float] = (), unit: str | None = None
) -> Grading:
    """The CTCAE v5 grading of one result (``comparator`` when it is a bound; ``llns`` as in :func:`decrease_grades`).

    ``value`` is in the canonical unit; ``unit`` is the unit the lab reported it in,
    whose own CTCAE lines apply when CTCAE prints some (haemoglobin in mmol/L or g/L).

    A WBC above 100 x10^9/L is graded as leukocytosis (grade 3; grade 4 is
    clinical), any other WBC as "White blood cell decreased"; haemoglobin,
    platelets and ANC under their "decreased" terms; other analytes are not graded.
    """
    outcomes: list[tuple[str, int]] = []
    leukocytosis = above(value, comparator, LEUKOCYTOSIS_GRADE3_ABOVE) if analyte == "wbc" else False
    if leukocytosis is not False:
        outcomes.append((LEUKOCYTOSIS, 3))
    term = DECREASE_TERMS.get(analyte)
    if term is not None:
        term = term.in_unit(unit)
    if term is not None and leukocytosis is not True:
        ceiling = LEUKOCYTOSIS_GRADE3_ABOVE if analyte == "wbc" else None
        outcomes += [(term.term, grade) for grade in decrease_grades(term, value, comparator, llns, ceiling)]
    return Grading(tuple(outcomes))
