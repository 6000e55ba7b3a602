"""The HTTP service end to end: uvicorn in a subprocess over 127.0.0.1, SQLite and PostgreSQL.

A hazard walked from registration to closure by four people over HTTP; every refusal as problem+json with
its status, type, code and fields, changing nothing; who may read what; Idempotency-Key replay, reuse and
in-flight; the audited reporter read; case lists with filters and cursors.
"""

from __future__ import annotations

import itertools
import threading
import time
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from hazard_world import REGISTER, UNIT, People
from server_support import Service
from workflow_support import COUNTY_DESK, DESK

pytestmark = [pytest.mark.timeout(180)]

PROBLEM = "application/problem+json"


def soon(days: int = 20) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def open_hazard(svc: Service, actor: Any = People.inspector, **fields: Any) -> dict[str, Any]:
    with svc.client(actor) as c:
        r = c.post(
            "/v1/cases",
            json={
                "workflow": "hazard",
                "jurisdiction": People.inspector.jurisdiction,
                "fields": {**REGISTER, "grade": "general", **fields},
            },
        )
    assert r.status_code == 201, r.text
    return dict(r.json())


def fire(
    svc: Service, actor: Any, case_id: str, trigger: str, payload: dict[str, Any] | None = None, **kw: Any
) -> httpx.Response:
    with svc.client(actor) as c:
        return c.post(f"/v1/cases/{case_id}/fire", json={"trigger": trigger, "payload": payload or {}}, **kw)


def assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = dict(r.json())
    assert body["status"] == status
    assert body["code"] == code
    if code.startswith("hazardflow.http_"):
        assert body["type"] == "about:blank"  # RFC 9457 §4.2.1: the status says it all
    else:
        assert body["type"] == "urn:hazardflow:problem:" + code.removeprefix("hazardflow.").replace("_", "-")
    assert body["title"]
    assert body["detail"]
    assert "Traceback" not in r.text
    return body


