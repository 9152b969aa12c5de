"""Response time-point labels: the one vocabulary every rule reads a sample's label with.

Laboratories and protocols name the same assessment differently: the
end-of-induction marrow is "day 29" in COG, NOPHO and UKALL, "day 33" (MRD TP1)
in AIEOP-BFM, "day 32" at DFCI (docs/decisions.md#end-of-induction), and "EOI", "end of
induction" or "post-induction" in free text. A label is folded (case, spaces and
punctuation removed) and mapped onto one canonical time point. A sample without
a label, or with a label this vocabulary does not know, is placed by its date
instead; a sample labelled as another assessment (day 8, end of consolidation,
relapse ...) is that assessment, whatever its date.
"""

from __future__ import annotations

import re
from functools import lru_cache

DIAGNOSIS = "diagnosis"
DAY8 = "day8"
DAY15 = "day15"
END_OF_INDUCTION = "end_of_induction"
END_OF_CONSOLIDATION = "end_of_consolidation"
RELAPSE = "relapse"
MAINTENANCE = "maintenance"

_LABELS: dict[str, tuple[str, ...]] = {
    DIAGNOSIS: ("diagnosis", "dx", "initial", "atdiagnosis", "day0", "d0"),
    DAY8: ("day8", "d8", "day8blood", "day8pb", "pbday8"),
    DAY15: ("day15", "d15", "day15marrow", "day15bm", "day14", "d14"),
    # COG / NOPHO / UKALL day 29, DFCI day 32, AIEOP-BFM day 33 (MRD time point 1).
    END_OF_INDUCTION: (
        "endofinduction", "eoi", "endinduction", "postinduction", "afterinduction", "endofinductionmarrow",
        "day29", "d29", "day32", "d32", "day33", "d33", "tp1",
    ),
    # AIEOP-BFM day 78 (MRD time point 2) closes the consolidation phase (protocol IB).
    END_OF_CONSOLIDATION: (
        "endofconsolidation", "eoc", "endconsolidation", "postconsolidation", "afterconsolidation", "day78", "d78", "tp2",
    ),
    RELAPSE: ("relapse", "relapsestaging", "atrelapse", "relapsediagnosis"),
    MAINTENANCE: ("maintenance", "duringmaintenance"),
}
_BY_FOLDED = {label: key for key, labels in _LABELS.items() for label in labels}
_DAY = re.compile(r"(?:day|d)(\d{1,3})")


# Labels come from case files: the few a cohort uses are read once each (bounded all the same).
@lru_cache(maxsize=1024)
def fold(label: str | None) -> str | None:
    """'End of induction', 'end_of_induction' and 'EOI' compare equal after folding."""
    if not label:
        return None
    folded = re.sub(r"[^a-z0-9]", "", label.lower())
    return folded or None


@lru_cache(maxsize=1024)
def timepoint_of(label: str | None) -> str | None:
    """The canonical time point a label names; ``dayN`` for a day this vocabulary does not name.

    None when there is no label or the label is not a time point (then the
    sample is placed by its date).
    """
    folded = fold(label)
    if folded is None:
        return None
    if folded in _BY_FOLDED:
        return _BY_FOLDED[folded]
    match = _DAY.fullmatch(folded)
    return f"day{int(match.group(1))}" if match else None


def is_end_of_induction(label: str | None) -> bool:
    return timepoint_of(label) == END_OF_INDUCTION


def is_end_of_consolidation(label: str | None) -> bool:
    return timepoint_of(label) == END_OF_CONSOLIDATION


def names_another_timepoint(label: str | None) -> bool:
    """The label names an assessment other than the end of induction (day 8, relapse, day 60 ...)."""
    point = timepoint_of(label)
    return point is not None and point != END_OF_INDUCTION
