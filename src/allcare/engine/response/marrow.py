"""Marrow grade (M1/M2/M3) and the timepoint labels that mark end of induction.

The grade is the common language of response and relapse: M1 < 5%, M2 5-<25%,
M3 >= 25% blasts (clinical-standards section 6.1). The bounds are rule-set
parameters, so a centre's protocol can move them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ..case import Marrow
from ..rules import RuleSet
from ..view import Indexed

Grade = Literal["M1", "M2", "M3"]

# Labels protocols use for the end-of-induction assessment (COG/UKALL day 29, BFM day 33,
# DFCI day 32). Vocabulary, not a threshold: an unlabelled marrow is placed by its day.
END_OF_INDUCTION_LABELS = frozenset(
    {"endofinduction", "eoi", "day29", "day32", "day33", "d29", "d32", "d33", "endinduction"}
)


# Labels of other, named assessments (the day-8/15 early response, end of consolidation,
# diagnosis, relapse). A sample labelled so is not taken for the end-of-induction
# assessment because of its day: the label says what it is.
OTHER_TIMEPOINT_LABELS = frozenset(
    {"diagnosis", "dx", "day8", "d8", "day15", "d15", "day8blood", "day15marrow", "endofconsolidation", "eoc",
     "endconsolidation", "postconsolidation", "relapse", "maintenance"}
)


def marrow_grade(blasts_pct: float, rules: RuleSet) -> Grade:
    if blasts_pct < rules.m1_below_pct:
        return "M1"
    if blasts_pct < rules.m3_from_pct:
        return "M2"
    return "M3"


def normalise_label(label: str | None) -> str | None:
    """'End of induction', 'end_of_induction' and 'EOI' compare equal after folding."""
    if not label:
        return None
    folded = re.sub(r"[^a-z0-9]", "", label.lower())
    return folded or None


def is_end_of_induction_label(label: str | None) -> bool:
    return normalise_label(label) in END_OF_INDUCTION_LABELS


def is_other_timepoint_label(label: str | None) -> bool:
    return normalise_label(label) in OTHER_TIMEPOINT_LABELS


@dataclass(frozen=True)
class MarrowReading:
    """The marrow(s) sampled on one date, reduced to one grade, or a contradiction between them."""

    items: list[Indexed[Marrow]]
    blasts_pct: float | None
    grade: Grade | None
    conflicts: list[str]
    aplastic: bool

    @property
    def labels(self) -> list[str]:
        return [i.finding.timepoint for i in self.items if i.finding.timepoint]

    @property
    def evidence(self):
        return [i.ref(summarise(i)) for i in self.items]


def summarise(item: Indexed[Marrow]) -> str:
    f = item.finding
    parts = ["marrow blasts " + ("not reported" if f.blasts_pct is None else f"{f.blasts_pct.value:g}%")]
    if f.method:
        parts.append(f.method)
    if f.timepoint:
        parts.append(f.timepoint)
    if f.cellularity:
        parts.append(f.cellularity)
    return ", ".join(parts)


def read_marrows(items: list[Indexed[Marrow]], rules: RuleSet) -> MarrowReading:
    """Combine same-date marrows (e.g. morphology and flow): one grade, or both sides when grades differ."""
    measured = [i for i in items if i.finding.blasts_pct is not None]
    aplastic = any(i.finding.cellularity == "aplastic" for i in items)
    if not measured:
        return MarrowReading(items, None, None, [], aplastic)
    grades = {marrow_grade(i.finding.blasts_pct.value, rules) for i in measured}
    highest = max(i.finding.blasts_pct.value for i in measured)
    if len(grades) > 1:
        conflicts = [f"{summarise(i)} ({marrow_grade(i.finding.blasts_pct.value, rules)})" for i in measured]
        return MarrowReading(items, highest, None, conflicts, aplastic)
    return MarrowReading(items, highest, grades.pop(), [], aplastic)
