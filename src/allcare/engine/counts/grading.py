"""Grade every blood count: reference range, flag, CTCAE v5 grade and plain-word names.

Each count is read on its own date against the range that applies to the
patient on that date (the lab's when it reported one, else the age- and
sex-specific interval), because a child's normal changes month by month in
the first year. Where a grade cannot be given the result says why and what
would decide it, instead of assuming the count is normal.

A case with years of follow-up has hundreds of counts and the same values come
back again and again (labs report one or two decimals), so what a value means
against one set of reference rows is worked out once and shared (see
:func:`_grade_cached`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache

from ..assessment import AnalyteResult, CountResult
from ..case import Cbc, Quantity
from ..explain import Conclusion, conclude, undetermined
from ..sources import CTCAE_V5, REF_INTERVALS
from ..view import CaseView, Indexed
from .ctcae import ANEMIA, DECREASE_TERMS, LEUKOCYTOSIS, LEUKOCYTOSIS_GRADE4, grade_decrease, grade_leukocytosis
from .naming import Signs, names_for, signs
from .reference_ranges import NO_ROWS, AgeBand, age_bands

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

# How many graded values to keep (under 2 kB each, so at most about 7 MB). A synthetic
# cohort of 3,000 cases shows about 5,000 distinct (analyte, value, band) keys, nearly
# all hits coming from a few hundred of them.
_GRADE_CACHE_SIZE = 4096


@dataclass(frozen=True, eq=False)
class _Reading:
    """One analyte's result and what the count's summary conclusion says about it.

    Worked out once per value (see :func:`_grade_cached`), so the pieces every
    count needs are kept ready: the description, the caveat sentences, the
    signs its plain-word names depend on, and ``needs_lln`` for a decrease term
    left ungraded (grade 1 or 0 needs a lower limit of normal that is not known;
    what to ask for depends on the patient's age on the day, so the summary
    words it per count, from ``rows_found``).
    """

    result: AnalyteResult
    description: str
    sentences: tuple[str, ...]
    needs_lln: bool
    rows_found: int
    graded: bool  # has a CTCAE term (its grade may still be undecided)
    signs: Signs  # what the count's plain-word names need from it


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


def _grade(
    analyte: str, value: float, unit: str, lab_lower: float | None, lab_upper: float | None, band: AgeBand
) -> _Reading:
    """Range, flag and CTCAE grade of one value against the lab's limits or the band's reference rows."""
    label = LABELS[analyte]
    rows = band.rows
    llns = [lab_lower] if lab_lower is not None else [r.lower for r in rows]
    ulns = [lab_upper] if lab_upper is not None else [r.upper for r in rows]
    lower, upper = _single(llns), _single(ulns)
    if lower is not None:
        source = "lab" if lab_lower is not None else "reference"
    elif upper is not None:
        source = "lab" if lab_upper is not None else "reference"
    else:
        source = None
    flag = _flag(value, llns, ulns)
    term_name, grade, needs_lln, notes = None, None, False, []
    if analyte == "wbc" and grade_leukocytosis(value) is not None:
        term_name, grade = LEUKOCYTOSIS, grade_leukocytosis(value)
        notes.append(f"Leukocytosis grade 4 ({LEUKOCYTOSIS_GRADE4}) is a clinical judgement, not assigned from the count")
    elif analyte in DECREASE_TERMS:
        term = DECREASE_TERMS[analyte]
        term_name, grade = term.term, grade_decrease(term, value, llns)
        needs_lln = grade is None
        if term is ANEMIA and grade == max(ANEMIA.below):  # the highest grade a number can give
            notes.append(
                f"Anemia grade 4 ({ANEMIA.clinical_grades[4]}) is a clinical judgement, never assigned from the haemoglobin value"
            )
        if grade is not None and grade >= 2 and flag == "normal":
            notes.append(
                f"{label} {value:g} {unit} is within the range for age ({lower:g}-{upper:g}), "
                f"but CTCAE grades 2 and above are absolute lines"
            )
    result = AnalyteResult(
        analyte=analyte,  # type: ignore[arg-type]
        value=value,
        unit=unit,
        lower_limit=lower,
        upper_limit=upper,
        range_source=source,  # type: ignore[arg-type]
        flag=flag,  # type: ignore[arg-type]
        ctcae_term=term_name,
        grade=grade,
    )
    sentences = tuple(note + "." for note in notes)
    return _Reading(result, _describe(result), sentences, needs_lln, len(rows), term_name is not None, signs(result))


@lru_cache(maxsize=_GRADE_CACHE_SIZE, typed=True)
def _grade_cached(analyte: str, value: float, unit: str, band: AgeBand) -> _Reading:
    """:func:`_grade` for a value without lab limits, shared by every count that repeats it.

    Safe to share: the result depends only on these arguments (the band holds
    the reference rows and is compared by identity), and everything in a
    reading is immutable (a frozen AnalyteResult, strings, tuples). ``typed``
    keeps an int value apart from the equal float, which would print the same
    but serialise differently.
    """
    return _grade(analyte, value, unit, None, None, band)


def _read(analyte: str, q: Quantity, band: AgeBand) -> _Reading:
    """One quantity of a count, from the shared cache when it can be."""
    # 0.0 and -0.0 are one cache key but print differently ("0" / "-0"); lab limits are
    # rare enough not to be worth a key of their own. Both are graded afresh.
    if q.lower_limit is None and q.upper_limit is None and not (q.value == 0 and math.copysign(1.0, q.value) < 0):
        return _grade_cached(analyte, q.value, q.unit, band)
    return _grade(analyte, q.value, q.unit, q.lower_limit, q.upper_limit, band)


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


def _summary(
    item: Indexed[Cbc], readings: list[_Reading], age: float | None, sex: str, treatment_start: dt.date | None
) -> Conclusion | None:
    """At most one conclusion per count: the grades given, what is ungraded and why, and the caveats."""
    graded = [r.result for r in readings if r.graded]
    ungraded = [r for r in readings if r.needs_lln]
    if not ungraded and not any([r.grade for r in graded]):
        return None
    value = {r.ctcae_term: r.grade for r in graded}
    described = [r.description for r in readings if r.graded]
    parts = [f"CTCAE v5 on {item.date.isoformat()}: {'; '.join(described)}."]
    if ungraded:
        parts.append(
            f"Grade 1 or 0 cannot be decided for {', '.join([LABELS[r.result.analyte] for r in ungraded])}: "
            "the value is above the grade-2 line and "
            "grade 1 starts below the lower limit of normal, which is not known."
        )
    for reading in readings:
        if reading.sentences:
            parts.extend(reading.sentences)
    if treatment_start is None or item.date <= treatment_start:
        parts.append(
            "No treatment had started: CTCAE grades adverse events on treatment, so these grades describe "
            "the presentation of the disease, not an adverse event."
        )
    used_reference = "reference" in [r.range_source for r in graded]
    source = f"{CTCAE_V5}; {REF_INTERVALS}" if used_reference else CTCAE_V5
    evidence = [item.ref(", ".join([r.description for r in readings]))]
    explanation = " ".join(parts)
    if ungraded:
        missing = [_why_no_lln(LABELS[r.result.analyte], age, sex, r.rows_found) for r in ungraded]
        return undetermined(TOPIC, RULE_NEEDS_LLN, source, missing, explanation, evidence, value=value)
    return conclude(TOPIC, value, RULE_GRADES, source, explanation, evidence)


def grade_counts(view: CaseView) -> list[CountResult]:
    """One result per blood count up to ``view.as_of``, in date order."""
    sex = view.patient.sex.value
    treatment_start = _first_treatment(view)
    results = []
    for item in view.of_type("cbc"):
        age = view.age_at(item.date)
        bands = age_bands(age, sex)
        cbc = item.finding
        readings = [
            _read(analyte, q, bands.get(analyte, NO_ROWS))
            for analyte in ANALYTES
            if (q := getattr(cbc, analyte)) is not None
        ]
        analytes = [r.result for r in readings]
        conclusion = _summary(item, readings, age, sex, treatment_start)
        results.append(
            CountResult(
                index=item.index,
                date=item.date,
                analytes=analytes,
                named=list(names_for(tuple([r.signs for r in readings]))),
                conclusions=[conclusion] if conclusion else [],
            )
        )
    return results
