"""Errors as problem details: one type and status per class, structured fields, nothing confidential."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import hazardflow
import hazardflow.server
from hazardflow import InvalidInput
from hazardflow.server._app import parse_idempotency_key
from hazardflow.server._problems import problem_body

ERRORS = [
    obj
    for mod in (hazardflow, hazardflow.server)
    for obj in (getattr(mod, n) for n in mod.__all__)
    if inspect.isclass(obj)
    and issubclass(obj, hazardflow.HazardflowError)
    and obj not in (hazardflow.CommandRefused, hazardflow.DefinitionError)
]


def test_import_hazardflow_does_not_import_the_service() -> None:
    code = (
        "import sys, hazardflow, hazardflow.testing; print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'starlette', 'uvicorn', 'jwt', 'pydantic') or m.startswith('hazardflow.server')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_every_error_class_is_one_problem_type_with_its_status() -> None:
    types = {hazardflow.server.problem_type(e.code) for e in ERRORS}
    assert len(types) == len(ERRORS)
    expected = {
        "InvalidInput": 422,
        "UnknownJurisdictionError": 422,
        "CaseNotFoundError": 404,
        "TransitionNotAllowed": 409,
        "NotAuthorized": 403,
        "GuardRejected": 409,
        "ConcurrentUpdateError": 409,
        "DatabaseUnavailable": 503,
        "DatabaseReadOnly": 503,
        "StorageFull": 503,
        "SchemaVersionError": 503,
        "AuthenticationFailed": 401,
        "AccessDenied": 403,
        "IdempotencyKeyReused": 422,
        "IdempotencyKeyInFlight": 409,
    }
    for cls in ERRORS:
        if cls.__name__ in expected:
            assert hazardflow.server.status_for(cls) == expected[cls.__name__], cls


def test_a_confidential_value_is_never_in_the_problem() -> None:
    err = InvalidInput("reporter_contact", "13900001111", "must be a phone number", show_value=False)
    body = problem_body(err)
    assert "13900001111" not in repr(body)
    assert body["field"] == "reporter_contact"
    assert "value" not in body


def test_a_database_error_shows_no_url_or_driver_text() -> None:
    err = hazardflow.DatabaseUnavailable("postgresql+psycopg://hf:pw@db.internal/hf", "connection refused: SELECT 1")
    body = problem_body(err)
    text = repr(body)
    for secret in ("pw", "db.internal", "SELECT", "connection refused"):
        assert secret not in text
    assert body["status"] == 503
    assert body["code"] == "hazardflow.database_unavailable"


def test_the_structured_fields_of_a_refusal_are_members() -> None:
    err = hazardflow.TransitionNotAllowed("HZ-1", "approve", "registered", "hazard", ("set_deadline", "void"))
    body = problem_body(err, instance="/v1/cases/HZ-1/fire")
    assert body["case_id"] == "HZ-1"
    assert body["allowed"] == ["set_deadline", "void"]
    assert body["instance"] == "/v1/cases/HZ-1/fire"
    assert body["detail"] == str(err)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ('"8e03978e-40d5-43e8-bc93-6894a57f9324"', "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ("8e03978e-40d5", "8e03978e-40d5"),
        ('"a \\"b\\" c"', 'a "b" c'),
        (None, None),
    ],
)
def test_idempotency_keys_are_structured_field_strings_or_tokens(raw: str | None, key: str | None) -> None:
    assert parse_idempotency_key(raw) == key


@pytest.mark.parametrize("raw", ['""', "a b", '"' + "x" * 129 + '"', '"unterminated', "é"])
def test_malformed_idempotency_keys_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_idempotency_key(raw)
    assert info.value.field == "Idempotency-Key"


def test_authenticator_settings_are_checked() -> None:
    from hazardflow.server import ClaimMap, JwtAuthenticator, TrustedGatewayAuthenticator

    with pytest.raises(InvalidInput, match="at least 32 bytes"):
        JwtAuthenticator("short")
    with pytest.raises(InvalidInput, match="together"):
        JwtAuthenticator("x" * 40, algorithms=["HS256", "RS256"])
    with pytest.raises(InvalidInput, match="unsupported JWT algorithm"):
        JwtAuthenticator("x" * 40, algorithms=["none"])
    with pytest.raises(InvalidInput, match="PEM public key"):
        JwtAuthenticator("not a key", algorithms=["RS256"])
    with pytest.raises(InvalidInput, match="no default"):
        TrustedGatewayAuthenticator([])
    with pytest.raises(InvalidInput, match="IP address"):
        TrustedGatewayAuthenticator(["gateway.local"])
    with pytest.raises(InvalidInput, match="FIELD=CLAIM"):
        ClaimMap.from_pairs(["role=roles"])
    assert ClaimMap.from_pairs(["roles=realm_access.roles"]).roles == "realm_access.roles"
