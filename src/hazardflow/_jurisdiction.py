"""Administrative-division codes and the jurisdiction tree.

Codes follow GB/T 2260 and the statistical division codes (统计用区划代码): 2 digits province, 2 city,
2 county (6-digit county level, e.g. ``500240`` 石柱土家族自治县), then 3 digits township (9-digit, e.g.
``500240204``; the 12-digit form ends in ``000``) and 3 digits village. ``000000`` is the national root.
A township's 12-digit form (``500240204000``) and its 9-digit form (``500240204``) name the same node:
:func:`canonical` maps the first onto the second, and every function here compares canonical codes, so a
policy registered for ``500240204`` governs a case opened at ``500240204000`` and an officer of either form.
The tree is structural: a code's parent is found by zeroing its lowest level, so the tree needs no data to
answer "is this township inside that county?". A :class:`JurisdictionTree` adds names and, when ``strict``,
refuses codes it does not know with near matches.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

import attrs

from ._exceptions import UnknownJurisdictionError

__all__ = [
    "NATIONAL",
    "Jurisdiction",
    "JurisdictionTree",
    "ancestors",
    "canonical",
    "is_within",
    "level_of",
    "parent_code",
    "subtree_prefix",
]

NATIONAL = "000000"
_CODE = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")


def _check(code: str) -> None:
    if not isinstance(code, str) or not _CODE.match(code):
        raise UnknownJurisdictionError(
            "jurisdiction",
            code,
            "must be an administrative-division code of 6 (county), 9 or 12 (township/village) digits",
        )


@lru_cache(maxsize=65536)
def canonical(code: str) -> str:
    """The canonical form of a code: a 12-digit township code (9 digits + ``000``) becomes its 9-digit form.

    ``canonical("500240204000") == "500240204"``; every other well-formed code is returned unchanged. A
    malformed code raises :class:`~hazardflow.UnknownJurisdictionError`.
    """
    _check(code)
    if len(code) == 12 and code.endswith("000"):
        return code[:9]
    return code


@lru_cache(maxsize=65536)
def level_of(code: str) -> str:
    """``national``, ``province``, ``city``, ``county``, ``township`` or ``village``."""
    _check(code)
    if code == NATIONAL:
        return "national"
    if len(code) == 12:
        return "township" if code.endswith("000") else "village"
    if len(code) == 9:
        return "township"
    if code[2:] == "0000":
        return "province"
    if code[4:] == "00":
        return "city"
    return "county"


@lru_cache(maxsize=65536)
def parent_code(code: str) -> str | None:
    """The code one level up (None for the national root)."""
    level = level_of(code)
    if level == "national":
        return None
    if level == "province":
        return NATIONAL
    if level == "city":
        return code[:2] + "0000"
    if level == "county":
        return code[:4] + "00"
    if level == "township":
        return code[:6]
    return code[:9]


@lru_cache(maxsize=65536)
def ancestors(code: str) -> tuple[str, ...]:
    """The code (in canonical form) and every code above it, nearest first, ending at the national root."""
    code = canonical(code)
    out = [code]
    cur = parent_code(code)
    while cur is not None:
        out.append(cur)
        cur = parent_code(cur)
    return tuple(out)


@lru_cache(maxsize=65536)
def subtree_prefix(code: str) -> str:
    """The digit prefix shared by every code in ``code``'s subtree (``""`` for the national root).

    Lets a SQL store find a subtree with ``jurisdiction LIKE prefix || '%'``: ``500000`` → ``50``,
    ``500200`` → ``5002``, ``500240`` → ``500240``, ``500240204`` (or ``500240204000``) → ``500240204``.
    """
    level = level_of(code)
    return {"national": "", "province": code[:2], "city": code[:4], "county": code[:6], "township": code[:9]}.get(
        level, code
    )


def is_within(code: str, ancestor: str) -> bool:
    """True when ``code`` is ``ancestor`` or lies in its subtree (12- and 9-digit township forms are equal)."""
    if ancestor in (code, NATIONAL):
        return True
    return canonical(ancestor) in ancestors(code)


@attrs.frozen
class Jurisdiction:
    """A named node of the tree."""

    code: str
    name: str

    @property
    def level(self) -> str:
        return level_of(self.code)

    @property
    def parent(self) -> str | None:
        return parent_code(self.code)


class JurisdictionTree:
    """Names for division codes; ``strict`` trees refuse codes they do not know, listing near matches.

    Codes are kept in canonical form (a 12-digit township code is stored as its 9-digit form), so
    ``"500240204000" in tree`` is true when ``500240204`` was added, and :meth:`check` returns the canonical
    code the engine stores on the case. A strict tree accepts exactly the codes added to it (and the national
    root); a non-strict tree accepts every well-formed code and only uses the names for messages.
    """

    def __init__(self, nodes: Iterable[Jurisdiction | tuple[str, str]] = (), *, strict: bool = False) -> None:
        self.strict = strict
        self._nodes: dict[str, Jurisdiction] = {NATIONAL: Jurisdiction(NATIONAL, "全国")}
        for node in nodes:
            self.add(*(node if isinstance(node, tuple) else (node.code, node.name)))

    def add(self, code: str, name: str) -> Jurisdiction:
        """Name a division (a second ``add`` of the same code renames it)."""
        node = Jurisdiction(canonical(code), name)
        self._nodes[node.code] = node
        return node

    def __contains__(self, code: object) -> bool:
        if not isinstance(code, str) or not _CODE.match(code):
            return False
        return canonical(code) in self._nodes

    def __iter__(self) -> Iterator[Jurisdiction]:
        return iter(sorted(self._nodes.values(), key=lambda j: j.code))

    def __len__(self) -> int:
        return len(self._nodes)

    def get(self, code: str) -> Jurisdiction | None:
        """The named node of ``code`` (either township form), or None."""
        if not isinstance(code, str) or not _CODE.match(code):
            return None
        return self._nodes.get(canonical(code))

    def name(self, code: str) -> str:
        """The division's name, or the code itself when the tree does not name it."""
        node = self.get(code)
        return node.name if node is not None else code

    def path(self, code: str) -> str:
        """``重庆市 / 石柱土家族自治县 / 三星乡``: the named ancestors of a code, top down."""
        return " / ".join(self.name(c) for c in reversed(ancestors(code)) if c != NATIONAL and c in self._nodes)

    def children(self, code: str) -> list[Jurisdiction]:
        """The named divisions whose parent is ``code``, by code."""
        parent = canonical(code)
        return [j for j in self if j.code != NATIONAL and parent_code(j.code) == parent]

    def check(self, code: str, *, field: str = "jurisdiction") -> str:
        """The canonical form of ``code`` when well-formed (and known, when strict); raise with near matches.

        The error (:class:`~hazardflow.UnknownJurisdictionError`) lists up to five known divisions close to
        the value: codes that differ in a digit or two, the named divisions under the nearest known ancestor,
        and divisions whose name contains the value (so passing ``"三星乡"`` suggests its code).
        """
        if not isinstance(code, str) or not _CODE.match(code):
            raise UnknownJurisdictionError(
                field,
                code,
                "must be an administrative-division code of 6 (county), 9 or 12 (township/village) digits",
                self._near(str(code)),
            )
        canon = canonical(code)
        if self.strict and canon not in self._nodes:
            raise UnknownJurisdictionError(field, code, "is not a jurisdiction this engine serves", self._near(canon))
        return canon

    def _near(self, code: str) -> tuple[str, ...]:
        codes = [c for c in self._nodes if c != NATIONAL]
        by_code = difflib.get_close_matches(code, codes, n=3, cutoff=0.6)
        by_parent: list[str] = []
        if _CODE.match(code):
            for anc in ancestors(code)[1:]:
                if anc in self._nodes and anc != NATIONAL:
                    by_parent = [anc, *(j.code for j in self.children(anc))]
                    break
        by_name = [c for c in codes if code and code in self._nodes[c].name]
        near = list(dict.fromkeys(by_name + by_code + by_parent))[:5]
        return tuple(f"{c} {self._nodes[c].name}" for c in near)
