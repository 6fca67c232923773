"""Run every atheris harness of this folder for ``FUZZ_SECONDS`` each (default 60), one
after another, and print the inputs each tried; exit 1 if any found a crash (its input is
in ``fuzz/crashes/``, its log printed). ``make fuzz`` runs this."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    harnesses = sorted(HERE.glob("fuzz_*.py"))
    if len(sys.argv) > 1:
        harnesses = [h for h in harnesses if h.stem.removeprefix("fuzz_") in sys.argv[1:]]
    seconds = int(os.environ.get("FUZZ_SECONDS", "60"))
    failed: list[str] = []
    rows: list[tuple[str, str, float, int]] = []
    for h in harnesses:
        t0 = time.perf_counter()
        p = subprocess.run(
            [sys.executable, str(h)], capture_output=True, text=True, errors="replace",
            timeout=seconds + 120, cwd=HERE.parent,
        )  # fmt: skip
        took = time.perf_counter() - t0
        runs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", p.stdout + p.stderr)
        done = re.findall(r"^#(\d+)\s", p.stdout + p.stderr, re.M)
        tried = runs[-1] if runs else (done[-1] if done else "?")
        name = h.stem.removeprefix("fuzz_")
        rows.append((name, tried, took, p.returncode))
        print(f"fuzz {name}: {tried} inputs tried in {took:.0f} s, exit {p.returncode}", flush=True)
        if p.returncode != 0:
            failed.append(name)
            print(p.stderr[-4000:], file=sys.stderr)
    total = sum(int(r[1]) for r in rows if r[1].isdigit())
    print(f"fuzz total: {total} inputs over {len(rows)} harnesses; crashes: {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
