"""Exact quantum dynamics against the derived magnetization equations (``symmag compare``).

The exact magnetization solves the Liouville-von Neumann equation (1) for a few spins
with the self-consistent Hamiltonian of each interaction -- the paper's, written once in
:mod:`derivations.models` and translated by :mod:`symmag.exact.solve` (full tensor-product space,
:mod:`symmag.exact.dynamics`); no Hamiltonian is typed here.  The derived equations are the
generated modules shipped with symmag, or those in ``folder`` when one is given
(:func:`symmag.numeric.simulate.load_model`: the same from any working directory).  Conventions:
hbar = 1, gamma = -|gamma| = -1, V = 1, spins 1/2.

* RSI (Sec. III): the Hamiltonian -M0 . (H_eff + H_r^d) is linear in the spins, with M
  from M = <M0 + M_I> at each step, lambda0 = lambda|M| and alpha0 = alpha|M| held fixed
  (so lambda alpha M^2 = lambda0 alpha0 is constant; (36) is M = (1 - lambda0 alpha0)<M0>).
  For a Hamiltonian linear in the spins, <M0> obeys a closed equation, so exact and LLG
  (41) agree to the integrators' tolerance: a consistency check of the whole chain.  The
  same holds with the Sec. III B modifications (46) and (49) and the model llg_rsi_extra.
* Spin-spin (Sec. IV): H = -M0 . H_eff + (lambda/gamma^2)(M . M0)^2 with M = <M0>; the
  lowest order (G^ab frozen at t = 0), the mean field and the second-order cumulant
  closure against the exact M(t).  ``lambda_scaling`` fits the exponent p of the largest
  deviation over a fixed window against lambda: in zero field, where the interaction frame
  of (68)-(69) is the laboratory frame, G^ab drifts at O(lambda), so the lowest order's
  error in M is O(lambda^2 t^2): p = 2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..algebra.matrices import SpinSystem
from ..algebra.numeric import expm_hermitian, random_density_matrix
from ..errors import SymmagInputError

_AX = "xyz"


@dataclass(frozen=True)
class Comparison:
    """Exact M(t) beside the M(t) of each derived equation, shape (3, T) each."""

    model: str
    t: np.ndarray
    exact: np.ndarray
    approximations: dict[str, np.ndarray]
    setup: dict = field(default_factory=dict)

    def deviation(self, name: str) -> np.ndarray:
        """max_a |M^a_approx(t) - M^a_exact(t)| / |M(0)| against time."""
        return np.abs(self.approximations[name] - self.exact).max(axis=0) / np.linalg.norm(self.exact[:, 0])


def thermal_invariant_state(system: SpinSystem, r0: Sequence[float], beta: float) -> np.ndarray:
    """rho0 = exp(-beta I0)/Z0 with I0 = sum_i S_i . R0 = M0 . R0/gamma (11), (14), (6)."""
    from ..algebra.su2 import M0
    from ..conventions import gamma

    i0 = system.matrix(sum((M0(a) * float(r0[a]) for a in range(3)), M0(0) * 0) / gamma)
    rho = expm_hermitian(i0, -beta)
    return rho / np.trace(rho)


def _load(name: str, folder: str | Path | None):
    """A generated module: in ``folder``, or with None among the models shipped with symmag."""
    from ..numeric.simulate import load_model

    return load_model(name, folder)


def _paper():
    """The paper's Hamiltonians, written once (:mod:`derivations.models`, imported when needed)."""
    from derivations import models

    return models


def rsi(n_sites: int = 3, alpha0: float = 0.3, field_: Sequence[float] = (0.0, 0.0, 1.0),
        beta: float = 1.5, r0: Sequence[float] = (0.8, 0.1, -0.6), relaxation_times: float = 3.0,
        points: int = 61, lambdabar46: float = 0.0, lambdabar49: float = 0.0,
        folder: str | Path | None = None, progress=None) -> Comparison:
    """The RSI: exact LvN evolution against the generated llg_rsi (41) -- or, with the
    Sec. III B modifications (46) and (49), against llg_rsi_extra -- over a few relaxation
    times tau = 1/((lambda0 + lambdabar49) omega0).

    The Hamiltonian is the paper's, -M0 . (H_eff + H_r^d) with H_r^d of (32), (46), (49)
    (:func:`derivations.models.rsi_hamiltonian`), in alpha0 with lambda = lambda0/|M| (39)-(40)
    (:func:`derivations.models.rsi_dimensionless`), run by :func:`symmag.exact.solve.solve_full_space`:
    the moment operator M_hat = -dH/dH_eff = M0 + M_I (4) at fixed M, and M = <M_hat> solved by
    fixed-point iteration at each instant -- not taken from the derivation."""
    from scipy.integrate import solve_ivp

    from .solve import solve_full_space

    models = _paper()
    system = SpinSystem(n_sites, "1/2", hbar=1.0, gamma=-1.0)
    lam0 = alpha0 / (1 + alpha0**2)
    h = np.asarray(field_, dtype=float)
    extra = bool(lambdabar46 or lambdabar49)
    hamiltonian = models.rsi_dimensionless(models.rsi_hamiltonian("46+49" if extra else "none"))
    parameters = {models.ALPHA0: alpha0, models.LB46: lambdabar46, models.LB49: lambdabar49}
    rho0 = thermal_invariant_state(system, r0, beta)
    tau = 1 / abs((lam0 + lambdabar49) * np.linalg.norm(h))
    t = np.linspace(0, relaxation_times * tau, points)
    exact = solve_full_space(hamiltonian, system, rho0, t, parameters=parameters, field=tuple(h),
                             rtol=1e-11, atol=1e-13, progress=progress).M
    name = "llg_rsi_extra" if extra else "llg_rsi"
    args = (1.0, alpha0, lambdabar46, lambdabar49, *h) if extra else (1.0, alpha0, *h)
    sol = solve_ivp(_load(name, folder).rhs, (0, t[-1]), exact[:, 0], t_eval=t, args=args, method="DOP853",
                    rtol=1e-11, atol=1e-13)
    setup = {"N": n_sites, "alpha0": alpha0, "H": tuple(float(x) for x in h), "beta": beta, "tau": float(tau)}
    if extra:
        setup.update(lambdabar46=lambdabar46, lambdabar49=lambdabar49)
    return Comparison(name, t, exact, {"Sec. III B model" if extra else "LLG (41)": sol.y}, setup)


