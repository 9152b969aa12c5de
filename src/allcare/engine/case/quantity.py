"""Measured quantities as they appear in a case file.

A quantity may be written as a bare number (already in the field's default
unit) or as ``{"value": 12400, "unit": "/uL"}``. Validation converts it to the
canonical unit once; the reported value and unit are kept so that export gives
back exactly what came in.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Any

import msgspec
from pydantic import Field
from pydantic_core import core_schema

from . import units as U
from .bounds import COMPARATORS, Comparator
from .units import CELL_COUNT, CSF_CELLS, HEMOGLOBIN, PERCENT, RED_CELL_COUNT, UnitError, UnitKind


class Quantity(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A number in its canonical unit, with the lab's reference range when it gave one.

    ``comparator`` keeps a result reported as a bound ("< 5", "> 1000"): the true
    value is then only known to lie on one side of ``value``, and every rule must
    read it through :mod:`.bounds` (three-valued), never as the exact number.
    ``reported`` keeps the case-file object exactly as written (value, unit, limits,
    comparator) when it was not a bare number, so that export gives back what came in.

    A case holds a thousand of these and the engine reads each several times, so
    it is a frozen struct (read in C, not tracked by the garbage collector: it
    holds numbers, text and the reported dict, never a cycle), not a model: it is built only by the
    validator of the fields that hold it (:func:`quantity_metadata`), which pydantic
    calls, and written back to a case file as ``reported`` or the bare value.
    """

    value: float
    unit: str
    lower_limit: float | None = None
    upper_limit: float | None = None
    comparator: Comparator | None = None
    reported: dict[str, Any] | None = None

    def as_case_file(self) -> Any:
        """What the case file said: the object as written, or the bare number."""
        return dict(self.reported) if self.reported is not None else self.value

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        # Validated by the field's parser (see quantity_metadata); pydantic only checks the type
        # of what the parser returns, and writes a case file back with ``as_case_file``.
        return core_schema.is_instance_schema(
            cls, serialization=core_schema.plain_serializer_function_ser_schema(cls.as_case_file)
        )


_OBJECT_KEYS = {"value", "unit", "lower_limit", "upper_limit", "comparator"}

# Bare numbers kept per kind of quantity (see ``SharedQuantities``; about 650 bytes each,
# so at most about 1.3 MB per kind). Labs report one or two decimals: a synthetic
# cohort of 3,000 cases shows about 1,500 distinct cell counts and under 300 of the rest.
_BARE_CACHE_SIZE = 2048


