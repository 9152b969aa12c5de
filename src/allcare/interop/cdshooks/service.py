"""The ``patient-view`` CDS service: discovery and ``POST /cds-services/all-assessment``.

The request's prefetch (or what is fetched from its ``fhirServer`` when a key is
missing) is imported with the same FHIR importer the CLI uses, assessed by the
engine, and answered with cards. Problems are answered in CDS Hooks' terms:
400 for a malformed request, 412 when data the service needs is missing and
cannot be fetched (the named FHIR server unreachable, failing or refusing too),
422 for FHIR content that cannot be imported.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import quote

import httpx
import msgspec
import orjson
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ...clock import assessment_date
from ...engine import assess
from ...engine.rules import DEFAULT_RULES, RuleSet
from ...serving import prepare_server_process
from ..fhir import FhirInputError, FhirProblem
from ..fhir.importer import import_items, with_contained
from ..fhir.item import Item
from ..fhir.reader import PREFETCH_ONE_PASS, ContentCache, check_markers, read_head, validate
from ..fhir.shapes import Resource, error_path, format_problems
from .auth import CdsAuth, require_cds_client
from .cards import assessment_cards
from .cors import CorsForCdsHooks
from .fetch import FetchError, FetchSettings, fetch_one, fetch_rest, fill
from .models import CdsResponse, Discovery, Feedback, HookRequest, ServiceDescription

SERVICE_ID = "all-assessment"
HOOK = "patient-view"
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "medications": "MedicationAdministration?patient={{context.patientId}}",
    "medicationrequests": "MedicationRequest?patient={{context.patientId}}",
    "diagnosticreports": "DiagnosticReport?patient={{context.patientId}}",
    "careplans": "CarePlan?patient={{context.patientId}}",
}
MAX_REQUEST_BYTES = 64 * 1024 * 1024


@dataclass
class CdsSettings:
    """Where allcare's patient pages are (for card links), and how to fetch and assess."""

    allcare_url: str = field(default_factory=lambda: os.environ.get("ALLCARE_APP_URL", "http://localhost:8000"))
    fetch: FetchSettings = field(default_factory=FetchSettings)
    rules: RuleSet = DEFAULT_RULES
    max_request_bytes: int = MAX_REQUEST_BYTES
    # FHIR servers a request may name for fetching (base URLs); None: any (a standalone
    # service behind the EHR's own network rules). The web app passes its allowlist.
    allowed_fhir_servers: tuple[str, ...] | None = None
    # An EHR sends the same resources each time the chart opens: the assessment of an unchanged set
    # is kept by content (the same resources and rule set always give the same assessment; only the
    # cards' hook instance differs).
    assessed: ContentCache = field(default_factory=lambda: ContentCache(size=256))
    # Where a stage of tens of milliseconds runs (parse, decode, check, map, assess): a thread, so that the
    # event loop keeps answering; ``bench/cds_cold.py`` runs them inline (unless ``--threads``) to count and profile them.
    offload: Callable[..., Awaitable[Any]] = run_in_threadpool
    feedback_received: int = 0

    def may_fetch_from(self, server: str) -> bool:
        if self.allowed_fhir_servers is None:
            return True
        return server.rstrip("/") in {s.rstrip("/") for s in self.allowed_fhir_servers}

    def patient_url(self, patient_id: str) -> str:
        """allcare's patient list searched for the EHR's patient id (the record's identifier once imported),
        under the configured public address exactly as given (scheme, host, port and path prefix)."""
        return f"{self.allcare_url.rstrip('/')}/patients?q={quote(patient_id, safe='')}"


router = APIRouter()


def discovery() -> Discovery:
    return Discovery(services=[ServiceDescription(
        hook=HOOK, id=SERVICE_ID, title="allcare ALL assessment",
        description="Explainable decision support for acute lymphoblastic leukaemia: diagnosis (WHO-HAEM5/ICC), "
                    "NCI/genetic risk, CNS status, response and alerts, each with its rule, guideline and evidence.",
        prefetch=dict(PREFETCH),
        usageRequirements="Decision support for qualified professionals, not a diagnosis.",
    )])


def _settings(request: Request) -> CdsSettings:
    return getattr(request.app.state, "cds_settings", None) or CdsSettings()


def _error(status: int, message: str, problems: list[str] | None = None) -> HTTPException:
    return HTTPException(status_code=status, detail={"error": message, "problems": problems or []})


@router.get("/cds-services")
def cds_discovery() -> dict:
    """CDS Hooks discovery: the one patient-view service with its prefetch templates."""
    return discovery().model_dump(exclude_none=True)


