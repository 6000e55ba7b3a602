"""Industry criteria for major hazards as data ("一行业一清单"): versioned sets with effective dates.

Each industry has its own list of what makes a hazard *major* (重大事故隐患判定标准) [S4-S12], and seed 000
item 20 asks for one list per industry, adjusted as standards change. A :class:`CriteriaSet` is one edition of
one list: its document number, the day it took effect, the day it was superseded and by which set. A
:class:`Criterion` is one item, paraphrased in Chinese and English with its article. Where the current
edition's text was not retrieved, the item carries the superseded edition's text and is marked
``placeholder=True`` (with the edition it comes from): it can be cited, and every report shows the mark, but do
not rely on its wording. ``verify`` marks data (a date, an item) recalled from a secondary source.

Item ids are ``<set id>.<n>`` (``industry_trade_2023.6`` is 工贸 item 6: a dry dust collector without venting,
inerting or suppression). A hazard cites the items it matches in its ``criteria`` field; a policy decides
whether a major grade needs a citation (``require_criteria_for_major``) and whether citations must come from
the catalog (``criteria_must_match_catalog``); :meth:`CriteriaCatalog.check` judges a citation.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence
from datetime import date

import attrs

__all__ = ["NATIONAL_CRITERIA", "CriteriaCatalog", "CriteriaSet", "Criterion"]


@attrs.frozen
class Criterion:
    """One item of a criteria list."""

    id: str
    article: str
    summary_zh: str
    summary_en: str
    #: The text comes from a superseded edition (``placeholder_from``) because the current one was not retrieved.
    placeholder: bool = False
    placeholder_from: str = ""
    #: Fire criteria: direct judgement (直接判定) rather than the comprehensive method (综合判定).
    direct: bool | None = None
    verify: bool = False


@attrs.frozen
class CriteriaSet:
    """One edition of one industry's list."""

    id: str
    industry: str
    name_zh: str
    name_en: str
    source: str
    doc_no: str
    effective_from: date | None
    items: tuple[Criterion, ...]
    superseded_on: date | None = None
    superseded_by: str | None = None
    note: str = ""
    verify: bool = False

    def in_force(self, day: date) -> bool:
        """True when the edition applies on ``day`` (an undated edition counts as in force)."""
        if self.effective_from is not None and day < self.effective_from:
            return False
        return self.superseded_on is None or day < self.superseded_on


def _items(set_id: str, rows: Iterable[tuple[str, str, str]], **flags: object) -> tuple[Criterion, ...]:
    return tuple(
        Criterion(f"{set_id}.{n}", article, zh, en, **flags)  # type: ignore[arg-type]
        for n, (article, zh, en) in enumerate(rows, start=1)
    )


_FIRE_2017 = (
    (
        "§6.2",
        "生产、储存、经营易燃易爆危险品的场所与人员密集场所、居住场所设置在同一建筑物内，或与其防火间距小于规定值的75%",
        "flammable or explosive goods made, stored or sold in the same building as a crowded place or housing, "
        "or closer to them than 75% of the required separation",
    ),
    (
        "§6.4",
        "甲、乙类生产场所和仓库设置在地下或半地下",
        "class A or B production or storage in a basement or half-basement",
    ),
    (
        "§6.5",
        "歌舞娱乐场所、商店或地下人员密集场所的安全出口数量不足或总净宽度小于规定值的80%",
        "entertainment venues, shops or underground crowded places with too few exits, or total exit width "
        "below 80% of the requirement",
    ),
    (
        "§6.6",
        "旅馆、歌舞娱乐场所、商店或地下人员密集场所未按规定设置自动喷水灭火系统或火灾自动报警系统",
        "hotels, entertainment venues, shops or underground crowded places without the required sprinklers or "
        "fire-alarm system",
    ),
    (
        "§6.3",
        "城市建成区内的加油站、加气站储量达到或超过一级站的规定",
        "a filling or gas station in a built-up urban area holding at least a first-class station's quantity",
    ),
)

