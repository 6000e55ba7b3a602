"""The seed jurisdictions as hazardflow policies (示例辖区政策).

Each module holds one province's layers, township → county → city → province, each subclassing the layer
above it and overriding only what its seed document says. Every rule is tagged with its source: ``seed:000``
高平市三甲镇 (2024-2026 three-year plan), ``seed:001`` 新密市青屏街街道 (three-year plan), ``seed:002``
石柱县三星乡 (2023 action plan), ``seed:003`` 衡阳市 (2023 work points), ``seed:004`` 东至县 (policy
interpretation); ``S16`` is the national 治本攻坚三年行动方案 they implement, ``inference`` our reading.

The division codes are the statistical division codes (统计用区划代码); :data:`DIVISIONS` lists every code these
policies use with its name, and :func:`jurisdiction_tree` builds the engine's tree from it.
"""

from __future__ import annotations

from hazardflow import JurisdictionTree

from .anhui import AnhuiProvince, ChizhouCity, DongzhiCounty
from .chongqing import ChongqingMunicipality, SanxingTownship, ShizhuCounty
from .henan import QingpingjieStreet, XinmiCity
from .hunan import HengyangCity, HunanProvince
from .shanxi import GaopingCity, SanjiaTown, ShanxiProvince

__all__ = [
    "DIVISIONS",
    "POLICIES",
    "AnhuiProvince",
    "ChizhouCity",
    "ChongqingMunicipality",
    "DongzhiCounty",
    "GaopingCity",
    "HengyangCity",
    "HunanProvince",
    "QingpingjieStreet",
    "SanjiaTown",
    "SanxingTownship",
    "ShanxiProvince",
    "ShizhuCounty",
    "XinmiCity",
    "jurisdiction_tree",
]

#: Every policy of the package, provinces first.
POLICIES = (
    ChongqingMunicipality,
    ShizhuCounty,
    SanxingTownship,
    XinmiCity,
    QingpingjieStreet,
    ShanxiProvince,
    GaopingCity,
    SanjiaTown,
    HunanProvince,
    HengyangCity,
    AnhuiProvince,
    ChizhouCity,
    DongzhiCounty,
)

#: The divisions these policies govern and their parents: (code, name). Codes checked against the
#: statistical division codes (统计用区划代码) as published in public division datasets.
DIVISIONS: tuple[tuple[str, str], ...] = (
    ("500000", "重庆市"),
    ("500240", "石柱土家族自治县"),
    ("500240204", "三星乡"),
    ("410000", "河南省"),
    ("410100", "郑州市"),
    ("410183", "新密市"),
    ("410183001", "青屏街街道"),
    ("140000", "山西省"),
    ("140500", "晋城市"),
    ("140581", "高平市"),
    ("140581102", "三甲镇"),
    ("430000", "湖南省"),
    ("430400", "衡阳市"),
    ("340000", "安徽省"),
    ("341700", "池州市"),
    ("341721", "东至县"),
)


def jurisdiction_tree(*, strict: bool = True) -> JurisdictionTree:
    """The named divisions of :data:`DIVISIONS`; strict by default (unknown codes are refused, with near matches)."""
    return JurisdictionTree(DIVISIONS, strict=strict)
