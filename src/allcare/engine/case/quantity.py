"""Measured quantities as they appear in a case file.

A quantity may be written as a bare number (already in the field's default
unit) or as ``{"value": 12400, "unit": "/uL"}``. Validation converts it to the
canonical unit once; the reported value and unit are kept so that export gives
back exactly what came in.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Annotated, Any

import msgspec
from pydantic import Field
from pydantic_core import core_schema

from .bounds import COMPARATORS, Comparator
from .units import CELL_COUNT, CSF_CELLS, HEMOGLOBIN, PERCENT, RED_CELL_COUNT, UnitKind


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
    validator of the fields that hold it (:func:`quantity_type`), which pydantic
    calls, and written back to a case file as ``reported`` or the bare value.
    """

    value: float
    unit: str
    lower_limit: float | None = None
    upper_limit: float | None = None
    comparator: Comparator | None = None
    reported: dict | None = None

    def as_case_file(self) -> Any:
        """What the case file said: the object as written, or the bare number."""
        return dict(self.reported) if self.reported is not None else self.value

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        # Validated by the field's parser (see quantity_type); pydantic only checks the type
        # of what the parser returns, and writes a case file back with ``as_case_file``.
        return core_schema.is_instance_schema(
            cls, serialization=core_schema.plain_serializer_function_ser_schema(cls.as_case_file)
        )


_OBJECT_KEYS = {"value", "unit", "lower_limit", "upper_limit", "comparator"}

# Bare numbers kept per kind of quantity (see ``quantity_parser``; about 650 bytes each,
# so at most about 1.3 MB per kind). Labs report one or two decimals: a synthetic
# cohort of 3,000 cases shows about 1,500 distinct cell counts and under 300 of the rest.
_BARE_CACHE_SIZE = 2048


def quantity_parser(kind: UnitKind, minimum: float = 0.0, maximum: float | None = None):
    """Build a pydantic 'before' validator that turns case-file input into a :class:`Quantity`."""

    def number(raw: Any, what: str) -> float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise ValueError(f"{what} must be a number")
        value = float(raw)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{what} must be a finite number")
        return value

    def in_range(canonical: float, shown: float, unit: str, reported: bool) -> None:
        if canonical < minimum:
            raise ValueError(f"must be >= {minimum:g} {kind.canonical} (got {shown:g} {unit})")
        if maximum is not None and canonical > maximum:
            hint = "" if reported or len(kind.examples) == 1 else f"; if the lab reported another unit, write {{'value': {shown:g}, 'unit': '...'}}"
            raise ValueError(f"must be <= {maximum:g} {kind.canonical} (got {shown:g} {unit}){hint}")

    def parse(raw: Any) -> Any:
        if type(raw) is float or type(raw) is int:  # a bare number: by far the most common input
            return shared_bare(raw) if raw or math.copysign(1.0, raw) > 0 else bare(raw)
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
            factor = kind.factor(unit)
            value = number(raw["value"], "'value'")
            in_range(round(value * factor, 9), value, unit, True)
            limits = {}
            for bound in ("lower_limit", "upper_limit"):
                if raw.get(bound) is not None:
                    limit = number(raw[bound], f"'{bound}'")
                    if limit < 0:
                        raise ValueError(f"'{bound}' must be >= 0")
                    limits[bound] = round(limit * factor, 9)
            if limits.get("lower_limit", 0) > limits.get("upper_limit", float("inf")):
                raise ValueError("'lower_limit' is above 'upper_limit'")
            comparator = raw.get("comparator")
            if comparator is not None and comparator not in COMPARATORS:
                raise ValueError(f"'comparator' must be one of {', '.join(COMPARATORS)} (got {comparator!r})")
            return Quantity(
                value=round(value * factor, 9), unit=kind.canonical, comparator=comparator, reported=dict(raw), **limits
            )
        return bare(raw)

    def bare(raw: Any) -> Quantity:
        value = number(raw, "the value")
        in_range(value, value, kind.canonical, False)
        return Quantity(value=value, unit=kind.canonical)

    # A bare number always gives the same Quantity, and a Quantity is immutable (frozen,
    # no lab range, nothing reported), so every finding that repeats a value can share
    # one. This skips building hundreds of models per case and keeps long-lived cases
    # small. Bad input is never cached (it raises, with the same message every time).
    # -0.0 is left out: it equals 0 as a key but prints as "-0". ``type(raw)`` rather
    # than isinstance keeps booleans and number subclasses on the uncached path.
    shared_bare = lru_cache(maxsize=_BARE_CACHE_SIZE)(bare)

    return parse