_CONSTRUCTION_2022 = (
    (
        "施工安全管理",
        "施工单位未取得安全生产许可证擅自从事建筑施工活动",
        "a construction firm working without a safety licence",
    ),
    (
        "施工安全管理",
        "危险性较大的分部分项工程未编制、未审核专项施工方案，或超过一定规模的未组织专家论证",
        "a hazardous sub-project without a reviewed special plan, or a large one not put to an expert panel",
    ),
    ("基坑工程", "深基坑未进行第三方监测", "a deep foundation pit without third-party monitoring"),
    (
        "脚手架工程",
        "脚手架无连墙件或整层缺失连墙件",
        "scaffolding without wall ties, or a whole storey of ties missing",
    ),
    (
        "起重机械",
        "塔式起重机、施工升降机、物料提升机未经验收合格即投入使用或未按规定办理使用登记",
        "a tower crane, hoist or material lift used before acceptance or without registration",
    ),
    (
        "有限空间作业",
        "有限空间作业未履行审批手续，未执行“先通风、再检测、后作业”，或未设监护人员",
        "confined-space work without approval, breaking ventilate-test-work, or without a watcher",
    ),
)

# fmt: off
NATIONAL_CRITERIA: tuple[CriteriaSet, ...] = (
    CriteriaSet(
        "industry_trade_2023", "industry_trade", "工贸企业重大事故隐患判定标准", "major hazards in industry and trade",
        "S4", "应急管理部令第10号", date(2023, 5, 15),
        _items("industry_trade_2023", (
            ("第三条", "未对承包单位、承租单位的安全生产工作统一协调、管理，或者未定期进行安全检查", "contractors and lessees not coordinated or regularly inspected"),
            ("第三条", "特种作业人员未按照规定经专门的安全作业培训并取得相应资格，上岗作业", "special-operations workers working without training and certificate"),
            ("第三条", "金属冶炼企业主要负责人、安全生产管理人员未按照规定经考核合格", "principal officer or safety managers of a metal smelter not assessed"),
            ("第四条", "会议室、活动室、休息室、操作室、交接班室、更衣室（含澡堂）等6类人员聚集场所设置在铁水、钢水、液渣吊运影响范围内", "six kinds of gathering rooms within reach of molten iron, steel or slag cranes"),
            ("粉尘防爆", "粉尘爆炸危险场所设置在非框架结构的多层建（构）筑物内，或者与居民区、员工宿舍、会议室等人员聚集场所安全距离不足", "a dust-explosion zone in a non-frame multi-storey building, or too close to dormitories, offices or rest rooms"),
            ("粉尘防爆", "干式除尘系统未采取泄爆、惰化、抑爆等任一种控爆措施", "a dry dust-collection system with no venting, inerting or suppression"),
            ("粉尘防爆", "未按照规定制定粉尘清扫制度，作业现场积尘未及时规范清理", "dust not cleaned, so it builds up badly"),
            ("涉氨制冷", "包装间、分割间、产品整理间等人员较多的场所与速冻设备布置在同一房间，或作业人员超过9人", "a quick-freezing unit not in a separate room, or more than 9 people in its room"),
            ("有限空间作业", "未对有限空间作业场所进行辨识，或者未执行“先通风、再检测、后作业”，或者未设置监护人员", "confined-space work without approval, breaking ventilate-test-work, or without a watcher"),
        )),
    ),
    CriteriaSet(
        "chemicals_2017", "chemicals", "化工和危险化学品生产经营单位重大生产安全事故隐患判定标准（试行）",
        "major hazards in chemicals and hazardous chemicals (trial)",
        "S5", "安监总管三〔2017〕121号", date(2017, 11, 13),
        _items("chemicals_2017", (
            ("(一)", "危险化学品生产、经营单位主要负责人和安全生产管理人员未依法经考核合格", "principal officer or safety managers of a hazardous-chemical unit not assessed"),
            ("(三)", "涉及“两重点一重大”的生产装置、储存设施外部安全防护距离不符合国家标准要求", "external safety distance of key units and storage below the national standard"),
            ("(四)", "涉及重点监管危险化工工艺的装置未实现自动化控制，系统未实现紧急停车功能，装备的自动化控制系统、紧急停车系统未投入使用", "a key hazardous process not automated, or without emergency shutdown in use"),
            ("(五)", "构成一级、二级重大危险源的危险化学品罐区未实现紧急切断功能；涉及毒性气体、液化气体、剧毒液体的一级、二级重大危险源未配备独立的安全仪表系统", "a grade 1 or 2 major-hazard tank farm without emergency cut-off, or without SIS for toxic or liquefied gas"),
            ("(十二)", "在有可燃气体、有毒气体泄漏的场所未设置检测报警装置，爆炸危险场所未按国家标准安装使用防爆电气设备", "no gas detectors where gas can leak, or no explosion-proof electrics in explosive areas"),
        )),
        note="effective date is the date of issue [verify]", verify=True,
    ),
    CriteriaSet(
        "coal_mine_2020", "coal_mine", "煤矿重大事故隐患判定标准", "major hazards in coal mines",
        "S6", "应急管理部令第4号", date(2021, 1, 1),
        _items("coal_mine_2020", (
            ("第三条", "超能力、超强度或者超定员组织生产", "production beyond approved capacity, intensity or headcount"),
            ("第三条", "瓦斯超限作业", "work continues with gas over the limit"),
            ("第三条", "煤与瓦斯突出矿井，未依照规定实施防突出措施", "an outburst mine not carrying out its anti-outburst measures"),
            ("第三条", "水文地质类型复杂、极复杂的矿井未采取有效防治水措施", "severe water hazard without effective measures"),
            ("第三条", "未实现双回路供电", "no dual-circuit power supply"),
        )),
    ),
    CriteriaSet(
        "metal_nonmetal_mine_2022", "metal_nonmetal_mine", "金属非金属矿山重大事故隐患判定标准",
        "major hazards in metal and non-metal mines",
        "S7", "矿安〔2022〕88号", date(2022, 9, 1),
        _items("metal_nonmetal_mine_2022", (
            ("地下矿山", "地下矿山安全出口不符合要求：独立直达地面的安全出口少于2个，或与设计不一致", "fewer than 2 independent exits to the surface, or exits that differ from the design"),
            ("地下矿山", "使用国家明令禁止使用的设备、材料或者工艺", "equipment, materials or processes the State has banned"),
            ("地下矿山", "相邻矿山开采系统之间违规贯通", "workings of neighbouring mines connected"),
            ("露天矿山", "露天矿山未采用自上而下的开采顺序分台阶或者分层开采；工作帮坡角大于设计工作帮坡角，或最终边坡台阶高度超过设计高度", "open pit not mined top-down in benches, or slopes steeper or higher than designed"),
            ("尾矿库", "尾矿库坝体超过设计坝高，或超设计库容贮存尾矿", "tailings dam above design height, or pond above design capacity"),
        )),
        note="replaces 安监总管一〔2017〕98号",
    ),
    CriteriaSet(
        "construction_2022", "construction", "房屋市政工程生产安全重大事故隐患判定标准（2022版）",
        "major hazards in building and municipal works (2022 edition)",
        "S12", "建质规〔2022〕2号", date(2022, 4, 19),
        _items("construction_2022", _CONSTRUCTION_2022),
        superseded_by="construction_2024",
        note="document number and date recalled; the 2024 edition supersedes it on a date not retrieved [verify]",
        verify=True,
    ),
    CriteriaSet(
        "construction_2024", "construction", "房屋市政工程生产安全重大事故隐患判定标准（2024版）",
        "major hazards in building and municipal works (2024 edition)",
        "S12", "建质规〔2024〕5号", None,
        _items("construction_2024", _CONSTRUCTION_2022, placeholder=True, placeholder_from="construction_2022"),
        note="item text not retrieved: every item is the 2022 edition's text as a placeholder; effective date not "
        "retrieved [verify]",
        verify=True,
    ),
    CriteriaSet(
        "fire_gb35181_2017", "fire_safety", "重大火灾隐患判定方法（GB 35181-2017）",
        "major fire hazards: judging method (GB 35181-2017)",
        "S9", "GB 35181-2017", date(2018, 7, 1),
        _items("fire_gb35181_2017", _FIRE_2017, direct=True),
        superseded_on=date(2025, 11, 1), superseded_by="fire_gb35181_2025",
        note="effective date recalled [verify]", verify=True,
    ),
    CriteriaSet(
        "fire_gb35181_2025", "fire_safety", "重大火灾隐患判定规则（GB 35181-2025）",
        "major fire hazards: judging rules (GB 35181-2025)",
        "S9", "GB 35181-2025", date(2025, 11, 1),
        _items("fire_gb35181_2025", _FIRE_2017, direct=True, placeholder=True, placeholder_from="fire_gb35181_2017"),
        note="the 2025 direct items were not retrieved: every item is the 2017 edition's text as a placeholder; do "
        "not ship them as current",
    ),
)
# fmt: on


