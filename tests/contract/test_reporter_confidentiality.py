"""Invariant 6, second half: a reporter's identity never leaves the confidential record.

For a generated identity, one tip-off is received and driven to an end (substantiated into a hazard,
dismissed, or merged into a hazard on file); then every read path is tried with an actor of every role:
``get``, ``history``, ``cases``, ``allowed``, ``verify_audit``, the audit export (``AuditEvent.to_dict``,
``replay``), the outbox, the spawned hazard and its events, listeners, the errors of every trigger of every
workflow, ``reporter()`` itself, structlog and stdlib logging output (SQL statement logging switched on), and on
the SQL stores every row of every table but the confidential one. The identity appears only in what
``reporter()`` returns, and only to the roles the policy allows.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from hazardflow import Engine, HazardflowError, replay
from hazardflow._glossary import terms
from hazardflow.abc import Store
from hazardflow.persistence.memory import MemoryStore
from workflow_support import (
    DESK,
    OFFICER,
    TOWNSHIP,
    UNIT,
    make_engine,
    person,
    receive,
    register,
)

ROLES = sorted(t.id for t in terms("role") if t.id != "system")
ALLOWED = frozenset({"complaint_officer"})  # NationalBaseline.reporter_roles


def memory_store() -> tuple[Store, str | None]:
    return MemoryStore(), None


def sqlite_store() -> tuple[Store, str | None]:
    from hazardflow.persistence.sql import SqlStore

    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='hf-confidential-')) / 'cases.db'}"
    return SqlStore(url), url


def postgres_store() -> tuple[Store, str | None]:
    import psycopg
    import sqlalchemy as sa

    from hazardflow.persistence.sql import SqlStore

    plain = sa.make_url(_PG["url"]).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("TRUNCATE hf_outbox, hf_confidential, hf_idempotency, hf_timer, hf_event, hf_case")
    return SqlStore(_PG["url"]), _PG["url"]


def _dump_tables(url: str) -> list[str]:
    """Every row of every hazardflow table but the confidential one, as a database dump would show it."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            tables = [t for t in sa.inspect(conn).get_table_names() if t.startswith("hf_") and t != "hf_confidential"]
            assert "hf_event" in tables
            return [repr(row) for table in tables for row in conn.execute(sa.text(f"SELECT * FROM {table}"))]
    finally:
        engine.dispose()


_PG: dict[str, str] = {}
STORES = {"memory": memory_store, "sqlite": sqlite_store, "postgres": postgres_store}

_LABELS = "\n".join(t.zh for t in terms())
# A name inside a glossary label (即查 in 即查即改) would be "found" in every message showing that label.
names = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2, max_size=5).filter(
    lambda n: n not in _LABELS
)
phones = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
endings = st.sampled_from(["substantiate", "dismiss", "merge", "pending"])


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def _texts(value: Any) -> Iterator[str]:
    """Every text form a host might show or store: str, repr, and JSON (UTF-8 and ASCII-escaped)."""
    yield str(value)
    yield repr(value)
    try:
        yield json.dumps(value, ensure_ascii=False, default=str)
        yield json.dumps(value, ensure_ascii=True, default=str)
    except (TypeError, ValueError):
        pass


def _error_text(err: HazardflowError) -> Iterator[str]:
    yield from _texts(err)
    yield from _texts(err.details())
    yield from _texts(err.args)


def _actor(role: str) -> Any:
    org = UNIT if role in ("inspector", "safety_manager", "principal_officer") else None
    return person(f"p-{role}", role, TOWNSHIP, org)


def _junk_payloads(engine: Engine) -> Iterator[tuple[str, str]]:
    for wf_id, lc in engine.workflows.items():
        for trigger in sorted(lc.by_trigger):
            yield wf_id, trigger


