"""Per-system ensemble integration against solve_ivp (issue #15).

K llg_rsi macrospins -- random initial directions (seeded), H_z spread over [0.5, 1.5],
alpha0 = 0.1, |gamma| = 1 -- over ten relaxation times of the central field
(t_end = 10 (1 + alpha0^2)/(alpha0 |gamma| H), H = 1), 201 output times, rtol 1e-6,
atol 1e-9: the generated dp54 kernels (llg_rsi_numba) against solve_ivp RK45 with the
generated numba rhs, in one process; every system of both checked against the closed form
(44)-(45) to 1e-5.

The dp54 systems run in slices of --chunk (the stored solution of 10^6 systems x 201 times
would be 4.8 GB; the systems are independent, so slicing changes no number).  solve_ivp runs
on --K-ivp systems (default min(K, 10^5): it integrates one ODE of 3K components, and its cost
per system is flat in K once the stiffest member sets the step, which a spread over [0.5, 1.5]
does for any K in the thousands); its time is scaled to K, and the report says so.  solve_ivp runs
once before and once after dp54 (a change of load between them shows; the ratio takes their mean).
SciPy's stage sums go through BLAS: run with OPENBLAS_NUM_THREADS=1 to hold it to the one core the
serial dp54 uses (the machine line says what was set).

    python benchmarks/bench_ensemble.py            # K = 10^6
    python benchmarks/bench_ensemble.py --K 20000  # a quick run
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from symmag.numeric.simulate import load_model, simulate

ROOT = Path(__file__).resolve().parents[1]
ALPHA0, GAMMA = 0.1, 1.0
LAMBDA0 = ALPHA0 / (1 + ALPHA0**2)
T_END = 10 / (LAMBDA0 * GAMMA * 1.0)
TOLERANCE = 1e-5


def ensemble(k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(3, k))
    return y / np.linalg.norm(y, axis=0), rng.uniform(0.5, 1.5, size=k)


def closed_form(y0: np.ndarray, hz: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(44)-(45) for fields along z: M_z = |M| tanh(lambda0 omega0 t + artanh d), M_p = |M| sech,
    azimuth phi0 + omega0 t/(1 + alpha0^2); (3, K, T)."""
    mag = np.linalg.norm(y0, axis=0)[:, None]
    omega = GAMMA * hz[:, None]
    arg = LAMBDA0 * omega * t + np.arctanh(y0[2] / mag[:, 0])[:, None]
    phi = np.arctan2(y0[1], y0[0])[:, None] + omega * t / (1 + ALPHA0**2)
    mp = mag / np.cosh(arg)
    return np.stack([mp * np.cos(phi), mp * np.sin(phi), mag * np.tanh(arg)])


def worst_error(y: np.ndarray, y0: np.ndarray, hz: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per system, max over t of |M - M_exact|."""
    return np.sqrt(((y - closed_form(y0, hz, t)) ** 2).sum(axis=0)).max(axis=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--K", type=int, default=1_000_000)
    ap.add_argument("--K-ivp", type=int, default=None, help="systems for solve_ivp (default min(K, 10^5))")
    ap.add_argument("--chunk", type=int, default=200_000, help="dp54 systems per call")
    ap.add_argument("--parallel", action="store_true", help="dp54 over numba's threads")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--rtol", type=float, default=1e-6)
    args = ap.parse_args()
    k_ivp = min(args.K, 100_000) if args.K_ivp is None else min(args.K_ivp, args.K)
    mod = load_model("llg_rsi_numba", ROOT / "generated" / "rhs")
    t = np.linspace(0.0, T_END, 201)
    y0, hz = ensemble(args.K, args.seed)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.2f}; K = {args.K}, t_end = {T_END:.4g}, 201 outputs, "
          f"rtol {args.rtol:g}, atol 1e-9; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")

    def run(y, h, **kw):
        return simulate(mod, y, (0.0, T_END), {"gamma_abs": GAMMA, "alpha0": ALPHA0, "Hx": 0.0, "Hy": 0.0,
                                               "Hz": h}, t_eval=t, rtol=args.rtol, atol=1e-9, **kw)

    yi, hi_ = y0[:, :k_ivp], hz[:k_ivp]
    run(yi[:, :16], hi_[:16], method="RK45")  # the numba rhs compiled

    def ivp():
        started = time.perf_counter()
        sim = run(yi, hi_, method="RK45")
        seconds = time.perf_counter() - started
        assert sim.success, sim.message
        print(f"  solve_ivp RK45 on {k_ivp} systems: {seconds:.3f} s (load {os.getloadavg()[0]:.2f})")
        return sim, seconds

    ivp_sim, ivp_before = ivp()
    started = time.perf_counter()
    run(y0[:, :16], hz[:16], integrator="dp54", parallel=args.parallel)  # compile
    compile_s = time.perf_counter() - started
    dp_s, attempts, worst, drift = 0.0, 0, 0.0, 0.0
    per_system_steps = []
    for lo in range(0, args.K, args.chunk):
        hi = min(args.K, lo + args.chunk)
        started = time.perf_counter()
        sim = run(y0[:, lo:hi], hz[lo:hi], integrator="dp54", parallel=args.parallel)
        dp_s += time.perf_counter() - started
        assert sim.success, sim.message
        attempts += int(sim.steps.sum() + sim.rejected.sum())
        per_system_steps.append(sim.steps)
        worst = max(worst, float(worst_error(sim.y, y0[:, lo:hi], hz[lo:hi], t).max()))
        drift = max(drift, sim.drift)
    steps = np.concatenate(per_system_steps)
    print(f"dp54 (numba kernels{', parallel' if args.parallel else ''}): {dp_s:.3f} s for {args.K} systems "
          f"(compile {compile_s:.1f} s, not counted); accepted steps per system {steps.min()}..{steps.max()} "
          f"(mean {steps.mean():.1f}), {attempts} step attempts, {1e9 * dp_s / attempts:.1f} ns per "
          f"system-step; worst error {worst:.2e}, |M| drift {drift:.2e}")

    ivp_after = ivp()[1]
    ivp_s = (ivp_before + ivp_after) / 2
    ivp_steps = (ivp_sim.evaluations - 2) / 6  # RK45: 6 evaluations a step (FSAL) after 2 to start
    ivp_worst = float(worst_error(ivp_sim.y.reshape(3, k_ivp, -1), yi, hi_, t).max())
    scaled = ivp_s * args.K / k_ivp
    print(f"solve_ivp RK45 + numba rhs: {ivp_s:.3f} s (mean of the two) for {k_ivp} systems"
          + (f" -> {scaled:.3f} s scaled to K = {args.K}" if k_ivp != args.K else "")
          + f"; {ivp_steps:.0f} steps of the whole ensemble, {1e9 * ivp_s / (ivp_steps * k_ivp):.1f} ns per "
          f"system-step; worst error {ivp_worst:.2e}, |M| drift {ivp_sim.drift:.2e}")
    ok = worst <= TOLERANCE and ivp_worst <= TOLERANCE
    print(f"ratio (time per system, solve_ivp / dp54): {scaled / dp_s:.1f}x; every system within "
          f"{TOLERANCE:g} of the closed form: {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
