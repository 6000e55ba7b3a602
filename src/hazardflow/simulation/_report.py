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

__all__ = ["comparison_markdown", "rate_cell", "report_markdown", "source_links", "write_outputs"]

Lang = Literal["zh", "en"]


#: Where the source tags of the targets (``S16``, ``seed:000 item 22``, ``inference``) are explained.
SOURCES_URL = "https://hazardflow.readthedocs.io/en/latest/explanation/sources/"
#: A rate computed from fewer closures than this is flagged as a small sample.
SMALL_SAMPLE = 10


def _label(kind: str, id: str, lang: Lang) -> str:
    return zh(kind, id) if lang == "zh" else en(kind, id)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _num(x: float | int | None) -> str:
    """Counts as integers, anything else (days) with one decimal: one format everywhere."""
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.1f}"
    return f"{x}"


def _count(x: float | int | None) -> str:
    return "-" if x is None else f"{round(x)}"


def _days(x: float | int | None) -> str:
    return "-" if x is None else f"{float(x):.1f}"


def rate_cell(hits: int, total: int) -> str:
    """``50.0% (1/2)†``: a rate with the counts it comes from, flagged when under :data:`SMALL_SAMPLE` cases."""
    if not total:
        return "-"
    flag = "†" if total < SMALL_SAMPLE else ""
    return f"{100 * hits / total:.1f}% ({hits}/{total}){flag}"


def _source_link(tag: str) -> str:
    """One source tag as a link to the paragraph of the sources page that explains it."""
    tag = tag.strip()
    head = tag.split()[0] if tag else ""
    if head.startswith("seed:") and head[5:].isdigit():
        anchor = f"seed-{head[5:]}"
    elif head[:1] == "S" and head[1:].isdigit():
        anchor = f"s{head[1:]}"
    else:
        anchor = "how-to-read-a-tag"
    return f"[{tag}]({SOURCES_URL}#{anchor})"


def source_links(source: str) -> str:
    """``S16; seed:000 item 22; inference`` with each tag linked to the sources page."""
    return "; ".join(_source_link(t) for t in source.split(";") if t.strip())


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


_PERIOD_HEAD = {
    "zh": [
        "期间",
        "新发现",
        "销号",
        "按期销号率（按期/销号）",
        "一般隐患按期率",
        "重大隐患按期率",
        "即查即改销号",
        "限期整改销号天数 中位/均值",
        "重大隐患销号天数 中位/均值",
        "逾期次数",
        "进入督办阶梯",
        "提级（蓄水池）",
        "期末未销号重大隐患（存量/增量）",
        "期末逾期未销号",
    ],
    "en": [
        "period",
        "found",
        "closed",
        "on time (on time/closed)",
        "on time, general",
        "on time, major",
        "fixed on the spot",
        "fixed by a deadline: days to close median/mean",
        "major: days to close median/mean",
        "deadlines missed",
        "cases on the ladder",
        "escalated (pool)",
        "open majors at end (stock / new)",
        "overdue open at end",
    ],
}


def _period_rows(periods: Sequence[Period]) -> list[list[str]]:
    rows = []
    for p in periods:
        dd = p.days_to_close(route="deadline")
        dm = p.days_to_close("major")
        lv = p.levels
        rows.append(
            [
                p.label,
                _num(p.total_opened()),
                _num(p.closed()),
                rate_cell(*p.on_time_count()),
                rate_cell(*p.on_time_count(grade="general")),
                rate_cell(*p.on_time_count(grade="major")),
                _num(p.days_to_close(route="spot")["n"]),
                f"{_days(dd['median'])} / {_days(dd['mean'])}",
                f"{_days(dm['median'])} / {_days(dm['mean'])}",
                _num(sum(p.flows.missed.values())),
                _num(p.flows.reached.get(1, 0)),
                _num(p.event_count("escalation", "propose_escalation")),
                f"{lv.open_majors} ({lv.open_majors_stock} / {lv.open_majors_new})",
                _num(sum(lv.overdue.values())),
            ]
        )
    return rows


