"""From a symbolic Hamiltonian to the exact solvers: one input language (issue #14, item 1).

The Hamiltonian that :func:`symmag.theory.dterm.dterm` and :func:`symmag.theory.hierarchy.hierarchy`
take -- an
:class:`~symmag.algebra.su2.Op` (or a SymPy operator expression, converted by
:func:`symmag.algebra.operators.to_op`) -- is translated here for the exact solvers:

* :func:`to_collective`: a polynomial in M̂₀ becomes the callback ``(t, M) -> {word: coefficient}``
  of :func:`symmag.exact.collective.evolve_collective` (total-spin sectors, large N);
* :func:`to_full_space`: a polynomial in M̂₀ and/or per-site Ŝᵢ (free sites placed by a
  ``site_map``, bound site sums over all N sites) becomes the callback ``(t, ρ) -> matrix`` of
  :func:`symmag.exact.dynamics.evolve`, with the matrix of every monomial built once;
* :func:`solve_collective`, :func:`solve_full_space`: translate, check at the first time, integrate,
  and return the self-consistent M(t) beside ⟨M̂₀⟩(t)/V (:class:`ExactRun`).

The c-number coefficients may depend on the time :data:`symmag.conventions.t`, on the
self-consistent magnetization M(t) (:data:`symmag.algebra.fields.M`), on H_eff(t)
(:data:`symmag.algebra.fields.H_eff`,
replaced by ``field``: three numbers or SymPy expressions in t and the parameters) and on named
``parameters``; ħ, γ, |γ|, V and N come from the solver's system.  They are compiled once
(``sympy.lambdify``) per translation.  The magnetization closing the loop is the paper's
M = ⟨M̂⟩/V (5) with the moment operator M̂ = -∂H/∂H_eff at fixed M (4) -- for the RSI, M̂ = M̂₀ + M̂_I
depends on M itself, and M is found by fixed-point iteration at every evaluation -- or the
operators given as ``moment``.

Bad input is one :class:`~symmag.errors.SymmagInputError` naming the term, before any integration:
a Hamiltonian that is not Hermitian (H - H† evaluated at the first time, and at every evaluation
when SymPy cannot show it zero), not polynomial in the operators (refused by ``to_op``), per-site
operators for the collective solver, a symbol without a value, and coefficients that evaluate to
NaN or inf (checked at every evaluation: the error names the term and the time).

May use: :mod:`symmag.algebra.su2`, :mod:`symmag.algebra.operators`, :mod:`symmag.algebra.fields`,
:mod:`symmag.conventions`, :mod:`symmag.algebra.matrices`, :mod:`symmag.exact.collective`,
:mod:`symmag.exact.dynamics`,
NumPy and SymPy -- never the derivations (the paper's models are passed in as operators).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..algebra.fields import H_eff, M, magnetic_moment
from ..algebra.matrices import SpinSystem
from ..algebra.su2 import Key, Op, key_str, nonzero_terms
from ..conventions import N, V, gamma, gamma_abs, hbar, t
from ..errors import SymmagInputError
from .collective import CollectiveResult, CollectiveState, CollectiveSystem, evolve_collective
from .dynamics import evolve

#: Most iterations of M = ⟨M̂(M)⟩/V at one time; the RSI's map is a contraction by λ₀ ≲ 0.5.
MAX_FIXED_POINT_ITERATIONS = 200
#: Relative size of H - H† (against the largest coefficient of H) that counts as not Hermitian.
HERMITIAN_TOLERANCE = 1e-12

_EPS = float(np.finfo(float).eps)
Field = Sequence[float | sp.Expr]


def _op(hamiltonian) -> Op:
    from ..algebra.operators import to_op  # refuses anything that is not a polynomial in the operators

    if not isinstance(hamiltonian, (Op, sp.Basic)):
        raise SymmagInputError(
            f"the Hamiltonian must be a symmag Op or a SymPy operator expression, got "
            f"{type(hamiltonian).__name__}")
    return to_op(hamiltonian)


def _label(k: Key) -> str:
    return key_str(k) or "1"


def _field_exprs(field: Field | None) -> dict | None:
    """H_eff(t) -> the given components (numbers or SymPy expressions in t and the parameters)."""
    if field is None:
        return None
    try:
        comps = tuple(field) if not isinstance(field, (str, bytes)) else ()
    except TypeError:
        comps = ()
    if len(comps) != 3:
        raise SymmagInputError(f"field must be 3 numbers or SymPy expressions, got {field!r}")
    out = {}
    for h, c in zip(H_eff, comps):
        if isinstance(c, bool) or not isinstance(c, (numbers.Real, sp.Expr)):
            raise SymmagInputError(
                f"a field component must be a real number or a SymPy expression, got {c!r}")
        if isinstance(c, numbers.Real) and not math.isfinite(c):
            raise SymmagInputError(f"a field component must be finite, got {c!r}")
        out[h] = sp.Float(c) if isinstance(c, float) else sp.sympify(c)
    return out


def _parameters(parameters: Mapping | None, fixed: Mapping[sp.Symbol, float]) -> dict[sp.Symbol, float]:
    """Named parameters (SymPy symbols, or their names) -> finite real or complex numbers."""
    if parameters is None:
        return {}
    if not isinstance(parameters, Mapping):
        raise SymmagInputError(
            f"parameters must be a mapping symbol -> number, got {type(parameters).__name__}")
    out: dict = {}
    for k, v in parameters.items():
        if not isinstance(k, (sp.Symbol, str)):
            raise SymmagInputError(f"a parameter is a SymPy symbol or its name, got {k!r}")
        if isinstance(v, bool) or not isinstance(v, numbers.Number) or not np.isfinite(v):
            raise SymmagInputError(f"parameter {k} must be a finite number, got {v!r}")
        if (k if isinstance(k, str) else k.name) in {s.name for s in fixed} or k == t:
            raise SymmagInputError(f"{k} is not a parameter: it comes from the system or the solver")
        out[k] = v
    return out


@dataclass(frozen=True, eq=False)
class _Compiled:
    """Coefficients c_k(t, M) of the monomials ``keys``, lambdified once."""

    keys: tuple[Key, ...]
    labels: tuple[str, ...]
    exprs: tuple[sp.Expr, ...]
    function: Callable
    depends_on_m: bool
    depends_on_t: bool

    def __call__(self, tt: float, mag: np.ndarray, values: tuple) -> np.ndarray:
        """The coefficients at (t, M); NaN or inf is an error naming the term (the caller adds t)."""
        try:
            with np.errstate(all="ignore"):
                raw = self.function(np.float64(tt), *(np.float64(x) for x in mag), *values)
            c = np.array([complex(x) for x in raw], dtype=complex)
        except (ArithmeticError, TypeError, ValueError) as exc:
            raise SymmagInputError(
                f"the coefficients cannot be evaluated ({type(exc).__name__}: {exc})"
                f"{self._at(mag)}") from None
        bad = np.flatnonzero(~np.isfinite(c))
        if bad.size:
            k = bad[0]
            raise SymmagInputError(
                f"the coefficient of the term {self.labels[k]}, {self.exprs[k]}, is {_number(c[k])}"
                f"{self._at(mag)}")
        return c

    def _at(self, mag: np.ndarray) -> str:
        """Where it was evaluated: M, when the coefficients depend on it."""
        return f" at M = {_show(mag)}" if self.depends_on_m else ""


def _number(z: complex) -> str:
    """A real number as real (nan, inf, 2.5), a complex one as complex."""
    return f"{z.real:.6g}" if z.imag == 0 else f"{z:.6g}"


def _show(mag: np.ndarray) -> str:
    return "(" + ", ".join(f"{x:.6g}" for x in mag) + ")"


class _Translator:
    """The substitutions shared by the Hamiltonian, its anti-Hermitian part and the moment:
    :meth:`prepare` every coefficient first (which resolves parameters given by name), then
    :meth:`compile` them all with one argument list."""

    def __init__(self, fixed: dict[sp.Symbol, float], parameters: Mapping | None, field: Field | None):
        self.fixed = fixed
        self.params = _parameters(parameters, fixed)
        self.field = _field_exprs(field)
        self.m = tuple(sp.Dummy(f"M{a}", real=True) for a in "xyz")
        self.named: dict[sp.Symbol, complex | float] = {k: v for k, v in self.params.items()
                                                         if isinstance(k, sp.Symbol)}
        self.by_name = {k: v for k, v in self.params.items() if isinstance(k, str)}
        self.used_names: set[str] = set()
        self.compiled = False

    def prepare(self, c: sp.Expr, label: str) -> sp.Expr:
        """A coefficient with M(t) -> dummies, H_eff(t) -> the field; unknown symbols refused."""
        c = sp.sympify(c)
        if c.has(sp.Derivative):
            raise SymmagInputError(f"the coefficient of the term {label}, {c}, depends on a time derivative: "
                                   "the exact solvers need H(t, M)")
        if any(c.has(h) for h in H_eff):
            if self.field is None:
                raise SymmagInputError(
                    f"the coefficient of the term {label}, {c}, depends on H_eff: pass field=")
            c = c.xreplace(self.field)
        c = c.xreplace(dict(zip(M, self.m)))
        unknown = []
        for s in sorted(c.free_symbols, key=str):
            if s in self.fixed or s in self.m or s == t or s in self.named:
                continue
            if s.name in self.by_name:  # a parameter given by its name
                self.named[s] = self.by_name[s.name]
                self.used_names.add(s.name)
                continue
            unknown.append(str(s))
        unknown += sorted(str(f) for f in c.atoms(sp.core.function.AppliedUndef))
        if unknown:
            hint = " (the time is symmag.conventions.t, a real symbol)" if "t" in unknown else ""
            raise SymmagInputError(
                f"the coefficient of the term {label}, {c}, depends on {', '.join(unknown)}, "
                f"which has no value: pass it in parameters={hint}")
        return c

    def finish(self) -> None:
        """After every coefficient is prepared: a parameter named by a string must have been used."""
        missing = sorted(set(self.by_name) - self.used_names)
        if missing:
            raise SymmagInputError(f"parameter(s) {', '.join(missing)} appear in no coefficient "
                                   "(give SymPy symbols to pass parameters that may be unused)")
        self.compiled = True

    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        """The lambdified arguments after t and M: the system's constants, then the parameters."""
        return (*self.fixed, *self.named)

    @property
    def values(self) -> tuple:
        return (*(np.float64(v) for v in self.fixed.values()),
                *(np.complex128(v) if isinstance(v, complex) else np.float64(v) for v in self.named.values()))

    def compile(self, terms: Mapping[Key, sp.Expr]) -> _Compiled:
        """Prepared coefficients by monomial, lambdified once."""
        assert self.compiled, "finish() first: the argument list must be complete"
        keys = tuple(terms)
        exprs = tuple(terms[k] for k in keys)
        free = set().union(*(e.free_symbols for e in exprs)) if exprs else set()
        f = sp.lambdify((t, *self.m, *self.symbols), list(exprs), "numpy", dummify=True)
        return _Compiled(keys, tuple(_label(k) for k in keys), exprs, f, bool(free & set(self.m)), t in free)


