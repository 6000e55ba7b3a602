"""A font with Chinese glyphs for the charts (matplotlib), found the same way on every machine.

Charts label their axes, legends and titles in Chinese; a font without Chinese glyphs draws each character
as a box (豆腐块, "tofu"). :func:`cjk_font` finds one, in this order:

1. the file named by the environment variable ``HAZARDFLOW_CJK_FONT`` (a ``.ttf``, ``.otf`` or ``.ttc``);
   a missing file or one without Chinese glyphs is refused with :class:`~hazardflow.InvalidInput`;
2. a font matplotlib already knows whose family is one of :data:`PREFERRED` (Noto Sans CJK, Source Han Sans,
   WenQuanYi, SimHei, Microsoft YaHei, PingFang ...);
3. any system font file matplotlib finds (including ones installed after its font cache was built) that has
   glyphs for every character of :data:`PROBE`.

It returns None when the machine has none: callers then draw English-only labels and say so
(:func:`use_cjk_font` warns with the package to install), or refuse with ``required=True``. On Debian and
Ubuntu ``apt-get install fonts-noto-cjk`` provides Noto Sans CJK; ``.ci/run`` installs it.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from ._exceptions import InvalidInput

__all__ = ["ENV_VAR", "PREFERRED", "PROBE", "CjkFont", "cjk_font", "has_glyphs", "use_cjk_font"]

#: Environment variable naming a font file to use for Chinese labels.
ENV_VAR = "HAZARDFLOW_CJK_FONT"
#: Font families tried first, best first (simplified-Chinese faces before the other CJK ones).
PREFERRED = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
)
#: Characters a font must have to be taken for the charts (words the charts print).
PROBE = "重大事故隐患存量增量按期销号率督办阶梯函告通报约谈曝光"

_INSTALL_HINT = f"install a CJK font (Debian/Ubuntu: apt-get install fonts-noto-cjk) or set {ENV_VAR} to a font file"


@attrs.frozen
class CjkFont:
    """The font found: its family name (for ``rcParams``) and file."""

    name: str
    path: str


def has_glyphs(path: str | os.PathLike[str], text: str = PROBE) -> bool:
    """True when the font file has a glyph for every character of ``text`` (face 0 of a collection)."""
    from matplotlib.ft2font import FT2Font

    try:
        face = FT2Font(str(path))
    except (OSError, RuntimeError, ValueError):
        return False
    return all(face.get_char_index(ord(ch)) != 0 for ch in text if not ch.isspace())


def _register(path: str) -> str:
    """Add a font file to matplotlib's manager; return its family name."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(path)
    return str(font_manager.FontProperties(fname=path).get_name())


def _from_env() -> CjkFont | None:
    raw = os.environ.get(ENV_VAR, "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.is_file():
        raise InvalidInput(ENV_VAR, raw, "no such font file", hint=_INSTALL_HINT)
    if not has_glyphs(path):
        raise InvalidInput(
            ENV_VAR, raw, f"the font has no glyphs for Chinese text such as {PROBE[:6]!r}", hint=_INSTALL_HINT
        )
    return CjkFont(_register(str(path)), str(path))


def _search(paths: Iterable[str] | None) -> CjkFont | None:
    from matplotlib import font_manager

    known = font_manager.fontManager.ttflist
    if paths is None:
        by_name: dict[str, str] = {}
        for entry in known:
            by_name.setdefault(entry.name, entry.fname)
        for name in PREFERRED:
            fname = by_name.get(name)
            if fname is not None and has_glyphs(fname):
                return CjkFont(name, fname)
        seen = {entry.fname for entry in known}
        candidates = [*(e.fname for e in known), *(p for p in font_manager.findSystemFonts() if p not in seen)]
    else:
        candidates = list(paths)
    # Any other font with the glyphs (a font installed after matplotlib's cache was built is found here too).
    for fname in sorted(set(candidates), key=lambda p: ("cjk" not in p.lower(), p)):
        if has_glyphs(fname):
            return CjkFont(_register(fname), fname)
    return None


@functools.cache
def _cached() -> CjkFont | None:
    return _search(None)


def cjk_font(paths: Iterable[str] | None = None) -> CjkFont | None:
    """The font to draw Chinese with, or None when there is none (see the module's doc for the order).

    ``paths`` restricts the search to these font files (for tests and for callers with a font of their own);
    the environment variable still comes first.
    """
    env = _from_env()
    if env is not None:
        return env
    return _cached() if paths is None else _search(paths)


def use_cjk_font(rc: Any, *, required: bool = False, paths: Iterable[str] | None = None) -> CjkFont | None:
    """Make matplotlib's ``rc`` (``plt.rcParams``) draw Chinese with the font found; return it.

    Without one: :class:`~hazardflow.InvalidInput` when ``required``, else a warning naming what to install,
    and None (the caller draws English-only labels).
    """
    font = cjk_font(paths)
    if font is None:
        if required:
            raise InvalidInput("font", None, "no installed font has Chinese glyphs", hint=_INSTALL_HINT)
        warnings.warn(
            f"no font with Chinese glyphs found: charts are labelled in English only; {_INSTALL_HINT}", stacklevel=2
        )
        return None
    rc["font.family"] = "sans-serif"
    rc["font.sans-serif"] = [font.name, "DejaVu Sans"]
    rc["axes.unicode_minus"] = False
    return font
