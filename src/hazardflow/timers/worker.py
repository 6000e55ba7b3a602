"""A long-running timer worker: APScheduler 3.x as the alarm clock, the store's timer table as the truth.

The worker never keeps deadlines of its own. Each *sweep* calls :meth:`hazardflow.Engine.run_due`, which
finds the due timers in the store and fires them as the system, each firing claiming its timer in the
transaction that records it with its audit event (``SKIP LOCKED`` on PostgreSQL, the write lock on SQLite).
APScheduler only decides when the next sweep happens:

* a ``poll`` job every ``interval`` seconds (timers armed by other processes are seen at most that late,
  and a sweep that failed is retried), whose first run is at start-up, so a worker that was down catches
  up at once;
* a one-shot ``wake`` job at the next due instant (``Store.next_due()``) when that comes sooner.

Both jobs use APScheduler's in-memory job store, ``misfire_grace_time=None`` (a wake-up that comes late
still runs: APScheduler's default of 1 s would silently drop it), ``coalesce=True`` (missed wake-ups
collapse into one sweep, which fires everything due anyway) and ``max_instances=1`` on a one-thread
executor, so sweeps never overlap. Several workers (processes or hosts) may run against one database:
claims decide who fires what, and each timer fires once. A worker that dies holds nothing back.

:meth:`TimerWorker.request_stop` (safe to call from a signal handler) ends the loop gracefully: the sweep
in progress stops between two firings (what it had not fired is free for any worker at once), and the
worker writes its last health record. Logs go through ``structlog.get_logger("hazardflow.worker")``; the library never
configures structlog (the ``hazardflow worker`` command does).
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import structlog

from .._checks import positive_int
from .._exceptions import InvalidInput

if TYPE_CHECKING:
    from .._engine import Engine, RunDueReport

__all__ = ["JOB_POLL", "JOB_WAKE", "TimerWorker", "WorkerHealth"]

JOB_POLL = "hazardflow.timers.poll"
JOB_WAKE = "hazardflow.timers.wake"

_log = structlog.get_logger("hazardflow.worker")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@attrs.define
class WorkerHealth:
    """What a worker reports about itself (the health log line and ``--health-file``).

    ``status`` is ``starting``, ``ok``, ``degraded`` (the last sweep failed; it is retried every
    ``interval``), ``stopping`` or ``stopped``. A probe should also treat a ``last_sweep_at`` older than a
    few intervals as unhealthy.
    """

    worker_id: str
    pid: int
    interval: float
    started_at: datetime
    status: str = "starting"
    now: datetime | None = None
    sweeps: int = 0
    last_sweep_at: datetime | None = None
    last_sweep_seconds: float | None = None
    last_sweep: dict[str, Any] | None = None
    fired_total: int = 0
    failed_total: int = 0
    late_total: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None
    next_due: datetime | None = None
    next_wake: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times in ISO 8601, UTC)."""
        return {
            "worker_id": self.worker_id,
            "pid": self.pid,
            "status": self.status,
            "interval": self.interval,
            "started_at": _iso(self.started_at),
            "now": _iso(self.now),
            "sweeps": self.sweeps,
            "last_sweep_at": _iso(self.last_sweep_at),
            "last_sweep_seconds": self.last_sweep_seconds,
            "last_sweep": self.last_sweep,
            "fired_total": self.fired_total,
            "failed_total": self.failed_total,
            "late_total": self.late_total,
            "consecutive_failures": self.consecutive_failures,
            "last_error": self.last_error,
            "next_due": _iso(self.next_due),
            "next_wake": _iso(self.next_wake),
        }