@dataclass(frozen=True, eq=False)
class Translation:
    """A symbolic Hamiltonian compiled for one system: its coefficients, the moment operator of the
    self-consistent loop and the check of Hermiticity.  ``fixed`` is True when nothing depends on t
    or M (:func:`symmag.exact.collective.evolve_collective` then propagates exactly)."""

    hamiltonian: Op
    terms: _Compiled
    moment: tuple[_Compiled, ...]  # M^a = Σ_k c_ak(t, M) Tr{ρ W_k}/V, the same keys for every a
    anti: _Compiled | None  # H - H†, when SymPy could not show it zero
    values: tuple
    volume: float

    @property
    def self_consistent(self) -> bool:
        return self.terms.depends_on_m

    @property
    def fixed(self) -> bool:
        return not (self.terms.depends_on_m or self.terms.depends_on_t)

    @property
    def moment_keys(self) -> tuple[Key, ...]:
        return self.moment[0].keys

    def magnetization(self, tt: float, averages: np.ndarray, guess: np.ndarray) -> np.ndarray:
        """M = Σ_k c_k(t, M) Tr{ρ W_k}/V (5), W_k the monomials of the moment operator and
        ``averages`` their Tr{ρ W_k}: by fixed-point iteration from ``guess`` when c depends on M."""
        mag = np.asarray(guess, dtype=float)
        for _ in range(MAX_FIXED_POINT_ITERATIONS):
            c = np.array([m(tt, mag, self.values) for m in self.moment])
            new = (c @ averages).real / self.volume
            if not np.all(np.isfinite(new)):
                raise SymmagInputError(f"M = <M-hat>/V is not finite ({_show(new)})")
            if not any(m.depends_on_m for m in self.moment) or \
                    np.linalg.norm(new - mag) <= 4 * _EPS * np.linalg.norm(new):
                return new
            mag = new
        raise SymmagInputError(
            f"M = <M-hat(M)>/V did not converge in {MAX_FIXED_POINT_ITERATIONS} iterations (last "
            f"M = {_show(mag)}): the coupling of M to itself is too strong for a fixed point")

    def coefficients(self, tt: float, mag: np.ndarray) -> np.ndarray:
        """The coefficients of the terms at (t, M), checked finite and Hermitian."""
        c = self.terms(tt, mag, self.values)
        if self.anti is not None:
            d = self.anti(tt, mag, self.values)
            worst = int(np.argmax(np.abs(d)))
            if abs(d[worst]) > HERMITIAN_TOLERANCE * max(np.abs(c).max(initial=0.0), 1e-300):
                raise SymmagInputError(
                    f"the Hamiltonian is not Hermitian: H - H^dagger has the term {self.anti.labels[worst]} "
                    f"with coefficient {_number(d[worst])} ({self.anti.exprs[worst]}){self.anti._at(mag)}; "
                    "declare c-number symbols real=True and symmetrize products of noncommuting factors")
        return c

    def check_first(self, tt: float, averages: np.ndarray, guess: np.ndarray) -> np.ndarray:
        """M and the coefficients at the first time, with errors naming that time."""
        try:
            mag = self.magnetization(tt, averages, guess)
            self.coefficients(tt, mag)
        except SymmagInputError as exc:
            raise SymmagInputError(f"at t = {tt:.6g}: {exc}") from None
        return mag


