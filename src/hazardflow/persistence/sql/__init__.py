"""The SQL store: SQLite by default (a local file, zero set-up), PostgreSQL in production.

::

    store = SqlStore("sqlite:///hazards.db")                              # WAL + synchronous=NORMAL
    store = SqlStore("sqlite:///hazards.db?synchronous=full")             # survives power loss too
    store = SqlStore("postgresql+psycopg://app@db.example/hazards")       # many processes, many workers
    engine = Engine(store=store, policies=[...])                         # or Engine.from_url(url, ...)

**One transaction per commit.** :meth:`SqlStore.commit` writes every case row (``UPDATE … WHERE id = ? AND
rev = ?``, or ``INSERT`` for a new case), audit event, timer change, idempotency key, confidential value and
outbox row of its writes in one database transaction: all of them are stored or none is. A revision that
moved, an idempotency key already used, or a timer fired that is no longer armed raises
:class:`~hazardflow.ConcurrentUpdateError` and writes nothing. A timer's firing runs in the transaction that
claimed it (:meth:`SqlStore.claim_timer`), so no other worker fires it meanwhile. ``Engine.batch()`` hands
many commands to one commit (bulk imports, simulations): the same checks per command, grouped into
``executemany`` statements.

**The hot path is not an ORM.** Tables are SQLModel classes (``_tables.py``, which the Alembic migrations
follow), but reads and writes run prepared statements on the driver connection (``sqlite3`` /
``psycopg``), and rows are mapped to the attrs domain objects explicitly (``_case_from_row`` and friends).
On PostgreSQL a commit is pipelined: the statements go in one round trip, the revision check is read, and
``COMMIT`` follows.

**SQLite settings.** Every connection runs ``journal_mode=WAL``, ``synchronous=NORMAL`` (default) or
``FULL``, ``foreign_keys=ON`` and a busy timeout (default 30 s); writes take the write lock up front
(``BEGIN IMMEDIATE``). With ``NORMAL`` a committed command survives a crash of the process (``kill -9``)
but the last commits before a power loss or OS crash may be lost (the database stays consistent); with
``FULL`` every commit is synced to disk first (3 to 4 times slower per commit).

**Errors.** Database faults become :class:`~hazardflow.PersistenceError` subclasses:
:class:`~hazardflow.DatabaseUnavailable` (cannot connect or open, bad URL),
:class:`~hazardflow.DatabaseReadOnly`, :class:`~hazardflow.StorageFull` (disk or database full) and
:class:`~hazardflow.SchemaVersionError` (no schema, schema older or newer than this release); a failed
commit is rolled back, so nothing partial is written.

**Modules.** The store is a package; :class:`SqlStore` is importable from it (``hazardflow.persistence.sql``):

* ``_store``: :class:`SqlStore` itself, composed of the parts below: opening (dialect, settings), the
  public reads, closing.
* ``_statements``: the SQL text: column lists, the prepared statements of both dialects, the timer claim's
  locking read, and which optional case columns a command's ``UPDATE`` sets.
* ``_connect``: engine creation (URL checks, SQLite pragmas and ``BEGIN IMMEDIATE``), the store's own pool
  of driver connections, and the mapping of driver errors to hazardflow's errors.
* ``_schema``: the schema revision check on open, and creating, migrating and dropping the schema.
* ``_rows``: values and rows between the database and the domain objects (timestamps per dialect, JSON
  columns deep-frozen, rows to :class:`~hazardflow.Case`, :class:`~hazardflow.AuditEvent` and timers).
* ``_commit``: the atomic commit: the plan of parameter rows, the SQLite and pipelined PostgreSQL
  transactions, and which command lost a race.
* ``_claims``: due timers, claiming one in the firing's transaction, holding one back.
"""

from __future__ import annotations

from ._store import SqlStore

__all__ = ["SqlStore"]
