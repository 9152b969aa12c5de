"""The plain words patient sources use for what a blood count shows.

Families and many clinical letters say "anaemia" or "pancytopenia", not
"CTCAE Anemia grade 2"; naming the finding both ways lets a reader match the
assessment to what they were told. A cytopenia is named when the value is
below the reference range or has a CTCAE grade of 1 or more (the grade-2+
lines are absolute, so they name a cytopenia even where no range is known).

The names depend on a few yes/no facts per analyte (:class:`Signs`), so they
are worked out once per combination of signs (:func:`names_for`): grading keeps
each value's signs with its cached reading, and the hundreds of counts in a
case are named from a cache of a few dozen combinations.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from ..assessment import AnalyteResult
from .ctcae import LEUKOCYTOSIS

ANAEMIA = "anaemia"
NEUTROPENIA = "neutropenia"
LEUKOPENIA = "leukopenia"
LEUKOCYTOSIS_NAME = "leukocytosis"
HYPERLEUKOCYTOSIS = "hyperleukocytosis"
THROMBOCYTOPENIA = "thrombocytopenia"
PANCYTOPENIA = "pancytopenia"
CIRCULATING_BLASTS = "circulating blasts"


class Signs(NamedTuple):
    """What the names of a count can depend on, read from one analyte's result."""

    analyte: str
    decreased: bool  # below the range, or a CTCAE "decreased" grade of 1 or more
    raised: bool  # flagged high, or graded as leukocytosis
    very_high: bool  # leukocytosis of grade 3 or more
    present: bool  # above zero (circulating blasts)


def _decreased(result: AnalyteResult) -> bool:
    graded_low = result.ctcae_term != LEUKOCYTOSIS and result.grade is not None and result.grade >= 1
    return result.flag == "low" or graded_low


_ABSENT = Signs(analyte="", decreased=False, raised=False, very_high=False, present=False)
"""Stands in for an analyte the count did not measure: it names nothing."""


def signs(result: AnalyteResult) -> Signs:
    """Everything :func:`names_for` reads from one result."""
    leukocytosis = result.ctcae_term == LEUKOCYTOSIS
    return Signs(
        analyte=result.analyte,
        decreased=_decreased(result),
        raised=result.flag == "high" or leukocytosis,
        very_high=leukocytosis and result.grade is not None and result.grade >= 3,
        present=result.value > 0,
    )


def name_count(results: list[AnalyteResult]) -> list[str]:
    """Names for one count, in a fixed order; pancytopenia needs all three lineages low on the same count."""
    return list(names_for(tuple(signs(r) for r in results)))


@lru_cache(maxsize=1024)
def names_for(count: tuple[Signs, ...]) -> tuple[str, ...]:
    """:func:`name_count` from the signs of each result (cached: see the module docstring)."""
    by_analyte = {s.analyte: s for s in count}
    wbc = by_analyte.get("wbc", _ABSENT)
    names: list[str] = []
    anaemia = by_analyte.get("hemoglobin", _ABSENT).decreased
    neutropenia = by_analyte.get("anc", _ABSENT).decreased
    leukopenia = wbc.decreased
    thrombocytopenia = by_analyte.get("platelets", _ABSENT).decreased
    if anaemia:
        names.append(ANAEMIA)
    if neutropenia:
        names.append(NEUTROPENIA)
    if leukopenia:
        names.append(LEUKOPENIA)
    if wbc.raised:
        names.append(LEUKOCYTOSIS_NAME)
    if wbc.very_high:
        names.append(HYPERLEUKOCYTOSIS)
    if thrombocytopenia:
        names.append(THROMBOCYTOPENIA)
    if anaemia and (neutropenia or leukopenia) and thrombocytopenia:
        names.append(PANCYTOPENIA)
    if by_analyte.get("blasts_pct", _ABSENT).present:
        names.append(CIRCULATING_BLASTS)
    return tuple(names)
