"""Browser-facing protections: security headers, CSRF, login throttling, and a log without patient data.

The middleware here is plain ASGI (no response buffering), so it adds almost
nothing to each request and works for streamed responses too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

from fastapi import HTTPException, Request
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..caches import LRU
from ..settings import Settings

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}

# One policy for every page: scripts, styles, fonts and images only from this server
# (no CDN: the app must work without the internet), never framed by another site.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _header(name: str, value: str) -> tuple[bytes, bytes]:
    return name.encode("latin-1"), value.encode("latin-1")


class SecurityHeadersMiddleware:
    """Adds CSP, no-sniff, frame and referrer headers; API answers are never cached."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        csp = CONTENT_SECURITY_POLICY  # the API docs too (web/docs.py): no inline script, nothing third-party
        https = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
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


def is_secure(settings: Settings, scope: Scope) -> bool:
    """Whether cookies of this request are Secure: always, never, or when it arrived over TLS."""
    return settings.cookie_secure == "always" or (settings.cookie_secure == "auto" and scope.get("scheme") == "https")


def cookie_name(settings: Settings, base: str, scope: Scope) -> str:
    """Over TLS cookies carry the ``__Host-`` prefix: the browser then accepts them only from this
    exact host, Secure and for the whole site, so a sibling subdomain cannot plant or shadow them."""
    return f"__Host-{base}" if is_secure(settings, scope) else base


def session_token(request: Request) -> str | None:
    settings = request.app.state.settings
    return request.cookies.get(cookie_name(settings, settings.session_cookie, request.scope))


def csrf_for_session(secret_key: str, session: str) -> str:
    """The CSRF token of one browser session: only that session's pages know it."""
    return hmac.new(secret_key.encode(), b"allcare-csrf\0" + session.encode(), hashlib.sha256).hexdigest()


class CsrfCookieMiddleware:
    """Puts the request's CSRF token in ``request.state.csrf_token`` for templates and scripts.

    With a session, the token is bound to it (:func:`csrf_for_session`): a token
    minted for another session, the attacker's own for instance, is refused.
    Before login there is no session, so the login form uses a signed random
    token in a cookie (double submit); the signature stops a cookie planted by
    another site or subdomain. :func:`csrf_protect` compares what a form or the
    ``X-CSRF-Token`` header sends with the expected token.
    """

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.settings = settings
        self.serializer = URLSafeSerializer(settings.secret_key, salt="allcare-csrf")

    def valid(self, value: str | None) -> bool:
        if not value:
            return False
        try:
            self.serializer.loads(value)
        except BadSignature:
            return False
        return True

    def expected(self, scope: Scope, cookies: dict[str, str]) -> str | None:
        session = cookies.get(cookie_name(self.settings, self.settings.session_cookie, scope))
        if session:
            return csrf_for_session(self.settings.secret_key, session)
        cookie = cookies.get(cookie_name(self.settings, self.settings.csrf_cookie, scope))
        return cookie if self.valid(cookie) else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        name = cookie_name(self.settings, self.settings.csrf_cookie, scope)
        cookie = cookies.get(name)
        fresh = None if self.valid(cookie) else self.serializer.dumps(secrets.token_urlsafe(24))
        scope.setdefault("state", {})["csrf_token"] = self.expected(scope, cookies) or fresh
        scope["state"]["csrf_checker"] = self

        async def with_cookie(message: Message) -> None:
            if fresh and message["type"] == "http.response.start":
                value = f"{name}={fresh}; Path=/; HttpOnly; SameSite=Strict"
                value += "; Secure" if is_secure(self.settings, scope) else ""
                message = {**message, "headers": [*message.get("headers", []), _header("set-cookie", value)]}
            await send(message)

        await self.app(scope, receive, with_cookie)


def _cookies(scope: Scope) -> dict[str, str]:
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
    has_session = session_token(request) is not None
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    has_bearer = request.headers.get("authorization", "").lower().startswith("bearer ")
    if not has_session and (has_bearer or content_type not in BROWSER_FORM_TYPES):
        return
    checker: CsrfCookieMiddleware | None = request.scope.get("state", {}).get("csrf_checker")
    expected = checker.expected(request.scope, request.cookies) if checker else None
    supplied = request.headers.get("x-csrf-token")
    if supplied is None and content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            value = (await request.form()).get("csrf_token")
        except HTTPException:
            raise  # e.g. a body over the limit
        except Exception:  # noqa: BLE001 - an unreadable form has no token
            value = None
        supplied = value if isinstance(value, str) else None
    if not expected or not supplied or not hmac.compare_digest(expected, supplied):
        raise HTTPException(status_code=403, detail="CSRF token missing or wrong; reload the page and try again")


@dataclass
class _Attempts:
    failures: deque[float] = field(default_factory=deque)
    in_flight: int = 0
    strikes: int = 0
    locked_until: float = 0.0


