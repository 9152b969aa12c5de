"""Grade every chemistry finding: flag against the lab's range and the CTCAE v5.0 grade.

Chemistry reference ranges vary too much by method and age to supply defaults,
so grades that start at a limit of normal (grade 1 of hyperkalaemia, every
multiple-of-ULN term) use the reporting lab's range; without it the result
says so and what would decide it. For ALT, AST and bilirubin CTCAE grades
against the baseline when the baseline was abnormal: the baseline is the
latest value before treatment started; without one, the value is graded as if
the baseline were normal and the result says that.

Total calcium is corrected for albumin (Payne: + 0.02 mmol/L per g/L of albumin
below 40) when the lab did not report a corrected value and albumin was measured
with it; CTCAE grades the corrected value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from ..case import Chemistry, Quantity
from ..case import units as U
from ..case.bounds import above, at_least, below
from ..case.models import CHEMISTRY_ANALYTES
from ..case.units import UnitKind
from ..columns import fold
from ..explain import Conclusion, conclude, undetermined
from ..monitoring_output import ChemistryAnalyte, ChemistryColumns, ChemistryTable
from ..sources import CTCAE_V5
from ..view import CaseView, Indexed
from .ctcae_chemistry import (
    ABSOLUTE_TERMS,
    FIBRINOGEN,
    FIBRINOGEN_ABSOLUTE_G4_BELOW,
    FIBRINOGEN_MULTIPLES,
    NOT_GRADABLE,
    ULN_TERMS,
    AbsoluteTerm,
    Line,
    UlnTerm,
)

KINDS: dict[str, UnitKind] = {
    "potassium": U.POTASSIUM, "phosphate": U.PHOSPHATE, "calcium": U.CALCIUM, "calcium_corrected": U.CALCIUM,
    "ionized_calcium": U.CALCIUM, "uric_acid": U.URIC_ACID, "creatinine": U.CREATININE, "ldh": U.ENZYME,
    "alt": U.ENZYME, "ast": U.ENZYME, "bilirubin": U.BILIRUBIN, "albumin": U.ALBUMIN, "lipase": U.ENZYME,
    "amylase": U.ENZYME, "glucose": U.GLUCOSE, "fibrinogen": U.FIBRINOGEN, "triglycerides": U.TRIGLYCERIDES,
}
LABELS = {
    "potassium": "potassium", "phosphate": "phosphate", "calcium": "calcium", "calcium_corrected": "corrected calcium",
    "ionized_calcium": "ionised calcium", "uric_acid": "uric acid", "creatinine": "creatinine", "ldh": "LDH",
    "alt": "ALT", "ast": "AST", "bilirubin": "bilirubin", "albumin": "albumin", "lipase": "lipase",
    "amylase": "amylase", "glucose": "glucose", "fibrinogen": "fibrinogen", "triglycerides": "triglycerides",
}
# The table's analytes in the order a finding lists them (a corrected calcium the lab reported comes last).
COLUMN_ORDER = (*(name for name in CHEMISTRY_ANALYTES if name != "calcium_corrected"), "calcium_corrected")
RULE = "CHEM.CTCAE.GRADES"
TOPIC = "chemistry.ctcae"
PAYNE = "Payne et al., BMJ 1973;4:643 (albumin-corrected calcium)"
_OPS = {"<": below, ">": above, ">=": at_least}


class Reading:
    """A value in the unit family the lab reported it in (SI or CTCAE's conventional unit), with its limits."""

    def __init__(self, q: Quantity, kind: UnitKind):
        self.q = q
        self.comparator = q.comparator
        reported = q.reported or {}
        unit = reported.get("unit")
        self.family = "si"
        if (kind.conventional is not None and isinstance(unit, str)
                and kind.factor(unit) == kind.factor(kind.conventional)):
            self.family = "conventional"
            scale = kind.factor(unit) / kind.factor(kind.conventional)
            self.value = reported["value"] * scale
            self.lln = None if reported.get("lower_limit") is None else reported["lower_limit"] * scale
            self.uln = None if reported.get("upper_limit") is None else reported["upper_limit"] * scale
        else:
            self.value, self.lln, self.uln = q.value, q.lower_limit, q.upper_limit

    def same_family(self, q: Quantity, kind: UnitKind) -> tuple[float, float | None]:
        """Another result of the analyte (a baseline) as (value, its upper limit) in this reading's unit family."""
        other = Reading(q, kind)
        if other.family == self.family:
            return other.value, other.uln
        scale = kind.factor(kind.conventional) if self.family == "conventional" and kind.conventional is not None else 1.0
        uln = None if q.upper_limit is None else q.upper_limit / scale
        return q.value / scale, uln

    def line(self, line: Line) -> float:
        return line.conventional if self.family == "conventional" and line.conventional is not None else line.si

    def test(self, op: str, threshold: float) -> bool | None:
        return _OPS[op](self.value, self.comparator, threshold)


def _grade_absolute(term: AbsoluteTerm, r: Reading) -> tuple[int | None, tuple[int, ...], str | None, str | None]:
    """(grade, possible grades, what is missing, note) for an absolute-line term.

    Grades 2 and up are absolute lines; grade 1 starts at the lab's limit of normal. Without
    that limit a value short of the grade-2 line is "grade 0 or 1", a note rather than a
    missing item: chemistry without its range is common and otherwise unremarkable.
    """
    for line in term.lines:
        result = r.test(line.op, r.line(line))
        if result:
            return line.grade, (), None, None
        if result is None:
            return None, (), "a measured value (the bound does not settle the CTCAE line)", None
    if term.grade1 is None:
        return 0, (), None, None
    limit = r.lln if term.grade1 == "lln" else r.uln
    side = "lower" if term.grade1 == "lln" else "upper"
    if limit is None:
        return None, (), None, f"{term.term}: grade 0 or 1 (grade 1 starts at the lab's {side} limit of normal, not reported)"
    beyond = r.test("<" if term.grade1 == "lln" else ">", limit)
    if beyond is None:
        return None, (), "a measured value (the bound does not settle the limit of normal)", None
    if not beyond:
        return 0, (), None, None
    if len(term.possible_within_grade1) > 1:
        return None, term.possible_within_grade1, None, None
    return 1, (), None, None


def _grade_uln(term: UlnTerm, r: Reading, baseline_q: Quantity | None, kind: UnitKind) -> tuple[int | None, tuple[int, ...], str | None, str | None]:
    """(grade, possible grades, missing, note) for a multiple-of-ULN term."""
    if r.uln is None:
        return None, (), f"the lab's upper limit of normal for {LABELS[term.analyte]}", None
    note = None
    baseline, baseline_uln = r.same_family(baseline_q, kind) if baseline_q is not None else (None, None)
    if term.baseline_multiples and baseline is not None and baseline > (baseline_uln if baseline_uln is not None else r.uln):
        for grade, multiple, inclusive in term.baseline_multiples:
            result = r.test(">=" if inclusive else ">", multiple * baseline)
            if result:
                return grade, (), None, f"graded against the abnormal baseline {baseline:g}"
            if result is None:
                return None, (), "a measured value", None
        return 0, (), None, f"graded against the abnormal baseline {baseline:g}"
    if term.baseline_multiples and baseline is None:
        note = "no pre-treatment value: graded as if the baseline were normal"
    for multiple, grades in term.symptom_grades:
        result = r.test(">", multiple * r.uln)
        if result:
            return (grades[0], (), None, note) if len(grades) == 1 else (None, grades, None, note)
        if result is None:
            return None, (), "a measured value", note
    grade = 0
    for g, multiple in term.uln_multiples:
        result = r.test(">", multiple * r.uln)
        if result:
            grade = g
            break
        if result is None:
            return None, (), "a measured value", note
    if term.baseline_clause and baseline is not None:
        for g, multiple in ((3, 3.0), (2, 1.5)):
            if r.test(">", multiple * baseline) and g > grade:
                grade, note = g, f"> {multiple:g} x the pre-treatment value {baseline:g}"
                break
    return grade, (), None, note


def _grade_fibrinogen(r: Reading) -> tuple[int | None, tuple[int, ...], str | None]:
    if r.test("<", r.line(FIBRINOGEN_ABSOLUTE_G4_BELOW)):
        return 4, (), None
    if r.lln is None:
        return None, (), "the lab's lower limit of normal for fibrinogen"
    for grade, multiple in FIBRINOGEN_MULTIPLES:
        result = r.test("<", multiple * r.lln)
        if result:
            return grade, (), None
        if result is None:
            return None, (), "a measured value"
    return 0, (), None


def _flag(r: Reading) -> str | None:
    if r.lln is not None and r.test("<", r.lln):
        return "low"
    if r.uln is not None and r.test(">", r.uln):
        return "high"
    if r.lln is not None and r.uln is not None:
        return "normal"
    return None


def corrected_calcium(chem: Chemistry) -> Quantity | None:
    """The lab's corrected calcium, else total calcium corrected for albumin measured with it (Payne)."""
    if chem.calcium_corrected is not None:
        return chem.calcium_corrected
    if chem.calcium is None or chem.albumin is None or chem.calcium.comparator or chem.albumin.comparator:
        return None
    value = round(chem.calcium.value + 0.02 * (40.0 - chem.albumin.value), 3)
    return Quantity(value=value, unit="mmol/L", lower_limit=chem.calcium.lower_limit, upper_limit=chem.calcium.upper_limit)


def _baselines(view: CaseView, names: tuple[str, ...], treatment_start: dt.date | None) -> dict[str, Quantity]:
    """The latest pre-treatment result of each analyte (CTCAE's baseline)."""
    if treatment_start is None:
        return {}
    found: dict[str, Quantity] = {}
    for item in view.between("chemistry", None, treatment_start):
        for name in names:
            q = getattr(item.finding, name)
            if q is not None and q.comparator is None:
                found[name] = q
    return found


def _analyte(name: str, q: Quantity, kind: UnitKind, baselines: dict[str, Quantity],
             calcium_note: str | None) -> tuple[ChemistryAnalyte, str | None]:
    """The analyte's result and what is missing to grade it."""
    r = Reading(q, kind)
    term_name: str | None = None
    grade: int | None = None
    possible: tuple[int, ...] = ()
    missing: str | None = None
    notes = [calcium_note] if calcium_note else []
    graded_term = "calcium" if name in ("calcium", "calcium_corrected") else name
    terms = [t for t in ABSOLUTE_TERMS if t.analyte == graded_term]
    uln_terms = [t for t in ULN_TERMS if t.analyte == name]
    if terms:
        graded = [(t, *_grade_absolute(t, r)) for t in terms]
        hit = (next((g for g in graded if g[1] or g[2] or g[3]), None)
               or next((g for g in graded if g[1] == 0), None) or graded[0])
        term, grade, possible, missing, _ = hit
        term_name = term.term
        if grade is None and not possible and not missing:
            notes += [g[4] for g in graded if g[4]]
    elif uln_terms:
        uln_term = uln_terms[0]
        term_name = uln_term.term
        grade, possible, missing, extra = _grade_uln(uln_term, r, baselines.get(name), kind)
        notes += [extra] if extra else []
    elif name == "fibrinogen":
        term_name = FIBRINOGEN
        grade, possible, missing = _grade_fibrinogen(r)
    elif name in NOT_GRADABLE:
        notes.append(NOT_GRADABLE[name])
    return ChemistryAnalyte(
        analyte=name, value=q.value, unit=q.unit, comparator=q.comparator, lower_limit=q.lower_limit,
        upper_limit=q.upper_limit, flag=_flag(r),  # type: ignore[arg-type]
        ctcae_term=term_name if (grade or possible) else None,
        grade=grade if term_name is not None else None, possible_grades=list(possible),
        note="; ".join(notes) or None,
    ), missing


def grade_chemistry(view: CaseView, treatment_start: dt.date | None) -> ChemistryTable:
    """Every chemistry finding up to ``view.as_of`` as a table, in date order; values before ``treatment_start``
    are the baselines."""
    baselines = _baselines(view, ("alt", "ast", "bilirubin", "creatinine"), treatment_start)
    items: list[Indexed[Chemistry]] = view.of_type("chemistry")
    if not items:
        return ChemistryTable()
    cells: dict[str, list[ChemistryAnalyte | None]] = {}
    notable: list[Conclusion] = []
    for row, item in enumerate(items):
        chem = item.finding
        analytes, missing = [], []
        for name in CHEMISTRY_ANALYTES:
            q = getattr(chem, name)
            if q is None or name == "calcium_corrected" or (name == "calcium" and chem.calcium_corrected is not None):
                continue
            calcium_note = None
            if name == "calcium":
                corrected = corrected_calcium(chem)
                if corrected is not None:
                    calcium_note = (f"graded on calcium corrected for albumin ({corrected.value:g} mmol/L; {PAYNE})"
                                    if chem.calcium_corrected is None else None)
                    q = corrected
                else:
                    calcium_note = "total calcium, not corrected for albumin (albumin not measured with it)"
            result, needed = _analyte(name, q, KINDS[name], baselines, calcium_note)
            analytes.append(result)
            if needed:
                missing.append(f"{LABELS[name]} on {item.date}: {needed}")
        if chem.calcium_corrected is not None:
            result, needed = _analyte("calcium_corrected", chem.calcium_corrected, U.CALCIUM, baselines, None)
            analytes.append(result)
            if needed:
                missing.append(f"corrected calcium on {item.date}: {needed}")
        for result in analytes:
            cells.setdefault(result.analyte, [None] * len(items))[row] = result
        notable += _conclusion(item, analytes, missing)
    return ChemistryTable(
        indexes=[x.index for x in items], dates=[x.date for x in items],
        analytes={name: _columns(cells[name]) for name in COLUMN_ORDER if name in cells}, notable=notable,
    )


def _columns(cells: list[ChemistryAnalyte | None]) -> ChemistryColumns:
    """One analyte's results (None where a finding did not measure it) as the table's columns."""
    def column(read: Callable[[ChemistryAnalyte], object]) -> Any:
        return fold([None if c is None else read(c) for c in cells])

    possible = [[] if c is None else c.possible_grades for c in cells]
    return ChemistryColumns(
        unit=next(c.unit for c in cells if c is not None),
        values=[None if c is None else c.value for c in cells],
        comparators=column(attrgetter("comparator")), lower_limits=column(attrgetter("lower_limit")),
        upper_limits=column(attrgetter("upper_limit")), flags=column(attrgetter("flag")),
        ctcae_terms=column(attrgetter("ctcae_term")), grades=column(attrgetter("grade")),
        possible_grades=possible if any(possible) else None, notes=column(attrgetter("note")),
    )


def _describe(a: ChemistryAnalyte) -> str:
    text = f"{LABELS[a.analyte]} {(a.comparator + ' ') if a.comparator else ''}{a.value:g} {a.unit}"
    if a.grade:
        text += f" ({a.ctcae_term} G{a.grade})"
    elif a.possible_grades:
        text += f" ({a.ctcae_term} G{' or G'.join(map(str, a.possible_grades))})"
    elif a.flag in ("low", "high"):
        text += f" ({a.flag})"
    return text


def _conclusion(item: Indexed[Chemistry], analytes: list[ChemistryAnalyte], missing: list[str]) -> list[Conclusion]:
    notable = [a for a in analytes if a.grade or a.possible_grades]
    if not notable and not missing:
        return []
    value = {a.ctcae_term: a.grade if a.grade is not None else a.possible_grades for a in notable}
    parts = [f"{CTCAE_V5} on {item.date.isoformat()}: " + ("; ".join(_describe(a) for a in notable) or "no grade given") + "."]
    parts += [f"{a.ctcae_term}: grade {' or '.join(map(str, a.possible_grades))} - CTCAE decides between them on symptoms "
              "or interventions, which the value cannot show." for a in notable if a.possible_grades]
    parts += [f"{LABELS[a.analyte]}: {a.note}." for a in analytes if a.note]
    evidence = [item.ref(", ".join(_describe(a) for a in analytes))]
    if missing:
        return [undetermined(TOPIC, RULE, CTCAE_V5, missing, " ".join(parts), evidence, value=value)]
    return [conclude(TOPIC, value, RULE, CTCAE_V5, " ".join(parts), evidence)]


def latest_grades(table: ChemistryTable, analytes: tuple[str, ...], since: dt.date | None = None) -> list[tuple[int, ChemistryAnalyte]]:
    """(row, result) of the latest result of each of ``analytes`` (for alerts), optionally not before ``since``.

    One day's results carry no order (a repeat, a second lab): of the latest day's, the highest grade is
    the one an alert reads, so a same-day normal value written after an abnormal one does not silence it.
    """
    found: dict[str, tuple[int, int, ChemistryAnalyte]] = {}  # (first row since, row, result) of each
    for name in analytes:
        results = [(row, a) for row, a in table.results(name) if since is None or table.dates[row] >= since]
        if results:
            last_day = table.dates[results[-1][0]]
            day = [(row, a) for row, a in results if table.dates[row] == last_day]
            worst = max(reversed(day), key=lambda pair: -1 if pair[1].grade is None else pair[1].grade)
            found[name] = (results[0][0], *worst)
    # in the order the findings first name them (date, then the order within a finding), as alerts word them
    order = sorted(found, key=lambda name: (found[name][0], COLUMN_ORDER.index(name)))
    return [found[name][1:] for name in order]
