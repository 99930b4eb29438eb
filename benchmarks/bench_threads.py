"""Thread scaling of the generated numba kernels (issue #15): 1 and 2 numba threads.

llg_rsi_numba, K systems (random directions, H_z spread over [0.5, 1.5], alpha0 = 0.1, |gamma| = 1):
``rhs_parallel`` on K = --K systems, ``dp54(parallel=True)`` on --K-dp54 systems over ten relaxation
times (201 outputs, rtol 1e-6, atol 1e-9, as bench_ensemble.py), ``heun(parallel=True)`` on --K
systems for 10 steps (theta = 0.1, project, as bench_thermal.py).  Each is timed with
``numba.set_num_threads(1)`` and ``(2)`` alternately in this one process, medians of --repeats;
the serial kernels (``rhs``, ``dp54``, ``heun`` without parallel) and a plain ``numpy.copyto`` of the
state (the memory floor of rhs) for reference.  Compile time excluded.

    python benchmarks/bench_threads.py
    python benchmarks/bench_threads.py --K 200000 --K-dp54 20000 --repeats 3   # a quick run
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

from symmag.numeric.simulate import load_model

ROOT = Path(__file__).resolve().parents[1]
T_END = 10 / (0.1 / (1 + 0.1**2))


def timed(f, repeats: int = 1, *args) -> float:
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        f(*args)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--K", type=int, default=1_000_000)
    ap.add_argument("--K-dp54", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    import numba

    mod = load_model("llg_rsi_numba", ROOT / "generated" / "rhs")
    rng = np.random.default_rng(15)
    y = rng.normal(size=(3, args.K))
    y /= np.linalg.norm(y, axis=0)
    hz = rng.uniform(0.5, 1.5, args.K)
    params = (1.0, 0.1, 0.0, 0.0)
    out, floor = np.empty_like(y), np.empty_like(y)
    kd = min(args.K_dp54, args.K)
    t = np.linspace(0.0, T_END, 201)
    t_heun = np.array([0.1])
    threads = numba.get_num_threads()
    work = {
        "rhs": lambda parallel: (mod.rhs_parallel if parallel else mod.rhs)(0.0, y, *params, hz, out=out),
        "dp54": lambda parallel, k=kd: mod.dp54(0.0, t, y[:, :k], *params, hz[:k], rtol=1e-6, atol=1e-9,
                                                parallel=parallel),
        "heun": lambda parallel: mod.heun(0.0, t_heun, y, *params, hz, step=0.01, theta=0.1, seed=1,
                                          project=True, parallel=parallel),
    }
    for f in work.values():  # compile (a few systems), not timed
        for parallel in (False, True):
            f(parallel)
    print(f"{os.cpu_count()} cores, numba {numba.__version__} (threading layer {numba.threading_layer()}, "
          f"{threads} threads), load {os.getloadavg()[0]:.2f}; K = {args.K}, dp54 on {kd}, {args.repeats} "
          "repeats, medians")
    copy = timed(lambda: np.copyto(floor, y), 3 * args.repeats)
    print(f"np.copyto of the state (3 x {args.K}): {1e3 * copy:.2f} ms")
    for name, f in work.items():
        reps = args.repeats if name != "rhs" else 5 * args.repeats
        med = {"serial": [], "1 thread": [], "2 threads": []}
        for _ in range(reps):  # alternating: a change of load hits all alike
            med["serial"].append(timed(f, 1, False))
            for n in (1, 2):
                numba.set_num_threads(min(n, threads))
                med[f"{n} thread{'s' if n > 1 else ''}"].append(timed(f, 1, True))
            numba.set_num_threads(threads)
        m = {k: statistics.median(v) for k, v in med.items()}
        print(f"{name:5s} serial {1e3 * m['serial']:9.2f} ms | parallel, 1 thread "
              f"{1e3 * m['1 thread']:9.2f} ms | 2 threads {1e3 * m['2 threads']:9.2f} ms | speed-up 1 -> 2 "
              f"threads {m['1 thread'] / m['2 threads']:.2f}x; load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
