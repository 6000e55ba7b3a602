"""Test support shipped to users: a simulated clock, the in-memory store, audit capture, contract suites.

* :class:`StoreContract` - the pytest suite every store passes (subclass it, provide a ``store`` fixture).
* :class:`PolicyContract` - the pytest suite every jurisdiction policy passes (subclass it, set ``policy``).
* :func:`snapshot_store` - everything a store shows, to check that a refused command changed nothing.

Use these in your own tests (your jurisdiction's policy, your host integration)::

    from hazardflow.testing import SimulatedClock, capture_audit

    clock = SimulatedClock("2024-03-04T09:00:00+08:00")
    engine = Engine(clock=clock, policies=[MyTownship()])
    with capture_audit(engine) as events:
        engine.fire(...)
    assert [e.type for e in events] == ["case.submitted"]
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ._clock import SimulatedClock
from ._policy_contract import PolicyContract
from ._store_contract import StoreContract, StoreSnapshot, WriteFactory, snapshot_store
from .persistence.memory import MemoryStore

if TYPE_CHECKING:
    from ._engine import Engine
    from ._model import AuditEvent

__all__ = [
    "MemoryStore",
    "PolicyContract",
    "SimulatedClock",
    "StoreContract",
    "StoreSnapshot",
    "WriteFactory",
    "capture_audit",
    "snapshot_store",
]


@contextmanager
def capture_audit(engine: Engine) -> Iterator[list[AuditEvent]]:
    """Collect every audit event committed by ``engine`` inside the block, in commit order."""
    events: list[AuditEvent] = []
    unsubscribe = engine.subscribe(lambda _case, event: events.append(event))
    try:
        yield events
    finally:
        unsubscribe()
