"""Policy layers composed down the tree: a county's new rules reach its townships unless they override.

The first four tests are the four situations of the issue that asked for layers; each failed before the
registry composed layers at resolve time.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, ClassVar

import attrs
import pytest
from hazardflow_seed_policies import POLICIES, SanxingTownship, ShizhuCounty, jurisdiction_tree
from typer.testing import CliRunner

from hazardflow import Actor, DeadlineSpec, Engine, PolicyDefinitionError, SimulatedClock, replay
from hazardflow._audit import GENESIS, event_hash, verify_chain
from hazardflow._calendar import local_date
from hazardflow.policies import Layer, NationalBaseline, PolicyRegistry, extend
from hazardflow.policies.migration import MigrationPlan

COUNTY = "500240"
TOWN = "500240204"
UNIT = "BU-1"
INSPECTOR = Actor("e-insp", "检查员", {"inspector"}, UNIT, TOWN)
MANAGER = Actor("e-mgr", "安全员", {"safety_manager"}, UNIT, TOWN)

SEVEN = DeadlineSpec.working_days(7, source="test county 2024")
NINE = DeadlineSpec.working_days(9, source="test county 2026")


def _review(policy: Any) -> DeadlineSpec | None:
    spec: DeadlineSpec | None = policy.deadlines["review"]
    return spec


# ── the four situations of the issue ──────────────────────────────────────────────────────────────
class County(NationalBaseline):
    policy_id: ClassVar[str] = "test.county"
    policy_version: ClassVar[str] = "2024.1"
    jurisdiction: ClassVar[str] = COUNTY
    name: ClassVar[str] = "测试县"
    deadlines: ClassVar[Any] = {**NationalBaseline.deadlines, "review": SEVEN}


class County2026(County):
    policy_version: ClassVar[str] = "2026.1"
    effective_from: ClassVar[date | None] = date(2026, 1, 1)
    deadlines: ClassVar[Any] = {**County.deadlines, "review": NINE}


class Town(County):
    """A township written the old way, as a subclass of its county's class."""

    policy_id: ClassVar[str] = "test.town"
    policy_version: ClassVar[str] = "2024.1"
    jurisdiction: ClassVar[str] = TOWN
    name: ClassVar[str] = "测试乡"


def test_a_new_county_version_reaches_a_township_written_as_its_subclass() -> None:
    reg = PolicyRegistry([County, County2026, Town])
    assert _review(reg.resolve(TOWN, date(2025, 6, 1))) == SEVEN
    assert _review(reg.resolve(TOWN, date(2026, 6, 1))) == NINE
    assert reg.chain_pins(TOWN, date(2026, 6, 1)) == (
        ("cn.national", "2024.1"),
        ("test.county", "2026.1"),
        ("test.town", "2024.1"),
    )


def test_sanxing_follows_a_new_version_of_shizhu_county() -> None:
    class Shizhu2026(ShizhuCounty):
        policy_version: ClassVar[str] = "2026.1"
        effective_from: ClassVar[date | None] = date(2026, 1, 1)
        deadlines: ClassVar[Any] = {"review": NINE}

    reg = PolicyRegistry([*POLICIES, Shizhu2026])
    before, after = reg.resolve(TOWN, date(2025, 6, 1)), reg.resolve(TOWN, date(2026, 6, 1))
    assert _review(before) == NationalBaseline.deadlines["review"]
    assert _review(after) == NINE
    # The township's own rules and the county's other rules still hold.
    assert "township_government" in after.report_recipients
    assert ("escalation", "accept_escalation") in after.permissions
    assert after.policy_id == SanxingTownship.policy_id


def test_a_township_written_on_the_national_baseline_gets_its_county_rules() -> None:
    class Township(NationalBaseline):
        policy_id: ClassVar[str] = "test.town.national"
        policy_version: ClassVar[str] = "1"
        jurisdiction: ClassVar[str] = TOWN
        name: ClassVar[str] = "测试乡"
        stop_every_major: ClassVar[bool] = True

    reg = PolicyRegistry([County, Township])
    policy = reg.resolve(TOWN)
    assert _review(policy) == SEVEN
    assert policy.stop_every_major is True