@router.post(f"/cds-services/{SERVICE_ID}", responses={status: {"description": text} for status, text in {
    400: "not a valid CDS Hooks request", 401: "no JWT of a trusted CDS client",
    412: "prefetch data missing, and the FHIR server could not be read for it",
    413: "request too large", 422: "FHIR data that cannot be imported"}.items()})
async def cds_all_assessment(request: Request, _client: Annotated[dict | None, Depends(require_cds_client)]) -> JSONResponse:
    """Assess the patient in context and answer with cards (the caller's JWT is checked first).

    The ``Server-Timing`` header gives where the time went (parse; fetch: decode the prefetch and fetch
    what it lacks; check; map; assess; cards; ms), or
    (parse, known, cards) when the same prefetch was assessed before.
    """
    settings = _settings(request)
    body = await request.body()
    if len(body) > settings.max_request_bytes:
        raise _error(413, f"request of {len(body):,} bytes is over the limit of {settings.max_request_bytes:,}")
    timing = Timing()
    answer = await answer_request(body, settings, timing)
    return JSONResponse(answer, headers={"Server-Timing": timing.header()})


async def answer_request(body: bytes, settings: CdsSettings, timing: Timing) -> dict:
    """The JSON answer (cards) to one ``patient-view`` request body, every stage timed in ``timing``.

    The service's one path, also timed by ``bench/cds_cold.py``: parse (the envelope, the prefetch kept
    as text, its content key); then the assessment kept for the same content (known), or fetch (the
    prefetch decoded, and what it lacks fetched), check, map, assess; then cards. Each stage of tens
    of milliseconds runs in a thread, off the event loop.
    """
    hook_request, prefetch, key = await settings.offload(_parse_request, body, settings)
    timing.lap("parse")
    known: tuple[str, Any] | None = settings.assessed.get(key)
    if known is not None:
        timing.lap("known")
    else:
        resources, fetched = await _gather(hook_request, prefetch, settings)
        timing.lap("fetch")
        known = await settings.offload(_import_and_assess, resources, settings, timing)
        if not fetched:  # what a FHIR server answers may change: only a prefetch that says it all is kept
            settings.assessed.put(key, known)
    patient_id, assessment = known
    cards = assessment_cards(assessment, hook_request.hookInstance, settings.patient_url(patient_id))
    answer = CdsResponse(cards=cards).model_dump(exclude_none=True)
    timing.lap("cards")
    return answer


@router.post(f"/cds-services/{SERVICE_ID}/feedback", responses={status: {"description": text} for status, text in {
    400: "not a valid CDS Hooks feedback request", 401: "no JWT of a trusted CDS client",
    413: "request too large"}.items()})
async def cds_feedback(request: Request, _client: Annotated[dict | None, Depends(require_cds_client)]) -> JSONResponse:
    """CDS Hooks 2.0 feedback: what the clinician did with a card (accepted, overridden and why).

    Checked and counted; allcare keeps no card outcome with patient data in it.
    """
    settings = _settings(request)
    body = await request.body()
    try:
        Feedback.model_validate(orjson.loads(body))
    except (orjson.JSONDecodeError, ValidationError) as error:
        raise _error(400, "not a valid CDS Hooks feedback request", [str(error)[:500]]) from None
    settings.feedback_received += 1
    return JSONResponse({})


