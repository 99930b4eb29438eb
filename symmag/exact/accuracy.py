"""How good is each truncation of the Sec. IV hierarchy?  Compare with exact dynamics.

The spin-spin model (63) with its self-consistent coupling J^{ab} = lambda M^a M^b,
M = <M0> (M_I = 0, V = 1), in a static field H_z z:  H = -M0 . H_eff + (lambda/gamma^2)
(M . M0)^2, written once (:func:`derivations.models.spin_spin_hamiltonian`).  The exact
magnetization comes from the Liouville-von Neumann equation on that operator
(:func:`symmag.exact.solve.solve_full_space`); the approximations integrate closed SymPy systems:

* ``lowest order``: the paper's choice, G^{ab} frozen at its initial value (72)-(76);
* ``mean field``: every moment factorized (:func:`symmag.theory.closures.mean_field`);
* ``cumulant 2``: third cumulants dropped (:func:`symmag.theory.closures.cumulant_expansion`).
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp

from ..algebra.expectation import correlation_symbol, moment_average
from ..algebra.fields import H_eff, M
from ..algebra.matrices import SpinSystem
from ..algebra.su2 import Op
from ..conventions import V, gamma, hbar
from ..theory.closures import cumulant_expansion, mean_field
from ..theory.hierarchy import correlation_rate, symmetrized_operator
from .solve import solve_full_space

#: the coupling of (63): equal to derivations.printed.lam (SymPy symbols are equal by name and assumptions)
LAMBDA = sp.Symbol("lambda", real=True)


def spin_spin_hamiltonian() -> Op:
    """H = -M0 . H_eff + (lambda/gamma^2)(M . M0)^2 (63): :func:`derivations.models.spin_spin_hamiltonian`,
    the one definition (imported here when needed: the derivations build on symmag)."""
    from derivations.models import spin_spin_hamiltonian as paper

    return paper()


def spin_spin_systems() -> dict[str, dict[sp.Symbol, sp.Expr]]:
    """The truncations of the hierarchy for the spin-spin model, as closed SymPy systems
    {correlation symbol: rate} in the field H_eff, gamma, hbar, V and LAMBDA; the c-number
    M of the coupling is left as M (set M = <M0>/V to close the loop).  In "lowest order"
    the two-point functions G^{ab} stay free symbols: frozen at their initial values."""
    h = spin_spin_hamiltonian()
    return {
        "lowest order": {correlation_symbol((a,)): correlation_rate((a,), h) for a in range(3)},
        "mean field": mean_field(h, 1),
        "cumulant 2": cumulant_expansion(h, 2),
    }


def initial_correlations(system: SpinSystem, rho0: np.ndarray, order: int = 3) -> dict[tuple, float]:
    """The correlations of rho0 up to ``order``, by word (sorted axes): m^a for one index,
    G^w = 2^(n-1) <W(w)> (Weyl-ordered, V = 1) for n indices -- the symbols' convention; W(w) is
    :func:`symmag.theory.hierarchy.symmetrized_operator` on the matrices of ``system``."""
    return {w: (2 ** (len(w) - 1) if len(w) > 1 else 1) *
            np.trace(rho0 @ system.matrix(symmetrized_operator(w))).real
            for n in range(1, order + 1) for w in itertools.combinations_with_replacement(range(3), n)}


def spin_spin_exact(system: SpinSystem, rho0: np.ndarray, lam: float, h_z: float,
                    t: np.ndarray, progress=None) -> np.ndarray:
    """Exact M(t) = <M0>(t), shape (3, T), of the self-consistent spin-spin model (V = 1): the
    symbolic Hamiltonian through :func:`symmag.exact.solve.solve_full_space`."""
    return solve_full_space(spin_spin_hamiltonian(), system, rho0, t, parameters={LAMBDA: lam},
                            field=(0.0, 0.0, h_z), progress=progress).M


def spin_spin_errors(system: SpinSystem, rho0: np.ndarray, lam: float, h_z: float,
                     t: np.ndarray) -> dict[str, np.ndarray]:
    """max_a |M^a_approx(t) - M^a_exact(t)| for each approximation, on the times t."""
    exact = spin_spin_exact(system, rho0, lam, h_z, t)
    init = {correlation_symbol(w): v for w, v in initial_correlations(system, rho0).items()}
    m = moment_average()
    subs = {hbar: system.hbar, gamma: system.gamma, V: 1.0, LAMBDA: lam, **dict(zip(M, m)),
            H_eff[0]: 0, H_eff[1]: 0, H_eff[2]: h_z}
    frozen = {correlation_symbol((a, b)): init[correlation_symbol((a, b))]
              for a in range(3) for b in range(a, 3)}
    systems = spin_spin_systems()
    systems["lowest order"] = {k: v.xreplace(frozen) for k, v in systems["lowest order"].items()}
    out = {}
    for name, system_eqs in systems.items():
        keys = list(system_eqs)
        f = sp.lambdify([keys], [sp.sympify(system_eqs[k]).xreplace(subs) for k in keys], "numpy")
        sol = solve_ivp(lambda _t, y, f=f: np.array(f(y), dtype=float), (t[0], t[-1]),
                        [init[k] for k in keys], t_eval=t, rtol=1e-10, atol=1e-12)
        out[name] = np.abs(sol.y[:3] - exact).max(axis=0)
    return out
