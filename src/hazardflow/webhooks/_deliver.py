"""Delivering the outbox as signed webhooks: fan-out, claims, retries with back-off and jitter, dead letters."""

from __future__ import annotations

import os
import random
import socket
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from .._checks import aware_utc
from .._clock import SystemClock
from .._exceptions import InvalidInput
from .._jurisdiction import is_within
from ._model import Delivery, Outcome, Subscription, sign, type_matches
from ._store import webhook_store

if TYPE_CHECKING:
    import httpx

    from .._lifecycle import Workflow
    from .._model import AuditEvent, Case
    from ..abc import Clock
    from ..todos import TodoConfig

__all__ = ["DeliveryReport", "RetryPolicy", "WebhookDeliverer", "event_message", "fan_out"]

#: The Standard Webhooks example schedule after the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
_SCHEDULE = tuple(timedelta(seconds=s) for s in (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400))


def _check_delays(value: object) -> tuple[timedelta, ...]:
    out = tuple(value) if isinstance(value, list | tuple) else None
    if not out or not all(isinstance(d, timedelta) and d >= timedelta(0) for d in out):
        raise InvalidInput("schedule", value, "must be a non-empty list of timedeltas >= 0")
    return out


@attrs.frozen
class RetryPolicy:
    """When to try again after a failed attempt, and when to give up (dead letter, 死信).

    After attempt ``n`` failed, the next is ``schedule[n-1]`` later (the last delay repeats), stretched or
    shrunk by a random factor in ``[1 - jitter, 1 + jitter]`` so that many failed deliveries do not come back
    at the same instant. A delivery whose next attempt would fall more than ``dead_after`` after its first
    attempt is given up.
    """

    schedule: tuple[timedelta, ...] = attrs.field(default=_SCHEDULE, converter=_check_delays)
    jitter: float = 0.2
    dead_after: timedelta = timedelta(days=3)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.jitter, int | float) or not 0 <= self.jitter < 1:
            raise InvalidInput("jitter", self.jitter, "must be a fraction in [0, 1)")
        if not isinstance(self.dead_after, timedelta) or self.dead_after <= timedelta(0):
            raise InvalidInput("dead_after", self.dead_after, "must be a positive timedelta")

    def next_attempt(
        self, attempts: int, first_attempt_at: datetime, now: datetime, rng: random.Random | None = None
    ) -> datetime | None:
        """The instant of the next attempt after ``attempts`` failed ones, or None to give up."""
        base = self.schedule[min(max(attempts, 1), len(self.schedule)) - 1]
        factor = 1.0 + (rng or random).uniform(-self.jitter, self.jitter)
        at = now + base * factor
        if at - first_attempt_at > self.dead_after:
            return None
        return at


@attrs.define
class DeliveryReport:
    """What one round of :meth:`WebhookDeliverer.run_once` did."""

    fanned_out: int = 0
    queued: int = 0
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _body(kind: str, at: datetime, data: dict[str, Any]) -> str:
    return orjson.dumps({"type": kind, "timestamp": _iso(at), "data": data}).decode()


def event_message(case: Case, event: AuditEvent) -> tuple[str, str]:
    """``(type, body)`` of the thin webhook for one case event: ids, type and state, never case facts.

    The type is ``{workflow}.{trigger}`` (``hazard.approve``, ``tipoff.substantiate``); ``data`` holds the case
    id, workflow, event sequence number, trigger, event type, the states before and after, and the case's
    jurisdiction and owning tier. A receiver reads anything more through the authorised API.
    """
    kind = f"{event.workflow}.{event.trigger}"
    data = {
        "case_id": case.id,
        "workflow": event.workflow,
        "seq": event.seq,
        "trigger": event.trigger,
        "event": event.type,
        "from_state": event.from_state,
        "state": event.to_state,
        "jurisdiction": case.jurisdiction,
        "owning_jurisdiction": case.owning_jurisdiction,
    }
    return kind, _body(kind, event.occurred_at, data)


def _msg_id(outbox_id: int, sub: Subscription, part: int) -> str:
    return f"msg_{outbox_id}_{sub.id}_{part}"