def test_problems_name_a_township_that_breaks_its_countys_rules() -> None:
    class Strict(Layer):
        policy_id: ClassVar[str] = "test.county.strict"
        policy_version: ClassVar[str] = "1"
        jurisdiction: ClassVar[str] = COUNTY
        name: ClassVar[str] = "测试县"
        report_recipients: ClassVar[Any] = extend("township_government")

    class Dropping(NationalBaseline):
        policy_id: ClassVar[str] = "test.town.dropping"
        policy_version: ClassVar[str] = "1"
        jurisdiction: ClassVar[str] = TOWN
        name: ClassVar[str] = "测试乡"
        report_recipients: ClassVar[tuple[str, ...]] = ("supervising_department", "workers_congress")

    with pytest.raises(PolicyDefinitionError) as info:
        Engine(policies=[Strict, Dropping])
    (problem,) = info.value.problems
    assert problem.startswith("test.town.dropping@1: drops dual-report recipient(s) 'township_government'")
    assert "test.county.strict@1 requires" in problem


# ── every chain problem at once, at build and on registration ──────────────────────────────────────
def _layer(pid: str, code: str, **attrs_: Any) -> type:
    ns: dict[str, Any] = {"policy_id": pid, "policy_version": "1", "jurisdiction": code, "name": pid, **attrs_}
    return type(pid.replace(".", "_"), (Layer,), ns)


def test_one_error_lists_every_chain_problem() -> None:
    province = _layer("t.cq", "500000", effective_from=date(2024, 1, 1))
    county = _layer("t.shizhu", COUNTY, parent="t.cq", effective_from=date(2023, 1, 1))  # gap: before the province
    outside = _layer("t.xinmi", "410183", parent="t.shizhu")  # registered outside its parent
    a = _layer("t.a", "140000", parent="t.b")
    b = _layer("t.b", "140500", parent="t.a")  # a cycle
    with pytest.raises(PolicyDefinitionError) as info:
        Engine(policies=[province, county, outside, a, b])
    text = "\n".join(info.value.problems)
    assert "t.xinmi@1: registered under 410183, outside its parent layer t.shizhu (500240)" in text
    assert "its parent layers form a cycle: t.a → t.b → t.a" in text
    assert "t.shizhu@1: in force from 2023-01-01 but no version of the layer above it, t.cq (500000)" in text
    assert "a gap in effective dates" in text


def test_registering_a_bad_layer_after_the_build_changes_nothing() -> None:
    engine = Engine(policies=[SanxingTownship, ShizhuCounty], jurisdictions=jurisdiction_tree())
    before = engine.policies.layers()

    class Town2026(SanxingTownship):
        policy_version: ClassVar[str] = "2026.1"
        report_recipients: ClassVar[tuple[str, ...]] = ("supervising_department", "township_government")

    with pytest.raises(PolicyDefinitionError) as info:
        engine.policies.register(Town2026)
    assert "cn.cq.shizhu.sanxing@2026.1: drops dual-report recipient(s) 'workers_congress'" in str(info.value)
    assert ("cn.cq.shizhu.sanxing", "2026.1") not in engine.policies
    assert engine.policies.layers() == before


# ── composition ────────────────────────────────────────────────────────────────────────────────────
def test_a_layer_states_only_what_it_changes_and_super_is_the_parent() -> None:
    class Province(Layer):
        policy_id: ClassVar[str] = "t.p"
        policy_version: ClassVar[str] = "1"
        jurisdiction: ClassVar[str] = "500000"
        name: ClassVar[str] = "省"
        deadlines: ClassVar[Any] = {"verify": DeadlineSpec.working_days(2, source="t")}
        reward_channels: ClassVar[Any] = extend("anonymous")

    class Township(Layer):
        policy_id: ClassVar[str] = "t.t"
        policy_version: ClassVar[str] = "1"
        jurisdiction: ClassVar[str] = TOWN
        name: ClassVar[str] = "乡"
        deadlines: ClassVar[Any] = {"review": SEVEN}

        def deadline(self, key: str, case: Any) -> DeadlineSpec | None:
            if key == "confirm" and case.fields.get("urgent"):
                return DeadlineSpec.hours(24, source="t")
            return super().deadline(key, case)  # whatever the layers above say

    reg = PolicyRegistry([Province, Township])
    p = reg.resolve(TOWN)
    assert p.deadlines["verify"].amount == 2
    assert p.deadlines["review"] == SEVEN
    assert p.deadlines["extension_decision"] == NationalBaseline.deadlines["extension_decision"]
    assert p.reward_channels == NationalBaseline.reward_channels | {"anonymous"}
    case = attrs.evolve(_probe(), fields={"urgent": True})
    assert p.deadline("confirm", case) == DeadlineSpec.hours(24, source="t")
    assert p.deadline("verify", _probe()) == DeadlineSpec.working_days(2, source="t")
    # Composed once per chain, and the same object on every resolve.
    assert reg.resolve(TOWN) is p
    # A layer on its own is the layer over the national baseline.
    alone = Township()
    assert alone.deadlines["verify"] == NationalBaseline.deadlines["verify"]
    assert alone.policy_chain == (("cn.national", "2024.1"), ("t.t", "1"))


