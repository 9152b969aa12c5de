"""Grade every blood count: reference range, flag, CTCAE v5 grade and plain-word names.

Each count is read on its own date against the range that applies to the
patient on that date (the lab's when it reported one, else the age- and
sex-specific interval), because a child's normal changes month by month in
the first year. Where a grade cannot be given the result says why and what
would decide it, instead of assuming the count is normal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..assessment import AnalyteResult, CountResult
from ..case import Cbc, Quantity
from ..explain import Conclusion, conclude, undetermined
from ..sources import CTCAE_V5, REF_INTERVALS
from ..view import CaseView, Indexed
from .ctcae import ANEMIA, DECREASE_TERMS, LEUKOCYTOSIS, LEUKOCYTOSIS_GRADE4, grade_decrease, grade_leukocytosis
from .naming import name_count
from .reference_ranges import possible_intervals

ANALYTES = ("wbc", "hemoglobin", "platelets", "anc", "rbc", "blasts_pct")
LABELS = {
    "wbc": "WBC",
    "hemoglobin": "haemoglobin",
    "platelets": "platelets",
    "anc": "ANC",
    "rbc": "RBC",
    "blasts_pct": "blood blasts",
}

RULE_GRADES = "COUNTS.CTCAE.GRADES"
RULE_NEEDS_LLN = "COUNTS.CTCAE.GRADE1_NEEDS_LLN"
TOPIC = "blood_counts.ctcae"


@dataclass
class _Reading:
    """One analyte's result plus what the count's summary conclusion should say about it."""

    result: AnalyteResult
    missing: str | None = None
    notes: list[str] = field(default_factory=list)


def _single(values: list[float]) -> float | None:
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


def _flag(value: float, llns: list[float], ulns: list[float]) -> str | None:
    """low / high / normal when every possible range agrees; None when a needed limit is unknown."""
    if llns and value < min(llns):
        return "low"
    if ulns and value > max(ulns):
        return "high"
    if llns and ulns and value >= max(llns) and value <= min(ulns):
        return "normal"
    return None


def _why_no_lln(label: str, age: float | None, sex: str, rows_found: int) -> str:
    if age is None:
        return f"lower limit of normal for {label}: the lab's range, or the patient's birth date or age for a reference interval"
    if rows_found > 1:
        return f"lower limit of normal for {label}: the lab's range, or the patient's sex (adult intervals differ by sex)"
    return f"lower limit of normal for {label}: the lab's range (no reference interval for {label} at age {age:.2f} y)"


def _read(analyte: str, q: Quantity, age: float | None, sex: str) -> _Reading:
    label = LABELS[analyte]
    rows = possible_intervals(analyte, age, sex)
    llns = [q.lower_limit] if q.lower_limit is not None else [r.lower for r in rows]
    ulns = [q.upper_limit] if q.upper_limit is not None else [r.upper for r in rows]
    lower, upper = _single(llns), _single(ulns)
    if lower is not None:
        source = "lab" if q.lower_limit is not None else "reference"
    elif upper is not None:
        source = "lab" if q.upper_limit is not None else "reference"
    else:
        source = None
    flag = _flag(q.value, llns, ulns)
    term_name, grade, missing, notes = None, None, None, []
    if analyte == "wbc" and grade_leukocytosis(q.value) is not None:
        term_name, grade = LEUKOCYTOSIS, grade_leukocytosis(q.value)
        notes.append(f"Leukocytosis grade 4 ({LEUKOCYTOSIS_GRADE4}) is a clinical judgement, not assigned from the count")
    elif analyte in DECREASE_TERMS:
        term = DECREASE_TERMS[analyte]
        term_name, grade = term.term, grade_decrease(term, q.value, llns)
        if grade is None:
            missing = _why_no_lln(label, age, sex, len(rows))
        if term is ANEMIA and grade == max(ANEMIA.below):  # the highest grade a number can give
            notes.append(
                f"Anemia grade 4 ({ANEMIA.clinical_grades[4]}) is a clinical judgement, never assigned from the haemoglobin value"
            )
        if grade is not None and grade >= 2 and flag == "normal":
            notes.append(
                f"{label} {q.value:g} {q.unit} is within the range for age ({lower:g}-{upper:g}), "
                f"but CTCAE grades 2 and above are absolute lines"
            )
    result = AnalyteResult(
        analyte=analyte,  # type: ignore[arg-type]
        value=q.value,
        unit=q.unit,
        lower_limit=lower,
        upper_limit=upper,
        range_source=source,  # type: ignore[arg-type]
        flag=flag,  # type: ignore[arg-type]
        ctcae_term=term_name,
        grade=grade,
    )
    return _Reading(result, missing, notes)


def _first_treatment(view: CaseView) -> dt.date | None:
    starts = [item.finding.start for item in view.of_type("treatment")]
    return min(starts) if starts else None


def _describe(r: AnalyteResult) -> str:
    text = f"{LABELS[r.analyte]} {r.value:g} {r.unit}"
    if r.grade is not None and r.ctcae_term is not None:
        text += f" ({r.ctcae_term} G{r.grade})"
    elif r.flag in ("low", "high"):
        text += f" ({r.flag})"
    return text


def _summary(item: Indexed[Cbc], readings: list[_Reading], treatment_start: dt.date | None) -> Conclusion | None:
    """At most one conclusion per count: the grades given, what is ungraded and why, and the caveats."""
    graded = [r.result for r in readings if r.result.ctcae_term is not None]
    missing = [r.missing for r in readings if r.missing]
    if not missing and not any(r.grade for r in graded):
        return None
    value = {r.ctcae_term: r.grade for r in graded}
    parts = [f"CTCAE v5 on {item.date}: " + "; ".join(_describe(r) for r in graded) + "."]
    if missing:
        ungraded = ", ".join(LABELS[r.result.analyte] for r in readings if r.missing)
        parts.append(
            f"Grade 1 or 0 cannot be decided for {ungraded}: the value is above the grade-2 line and "
            "grade 1 starts below the lower limit of normal, which is not known."
        )
    for reading in readings:
        parts.extend(note + "." for note in reading.notes)
    if treatment_start is None or item.date <= treatment_start:
        parts.append(
            "No treatment had started: CTCAE grades adverse events on treatment, so these grades describe "
            "the presentation of the disease, not an adverse event."
        )
    used_reference = any(r.range_source == "reference" for r in graded)
    source = f"{CTCAE_V5}; {REF_INTERVALS}" if used_reference else CTCAE_V5
    evidence = [item.ref(", ".join(_describe(r.result) for r in readings))]
    explanation = " ".join(parts)
    if missing:
        return undetermined(TOPIC, RULE_NEEDS_LLN, source, missing, explanation, evidence, value=value)
    return conclude(TOPIC, value, RULE_GRADES, source, explanation, evidence)


def grade_counts(view: CaseView) -> list[CountResult]:
    """One result per blood count up to ``view.as_of``, in date order."""
    sex = view.patient.sex.value
    treatment_start = _first_treatment(view)
    results = []
    for item in view.of_type("cbc"):
        age = view.age_at(item.date)
        readings = [
            _read(analyte, getattr(item.finding, analyte), age, sex)
            for analyte in ANALYTES
            if getattr(item.finding, analyte) is not None
        ]
        analytes = [r.result for r in readings]
        conclusion = _summary(item, readings, treatment_start)
        results.append(
            CountResult(
                index=item.index,
                date=item.date,
                analytes=analytes,
                named=name_count(analytes),
                conclusions=[conclusion] if conclusion else [],
            )
        )
    return results
