"""Running timers in production: :class:`TimerWorker` wakes :meth:`hazardflow.Engine.run_due` on time.

The timer table in the store is the only truth about what is due; the worker only decides *when to look*.
APScheduler (3.x) is imported when a worker starts, never by ``import hazardflow``.
"""

from __future__ import annotations

from .worker import TimerWorker, WorkerHealth

__all__ = ["TimerWorker", "WorkerHealth"]
