"""The written outputs of a run: a Markdown report in Chinese and in English, and the JSON of the figures.

Labels of industries, grades, deadline keys and ladder rungs come from the glossary; the definitions of
each figure are in ``docs/how-to/simulation.md`` (模拟：编写情景、解读指标、比较政策).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .._glossary import en, zh

if TYPE_CHECKING:
    from ._compare import Comparison
    from ._result import Period, SimulationResult
    from ._targets import TargetOutcome

__all__ = ["comparison_markdown", "report_markdown", "write_outputs"]

Lang = Literal["zh", "en"]


def _label(kind: str, id: str, lang: Lang) -> str:
    return zh(kind, id) if lang == "zh" else en(kind, id)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _num(x: float | int | None) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and not x.is_integer():
        return f"{x:.1f}"
    return f"{int(x)}"


def _verdict(t: TargetOutcome, lang: Lang) -> str:
    if t.passed is None:
        return "未判定" if lang == "zh" else "not judged"
    if lang == "zh":
        return "✅ 达标" if t.passed else "❌ 未达标"
    return "✅ met" if t.passed else "❌ missed"


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out.extend("| " + " | ".join(r) + " |" for r in rows)
    return [*out, ""]


def _period_rows(periods: Sequence[Period], lang: Lang) -> list[list[str]]:
    rows = []
    for p in periods:
        dc = p.days_to_close()
        dcm = p.days_to_close("major")
        lv = p.levels
        rows.append(
            [
                p.label,
                _num(p.total_opened()),
                _num(p.closed()),
                _pct(p.on_time_rate()),
                _pct(p.on_time_rate(grade="general")),
                _pct(p.on_time_rate(grade="major")),
                f"{_num(dc['mean'])} / {_num(dc['median'])}",
                f"{_num(dcm['mean'])} / {_num(dcm['median'])}",
                _num(sum(p.flows.missed.values())),
                _num(p.flows.reached.get(1, 0)),
                f"{lv.open_majors} ({lv.open_majors_stock} / {lv.open_majors_new})",
                _num(sum(lv.overdue.values())),
            ]
        )
    return rows


def report_markdown(result: SimulationResult, lang: Lang = "zh", charts: Sequence[str] = ()) -> str:
    """The report of one run in Chinese (``lang="zh"``) or English; ``charts`` are PNG paths to embed."""
    zh_ = lang == "zh"
    r = result
    lines: list[str] = []
    title = r.scenario if zh_ else r.scenario_en
    lines.append(f"# {title}" + (" · 模拟报告" if zh_ else " · simulation report"))
    lines.append("")
    if zh_:
        lines.append(f"种子 {r.seed}；模拟期 {r.start} 至 {r.until}；存储 `{r.store}`；政策 {', '.join(r.policies)}。")
        lines.append(f"审计日志摘要（同一情景、同一种子必相同）：`{r.audit_digest}`")
    else:
        lines.append(
            f"Seed {r.seed}; simulated {r.start} to {r.until}; store `{r.store}`; policies {', '.join(r.policies)}."
        )
        lines.append(f"Audit digest (the same scenario and seed always give the same one): `{r.audit_digest}`")
    lines.append("")

    lines.append("## 目标达成情况" if zh_ else "## Campaign targets")
    lines.append("")
    if r.targets:
        head = ["目标", "结论", "说明", "依据"] if zh_ else ["target", "verdict", "detail", "source"]
        rows = [
            [t.name_zh if zh_ else t.name_en, _verdict(t, lang), t.detail_zh if zh_ else t.detail_en, t.source]
            for t in r.targets
        ]
        lines.extend(_table(head, rows))
    else:
        lines.extend(["本情景未设目标。" if zh_ else "The scenario sets no targets.", ""])

    head = (
        [
            "期间",
            "新发现",
            "销号",
            "按期销号率",
            "一般隐患按期率",
            "重大隐患按期率",
            "销号天数 均值/中位",
            "重大隐患销号天数 均值/中位",
            "逾期次数",
            "进入督办阶梯",
            "期末未销号重大隐患（存量/增量）",
            "期末逾期未销号",
        ]
        if zh_
        else [
            "period",
            "found",
            "closed",
            "on time",
            "on time, general",
            "on time, major",
            "days to close mean/median",
            "major: days to close mean/median",
            "deadlines missed",
            "cases on the ladder",
            "open majors at end (stock / new)",
            "overdue open at end",
        ]
    )
    lines.append("## 年度指标" if zh_ else "## Figures by year")
    lines.append("")
    lines.extend(_table(head, _period_rows(r.of_kind("year", "total"), lang)))
    lines.append("## 季度指标" if zh_ else "## Figures by quarter")
    lines.append("")
    lines.extend(_table(head, _period_rows(r.of_kind("quarter", "partial"), lang)))

    total = r.total
    lines.append("## 分行业按期销号率" if zh_ else "## On-time closure by industry")
    lines.append("")
    years = r.of_kind("year")
    head = [
        "行业" if zh_ else "industry",
        *(p.label for p in years),
        "全程" if zh_ else "whole run",
        "销号数" if zh_ else "closed",
    ]
    rows = []
    for ind in total.industries_closed():
        closed = sum(n for (_g, i), n in total.flows.closed.items() if i == ind)
        rows.append(
            [
                _label("industry", ind, lang),
                *(_pct(p.on_time_rate(industry=ind)) for p in years),
                _pct(total.on_time_rate(industry=ind)),
                _num(closed),
            ]
        )
    lines.extend(_table(head, rows))

    lines.append("## 逾期与督办阶梯" if zh_ else "## Missed deadlines and the overdue ladder")
    lines.append("")
    head = ["期限" if zh_ else "deadline", *(p.label for p in years), "全程" if zh_ else "whole run"]
    keys = sorted(total.flows.missed)
    rows = [
        [_label("deadline", k, lang), *(_num(p.flows.missed.get(k, 0)) for p in years), _num(total.flows.missed[k])]
        for k in keys
    ]
    lines.extend(_table(head, rows) if rows else ["无逾期。" if zh_ else "No deadline was missed.", ""])
    head = ["督办措施" if zh_ else "sanction", *(p.label for p in years), "全程" if zh_ else "whole run"]
    rows = [
        [
            f"{rung}. " + _label("sanction", s, lang),
            *(_num(p.flows.sanctions.get((rung, s), 0)) for p in years),
            _num(n),
        ]
        for (rung, s), n in sorted(total.flows.sanctions.items())
    ]
    lines.extend(_table(head, rows) if rows else ["未启动督办阶梯。" if zh_ else "The ladder never started.", ""])
    head = ["阶梯级次" if zh_ else "rung", *(p.label for p in years), "全程" if zh_ else "whole run"]
    rows = [
        [str(k), *(_num(p.flows.reached.get(k, 0)) for p in years), _num(n)]
        for k, n in sorted(total.flows.reached.items())
    ]
    if rows:
        lines.append("达到各级督办的案件数：" if zh_ else "Cases reaching each rung:")
        lines.append("")
        lines.extend(_table(head, rows))

    t = total.to_json()
    lines.append(
        "## 延期、审核、挂牌、提级与举报" if zh_ else "## Extensions, reviews, listings, escalations and tip-offs"
    )
    lines.append("")
    head = ["项目", "数量"] if zh_ else ["item", "count"]
    items = [
        (
            "延期申请 / 批准 / 不予延期",
            "extensions requested / granted / denied",
            "{requested} / {granted} / {denied}".format(**t["extensions"]),
        ),
        ("审核通过 / 不通过", "reviews approved / rejected", "{approved} / {rejected}".format(**t["reviews"])),
        ("挂牌督办", "listed for supervision", str(t["listed"])),
        (
            "提级（提请 / 接收 / 退回）",
            "escalations (proposed / accepted / returned)",
            "{proposed} / {accepted} / {returned}".format(**t["escalations"]),
        ),
        (
            "举报（受理 / 查实 / 不实）",
            "tip-offs (received / substantiated / dismissed)",
            "{received} / {substantiated} / {dismissed}".format(**t["tipoffs"]),
        ),
    ]
    lines.extend(_table(head, [[a if zh_ else b, c] for a, b, c in items]))

    if charts:
        lines.append("## 图表" if zh_ else "## Charts")
        lines.append("")
        for path in charts:
            lines.append(f"![{Path(path).stem}]({path})")
            lines.append("")

    st = r.stats
    lines.append("## 运行情况" if zh_ else "## Run")
    lines.append("")
    rows = [
        ["案件（新开）" if zh_ else "cases opened", _num(st.cases)],
        ["接续的在办案件" if zh_ else "open cases adopted from the store", _num(st.adopted)],
        ["已提交命令（审计事件）" if zh_ else "commands committed (audit events)", _num(st.commands)],
        ["被规则拒绝的命令" if zh_ else "commands refused by the rules", _num(st.refused)],
        ["放弃推进的案件" if zh_ else "cases the simulated people gave up on", _num(st.stuck)],
        [
            "未模拟的举报（引擎无举报流程）" if zh_ else "tip-offs not simulated (no tip-off workflow)",
            _num(st.tipoffs_skipped),
        ],
        [
            "超出日历数据年份的暂定期限" if zh_ else "provisional deadlines beyond the calendar's data",
            _num(st.provisional_deadlines),
        ],
        ["期末在办案件" if zh_ else "open cases at the end", _num(st.open_cases_at_end)],
    ]
    lines.extend(_table(["项目", "数值"] if zh_ else ["item", "value"], rows))
    refused = t["refused_commands"]
    if refused:
        lines.append("被拒绝的命令（触发器/错误码）：" if zh_ else "Refused commands (trigger/code):")
        lines.append("")
        lines.extend(
            _table(
                ["命令" if zh_ else "command", "次数" if zh_ else "count"], [[k, str(v)] for k, v in refused.items()]
            )
        )
    lines.append(
        "指标定义见文档《模拟：编写情景、解读指标、比较政策》。按期销号指销号前未错过任何期限；销号天数自登记起算。"
        if zh_
        else "Definitions: see the docs page *Simulation: writing a scenario, reading the KPIs, comparing policies*. "
        "On time = closed without missing any deadline; days to close count from registration."
    )
    lines.append("")
    return "\n".join(lines)


def comparison_markdown(cmp: Comparison, lang: Lang = "zh") -> str:
    """Two runs side by side, with the targets and every figure that differs marked."""
    zh_ = lang == "zh"
    b, o = cmp.base, cmp.other
    lines = [
        f"# {b.scenario if zh_ else b.scenario_en} · " + ("政策比较" if zh_ else "policy comparison"),
        "",
        (
            f"同一种子 {b.seed}：基准 **{cmp.base_label}** 对比 **{cmp.other_label}**。"
            "两次运行遇到相同的隐患、相同的人，差异只来自政策。"
            if zh_
            else f"Same seed {b.seed}: base **{cmp.base_label}** against **{cmp.other_label}**. "
            "Both runs meet the same hazards and the same people; differences come from the policies only."
        ),
        "",
        "## 目标" if zh_ else "## Targets",
        "",
    ]
    rows = [
        [x.name_zh if zh_ else x.name_en, _verdict(x, lang), _verdict(y, lang)]
        for x, y in zip(b.targets, o.targets, strict=True)
    ]
    lines.extend(_table(["目标" if zh_ else "target", cmp.base_label, cmp.other_label], rows))
    lines.append("## 指标" if zh_ else "## Figures")
    lines.append("")
    rows = []
    for r in cmp.rows():
        rate = "rate" in r.key
        fmt = _pct if rate else _num
        delta = r.delta
        d = "" if delta is None or delta == 0 else (f"{delta * 100:+.1f} pp" if rate else f"{delta:+g}")
        rows.append([r.zh if zh_ else r.en, fmt(r.base), fmt(r.other), d])
    lines.extend(
        _table(["指标" if zh_ else "figure", cmp.base_label, cmp.other_label, "差异" if zh_ else "difference"], rows)
    )
    return "\n".join(lines)


def write_outputs(result: SimulationResult, out: Path, *, charts: bool = True) -> list[Path]:
    """Write ``figures.json``, ``report.zh.md``, ``report.en.md`` (and the charts) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    chart_paths: list[str] = []
    if charts:
        from ._charts import draw_charts

        for p in draw_charts(result, out):
            written.append(p)
            chart_paths.append(p.relative_to(out).as_posix())
    fig = out / "figures.json"
    fig.write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    written.append(fig)
    langs: tuple[Lang, ...] = ("zh", "en")
    for lang in langs:
        path = out / f"report.{lang}.md"
        path.write_text(report_markdown(result, lang, chart_paths), encoding="utf-8")
        written.append(path)
    return written
