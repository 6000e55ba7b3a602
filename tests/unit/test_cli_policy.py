"""``hazardflow policy list|show|check``: the installed policies, the effective rules, checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import seed_support
from hazardflow.cli import app
from hazardflow.policies.describe import describe_policy, rule_lines

seeds = seed_support.seeds()
runner = CliRunner()
IMPORT = ["--import", "hazardflow_seed_policies"]


def test_list_shows_every_version_and_where_it_comes_from() -> None:
    result = runner.invoke(app, ["policy", "list", *IMPORT])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split("\t") == [
        "policy@version 政策",
        "jurisdiction 辖区",
        "name 名称",
        "in force from 施行",
        "source 来源",
    ]
    assert any(line.startswith("cn.national@2024.1\t000000\t") and line.endswith("built-in") for line in lines)
    sanxing = next(line for line in lines if line.startswith("cn.cq.shizhu.sanxing@2023.1"))
    assert "\t500240204\t重庆市石柱县三星乡\t2023-05-18\t" in sanxing
    assert len([line for line in lines if line.startswith("cn.")]) >= len(seeds.POLICIES) + 1


def test_check_passes_for_every_shipped_policy_strictly() -> None:
    result = runner.invoke(app, ["policy", "check", "--strict", *IMPORT])
    assert result.exit_code == 0, result.output
    assert result.output.count("OK   ") >= len(seeds.POLICIES) + 1
    assert "FAIL" not in result.output


def test_check_fails_listing_every_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken_policy.py").write_text(
        "from hazardflow.policies import NationalBaseline\n"
        "class Broken(NationalBaseline):\n"
        "    policy_id = 'test.broken'\n"
        "    jurisdiction = '500240204'\n"
        "    name = '坏政策'\n"
        "    grades = ('general', 'majr')\n"
        "    escalation_procedure = ('leader_in_charge', 'haed')\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    result = runner.invoke(app, ["policy", "check", "test.broken", "--import", "broken_policy"])
    assert result.exit_code == 1
    assert "FAIL test.broken@2024.1 坏政策" in result.output
    assert "grade 'majr' has no glossary label; did you mean 'major'?" in result.output
    assert "escalation_procedure names unknown role 'haed'; did you mean 'head'?" in result.output
    strict = runner.invoke(app, ["policy", "check", "test.broken", "--strict", "--import", "broken_policy"])
    assert "Broken sets grades without a source tag in rule_sources" in strict.output


def test_check_unknown_policy_id_suggests() -> None:
    result = runner.invoke(app, ["policy", "check", "cn.cq.sanxing", *IMPORT])
    assert result.exit_code == 2
    assert "unknown policy id(s): cn.cq.sanxing" in result.output
    assert "did you mean 'cn.cq.shizhu.sanxing'?" in result.output


def test_show_renders_the_effective_rules_bilingually() -> None:
    zh = runner.invoke(app, ["policy", "show", "500240204000", *IMPORT])
    assert zh.exit_code == 0, zh.output
    assert "# 重庆市石柱县三星乡" in zh.output
    assert "辖区：500240204 重庆市 / 石柱土家族自治县 / 三星乡" in zh.output
    assert "继承：三星乡（cn.cq.shizhu.sanxing） → 消防监督检查规定（S10）" in zh.output
    assert "| 双报告对象 | 负有安全生产监督管理职责的部门、职工大会或职工代表大会、属地乡镇（街道）政府 |" in zh.output
    assert "| 提级范围 | 重大隐患及整改存在困难的一般隐患 |" in zh.output
    assert "| 重庆市（cn.cq） |" in zh.output
    assert "审核期限（消防案件）：3个工作日 | S10 §20 | 消防监督检查规定（S10） |" in zh.output
    en = runner.invoke(app, ["policy", "show", "140581102", "--lang", "en", "--at", "2024-06-01", *IMPORT])
    assert en.exit_code == 0, en.output
    assert "# Sanjia Town, Gaoping City, Shanxi" in en.output
    assert "| confirmation levels | 2 | seed:000 item 5" in en.output
    assert "| 山西省 (cn.sx) |" in en.output
    assert "monthly progress report: by day 29 of each month | seed:000 保障(六) | this policy |" in en.output


def test_show_before_a_version_takes_effect_uses_the_layer_above() -> None:
    result = runner.invoke(app, ["policy", "show", "341721", "--at", "2024-03-01", *IMPORT])
    assert result.exit_code == 0, result.output
    assert "适用政策：cn.ah.chizhou@2024.1" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["policy", "show", "50024"], "must be an administrative-division code"),
        (["policy", "show", "500240204", "--at", "2024-13-01"], "must be an ISO date"),
        (["policy", "show", "500240204", "--import", "no_such_module_xyz"], "cannot import 'no_such_module_xyz'"),
    ],
)
def test_show_refuses_bad_input(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output


def test_every_rule_line_names_its_source_and_layer() -> None:
    for cls in seeds.POLICIES:
        policy = cls()
        for lang in ("zh", "en"):
            for line in rule_lines(policy, lang):
                assert line.layer, (cls.__name__, line)
                assert line.source or line.rule in ("deadlines",), (cls.__name__, line)
        page = describe_policy(policy, "en")
        assert page.startswith(f"# {policy.name_en}")