def fan_out(
    store: Any,
    *,
    now: datetime,
    todo_config: TodoConfig | None = None,
    workflows: Iterable[Workflow] | None = None,
    limit: int = 500,
) -> tuple[int, int]:
    """Hand the outbox rows not yet fanned out to the active subscriptions; return ``(rows, deliveries)``.

    Each row becomes one message per matching subscription (type pattern and jurisdiction subtree) and,
    for subscriptions that take ``todo.updated``, one message per to-do item the event created or changed.
    A row is marked handed over in the transaction that queues its deliveries; two workers fanning out at
    once queue each message once (the message id is derived from the row, subscription and part).
    """
    from ..todos import TodoConfig, todos_for_event

    now = aware_utc("now", now)
    whs = webhook_store(store)
    rows = whs.pending_outbox(limit=limit)
    if not rows:
        return 0, 0
    subs = [s for s in whs.list_subscriptions() if s.active]
    config = todo_config or TodoConfig()
    wfs = list(workflows) if workflows is not None else None
    cases = {c.id: c for c in store.load_cases(list({r[1] for r in rows}))} if subs else {}
    events_of: dict[str, list[AuditEvent]] = {}
    batch: list[tuple[int, list[Delivery]]] = []
    for outbox_id, case_id, seq, _etype in rows:
        deliveries: list[Delivery] = []
        case = cases.get(case_id)
        if case is not None:
            events = events_of.get(case_id)
            if events is None:
                events = events_of[case_id] = store.load_events(case_id)
            ev = next((e for e in events if e.seq == seq), None)
            if ev is not None:
                kind, body = event_message(case, ev)
                todo_msgs: list[tuple[str, str]] | None = None
                for sub in subs:
                    if sub.jurisdiction is not None and not is_within(case.jurisdiction, sub.jurisdiction):
                        continue
                    msgs: list[tuple[str, str]] = []
                    if type_matches(sub.event_types, kind):
                        msgs.append((kind, body))
                    if type_matches(sub.event_types, "todo.updated"):
                        if todo_msgs is None:
                            items = todos_for_event(case, events, seq, config, workflows=wfs)
                            todo_msgs = [
                                ("todo.updated", _body("todo.updated", ev.occurred_at, i.to_json())) for i in items
                            ]
                        msgs.extend(todo_msgs)
                    for part, (mtype, mbody) in enumerate(msgs):
                        deliveries.append(
                            Delivery(
                                id=_msg_id(outbox_id, sub, part),
                                subscription_id=sub.id,
                                outbox_id=outbox_id,
                                case_id=case_id,
                                event_type=mtype,
                                body=mbody,
                                status="pending",
                                attempts=0,
                                created_at=now,
                                next_attempt_at=now,
                            )
                        )
        batch.append((outbox_id, deliveries))
    queued = whs.enqueue_many(batch, now)
    return len(rows), queued


