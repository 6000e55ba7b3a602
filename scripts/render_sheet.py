"""Render the first rows and columns of a worksheet (with its merged cells) as HTML, and optionally as a PNG.

Used to make the picture of the 台账 in the docs::

    .venv/bin/python scripts/render_sheet.py 台账.xlsx --sheet 台账 --rows 8 --cols 16 -o docs/assets/ledger-sheet.png

The PNG is taken by headless Chromium (``chromium`` or ``chromium-headless-shell`` on the PATH) with a CJK font
installed (Debian ``fonts-noto-cjk``); with ``-o x.html`` only the HTML is written.
"""

from __future__ import annotations

import argparse
import html
import shutil
import subprocess
import tempfile
from datetime import date, datetime
from pathlib import Path

import openpyxl


def sheet_html(path: Path, sheet: str, rows: int, cols: int) -> str:
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    hidden: set[tuple[int, int]] = set()
    for rng in ws.merged_cells.ranges:
        r0, c0, r1, c1 = rng.min_row, rng.min_col, min(rng.max_row, rows), min(rng.max_col, cols)
        spans[(r0, c0)] = (r1 - r0 + 1, c1 - c0 + 1)
        hidden |= {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)} - {(r0, c0)}
    out = [
        "<html><head><meta charset='utf-8'><style>",
        "body{font-family:'Noto Sans CJK SC','Noto Serif CJK SC',sans-serif;font-size:13px;margin:8px}",
        "table{border-collapse:collapse}td{border:1px solid #999;padding:3px 6px;white-space:nowrap}",
        "td.h{background:#DDEBF7;font-weight:bold;text-align:center}td.t{font-size:16px;font-weight:bold}",
        "td.r{text-align:right}</style></head><body><table>",
    ]
    for r in range(1, rows + 1):
        out.append("<tr>")
        for c in range(1, cols + 1):
            if (r, c) in hidden:
                continue
            value = ws.cell(r, c).value
            if isinstance(value, datetime | date):
                text = value.strftime("%Y-%m-%d")
            else:
                text = "" if value is None else str(value)
            rs, cs = spans.get((r, c), (1, 1))
            cls = "t" if r == 1 else "h" if r <= 3 else ("r" if isinstance(value, int | float | date) else "")
            out.append(f"<td class='{cls}' rowspan={rs} colspan={cs}>{html.escape(text)}</td>")
        out.append("</tr>")
    out.append("</table></body></html>")
    return "".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workbook", type=Path)
    ap.add_argument("--sheet", default="台账")
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--cols", type=int, default=16)
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--height", type=int, default=330)
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args()
    page = sheet_html(args.workbook, args.sheet, args.rows, args.cols)
    if args.output.suffix == ".html":
        args.output.write_text(page, encoding="utf-8")
        return
    browser = shutil.which("chromium-headless-shell") or shutil.which("chromium")
    if browser is None:
        raise SystemExit("no chromium on the PATH: write .html instead")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "sheet.html"
        src.write_text(page, encoding="utf-8")
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                f"--window-size={args.width},{args.height}",
                f"--screenshot={args.output.resolve()}",
                src.as_uri(),
            ],
            check=True,
            capture_output=True,
        )


if __name__ == "__main__":
    main()
