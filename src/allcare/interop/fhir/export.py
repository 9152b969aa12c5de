"""A case (and optionally its assessment) -> an mCODE-aligned FHIR R4 Bundle.

The findings are written so that :mod:`.importer` gives the same case back
(tested over every example case); the assessment's conclusions are written for
other systems to read and carry the ``derived-by-allcare`` extension, so an
import recomputes them instead of trusting them.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ...engine.case import Case
from .export_findings import PRIMARY_TYPE, FindingContext, common_fields, finding_resources
from .export_summary import (
    conclusion_resources,
    condition_reference,
    condition_resources,
    patient_resource,
    primary_cancer_condition,
)
from .model import Element, reference, safe_id
from .monitoring import NATURAL_DATES

NATURAL_DATE = {"treatment": "start", **NATURAL_DATES}
_NAMESPACE = uuid.UUID("3b0f3a52-8e07-4c38-9a55-71c0a5d0e6a4")


def case_to_bundle(case: Case, assessment: Any | None = None, *, base_url: str | None = None,
                   identifiers: Sequence[tuple[str, str]] = ()) -> Element:
    """A ``collection`` Bundle (FHIR JSON) holding the patient, every finding and (when given) the assessment.

    Every entry has a ``fullUrl``: RESTful (``<base_url>/<Type>/<id>``) with ``base_url`` (e.g.
    ``https://allcare.example.org/fhir``), else a stable ``urn:uuid`` derived from the resource's
    type and id. References inside the resources are relative (``Patient/<id>``).
    """
    resources = case_resources(case, assessment, identifiers)
    entries = [{"fullUrl": full_url(r, base_url), "resource": r} for r in resources]
    return {"resourceType": "Bundle", "id": safe_id(None, "bundle", case.patient.id), "type": "collection", "entry": entries}


def case_resources(case: Case, assessment: Any | None = None, identifiers: Sequence[tuple[str, str]] = ()) -> list[Element]:
    """Every resource of the export as FHIR JSON, patient first, in finding order; ``identifiers`` (system, value)
    go on the Patient."""
    patient_id = safe_id(case.patient.id, "patient", case.patient.id)
    patient_ref = reference("Patient", patient_id)
    out = [patient_resource(case, patient_id, identifiers), *condition_resources(case, patient_id, patient_ref)]
    condition = primary_cancer_condition(case, assessment, patient_id, patient_ref) if assessment is not None else None
    condition_ref = condition_reference(condition)
    if condition is not None:
        out.append(condition)
    seen: Counter = Counter()
    used: set[str] = set()
    for finding in case.findings:
        primary_type = PRIMARY_TYPE[finding.type]
        seen[(finding.id, finding.type, finding.date)] += 1
        primary_id = _primary_id(finding, primary_type, patient_id, seen[(finding.id, finding.type, finding.date)], used)
        group = finding.id or f"{primary_type}/{primary_id}"
        natural = getattr(finding, NATURAL_DATE.get(finding.type, "date"))
        ctx = FindingContext(
            patient=patient_ref, primary_id=primary_id, group=group, date=natural, condition=condition_ref,
            common=common_fields(finding, group, natural),
        )
        out += finding_resources(ctx, finding)
    if assessment is not None:
        out += conclusion_resources(assessment, patient_id, patient_ref, condition_ref)
    return out


def full_url(r: Element, base_url: str | None = None) -> str:
    """The entry's fullUrl: RESTful under ``base_url``, else ``urn:uuid`` (the same for the same resource)."""
    name = f"{r['resourceType']}/{r['id']}"
    if base_url:
        return f"{base_url.rstrip('/')}/{name}"
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, name)}"


def _primary_id(finding, primary_type: str, patient_id: str, ordinal: int, used: set[str]) -> str:
    """The finding's own id when it already names a resource of this type, else a stable generated id."""
    match = re.fullmatch(rf"{primary_type}/([A-Za-z0-9\-.]{{1,64}})", finding.id or "")
    candidate = match.group(1) if match else safe_id(None, patient_id, finding.id or "", finding.type, finding.date, ordinal)
    while candidate in used:
        ordinal += 1
        candidate = safe_id(None, patient_id, finding.id or "", finding.type, finding.date, ordinal)
    used.add(candidate)
    return candidate


# The export is FHIR JSON as it is built: the two names are one function.
bundle_json = case_to_bundle


__all__ = ["bundle_json", "case_resources", "case_to_bundle"]