def _retry_after(value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        seconds = int(value.strip())
    except ValueError:
        return None
    return timedelta(seconds=min(max(seconds, 0), 86400))


class WebhookDeliverer:
    """Sends the outbox's webhooks: fan-out, claim, sign, POST, record (投递工作进程).

    Each round (:meth:`run_once`) fans out new outbox rows, claims up to ``batch`` due deliveries with a
    ``lease``, POSTs them (``concurrency`` at a time, each within ``timeout`` seconds, redirects not
    followed) with the Standard Webhooks headers, and records the outcome: a 2xx marks it delivered; 410
    Gone disables the subscription and gives the delivery up; anything else (another status, a refused
    connection, a timeout) schedules the next attempt by ``retry`` (``Retry-After`` honoured on 429 and 503)
    or gives it up once past ``retry.dead_after``. Every attempt of one message carries the same
    ``webhook-id``; ``webhook-timestamp`` is the attempt's time. Several deliverers may share one database.
    """

    def __init__(
        self,
        store: Any,
        *,
        name: str | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 15.0,
        lease: timedelta = timedelta(seconds=60),
        batch: int = 50,
        concurrency: int = 4,
        client: httpx.Client | None = None,
        todo_config: TodoConfig | None = None,
        workflows: Iterable[Workflow] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        import httpx

        if not isinstance(timeout, int | float) or timeout <= 0:
            raise InvalidInput("timeout", timeout, "must be a positive number of seconds")
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise InvalidInput("batch", batch, "must be a positive integer")
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= 256:
            raise InvalidInput("concurrency", concurrency, "must be an integer from 1 to 256")
        if not isinstance(lease, timedelta) or lease.total_seconds() <= timeout:
            raise InvalidInput("lease", lease, f"must be a timedelta longer than the request timeout ({timeout} s)")
        self.store = store
        self.webhooks = webhook_store(store)
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.clock: Clock = clock or SystemClock()
        self.retry = retry or RetryPolicy()
        self.timeout = float(timeout)
        self.lease = lease
        self.batch = batch
        self.concurrency = concurrency
        self.todo_config = todo_config
        self.workflows = list(workflows) if workflows is not None else None
        self._rng = rng or random.Random()
        self._own_client = client is None
        self.client = client or httpx.Client(timeout=self.timeout, follow_redirects=False)
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="hf-deliver")
        self._stop = threading.Event()
        self._gone: set[str] = set()  # subscriptions found gone (410) in the current round

    def run_once(self) -> DeliveryReport:
        """One round: fan out, claim, send, record. Returns what it did."""
        report = DeliveryReport()
        now = self.clock.now()
        report.fanned_out, report.queued = fan_out(
            self.store, now=now, todo_config=self.todo_config, workflows=self.workflows
        )
        claimed = self.webhooks.claim(self.name, now, limit=self.batch, lease=self.lease)
        report.claimed = len(claimed)
        if not claimed:
            return report
        subs = {s.id: s for s in self.webhooks.list_subscriptions()}
        self._gone.clear()
        outcomes: Sequence[Outcome]
        if self.concurrency == 1 or len(claimed) == 1:
            outcomes = [self._send(d, subs.get(d.subscription_id)) for d in claimed]
        else:
            outcomes = list(self._pool.map(lambda d: self._send(d, subs.get(d.subscription_id)), claimed))
        # one transaction for the round's outcomes
        self.webhooks.record(outcomes)
        for o in outcomes:
            if o.delivered:
                report.delivered += 1
            elif o.retry_at is not None:
                report.retrying += 1
            else:
                report.dead += 1
        return report

    def _send(self, d: Delivery, sub: Subscription | None) -> Outcome:
        import httpx

        now = self.clock.now()
        if sub is None or not sub.active or sub.id in self._gone:
            why = "the subscription is disabled" if sub is not None else "the subscription was removed"
            return Outcome(d.id, now, delivered=False, error=why)
        ts = int(now.timestamp())
        body = d.body.encode()
        headers = {
            "content-type": "application/json",
            "user-agent": "hazardflow-webhooks",
            "webhook-id": d.id,
            "webhook-timestamp": str(ts),
            "webhook-signature": sign(sub.secret, d.id, ts, body),
        }
        status: int | None = None
        retry_after: timedelta | None = None
        try:
            resp = self.client.post(sub.url, content=body, headers=headers, timeout=self.timeout)
            status = resp.status_code
            if 200 <= status < 300:
                return Outcome(d.id, self.clock.now(), delivered=True, status_code=status)
            error = f"HTTP {status}"
            if status in (429, 503):
                retry_after = _retry_after(resp.headers.get("retry-after"))
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        now = self.clock.now()
        if status == 410:
            self._gone.add(sub.id)
            self.webhooks.disable_subscription(sub.id, "the receiver answered 410 Gone")
            return Outcome(d.id, now, delivered=False, status_code=status, error="410 Gone")
        first = d.first_attempt_at or now
        at = self.retry.next_attempt(d.attempts + 1, first, now, self._rng)
        if at is not None and retry_after is not None:
            at = max(at, now + retry_after)
            if at - first > self.retry.dead_after:
                at = None
        return Outcome(d.id, now, delivered=False, status_code=status, retry_at=at, error=error)

    def run(self, *, interval: float = 1.0, max_rounds: int | None = None) -> None:
        """Deliver until :meth:`stop` (or ``max_rounds``), resting ``interval`` seconds after an idle round."""
        rounds = 0
        while not self._stop.is_set():
            report = self.run_once()
            rounds += 1
            if max_rounds is not None and rounds >= max_rounds:
                break
            if report.claimed == 0 and report.fanned_out == 0:
                self._stop.wait(interval)

    def stop(self) -> None:
        """Ask :meth:`run` to return after the current round."""
        self._stop.set()

    def close(self) -> None:
        """Stop, and release the worker threads and the HTTP client (when the deliverer made it)."""
        self._stop.set()
        self._pool.shutdown(wait=True)
        if self._own_client:
            self.client.close()

    def __enter__(self) -> WebhookDeliverer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WebhookDeliverer(name={self.name!r}, store={self.store!r})"
