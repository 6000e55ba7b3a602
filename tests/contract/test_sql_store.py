"""The SQL store passes the store contract on SQLite (file and in-memory) and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hazardflow.persistence.sql import SqlStore
from hazardflow.testing import StoreContract


class TestSqliteFileStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SqlStore]:
        s = SqlStore(f"sqlite:///{tmp_path / 'hazards.db'}")
        yield s
        s.close()


class TestSqliteMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> Iterator[SqlStore]:
        s = SqlStore("sqlite://")
        yield s
        s.close()


@pytest.mark.postgres
class TestPostgresStore(StoreContract):
    @pytest.fixture
    def store(self, fresh_postgres_url: str) -> Iterator[SqlStore]:
        s = SqlStore(fresh_postgres_url)
        yield s
        s.close()
