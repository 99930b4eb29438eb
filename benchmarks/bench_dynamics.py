"""Exact dynamics: the full tensor-product space, the collective representation and QuTiP.

One problem throughout (ħ = 1, γ = -1, V = N, so M is the moment per site): N spins ½ in the
field H_ext = (0, 0, 1) -- precession period 2π/(|γ|H) = 2π -- with an easy-axis anisotropy and
the paper's spin-spin coupling (63) at λ = 4/N,

    self-consistent:  H(t, M) = -M̂₀·H_ext - (M̂₀ᶻ)²/N + λ (M·M̂₀)²,
    fixed:            the same with M frozen at M(0) (the nearest fixed-Hamiltonian problem),

from the thermal state (11) with R₀ = (sin 0.5, 0, cos 0.5) and β = ln 3, so that the
single-spin polarization is tanh(β|R₀|/2) = 0.5.  Same tolerances everywhere (rtol 1e-10,
atol 1e-12; on ρ's entries for the full space and QuTiP, on the weighted amplitudes for ours),
the same integrator everywhere (DOP853; QuTiP's default Adams method is slower here).

Prints wall time per precession period (median of --repeats, one run when a run exceeds
--budget seconds) on the fixed problem against N for

* full space: :func:`symmag.exact.dynamics.evolve` on :class:`symmag.algebra.matrices.SpinSystem`
  (2^N states);
* collective: :func:`symmag.exact.collective.evolve_collective`, lab frame and the rotating frame of
  H_ext (``frame``), weight cutoff 1e-12;
* QuTiP: ``qutip.mesolve`` on d_J ρ_J of every kept sector (``qutip.jmat``; its setup untimed);

with ratios, then the key target: the self-consistent problem at N = 200 for three periods,
beside QuTiP on the fixed one.  BLAS is pinned to one thread unless OPENBLAS_NUM_THREADS is set:
on the 2-core development machine OpenBLAS's second thread made the integrator's skinny
matrix-vector products 15x slower.

Issue #14's figures (``--issue14``, instead of the sweep): the fixed H at N = 200 for three periods,
ours (exact per-sector propagation, ``symmag.exact.solve.solve_collective`` from the symbolic H) against
QuTiP mesolve per sector, both against a tight reference (our ODE route at rtol 1e-12) in the same
run; the self-consistent problem for three periods at N = 200, 400, 1000 (each against a reference
at rtol 1e-12, skipped past --budget-sc seconds): the compiled DOP853 (``symmag.exact.fused``) with
windows of the pure states (``--support-tolerance``), beside the previous route (SciPy's DOP853 on
whole sectors) up to --scipy-max, M saved with ``--save DIR``; and ``hierarchy`` of (63) to order 6,
cold, in a fresh process.

Usage: python benchmarks/bench_dynamics.py [--repeats 3] [--budget 20] [--quick] [--issue14]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads OpenBLAS

import argparse
import math
import platform
import statistics
import time
import warnings
from collections.abc import Callable

import numpy as np
import scipy

from symmag.algebra.matrices import SpinSystem
from symmag.algebra.numeric import expm_hermitian
from symmag.exact.collective import CollectiveSystem, evolve_collective, thermal_state
from symmag.exact.dynamics import evolve

R0 = np.array([math.sin(0.5), 0.0, math.cos(0.5)])
BETA = math.log(3)  # b = β ħ |R₀| = ln 3: polarization tanh(b/2) = 1/2
FRAME = (0.0, 0.0, -1.0)  # the linear part -M̂₀·H_ext
PERIOD = 2 * math.pi
TOL = {"rtol": 1e-10, "atol": 1e-12}
CUTOFF = 1e-12
WORDS = [(a, b) for a in range(3) for b in range(3)]


def model(n: int, frozen: np.ndarray | None = None):
    """H(t, M) as a polynomial in M̂₀; with ``frozen`` the coupling uses that M instead."""
    lam = 4 / n

    def h(t: float, mag: np.ndarray) -> dict:
        m = mag if frozen is None else frozen
        poly = {(a, b): lam * m[a] * m[b] for a, b in WORDS}
        poly[(2,)] = -1.0
        poly[(2, 2)] += -1 / n
        return poly

    return h


def median_time(run, repeats: int, budget: float) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - t0)
        if times[-1] > budget:
            break
    return statistics.median(times), out


def full_space(n: int, poly: dict, t: np.ndarray) -> Callable[[], np.ndarray]:
    system = SpinSystem(n, "1/2", hbar=1.0, gamma=-1.0)
    mats = [system.collective(a) for a in range(3)]
    h = sum(c * np.linalg.multi_dot([np.eye(system.dim), *(mats[a] for a in w)]) for w, c in poly.items())
    rho0 = expm_hermitian(sum(mats[a] * R0[a] for a in range(3)) / system.gamma, -BETA)  # (11)
    rho0 /= np.trace(rho0)

    def run():
        rhos = evolve(lambda tt, rho: h, rho0, t, **TOL)
        return np.array([np.einsum("ij,ji->", rhos[-1], a).real for a in mats]) / n

    return run


def qutip_sectors(n: int, poly: dict, t: np.ndarray, sectors) -> Callable[[], np.ndarray]:
    import qutip

    system = CollectiveSystem(n, volume=n)
    log_z = n * (BETA / 2 + math.log1p(math.exp(-BETA)))
    jobs = []
    for j in sectors:
        if j == 0:
            continue  # M̂₀ = 0 there
        m = [-qutip.jmat(j, a) for a in "xyz"]  # γħJ with γ = -1
        h = 0
        for w, c in poly.items():
            term = m[w[0]]
            for a in w[1:]:
                term = term * m[a]
            h = h + c * term
        i0 = sum(float(R0[a]) * qutip.jmat(j, "xyz"[a]) for a in range(3))
        shift = BETA * j  # e^{-b(n·J + J)} stays ≤ 1; the factor goes into the weight
        rho = (-BETA * (i0 + j)).expm() * math.exp(system.log_multiplicity(j) + shift - log_z)
        jobs.append((h, rho, m))
    options = {"method": "dop853", "nsteps": 10**8, **TOL}

    def run():
        total = np.zeros(3)
        for h, rho, m in jobs:
            out = qutip.mesolve(h, rho, t, e_ops=m, options=options)
            total += [np.real(e[-1]) for e in out.expect]
        return total / n

    return run


def cell(res: dict, key: str, width: int = 9) -> str:
    return f"{res[key]:{width}.3f}" if key in res else " " * (width - 1) + "-"


def ratio(res: dict, a: str, b: str, width: int = 9) -> str:
    return f"{res[a] / res[b]:{width}.2f}" if a in res and b in res else " " * (width - 1) + "-"


def sweep(args) -> None:
    t = np.linspace(0, PERIOD, 11)
    print(f"\nTime per precession period, fixed H, seconds (median of up to {args.repeats}):")
    print(f"{'N':>4} {'full':>9} {'coll lab':>9} {'coll frame':>10} {'QuTiP':>9} {'states':>7}"
          f" {'full/lab':>9} {'QuTiP/lab':>9} {'QuTiP/frame':>11} {'max|dM|':>9}")
    sizes = sorted(set(args.full) | set(args.collective) | set(args.qutip))
    for n in sizes:
        system = CollectiveSystem(n, volume=n)
        state = thermal_state(system, R0, BETA, weight_cutoff=CUTOFF)
        m0 = np.array([state.expectation({a: 1.0}).real for a in "xyz"])
        h = model(n, frozen=m0)
        poly = h(0.0, m0)
        res, finals = {}, []
        if n in args.full:
            res["full"], out = median_time(full_space(n, poly, t), args.repeats, args.budget)
            finals.append(out)
        if n in args.collective:
            for name, frame in (("lab", None), ("frame", FRAME)):
                def run(h=h, state=state, frame=frame):
                    return evolve_collective(h, state, t, frame=frame, **TOL).M[:, -1]
                res[name], out = median_time(run, args.repeats, args.budget)
                finals.append(out)
        if n in args.qutip:
            run = qutip_sectors(n, poly, t, state.sectors)
            res["qutip"], out = median_time(run, args.repeats, args.budget)
            finals.append(out)
        spread = max(np.abs(f - finals[0]).max() for f in finals)
        print(f"{n:>4} {cell(res, 'full')} {cell(res, 'lab')} {cell(res, 'frame', 10)} {cell(res, 'qutip')}"
              f" {state.n_states:>7} {ratio(res, 'full', 'lab')} {ratio(res, 'qutip', 'lab')}"
              f" {ratio(res, 'qutip', 'frame', 11)} {spread:9.1e}",              flush=True)


def target(args) -> None:
    n, periods = 200, 3
    t = np.linspace(0, periods * PERIOD, 31)
    system = CollectiveSystem(n, volume=n)
    t0 = time.perf_counter()
    state = thermal_state(system, R0, BETA, weight_cutoff=CUTOFF)
    t_state = time.perf_counter() - t0
    m0 = np.array([state.expectation({a: 1.0}).real for a in "xyz"])
    print(f"\nKey target: N = {n}, polarization {math.tanh(BETA / 2):.2f}, {periods} periods, "
          "self-consistent H")
    print(f"  thermal state: {t_state:.2f} s, {state.n_states} pure states in {len(state.sectors)} of "
          f"{len(system.sectors)} sectors, neglected weight {state.neglected_weight:.2e}")
    runs = [("collective, rotating frame, self-consistent", model(n), FRAME),
            ("collective, rotating frame, fixed (M frozen)", model(n, m0), FRAME)]
    if not args.quick:
        runs.append(("collective, lab frame, self-consistent", model(n), None))
    finals = {}
    for name, h, frame in runs:
        t0 = time.perf_counter()
        res = evolve_collective(h, state, t, frame=frame, **TOL)
        elapsed = time.perf_counter() - t0
        finals[name] = res.M
        print(f"  {name}: {elapsed:.1f} s ({res.nfev} evaluations), neglected weight "
              f"{res.neglected_weight:.2e}, M(3T) = {np.array2string(res.M[:, -1], precision=6)}", flush=True)
    sc, fx = finals[runs[0][0]], finals[runs[1][0]]
    print(f"  max |M_self-consistent - M_fixed| over the run: {np.abs(sc - fx).max():.3e}")
    if len(runs) > 2:
        print(f"  max |M_frame - M_lab|: {np.abs(sc - finals[runs[2][0]]).max():.1e}")
    if not args.quick:
        run = qutip_sectors(n, model(n, m0)(0.0, m0), t, state.sectors)
        t0 = time.perf_counter()
        out = run()
        elapsed = time.perf_counter() - t0
        print(f"  QuTiP mesolve, fixed (M frozen), {len(state.sectors)} sectors: {elapsed:.1f} s, "
              f"|M(3T) - ours| = {np.abs(out - fx[:, -1]).max():.1e}", flush=True)


def issue14(args) -> None:
    """The three performance figures of issue #14, ratios in this one run."""
    from derivations.models import KAPPA, spin_spin_axis_hamiltonian
    from derivations.printed import lam
    from symmag.algebra.fields import M
    from symmag.exact.solve import solve_collective

    periods = 3
    t = np.linspace(0, periods * PERIOD, 31)
    n = 200
    if args.skip_fixed:
        return issue14_rest(args, periods, t)
    system = CollectiveSystem(n, volume=n)
    state = thermal_state(system, R0, BETA, weight_cutoff=CUTOFF)
    m0 = np.array([state.expectation({a: 1.0}).real for a in "xyz"])
    poly = model(n, m0)(0.0, m0)
    h = spin_spin_axis_hamiltonian()
    fixed_h = h.xreplace(dict(zip(M, m0)))  # M frozen at M(0)
    params = {lam: 4 / n, KAPPA: -1.0}
    print(f"\nFixed H (M frozen at M(0)), N = {n}, {periods} periods, {state.n_states} pure states:")
    t0 = time.perf_counter()
    ours = solve_collective(fixed_h, state, t, parameters=params, field=(0, 0, 1.0))
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = evolve_collective(model(n, m0), state, t, frame=FRAME, rtol=1e-12, atol=1e-14)
    t_ref = time.perf_counter() - t0
    print(f"  ours (exact per sector): {t_ours:.2f} s, nfev {ours.collective.nfev}; reference (ODE, "
          f"rtol 1e-12) {t_ref:.1f} s; max |dM| ours-ref {np.abs(ours.m0 - ref.M).max():.1e}", flush=True)
    try:
        run = qutip_sectors(n, poly, t, state.sectors)
        t0 = time.perf_counter()
        q = run()
        t_q = time.perf_counter() - t0
        print(f"  QuTiP mesolve per sector: {t_q:.1f} s, |M(3T) - ref| = "
              f"{np.abs(q - ref.M[:, -1]).max():.1e}; QuTiP/ours = {t_q / t_ours:.1f}", flush=True)
    except ImportError:
        print("  QuTiP not installed")
    issue14_rest(args, periods, t)


