"""The database goes away under a running service: 503 problem+json that names no URL, no password, no SQL."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
import sqlalchemy as sa

from hazard_world import REGISTER, People
from server_support import JWT_ARGS, service

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]


def test_a_lost_database_answers_503_without_secrets(postgres_databases: Callable[[], str]) -> None:
    from hazardflow.persistence.sql import SqlStore

    url = postgres_databases()
    SqlStore(url).close()
    name = sa.make_url(url).database
    admin = sa.make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with service(url, *JWT_ARGS) as svc, svc.client(People.officer) as c:
        r = c.post(
            "/v1/cases",
            json={"workflow": "hazard", "jurisdiction": "500240204", "fields": {**REGISTER, "grade": "general"}},
        )
        assert r.status_code == 201
        cid = r.json()["id"]
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        for resp in (
            c.get(f"/v1/cases/{cid}"),
            c.get("/v1/health"),
            c.post(f"/v1/cases/{cid}/fire", json={"trigger": "void", "payload": {"reason": "误报"}}),
        ):
            assert resp.status_code == 503, resp.text
            assert resp.headers["content-type"] == "application/problem+json"
            assert resp.headers["retry-after"]
            body = resp.json()
            assert body["code"] == "hazardflow.database_unavailable"
            assert body["type"] == "urn:hazardflow:problem:database-unavailable"
            for secret in ("postgresql", "127.0.0.1", name, "SELECT", "psycopg", "Traceback"):
                assert secret not in resp.text, secret
