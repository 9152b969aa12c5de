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
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from ucumvert import PintUcumRegistry

# Lab spellings that are not UCUM (or mean something else in UCUM: ``G`` is the gauss,
# ``K`` the kelvin) -> the UCUM code they stand for. Keys are written after the harmless
# folding of :func:`fold_spelling`; lookups try the exact spelling, then any case.
# Sources: the spellings of US reference labs' result feeds (LabCorp ``x10E3/uL``, Quest
# ``Thousand/uL``), European analysers (``G/L``, ``Gpt/L`` = Gigapartikel per litre, ``T/L``),
# and the UCUM specification's own guidance that ``10*3/uL`` is the code for them.
LAB_SPELLINGS: dict[str, str] = {
    "K/uL": "10*3/uL", "Thousand/uL": "10*3/uL", "Thou/uL": "10*3/uL", "thou/mm3": "10*3/mm3",
    "K/mm3": "10*3/mm3", "M/uL": "10*6/uL", "Million/uL": "10*6/uL", "Mill/uL": "10*6/uL", "M/mm3": "10*6/mm3",
    "G/L": "10*9/L", "G/l": "10*9/L", "Gpt/L": "10*9/L", "Giga/L": "10*9/L", "T/L": "10*12/L", "Tpt/L": "10*12/L", "Tera/L": "10*12/L",
    "cells/uL": "/uL", "cells/mm3": "/mm3", "cells/L": "/L", "cell/uL": "/uL", "cells/mL": "/mL",
    "percent": "%", "pct": "%",
}
_LAB_SPELLINGS_ANY_CASE = {spelling.lower(): code for spelling, code in LAB_SPELLINGS.items()}

# ``x10E3``, ``x10^3``, ``x10(3)``, ``10e3``, ``10**3``, ``10*3`` before a unit -> UCUM ``10*3``.
_POWER_OF_TEN = re.compile(r"^(?:[x×*]\s*)?10\s*(?:\^|\*\*|\*|E|e|\()\s*([+-]?\d+)\)?\s*(?=/|[A-Za-z{]|$)")
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def fold_spelling(unit: str) -> str:
    """Fold harmless spelling variants onto one form, keeping letter case.

    Spaces go; the micro sign (``µ``, ``μ``, ``mc``) becomes ``u``; ``cmm`` (cubic millimetre)
    becomes ``mm3`` and ``gm`` (gram) ``g``, as older US reports write them; superscript digits
    become digits (``10³`` = ``10^3``); ``^`` and ``**`` become UCUM's ``*``. The power of
    a unit symbol is written as UCUM writes it, a plain digit (``m²`` = ``m^2`` = ``m2``).
    """
    text = unit.strip().replace(" ", "").replace("µ", "u").replace("μ", "u")
    text = re.sub(r"10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)", lambda m: "10*" + m.group(1).translate(_SUPERSCRIPTS), text)
    text = re.sub(r"(?<=[A-Za-z\]])(?:\^|\*\*)?([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+|(?<=[\^*])[+-]?\d+)",
                  lambda m: m.group(1).translate(_SUPERSCRIPTS), text)
    text = re.sub(r"(?<![A-Za-z])mc(?=[LlgG]|m3|mol)", "u", text)  # mcL, mcg, mcmol: micro
    text = re.sub(r"(?i)(?<![A-Za-z])cmm(?![A-Za-z])", "mm3", text)  # cmm: cubic millimetre (older US reports)
    text = re.sub(r"(?i)(?<![A-Za-z])gm(?=/|$)", "g", text)  # gm/dL: gram (older US reports)
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


class Spelling(NamedTuple):
    """A spelling a kind converts itself: ``value * factor + offset``; ``ucum`` is the UCUM code
    written for it on export (None: no UCUM code means the same, e.g. calcium in mEq/L)."""

    spelling: str
    factor: float
    offset: float = 0.0
    ucum: str | None = None


