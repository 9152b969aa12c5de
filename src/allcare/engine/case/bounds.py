"""Results reported as a bound ("< 0.01%", "> 1000"), compared with three-valued logic.

Laboratories report a value below the assay's limit of detection or above its
range as a bound (FHIR ``Quantity.comparator``). Read as the exact number, an
MRD of "< 0.01%" becomes 0.01% and crosses the positivity line, and platelets of
"< 5" become 5. So a rule never asks "is the value >= t?" of a bound directly:
it asks :func:`at_least` and friends, which answer True or False when the bound
settles the question, and None ("cannot determine") when the true value may lie
on either side of the threshold. Values are never negative, so "< x" means the
interval [0, x).
"""

from __future__ import annotations

from typing import Literal

Comparator = Literal["<", "<=", ">=", ">"]
COMPARATORS: tuple[str, ...] = ("<", "<=", ">=", ">")


def _interval(value: float, comparator: str | None) -> tuple[float, bool, float, bool]:
    """(low, low included, high, high included) of the values a result allows."""
    inf = float("inf")
    if comparator is None:
        return value, True, value, True
    if comparator == "<":
        return 0.0, True, value, False
    if comparator == "<=":
        return 0.0, True, value, True
    if comparator == ">":
        return value, False, inf, False
    if comparator == ">=":
        return value, True, inf, False
    raise ValueError(f"unknown comparator {comparator!r}; expected one of {', '.join(COMPARATORS)}")


def at_least(value: float, comparator: str | None, threshold: float) -> bool | None:
    """Is the true value >= ``threshold``? None when the bound straddles it."""
    if comparator is None:  # an exact value, as most are: a plain comparison
        return value >= threshold
    low, _, high, high_in = _interval(value, comparator)
    if low >= threshold:
        return True
    if high < threshold or (high == threshold and not high_in):
        return False
    return None


def above(value: float, comparator: str | None, threshold: float) -> bool | None:
    """Is the true value > ``threshold``? None when the bound straddles it."""
    if comparator is None:
        return value > threshold
    low, low_in, high, _ = _interval(value, comparator)
    if low > threshold or (low == threshold and not low_in):
        return True
    if high <= threshold:
        return False
    return None


def below(value: float, comparator: str | None, threshold: float) -> bool | None:
    """Is the true value < ``threshold``? (the negation of :func:`at_least`)."""
    if comparator is None:
        return value < threshold
    answer = at_least(value, comparator, threshold)
    return None if answer is None else not answer


def at_most(value: float, comparator: str | None, threshold: float) -> bool | None:
    """Is the true value <= ``threshold``? (the negation of :func:`above`)."""
    if comparator is None:
        return value <= threshold
    answer = above(value, comparator, threshold)
    return None if answer is None else not answer


def describe(value: float, comparator: str | None, unit: str = "") -> str:
    """The result as a lab writes it: '< 0.0001', '12.4 10^9/L'."""
    text = f"{comparator} {value:g}" if comparator else f"{value:g}"
    return f"{text} {unit}".rstrip()
