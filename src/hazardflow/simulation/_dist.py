"""Distributions of durations and the per-case random draws that feed them.

Every distribution is sampled by inversion: ``quantile(u)`` maps one uniform draw ``u`` in (0, 1) to a
value. Each draw of a simulated case comes from :func:`uniform`, a hash of the seed, the case's arrival key,
the purpose of the draw (``"rectify"``, ``"review"``, ...) and its repetition — so the same case makes the
same choices under any policy (common random numbers), and adding a draw for one purpose never shifts the
draws of another.
"""

from __future__ import annotations

import math
from hashlib import blake2b
from statistics import NormalDist
from typing import Protocol, runtime_checkable

import attrs

from .._exceptions import InvalidInput

__all__ = [
    "Dist",
    "Exponential",
    "Fixed",
    "LogNormal",
    "Triangular",
    "Uniform",
    "case_base",
    "draw",
    "uniform",
]

_NORMAL = NormalDist()
_SCALE = float(1 << 64)
_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_PURPOSES: dict[str, int] = {}


def _hash64(text: str) -> int:
    return int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), "big")


def case_base(seed: int, key: str) -> int:
    """The 64-bit root of every draw of one case (a hash of the seed and the case's arrival key)."""
    return _hash64(f"{seed}|{key}")


def draw(base: int, purpose: str, k: int = 0) -> float:
    """A uniform draw in (0, 1) from a case's root, the purpose and the repetition (splitmix64 finaliser)."""
    code = _PURPOSES.get(purpose)
    if code is None:
        code = _PURPOSES[purpose] = _hash64(purpose)
    x = (base ^ code ^ ((k * _GOLDEN) & _M64)) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    x ^= x >> 31
    return (x + 0.5) / _SCALE


def uniform(seed: int, key: str, purpose: str, k: int = 0) -> float:
    """A uniform draw in (0, 1) fixed by ``(seed, key, purpose, k)``; the same inputs give the same draw."""
    return draw(case_base(seed, key), purpose, k)


@runtime_checkable
class Dist(Protocol):
    """A distribution of non-negative durations in days, sampled by inversion."""

    def quantile(self, u: float) -> float:
        """The value at cumulative probability ``u`` (0 < u < 1)."""
        ...

    def describe(self, lang: str = "en") -> str:
        """A short description for reports."""
        ...


def _non_negative(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise InvalidInput(name, value, "must be a finite number of days, zero or more")


@attrs.frozen
class Fixed:
    """Always ``days``."""

    days: float

    def __attrs_post_init__(self) -> None:
        _non_negative("days", self.days)

    def quantile(self, u: float) -> float:
        return float(self.days)

    def describe(self, lang: str = "en") -> str:
        return f"{self.days:g} 日" if lang == "zh" else f"{self.days:g} d"


@attrs.frozen
class Uniform:
    """Anywhere between ``low`` and ``high`` days, evenly."""

    low: float
    high: float

    def __attrs_post_init__(self) -> None:
        _non_negative("low", self.low)
        _non_negative("high", self.high)
        if self.high < self.low:
            raise InvalidInput("high", self.high, f"must not be below low ({self.low})")

    def quantile(self, u: float) -> float:
        return self.low + (self.high - self.low) * u

    def describe(self, lang: str = "en") -> str:
        return f"均匀 {self.low:g}至{self.high:g} 日" if lang == "zh" else f"uniform {self.low:g} to {self.high:g} d"


@attrs.frozen
class Triangular:
    """Between ``low`` and ``high`` days, most often ``mode`` (a planner's three-point estimate)."""

    low: float
    mode: float
    high: float

    def __attrs_post_init__(self) -> None:
        for name in ("low", "mode", "high"):
            _non_negative(name, getattr(self, name))
        if not self.low <= self.mode <= self.high:
            raise InvalidInput("mode", self.mode, f"must lie between low ({self.low}) and high ({self.high})")

    def quantile(self, u: float) -> float:
        lo, mo, hi = self.low, self.mode, self.high
        if hi == lo:
            return float(lo)
        cut = (mo - lo) / (hi - lo)
        if u < cut:
            return lo + math.sqrt(u * (hi - lo) * (mo - lo))
        return hi - math.sqrt((1 - u) * (hi - lo) * (hi - mo))

    def describe(self, lang: str = "en") -> str:
        if lang == "zh":
            return f"三角 {self.low:g}/{self.mode:g}/{self.high:g} 日"
        return f"triangular {self.low:g}/{self.mode:g}/{self.high:g} d"


@attrs.frozen
class LogNormal:
    """Right-skewed durations given by their median and 90th percentile (most quick, a few very slow)."""

    median: float
    p90: float

    def __attrs_post_init__(self) -> None:
        _non_negative("median", self.median)
        _non_negative("p90", self.p90)
        if self.median <= 0:
            raise InvalidInput("median", self.median, "must be above zero")
        if self.p90 < self.median:
            raise InvalidInput("p90", self.p90, f"must not be below the median ({self.median})")

    def quantile(self, u: float) -> float:
        sigma = math.log(self.p90 / self.median) / 1.2815515655446004
        return self.median * math.exp(sigma * _NORMAL.inv_cdf(u))

    def describe(self, lang: str = "en") -> str:
        if lang == "zh":
            return f"对数正态 中位 {self.median:g} 日, P90 {self.p90:g} 日"
        return f"log-normal median {self.median:g} d, p90 {self.p90:g} d"


@attrs.frozen
class Exponential:
    """Memoryless durations with the given ``mean`` in days."""

    mean: float

    def __attrs_post_init__(self) -> None:
        _non_negative("mean", self.mean)

    def quantile(self, u: float) -> float:
        return -self.mean * math.log1p(-u)

    def describe(self, lang: str = "en") -> str:
        return f"指数 均值 {self.mean:g} 日" if lang == "zh" else f"exponential mean {self.mean:g} d"
