"""``hazardflow webhooks …`` and ``hazardflow deliver --once`` on a SQLite file, refusals included."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hazard_world import World, new_engine
from hazardflow.cli import app
from hazardflow.persistence.sql import SqlStore
from hazardflow.webhooks import new_secret, webhook_store
from webhook_support import Receiver


def test_add_list_deliver_redeliver_remove(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    engine, clock = new_engine(store=SqlStore(url))
    World(engine, clock).register()
    runner = CliRunner()
    secret = new_secret()
    with Receiver(secret) as rx:
        added = runner.invoke(app, ["webhooks", "add", rx.url, "--url", url, "-t", "hazard.*", "--secret", secret])
        assert added.exit_code == 0, added.output
        sub = json.loads(added.output)
        assert sub["secret"] == secret
        assert sub["event_types"] == ["hazard.*"]
        listed = runner.invoke(app, ["webhooks", "list", "--url", url])
        assert [json.loads(line)["id"] for line in listed.output.splitlines()] == [sub["id"]]
        assert secret not in listed.output
        sent = runner.invoke(app, ["deliver", "--url", url, "--once"])
        assert sent.exit_code == 0, sent.output
        assert len(rx.accepted) == 1
        rows = runner.invoke(app, ["webhooks", "deliveries", "--url", url, "--status", "delivered"])
        (row,) = [json.loads(line) for line in rows.stdout.splitlines()]
        assert "body" not in row
        again = runner.invoke(app, ["webhooks", "redeliver", row["id"], "--url", url])
        assert again.exit_code == 0
        assert runner.invoke(app, ["deliver", "--url", url, "--once"]).exit_code == 0
        assert rx.accepted[row["id"]] == 2  # the same webhook-id again
    removed = runner.invoke(app, ["webhooks", "remove", sub["id"], "--url", url])
    assert removed.exit_code == 0
    assert webhook_store(engine.store).list_subscriptions() == []
    engine.store.close()


def test_refusals_exit_2_and_change_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    SqlStore(url).close()
    runner = CliRunner()
    bad = runner.invoke(app, ["webhooks", "add", "ftp://x/y", "--url", url])
    assert bad.exit_code == 2
    assert "ftp://x/y" in bad.output
    assert runner.invoke(app, ["webhooks", "add", "http://127.0.0.1:9/", "--url", url, "-t", "a..b"]).exit_code == 2
    assert runner.invoke(app, ["webhooks", "list", "--url", url]).output == ""
    gone = runner.invoke(app, ["webhooks", "remove", "sub_nope", "--url", url])
    assert gone.exit_code == 2
    assert "sub_nope" in gone.output
    assert runner.invoke(app, ["webhooks", "redeliver", "msg_nope", "--url", url]).exit_code == 2
    assert runner.invoke(app, ["webhooks", "list", "--url", f"sqlite:///{tmp_path / 'missing.db'}"]).exit_code == 2
    assert runner.invoke(app, ["deliver", "--url", url, "--once", "--pc-url", "/x/{nope}"]).exit_code == 2


def test_worker_once_with_deliver_sends_the_outbox(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    engine, clock = new_engine(store=SqlStore(url))
    World(engine, clock).register()
    secret = new_secret()
    with Receiver(secret) as rx:
        webhook_store(engine.store).add_subscription(rx.url, now=clock.now(), secret=secret, event_types=["hazard.*"])
        result = CliRunner().invoke(app, ["worker", "--url", url, "--once", "--deliver"])
        assert result.exit_code == 0, result.output
        assert '"event": "worker.deliver"' in result.output
        assert len(rx.accepted) == 1
    engine.store.close()
