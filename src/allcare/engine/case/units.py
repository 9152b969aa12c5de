"""Unit conversion for case-file quantities.

Labs report the same analyte in many spellings (UCUM ``10*9/L``, lab ``K/uL``,
``/mm3`` ...). The engine works in one canonical unit per kind of quantity, so
conversion happens once, at the edge, and the reported value and unit are kept
beside the canonical one so that nothing is lost on export.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UnitKind:
    """A kind of quantity: its canonical unit and the factor from each accepted spelling.

    Spellings are matched after folding spaces, ``^``/``*`` and the micro sign, and
    then, as a fallback, letter case (labs write ``k/ul`` or ``CELLS/UL``). Case is
    never folded onto a unit of another kind: ``G/L`` (giga-cells per litre, a count)
    and ``g/L`` (grams per litre, haemoglobin) differ only in case, so a blood count
    in ``g/L`` or a haemoglobin in ``G/L`` is rejected rather than read as the other.
    """

    name: str
    canonical: str
    factors: dict[str, float]

    def accepted(self) -> list[str]:
        return list(self.factors)

    def factor(self, unit: str) -> float:
        exact = fold_spelling(unit)
        for spelling, factor in self.factors.items():
            if fold_spelling(spelling) == exact:
                return factor
        if exact in _SPELLINGS_OF_ANY_KIND:  # the exact spelling of another kind's unit
            raise UnitError(unit, self)
        folded = exact.lower()
        for spelling, factor in self.factors.items():
            if fold_spelling(spelling).lower() == folded:
                return factor
        raise UnitError(unit, self)

    def to_canonical(self, value: float, unit: str) -> float:
        return value * self.factor(unit)


class UnitError(ValueError):
    """Raised when a unit is not one of the spellings accepted for a field."""

    def __init__(self, unit: str, kind: UnitKind):
        self.unit = unit
        self.kind = kind
        super().__init__(
            f"unit {unit!r} is not accepted for a {kind.name}; accepted units: {', '.join(kind.accepted())}"
        )


def fold_spelling(unit: str) -> str:
    """Fold harmless spelling variants (spaces, micro sign, ``^`` vs ``*``) onto one form; keep case."""
    return unit.strip().replace(" ", "").replace("µ", "u").replace("μ", "u").replace("^", "*")


# Cell counts in blood: canonical 10^9/L (= 10^3/uL = K/uL).
CELL_COUNT = UnitKind(
    "cell count",
    "10^9/L",
    {
        "10^9/L": 1.0,
        "10*9/L": 1.0,
        "10^3/uL": 1.0,
        "10*3/uL": 1.0,
        "10*3/mm3": 1.0,
        "K/uL": 1.0,
        "G/L": 1.0,
        "/uL": 1e-3,
        "cells/uL": 1e-3,
        "/mm3": 1e-3,
        "cells/mm3": 1e-3,
    },
)

# Red cells: canonical 10^12/L (= 10^6/uL = M/uL).
RED_CELL_COUNT = UnitKind(
    "red cell count",
    "10^12/L",
    {"10^12/L": 1.0, "10*12/L": 1.0, "10^6/uL": 1.0, "10*6/uL": 1.0, "M/uL": 1.0, "T/L": 1.0},
)

# Haemoglobin: canonical g/dL. 1 mmol/L (monomer) = 1.6114 g/dL, the factor CTCAE's
# dual-unit table implies (10.0 g/dL ~ 6.2 mmol/L).
HEMOGLOBIN = UnitKind(
    "haemoglobin concentration",
    "g/dL",
    {"g/dL": 1.0, "g/L": 0.1, "mmol/L": 1.6114},
)

# Spinal fluid cells: canonical cells/uL (= 10^6/L).
CSF_CELLS = UnitKind(
    "spinal fluid cell count",
    "cells/uL",
    {"cells/uL": 1.0, "/uL": 1.0, "/mm3": 1.0, "cells/mm3": 1.0, "10^6/L": 1.0, "10*6/L": 1.0},
)

PERCENT = UnitKind("percentage", "%", {"%": 1.0})

# Every spelling of every kind, as written: a unit spelled exactly like another kind's
# unit is never matched case-insensitively (see UnitKind).
_SPELLINGS_OF_ANY_KIND = frozenset(
    fold_spelling(spelling)
    for kind in (CELL_COUNT, RED_CELL_COUNT, HEMOGLOBIN, CSF_CELLS, PERCENT)
    for spelling in kind.factors
)
