"""The result cache: `symmag check` and `symmag report --pdf` rerun with nothing changed,
against the cold run of the same command in the same session (the baseline).

Each command runs in a fresh process (as a user types it), with its own empty cache folder
for the cold run; the warm runs reuse it.  Prints each run, the medians and the ratios
cold/warm.  Budgets (issue #13): check warm <= 1 s, report --pdf warm <= 5 s.

Usage: python benchmarks/bench_cache.py [--repeats 5] [--no-report]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs, {model}, Python {platform.python_version()}"


def _run(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "symmag", *argv], env=env, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(label: str, argv: list[str], repeats: int) -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "SYMMAG_CACHE_DIR": cache, "SYMMAG_NO_CACHE": ""}
        cold = _run(argv, env)
        warm = [_run(argv, env) for _ in range(repeats)]
    med = statistics.median(warm)
    print(f"{label}: cold {cold:.2f} s; warm {', '.join(f'{w:.2f}' for w in warm)} s; "
          f"median warm {med:.2f} s; cold/warm {cold / med:.0f}x")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--no-report", action="store_true", help="skip report --pdf (needs TeX Live)")
    args = p.parse_args()
    print(_machine())
    measure("symmag check --jobs 2", ["check", "--jobs", "2"], args.repeats)
    if not args.no_report:
        with tempfile.TemporaryDirectory() as out:
            measure("symmag report --pdf --jobs 2", ["report", "--pdf", "--jobs", "2", "-o", out],
                    max(1, args.repeats // 2))


if __name__ == "__main__":
    main()
