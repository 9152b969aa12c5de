"""Error responses: every problem a client can cause gets a 4xx with a reason, never a 500.

- 422: ``{"detail": [{"loc": [...], "field": "body.wbc", "msg": "...", "type": "..."}]}``,
  the field path as a list (machine) and as text (person), one item per problem;
- 404 unknown record, 409 stale version (with ``current_version``) or duplicate;
- 500 only for a bug, logged by exception type and route, never with its
  message (a validation message can quote the value a user typed).
"""

from __future__ import annotations

import logging
import traceback

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError

from ..store.errors import Conflict, InvalidRecord, NotFound, StoreNotEmpty
from ..store.sqlite_writes import StoreBusy

log = logging.getLogger("allcare.web")

# Segments pydantic adds for validators and union members; they mean nothing to a user.
_NOISE_PREFIXES = ("function-", "json-or-python", "literal[", "lax-or-strict", "tagged-union", "nullable[", "union[")


def field_path(loc: list | tuple) -> list:
    """The location without pydantic's internal segments (``body.cbc.wbc.function-before[...]`` -> ``body.wbc``)."""
    from ..engine.case import FINDING_TYPES

    parts = []
    for index, part in enumerate(loc):
        if isinstance(part, str) and part.startswith(_NOISE_PREFIXES):
            continue
        if isinstance(part, str) and part in FINDING_TYPES and _after_finding(loc, index):
            continue  # the union tag pydantic inserts where a finding starts
        parts.append(part)
    return parts


def _after_finding(loc, index: int) -> bool:
    before = loc[index - 1] if index > 0 else None
    if before in ("body", "finding"):
        return True
    return isinstance(before, int) and index >= 2 and loc[index - 2] == "findings"


def _dotted(parts: list) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + str(part)
    return text


def problem(loc: list, message: str, kind: str) -> dict:
    return {"loc": loc, "field": _dotted(loc), "msg": message, "type": kind}


def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
    from ..engine.case.errors import user_errors

    items, seen = [], set()
    for item in user_errors(error.errors()):
        loc = field_path(item.get("loc", ()))
        message = str(item.get("msg", "invalid"))
        for prefix in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(prefix)
        key = (tuple(loc), message)
        if key not in seen:  # union members repeat the same complaint
            seen.add(key)
            items.append(problem(loc, message, str(item.get("type", "value_error"))))
    return JSONResponse(status_code=422, content=jsonable_encoder({"detail": items}))


def _invalid_record(request: Request, error: InvalidRecord) -> JSONResponse:
    items = [problem(["body", *([where] if where else [])], what, "invalid_record") for where, what in error.problems]
    return JSONResponse(status_code=422, content={"detail": items})


def _not_found(request: Request, error: NotFound) -> JSONResponse:
    return JSONResponse(status_code=404, content={"detail": str(error)})


def _conflict(request: Request, error: Conflict) -> JSONResponse:
    body = {"detail": str(error), "current_version": error.current_version, **error.extra}
    return JSONResponse(status_code=409, content=jsonable_encoder(body))


def _not_empty(request: Request, error: StoreNotEmpty) -> JSONResponse:
    return JSONResponse(status_code=409, content={"detail": str(error)})


def _integrity(request: Request, error: IntegrityError) -> JSONResponse:
    # Reached only when two requests race past the checks (e.g. the same identifier at once).
    return JSONResponse(status_code=409, content={"detail": "conflicts with data saved at the same moment; try again"})


def _data(request: Request, error: DataError) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": [problem(["body"], "a value cannot be stored (for example "
                                                                     "text containing a NUL character)", "data_error")]})


def _busy(request: Request, error: StoreBusy) -> JSONResponse:
    return JSONResponse(status_code=503, content={"detail": str(error)}, headers={"Retry-After": "1"})


INTERNAL_ERROR = {"detail": "internal error; it has been logged (without patient data)"}


def log_internal_error(scope, error: BaseException) -> None:
    """Log a bug by type, route and stack frames, never its message: a message can quote patient data."""
    from .security import route_template

    frames = "".join(traceback.format_tb(error.__traceback__))
    log.error("internal error %s in %s %s\n%s", type(error).__name__, scope.get("method"), route_template(scope),
              frames)


class InternalErrorMiddleware:
    """Turns an unhandled exception into a plain 500 *before* the server's own handler sees it.

    Starlette re-raises unhandled exceptions so that the ASGI server logs them with
    their message, which for a validation error includes the input (patient
    data). Caught here, they are logged by :func:`log_internal_error` instead.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as error:  # noqa: BLE001 - the last line of defence
            log_internal_error(scope, error)
            if not started:
                await JSONResponse(status_code=500, content=INTERNAL_ERROR)(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(InvalidRecord, _invalid_record)  # type: ignore[arg-type]
    app.add_exception_handler(NotFound, _not_found)  # type: ignore[arg-type]
    app.add_exception_handler(Conflict, _conflict)  # type: ignore[arg-type]
    app.add_exception_handler(StoreNotEmpty, _not_empty)  # type: ignore[arg-type]
    app.add_exception_handler(StoreBusy, _busy)  # type: ignore[arg-type]
    app.add_exception_handler(IntegrityError, _integrity)  # type: ignore[arg-type]
    app.add_exception_handler(DataError, _data)  # type: ignore[arg-type]
