"""Bytes -> checked FHIR resources, or a clear error naming resource and field.

Each resource is checked on its own (the elements allcare reads, see
:mod:`.shapes`; with ``strict``, the whole resource with its ``fhir.resources``
R4B model), so an error names the resource (``Observation/wbc-1``, or its
position when it has no id) and the field path. Shapes of other FHIR versions are
recognised by fields that exist only there (STU3's ``Observation.context``, R5's
``MedicationAdministration.occurenceDateTime`` ...) so the message says "this is
STU3" instead of a list of unknown fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any, Union, cast

import msgspec
import orjson
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ...caches import LRU
from ...engine.case.errors import dotted_path
from .problems import FhirInputError, FhirProblem
from .shapes import CONTEXT_TYPES, STRUCTS, Resource, decode, error_path, format_problem, struct_for

DEFAULT_MAX_BUNDLE_BYTES = 256 * 1024 * 1024
ACCEPTED_VERSIONS = ("4.0", "4.3", "r4", "r4b")

# Fields that exist in a resource only in another FHIR version (each checked against the R4 resource's
# element list, https://hl7.org/fhir/R4/<type>.html#resource: ``MedicationAdministration.context`` is an R4
# element, the encounter or episode of care, so it is no marker).
VERSION_MARKERS: dict[str, dict[str, str]] = {
    "Observation": {"context": "STU3", "comment": "STU3", "instantiatesCanonical": "R5", "instantiatesReference": "R5",
                    "triggeredBy": "R5", "bodyStructure": "R5"},
    "Condition": {"assertedDate": "STU3", "context": "STU3", "participant": "R5"},
    "MedicationAdministration": {"notGiven": "STU3", "reasonNotGiven": "STU3", "definition": "STU3",
                                 "occurenceDateTime": "R5", "occurencePeriod": "R5", "occurenceTiming": "R5", "medication": "R5"},
    "MedicationRequest": {"context": "STU3", "definition": "STU3", "medication": "R5", "informationSource": "R5"},
    "Procedure": {"context": "STU3", "notDone": "STU3", "notDoneReason": "STU3", "definition": "STU3",
                  "occurrenceDateTime": "R5", "occurrencePeriod": "R5", "recorded": "R5"},
    "DiagnosticReport": {"context": "STU3", "codedDiagnosis": "STU3", "image": "STU3", "study": "R5", "supportingInfo": "R5",
                         "composition": "R5"},
    "CarePlan": {"definition": "STU3", "context": "STU3", "custodian": "R5"},
    "Patient": {"animal": "STU3"},
    "Bundle": {"issues": "R5"},
}


def check_version(declared: str | None, where: str) -> None:
    """Refuse a declared FHIR version other than R4 (4.0.x) or R4B (4.3.x)."""
    if declared is None:
        return
    text = str(declared).strip().lower()
    if not text.startswith(ACCEPTED_VERSIONS):
        raise FhirInputError([FhirProblem(where, "fhirVersion", f"FHIR version {declared!r} is not supported; allcare reads FHIR R4 (4.0.x) and R4B (4.3.x)")])


def parse_json(data: str | bytes, name: str, max_bytes: int = DEFAULT_MAX_BUNDLE_BYTES) -> Any:
    """JSON text -> Python, with the size limit checked first and the error position on failure."""
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > max_bytes:
        raise FhirInputError([FhirProblem(name, "", f"{size:,} bytes is over the limit of {max_bytes:,} bytes for one Bundle; "
                                                    "export large data sets as bulk NDJSON, which is read as a stream")])
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        if isinstance(data, bytes):
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                raise FhirInputError([FhirProblem(name, "", "not UTF-8 text")]) from None
        message = error.msg.split(":")[0]
        head = (data.lstrip()[:200] if isinstance(data, str) else data.lstrip()[:200].decode("utf-8", "replace"))
        if head.startswith("<") and "hl7.org/fhir" in head:
            raise FhirInputError([FhirProblem(name, "", "FHIR XML: allcare reads FHIR R4 JSON (application/fhir+json); "
                                                        "export the data as JSON")]) from None
        raise FhirInputError([FhirProblem(name, "", f"not valid JSON: {message} at line {error.lineno}, column {error.colno}")]) from None


# How deep Bundles inside Bundles are read (a batch-response of searchsets is 2; a document in a collection, 3).
MAX_BUNDLE_DEPTH = 8


def bundle_entries(data: Any, name: str) -> list[tuple[str, dict, str | None]]:
    """``(where, resource, fullUrl)`` for every entry of a Bundle (or for a single resource).

    A Bundle in an entry (a batch-response's searchsets, a document sent in a collection) is read for its entries
    in turn. An entry without a resource is passed over when it has a ``request`` or ``response`` (a deletion, a
    search that answered with a status: FHIR R4 invariant bdl-5 allows it); one with neither is refused.
    """
    if not isinstance(data, dict):
        raise FhirInputError([FhirProblem(name, "", "expected a FHIR Bundle or resource (a JSON object)")])
    check_version(data.get("fhirVersion"), name)
    if data.get("resourceType") != "Bundle":
        return [(name, data, None)]
    out: list[tuple[str, dict, str | None]] = []
    problems: list[FhirProblem] = []
    _read_bundle(data, name, "Bundle", 1, out, problems)
    if problems:
        raise FhirInputError(problems)
    return out


def _read_bundle(data: dict, name: str, path: str, depth: int, out: list[tuple[str, dict, str | None]],
                 problems: list[FhirProblem]) -> None:
    check_shape("Bundle", data, name if depth == 1 else f"{name} {path}")
    entries = data.get("entry") or []
    if not isinstance(entries, list):
        problems.append(FhirProblem(f"{name} {path}", "entry", "must be a list"))
        return
    for n, entry in enumerate(entries):
        where = f"{path}.entry[{n}]"
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            if isinstance(entry, dict) and resource is None and (entry.get("request") or entry.get("response")):
                continue
            problems.append(FhirProblem(where, "resource", "entry has no resource, request or response "
                                                           "(FHIR R4 invariant bdl-5)"))
            continue
        if resource.get("resourceType") == "Bundle":
            if depth >= MAX_BUNDLE_DEPTH:
                problems.append(FhirProblem(where, "resource", f"Bundles nested more than {MAX_BUNDLE_DEPTH} deep"))
            else:
                _read_bundle(resource, name, f"{where}.resource", depth + 1, out, problems)
            continue
        out.append((where, resource, entry.get("fullUrl")))


def describe(resource: dict, where: str) -> str:
    """How a resource is named in messages: ``Type/id`` when it has an id, else its position."""
    rtype, rid = resource.get("resourceType"), resource.get("id")
    if isinstance(rtype, str) and isinstance(rid, str) and rid:
        return f"{rtype}/{rid}"
    return f"{where} ({rtype})" if isinstance(rtype, str) else where


@cache
def model_class(resource_type: str):
    try:
        return get_fhir_model_class(resource_type)
    except (ValueError, KeyError, AttributeError):
        return None


# FHIR R4 (4.0.1) resource types that R4B removed, so that the R4B models do not know them
# (https://hl7.org/fhir/R4B/diff.html): valid R4, read like any type allcare does not use.
R4_ONLY_TYPES = frozenset({
    "EffectEvidenceSynthesis", "RiskEvidenceSynthesis", "MedicinalProduct", "MedicinalProductAuthorization",
    "MedicinalProductContraindication", "MedicinalProductIndication", "MedicinalProductIngredient",
    "MedicinalProductInteraction", "MedicinalProductManufactured", "MedicinalProductPackaged",
    "MedicinalProductPharmaceutical", "MedicinalProductUndesirableEffect", "SubstanceNucleicAcid", "SubstancePolymer",
    "SubstanceProtein", "SubstanceReferenceInformation", "SubstanceSourceMaterial", "SubstanceSpecification"})


def check_resource_type(resource: dict, where: str) -> None:
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str) or not rtype:
        raise FhirInputError([FhirProblem(where, "resourceType", "missing: every FHIR resource names its resourceType")])
    if rtype in STRUCTS or rtype in R4_ONLY_TYPES:  # an R4 resource: no need to load its R4B model to know
        return
    cls = model_class(rtype)
    if cls is None or not hasattr(cls, "get_resource_type") or rtype in ("Element", "BackboneElement"):
        raise FhirInputError([FhirProblem(describe(resource, where), "resourceType", f"unknown resource type {rtype!r} (not a FHIR R4 resource)")])


def check_shape(rtype: str, resource: dict, name: str) -> None:
    markers = VERSION_MARKERS.get(rtype, {})
    found = next((key for key in markers if key in resource), None)
    if found is not None:
        raise _other_version(rtype, found, describe(resource, name))


def _other_version(rtype: str, key: str, name: str) -> FhirInputError:
    version = VERSION_MARKERS[rtype][key]
    return FhirInputError([FhirProblem(name, key, f"'{key}' is a FHIR {version} element of {rtype}, not R4: this looks like "
                                                  f"FHIR {version} data; export it as FHIR R4 (4.0.1)")])


# What is read of a raw resource before its Struct is chosen: its type, id, patient reference, and
# whether it has an element that exists only in another FHIR version (the whole text is still
# parsed, so malformed JSON is caught here).
_ABSENT = msgspec.Raw(b"")
_MARKERS = sorted({key for markers in VERSION_MARKERS.values() for key in markers})


class _HeadFields(msgspec.Struct, kw_only=True):
    resourceType: object = None
    id: object = None
    subject: msgspec.Raw = _ABSENT
    patient: msgspec.Raw = _ABSENT


# ... and every version marker, as an element of its own (read by name).
_Head = cast(type[_HeadFields], msgspec.defstruct("_Head", [(key, msgspec.Raw, _ABSENT) for key in _MARKERS],
                                                   bases=(_HeadFields,), kw_only=True))
_HEAD_DECODER = msgspec.json.Decoder(_Head)


class _Ref(msgspec.Struct):
    reference: str | None = None


_REF_DECODER = msgspec.json.Decoder(_Ref)


def read_head(raw: bytes) -> dict:
    """The resource type, id, version-marker elements and patient references of one raw resource, as a
    small dict (what :func:`check_resource_type`, :func:`check_shape` and :func:`describe` read).

    Raises :class:`msgspec.DecodeError` for malformed JSON, :class:`msgspec.ValidationError` when the
    text is not a JSON object; a malformed reference is left out (the full check reports it).
    """
    head = _HEAD_DECODER.decode(raw)
    out = {"resourceType": head.resourceType, "id": head.id}
    for key in VERSION_MARKERS.get(head.resourceType, ()) if isinstance(head.resourceType, str) else ():
        if getattr(head, key):  # only the markers of its own type count (check_shape)
            out[key] = True
    for name in ("subject", "patient"):
        value = getattr(head, name)
        try:
            ref = _REF_DECODER.decode(value) if value else None
        except (msgspec.DecodeError, msgspec.ValidationError):
            ref = None
        if ref is not None and ref.reference:
            out[name] = {"reference": ref.reference}
    return out


# Raw text of a type allcare reads is decoded once, straight into its Struct: the Structs tagged by
# ``resourceType``, each with its type's version markers as extra (raw, unlooked-at) elements. Text
# that does not decode this way (another type, a malformed element, no resourceType) goes the way
# of two passes, which names the problem exactly as before.
def _tagged(cls: type[Resource]) -> type[Resource]:
    markers = VERSION_MARKERS.get(cls.resource_type, {})
    return cast(type[Resource], msgspec.defstruct(
        cls.__name__, [(key, msgspec.Raw, _ABSENT) for key in markers], bases=(cls,), module=__name__,
        tag_field="resourceType", tag=cls.resource_type, kw_only=True, gc=False))


# The context types (an ``_include``d Encounter or Practitioner) are among them, read for their common elements as
# the two passes read them (they have no version markers): one of them in a prefetch Bundle no longer sends the
# whole Bundle the way of one resource at a time.
_TAGGED = [_tagged(cls) for cls in (*STRUCTS.values(), *map(struct_for, CONTEXT_TYPES))]
ONE_PASS: Any = Union[tuple(_TAGGED)]  # noqa: UP007 (a runtime tuple of types)
"""Any resource allcare reads or skips as context, as a type msgspec decodes in one pass (a field of a larger
Struct, e.g. a Bundle's entry); what it decodes is then checked by :func:`check_markers`."""
_ONE_PASS = msgspec.json.Decoder(ONE_PASS)


class _OperationOutcome(Resource, tag_field="resourceType", tag="OperationOutcome", kw_only=True, gc=False):
    """A search's note in a prefetch Bundle (``search.mode: outcome``; many servers add one, CDS Hooks
    2.0 expects it): decoded only to be recognised and left out, so that it does not send the whole
    Bundle the slower way of one resource at a time."""

    resource_type = "OperationOutcome"


PREFETCH_ONE_PASS: Any = Union[(*_TAGGED, _OperationOutcome)]
""":data:`ONE_PASS` and the OperationOutcome a prefetch searchset may carry."""


def check_markers(decoded: Resource, where: str) -> Resource:
    """``decoded`` (by :data:`ONE_PASS`), or :class:`FhirInputError` for an element of another FHIR version
    (as :func:`check_shape`). Its ids and dates are not checked here (:func:`check_formats`)."""
    rtype = decoded.resource_type
    for key in VERSION_MARKERS.get(rtype, ()):
        if getattr(decoded, key):
            raise _other_version(rtype, key, _name(decoded, where))
    return decoded


def _name(decoded: Resource, where: str) -> str:
    return f"{decoded.resource_type}/{decoded.id}" if decoded.id else f"{where} ({decoded.resource_type})"


def check_formats(decoded: Resource, name: str) -> Resource:
    """``decoded``, or :class:`FhirInputError` naming ``name`` and the first id, date, dateTime or time allcare reads
    of it that is not in its FHIR form (decoding reads them as plain text: :mod:`.shapes`)."""
    problem = format_problem(decoded)
    if problem is not None:
        raise FhirInputError([FhirProblem(name, *problem)])
    return decoded


def _decode_once(raw: bytes, where: str) -> Resource | None:
    """The resource decoded in one pass, or None when it must take the two-pass way; raises
    :class:`FhirInputError` for an element of another FHIR version (as :func:`check_shape`)."""
    try:
        decoded: Resource = _ONE_PASS.decode(raw)
    except (msgspec.MsgspecError, RecursionError):
        return None
    return check_formats(check_markers(decoded, where), _name(decoded, where))


# Values by exact content: the app's one LRU class. The CDS Hooks service keeps the assessment
# of a whole prefetch by its digest: an EHR sends the same resources each time a chart is opened,
# and the same resources and rule set always give the same assessment. Imports of files keep
# none (their memory must stay flat however large the export).
ContentCache = LRU



def validate(resource: dict | bytes, where: str, strict: bool = False, resource_type: str | None = None) -> Resource:
    """One resource, checked, as its :mod:`.shapes` Struct; or :class:`FhirInputError` naming the resource and field.

    The elements allcare reads are checked for their FHIR R4 JSON shape by decoding them, and
    its ids, dates and times right after (:func:`check_formats`); ``strict`` validates the whole resource with its R4B model as well. ``resource`` is a
    parsed resource or its raw JSON text: raw text is decoded straight into the Struct, with
    no dict built in between (the CDS Hooks prefetch, a bulk import). ``resource_type`` names
    the type of raw text whose type and version markers were already checked (a bulk import's
    second pass).
    """
    name = where
    if resource_type is None and not strict and isinstance(resource, bytes):
        decoded = _decode_once(resource, where)
        if decoded is not None:
            return decoded
    if resource_type is None:
        if isinstance(resource, bytes):
            try:
                head = read_head(resource)
            except msgspec.MsgspecError:
                raise FhirInputError([FhirProblem(where, "", "not a FHIR resource (a JSON object)")]) from None
        else:
            head = resource
        check_resource_type(head, where)
        resource_type = head["resourceType"]
        check_shape(resource_type, head, where)
        name = describe(head, where)
    rtype = resource_type
    try:
        decoded = check_formats(decode(resource, rtype), name)
    except msgspec.ValidationError as error:
        path, message = error_path(error)
        raise FhirInputError([FhirProblem(name, path, message)]) from None
    if strict and rtype not in R4_ONLY_TYPES:  # (no R4B model to validate it with)
        parsed = orjson.loads(resource) if isinstance(resource, bytes) else resource
        try:
            model_class(rtype).model_validate(parsed)
        except ValidationError as error:
            name = describe(parsed, where)
            raise FhirInputError([FhirProblem(name, dotted_path(item["loc"]), _message(item))
                                  for item in error.errors(include_url=False)]) from None
    return decoded


def validate_all(items: Iterable[tuple[str, dict | bytes, str | None]], strict: bool = False) -> list[tuple[str, Resource, str | None]]:
    """Validate every resource; all problems of all resources are reported together."""
    out, problems = [], []
    for where, raw, full_url in items:
        try:
            out.append((where, validate(raw, where, strict), full_url))
        except FhirInputError as error:
            problems += error.problems
    if problems:
        raise FhirInputError(problems)
    return out


def _message(item: ErrorDetails) -> str:
    if item["type"] == "extra_forbidden":
        return "not an element of this resource in FHIR R4"
    if item["type"] == "missing":
        return "required element is missing"
    message = item["msg"]
    return message.removeprefix("Value error, ")
