"""Shared fixtures and Hypothesis profiles.

Profiles: ``dev`` (default, thorough), ``ci`` (bounded for a 2-core CI machine; `.ci/run` selects it with
HYPOTHESIS_PROFILE=ci).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
    print_blob=True,
)
settings.register_profile(
    "dev",
    max_examples=200,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# ── PostgreSQL ───────────────────────────────────────────────────────────────────────────────────
# Each test session (each xdist worker) works in databases of its own, created from
# HAZARDFLOW_TEST_POSTGRES_URL and dropped at the end; the server's `test` database itself is never written.

_PG_SKIP = (
    "PostgreSQL tests need HAZARDFLOW_TEST_POSTGRES_URL "
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test); it is not set"
)
_HF_TABLES = "hf_outbox, hf_confidential, hf_idempotency, hf_timer, hf_event, hf_case"
_HF_TABLES = "hf_webhook_delivery, hf_webhook_subscription, " + _HF_TABLES


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[Callable[[], str]]:
    """A factory of empty PostgreSQL databases (URLs) for this session; every one is dropped afterwards."""
    base = os.environ.get("HAZARDFLOW_TEST_POSTGRES_URL")
    if not base:
        pytest.skip(_PG_SKIP)
    import psycopg
    import sqlalchemy as sa

    url = sa.make_url(base)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    made: list[str] = []

    def new_database() -> str:
        name = f"hf_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return url.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)

    yield new_database
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url(postgres_databases: Callable[[], str]) -> str:
    """This session's PostgreSQL database, with hazardflow's schema."""
    from hazardflow.persistence.sql import SqlStore

    url = postgres_databases()
    SqlStore(url).close()
    return url


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> str:
    """:func:`postgres_url` with every hazardflow table emptied (for a test that needs an empty store)."""
    import psycopg
    import sqlalchemy as sa

    plain = sa.make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {_HF_TABLES} RESTART IDENTITY")
    return postgres_url
