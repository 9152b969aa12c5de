"""A ``patient-view`` prefetch read into an assessment: decode, check, map, assess (the *cold* work).

Everything a request costs when its prefetch has not been assessed before, as one synchronous
function of bytes (:func:`assess_prefetch`) that touches nothing of the server: no event loop, no
cache, no network; the service runs it in a thread (and ``bench/cds_cold.py`` inline, to count it).
What the prefetch lacks is not fetched here: the answer then names the keys to fetch
(:class:`NeedsFetch`), and the service fetches them and asks again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec
import orjson

from ...clock import assessment_date
from ...engine import assess
from ...engine.assessment import Assessment
from ...engine.rules import RuleSet
from ..fhir import FhirInputError, FhirProblem
from ..fhir.importer import import_items, with_contained
from ..fhir.item import Item
from ..fhir.reader import PREFETCH_ONE_PASS, check_markers, read_head, validate
from ..fhir.shapes import Resource, error_path, format_problems

PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "medications": "MedicationAdministration?patient={{context.patientId}}",
    "medicationrequests": "MedicationRequest?patient={{context.patientId}}",
    "diagnosticreports": "DiagnosticReport?patient={{context.patientId}}",
    "careplans": "CarePlan?patient={{context.patientId}}",
}


# The prefetch keys an assessment can go without when the EHR cannot send them and allcare cannot fetch them
# (an EHR that does not support the search): what each would have added, for the card that says so. The
# patient and the observations it cannot go without.
OPTIONAL_PREFETCH = {
    "conditions": "diagnosis records (the diagnosis date, predisposing conditions)",
    "medications": "administered treatment (the treatment start, phases, cumulative doses)",
    "medicationrequests": "treatment orders (maintenance doses)",
    "diagnosticreports": "laboratory and pathology reports (results listed by a report)",
    "careplans": "treatment plans (protocol and phases)",
}


class Timing:
    """Time spent per stage of one request, in milliseconds of ``clock`` (wall time for the
    ``Server-Timing`` header; ``time.process_time`` to count CPU, as ``bench/cds_cold.py`` does)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.last = clock()
        self.stages: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        """``stage`` ended now: it took the time since the last lap."""
        now = self.clock()
        self.stages[stage] = self.stages.get(stage, 0.0) + (now - self.last) * 1000
        self.last = now

    def header(self) -> str:
        return ", ".join(f"{stage};dur={ms:.2f}" for stage, ms in self.stages.items())


class CdsRefusal(Exception):
    """The request is answered with an HTTP error (CDS Hooks: 400 malformed, 412 data missing, 422
    FHIR data that cannot be imported): its status, message and problems."""

    def __init__(self, status: int, message: str, problems: list[str] | None = None) -> None:
        super().__init__(status, message, problems or [])
        self.status, self.message, self.problems = status, message, problems or []


@dataclass(frozen=True)
class Assessed:
    """The prefetch's patient id (the record's identifier once imported) and its assessment."""

    patient_id: str
    assessment: Assessment
    not_sent: tuple[str, ...] = ()
    """Optional prefetch keys the EHR did not send and allcare could not fetch: assessed without them."""


@dataclass(frozen=True)
class NeedsFetch:
    """The prefetch keys to fetch from the FHIR server before it can be assessed: absent (or an
    OperationOutcome: the client could not search) and one page of a longer search (a ``next`` link)."""

    missing: tuple[str, ...]
    partial: tuple[str, ...]


def assess_prefetch(texts: dict[str, bytes], patient_id: str, rules: RuleSet, lap: Callable[[str], None], *,
                    complete: bool = False) -> Assessed | NeedsFetch:
    """The assessment of the prefetch values ``texts`` (JSON text by key) for the patient in context,
    or the keys to fetch first; ``complete``: what could be fetched was, read the values as they are.
    ``lap(stage)`` is called as each stage ends (decode, check, map, assess). Refusals raise
    :class:`CdsRefusal`."""
    decoded = {key: _decoded(key, text) for key, text in texts.items()}
    lap("decode")
    values: dict[str, _Value[Any] | None] = {}
    missing, partial = [], []
    for key in PREFETCH:
        value = decoded.get(key)
        if complete or (key in texts and value is None):
            values[key] = value
        elif value is None or value.resourceType in (None, "OperationOutcome"):
            missing.append(key)
        else:
            values[key] = value
            if _next_link(value):
                partial.append(key)
    if missing or partial:
        return NeedsFetch(tuple(missing), tuple(partial))
    resources = _resources(values, texts, patient_id)
    try:
        items = with_contained(_checked(resources))
        lap("check")
        result = import_items(items)
    except FhirInputError as error:
        raise CdsRefusal(422, "the FHIR data for this patient cannot be imported", [str(p) for p in error.problems]) from None
    if result.failed:
        raise CdsRefusal(422, "the FHIR data for this patient cannot be imported", [str(p) for p in result.problems])
    if len(result.patients) != 1:
        raise CdsRefusal(422, f"expected the data of one patient, found {len(result.patients)}")
    imported = result.patients[0]
    lap("map")
    assessment = assess(imported.case, as_of=assessment_date(imported.case), rules=rules)
    lap("assess")
    return Assessed(imported.patient_id, assessment)


