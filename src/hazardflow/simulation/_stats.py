"""The statistics of an ensemble: spreads of a figure over seeds, probabilities with Wilson intervals, paired
differences with Student-t intervals.

Everything here works on a list of numbers sorted or summed in a fixed order (``math.fsum``), so the same
seeds give bit-identical figures whatever order the seeds finished in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import attrs

from .._exceptions import InvalidInput

__all__ = ["Difference", "Probability", "Spread", "difference", "probability", "quantile", "spread", "t_quantile"]

#: The spread of a figure over seeds is reported as its 5 %-95 % range (a 90 % interval) and the quartiles.
SPREAD_LEVEL = 0.90
#: Probabilities and mean differences carry a 95 % confidence interval.
CONFIDENCE = 0.95


def _level(level: float) -> None:
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise InvalidInput("level", level, "must be a confidence level strictly between 0 and 1 (such as 0.95)")


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (sorted ascending), interpolated linearly between order statistics.

    This is the usual definition (Hyndman & Fan type 7, numpy's default): position ``q * (n - 1)``.
    """
    if not values:
        raise InvalidInput("values", (), "need at least one value for a quantile")
    if not 0 <= q <= 1:
        raise InvalidInput("q", q, "must be between 0 and 1")
    pos = q * (len(values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(values) - 1)
    frac = pos - lo
    if frac == 0 or values[lo] == values[hi]:
        return float(values[lo])
    return float(values[lo] + (values[hi] - values[lo]) * frac)


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom.

    Exact for 1 and 2 degrees of freedom; above, the Cornish-Fisher expansion in the normal quantile
    (Abramowitz & Stegun 26.7.5), within 0.2 % of the exact value from 3 degrees of freedom up and within
    1e-5 from 30 up.
    """
    if df < 1:
        raise InvalidInput("df", df, "a t distribution needs at least one degree of freedom")
    if not 0 < p < 1:
        raise InvalidInput("p", p, "must be strictly between 0 and 1")
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    z = NormalDist().inv_cdf(p)
    n = float(df)
    z2 = z * z
    g1 = (z2 + 1) * z / 4
    g2 = ((5 * z2 + 16) * z2 + 3) * z / 96
    g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384
    g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160
    return z + g1 / n + g2 / n**2 + g3 / n**3 + g4 / n**4


def _r(x: float) -> float:
    return round(x, 6)


@attrs.frozen
class Spread:
    """A figure over the seeds that produced it: ``n`` values (seeds where it is defined), their mean and
    median, the 90 % interval ``p05``-``p95`` (where 90 % of the seeds fall), the quartiles and the extremes.
    All None when no seed defines the figure (an on-time rate in a quarter that closed nothing)."""

    n: int
    mean: float | None
    median: float | None
    p05: float | None
    p25: float | None
    p75: float | None
    p95: float | None
    min: float | None
    max: float | None

    def to_json(self) -> dict[str, float | int | None]:
        return attrs.asdict(self)


def spread(values: Sequence[float | None]) -> Spread:
    """The :class:`Spread` of ``values`` (None values are left out)."""
    xs = sorted(float(v) for v in values if v is not None)
    if not xs:
        return Spread(0, None, None, None, None, None, None, None, None)
    tail = (1 - SPREAD_LEVEL) / 2
    return Spread(
        len(xs),
        _r(math.fsum(xs) / len(xs)),
        _r(quantile(xs, 0.5)),
        _r(quantile(xs, tail)),
        _r(quantile(xs, 0.25)),
        _r(quantile(xs, 0.75)),
        _r(quantile(xs, 1 - tail)),
        _r(xs[0]),
        _r(xs[-1]),
    )


@attrs.frozen
class Probability:
    """``met`` of ``judged`` seeds met a target: ``p`` with its Wilson score interval ``low``-``high``."""

    met: int
    judged: int
    p: float | None
    low: float | None
    high: float | None
    level: float = CONFIDENCE

    def to_json(self) -> dict[str, float | int | None]:
        return attrs.asdict(self)


def probability(met: int, judged: int, level: float = CONFIDENCE) -> Probability:
    """The share ``met / judged`` with its Wilson score interval (Wilson 1927), sound near 0 and 1 too."""
    _level(level)
    if isinstance(met, bool) or isinstance(judged, bool) or not 0 <= met <= judged:
        raise InvalidInput("met", met, f"must be a count between 0 and judged ({judged})")
    if judged == 0:
        return Probability(0, 0, None, None, None, level)
    z = NormalDist().inv_cdf(1 - (1 - level) / 2)
    n = float(judged)
    p = met / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if met == 0 else max(0.0, centre - half)
    high = 1.0 if met == judged else min(1.0, centre + half)
    return Probability(met, judged, _r(p), _r(low), _r(high), level)


@attrs.frozen
class Difference:
    """Paired differences (other minus base, seed by seed) of one figure.

    ``mean`` with its Student-t confidence interval ``low``-``high`` (the interval of the *mean* difference);
    ``p05``-``p95`` where 90 % of the seeds' own differences fall. ``distinguishable`` is True when the
    confidence interval leaves out zero: the policies differ by more than chance at this level. Seeds where
    either run leaves the figure undefined are left out (``n`` counts the pairs used).
    """

    n: int
    mean: float | None
    low: float | None
    high: float | None
    median: float | None
    p05: float | None
    p95: float | None
    distinguishable: bool
    level: float = CONFIDENCE

    def to_json(self) -> dict[str, float | int | bool | None]:
        return attrs.asdict(self)


def difference(base: Sequence[float | None], other: Sequence[float | None], level: float = CONFIDENCE) -> Difference:
    """The paired :class:`Difference` of ``other`` against ``base`` (the same seeds, in the same order)."""
    _level(level)
    if len(base) != len(other):
        raise InvalidInput("other", len(other), f"must pair with base seed by seed ({len(base)} values)")
    ds = [float(b2) - float(b1) for b1, b2 in zip(base, other, strict=True) if b1 is not None and b2 is not None]
    n = len(ds)
    if n == 0:
        return Difference(0, None, None, None, None, None, None, False, level)
    xs = sorted(ds)
    mean = math.fsum(xs) / n
    if n == 1:
        low = high = None
    else:
        var = math.fsum((x - mean) ** 2 for x in xs) / (n - 1)
        half = t_quantile(1 - (1 - level) / 2, n - 1) * math.sqrt(var / n)
        low, high = mean - half, mean + half
    tail = (1 - SPREAD_LEVEL) / 2
    distinguishable = low is not None and high is not None and (low > 0 or high < 0)
    return Difference(
        n,
        _r(mean),
        None if low is None else _r(low),
        None if high is None else _r(high),
        _r(quantile(xs, 0.5)),
        _r(quantile(xs, tail)),
        _r(quantile(xs, 1 - tail)),
        distinguishable,
        level,
    )
