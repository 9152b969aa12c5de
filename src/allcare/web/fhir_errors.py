"""Errors of the FHIR routes as FHIR OperationOutcome resources.

A FHIR client reads an OperationOutcome (``issue`` with severity, code and
diagnostics), not allcare's ``{"detail": ...}``. The REST API's error handlers stay
one home (:mod:`.errors`); this middleware only re-dresses their answers on the
FHIR paths, keeping the status code and every problem (with its field as the
issue's ``expression``).
"""

from __future__ import annotations

import re

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FHIR_JSON = "application/fhir+json"
_FHIR_PATHS = re.compile(r"^/api/v1/(fhir/|patients/[^/]+/\$everything$)")
# HTTP status -> OperationOutcome issue code (http://hl7.org/fhir/issue-type).
ISSUE_CODE = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported", 409: "conflict",
              412: "conflict", 413: "too-costly", 415: "not-supported", 422: "invalid", 429: "throttled", 503: "transient"}


def operation_outcome(status: int, detail: object) -> dict[str, object]:
    """An OperationOutcome for an error answer (``detail``: text, or the list of problems of a 422)."""
    code = ISSUE_CODE.get(status, "exception" if status >= 500 else "processing")
    issues: list[dict[str, str | list[str]]] = []
    if isinstance(detail, list):
        for item in detail:
            diagnostics = str(item.get("msg", item)) if isinstance(item, dict) else str(item)
            issue: dict[str, str | list[str]] = {"severity": "error", "code": code, "diagnostics": diagnostics}
            if isinstance(item, dict) and item.get("field"):
                issue["expression"] = [str(item["field"])]
            issues.append(issue)
    else:
        issues.append({"severity": "error", "code": code, "diagnostics": str(detail)})
    return {"resourceType": "OperationOutcome", "issue": issues or [{"severity": "error", "code": code}]}


class OperationOutcomeErrors:
    """Rewrites error responses (4xx/5xx with a JSON body) of the FHIR paths as OperationOutcome."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _FHIR_PATHS.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body = bytearray()

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] < 400:
                    start = None
                    await send(message)
                else:
                    start = message
                return
            if start is None:
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            try:
                parsed = orjson.loads(bytes(body))
                detail = parsed.get("detail", parsed) if isinstance(parsed, dict) else parsed
                if isinstance(parsed, dict) and parsed.get("resourceType") == "OperationOutcome":
                    new = bytes(body)
                else:
                    new = orjson.dumps(operation_outcome(start["status"], detail))
            except orjson.JSONDecodeError:
                new = orjson.dumps(operation_outcome(start["status"], bytes(body).decode("utf-8", "replace")))
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-length", b"content-type")]
            headers += [(b"content-type", FHIR_JSON.encode()), (b"content-length", str(len(new)).encode())]
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": new})

        await self.app(scope, receive, rewrite)
