"""Units of measured values: one home for the case model and the FHIR importer and exporter.

Labs report the same analyte in many spellings: UCUM codes (``10*9/L``, ``/uL``)
and their own (LabCorp ``x10E3/uL``, Quest ``Thousand/uL``, ``K/mcL``, ``10³/µL``,
``Gpt/L``). A spelling is resolved in two steps:

1. :data:`LAB_SPELLINGS` (and the ``x10^n`` notations of :func:`ucum_code`) turn a
   lab's own spelling into a UCUM code;
2. the UCUM code is parsed and converted by a maintained UCUM implementation
   (``ucumvert``, UCUM on top of ``pint``), which also checks the kind: a count
   (number per volume) is never read from ``g/L`` (mass per volume).

The engine works in one canonical unit per kind of quantity, so conversion
happens once, at the edge; the reported value and unit are kept beside the
canonical one so that nothing is lost on export. Loading the UCUM tables takes
about a second, so it happens on the first unit that is not a kind's canonical
code, once per process, and each conversion factor is kept.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

# Lab spellings that are not UCUM (or mean something else in UCUM: ``G`` is the gauss,
# ``K`` the kelvin) -> the UCUM code they stand for. Keys are written after the harmless
# folding of :func:`fold_spelling`; lookups try the exact spelling, then any case.
# Sources: the spellings of US reference labs' result feeds (LabCorp ``x10E3/uL``, Quest
# ``Thousand/uL``), European analysers (``G/L``, ``Gpt/L`` = Gigapartikel per litre, ``T/L``),
# and the UCUM specification's own guidance that ``10*3/uL`` is the code for them.
LAB_SPELLINGS: dict[str, str] = {
    "K/uL": "10*3/uL", "Thousand/uL": "10*3/uL", "Thou/uL": "10*3/uL", "thou/mm3": "10*3/mm3",
    "K/mm3": "10*3/mm3", "M/uL": "10*6/uL", "Million/uL": "10*6/uL", "Mill/uL": "10*6/uL", "M/mm3": "10*6/mm3",
    "G/L": "10*9/L", "Gpt/L": "10*9/L", "Giga/L": "10*9/L", "T/L": "10*12/L", "Tpt/L": "10*12/L", "Tera/L": "10*12/L",
    "cells/uL": "/uL", "cells/mm3": "/mm3", "cells/L": "/L", "cell/uL": "/uL", "cells/mL": "/mL",
    "percent": "%", "pct": "%",
}
_LAB_SPELLINGS_ANY_CASE = {spelling.lower(): code for spelling, code in LAB_SPELLINGS.items()}

# ``x10E3``, ``x10^3``, ``x10(3)``, ``10e3``, ``10**3``, ``10*3`` before a unit -> UCUM ``10*3``.
_POWER_OF_TEN = re.compile(r"^(?:[x×*]\s*)?10\s*(?:\^|\*\*|\*|E|e|\()\s*([+-]?\d+)\)?\s*(?=/|[A-Za-z{]|$)")
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def fold_spelling(unit: str) -> str:
    """Fold harmless spelling variants onto one form, keeping letter case.

    Spaces go; the micro sign (``µ``, ``μ``, ``mc``) becomes ``u``; superscript digits
    become digits (``10³`` = ``10^3``); ``^`` and ``**`` become UCUM's ``*``.
    """
    text = unit.strip().replace(" ", "").replace("µ", "u").replace("μ", "u")
    text = re.sub(r"10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)", lambda m: "10*" + m.group(1).translate(_SUPERSCRIPTS), text)
    text = re.sub(r"(?<![A-Za-z])mc(?=[LlgG]|m3|mol)", "u", text)  # mcL, mcg, mcmol: micro
    text = re.sub(r"(\d)\*\*", r"\1*", text)
    return text.replace("^", "*")


def ucum_code(unit: str) -> str:
    """The UCUM code a spelling stands for (the spelling itself when it is one already).

    ``x10E3/uL`` -> ``10*3/uL``; ``Thousand/uL`` -> ``10*3/uL``; ``cells/mm3`` -> ``/mm3``.
    No conversion and no check happen here: that is :meth:`UnitKind.factor`.
    """
    folded = fold_spelling(unit)
    if folded in LAB_SPELLINGS:
        return LAB_SPELLINGS[folded]
    match = _POWER_OF_TEN.match(folded)
    if match and (match.group(0)[0] in "x×*" or match.group(0)[2:3] in "Ee("):
        rest = re.sub(r"^cells?(?=/)", "", folded[match.end():])
        return f"10*{int(match.group(1))}{rest}"
    return folded


@dataclass(frozen=True)
class UnitKind:
    """A kind of quantity: its canonical unit, how it is shown, and conversions UCUM cannot do.

    ``canonical`` is shown to people (``10^9/L``); ``ucum`` is the same unit as a UCUM
    code. ``per_substance`` converts a substance concentration (``mmol/L``) for an
    analyte with a molar mass (haemoglobin), which UCUM alone cannot relate to mass.
    ``examples`` are the spellings forms offer and error messages suggest.
    """

    name: str
    canonical: str
    ucum: str
    examples: tuple[str, ...]
    per_substance: tuple[str, float] | None = None

    def accepted(self) -> list[str]:
        return list(self.examples)

    def factor(self, unit: str) -> float:
        """Multiply a value in ``unit`` by this to get the canonical unit; :class:`UnitError` otherwise."""
        return _factor(self, unit)

    def to_canonical(self, value: float, unit: str) -> float:
        return value * self.factor(unit)


class UnitError(ValueError):
    """Raised when a unit cannot be read as a quantity of the field's kind."""

    def __init__(self, unit: str, kind: UnitKind, why: str = ""):
        self.unit = unit
        self.kind = kind
        reason = f" ({why})" if why else ""
        super().__init__(
            f"unit {unit!r} is not accepted for a {kind.name}{reason}; use a UCUM unit of that kind, "
            f"e.g. {', '.join(kind.examples)}"
        )