def spin_spin(n_sites: int = 3, lam: float = 0.15, h_z: float = 1.0, t_end: float = 8.0, points: int = 41,
              rho0: np.ndarray | None = None, seed: int = 1, folder: str | Path | None = None,
              progress=None) -> Comparison:
    """The spin-spin model: exact M(t) against the generated lowest order (G^ab frozen at
    t = 0), mean-field and cumulant-2 modules.  The default initial state is a random
    (correlated) density matrix, for which the lowest-order D does not vanish."""
    from scipy.integrate import solve_ivp

    from .accuracy import initial_correlations, spin_spin_exact

    system = SpinSystem(n_sites, "1/2", hbar=1.0, gamma=-1.0)
    if rho0 is None:
        rho0 = random_density_matrix(system.dim, np.random.default_rng(seed))
    if rho0.shape != (system.dim, system.dim):
        raise ValueError(f"rho0 must have shape ({system.dim}, {system.dim}), got {rho0.shape}")
    t = np.linspace(0, t_end, points)
    exact = spin_spin_exact(system, rho0, lam, h_z, t, progress=progress)
    g0 = {"G" + "".join(_AX[a] for a in w): v for w, v in initial_correlations(system, rho0, 2).items()
          if len(w) == 2}
    common = {"gamma_abs": 1.0, "lambda": lam, "Hx": 0.0, "Hy": 0.0, "Hz": h_z, "hbar": 1.0, **g0}
    out = {}
    for label, name in (("lowest order", "spin_spin_lowest"), ("mean field", "spin_spin_mean_field"),
                        ("cumulant 2", "spin_spin_cumulant2")):
        mod = _load(name, folder)
        y0 = [exact[_AX.index(s[1]), 0] if s.startswith("M") else g0[s] for s in mod.STATE]
        args = tuple(common[p] for p in mod.PARAMETERS)
        sol = solve_ivp(mod.rhs, (0, t_end), y0, t_eval=t, args=args, method="DOP853", rtol=1e-10, atol=1e-12)
        out[label] = sol.y[:3]
    return Comparison("spin_spin", t, exact, out, {"N": n_sites, "lambda": lam, "H_z": h_z, "seed": seed})


def fit_exponent(lambdas: Sequence[float], errors: Sequence[float]) -> float:
    """The slope p of log(error) against log(lambda), least squares: error ~ lambda^p."""
    return float(np.polyfit(np.log(lambdas), np.log(errors), 1)[0])


def lambda_scaling(lambdas: Sequence[float] = (0.02, 0.04, 0.08, 0.16), n_sites: int = 3, t_end: float = 4.0,
                   h_z: float = 0.0, seed: int = 1, folder: str | Path | None = None
                   ) -> dict[str, tuple[np.ndarray, float]]:
    """For each approximation, the largest deviation over t in [0, t_end] at each lambda and
    the fitted exponent p (error ~ lambda^p).  One random correlated initial state."""
    errs: dict[str, list[float]] = {}
    for lam in lambdas:
        c = spin_spin(n_sites, lam, h_z, t_end, rho0=None, seed=seed, folder=folder)
        for name in c.approximations:
            errs.setdefault(name, []).append(float(c.deviation(name).max()))
    return {name: (np.array(e), fit_exponent(lambdas, e)) for name, e in errs.items()}


