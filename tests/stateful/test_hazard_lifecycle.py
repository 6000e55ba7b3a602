"""The hazard lifecycle's invariants, by random commands of random people, on each store.

The machine lives in ``tests/hazard_machine.py``; :func:`machine_for` runs it on any store factory (a fresh, empty
store per example). Examples and steps are bounded by the Hypothesis profile (``ci`` in CI).
"""

from __future__ import annotations

from hazard_machine import machine_for
from hazardflow.persistence.sql import SqlStore
from hazardflow.testing import MemoryStore

TestHazardLifecycleInMemory = machine_for(MemoryStore, "HazardLifecycleInMemory")
TestHazardLifecycleOnSqlite = machine_for(lambda: SqlStore("sqlite://"), "HazardLifecycleOnSqlite")
