"""The SQL text of the store: column lists, prepared statements per dialect, the timer claim, case updates.

Statements are written with ``?`` placeholders (SQLite's); the store swaps them for ``%s`` on PostgreSQL
when it opens. Nothing here touches a connection.
"""

from __future__ import annotations

from ..._model import AuditEvent

_CASE_COLS = (
    "id, workflow, state, rev, jurisdiction, owning_jurisdiction, policy_id, policy_version, deadline, overdue, "
    "sanction_rung, opened_at, updated_at, closed_at, fields, last_hash, pins, policy_chain"
)
_TIMER_COLS = (
    "id, case_id, workflow, kind, key, due_at, armed_seq, armed_state, rung, status, lease_owner, "
    "lease_expires_at, fired_at, fired_seq, late_seconds"
)
_SQL = {
    "insert_case": (
        "INSERT INTO hf_case (id, workflow, state, rev, jurisdiction, owning_jurisdiction, policy_id, "
        "policy_version, grade, industry, source, department, business_unit, deadline_at, deadline, overdue, "
        "sanction_rung, opened_at, updated_at, closed_at, fields, last_hash, pins, policy_chain) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
    ),
    "insert_event": (
        "INSERT INTO hf_event (case_id, seq, workflow, type, trigger, from_state, to_state, actor_id, actor_name, "
        "actor_role, actor_org, actor_jurisdiction, occurred_at, policy_id, policy_version, reason, "
        "idempotency_key, late_seconds, prev_hash, hash, body) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_id, seq) DO NOTHING"
    ),
    "fire_timer": (
        "UPDATE hf_timer SET status = 'fired', fired_at = ?, fired_seq = ?, late_seconds = ?, lease_owner = NULL, "
        "lease_expires_at = NULL WHERE id = ? AND status = 'armed'"
    ),
    "cancel_timers": (
        "UPDATE hf_timer SET status = 'cancelled', lease_owner = NULL, lease_expires_at = NULL "
        "WHERE case_id = ? AND status = 'armed'"
    ),
    "insert_timer": (
        f"INSERT INTO hf_timer ({_TIMER_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, NULL)"
    ),
    "insert_idem": (
        "INSERT INTO hf_idempotency (scope, key, case_id, seq, command_hash) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (scope, key) DO NOTHING"
    ),
    "upsert_confidential": (
        "INSERT INTO hf_confidential (case_id, name, value) VALUES (?, ?, ?) "
        "ON CONFLICT (case_id, name) DO UPDATE SET value = excluded.value"
    ),
    "insert_outbox": (
        "INSERT INTO hf_outbox (case_id, seq, event_type, created_at, delivered_at, attempts) "
        "VALUES (?, ?, ?, ?, NULL, 0)"
    ),
    "load_case": f"SELECT {_CASE_COLS} FROM hf_case WHERE id = ?",
    "has_case": "SELECT 1 FROM hf_case WHERE id = ?",
    "load_events": "SELECT body, hash FROM hf_event WHERE case_id = ? ORDER BY seq",
    "lookup_idem": "SELECT case_id, seq, command_hash FROM hf_idempotency WHERE scope = ? AND key = ?",
    "armed_timers": f"SELECT {_TIMER_COLS} FROM hf_timer WHERE case_id = ? AND status = 'armed' ORDER BY due_at, id",
    "get_timer": f"SELECT {_TIMER_COLS} FROM hf_timer WHERE id = ?",
    "next_due": "SELECT min(due_at) FROM hf_timer WHERE status = 'armed'",
    "due_timers": (
        f"SELECT {_TIMER_COLS} FROM hf_timer WHERE status = 'armed' AND due_at <= ? "
        "AND (lease_expires_at IS NULL OR lease_expires_at <= ?) ORDER BY due_at, id LIMIT ?"
    ),
    "hold_timer": ("UPDATE hf_timer SET lease_owner = ?, lease_expires_at = ? WHERE id = ? AND status = 'armed'"),
    "cancel_timer": (
        "UPDATE hf_timer SET status = 'cancelled', lease_owner = NULL, lease_expires_at = NULL "
        "WHERE id = ? AND status = 'armed'"
    ),
    "read_confidential": "SELECT name, value FROM hf_confidential WHERE case_id = ?",
    "case_rev": "SELECT rev FROM hf_case WHERE id = ?",
    "read_outbox": "SELECT id, case_id, seq, event_type FROM hf_outbox WHERE id > ? ORDER BY id LIMIT ?",
}
#: SQLite reads the case fields as the stored UTF-8 bytes (decoded by orjson straight from them) and casts
#: the JSON it is handed as bytes to TEXT, so the column holds text as before.
_CASE_COLS_SQLITE = _CASE_COLS.replace(", fields,", ", CAST(fields AS BLOB),")
_SQL_SQLITE = {
    **_SQL,
    "load_case": f"SELECT {_CASE_COLS_SQLITE} FROM hf_case WHERE id = ?",
    "insert_case": _SQL["insert_case"].replace(
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT), ?, ?, ?)",
    ),
    "insert_event": _SQL["insert_event"].replace(
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT))",
    ),
}