def _probe() -> Any:
    from hazardflow import Case
    from hazardflow._model import FrozenDict

    now = SimulatedClock("2024-03-04T09:00:00+08:00").now()
    return Case("P", "hazard", "registered", 1, TOWN, TOWN, "x", "1", now, now, FrozenDict())


# ── pins, replay, migration ────────────────────────────────────────────────────────────────────────
def _open(engine: Engine) -> str:
    case = engine.open_case(
        "hazard",
        actor=INSPECTOR,
        jurisdiction=TOWN,
        grade="general",
        source="enterprise_self_inspection",
        nature="unsafe_condition",
        industry="industry_trade",
        business_unit=UNIT,
        location="车间",
        description="防护罩缺失",
    )
    today = local_date(engine.now())
    engine.fire(
        case.id,
        "set_deadline",
        actor=MANAGER,
        payload={"deadline": str(today + timedelta(days=10)), "measures": "加装", "responsible": "张三"},
    )
    engine.fire(case.id, "submit_review", actor=MANAGER, payload={"evidence": ["照片"], "rectified_by": "e-fix"})
    return case.id


class Shizhu2026(ShizhuCounty):
    policy_version: ClassVar[str] = "2026.1"
    effective_from: ClassVar[date | None] = date(2026, 1, 1)
    deadlines: ClassVar[Any] = {"review": NINE}
    rule_sources: ClassVar[Any] = {"deadlines": "test"}


def test_cases_pin_the_chain_and_a_county_version_migrates_them() -> None:
    clock = SimulatedClock("2025-12-01T09:00:00+08:00")
    engine = Engine(clock=clock, policies=POLICIES, jurisdictions=jurisdiction_tree())
    cid = _open(engine)
    case = engine.get(cid)
    chain = case.policy_chain
    assert chain[-1] == ("cn.cq.shizhu.sanxing", "2023.1")
    assert ("cn.cq.shizhu", "2023.1") in chain
    assert all(ev.policy_chain == chain for ev in engine.history(cid))
    assert case.deadline is not None
    assert case.deadline.spec == NationalBaseline.deadlines["review"]
    # A new county version registered later changes nothing for the open case until it migrates.
    engine.policies.register(Shizhu2026)
    clock.advance(timedelta(days=40))  # into 2026
    assert engine.policy_for(engine.get(cid)).deadlines["review"] == NationalBaseline.deadlines["review"]
    plan = MigrationPlan(
        engine, ("cn.cq.shizhu", "2023.1"), ("cn.cq.shizhu", "2026.1"), "石安委发〔2026〕1号", "新方案", "县安委办"
    )
    report = plan.dry_run()
    (item,) = report.cases
    assert item.movable
    assert item.deadline_changed
    assert item.target_chain == tuple((i, "2026.1" if i == "cn.cq.shizhu" else v) for i, v in chain)
    result = plan.apply(report)
    assert result.migrated == (cid,)
    moved = engine.get(cid)
    assert moved.policy_chain == item.target_chain
    assert moved.deadline is not None
    assert moved.deadline.spec == NINE
    assert plan.apply().migrated == ()  # idempotent: nothing left under the old version
    assert replay(engine.history(cid)) == moved
    assert engine.verify_audit(cid).ok
    last = engine.history(cid)[-1]
    assert last.changes["policy_chain"] == [list(pin) for pin in item.target_chain]


def test_a_plan_in_force_leaves_cases_whose_rules_do_not_change() -> None:
    clock = SimulatedClock("2025-12-01T09:00:00+08:00")
    engine = Engine(clock=clock, policies=POLICIES, jurisdictions=jurisdiction_tree())
    _open(engine)

    class Shizhu2026Same(ShizhuCounty):
        policy_version: ClassVar[str] = "2026.1"
        effective_from: ClassVar[date | None] = date(2026, 1, 1)

    engine.policies.register(Shizhu2026Same)
    clock.advance(timedelta(days=40))
    report = MigrationPlan.in_force(engine, plan_id="p", reason="r", approved_by="a").dry_run()
    (item,) = report.cases
    assert item.unchanged
    assert not item.movable
    assert item.blocked is None
    assert "规则未变 1 件" in report.render("zh")


