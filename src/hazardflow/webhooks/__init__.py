"""Signed webhooks from the outbox (Standard Webhooks 1.0), for OA systems that want to be told.

An engine built with ``outbox=True`` writes an outbox row with every event, in the event's transaction. A
:class:`WebhookDeliverer` (``hazardflow deliver``, or ``hazardflow worker --deliver``) hands each row to the
subscriptions that want it and POSTs a thin JSON message with the headers ``webhook-id`` (the same on every
retry), ``webhook-timestamp`` and ``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 of
``id.timestamp.body`` with the subscription's ``whsec_`` secret)::

    from hazardflow.webhooks import WebhookDeliverer, webhook_store

    hooks = webhook_store(engine.store)
    sub = hooks.add_subscription("https://oa.example.gov.cn/hooks/hazard", now=clock.now(),
                                 event_types=["hazard.*", "todo.updated"], jurisdiction="330106")
    print(sub.secret)                       # give it to the receiver once; it verifies every message with it
    with WebhookDeliverer(engine.store) as deliverer:
        deliverer.run()                     # until deliverer.stop()

Messages are ``{"type": "hazard.approve", "timestamp": "...", "data": {"case_id": ..., "state": ...}}`` and
``{"type": "todo.updated", ..., "data": <a to-do item>}``: ids, types and states, never the case's facts or a
tip-off's reporter. Delivery is at least once: a receiver de-duplicates by ``webhook-id``.
"""

from ._deliver import DeliveryReport, RetryPolicy, WebhookDeliverer, event_message, fan_out
from ._model import (
    DELIVERY_STATUSES,
    Delivery,
    Outcome,
    Subscription,
    check_event_types,
    check_secret,
    check_url,
    new_secret,
    sign,
    type_matches,
)
from ._store import MemoryWebhookStore, SqlWebhookStore, WebhookStore, webhook_store

__all__ = [
    "DELIVERY_STATUSES",
    "Delivery",
    "DeliveryReport",
    "MemoryWebhookStore",
    "Outcome",
    "RetryPolicy",
    "SqlWebhookStore",
    "Subscription",
    "WebhookDeliverer",
    "WebhookStore",
    "check_event_types",
    "check_secret",
    "check_url",
    "event_message",
    "fan_out",
    "new_secret",
    "sign",
    "type_matches",
    "webhook_store",
]
