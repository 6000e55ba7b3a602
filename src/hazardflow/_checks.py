"""Argument checks shared by the engine and the stores: each refuses with :class:`InvalidInput`, naming the
argument, showing the value and saying what is allowed, before anything is read or written.

Every text value that reaches a store (case fields and payloads, actor names and ids, reasons, case ids,
idempotency keys, query filters) passes :func:`check_text` once, in the engine, so the memory, SQLite and
PostgreSQL stores refuse the same values alike: NUL and the other C0 and C1 control characters (tab, line
feed and carriage return excepted) and lone UTF-16 surrogates, which PostgreSQL cannot store and which no
person types. The check is one precompiled regular-expression search per string.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from ._exceptions import InvalidInput

__all__ = [
    "TEXT_RULE",
    "aware_utc",
    "check_text",
    "close_match",
    "find_bad_text",
    "json_text_problem",
    "optional_text",
    "positive_int",
    "text_id",
    "text_problem",
]

#: What a text value may not hold: C0 controls but tab (U+0009), line feed (U+000A) and carriage return
#: (U+000D); DEL and the C1 controls (U+007F-U+009F); lone surrogates (U+D800-U+DFFF, not encodable in UTF-8).
_BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_search = _BAD_TEXT.search
#: The raw search (a match object when the string holds a forbidden character): hot paths call it directly.
find_bad_text = _search

TEXT_RULE = "text may hold tab and line breaks but no NUL, no other C0/C1 control character and no lone surrogate"


def text_problem(value: str) -> str:
    """Why ``value`` is refused ("" when it holds no forbidden character)."""
    m = _search(value)
    if m is None:
        return ""
    return f"contains the control character U+{ord(m.group()):04X} at position {m.start()}; {TEXT_RULE}"


def check_text(name: str, value: str, *, show_value: bool = True) -> str:
    """``value`` unchanged when it holds no forbidden character; :class:`InvalidInput` naming ``name`` otherwise.

    ``value`` must already be a ``str`` (the caller checked the type). ``show_value=False`` keeps a
    confidential value out of the error.
    """
    if _search(value) is not None:
        raise InvalidInput(name, value if show_value else "<confidential>", text_problem(value), show_value=show_value)
    return value


def optional_text(name: str, value: object) -> str | None:
    """``None``, or a string checked by :func:`check_text` (anything else is refused as not a string)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(name, value, "must be a string (or None)")
    return check_text(name, value)


def json_text_problem(value: Any, where: str = "") -> str:
    """Why a JSON-like value holds a forbidden character in a string or a key ("" when it holds none)."""
    if isinstance(value, str):
        problem = text_problem(value)
        return f"{where or 'a value'} {problem}" if problem else ""
    if isinstance(value, Mapping):
        for k, item in value.items():
            if isinstance(k, str) and _search(k) is not None:
                return f"a key {text_problem(k)}"
            problem = json_text_problem(item, f"{where}.{k}" if where else str(k))
            if problem:
                return problem
        return ""
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            problem = json_text_problem(item, f"{where}[{i}]")
            if problem:
                return problem
    return ""


def close_match(value: object, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``value``, compared case-insensitively (``SET_DEADLINE`` finds
    ``set_deadline``); None when nothing is close, or when ``value`` is not a short string."""
    if not isinstance(value, str) or not value or len(value) > 100:
        return None
    by_lower: dict[str, str] = {}
    for c in candidates:
        by_lower.setdefault(c.lower(), c)
    found = difflib.get_close_matches(value.lower(), list(by_lower), n=1)
    return by_lower[found[0]] if found else None


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
    return check_text(name, value)
