"""The SQL store used as an application would: this file must type-check under ``mypy --strict``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hazardflow import (
    Actor,
    Case,
    ConcurrentUpdateError,
    DatabaseReadOnly,
    DatabaseUnavailable,
    Engine,
    PersistenceError,
    SchemaVersionError,
    StorageFull,
    Timer,
)
from hazardflow.abc import TimerClaim
from hazardflow.persistence import SqlStore, migrate


def open_engine(url: str) -> Engine:
    try:
        store = SqlStore(url, synchronous="full", busy_timeout=10.0)
    except SchemaVersionError as exc:
        raise SystemExit(f"run `hazardflow db upgrade --url {exc.url}`: {exc.detail}") from exc
    except (DatabaseUnavailable, DatabaseReadOnly, StorageFull) as exc:
        raise SystemExit(exc.message) from exc
    return Engine(store=store, outbox=True)


def migrate_then_open(url: str) -> Engine:
    revision: str = migrate.upgrade(url)
    current: str | None = migrate.current(url)
    assert current == revision == migrate.HEAD
    return Engine.from_url(url, create=False)


def import_rows(engine: Engine, actor: Actor, rows: list[dict[str, str]]) -> int:
    try:
        with engine.batch():
            for row in rows:
                engine.open_case("hazard", actor=actor, jurisdiction=row["jurisdiction"], description=row["d"])
    except ConcurrentUpdateError as exc:
        return -exc.expected_rev
    except PersistenceError as exc:
        raise SystemExit(str(exc)) from exc
    return len(rows)


def sweep(store: SqlStore) -> list[str]:
    now = datetime.now(UTC)
    found: list[Timer] = store.due_timers(now, limit=100)
    for timer in found:
        claim: TimerClaim | None = store.claim_timer(timer.id, now)
        if claim is None:
            continue  # another worker is firing it
        with claim:
            case: Case = claim.case
            if case.closed_at is not None:
                claim.cancel()
                continue
        # Given up (closed without a commit): hold it back for a minute.
        store.hold_timer(timer.id, owner="worker-1", until=now + timedelta(seconds=60))
    due = store.next_due()
    outbox: list[tuple[int, str, int, str]] = store.read_outbox(after=0, limit=10)
    return [t.id for t in found] + ([due.isoformat()] if due else []) + [row[1] for row in outbox]
