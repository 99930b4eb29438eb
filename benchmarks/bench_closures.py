"""The closure study of docs/closures.md, reproducibly: tables on stdout, figures into docs/.

Three error maps through :func:`symmag.exact.compare.closure_study` (exact collective dynamics against the
generated closure modules; V = N, hbar = 1, gamma = -1, field (0, 0, 1), one precession period):

1. (63) with the easy axis kappa = -1, lambda N = 1, 2, 4, 8, N = 2 ... 1000 (six log-spaced values),
   the coherent state tilted 0.5 rad from the field -- ``symmag compare spin_spin_axis --sweep
   lambda=1,2,4,8 --plot docs/closures_spin_spin_axis.png`` prints the same table;
2. the same model from the thermal state (11) of polarization 0.5 (the benchmark's state), N <= 200,
   lambda N = 4 (the initial polarization as the named parameter's second slice);
3. the Lipkin-Meshkov-Glick model in a transverse field, chi = 0.5, 1, 2, 4, N = 2 ... 1000.

Usage: python benchmarks/bench_closures.py [--quick] [--out docs]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads OpenBLAS

import argparse
import sys
import time
from pathlib import Path

from symmag.exact import compare

SPINS = (2, 7, 24, 84, 290, 1000)


def run(label: str, model: str, spins, parameter, values, out: Path, polarization: float = 1.0, **kw) -> None:
    m = compare.collective_models()[model]
    t0 = time.perf_counter()

    def progress(done: int, total: int) -> None:
        print(f"  [{label}] run {done}/{total} done at {time.perf_counter() - t0:.0f} s", file=sys.stderr,
              flush=True)

    study = compare.closure_study(m, spins, parameter, values, polarization=polarization, progress=progress,
                                  **kw)
    elapsed = time.perf_counter() - t0
    print(f"\n== {label} ({elapsed:.0f} s; exact runs {sum(r.seconds for r in study.runs):.0f} s)")
    print(compare.study_table(study, m), flush=True)
    compare.plot_study(study, out / f"closures_{label}.png", m)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="N <= 84 only")
    p.add_argument("--out", default="docs", help="folder of the figures")
    args = p.parse_args()
    out = Path(args.out)
    spins = SPINS[:4] if args.quick else SPINS
    run("spin_spin_axis", "spin_spin_axis", spins, "lambda", (1.0, 2.0, 4.0, 8.0), out)
    run("spin_spin_axis_thermal", "spin_spin_axis", (2, 5, 13, 34, 89, 200)[: 4 if args.quick else 6],
        "lambda", (4.0,), out, polarization=0.5)
    run("lmg", "lmg", spins, "chi", (0.5, 1.0, 2.0, 4.0), out)


if __name__ == "__main__":
    main()