def get_case(svc: Service, case_id: str, actor: Any = People.officer) -> dict[str, Any]:
    with svc.client(actor) as c:
        r = c.get(f"/v1/cases/{case_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


# ── the walk ───────────────────────────────────────────────────────────────────────────────────────────
def test_a_hazard_from_registration_to_closure_over_http(svc: Service) -> None:
    case = open_hazard(svc)
    assert case["state"] == "registered"
    assert case["state_zh"] == "已登记"
    assert case["rev"] == 1
    cid = case["id"]

    with svc.client(People.manager) as c:
        allowed = c.get(f"/v1/cases/{cid}/triggers").json()
    assert "set_deadline" in [t["trigger"] for t in allowed["triggers"]]
    assert {"trigger": "set_deadline", "zh": "限期整改", "en": "order rectification by a deadline"} in allowed[
        "triggers"
    ]

    r = fire(
        svc,
        People.manager,
        cid,
        "set_deadline",
        {"deadline": soon(), "measures": "加装防护罩", "responsible": "李安全"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "rectifying"
    assert r.json()["deadline"]["key"]
    r = fire(svc, People.manager, cid, "submit_review", {"evidence": ["照片1"], "rectified_by": "e-chen"})
    assert r.status_code == 200, r.text
    r = fire(svc, People.officer, cid, "approve", {"opinion": "整改到位，同意销号"})
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["state"] == "closed"
    assert closed["closed_at"] is not None
    assert closed["rev"] == 4

    with svc.client(People.officer) as c:
        events = c.get(f"/v1/cases/{cid}/history").json()
        allowed = c.get(f"/v1/cases/{cid}/triggers").json()
    assert [e["trigger"] for e in events] == ["register", "set_deadline", "submit_review", "approve"]
    assert [e["seq"] for e in events] == [1, 2, 3, 4]
    assert events[-1]["actor_id"] == People.officer.id
    assert events[-1]["trigger_zh"] == "审核销号"
    assert all(e["prev_hash"] == p["hash"] for p, e in itertools.pairwise(events))
    assert get_case(svc, cid) == closed
    assert allowed["state"] == "closed"


# ── refusals ───────────────────────────────────────────────────────────────────────────────────────────
def test_an_unknown_case_is_404(svc: Service) -> None:
    with svc.client(People.officer) as c:
        for r in (c.get("/v1/cases/HZ-NOPE"), c.get("/v1/cases/HZ-NOPE/history"), c.get("/v1/cases/HZ-NOPE/triggers")):
            body = assert_problem(r, 404, "hazardflow.case_not_found")
            assert body["case_id"] == "HZ-NOPE"
    assert_problem(fire(svc, People.officer, "HZ-NOPE", "approve"), 404, "hazardflow.case_not_found")


def test_a_trigger_not_possible_now_is_409_with_the_allowed_ones_and_changes_nothing(svc: Service) -> None:
    cid = open_hazard(svc)["id"]
    before = get_case(svc, cid)
    body = assert_problem(
        fire(svc, People.officer, cid, "approve", {"opinion": "同意"}), 409, "hazardflow.transition_not_allowed"
    )
    assert body["case_id"] == cid
    assert body["trigger"] == "approve"
    assert body["state"] == "registered"
    assert "set_deadline" in body["allowed"]
    assert "审核销号" in body["detail"]
    assert body["instance"] == f"/v1/cases/{cid}/fire"
    assert get_case(svc, cid) == before


def test_an_actor_without_the_role_is_403_not_authorized(svc: Service) -> None:
    cid = open_hazard(svc)["id"]
    before = get_case(svc, cid)
    body = assert_problem(
        fire(svc, People.inspector, cid, "set_deadline", {"deadline": soon(), "measures": "m", "responsible": "r"}),
        403,
        "hazardflow.not_authorized",
    )
    assert body["actor_id"] == People.inspector.id
    assert body["required_roles"]
    assert get_case(svc, cid) == before


def test_a_rule_refusal_is_409_guard_rejected_naming_the_guard(svc: Service) -> None:
    cid = open_hazard(svc)["id"]
    fire(svc, People.manager, cid, "set_deadline", {"deadline": soon(), "measures": "m", "responsible": "r"})
    fire(svc, People.manager, cid, "submit_review", {"evidence": ["照片"], "rectified_by": "e-chen"})
    before = get_case(svc, cid)
    # The one who submitted may not also approve (DESIGN invariant 1).
    body = assert_problem(
        fire(svc, People.manager, cid, "approve", {"opinion": "自己批"}), 409, "hazardflow.guard_rejected"
    )
    assert body["guard"] == "reviewer_independent"
    assert body["reason_zh"]
    assert body["reason_en"]
    assert get_case(svc, cid) == before


def test_bad_payloads_and_bodies_are_422_invalid_input(svc: Service) -> None:
    cid = open_hazard(svc)["id"]
    body = assert_problem(
        fire(svc, People.manager, cid, "set_deadline", {"deadline": "tomorrow-ish"}), 422, "hazardflow.invalid_input"
    )
    assert body["field"]
    with svc.client(People.officer) as c:
        r = c.post(f"/v1/cases/{cid}/fire", content=b"{not json", headers={"content-type": "application/json"})
        assert_problem(r, 422, "hazardflow.invalid_input")
        r = c.post(f"/v1/cases/{cid}/fire", json={"payload": {}})
        body = assert_problem(r, 422, "hazardflow.invalid_input")
        assert body["errors"][0]["pointer"] == "/trigger"
        r = c.post("/v1/cases", json={"workflow": "hazardd", "jurisdiction": "500240204", "fields": {}})
        body = assert_problem(r, 422, "hazardflow.invalid_input")
        assert "hazard" in body["allowed"]
        r = c.post("/v1/cases", json={"workflow": "hazard", "jurisdiction": "99", "fields": dict(REGISTER)})
        assert r.status_code == 422
    assert get_case(svc, cid)["rev"] == 1


def test_routes_and_methods_that_do_not_exist_answer_problem_json(svc: Service) -> None:
    with svc.client(People.officer) as c:
        body = assert_problem(c.get("/v1/nowhere"), 404, "hazardflow.http_404")
        assert body["title"] == "Not Found"
        assert_problem(c.delete("/v1/cases"), 405, "hazardflow.http_405")


# ── who may read what ──────────────────────────────────────────────────────────────────────────────────
def test_reads_are_scoped_to_the_jurisdiction_and_the_unit(svc: Service) -> None:
    cid = open_hazard(svc)["id"]
    assert get_case(svc, cid, People.supervisor)["id"] == cid  # the county above reads the township's case
    assert get_case(svc, cid, People.manager)["id"] == cid  # the unit reads its own case
    for outsider in (People.other_officer, People.other_unit_manager, People.other_county_supervisor):
        with svc.client(outsider) as c:
            for path in (f"/v1/cases/{cid}", f"/v1/cases/{cid}/history", f"/v1/cases/{cid}/triggers"):
                body = assert_problem(c.get(path), 403, "hazardflow.access_denied")
                assert body["actor_id"] == outsider.id


# ── idempotency ────────────────────────────────────────────────────────────────────────────────────────
def test_idempotency_key_replays_the_first_result_and_refuses_another_body(svc: Service) -> None:
    cid = open_hazard(svc)["id"]
    payload = {"deadline": soon(), "measures": "加装防护罩", "responsible": "李安全"}
    key = {"Idempotency-Key": '"6f1c2a8e-0b7d-4e57-9a3c-2f1d5b6e7a80"'}
    first = fire(svc, People.manager, cid, "set_deadline", payload, headers=key)
    assert first.status_code == 200
    assert "idempotent-replayed" not in first.headers
    again = fire(svc, People.manager, cid, "set_deadline", payload, headers=key)
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    other = fire(svc, People.manager, cid, "set_deadline", {**payload, "measures": "另一个"}, headers=key)
    body = assert_problem(other, 422, "hazardflow.idempotency_key_reused")
    assert body["key"] == "6f1c2a8e-0b7d-4e57-9a3c-2f1d5b6e7a80"
    with svc.client(People.officer) as c:
        assert len(c.get(f"/v1/cases/{cid}/history").json()) == 2  # one command, recorded once
    # Another caller with the same key is another request (keys are scoped to the caller).
    assert_problem(
        fire(svc, People.boss, cid, "set_deadline", payload, headers=key), 409, "hazardflow.transition_not_allowed"
    )


def test_idempotency_key_on_open_returns_the_same_case(svc: Service) -> None:
    body = {"workflow": "hazard", "jurisdiction": "500240204", "fields": {**REGISTER, "grade": "general"}}
    with svc.client(People.inspector) as c:
        a = c.post("/v1/cases", json=body, headers={"Idempotency-Key": "open-0001"})
        b = c.post("/v1/cases", json=body, headers={"Idempotency-Key": "open-0001"})
        other = c.post(
            "/v1/cases",
            json={**body, "fields": {**body["fields"], "location": "二号车间"}},
            headers={"Idempotency-Key": "open-0001"},
        )
        bad = c.post("/v1/cases", json=body, headers={"Idempotency-Key": "not a token"})
    assert a.status_code == b.status_code == 201
    assert a.json() == b.json()
    assert a.headers["location"] == b.headers["location"] == f"/v1/cases/{a.json()['id']}"
    assert_problem(other, 422, "hazardflow.idempotency_key_reused")
    assert_problem(bad, 422, "hazardflow.invalid_input")


def test_a_key_still_in_flight_is_409(svc: Service, db_url: str) -> None:
    """Hold the database's write lock so the first request waits; the second with the key gets 409 at once."""
    cid = open_hazard(svc)["id"]
    payload = {"deadline": soon(), "measures": "m", "responsible": "r"}
    key = {"Idempotency-Key": '"in-flight-1"'}
    results: dict[str, httpx.Response] = {}
    with hold_write_lock(db_url, cid):
        t = threading.Thread(
            target=lambda: results.setdefault(
                "first", fire(svc, People.manager, cid, "set_deadline", payload, headers=key)
            )
        )
        t.start()
        time.sleep(1.0)  # the first request is now waiting for the lock
        second = fire(svc, People.manager, cid, "set_deadline", payload, headers=key)
        assert "first" not in results
    t.join(30)
    body = assert_problem(second, 409, "hazardflow.idempotency_key_in_flight")
    assert body["key"] == "in-flight-1"
    assert results["first"].status_code == 200
    third = fire(svc, People.manager, cid, "set_deadline", payload, headers=key)
    assert third.status_code == 200
    assert third.headers["idempotent-replayed"] == "true"


class hold_write_lock:  # noqa: N801 (a context manager read as a phrase)
    """Block writers to ``case_id`` from outside the service: SQLite's write lock, or the case row on PostgreSQL."""

    def __init__(self, url: str, case_id: str) -> None:
        self.url = url
        self.case_id = case_id
        self.conn: Any = None

    def __enter__(self) -> None:
        if self.url.startswith("sqlite"):
            import sqlite3

            self.conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            import psycopg
            import sqlalchemy as sa

            plain = sa.make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)
            self.conn = psycopg.connect(plain)
            self.conn.execute("SELECT id FROM hf_case WHERE id = %s FOR UPDATE", (self.case_id,))

    def __exit__(self, *exc: object) -> None:
        self.conn.rollback() if not self.url.startswith("sqlite") else self.conn.execute("ROLLBACK")
        self.conn.close()


# ── the reporter ───────────────────────────────────────────────────────────────────────────────────────
TIPOFF = {
    "channel": "public",
    "category": "blocked_fire_exit",
    "description": "仓库安全出口被货物堵死",
    "location": "三星乡场镇某仓库",
    "business_unit": UNIT,
    "industry": "fire_safety",
    "reporter_name": "举报人甲",
    "reporter_contact": "13900001111",
}


def test_the_reporter_is_read_only_by_allowed_roles_and_every_reading_is_audited(svc: Service) -> None:
    with svc.client(DESK) as c:
        r = c.post("/v1/cases", json={"workflow": "tipoff", "jurisdiction": DESK.jurisdiction, "fields": TIPOFF})
        assert r.status_code == 201, r.text
        tid = r.json()["id"]
        assert "举报人甲" not in r.text
        assert "13900001111" not in r.text
        read = c.post(f"/v1/cases/{tid}/reporter", json={"purpose": "回访举报人核实细节"})
        assert read.status_code == 200, read.text
        assert read.json() == {
            "case_id": tid,
            "reporter": {"reporter_name": "举报人甲", "reporter_contact": "13900001111"},
        }
        assert read.headers["cache-control"] == "no-store"
        history = c.get(f"/v1/cases/{tid}/history")
        case = c.get(f"/v1/cases/{tid}")
    assert history.json()[-1]["trigger"] == "view_reporter"
    assert history.json()[-1]["payload"]["purpose"] == "回访举报人核实细节"
    assert history.json()[-1]["actor_id"] == DESK.id
    for text in (history.text, case.text):
        assert "举报人甲" not in text
        assert "13900001111" not in text
    # A role the policy does not allow: 403, and nothing is read or recorded.
    with svc.client(People.officer) as c:
        refused = c.post(f"/v1/cases/{tid}/reporter", json={"purpose": "想知道是谁"})
    body = assert_problem(refused, 403, "hazardflow.not_authorized")
    assert "举报人甲" not in refused.text
    assert body["trigger"] == "view_reporter"
    # An enterprise role never reads a tip-off at all; a desk of another county is outside it.
    with svc.client(People.manager) as c:
        assert_problem(c.get(f"/v1/cases/{tid}"), 403, "hazardflow.access_denied")
    with svc.client(COUNTY_DESK) as c:
        assert c.post(f"/v1/cases/{tid}/reporter", json={"purpose": "复核"}).status_code == 200
    with svc.client(DESK) as c:
        assert len(c.get(f"/v1/cases/{tid}/history").json()) == 3
        assert_problem(c.post(f"/v1/cases/{tid}/reporter", json={"purpose": ""}), 422, "hazardflow.invalid_input")


# ── lists ──────────────────────────────────────────────────────────────────────────────────────────────
def test_case_lists_filter_scope_and_page_with_cursors(svc: Service) -> None:
    made = [open_hazard(svc, location=f"车间{i}")["id"] for i in range(5)]
    fire(svc, People.manager, made[0], "set_deadline", {"deadline": soon(), "measures": "m", "responsible": "r"})
    seen: list[str] = []
    with svc.client(People.supervisor) as c:  # the county: the township's cases are below it
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2, "workflow": "hazard"}
            if cursor:
                params["cursor"] = cursor
            page = c.get("/v1/cases", params=params).json()
            assert len(page["items"]) <= 2
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen))
        assert set(made) <= set(seen)
        rect = c.get("/v1/cases", params={"state": "rectifying,closed", "limit": 500}).json()["items"]
        assert made[0] in [i["id"] for i in rect]
        assert all(i["state"] in ("rectifying", "closed") for i in rect)
        assert c.get("/v1/cases", params={"jurisdiction": "500240204", "grade": "major"}).json()["items"] == [] or all(
            i["fields"]["grade"] == "major" for i in c.get("/v1/cases", params={"grade": "major"}).json()["items"]
        )
        assert_problem(c.get("/v1/cases", params={"cursor": "garbage!"}), 422, "hazardflow.invalid_input")
        assert_problem(c.get("/v1/cases", params={"limit": 0}), 422, "hazardflow.invalid_input")
    with svc.client(People.other_officer) as c:  # another township: none of these
        ids = [i["id"] for i in c.get("/v1/cases", params={"limit": 500}).json()["items"]]
        assert not set(made) & set(ids)
        assert_problem(c.get("/v1/cases", params={"jurisdiction": "500240204"}), 403, "hazardflow.access_denied")
    with svc.client(People.other_unit_manager) as c:  # an enterprise: its own unit only
        items = c.get("/v1/cases", params={"limit": 500}).json()["items"]
        assert all(i["fields"]["business_unit"] == People.other_unit_manager.org for i in items)
        assert_problem(c.get("/v1/cases", params={"workflow": "tipoff"}), 403, "hazardflow.access_denied")
