"""Stochastic Heun at K systems against NumPy's Philox normal numbers (issue #15, part 2).

K llg_rsi macrospins (random directions, H_z spread over [0.5, 1.5], alpha0 = 0.1, |gamma| = 1,
reduced temperature theta = 0.1), the generated ``heun`` kernel of llg_rsi_numba: the time of one
step of the whole ensemble (median over --repeats runs of --steps steps each) against the time
NumPy's Philox generator takes to draw that step's 3K standard normals in one call
(``Generator(Philox).standard_normal(3K)``, median over as many calls), measured alternately
in this one process.  Then the kernel on 1 and 2 numba threads (``parallel=True``), and the
same kernel with blocks of one system (no overlap of systems) as a baseline of the blocking.
The NumPy fallback (symmag.numeric.thermal.heun) is timed on a slice and scaled, for the record.

    python benchmarks/bench_thermal.py             # K = 10^6
    python benchmarks/bench_thermal.py --K 100000  # a quick run
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from symmag.numeric import thermal
from symmag.numeric.simulate import load_model

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "generated" / "rhs"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--K", type=int, default=1_000_000)
    ap.add_argument("--steps", type=int, default=10, help="steps per timed kernel call")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--seed", type=int, default=15)
    args = ap.parse_args()
    import numba

    mod = load_model("llg_rsi_numba", FOLDER)
    unblocked = load_model("llg_rsi_numba", FOLDER)
    unblocked._HEUN_BLOCK = 1  # read when its kernel compiles: one system per block
    rng = np.random.default_rng(args.seed)
    y = rng.normal(size=(3, args.K))
    y /= np.linalg.norm(y, axis=0)
    params = (1.0, 0.1, 0.0, 0.0, rng.uniform(0.5, 1.5, args.K))
    h = 0.01
    t = np.array([args.steps * h])
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, numba "
          f"{numba.__version__}, NumPy {np.__version__}, load {os.getloadavg()[0]:.2f}; K = {args.K}, "
          f"{args.steps} steps per call, {args.repeats} repeats, medians")

    def kernel(module, parallel=False):
        started = time.perf_counter()
        module.heun(0.0, t, y, *params, step=h, theta=0.1, seed=1, project=True, parallel=parallel)
        return (time.perf_counter() - started) / args.steps

    gen = np.random.Generator(np.random.Philox(args.seed))

    def draw():
        started = time.perf_counter()
        gen.standard_normal(3 * args.K)
        return time.perf_counter() - started

    small = y[:, :8]
    for module, parallel in ((mod, False), (mod, True), (unblocked, False)):  # compile, not timed
        module.heun(0.0, t, small, *params[:4], params[4][:8], step=h, theta=0.1, seed=1, project=True,
                    parallel=parallel)
    draw()
    threads = numba.get_num_threads()
    runs: dict[str, list[float]] = {"heun, 1 thread": [], "NumPy Philox normals": [], "heun, 2 threads": [],
                                    "heun, blocks of 1 system": []}
    for _ in range(args.repeats):  # alternating, so that a change of load hits all alike
        runs["heun, 1 thread"].append(kernel(mod))
        runs["NumPy Philox normals"].append(draw())
        numba.set_num_threads(min(2, threads))
        runs["heun, 2 threads"].append(kernel(mod, parallel=True))
        numba.set_num_threads(threads)
        runs["heun, blocks of 1 system"].append(kernel(unblocked))
    med = {k: statistics.median(v) for k, v in runs.items()}
    base = med["NumPy Philox normals"]
    for name, value in med.items():
        print(f"{name:28s} {1e3 * value:8.2f} ms per step ({1e9 * value / args.K:6.1f} ns per system), "
              f"{value / base:5.2f}x the normals")
    plain = load_model("llg_rsi", FOLDER)
    k_np = min(args.K, 100_000)
    started = time.perf_counter()
    thermal.heun(plain, 0.0, np.array([2 * h]), y[:, :k_np], [*params[:4], params[4][:k_np]], step=h,
                 theta=0.1, seed=1, project=True)
    numpy_step = (time.perf_counter() - started) / 2 * args.K / k_np
    print(f"{'NumPy fallback (scaled)':28s} {1e3 * numpy_step:8.2f} ms per step, {numpy_step / base:5.2f}x "
          f"the normals (timed on {k_np} systems)")
    ratio = med["heun, 1 thread"] / base
    print(f"target (issue #15): heun, 1 thread <= 2x the normals: {'met' if ratio <= 2 else 'NOT met'} "
          f"({ratio:.2f}x)")


if __name__ == "__main__":
    main()