@dataclass(frozen=True)
class UnitKind:
    """A kind of quantity: its canonical unit, how it is shown, and conversions UCUM cannot do.

    ``canonical`` is shown to people (``10^9/L``); ``ucum`` is the same unit as a UCUM
    code. ``molar_mass`` (g/mol) relates a mass concentration (``mg/dL``) to a substance
    concentration (``mmol/L``) of the analyte, both ways, which UCUM alone cannot do.
    ``fixed`` lists spellings the kind converts itself (:class:`Spelling`), before UCUM is
    asked: where the analyte changes the meaning (calcium ``mEq/L`` is half a ``mmol/L``,
    valence 2; an enzyme's ``IU/L`` is UCUM's ``U/L``) or the conversion is not a factor
    (degrees Fahrenheit). With ``ucum_conversion`` off only those spellings and the
    canonical unit are read (``mg/kg`` is a pure number to UCUM, like ``%``).
    ``significant`` keeps that many significant digits after a conversion (guidelines quote
    the other unit rounded to about three digits: uric acid 476 umol/L = "8 mg/dL"), and
    ``conventional`` names the unit CTCAE prints beside the SI one.
    ``examples`` are the spellings forms offer and error messages suggest.
    """

    name: str
    canonical: str
    ucum: str
    examples: tuple[str, ...]
    molar_mass: float | None = None
    fixed: tuple[Spelling, ...] = ()
    ucum_conversion: bool = True
    significant: int | None = None
    conventional: str | None = None
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # :func:`_affine`'s cache hashes the kind on every ``factor()`` call (hundreds per imported record):
        # the hash of its compared fields (what the dataclass would hash each time) is worked out once.
        object.__setattr__(self, "_hash", hash(tuple(getattr(self, f.name) for f in fields(self) if f.compare)))

    def __hash__(self) -> int:
        return self._hash

    def accepted(self) -> list[str]:
        return list(self.examples)

    @property
    def has_offset(self) -> bool:
        """Converted with an offset (temperatures): a negative value in another unit can be valid."""
        return any(entry.offset for entry in self.fixed)

    def factor(self, unit: str) -> float:
        """Multiply a value in ``unit`` by this to get the canonical unit (plus the offset of
        :meth:`to_canonical` for temperatures); :class:`UnitError` otherwise."""
        return _affine(self, unit)[0]

    def ucum_for(self, unit: str) -> str | None:
        """The UCUM code to write for a spelling this kind reads (None when no UCUM code means the same)."""
        folded = fold_spelling(unit)
        if folded == self.ucum or folded == fold_spelling(self.canonical):
            return self.ucum
        entry = _own_spelling(self, folded)
        if entry is not None:
            return entry.ucum
        if not self.ucum_conversion:
            return None
        code = ucum_code(unit)
        try:
            self.factor(code)
        except UnitError:
            return None
        return code

    def to_canonical(self, value: float, unit: str) -> float:
        factor, offset = _affine(self, unit)
        result = value * factor + offset
        if self.significant is not None and (factor != 1.0 or offset) and result:
            result = float(f"{result:.{self.significant}g}")
        return result


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
def _affine(kind: UnitKind, unit: str) -> tuple[float, float]:
    """(factor, offset) from ``unit`` to the kind's canonical unit."""
    if not isinstance(unit, str) or not unit.strip():
        raise UnitError(str(unit), kind, "no unit")
    folded = fold_spelling(unit)
    if folded == kind.ucum or folded == fold_spelling(kind.canonical):
        return 1.0, 0.0
    entry = _own_spelling(kind, folded)
    if entry is not None:
        return entry.factor, entry.offset
    if not kind.ucum_conversion:
        raise UnitError(unit, kind, "not one of its spellings")
    candidates = [ucum_code(unit)]
    lowered = _LAB_SPELLINGS_ANY_CASE.get(folded.lower())
    if lowered and lowered not in candidates:
        candidates.append(lowered)  # a lab spelling in another case (k/ul), tried only when the exact one fails
    why = ""
    for code in candidates:
        factor, why = _convert(kind, code)
        if factor is not None:
            return factor, 0.0
        if why.startswith("a "):  # a valid unit of another kind: never read by ignoring case
            raise UnitError(unit, kind, why)
    # Not a unit at all as written: one of this kind's own spellings in another letter case (MG/DL, UMOL/L,
    # /UL: reports that print units in capitals), never a spelling of another kind.
    for spelling in (kind.canonical, kind.ucum, *kind.examples):
        if fold_spelling(spelling).lower() == folded.lower():
            factor, _ = _convert(kind, ucum_code(spelling))
            if factor is not None:
                return factor, 0.0
    raise UnitError(unit, kind, why)


def _own_spelling(kind: UnitKind, folded: str) -> Spelling | None:
    """The kind's own spelling of a folded unit: exact, then in any letter case (labs write iu/l)."""
    for entry in kind.fixed:
        if fold_spelling(entry.spelling) == folded:
            return entry
    for entry in kind.fixed:
        if fold_spelling(entry.spelling).lower() == folded.lower():
            return entry
    return None


