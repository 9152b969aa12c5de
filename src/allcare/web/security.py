"""Browser-facing protections: security headers, CSRF, login throttling, and a log without patient data.

The middleware here is plain ASGI (no response buffering), so it adds almost
nothing to each request and works for streamed responses too.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from collections import defaultdict, deque
from http.cookies import SimpleCookie

from fastapi import HTTPException, Request
from itsdangerous import BadSignature, URLSafeSerializer

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}

# One policy for every page: scripts, styles, fonts and images only from this server
# (no CDN: the app must work without the internet), never framed by another site.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's interactive API docs load Swagger UI from a CDN and start it with an inline script.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/api/docs", "/api/redoc")


def _header(name: str, value: str) -> tuple[bytes, bytes]:
    return name.encode("latin-1"), value.encode("latin-1")


class SecurityHeadersMiddleware:
    """Adds CSP, no-sniff, frame and referrer headers; API answers are never cached."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        csp = DOCS_CONTENT_SECURITY_POLICY if path.startswith(DOCS_PATHS) else CONTENT_SECURITY_POLICY
        https = scope.get("scheme") == "https"

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [
                    _header("content-security-policy", csp),
                    _header("x-content-type-options", "nosniff"),
                    _header("x-frame-options", "DENY"),
                    _header("referrer-policy", "no-referrer"),
                    _header("cross-origin-opener-policy", "same-origin"),
                    _header("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()"),
                ]
                if path.startswith("/api/") and b"cache-control" not in present:
                    extra.append(_header("cache-control", "no-store"))
                if https:
                    extra.append(_header("strict-transport-security", "max-age=31536000"))
                headers += [item for item in extra if item[0] not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class CsrfCookieMiddleware:
    """Gives every browser a signed CSRF token cookie (double-submit pattern).

    The token is put in ``request.state.csrf_token`` for templates (hidden form
    field ``csrf_token`` or the ``X-CSRF-Token`` header); :func:`csrf_protect`
    compares what the form sends with the cookie. The cookie is signed with the
    secret key, so a cookie planted by another site or subdomain is rejected.
    """

    def __init__(self, app, secret_key: str, cookie_name: str, secure: str, samesite: str):
        self.app = app
        self.serializer = URLSafeSerializer(secret_key, salt="allcare-csrf")
        self.cookie_name = cookie_name
        self.secure = secure
        self.samesite = samesite

    def valid(self, value: str | None) -> bool:
        if not value:
            return False
        try:
            self.serializer.loads(value)
        except BadSignature:
            return False
        return True

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = _cookies(scope).get(self.cookie_name)
        fresh = None if self.valid(cookie) else self.serializer.dumps(secrets.token_urlsafe(24))
        scope.setdefault("state", {})["csrf_token"] = fresh or cookie
        scope["state"]["csrf_serializer"] = self

        async def with_cookie(message):
            if fresh and message["type"] == "http.response.start":
                secure = self.secure == "always" or (self.secure == "auto" and scope.get("scheme") == "https")
                value = f"{self.cookie_name}={fresh}; Path=/; HttpOnly; SameSite={self.samesite.capitalize()}"
                value += "; Secure" if secure else ""
                message = {**message, "headers": [*message.get("headers", []), _header("set-cookie", value)]}
            await send(message)

        await self.app(scope, receive, with_cookie)


def _cookies(scope) -> dict[str, str]:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie header is treated as none
                return {}
            return {key: morsel.value for key, morsel in jar.items()}
    return {}


BROWSER_FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}


async def csrf_protect(request: Request) -> None:
    """Reject a state-changing browser request that does not carry the CSRF token.

    Exempt are requests that carry no ambient credential a forged page could
    ride on: no session cookie and either a bearer token or a JSON body (which a
    cross-site form cannot send without a CORS preflight; allcare allows one only for the
    CDS Hooks service, which reads no session and allows no credentials).
    """
    if request.method in SAFE_METHODS:
        return
    settings = request.app.state.settings
    has_session = settings.session_cookie in request.cookies
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    has_bearer = request.headers.get("authorization", "").lower().startswith("bearer ")
    if not has_session and (has_bearer or content_type not in BROWSER_FORM_TYPES):
        return
    expected = request.cookies.get(settings.csrf_cookie)
    supplied = request.headers.get("x-csrf-token")
    if supplied is None and content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.form()
        except Exception:  # noqa: BLE001 - an unreadable form has no token
            form = {}
        value = form.get("csrf_token")
        supplied = value if isinstance(value, str) else None
    checker = request.scope.get("state", {}).get("csrf_serializer")
    if not expected or not supplied or not hmac.compare_digest(expected, supplied) or (checker and not checker.valid(expected)):
        raise HTTPException(status_code=403, detail="CSRF token missing or wrong; reload the page and try again")


class LoginThrottle:
    """Slows password guessing: after N failures in a window, refuse for a while.

    Counted per username and per client address, so one attacker cannot try many
    accounts and many addresses cannot hammer one account. Kept in memory (one
    server process); a restart forgets it, which only shortens a lockout.
    """

    def __init__(self, max_failures: int, window_seconds: float, lockout_seconds: float):
        self.max_failures = max_failures
        self.window = window_seconds
        self.lockout = lockout_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> int:
        """Seconds until a login for these keys may be tried again (0: now)."""
        now = time.monotonic()
        with self._lock:
            waits = [self._locked_until.get(key, 0) - now for key in keys]
        return max(0, int(max(waits, default=0) + 0.999))

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                times = self._failures[key]
                times.append(now)
                while times and times[0] < now - self.window:
                    times.popleft()
                if len(times) >= self.max_failures:
                    self._locked_until[key] = now + self.lockout
                    times.clear()

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
                self._locked_until.pop(key, None)


access_log = logging.getLogger("allcare.access")


class AccessLogMiddleware:
    """One log line per request: method, route *template*, status, time.

    The template (``/api/v1/patients/{patient_id}``) is logged instead of the
    URL, and never the query string, so searches for a name or an identifier do
    not end up in log files.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def capture(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            access_log.info("%s %s %d %.1fms", scope.get("method"), route_template(scope), status["code"],
                            (time.perf_counter() - started) * 1000)


def route_template(scope) -> str:
    """The matched route with its mount prefix, e.g. ``/api/v1/patients/{patient_id}``.

    Routes of an included router know only their own part of the path; the
    prefix is the same number of leading segments of the concrete path.
    """
    template = getattr(scope.get("route"), "path", None)
    if not template:
        return "(no route)"
    segments = scope.get("path", "").split("/")
    own = len(template.split("/")) - 1
    prefix = "/".join(segments[: len(segments) - own]) if len(segments) > own else ""
    return prefix + template


def client_ip(request: Request) -> str | None:
    """The client address; X-Forwarded-For only when the settings say a trusted proxy sets it."""
    if request.app.state.settings.trust_proxy_headers:
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            return forwarded.split(",")[0].strip()[:64]
    return request.client.host if request.client else None
