"""Where subscriptions and deliveries live: beside the cases, in the same database (or in memory).

:func:`webhook_store` gives the webhook store of a case store: :class:`SqlWebhookStore` over a
:class:`~hazardflow.persistence.SqlStore` (its tables ``hf_webhook_subscription`` and ``hf_webhook_delivery``,
and ``hf_outbox.delivered_at`` as the "handed to the subscriptions" mark), :class:`MemoryWebhookStore` over a
:class:`~hazardflow.persistence.MemoryStore`. Both answer the same calls (:class:`WebhookStore`) and pass the
same contract tests.

Several delivery workers may share one database. A worker *claims* due deliveries with a lease
(:meth:`WebhookStore.claim`): on PostgreSQL the claim is ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP
LOCKED)``, so two workers never take the same row; on SQLite the claim runs under the write lock
(``BEGIN IMMEDIATE``). A worker that dies (even by SIGKILL) leaves its claims to expire with the lease; another
worker then sends them again with the same ``webhook-id`` (at least once).
"""

from __future__ import annotations

import contextlib
import secrets as _secrets
import threading
import weakref
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import attrs
import orjson

from .._checks import aware_utc, positive_int, text_id
from .._exceptions import HazardflowError, InvalidInput, WebhookNotFoundError
from .._jurisdiction import canonical
from ._model import (
    DELIVERY_STATUSES,
    Delivery,
    Outcome,
    Subscription,
    check_event_types,
    check_secret,
    check_url,
    new_secret,
)

__all__ = ["MemoryWebhookStore", "SqlWebhookStore", "WebhookStore", "webhook_store"]


@runtime_checkable
class WebhookStore(Protocol):
    """Subscriptions, the outbox rows waiting to be fanned out, and the deliveries with their attempts."""

    def add_subscription(
        self,
        url: str,
        *,
        now: datetime,
        event_types: Sequence[str] = (),
        jurisdiction: str | None = None,
        secret: str | None = None,
    ) -> Subscription: ...

    def get_subscription(self, subscription_id: str) -> Subscription: ...

    def list_subscriptions(self) -> list[Subscription]: ...

    def remove_subscription(self, subscription_id: str) -> None: ...

    def disable_subscription(self, subscription_id: str, reason: str) -> None: ...

    def pending_outbox(self, *, limit: int = 500) -> list[tuple[int, str, int, str]]: ...

    def enqueue(self, outbox_id: int, deliveries: Sequence[Delivery], now: datetime) -> int: ...

    def enqueue_many(self, batch: Sequence[tuple[int, Sequence[Delivery]]], now: datetime) -> int: ...

    def claim(self, owner: str, now: datetime, *, limit: int = 50, lease: timedelta = ...) -> list[Delivery]: ...

    def mark_delivered(self, delivery_id: str, now: datetime, *, status_code: int | None = None) -> None: ...

    def mark_failed(
        self,
        delivery_id: str,
        now: datetime,
        *,
        retry_at: datetime | None,
        status_code: int | None = None,
        error: str = "",
    ) -> None: ...

    def record(self, outcomes: Sequence[Outcome]) -> None: ...

    def redeliver(self, delivery_id: str, now: datetime) -> None: ...

    def get_delivery(self, delivery_id: str) -> Delivery: ...

    def list_deliveries(
        self, *, status: str | None = None, subscription_id: str | None = None, limit: int = 100
    ) -> list[Delivery]: ...

    def counts(self) -> dict[str, int]: ...


_DEFAULT_LEASE = timedelta(seconds=60)


def _check_status(status: str | None) -> None:
    if status is not None and status not in DELIVERY_STATUSES:
        raise InvalidInput("status", status, "unknown delivery status", DELIVERY_STATUSES)


def _check_lease(lease: object) -> timedelta:
    if not isinstance(lease, timedelta) or lease <= timedelta(0):
        raise InvalidInput("lease", lease, "must be a positive timedelta")
    return lease


