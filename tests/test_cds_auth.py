"""CDS Hooks 2.0 security: only a CDS client (EHR) with a trusted, signed JWT may call the service.

The EHR's keys are made here (EC P-384, ES384 as CDS Hooks 2.0 asks clients to
support) and published as a JWK Set file; the service is the real app on a real
server on loopback.
"""

from __future__ import annotations

import json
import socket
import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from allcare.interop.cdshooks import CdsSettings, create_app
from allcare.interop.cdshooks.auth import JWKS_REFRESH_SECONDS, JWKS_RETRY_AFTER_FAILURE_SECONDS, CdsAuth, CdsAuthError
from fhir_helpers import ServerThread

ISSUER = "https://ehr.example.org"
SERVICE = "https://allcare.example.org/cds-services/all-assessment"


class Ehr:
    """A CDS client: its key pair, its JWK Set file, and JWTs signed with its key."""

    def __init__(self, directory, kid="ehr-key-1"):
        self.key = ec.generate_private_key(ec.SECP384R1())
        self.kid = kid
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = directory / f"{kid}.jwks.json"
        self.jwks.write_text(json.dumps({"keys": [{**jwk, "kid": kid, "use": "sig", "alg": "ES384"}]}))

    def token(self, **override) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": "ehr-client", "aud": SERVICE, "iat": now, "exp": now + 300,
                  "jti": str(uuid.uuid4())}
        headers = {"kid": self.kid, **override.pop("headers", {})}
        claims.update(override)
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, self.key, algorithm="ES384",
                          headers=headers)


@pytest.fixture(scope="module")
def ehr(tmp_path_factory):
    return Ehr(tmp_path_factory.mktemp("ehr"))


@pytest.fixture(scope="module")
def service(ehr):
    auth = CdsAuth(issuers={ISSUER: str(ehr.jwks)}, audiences=(SERVICE, SERVICE.rsplit("/", 1)[0]))
    with ServerThread(create_app(CdsSettings(allcare_url="https://allcare.example.org"), auth=auth)) as server:
        yield server


def call(service, token=None, body=None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = body or {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
                    "context": {"userId": "Practitioner/1", "patientId": "p-1"}}
    return httpx.post(f"{service.url}/cds-services/all-assessment", json=body, headers=headers, timeout=60)


def test_a_call_with_the_trusted_clients_signed_jwt_is_served(service, ehr):
    response = call(service, ehr.token())
    assert response.status_code == 412  # authenticated: it gets as far as asking for the prefetch


def test_an_anonymous_call_is_refused_without_its_body_being_read(service):
    """A 64 MB anonymous request is answered 401 after its headers: the server never reads the body."""
    with socket.create_connection(("127.0.0.1", service.port)) as connection:
        connection.sendall(b"POST /cds-services/all-assessment HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           b"Content-Length: 67108864\r\n\r\n" + b"{" * 65536)
        connection.settimeout(10)
        answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 401")
    assert b"WWW-Authenticate" in answer or b"www-authenticate" in answer


@pytest.mark.parametrize("override, reason", [
    ({"iss": "https://other-ehr.example.org"}, "not a trusted CDS client"),
    ({"aud": "https://elsewhere.example.org/cds-services/x"}, "Audience"),
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 3900}, "expired"),
    ({"exp": int(time.time()) + 86400}, "at most 300 seconds"),
    ({"jti": None}, "jti"),
    ({"headers": {"kid": "unknown-key"}}, "kid"),
    ({"headers": {"jku": "https://attacker.example.org/jwks.json"}}, "jku"),
])
def test_a_jwt_that_fails_a_check_is_refused_saying_which(service, ehr, override, reason):
    response = call(service, ehr.token(**override))
    assert response.status_code == 401 and reason in response.text


def test_a_jwt_signed_by_another_key_or_unsigned_is_refused(service, ehr, tmp_path):
    impostor = Ehr(tmp_path)  # same kid, another key
    assert call(service, impostor.token()).status_code == 401
    now = int(time.time())
    unsigned = jwt.encode({"iss": ISSUER, "aud": SERVICE, "iat": now, "exp": now + 60, "jti": "x"}, key=None,
                          algorithm="none", headers={"kid": ehr.kid})
    assert call(service, unsigned).status_code == 401
    shared = jwt.encode({"iss": ISSUER, "aud": SERVICE, "iat": now, "exp": now + 60, "jti": "y"},
                        key="k" * 32, algorithm="HS256", headers={"kid": ehr.kid})
    assert call(service, shared).status_code == 401


def test_a_replayed_jwt_is_refused(service, ehr):
    token = ehr.token()
    assert call(service, token).status_code == 412
    replay = call(service, token)
    assert replay.status_code == 401 and "used before" in replay.text


def test_anonymous_calls_only_when_enabled_for_a_demo(tmp_path):
    with ServerThread(create_app(CdsSettings(), auth=CdsAuth(allow_anonymous=True))) as server:
        assert call(server).status_code == 412
    with ServerThread(create_app(CdsSettings(), auth=CdsAuth())) as server:  # nobody trusted: nobody served
        assert call(server).status_code == 401


def test_the_web_app_reads_trusted_issuers_from_its_settings(settings, store, ehr):
    from fastapi.testclient import TestClient

    from allcare.web.app import create_app as create_web_app

    configured = settings.model_copy(update={"cds_trusted_issuers": {ISSUER: str(ehr.jwks)},
                                             "public_url": "https://allcare.example.org"})
    client = TestClient(create_web_app(configured, store=store))
    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()), "context": {"userId": "u", "patientId": "p"}}
    assert client.post("/cds-services/all-assessment", json=body).status_code == 401
    signed = client.post("/cds-services/all-assessment", json=body, headers={"Authorization": f"Bearer {ehr.token()}"})
    assert signed.status_code == 412


