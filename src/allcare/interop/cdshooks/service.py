"""The ``patient-view`` CDS service: discovery and ``POST /cds-services/all-assessment``.

The request's prefetch (or what is fetched from its ``fhirServer`` when a key is
missing) is imported with the same FHIR importer the CLI uses, assessed by the
engine, and answered with cards. Problems are answered in CDS Hooks' terms:
400 for a malformed request, 412 when data the service needs is missing and
cannot be fetched, 422 for FHIR content that cannot be imported, 502 when the
named FHIR server fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

import httpx
import orjson
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ...clock import assessment_date
from ...engine import assess
from ...engine.rules import DEFAULT_RULES, RuleSet
from ...serving import tune_garbage_collector
from ..fhir import FhirInputError, import_resources
from ..fhir.reader import ContentCache
from ..json_steps import CDS_REQUEST_DEPTH, loads_in_steps
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
    400: "not a valid CDS Hooks request", 401: "no JWT of a trusted CDS client", 412: "prefetch data missing",
    413: "request too large", 422: "FHIR data that cannot be imported", 502: "the FHIR server failed"}.items()})
async def cds_all_assessment(request: Request, _client: Annotated[dict | None, Depends(require_cds_client)]) -> JSONResponse:
    """Assess the patient in context and answer with cards (the caller's JWT is checked first).

    The ``Server-Timing`` header gives where the time went (parse, fetch, map, assess, cards; ms).
    """
    settings = _settings(request)
    timing = Timing()
    hook_request = await _read_request(request, settings)
    timing.lap("parse")
    resources = await _gather(hook_request, settings)
    timing.lap("fetch")
    patient_id, assessment = await run_in_threadpool(_assessed, resources, settings, timing)  # seconds of work: not here
    timing.lap("assess")
    cards = assessment_cards(assessment, hook_request.hookInstance, settings.patient_url(patient_id))
    body = CdsResponse(cards=cards).model_dump(exclude_none=True)
    timing.lap("cards")
    return JSONResponse(body, headers={"Server-Timing": timing.header()})


def _assessed(resources: list[tuple[str, dict, str | None]], settings: CdsSettings, timing: Timing) -> tuple[str, Any]:
    key = _content_key(resources, settings)
    known = settings.assessed.get(key) if key is not None else None
    if known is None:
        known = _import_and_assess(resources, settings, timing)
        if key is not None:
            settings.assessed.put(key, known)
    return known


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
    """Milliseconds spent per stage of one request, for the ``Server-Timing`` header."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.stages: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages[stage] = self.stages.get(stage, 0.0) + (now - self.last) * 1000
        self.last = now

    def header(self) -> str:
        return ", ".join(f"{stage};dur={ms:.2f}" for stage, ms in self.stages.items())


def _import_and_assess(resources: list[tuple[str, dict, str | None]], settings: CdsSettings, timing: Timing) -> tuple[str, Any]:
    try:
        result = import_resources(resources)
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


def _content_key(resources: list[tuple[str, dict, str | None]], settings: CdsSettings) -> bytes | None:
    """A digest of exactly the resources sent (and the rule set), or None when they cannot be serialised.

    Hashed resource by resource, so no single step holds the interpreter for long.
    """
    digest = hashlib.sha256(settings.rules.version.encode() + b"\0")
    try:
        for _, resource, _ in resources:
            digest.update(orjson.dumps(resource, option=orjson.OPT_SORT_KEYS) + b"\0")
    except (TypeError, orjson.JSONEncodeError):
        return None
    return digest.digest()


async def _read_request(request: Request, settings: CdsSettings) -> HookRequest:
    body = await request.body()
    if len(body) > settings.max_request_bytes:
        raise _error(413, f"request of {len(body):,} bytes is over the limit of {settings.max_request_bytes:,}")
    return await run_in_threadpool(_parse_request, body)


def _parse_request(body: bytes) -> HookRequest:
    try:
        data = loads_in_steps(body, CDS_REQUEST_DEPTH)  # in steps: other requests run between them
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _error(400, f"request body is not valid JSON: {error}") from None
    try:
        hook_request = HookRequest.model_validate(data)
    except ValidationError as error:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg'].removeprefix('Value error, ')}" for e in error.errors(include_url=False)]
        raise _error(400, "not a valid CDS Hooks request", problems) from None
    if hook_request.hook != HOOK:
        raise _error(400, f"this service answers the {HOOK!r} hook, not {hook_request.hook!r}")
    return hook_request


async def _gather(hook_request: HookRequest, settings: CdsSettings) -> list[tuple[str, dict, str | None]]:
    """Resources from the prefetch, fetching every missing key (and the rest of a paged one) from the FHIR server.

    CDS Hooks 2.0: an absent key or an OperationOutcome means the client could not prefetch
    it (fetch it); ``null`` means the client found no data (nothing to fetch). A searchset with
    a ``next`` link is only the first page: the rest is fetched from the same server, or, when
    that is not possible, the request is refused as incomplete rather than assessed as whole.
    """
    prefetch = hook_request.prefetch or {}
    context = hook_request.context.model_dump(exclude_none=True)
    values: dict[str, Any] = {}
    missing, partial = [], []
    for key in PREFETCH:
        value = prefetch.get(key, _ABSENT)
        if value is None:
            values[key] = None
        elif not _usable(value):
            missing.append(key)
        else:
            values[key] = value
            if _next_link(value):
                partial.append(key)
    if missing or partial:
        needs = [f"prefetch '{key}' ({PREFETCH[key]})" for key in missing] + [
            f"prefetch '{key}' is one page of a longer search (it has a 'next' link)" for key in partial]
        if not hook_request.fhirServer:
            raise _error(412, "prefetch data is missing or incomplete and the request names no fhirServer to fetch it from",
                         needs)
        if not settings.may_fetch_from(hook_request.fhirServer):
            raise _error(412, f"prefetch data is missing or incomplete and this service may not fetch from "
                              f"{hook_request.fhirServer} (ALLCARE_CDS_FHIR_SERVERS); send the whole prefetch", needs)
        token = hook_request.fhirAuthorization.access_token if hook_request.fhirAuthorization else None
        try:
            async with httpx.AsyncClient(follow_redirects=False) as client:
                for key in missing:
                    values[key] = await fetch_one(client, hook_request.fhirServer, fill(PREFETCH[key], context), token, settings.fetch)
                for key in partial:
                    values[key] = await fetch_rest(client, hook_request.fhirServer, values[key], token, settings.fetch)
        except FetchError as error:
            raise _error(error.status, str(error)) from None
    patient = values["patient"]
    if patient is None:  # the client has no Patient resource: the context's id is all there is
        patient = {"resourceType": "Patient", "id": hook_request.context.patientId}
    if not isinstance(patient, dict) or patient.get("resourceType") != "Patient":
        raise _error(422, "prefetch 'patient' is not a Patient resource")
    if patient.get("id") and patient["id"] != hook_request.context.patientId:
        raise _error(400, f"prefetch Patient/{patient['id']} is not the patient in context ({hook_request.context.patientId})")
    out: list[tuple[str, dict, str | None]] = [("prefetch.patient", patient, None)]
    seen: set[str] = set()
    for key in PREFETCH:
        bundle = values[key]
        if key == "patient" or bundle is None:
            continue
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            raise _error(422, f"prefetch '{key}' is not a Bundle")
        for n, entry in enumerate(bundle.get("entry") or []):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict) or resource.get("resourceType") == "OperationOutcome":
                continue
            if (entry.get("search") or {}).get("mode") == "outcome":
                continue
            identity = f"{resource.get('resourceType')}/{resource.get('id')}" if resource.get("id") else None
            if identity is not None and identity in seen:  # e.g. a report's results also matched by another search
                continue
            if identity is not None:
                seen.add(identity)
            out.append((f"prefetch.{key}.entry[{n}]", resource, entry.get("fullUrl")))
    return out


