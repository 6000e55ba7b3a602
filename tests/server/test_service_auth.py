"""Who is calling: JWT bearer tokens (HS256, RS256) and the trusted-gateway mode, denied by default.

Each refusal is a 401 problem naming the reason (never echoing the token) and nothing runs; the service
itself runs in a subprocess and is called over loopback, from 127.0.0.1 and from 127.0.0.2.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hazard_world import People
from server_support import AUDIENCE, CLI, ISSUER, JWT_ARGS, Service, claims_of, free_port, token

pytestmark = [pytest.mark.timeout(180)]


def refused(r: httpx.Response, *words: str) -> dict[str, Any]:
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"].startswith("Bearer")
    body = dict(r.json())
    assert body["code"] == "hazardflow.authentication_failed"
    assert body["type"] == "urn:hazardflow:problem:authentication-failed"
    for word in words:
        assert word in body["reason"], body["reason"]
    return body


@pytest.fixture(scope="module")
def hs(sqlite_url: str) -> Iterator[Service]:
    s = Service(sqlite_url, *JWT_ARGS)
    yield s
    s.stop()


def call(svc: Service, headers: dict[str, str], **kw: Any) -> httpx.Response:
    with httpx.Client(base_url=svc.base, timeout=30, **kw) as c:
        return c.get("/v1/cases", headers=headers)


def test_a_good_token_is_accepted(hs: Service) -> None:
    assert call(hs, {"Authorization": f"Bearer {token(People.officer)}"}).status_code == 200


def test_a_missing_token_is_refused(hs: Service) -> None:
    refused(call(hs, {}), "no Authorization header")
    refused(call(hs, {"Authorization": "Basic dXNlcjpwdw=="}), "not 'Bearer <token>'")
    refused(call(hs, {"Authorization": "Bearer"}), "not 'Bearer <token>'")


def test_an_expired_token_is_refused(hs: Service) -> None:
    t = token(People.officer, exp=int(time.time()) - 120, iat=int(time.time()) - 3600)
    body = refused(call(hs, {"Authorization": f"Bearer {t}"}), "expired")
    assert t not in str(body)


def test_a_forged_token_is_refused(hs: Service) -> None:
    forged = token(People.officer, key="another-secret-of-the-attacker-0123456789")
    refused(call(hs, {"Authorization": f"Bearer {forged}"}), "signature")
    head, _payload, sig = token(People.officer).split(".")
    claims = jwt.decode(token(People.officer), options={"verify_signature": False})
    claims["roles"] = ["supervisor"]  # a changed payload under the old signature
    tampered = jwt.encode(claims, "x" * 40, algorithm="HS256").split(".")[1]
    refused(call(hs, {"Authorization": f"Bearer {head}.{tampered}.{sig}"}), "signature")
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    refused(call(hs, {"Authorization": f"Bearer {unsigned}"}), "algorithm")
    refused(call(hs, {"Authorization": "Bearer not.a.jwt"}), "malformed")


def test_a_token_for_another_audience_or_issuer_is_refused(hs: Service) -> None:
    refused(call(hs, {"Authorization": f"Bearer {token(People.officer, aud='another-system')}"}), "aud")
    refused(call(hs, {"Authorization": f"Bearer {token(People.officer, aud=None)}"}), "'aud'")
    refused(call(hs, {"Authorization": f"Bearer {token(People.officer, iss='https://evil.example')}"}), "iss")
    refused(call(hs, {"Authorization": f"Bearer {token(People.officer, exp=None)}"}), "'exp'")


def test_claims_that_do_not_make_an_actor_are_refused(hs: Service) -> None:
    cases = [
        ({"roles": None}, "roles"),
        ({"roles": []}, "roles"),
        ({"roles": ["system"]}, "reserved role 'system'"),
        ({"jurisdiction": "12"}, "division code"),
        ({"org": ""}, "org"),
        ({"sub": "x" * 65}, "longer than 64"),
    ]
    for over, words in cases:
        refused(call(hs, {"Authorization": f"Bearer {token(People.officer, **over)}"}), words)
    ok = token(People.officer, roles="township_officer, supervisor")  # a string of roles is read too
    assert call(hs, {"Authorization": f"Bearer {ok}"}).status_code == 200


# ── RS256 and the trusted gateway ──────────────────────────────────────────────────────────────────────
@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def rs(sqlite_url: str, rsa_key: rsa.RSAPrivateKey, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    path = tmp_path_factory.mktemp("keys") / "idp.pem"
    path.write_bytes(pem)
    s = Service(
        sqlite_url,
        "--jwt-public-key",
        str(path),
        "--jwt-issuer",
        ISSUER,
        "--jwt-audience",
        AUDIENCE,
        "--jwt-claim",
        "roles=realm_access.roles",
        "--trusted-gateway",
        "127.0.0.2",
        "--host",
        "127.0.0.1",
    )
    yield s
    s.stop()


def hs256_by_hand(claims: dict[str, Any], key: bytes) -> str:
    """An HS256 JWT made without PyJWT (which refuses to use a public key as an HMAC secret)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    return signing_input + "." + b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


