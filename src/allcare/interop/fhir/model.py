"""Small builders of FHIR R4 JSON, as plain dicts.

The export builds the JSON directly: an R4B model per element cost about 5 ms per finding
(26 s for a record of 5,000 findings). Each builder writes only elements of the FHIR R4
shape it is named for, absent elements are left out, and the tests validate every exported
resource against its R4B model and the mCODE profiles (``tests/test_fhir_export.py``), so a
shape R4 does not allow fails there, in allcare, not in the receiving system.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from . import codes as C

# A FHIR element as JSON (a resource, CodeableConcept, Reference ...).
Element = dict[str, Any]

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_NAMESPACE = uuid.UUID("6f1d3c2e-5b7a-4e0f-9a51-2c8d4b7e9f10")


def resource(resource_type: str, **fields: Any) -> Element:
    """A resource of ``resource_type`` as FHIR JSON: absent (None) elements and empty lists are left out,
    dates written as FHIR dates. The builders below leave nothing absent in what they return."""
    return {"resourceType": resource_type, **_present(fields)}


def _present(fields: dict[str, Any]) -> Element:
    return {key: value.isoformat() if isinstance(value, dt.date) else value for key, value in fields.items()
            if value is not None and value != []}


def coding(system: str, code: str, display: str | None = None) -> Element:
    return {"system": system, "code": code, "display": display} if display else {"system": system, "code": code}


def concept(*codings: Element, text: str | None = None) -> Element:
    fields: Element = {}
    if codings:
        fields["coding"] = list(codings)
    if text:
        fields["text"] = text
    return fields


def allcare_concept(code: str, text: str | None = None, system: str = C.ALLCARE_CODES) -> Element:
    return concept(coding(system, code), text=text or code)


def loinc(code: str, display: str | None = None) -> Element:
    return concept(coding(C.LOINC, code, display))


def quantity(value: float, unit: str | None, code: str | None = None, comparator: str | None = None) -> Element:
    """A Quantity; with ``code``, a UCUM-coded one (``unit`` is then the human text, left out when None)."""
    out: Element = {"value": value}
    if comparator:
        out["comparator"] = comparator
    if unit is not None:
        out["unit"] = unit
    if code:
        out["system"], out["code"] = C.UCUM, code
    return out


def period(start: dt.date, end: dt.date | None = None) -> Element:
    return {"start": start.isoformat(), "end": end.isoformat()} if end else {"start": start.isoformat()}


def reference(resource_type: str, resource_id: str, display: str | None = None) -> Element:
    ref = f"{resource_type}/{resource_id}"
    return {"reference": ref, "display": display} if display else {"reference": ref}


def extension(url: str, **value: Any) -> Element:
    return {"url": url, **_present(value)}


def identifier(system: str, value: str) -> Element:
    return {"system": system, "value": value}


def meta(*profiles: str) -> Element | None:
    return {"profile": list(profiles)} if profiles else None


def lab_category() -> list[Element]:
    return [concept(coding(C.OBSERVATION_CATEGORY, "laboratory", "Laboratory"))]


def safe_id(wanted: str | None, *seed: object) -> str:
    """``wanted`` when it is a valid FHIR id, else a stable id derived from ``seed``."""
    if wanted and FHIR_ID.fullmatch(wanted):
        return wanted
    return str(uuid.uuid5(_NAMESPACE, "|".join(str(s) for s in seed)))


def child_id(parent: str, suffix: str) -> str:
    """Id of a resource that belongs to ``parent`` (kept within the 64-character FHIR limit)."""
    candidate = f"{parent}-{suffix}"
    return candidate if len(candidate) <= 64 else str(uuid.uuid5(_NAMESPACE, candidate))


def fhir_date(value: dt.date) -> str:
    return value.isoformat()