def _convert(kind: UnitKind, code: str) -> tuple[float | None, str]:
    """(factor, "") or (None, why) for a UCUM code."""
    registry = _registry()
    try:
        quantity = registry.from_ucum(code)
    except Exception:  # noqa: BLE001 - the parser raises several kinds for text that is not UCUM
        return None, "not a UCUM unit or a known lab spelling"
    if not hasattr(quantity, "dimensionality"):
        # An annotation alone (``{fraction}``, ``{ratio}``), which the parser returns as it read it: UCUM 2.1
        # §12 (curly braces) gives an annotation without a unit symbol before it the meaning of the unity 1.
        quantity = registry.from_ucum("1")
    canonical = registry.from_ucum(kind.ucum)
    try:
        return _round(quantity.to(canonical).magnitude), ""
    except Exception:  # noqa: BLE001, S110 - pint's DimensionalityError and friends
        pass  # not the same dimension: try through the molar mass below
    if kind.molar_mass is not None:
        grams_per_mole = registry.from_ucum("g/mol") * kind.molar_mass
        for converted in (quantity / grams_per_mole, quantity * grams_per_mole):  # mass -> substance, substance -> mass
            try:
                return _round(converted.to(canonical).magnitude), ""
            except Exception:  # noqa: BLE001, S110 - not this direction; try the other
                pass
    return None, f"a unit of another kind: {quantity.dimensionality or 'a pure number'}"


def _round(factor: float) -> float:
    return float(f"{factor:.12g}")


_REGISTRY: PintUcumRegistry | None = None
_REGISTRY_LOCK = threading.Lock()


def load_unit_registry() -> None:
    """Load the UCUM unit registry now (a server process at start, a bulk import before it forks its
    workers), so that no request or patient pays its second or more of loading."""
    _registry()


def _registry() -> PintUcumRegistry:
    """The UCUM unit registry, loaded on first use (about a second; the engine imports no I/O before)."""
    global _REGISTRY  # noqa: PLW0603 - loaded once, on first use
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
# Haemoglobin: canonical g/dL. 1 mmol/L (monomer, 16 114 g/mol) = 1.6114 g/dL, the factor
# CTCAE's dual-unit table implies (10.0 g/dL ~ 6.2 mmol/L).
HEMOGLOBIN = UnitKind("haemoglobin concentration", "g/dL", "g/dL", ("g/dL", "g/L", "mmol/L"), molar_mass=16114.0)
# Spinal fluid cells: canonical cells/uL (= 10^6/L).
CSF_CELLS = UnitKind("spinal fluid cell count", "cells/uL", "/uL", ("cells/uL", "/uL", "/mm3", "10^6/L"))
# UCUM's unity "1" (a fraction: 0.0001 = 0.01%) is how MRD is often coded, allcare's export
# included: converted here, it needs no UCUM registry (a second or more to load).
PERCENT = UnitKind("percentage", "%", "%", ("%",), fixed=(Spelling("1", 100.0, ucum="1"),))


# --- Treatment monitoring: chemistry, drug levels, vital signs, body size, doses ------------------
# Canonical units are SI, the units Cairo-Bishop (2004) and CTCAE v5.0 state first; a
# conventional unit (mg/dL ...) is converted through the analyte's molar mass and kept to
# three significant digits. Molar masses (g/mol): potassium 39.098, phosphorus 30.974 (phosphate
# is reported as phosphorus), calcium 40.078, uric acid 168.11, creatinine 113.12, bilirubin
# 584.66, glucose 180.16, triolein 885.4 (triglycerides), methotrexate 454.44.


def _chemistry(name: str, canonical: str, examples: tuple[str, ...], molar_mass: float | None = None,
               conventional: str | None = None, fixed: tuple[Spelling, ...] = ()) -> UnitKind:
    return UnitKind(name, canonical, ucum_code(canonical), examples, molar_mass=molar_mass, fixed=fixed,
                    significant=3, conventional=conventional)


POTASSIUM = _chemistry("potassium concentration", "mmol/L", ("mmol/L", "mEq/L"), 39.098,
                       fixed=(Spelling("mEq/L", 1.0, ucum="mmol/L"),))  # monovalent: 1 mEq = 1 mmol
PHOSPHATE = _chemistry("phosphate concentration", "mmol/L", ("mmol/L", "mg/dL"), 30.974, "mg/dL")
CALCIUM = _chemistry("calcium concentration", "mmol/L", ("mmol/L", "mg/dL", "mEq/L"), 40.078, "mg/dL",
                     fixed=(Spelling("mEq/L", 0.5),))  # divalent: 2 mEq = 1 mmol (UCUM's eq is a mole)
