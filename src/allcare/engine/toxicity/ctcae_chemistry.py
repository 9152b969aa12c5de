"""CTCAE v5.0 laboratory terms for chemistry, transcribed (NCI, 27 Nov 2017).

Like the blood-count bands (``counts/ctcae.py``) these are the published
standard, not a centre's choice, so they are a table here rather than rule-set
parameters. CTCAE prints most absolute lines in two units (mg/dL and mmol/L)
whose values do not convert exactly into each other (55 mg/dL glucose is
3.05 mmol/L, printed 3.0), so each line keeps both and a value is read against
the line in the unit family the lab reported it in.

Three kinds of term:

- absolute lines (potassium, calcium, albumin, glucose, triglycerides), with grade
  1 starting at the lower or upper limit of normal;
- multiples of the upper limit of normal (ALT, AST, bilirubin, creatinine,
  lipase, amylase, uric acid), for ALT, AST and bilirubin of the *baseline*
  instead when the baseline was abnormal;
- fibrinogen, graded on multiples of the lower limit with an absolute floor.

Where CTCAE makes the grade depend on symptoms or interventions (lipase, amylase,
hypokalaemia grade 1 or 2, hyperuricaemia), the value gives the set of grades
still possible and the reader decides. Hyperglycaemia and the phosphate terms
have no laboratory grade in v5.0 and are only flagged.
"""

from __future__ import annotations

from dataclasses import dataclass

CTCAE_VERSION = "CTCAE v5.0"


@dataclass(frozen=True)
class Line:
    """A grade's line: ``op`` ('<', '>', '>=') against the SI value, or the conventional one."""

    grade: int
    op: str
    si: float
    conventional: float | None = None


@dataclass(frozen=True)
class AbsoluteTerm:
    """A term graded on absolute lines; grade 1 (when ``grade1`` is 'lln'/'uln') needs the lab's limit."""

    analyte: str
    term: str
    direction: str  # "low" | "high"
    lines: tuple[Line, ...]  # most severe first
    grade1: str | None  # "lln" | "uln" | None (grade 1 is an absolute line in ``lines``)
    possible_within_grade1: tuple[int, ...] = (1,)  # hypokalaemia: 1 or 2 (symptoms decide)


@dataclass(frozen=True)
class UlnTerm:
    """A term graded on multiples of the upper limit of normal (or of an abnormal baseline)."""

    analyte: str
    term: str
    uln_multiples: tuple[tuple[int, float], ...]  # (grade, value > multiple x ULN), most severe first
    baseline_multiples: tuple[tuple[int, float, bool], ...] = ()  # (grade, multiple, inclusive) when baseline abnormal
    symptom_grades: tuple[tuple[float, tuple[int, ...]], ...] = ()  # (above multiple, possible grades)
    baseline_clause: bool = False  # creatinine: > 1.5 / > 3.0 x baseline also grades 2 / 3


ABSOLUTE_TERMS: tuple[AbsoluteTerm, ...] = (
    AbsoluteTerm("potassium", "Hyperkalemia", "high", (Line(4, ">", 7.0), Line(3, ">", 6.0), Line(2, ">", 5.5)), "uln"),
    AbsoluteTerm("potassium", "Hypokalemia", "low", (Line(4, "<", 2.5), Line(3, "<", 3.0)), "lln", (1, 2)),
    AbsoluteTerm("calcium", "Hypocalcemia", "low",
                 (Line(4, "<", 1.5, 6.0), Line(3, "<", 1.75, 7.0), Line(2, "<", 2.0, 8.0)), "lln"),
    AbsoluteTerm("calcium", "Hypercalcemia", "high",
                 (Line(4, ">", 3.4, 13.5), Line(3, ">", 3.1, 12.5), Line(2, ">", 2.9, 11.5)), "uln"),
    AbsoluteTerm("ionized_calcium", "Hypocalcemia", "low",
                 (Line(4, "<", 0.8), Line(3, "<", 0.9), Line(2, "<", 1.0)), "lln"),
    AbsoluteTerm("ionized_calcium", "Hypercalcemia", "high",
                 (Line(4, ">", 1.8), Line(3, ">", 1.6), Line(2, ">", 1.5)), "uln"),
    AbsoluteTerm("albumin", "Hypoalbuminemia", "low", (Line(3, "<", 20.0, 2.0), Line(2, "<", 30.0, 3.0)), "lln"),
    AbsoluteTerm("glucose", "Hypoglycemia", "low",
                 (Line(4, "<", 1.7, 30.0), Line(3, "<", 2.2, 40.0), Line(2, "<", 3.0, 55.0)), "lln"),
    AbsoluteTerm("triglycerides", "Hypertriglyceridemia", "high",
                 (Line(4, ">", 11.4, 1000.0), Line(3, ">", 5.7, 500.0), Line(2, ">", 3.42, 300.0), Line(1, ">=", 1.71, 150.0)), None),
)

_HEPATIC_BASELINE = ((4, 20.0, False), (3, 5.0, False), (2, 3.0, False), (1, 1.5, True))
ULN_TERMS: tuple[UlnTerm, ...] = (
    UlnTerm("alt", "Alanine aminotransferase increased", ((4, 20.0), (3, 5.0), (2, 3.0), (1, 1.0)), _HEPATIC_BASELINE),
    UlnTerm("ast", "Aspartate aminotransferase increased", ((4, 20.0), (3, 5.0), (2, 3.0), (1, 1.0)), _HEPATIC_BASELINE),
    UlnTerm("bilirubin", "Blood bilirubin increased", ((4, 10.0), (3, 3.0), (2, 1.5), (1, 1.0)),
            ((4, 10.0, False), (3, 3.0, False), (2, 1.5, False), (1, 1.0, False))),
    UlnTerm("creatinine", "Creatinine increased", ((4, 6.0), (3, 3.0), (2, 1.5), (1, 1.0)), baseline_clause=True),
    UlnTerm("lipase", "Lipase increased", ((1, 1.0),), symptom_grades=((5.0, (3, 4)), (2.0, (2, 3)), (1.5, (2,)))),
    UlnTerm("amylase", "Serum amylase increased", ((1, 1.0),), symptom_grades=((5.0, (3, 4)), (2.0, (2, 3)), (1.5, (2,)))),
    UlnTerm("uric_acid", "Hyperuricemia", (), symptom_grades=((1.0, (1, 3)),)),
)

FIBRINOGEN = "Fibrinogen decreased"
FIBRINOGEN_MULTIPLES = ((4, 0.25), (3, 0.5), (2, 0.75), (1, 1.0))  # value < multiple x LLN
FIBRINOGEN_ABSOLUTE_G4_BELOW = Line(4, "<", 0.5, 50.0)  # g/L; mg/dL

NOT_GRADABLE = {
    "glucose": "CTCAE v5.0 hyperglycemia is graded on management (no laboratory line)",
    "phosphate": "CTCAE v5.0 grades hypo- and hyperphosphatemia on interventions, not on the value",
    "ldh": "CTCAE v5.0 has no term for LDH",
}