def _new_subscription(
    url: str,
    now: datetime,
    event_types: Sequence[str],
    jurisdiction: str | None,
    secret: str | None,
) -> Subscription:
    now = aware_utc("now", now)
    check_url(url)
    types = check_event_types(event_types)
    if jurisdiction is not None:
        if not isinstance(jurisdiction, str):
            raise InvalidInput("jurisdiction", jurisdiction, "must be a division code (e.g. 330106) or None")
        jurisdiction = canonical(jurisdiction)
    secret = new_secret() if secret is None else check_secret(secret)
    return Subscription(
        id="sub_" + _secrets.token_hex(8),
        url=url,
        secret=secret,
        event_types=types,
        jurisdiction=jurisdiction,
        active=True,
        created_at=now,
    )


def _retry_at(retry_at: datetime | None) -> datetime | None:
    return None if retry_at is None else aware_utc("retry_at", retry_at)


class MemoryWebhookStore:
    """Subscriptions and deliveries in process memory, over a :class:`~hazardflow.persistence.MemoryStore`."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._lock = threading.RLock()
        self._subs: dict[str, Subscription] = {}
        self._deliveries: dict[str, Delivery] = {}
        self._dispatched: set[int] = set()
        self._cursor = 0  # every position <= cursor is dispatched

    # subscriptions
    def add_subscription(
        self,
        url: str,
        *,
        now: datetime,
        event_types: Sequence[str] = (),
        jurisdiction: str | None = None,
        secret: str | None = None,
    ) -> Subscription:
        sub = _new_subscription(url, now, event_types, jurisdiction, secret)
        with self._lock:
            self._subs[sub.id] = sub
        return sub

    def get_subscription(self, subscription_id: str) -> Subscription:
        with self._lock:
            sub = self._subs.get(subscription_id)
            if sub is None:
                raise WebhookNotFoundError("subscription", str(subscription_id), tuple(sorted(self._subs)))
            return sub

    def list_subscriptions(self) -> list[Subscription]:
        with self._lock:
            return sorted(self._subs.values(), key=lambda s: (s.created_at, s.id))

    def remove_subscription(self, subscription_id: str) -> None:
        with self._lock:
            self.get_subscription(subscription_id)
            del self._subs[subscription_id]
            for d in [d for d in self._deliveries.values() if d.subscription_id == subscription_id]:
                del self._deliveries[d.id]

    def disable_subscription(self, subscription_id: str, reason: str) -> None:
        with self._lock:
            sub = self.get_subscription(subscription_id)
            self._subs[subscription_id] = attrs.evolve(sub, active=False, disabled_reason=str(reason))

    # outbox → deliveries
    def pending_outbox(self, *, limit: int = 500) -> list[tuple[int, str, int, str]]:
        positive_int("limit", limit)
        with self._lock:
            out: list[tuple[int, str, int, str]] = []
            after = self._cursor
            while len(out) < limit:
                rows = self._store.read_outbox(after=after, limit=limit)
                if not rows:
                    break
                out.extend(r for r in rows if r[0] not in self._dispatched)
                after = rows[-1][0]
            return out[:limit]

    def enqueue(self, outbox_id: int, deliveries: Sequence[Delivery], now: datetime) -> int:
        aware_utc("now", now)
        with self._lock:
            if outbox_id in self._dispatched or outbox_id <= self._cursor:
                return 0
            n = 0
            for d in deliveries:
                if d.id not in self._deliveries:
                    self._deliveries[d.id] = d
                    n += 1
            self._dispatched.add(outbox_id)
            while self._cursor + 1 in self._dispatched:
                self._cursor += 1
                self._dispatched.discard(self._cursor)
            return n

    def enqueue_many(self, batch: Sequence[tuple[int, Sequence[Delivery]]], now: datetime) -> int:
        """:meth:`enqueue` for many outbox rows at once (one transaction on a SQL store)."""
        with self._lock:
            return sum(self.enqueue(outbox_id, deliveries, now) for outbox_id, deliveries in batch)

    # deliveries
    def claim(self, owner: str, now: datetime, *, limit: int = 50, lease: timedelta = _DEFAULT_LEASE) -> list[Delivery]:
        text_id("owner", owner)
        now = aware_utc("now", now)
        positive_int("limit", limit)
        _check_lease(lease)
        with self._lock:
            due = [
                d
                for d in self._deliveries.values()
                if d.status == "pending"
                and d.next_attempt_at <= now
                and (d.lease_expires_at is None or d.lease_expires_at <= now)
            ]
            due.sort(key=lambda d: (d.next_attempt_at, d.id))
            out = []
            for d in due[:limit]:
                taken = attrs.evolve(d, lease_owner=owner, lease_expires_at=now + lease)
                self._deliveries[d.id] = taken
                out.append(taken)
            return out

    def _get(self, delivery_id: str) -> Delivery:
        d = self._deliveries.get(delivery_id)
        if d is None:
            raise WebhookNotFoundError("delivery", str(delivery_id))
        return d

    def mark_delivered(self, delivery_id: str, now: datetime, *, status_code: int | None = None) -> None:
        now = aware_utc("now", now)
        with self._lock:
            d = self._get(delivery_id)
            if d.status != "pending":
                return
            self._deliveries[delivery_id] = attrs.evolve(
                d,
                status="delivered",
                attempts=d.attempts + 1,
                first_attempt_at=d.first_attempt_at or now,
                delivered_at=now,
                lease_owner=None,
                lease_expires_at=None,
                last_status=status_code,
                last_error=None,
            )

    def mark_failed(
        self,
        delivery_id: str,
        now: datetime,
        *,
        retry_at: datetime | None,
        status_code: int | None = None,
        error: str = "",
    ) -> None:
        now = aware_utc("now", now)
        retry_at = _retry_at(retry_at)
        with self._lock:
            d = self._get(delivery_id)
            if d.status != "pending":
                return
            self._deliveries[delivery_id] = attrs.evolve(
                d,
                status="pending" if retry_at is not None else "dead",
                attempts=d.attempts + 1,
                first_attempt_at=d.first_attempt_at or now,
                next_attempt_at=retry_at or d.next_attempt_at,
                lease_owner=None,
                lease_expires_at=None,
                last_status=status_code,
                last_error=error[:2000] or None,
            )

    def record(self, outcomes: Sequence[Outcome]) -> None:
        """Record many attempts at once (a delivery worker's round); unknown or finished ones are skipped."""
        with self._lock:
            for o in outcomes:
                if o.delivery_id not in self._deliveries:
                    continue
                if o.delivered:
                    self.mark_delivered(o.delivery_id, o.at, status_code=o.status_code)
                else:
                    self.mark_failed(o.delivery_id, o.at, retry_at=o.retry_at, status_code=o.status_code, error=o.error)

    def redeliver(self, delivery_id: str, now: datetime) -> None:
        now = aware_utc("now", now)
        with self._lock:
            d = self._get(delivery_id)
            self._deliveries[delivery_id] = attrs.evolve(
                d, status="pending", next_attempt_at=now, delivered_at=None, lease_owner=None, lease_expires_at=None
            )

    def get_delivery(self, delivery_id: str) -> Delivery:
        with self._lock:
            return self._get(delivery_id)

    def list_deliveries(
        self, *, status: str | None = None, subscription_id: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        _check_status(status)
        positive_int("limit", limit)
        with self._lock:
            out = [
                d
                for d in self._deliveries.values()
                if (status is None or d.status == status)
                and (subscription_id is None or d.subscription_id == subscription_id)
            ]
        out.sort(key=lambda d: (d.outbox_id, d.id))
        return out[:limit]

    def counts(self) -> dict[str, int]:
        with self._lock:
            out = dict.fromkeys(DELIVERY_STATUSES, 0)
            for d in self._deliveries.values():
                out[d.status] += 1
            return out


_DELIVERED_SQL = (
    "UPDATE hf_webhook_delivery SET status = 'delivered', attempts = attempts + 1, "
    "first_attempt_at = COALESCE(first_attempt_at, ?), delivered_at = ?, lease_owner = NULL, "
    "lease_expires_at = NULL, last_status = ?, last_error = NULL WHERE id = ? AND status = 'pending'"
)
_FAILED_SQL = (
    "UPDATE hf_webhook_delivery SET status = ?, attempts = attempts + 1, "
    "first_attempt_at = COALESCE(first_attempt_at, ?), next_attempt_at = COALESCE(?, next_attempt_at), "
    "lease_owner = NULL, lease_expires_at = NULL, last_status = ?, last_error = ? "
    "WHERE id = ? AND status = 'pending'"
)
_SUB_COLS = "id, url, secret, event_types, jurisdiction, active, created_at, disabled_reason"
_DEL_COLS = (
    "id, subscription_id, outbox_id, case_id, event_type, body, status, attempts, created_at, next_attempt_at, "
    "first_attempt_at, delivered_at, lease_owner, lease_expires_at, last_status, last_error"
)


class SqlWebhookStore:
    """Subscriptions and deliveries in the tables of a :class:`~hazardflow.persistence.SqlStore`'s database."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._pg = store.dialect == "postgresql"
        self._ts = store._ts
        self._dt = store._dt

    def _q(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._pg else sql

    @contextlib.contextmanager
    def _tx(self, doing: str, *, write: bool = True) -> Iterator[Any]:
        conn = self._store._get()
        db = conn.dbapi
        try:
            if write:
                db.execute("BEGIN" if self._pg else "BEGIN IMMEDIATE")
            yield db
            if write:
                db.execute("COMMIT")
        except BaseException as exc:
            try:
                if write:
                    db.execute("ROLLBACK")
            except Exception:
                self._store._discard(conn)
                conn = None
            if conn is not None:
                self._store._put(conn)
            if isinstance(exc, HazardflowError) or not isinstance(exc, Exception):
                raise
            self._store._raise(exc, doing)
        else:
            self._store._put(conn)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._tx("reading webhooks", write=False) as db:
            return list(db.execute(self._q(sql), tuple(params)).fetchall())

    # mapping
    def _sub(self, r: Sequence[Any]) -> Subscription:
        types = r[3] if isinstance(r[3], list) else orjson.loads(r[3])
        return Subscription(
            id=r[0],
            url=r[1],
            secret=r[2],
            event_types=tuple(types),
            jurisdiction=r[4],
            active=bool(r[5]),
            created_at=self._dt(r[6]),
            disabled_reason=r[7],
        )

    def _delivery(self, r: Sequence[Any]) -> Delivery:
        return Delivery(
            id=r[0],
            subscription_id=r[1],
            outbox_id=int(r[2]),
            case_id=r[3],
            event_type=r[4],
            body=r[5],
            status=r[6],
            attempts=int(r[7]),
            created_at=self._dt(r[8]),
            next_attempt_at=self._dt(r[9]),
            first_attempt_at=self._dt(r[10]),
            delivered_at=self._dt(r[11]),
            lease_owner=r[12],
            lease_expires_at=self._dt(r[13]),
            last_status=r[14],
            last_error=r[15],
        )

    # subscriptions
    def add_subscription(
        self,
        url: str,
        *,
        now: datetime,
        event_types: Sequence[str] = (),
        jurisdiction: str | None = None,
        secret: str | None = None,
    ) -> Subscription:
        sub = _new_subscription(url, now, event_types, jurisdiction, secret)
        types = orjson.dumps(list(sub.event_types)).decode()
        cast = "CAST(? AS JSONB)" if self._pg else "?"
        with self._tx("adding a webhook subscription") as db:
            db.execute(
                self._q(f"INSERT INTO hf_webhook_subscription ({_SUB_COLS}) VALUES (?, ?, ?, {cast}, ?, ?, ?, ?)"),
                (sub.id, sub.url, sub.secret, types, sub.jurisdiction, True, self._ts(sub.created_at), None),
            )
        return sub

    def get_subscription(self, subscription_id: str) -> Subscription:
        rows = self._rows(f"SELECT {_SUB_COLS} FROM hf_webhook_subscription WHERE id = ?", (str(subscription_id),))
        if not rows:
            known = tuple(r[0] for r in self._rows("SELECT id FROM hf_webhook_subscription ORDER BY id"))
            raise WebhookNotFoundError("subscription", str(subscription_id), known)
        return self._sub(rows[0])

    def list_subscriptions(self) -> list[Subscription]:
        rows = self._rows(f"SELECT {_SUB_COLS} FROM hf_webhook_subscription ORDER BY created_at, id")
        return [self._sub(r) for r in rows]

    def remove_subscription(self, subscription_id: str) -> None:
        self.get_subscription(subscription_id)
        with self._tx("removing a webhook subscription") as db:
            db.execute(self._q("DELETE FROM hf_webhook_delivery WHERE subscription_id = ?"), (subscription_id,))
            db.execute(self._q("DELETE FROM hf_webhook_subscription WHERE id = ?"), (subscription_id,))

    def disable_subscription(self, subscription_id: str, reason: str) -> None:
        self.get_subscription(subscription_id)
        with self._tx("disabling a webhook subscription") as db:
            db.execute(
                self._q("UPDATE hf_webhook_subscription SET active = ?, disabled_reason = ? WHERE id = ?"),
                (False, str(reason), subscription_id),
            )

    # outbox → deliveries
    def pending_outbox(self, *, limit: int = 500) -> list[tuple[int, str, int, str]]:
        positive_int("limit", limit)
        rows = self._rows(
            "SELECT id, case_id, seq, event_type FROM hf_outbox WHERE delivered_at IS NULL ORDER BY id LIMIT ?",
            (limit,),
        )
        return [(int(r[0]), r[1], int(r[2]), r[3]) for r in rows]

    def enqueue(self, outbox_id: int, deliveries: Sequence[Delivery], now: datetime) -> int:
        return self.enqueue_many([(outbox_id, deliveries)], now)

    def enqueue_many(self, batch: Sequence[tuple[int, Sequence[Delivery]]], now: datetime) -> int:
        """Mark each outbox row handed over and queue its deliveries, all in one transaction.

        A row another worker handed over first is skipped with its deliveries (each message is queued once).
        """
        now = aware_utc("now", now)
        conflict = "ON CONFLICT (id) DO NOTHING" if self._pg else ""
        verb = "INSERT" if self._pg else "INSERT OR IGNORE"
        sql = self._q(f"{verb} INTO hf_webhook_delivery ({_DEL_COLS}) VALUES ({', '.join('?' * 16)}) {conflict}")
        t = self._ts(now)
        ids = [int(outbox_id) for outbox_id, _ in batch]
        if not ids:
            return 0
        if self._pg:
            mark = "UPDATE hf_outbox SET delivered_at = %s WHERE id = ANY(%s) AND delivered_at IS NULL RETURNING id"
            params: tuple[Any, ...] = (t, ids)
        else:
            marks = ", ".join("?" * len(ids))
            mark = f"UPDATE hf_outbox SET delivered_at = ? WHERE id IN ({marks}) AND delivered_at IS NULL RETURNING id"
            params = (t, *ids)
        with self._tx("queueing webhook deliveries") as db:
            # rows another worker fanned out first are skipped with their deliveries: each message is queued once
            won = {int(r[0]) for r in db.execute(mark, params).fetchall()}
            rows = [
                (
                    d.id,
                    d.subscription_id,
                    d.outbox_id,
                    d.case_id,
                    d.event_type,
                    d.body,
                    d.status,
                    d.attempts,
                    self._ts(d.created_at),
                    self._ts(d.next_attempt_at),
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                )
                for outbox_id, deliveries in batch
                if outbox_id in won
                for d in deliveries
            ]
            if rows:
                db.cursor().executemany(sql, rows)
        return len(rows)

    # deliveries
    def claim(self, owner: str, now: datetime, *, limit: int = 50, lease: timedelta = _DEFAULT_LEASE) -> list[Delivery]:
        text_id("owner", owner, max_length=128)
        now = aware_utc("now", now)
        positive_int("limit", limit)
        _check_lease(lease)
        due = (
            "SELECT id FROM hf_webhook_delivery WHERE status = 'pending' AND next_attempt_at <= ? "
            "AND (lease_expires_at IS NULL OR lease_expires_at <= ?) ORDER BY next_attempt_at, id LIMIT ?"
        )
        if self._pg:
            due += " FOR UPDATE SKIP LOCKED"
        sql = self._q(
            f"UPDATE hf_webhook_delivery SET lease_owner = ?, lease_expires_at = ? WHERE id IN ({due}) "
            f"RETURNING {_DEL_COLS}"
        )
        t = self._ts(now)
        with self._tx("claiming webhook deliveries") as db:
            rows = db.execute(sql, (owner, self._ts(now + lease), t, t, limit)).fetchall()
        out = [self._delivery(r) for r in rows]
        out.sort(key=lambda d: (d.next_attempt_at, d.id))
        return out

    def _one(self, db: Any, delivery_id: str) -> Delivery:
        r = db.execute(self._q(f"SELECT {_DEL_COLS} FROM hf_webhook_delivery WHERE id = ?"), (delivery_id,)).fetchone()
        if r is None:
            raise WebhookNotFoundError("delivery", str(delivery_id))
        return self._delivery(r)

    def mark_delivered(self, delivery_id: str, now: datetime, *, status_code: int | None = None) -> None:
        now = aware_utc("now", now)
        t = self._ts(now)
        with self._tx("recording a webhook delivery") as db:
            self._one(db, delivery_id)
            db.execute(self._q(_DELIVERED_SQL), (t, t, status_code, delivery_id))

    def mark_failed(
        self,
        delivery_id: str,
        now: datetime,
        *,
        retry_at: datetime | None,
        status_code: int | None = None,
        error: str = "",
    ) -> None:
        now = aware_utc("now", now)
        retry_at = _retry_at(retry_at)
        t = self._ts(now)
        with self._tx("recording a failed webhook delivery") as db:
            self._one(db, delivery_id)
            db.execute(
                self._q(_FAILED_SQL),
                (
                    "pending" if retry_at is not None else "dead",
                    t,
                    self._ts(retry_at),
                    status_code,
                    error[:2000] or None,
                    delivery_id,
                ),
            )

    def record(self, outcomes: Sequence[Outcome]) -> None:
        """Record many attempts in one transaction (a delivery worker's round); finished ones are left alone."""
        ok = [
            (self._ts(aware_utc("at", o.at)), self._ts(o.at), o.status_code, o.delivery_id)
            for o in outcomes
            if o.delivered
        ]
        bad = [
            (
                "pending" if o.retry_at is not None else "dead",
                self._ts(aware_utc("at", o.at)),
                self._ts(_retry_at(o.retry_at)),
                o.status_code,
                o.error[:2000] or None,
                o.delivery_id,
            )
            for o in outcomes
            if not o.delivered
        ]
        if not ok and not bad:
            return
        with self._tx("recording webhook deliveries") as db:
            if ok:
                db.cursor().executemany(self._q(_DELIVERED_SQL), ok)
            if bad:
                db.cursor().executemany(self._q(_FAILED_SQL), bad)

    def redeliver(self, delivery_id: str, now: datetime) -> None:
        now = aware_utc("now", now)
        with self._tx("queueing a webhook delivery again") as db:
            self._one(db, delivery_id)
            db.execute(
                self._q(
                    "UPDATE hf_webhook_delivery SET status = 'pending', next_attempt_at = ?, delivered_at = NULL, "
                    "lease_owner = NULL, lease_expires_at = NULL WHERE id = ?"
                ),
                (self._ts(now), delivery_id),
            )

    def get_delivery(self, delivery_id: str) -> Delivery:
        with self._tx("reading a webhook delivery", write=False) as db:
            return self._one(db, str(delivery_id))

    def list_deliveries(
        self, *, status: str | None = None, subscription_id: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        _check_status(status)
        positive_int("limit", limit)
        where, params = [], []
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if subscription_id is not None:
            where.append("subscription_id = ?")
            params.append(subscription_id)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._rows(
            f"SELECT {_DEL_COLS} FROM hf_webhook_delivery {clause} ORDER BY outbox_id, id LIMIT ?", (*params, limit)
        )
        return [self._delivery(r) for r in rows]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(DELIVERY_STATUSES, 0)
        for status, n in self._rows("SELECT status, COUNT(*) FROM hf_webhook_delivery GROUP BY status"):
            out[status] = int(n)
        return out


_STORES: weakref.WeakKeyDictionary[Any, WebhookStore] = weakref.WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


def webhook_store(store: Any) -> WebhookStore:
    """The webhook store over a case store (the same object every time for one case store).

    A :class:`~hazardflow.persistence.SqlStore` keeps subscriptions and deliveries in its database; a
    :class:`~hazardflow.persistence.MemoryStore` in memory beside it. Other stores raise
    :class:`~hazardflow.InvalidInput`.
    """
    from ..persistence.memory import MemoryStore
    from ..persistence.sql import SqlStore

    if not isinstance(store, SqlStore | MemoryStore):
        raise InvalidInput(
            "store", type(store).__name__, "webhooks need a SqlStore or a MemoryStore", ("MemoryStore", "SqlStore")
        )
    with _STORES_LOCK:
        found = _STORES.get(store)
        if found is not None:
            return found
        made: WebhookStore = SqlWebhookStore(store) if isinstance(store, SqlStore) else MemoryWebhookStore(store)
        _STORES[store] = made
        return made
