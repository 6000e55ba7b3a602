"""Values and rows between the database and the domain objects.

Timestamps are fixed-width UTC text on SQLite and ``timestamptz`` on PostgreSQL; JSON columns come back
deep-frozen; rows become :class:`~hazardflow.Case`, :class:`~hazardflow.AuditEvent` and timers without an
ORM. :class:`_RowMapping` holds the row readers that depend on the store's dialect (its ``_dt``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from ..._calendar import Deadline
from ..._exceptions import InvalidInput
from ..._model import AuditEvent, Case, FrozenDict, Timer, chain_from, freeze, new_case

_LOADS = orjson.loads


def _DUMPS(value: Any) -> str:  # noqa: N802 - a module constant in spirit, kept for its callers
    """Compact JSON with the Chinese kept readable. Keys keep their order: these columns are not hashed."""
    return orjson.dumps(value).decode()


#: The last instant formatted and its text: a command stamps one instant on its event and its case, and a
#: batch stamps many commands with the same clock reading. (A tuple, replaced whole: safe across threads.)
_TS_MEMO: list[tuple[datetime | None, str]] = [(None, "")]


def _sqlite_ts(value: datetime | None) -> str | None:
    """UTC as fixed-width text that sorts as time: ``2024-03-04 01:00:00.000000+00:00``."""
    if value is None:
        return None
    last = _TS_MEMO[0]
    if last[0] is value:
        return last[1]
    text = _format_ts(value)
    _TS_MEMO[0] = (value, text)
    return text


def _format_ts(value: datetime) -> str:
    tz = value.tzinfo
    if tz is not UTC:
        if tz is None or value.utcoffset() is None:
            raise InvalidInput("timestamp", value.isoformat(), "must be timezone-aware")
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")


def _sqlite_dt(value: Any) -> datetime | None:
    if value is None:
        return None
    dt = datetime.fromisoformat(value)
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _frozen_list(items: list[Any]) -> tuple[Any, ...]:
    return tuple(_frozen_list(x) if type(x) is list else _frozen_object(x) if type(x) is dict else x for x in items)


_DICT_SET = dict.__setitem__


def _frozen_object(obj: dict[str, Any]) -> FrozenDict:
    """A decoded JSON object, deep-frozen: a copy, with its lists and objects replaced by frozen ones."""
    out = FrozenDict(obj)
    for k, v in obj.items():
        t = type(v)
        if t is list:
            _DICT_SET(out, k, _frozen_list(v))
        elif t is dict:
            _DICT_SET(out, k, _frozen_object(v))
    return out


def _fields_in(value: Any) -> Any:
    """Case fields (or any JSON object) from the database, deep-frozen."""
    if isinstance(value, str | bytes):
        data = orjson.loads(value)
        return _frozen_object(data) if type(data) is dict else freeze(data)
    return freeze(value)


def _pg_ts(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidInput("timestamp", value.isoformat(), "must be timezone-aware")
    return value


def _pg_dt(value: Any) -> datetime | None:
    if value is None:
        return None
    dt: datetime = value
    return dt.astimezone(UTC)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    text: str = _DUMPS(value)
    return text


def _pins_from(data: Mapping[str, Any] | None) -> FrozenDict:
    """Pinned deadlines from their decoded JSON column (None or empty: none)."""
    if not data:
        return _NO_PINS
    return FrozenDict({k: Deadline.from_json(v) for k, v in data.items()})


def _pins_out(pins: Mapping[str, Deadline]) -> str | None:
    return _DUMPS({k: d.to_json() for k, d in pins.items()}) if pins else None


_NO_PINS = FrozenDict()


def _chain_out(chain: tuple[tuple[str, str], ...]) -> str | None:
    return _DUMPS([list(pin) for pin in chain]) if chain else None


def _json_in(value: Any) -> Any:
    return _LOADS(value) if isinstance(value, str) else value


def _opt_str(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value)


def _event_from_row(r: Sequence[Any]) -> AuditEvent:
    data = _LOADS(r[0])
    data["hash"] = r[1]
    return AuditEvent.from_dict(data)


class _RowMapping:
    """Rows to cases and timers, with the dialect's timestamp reader ``_dt`` (a part of :class:`SqlStore`)."""

    _dt: Callable[[Any], datetime | None]

    def _case_from_row(self, r: Sequence[Any]) -> Case:
        dt = self._dt
        deadline = _json_in(r[8])
        raw_pins = _json_in(r[16])
        pins = _pins_from(raw_pins)
        if deadline:
            # A pinned stage deadline is the very pin object, as on the case the engine built.
            key = deadline.get("key")
            due = pins[key] if raw_pins and raw_pins.get(key) == deadline else Deadline.from_json(deadline)
        else:
            due = None
        return new_case(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            r[7],
            dt(r[11]),
            dt(r[12]),
            _fields_in(r[14]),
            due,
            bool(r[9]),
            r[10],
            dt(r[13]),
            r[15],
            pins,
            chain_from(_json_in(r[17])),
        )

    def _timer_from_row(self, r: Sequence[Any]) -> Timer:
        dt = self._dt
        return Timer(
            id=r[0],
            case_id=r[1],
            workflow=r[2],
            kind=r[3],
            key=r[4],
            due_at=dt(r[5]),  # type: ignore[arg-type]
            armed_seq=r[6],
            armed_state=r[7],
            rung=r[8],
            status=r[9],
            lease_owner=r[10],
            lease_expires_at=dt(r[11]),
            fired_at=dt(r[12]),
            fired_seq=r[13],
            late_seconds=r[14],
        )

    def _due_from_rows(self, rows: Sequence[Sequence[Any]]) -> list[Timer]:
        """Timers from the rows of the find query (armed, so never fired; already in (due_at, id) order).

        Deadlines cluster on the same instants (24:00 of a day), so each distinct due instant is parsed once.
        """
        dt = self._dt
        seen: dict[Any, datetime] = {}
        out: list[Timer] = []
        append = out.append
        # Every field is given, in order, so the tuple is made directly (``Timer``'s generated ``__new__``
        # only fills defaults, and costs as much again for a thousand rows).
        make = tuple.__new__
        for r in rows:
            raw = r[5]
            due = seen.get(raw)
            if due is None:
                parsed = dt(raw)
                assert parsed is not None
                due = seen[raw] = parsed
            held = r[11]
            append(
                make(
                    Timer,
                    (
                        r[0],
                        r[1],
                        r[2],
                        r[3],
                        r[4],
                        due,
                        r[6],
                        r[7],
                        r[8],
                        r[9],
                        r[10],
                        None if held is None else dt(held),
                        None,
                        None,
                        None,
                    ),
                )
            )
        return out
