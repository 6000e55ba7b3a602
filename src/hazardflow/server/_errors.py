"""The errors only the HTTP service raises, in the same tree as the engine's (``HazardflowError``)::

    HazardflowError
    ├── AuthenticationFailed             hazardflow.authentication_failed      401
    ├── AccessDenied                     hazardflow.access_denied              403
    ├── IdempotencyKeyReused             hazardflow.idempotency_key_reused     422
    └── IdempotencyKeyInFlight           hazardflow.idempotency_key_in_flight  409

A custom :class:`~hazardflow.server.Authenticator` raises :class:`AuthenticationFailed` for a request it
cannot vouch for; the service answers 401 with the reason (never the token).
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from .._exceptions import HazardflowError

__all__ = ["AccessDenied", "AuthenticationFailed", "IdempotencyKeyInFlight", "IdempotencyKeyReused"]


@attrs.define(auto_exc=True, eq=False)
class AuthenticationFailed(HazardflowError):
    """The request does not say who is calling in a way the service can verify (身份认证失败)."""

    code: ClassVar[str] = "hazardflow.authentication_failed"

    #: ``bearer`` (a JWT), ``gateway`` (trusted-gateway headers) or ``none`` (no authenticator is configured).
    scheme: str
    reason: str

    def _format(self) -> str:
        return f"authentication failed (身份认证失败) [{self.scheme}]: {self.reason}"


@attrs.define(auto_exc=True, eq=False)
class AccessDenied(HazardflowError):
    """The caller is authenticated but may not read this resource (无权查看)."""

    code: ClassVar[str] = "hazardflow.access_denied"

    actor_id: str
    resource: str
    reason: str

    def _format(self) -> str:
        return f"actor {self.actor_id!r} may not read {self.resource} (无权查看): {self.reason}"


@attrs.define(auto_exc=True, eq=False)
class IdempotencyKeyReused(HazardflowError):
    """An Idempotency-Key was already used for a different request (幂等键已用于其他请求)."""

    code: ClassVar[str] = "hazardflow.idempotency_key_reused"

    key: str
    scope: str

    def _format(self) -> str:
        return (
            f"the Idempotency-Key {self.key!r} was already used for a different request on {self.scope} "
            "(幂等键已用于其他请求); use a new key for a new request"
        )


@attrs.define(auto_exc=True, eq=False)
class IdempotencyKeyInFlight(HazardflowError):
    """A request with this Idempotency-Key is still being processed (幂等键对应的请求仍在处理中)."""

    code: ClassVar[str] = "hazardflow.idempotency_key_in_flight"

    key: str
    scope: str

    def _format(self) -> str:
        return (
            f"a request with the Idempotency-Key {self.key!r} on {self.scope} is being processed right now "
            "(请求仍在处理中); retry in a moment to receive its result"
        )