def plot(comparison: Comparison, path) -> None:
    """Deviation against time, log scale, one curve per derived equation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.4), layout="constrained")
    for name in comparison.approximations:
        ax.semilogy(comparison.t[1:], np.maximum(comparison.deviation(name)[1:], 1e-17), label=name)
    ax.set_xlabel(r"$t$ (units of $1/(|\gamma| H)$, $\hbar = 1$)")
    ax.set_ylabel(r"$\max_a |M^a - M^a_{\mathrm{exact}}| / |M(0)|$")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    from ..atomic import replacing

    with replacing(path) as tmp:  # never a half-written plot in place of the old one
        fig.savefig(tmp, dpi=150, format=Path(path).suffix.lstrip(".").lower() or None,
                    metadata={"Software": None} if str(path).endswith(".png") else None)
    plt.close(fig)


# -- closures of the hierarchy against exact collective dynamics, for any collective H (issue #14) ---------
#
# Scaling used throughout (stated so that "mean field becomes exact as N -> oo" means something):
# V = N, so M = <M0>/V is the moment per spin and |M| <= |gamma| hbar/2; every term of H is extensive
# (O(N)), so a coupling multiplying a product of two M0's scales as 1/N -- lambda = (lambda N)/N for
# (63), the easy axis kappa (M0^z)^2/(gamma^2 N), chi (M0^x)^2/(gamma^2 hbar N).  A parameter listed in
# ``per_spin`` is given as its value times N (``lambda=4`` means lambda = 4/N).  hbar = 1, gamma = -1.

#: closure -> suffix of its generated model (derivations.models.CLOSURE_SUFFIX), lowest truncation first
CLOSURE_SUFFIX = {"lowest": "lowest", "mean field": "mean_field", "cumulant 2": "cumulant2",
                  "cumulant 3": "cumulant3", "cumulant 4": "cumulant4"}
#: most spins of a closure study: the thermal state's weights are (N/2)^2 numbers, exact runs ~N^3
MAX_STUDY_SPINS = 5000


@dataclass(frozen=True)
class CollectiveModel:
    """A collective Hamiltonian (polynomial in M0, M = <M0>/V closing any M-dependence) and where its
    closures' generated modules are: ``prefix`` + "_" + suffix (:data:`CLOSURE_SUFFIX`) in ``folder``
    (None: the modules shipped with symmag).  ``parameters`` are the defaults, ``per_spin`` those given
    times N; ``field`` is the static H_eff."""

    name: str
    hamiltonian: object  # callable () -> Op, or an Op
    prefix: str
    parameters: dict = field(default_factory=dict)
    per_spin: tuple[str, ...] = ()
    field: tuple[float, float, float] = (0.0, 0.0, 1.0)
    doc: str = ""
    folder: str | Path | None = None

    def operator(self):
        return self.hamiltonian() if callable(self.hamiltonian) else self.hamiltonian


def collective_models() -> dict[str, CollectiveModel]:
    """The collective models whose closures ship as generated modules (:mod:`derivations.models`)."""
    models = _paper()
    return {
        "spin_spin_axis": CollectiveModel(
            "spin_spin_axis", models.spin_spin_axis_hamiltonian, "spin_spin_axis",
            {"lambda": 4.0, "kappa": -1.0}, ("lambda",), (0.0, 0.0, 1.0),
            "the spin-spin model (63) with an easy axis: H = -M0.H + (lambda/gamma^2)(M.M0)^2 + "
            "kappa (M0^z)^2/(gamma^2 N)"),
        "lmg": CollectiveModel(
            "lmg", models.lmg_hamiltonian, "lmg", {"chi": 0.5}, (), (0.0, 0.0, 1.0),
            "the Lipkin-Meshkov-Glick model in a transverse field: "
            "H = -M0.H - chi (M0^x)^2/(gamma^2 hbar N)"),
    }


@dataclass(frozen=True)
class Realizability:
    """Whether a closure's moments could come from a state, along the run (NaN where it has no G):
    ``m_ratio`` max |M|/(|gamma| hbar N/(2V)) (> 1 is impossible); ``covariance_min`` the smallest
    eigenvalue of the covariance Tr{rho dM0^a dM0^b}_sym over t, per spin in units of (gamma hbar/2)^2
    (< 0 is impossible); ``uncertainty_min`` the same for Cov + (i/2)<[M0^a, M0^b]> (the
    Robertson-Schroedinger form, stronger); ``casimir_drift`` max |C(t) - C(0)|/C(0) of
    C = Tr{rho M0 . M0} (V |M|^2 V for the mean field), which every collective H conserves."""

    m_ratio: float
    covariance_min: float
    uncertainty_min: float
    casimir_drift: float
    #: what the runs resolve: Cov = V G/2 - V^2 M M cancels O(N^2) terms known to rtol, so per spin
    #: its eigenvalues are known to about 10 rtol N; a coherent state sits on the boundary (eigenvalue 0)
    tolerance: float = 0.0

    @property
    def realizable(self) -> bool:
        return bool(self.m_ratio <= 1 + self.tolerance and not self.covariance_min < -self.tolerance
                    and not self.uncertainty_min < -self.tolerance)


@dataclass(frozen=True)
class Trajectory:
    """One closure's M(t) (3, T) and, when it carries them, G^{ab}(t) (3, 3, T), with its errors against
    the exact run: ``error`` max_a |dM^a|/|M(0)| and ``g_error`` max_ab |dG^ab|/max_ab |G^ab(0)|."""

    M: np.ndarray
    G: np.ndarray | None
    error: np.ndarray
    g_error: np.ndarray | None
    realizability: Realizability


@dataclass(frozen=True)
class ClosureRun:
    """The exact collective M(t), G(t) of one model at one N and parameter set, beside each closure."""

    model: str
    n_sites: int
    values: dict  # parameters as given (per-spin ones times N)
    t: np.ndarray
    M: np.ndarray
    G: np.ndarray
    closures: dict[str, Trajectory]
    exact: Realizability
    neglected_weight: float
    seconds: float


def _realizability(m: np.ndarray, g: np.ndarray | None, n: int, volume: float, gamma_hbar: float,
                   rtol: float) -> Realizability:
    unit, tol = gamma_hbar**2 / 4, 10 * rtol * n
    finite = np.isfinite(m).all(axis=0) & (True if g is None else np.isfinite(g).all(axis=(0, 1)))
    if not finite.all():  # diverged: judged on the times before, and |M| unbounded
        m, g = m[:, finite], None if g is None else g[:, :, finite]
        if not finite.any():
            return Realizability(math.inf, math.nan, math.nan, math.inf, tol)
    m_ratio = float(np.linalg.norm(m, axis=0).max() / (abs(gamma_hbar) * n / (2 * volume)))
    if not finite.all():
        m_ratio = math.inf
    if g is None:  # mean field: only |M| is a state variable
        c = volume**2 * (m * m).sum(axis=0)
        return Realizability(m_ratio, math.nan, math.nan, float(np.abs(c - c[0]).max() / c[0]), tol)
    cov = volume * np.moveaxis(g, -1, 0) / 2 - volume**2 * np.einsum("at,bt->tab", m, m)
    eps = np.zeros((3, 3, 3))
    for a, b, c in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        eps[a, b, c], eps[b, a, c] = 1, -1
    unc = cov + 0.5j * gamma_hbar * volume * np.einsum("abc,ct->tab", eps, m)
    casimir = volume * np.trace(g) / 2
    return Realizability(m_ratio, float(np.linalg.eigvalsh(cov).min() / (n * unit)),
                         float(np.linalg.eigvalsh(unc).min() / (n * unit)),
                         float(np.abs(casimir - casimir[0]).max() / abs(casimir[0])), tol)


def _symbols(h) -> dict[str, object]:
    return {s.name: s for c in h.terms.values() for s in c.free_symbols}


def initial_state(system, polarization: float = 0.5, tilt: float = 0.5):
    """The thermal state (11) with R0 = (sin tilt, 0, cos tilt), |R0| = 1, at the beta that gives the
    single-spin polarization ``polarization`` = tanh(beta hbar/2): permutation-symmetric, a product
    state; 1 gives the coherent state along R0 (one sector)."""
    from .collective import thermal_state
    if not 0 < polarization <= 1:
        raise SymmagInputError(f"the polarization must be in (0, 1], got {polarization!r}")
    if not math.isfinite(tilt):
        raise SymmagInputError(f"the tilt must be finite, got {tilt!r}")
    b = 90.0 if polarization >= 1 - 1e-15 else 2 * math.atanh(polarization)  # e^-90 N: nothing kept
    return thermal_state(system, (math.sin(tilt), 0.0, math.cos(tilt)), b / system.hbar)


def _initial_value(state, word: tuple[int, ...]) -> float:
    """G^w = 2^(n-1) <W(w)>/V of the state (M^a = <M0^a>/V for one index)."""
    from sympy.utilities.iterables import multiset_permutations

    perms = [tuple(p) for p in multiset_permutations(sorted(word))]
    value = state.expectation({p: 1.0 / len(perms) for p in perms}).real
    return value * (2 ** (len(word) - 1) if len(word) > 1 else 1)


def _closure_module(model: CollectiveModel, closure: str):
    """The generated module of one closure: from ``model.folder`` when set (a user's model, built
    there by :func:`build_closures`), a shipped module, or else generated on first use."""
    name = f"{model.prefix}_{CLOSURE_SUFFIX[closure]}"
    if model.folder is not None or closure in _paper().SHIPPED_CLOSURES:
        return _load(name, model.folder)
    return _load(name, closure_folder(model, closure))


def closure_folder(model: CollectiveModel, closure: str) -> Path:
    """A per-user cache folder holding ``closure`` of ``model`` as a generated NumPy module, written
    on first use: the folder is named after a hash of the Hamiltonian, the closure, symmag's sources,
    derivations/models.py and the SymPy version (its printers write the code), so any change to them
    generates it anew.  A module there that does not pass its own body hash (damaged, or edited)
    is generated again; the write is one atomic generation of the folder, so two processes asking at
    once both end with a complete module (the same bytes)."""
    import hashlib

    import sympy as sp

    from ..checking import cache
    from ..numeric.codegen import generate, verify_body

    models = _paper()
    h = model.operator()
    terms = sorted((str(k), sp.srepr(c)) for k, c in h.terms.items())  # canonical, in a fixed order
    key = hashlib.sha256("\0".join([repr(terms), closure, cache.symmag_digest(), sp.__version__,
                                    hashlib.sha256(Path(models.__file__).read_bytes()).hexdigest()])
                         .encode()).hexdigest()[:20]
    folder = cache.cache_dir() / "closures" / key
    name = f"{model.prefix}_{CLOSURE_SUFFIX[closure]}"
    module = folder / f"{name}.py"
    try:
        sound = module.is_file() and verify_body(module.read_bytes()) is None
    except OSError:
        sound = False
    if not sound:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SymmagInputError(f"cannot create the closure cache {folder}: {exc.strerror or exc} "
                                   "(set SYMMAG_CACHE_DIR)") from exc
        generate([models.closure_model(name, h, closure)], folder, ("numpy",), command="symmag compare")
    return folder


def _physical(model: CollectiveModel, values: dict, n: int) -> dict[str, float]:
    return {k: (v / n if k in model.per_spin else v) for k, v in values.items()}


def _prepare(model: CollectiveModel, n: int, values: dict, polarization: float, tilt: float):
    """System, state and parameters of one run, checked (the Hamiltonian translated and evaluated at
    t = 0) before anything is integrated."""
    from .collective import CollectiveSystem
    from .solve import to_collective

    h = model.operator()
    known = _symbols(h)
    unknown = sorted(set(values) - set(known))
    if unknown:
        own = ", ".join(sorted(set(known) - {"N", "V", "gamma", "hbar"}))
        raise SymmagInputError(f"{model.name}: no parameter {', '.join(unknown)} in the Hamiltonian "
                               f"(its parameters: {own})")
    physical = {known[k]: v for k, v in _physical(model, values, n).items()}
    system = CollectiveSystem(n, hbar=1.0, gamma=-1.0, volume=float(n))
    state = initial_state(system, polarization, tilt)
    ch = to_collective(h, system, parameters=physical, field=model.field)
    m_first = np.array([state.expectation({(a,): 1.0}).real for a in range(3)])
    ch.translation.check_first(0.0, ch.averages(m_first), m_first)
    return h, system, state, physical


def closure_run(model: CollectiveModel, n_sites: int, values: dict | None = None,
                closures: Sequence[str] = tuple(CLOSURE_SUFFIX), t_end: float = 2 * math.pi, points: int = 41,
                polarization: float = 0.5, tilt: float = 0.5, rtol: float = 1e-10, atol: float = 1e-12,
                modules: dict | None = None) -> ClosureRun:
    """Exact M(t), G(t) of ``model`` for ``n_sites`` spins (symmag.exact.solve.solve_collective in
    the rotating frame of the field and the diagonal picture, both exact) from
    :func:`initial_state`, and each closure's generated module integrated from the same initial
    moments (DOP853 at the same tolerances).  ``modules``: closure -> loaded module, to load them
    once for a study."""
    import time

    from .solve import solve_collective

    values = {**model.parameters, **(values or {})}
    h, system, state, physical = _prepare(model, n_sites, values, polarization, tilt)
    modules = {c: (modules or {}).get(c) or _closure_module(model, c) for c in closures}
    t = np.linspace(0.0, t_end, points)
    start = time.perf_counter()
    run = solve_collective(h, state, t, parameters=physical, field=model.field, second_moments=True,
                           frame=tuple(-x for x in model.field), rtol=rtol, atol=atol, diagonal_picture=True)
    seconds = time.perf_counter() - start
    m, g = run.m0, run.collective.G
    gh = system.gamma * system.hbar
    module_values = {"gamma_abs": abs(system.gamma), "hbar": system.hbar, "V": system.volume,
                     "N": float(n_sites), **{k: v for k, v in _physical(model, values, n_sites).items()},
                     **dict(zip(("Hx", "Hy", "Hz"), model.field))}
    out = {}
    cache: dict[tuple, float] = {}
    for closure, mod in modules.items():
        y0 = []
        for s in mod.STATE:
            word = tuple(_AX.index(ch) for ch in s[1:])
            if word not in cache:
                cache[word] = (m[word[0], 0] if len(word) == 1 else g[word[0], word[1], 0] if len(word) == 2
                               else _initial_value(state, word))
            y0.append(cache[word])
        args = tuple(module_values[p] for p in mod.PARAMETERS)
        y = _integrate_closure(mod, y0, t, args, rtol, atol, bound=abs(gh) * n_sites / (2 * system.volume))
        mm = y[:3]
        index = {s: i for i, s in enumerate(mod.STATE)}
        gg = None
        if "Gxx" in index:
            gg = np.array([[y[index["G" + "".join(sorted(_AX[a] + _AX[b]))]] for b in range(3)]
                           for a in range(3)])
        err = np.abs(mm - m).max(axis=0) / np.linalg.norm(m[:, 0])
        g_err = None if gg is None else np.abs(gg - g).max(axis=(0, 1)) / np.abs(g[:, :, 0]).max()
        real = _realizability(mm, gg, n_sites, system.volume, gh, rtol)
        out[closure] = Trajectory(mm, gg, err, g_err, real)
    return ClosureRun(model.name, n_sites, dict(values), t, m, g, out,
                      _realizability(m, g, n_sites, system.volume, gh, rtol), run.collective.neglected_weight,
                      seconds)


#: most right-hand sides of one closure integration; a closure that blows up (the cumulant closures can,
#: at small N and strong coupling) sends DOP853 crawling towards the singularity instead of failing
MAX_CLOSURE_EVALUATIONS = 30_000


class _Diverged(Exception):
    """A closure's integration stopped: out of its budget of right-hand sides."""


