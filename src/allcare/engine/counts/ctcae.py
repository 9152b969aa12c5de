"""CTCAE v5.0 grading of the blood count (clinical-standards §7.1, table transcribed from [S50]).

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
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DecreaseTerm:
    """A "count decreased" term: grade g applies when the value is below ``below[g]``."""

    analyte: str
    term: str
    below: dict[int, float]
    clinical_grades: dict[int, str]

    @property
    def grade2_line(self) -> float:
        return self.below[2]


ANEMIA = DecreaseTerm("hemoglobin", "Anemia", {2: 10.0, 3: 8.0}, {4: "life-threatening consequences; urgent intervention indicated"})
NEUTROPHILS_DECREASED = DecreaseTerm("anc", "Neutrophil count decreased", {2: 1.5, 3: 1.0, 4: 0.5}, {})
PLATELETS_DECREASED = DecreaseTerm("platelets", "Platelet count decreased", {2: 75.0, 3: 50.0, 4: 25.0}, {})
WBC_DECREASED = DecreaseTerm("wbc", "White blood cell decreased", {2: 3.0, 3: 2.0, 4: 1.0}, {})

DECREASE_TERMS: dict[str, DecreaseTerm] = {t.analyte: t for t in (WBC_DECREASED, ANEMIA, PLATELETS_DECREASED, NEUTROPHILS_DECREASED)}

LEUKOCYTOSIS = "Leukocytosis"
LEUKOCYTOSIS_GRADE3_ABOVE = 100.0
LEUKOCYTOSIS_GRADE4 = "clinical leukostasis; urgent intervention indicated"


def grade_decrease(term: DecreaseTerm, value: float, llns: list[float]) -> int | None:
    """The grade of a decreased count; ``llns`` are the possible lower limits of normal (empty: unknown).

    Bands are checked from the most severe down (as the [S50] implementation
    does). Grade 1 or 0 needs the LLN; when several LLNs are possible (sex not
    recorded) the grade is given only if all of them agree.
    """
    for grade in sorted(term.below, reverse=True):
        if value < term.below[grade]:
            return grade
    answers = {1 if value < lln else 0 for lln in llns}
    return answers.pop() if len(answers) == 1 else None


def grade_leukocytosis(value: float) -> int | None:
    """Leukocytosis has no grade 1 or 2; above 100 x10^9/L is grade 3, anything else is not this term."""
    return 3 if value > LEUKOCYTOSIS_GRADE3_ABOVE else None
