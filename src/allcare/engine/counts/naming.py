"""The plain words patient sources use for what a blood count shows.

Families and many clinical letters say "anaemia" or "pancytopenia", not
"CTCAE Anemia grade 2"; naming the finding both ways lets a reader match the
assessment to what they were told. A cytopenia is named when the value is
below the reference range or has a CTCAE grade of 1 or more (the grade-2+
lines are absolute, so they name a cytopenia even where no range is known).
A name needs certainty: a result reported as a bound that may lie on either
side of the line names nothing.

The names depend on a few yes/no signs per analyte, kept as bits of one small
integer per value (grading works them out once per value), so they are worked
out once per combination of signs: hundreds of counts in a case are named from
a cache of a few dozen combinations.
"""

from __future__ import annotations

from functools import lru_cache

ANAEMIA = "anaemia"
NEUTROPENIA = "neutropenia"
LEUKOPENIA = "leukopenia"
LEUKOCYTOSIS_NAME = "leukocytosis"
HYPERLEUKOCYTOSIS = "hyperleukocytosis"
THROMBOCYTOPENIA = "thrombocytopenia"
PANCYTOPENIA = "pancytopenia"
CIRCULATING_BLASTS = "circulating blasts"
NAMES = (ANAEMIA, NEUTROPENIA, LEUKOPENIA, LEUKOCYTOSIS_NAME, HYPERLEUKOCYTOSIS, THROMBOCYTOPENIA, PANCYTOPENIA, CIRCULATING_BLASTS)
"""Every name, in the order a count lists them."""

# The signs of one value, as bits.
DECREASED = 1  # below the range, or a CTCAE "decreased" grade of 1 or more
RAISED = 2  # flagged high, or graded as leukocytosis
VERY_HIGH = 4  # leukocytosis of grade 3 or more
PRESENT = 8  # above zero (circulating blasts)
SIGNS = DECREASED | RAISED | VERY_HIGH | PRESENT  # every sign bit: grading keeps other bits above them

NAMED_FROM = ("hemoglobin", "anc", "wbc", "platelets", "blasts_pct")
"""The analytes whose signs the names read, in the order :func:`names_for` takes them."""


@lru_cache(maxsize=1024)
def names_for(signs: tuple[int, ...]) -> tuple[str, ...]:
    """Names for one count from the signs of :data:`NAMED_FROM` (0: not measured), in a fixed order.

    Only the sign bits are read: callers may pass integers with other bits set above them.

    Pancytopenia needs all three lineages low on the same count.
    """
    hemoglobin, anc, wbc, platelets, blasts = signs
    anaemia, neutropenia, leukopenia = hemoglobin & DECREASED, anc & DECREASED, wbc & DECREASED
    thrombocytopenia = platelets & DECREASED
    names: list[str] = []
    if anaemia:
        names.append(ANAEMIA)
    if neutropenia:
        names.append(NEUTROPENIA)
    if leukopenia:
        names.append(LEUKOPENIA)
    if wbc & RAISED:
        names.append(LEUKOCYTOSIS_NAME)
    if wbc & VERY_HIGH:
        names.append(HYPERLEUKOCYTOSIS)
    if thrombocytopenia:
        names.append(THROMBOCYTOPENIA)
    if anaemia and (neutropenia or leukopenia) and thrombocytopenia:
        names.append(PANCYTOPENIA)
    if blasts & PRESENT:
        names.append(CIRCULATING_BLASTS)
    return tuple(names)