def _integrate_closure(mod, y0, t: np.ndarray, args: tuple, rtol: float, atol: float, bound: float
                       ) -> np.ndarray:
    """The closure's state at the times t; NaN from where it diverged: |M| beyond 10 times its bound
    (a terminal event) or more than MAX_CLOSURE_EVALUATIONS right-hand sides."""
    from scipy.integrate import solve_ivp

    calls = [0]

    def rhs(tt, y, *a):
        calls[0] += 1
        if calls[0] > MAX_CLOSURE_EVALUATIONS:
            raise _Diverged
        return mod.rhs(tt, y, *a)

    def escaped(tt, y, *a):
        return 10 * bound - math.sqrt(y[0] ** 2 + y[1] ** 2 + y[2] ** 2)

    escaped.terminal = True
    out = np.full((len(y0), t.size), np.nan)
    try:
        with np.errstate(all="ignore"):
            sol = solve_ivp(rhs, (float(t[0]), float(t[-1])), y0, t_eval=t, args=args, method="DOP853",
                            rtol=rtol, atol=atol, events=escaped)
    except _Diverged:
        return out
    k = sol.y.shape[1]
    out[:, :k] = sol.y
    if not sol.success:
        out[:, max(k - 1, 0):] = np.nan
    return out


@dataclass(frozen=True)
class Fit:
    """error ~ x^p by least squares on log-log: the slope p, its standard error, the points used."""

    p: float
    sigma: float
    points: int