class Timing:
    """Time spent per stage of one request, in milliseconds of ``clock`` (wall time for the
    ``Server-Timing`` header; ``time.process_time`` to count CPU, as ``bench/cds_cold.py`` does)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.last = clock()
        self.stages: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = self.clock()
        self.stages[stage] = self.stages.get(stage, 0.0) + (now - self.last) * 1000
        self.last = now

    def header(self) -> str:
        return ", ".join(f"{stage};dur={ms:.2f}" for stage, ms in self.stages.items())


def _import_and_assess(resources: list[tuple[str, bytes | Resource, str | None]], settings: CdsSettings, timing: Timing) -> tuple[str, Any]:
    try:
        items = with_contained(_checked(resources))
        timing.lap("check")
        result = import_items(items)
    except FhirInputError as error:
        raise _error(422, "the FHIR data for this patient cannot be imported", [str(p) for p in error.problems]) from None
    if result.failed:
        raise _error(422, "the FHIR data for this patient cannot be imported", [str(p) for p in result.problems])
    if len(result.patients) != 1:
        raise _error(422, f"expected the data of one patient, found {len(result.patients)}")
    imported = result.patients[0]
    timing.lap("map")
    assessment = assess(imported.case, as_of=assessment_date(imported.case), rules=settings.rules)
    timing.lap("assess")
    return imported.patient_id, assessment


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


class _Request(msgspec.Struct):
    """A CDS Hooks request as first read: the prefetch values stay raw JSON text, one per key.

    The envelope is checked by :class:`.models.HookRequest`; the prefetch is decoded only when its
    assessment is not already known, and then straight into the resources' Structs (:func:`_gather`).
    """

    hook: Any = None
    hookInstance: Any = None
    fhirServer: Any = None
    fhirAuthorization: Any = None
    context: Any = None
    prefetch: dict[str, msgspec.Raw] | None = None


_REQUEST_DECODER = msgspec.json.Decoder(_Request)
_ENVELOPE = ("hook", "hookInstance", "fhirServer", "fhirAuthorization", "context")


def _parse_request(body: bytes, settings: CdsSettings) -> tuple[HookRequest, dict[str, msgspec.Raw], bytes]:
    """(the checked request, its raw prefetch values by key, the content key of what it asks to assess)."""
    try:
        raw = _REQUEST_DECODER.decode(body)
    except msgspec.DecodeError as error:
        raise _error(400, f"request body is not valid JSON: {error}") from None
    except msgspec.ValidationError as error:
        path, message = error_path(error)
        raise _error(400, "not a valid CDS Hooks request", [f"{path or 'request'}: {message}"]) from None
    except RecursionError:
        raise _error(400, "request body is not valid JSON: nested too deeply") from None
    envelope = {name: getattr(raw, name) for name in _ENVELOPE if getattr(raw, name) is not None}
    try:
        hook_request = HookRequest.model_validate(envelope)
    except ValidationError as error:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg'].removeprefix('Value error, ')}"
                    for e in error.errors(include_url=False)]
        raise _error(400, "not a valid CDS Hooks request", problems) from None
    if hook_request.hook != HOOK:
        raise _error(400, f"this service answers the {HOOK!r} hook, not {hook_request.hook!r}")
    prefetch = raw.prefetch or {}
    return hook_request, prefetch, _content_key(hook_request, prefetch, settings)


def _content_key(hook_request: HookRequest, prefetch: dict[str, msgspec.Raw], settings: CdsSettings) -> bytes:
    """A digest of all an assessment reads from the request: the rule set, the patient in context and
    the text of every prefetch value (absent and ``null`` told apart). The same text always gives the
    same assessment, so a chart opened again is answered without decoding its prefetch."""
    digest = hashlib.sha256(f"{settings.rules.version}\0{hook_request.context.patientId}\0".encode())
    for key in PREFETCH:
        value = prefetch.get(key)
        if value is None:
            digest.update(key.encode() + b"\2\0")
        else:  # the value's text hashed where it lies (a Raw is a buffer): copying ~0.8 MB cost more than hashing it
            digest.update(key.encode() + b"\1")
            digest.update(value)
            digest.update(b"\0")
    return digest.digest()


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


async def _gather(hook_request: HookRequest, prefetch: dict[str, msgspec.Raw],
                  settings: CdsSettings) -> tuple[list[tuple[str, bytes | Resource, str | None]], bool]:
    """(``(where, resource, fullUrl)`` for every resource, whether any was fetched from the FHIR server).

    CDS Hooks 2.0: an absent key or an OperationOutcome means the client could not prefetch
    it (fetch it); ``null`` means the client found no data (nothing to fetch). A searchset with
    a ``next`` link is only the first page: the rest is fetched from the same server, or, when
    that is not possible, the request is refused as incomplete rather than assessed as whole.
    A Bundle's resources come decoded into their Structs with it, or as JSON text when they could
    not be (see :data:`_DECODED_VALUE`); the patient's resource is text.
    """
    texts: dict[str, bytes] = {key: bytes(raw) for key, raw in prefetch.items() if key in PREFETCH}
    decoded = await settings.offload(_decode_values, texts)  # a megabyte of JSON: not on the event loop
    values: dict[str, _Value[Any] | None] = {}
    missing, partial = [], []
    for key in PREFETCH:
        value = decoded.get(key)
        if key in texts and value is None:
            values[key] = None
        elif value is None or value.resourceType in (None, "OperationOutcome"):
            missing.append(key)
        else:
            values[key] = value
            if _next_link(value):
                partial.append(key)
    if missing or partial:
        await _fetch(hook_request, settings, missing, partial, texts)
        values.update(await settings.offload(_decode_values, {key: texts[key] for key in (*missing, *partial)}))
    patient = values["patient"]
    if patient is None:  # the client has no Patient resource: the context's id is all there is
        texts["patient"] = orjson.dumps({"resourceType": "Patient", "id": hook_request.context.patientId})
    elif patient.resourceType != "Patient":
        raise _error(422, "prefetch 'patient' is not a Patient resource")
    elif patient.id and patient.id != hook_request.context.patientId:
        raise _error(400, f"prefetch Patient/{patient.id} is not the patient in context ({hook_request.context.patientId})")
    out: list[tuple[str, bytes | Resource, str | None]] = [("prefetch.patient", texts["patient"], None)]
    for key in PREFETCH:
        bundle = values[key]
        if key == "patient" or bundle is None:
            continue
        if bundle.resourceType != "Bundle":
            raise _error(422, f"prefetch '{key}' is not a Bundle")
        for n, entry in enumerate(bundle.entry or []):
            resource = entry.resource
            if isinstance(resource, msgspec.Raw):
                resource = bytes(resource)
                if not resource.startswith(b"{"):
                    continue  # not a JSON object
            if resource is None or (isinstance(entry.search, dict) and entry.search.get("mode") == "outcome"):
                continue  # no resource, or the search's own message
            out.append((f"prefetch.{key}.entry[{n}]", resource, entry.fullUrl if isinstance(entry.fullUrl, str) else None))
    return out, bool(missing or partial)


async def _fetch(hook_request: HookRequest, settings: CdsSettings, missing: list[str], partial: list[str],
                 texts: dict[str, bytes]) -> None:
    """Fetch the ``missing`` keys and the rest of the ``partial`` ones into ``texts``, or refuse the request."""
    needs = [f"prefetch '{key}' ({PREFETCH[key]})" for key in missing] + [
        f"prefetch '{key}' is one page of a longer search (it has a 'next' link)" for key in partial]
    if not hook_request.fhirServer:
        raise _error(412, "prefetch data is missing or incomplete and the request names no fhirServer to fetch it from",
                     needs)
    if not settings.may_fetch_from(hook_request.fhirServer):
        raise _error(412, f"prefetch data is missing or incomplete and this service may not fetch from "
                          f"{hook_request.fhirServer} (ALLCARE_CDS_FHIR_SERVERS); send the whole prefetch", needs)
    context = hook_request.context.model_dump(exclude_none=True)
    token = hook_request.fhirAuthorization.access_token if hook_request.fhirAuthorization else None
    try:
        async with httpx.AsyncClient(follow_redirects=False) as client:
            for key in missing:
                found = await fetch_one(client, hook_request.fhirServer, fill(PREFETCH[key], context), token, settings.fetch)
                texts[key] = orjson.dumps(found)
            for key in partial:
                found = await fetch_rest(client, hook_request.fhirServer, orjson.loads(texts[key]), token, settings.fetch)
                texts[key] = orjson.dumps(found)
    except FetchError as error:
        raise _error(412, str(error)) from None


def _decode_values(texts: dict[str, bytes]) -> dict[str, _Value[Any] | None]:
    return {key: _decoded(key, text) for key, text in texts.items()}


def _decoded(key: str, text: bytes) -> _Value[Any] | None:
    try:
        return _DECODED_VALUE.decode(text)
    except (msgspec.MsgspecError, RecursionError):
        pass  # its resources are decoded one by one
    try:
        return _VALUE_DECODER.decode(text)
    except msgspec.ValidationError as error:
        path, message = error_path(error)
        raise _error(422, f"prefetch '{key}' is not a FHIR resource or Bundle", [f"{path or key}: {message}"]) from None


def _next_link(bundle: _Value[Any]) -> str | None:
    if bundle.resourceType != "Bundle":
        return None
    return next((link.url for link in bundle.link or [] if link.relation == "next" and isinstance(link.url, str)), None)


def create_app(settings: CdsSettings | None = None, auth: CdsAuth | None = None) -> FastAPI:
    """A FastAPI app with only the CDS Hooks router (to test or benchmark it alone).

    Who may call it comes from ``auth``, else from ``ALLCARE_CDS_TRUSTED_ISSUERS`` /
    ``ALLCARE_CDS_ALLOW_ANONYMOUS``.
    """
    from ...settings import CdsAuthSettings

    prepare_server_process()
    app = FastAPI(title="allcare CDS Hooks", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.cds_settings = settings = settings or CdsSettings()
    app.state.cds_auth = auth or CdsAuth.from_settings(
        CdsAuthSettings(), f"{settings.allcare_url.rstrip('/')}/cds-services/{SERVICE_ID}")
    app.include_router(router)
    app.add_middleware(CorsForCdsHooks)
    return app
