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

    Spellings are matched after folding case, spaces, ``^``/``*`` and the micro sign,
    but only among the spellings of this kind, so ``G/L`` (giga-cells per litre, a
    count) and ``g/L`` (grams per litre, haemoglobin) can never be confused.
    """

    name: str
    canonical: str
    factors: dict[str, float]

    def accepted(self) -> list[str]:
        return list(self.factors)

    def factor(self, unit: str) -> float:
        folded = fold_unit(unit)
        for spelling, factor in self.factors.items():
            if fold_unit(spelling) == folded:
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


def fold_unit(unit: str) -> str:
    """Fold harmless spelling variants (case, spaces, micro sign, ``^`` vs ``*``) onto one form."""
    return unit.strip().replace(" ", "").replace("µ", "u").replace("μ", "u").replace("^", "*").lower()


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
