"""Small builders over the ``fhir.resources`` R4B models.

Resources are never written as hand-made JSON: every element is an R4B model
instance, so a shape the R4B specification does not allow fails here, at
construction, rather than in the receiving system.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.meta import Meta
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference

from . import codes as C

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_NAMESPACE = uuid.UUID("6f1d3c2e-5b7a-4e0f-9a51-2c8d4b7e9f10")


def resource(resource_type: str, **fields: Any):
    """An R4B resource of ``resource_type``, validated on construction (None fields are left out)."""
    cls = get_fhir_model_class(resource_type)
    return cls(**{k: v for k, v in fields.items() if v is not None and v != []})


def to_json(model) -> dict:
    """A resource or element as FHIR JSON (absent elements left out)."""
    return model.model_dump(mode="json", exclude_none=True)


def coding(system: str, code: str, display: str | None = None) -> Coding:
    return Coding(system=system, code=code, display=display) if display else Coding(system=system, code=code)


def concept(*codings: Coding, text: str | None = None) -> CodeableConcept:
    fields: dict[str, Any] = {}
    if codings:
        fields["coding"] = list(codings)
    if text:
        fields["text"] = text
    return CodeableConcept(**fields)


def allcare_concept(code: str, text: str | None = None, system: str = C.ALLCARE_CODES) -> CodeableConcept:
    return concept(coding(system, code), text=text or code)


def loinc(code: str, display: str | None = None) -> CodeableConcept:
    return concept(coding(C.LOINC, code, display))


def quantity(value: float, unit: str, code: str | None = None) -> Quantity:
    if code:
        return Quantity(value=value, unit=unit, system=C.UCUM, code=code)
    return Quantity(value=value, unit=unit)


def reference(resource_type: str, resource_id: str, display: str | None = None) -> Reference:
    ref = f"{resource_type}/{resource_id}"
    return Reference(reference=ref, display=display) if display else Reference(reference=ref)


def extension(url: str, **value: Any) -> Extension:
    return Extension(url=url, **value)


def identifier(system: str, value: str) -> Identifier:
    return Identifier(system=system, value=value)


def meta(*profiles: str) -> Meta | None:
    return Meta(profile=list(profiles)) if profiles else None


def lab_category() -> list[CodeableConcept]:
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