def _resources(values: dict[str, _Value[Any] | None], texts: dict[str, bytes],
               patient_id: str) -> list[tuple[str, bytes | Resource, str | None]]:
    """``(where, resource, fullUrl)`` for every resource of the prefetch: the patient's as text (or the
    context's id alone when the client has no Patient resource), a Bundle's decoded with it into their
    Structs or as JSON text when they could not be (see :data:`_DECODED_VALUE`)."""
    patient = values.get("patient")
    if patient is None:  # the client has no Patient resource: the context's id is all there is
        patient_text = orjson.dumps({"resourceType": "Patient", "id": patient_id})
    elif patient.resourceType != "Patient":
        raise CdsRefusal(422, "prefetch 'patient' is not a Patient resource")
    elif patient.id and patient.id != patient_id:
        raise CdsRefusal(400, f"prefetch Patient/{patient.id} is not the patient in context ({patient_id})")
    else:
        patient_text = texts["patient"]
    out: list[tuple[str, bytes | Resource, str | None]] = [("prefetch.patient", patient_text, None)]
    for key in PREFETCH:
        bundle = values.get(key)
        if key == "patient" or bundle is None:
            continue
        if bundle.resourceType != "Bundle":
            raise CdsRefusal(422, f"prefetch '{key}' is not a Bundle")
        for n, entry in enumerate(bundle.entry or []):
            resource = entry.resource
            if isinstance(resource, msgspec.Raw):
                resource = bytes(resource)
                if not resource.startswith(b"{"):
                    continue  # not a JSON object
            if resource is None or (isinstance(entry.search, dict) and entry.search.get("mode") == "outcome"):
                continue  # no resource, or the search's own message
            out.append((f"prefetch.{key}.entry[{n}]", resource, entry.fullUrl if isinstance(entry.fullUrl, str) else None))
    return out


def _checked(resources: list[tuple[str, bytes | Resource, str | None]]) -> list[Item]:
    """Every prefetch resource decoded once into its Struct (:func:`..fhir.reader.validate`, or with its
    Bundle and then checked for elements of other FHIR versions, and its ids and dates all at once), less
    OperationOutcomes (a client's note that it could not search) and resources listed again unchanged (a
    report's results also matched by the Observation search): all problems reported together. A copy that
    differs is another version of the resource and is kept: the import reads the current one
    (:mod:`..fhir.versions`)."""
    out: list[Item] = []
    problems = []
    decoded_with_bundle: list[Item] = []
    seen: dict[tuple[str, str], Resource] = {}
    for where, given, full_url in resources:
        try:
            resource = validate(given, where) if isinstance(given, bytes) else check_markers(given, where)
        except FhirInputError as error:
            if not isinstance(given, bytes) or not _is_outcome(given):
                problems += error.problems
            continue
        rtype = resource.resource_type
        if rtype == "OperationOutcome":
            continue
        if resource.id:
            key = (rtype, resource.id)
            first = seen.setdefault(key, resource)
            if first is not resource and first == resource:
                continue
        item = Item(where, resource, full_url)
        out.append(item)
        if not isinstance(given, bytes):
            decoded_with_bundle.append(item)
    problems += [FhirProblem(decoded_with_bundle[n].ref, path, message)
                 for n, path, message in format_problems([item.resource for item in decoded_with_bundle])]
    if problems:
        raise FhirInputError(problems)
    return out


def _is_outcome(text: bytes) -> bool:
    try:
        return read_head(text)["resourceType"] == "OperationOutcome"
    except msgspec.MsgspecError:
        return False


class _Entry(msgspec.Struct):
    resource: msgspec.Raw = msgspec.Raw(b"")  # empty: no resource
    fullUrl: Any = None
    search: Any = None


# The same entry with its resource decoded into its Struct (None: no resource).
_DecodedEntry: Any = msgspec.defstruct("_DecodedEntry", [("resource", PREFETCH_ONE_PASS | None, None), ("fullUrl", Any, None),
                                                         ("search", Any, None)], module=__name__)
EntryT = TypeVar("EntryT")


class _Link(msgspec.Struct):
    relation: Any = None
    url: Any = None


class _Value(msgspec.Struct, Generic[EntryT]):
    """A prefetch value as far as the service reads it itself, a Bundle's resources either decoded with it
    into their Structs (``_DecodedEntry``) or kept as raw text (``_Entry``)."""

    resourceType: Any = None
    id: Any = None
    entry: list[EntryT] | None = None
    link: list[_Link] | None = None


# A prefetch value is decoded in one pass, resources included, when all its resources are of types allcare
# reads, of the context types it passes over (an ``_include``d Encounter or Practitioner) or a search's
# OperationOutcome, and have the shape it reads; else (another type, a malformed
# element) its resources stay raw text and are decoded one by one, so that each problem is named exactly
# (:func:`_checked`).
_DECODED_VALUE = msgspec.json.Decoder(_Value[_DecodedEntry] | None)
_VALUE_DECODER = msgspec.json.Decoder(_Value[_Entry] | None)


def _decoded(key: str, text: bytes) -> _Value[Any] | None:
    try:
        return _DECODED_VALUE.decode(text)
    except (msgspec.MsgspecError, RecursionError):
        pass  # its resources are decoded one by one
    try:
        return _VALUE_DECODER.decode(text)
    except msgspec.ValidationError as error:
        path, message = error_path(error)
        raise CdsRefusal(422, f"prefetch '{key}' is not a FHIR resource or Bundle", [f"{path or key}: {message}"]) from None
    except RecursionError:
        raise CdsRefusal(422, f"prefetch '{key}' is not a FHIR resource or Bundle", [f"{key}: nested too deeply"]) from None


def _next_link(bundle: _Value[Any]) -> str | None:
    if bundle.resourceType != "Bundle":
        return None
    return next((link.url for link in bundle.link or [] if link.relation == "next" and isinstance(link.url, str)), None)
