"""The hazard lifecycle's invariant machine (``tests/hazard_machine.py``) on PostgreSQL.

Each example starts from empty hazardflow tables in this session's database. Bounded tighter than the memory
and SQLite runs: every step is a few round trips to the server.
"""

from __future__ import annotations

import os

import psycopg
import pytest
import sqlalchemy as sa
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from hazard_machine import machine_class
from hazardflow.persistence.sql import SqlStore

TABLES = "hf_outbox, hf_confidential, hf_idempotency, hf_timer, hf_event, hf_case"


@pytest.mark.postgres
def test_hazard_lifecycle_on_postgres(postgres_url: str) -> None:
    plain = sa.make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)

    def fresh_store() -> SqlStore:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY")
        return SqlStore(postgres_url)

    bounded = settings(settings(), max_examples=8, stateful_step_count=25)
    if os.environ.get("HYPOTHESIS_PROFILE") != "ci":
        bounded = settings(bounded, max_examples=20)
    run_state_machine_as_test(machine_class(fresh_store, "HazardLifecycleOnPostgres"), settings=bounded)
