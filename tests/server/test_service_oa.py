"""The OA routes over HTTP: the pull to-do list (统一待办) and webhook subscription management."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from hazard_world import REGISTER, UNIT, People
from server_support import Service
from workflow_support import COUNTY_OFFICE, EMERGENCY_OFFICE

pytestmark = [pytest.mark.timeout(180)]


def todos(svc: Service, actor: Any, **params: str) -> list[dict[str, Any]]:
    with svc.client(actor) as c:
        r = c.get("/v1/todos", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == len(body["items"])
    return list(body["items"])


def test_todos_follow_the_case_for_whoever_must_act(svc: Service) -> None:
    with svc.client(People.inspector) as c:
        r = c.post(
            "/v1/cases",
            json={"workflow": "hazard", "jurisdiction": "500240204", "fields": {**REGISTER, "grade": "general"}},
        )
    cid = r.json()["id"]
    mine = [i for i in todos(svc, People.manager) if i["case_id"] == cid]
    assert mine, "the unit's safety manager has a to-do for the new hazard"
    assert all(i["status"] == "pending" for i in mine)
    assert all(i["receiver"].endswith("@" + UNIT) or "@500240204" in i["receiver"] for i in mine)
    assert mine[0]["pc_url"] == f"/cases/{cid}"
    assert not [i for i in todos(svc, People.other_unit_manager) if i["case_id"] == cid]
    first_ids = {i["id"] for i in mine}
    assert first_ids == {i["id"] for i in todos(svc, People.manager) if i["case_id"] == cid}  # stable ids

    with svc.client(People.manager) as c:
        r = c.post(
            f"/v1/cases/{cid}/fire",
            json={
                "trigger": "set_deadline",
                "payload": {
                    "deadline": (date.today() + timedelta(days=20)).isoformat(),
                    "measures": "m",
                    "responsible": "r",
                },
            },
        )
        assert r.status_code == 200, r.text
    after = [i for i in todos(svc, People.manager) if i["case_id"] == cid]
    assert not first_ids & {i["id"] for i in after}, "the registration step's items are no longer pending"
    assert {i["step"] for i in after} == {"rectifying"}  # a step is the state the case waits in
    assert {i["step"] for i in mine} == {"registered"}

    officer_items = todos(svc, People.supervisor, assignee="township_officer@500240204")
    assert all(i["receiver"] == "township_officer@500240204" for i in officer_items)
    with svc.client(People.other_officer) as c:
        r = c.get("/v1/todos", params={"assignee": "township_officer@500240204"})
        assert r.status_code == 403
        assert r.json()["code"] == "hazardflow.access_denied"
        r = c.get("/v1/todos", params={"assignee": "no-at-sign"})
        assert r.status_code == 422
        assert r.json()["code"] == "hazardflow.invalid_input"
    with svc.client(People.other_unit_manager) as c:
        r = c.get("/v1/todos", params={"assignee": f"safety_manager@{UNIT}"})
        assert r.status_code == 403


def test_webhook_subscriptions_are_managed_by_the_offices_within_their_jurisdiction(svc: Service) -> None:
    with svc.client(COUNTY_OFFICE) as c:
        r = c.post(
            "/v1/subscriptions",
            json={"url": "https://oa.example.gov.cn/hooks/hazard", "event_types": ["hazard.*", "todo.updated"]},
        )
        assert r.status_code == 201, r.text
        sub = r.json()
        assert sub["secret"].startswith("whsec_")
        assert sub["jurisdiction"] == COUNTY_OFFICE.jurisdiction
        assert r.headers["location"] == f"/v1/subscriptions/{sub['id']}"
        listed = c.get("/v1/subscriptions").json()
        assert sub["id"] in [s["id"] for s in listed]
        assert all("secret" not in s for s in listed)
        read = c.get(f"/v1/subscriptions/{sub['id']}").json()
        assert "secret" not in read
        assert read["event_types"] == ["hazard.*", "todo.updated"]
        bad = c.post("/v1/subscriptions", json={"url": "ftp://x", "event_types": []})
        assert bad.status_code == 422
        assert bad.json()["field"] == "url"
        other = c.post("/v1/subscriptions", json={"url": "https://oa.example/h", "jurisdiction": "500241"})
        assert other.status_code == 403
    # A township's emergency office does not see the county's subscription; an inspector manages none.
    with svc.client(EMERGENCY_OFFICE) as c:
        assert sub["id"] not in [s["id"] for s in c.get("/v1/subscriptions").json()]
        assert c.get(f"/v1/subscriptions/{sub['id']}").status_code == 403
    with svc.client(People.inspector) as c:
        r = c.get("/v1/subscriptions")
        assert r.status_code == 403
        assert r.json()["code"] == "hazardflow.access_denied"
    with svc.client(COUNTY_OFFICE) as c:
        assert c.delete(f"/v1/subscriptions/{sub['id']}").status_code == 204
        gone = c.get(f"/v1/subscriptions/{sub['id']}")
        assert gone.status_code == 404
        assert gone.headers["content-type"] == "application/problem+json"
        assert gone.json()["code"] == "hazardflow.webhook_not_found"