def finite_number(raw: Any, what: str) -> float:
    """``raw`` as a float, or a ValueError naming ``what``: a boolean is not a number, and NaN, infinity
    or a JSON integer beyond a float's range is no measurement. A negative zero reads as zero (a
    measurement has no signed zero), as a bare number does (``SharedQuantities``)."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ValueError(f"{what} must be a number")
    try:
        value = float(raw)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number")
    return value + 0.0  # -0.0 + 0.0 is 0.0


def quantity_parser(kind: UnitKind, minimum: float = 0.0, maximum: float | None = None,
                    bare_allowed: bool = True) -> Callable[[Any], Quantity | None]:
    """Build a pydantic 'before' validator that turns case-file input into a :class:`Quantity`.

    ``bare_allowed=False`` refuses a number without its unit: for analytes labs report
    in units that differ ten- to a hundred-fold (creatinine 0.5 mg/dL = 44 umol/L), a
    bare number would be silently wrong in one of them.
    """

    def in_range(canonical: float, shown: float, unit: str, reported: bool) -> None:
        if canonical < minimum:
            raise ValueError(f"must be >= {minimum:g} {kind.canonical} (got {shown:g} {unit})")
        if maximum is not None and canonical > maximum:
            hint = "" if reported or len(kind.examples) == 1 else f"; if the lab reported another unit, write {{'value': {shown:g}, 'unit': '...'}}"
            raise ValueError(f"must be <= {maximum:g} {kind.canonical} (got {shown:g} {unit}){hint}")

    def parse(raw: Any) -> Quantity | None:
        if raw is None or isinstance(raw, Quantity):
            return raw
        if isinstance(raw, dict):
            extra = set(raw) - _OBJECT_KEYS
            if extra:
                raise ValueError(
                    f"unexpected key(s) {sorted(extra)}; allowed: value, unit, lower_limit, upper_limit, comparator"
                )
            if "value" not in raw:
                raise ValueError("a measured value needs 'value'")
            unit = raw.get("unit", kind.canonical)
            if not isinstance(unit, str):
                raise ValueError("'unit' must be text")
            kind.factor(unit)  # an unknown unit is named before the value is read
            value = finite_number(raw["value"], "'value'")
            canonical = round(kind.to_canonical(value, unit), 9)
            in_range(canonical, value, unit, True)
            limits: dict[str, float] = {}
            for bound in ("lower_limit", "upper_limit"):
                if raw.get(bound) is not None:
                    limit = finite_number(raw[bound], f"'{bound}'")
                    if limit < 0 and not kind.has_offset:
                        raise ValueError(f"'{bound}' must be >= 0")
                    limits[bound] = round(kind.to_canonical(limit, unit), 9)
            if limits.get("lower_limit", 0) > limits.get("upper_limit", float("inf")):
                raise ValueError("'lower_limit' is above 'upper_limit'")
            comparator = raw.get("comparator")
            if comparator is not None and comparator not in COMPARATORS:
                raise ValueError(f"'comparator' must be one of {', '.join(COMPARATORS)} (got {comparator!r})")
            return Quantity(value=canonical, unit=kind.canonical, comparator=comparator, reported=dict(raw), **limits)
        return bare(raw)

    def bare(raw: Any) -> Quantity:
        value = finite_number(raw, "the value")
        if not bare_allowed:
            examples = " or ".join(f"{{'value': {value:g}, 'unit': '{u}'}}" for u in kind.accepted()[:2])
            raise ValueError(f"give the unit, e.g. {examples}: labs report a {kind.name} in units that differ many-fold")
        in_range(value, value, kind.canonical, False)
        return Quantity(value=value, unit=kind.canonical)

    return parse


def _schema_for(kind: UnitKind, minimum: float, maximum: float | None, bare_allowed: bool = True) -> dict[str, Any]:
    number: dict[str, Any] = {"type": "number", "minimum": minimum}
    if maximum is not None:
        number["maximum"] = maximum
    bare = [{**number, "description": f"value in {kind.canonical}"}] if bare_allowed else []
    return {
        "anyOf": [
            *bare,
            {
                "type": "object",
                "properties": {
                    "value": {"type": "number", "minimum": 0},
                    "unit": {"type": "string", "minLength": 1, "examples": kind.accepted(),
                             "description": f"a UCUM unit or a lab spelling of a {kind.name} (see docs/case-format.md)"},
                    "lower_limit": {"type": "number", "minimum": 0, "description": "lab reference range, same unit"},
                    "upper_limit": {"type": "number", "minimum": 0, "description": "lab reference range, same unit"},
                    "comparator": {
                        "type": "string",
                        "enum": list(COMPARATORS),
                        "description": "the result is a bound: '<' 5 means below 5 (e.g. below the assay's limit)",
                    },
                },
                "required": ["value"] if bare_allowed else ["value", "unit"],
                "additionalProperties": False,
            },
        ]
    }


BARE_NUMBER = "bare number"
WRITTEN_QUANTITY = "written quantity"
"""The labels of the two branches of a quantity field (see :class:`QuantityField`): errors of the first
are dropped and the second is left out of error paths (``case.errors.user_errors``)."""


class SharedQuantities(dict[float, Quantity]):
    """The one :class:`Quantity` of each bare number of a field's kind, built on first sight.

    pydantic-core calls ``__getitem__`` of this dict for every bare number that
    passed the field's checks: a number seen before is a lookup in C, with no
    Python frame; only a new number reaches ``__missing__``. Zero, the commonest
    value (blood blasts on nearly every count in remission), is always there;
    -0.0 equals 0.0 as a key, so a negative zero reads as zero (a count has no
    signed zero, and none is printed as "-0").
    """

    __slots__ = ("unit", "zero")

    def __init__(self, unit: str):
        super().__init__()
        self.unit = unit
        self.zero = Quantity(value=0.0, unit=unit)
        self[0.0] = self.zero

    def __missing__(self, value: float) -> Quantity:
        quantity = Quantity(value=value, unit=self.unit)
        if len(self) >= _BARE_CACHE_SIZE:
            self.clear()
            self[0.0] = self.zero
        self[value] = quantity
        return quantity


class QuantityField:
    """How pydantic validates a field holding a :class:`Quantity`.

    A case holds about a thousand quantities, nearly all written as bare numbers.
    Those are checked by pydantic-core itself (a finite number within the
    field's range) and mapped to their shared Quantity by a dictionary lookup
    (:class:`SharedQuantities`), so a bare number costs no Python call once its
    value has been seen. Anything else (an object with a unit, a bound, a lab
    range, or a bad value) goes to the parser, which converts it or says exactly
    what is wrong; when both branches fail, only the parser's message is reported.
    """

    def __init__(self, kind: UnitKind, minimum: float, maximum: float | None, bare_allowed: bool = True):
        self.kind = kind
        self.minimum = minimum
        self.maximum = maximum
        self.bare_allowed = bare_allowed
        self.parse = quantity_parser(kind, minimum, maximum, bare_allowed)
        self.shared = SharedQuantities(kind.canonical)

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        serialization = core_schema.plain_serializer_function_ser_schema(Quantity.as_case_file)
        written = core_schema.no_info_before_validator_function(self.parse, core_schema.is_instance_schema(Quantity))
        if not self.bare_allowed:  # a number needs its unit: the parser alone, which says so
            return core_schema.no_info_before_validator_function(
                self.parse, core_schema.is_instance_schema(Quantity), serialization=serialization,
            )
        number = core_schema.float_schema(strict=True, ge=self.minimum, le=self.maximum, allow_inf_nan=False)
        bare = core_schema.no_info_after_validator_function(self.shared.__getitem__, number)
        return core_schema.union_schema(
            [(bare, BARE_NUMBER), (written, WRITTEN_QUANTITY)], mode="left_to_right", serialization=serialization,
        )


def quantity_metadata(kind: UnitKind, minimum: float = 0.0, maximum: float | None = None,
                      bare_allowed: bool = True) -> tuple[object, ...]:
    """The ``Annotated`` metadata of a Quantity field measured in ``kind``.

    Spelled ``Annotated[Quantity, *quantity_metadata(...)]`` so that type checkers see a Quantity.
    ``bare_allowed=False``: the field takes no bare number (see :func:`quantity_parser`).
    """
    from pydantic import WithJsonSchema

    return (
        QuantityField(kind, minimum, maximum, bare_allowed),
        WithJsonSchema(_schema_for(kind, minimum, maximum, bare_allowed)),
        Field(description=f"default unit {kind.canonical}" if bare_allowed else f"with its unit; canonical {kind.canonical}"),
    )


# Upper bounds are plausibility limits, not clinical ones: they catch a count written
# in /uL without its unit (12400 read as 12,400 x10^9/L) or haemoglobin in g/L
# written as a bare number, which would otherwise be silently wrong by 1000x or 10x.
CellCount = Annotated[Quantity, *quantity_metadata(CELL_COUNT, 0.0, 2000.0)]
RedCellCount = Annotated[Quantity, *quantity_metadata(RED_CELL_COUNT, 0.0, 15.0)]
Hemoglobin = Annotated[Quantity, *quantity_metadata(HEMOGLOBIN, 0.0, 30.0)]
CsfCells = Annotated[Quantity, *quantity_metadata(CSF_CELLS)]
Percent = Annotated[Quantity, *quantity_metadata(PERCENT, 0.0, 100.0)]


# Treatment monitoring (docs/case-format.md). Limits are again plausibility limits in the
# canonical unit. Chemistry reported in units that differ many-fold needs its unit.
Potassium = Annotated[Quantity, *quantity_metadata(U.POTASSIUM, 0.0, 15.0)]
Phosphate = Annotated[Quantity, *quantity_metadata(U.PHOSPHATE, 0.0, 10.0, bare_allowed=False)]
Calcium = Annotated[Quantity, *quantity_metadata(U.CALCIUM, 0.0, 6.0, bare_allowed=False)]
UricAcid = Annotated[Quantity, *quantity_metadata(U.URIC_ACID, 0.0, 6000.0, bare_allowed=False)]
Creatinine = Annotated[Quantity, *quantity_metadata(U.CREATININE, 0.0, 5000.0, bare_allowed=False)]
Bilirubin = Annotated[Quantity, *quantity_metadata(U.BILIRUBIN, 0.0, 1500.0, bare_allowed=False)]
Glucose = Annotated[Quantity, *quantity_metadata(U.GLUCOSE, 0.0, 150.0, bare_allowed=False)]
Triglycerides = Annotated[Quantity, *quantity_metadata(U.TRIGLYCERIDES, 0.0, 200.0, bare_allowed=False)]
Albumin = Annotated[Quantity, *quantity_metadata(U.ALBUMIN, 0.0, 100.0, bare_allowed=False)]
Fibrinogen = Annotated[Quantity, *quantity_metadata(U.FIBRINOGEN, 0.0, 20.0, bare_allowed=False)]
EnzymeActivity = Annotated[Quantity, *quantity_metadata(U.ENZYME, 0.0, 100000.0)]
MethotrexateConcentration = Annotated[Quantity, *quantity_metadata(U.METHOTREXATE_CONC, 0.0, 10000.0)]
AsparaginaseActivityLevel = Annotated[Quantity, *quantity_metadata(U.ASPARAGINASE_ACTIVITY, 0.0, 100.0)]
# 25-45 C: a bare 101 (Fahrenheit without its unit) is refused rather than read as 101 C.
Temperature = Annotated[Quantity, *quantity_metadata(U.TEMPERATURE, 25.0, 45.0)]
HeartRate = Annotated[Quantity, *quantity_metadata(U.HEART_RATE, 0.0, 350.0)]
BloodPressure = Annotated[Quantity, *quantity_metadata(U.BLOOD_PRESSURE, 0.0, 350.0)]
Height = Annotated[Quantity, *quantity_metadata(U.HEIGHT, 20.0, 250.0)]
Weight = Annotated[Quantity, *quantity_metadata(U.WEIGHT, 0.3, 350.0)]
BodySurfaceArea = Annotated[Quantity, *quantity_metadata(U.BODY_SURFACE, 0.05, 4.0)]

# Plausibility limits of a dose, per kind (canonical units): high-dose methotrexate is up to
# 12 g/m2 (12,000 mg/m2), asparaginase 25,000 IU/m2 per dose.
_DOSE_MAXIMUM = {"mg": 100000.0, "mg/m2": 100000.0, "mg/kg": 10000.0, "[iU]": 1e7, "[iU]/m2": 1e6}


def _parse_dose(raw: Any) -> Any:
    """A dose: ``{"value": 60, "unit": "mg/m2"}``; the unit decides its kind (amount, per m2, per kg, units)."""
    if raw is None or isinstance(raw, Quantity):
        return raw
    if not isinstance(raw, dict):
        raise ValueError("a dose needs its unit, e.g. {'value': 60, 'unit': 'mg/m2'} or {'value': 25, 'unit': 'mg'}")
    extra = set(raw) - {"value", "unit"}
    if extra:
        raise ValueError(f"unexpected key(s) {sorted(extra)}; allowed: value, unit")
    unit, value = raw.get("unit"), raw.get("value")
    if not isinstance(unit, str) or not unit.strip():
        raise ValueError("a dose needs its unit, e.g. mg, mg/m2, mg/kg, IU/m2")
    value = finite_number(value, "'value'")
    kind = dose_kind(unit)
    if kind is None:
        accepted = ", ".join(u for kind in U.DOSE_KINDS for u in kind.accepted())
        raise ValueError(f"unit {unit!r} is not accepted for a dose; use a unit of an amount, an amount per m2 or "
                         f"per kg, e.g. {accepted}")
    canonical = round(kind.to_canonical(value, unit), 9)
    if canonical < 0:
        raise ValueError(f"must be >= 0 {kind.canonical} (got {value:g} {unit}); 0 records a dose held")
    if canonical > _DOSE_MAXIMUM[kind.canonical]:
        raise ValueError(f"must be <= {_DOSE_MAXIMUM[kind.canonical]:g} {kind.canonical} (got {value:g} {unit})")
    return Quantity(value=canonical, unit=kind.canonical, reported=dict(raw))


@lru_cache(maxsize=256)
def dose_kind(unit: str) -> U.UnitKind | None:
    """The dose kind a unit belongs to (the first that reads it), or None: kept per spelling, since a
    case repeats a handful of dose units and a refusal is not cached by the units module."""
    for kind in U.DOSE_KINDS:
        try:
            kind.factor(unit)
        except UnitError:
            continue
        return kind
    return None


def _dose_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "value": {"type": "number", "minimum": 0, "description": "0 records a dose held"},
            "unit": {"type": "string", "minLength": 1, "examples": [u for kind in U.DOSE_KINDS for u in kind.accepted()],
                     "description": "an amount (mg), per m2 (mg/m2, IU/m2) or per kg (mg/kg), in UCUM or a lab spelling"},
        },
        "required": ["value", "unit"],
        "additionalProperties": False,
    }


def _dose_metadata() -> tuple[object, ...]:
    from pydantic import BeforeValidator, WithJsonSchema

    return (
        BeforeValidator(_parse_dose), WithJsonSchema(_dose_schema()),
        Field(description="amount (mg), per body surface area (mg/m2, IU/m2) or per weight (mg/kg), with its unit"),
    )


DoseQuantity = Annotated[Quantity, *_dose_metadata()]