def fit_power(x: Sequence[float], err: Sequence[float], floor: float = 0.0) -> Fit:
    """The exponent of ``err`` against ``x`` over the points above ``floor`` (the accuracy of the
    runs): slope and standard error of the least-squares line in log-log (NaN with < 3 points)."""
    x, err = np.asarray(x, dtype=float), np.asarray(err, dtype=float)
    keep = np.isfinite(err) & (err > floor)
    if keep.sum() < 2:
        return Fit(math.nan, math.nan, int(keep.sum()))
    from scipy.stats import linregress

    line = linregress(np.log(x[keep]), np.log(err[keep]))
    # two points fit exactly: linregress's standard error is then 0, not a measure of anything
    return Fit(float(line.slope), float(line.stderr) if keep.sum() > 2 else math.nan, int(keep.sum()))


@dataclass(frozen=True)
class ClosureStudy:
    """Closure errors over a grid of N and one named parameter: ``errors[closure]`` has shape
    (len(values), len(spins)), the largest error in M over the run; fits in N (one per value) and in
    the parameter (one per N), points under ``floor`` left out."""

    model: str
    parameter: str | None
    values: tuple[float, ...]
    spins: tuple[int, ...]
    closures: tuple[str, ...]
    runs: tuple[ClosureRun, ...]
    errors: dict[str, np.ndarray]
    floor: float
    setup: dict

    def fit_in_n(self, closure: str, i_value: int) -> Fit:
        return fit_power(self.spins, self.errors[closure][i_value], self.floor)

    def fit_in_parameter(self, closure: str, i_n: int) -> Fit:
        return fit_power(self.values, self.errors[closure][:, i_n], self.floor)

    def realizable(self, closure: str) -> bool:
        return all(r.closures[closure].realizability.realizable for r in self.runs)