def issue14_rest(args, periods: int, t: np.ndarray) -> None:
    """The self-consistent table and the hierarchy figure of issue14."""
    import subprocess
    import sys

    warm = thermal_state(CollectiveSystem(4, volume=4), R0, BETA, weight_cutoff=CUTOFF)
    for tol in (0.0, args.support_tolerance):  # compile the numba kernels outside the timings
        evolve_collective(model(4), warm, [0.0, 0.1], frame=FRAME, diagonal_picture=True,
                          support_tolerance=tol)
    print(f"\nSelf-consistent H, {periods} periods, rotating frame + diagonal picture, rtol 1e-10/atol "
          f"1e-12, compiled DOP853, windows at support_tolerance {args.support_tolerance:g}; reference: rtol "
          f"1e-12/atol 1e-14 on whole sectors (windows at {args.ref_support_tolerance:g} from N = "
          f"{args.ref_windows_from}); 'scipy': the previous route (SciPy's DOP853, whole sectors), up to "
          f"N = {args.scipy_max}; seconds wall (CPU of this process), load average after each run:")
    print(f"{'N':>6} {'states':>7} {'neglected':>10} {'amplitudes':>17} {'bound':>8} {'seconds':>15}"
          f" {'nfev':>6} {'max|dM|':>9} {'ref s':>8} {'ref nfev':>8} {'scipy s':>8} {'nfev':>6}"
          f" {'ratio':>6}  load")
    for n in args.sc_spins:
        system = CollectiveSystem(n, volume=n)
        state = thermal_state(system, R0, BETA, weight_cutoff=CUTOFF)
        picture = {"frame": FRAME, "max_steps": 10**6, "diagonal_picture": True}
        t0, c0 = time.perf_counter(), time.process_time()
        res = evolve_collective(model(n), state, t, **TOL, **picture,
                                support_tolerance=args.support_tolerance)
        sec, cpu = time.perf_counter() - t0, time.process_time() - c0
        total = sum(b.vectors.size for b in state.blocks)
        line = (f"{n:>6} {state.n_states:>7} {state.neglected_weight:>10.1e} {res.n_amplitudes:>8}/{total:<8}"
                f" {res.truncation_bound:>8.1e} {sec:>7.1f} ({cpu:>5.1f}) {res.nfev:>6}")
        loads = [os.getloadavg()[0]]
        if sec > args.budget_sc:
            line += f" {'-':>9} {'-':>8} {'-':>8}"
        else:
            ref_tol = args.ref_support_tolerance if n >= args.ref_windows_from else 0.0
            t0 = time.perf_counter()
            tight = evolve_collective(model(n), state, t, rtol=1e-12, atol=1e-14, **picture,
                                      support_tolerance=ref_tol)
            line += f" {np.abs(res.M - tight.M).max():>9.1e} {time.perf_counter() - t0:>8.1f} {tight.nfev:>8}"
            loads.append(os.getloadavg()[0])
        if n <= args.scipy_max:
            t0 = time.perf_counter()
            old = evolve_collective(model(n), state, t, **TOL, **picture, integrator="scipy")
            t_old = time.perf_counter() - t0
            line += f" {t_old:>8.1f} {old.nfev:>6} {t_old / sec:>6.2f}"
            if sec <= args.budget_sc:
                line += f"  (scipy vs reference {np.abs(old.M - tight.M).max():.1e})"
            loads.append(os.getloadavg()[0])
        print(line + "  load " + " ".join(f"{x:.1f}" for x in loads), flush=True)
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            np.savez(os.path.join(args.save, f"sc_{n}.npz"), t=t, M=res.M,
                     **({} if sec > args.budget_sc else {"M_ref": tight.M}))
    code = ("import time; t0 = time.perf_counter(); from derivations.models import spin_spin_hamiltonian; "
            "from symmag.theory.hierarchy import hierarchy; h = spin_spin_hamiltonian(); "
            "t1 = time.perf_counter(); "
            "hierarchy(h, 6); print(f'{t1 - t0:.2f} {time.perf_counter() - t1:.2f}')")
    if args.no_hierarchy:
        return
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    print(f"\nhierarchy of (63) to order 6, cold (fresh process): {out[1]} s (imports {out[0]} s)")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--budget", type=float, default=20.0, help="one run only when a run takes longer (s)")
    p.add_argument("--full", type=int, nargs="*", default=[2, 4, 6, 8])
    p.add_argument("--collective", type=int, nargs="*", default=[2, 4, 6, 8, 16, 32, 50, 100, 200])
    p.add_argument("--qutip", type=int, nargs="*", default=[2, 4, 6, 8, 16, 32, 50, 100, 200])
    p.add_argument("--quick", action="store_true", help="no QuTiP and no lab frame at N = 200")
    p.add_argument("--issue14", action="store_true", help="issue #14's three figures instead of the sweep")
    p.add_argument("--sc-spins", type=int, nargs="*", default=[200, 400, 1000])
    p.add_argument("--budget-sc", type=float, default=600.0, help="no reference run past this (s)")
    p.add_argument("--scipy-max", type=int, default=400,
                   help="the previous route (SciPy DOP853) up to this N")
    p.add_argument("--support-tolerance", type=float, default=1e-10,
                   help="windows of the pure states: the bound on the trace norm they may cost")
    p.add_argument("--ref-support-tolerance", type=float, default=1e-12, help="the reference's windows")
    p.add_argument("--ref-windows-from", type=int, default=1000,
                   help="the reference on whole sectors below this N, on windows from it")
    p.add_argument("--save", default="", help="--issue14: save M of the self-consistent runs here (.npz)")
    p.add_argument("--skip-fixed", action="store_true", help="--issue14 without the fixed-H/QuTiP figure")
    p.add_argument("--no-hierarchy", action="store_true", help="--issue14 without the hierarchy figure")
    args = p.parse_args()
    if args.quick:
        args.qutip = [x for x in args.qutip if x <= 50]
        args.collective = [x for x in args.collective if x <= 100]
    warnings.filterwarnings("ignore", message="matplotlib not found")
    try:
        import qutip

        qutip_version = qutip.__version__
    except ImportError:
        qutip_version, args.qutip = "not installed", []
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {cpu_model()}; "
          f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
          f"QuTiP {qutip_version}; OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}; "
          f"load average {os.getloadavg()[0]:.2f}")
    if args.issue14:
        issue14(args)
        return
    sweep(args)
    target(args)


if __name__ == "__main__":
    main()
