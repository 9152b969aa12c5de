"""FHIR R4 in and out of the store: import a Bundle or NDJSON, export one patient as an mCODE-aligned Bundle."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures.process import BrokenProcessPool
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError

from ...interop.fhir import FhirInputError, bundle_json, import_resources
from ...interop.fhir.reader import bundle_entries, parse_json
from ...store import Actor, Store
from ...store.assessments import rules_of, run_engine
from ...store.cases import export_case, merge_case
from ...store.errors import Conflict, InvalidRecord
from ...store.identifiers import identifiers_of
from .. import workers
from ..deps import Clinician, DbSession, PatientId, PatientReader, QueryDate, store_of
from ..security import BODY_LIMITS

router = APIRouter(tags=["FHIR"])

# One request holds one Bundle in memory; a whole hospital export belongs on the
# command line (``allcare import fhir *.ndjson``), which streams.
MAX_IMPORT_BYTES = BODY_LIMITS[("POST", "/api/v1/fhir/import")]
FHIR_JSON = "application/fhir+json"
NDJSON_TYPES = ("application/fhir+ndjson", "application/ndjson", "application/x-ndjson")


class ImportedPatientOut(BaseModel):
    identifier: str = Field(description="the FHIR Patient id (the case file's patient.id)")
    patient_id: int | None = Field(description="the store's id; null when the patient failed")
    action: Literal["created", "updated", "unchanged", "failed"]
    findings_added: int = 0
    findings_replaced: int = 0
    problems: list[str] = Field(default_factory=list, description="why the patient failed (nothing of it stored)")
    not_mapped: list[dict] = Field(default_factory=list, description="resources that became no finding, with the reason")


class FhirImportOut(BaseModel):
    patients: list[ImportedPatientOut]
    counts: dict[str, int] = Field(description="patients per action")
    not_about_a_patient: dict = Field(description="the mapping report of resources that name no patient")


def _entries(body: bytes, content_type: str) -> list[tuple[str, dict, str | None]]:
    """(where, resource, fullUrl) from a Bundle / single resource, or from NDJSON lines."""
    if content_type in NDJSON_TYPES:
        entries = []
        for number, line in enumerate(body.splitlines(), start=1):
            if line.strip():
                where = f"line {number}"
                resource = parse_json(line, where, MAX_IMPORT_BYTES)
                entries += bundle_entries(resource, where)
        return entries
    return bundle_entries(parse_json(body, "body", MAX_IMPORT_BYTES), "body")


@router.post(
    "/fhir/import",
    response_model=FhirImportOut,
    responses={413: {}, 415: {}, 422: {}},
    openapi_extra={"requestBody": {"required": True, "content": {
        FHIR_JSON: {"schema": {"type": "object", "description": "a FHIR R4 Bundle or one resource"}},
        "application/json": {"schema": {"type": "object"}},
        "application/fhir+ndjson": {"schema": {"type": "string", "description": "one resource per line"}},
    }}},
)
async def import_fhir(request: Request, who: Clinician) -> FhirImportOut | Response:
    """Import FHIR R4 resources (a Bundle, one resource, or NDJSON lines) into the store.

    Each patient is stored whole or not at all, in a transaction of its own, and
    listed with what happened to it; importing the same resources again changes
    nothing (findings are matched by resource id). What could not be mapped is
    listed per resource.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in (FHIR_JSON, "application/json", *NDJSON_TYPES):
        return _problem(415, f"send {FHIR_JSON} (a Bundle or resource) or application/fhir+ndjson, not {content_type or 'no content type'}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_IMPORT_BYTES:
            return _problem(413, f"over {MAX_IMPORT_BYTES // (1024 * 1024)} MB; import large exports with "
                                 "'allcare import fhir FILE.ndjson', which streams")
    # Parsing, mapping and storing take seconds for a large Bundle: in the import worker process,
    # so neither the event loop nor the other requests of this server wait for it (web/workers.py).
    loop = asyncio.get_running_loop()
    try:
        answer = await loop.run_in_executor(workers.pool(), import_in_worker, store_of(request).url, who.actor,
                                            bytes(body), content_type)
    except BrokenProcessPool:
        workers.restart()
        return _problem(503, "the import worker stopped; each patient is stored whole or not at all, and an import "
                             "sent again changes nothing it already stored: send it again")
    if "problems" in answer:
        raise InvalidRecord([tuple(problem) for problem in answer["problems"]])
    return FhirImportOut.model_validate(answer)


def import_in_worker(url: str, actor: Actor, body: bytes, content_type: str) -> dict:
    """(In the worker process) the import's answer as JSON data, or ``{"problems": [...]}`` for bad input."""
    try:
        return _import(workers.store_for(url), actor, body, content_type).model_dump(mode="json")
    except InvalidRecord as error:
        return {"problems": [list(problem) for problem in error.problems]}


def _import(store: Store, actor: Actor, body: bytes, content_type: str) -> FhirImportOut:
    try:
        result = import_resources(_entries(body, content_type))
    except FhirInputError as error:
        raise InvalidRecord([(f"{p.resource}: {p.field}" if p.field else p.resource, p.message)
                             for p in error.problems]) from None
    out: list[ImportedPatientOut] = []
    for imported in result.patients:
        case, report = imported.case, imported.report
        not_mapped = [{"resource": e.resource, "status": e.status, "reason": e.reason} for e in report.not_mapped()]
        try:  # one transaction per patient: other writers are not held up behind the whole import
            with store.transaction() as session:
                merged = merge_case(session, actor, case, imported.identifiers)
        except (InvalidRecord, Conflict, IntegrityError) as error:
            if isinstance(error, InvalidRecord):
                problems = [f"{w}: {m}" for w, m in error.problems]
            elif isinstance(error, Conflict):
                problems = [str(error)]
            else:  # two imports created the same patient at once
                problems = ["conflicts with data saved at the same moment; import again"]
            out.append(ImportedPatientOut(identifier=case.patient.id, patient_id=None, action="failed",
                                          problems=problems, not_mapped=not_mapped))
            continue
        out.append(ImportedPatientOut(identifier=case.patient.id, patient_id=merged.patient.id, action=merged.action,
                                      findings_added=merged.added, findings_replaced=merged.replaced,
                                      not_mapped=not_mapped))
    for reference, failures in result.failed.items():
        out.append(ImportedPatientOut(identifier=reference, patient_id=None, action="failed",
                                      problems=[str(p) for p in failures]))
    counts = {action: sum(1 for p in out if p.action == action) for action in ("created", "updated", "unchanged", "failed")}
    return FhirImportOut(patients=out, counts=counts, not_about_a_patient=result.report.to_json())


def _problem(status: int, detail: str) -> Response:
    return Response(json.dumps({"detail": detail}), status_code=status, media_type="application/json")


@router.get("/patients/{patient_id}/$everything", responses={200: {"content": {FHIR_JSON: {}}}, 404: {}})
def everything(
    patient_id: PatientId,
    who: PatientReader,
    db: DbSession,
    as_of: Annotated[QueryDate | None, Query(description="assess as of this date (YYYY-MM-DD)")] = None,
    assessment: Annotated[bool, Query(description="include allcare's conclusions (CNS, response, phase ...)")] = True,
) -> Response:
    """The whole record as an mCODE-aligned FHIR R4 Bundle (``Patient/$everything`` style; see docs/fhir.md)."""
    case = export_case(db, who.actor, patient_id)
    result = run_engine(case, as_of, rules_of(db)) if assessment else None
    bundle = bundle_json(case, result, identifiers=identifiers_of(db, patient_id))
    return Response(orjson.dumps(bundle), media_type=FHIR_JSON)  # UTF-8; tens of MB for a long record


@router.get("/fhir/metadata", responses={200: {"content": {FHIR_JSON: {}}}})
def metadata(request: Request) -> Response:
    """The CapabilityStatement of allcare's FHIR endpoints (public, as FHIR servers serve it)."""
    from ... import __version__
    from ...interop.fhir.capability import capability_statement

    settings = request.app.state.settings
    base = (settings.public_url or str(request.base_url)).rstrip("/") + "/api/v1"
    return Response(json.dumps(capability_statement(base, __version__)), media_type=FHIR_JSON)


@router.get("/fhir/$export", responses={200: {"content": {"application/fhir+ndjson": {}}}, 400: {}})
def bulk_export(
    request: Request,
    who: Clinician,
    types: Annotated[str | None, Query(alias="_type", max_length=1000,
                                       description="comma-separated resource types to include (default: all)")] = None,
    assessment: Annotated[bool, Query(description="include allcare's conclusions")] = True,
) -> Response:
    """Every record as FHIR NDJSON (the Bulk Data ``$export`` content, answered at once and streamed).

    One patient is read, assessed and written at a time; ``_type`` keeps only some resource types.
    """
    from ...interop.fhir.bulk_export import patient_lines
    from ...interop.fhir.reader import model_class
    from ...store.cases import export_every_case

    wanted = {t.strip() for t in types.split(",") if t.strip()} if types else None
    unknown = sorted(t for t in wanted or () if model_class(t) is None)
    if unknown:
        return _problem(400, f"_type: unknown resource type(s) {', '.join(unknown)}")
    store = request.app.state.store

    def lines():
        for case, identifiers in export_every_case(store, who.actor):
            result = run_engine(case, rules=store.rule_set()) if assessment else None
            for rtype, line in patient_lines(case, result, identifiers):
                if wanted is None or rtype in wanted:
                    yield line

    return StreamingResponse(lines(), media_type="application/fhir+ndjson")
