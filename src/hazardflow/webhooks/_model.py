"""Subscriptions, deliveries and Standard Webhooks 1.0 signing (``v1``: HMAC-SHA256 over ``id.timestamp.body``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets as _secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import attrs

from .._exceptions import InvalidInput

__all__ = [
    "DELIVERY_STATUSES",
    "Delivery",
    "DeliveryStatus",
    "Outcome",
    "Subscription",
    "check_event_types",
    "check_secret",
    "check_url",
    "new_secret",
    "sign",
    "type_matches",
]

DeliveryStatus = Literal["pending", "delivered", "dead"]
#: pending (待投递: waiting for its next attempt), delivered (已投递: a 2xx came back), dead (死信: gave up).
DELIVERY_STATUSES: tuple[str, ...] = ("pending", "delivered", "dead")

_SECRET_PREFIX = "whsec_"
_TYPE = re.compile(r"^(\*|[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*(\.\*)?)$")


def new_secret(nbytes: int = 32) -> str:
    """A fresh random signing secret, ``whsec_`` + base64 of ``nbytes`` (24 to 64) random bytes."""
    if not isinstance(nbytes, int) or not 24 <= nbytes <= 64:
        raise InvalidInput("nbytes", nbytes, "a webhook secret has 24 to 64 random bytes (Standard Webhooks)")
    return _SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(nbytes)).decode("ascii")


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(_SECRET_PREFIX), validate=True)


def check_secret(secret: object) -> str:
    """``secret`` when it is ``whsec_`` + base64 of 24 to 64 bytes; else :class:`~hazardflow.InvalidInput`."""
    rule = "must be 'whsec_' followed by the base64 of 24 to 64 random bytes (Standard Webhooks)"
    if not isinstance(secret, str) or not secret.startswith(_SECRET_PREFIX):
        raise InvalidInput("secret", "<secret>", rule, show_value=False, hint="omit it to have one generated")
    try:
        key = _key(secret)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            "secret", "<secret>", rule + "; the part after 'whsec_' is not base64", show_value=False
        ) from None
    if not 24 <= len(key) <= 64:
        raise InvalidInput("secret", "<secret>", rule + f"; it decodes to {len(key)} bytes", show_value=False)
    return secret


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value ``v1,<base64 HMAC-SHA256(key, f"{msg_id}.{timestamp}.{body}")>``."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    mac = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def check_url(url: object) -> str:
    """``url`` when it is an absolute ``http``/``https`` URL with a host; else :class:`~hazardflow.InvalidInput`."""
    rule = "a webhook URL must be absolute http:// or https:// with a host"
    if not isinstance(url, str) or not url or len(url) > 2000 or any(c.isspace() for c in url):
        raise InvalidInput("url", url, rule + " (no spaces, at most 2000 characters)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("url", url, rule, ("http://host/path", "https://host/path"))
    if parts.username or parts.password:
        raise InvalidInput(
            "url", url, "a webhook URL must not carry a user name or password; the signature authenticates"
        )
    return url


def check_event_types(types: object) -> tuple[str, ...]:
    """Event type patterns (``hazard.register``, ``hazard.*``, ``todo.updated``, ``*``); empty means all."""
    if isinstance(types, str) or not isinstance(types, Sequence | set | frozenset):
        raise InvalidInput("event_types", types, "must be a list of event type patterns")
    out: list[str] = []
    for t in types:
        if not isinstance(t, str) or not _TYPE.match(t) or len(t) > 64:
            raise InvalidInput(
                "event_types",
                t,
                "an event type is dot-separated segments of letters, digits and '_', optionally ending in '.*', "
                "or '*' alone",
                ("hazard.register", "hazard.*", "todo.updated", "*"),
            )
        if t not in out:
            out.append(t)
    return tuple(sorted(out))


def type_matches(patterns: Sequence[str], event_type: str) -> bool:
    """True when ``event_type`` matches one of ``patterns`` (an empty list matches every type)."""
    if not patterns:
        return True
    return any(p in ("*", event_type) or (p.endswith(".*") and event_type.startswith(p[:-1])) for p in patterns)


@attrs.frozen
class Subscription:
    """A webhook endpoint (订阅): where to POST, the ``whsec_`` secret to sign with, what to send.

    ``event_types`` are patterns (empty: everything); ``jurisdiction`` keeps only cases inside that division
    code's subtree (None: every case). ``active`` is False once the receiver answered 410 Gone.
    """

    id: str
    url: str
    secret: str = attrs.field(repr=False)
    event_types: tuple[str, ...]
    jurisdiction: str | None
    active: bool
    created_at: datetime
    disabled_reason: str | None = None

    def to_json(self, *, show_secret: bool = False) -> dict[str, Any]:
        """A JSON-ready dict; the secret only when ``show_secret`` (e.g. once, right after creating it)."""
        out: dict[str, Any] = {
            "id": self.id,
            "url": self.url,
            "event_types": list(self.event_types),
            "jurisdiction": self.jurisdiction,
            "active": self.active,
            "created_at": self.created_at.isoformat(),
            "disabled_reason": self.disabled_reason,
        }
        if show_secret:
            out["secret"] = self.secret
        return out


@attrs.frozen
class Delivery:
    """One message for one subscription (投递). ``id`` is the ``webhook-id``: the same on every retry.

    ``body`` is the exact JSON text that is signed and sent. ``status``: pending (待投递), delivered (已投递)
    or dead (死信: the retry window passed, or the receiver answered 410).
    """

    id: str
    subscription_id: str
    outbox_id: int
    case_id: str
    event_type: str
    body: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    first_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (timestamps ISO-8601)."""
        out: dict[str, Any] = {}
        for a in attrs.fields(Delivery):
            v = getattr(self, a.name)
            out[a.name] = v.isoformat() if isinstance(v, datetime) else v
        return out


@attrs.frozen
class Outcome:
    """The result of one attempt, for :meth:`WebhookStore.record`: delivered, or failed with the next attempt.

    ``retry_at`` None on a failure gives the delivery up (dead letter).
    """

    delivery_id: str
    at: datetime
    delivered: bool
    status_code: int | None = None
    retry_at: datetime | None = None
    error: str = ""
