"""``examples/tipoff_to_escalated_closure.py`` runs as written and ends where its docstring says."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "tipoff_to_escalated_closure.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tipoff_example", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_script_prints_the_audit_trail() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, encoding="utf-8", check=True, cwd=ROOT
    )
    out = done.stdout
    assert "audit OK: 3 case(s)" in out
    assert "township approval refused: hazardflow.not_authorized" in out
    assert "escalation refused: policy_eligible: 一般事故隐患应由本级立行立改" in out
    for label in (
        "受理举报",
        "举报查实",
        "逾期督办升级",
        "提请纳入蓄水池",
        "审批纳入",
        "上级接收",
        "移交监管层级",
        "审核销号",
    ):
        assert label in out, label
    # The reporter's identity is read once (audited) and never printed.
    assert "查阅举报人信息" in out
    assert "139-0000-0000" not in out
    assert done.stderr == ""


def test_the_walkthrough_ends_closed_at_the_county(tmp_path: Path) -> None:
    example = _load()
    engine = example.build_engine(f"sqlite:///{tmp_path / 'walk.db'}")
    ids = example.run(engine)
    tip, hazard, esc = (engine.get(ids[k]) for k in ("tipoff", "hazard", "escalation"))
    assert tip.state == "substantiated"
    assert tip.fields["reward_eligible"] is True
    assert hazard.state == "closed"
    assert hazard.source == "public_report_verified"
    assert hazard.fields["tipoff_id"] == tip.id
    assert hazard.owning_jurisdiction == example.COUNTY
    assert hazard.sanction_rung >= 1
    assert esc.state == "accepted"
    # 三星乡's own policy ran every case [seed:002 (八)].
    assert {tip.policy_id, hazard.policy_id, esc.policy_id} == {"cn.cq.shizhu.sanxing"}
    assert esc.fields["steps"] == ("leader_in_charge", "head")
    assert esc.fields["explanation"].startswith("管网改造")
    assert [a["step"] for a in esc.fields["approvals"]] == ["leader_in_charge", "head"]
    closing = engine.history(hazard.id)[-1]
    assert closing.type == "case.closed"
    assert closing.actor_jurisdiction == example.COUNTY
    assert engine.verify_audit().ok
    engine.close()
