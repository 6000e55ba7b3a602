"""The in-memory store passes the store contract."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hazardflow.testing import MemoryStore, StoreContract


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> Iterator[MemoryStore]:
        s = MemoryStore()
        yield s
        s.close()