def check_spins(spins) -> tuple[int, ...]:
    """A list of distinct spin numbers 1..MAX_STUDY_SPINS, sorted."""
    try:
        out = [int(s) for s in spins]
    except (TypeError, ValueError):
        raise SymmagInputError(f"the numbers of spins must be integers, got {spins!r}") from None
    if not out or any(isinstance(s, bool) or s != int(s) for s in spins):
        raise SymmagInputError(f"give at least one integer number of spins, got {spins!r}")
    if any(not 1 <= s <= MAX_STUDY_SPINS for s in out):
        raise SymmagInputError(f"numbers of spins must be 1..{MAX_STUDY_SPINS}, got {out}")
    if len(set(out)) != len(out):
        raise SymmagInputError(f"a number of spins is given twice: {out}")
    return tuple(sorted(out))


def closure_study(model: CollectiveModel, spins: Sequence[int], parameter: str | None = None,
                  values: Sequence[float] = (), closures: Sequence[str] = tuple(CLOSURE_SUFFIX), *,
                  fixed: dict | None = None, t_end: float = 2 * math.pi, points: int = 41,
                  polarization: float = 0.5, tilt: float = 0.5, rtol: float = 1e-10, atol: float = 1e-12,
                  progress=None) -> ClosureStudy:
    """The error map: :func:`closure_run` at every N in ``spins`` and every value of ``parameter``
    (per spin where the model says so), other parameters from ``fixed`` and the model's defaults.
    Every run is prepared and checked before the first integration.  ``progress(i, total)``."""
    spins = check_spins(spins)
    unknown = [c for c in closures if c not in CLOSURE_SUFFIX]
    if unknown or not closures:
        raise SymmagInputError(f"unknown closure(s) {unknown}; choose from {', '.join(CLOSURE_SUFFIX)}")
    base = {**model.parameters, **(fixed or {})}
    grid = [None] if parameter is None else list(values)
    if parameter is not None and not grid:
        raise SymmagInputError(f"give values for the parameter {parameter}")
    for v in grid:
        if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v)):
            raise SymmagInputError(f"{parameter} must be finite numbers, got {v!r}")
    for v in base.values():
        if not (isinstance(v, (int, float)) and math.isfinite(v)):
            raise SymmagInputError(f"parameter values must be finite numbers, got {v!r}")
    modules = {c: _closure_module(model, c) for c in closures}  # they exist and load: before integrating
    for n in spins[:1] + spins[-1:]:
        for v in grid:
            _prepare(model, n, base if v is None else {**base, parameter: v}, polarization, tilt)
    runs, errors = [], {c: np.zeros((len(grid), len(spins))) for c in closures}
    total = len(grid) * len(spins)
    for i, v in enumerate(grid):
        for k, n in enumerate(spins):
            r = closure_run(model, n, base if v is None else {**base, parameter: v}, closures, t_end, points,
                            polarization, tilt, rtol, atol, modules)
            runs.append(r)
            for c in closures:
                e = r.closures[c].error  # NaN from where the closure diverged: an infinite error
                errors[c][i, k] = float(e.max()) if np.all(np.isfinite(e)) else math.inf
            if progress is not None:
                progress(len(runs), total)
    setup = {"t_end": t_end, "points": points, "polarization": polarization, "tilt": tilt, "rtol": rtol,
             "field": model.field, **{k: v for k, v in base.items() if k != parameter}}
    # the runs' own accuracy: errors below ~100 rtol are the integrators', not the closure's
    return ClosureStudy(model.name, parameter, tuple(float(v) for v in grid) if parameter else (),
                        spins, tuple(closures), tuple(runs), errors, 100 * rtol, setup)


