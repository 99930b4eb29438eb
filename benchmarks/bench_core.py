"""Core benchmarks: `symmag check` cold, and canonical reduction of [deg 4, deg 4].

Run from the project root (the Secs. I-II timing names the derivation files).

Prints medians and ratios against baselines run in the same process:

* `symmag check` (a fresh interpreter, imports included) against a fresh
  interpreter that only imports sympy -- the floor any SymPy tool pays;
* the canonical commutator of two random degree-4 polynomials in M0 with
  symbolic coefficients (caches cleared before every repeat, so each run
  reduces from scratch) against SymPy merely expanding the same noncommutative
  products without reordering them.

Usage: python benchmarks/bench_core.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import subprocess
import sys
import time

import sympy as sp


def cold(cmd: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def random_poly(rng: random.Random, degree: int, n_terms: int, coeffs, gens):
    out = 0
    for _ in range(n_terms):
        term = rng.choice(coeffs)
        for _ in range(degree):
            term = term * rng.choice(gens)
        out = out + term
    return out


def clear_caches() -> None:
    from symmag.algebra import su2 as algebra

    algebra.pbw.cache_clear()
    algebra.mul_keys.cache_clear()
    algebra.expand_collective.cache_clear()


def reduction(repeats: int) -> tuple[float, float]:
    from symmag.algebra.operators import Moment
    from symmag.algebra.su2 import M0, commutator

    rng = random.Random(1)
    a, b, c = sp.symbols("a b c")
    coeffs = [a, b, c, a * b, 2 * c]
    ops = [M0(k) for k in range(3)]
    syms = [Moment(k) for k in range(3)]
    ours, base = [], []
    for r in range(repeats):
        rng.seed(r)
        A = random_poly(rng, 4, 4, coeffs, ops)
        B = random_poly(rng, 4, 4, coeffs, ops)
        clear_caches()
        t0 = time.perf_counter()
        commutator(A, B)
        ours.append(time.perf_counter() - t0)
        rng.seed(r)
        As = random_poly(rng, 4, 4, coeffs, syms)
        Bs = random_poly(rng, 4, 4, coeffs, syms)
        t0 = time.perf_counter()
        sp.expand(As * Bs - Bs * As)
        base.append(time.perf_counter() - t0)
    return statistics.median(ours), statistics.median(base)


def hierarchy_time(repeats: int) -> float:
    from symmag.algebra.fields import M
    from symmag.algebra.su2 import M0
    from symmag.conventions import gamma
    from symmag.theory.hierarchy import hierarchy

    lam = sp.Symbol("lambda", real=True)
    h = sum(lam * M[c] * M[d] * M0(c) * M0(d) for c in range(3) for d in range(3)) / gamma**2
    times = []
    for _ in range(repeats):
        clear_caches()
        t0 = time.perf_counter()
        hierarchy(h, 4)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"python {platform.python_version()}, sympy {sp.__version__}")
    floor = cold([sys.executable, "-c", "import sympy"], args.repeats)
    sec2 = ["derivations/sec2a_zeeman.py", "derivations/sec2b_interactions.py"]
    for label, extra in (("Secs. I-II", sec2), ("all derivations", []),
                         ("all derivations, one process", ["--jobs", "1"])):
        check = cold([sys.executable, "-m", "symmag", "check", *extra], args.repeats)
        print(f"symmag check ({label}), cold (median of {args.repeats}): {check:.2f} s; "
              f"import sympy alone: {floor:.2f} s; ratio {check / floor:.2f}")
    print(f"hierarchy of (63) to order 4 (34 equations), caches cleared (median): "
          f"{hierarchy_time(args.repeats):.2f} s")
    ours, base = reduction(args.repeats)
    print(f"[deg-4, deg-4] canonical commutator (median): {ours * 1e3:.1f} ms; "
          f"sympy expand without reordering: {base * 1e3:.1f} ms; ratio {ours / base:.2f}")


if __name__ == "__main__":
    main()
