"""Upload of a whole case file (``allcare.case/1``, JSON or YAML) as a new patient."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ...interop.casefile import MAX_CASE_FILE_BYTES, CaseFileError, case_from_text
from ...store.cases import import_case
from ...store.errors import Conflict
from ...store.patients import display_name_problem
from ..deps import Clinician, get_store
from .common import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _form(request: Request, problems: list[str], display_name: str = "", status: int = 200) -> Response:
    return render(request, "upload.html", {"problems": problems, "display_name": display_name,
                                           "max_mb": MAX_CASE_FILE_BYTES // (1024 * 1024)}, status_code=status)


@router.get("/patients/import")
def upload_form(request: Request, who: Clinician) -> Response:
    return _form(request, [])


@router.post("/patients/import")
async def upload(request: Request, who: Clinician) -> Response:
    form = await request.form()
    upload_file, display_name = form.get("file"), form.get("display_name")
    display_name = display_name.strip()[:200] if isinstance(display_name, str) else ""
    unstorable = display_name_problem(display_name)
    if unstorable:
        return _form(request, [f"The display name {unstorable}."], "", 422)
    if not isinstance(upload_file, UploadFile) or not upload_file.filename:
        return _form(request, ["Choose a case file (JSON or YAML) to upload."], display_name, 422)
    raw = await upload_file.read(MAX_CASE_FILE_BYTES + 1)
    if len(raw) > MAX_CASE_FILE_BYTES:
        return _form(request, [f"The file is larger than {MAX_CASE_FILE_BYTES // (1024 * 1024)} MB."], display_name, 413)
    try:
        # Reading up to 50 MB of YAML takes seconds: in a worker thread, never on the event loop.
        case = await run_in_threadpool(case_from_text, raw.decode("utf-8"), upload_file.filename)
    except UnicodeDecodeError:
        return _form(request, ["The file is not UTF-8 text."], display_name, 422)
    except CaseFileError as error:
        return _form(request, [str(p) for p in error.problems], display_name, 422)
    except RecursionError:
        return _form(request, ["The file is nested too deeply."], display_name, 422)

    def store_it() -> int:
        with get_store(request).transaction() as session:
            return import_case(session, who.actor, case, display_name=display_name or None).id

    try:
        patient_id = await run_in_threadpool(store_it)
    except Conflict as error:
        existing = error.extra.get("patient_id")
        message = f"A patient with identifier {case.patient.id!r} is already in the store."
        return render(request, "upload.html", {"problems": [message], "display_name": display_name, "existing": existing,
                                               "max_mb": MAX_CASE_FILE_BYTES // (1024 * 1024)}, status_code=409)
    return RedirectResponse(f"/patients/{patient_id}?imported=1", status_code=303)
