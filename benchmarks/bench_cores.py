"""How much do two busy processes slow each other down on this machine?  (The ceiling of #16.)

A sweep on two worker processes can reach at most 2 / s times the throughput of one process,
where s is how much slower one process runs while another runs beside it.  This measures s
without Dask: the same work -- the sweep's own blocks (symmag.numeric.sweep.run_block on
llg_rsi_numba, dp54, as in bench_sweep.py), and a control that touches no memory (a pure
Python integer loop) -- first in one process alone, then in two forked processes at once, each
pinned to one thread.  It prints, per workload, the seconds alone, the seconds of each process
when two run together, s, and the ceiling 2 / s.

    python benchmarks/bench_cores.py [--repeats 3] [--blocks 6]
"""

from __future__ import annotations

import os

for _name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"  # one thread per process, before numba and BLAS load

import argparse  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from symmag.numeric import sweep  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _plan(blocks: int) -> sweep.Plan:
    rng = np.random.default_rng(16)
    y0 = rng.normal(size=(3, 100))
    y0 /= np.linalg.norm(y0, axis=0)
    grid = sweep.product(Hz=np.linspace(0.5, 1.5, 30 * blocks), alpha0=np.linspace(0.05, 0.3, 10))
    return sweep.plan("llg_rsi_numba", grid, np.linspace(0.0, 10.0, 3), y0=y0, batch=300,
                      fixed={"gamma_abs": 1.0, "Hx": 0.0, "Hy": 0.0}, folder=ROOT / "generated" / "rhs")


def _blocks(p: sweep.Plan) -> None:
    for b in range(p.blocks):
        sweep.run_block(p, b)


def _spin(n: int = 6_000_000) -> None:
    x = 0
    for i in range(n):
        x ^= i * 7


def _timed(work, arg, conn) -> None:
    started = time.perf_counter()
    work(*arg)
    conn.send(time.perf_counter() - started)


def _together(work, arg, n: int = 2) -> list[float]:
    ctx = multiprocessing.get_context("fork")  # the plan and the compiled kernels are inherited
    pipes = [ctx.Pipe(duplex=False) for _ in range(n)]
    procs = [ctx.Process(target=_timed, args=(work, arg, w)) for _, w in pipes]
    for q in procs:
        q.start()
    out = [r.recv() for r, _ in pipes]
    for q in procs:
        q.join()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--blocks", type=int, default=6, help="sweep blocks of 300 points x 100 systems")
    args = ap.parse_args()
    p = _plan(args.blocks)
    sweep.warm(p)  # JIT in this process, inherited by the forked ones
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name, work, arg in (("sweep blocks (llg_rsi_numba dp54)", _blocks, (p,)),
                            ("pure-Python integer loop (no memory traffic)", _spin, ())):
        alone, pair = [], []
        _together(work, arg, 2)  # a round untimed: first-touch costs (page faults, caches) of a fork
        for _ in range(args.repeats):
            alone.append(_together(work, arg, 1)[0])
            pair.extend(_together(work, arg, 2))
        a, b = statistics.median(alone), statistics.median(pair)
        s = b / a
        print(f"{name}: alone {a:.2f} s, two at once {b:.2f} s each (medians of {args.repeats}); "
              f"slowdown s = {s:.2f}, two-process throughput ceiling 2/s = {2 / s:.2f}x")
    print(f"load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
