"""The policy registry: versions, nearest-policy resolution, effective dates, entry-point discovery."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from datetime import date
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import ClassVar

import pytest

import seed_support
from hazardflow import InvalidInput, PolicyDefinitionError
from hazardflow.policies import NationalBaseline, PolicyRegistry, discover


class County(NationalBaseline):
    policy_id: ClassVar[str] = "test.county"
    policy_version: ClassVar[str] = "2023.1"
    jurisdiction: ClassVar[str] = "500240"


class County2024(County):
    policy_version: ClassVar[str] = "2024.1"
    effective_from: ClassVar[date | None] = date(2024, 1, 1)


class County2030(County):
    policy_version: ClassVar[str] = "2030.1"
    effective_from: ClassVar[date | None] = date(2030, 1, 1)


class Township(County):
    policy_id: ClassVar[str] = "test.township"
    policy_version: ClassVar[str] = "1"
    jurisdiction: ClassVar[str] = "500240204"


def test_nearest_policy_up_the_tree_in_force_on_the_day() -> None:
    reg = PolicyRegistry([County2030, County, County2024, Township])
    assert reg.resolve("500240204").policy_id == "test.township"
    assert reg.resolve("500240205", date(2023, 6, 1)).policy_version == "2023.1"
    assert reg.resolve("500240205", date(2024, 6, 1)).policy_version == "2024.1"
    assert reg.resolve("500240205", date(2031, 1, 1)).policy_version == "2030.1"
    assert reg.resolve("410183001").policy_id == "cn.national"
    assert [p.policy_id for p in reg.chain("500240204", date(2024, 6, 1))] == [
        "test.township",
        "test.county",
        "cn.national",
    ]
    assert [p.policy_version for p in reg.versions("test.county")] == ["2023.1", "2024.1", "2030.1"]
    assert reg.jurisdictions() == ["000000", "500240", "500240204"]


def test_no_policy_in_force_is_a_clear_error() -> None:
    class OnlyLater(NationalBaseline):
        policy_version: ClassVar[str] = "2099.1"
        effective_from: ClassVar[date | None] = date(2099, 1, 1)

    reg = PolicyRegistry([OnlyLater])
    with pytest.raises(InvalidInput) as info:
        reg.resolve("500240204", date(2024, 1, 1))
    assert info.value.field == "jurisdiction"
    assert "effective_from" in info.value.rule


def test_pinned_versions_stay_available() -> None:
    reg = PolicyRegistry([County, County2024])
    assert reg.get("test.county", "2023.1").policy_version == "2023.1"
    with pytest.raises(InvalidInput) as info:
        reg.get("test.county", "1999.1")
    assert "test.county@2023.1" in info.value.allowed
    assert "register every version that open cases are pinned to" in info.value.rule


def test_registering_the_same_version_twice() -> None:
    reg = PolicyRegistry([County])
    reg.register(County)  # same class: no-op
    assert len(reg.versions("test.county")) == 1

    class Impostor(NationalBaseline):
        policy_id: ClassVar[str] = "test.county"
        policy_version: ClassVar[str] = "2023.1"
        jurisdiction: ClassVar[str] = "500240"

    with pytest.raises(PolicyDefinitionError) as info:
        reg.register(Impostor)
    assert "registered twice by different classes" in info.value.problems[0]

    class Moved(County):
        policy_version: ClassVar[str] = "2025.1"
        jurisdiction: ClassVar[str] = "410183"

    with pytest.raises(PolicyDefinitionError) as moved:
        reg.register(Moved)
    assert "every version of a policy governs one jurisdiction" in moved.value.problems[0]


def test_malformed_identity_is_refused() -> None:
    class NoCode(NationalBaseline):
        policy_id: ClassVar[str] = "test.x"
        jurisdiction: ClassVar[str] = "5002"

    with pytest.raises(PolicyDefinitionError) as info:
        PolicyRegistry([NoCode])
    assert "jurisdiction '5002'" in info.value.problems[0]

    class Blank(NationalBaseline):
        policy_id: ClassVar[str] = ""

    with pytest.raises(PolicyDefinitionError) as blank:
        PolicyRegistry([Blank])
    assert blank.value.problems == ("policy_id must be a non-empty string",)


# ── discovery through entry points ─────────────────────────────────────────────────────────────────


def _fake_distribution(root: Path, name: str, entry_points: str, modules: dict[str, str]) -> None:
    """A minimal installed distribution on ``root`` (what pip leaves in site-packages)."""
    info = root / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(entry_points, encoding="utf-8")
    for module, source in modules.items():
        path = root / f"{module}.py"
        path.write_text(textwrap.dedent(source), encoding="utf-8")


FAKE_MODULE = """
    from hazardflow.policies import NationalBaseline

    class Lichang(NationalBaseline):
        policy_id = "test.lichang"
        policy_version = "1"
        jurisdiction = "500240203"
        name = "黎场乡"

    class Liutang(NationalBaseline):
        policy_id = "test.liutang"
        policy_version = "1"
        jurisdiction = "500240205"
        name = "六塘乡"

    POLICIES = (Lichang, Liutang)
    NOT_A_POLICY = 42
