"""Exact dynamics: the Liouville-von Neumann equation (1) on explicit matrices.

i hbar d rho/dt = [H(t, rho), rho], where the Hamiltonian may depend on the state
itself -- self-consistently, as both of the paper's interactions do through the
c-number magnetization M = <M>.  Full tensor-product space of a
:class:`~symmag.matrices.SpinSystem`; solved with DOP853 on the flattened density matrix.
For Hamiltonians built from collective operators, :mod:`symmag.collective` evolves the
total-spin sectors instead (N in the hundreds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.integrate import solve_ivp

Hamiltonian = Callable[[float, np.ndarray], np.ndarray]


def evolve(hamiltonian: Hamiltonian, rho0: np.ndarray, t_eval: Sequence[float], hbar: float = 1.0,
           rtol: float = 1e-10, atol: float = 1e-12) -> np.ndarray:
    """rho(t) at the times ``t_eval`` (from t_eval[0]), shape (T, d, d).
    ``hamiltonian(t, rho)`` may use rho (self-consistent fields)."""
    rho0 = np.asarray(rho0, dtype=complex)
    d = rho0.shape[0]
    if rho0.shape != (d, d):
        raise ValueError(f"rho0 must be a square matrix, got shape {rho0.shape}")
    t_eval = np.asarray(t_eval, dtype=float)

    def rhs(t, y):
        rho = y.reshape(d, d)
        h = hamiltonian(t, rho)
        return (-1j / hbar * (h @ rho - rho @ h)).ravel()

    sol = solve_ivp(rhs, (t_eval[0], t_eval[-1]), rho0.ravel(), t_eval=t_eval, method="DOP853",
                    rtol=rtol, atol=atol)
    if not sol.success:  # pragma: no cover - the solver says why
        raise RuntimeError(sol.message)
    return sol.y.T.reshape(-1, d, d)


def averages(operators: Sequence[np.ndarray], rhos: np.ndarray, volume: float = 1.0) -> np.ndarray:
    """<A>(t) = Tr{rho(t) A}/V (5) for each operator, shape (len(operators), T)."""
    return np.array([np.einsum("tij,ji->t", rhos, a).real / volume for a in operators])