def _translate(hamiltonian, fixed: dict, parameters, field, moment, volume: float,
               allowed: Callable[[Key], bool], what: str) -> Translation:
    h = _op(hamiltonian)
    for k in h.terms:
        if not allowed(k):
            raise SymmagInputError(f"the term {_label(k)} of the Hamiltonian {what}")
    if moment is None:  # (4): -dH/dH_eff at fixed M, taken before H_eff is replaced by the field
        moment_ops = magnetic_moment(h)
    else:
        if isinstance(moment, (str, bytes, Op)) or not isinstance(moment, Sequence) or len(moment) != 3:
            raise SymmagInputError("moment must be a sequence of three operators")
        moment_ops = tuple(_op(x) for x in moment)
    keys = sorted({k for x in moment_ops for k in x.terms}, key=_label)
    for k in keys:
        if not allowed(k):
            raise SymmagInputError(f"the term {_label(k)} of the moment operator {what}")
    tr = _Translator(fixed, parameters, field)
    terms = {k: tr.prepare(c, _label(k)) for k, c in h.terms.items()}
    anti = {k: sp.expand(tr.prepare(c, _label(k))) for k, c in nonzero_terms(h - h.adjoint()).items()}
    anti = {k: c for k, c in anti.items() if c != 0}  # SymPy could not show these zero
    moments = [{k: tr.prepare(x.terms.get(k, sp.S.Zero), _label(k)) for k in keys} for x in moment_ops]
    tr.finish()
    return Translation(h, tr.compile(terms), tuple(tr.compile(m) for m in moments),
                       tr.compile(anti) if anti else None, tr.values, volume)


