"""Whole records as ``allcare.case/1`` case files: import (JSON body or file upload) and export."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ...engine.case import Case
from ...interop.casefile import MAX_CASE_FILE_BYTES, CaseFileError, case_from_text, dump_case
from ...store.cases import export_case, import_case
from ...store.errors import InvalidRecord
from ..deps import Clinician, DbSession, PatientId, PatientReader
from .schemas import ConflictOut, PatientOut, patient_out

router = APIRouter(tags=["case files"])


# The body is read as bytes and validated in a worker thread (a case of thousands of findings takes
# tens of milliseconds of pydantic, which on the event loop would stall every other request); the
# OpenAPI document still describes it as a ``Case`` (the schema is added in ``create_app``).
CASE_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Case"}}}}}


def case_schemas() -> dict:
    """The ``Case`` schema and the schemas it refers to, as OpenAPI components."""
    schema = Case.model_json_schema(ref_template="#/components/schemas/{model}")
    return {**schema.pop("$defs", {}), "Case": schema}


def _case(body: bytes) -> Case:
    try:
        return Case.model_validate_json(body)
    except ValidationError as error:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]) from None


@router.post("/cases", response_model=PatientOut, status_code=201, responses={409: {"model": ConflictOut}}, openapi_extra=CASE_BODY)
async def import_json(request: Request, who: Clinician, db: DbSession) -> PatientOut:
    """Store a case file (JSON body) as a new patient; its ``patient.id`` must not exist yet."""
    case = await run_in_threadpool(_case, await request.body())
    return await run_in_threadpool(lambda: patient_out(import_case(db, who.actor, case)))


@router.post("/cases/upload", response_model=PatientOut, status_code=201, responses={409: {"model": ConflictOut}})
def import_upload(
    who: Clinician, db: DbSession, file: Annotated[UploadFile, File(description="case file, JSON or YAML")]
) -> PatientOut:
    """Store an uploaded case file (JSON or YAML, as ``allcare validate`` reads it)."""
    raw = file.file.read(MAX_CASE_FILE_BYTES + 1)
    if len(raw) > MAX_CASE_FILE_BYTES:
        raise InvalidRecord([("file", f"larger than {MAX_CASE_FILE_BYTES // (1024 * 1024)} MB")])
    try:
        case = case_from_text(raw.decode("utf-8"), file.filename or "upload")
    except UnicodeDecodeError:
        raise InvalidRecord([("file", "not UTF-8 text")]) from None
    except CaseFileError as error:
        raise InvalidRecord([(p.location or "file", p.message) for p in error.problems]) from None
    except RecursionError:
        raise InvalidRecord([("file", "nested too deeply")]) from None
    return patient_out(import_case(db, who.actor, case))


@router.get("/patients/{patient_id}/case", responses={200: {"content": {"application/json": {}, "application/yaml": {}}}, 404: {}})
def export(
    patient_id: PatientId,
    who: PatientReader,
    db: DbSession,
    format: Annotated[Literal["json", "yaml"], Query()] = "json",
) -> Response:
    """The whole record as an ``allcare.case/1`` file, with every value in the unit it was reported in."""
    case = export_case(db, who.actor, patient_id)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", case.patient.id)[:80] or "case"
    media = "application/json" if format == "json" else "application/yaml"
    return Response(dump_case(case, format), media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}.case.{format}"'})


