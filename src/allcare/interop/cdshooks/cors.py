"""CORS for the CDS Hooks endpoints, so that browser-based EHRs (SMART apps, CDS clients in a web page) can call them.

Only ``/cds-services`` paths get the headers, for any origin and without credentials:
the service reads nothing but what the request carries (and what it may fetch with
the request's own FHIR token), and cookies are never accepted for it. Preflight
requests (``OPTIONS``) are answered here, before any other middleware or route.
"""

from __future__ import annotations

PREFIX = "/cds-services"
ALLOWED_HEADERS = b"Authorization, Content-Type, Accept"
ALLOWED_METHODS = b"GET, POST, OPTIONS"


class CorsForCdsHooks:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            await send({"type": "http.response.start", "status": 204, "headers": [
                (b"access-control-allow-origin", b"*"), (b"access-control-allow-methods", ALLOWED_METHODS),
                (b"access-control-allow-headers", ALLOWED_HEADERS), (b"access-control-max-age", b"600"),
                (b"vary", b"Origin")]})
            await send({"type": "http.response.body", "body": b""})
            return

        async def with_cors(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"access-control-allow-origin", b"*"),
                                                  (b"access-control-expose-headers", b"Server-Timing")]}
            await send(message)

        await self.app(scope, receive, with_cors)
