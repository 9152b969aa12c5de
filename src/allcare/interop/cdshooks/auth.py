"""Who may call the CDS Hooks service: the CDS Hooks 2.0 security model (a signed JWT from the EHR).

Every call of the service carries ``Authorization: Bearer <JWT>``, signed by
the CDS client (the EHR) with its private key. The service accepts it when:

- ``iss`` is one of the configured trusted issuers (``ALLCARE_CDS_TRUSTED_ISSUERS``),
  and the signature verifies with that issuer's JWK Set (the key named by ``kid``),
  by an asymmetric algorithm (never ``none`` or a shared secret);
- ``aud`` is this service's URL (the service endpoint or the discovery URL);
- ``exp``, ``iat`` and ``jti`` are present, the token has not expired, lives
  at most five minutes (plus a minute's clock skew), and its ``jti`` was not
  seen before (a replayed token is refused);
- a ``jku`` header, when sent, is the issuer's configured JWK Set URL.

Without trusted issuers nobody may call; ``ALLCARE_CDS_ALLOW_ANONYMOUS=true``
opens the service to anonymous calls, for a demo on loopback only. The check
runs before the request body is read, so an anonymous caller cannot make the
server read 64 MB.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from fastapi import HTTPException, Request

from ...caches import LRU

ALGORITHMS = ["ES384", "RS384", "ES256", "RS256", "ES512", "RS512", "PS256", "PS384", "PS512"]
MAX_LIFETIME_SECONDS = 300
LEEWAY_SECONDS = 60
JWKS_REFRESH_SECONDS = 3600
# A token naming a key the issuer's JWK Set lacks fetches the set again (the issuer may have rotated its
# keys), at most this often per issuer: anyone can send an unsigned token with a trusted ``iss`` and a
# made-up ``kid``, and each must not cost a fetch from the EHR's key server and a thread waiting for it.
UNKNOWN_KID_REFRESH_SECONDS = 60
# After a failed fetch of an issuer's JWK Set (its key server down or slow), requests that need the set are
# refused at once for this long instead of each fetching again: every fetch may hold a thread for its whole
# timeout, so a key server that is down would otherwise tie up the service. Stale keys are not used instead:
# the issuer may have withdrawn them.
JWKS_RETRY_AFTER_FAILURE_SECONDS = 30
SEEN_TOKENS = 100_000


class CdsAuthError(Exception):
    """Why a call is refused (said in the 401 answer; it never quotes the token)."""


@dataclass
class CdsAuth:
    """The trusted CDS clients: ``issuers`` maps a JWT ``iss`` to its JWK Set (file path or https URL)."""

    issuers: dict[str, str] = field(default_factory=dict)
    allow_anonymous: bool = False
    audiences: tuple[str, ...] = ()
    _keys: dict[str, tuple[float, dict]] = field(default_factory=dict, repr=False)
    _refetched: dict[str, float] = field(default_factory=dict, repr=False)  # location -> when an unknown kid last refetched it
    _failed: dict[str, float] = field(default_factory=dict, repr=False)  # location -> when its last fetch failed
    _seen: LRU = field(default_factory=lambda: LRU(SEEN_TOKENS), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Any, service_url: str) -> CdsAuth:
        base = service_url.rstrip("/")
        return cls(issuers=dict(settings.cds_trusted_issuers), allow_anonymous=settings.cds_allow_anonymous,
                   audiences=(base, base.rsplit("/", 1)[0]))

    def verify(self, token: str, now: float | None = None) -> dict:
        """The token's claims when it is acceptable; :class:`CdsAuthError` saying why not."""
        now = time.time() if now is None else now
        try:
            header = jwt.get_unverified_header(token)
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            raise CdsAuthError("the bearer token is not a JWT") from None
        if issuer not in self.issuers:
            raise CdsAuthError("the JWT's issuer (iss) is not a trusted CDS client of this service")
        location = self.issuers[issuer]
        if header.get("jku") and header["jku"] != location:
            raise CdsAuthError("the JWT's jku is not the JWK Set configured for its issuer")
        if header.get("alg") not in ALGORITHMS:
            raise CdsAuthError(f"the JWT must be signed with one of {', '.join(ALGORITHMS)}")
        key = self._key(location, header.get("kid"), now)
        try:
            claims = jwt.decode(token, key=key, algorithms=ALGORITHMS, audience=list(self.audiences), issuer=issuer,
                                leeway=LEEWAY_SECONDS, options={"require": ["iss", "aud", "exp", "iat", "jti"]})
        except jwt.PyJWTError as error:
            raise CdsAuthError(f"the JWT is not valid: {error}") from None
        if claims["exp"] - claims["iat"] > MAX_LIFETIME_SECONDS + LEEWAY_SECONDS or claims["iat"] > now + LEEWAY_SECONDS:
            raise CdsAuthError(f"the JWT must be issued now and live at most {MAX_LIFETIME_SECONDS} seconds")
        seen = (issuer, str(claims["jti"]))
        with self._lock:
            if self._seen.get(seen) is not None:
                raise CdsAuthError("this JWT (jti) was used before; sign a new one for every call")
            self._seen.put(seen, claims["exp"])
        return claims

    def _key(self, location: str, kid: str | None, now: float):
        keys = self._jwks(location, now)
        if kid is None and len(keys) != 1:
            raise CdsAuthError("the JWT names no key (kid) and its issuer has several")
        if kid not in keys and kid is not None and now - self._refetched.get(location, -math.inf) >= UNKNOWN_KID_REFRESH_SECONDS:
            self._refetched[location] = now  # before fetching: requests arriving meanwhile do not fetch too
            keys = self._jwks(location, now, refresh=True)  # the issuer may have rotated its keys
        key = keys.get(kid) if kid is not None else next(iter(keys.values()))
        if key is None:
            raise CdsAuthError("the JWT's key (kid) is not in its issuer's JWK Set")
        return key

    def _jwks(self, location: str, now: float, refresh: bool = False) -> dict:
        cached = self._keys.get(location)
        if cached and not refresh and now - cached[0] < JWKS_REFRESH_SECONDS:
            return cached[1]
        failed = self._failed.get(location)
        if failed is not None and 0 <= now - failed < JWKS_RETRY_AFTER_FAILURE_SECONDS:
            raise CdsAuthError(f"the JWK Set of the JWT's issuer cannot be read (it failed {now - failed:.0f} s ago; "
                               f"it is asked for again {JWKS_RETRY_AFTER_FAILURE_SECONDS} s after a failure)")
        try:
            if location.startswith(("https://", "http://")):
                data = httpx.get(location, timeout=10).raise_for_status().json()
            else:
                data = json.loads(Path(location).read_text(encoding="utf-8"))
            keys = {item.get("kid"): jwt.PyJWK(item).key for item in data["keys"]}
        except (OSError, ValueError, KeyError, TypeError, httpx.HTTPError, jwt.PyJWTError):
            self._failed[location] = now
            raise CdsAuthError("the JWK Set of the JWT's issuer cannot be read") from None
        self._failed.pop(location, None)
        self._keys[location] = (now, keys)
        return keys


def require_cds_client(request: Request) -> dict | None:
    """FastAPI dependency of the service route: the verified JWT claims (None for an allowed anonymous call)."""
    auth: CdsAuth = getattr(request.app.state, "cds_auth", None) or CdsAuth()
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if not authorization:
        if auth.allow_anonymous:
            return None
        raise _refused("this CDS service needs a JWT signed by a trusted CDS client (Authorization: Bearer ...)")
    if scheme.lower() != "bearer" or not token.strip():
        raise _refused("send the JWT as 'Authorization: Bearer <JWT>'")
    try:
        return auth.verify(token.strip())
    except CdsAuthError as error:
        raise _refused(str(error)) from None


def _refused(message: str) -> HTTPException:
    return HTTPException(status_code=401, detail={"error": message, "problems": []},
                         headers={"WWW-Authenticate": 'Bearer realm="cds-services"'})
