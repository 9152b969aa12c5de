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
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import orjson
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ...clock import assessment_date
from ...engine import assess
from ...serving import tune_garbage_collector
from ...engine.rules import DEFAULT_RULES, RuleSet
from ..fhir import FhirInputError, import_resources
from ..json_steps import CDS_REQUEST_DEPTH, loads_in_steps
from .auth import CdsAuth, require_cds_client
from ..fhir.reader import ContentCache
from .cards import assessment_cards
from .fetch import FetchError, FetchSettings, fetch_one, fill
from .models import CdsResponse, Discovery, HookRequest, ServiceDescription

SERVICE_ID = "all-assessment"
HOOK = "patient-view"
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "medications": "MedicationAdministration?patient={{context.patientId}}",
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
    # An EHR sends the same resources each time the chart opens: resources already validated are
    # kept by content, and so is the assessment of an unchanged set (the same resources and rule
    # set always give the same assessment; only the cards' hook instance differs).
    validated: ContentCache = field(default_factory=ContentCache)
    assessed: ContentCache = field(default_factory=lambda: ContentCache(size=256))

    def may_fetch_from(self, server: str) -> bool:
        if self.allowed_fhir_servers is None:
            return True
        return server.rstrip("/") in {s.rstrip("/") for s in self.allowed_fhir_servers}

    def patient_url(self, patient_id: str) -> str:
        """allcare's patient list searched for the EHR's patient id (the record's identifier once imported)."""
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
async def cds_all_assessment(request: Request, client: dict | None = Depends(require_cds_client)) -> JSONResponse:
    """Assess the patient in context and answer with cards (the caller's JWT is checked first)."""
    settings = _settings(request)
    hook_request = await _read_request(request, settings)
    resources = await _gather(hook_request, settings)
    patient_id, assessment = await run_in_threadpool(_assessed, resources, settings)  # seconds of work: not here
    cards = assessment_cards(assessment, hook_request.hookInstance, settings.patient_url(patient_id))
    return JSONResponse(CdsResponse(cards=cards).model_dump(exclude_none=True))


def _assessed(resources: list[tuple[str, dict, str | None]], settings: CdsSettings) -> tuple[str, Any]:
    key = _content_key(resources, settings)
    known = settings.assessed.get(key) if key is not None else None
    if known is None:
        known = _import_and_assess(resources, settings)
        if key is not None:
            settings.assessed.put(key, known)
    return known


def _import_and_assess(resources: list[tuple[str, dict, str | None]], settings: CdsSettings) -> tuple[str, Any]:
    try:
        result = import_resources(resources, cache=settings.validated)
    except FhirInputError as error:
        raise _error(422, "the FHIR data for this patient cannot be imported", [str(p) for p in error.problems]) from None
    if result.failed:
        raise _error(422, "the FHIR data for this patient cannot be imported", [str(p) for p in result.problems])
    if len(result.patients) != 1:
        raise _error(422, f"expected the data of one patient, found {len(result.patients)}")
    imported = result.patients[0]
    return imported.patient_id, assess(imported.case, as_of=assessment_date(imported.case), rules=settings.rules)


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
    """Resources from the prefetch, fetching every missing key from the FHIR server."""
    prefetch = hook_request.prefetch or {}
    context = hook_request.context.model_dump(exclude_none=True)
    values: dict[str, Any] = {}
    missing = [key for key in PREFETCH if not _usable(prefetch.get(key))]
    for key in PREFETCH:
        if key not in missing:
            values[key] = prefetch[key]
    if missing:
        if not hook_request.fhirServer:
            raise _error(412, "prefetch data is missing and the request names no fhirServer to fetch it from",
                         [f"prefetch '{key}' ({PREFETCH[key]})" for key in missing])
        if not settings.may_fetch_from(hook_request.fhirServer):
            raise _error(412, f"prefetch data is missing and this service may not fetch from {hook_request.fhirServer} "
                              "(ALLCARE_CDS_FHIR_SERVERS); send the prefetch",
                         [f"prefetch '{key}' ({PREFETCH[key]})" for key in missing])
        token = hook_request.fhirAuthorization.access_token if hook_request.fhirAuthorization else None
        try:
            async with httpx.AsyncClient() as client:
                for key in missing:
                    values[key] = await fetch_one(client, hook_request.fhirServer, fill(PREFETCH[key], context), token, settings.fetch)
        except FetchError as error:
            raise _error(error.status, str(error)) from None
    patient = values["patient"]
    if not isinstance(patient, dict) or patient.get("resourceType") != "Patient":
        raise _error(422, "prefetch 'patient' is not a Patient resource")
    if patient.get("id") and patient["id"] != hook_request.context.patientId:
        raise _error(400, f"prefetch Patient/{patient['id']} is not the patient in context ({hook_request.context.patientId})")
    out: list[tuple[str, dict, str | None]] = [("prefetch.patient", patient, None)]
    for key in PREFETCH:
        if key == "patient":
            continue
        bundle = values[key]
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            raise _error(422, f"prefetch '{key}' is not a Bundle")
        for n, entry in enumerate(bundle.get("entry") or []):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict) or resource.get("resourceType") == "OperationOutcome":
                continue
            if (entry.get("search") or {}).get("mode") == "outcome":
                continue
            out.append((f"prefetch.{key}.entry[{n}]", resource, entry.get("fullUrl")))
    return out


def _usable(value: Any) -> bool:
    """A prefetch value the client actually filled (CDS Hooks 2.0 allows null or an OperationOutcome)."""
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
    return app