class JwksServer:
    """An issuer's JWK Set over HTTP on loopback, counting how often it is fetched."""

    def __init__(self, ehr: Ehr):
        import http.server
        import threading

        self.jwks, self.fetches, self.down = ehr.jwks.read_bytes(), 0, False
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.fetches += 1
                if outer.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(outer.jwks)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def test_tokens_naming_unknown_keys_do_not_make_the_service_fetch_the_issuers_keys_each_time(ehr, tmp_path):
    """Anyone may send an unsigned token with a trusted ``iss`` and a made-up ``kid``: the issuer's JWK Set
    is fetched again for an unknown kid (keys are rotated), but at most once a minute, so such a flood
    neither hammers the EHR's key server nor ties up the service's threads waiting for it."""
    keys = JwksServer(ehr)
    try:
        auth = CdsAuth(issuers={ISSUER: keys.url}, audiences=(SERVICE,))
        now = time.time()
        auth.verify(ehr.token(), now=now)
        forger = Ehr(tmp_path, kid="not-a-key")
        for number in range(30):
            with pytest.raises(Exception, match="kid"):
                auth.verify(forger.token(headers={"kid": f"made-up-{number}"}), now=now + number)
        assert keys.fetches <= 2, f"the JWK Set was fetched {keys.fetches} times for 30 forged tokens"
        rotated = Ehr(tmp_path, kid="ehr-key-2")  # the EHR rotates its key: its next token is accepted
        keys.jwks = rotated.jwks.read_bytes()
        assert auth.verify(rotated.token(), now=now + 120)["iss"] == ISSUER
    finally:
        keys.close()


def test_an_issuer_whose_key_server_is_down_is_not_asked_again_by_every_request(ehr):
    """Once the cached JWK Set has expired and the issuer's key server fails, requests are refused (401)
    without each one fetching again (each fetch may hold a thread for its whole timeout): the set is
    asked for again only after a pause; when the server is back, tokens are accepted again."""
    keys = JwksServer(ehr)
    try:
        auth = CdsAuth(issuers={ISSUER: keys.url}, audiences=(SERVICE,))
        now = time.time()
        auth.verify(ehr.token(), now=now)
        keys.down = True
        expired = now + JWKS_REFRESH_SECONDS + 1
        for second in range(20):
            with pytest.raises(CdsAuthError, match="JWK Set"):
                auth.verify(ehr.token(), now=expired + second)
        assert keys.fetches == 2, f"the JWK Set was fetched {keys.fetches - 1} times for 20 requests while down"
        keys.down = False
        assert auth.verify(ehr.token(), now=expired + JWKS_RETRY_AFTER_FAILURE_SECONDS + 1)["iss"] == ISSUER
    finally:
        keys.close()
