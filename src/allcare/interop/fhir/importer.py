"""FHIR R4 Bundle (or a list of resources) -> one validated case per patient.

An import commits per patient: every problem of a patient's resources is
collected and that patient is not returned (``failed``); the other patients are.
Malformed JSON, another FHIR version or an invalid resource fail the whole input,
because it cannot be trusted to be split correctly.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Iterable

from .assemble import Index, Item, PatientImport, assemble_patient
from .classify import unused_reason
from .problems import FhirInputError, FhirProblem, MappingReport
from .read_helpers import concept_text, short_ref
from .reader import DEFAULT_MAX_BUNDLE_BYTES, ContentCache, bundle_entries, check_version, parse_json, validate_all


@dataclass
class ImportResult:
    """Imported patients, patients that failed (with every problem), and resources about no patient."""

    patients: list[PatientImport] = field(default_factory=list)
    failed: dict[str, list[FhirProblem]] = field(default_factory=dict)
    report: MappingReport = field(default_factory=MappingReport)

    @property
    def problems(self) -> list[FhirProblem]:
        return [p for problems in self.failed.values() for p in problems]

    def patient(self, patient_id: str) -> PatientImport | None:
        return next((p for p in self.patients if p.patient_id == patient_id), None)


def import_bundle(data: str | bytes | dict, *, name: str = "<bundle>", max_bytes: int = DEFAULT_MAX_BUNDLE_BYTES,
                  fhir_version: str | None = None) -> ImportResult:
    """Import a Bundle (JSON text, bytes or an already parsed dict) or a single resource."""
    check_version(fhir_version, name)
    parsed = parse_json(data, name, max_bytes) if isinstance(data, (str, bytes)) else data
    return import_resources(bundle_entries(parsed, name))


def import_resources(entries: Iterable[tuple[str, dict, str | None]], *, fhir_version: str | None = None,
                     cache: ContentCache | None = None) -> ImportResult:
    """Import ``(where, resource, fullUrl)`` triples; raises :class:`FhirInputError` when any resource is invalid.

    ``cache`` keeps validated resources for inputs that repeat (see :class:`ContentCache`).
    """
    check_version(fhir_version, "input")
    validated = validate_all(entries, cache)
    return import_items([Item(where, model, url) for where, model, url in validated])


def import_items(items: list[Item], medications: dict[str, str] | None = None) -> ImportResult:
    """Split validated resources by patient and assemble each patient's case.

    ``medications`` adds drug names of Medication resources that are not among ``items``
    (a bulk export writes them to their own file).
    """
    result = ImportResult()
    index = Index(items)
    medications = {**(medications or {}), **medication_names(items)}
    by_patient: "OrderedDict[str, tuple[Item, list[Item]]]" = OrderedDict()
    for item in items:
        if item.resource.get_resource_type() == "Patient":
            by_patient.setdefault(item.ref, (item, []))
    for item in items:
        rtype = item.resource.get_resource_type()
        if rtype == "Patient":
            continue
        field_name, target = subject_of(item.resource)
        if target is None:
            if rtype != "Medication":
                result.report.add(item.ref, "unmapped", unused_reason(item.resource))
            else:
                result.report.add(item.ref, "mapped", finding="medication names")
            continue
        patient = index.resolve(target)
        if patient is None or patient.resource.get_resource_type() != "Patient":
            result.failed.setdefault(short_ref(target) or target, []).append(
                FhirProblem(item.ref, f"{field_name}.reference", f"reference {target!r} is not in the input (no such Patient)"))
            continue
        by_patient[patient.ref][1].append(item)
    for ref, (patient, patient_items) in by_patient.items():
        if ref in result.failed:
            continue
        try:
            result.patients.append(assemble_patient(patient, patient_items, index, medications))
        except FhirInputError as error:
            result.failed[ref] = error.problems
    return result


def subject_of(resource) -> tuple[str, str | None]:
    for name in ("subject", "patient"):
        reference = getattr(resource, name, None)
        target = getattr(reference, "reference", None) if reference is not None else None
        if target:
            return name, target
    return "subject", None


def medication_names(items: list[Item]) -> dict[str, str]:
    """Medication resources by every way they can be referenced, to read medicationReference."""
    names: dict[str, str] = {}
    for item in items:
        r = item.resource
        if r.get_resource_type() != "Medication":
            continue
        name = concept_text(r.code)
        if not name:
            continue
        names[item.ref] = name
        if item.full_url:
            names[item.full_url] = name
    return names