@lru_cache(maxsize=4096)
def _factor(kind: UnitKind, unit: str) -> float:
    if not isinstance(unit, str) or not unit.strip():
        raise UnitError(str(unit), kind, "no unit")
    folded = fold_spelling(unit)
    if folded == kind.ucum or folded == fold_spelling(kind.canonical):
        return 1.0
    candidates = [ucum_code(unit)]
    lowered = _LAB_SPELLINGS_ANY_CASE.get(folded.lower())
    if lowered and lowered not in candidates:
        candidates.append(lowered)  # a lab spelling in another case (k/ul), tried only when the exact one fails
    why = ""
    for code in candidates:
        factor, why = _convert(kind, code)
        if factor is not None:
            return factor
        if why.startswith("a "):  # a valid unit of another kind: never read by ignoring case
            break
    raise UnitError(unit, kind, why)


def _convert(kind: UnitKind, code: str) -> tuple[float | None, str]:
    """(factor, "") or (None, why) for a UCUM code."""
    registry = _registry()
    try:
        quantity = registry.from_ucum(code)
    except Exception:  # noqa: BLE001 - the parser raises several kinds for text that is not UCUM
        return None, "not a UCUM unit or a known lab spelling"
    try:
        return _round(quantity.to(registry.from_ucum(kind.ucum)).magnitude), ""
    except Exception:  # noqa: BLE001 - pint's DimensionalityError and friends
        pass
    if kind.per_substance is not None:
        substance, grams = kind.per_substance
        try:
            return _round(quantity.to(registry.from_ucum(substance)).magnitude * grams), ""
        except Exception:  # noqa: BLE001
            pass
    return None, f"a unit of another kind: {quantity.dimensionality or 'a pure number'}"


def _round(factor: float) -> float:
    return float(f"{factor:.12g}")


_REGISTRY = None
_REGISTRY_LOCK = threading.Lock()


def _registry():
    """The UCUM unit registry, loaded on first use (about a second; the engine imports no I/O before)."""
    global _REGISTRY
    with _REGISTRY_LOCK:
        if _REGISTRY is None:
            from ucumvert import PintUcumRegistry

            _REGISTRY = PintUcumRegistry()
        return _REGISTRY


# Cell counts in blood: canonical 10^9/L (= 10^3/uL = K/uL).
CELL_COUNT = UnitKind("cell count", "10^9/L", "10*9/L",
                      ("10^9/L", "10*3/uL", "K/uL", "x10E3/uL", "Thousand/uL", "G/L", "/nL", "/uL", "/mm3"))
# Red cells: canonical 10^12/L (= 10^6/uL = M/uL).
RED_CELL_COUNT = UnitKind("red cell count", "10^12/L", "10*12/L", ("10^12/L", "10*6/uL", "M/uL", "x10E6/uL", "T/L"))
# Haemoglobin: canonical g/dL. 1 mmol/L (monomer) = 1.6114 g/dL, the factor CTCAE's
# dual-unit table implies (10.0 g/dL ~ 6.2 mmol/L).
HEMOGLOBIN = UnitKind("haemoglobin concentration", "g/dL", "g/dL", ("g/dL", "g/L", "mmol/L"),
                      per_substance=("mmol/L", 1.6114))
# Spinal fluid cells: canonical cells/uL (= 10^6/L).
CSF_CELLS = UnitKind("spinal fluid cell count", "cells/uL", "/uL", ("cells/uL", "/uL", "/mm3", "10^6/L"))
PERCENT = UnitKind("percentage", "%", "%", ("%",))