# -- the collective solver -------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CollectiveHamiltonian:
    """The callback ``(t, M) -> {word: coefficient}`` of :func:`symmag.exact.collective.evolve_collective`,
    M = ⟨M̂₀⟩/V as the solver passes it; the self-consistent M of (5) is found from it."""

    translation: Translation
    system: CollectiveSystem
    words: tuple[tuple[int, ...], ...]

    def averages(self, m0: np.ndarray) -> np.ndarray:
        """Tr{ρ W_k} of the moment's monomials (1 or one M̂₀ᵃ) from M₀ = ⟨M̂₀⟩/V (Tr ρ = 1)."""
        v = self.system.volume
        return np.array([1.0 if not k else v * m0[k[1][0]] for k in self.translation.moment_keys])

    def magnetization(self, tt: float, m0: np.ndarray) -> np.ndarray:
        return self.translation.magnetization(tt, self.averages(m0), m0)

    def polynomial(self, tt: float, mag: np.ndarray) -> dict[tuple[int, ...], complex]:
        c = self.translation.coefficients(tt, mag)
        return dict(zip(self.words, c))

    def __call__(self, tt: float, m0: np.ndarray) -> dict[tuple[int, ...], complex]:
        return self.polynomial(tt, self.magnetization(tt, m0))


def _collective_key(k: Key) -> bool:
    return not k or k[0] == "M"


