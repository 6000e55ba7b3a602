"""Argument checks shared by the engine and the stores: each refuses with :class:`InvalidInput`, naming the
argument, showing the value and saying what is allowed, before anything is read or written."""

from __future__ import annotations

from datetime import UTC, datetime

from ._exceptions import InvalidInput

__all__ = ["aware_utc", "positive_int", "text_id"]


def aware_utc(name: str, instant: object) -> datetime:
    """An aware instant converted to UTC; a naive one is refused (its zone would be a guess)."""
    if not isinstance(instant, datetime) or instant.tzinfo is None or instant.utcoffset() is None:
        shown = instant.isoformat() if isinstance(instant, datetime) else repr(instant)
        raise InvalidInput(name, shown, "must be a timezone-aware datetime (hazardflow stores UTC)")
    return instant.astimezone(UTC)


def positive_int(name: str, value: object) -> int:
    """A positive integer (``True`` is not one)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(name, value, "must be a positive integer")
    return value


def text_id(name: str, value: object, *, max_length: int = 200) -> str:
    """A non-empty string of at most ``max_length`` characters (a timer id, a worker name)."""
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise InvalidInput(name, value, f"must be a non-empty string of at most {max_length} characters")
    return value