URIC_ACID = _chemistry("uric acid concentration", "umol/L", ("umol/L", "mg/dL"), 168.11, "mg/dL")
CREATININE = _chemistry("creatinine concentration", "umol/L", ("umol/L", "mg/dL"), 113.12, "mg/dL")
BILIRUBIN = _chemistry("bilirubin concentration", "umol/L", ("umol/L", "mg/dL"), 584.66, "mg/dL")
GLUCOSE = _chemistry("glucose concentration", "mmol/L", ("mmol/L", "mg/dL"), 180.16, "mg/dL")
TRIGLYCERIDES = _chemistry("triglyceride concentration", "mmol/L", ("mmol/L", "mg/dL"), 885.4, "mg/dL")
ALBUMIN = _chemistry("albumin concentration", "g/L", ("g/L", "g/dL"), conventional="g/dL")
FIBRINOGEN = _chemistry("fibrinogen concentration", "g/L", ("g/L", "mg/dL"), conventional="mg/dL")
# Enzyme activity: UCUM's U (umol/min); 1 ukat/L = 60 U/L. A lab's IU/L (UCUM's arbitrary [IU])
# is the same unit for an enzyme.
_IU_PER_L = tuple(Spelling(spelling, 1.0, ucum="U/L") for spelling in ("IU/L", "[IU]/L", "[iU]/L"))
ENZYME = _chemistry("enzyme activity", "U/L", ("U/L", "IU/L", "ukat/L"), fixed=_IU_PER_L)
METHOTREXATE_CONC = UnitKind("methotrexate concentration", "umol/L", "umol/L", ("umol/L", "nmol/L", "mg/L"),
                             molar_mass=454.44, significant=3,
                             fixed=(Spelling("uM", 1.0, ucum="umol/L"), Spelling("nM", 0.001, ucum="umol/L")))
# Asparaginase activity: IU/mL (1 IU = 1 umol of ammonia a minute, UCUM's U); labs also report IU/L.
ASPARAGINASE_ACTIVITY = UnitKind(
    "asparaginase activity", "IU/mL", "U/mL", ("IU/mL", "U/mL", "IU/L"),
    fixed=(*(Spelling(s, 1.0, ucum="U/mL") for s in ("[IU]/mL", "[iU]/mL")),
           *(Spelling(s.spelling, 0.001, ucum="U/mL") for s in _IU_PER_L)),
)
# Body temperature: degrees Celsius; Fahrenheit converts with an offset, kept to four digits
# (100.4 F = 38.0 C, 101 F = 38.33 C, so a reading stays on its side of 38.3).
TEMPERATURE = UnitKind(
    "body temperature", "Cel", "Cel", ("Cel", "[degF]"),
    fixed=(*(Spelling(s, 1.0, ucum="Cel") for s in ("degC", "°C", "C")),
           *(Spelling(s, 5 / 9, -32 * 5 / 9, "[degF]") for s in ("[degF]", "degF", "°F", "F"))),
    ucum_conversion=False, significant=4,
)
HEART_RATE = UnitKind("heart rate", "/min", "/min", ("/min", "bpm"),
                      fixed=tuple(Spelling(s, 1.0, ucum="/min") for s in ("bpm", "beats/min")))
BLOOD_PRESSURE = UnitKind("blood pressure", "mm[Hg]", "mm[Hg]", ("mm[Hg]", "mmHg", "kPa"),
                          fixed=(Spelling("mmHg", 1.0, ucum="mm[Hg]"),))
HEIGHT = UnitKind("body height", "cm", "cm", ("cm", "m", "[in_i]"), fixed=(Spelling("in", 2.54, ucum="[in_i]"),))
WEIGHT = UnitKind("body weight", "kg", "kg", ("kg", "g", "[lb_av]"), fixed=(Spelling("lb", 0.45359237, ucum="[lb_av]"),))
BODY_SURFACE = UnitKind("body surface area", "m2", "m2", ("m2",))
# Doses: an amount, an amount per body surface area or per body weight. Units of asparaginase
# are international units (IU = U); mg/kg and IU are pure numbers or arbitrary to UCUM, so those
# kinds read only their own spellings.
DOSE_AMOUNT = UnitKind("dose amount", "mg", "mg", ("mg", "g", "ug"))
DOSE_PER_AREA = UnitKind("dose per body surface area", "mg/m2", "mg/m2", ("mg/m2", "g/m2", "ug/m2"))
DOSE_PER_WEIGHT = UnitKind("dose per body weight", "mg/kg", "mg/kg", ("mg/kg", "ug/kg"), ucum_conversion=False,
                           fixed=(Spelling("ug/kg", 0.001, ucum="ug/kg"), Spelling("g/kg", 1000.0, ucum="g/kg")))
DOSE_UNITS = UnitKind("dose in units", "[iU]", "[iU]", ("[iU]", "IU", "U"), ucum_conversion=False,
                      fixed=tuple(Spelling(s, 1.0, ucum="[iU]") for s in ("IU", "[IU]", "U", "units")))
DOSE_UNITS_PER_AREA = UnitKind("dose in units per body surface area", "[iU]/m2", "[iU]/m2", ("[iU]/m2", "IU/m2", "U/m2"),
                               ucum_conversion=False,
                               fixed=tuple(Spelling(s, 1.0, ucum="[iU]/m2") for s in ("IU/m2", "[IU]/m2", "U/m2", "units/m2")))
DOSE_KINDS = (DOSE_AMOUNT, DOSE_PER_AREA, DOSE_PER_WEIGHT, DOSE_UNITS, DOSE_UNITS_PER_AREA)