def rs_token(key: rsa.RSAPrivateKey, **over: Any) -> str:
    claims = claims_of(People.officer, **over)
    claims["realm_access"] = {"roles": claims.pop("roles")}
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return jwt.encode(claims, pem, algorithm="RS256")


def test_rs256_tokens_with_nested_role_claims(rs: Service, rsa_key: rsa.RSAPrivateKey) -> None:
    assert call(rs, {"Authorization": f"Bearer {rs_token(rsa_key)}"}).status_code == 200
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused(call(rs, {"Authorization": f"Bearer {rs_token(other)}"}), "signature")
    # Algorithm confusion: an HS256 token "signed" with the public key is refused.
    pub = rsa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    confused = hs256_by_hand(claims_of(People.officer), pub)
    body = refused(call(rs, {"Authorization": f"Bearer {confused}"}), "bearer")
    assert "gateway" in body["reason"]  # both ways were tried and both refused


GATEWAY = {
    "X-Hazardflow-Actor-Id": "t-liu",
    "X-Hazardflow-Actor-Name": quote("刘安办"),
    "X-Hazardflow-Actor-Roles": "township_officer",
    "X-Hazardflow-Actor-Org": quote("三星乡安办"),
    "X-Hazardflow-Actor-Jurisdiction": "500240204",
}


def test_the_gateway_is_believed_only_from_its_address(rs: Service) -> None:
    from_gateway = httpx.HTTPTransport(local_address="127.0.0.2")
    r = call(rs, GATEWAY, transport=from_gateway)
    assert r.status_code == 200, r.text
    body = refused(call(rs, GATEWAY), "127.0.0.1", "not a trusted gateway")
    assert body["scheme"] == "gateway+bearer"
    # From the gateway, the headers must still make an actor.
    bad = {**GATEWAY, "X-Hazardflow-Actor-Roles": "system"}
    refused(call(rs, bad, transport=httpx.HTTPTransport(local_address="127.0.0.2")), "reserved role")
    missing = {k: v for k, v in GATEWAY.items() if not k.endswith("-Id")}
    refused(call(rs, missing, transport=httpx.HTTPTransport(local_address="127.0.0.2")), "X-Hazardflow-Actor-Id")


def test_the_name_from_the_gateway_reaches_the_audit_log(rs: Service) -> None:
    from hazard_world import REGISTER

    with httpx.Client(base_url=rs.base, transport=httpx.HTTPTransport(local_address="127.0.0.2")) as c:
        r = c.post(
            "/v1/cases",
            headers=GATEWAY,
            json={"workflow": "hazard", "jurisdiction": "500240204", "fields": {**REGISTER, "grade": "general"}},
        )
        assert r.status_code == 201, r.text
        events = c.get(f"/v1/cases/{r.json()['id']}/history", headers=GATEWAY).json()
    assert events[0]["actor_name"] == "刘安办"
    assert events[0]["actor_org"] == "三星乡安办"


# ── deny by default ────────────────────────────────────────────────────────────────────────────────────
def test_serve_refuses_to_start_without_authentication(sqlite_url: str) -> None:
    out = subprocess.run(
        [CLI, "serve", "--url", sqlite_url, "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2
    assert "no authentication configured" in out.stderr


def test_an_app_built_without_an_authenticator_refuses_every_request(tmp_path: Path) -> None:
    port = free_port()
    script = textwrap.dedent(f"""
        import uvicorn
        from hazardflow import Engine
        from hazardflow.server import create_app
        uvicorn.run(create_app(Engine()), host="127.0.0.1", port={port}, log_level="warning")
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        for headers in ({}, {"Authorization": f"Bearer {token(People.officer)}"}, GATEWAY):
            body = refused(httpx.get(f"{base}/v1/cases", headers=headers), "no authenticator configured")
            assert body["scheme"] == "none"
    finally:
        proc.terminate()
        proc.wait(15)


def test_a_host_router_and_authenticator_plug_into_the_app() -> None:
    """tests/typing/server_usage.py (a host's own API-key authenticator and router), served by uvicorn."""
    port = free_port()
    typing_dir = Path(__file__).parents[1] / "typing"
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(typing_dir)!r})
        import uvicorn
        from server_usage import build
        uvicorn.run(build("x" * 40), host="127.0.0.1", port={port}, log_level="warning")
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        r = httpx.get(f"{base}/v1/extra/whoami", headers={"X-Api-Key": "k-1"})
        assert r.status_code == 200, r.text
        assert r.json()["id"] == "t-liu"
        assert "hazard" in r.json()["workflows"]
        body = refused(httpx.get(f"{base}/v1/extra/whoami", headers={"X-Api-Key": "wrong"}), "api-key")
        assert body["scheme"] == "gateway+bearer+api-key"
        assert httpx.get(f"{base}/v1/cases", headers={"X-Api-Key": "k-1"}).status_code == 200
        assert "/v1/extra/whoami" in httpx.get(f"{base}/openapi.json").json()["paths"]
    finally:
        proc.terminate()
        proc.wait(15)
