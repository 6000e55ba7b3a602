"""Every shipped policy passes the policy contract: the national baseline and every seed jurisdiction."""

from __future__ import annotations

from typing import Any, ClassVar

import seed_support
from hazardflow.policies import NationalBaseline
from hazardflow.testing import PolicyContract

seeds = seed_support.seeds()


class TestNationalBaseline(PolicyContract):
    policy = NationalBaseline


class TestChongqing(PolicyContract):
    policy = seeds.ChongqingMunicipality


class TestShizhu(PolicyContract):
    policy = seeds.ShizhuCounty


class TestSanxing(PolicyContract):
    policy = seeds.SanxingTownship
    parents: ClassVar[tuple[Any, ...]] = (seeds.ShizhuCounty,)


class TestXinmi(PolicyContract):
    policy = seeds.XinmiCity


class TestQingpingjie(PolicyContract):
    policy = seeds.QingpingjieStreet


class TestShanxi(PolicyContract):
    policy = seeds.ShanxiProvince


class TestGaoping(PolicyContract):
    policy = seeds.GaopingCity


class TestSanjia(PolicyContract):
    policy = seeds.SanjiaTown


class TestHunan(PolicyContract):
    policy = seeds.HunanProvince


class TestHengyang(PolicyContract):
    policy = seeds.HengyangCity


class TestAnhui(PolicyContract):
    policy = seeds.AnhuiProvince


class TestChizhou(PolicyContract):
    policy = seeds.ChizhouCity


class TestDongzhi(PolicyContract):
    policy = seeds.DongzhiCounty