def study_table(study: ClosureStudy, model: CollectiveModel | None = None) -> str:
    """The error map as text: one block per parameter value, one column per N, then the fits."""
    per = model is not None and study.parameter in model.per_spin
    pname = f"{study.parameter}*N" if per else study.parameter
    others = "".join(f", {k} = {v:.4g}" for k, v in study.setup.items()
                     if k not in ("t_end", "points", "polarization", "tilt", "rtol", "field"))
    lines = [f"{study.model}: largest error in M over t in [0, {study.setup['t_end']:.4g}], "
             f"max_a |dM^a|/|M(0)| (V = N, hbar = 1, gamma = -1, polarization "
             f"{study.setup['polarization']:.3g}, tilt {study.setup['tilt']:.3g}, field "
             f"{tuple(study.setup['field'])}{others})"]
    head = "N".rjust(14) + "".join(f"{n:>10d}" for n in study.spins) + "   p_N (error ~ N^p)"
    for i, v in enumerate(study.values or (None,)):
        lines.append("" if v is None else f"{pname} = {v:.4g}")
        lines.append(head)
        for c in study.closures:
            fit = study.fit_in_n(c, i)
            row = "".join(f"{e:10.2e}" for e in study.errors[c][i])
            lines.append(f"{c:>14}{row}   {_fit_text(fit)}")
    if study.parameter and len(study.values) > 1:
        lines.append(f"exponent in {study.parameter} (error ~ {study.parameter}^q) at each N:")
        lines.append("N".rjust(14) + "".join(f"{n:>16d}" for n in study.spins))
        for c in study.closures:
            lines.append(f"{c:>14}" + "".join(f"{_fit_text(study.fit_in_parameter(c, k)):>16}"
                                              for k in range(len(study.spins))))
    lines.append(f"(errors below {study.floor:.0e}, the runs' accuracy, are left out of the fits)")
    lines.append("realizability, worst over the parameter values at each N: max |M|/bound - 1 (> 0: |M| "
                 "beyond |gamma| hbar N/2V) / min eigenvalue of Cov + i<[M0^a, M0^b]>/2 per spin in (gamma "
                 "hbar/2)^2 (< 0: no state has these moments):")
    lines.append("N".rjust(14) + "".join(f"{n:>20d}" for n in study.spins) + "   Casimir drift")
    by_n = {n: [r for r in study.runs if r.n_sites == n] for n in study.spins}
    for c in (*study.closures, "exact"):
        cells, drift = [], 0.0
        for n in study.spins:
            rs = [r.exact if c == "exact" else r.closures[c].realizability for r in by_n[n]]
            over = max(r.m_ratio for r in rs) - 1
            unc = [r.uncertainty_min for r in rs if not math.isnan(r.uncertainty_min)]
            cells.append(f"{over:+.1e}/{min(unc):+.1e}" if unc else f"{over:+.1e}/     -")
            drift = max(drift, *(r.casimir_drift for r in rs))
        flag = "" if c == "exact" else ("  ok" if study.realizable(c) else "  NOT REALIZABLE")
        lines.append(f"{c:>14}" + "".join(f"{x:>20}" for x in cells) + f"   {drift:.1e}{flag}")
    lines.append(f"(tolerance 10 rtol N per spin; exact runs: neglected weight "
                 f"{max(r.neglected_weight for r in study.runs):.1e}, "
                 f"{sum(r.seconds for r in study.runs):.0f} s in all)")
    return "\n".join(lines)


def _fit_text(fit: Fit) -> str:
    if not math.isfinite(fit.p):
        return "-"
    return f"{fit.p:.2f}" + (f" +- {fit.sigma:.2f}" if math.isfinite(fit.sigma) else "")


