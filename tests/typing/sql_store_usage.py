"""The SQL store used as an application would: this file must type-check under ``mypy --strict``."""

from __future__ import annotations

from datetime import UTC, datetime

from hazardflow import (
    Actor,
    ConcurrentUpdateError,
    DatabaseReadOnly,
    DatabaseUnavailable,
    Engine,
    PersistenceError,
    SchemaVersionError,
    StorageFull,
)
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
    leased = store.lease_due(datetime.now(UTC), owner="worker-1", lease_seconds=60.0, limit=100)
    for timer in leased:
        store.release_timer(timer.id, owner="worker-1", cancel=False)
    due = store.next_due()
    outbox: list[tuple[int, str, int, str]] = store.read_outbox(after=0, limit=10)
    return [t.id for t in leased] + ([due.isoformat()] if due else []) + [row[1] for row in outbox]