def to_collective(hamiltonian, system: CollectiveSystem, *, parameters: Mapping | None = None,
                  field: Field | None = None, moment: Sequence | None = None) -> CollectiveHamiltonian:
    """The symbolic ``hamiltonian`` (a polynomial in M̂₀) for :func:`symmag.exact.collective.evolve_collective`
    on ``system``: ħ, γ, |γ|, V and N from it; ``field`` replaces H_eff(t); ``moment`` (default: (4))
    closes M = ⟨M̂⟩/V and must be affine in M̂₀ here (the solver passes ⟨M̂₀⟩ only)."""
    if not isinstance(system, CollectiveSystem):
        raise SymmagInputError(f"system must be a CollectiveSystem, got {type(system).__name__}")
    fixed = {hbar: system.hbar, gamma: system.gamma, gamma_abs: abs(system.gamma), V: system.volume,
             N: system.n_sites}
    tr = _translate(hamiltonian, fixed, parameters, field, moment, system.volume, _collective_key,
                    "is per-site: the collective solver needs a polynomial in M0 (use to_full_space)")
    if any(k and len(k[1]) > 1 for k in tr.moment_keys):
        bad = next(k for k in tr.moment_keys if k and len(k[1]) > 1)
        raise SymmagInputError(f"the moment operator has the term {_label(bad)}: the collective solver "
                               "closes M = <M-hat>/V from <M0> only (M-hat affine in M0)")
    words = tuple(k[1] if k else () for k in tr.terms.keys)
    return CollectiveHamiltonian(tr, system, words)


@dataclass(frozen=True, eq=False)
class ExactRun:
    """Exact dynamics of a symbolic Hamiltonian: the self-consistent M(t) = ⟨M̂⟩/V (5) and
    ⟨M̂₀⟩(t)/V, shape (3, T) each, with the solver's own record."""

    t: np.ndarray
    M: np.ndarray
    m0: np.ndarray
    collective: CollectiveResult | None = None
    rho: np.ndarray | None = None  # (T, d, d), full space


def solve_collective(hamiltonian, state: CollectiveState, t_eval: Sequence[float], *,
                     parameters: Mapping | None = None, field: Field | None = None,
                     moment: Sequence | None = None, **options) -> ExactRun:
    """Translate ``hamiltonian`` (:func:`to_collective`), check it at t_eval[0] on ``state``, then
    :func:`symmag.exact.collective.evolve_collective` (``options``: frame, second_moments, observables,
    rtol, atol, max_steps, diagonal_picture, integrator, support_tolerance).  A Hamiltonian without t- or
    M-dependence is handed over as a fixed polynomial, which the solver propagates exactly per sector."""
    if not isinstance(state, CollectiveState):
        raise SymmagInputError(f"state must be a CollectiveState, got {type(state).__name__}")
    ch = to_collective(hamiltonian, state.system, parameters=parameters, field=field, moment=moment)
    t = _times(t_eval)
    m_first = np.array([state.expectation({(a,): 1.0}).real for a in range(3)])
    mag = ch.translation.check_first(float(t[0]), ch.averages(m_first), m_first)
    run = ch.polynomial(float(t[0]), mag) if ch.translation.fixed else ch
    result = evolve_collective(run, state, t, **options)
    mags = np.array([ch.magnetization(float(tt), result.M[:, i]) for i, tt in enumerate(result.t)]).T
    return ExactRun(result.t, mags, result.M, collective=result)


def _times(t_eval) -> np.ndarray:
    try:
        t = np.asarray(t_eval, dtype=float)
    except (TypeError, ValueError):
        raise SymmagInputError("t_eval must be a sequence of real times") from None
    if t.ndim != 1 or t.size < 1 or not np.all(np.isfinite(t)):
        raise SymmagInputError(f"t_eval must be a 1-d sequence of finite times, got shape {t.shape}")
    return t


# -- the full tensor-product space ------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class FullSpaceHamiltonian:
    """The callback ``(t, ρ) -> H`` of :func:`symmag.exact.dynamics.evolve`: H = Σ_k c_k(t, M) W_k with the
    matrices W_k of the monomials built once, M = ⟨M̂⟩/V of ρ (5)."""

    translation: Translation
    system: SpinSystem
    matrices: np.ndarray  # (K, d, d), the Hamiltonian's monomials
    moment_matrices: np.ndarray  # (K', d, d), the moment's monomials
    collective: np.ndarray  # (3, d, d), M̂₀ for the first guess of M

    def m0(self, rho: np.ndarray) -> np.ndarray:
        return np.einsum("ij,aji->a", rho, self.collective).real / self.translation.volume

    def magnetization(self, tt: float, rho: np.ndarray) -> np.ndarray:
        averages = np.einsum("ij,kji->k", rho, self.moment_matrices)
        return self.translation.magnetization(tt, averages, self.m0(rho))

    def matrix(self, tt: float, mag: np.ndarray) -> np.ndarray:
        return np.tensordot(self.translation.coefficients(tt, mag), self.matrices, axes=1)

    def __call__(self, tt: float, rho: np.ndarray) -> np.ndarray:
        return self.matrix(tt, self.magnetization(tt, rho))


