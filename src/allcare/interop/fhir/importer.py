"""FHIR R4 Bundle (or a list of resources) -> one validated case per patient.

An import commits per patient: every problem of a patient's resources is
collected and that patient is not returned (``failed``); the other patients are.
Malformed JSON, another FHIR version or a resource whose elements have the wrong
shape fail the whole input, because it cannot be trusted to be split correctly.

Real exports are not always tidy, and one flaw must not cost a patient:

* a resource inside another (``contained``, referenced as ``#id``) is read like
  any other, and a result without ``subject`` belongs to the patient of the
  report or panel that lists it;
* a reference to a resource that is not in the input (a report's result, a
  subject) is reported with the resources it leaves unused, not an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .assemble import Index, PatientImport, assemble_patient, listings
from .classify import unused_reason
from .item import Item, server_base
from .problems import FhirInputError, FhirProblem, MappingReport
from .read_helpers import concept_text
from .reader import DEFAULT_MAX_BUNDLE_BYTES, bundle_entries, check_version, parse_json, validate, validate_all
from .versions import current_versions


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
                  fhir_version: str | None = None, strict: bool = False) -> ImportResult:
    """Import a Bundle (JSON text, bytes or an already parsed dict) or a single resource."""
    check_version(fhir_version, name)
    parsed = parse_json(data, name, max_bytes) if isinstance(data, (str, bytes)) else data
    return import_resources(bundle_entries(parsed, name), strict=strict)


def import_resources(entries: Iterable[tuple[str, dict | bytes, str | None]], *, fhir_version: str | None = None,
                     strict: bool = False) -> ImportResult:
    """Import ``(where, resource, fullUrl)`` triples; raises :class:`FhirInputError` when any resource is invalid.

    ``strict`` also validates every resource whole with its R4B model (slower; see :mod:`.node`).
    """
    check_version(fhir_version, "input")
    checked = validate_all(entries, strict)
    return import_items(with_contained([Item(where, node, url) for where, node, url in checked], strict))


def with_contained(items: list[Item], strict: bool = False) -> list[Item]:
    """The items and, after each, the resources it contains (checked like the others).

    A contained resource that contains resources itself is refused: FHIR R4 forbids it (invariant dom-2,
    https://hl7.org/fhir/R4/domainresource.html#invs), and what it holds would otherwise be read by no one.
    """
    out: list[Item] = []
    problems: list[FhirProblem] = []
    for item in items:
        out.append(item)
        for n, raw in enumerate(item.resource.contained or []):
            where = f"{item.ref} contained[{n}]"
            try:
                inner = Item(where, validate(raw, where, strict), container=item)
            except FhirInputError as error:
                problems += error.problems
                continue
            if inner.resource.contained:
                problems.append(FhirProblem(inner.ref, "contained", "a contained resource must not contain resources "
                                            "(FHIR R4 invariant dom-2): send them as contained resources of the container"))
            out.append(inner)
    if problems:
        raise FhirInputError(problems)
    return out


def import_items(items: list[Item], medications: dict[str, str] | None = None) -> ImportResult:
    """Split checked resources by patient and assemble each patient's case.

    ``medications`` adds drug names of Medication resources that are not among ``items``
    (a bulk export writes them to their own file).
    """
    result = ImportResult()
    distinguish_servers(items)
    index = Index(items)
    medications = {**(medications or {}), **medication_names(items)}
    by_patient: dict[str, tuple[Item, list[Item]]] = {}
    for item in current_versions([item for item in items if item.rtype == "Patient"], result.report):
        by_patient.setdefault(item.ref, (item, []))
    listed_by = _listed_by(items, index)
    for item in items:
        rtype = item.rtype
        if rtype == "Patient":
            continue
        field_name, target = subject_of(item, index, listed_by)
        if target is None:
            if rtype != "Medication":
                result.report.add(item.ref, "unmapped", unused_reason(item.resource))
            else:
                result.report.add(item.ref, "mapped", finding="medication names")
            continue
        patient = index.resolve(target, item)
        if patient is None or patient.rtype != "Patient":
            result.report.add(item.ref, "unmapped", f"{field_name} {target!r} is not a Patient in the input: "
                                                    "there is no patient to add it to")
            continue
        if patient.ref not in by_patient:  # copies of the Patient that nothing orders (reported): none is read
            result.report.add(item.ref, "unmapped", f"{field_name} {target!r}: the input holds different copies of "
                                                    "this Patient and none is read")
            continue
        by_patient[patient.ref][1].append(item)
    for ref, (patient, patient_items) in by_patient.items():
        try:
            result.patients.append(assemble_patient(patient, patient_items, index, medications))
        except FhirInputError as error:
            result.failed[ref] = error.problems
    return result


def distinguish_servers(items: list[Item]) -> None:
    """Resources of one ``Type/id`` from different servers (fullUrls on different bases) are different resources,
    not versions of one: each is named by its fullUrl (``ref``), and so are the resources it contains.

    In a Bundle a resource is identified by its fullUrl, and a relative reference is read against the server
    of the resource that makes it (FHIR R4, https://hl7.org/fhir/R4/bundle.html#references): Patient/1 of
    https://a.org/fhir and Patient/1 of https://b.org/fhir are two patients. Copies on one server (or without a
    fullUrl) remain copies of one resource (:mod:`.versions`). Nothing is done unless a ``Type/id`` comes with
    two different fullUrls, so an ordinary input costs one dictionary look-up per resource.
    """
    first_url: dict[str, str] = {}
    clashes: set[str] = set()
    for item in items:
        if item.full_url and item.container is None and first_url.setdefault(item.ref, item.full_url) != item.full_url:
            clashes.add(item.ref)
    renamed: set[str] = set()
    for ref in clashes:
        group = [item for item in items if item.ref == ref and item.container is None and item.full_url]
        # one server however its address is written (http or https, letter case, a trailing slash)
        servers = {base.split("://", 1)[1].lower().rstrip("/") for item in group if (base := server_base(item))}
        if len(servers) < 2:
            continue
        for item in group:
            if server_base(item) is not None:
                item.ref = item.full_url or item.ref
                renamed.add(item.ref)
    for item in items if renamed else ():
        if item.container is not None and item.container.ref in renamed and item.resource.id:
            item.ref = f"{item.container.ref}#{item.resource.id}"


def _listed_by(items: list[Item], index: Index) -> dict[str, Item]:
    """Each resource listed by a report's ``result`` or a panel's ``hasMember``, and by whom (the first)."""
    listed: dict[str, Item] = {}
    for lister, member in listings(items, index):
        listed.setdefault(member.ref, lister)
    return listed


def subject_of(item: Item, index: Index | None = None, listed_by: dict[str, Item] | None = None) -> tuple[str, str | None]:
    """The element naming the resource's patient and its reference.

    A resource without ``subject``/``patient`` belongs to the patient of the report or
    panel that lists it, or of the resource that contains it.
    """
    subject = getattr(item.resource, "subject", None)  # most resources: their own subject names the patient
    target = getattr(subject, "reference", None) if subject is not None else None
    if target:
        return "subject", target
    seen = set()
    current: Item | None = item
    while current is not None and current.ref not in seen:
        seen.add(current.ref)
        for name in ("subject", "patient"):
            reference = getattr(current.resource, name, None)
            target = getattr(reference, "reference", None) if reference is not None else None
            if target is None and reference is not None and index is not None:
                target = index.patient_by_identifier(reference.identifier)
            if target:
                return (name if current is item else f"{name} (of {current.ref})"), target
        current = current.container or (listed_by or {}).get(current.ref)
    return "subject", None


def medication_names(items: list[Item]) -> dict[str, str]:
    """Medication resources by every way they can be referenced, to read medicationReference."""
    names: dict[str, str] = {}
    for item in items:
        if item.rtype != "Medication":
            continue
        r = item.resource
        name = concept_text(r.code)
        if not name:
            continue
        names[item.ref] = name
        if item.full_url:
            names[item.full_url] = name
        if item.container is not None:
            names[f"{item.container.ref}#{r.id}"] = name
    return names

