"""Stores: :class:`MemoryStore` here; the SQL store is in :mod:`hazardflow.persistence.sql`."""

from .memory import MemoryStore

__all__ = ["MemoryStore"]