def _claim_cols(case_cols: str) -> str:
    return ", ".join([*(f"t.{c}" for c in _TIMER_COLS.split(", ")), *(f"c.{c}" for c in case_cols.split(", "))])


#: Claim one due timer with its case: the first statement of the firing's transaction. SQLite runs it under
#: the write lock (``BEGIN IMMEDIATE``), which is the claim. PostgreSQL locks both rows up front (a user
#: command that updates the case and then cancels its timers takes them in the other order, so locking only
#: the timer could deadlock with it) and skips, never waits for, rows another transaction holds: nothing
#: returned means another worker (or a command) holds the timer or its case right now, or the timer is gone.
#: Under ``READ COMMITTED`` a row changed since the statement began is re-read at its newest version and the
#: conditions checked again, so a timer another worker has just fired is never returned.
_CLAIM_WHERE = (
    "FROM hf_timer t JOIN hf_case c ON c.id = t.case_id WHERE t.id = ? AND t.status = 'armed' AND t.due_at <= ? "
    "AND (t.lease_expires_at IS NULL OR t.lease_expires_at <= ?)"
)
# The case columns as the dialect's own case reads select them (SQLite: the fields as bytes).
_CLAIM_SQLITE = f"SELECT {_claim_cols(_CASE_COLS).replace('c.fields,', 'CAST(c.fields AS BLOB),')} {_CLAIM_WHERE}"
_CLAIM_POSTGRES = f"SELECT {_claim_cols(_CASE_COLS)} {_CLAIM_WHERE} FOR UPDATE OF t, c SKIP LOCKED".replace("?", "%s")
_N_TIMER_COLS = len(_TIMER_COLS.split(", "))


#: Columns an UPDATE sets only when the command changed them (so SQLite leaves the other indexes alone):
#: (bit, columns). ``rev``, ``updated_at``, ``fields`` and ``last_hash`` are always set.
_OPTIONAL: tuple[tuple[int, tuple[str, ...]], ...] = (
    (1 << 0, ("state",)),
    (1 << 1, ("owning_jurisdiction",)),
    (1 << 2, ("policy_id", "policy_version", "policy_chain")),
    (1 << 3, ("grade",)),
    (1 << 4, ("industry",)),
    (1 << 5, ("source",)),
    (1 << 6, ("department",)),
    (1 << 7, ("business_unit",)),
    (1 << 8, ("deadline_at", "deadline")),
    (1 << 9, ("overdue",)),
    (1 << 10, ("sanction_rung",)),
    (1 << 11, ("closed_at",)),
    (1 << 12, ("pins",)),
)
#: Case fields with a column of their own, and their bit.
_FIELD_BITS = (
    ("grade", 1 << 3),
    ("industry", 1 << 4),
    ("source", 1 << 5),
    ("department", 1 << 6),
    ("business_unit", 1 << 7),
)
_TOP_BITS = (
    ("owning_jurisdiction", 1 << 1),
    ("policy_id", 1 << 2),
    ("policy_version", 1 << 2),
    ("policy_chain", 1 << 2),
    ("deadline", 1 << 8),
    ("overdue", 1 << 9),
    ("sanction_rung", 1 << 10),
    ("closed_at", 1 << 11),
    ("pins", 1 << 12),
)


_TOP_BIT = dict(_TOP_BITS)
_FIELD_BIT = dict(_FIELD_BITS)


def _changed_bits(ev: AuditEvent) -> int:
    """Which optional case columns the event's ``changes`` (what the command changed) touch."""
    bits = 1 if ev.from_state != ev.to_state else 0
    ch = ev.changes
    if ch:
        # The change record names a handful of keys: look each up, rather than every column in the record.
        top = _TOP_BIT.get
        for name in ch:
            bits |= top(name, 0)
        fields = ch.get("fields")
        if fields:
            col = _FIELD_BIT.get
            for name in fields:
                bits |= col(name, 0)
    return bits


def _update_sql(bits: int) -> str:
    cols = [c for bit, group in _OPTIONAL if bits & bit for c in group]
    cols += ["rev", "updated_at", "fields", "last_hash"]
    return "UPDATE hf_case SET " + ", ".join(f"{c} = ?" for c in cols) + " WHERE id = ? AND rev = ?"