class LoginThrottle:
    """Slows password guessing for one account from one address, without locking anyone else out.

    Counted per (username, client address): a shared proxy does not lock out
    everyone behind it, and guesses at the admin's password from one address do
    not lock the admin out from theirs. After ``max_failures`` failures within
    the window, that pair waits ``lockout`` seconds, doubling with every further
    lockout (up to a day). The check and the count are one step under a lock: a
    login in progress counts as a failure until it is known, so a burst of
    concurrent guesses gets no more tries than guesses made one by one. Kept in
    memory (one server process, bounded); a restart forgets it.
    """

    MAX_LOCKOUT = 24 * 3600

    def __init__(self, max_failures: int, window_seconds: float, lockout_seconds: float, size: int = 100_000):
        self.max_failures = max_failures
        self.window = window_seconds
        self.lockout = lockout_seconds
        self._pairs: LRU[str, _Attempts] = LRU(size)
        self._lock = threading.Lock()

    def begin(self, key: str) -> int:
        """Reserve one try for ``key``; returns 0 when it may go ahead, else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            attempts = self._pairs.get(key)
            if attempts is None:
                attempts = _Attempts()
                self._pairs.put(key, attempts)
            if attempts.locked_until > now:
                return int(attempts.locked_until - now + 0.999)
            while attempts.failures and attempts.failures[0] < now - self.window:
                attempts.failures.popleft()
            if len(attempts.failures) + attempts.in_flight >= self.max_failures:
                return 1  # other tries of this pair are being checked right now
            attempts.in_flight += 1
            return 0

    def end(self, key: str, succeeded: bool) -> None:
        """The outcome of a try reserved with :meth:`begin`."""
        now = time.monotonic()
        with self._lock:
            attempts = self._pairs.get(key) or _Attempts(in_flight=1)
            attempts.in_flight = max(0, attempts.in_flight - 1)
            if succeeded:
                attempts.failures.clear()
                attempts.strikes = 0
                return
            attempts.failures.append(now)
            if len(attempts.failures) >= self.max_failures:
                attempts.strikes += 1
                attempts.locked_until = now + min(self.lockout * 2 ** (attempts.strikes - 1), self.MAX_LOCKOUT)
                attempts.failures.clear()
            self._pairs.put(key, attempts)


# --- request bodies -------------------------------------------------------------------------------

KIB, MIB = 1024, 1024 * 1024
ANONYMOUS_BODY_LIMIT = 64 * KIB  # a login: nothing else may be sent without a credential
DEFAULT_BODY_LIMIT = 1 * MIB
# The routes that take more, (method, path prefix) -> bytes. One table, checked while reading.
BODY_LIMITS: dict[tuple[str, str], int] = {
    ("POST", "/api/v1/fhir/import"): 32 * MIB,
    ("POST", "/api/v1/cases"): 16 * MIB,  # a whole case file, JSON or an upload
    ("POST", "/patients/import"): 16 * MIB,
    ("POST", "/cds-services/"): 64 * MIB,
}


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int):
        super().__init__(413, f"the request body is over the limit of {limit:,} bytes for this route")


def body_limit(method: str, path: str, credentials: bool) -> int:
    """How many bytes a request may send: per route, and little without any credential."""
    if not credentials:
        return ANONYMOUS_BODY_LIMIT
    for (route_method, prefix), limit in BODY_LIMITS.items():
        if method == route_method and path.startswith(prefix):
            return limit
    return DEFAULT_BODY_LIMIT


class BodyLimitMiddleware:
    """Refuses a body over its route's limit while it is being read, before it is buffered anywhere.

    A declared ``Content-Length`` over the limit is answered 413 at once, without
    reading; a body sent in chunks is counted as it arrives and stopped at the
    limit. A credential is an ``Authorization`` header or a session cookie
    (checked later; its presence alone raises the limit).
    """

    def __init__(self, app: ASGIApp, session_cookie: str):
        self.app = app
        self.session_cookies = (session_cookie.encode(), f"__Host-{session_cookie}".encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        cookie = headers.get(b"cookie", b"")
        credentials = b"authorization" in headers or any(name + b"=" in cookie for name in self.session_cookies)
        limit = body_limit(scope.get("method", ""), scope.get("path", ""), credentials)
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _plain(send, 413, BodyTooLarge(limit).detail)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


async def _plain(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class OptionsMiddleware:
    """``OPTIONS`` answered with the methods the path allows (``Allow``), as HTTP asks.

    A CORS preflight (it carries ``Access-Control-Request-Method``) is left to
    whatever handles CORS; a path no route serves goes on to its 404.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "OPTIONS" or any(
                name == b"access-control-request-method" for name, _ in scope.get("headers", [])):
            await self.app(scope, receive, send)
            return
        routes = scope["app"].router.routes
        methods = {method for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
                   if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in routes)}
        if not methods:
            await self.app(scope, receive, send)
            return
        allow = ", ".join(sorted(methods | {"OPTIONS"}))
        await send({"type": "http.response.start", "status": 204, "headers": [(b"allow", allow.encode())]})
        await send({"type": "http.response.body", "body": b""})


access_log = logging.getLogger("allcare.access")


class AccessLogMiddleware:
    """One log line per request: method, route *template*, status, time.

    The template (``/api/v1/patients/{patient_id}``) is logged instead of the
    URL, and never the query string, so searches for a name or an identifier do
    not end up in log files.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            access_log.info("%s %s %d %.1fms", scope.get("method"), route_template(scope), status["code"],
                            (time.perf_counter() - started) * 1000)


def route_template(scope: Scope) -> str:
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
    """The client address; from X-Forwarded-For only when the settings say trusted proxies set it.

    Each proxy appends the address it received the request from, so with N
    trusted proxies the client is the N-th entry from the right; anything left of
    it was written by the client itself and proves nothing.
    """
    settings = request.app.state.settings
    peer = request.client.host if request.client else None
    if settings.trust_proxy_headers:
        entries = [part.strip() for header in request.headers.getlist("x-forwarded-for")
                   for part in header.split(",") if part.strip()]
        if len(entries) >= settings.trusted_proxies:
            return entries[-settings.trusted_proxies][:64]
    return peer
