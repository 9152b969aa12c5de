"""The ``patient-view`` CDS service: discovery and ``POST /cds-services/all-assessment``.

The request's prefetch (or what is fetched from its ``fhirServer`` when a key is
missing) is imported with the same FHIR importer the CLI uses, assessed by the
engine, and answered with cards. Problems are answered in CDS Hooks' terms:
400 for a malformed request, 412 when data the service needs is missing and
cannot be fetched (the named FHIR server unreachable, failing or refusing too),
422 for FHIR content that cannot be imported.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

import httpx
import msgspec
import orjson
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ...engine.rules import DEFAULT_RULES, RuleSet
from ...serving import prepare_server_process
from ..fhir.reader import ContentCache
from ..fhir.shapes import error_path
from .auth import CdsAuth, require_cds_client
from .cards import assessment_cards
from .cors import CorsForCdsHooks
from .fetch import FetchError, FetchSettings, fetch_one, fetch_rest, fill
from .models import CdsResponse, Discovery, Feedback, HookRequest, ServiceDescription
from .prefetch import OPTIONAL_PREFETCH, PREFETCH, Assessed, CdsRefusal, NeedsFetch, Timing, assess_prefetch

SERVICE_ID = "all-assessment"
HOOK = "patient-view"
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
    # Where a stage of milliseconds runs (the parse; the cold work: decode, check, map, assess): a thread, so
    # that the event loop keeps answering; ``bench/cds_cold.py`` runs them inline to count and profile them.
    # (A worker process for the cold work was measured: no lower p99 than threads at 10% or 25% cold
    # requests on 2 cores, ~9 ms more per cold request to hand the work over and back.)
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

    The ``Server-Timing`` header gives where the time went (parse; decode, check, map, assess; fetch: what the
    prefetch lacked; cards; ms), or (parse, known, cards) when the same prefetch was assessed before.
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
    as text, its content key), in a thread; then the assessment kept for the same content (known), or the
    cold work (:mod:`.prefetch`: decode, check, map, assess) in a thread, with what the prefetch lacks
    fetched first; then cards.
    """
    hook_request, prefetch, key = await settings.offload(_parse_request, body, settings)
    timing.lap("parse")
    known: Assessed | None = settings.assessed.get(key)
    if known is not None:
        timing.lap("known")
    else:
        texts = {name: bytes(raw) for name, raw in prefetch.items() if name in PREFETCH}
        patient_in_context = hook_request.context.patientId
        try:
            outcome = await settings.offload(assess_prefetch, texts, patient_in_context, settings.rules, timing.lap)
            if isinstance(outcome, NeedsFetch) and _only_optional_and_unfetchable(outcome, hook_request, settings):
                # CDS Hooks 2.0: a client omits the keys it cannot prefetch; allcare cannot fetch them either, and
                # can assess without these ones: it does, and says so on a card (cards.not_sent_card).
                sent = {name: text for name, text in texts.items() if name not in outcome.missing}
                assessed = await settings.offload(assess_prefetch, sent, patient_in_context, settings.rules, timing.lap,
                                                  complete=True)
                assert isinstance(assessed, Assessed)
                outcome = dataclasses.replace(assessed, not_sent=outcome.missing)
                settings.assessed.put(key, outcome)
            elif isinstance(outcome, NeedsFetch):
                await _fetch(hook_request, settings, list(outcome.missing), list(outcome.partial), texts)
                timing.lap("fetch")
                outcome = await settings.offload(assess_prefetch, texts, patient_in_context, settings.rules, timing.lap,
                                                 complete=True)
            else:  # what a FHIR server answers may change: only a prefetch that says it all is kept
                settings.assessed.put(key, outcome)
        except CdsRefusal as refusal:
            raise _error(refusal.status, refusal.message, refusal.problems) from None
        assert isinstance(outcome, Assessed)
        known = outcome
    patient_id, assessment = known.patient_id, known.assessment
    cards = assessment_cards(assessment, hook_request.hookInstance, settings.patient_url(patient_id), known.not_sent)
    answer = CdsResponse(cards=cards).model_dump(exclude_none=True)
    timing.lap("cards")
    return answer


def _only_optional_and_unfetchable(needs: NeedsFetch, hook_request: HookRequest, settings: CdsSettings) -> bool:
    """The prefetch lacks only keys an assessment can go without (no page of a longer search: that is data
    known to be cut), and the request names no FHIR server allcare may fetch them from."""
    server = hook_request.fhirServer
    fetchable = server is not None and server.strip() != "" and settings.may_fetch_from(server)
    return not fetchable and not needs.partial and all(name in OPTIONAL_PREFETCH for name in needs.missing)


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
