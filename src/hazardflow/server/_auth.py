"""Who is calling: an :class:`Authenticator` turns a request into an :class:`~hazardflow.Actor`.

hazardflow never owns identity. The host's identity provider (统一身份认证, an OA's SSO, Keycloak ...)
signs a token or a gateway vouches for the user; the service maps that onto an actor (id, name, roles,
organisation, jurisdiction) and lets the engine decide what the actor may do. Shipped:

* :class:`JwtAuthenticator` — ``Authorization: Bearer <JWT>`` signed with HS256/384/512 (a shared secret) or
  RS256/384/512, PS256, ES256/384 (the provider's public key); issuer, audience and expiry checked; the
  actor's fields read from claims named by a :class:`ClaimMap` (dotted paths reach nested claims).
* :class:`TrustedGatewayAuthenticator` — a reverse proxy that has already authenticated the user passes the
  actor in headers; believed only from the addresses configured (none by default).
* :class:`AnyOf` — the first of several that accepts the request.

Deny by default: an app built without an authenticator answers 401 to every request but the health check.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable
from urllib.parse import unquote

import attrs
from starlette.requests import Request

from .._exceptions import InvalidInput
from .._jurisdiction import canonical
from .._model import Actor
from ._errors import AuthenticationFailed

__all__ = [
    "AnyOf",
    "Authenticator",
    "ClaimMap",
    "DenyAll",
    "GatewayHeaders",
    "JwtAuthenticator",
    "TrustedGatewayAuthenticator",
    "actor_from_values",
]

#: The longest actor id accepted (it scopes idempotency keys, which the engine keeps to 200 characters).
MAX_ACTOR_ID = 64
_HMAC = ("HS256", "HS384", "HS512")
_PUBLIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


@runtime_checkable
class Authenticator(Protocol):
    """Turns a request into the actor making it, or raises :class:`~hazardflow.server.AuthenticationFailed`.

    Called on the event loop for every request but the health check: it must not block (verify a signature,
    read headers; fetch keys ahead of time, not per request).
    """

    def authenticate(self, request: Request) -> Actor:
        """The actor of ``request``; :class:`~hazardflow.server.AuthenticationFailed` when it cannot be verified."""
        ...


class DenyAll:
    """The authenticator of an app configured with none: every request is refused (deny by default)."""

    def authenticate(self, request: Request) -> Actor:
        """Always refuses."""
        raise AuthenticationFailed("none", "the service has no authenticator configured; every request is refused")


@attrs.frozen(kw_only=True)
class ClaimMap:
    """Which claim of a token holds each field of the actor (dotted paths reach nested claims).

    ``roles`` may be a list of strings or one string of roles separated by spaces or commas. A missing
    ``name`` falls back to the id; every other field is required.
    """

    id: str = "sub"
    name: str = "name"
    roles: str = "roles"
    org: str = "org"
    jurisdiction: str = "jurisdiction"

    @classmethod
    def from_pairs(cls, pairs: Iterable[str]) -> ClaimMap:
        """``["roles=realm_access.roles", "org=dept"]`` → a map with those fields changed."""
        changes: dict[str, str] = {}
        names = [a.name for a in attrs.fields(cls)]
        for pair in pairs:
            field, sep, claim = pair.partition("=")
            if not sep or field not in names or not claim:
                raise InvalidInput("claim", pair, "must be written FIELD=CLAIM", tuple(names))
            changes[field] = claim
        return cls(**changes)


@attrs.frozen(kw_only=True)
class GatewayHeaders:
    """The headers a trusted gateway sets (values percent-encoded UTF-8, roles separated by commas)."""

    id: str = "X-Hazardflow-Actor-Id"
    name: str = "X-Hazardflow-Actor-Name"
    roles: str = "X-Hazardflow-Actor-Roles"
    org: str = "X-Hazardflow-Actor-Org"
    jurisdiction: str = "X-Hazardflow-Actor-Jurisdiction"

    @classmethod
    def from_pairs(cls, pairs: Iterable[str]) -> GatewayHeaders:
        """``["id=X-User", "roles=X-Roles"]`` → headers with those fields changed."""
        changes: dict[str, str] = {}
        names = [a.name for a in attrs.fields(cls)]
        for pair in pairs:
            field, sep, header = pair.partition("=")
            if not sep or field not in names or not header:
                raise InvalidInput("gateway_header", pair, "must be written FIELD=HEADER", tuple(names))
            changes[field] = header
        return cls(**changes)


def _split_roles(value: Any) -> frozenset[str] | None:
    if isinstance(value, str):
        parts = value.replace(",", " ").split()
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        parts = [v.strip() for v in value]
    else:
        return None
    roles = frozenset(p for p in parts if p)
    return roles or None


def actor_from_values(values: Mapping[str, Any], scheme: str, where: Mapping[str, str]) -> Actor:
    """Build and check an actor from its raw values (``where`` names the claim/header of each, for messages).

    Refused (:class:`~hazardflow.server.AuthenticationFailed`): a missing or empty id, org or jurisdiction,
    no role, the reserved ``system`` role, a malformed jurisdiction code, an id over 64 characters.
    """

    def fail(field: str, rule: str) -> AuthenticationFailed:
        return AuthenticationFailed(scheme, f"{where[field]!r} (the actor's {field}) {rule}")

    actor_id = values.get("id")
    if not isinstance(actor_id, str) or not actor_id.strip():
        raise fail("id", "is missing or empty")
    if len(actor_id) > MAX_ACTOR_ID:
        raise fail("id", f"is longer than {MAX_ACTOR_ID} characters")
    name = values.get("name")
    if name is None:
        name = actor_id
    if not isinstance(name, str):
        raise fail("name", "must be a string")
    roles = _split_roles(values.get("roles"))
    if roles is None:
        raise fail("roles", "is missing or holds no role (a list of strings, or a string of roles)")
    if "system" in roles:
        raise fail("roles", "holds the reserved role 'system' (only the engine acts as the system)")
    org = values.get("org")
    if not isinstance(org, str) or not org.strip():
        raise fail("org", "is missing or empty")
    jurisdiction = values.get("jurisdiction")
    if not isinstance(jurisdiction, str) or not jurisdiction.strip():
        raise fail("jurisdiction", "is missing or empty")
    try:
        canonical(jurisdiction)
    except InvalidInput:
        raise fail("jurisdiction", f"is not an administrative-division code ({jurisdiction!r})") from None
    return Actor(actor_id, name, roles, org, jurisdiction)


def _dig(claims: Mapping[str, Any], path: str) -> Any:
    cur: Any = claims
    for part in path.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return None
        cur = cur[part]
    return cur


class JwtAuthenticator:
    """Bearer JWTs signed by the host's identity provider (PyJWT).

    ``key``: the shared secret (HS*, at least 32 bytes) or the provider's public key in PEM (RS*, PS*, ES*,
    EdDSA). ``algorithms``: the ones accepted, all of one family (a secret and a public key never mix, which
    rules out algorithm confusion; ``none`` is never accepted). ``issuer`` and ``audience``, when given, must
    match the ``iss`` and ``aud`` claims, which are then required; ``exp`` is always required.
    ``leeway``: seconds of clock skew tolerated on ``exp``/``nbf``/``iat``. ``claims``: where the actor's
    fields are (:class:`ClaimMap`).
    """

    def __init__(
        self,
        key: str | bytes,
        *,
        algorithms: Sequence[str] = ("HS256",),
        issuer: str | None = None,
        audience: str | Sequence[str] | None = None,
        claims: ClaimMap | None = None,
        leeway: float = 30.0,
    ) -> None:
        import jwt

        algs = tuple(algorithms)
        if not algs or any(a not in _HMAC + _PUBLIC for a in algs):
            raise InvalidInput("algorithms", list(algs), "unsupported JWT algorithm", _HMAC + _PUBLIC)
        if not (all(a in _HMAC for a in algs) or all(a in _PUBLIC for a in algs)):
            raise InvalidInput(
                "algorithms", list(algs), "secret (HS*) and public-key algorithms may not be accepted together"
            )
        if not key:
            raise InvalidInput("key", "", "a JWT key is required", show_value=False)
        if algs[0] in _HMAC and len(key.encode() if isinstance(key, str) else key) < 32:
            raise InvalidInput(
                "key", "<secret>", "an HMAC secret must be at least 32 bytes (RFC 7518 §3.2)", show_value=False
            )
        if not isinstance(leeway, int | float) or leeway < 0:
            raise InvalidInput("leeway", leeway, "must be a number of seconds >= 0")
        self._jwt = jwt
        self._key: Any = key
        if algs[0] in _PUBLIC:
            try:
                self._key = _load_public_key(key)
            except ValueError as exc:
                raise InvalidInput("key", "<key>", f"is not a PEM public key ({exc})", show_value=False) from None
        self.algorithms = algs
        self.issuer = issuer
        self.audience = audience
        self.claims = claims if claims is not None else ClaimMap()
        self.leeway = float(leeway)
        required = ["exp"] + (["iss"] if issuer else []) + (["aud"] if audience else [])
        self._options: dict[str, Any] = {"require": required, "verify_aud": audience is not None}

    def authenticate(self, request: Request) -> Actor:
        """The actor of the bearer token (see the class docstring for what is checked)."""
        jwt = self._jwt
        header = request.headers.get("authorization")
        if not header:
            raise AuthenticationFailed("bearer", "no Authorization header; send 'Authorization: Bearer <token>'")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationFailed("bearer", "the Authorization header is not 'Bearer <token>'")
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=list(self.algorithms),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options=self._options,
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationFailed("bearer", "the token has expired (exp)") from None
        except jwt.InvalidAudienceError:
            raise AuthenticationFailed("bearer", "the token is not meant for this service (aud)") from None
        except jwt.InvalidIssuerError:
            raise AuthenticationFailed("bearer", "the token was not issued by the configured issuer (iss)") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthenticationFailed("bearer", f"the token lacks the required claim {exc.claim!r}") from None
        except jwt.InvalidSignatureError:
            raise AuthenticationFailed("bearer", "the token's signature does not verify") from None
        except jwt.ImmatureSignatureError:
            raise AuthenticationFailed("bearer", "the token is not valid yet (nbf/iat)") from None
        except jwt.InvalidAlgorithmError:
            raise AuthenticationFailed(
                "bearer", f"the token's algorithm is not accepted; accepted: {', '.join(self.algorithms)}"
            ) from None
        except jwt.InvalidTokenError:
            raise AuthenticationFailed("bearer", "the token is malformed") from None
        c = self.claims
        values = {f: _dig(claims, getattr(c, f)) for f in ("id", "name", "roles", "org", "jurisdiction")}
        where = {f: f"claim {getattr(c, f)}" for f in values}
        return actor_from_values(values, "bearer", where)


def _load_public_key(key: str | bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    data = key.encode() if isinstance(key, str) else key
    return load_pem_public_key(data)


class TrustedGatewayAuthenticator:
    """Actors passed in headers by a reverse proxy that has already authenticated the user.

    ``trusted``: the addresses or networks (``10.0.0.5``, ``10.1.0.0/16``) of the gateways; a request from
    any other peer address is refused, whatever headers it carries. The peer is the TCP peer (the service is
    run without proxy-header rewriting). Header values are percent-encoded UTF-8 (``%E5%BC%A0`` …), roles
    separated by commas. Off unless configured: there is no default address.
    """

    def __init__(self, trusted: Iterable[str], *, headers: GatewayHeaders | None = None) -> None:
        nets = []
        for item in [trusted] if isinstance(trusted, str) else trusted:
            try:
                nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise InvalidInput(
                    "trusted", item, "must be an IP address or network (10.0.0.5, 10.1.0.0/16)"
                ) from None
        if not nets:
            raise InvalidInput("trusted", [], "name at least one gateway address; there is no default")
        self.trusted = tuple(nets)
        self.headers = headers if headers is not None else GatewayHeaders()

    def authenticate(self, request: Request) -> Actor:
        """The actor named by the gateway's headers, if the request comes from a trusted address."""
        host = request.client.host if request.client is not None else ""
        try:
            peer = ipaddress.ip_address(host)
        except ValueError:
            peer = None
        if peer is None or not any(peer in net for net in self.trusted):
            raise AuthenticationFailed("gateway", f"the peer address {host or 'unknown'!r} is not a trusted gateway")
        h = self.headers
        values: dict[str, Any] = {}
        for field in ("id", "name", "roles", "org", "jurisdiction"):
            raw = request.headers.get(getattr(h, field))
            if raw is None:
                values[field] = None
                continue
            try:
                values[field] = unquote(raw, errors="strict")
            except UnicodeDecodeError:
                raise AuthenticationFailed(
                    "gateway", f"header {getattr(h, field)!r} is not percent-encoded UTF-8"
                ) from None
        where = {f: f"header {getattr(h, f)}" for f in values}
        return actor_from_values(values, "gateway", where)


class AnyOf:
    """The actor from the first authenticator that accepts the request; refused with every reason otherwise."""

    def __init__(self, *authenticators: Authenticator) -> None:
        if not authenticators:
            raise InvalidInput("authenticators", [], "name at least one authenticator")
        self.authenticators = authenticators

    def authenticate(self, request: Request) -> Actor:
        """Try each in order."""
        failures: list[AuthenticationFailed] = []
        for auth in self.authenticators:
            try:
                return auth.authenticate(request)
            except AuthenticationFailed as exc:
                failures.append(exc)
        if len(failures) == 1:
            raise failures[0]
        raise AuthenticationFailed(
            "+".join(f.scheme for f in failures), "; ".join(f"{f.scheme}: {f.reason}" for f in failures)
        )
