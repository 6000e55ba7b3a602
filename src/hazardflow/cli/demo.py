"""``hazardflow demo``: walk sample cases of a township through the lifecycle and print what happened."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from .._engine import Engine
    from ..abc import Store

TOWNSHIP = "500240204"  # 重庆市石柱土家族自治县三星乡
COUNTY = "500240"


def run_demo(engine: Engine) -> list[tuple[str, str, str]]:
    """Run the sample cases on ``engine`` (whose clock must be a SimulatedClock); return (case, step, result)."""
    from .._clock import SimulatedClock
    from .._exceptions import HazardflowError
    from .._model import Actor

    clock = engine.clock
    if not isinstance(clock, SimulatedClock):
        raise TypeError("the demo needs an engine on a SimulatedClock")
    log: list[tuple[str, str, str]] = []
    unit = "500240204-BU-0001"
    inspector = Actor("e-zhang", "张检查", {"inspector"}, unit, TOWNSHIP)
    manager = Actor("e-li", "李安全", {"safety_manager"}, unit, TOWNSHIP)
    boss = Actor("e-wang", "王厂长", {"principal_officer"}, unit, TOWNSHIP)
    fixer = Actor("e-chen", "陈维修", {"inspector"}, unit, TOWNSHIP)
    township = Actor("t-liu", "刘安办", {"township_officer"}, "三星乡安办", TOWNSHIP)
    supervisor = Actor("c-zhao", "赵执法", {"supervisor"}, "石柱县应急管理局", COUNTY)
    committee = Actor("c-qian", "钱安委办", {"safety_committee_office"}, "石柱县安委办", COUNTY)

    def step(case_id: str, what: str, fn: Any) -> Any:
        try:
            result = fn()
        except HazardflowError as exc:
            log.append((case_id, what, f"refused: {exc.code}: {exc}"))
            return None
        state = getattr(result, "state", "")
        log.append((case_id, what, f"→ {state}"))
        return result

    common = {"nature": "unsafe_condition", "business_unit": unit}
    # 1. A general hazard fixed on the spot (即查即改): the inspector signs, not the fixer.
    a = engine.open_case(
        "hazard",
        actor=inspector,
        jurisdiction=TOWNSHIP,
        grade="general",
        source="enterprise_self_inspection",
        industry="industry_trade",
        location="一号车间",
        description="砂轮机防护罩缺失",
        **common,
    )
    log.append((a.id, "register 一般隐患", f"→ {a.state}"))
    step(
        a.id,
        "fix_on_spot signed by the fixer",
        lambda: engine.fire(a.id, "fix_on_spot", actor=fixer, payload={"fixed_by": fixer.id, "measures": "加装防护罩"}),
    )
    step(
        a.id,
        "fix_on_spot signed by the inspector",
        lambda: engine.fire(
            a.id, "fix_on_spot", actor=inspector, payload={"fixed_by": fixer.id, "measures": "加装防护罩"}
        ),
    )

    # 2. A general hazard by deadline; nobody may close it without review, nor review their own fix.
    b = engine.open_case(
        "hazard",
        actor=township,
        jurisdiction=TOWNSHIP,
        grade="general",
        source="supervisory_inspection",
        industry="industry_trade",
        location="仓库",
        description="消防通道堆放杂物",
        **common,
    )
    log.append((b.id, "register 一般隐患 (督导检查)", f"→ {b.state}"))
    step(
        b.id,
        "approve before any fix",
        lambda: engine.fire(b.id, "approve", actor=township, payload={"opinion": "同意"}),
    )
    step(
        b.id,
        "set_deadline (限期整改)",
        lambda: engine.fire(
            b.id,
            "set_deadline",
            actor=township,
            payload={"deadline": "2024-03-15", "measures": "清理通道", "responsible": "李安全"},
        ),
    )
    clock.advance(days=5)
    step(
        b.id,
        "submit_review",
        lambda: engine.fire(
            b.id, "submit_review", actor=manager, payload={"evidence": ["整改后照片.jpg"], "rectified_by": manager.id}
        ),
    )
    step(
        b.id,
        "approve by the rectifier",
        lambda: engine.fire(b.id, "approve", actor=manager, payload={"opinion": "已整改"}),
    )
    step(
        b.id,
        "approve by the township",
        lambda: engine.fire(b.id, "approve", actor=township, payload={"opinion": "现场复核通过"}),
    )

    # 3. A major hazard: confirm → dual report → list → plan → overdue ladder → review → delist.
    c = engine.open_case(
        "hazard",
        actor=supervisor,
        jurisdiction=TOWNSHIP,
        grade="major",
        source="enforcement",
        industry="chemicals",
        location="储罐区",
        description="重大危险源储罐区未设置紧急切断装置",
        **common,
    )
    log.append((c.id, "register 重大隐患 (执法检查)", f"→ {c.state}"))
    step(c.id, "confirm_major", lambda: engine.fire(c.id, "confirm_major", actor=manager, payload={"opinion": "确认"}))
    step(c.id, "adopt_plan before reporting", lambda: engine.fire(c.id, "adopt_plan", actor=boss, payload={}))
    for recipient in ("supervising_department", "workers_congress"):
        step(
            c.id,
            f"report → {recipient}",
            lambda r=recipient: engine.fire(
                c.id,
                "report",
                actor=boss,
                payload={
                    "recipient": r,
                    "status_and_cause": "切断阀缺失，设计遗漏",
                    "harm_and_difficulty": "泄漏无法快速隔离，需停产改造",
                    "plan_summary": "加装紧急切断及SIS",
                },
            ),
        )
    step(
        c.id,
        "list_for_supervision (县安委办挂牌)",
        lambda: engine.fire(
            c.id, "list_for_supervision", actor=committee, payload={"document_no": "石安办〔2024〕3号"}
        ),
    )
    step(
        c.id,
        "adopt_plan (治理方案/五落实)",
        lambda: engine.fire(
            c.id,
            "adopt_plan",
            actor=boss,
            payload={
                "goal_tasks": "消除储罐区无紧急切断隐患",
                "methods_measures": "加装紧急切断阀和独立SIS",
                "funds_materials": "专项资金",
                "funds_amount": 350000,
                "organization_people": "设备部、安全部",
                "responsible_person": "王厂长",
                "deadline": "2024-04-30",
                "safety_emergency_measures": "停用储罐、专人值守",
            },
        ),
    )
    clock.set("2024-05-20T09:00:00+08:00")
    report = engine.run_due()
    log.append((c.id, "run_due after the deadline", f"fired {report.fired} timer(s), late {report.late}"))
    cur = engine.get(c.id)
    log.append((c.id, "overdue ladder", f"overdue={cur.overdue}, highest rung={cur.sanction_rung}"))
    step(
        c.id,
        "submit_review with evaluation",
        lambda: engine.fire(
            c.id,
            "submit_review",
            actor=boss,
            payload={
                "evidence": ["验收报告.pdf"],
                "rectified_by": manager.id,
                "evaluation_report": "专家评估：隐患已消除",
            },
        ),
    )
    step(
        c.id,
        "approve by the county supervisor",
        lambda: engine.fire(c.id, "approve", actor=supervisor, payload={"opinion": "审核通过"}),
    )
    step(c.id, "delist by the listing authority", lambda: engine.fire(c.id, "delist", actor=committee, payload={}))
    return log


def _unused_ids(store: Store) -> Callable[[str, datetime], str]:
    """Sequential ids (``HZ-000001``, ...) that skip the ids already in ``store``."""
    from .._engine import SequentialIds

    seq = SequentialIds()

    def ids(prefix: str, now: datetime) -> str:
        while True:
            case_id = seq(prefix, now)
            if store.load_case(case_id) is None:
                return case_id

    return ids


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        store: str = typer.Option("memory", "--store", help="memory, or a database URL such as sqlite:///demo.db"),
    ) -> None:
        """Walk sample cases of 三星乡 through the lifecycle and print what happened (演示)."""
        from rich.console import Console
        from rich.table import Table

        from .._clock import SimulatedClock
        from .._engine import Engine, SequentialIds

        clock = SimulatedClock("2024-03-04T09:00:00+08:00")
        if store == "memory":
            engine = Engine(clock=clock, ids=SequentialIds())
        else:
            from .._exceptions import HazardflowError
            from ..persistence.sql import SqlStore

            try:
                sql = SqlStore(store)
            except HazardflowError as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(2) from None
            # Run again on the same database: number the new cases after the ones already there.
            engine = Engine(store=sql, clock=clock, ids=_unused_ids(sql))
        from .._exceptions import HazardflowError

        try:
            log = run_demo(engine)
            verdict = str(engine.verify_audit())
        except HazardflowError as exc:  # a read-only or full database, a lost connection: one line, no traceback
            engine.close()
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        table = Table(title="hazardflow demo · 重庆市石柱县三星乡", show_lines=False)
        table.add_column("case")
        table.add_column("step")
        table.add_column("result", overflow="fold")
        for row in log:
            table.add_row(*row)
        console = Console()
        console.print(table)
        console.print(verdict)
