"""Fixtures of the contract tests: the stores every behaviour must hold on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Every store the timers must work on: memory, a SQLite file, PostgreSQL."""
    from hazardflow.persistence.sql import SqlStore
    from hazardflow.testing import MemoryStore

    if request.param == "memory":
        s: Any = MemoryStore()
    elif request.param == "sqlite":
        s = SqlStore(f"sqlite:///{tmp_path / 'timers.db'}")
    else:
        s = SqlStore(request.getfixturevalue("fresh_postgres_url"))
    yield s
    s.close()
