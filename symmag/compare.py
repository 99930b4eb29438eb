"""Exact quantum dynamics against the derived magnetization equations (``symmag compare``).

The exact magnetization solves the Liouville-von Neumann equation (1) for a few spins
with the self-consistent Hamiltonian of each interaction -- the paper's, written once in
:mod:`derivations.models` and translated by :mod:`symmag.exact` (full tensor-product space,
:mod:`symmag.dynamics`); no Hamiltonian is typed here.  The derived equations are the
generated modules shipped with symmag, or those in ``folder`` when one is given
(:func:`symmag.simulate.load_model`: the same from any working directory).  Conventions:
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

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .matrices import SpinSystem
from .numeric import expm_hermitian, random_density_matrix

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
    from .algebra import M0
    from .conventions import gamma

    i0 = system.matrix(sum((M0(a) * float(r0[a]) for a in range(3)), M0(0) * 0) / gamma)
    rho = expm_hermitian(i0, -beta)
    return rho / np.trace(rho)


def _load(name: str, folder: str | Path | None):
    """A generated module: in ``folder``, or with None among the models shipped with symmag."""
    from .simulate import load_model

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
    (:func:`derivations.models.rsi_dimensionless`), run by :func:`symmag.exact.solve_full_space`:
    the moment operator M_hat = -dH/dH_eff = M0 + M_I (4) at fixed M, and M = <M_hat> solved by
    fixed-point iteration at each instant -- not taken from the derivation."""
    from scipy.integrate import solve_ivp

    from .exact import solve_full_space

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
    from .atomic import replacing

    with replacing(path) as tmp:  # never a half-written plot in place of the old one
        fig.savefig(tmp, dpi=150, format=Path(path).suffix.lstrip(".").lower() or None,
                    metadata={"Software": None} if str(path).endswith(".png") else None)
    plt.close(fig)