class TimerWorker:
    """Sweeps an engine's due timers on time, until asked to stop.

    ``interval`` bounds how late a timer armed by another process is noticed (and how often a failed sweep
    is retried); ``limit`` is how many due timers a sweep looks up at a time; ``hold_seconds`` is how long
    a timer whose firing raised (a policy bug, say) is held back before a sweep tries it again.
    ``health_file`` is rewritten atomically after each sweep and every ``health_interval`` seconds, when a
    ``worker.health`` log line is also written.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        interval: float = 30.0,
        limit: int = 500,
        hold_seconds: float = 300.0,
        health_file: str | os.PathLike[str] | None = None,
        health_interval: float = 60.0,
    ) -> None:
        for name, value in (
            ("interval", interval),
            ("hold_seconds", hold_seconds),
            ("health_interval", health_interval),
        ):
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise InvalidInput(name, value, "must be a positive number of seconds")
        positive_int("limit", limit)
        self.engine = engine
        self.interval = float(interval)
        self.limit = limit
        self.hold_seconds = float(hold_seconds)
        self.health_interval = float(health_interval)
        self.health_file = Path(health_file) if health_file is not None else None
        self._stopping = threading.Event()
        self._sweep_lock = threading.Lock()
        self._state_lock = threading.Lock()
        # The sweep (scheduler thread), the health job and stop() may all write the health file: one at a time.
        self._health_file_lock = threading.Lock()
        self._scheduler: Any = None
        self._health = WorkerHealth(engine.worker_id, os.getpid(), self.interval, engine.now())

    # ── control ──────────────────────────────────────────────────────────────────────────────────
    @property
    def stopping(self) -> bool:
        """True once a stop was requested."""
        return self._stopping.is_set()

    def request_stop(self) -> None:
        """Ask the worker to stop (safe from a signal handler: it only sets a flag)."""
        self._stopping.set()

    def start(self) -> None:
        """Start the alarm clock; the first sweep runs at once (catching up whatever fell due meanwhile)."""
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        if self._scheduler is not None:
            raise InvalidInput("worker", self.engine.worker_id, "is already started")
        scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )
        scheduler.add_job(
            self.sweep,
            "interval",
            seconds=self.interval,
            id=JOB_POLL,
            replace_existing=True,
            next_run_time=self.engine.now(),  # the first sweep at once: catch up after downtime
        )
        _log.info(
            "worker.started",
            worker_id=self.engine.worker_id,
            store=repr(self.engine.store),
            interval=self.interval,
            limit=self.limit,
            hold_seconds=self.hold_seconds,
            health_file=str(self.health_file) if self.health_file else None,
        )
        self._scheduler = scheduler
        scheduler.start()

    def stop(self) -> None:
        """Stop: let the sweep in progress end between two firings, then shut down."""
        self._stopping.set()
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            _log.info("worker.stopping", worker_id=self.engine.worker_id)
            scheduler.shutdown(wait=True)
        with self._state_lock:
            self._health.status = "stopped"
        self._publish_health(log=False)
        _log.info("worker.stopped", worker_id=self.engine.worker_id, sweeps=self._health.sweeps)

    def run(self) -> None:
        """Start, report health every ``health_interval`` seconds until :meth:`request_stop`, then stop."""
        self.start()
        try:
            self._publish_health()
            while not self._stopping.wait(self.health_interval):
                self._publish_health()
        finally:
            self.stop()

    # ── one sweep ────────────────────────────────────────────────────────────────────────────────
    def sweep(self) -> RunDueReport | None:
        """Fire what is due now, then set the alarm for the next due instant. Never raises."""
        if self._stopping.is_set() or not self._sweep_lock.acquire(blocking=False):
            return None
        try:
            started = time.monotonic()
            report: RunDueReport | None = None
            error: str | None = None
            try:
                report = self.engine.run_due(
                    limit=self.limit, hold_seconds=self.hold_seconds, stop=self._stopping.is_set
                )
            except Exception as exc:  # the database is down, a network blip: retried at the next poll
                error = f"{type(exc).__name__}: {exc}"
                _log.error("worker.sweep_failed", worker_id=self.engine.worker_id, error=error)
            elapsed = round(time.monotonic() - started, 6)
            next_due, wake = self._set_alarm()
            with self._state_lock:
                h = self._health
                h.sweeps += 1
                h.last_sweep_seconds = elapsed
                h.next_due = next_due
                h.next_wake = wake
                if report is not None:
                    h.last_sweep_at = report.now
                    h.last_sweep = {
                        "fired": report.fired,
                        "cancelled": report.cancelled,
                        "conflicts": report.conflicts,
                        "failed": report.failed,
                        "skipped": report.skipped,
                        "late": report.late,
                        "max_late_seconds": report.max_late_seconds,
                        "interrupted": report.interrupted,
                    }
                    h.fired_total += report.fired
                    h.failed_total += report.failed
                    h.late_total += report.late
                    h.consecutive_failures = 0
                    h.last_error = None
                    h.status = "stopping" if self._stopping.is_set() else "ok"
                else:
                    h.consecutive_failures += 1
                    h.last_error = error
                    h.status = "degraded"
            if report is not None and (report.fired or report.cancelled or report.failed or report.conflicts):
                _log.info(
                    "worker.sweep",
                    worker_id=self.engine.worker_id,
                    fired=report.fired,
                    cancelled=report.cancelled,
                    conflicts=report.conflicts,
                    failed=report.failed,
                    skipped=report.skipped,
                    late=report.late,
                    max_late_seconds=report.max_late_seconds,
                    interrupted=report.interrupted,
                    seconds=elapsed,
                    next_wake=_iso(wake),
                )
            self._write_health_file()
            return report
        finally:
            self._sweep_lock.release()

    def _set_alarm(self) -> tuple[datetime | None, datetime | None]:
        """Schedule the one-shot wake-up at the next due instant if it comes before the next poll."""
        try:
            next_due = self.engine.store.next_due()
            now = self.engine.now()
        except Exception as exc:
            _log.error("worker.next_due_failed", worker_id=self.engine.worker_id, error=f"{type(exc).__name__}: {exc}")
            return None, None
        scheduler = self._scheduler
        if next_due is None or next_due <= now or scheduler is None or self._stopping.is_set():
            # Nothing armed, or what is due is being fired by another worker or was held back after a failed
            # firing: the poll comes back for it (never a busy loop).
            return next_due, None
        if next_due - now >= timedelta(seconds=self.interval):
            return next_due, None  # the poll comes first
        wake = next_due + timedelta(milliseconds=1)
        try:
            scheduler.add_job(self.sweep, "date", run_date=wake, id=JOB_WAKE, replace_existing=True)
        except Exception as exc:  # the scheduler is shutting down
            _log.warning("worker.alarm_not_set", worker_id=self.engine.worker_id, error=str(exc))
            return next_due, None
        return next_due, wake

    # ── health ───────────────────────────────────────────────────────────────────────────────────
    def health(self) -> WorkerHealth:
        """A snapshot of the worker's health."""
        with self._state_lock:
            snap = attrs.evolve(self._health)
        try:
            snap.now = self.engine.now()
        except Exception:  # a broken clock must not break the health report
            snap.now = None
        return snap

    def _publish_health(self, *, log: bool = True) -> None:
        snap = self.health()
        if log:
            _log.info("worker.health", **snap.to_json())
        self._write_health_file(snap)

    def _write_health_file(self, snap: WorkerHealth | None = None) -> None:
        if self.health_file is None:
            return
        snap = snap if snap is not None else self.health()
        tmp = self.health_file.with_name(f".{self.health_file.name}.{os.getpid()}.tmp")
        text = json.dumps(snap.to_json(), ensure_ascii=False, sort_keys=True) + "\n"
        with self._health_file_lock:
            try:
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, self.health_file)
            except OSError as exc:
                _log.warning("worker.health_file_failed", path=str(self.health_file), error=str(exc))

    def __repr__(self) -> str:
        return f"TimerWorker({self.engine.worker_id!r}, interval={self.interval}, store={self.engine.store!r})"