_ABSENT = object()


def _next_link(bundle: dict) -> str | None:
    links = bundle.get("link") if bundle.get("resourceType") == "Bundle" else None
    return next((link.get("url") for link in links or [] if isinstance(link, dict) and link.get("relation") == "next"), None)


def _usable(value: Any) -> bool:
    """A prefetch value the client actually filled (CDS Hooks 2.0: absent or an OperationOutcome means it could not)."""
    return isinstance(value, dict) and value.get("resourceType") not in (None, "OperationOutcome")


def create_app(settings: CdsSettings | None = None, auth: CdsAuth | None = None) -> FastAPI:
    """A FastAPI app with only the CDS Hooks router (to test or benchmark it alone).

    Who may call it comes from ``auth``, else from ``ALLCARE_CDS_TRUSTED_ISSUERS`` /
    ``ALLCARE_CDS_ALLOW_ANONYMOUS``.
    """
    from ...settings import CdsAuthSettings

    tune_garbage_collector()
    app = FastAPI(title="allcare CDS Hooks", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.cds_settings = settings = settings or CdsSettings()
    app.state.cds_auth = auth or CdsAuth.from_settings(
        CdsAuthSettings(), f"{settings.allcare_url.rstrip('/')}/cds-services/{SERVICE_ID}")
    app.include_router(router)
    app.add_middleware(CorsForCdsHooks)
    return app
