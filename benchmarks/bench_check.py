"""Wall time of a cold ``symmag check --jobs 2`` on the whole paper (the issue budget: 8 s).

Runs the check N times (default 3) in fresh subprocesses, so every run pays its imports,
and prints each run's wall time and the median; then one more run with ``--json`` (which
also renders LaTeX, so its wall time is not the budget's) gives the summed worker seconds
per derivation.  When ``symmag check --help`` lists ``--no-cache``
(a result cache), it is passed, so that the figure stays the cold one.

    python benchmarks/bench_check.py [--runs N] [--jobs J]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import defaultdict


def _machine() -> str:
    """nproc and the CPU model: timings mean little without them."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"machine: nproc={os.cpu_count()}, {model}, Python {platform.python_version()}, "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _command(jobs: int) -> list[str]:
    cmd = [sys.executable, "-m", "symmag", "check", "--jobs", str(jobs)]
    helptext = subprocess.run([sys.executable, "-m", "symmag", "check", "--help"],
                              capture_output=True, text=True, check=False).stdout
    if "--no-cache" in helptext:  # a result cache would make the run warm
        cmd.append("--no-cache")
    return cmd


def _wall(cmd: list[str]) -> tuple[float, str]:
    """(wall seconds, status summary line) of one cold run."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    lines = (proc.stdout or proc.stderr).strip().splitlines()
    return wall, lines[-1] if lines else f"no output (exit {proc.returncode})"


def _per_derivation(cmd: list[str]) -> tuple[dict[str, float], str]:
    """Worker seconds per derivation and the status counts, from one ``--json`` run."""
    proc = subprocess.run([*cmd, "--json"], capture_output=True, text=True, check=False)
    per: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        sys.exit(f"symmag check printed no JSON (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    records = data["results"] if isinstance(data, dict) else data
    for r in records:
        per[r["derivation"]] += r["seconds"]
        counts[r["status"]] += 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + f" ({len(records)} steps)"
    return dict(per), summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    print(_machine())
    cmd = _command(args.jobs)
    print("command:", " ".join(cmd[1:]))
    walls = []
    for n in range(args.runs):
        wall, summary = _wall(cmd)
        walls.append(wall)
        print(f"run {n + 1}: {wall:.2f} s wall; {summary}")
    print(f"median wall: {statistics.median(walls):.2f} s over {len(walls)} runs "
          f"({', '.join(f'{w:.2f}' for w in walls)})")
    per, summary = _per_derivation(cmd)
    print(f"worker seconds per derivation (one --json run; {summary}; "
          f"sum {sum(per.values()):.2f} s):")
    for name, secs in sorted(per.items(), key=lambda kv: -kv[1]):
        print(f"  {name:28s} {secs:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