def plot_study(study: ClosureStudy, path, model: CollectiveModel | None = None) -> None:
    """The error map as a figure: error against N (every parameter value, one colour per closure) and,
    with more than one value, against the parameter at each N; parameters in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 2 if len(study.values) > 1 else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.0 * panels, 3.8), layout="constrained", squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    per = model is not None and study.parameter in model.per_spin
    pname = f"{study.parameter}N" if per else study.parameter
    ax = axes[0, 0]
    for ci, c in enumerate(study.closures):
        for i in range(len(study.values) or 1):
            e = study.errors[c][i]
            label = c if i == len(study.values or (None,)) - 1 else None
            alpha = 0.35 + 0.65 * (i + 1) / max(len(study.values), 1)
            ax.loglog(study.spins, np.maximum(e, 1e-16), "o-", color=colours[ci % len(colours)], alpha=alpha,
                      label=label, ms=3)
    ax.axhline(study.floor, color="grey", ls=":", lw=1)
    ax.set_xlabel("N (spins 1/2; V = N)")
    ax.set_ylabel(r"$\max_t \max_a |\delta M^a| / |M(0)|$")
    vals = ", ".join(f"{v:g}" for v in study.values)
    extra = f"\n({pname} = {vals}, darker = larger)" if vals else ""
    ax.set_title(f"{study.model}: error against N{extra}", fontsize="small")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="x-small")
    if panels == 2:
        ax = axes[0, 1]
        for ci, c in enumerate(study.closures):
            for k in range(len(study.spins)):
                ax.loglog(study.values, np.maximum(study.errors[c][:, k], 1e-16), "o-",
                          color=colours[ci % len(colours)], alpha=0.3 + 0.7 * (k + 1) / len(study.spins),
                          ms=3, label=c if k == len(study.spins) - 1 else None)
        ax.axhline(study.floor, color="grey", ls=":", lw=1)
        ax.set_xlabel(pname)
        ax.set_title(f"error against {pname} (darker = larger N)", fontsize="small")
        ax.grid(alpha=0.3, which="both")
    s = study.setup
    fig.suptitle(f"t in [0, {s['t_end']:.3g}], polarization {s['polarization']:.3g}, tilt {s['tilt']:.3g}, "
                 f"field {tuple(s['field'])}", fontsize="x-small")
    from ..atomic import replacing

    with replacing(path) as tmp:
        fig.savefig(tmp, dpi=130, format=Path(path).suffix.lstrip(".").lower() or None,
                    metadata={"Software": None} if str(path).endswith(".png") else None)
    plt.close(fig)


def user_model(path: str | Path) -> CollectiveModel:
    """A collective model from a Python file of the user's (trusted code, executed): ``HAMILTONIAN``
    (a symmag Op or SymPy operator expression, polynomial in M0), optional ``PARAMETERS`` (name ->
    default), ``PER_SPIN`` (names given times N) and ``FIELD`` (three numbers; default (0, 0, 1)).
    Its closures are generated by :func:`build_closures` (``folder`` set there)."""
    import importlib.util

    from ..algebra.operators import to_op

    path = Path(path)
    if not path.is_file():
        raise SymmagInputError(f"no model file {path}")
    spec = importlib.util.spec_from_file_location(f"symmag_compare_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's code: its failure is bad input, in one line
        raise SymmagInputError(f"{path} cannot be loaded: {type(exc).__name__}: {exc}") from exc
    if not hasattr(module, "HAMILTONIAN"):
        raise SymmagInputError(f"{path} defines no HAMILTONIAN (a polynomial in M0)")
    h = to_op(module.HAMILTONIAN)
    params = dict(getattr(module, "PARAMETERS", {}))
    per_spin = tuple(getattr(module, "PER_SPIN", ()))
    fld = tuple(float(x) for x in getattr(module, "FIELD", (0.0, 0.0, 1.0)))
    name = path.stem if path.stem.isidentifier() else "user_model"
    return CollectiveModel(name, h, name, params, per_spin, fld, f"{path}")


def build_closures(model: CollectiveModel, closures: Sequence[str], folder: str | Path) -> CollectiveModel:
    """Render the closures of ``model``'s Hamiltonian (:func:`derivations.models.closure_model`, NumPy
    backend of symmag.numeric.codegen) into ``folder``; the model with ``folder`` set."""
    from dataclasses import replace

    from ..numeric.codegen import generate

    models = _paper()
    h = model.operator()
    generate([models.closure_model(f"{model.prefix}_{CLOSURE_SUFFIX[c]}", h, c) for c in closures], folder,
             ("numpy",), command="symmag compare")
    return replace(model, folder=folder)


def check_model(model: CollectiveModel, n_sites: int, values: dict | None = None,
                polarization: float = 0.5, tilt: float = 0.5) -> None:
    """Translate and evaluate the model's Hamiltonian on ``n_sites`` spins at t = 0: the errors of
    :mod:`symmag.exact.solve` (not Hermitian, per-site, NaN, unknown symbol) before anything else."""
    _prepare(model, n_sites, {**model.parameters, **(values or {})}, polarization, tilt)
