"""One rhs call of the generated llg_rsi module against baselines, in the same process.

For ensembles of K macrospins (state (3, K), field per system along z plus a common
transverse part), median time of one call, printed with ratios against:

* a hand-written NumPy version of the same equation (|M| and the division included,
  parameter-only prefactors hoisted, writing into a preallocated array);
* ``sympy.lambdify(..., "numpy", cse=True)`` of the model's right-hand sides, its list
  output stacked into an array;
* ``np.copyto`` of a state-sized array: the memory floor;

and, when numba is installed, the numba backend: ``rhs`` (an @njit loop, one thread) and
``rhs_parallel`` (prange over numba's threads).

Usage: python benchmarks/rhs.py [--sizes 1000 1000000 10000000] [--repeats 7]
(the generated module is rendered into a temporary folder from derivations/models.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import sympy as sp

from derivations.models import llg_rsi
from symmag.numeric.codegen import render_numba, render_numpy


def median_time(f, repeats: int) -> float:
    f()  # warm up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def hand_written(y, gamma_abs, alpha0, hx, hy, hz, out):
    """dM/dt = -|gamma|/(1 + alpha0^2) [M x H + (alpha0/|M|) M x (M x H)]."""
    mx, my, mz = y
    c1 = -gamma_abs / (1 + alpha0**2)
    m2 = mx * mx + my * my + mz * mz
    mh = mx * hx + my * hy + mz * hz
    c2 = c1 * alpha0 / np.sqrt(m2)
    out[0] = c1 * (my * hz - mz * hy) + c2 * (mx * mh - hx * m2)
    out[1] = c1 * (mz * hx - mx * hz) + c2 * (my * mh - hy * m2)
    out[2] = c1 * (mx * hy - my * hx) + c2 * (mz * mh - hz * m2)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 1_000_000, 10_000_000])
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args()
    model = llg_rsi()
    def load(source: str, name: str):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{name}.py"
            path.write_text(source)
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        return module

    gen = load(render_numpy(model), "llg_rsi")
    try:
        import numba

        fast = load(render_numba(model), "llg_rsi_numba")  # needs the optional numba
    except ImportError:
        fast = None
    lam = sp.lambdify([*model.state, *model.parameters], list(model.rhs), "numpy", cse=True)
    print(f"machine: {platform.machine()}, python {platform.python_version()}, numpy {np.__version__}, "
          f"sympy {sp.__version__}")
    for k in args.sizes:
        rng = np.random.default_rng(0)
        y = rng.normal(size=(3, k))
        hz = 1.0 + 0.1 * rng.normal(size=k)
        params = (1.76, 0.1, 0.05, 0.0, hz)
        out = np.empty_like(y)
        src = np.empty_like(y)
        calls = {
            "gen": lambda y=y, p=params, o=out: gen.rhs(0.0, y, *p, out=o),
            "gen_alloc": lambda y=y, p=params: gen.rhs(0.0, y, *p),
            "hand": lambda y=y, p=params, o=out: hand_written(y, *p, o),
            "lam": lambda y=y, p=params: np.array(lam(*y, *p)),
            "copy": lambda y=y, s=src: np.copyto(s, y),
        }
        t_gen, t_gen_alloc, t_hand, t_lam, t_copy = (median_time(f, args.repeats) for f in calls.values())
        if fast is not None:  # first calls compile and are not timed (median_time warms up)
            t_fast = median_time(lambda y=y, p=params, o=out: fast.rhs(0.0, y, *p, out=o), args.repeats)
            t_par = median_time(lambda y=y, p=params, o=out: fast.rhs_parallel(0.0, y, *p, out=o),
                                args.repeats)
            print(f"K = {k}: numba rhs (1 thread) {t_fast * 1e3:.3f} ms; numba/hand-written "
                  f"{t_fast / t_hand:.2f}, numba/copyto {t_fast / t_copy:.2f} | rhs_parallel "
                  f"({numba.get_num_threads()} threads) {t_par * 1e3:.3f} ms, /copyto {t_par / t_copy:.2f}")
        print(f"K = {k}: generated (out=) {t_gen * 1e3:.3f} ms | generated (allocating) "
              f"{t_gen_alloc * 1e3:.3f} ms | hand-written NumPy {t_hand * 1e3:.3f} ms | lambdify "
              f"{t_lam * 1e3:.3f} ms | np.copyto {t_copy * 1e3:.3f} ms")
        print(f"  ratios: generated/hand-written {t_gen / t_hand:.2f}, generated/lambdify "
              f"{t_gen / t_lam:.2f}, generated/copyto {t_gen / t_copy:.2f}", flush=True)


if __name__ == "__main__":
    main()
