"""The glossary: the one table of labels for every state, trigger, role and policy term.

Every identifier the engine shows to a person (a state, a trigger, a role, a grade, a source channel, a
sanction rung, ...) has exactly one row here, with its 中文 label, an English gloss, a definition and the
source the term comes from (tags as in the domain notes: ``S1 §23`` is 16号令 article 23, ``seed:002`` a
seed plan, ``inference`` our reading). Code never spells a Chinese label anywhere else; a test checks that
every identifier used by the shipped lifecycles and policies has a row, and the docs' glossary page is
generated from this table.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

__all__ = ["GLOSSARY", "Term", "describe", "en", "has_label", "terms", "zh"]


@attrs.frozen
class Term:
    """One glossary row."""

    kind: str
    id: str
    zh: str
    en: str
    definition: str = ""
    source: str = ""


def _t(kind: str, id: str, zh: str, en: str, definition: str = "", source: str = "") -> Term:
    return Term(kind, id, zh, en, definition, source)


# fmt: off
GLOSSARY: tuple[Term, ...] = (
    # ── workflows ────────────────────────────────────────────────────────────────────────────────────
    _t("workflow", "hazard",            "事故隐患",         "hazard case",          "The lifecycle of one work-safety hazard, from registration to reviewed closure.", "S1 §3"),
    _t("workflow", "tipoff",            "举报线索",         "tip-off",              "A public report or internal whistleblower report that must be verified before it counts.", "seed:000 item 24; S3 §73 verify"),
    _t("workflow", "escalation",        "问题提级",         "escalation",           "Moving a hard problem from a township's full register (全量库) to the upper tier's pool (蓄水池).", "seed:002 (八)"),
    _t("workflow", "report_obligation", "报送任务",         "reporting obligation", "A periodic report a party owes by a calendar date (monthly, quarterly, annual).", "S1 §14; seed:000 保障(六)"),

    # ── hazard states ────────────────────────────────────────────────────────────────────────────────
    _t("state", "registered",          "已登记",           "registered",           "Recorded with grade, source and nature; awaiting the next step.", "S1 §10 verify"),
    _t("state", "confirming",          "重大隐患确认中",   "confirming",           "A major hazard under (two-level) confirmation by the unit.", "seed:000 item 5"),
    _t("state", "reporting",           "双报告中",         "reporting",            "A confirmed major hazard being reported to every recipient the policy names.", "S1 §14; S3 §41"),
    _t("state", "rectifying",          "整改中",           "rectifying",           "Being fixed by a deadline (限期整改) or under its governance plan (治理).", "S1 §15; S1 §20 verify"),
    _t("state", "extension_requested", "延期审批中",       "extension requested",  "The unit asked for a later deadline; interim controls are in place.", "S14 verify; S18"),
    _t("state", "under_review",        "待审核销号",       "under review",         "Rectification submitted with evidence; awaiting review.", "S1 §23; seed:000 item 23"),
    _t("state", "awaiting_delisting",  "待摘牌",           "awaiting delisting",   "Review passed on a listed hazard; the listing authority must delist it.", "S18; S19 §10"),
    _t("state", "closed",              "已销号",           "closed",               "Struck from the ledger after an approved review (核销).", "S1 §23"),
    _t("state", "voided",              "已作废",           "voided",               "Registered in error (duplicate, mistaken) and voided with a reason.", "inference"),
    # ── tip-off states ───────────────────────────────────────────────────────────────────────────────
    _t("state", "received",            "已受理",           "received",             "A tip-off was received and logged.", "S3 §73 verify"),
    _t("state", "verifying",           "核查中",           "verifying",            "The tip-off is being checked on site.", "S10; seed:000 item 24"),
    _t("state", "substantiated",       "已查实",           "substantiated",        "Found true; a hazard case was opened from it.", "seed:000 item 24"),
    _t("state", "unfounded",           "不属实",           "unfounded",            "Found untrue, with a reason.", "inference"),
    _t("state", "merged",              "已合并",           "merged",               "A duplicate report of a hazard already on file, linked to it.", "inference"),
    # ── escalation states ────────────────────────────────────────────────────────────────────────────
    _t("state", "proposed",            "拟提级",           "proposed",             "Proposed for the upper tier's pool, with the reason.", "seed:002 (八)"),
    _t("state", "approving",           "审批中",           "approving",            "Going through the admission procedure (纳入程序).", "seed:002 (八)"),
    _t("state", "pooled",              "已入蓄水池",       "pooled",               "Admitted by the township, waiting in the upper tier's pool.", "seed:002 (八)"),
    _t("state", "accepted",            "已接收",           "accepted",             "The upper tier took over supervision of the hazard.", "seed:002 (八); inference"),
    _t("state", "returned",            "已退回",           "returned",             "The upper tier returned the problem to the township.", "inference (DOMAIN §h Q12)"),
    _t("state", "withdrawn",           "已撤回",           "withdrawn",            "The proposal was withdrawn before admission.", "inference"),
    # ── reporting obligation states ──────────────────────────────────────────────────────────────────
    _t("state", "due",                 "待报送",           "due",                  "The report for a period is owed.", "S1 §14"),
    _t("state", "fulfilled",           "已报送",           "fulfilled",            "The report for the period was filed.", "S1 §14"),

    # ── hazard triggers ──────────────────────────────────────────────────────────────────────────────
    _t("trigger", "register",            "登记隐患",       "register",             "Record a hazard with its grade, source channel, nature, industry, unit and location.", "S1 §10 verify"),
    _t("trigger", "fix_on_spot",         "即查即改",       "fix on the spot",      "A general hazard fixed at once; the inspector on site signs the check, never the one who fixed it.", "S1 §15; seed:002 (五)3"),
    _t("trigger", "set_deadline",        "限期整改",       "order rectification by a deadline", "A general hazard that cannot be fixed at once gets a deadline.", "S1 §20 verify; S10 §19"),
    _t("trigger", "confirm_major",       "确认重大隐患",   "confirm major hazard", "One level of the unit's (two-level) confirmation of a major hazard.", "seed:000 item 5"),
    _t("trigger", "report",              "报告重大隐患",   "report major hazard",  "Report the major hazard, with the three contents of 16号令 §14, to one recipient.", "S1 §14; S3 §41"),
    _t("trigger", "list_for_supervision","挂牌督办",       "list for supervision", "A government or department lists the hazard and supervises it to closure.", "S1 §18, §20; S18; S19"),
    _t("trigger", "adopt_plan",          "制定治理方案",   "adopt governance plan","Adopt the plan with its six elements (五落实), which starts rectification.", "S1 §15; seed:002"),
    _t("trigger", "submit_review",       "申请销号",       "submit for review",    "Submit the fix with evidence (and an evaluation report for a major hazard).", "S1 §18 verify; seed:000 item 23"),
    _t("trigger", "approve",             "审核销号",       "approve and close",    "Review passed: strike the hazard from the ledger (核销).", "S1 §23; seed:000 item 23"),
    _t("trigger", "reject",              "审核不通过",     "reject review",        "Review failed: back to rectification, with the reason.", "S1 §23"),
    _t("trigger", "delist",              "摘牌",           "delist",               "The listing authority removes the listing after an approved review.", "S18; S19 §10; S20"),
    _t("trigger", "request_extension",   "申请延期",       "request extension",    "Ask for a later deadline with the interim control measures in place.", "S14 verify; S18"),
    _t("trigger", "grant_extension",     "批准延期",       "grant extension",      "Grant a new deadline.", "S14 verify; S18"),
    _t("trigger", "deny_extension",      "不予延期",       "deny extension",       "Refuse the extension; the old deadline stands.", "S14 verify; S18"),
    _t("trigger", "void",                "作废",           "void",                 "Void a case registered in error, with the reason.", "inference"),
    _t("trigger", "reopen",              "回头看重新整改", "reopen after look-back","A look-back review (回头看) found recurrence or a fake fix.", "seed:003 item 5; seed:001 item 7"),
    _t("trigger", "order_stop",          "责令停产停业",   "order stop",           "Order a partial or full stop of production while the hazard is fixed.", "S1 §16; S3 §65 verify"),
    _t("trigger", "lift_stop",           "恢复生产",       "lift stop",            "Lift the stop order.", "S1 §18 verify"),
    _t("trigger", "assign_department",   "推送行业部门",   "assign to department", "Route the case to the sector department that leads its industry (谁主管谁牵头).", "seed:002 (八); S3 三管三必须"),
    _t("trigger", "transfer_supervision","移交监管层级",   "transfer supervision", "Supervision of the case moves to another tier after an accepted escalation.", "seed:002 (八); inference"),
    _t("trigger", "record_escalation",   "记录提级进展",   "record escalation",    "The hazard's own record that an escalation of it was proposed, returned or withdrawn (fired by the escalation).", "seed:002 (八); inference"),
    _t("trigger", "link_tipoff",         "关联举报",       "link tip-off",         "A duplicate tip-off about this hazard is linked to the case.", "inference"),
    _t("trigger", "mark_overdue",        "逾期",           "mark overdue",         "The deadline passed with the case still in the stage (fired by a timer).", "seeds; DOMAIN §e"),
    _t("trigger", "remind",              "到期提醒",       "remind",               "A reminder before a deadline (fired by a timer; changes no state).", "inference"),
    _t("trigger", "sanction",            "逾期督办升级",   "apply sanction rung",  "Apply the next rung of the overdue ladder against the named party (fired by a timer).", "seed:000 保障(五); seed:001 item 8"),
    # ── triggers every workflow has (added by the engine) ────────────────────────────────────────────
    _t("trigger", "migrate_policy",      "迁移政策版本",   "migrate policy version", "Re-pin an open case to another policy version under an approved migration plan (system only).", "inference"),
    _t("trigger", "import",              "台账导入",       "import from a ledger", "Register a case from an existing ledger row in the state the ledger records, with the file and row it came from.", "seed:002 (台账); inference"),
    # ── tip-off triggers ─────────────────────────────────────────────────────────────────────────────
    _t("trigger", "receive_tipoff",      "受理举报",       "receive tip-off",      "Log a public or internal report; the reporter's identity is kept apart.", "S3 §73 verify"),
    _t("trigger", "start_verification",  "开始核查",       "start verification",   "Assign the verifier and start the on-site check.", "S10"),
    _t("trigger", "substantiate",        "举报查实",       "substantiate",         "Found true: open the linked hazard case.", "seed:000 item 24; seed:001 item 9"),
    _t("trigger", "dismiss",             "举报不实",       "dismiss as unfounded", "Found untrue, with the reason.", "inference"),
    _t("trigger", "view_reporter",       "查阅举报人信息", "view reporter identity", "Read the confidential reporter identity, for a role the policy allows, with the purpose; the reading itself is audited.", "S3 §73 verify; inference"),
    _t("trigger", "merge_duplicate",     "合并重复举报",   "merge duplicate",      "The tip-off reports a hazard already on file; link it instead of opening a second case.", "inference"),
    # ── escalation triggers ──────────────────────────────────────────────────────────────────────────
    _t("trigger", "propose_escalation",  "提请纳入蓄水池", "propose escalation",   "Propose a hard problem of the full register for the upper tier's pool, with the reason.", "seed:002 (八)"),
    _t("trigger", "approve_escalation",  "审批纳入",       "approve admission",    "One step of the admission procedure (e.g. 分管领导, then 主要领导).", "seed:002 (八)"),
    _t("trigger", "accept_escalation",   "上级接收",       "accept into pool",     "The upper tier accepts the problem; supervision moves up.", "seed:002 (八); inference"),
    _t("trigger", "return_escalation",   "上级退回",       "return to lower tier", "The upper tier returns the problem to the tier that proposed it, with the reason.", "inference (DOMAIN §h Q12)"),
    _t("trigger", "withdraw_escalation", "撤回提级",       "withdraw proposal",    "Withdraw the proposal before admission.", "inference"),
    # ── reporting obligation triggers ────────────────────────────────────────────────────────────────
    _t("trigger", "open_obligation",     "生成报送任务",   "open obligation",      "Open the obligation for one period.", "S1 §14"),
    _t("trigger", "fulfil",              "报送",           "file report",          "File the report for the period.", "S1 §14"),

    # ── roles ────────────────────────────────────────────────────────────────────────────────────────
    _t("role", "inspector",               "隐患排查人员",       "inspector",                "Anyone in the unit who screens for hazards and signs what they check.", "seed:002 (五)3"),
    _t("role", "safety_manager",          "安全管理人员",       "safety manager",           "The unit's safety department staff.", "S1 §4"),
    _t("role", "principal_officer",       "主要负责人",         "principal officer",        "Fully responsible for the unit's hazard work; reports major hazards and organises the plan.", "S1 §4, §14, §15"),
    _t("role", "supervisor",              "监管执法人员",       "supervisor",               "Staff of a department with safety-supervision duty (负有安全生产监督管理职责的部门).", "S3 §41; S1 §20, §23"),
    _t("role", "sector_department",       "行业主管部门",       "sector department",        "The department in charge of the industry.", "seed:002"),
    _t("role", "township_officer",        "乡镇（街道）安全工作人员", "township officer",   "Safety staff of the territorial government (属地).", "seed:002"),
    _t("role", "emergency_office",        "应急办",             "emergency office",         "The township emergency office that collates the full register (全量库).", "seed:002 (八)"),
    _t("role", "leader_in_charge",        "分管领导",           "leader in charge",         "The leader in charge of safety work; first approval of admission.", "seed:002 (八)"),
    _t("role", "head",                    "主要领导",           "head of government",       "The head of the township or county; final approval of admission.", "seed:002 (八)"),
    _t("role", "safety_committee_office", "安委办",             "safety committee office",  "The government body that coordinates safety work, schedules, notifies and holds talks.", "seeds"),
    _t("role", "fire_rescue",             "消防救援机构",       "fire rescue agency",       "Determines major fire hazards and reports them to the government.", "S10 §21; S11 §55"),
    _t("role", "complaint_officer",       "举报受理人员",       "complaint officer",        "Receives tip-offs; may see the reporter's identity where the policy allows.", "S3 §73 verify; inference"),
    _t("role", "system",                  "系统",               "system",                   "The engine itself, firing timers (deadlines, reminders, ladder rungs).", "inference"),

    # ── grades ───────────────────────────────────────────────────────────────────────────────────────
    _t("grade", "general",        "一般事故隐患",   "general hazard",   "Low harm, easy to fix; can be removed as soon as it is found.", "S1 §3"),
    _t("grade", "major",          "重大事故隐患",   "major hazard",     "High harm, hard to fix; needs stoppage and time, or outside help.", "S1 §3; S4-S13"),
    _t("grade", "significant",    "较大事故隐患",   "significant hazard","A middle grade some provinces use; maps onto the national 一般.", "DOMAIN §h Q8"),

    # ── source channels (隐患来源) ──────────────────────────────────────────────────────────────────
    _t("source", "enterprise_self_inspection", "企业自查",       "enterprise self-inspection", "Found by the unit's own daily, weekly or monthly screening.", "seed:000 item 24; seed:002"),
    _t("source", "supervisory_inspection",     "督导检查发现",   "supervisory inspection",     "Found by a supervisory check.", "seed:000 item 24"),
    _t("source", "enforcement",                "执法检查发现",   "enforcement inspection",     "Found during law enforcement (三部曲).", "seed:002 (五)2"),
    _t("source", "public_report_verified",     "群众举报查实",   "verified public report",     "A public tip-off found true on verification.", "seed:000 item 24"),
    _t("source", "internal_whistleblower",     "内部吹哨人举报查实", "internal whistleblower", "An employee's report found true on verification.", "seed:000 item 30"),
    _t("source", "monitoring_alarm",           "监测预警",       "monitoring alarm",           "Raised by an online monitoring or early-warning system.", "inference"),
    _t("source", "expert",                     "专家诊断",       "expert diagnosis",           "Found by an external expert's diagnostic check.", "seed:001; DOMAIN §g"),

    # ── natures (隐患类型) ──────────────────────────────────────────────────────────────────────────
    _t("nature", "unsafe_act",         "人的不安全行为", "unsafe act",          "", "S1 §3"),
    _t("nature", "unsafe_condition",   "物的危险状态",   "unsafe condition",    "", "S1 §3"),
    _t("nature", "management_defect",  "管理上的缺陷",   "management defect",   "", "S1 §3"),

    # ── industries (一行业一清单) ──────────────────────────────────────────────────────────────────────
    _t("industry", "industry_trade",       "工贸",             "industry and trade",        "Metallurgy, non-ferrous, building materials, machinery, light industry, textiles, tobacco, commerce.", "S4"),
    _t("industry", "chemicals",            "化工和危险化学品", "chemicals",                 "", "S5"),
    _t("industry", "coal_mine",            "煤矿",             "coal mines",                "", "S6"),
    _t("industry", "metal_nonmetal_mine",  "金属非金属矿山",   "metal and non-metal mines", "", "S7"),
    _t("industry", "fireworks",            "烟花爆竹",         "fireworks",                 "", "S8"),
    _t("industry", "civil_explosives",     "民用爆炸物品",     "civil explosives",          "", "S13"),
    _t("industry", "fire_safety",          "消防",             "fire safety",               "", "S9; S10"),
    _t("industry", "construction",         "房屋市政工程",     "building and municipal works", "", "S12"),
    _t("industry", "road_transport",       "道路运输",         "road transport",            "", "inference"),
    _t("industry", "gas",                  "城镇燃气",         "town gas",                  "", "inference"),
    _t("industry", "other",                "其他",             "other",                     "", "inference"),

    # ── sector departments (routing) ────────────────────────────────────────────────────────────────
    _t("department", "emergency_management",  "应急管理部门",       "emergency management",    "", "S3"),
    _t("department", "mine_safety",           "矿山安全监管部门",   "mine safety supervision", "", "S6"),
    _t("department", "fire_department",       "消防救援机构",       "fire rescue",             "", "S10"),
    _t("department", "housing_construction",  "住房城乡建设部门",   "housing and construction","", "S12"),
    _t("department", "transport",             "交通运输部门",       "transport",               "", "inference"),
    _t("department", "industry_information",  "工业和信息化部门",   "industry and IT",         "", "S13"),
    _t("department", "market_regulation",     "市场监管部门",       "market regulation",       "", "inference"),

    # ── dual-report recipients (双报告) ────────────────────────────────────────────────────────────────
    _t("recipient", "supervising_department", "负有安全生产监督管理职责的部门", "supervising department", "", "S3 §41"),
    _t("recipient", "workers_congress",       "职工大会或职工代表大会",         "workers' congress",      "", "S3 §41; seed:003"),
    _t("recipient", "township_government",    "属地乡镇（街道）政府",           "township government",    "", "seed:002"),
    _t("recipient", "sector_department",      "行业主管部门",                   "sector department",      "", "seed:002"),

    # ── overdue ladder rungs (函告 → 通报 → 约谈 → 曝光 → 移送) ─────────────────────────────────────────
    _t("sanction", "formal_letter",        "函告",     "formal letter",          "Rung 1 of the pressure ladder.", "seed:000 保障(五); seed:001 item 8"),
    _t("sanction", "circular_notice",      "通报",     "circular notice",        "A notice to the whole system.", "seeds"),
    _t("sanction", "admonitory_talk",      "约谈",     "admonitory talk",        "A formal warning interview.", "S15; seeds"),
    _t("sanction", "public_exposure",      "曝光",     "public exposure",        "Publication in the media.", "seeds"),
    _t("sanction", "enforcement_referral", "移送追责", "referral for enforcement","Referral for penalties or accountability.", "S3 §102; seed:000 item 31"),

    # ── parties a sanction names ────────────────────────────────────────────────────────────────────
    _t("party", "business_unit", "生产经营单位",     "business unit", "", "S1 §4"),
    _t("party", "department",    "行业主管部门",     "department",    "", "seed:002"),
    _t("party", "township",      "乡镇（街道）政府", "township",      "", "seed:002"),

    # ── deadline keys ───────────────────────────────────────────────────────────────────────────────
    _t("deadline", "rectify",            "整改期限",       "rectification deadline", "Set by the order, the plan, an extension or a reopening.", "S1 §15, §20"),
    _t("deadline", "review",             "审核期限",       "review deadline",        "Time to review a submitted fix (10 日 under S1 §23).", "S1 §23 verify"),
    _t("deadline", "extension_decision", "延期答复期限",   "extension decision",     "Time to answer an extension request (5 日 under S14).", "S14 verify"),
    _t("deadline", "report",             "报告期限",       "report deadline",        "Time to finish the dual report of a major hazard (nationally only 及时).", "S1 §14"),
    _t("deadline", "confirm",            "确认期限",       "confirmation deadline",  "Time to finish the two-level confirmation.", "inference"),
    _t("deadline", "delist",             "摘牌期限",       "delisting deadline",     "Time for the listing authority to delist after approval.", "S18"),
    _t("deadline", "verify",             "核查期限",       "verification deadline",  "Time to verify a tip-off (24 h or 3 工作日).", "S10 verify"),
    _t("deadline", "admission",          "纳入审批期限",   "admission deadline",     "Time for the admission procedure of an escalation.", "inference"),
    _t("deadline", "pool_decision",      "上级接收期限",   "pool decision deadline", "Time for the upper tier to accept or return.", "inference"),
    _t("deadline", "fire_order_notice",  "责令改正通知期限", "fire correction notice", "Serve the 责令限期改正通知书 within 3 working days of the inspection.", "S10 §19"),
    _t("deadline", "fire_rectification_notice", "重大火灾隐患整改通知期限", "major fire hazard notice", "Serve the 重大火灾隐患整改通知书 within 3 working days of the decision.", "S10 §21"),
    _t("deadline", "obligation",         "报送期限",       "reporting deadline",     "The calendar date a periodic report is due.", "S1 §14; seed:000"),

    # ── escalation reasons ──────────────────────────────────────────────────────────────────────────
    _t("escalation_reason", "high_risk",        "风险较大",     "high risk",            "", "seed:002 (八)"),
    _t("escalation_reason", "beyond_capacity",  "整改存在困难", "beyond local capacity","", "seed:002 (八)"),

    # ── look-back findings ──────────────────────────────────────────────────────────────────────────
    _t("finding", "recurrence", "隐患反弹", "recurrence", "", "seed:003 item 5"),
    _t("finding", "fake_fix",   "虚假整改", "fake fix",   "", "seed:001 item 7"),

    # ── stop-production levels ──────────────────────────────────────────────────────────────────────
    _t("stop", "none",    "未停产",   "not stopped", "", "S1 §16"),
    _t("stop", "partial", "局部停产", "partial stop", "", "S1 §16; DOMAIN §g (Ningbo)"),
    _t("stop", "full",    "全面停产", "full stop",    "", "S1 §16; seed:001 重患必停"),

    # ── tip-off channels and categories ─────────────────────────────────────────────────────────────
    _t("channel", "public",                "群众举报",     "public report",         "", "S3 §73 verify"),
    _t("channel", "internal_whistleblower","内部吹哨人",   "internal whistleblower","", "seed:000 item 30"),
    _t("tipoff_category", "blocked_fire_exit",     "堵塞封闭疏散通道、安全出口", "blocked fire exit",        "", "S10 verify"),
    _t("tipoff_category", "fire_system_disabled",  "消防设施损坏停用",         "fire system disabled",     "", "S10 verify"),
    _t("tipoff_category", "other",                 "其他",                     "other",                    "", "inference"),

    # ── timer kinds ─────────────────────────────────────────────────────────────────────────────────
    _t("timer", "deadline", "期限计时器",   "deadline timer", "Fires when a stage deadline passes.", "inference"),
    _t("timer", "reminder", "提醒计时器",   "reminder timer", "Fires a reminder before a deadline.", "inference"),
    _t("timer", "sanction", "督办升级计时器", "ladder timer", "Fires the next rung of the overdue ladder.", "inference"),

    # ── jurisdiction levels ─────────────────────────────────────────────────────────────────────────
    _t("level", "national", "国家",       "national", "", "GB/T 2260"),
    _t("level", "province", "省级",       "province", "", "GB/T 2260"),
    _t("level", "city",     "市级",       "city",     "", "GB/T 2260"),
    _t("level", "county",   "县级",       "county",   "", "GB/T 2260"),
    _t("level", "township", "乡级",       "township", "", "统计用区划代码"),
    _t("level", "village",  "村级",       "village",  "", "统计用区划代码"),

    # ── policy rules (what `hazardflow policy show` lists) ─────────────────────────────────────────────
    _t("policy_rule", "grades",                 "隐患分级",             "grades",                     "The ordered grade list and its map onto the national 一般/重大.", "S1 §3; DOMAIN §h Q8"),
    _t("policy_rule", "report_recipients",      "双报告对象",           "dual-report recipients",     "Who a major hazard is reported to before governance starts.", "S3 §41"),
    _t("policy_rule", "confirmation_levels",    "重大隐患确认级数",     "confirmation levels",        "How many distinct people confirm a major hazard.", "seed:000 item 5"),
    _t("policy_rule", "listing",                "挂牌督办",             "listing for supervision",    "Whether a major hazard is listed, at which level, by whom.", "S1 §20 verify"),
    _t("policy_rule", "stop_on_major",          "重患必停",             "stop on major",              "Whether every major hazard stops production until reviewed.", "seed:001 保障(四)"),
    _t("policy_rule", "major_reviewers",        "重大隐患审核销号",     "major-hazard reviewers",     "Roles that review and close a major hazard.", "seed:000 item 23"),
    _t("policy_rule", "general_reviewers",      "一般隐患验收",         "general-hazard reviewers",   "Roles that accept the fix of a general hazard.", "S14"),
    _t("policy_rule", "deadlines",              "办理时限",             "stage deadlines",            "The time limit of each stage, with its unit.", "DOMAIN §f"),
    _t("policy_rule", "reminders",              "到期提醒",             "reminders",                  "Reminders before a deadline.", "inference"),
    _t("policy_rule", "overdue_ladder",         "逾期督办阶梯",         "overdue ladder",             "Sanctions after a missed deadline, rung by rung.", "seed:000 保障(五)"),
    _t("policy_rule", "reporting_obligations",  "定期报送",             "reporting obligations",      "Periodic reports parties owe.", "S1 §14"),
    _t("policy_rule", "milestones",             "阶段目标",             "campaign milestones",        "One-off dated targets of a campaign plan.", "S16"),
    _t("policy_rule", "escalation_procedure",   "纳入程序",             "admission procedure",        "Approval steps for the upper tier's pool.", "seed:002 (八); inference"),
    _t("policy_rule", "escalation_scope",       "提级范围",             "escalation scope",           "Which hazards may be proposed for the upper tier's pool.", "seed:002 (八)"),
    _t("policy_rule", "reporter_roles",         "举报人信息查阅",       "reporter identity readers",  "Roles that may read a reporter's identity.", "S3 §73 verify"),
    _t("policy_rule", "reward_channels",        "举报奖励",             "tip-off rewards",            "Channels whose substantiated reports earn a reward.", "seed:000 item 30"),
    _t("policy_rule", "lead_departments",       "行业牵头部门",         "lead departments",           "The sector department leading each industry.", "S3 §3"),
    _t("policy_rule", "criteria",               "判定标准引用",         "criteria citations",         "Whether a major grade cites criteria, and from which lists.", "seed:000 item 20"),
    _t("policy_rule", "extension_lead",         "延期申请提前量",       "extension lead time",        "How long before the deadline an extension must be asked for.", "S14 verify"),
    _t("policy_rule", "calendar",               "工作日历",             "working calendar",           "Statutory holidays, 调休 and local adjustments.", "S23"),
    _t("policy_rule", "separations",            "职责分离",             "separation of duty",         "Who may not fire a trigger on a case they acted on.", "seed:002 (五)3"),
    _t("policy_rule", "permissions",            "权限调整",             "permission overrides",       "Roles and scope per trigger, replacing the lifecycle table's.", "inference"),
    # ── dashboard (挂图作战): panels, figures and the three status colours (三色督办) ─────────────────────
    _t("dashboard", "title",           "隐患治理挂图作战",   "hazard campaign board",       "One picture per jurisdiction: who must fix what by when, and where it is late.", "seed:000 保障(二)"),
    _t("dashboard", "overdue",         "逾期",               "overdue",                     "Red (红): open and past the running stage deadline.", "suqian.gov.cn 2025-06-06 (三色督办)"),
    _t("dashboard", "behind",          "滞后",               "behind schedule",             "Yellow (黄): open, not overdue now, but it missed a deadline before (reached a ladder rung) and its next deadline is not yet near.", "suqian.gov.cn 2025-06-06 (三色督办); inference"),
    _t("dashboard", "due_soon",        "临期",               "due soon",                    "Blue (蓝): open, not overdue, the running stage deadline falls within the next N days (N = the board's due-soon window).", "suqian.gov.cn 2025-06-06 (三色督办); inference"),
    _t("dashboard", "open",            "在册隐患",           "open hazards",                "Hazard cases not closed or voided (存量 at the instant shown).", "seed:000 item 22"),
    _t("dashboard", "opened_month",    "本月新增",           "opened this month",           "Hazard cases registered since the first day of the month.", "seed:000 item 22"),
    _t("dashboard", "closed_month",    "本月销号",           "closed this month",           "Hazard cases closed after review since the first day of the month.", "S1 §23"),
    _t("dashboard", "open_major",      "在册重大隐患",       "open major hazards",          "Open hazard cases graded major.", "seed:000 item 22"),
    _t("dashboard", "listed",          "挂牌督办",           "listed for supervision",      "Open hazard cases listed for supervision and not delisted.", "S18"),
    _t("dashboard", "on_time_rate",    "按期整改率",         "on-time closure rate",        "Closed hazards that never missed a deadline, over all hazards closed in the period.", "seed:000 item 22; inference"),
    _t("dashboard", "pooled",          "蓄水池在池",         "in the pool",                 "Escalations admitted to the pool of this tier or a tier below, awaiting acceptance.", "seed:002 (八)"),
    _t("dashboard", "matrix",          "状态矩阵",           "status matrix",               "Open hazards by division (or department) and stage, coloured by the worst status.", "inference"),
    _t("dashboard", "by_division",     "按区划",             "by division",                 "", "inference"),
    _t("dashboard", "by_department",   "按部门",             "by department",               "", "inference"),
    _t("dashboard", "by_industry",     "按行业",             "by industry",                 "", "inference"),
    _t("dashboard", "this_level",      "本级",               "this level",                  "Cases registered at the jurisdiction itself, not in a division below.", "inference"),
    _t("dashboard", "total",           "合计",               "total",                       "", "inference"),
    _t("dashboard", "watch_list",      "逾期和临期隐患",     "overdue and due-soon hazards", "Open hazards past or near their deadline, soonest deadline first.", "inference"),
    _t("dashboard", "majors_trend",    "重大隐患存量与增量", "open majors: stock and inflow", "Open major hazards at each month's end, split into those found before the campaign began (存量) and since (增量).", "seed:000 一(二)"),
    _t("dashboard", "stock",           "存量",               "stock",                       "Open major hazards at the month's end found before the campaign began (figure open_majors_stock).", "seed:000 一(二)"),
    _t("dashboard", "inflow",          "增量",               "inflow",                      "Open major hazards at the month's end found since the campaign began (figure open_majors_new).", "seed:000 一(二)"),
    _t("dashboard", "closed",          "销号",               "closed",                      "Hazards closed (or voided) in the month.", "S1 §23"),
    _t("dashboard", "on_time",         "按期销号",           "closed on time",              "Closed without missing any deadline.", "inference"),
    _t("dashboard", "on_time_chart",   "按期整改率（近12个月）", "on-time closure (last 12 months)", "", "inference"),
    _t("dashboard", "listed_list",     "挂牌督办隐患",       "hazards listed for supervision", "", "S18"),
    _t("dashboard", "pool_list",       "蓄水池中的提级问题", "escalations in the pool",     "", "seed:002 (八)"),
    _t("dashboard", "case",            "案件编号",           "case",                        "", "inference"),
    _t("dashboard", "unit",            "责任单位",           "responsible unit",            "The business unit that must rectify (生产经营单位).", "S1 §10"),
    _t("dashboard", "division",        "属地",               "division",                    "", "inference"),
    _t("dashboard", "department",      "牵头部门",           "lead department",             "", "inference"),
    _t("dashboard", "stage",           "阶段",               "stage",                       "", "inference"),
    _t("dashboard", "deadline",        "期限",               "deadline",                    "", "inference"),
    _t("dashboard", "days_late",       "逾期天数",           "days overdue",                "", "inference"),
    _t("dashboard", "rung",            "督办层级",           "ladder rung reached",         "The highest rung of the overdue ladder reached (函告 → 通报 → 约谈 → 曝光 → 移送).", "seed:000 保障(五)"),
    _t("dashboard", "supervising",     "督办级别",           "supervising level",           "The tier that listed the hazard for supervision.", "S18"),
    _t("dashboard", "document_no",     "督办文号",           "document number",             "", "S18"),
    _t("dashboard", "grade",           "等级",               "grade",                       "", "inference"),
    _t("dashboard", "industry",        "行业领域",           "industry",                    "", "inference"),
    _t("dashboard", "none",            "无",                 "none",                        "", "inference"),
    _t("dashboard", "as_of",           "数据时间",           "as of",                       "", "inference"),
    _t("dashboard", "cases",           "案件清单",           "case list",                   "", "inference"),
    _t("dashboard", "next_page",       "下一页",             "next page",                   "", "inference"),
    _t("dashboard", "back",            "返回挂图",           "back to the board",           "", "inference"),
    _t("dashboard", "legend",          "图例",               "legend",                      "", "inference"),
    _t("dashboard", "auto_refresh",    "案件变化时自动刷新", "refreshes itself when cases change", "", "inference"),
    _t("dashboard", "chart_data",      "图表数据",           "chart data",                  "The numbers behind a chart, as a table (its text alternative).", "WCAG 2.1 1.1.1"),
    _t("dashboard", "month",           "月份",               "month",                       "", "inference"),
    # ── to-do items (统一待办) and their urgency ──────────────────────────────────────────────────────
    _t("todo_status", "pending",  "待办", "pending", "The case is at this step now; the receiver is expected to act.", "integration §1.2 (e-cology isremark 0)"),
    _t("todo_status", "done",     "已办", "done",    "The case moved on from this step.", "integration §1.2 (e-cology isremark 2)"),
    _t("todo_status", "closed",   "办结", "closed",  "The case reached a terminal state; nothing is left to do.", "integration §1.2 (e-cology isremark 4)"),
    _t("urgency", "normal",       "一般", "normal",      "On time: no overdue sanction rung reached.", "inference from the overdue ladder"),
    _t("urgency", "urgent",       "急",   "urgent",      "Overdue, or the first rung of the overdue ladder reached.", "inference from the overdue ladder"),
    _t("urgency", "very_urgent",  "紧急", "very urgent", "The second rung of the overdue ladder reached.", "inference from the overdue ladder"),
    _t("urgency", "critical",     "特急", "critical",    "The third or a later rung of the overdue ladder reached.", "inference from the overdue ladder"),
    # ── report figures (hazardflow.reports; the period is [start, end), levels are as of end) ─────────────
    _t("figure", "registered",            "本期新登记隐患数（全部等级）",       "hazards registered in the period (all grades)",    "Hazard cases whose registration time lies in the period (an import from a ledger counts as a registration, except of a hazard the ledger shows already closed or voided: a historical record).", "S1 §10; seed:000 item 22"),
    _t("figure", "registered_stock",      "本期登记的存量隐患数（截止日前发现）", "hazards registered in the period, found before the cutoff", "Hazards registered in the period whose discovery (discovered_at) lies before the stock cutoff: the stock entered (存量录入), not newly found.", "S16; inference"),
    _t("figure", "closed",                "本期销号次数（全部等级）",           "closures in the period (all grades)",              "Events that moved a hazard case into 已销号 in the period (a case reopened and closed again counts each time).", "S1 §23"),
    _t("figure", "closed_on_time",        "本期按期销号次数",                   "closures in the period that met every deadline",   "Closures in the period of cases that had not been marked overdue on any stage (整改、审核、延期审批…) before closing.", "seed:000 保障(五); inference"),
    _t("figure", "on_time_rate",          "按期整改率（本期）",                 "on-time closure rate (period)",                    "closed_on_time ÷ closed, both of the period; empty when nothing closed.", "seed:001; COMPASS M17"),
    _t("figure", "voided",                "本期作废隐患数",                     "hazards voided in the period",                     "Events that voided a hazard case (registered in error) in the period.", "inference"),
    _t("figure", "open",                  "期末未销号隐患数（全部等级）",       "open hazards at the end (all grades)",             "Hazard cases not closed and not voided after their events before the end instant.", "S1 §23"),
    _t("figure", "open_majors",           "期末未销号重大隐患数",               "open major hazards at the end",                    "Open hazards at the end whose grade is major (national 重大).", "S16; seed:000 item 22"),
    _t("figure", "open_majors_stock",     "期末未销号重大隐患数（存量：截止日前发现）", "open major hazards found before the cutoff (stock)", "Open major hazards at the end found (discovered_at, else registration) before the stock cutoff (the campaign start).", "S16; seed:000 item 22"),
    _t("figure", "open_majors_new",       "期末未销号重大隐患数（增量：截止日起发现）", "open major hazards found from the cutoff (new)",     "Open major hazards at the end found on or after the stock cutoff.", "S16; seed:000 item 22"),
    _t("figure", "open_majors_unplanned", "期末未制定治理方案的重大隐患数",     "open major hazards without a plan at the end",     "Open major hazards at the end still registered, being confirmed or being reported (no governance plan adopted).", "S1 §15; seed:000 item 22"),
    _t("figure", "overdue_open",          "期末逾期未销号隐患数（全部等级）",   "open overdue hazards at the end (all grades)",     "Open hazards at the end whose running stage deadline had passed (marked overdue by the engine).", "seed:000 保障(五)"),
    _t("figure", "overdue_open_majors",   "期末逾期未销号重大隐患数",           "open overdue major hazards at the end",            "overdue_open restricted to major hazards.", "seed:000 保障(五)"),
    _t("figure", "listed_open",           "期末挂牌督办在办隐患数",             "listed hazards open at the end",                   "Open hazards at the end listed for supervision (挂牌督办) and not delisted; by the listing authority's level.", "S18; S19 §10"),
    _t("figure", "close_days",            "销号用时（天，登记至销号）",         "days from registration to closure",                "Days (in tenths, cut down) from registration to each closure of the period; mean, median and 90th percentile (nearest rank).", "inference"),
    _t("figure", "closed_on_spot",        "本期即查即改销号次数",               "closures on the spot in the period",               "Closures in the period by fixing on the spot (即查即改, fix_on_spot), with their days to close kept apart.", "S1 §15; seed:002 (五)3"),
    _t("figure", "rungs_reached",         "本期达到逾期督办第N级的隐患数",      "hazards reaching ladder rung n in the period",     "Hazards whose highest rung of the overdue ladder (函告→通报→约谈→曝光→移送) rose to n or above during the period.", "seed:000 保障(五)"),
    _t("figure", "open_under_sanction",   "期末受逾期督办的未销号隐患数",       "open hazards under sanction at the end",           "Open hazards at the end that have reached at least the first rung of the overdue ladder.", "seed:000 保障(五)"),
    _t("figure", "tipoffs_received",      "本期受理举报数",                     "tip-offs received in the period",                  "Tip-off cases received in the period.", "seed:000 item 24"),
    _t("figure", "tipoffs_substantiated", "本期举报查实数",                     "tip-offs substantiated in the period",             "Tip-offs found true (a hazard case opened) in the period.", "seed:000 item 24"),
    _t("figure", "escalations_proposed",  "本期提请纳入蓄水池数",               "escalations proposed in the period",               "Escalation cases proposed in the period.", "seed:002 (八)"),
    _t("figure", "escalations_pooled",    "本期进入蓄水池数",                   "escalations pooled in the period",                 "Escalations admitted to the upper tier's pool in the period.", "seed:002 (八)"),
    _t("figure", "escalations_accepted",  "本期上级接收数",                     "escalations accepted in the period",               "Escalations the upper tier accepted (supervision moved up) in the period.", "seed:002 (八)"),
    _t("figure", "escalations_returned",  "本期上级退回数",                     "escalations returned in the period",               "Escalations the upper tier returned in the period.", "seed:002 (八)"),
    _t("figure", "escalations_in_pool",   "期末蓄水池在池数",                   "escalations in the pool at the end",               "Escalations waiting in the upper tier's pool at the end.", "seed:002 (八)"),
    _t("figure", "reports_filed",         "本期报送次数",                       "reports filed in the period",                      "Reporting obligations filed in the period.", "S1 §14; seed:000 保障(六)"),
    _t("figure", "reports_filed_late",    "本期逾期报送次数",                   "reports filed late in the period",                 "Filings in the period of obligations that had been marked overdue before.", "S1 §14"),
    _t("figure", "reports_overdue",       "期末逾期未报送数",                   "reports overdue at the end",                       "Reporting obligations still due and past their date at the end.", "S1 §14"),
    # ── campaign targets of a simulation (short names, for chart markers) ──────────────────────────────
    _t("target", "stock_cleared",   "存量基本消除", "stock cleared",    "Major hazards found before the campaign are (basically) all closed by the end of 2024.", "S16; seed:000 item 22; inference"),
    _t("target", "inflow_curbed",   "增量有效遏制", "inflow curbed",    "Open new major hazards do not grow from the end of 2024 to the end of 2025.", "S16; seed:000 一(二); inference"),
    _t("target", "dynamic_zero",    "动态清零",     "dynamic zeroing",  "No open major hazard past its deadline at any quarter end of 2026.", "S16; seed:000 一(二); inference"),
    _t("target", "majors_governed", "重大隐患五落实", "majors governed", "Every major hazard found in the ledger drive has an adopted plan (五落实) by the deadline.", "seed:002 四(二)(三)"),
)
# fmt: on

_INDEX: dict[tuple[str, str], Term] = {(t.kind, t.id): t for t in GLOSSARY}


def terms(kind: str | None = None) -> Iterator[Term]:
    """Iterate the glossary rows, optionally of one kind."""
    return (t for t in GLOSSARY if kind is None or t.kind == kind)


def has_label(kind: str, id: str) -> bool:
    """True when ``(kind, id)`` has a glossary row."""
    return (kind, id) in _INDEX


def zh(kind: str, id: str) -> str:
    """The 中文 label of an identifier, or the identifier itself when it has none."""
    term = _INDEX.get((kind, id))
    return term.zh if term is not None else id


def en(kind: str, id: str) -> str:
    """The English gloss of an identifier, or the identifier itself when it has none."""
    term = _INDEX.get((kind, id))
    return term.en if term is not None else id


def describe(kind: str, id: str) -> str:
    """``'approve' (审核销号)``: the form used in every message."""
    term = _INDEX.get((kind, id))
    if term is None:
        return repr(id)
    return f"{id!r} ({term.zh})"
