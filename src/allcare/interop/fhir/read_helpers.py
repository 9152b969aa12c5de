"""Reading values out of validated R4B models: codes, dates, references, extensions.

Foreign systems fill the same meaning into different places (a code with or
without display, a date or a dateTime with a time zone, a period), so these
helpers answer one question each and are used everywhere on the import side.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from . import codes as C


def codings(cc) -> list:
    return list(getattr(cc, "coding", None) or []) if cc is not None else []


def code_in(cc, system: str, values: Iterable[str] | None = None) -> str | None:
    """The first code of ``system`` in a CodeableConcept (restricted to ``values`` when given).

    Called several times for every imported resource: no list or set is built per call."""
    if cc is None:
        return None
    for c in getattr(cc, "coding", None) or ():
        if c.system == system and c.code and (values is None or c.code in values):
            return c.code
    return None


def any_code(cc, system: str) -> bool:
    return code_in(cc, system) is not None


def concept_text(cc) -> str | None:
    """Human text of a CodeableConcept: its text, else the first display, else the first code."""
    if cc is None:
        return None
    if getattr(cc, "text", None):
        return cc.text
    for c in codings(cc):
        if c.display:
            return c.display
    for c in codings(cc):
        if c.code:
            return c.code
    return None


def as_date(value: Any) -> dt.date | None:
    """The calendar date as written (a dateTime keeps the date of its own time zone)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value)
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def effective(resource, issued: bool = True) -> tuple[dt.date | None, dt.date | None]:
    """(start, end) of when a clinical resource happened, from whichever effective/performed element it has.

    The time or period of the event itself comes first; ``issued`` (when a result was made available, FHIR R4
    Observation.issued and DiagnosticReport.issued), ``authoredOn`` and ``date`` only when there is none: a
    report issued days after its sample is dated by the sample (Observation.effective[x], "the clinically
    relevant time", https://hl7.org/fhir/R4/observation-definitions.html#Observation.effective_x_).
    ``issued=False``: the time of the event only, (None, None) without one.
    """
    for name in ("effectiveDateTime", "effectiveInstant", "performedDateTime", "occurrenceDateTime"):
        value = getattr(resource, name, None)
        if value is not None:
            return as_date(value), None
    for name in ("effectivePeriod", "performedPeriod", "period"):
        period = getattr(resource, name, None)
        if period is not None and (period.start or period.end):
            return as_date(period.start) or as_date(period.end), as_date(period.end)
    if not issued:
        return None, None
    for name in ("authoredOn", "issued", "date"):
        value = getattr(resource, name, None)
        if value is not None:
            return as_date(value), None
    return None, None


def dated_by_issue(resource) -> bool:
    """Whether :func:`effective` dates a result by its ``issued`` time alone (it has no effective[x])."""
    period = getattr(resource, "effectivePeriod", None)
    return (getattr(resource, "issued", None) is not None and getattr(resource, "effectiveDateTime", None) is None
            and getattr(resource, "effectiveInstant", None) is None and (period is None or not (period.start or period.end)))


def effective_key(resource) -> str | None:
    """The exact effective time as written: results of one blood draw share it."""
    value = getattr(resource, "effectiveDateTime", None) or getattr(resource, "effectiveInstant", None)
    if value is None:
        period = getattr(resource, "effectivePeriod", None)
        value = period.start if period is not None else None
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def ref_target(reference) -> str | None:
    return getattr(reference, "reference", None) if reference is not None else None


def patient_reference(resource) -> str | None:
    """The reference to the patient a resource is about (subject or patient)."""
    for name in ("subject", "patient"):
        target = ref_target(getattr(resource, name, None))
        if target:
            return target
    return None


def identifier_value(resource, system: str) -> str | None:
    idents = getattr(resource, "identifier", None) or []
    for ident in idents if isinstance(idents, list) else [idents]:  # AdverseEvent has a single identifier
        if ident.system == system and ident.value:
            return ident.value
    return None


def extensions(resource) -> Sequence:
    """The resource's extensions (not copied: read several times for every imported resource)."""
    return getattr(resource, "extension", None) or ()


def ext_value(resource, url: str) -> Any:
    """The value of the first extension with ``url`` (whatever its value[x] type)."""
    for e in extensions(resource):
        if e.url == url:
            for name in ("valueString", "valueCode", "valueDecimal", "valueBoolean", "valueDate", "valueDateTime",
                         "valueInteger", "valueCodeableConcept"):
                value = getattr(e, name, None)
                if value is not None:
                    return value
    return None


def is_derived(resource) -> bool:
    return ext_value(resource, C.EXT_DERIVED) is True


def profiles(resource) -> list[str]:
    meta = getattr(resource, "meta", None)
    return list(getattr(meta, "profile", None) or []) if meta is not None else []


def components(resource) -> list:
    return list(getattr(resource, "component", None) or [])


def component_with(resource, system: str, code: str | None = None):
    for comp in components(resource):
        found = code_in(comp.code, system, [code] if code else None)
        if found:
            return comp
    return None


def short_ref(reference: str | None) -> str | None:
    """``Type/id`` of a relative or absolute literal reference (version suffix dropped); None for urn: or '#'."""
    if not reference or reference.startswith(("urn:", "#")):
        return None
    parts = reference.split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) < 2 or not parts[-2] or not parts[-1]:
        return None
    return f"{parts[-2]}/{parts[-1]}"


# A result written as text: an optional comparator, a number (a point for decimals, no thousands separator) and an
# optional unit that starts as units do ("85%", "<20 x10^9/L", "3.4 10*9/L", "3.4"); anything else (a range "3-4",
# a decimal comma, words) is not a quantity.
_QUANTITY_TEXT = re.compile(r"\s*(<=|>=|<|>)?\s*(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*((?:[A-Za-z\u00b5\u03bc%/*^]|10[*^])[^,;]*?)?\s*")


def value_quantity(resource):
    """The Observation's valueQuantity, or the quantity its valueString states (HL7 v2 interfaces often send a
    numeric result as text, OBX-2 'ST'); None when neither gives a number. A quantity read from text has the
    text's unit (None without one) and comparator, and no UCUM code: it is checked like any other."""
    q = getattr(resource, "valueQuantity", None)
    text = getattr(resource, "valueString", None)
    if q is not None or not text:
        return q
    return _quantity_from_text(text)


@lru_cache(maxsize=4096)
def _quantity_from_text(text: str):
    from .shapes import Quantity

    match = _QUANTITY_TEXT.fullmatch(text)
    if match is None:
        return None
    unit = (match.group(3) or "").strip() or None
    return Quantity(value=float(match.group(2)), unit=unit, comparator=match.group(1))


def quantity_from_text(resource) -> bool:
    """Whether :func:`value_quantity` read the resource's value from its valueString."""
    return getattr(resource, "valueQuantity", None) is None and value_quantity(resource) is not None