def _run(
    engine: Engine, name: str, phone: str, ending: str, error_roles: frozenset[str] | None = None
) -> tuple[list[str], list[str]]:
    """Drive the tip-off, then read everything with every role; return (public texts, identities read)."""
    public: list[str] = []
    read: list[str] = []
    seen_events: list[Any] = []
    engine.subscribe(lambda case, event: seen_events.append((case, event)))

    on_file = register(engine)
    t = receive(engine, reporter_name=name, reporter_contact=phone)
    # A second report whose contact is malformed: the error must not echo it.
    try:
        receive(engine, reporter_name=name, reporter_contact=[phone])
    except HazardflowError as err:
        public.extend(_error_text(err))
    if ending != "pending":
        engine.fire(t.id, "start_verification", actor=OFFICER)
    if ending == "substantiate":
        engine.fire(
            t.id,
            "substantiate",
            actor=OFFICER,
            payload={"findings": "属实", "grade": "general", "nature": "unsafe_act"},
        )
    elif ending == "dismiss":
        engine.fire(t.id, "dismiss", actor=OFFICER, payload={"reason": "不属实"})
    elif ending == "merge":
        engine.fire(t.id, "merge_duplicate", actor=OFFICER, payload={"hazard_id": on_file.id})

    case_ids = [c.id for c in engine.cases()]
    for role in ROLES:
        actor = _actor(role)
        refused: HazardflowError | None = None
        try:
            read.append(json.dumps(engine.reporter(t.id, actor, purpose="核实"), ensure_ascii=False))
        except HazardflowError as err:
            refused = err
            public.extend(_error_text(err))
        assert (refused is None) == (role in ALLOWED), f"{role}: {refused}"
        for cid in case_ids:
            public.extend(_texts(engine.allowed(cid, actor)))
            case = engine.get(cid)
            for wf_id, trigger in _junk_payloads(engine):
                if wf_id != case.workflow or (error_roles is not None and role not in error_roles):
                    continue
                # Every trigger, with a payload that is wrong in a way the identity would show if echoed.
                for payload in ({"reporter_name": name}, {"purpose": 0, "reason": phone, "opinion": [name]}):
                    try:
                        engine.fire(cid, trigger, actor=actor, payload=payload)
                    except HazardflowError as err:
                        public.extend(_error_text(err))
    for cid in [c.id for c in engine.cases()]:
        case = engine.get(cid)
        public.extend(_texts(case))
        public.extend(_texts(dict(case.fields)))
        events = engine.history(cid)
        public.extend(_texts([e.to_dict() for e in events]))
        public.extend(_texts(replay(events)))
        public.extend(_texts(list(engine.store.iter_events(cid))))
    public.extend(_texts(list(engine.cases())))
    public.extend(_texts(engine.store.read_outbox()))
    public.append(str(engine.verify_audit()))
    public.extend(_texts([(c, e.to_dict()) for c, e in seen_events]))
    for eng_case in engine.cases(workflow="hazard"):
        if eng_case.fields.get("tipoff_id") == t.id:
            assert ending == "substantiate"
    assert engine.verify_audit().ok
    return public, read


@pytest.fixture
def store_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    if kind == "postgres":
        _PG["url"] = request.getfixturevalue("postgres_url")
    return kind


@pytest.mark.parametrize(
    "store_kind", ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
@settings(max_examples=8, suppress_health_check=list(HealthCheck), deadline=None)
@given(name=names, phone=phones, ending=endings)
def test_identity_never_leaves_the_confidential_record(store_kind: str, name: str, phone: str, ending: str) -> None:
    store, url = STORES[store_kind]()
    engine = make_engine(store)
    handler = _ListHandler()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # As an operator who turns on SQL statement logging would: parameters must not carry the identity.
    sql_log = logging.getLogger("sqlalchemy.engine")
    old_sql_level = sql_log.level
    sql_log.setLevel(logging.INFO)
    try:
        with capture_logs() as logs:
            # Error messages are built by the engine, not the store: every role on memory, one role a run (in
            # turn) on the SQL stores, whose own part is the reading and writing around them.
            turn = None if store_kind == "memory" else frozenset({ROLES[len(name + phone) % len(ROLES)]})
            public, read = _run(engine, name, phone, ending, turn)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        sql_log.setLevel(old_sql_level)
        engine.close()
    public.extend(_texts(logs))
    public.extend(handler.lines)
    if url is not None:
        # The database itself: every table but the confidential one is free of the identity.
        public.extend(_dump_tables(url))
        if url.startswith("sqlite:///"):
            shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)
    secrets = (name, phone, json.dumps(name)[1:-1])
    for text in public:
        for secret in secrets:
            assert secret not in text, f"identity leaked: {secret!r} in {text[:300]!r}"
    # The allowed role read it, and only it.
    assert len(read) == len(ALLOWED)
    assert all(name in r and phone in r for r in read)


def test_the_test_would_see_a_leak() -> None:
    # Guard against a vacuous property: the same read paths do show a value that is not confidential.
    engine = make_engine()
    public, _ = _run(engine, "举报人丙", "13911112222", "substantiate")
    assert any(DESK.id in text for text in public)
    assert any("三星乡场镇某仓库" in text for text in public)
