"""Clocks. Nothing in hazardflow reads the wall clock except :class:`SystemClock`."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from ._exceptions import InvalidInput

__all__ = ["SimulatedClock", "SystemClock"]


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class SimulatedClock:
    """A clock that only moves when told to (tests and simulations). It never goes backwards."""

    def __init__(self, start: datetime | str = "2024-01-01T09:00:00+08:00") -> None:
        if isinstance(start, str):
            start = datetime.fromisoformat(start)
        if start.tzinfo is None:
            raise InvalidInput("start", start.isoformat(), "a simulated clock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The simulated instant (UTC); it changes only through :meth:`advance` and :meth:`set`."""
        return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move forward by ``delta`` (or ``days=``, ``hours=``, ...); returns the new time."""
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise InvalidInput("delta", str(step), "a simulated clock never goes backwards")
        with self._lock:
            self._now += step
            return self._now

    def set(self, instant: datetime | str) -> datetime:
        """Jump to ``instant`` (not earlier than now)."""
        if isinstance(instant, str):
            instant = datetime.fromisoformat(instant)
        if instant.tzinfo is None:
            raise InvalidInput("instant", instant.isoformat(), "must be timezone-aware")
        instant = instant.astimezone(UTC)
        with self._lock:
            if instant < self._now:
                raise InvalidInput(
                    "instant",
                    instant.isoformat(),
                    f"a simulated clock never goes backwards (now {self._now.isoformat()})",
                )
            self._now = instant
            return self._now

    def __repr__(self) -> str:
        return f"SimulatedClock({self._now.isoformat()})"
