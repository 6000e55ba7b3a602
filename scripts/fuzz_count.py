"""Run the fuzz suite over the public surface and print how many calls it tried, by outcome.

    python scripts/fuzz_count.py                 # the suite as CI runs it (HYPOTHESIS_PROFILE=ci)
    python scripts/fuzz_count.py -k memory       # extra pytest arguments are passed on

PostgreSQL is included when HAZARDFLOW_TEST_POSTGRES_URL is set (as for the test suite). Exit status is the
suite's: 0 when every call either succeeded or raised a typed error naming its argument.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        counts_file = Path(tmp) / "counts.jsonl"
        env = {**os.environ, "HAZARDFLOW_FUZZ_COUNTS": str(counts_file)}
        env.setdefault("HYPOTHESIS_PROFILE", "ci")
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/contract/test_fuzz_surface.py"]
        rc = subprocess.call([*cmd, *argv], cwd=ROOT, env=env)
        total: Counter[str] = Counter()
        if counts_file.exists():
            for line in counts_file.read_text(encoding="utf-8").splitlines():
                total.update(json.loads(line))
    calls = total["engine_calls"] + total["store_calls"] + total["cli_calls"]
    print(
        f"fuzz: {calls} calls tried ({total['engine_calls']} engine, {total['store_calls']} store, "
        f"{total['cli_calls']} command line); untyped exceptions: {total['untyped']}"
    )
    for key in sorted(k for k in total if ":" in k):
        print(f"  {key}: {total[key]}")
    return rc


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
