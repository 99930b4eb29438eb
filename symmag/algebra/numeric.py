"""Small numeric tools for checking steps on explicit matrices.

Propagators are computed by a fine ODE solve (DOP853, rtol 1e-11), never by a
product formula, so a time-ordering question (eq. (13)) is answered
independently of how the paper writes it.  Units: hbar is whatever the
:class:`~symmag.algebra.matrices.SpinSystem` uses (1 in the checks).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import sympy as sp

from .matrices import SpinSystem
from .su2 import Op

Matrix = np.ndarray


def propagator(hamiltonian: Callable[[float], Matrix], t0: float, t1: float, hbar: float = 1.0,
               rtol: float = 1e-11, atol: float = 1e-12) -> Matrix:
    """U(t1, t0) with i hbar dU/dt = H(t) U, U(t0) = 1 (the Schrodinger propagator)."""
    dim = hamiltonian(t0).shape[0]

    def rhs(tt, y):
        u = y.reshape(dim, dim)
        return (-1j / hbar * hamiltonian(tt) @ u).ravel()

    from scipy.integrate import solve_ivp  # here: importing SciPy costs every check ~0.4 s

    sol = solve_ivp(rhs, (t0, t1), np.eye(dim, dtype=complex).ravel(), method="DOP853",
                    rtol=rtol, atol=atol)
    if not sol.success:  # pragma: no cover - the solver reports why
        raise RuntimeError(sol.message)
    return sol.y[:, -1].reshape(dim, dim)


def expm_hermitian(h: Matrix, factor: complex) -> Matrix:
    """exp(factor * h) for Hermitian h, through its eigenbasis (scipy's expm
    costs milliseconds even for 4x4 matrices on this machine)."""
    w, v = np.linalg.eigh(h)
    return (v * np.exp(factor * w)) @ v.conj().T


def ordered_exponential(hamiltonian: Callable[[float], Matrix], t0: float, t1: float, sign: float,
                        later_left: bool, hbar: float = 1.0, steps: int = 4000) -> Matrix:
    """Product formula for exp{sign (i/hbar) int_t0^t1 H} with the factors of
    later times to the left (``later_left``, time ordering) or to the right
    (anti-time ordering); midpoint rule, error O(steps^-2)."""
    dt = (t1 - t0) / steps
    out = np.eye(hamiltonian(t0).shape[0], dtype=complex)
    for n in range(steps):
        f = expm_hermitian(hamiltonian(t0 + (n + 0.5) * dt), sign * 1j / hbar * dt)
        out = f @ out if later_left else out @ f
    return out


def central_difference(f: Callable[[float], Matrix], t: float, h: float = 1e-4) -> Matrix:
    """df/dt at t, error O(h^4) (five-point stencil)."""
    return (-f(t + 2 * h) + 8 * f(t + h) - 8 * f(t - h) + f(t - 2 * h)) / (12 * h)


def time_dependent_matrix(op: Op, system: SpinSystem, functions: Mapping[sp.Expr, Callable],
                          values: Mapping[sp.Symbol, complex] | None = None,
                          time: sp.Symbol | None = None) -> Callable[[float], Matrix]:
    """t -> matrix of ``op``, whose coefficients depend on functions of time.

    ``functions`` maps each applied function f(t) to a Python callable of t
    (and may map Derivative(f(t), t) too); ``values`` fixes the constants."""
    from ..conventions import t as t_sym

    time = t_sym if time is None else time
    derivs = {k: v for k, v in functions.items() if isinstance(k, sp.Derivative)}
    plain = {k: v for k, v in functions.items() if not isinstance(k, sp.Derivative)}
    from ..conventions import N, gamma, hbar

    consts = {N: system.n_sites, hbar: system.hbar, gamma: system.gamma, **dict(values or {})}
    terms = []
    for k, c in op.terms.items():
        c = c.subs(consts)
        # replace derivatives first, so f(t) inside Derivative(f(t), t) is not touched
        dummies = {d: sp.Dummy() for d in [*derivs, *plain]}
        c = c.subs({d: dummies[d] for d in derivs}).subs({p: dummies[p] for p in plain})
        args = [dummies[d] for d in [*derivs, *plain]]
        f = sp.lambdify([time, *args], c, modules="numpy")
        terms.append((f, system.word(k, system.default_site_map(op))))
    callables = [*derivs.values(), *plain.values()]

    def at(tt: float) -> Matrix:
        vals = [g(tt) for g in callables]
        return sum(complex(f(tt, *vals)) * w for f, w in terms)

    return at


def random_density_matrix(dim: int, rng: np.random.Generator) -> Matrix:
    """A full-rank density matrix (Hermitian, positive, unit trace)."""
    a = rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))
    rho = a @ a.conj().T + 0.1 * np.eye(dim)
    return rho / np.trace(rho)