def _schema_for(kind: UnitKind, minimum: float, maximum: float | None) -> dict:
    number: dict[str, Any] = {"type": "number", "minimum": minimum}
    if maximum is not None:
        number["maximum"] = maximum
    return {
        "anyOf": [
            {**number, "description": f"value in {kind.canonical}"},
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
                "required": ["value"],
                "additionalProperties": False,
            },
        ]
    }


BARE_NUMBER = "bare number"
WRITTEN_QUANTITY = "written quantity"
"""The labels of the two branches of a quantity field (see :class:`QuantityField`): errors of the first
are dropped and the second is left out of error paths (``case.errors.user_errors``)."""


class QuantityField:
    """How pydantic validates a field holding a :class:`Quantity`.

    A case holds about a thousand quantities, nearly all written as bare numbers.
    Those are checked by pydantic-core itself (a finite number within the
    field's range, no Python call) and left as a float, which the model turns
    into a shared :class:`Quantity` in one pass over its fields after validation
    (:meth:`as_quantity`, called by ``_Measured`` in the case model). Anything
    else (an object with a unit, a bound, a lab range, or a bad value) goes to
    the parser, which converts it or says exactly what is wrong; when both
    branches fail, only the parser's message is reported.
    """

    def __init__(self, kind: UnitKind, minimum: float, maximum: float | None):
        self.kind = kind
        self.minimum = minimum
        self.maximum = maximum
        self.parse = quantity_parser(kind, minimum, maximum)
        self.shared: dict[float, Quantity] = {}  # the Quantity of each bare number seen (-0.0 never)

    def as_quantity(self, value: float) -> Quantity:
        """The shared Quantity of a bare number that passed the field's checks."""
        signed_zero = not value and math.copysign(1.0, value) < 0  # -0.0 equals 0 as a key but prints as "-0"
        quantity = None if signed_zero else self.shared.get(value)
        if quantity is None:
            quantity = Quantity(value=value, unit=self.kind.canonical)
            if not signed_zero:
                if len(self.shared) >= _BARE_CACHE_SIZE:
                    self.shared.clear()
                self.shared[value] = quantity
        return quantity

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        bare = core_schema.float_schema(strict=True, ge=self.minimum, le=self.maximum, allow_inf_nan=False)
        written = core_schema.no_info_before_validator_function(self.parse, core_schema.is_instance_schema(Quantity))
        return core_schema.union_schema(
            [(bare, BARE_NUMBER), (written, WRITTEN_QUANTITY)],
            mode="left_to_right",
            serialization=core_schema.plain_serializer_function_ser_schema(Quantity.as_case_file),
        )


def quantity_type(kind: UnitKind, minimum: float = 0.0, maximum: float | None = None):
    """An annotated Quantity type for a field measured in ``kind`` (the model must be a ``_Measured``)."""
    from pydantic import WithJsonSchema

    return Annotated[
        Quantity,
        QuantityField(kind, minimum, maximum),
        WithJsonSchema(_schema_for(kind, minimum, maximum)),
        Field(description=f"default unit {kind.canonical}"),
    ]


# Upper bounds are plausibility limits, not clinical ones: they catch a count written
# in /uL without its unit (12400 read as 12,400 x10^9/L) or haemoglobin in g/L
# written as a bare number, which would otherwise be silently wrong by 1000x or 10x.
CellCount = quantity_type(CELL_COUNT, 0.0, 2000.0)
RedCellCount = quantity_type(RED_CELL_COUNT, 0.0, 15.0)
Hemoglobin = quantity_type(HEMOGLOBIN, 0.0, 30.0)
CsfCells = quantity_type(CSF_CELLS)
Percent = quantity_type(PERCENT, 0.0, 100.0)
