"""Marrow grade (M1/M2/M3) and the reading of same-date marrows.

The grade is the common language of response and relapse: M1 < 5%, M2 5-<25%,
M3 >= 25% blasts (NCCN/ELN; Ponte di Legno). The bounds are rule-set
parameters, so a centre's protocol can move them. A blast count reported as a
bound ("< 5%") gets a grade only when the bound settles it: "< 5%" is M1, "< 10%"
straddles the M1 line and has no grade (cannot determine).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from ..case import Marrow, Quantity
from ..case.bounds import at_least, describe
from ..explain import EvidenceRef
from ..rules import RuleSet
from ..view import Indexed

Grade = Literal["M1", "M2", "M3"]
GRADE_ORDER: tuple[Grade, ...] = get_args(Grade)
"""The marrow grades from least to most involved."""


def marrow_grade(blasts_pct: float, rules: RuleSet, comparator: str | None = None) -> Grade | None:
    """M1/M2/M3 for a blast percentage (None when a bound straddles a grade line)."""
    m2 = at_least(blasts_pct, comparator, rules.m1_below_pct)
    m3 = at_least(blasts_pct, comparator, rules.m3_from_pct)
    if m2 is False:
        return "M1"
    if m3 is True:
        return "M3"
    if m2 is True and m3 is False:
        return "M2"
    return None


def blasts_text(q: Quantity) -> str:
    """'12%' or '< 5%'."""
    return describe(q.value, q.comparator) + "%"


@dataclass(frozen=True)
class MarrowReading:
    """The marrow(s) sampled on one date, reduced to one grade, or a contradiction between them."""

    items: list[Indexed[Marrow]]
    blasts_pct: float | None
    grade: Grade | None
    conflicts: list[str]
    aplastic: bool
    straddles: list[str]
    """Blast counts reported as a bound that falls across a grade line (no grade can be given)."""

    @property
    def labels(self) -> list[str]:
        return [i.finding.timepoint for i in self.items if i.finding.timepoint]

    @property
    def evidence(self) -> list[EvidenceRef]:
        return [i.ref(summarise(i)) for i in self.items]


def summarise(item: Indexed[Marrow]) -> str:
    f = item.finding
    parts = ["marrow blasts " + ("not reported" if f.blasts_pct is None else blasts_text(f.blasts_pct))]
    if f.method:
        parts.append(f.method)
    if f.timepoint:
        parts.append(f.timepoint)
    if f.cellularity:
        parts.append(f.cellularity)
    return ", ".join(parts)


def read_marrows(items: list[Indexed[Marrow]], rules: RuleSet) -> MarrowReading:
    """Combine same-date marrows (e.g. morphology and flow): one grade, or both sides when grades differ."""
    measured = [(i, q) for i in items if (q := i.finding.blasts_pct) is not None]
    aplastic = any(i.finding.cellularity == "aplastic" for i in items)
    if not measured:
        return MarrowReading(items, None, None, [], aplastic, [])
    graded = [(i, q, marrow_grade(q.value, rules, q.comparator)) for i, q in measured]
    straddles = [f"{summarise(i)} falls across the M1/M2/M3 lines ({rules.m1_below_pct:g}%, {rules.m3_from_pct:g}%)"
                 for i, _, grade in graded if grade is None]
    grades = {grade for _, _, grade in graded if grade is not None}
    highest = max(q.value for _, q in measured)
    if len(grades) > 1:
        conflicts = [f"{summarise(i)} ({grade})" for i, _, grade in graded if grade is not None]
        return MarrowReading(items, highest, None, conflicts, aplastic, straddles)
    open_bounds = [q for _, q, grade in graded if grade is None]
    if len(grades) == 1 and all(_permits(q, next(iter(grades)), rules) for q in open_bounds):
        return MarrowReading(items, highest, grades.pop(), [], aplastic, [])  # the bounds agree with the exact count
    return MarrowReading(items, highest, None, [], aplastic, straddles)


def _permits(q: Quantity, grade: Grade, rules: RuleSet) -> bool:
    """Whether a blast count (possibly a bound) allows ``grade``."""
    m2 = at_least(q.value, q.comparator, rules.m1_below_pct)
    m3 = at_least(q.value, q.comparator, rules.m3_from_pct)
    return {"M1": m2 is not True, "M2": m2 is not False and m3 is not True, "M3": m3 is not False}[grade]
