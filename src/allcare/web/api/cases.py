"""Whole records as ``allcare.case/1`` case files: import (JSON body or file upload) and export."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Response, UploadFile

from ...engine.case import Case
from ...interop.casefile import MAX_CASE_FILE_BYTES, CaseFileError, case_from_text, dump_case
from ...store.cases import export_case, import_case
from ...store.errors import InvalidRecord
from ..deps import Clinician, DbSession, PatientId, PatientReader
from .schemas import ConflictOut, PatientOut, patient_out

router = APIRouter(tags=["case files"])


@router.post("/cases", response_model=PatientOut, status_code=201, responses={409: {"model": ConflictOut}})
def import_json(case: Case, who: Clinician, db: DbSession) -> PatientOut:
    """Store a case file (JSON body) as a new patient; its ``patient.id`` must not exist yet."""
    return patient_out(import_case(db, who.actor, case))


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