"""


def test_discover_loads_installed_policies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_distribution(
        tmp_path,
        "fake-towns",
        "[hazardflow.policies]\nlichang = fake_towns:Lichang\nall = fake_towns:POLICIES\n",
        {"fake_towns": FAKE_MODULE},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    found = [f for f in discover() if f.distribution == "fake-towns"]
    assert sorted((f.entry_point, f.policy.policy_id) for f in found) == [
        ("all", "test.lichang"),
        ("all", "test.liutang"),
        ("lichang", "test.lichang"),
    ]
    reg = PolicyRegistry.installed()
    assert reg.resolve("500240203").policy_id == "test.lichang"


def test_broken_entry_points_are_reported_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_distribution(
        tmp_path,
        "broken-towns",
        "[hazardflow.policies]\nmissing = no_such_module:Policy\nnumber = broken_towns:NOT_A_POLICY\n",
        {"broken_towns": FAKE_MODULE},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PolicyDefinitionError) as info:
        discover()
    problems = "\n".join(info.value.problems)
    assert "missing = no_such_module:Policy (broken-towns) failed to load: ModuleNotFoundError" in problems
    assert "number = broken_towns:NOT_A_POLICY (broken-towns)" in problems
    assert "not a policy class, instance or iterable" in problems


def test_importing_hazardflow_loads_no_policy_package(tmp_path: Path) -> None:
    _fake_distribution(
        tmp_path, "fake-towns", "[hazardflow.policies]\nall = fake_towns:POLICIES\n", {"fake_towns": FAKE_MODULE}
    )
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import hazardflow, hazardflow.policies, hazardflow.testing; "
        "from hazardflow import Engine; Engine(); "
        "assert 'fake_towns' not in sys.modules and 'hazardflow_seed_policies' not in sys.modules, 'loaded'; "
        "from hazardflow.policies import discover; discover(); assert 'fake_towns' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, timeout=120)


def _example_entry_points() -> dict[str, str]:
    data = tomllib.loads((seed_support.EXAMPLE_PACKAGE / "pyproject.toml").read_text(encoding="utf-8"))
    points: dict[str, str] = data["project"]["entry-points"]["hazardflow.policies"]
    return points


def test_the_example_package_is_discovered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The example package's own entry points find every seed policy (installed, or as pip would install it)."""
    points = _example_entry_points()
    try:
        distribution("hazardflow-seed-policies")
    except PackageNotFoundError:
        lines = "\n".join(f"{k} = {v}" for k, v in points.items())
        _fake_distribution(tmp_path, "hazardflow-seed-policies", f"[hazardflow.policies]\n{lines}\n", {})
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.syspath_prepend(str(seed_support.EXAMPLE_PACKAGE / "src"))
    found = {f.entry_point: f.policy for f in discover() if f.distribution == "hazardflow-seed-policies"}
    assert set(found) == set(points)
    seeds = seed_support.seeds()
    assert sorted(p.policy_id for p in found.values()) == sorted(p.policy_id for p in seeds.POLICIES)
    reg = PolicyRegistry(found.values())
    assert reg.resolve("500240204000").policy_id == "cn.cq.shizhu.sanxing"
    assert reg.resolve("410183001").policy_id == "cn.ha.xinmi.qingpingjie"
    assert reg.resolve("140581102", date(2024, 3, 1)).policy_id == "cn.sx.gaoping.sanjia"
    assert reg.resolve("430405").policy_id == "cn.hn.hengyang"
    assert reg.resolve("341721", date(2024, 5, 1)).policy_id == "cn.ah.chizhou.dongzhi"
    assert reg.resolve("341721", date(2024, 3, 1)).policy_id == "cn.ah.chizhou"
