"""Stores: :class:`MemoryStore` and :class:`SqlStore` (from :mod:`hazardflow.persistence.sql`).

``SqlStore`` is imported on first use, so ``import hazardflow`` does not load SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .memory import MemoryStore

if TYPE_CHECKING:
    from .sql import SqlStore

__all__ = ["MemoryStore", "SqlStore"]


def __getattr__(name: str) -> Any:
    if name == "SqlStore":
        from .sql import SqlStore

        return SqlStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