def to_full_space(hamiltonian, system: SpinSystem, *, parameters: Mapping | None = None,
                  field: Field | None = None, moment: Sequence | None = None,
                  site_map: Mapping | None = None, volume: float = 1.0) -> FullSpaceHamiltonian:
    """The symbolic ``hamiltonian`` (M̂₀ and/or per-site Ŝᵢ) on the full space of ``system`` for
    :func:`symmag.exact.dynamics.evolve`; ``site_map`` places each free site symbol on a site 0..N-1
    (needed when there are free sites), bound site sums run over all N sites."""
    if not isinstance(system, SpinSystem):
        raise SymmagInputError(f"system must be a SpinSystem, got {type(system).__name__}")
    if isinstance(volume, bool) or not isinstance(volume, numbers.Real) or not 0 < volume < math.inf:
        raise SymmagInputError(f"volume must be a finite positive number, got {volume!r}")
    fixed = {hbar: system.hbar, gamma: system.gamma, gamma_abs: abs(system.gamma), V: float(volume),
             N: system.n_sites}
    tr = _translate(hamiltonian, fixed, parameters, field, moment, float(volume), lambda k: True, "")
    places = _site_map(tr, system, site_map)
    mats = np.array([system.word(k, places) for k in tr.terms.keys]).reshape(-1, system.dim, system.dim)
    moms = np.array([system.word(k, places) for k in tr.moment_keys]).reshape(-1, system.dim, system.dim)
    coll = np.array([system.collective(a) for a in range(3)])
    return FullSpaceHamiltonian(tr, system, mats, moms, coll)


def _site_map(tr: Translation, system: SpinSystem, site_map: Mapping | None) -> dict:
    keys = [*tr.terms.keys, *tr.moment_keys]
    free = sorted({s for k in keys if k and k[0] == "S" for s, _ in k[1]}, key=lambda s: s.name)
    if not free:
        return {}
    if site_map is None:
        raise SymmagInputError(f"the Hamiltonian has the free sites {', '.join(map(str, free))}: pass "
                               "site_map={symbol: site index}")
    out = {}
    for s in free:
        i = site_map.get(s, site_map.get(s.name)) if isinstance(site_map, Mapping) else None
        if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not 0 <= i < system.n_sites:
            raise SymmagInputError(f"site_map must place {s} on a site 0..{system.n_sites - 1}, got {i!r}")
        out[s] = int(i)
    if len(set(out.values())) != len(out):
        raise SymmagInputError("distinct site symbols must go to distinct sites")
    return out


def solve_full_space(hamiltonian, system: SpinSystem, rho0: np.ndarray, t_eval: Sequence[float], *,
                     parameters: Mapping | None = None, field: Field | None = None,
                     moment: Sequence | None = None, site_map: Mapping | None = None, volume: float = 1.0,
                     **options) -> ExactRun:
    """Translate (:func:`to_full_space`), check at t_eval[0] on ρ₀, then :func:`symmag.exact.dynamics.evolve`
    (``options``: hbar is the system's; rtol, atol, max_evaluations, progress)."""
    fh = to_full_space(hamiltonian, system, parameters=parameters, field=field, moment=moment,
                       site_map=site_map, volume=volume)
    t = _times(t_eval)
    rho = np.asarray(rho0, dtype=complex)
    if rho.shape != (system.dim, system.dim):
        raise SymmagInputError(f"rho0 must have shape ({system.dim}, {system.dim}), got {rho.shape}")
    averages = np.einsum("ij,kji->k", rho, fh.moment_matrices)
    fh.translation.check_first(float(t[0]), averages, fh.m0(rho))
    rhos = evolve(fh, rho, t, hbar=system.hbar, **options)
    mags = np.array([fh.magnetization(float(tt), r) for tt, r in zip(t, rhos)]).T
    m0 = np.array([fh.m0(r) for r in rhos]).T
    return ExactRun(t, mags, m0, rho=rhos)
