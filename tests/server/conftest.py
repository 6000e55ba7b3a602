"""The service under test: ``hazardflow serve`` in a subprocess on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from server_support import JWT_ARGS, Service


def _schema(url: str) -> str:
    from hazardflow.persistence.sql import SqlStore

    SqlStore(url).close()
    return url


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A new database with hazardflow's schema (one per module and backend)."""
    if request.param == "sqlite":
        return _schema(f"sqlite:///{tmp_path_factory.mktemp('svc') / 'service.db'}")
    new_database: Callable[[], str] = request.getfixturevalue("postgres_databases")
    return _schema(new_database())


@pytest.fixture(scope="module")
def svc(db_url: str) -> Iterator[Service]:
    """The service over ``db_url`` with JWT bearer authentication (HS256, issuer and audience checked)."""
    s = Service(db_url, *JWT_ARGS)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _schema(f"sqlite:///{tmp_path_factory.mktemp('svc1') / 'one.db'}")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")