def _reading_notes(r: SimulationResult, lang: Lang) -> list[str]:
    """How to read the figures, for a reader with no docs at hand."""
    total = r.total
    spot, dl = total.days_to_close(route="spot"), total.days_to_close(route="deadline")
    carried = total.carried_in()
    st = r.stats
    cases_all = st.cases + st.tipoffs + st.escalations
    if lang == "zh":
        return [
            "### 怎样读这份报告",
            "",
            f"- **比率都附件数**：“50.0% (1/2)”即 2 件中 1 件；不足 {SMALL_SAMPLE} 件算出的比率标 †，"
            "样本太少，季度之间的大起大落多半是偶然。",
            "- **按期销号**：销号前没有错过任何期限（整改、审核、延期答复……）。",
            f"- **新发现**：本期登记、且发现日期在模拟开始（{r.start}）以后的隐患。行动前已发现、开局录入的存量隐患"
            f"（{carried} 件）不计入任何一期的新发现。",
            f"- **销号天数**：自登记到销号的天数。{_num(spot['n'])} 件一般隐患现场即查即改，几小时内销号"
            f"（中位 {_days(spot['median'])} 天），所以全部销号的中位数只有零点几天；限期整改（含治理方案）的"
            f" {_num(dl['n'])} 件另列，中位 {_days(dl['median'])} 天、均值 {_days(dl['mean'])} 天。",
            f"- **案件数**：隐患案件 {st.cases} 件（新发现 {total.total_opened()} 件 + 录入存量 {carried} 件"
            + (f" + 接续数据库中的在办案件 {st.adopted} 件" if st.adopted else "")
            + f"）。举报线索（{st.tipoffs} 件）和提级申请（{st.escalations} 件）也各是一个案件，所以"
            f" `hazardflow audit verify` 数出的案件是 {cases_all} 件。",
            f"- **依据**列的标注（S16、seed:000、inference 等）见[来源说明]({SOURCES_URL})。",
            "",
        ]
    return [
        "### How to read this report",
        "",
        f"- **Rates come with their counts**: “50.0% (1/2)” is 1 case of 2; a rate from fewer than {SMALL_SAMPLE} "
        "cases is marked †: too few to read much into, swings between quarters are mostly chance.",
        "- **On time**: closed without missing any deadline (rectification, review, extension answer, ...).",
        f"- **Found**: hazards registered in the period and discovered on or after the run's first day ({r.start}). "
        f"The stock found before the campaign and entered on day one ({carried} cases) is not counted as found "
        "in any period.",
        f"- **Days to close**: registration to closure. {_num(spot['n'])} general hazards were fixed on the spot "
        f"within hours (median {_days(spot['median'])} days), so the median of all closures is a fraction of a "
        f"day; the {_num(dl['n'])} fixed by a deadline (or under a governance plan) are shown apart: median "
        f"{_days(dl['median'])} days, mean {_days(dl['mean'])} days.",
        f"- **Case counts**: {st.cases} hazard cases ({total.total_opened()} found + {carried} carried in from the "
        "stock"
        + (f" + {st.adopted} open cases adopted from the database" if st.adopted else "")
        + f"). Each tip-off ({st.tipoffs}) and each escalation ({st.escalations}) is a case of its own, so "
        f"`hazardflow audit verify` counts {cases_all} cases.",
        f"- The **source** tags (S16, seed:000, inference, ...) are explained on the [sources page]({SOURCES_URL}).",
        "",
    ]


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
    lines.extend(_reading_notes(r, lang))

    lines.append("## 目标达成情况" if zh_ else "## Campaign targets")
    lines.append("")
    if r.targets:
        head = (
            ["目标", "结论", "说明（含允许值）", "依据"]
            if zh_
            else ["target", "verdict", "detail (with the allowance)", "source"]
        )
        rows = [
            [
                t.name_zh if zh_ else t.name_en,
                _verdict(t, lang),
                t.detail_zh if zh_ else t.detail_en,
                source_links(t.source),
            ]
            for t in r.targets
        ]
        lines.extend(_table(head, rows))
    else:
        lines.extend(["本情景未设目标。" if zh_ else "The scenario sets no targets.", ""])

    head = _PERIOD_HEAD[lang]
    lines.append("## 年度指标" if zh_ else "## Figures by year")
    lines.append("")
    lines.extend(_table(head, _period_rows(r.of_kind("year", "total"))))
    lines.append("## 季度指标" if zh_ else "## Figures by quarter")
    lines.append("")
    lines.extend(_table(head, _period_rows(r.of_kind("quarter", "partial"))))

    total = r.total
    lines.append("## 分行业按期销号率" if zh_ else "## On-time closure by industry")
    lines.append("")
    years = r.of_kind("year")
    head = ["行业" if zh_ else "industry", *(p.label for p in years), "全程" if zh_ else "whole run"]
    rows = [
        [
            _label("industry", ind, lang),
            *(rate_cell(*p.on_time_count(industry=ind)) for p in years),
            rate_cell(*total.on_time_count(industry=ind)),
        ]
        for ind in total.industries_closed()
    ]
    lines.extend(_table(head, rows))

    lines.append("## 逾期与督办阶梯" if zh_ else "## Missed deadlines and the overdue ladder")
    lines.append("")
    lines.append("各期限被错过的次数：" if zh_ else "Deadlines missed, by deadline:")
    lines.append("")
    head = ["期限" if zh_ else "deadline", *(p.label for p in years), "全程" if zh_ else "whole run"]
    keys = sorted(total.flows.missed)
    rows = [
        [_label("deadline", k, lang), *(_num(p.flows.missed.get(k, 0)) for p in years), _num(total.flows.missed[k])]
        for k in keys
    ]
    lines.extend(_table(head, rows) if rows else ["无逾期。" if zh_ else "No deadline was missed.", ""])
    names = total.rung_names()
    rungs = sorted(set(total.flows.reached) | set(names))
    if rungs:
        lines.append(
            "达到各级督办的案件数（每件案件每级只计一次）："
            if zh_
            else "Cases reaching each rung of the ladder (each case counted once per rung):"
        )
        lines.append("")
        head = ["督办措施" if zh_ else "sanction", *(p.label for p in years), "全程" if zh_ else "whole run"]
        rows = [
            [
                f"{k}. " + (_label("sanction", names[k], lang) if k in names else ""),
                *(_num(p.flows.reached.get(k, 0)) for p in years),
                _num(total.flows.reached.get(k, 0)),
            ]
            for k in rungs
        ]
        lines.extend(_table(head, rows))
    else:
        lines.extend(["未启动督办阶梯。" if zh_ else "The ladder never started.", ""])

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
        captions = _CHART_CAPTIONS[lang]
        for path in charts:
            stem = Path(path).stem
            lines.append(f"![{captions.get(stem, stem)}]({path})")
            lines.append("")

    st = r.stats
    lines.append("## 运行情况" if zh_ else "## Run")
    lines.append("")
    rows = [
        ["隐患案件（新开）" if zh_ else "hazard cases opened", _num(st.cases)],
        ["举报线索案件" if zh_ else "tip-off cases", _num(st.tipoffs)],
        ["提级案件" if zh_ else "escalation cases", _num(st.escalations)],
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


_CHART_CAPTIONS: dict[str, dict[str, str]] = {
    "zh": {
        "open_majors": "每月末未销号重大事故隐患",
        "on_time_by_industry": "分行业按期销号率",
        "ladder": "逾期督办阶梯：达到各级的案件数",
    },
    "en": {
        "open_majors": "Open major hazards at each month end",
        "on_time_by_industry": "On-time closure rate by industry",
        "ladder": "Overdue ladder: cases reaching each rung",
    },
}


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
        fmt = _pct if rate else (_days if "days" in r.key else _count)
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