def test_a_case_pinned_before_layers_still_loads_verifies_and_fires() -> None:
    """A case whose events carry one policy_id@version and no chain (an older database)."""

    clock = SimulatedClock("2024-03-04T09:00:00+08:00")
    engine = Engine(clock=clock, policies=POLICIES, jurisdictions=jurisdiction_tree())
    cid = _open(engine)
    old_events, prev = [], GENESIS
    for stored in engine.history(cid):
        bare = attrs.evolve(stored, policy_chain=(), prev_hash=prev)
        body = bare.to_dict()
        body.pop("hash")
        assert "policy_chain" not in body  # the form events had before chains
        old = attrs.evolve(bare, hash=event_hash(body, None))
        old_events.append(old)
        prev = old.hash
    old_case = attrs.evolve(engine.get(cid), policy_chain=(), last_hash=prev)
    assert verify_chain(old_case, old_events, None) is None
    assert replay(old_events) == old_case
    # Its one pin resolves under the layers in force when it opened.
    policy = engine.policies.for_case(old_case)
    assert policy.policy_chain == engine.get(cid).policy_chain
    assert engine.policy_for(old_case) is policy


# ── the command line ───────────────────────────────────────────────────────────────────────────────
def test_policy_show_flags_shadowing_and_identical_overrides() -> None:
    from hazardflow.cli import app

    res = CliRunner().invoke(app, ["policy", "show", TOWN, "--at", "2024-06-01"])
    assert res.exit_code == 0, res.output
    assert "政策层（锁定）：cn.national@2024.1 → cn.cq@2023.1 → cn.cq.shizhu@2023.1 → cn.cq.shizhu.sanxing@2023.1" in (
        res.output
    )
    # 三星乡 adds a recipient over the national pair: shadowing is visible.
    line = next(ln for ln in res.output.splitlines() if ln.startswith("| 双报告对象"))
    assert "| 本级 | 全国（cn.national） |" in line
    # It restates the national admission procedure with the very same value: flagged.
    line = next(ln for ln in res.output.splitlines() if ln.startswith("| 纳入程序"))
    assert "⚠ 同值覆盖：三星乡（cn.cq.shizhu.sanxing）" in line
    assert "同值覆盖（可删去）：" in res.output


NEW_COUNTY_MODULE = """
from datetime import date
from hazardflow import DeadlineSpec
from hazardflow_seed_policies import ShizhuCounty


class Shizhu2026(ShizhuCounty):
    policy_version = "2026.1"
    effective_from = date(2026, 1, 1)
    deadlines = {"review": DeadlineSpec.working_days(9, source="test county 2026")}


POLICIES = (Shizhu2026,)
"""


def test_cli_policy_migrate_dry_run_then_apply(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from hazardflow.cli import app

    (tmp_path / "shizhu_2026.py").write_text(NEW_COUNTY_MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    url = f"sqlite:///{tmp_path / 'hazards.db'}"
    clock = SimulatedClock("2025-12-01T09:00:00+08:00")
    with Engine.from_url(url, clock=clock, policies=POLICIES, jurisdictions=jurisdiction_tree()) as engine:
        cid = _open(engine)
        before = engine.get(cid).policy_chain
    args = ["policy", "migrate", "--url", url, "--plan-id", "石安委发〔2026〕1号", "--reason", "新方案"]
    args += ["--approved-by", "县安委办", "--import", "shizhu_2026"]
    runner = CliRunner()
    dry = runner.invoke(app, args)
    assert dry.exit_code == 0, dry.output
    assert "可迁移 1 件（其中期限重算 1 件），不能迁移 0 件，规则未变 0 件" in dry.output
    assert "试运行，未写入" in dry.output
    with Engine.from_url(url, policies=POLICIES, jurisdictions=jurisdiction_tree()) as engine:
        assert engine.get(cid).policy_chain == before  # the dry run wrote nothing
    done = runner.invoke(app, [*args, "--apply", "--lang", "en"])
    assert done.exit_code == 0, done.output
    assert "migrated 1, cannot move 0, failed 0" in done.output
    again = runner.invoke(app, [*args, "--apply", "--lang", "en"])
    assert "migrated 0" in again.output  # idempotent
    bad = runner.invoke(app, [*args, "--layer", "cn.cq.shizhu"])
    assert bad.exit_code == 2
    assert "give --layer and --to together" in bad.output


def test_a_chain_with_an_unregistered_layer_is_reported_not_raised() -> None:
    from hazardflow.policies.migration import assess_case

    clock = SimulatedClock("2025-12-01T09:00:00+08:00")
    engine = Engine(clock=clock, policies=POLICIES, jurisdictions=jurisdiction_tree())
    case = engine.get(_open(engine))
    item = assess_case(engine, case, (("cn.national", "2024.1"), ("cn.cq", "2099.1")))
    assert not item.movable
    assert item.blocked is not None
    assert "cn.cq@2099.1" in item.blocked.en
