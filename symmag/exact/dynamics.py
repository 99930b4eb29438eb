"""Exact dynamics: the Liouville-von Neumann equation (1) on explicit matrices.

i hbar d rho/dt = [H(t, rho), rho], where the Hamiltonian may depend on the state
itself -- self-consistently, as both of the paper's interactions do through the
c-number magnetization M = <M>.  Full tensor-product space of a
:class:`~symmag.algebra.matrices.SpinSystem`; solved with DOP853 on the flattened density matrix.
For Hamiltonians built from collective operators, :mod:`symmag.exact.collective` evolves the
total-spin sectors instead (N in the hundreds).  A symbolic Hamiltonian (per-site or collective)
becomes the callback here through :func:`symmag.exact.solve.to_full_space`.

Inputs are checked before the integration: a finite square ρ₀ of dimension at most
:data:`MAX_DIMENSION`, at most :data:`MAX_TIMES` finite increasing times, ħ > 0, rtol ≥
:data:`MIN_RTOL` and atol > 0; the integration stops with a clear error after
``max_evaluations`` right-hand sides (default :data:`MAX_EVALUATIONS`), and a Hamiltonian
callback that raises or returns a wrong shape is one :class:`SymmagInputError`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np
from scipy.integrate import solve_ivp

from ..errors import SymmagInputError

Hamiltonian = Callable[[float, np.ndarray], np.ndarray]

#: Largest dimension of ρ: DOP853 keeps about 15 copies of it (1024: 10 spins 1/2, 250 MB).
MAX_DIMENSION = 1024
#: Most output times (each stores one ρ: T d² complex numbers).
MAX_TIMES = 100_000
#: Smallest relative tolerance: below 100 machine epsilons DOP853 silently raises it.
MIN_RTOL = 100 * float(np.finfo(float).eps)
#: Default budget of right-hand-side evaluations (12 per DOP853 step): the tests use at most
#: about 1400; one evaluation of a 2x2 system costs about 0.2 ms.
MAX_EVALUATIONS = 100_000


class _Budget(Exception):
    """Raised inside the integrator to stop it; turned into a SymmagInputError outside."""


def _positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or value <= 0:
        raise SymmagInputError(f"{name} must be a finite positive number, got {value!r}")
    return float(value)


def evolve(hamiltonian: Hamiltonian, rho0: np.ndarray, t_eval: Sequence[float], hbar: float = 1.0,
           rtol: float = 1e-10, atol: float = 1e-12,
           max_evaluations: int = MAX_EVALUATIONS,
           progress: Callable[[float, float], None] | None = None) -> np.ndarray:
    """rho(t) at the times ``t_eval`` (from t_eval[0]), shape (T, d, d).
    ``hamiltonian(t, rho)`` may use rho (self-consistent fields); ``progress(t, t_end)`` is
    called as the integration advances (e.g. :meth:`symmag.progress.Progress.time`)."""
    if not callable(hamiltonian):
        raise SymmagInputError("hamiltonian must be a callable (t, rho) -> matrix")
    shape = np.shape(rho0)  # checked before any copy is made
    if len(shape) != 2 or shape[0] != shape[1]:
        raise SymmagInputError(f"rho0 must be a square matrix, got shape {shape}")
    d = shape[0]
    if d > MAX_DIMENSION:
        raise SymmagInputError(
            f"rho0 of dimension {d} exceeds the limit symmag.exact.dynamics.MAX_DIMENSION = {MAX_DIMENSION}")
    try:
        rho0 = np.asarray(rho0, dtype=complex)
        t_eval = np.asarray(t_eval, dtype=float)
    except (TypeError, ValueError):
        raise SymmagInputError("rho0 must be a numeric matrix and t_eval real times") from None
    if not np.all(np.isfinite(rho0)):
        raise SymmagInputError("rho0 must be finite")
    if t_eval.ndim != 1 or t_eval.size < 1 or not np.all(np.isfinite(t_eval)) \
            or np.any(np.diff(t_eval) <= 0):
        raise SymmagInputError(f"t_eval must be 1-d, increasing and finite, got shape {t_eval.shape}")
    if t_eval.size > MAX_TIMES:
        raise SymmagInputError(
            f"{t_eval.size} output times exceed the limit symmag.exact.dynamics.MAX_TIMES = {MAX_TIMES}")
    hbar, atol = _positive(hbar, "hbar"), _positive(atol, "atol")
    rtol = _positive(rtol, "rtol")
    if not MIN_RTOL <= rtol < 1:
        raise SymmagInputError(
            f"rtol must be in [symmag.exact.dynamics.MIN_RTOL = {MIN_RTOL:.3g}, 1), got {rtol!r}")
    if isinstance(max_evaluations, bool) or not isinstance(max_evaluations, numbers.Integral) \
            or max_evaluations < 1:
        raise SymmagInputError(f"max_evaluations must be a positive integer, got {max_evaluations!r}")
    if t_eval.size == 1:
        return rho0[None].copy()
    calls = [0]

    def rhs(t, y):
        calls[0] += 1
        if calls[0] > max_evaluations:
            raise _Budget
        if progress is not None:
            progress(t, t_eval[-1])
        rho = y.reshape(d, d)
        try:
            h = np.asarray(hamiltonian(t, rho), dtype=complex)
        except SymmagInputError as exc:  # e.g. a coefficient of symmag.exact.solve: already one clear message
            raise SymmagInputError(f"hamiltonian(t, rho) at t = {t:.6g}: {exc}") from None
        except Exception as exc:  # a user callback: any failure is its own
            raise SymmagInputError(
                f"hamiltonian(t, rho) raised {type(exc).__name__} at t = {t:.6g}: {exc}") from exc
        if h.shape != (d, d) or not np.all(np.isfinite(h)):
            raise SymmagInputError(
                f"hamiltonian(t, rho) must return a finite {d}x{d} matrix, got shape {h.shape} "
                f"at t = {t:.6g}")
        return (-1j / hbar * (h @ rho - rho @ h)).ravel()

    try:
        sol = solve_ivp(rhs, (t_eval[0], t_eval[-1]), rho0.ravel(), t_eval=t_eval, method="DOP853",
                        rtol=rtol, atol=atol)
    except _Budget:
        raise SymmagInputError(
            f"the integration needs more than max_evaluations = {max_evaluations} right-hand sides; "
            "loosen rtol/atol or raise max_evaluations") from None
    if not sol.success:
        raise SymmagInputError(f"the integration failed: {sol.message}")
    return sol.y.T.reshape(-1, d, d)


def averages(operators: Sequence[np.ndarray], rhos: np.ndarray, volume: float = 1.0) -> np.ndarray:
    """<A>(t) = Tr{rho(t) A}/V (5) for each operator, shape (len(operators), T)."""
    volume = _positive(volume, "volume")
    rhos = np.asarray(rhos)
    if rhos.ndim != 3 or rhos.shape[1] != rhos.shape[2]:
        raise SymmagInputError(f"rhos must have shape (T, d, d), got {rhos.shape}")
    ops = list(operators)
    if any(tuple(getattr(a, "shape", ())) != rhos.shape[1:] for a in ops):
        raise SymmagInputError(f"every operator must be a {rhos.shape[1]}x{rhos.shape[2]} matrix")
    return np.array([np.einsum("tij,ji->t", rhos, a).real / volume for a in ops])