class CriteriaCatalog:
    """The criteria sets a jurisdiction uses, searchable by item id, industry and day."""

    def __init__(self, sets: Iterable[CriteriaSet] = NATIONAL_CRITERIA) -> None:
        self._sets: dict[str, CriteriaSet] = {}
        self._items: dict[str, tuple[Criterion, CriteriaSet]] = {}
        for s in sets:
            self._sets[s.id] = s
            for item in s.items:
                self._items[item.id] = (item, s)

    def __iter__(self) -> Iterator[CriteriaSet]:
        return iter(self._sets.values())

    def __len__(self) -> int:
        return len(self._sets)

    def set(self, set_id: str) -> CriteriaSet | None:
        return self._sets.get(set_id)

    def item(self, item_id: str) -> tuple[Criterion, CriteriaSet] | None:
        """The item and the set it belongs to, or None."""
        return self._items.get(item_id)

    def in_force(self, industry: str, day: date) -> list[CriteriaSet]:
        """The editions of ``industry``'s lists that apply on ``day``."""
        return [s for s in self._sets.values() if s.industry == industry and s.in_force(day)]

    def suggest(self, item_id: str) -> list[str]:
        """Item ids close to ``item_id`` (did-you-mean)."""
        return difflib.get_close_matches(item_id, list(self._items), n=3, cutoff=0.6)

    def check(self, item_ids: Sequence[str], industry: str | None, day: date) -> tuple[str, str] | None:
        """``(zh, en)`` reason the citation is wrong, or None when every item exists, fits and is in force."""
        for item_id in item_ids:
            hit = self._items.get(item_id)
            if hit is None:
                close = self.suggest(item_id)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                return (
                    f"判定标准条目 {item_id} 不在本辖区使用的清单中",
                    f"criterion {item_id!r} is not in the lists this jurisdiction uses{hint}",
                )
            _item, owner = hit
            if industry is not None and owner.industry != industry:
                return (
                    f"判定标准条目 {item_id} 属于其他行业的清单（{owner.name_zh}）",
                    f"criterion {item_id!r} belongs to the {owner.industry!r} list, not {industry!r}",
                )
            if not owner.in_force(day):
                when = (
                    f"not yet in force (from {owner.effective_from})"
                    if owner.effective_from is not None and day < owner.effective_from
                    else f"superseded on {owner.superseded_on} by {owner.superseded_by!r}"
                )
                return (
                    f"判定标准条目 {item_id} 所在清单（{owner.doc_no}）在 {day} 不适用",
                    f"criterion {item_id!r} ({owner.doc_no}) does not apply on {day}: {when}",
                )
        return None
