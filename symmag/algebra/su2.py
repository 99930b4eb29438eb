"""Exact SU(2) operator algebra in one canonical (Poincare-Birkhoff-Witt) form.

Two kinds of generators:

* the collective moment M0^a (eq. (6)), with [M0^a, M0^b] = i hbar gamma eps^{abc} M0^c (8);
* per-site spins S_i^a, with [S_i^a, S_j^b] = i hbar delta_ij eps^{abc} S_i^c, where the
  site i is a SymPy symbol ("free" site) or is summed over all N sites ("bound" site).

An :class:`Op` is a finite sum ``coefficient * monomial``.  Coefficients are
commutative SymPy expressions (c-numbers such as M, H_eff, lambda, functions of
t).  Monomials are kept in one canonical form, so that two operators are equal
iff their canonical forms are identical; :func:`same_operator` decides
equality that way and never calls ``simplify`` or ``.equals`` on operators.

Canonical monomials
-------------------
* ``()``                         -- the identity (c-number term);
* ``("M", word)``               -- M0^{w1} M0^{w2} ... with ``word`` sorted (x <= y <= z);
* ``("S", free, bound)``        -- a product over distinct sites.  ``free`` is a
  sorted tuple ``(symbol, word)``; ``bound`` a sorted tuple of words, each one a
  site summed over all sites distinct from each other and from the free sites:
  ``("S", ((i, (0,)),), ((1, 2),))`` is  sum_{k != i} S_i^x S_k^y S_k^z.

Conventions (see :mod:`symmag.conventions`): distinct site symbols label distinct
sites, so ``S(i, x) * S(j, y)`` with symbols i != j commutes; the Kronecker
delta of the defining relation appears when the same symbol is used.  Sums are
built with :func:`site_sum`, which splits a sum over all sites into the part
distinct from the other sites of the summand and the coincident parts, so no
information is lost.  An operator never mixes collective and per-site
monomials: when both would occur, M0^a is expanded as gamma sum_k S_k^a (6).

Why not ``sympy.physics.quantum`` alone: it has Operator, Commutator and a
per-class commutator hook (used in :mod:`symmag.algebra.operators` for the user-facing
symbols), but no canonical reordering of spin products (``normal_order`` is for
bosons and fermions), no product expansion of AntiCommutator, no sums over
symbolic sites, and its ``simplify``/``.equals`` are unreliable on
noncommutative expressions (SymPy #10892, #18178).

Limits: every product and reduction is bounded (:data:`MAX_DEGREE`, :data:`MAX_TERMS`,
:data:`MAX_PRODUCT_WORK`, :data:`MAX_REDUCTION_WORK`, :data:`MAX_POWER_SECONDS`), and a
caller may bound a whole computation in CPU time with :class:`work_budget`; exceeding any
is a :class:`~symmag.errors.SymmagInputError` naming the constant.  Coefficients are
sympified strictly (:func:`strict_sympify`): a string is refused, never evaluated.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache, lru_cache

import sympy as sp

from ..conventions import AXES, N, gamma, hbar
from ..errors import SymmagInputError

# -- limits -----------------------------------------------------------------------------
# Bounds that make a runaway input stop with a clear SymmagInputError naming the constant
# instead of hanging.  Each is far above what the derivations and tests use (measured over
# the test suite: degree <= 8, 4634 terms, 4.6e4 units of product work, words of 8
# letters).  They bound each step; a whole computation (one `symmag reduce`) is bounded
# in time by a :class:`work_budget`.

#: Largest degree of an operator monomial (letters of one word).  M0x**64 is instant;
#: reordering a disordered word is bounded by MAX_REDUCTION_WORK.
MAX_DEGREE = 64
#: Largest work of one reduction to PBW order (:func:`pbw`), in terms combined: about
#: 1.5e5 a second; a reversed word of degree 27 takes 1.5e5.  Reductions are cached, so
#: only fresh work counts.
MAX_REDUCTION_WORK = 150_000
#: Longest time of one power ``op ** n`` with n >= 3, in seconds: its products are bounded
#: one by one above, but not the whole chain.  (Single products get no time limit: a valid
#: product of nested site sums can take seconds on a loaded machine.)
MAX_POWER_SECONDS = 30.0
#: Largest number of terms (monomials) of one operator; checked as a product accumulates.
MAX_TERMS = 20_000
#: Largest work of one product: pairs of terms times the coefficient terms multiplied and
#: the monomials each pair of monomials gives, plus the site assignments of per-site
#: products (counted before the work).  The tests use at most 5e4; a unit costs 5-200 us
#: depending on the coefficients.
MAX_PRODUCT_WORK = 200_000


def _check_degree(degree: int) -> None:
    if degree > MAX_DEGREE:
        raise SymmagInputError(
            f"an operator monomial of degree {degree} exceeds the limit "
            f"symmag.algebra.su2.MAX_DEGREE = {MAX_DEGREE}")


class _Budget:
    """A budget of CPU seconds shared by every product and reduction while it is active.
    CPU time of this process, not wall time: other load on the machine does not spend it."""

    __slots__ = ("deadline", "name", "seconds")

    def __init__(self, seconds: float, name: str):
        self.seconds, self.name = seconds, name
        self.deadline = time.process_time() + seconds


_BUDGET: list[_Budget] = []  # the active budgets, innermost last
_REDUCTION_LEFT: list[int] = []  # the budget of the outermost reduction in progress


def _check_clock() -> None:
    now = time.process_time()
    for b in _BUDGET:
        if now > b.deadline:
            raise SymmagInputError(
                f"the computation takes longer than the limit {b.name} = {b.seconds:g} s "
                "of CPU time (the input is too large to reduce)")


def _charge_reduction(units: int) -> None:
    left = _REDUCTION_LEFT[0] = _REDUCTION_LEFT[0] - units
    if left < 0:
        raise SymmagInputError(
            "reordering an operator word needs more work than the limit "
            f"symmag.algebra.su2.MAX_REDUCTION_WORK = {MAX_REDUCTION_WORK}")
    if _BUDGET and left % 128 < units:  # the clock about every 128 units: it is a system call
        _check_clock()


@contextmanager
def reduction_budget() -> Iterator[None]:
    """Every reduction to PBW order inside shares one :data:`MAX_REDUCTION_WORK` (unless
    an outer one is active), so a computation of many reductions is bounded as a whole."""
    if _REDUCTION_LEFT:
        yield
        return
    _REDUCTION_LEFT.append(MAX_REDUCTION_WORK)
    try:
        yield
    finally:
        _REDUCTION_LEFT.clear()


class work_budget:
    """``with work_budget(seconds, name):`` every operator product and reduction inside
    stops with :class:`SymmagInputError` once ``seconds`` of CPU time have been spent,
    citing ``name`` (the constant that set it).  The per-product limits are
    deterministic; this one, for a whole computation such as one parse, is the only one
    that depends on the machine's speed."""

    def __init__(self, seconds: float, name: str):
        self.seconds, self.name = seconds, name

    def __enter__(self) -> _Budget:
        budget = _Budget(self.seconds, self.name)
        _BUDGET.append(budget)
        return budget

    def __exit__(self, *exc) -> None:
        _BUDGET.pop()


def _size(c: sp.Expr) -> int:
    """Number of terms of an expanded coefficient."""
    return len(c.args) if c.is_Add else 1


def _check_work(work: int) -> None:
    """Refuse a product whose work exceeds :data:`MAX_PRODUCT_WORK`, or an active budget's time."""
    if work > MAX_PRODUCT_WORK:
        raise SymmagInputError(
            f"an operator product needs {work} or more units of work, more than the limit "
            f"symmag.algebra.su2.MAX_PRODUCT_WORK = {MAX_PRODUCT_WORK}")
    if _BUDGET:
        _check_clock()


def _refuse_strings(x) -> None:
    """Raise if ``x`` (nested dicts, lists, tuples, sets) holds a string."""
    if isinstance(x, str):
        strict_sympify(x)
    elif isinstance(x, dict):
        for kv in x.items():
            _refuse_strings(kv)
    elif isinstance(x, (list, tuple, set, frozenset)):
        for v in x:
            _refuse_strings(v)


def _too_many_terms(n: int) -> None:
    raise SymmagInputError(
        f"an operator with {n} or more terms exceeds the limit "
        f"symmag.algebra.su2.MAX_TERMS = {MAX_TERMS}")


def strict_sympify(x) -> sp.Basic:
    """``sympify(x, strict=True)``: SymPy objects and numbers only, never a string
    (non-strict ``sympify`` would evaluate it as Python)."""
    if isinstance(x, str):
        raise SymmagInputError(
            f"a string is not accepted as a SymPy expression (it would be evaluated as "
            f"Python): {x[:40]!r}; build it with sympy.Symbol or parse_operator")
    try:
        return sp.sympify(x, strict=True)
    except sp.SympifyError:
        raise SymmagInputError(f"not a SymPy expression or number: {type(x).__name__}") from None

Word = tuple[int, ...]
Key = tuple
IDENTITY: Key = ()

# Units of the structure constants: [X^a, X^b] = u eps^{abc} X^c.
UNIT_COLLECTIVE = sp.I * hbar * gamma
UNIT_SITE = sp.I * hbar


def levi_civita(a: int, b: int, c: int) -> int:
    """eps^{abc} for a, b, c in {0, 1, 2}."""
    return (a - b) * (b - c) * (c - a) // 2


def _axis(a: int | str) -> int:
    if isinstance(a, str):
        if a not in AXES:
            raise ValueError(f"unknown axis {a!r}; expected one of x, y, z")
        return AXES.index(a)
    if a not in (0, 1, 2):
        raise ValueError(f"unknown axis {a!r}; expected 0, 1 or 2")
    return int(a)


@cache
def pbw(word: Word) -> tuple[tuple[Word, int, int], ...]:
    """Reduce a word of one su(2) copy to PBW order.

    Returns ``((w, k, c), ...)`` meaning ``word = sum c * u**k * w`` with every
    ``w`` sorted and ``u`` the unit of the structure constants.  Integer
    coefficients keep the rewrite free of SymPy arithmetic (about 3x faster
    than carrying symbols, DESIGN-NOTES.md).  The word is multiplied out one
    letter at a time from the left (:func:`_times_letter`), so the work is
    polynomial in the degree; swapping the first out-of-order pair instead
    visits exponentially many words (a reversed word of degree 27 took 17 s).
    Raises :class:`SymmagInputError` beyond :data:`MAX_DEGREE` letters.
    """
    _check_degree(len(word))
    if all(word[p] <= word[p + 1] for p in range(len(word) - 1)):
        return ((word, 0, 1),)
    if _REDUCTION_LEFT:
        return _pbw_fold(word)
    _REDUCTION_LEFT.append(MAX_REDUCTION_WORK)
    try:
        return _pbw_fold(word)
    finally:
        _REDUCTION_LEFT.clear()


def _pbw_fold(word: Word) -> tuple[tuple[Word, int, int], ...]:
    out: dict[tuple[Word, int], int] = defaultdict(int)
    for w, k, c in pbw(word[:-1]):
        part = _times_letter(w, word[-1])
        _charge_reduction(len(part))
        for w2, k2, c2 in part:
            out[(w2, k + k2)] += c * c2
    return tuple((w, k, c) for (w, k), c in sorted(out.items()) if c)


@cache
def _times_letter(word: Word, a: int) -> tuple[tuple[Word, int, int], ...]:
    """PBW form of (sorted ``word``) * X^a, as in :func:`pbw`.

    With b the last letter of ``word`` and b > a:  head X^b X^a = (head X^a) X^b
    + u eps^{bac} head X^c.  Every recursive call has a lower degree (the
    leading term of head X^a has no letter above b), so the depth is at most
    twice the degree."""
    if not word or word[-1] <= a:
        return ((word + (a,), 0, 1),)
    head, b = word[:-1], word[-1]
    out: dict[tuple[Word, int], int] = defaultdict(int)
    for w, k, c in _times_letter(head, a):
        part = _times_letter(w, b)
        _charge_reduction(len(part))
        for w2, k2, c2 in part:
            out[(w2, k + k2)] += c * c2
    c_ax = 3 - a - b
    e = levi_civita(b, a, c_ax)
    part = _times_letter(head, c_ax)
    _charge_reduction(len(part))
    for w, k, c in part:
        out[(w, k + 1)] += e * c
    return tuple((w, k, c) for (w, k), c in sorted(out.items()) if c)


def _sym_key(s: sp.Symbol) -> tuple:
    # a full tie-break: two symbols may share a name and differ in assumptions
    return (s.name, getattr(s, "dummy_index", 0) or 0, tuple(sorted(s.assumptions0.items())))


def site_key(free: dict, bound: Iterable[Word]) -> Key:
    """Canonical key of a product over distinct sites (no empty words)."""
    f = tuple(sorted(((s, w) for s, w in free.items()), key=lambda sw: _sym_key(sw[0])))
    b = tuple(sorted(bound))
    if not f and not b:
        return IDENTITY
    return ("S", f, b)


def _normalise(c: sp.Expr) -> sp.Expr:
    """Expanded form of a coefficient: products of sums distributed, integer powers
    of sums multiplied out, nothing done inside function arguments (H_eff(t),
    h(H_eff, t), derivatives), where ``sympy.expand`` spent most of its time."""
    if c.is_Atom or not isinstance(c, sp.Expr):
        return c
    return _expand_rational(c)


def _product(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """Expanded a*b for expanded a and b: only a sum needs distributing.  Term by term:
    the factors are expanded already, so re-expanding them (as ``expand_mul`` of the whole
    product does) is wasted; a term product is expanded again only when it has a sum left
    (e.g. sqrt(s) * sqrt(s) = s)."""
    if not (a.is_Add or b.is_Add):
        return a * b
    if a.is_Number or b.is_Number:  # SymPy distributes a number over a sum itself
        return a * b
    terms = [_term_product(x, y) for x in sp.Add.make_args(a) for y in sp.Add.make_args(b)]
    return sp.Add(*terms)


def _term_product(x: sp.Expr, y: sp.Expr) -> sp.Expr:
    """x*y for two terms of expanded sums, expanded."""
    xy = x * y
    if xy.is_Add or (xy.is_Mul and any(_needs_expanding(f) for f in xy.args)):
        return _expand_rational(xy)
    return xy


def _needs_expanding(f: sp.Expr) -> bool:
    """A factor that an expanded product may not keep: a sum, or a positive integer power
    of one."""
    return f.is_Add or (f.is_Pow and f.base.is_Add and f.exp.is_Integer and f.exp > 0)


@lru_cache(maxsize=1 << 16)
def _expand_rational(e: sp.Expr) -> sp.Expr:
    """Expand ``e`` (see :func:`_normalise`).  Cached, a pure function of ``e``: the terms of
    coefficients recur across the products and substitutions of a derivation."""
    if e.is_Add:
        return sp.Add(*[_expand_rational(a) for a in e.args])
    if e.is_Mul:
        return sp.expand_mul(sp.Mul(*[_expand_rational(a) for a in e.args]), deep=False)
    if e.is_Pow:
        base = _expand_rational(e.base)
        if e.exp.is_Integer and e.exp > 0 and base.is_Add:
            return _expand_rational(sp.expand_multinomial(sp.Pow(base, e.exp), deep=False))
        return sp.Pow(base, e.exp)
    return e


class Op:
    """An operator polynomial in canonical form.  Immutable; build with the
    generators :func:`M0`, :func:`S`, arithmetic and :func:`site_sum`."""

    __slots__ = ("_hash", "terms")

    def __init__(self, terms: dict[Key, sp.Expr] | None = None):
        self.terms: dict[Key, sp.Expr] = _canonical_terms(terms or {})
        self._hash = None

    # -- construction -------------------------------------------------
    @classmethod
    def _from_canonical(cls, terms: dict[Key, sp.Expr]) -> Op:
        """Terms whose coefficients are already expanded (sums or negations of
        canonical coefficients): only zeros are dropped."""
        if {k[0] for k in terms if k} == {"M", "S"}:
            return cls(terms)
        op = cls.__new__(cls)
        op.terms = {k: c for k, c in terms.items() if c != 0}
        op._hash = None
        return op

    @classmethod
    def scalar(cls, c) -> Op:
        """The c-number ``c`` (a SymPy expression or a number; strings are refused)."""
        return cls({IDENTITY: c})

    @staticmethod
    def coerce(x) -> Op:
        if isinstance(x, Op):
            return x
        x = strict_sympify(x)
        if not x.is_commutative:
            raise TypeError(
                f"{x} is a noncommutative SymPy expression; convert it with "
                "symmag.algebra.operators.to_op"
            )
        return Op.scalar(x)

    # -- arithmetic ----------------------------------------------------
    def __add__(self, other) -> Op:
        other = Op.coerce(other)
        acc: dict[Key, list] = defaultdict(list)
        for k, c in itertools.chain(self.terms.items(), other.terms.items()):
            acc[k].append(c)
        # a sum of expanded coefficients is expanded: no need to normalise again
        return Op._from_canonical({k: sp.Add(*cs) for k, cs in acc.items()})

    __radd__ = __add__

    def __neg__(self) -> Op:
        return Op._from_canonical({k: -c for k, c in self.terms.items()})

    def __sub__(self, other) -> Op:
        return self + (-Op.coerce(other))

    def __rsub__(self, other) -> Op:
        return Op.coerce(other) - self

    def __mul__(self, other) -> Op:
        """The product in canonical form; refused with :class:`SymmagInputError` beyond
        :data:`MAX_DEGREE`, :data:`MAX_TERMS` or :data:`MAX_PRODUCT_WORK` (or the time of
        an active :class:`work_budget`), counted as the product goes."""
        if not isinstance(other, Op):
            other = strict_sympify(other)
            if other.is_commutative:
                if _BUDGET or _size(other) > 1:
                    _check_work(sum(_size(c) for c in self.terms.values()) * _size(other))
                return Op._from_canonical({k: _product(c, other) for k, c in self.terms.items()})
            other = Op.coerce(other)
        _check_degree(self.degree() + other.degree())
        work = 0
        acc: dict[Key, list] = defaultdict(list)
        for k1, c1 in self.terms.items():
            s1 = _size(c1)
            for k2, c2 in other.terms.items():
                keys = mul_keys(k1, k2)
                work += s1 * _size(c2) * len(keys)
                if work > MAX_PRODUCT_WORK:
                    _check_work(work)
                c12 = _product(c1, c2)
                for k, c in keys:
                    acc[k].append(_product(c12, c))
            if len(acc) > MAX_TERMS:
                _too_many_terms(len(acc))
            if _BUDGET:
                _check_clock()
        return Op._from_canonical({k: sp.Add(*cs) for k, cs in acc.items()})

    def __rmul__(self, other) -> Op:
        return Op.coerce(other) * self

    def __truediv__(self, other) -> Op:
        other = strict_sympify(other)
        if not other.is_commutative:
            raise TypeError("division by an operator is not polynomial")
        if other == 0:
            raise SymmagInputError("division of an operator by zero")
        return self * (1 / other)

    def __pow__(self, n: int) -> Op:
        """Repeated product; the exponent is at most :data:`MAX_DEGREE`."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise TypeError(f"operator powers must be non-negative integers, got {n!r}")
        if n > MAX_DEGREE:
            raise SymmagInputError(
                f"the exponent {n} exceeds the limit symmag.algebra.su2.MAX_DEGREE = {MAX_DEGREE}")
        if n:
            _check_degree(self.degree() * n)
        out = Op.scalar(1)
        if n <= 2:
            for _ in range(n):
                out = out * self
            return out
        with work_budget(MAX_POWER_SECONDS, "symmag.algebra.su2.MAX_POWER_SECONDS"):
            for _ in range(n):
                out = out * self
        return out

    # -- comparison -----------------------------------------------------
    def __eq__(self, other) -> bool:
        """Identity of canonical forms (coefficients compared after expand).

        A collective and a per-site operator are compared through their
        difference, which is written wholly per-site."""
        if not isinstance(other, Op):
            try:
                other = Op.coerce(other)
            except (TypeError, sp.SympifyError, SymmagInputError):
                return NotImplemented
        return not (self - other).terms

    def __hash__(self) -> int:
        # equal operators may differ in form (collective vs per-site): hash the per-site form
        if self._hash is None:
            self._hash = hash(frozenset(to_sites(self).terms.items()))
        return self._hash

    def is_zero(self) -> bool:
        return not self.terms

    # -- inspection -----------------------------------------------------
    def is_scalar(self) -> bool:
        return all(k == IDENTITY for k in self.terms)

    def scalar_part(self) -> sp.Expr:
        return self.terms.get(IDENTITY, sp.S.Zero)

    def degree(self) -> int:
        return max((key_degree(k) for k in self.terms), default=0)

    def free_sites(self) -> set[sp.Symbol]:
        out: set[sp.Symbol] = set()
        for k in self.terms:
            if k and k[0] == "S":
                out.update(s for s, _ in k[1])
        return out

    def has_sites(self) -> bool:
        return any(k and k[0] == "S" for k in self.terms)

    def coefficients(self) -> list[sp.Expr]:
        return list(self.terms.values())

    def sorted_terms(self) -> list[tuple[Key, sp.Expr]]:
        return sorted(self.terms.items(), key=lambda kc: key_sort(kc[0]))

    # -- c-number calculus -------------------------------------------------
    def map_coefficients(self, f: Callable[[sp.Expr], sp.Expr]) -> Op:
        return Op({k: f(c) for k, c in self.terms.items()})

    def diff(self, *symbols) -> Op:
        """Derivative of the c-number coefficients (explicit dependence only)."""
        symbols = tuple(strict_sympify(x) for x in symbols)
        return self.map_coefficients(lambda c: sp.diff(c, *symbols))

    def subs(self, *args, **kwargs) -> Op:
        """Substitute into the c-number coefficients (no strings: SymPy would parse them)."""
        _refuse_strings(args)
        return self.map_coefficients(lambda c: c.subs(*args, **kwargs))

    def xreplace(self, rule: dict) -> Op:
        """Structural replacement in the coefficients (fast; no pattern matching)."""
        return self.map_coefficients(lambda c: c.xreplace(rule))

    def adjoint(self) -> Op:
        """Hermitian adjoint: generators are Hermitian, so words reverse and
        coefficients are conjugated (symbols declared real stay put)."""
        out = Op()
        for k, c in self.terms.items():
            out = out + _key_reversed(k) * sp.conjugate(c)
        return out

    # -- printing -------------------------------------------------------
    def __repr__(self) -> str:
        if not self.terms:
            return "0"
        parts = []
        for k, c in self.sorted_terms():
            mono = key_str(k)
            parts.append(f"({c})" + (f"*{mono}" if mono else ""))
        return " + ".join(parts)

    def latex(self, symbol_names: dict | None = None) -> str:
        from .printing import op_latex

        return op_latex(self, symbol_names)

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"


def op_sum(ops: Iterable[Op]) -> Op:
    """The sum of many operators in one pass: the same canonical form as adding them one
    by one, without re-adding the growing coefficients each time (quadratic in the number
    of terms: 2000 distinct names took a minute)."""
    acc: dict[Key, list] = defaultdict(list)
    for n, op in enumerate(ops):
        for k, c in Op.coerce(op).terms.items():
            acc[k].append(c)
        if _BUDGET and n % 64 == 0:
            _check_clock()
    return Op._from_canonical({k: sp.Add(*cs) for k, cs in acc.items()})


def _site_terms(terms: dict[Key, sp.Expr]) -> dict[Key, sp.Expr]:
    """The terms with every collective monomial written through the sites (6)."""
    acc: dict[Key, list] = defaultdict(list)
    for k, c in terms.items():
        if k and k[0] == "M":
            for k2, c2 in expand_collective(k[1]).terms.items():
                acc[k2].append(c * c2)
        else:
            acc[k].append(c)
    return {k: sp.Add(*cs) for k, cs in acc.items()}


def _canonical_terms(terms: dict[Key, sp.Expr]) -> dict[Key, sp.Expr]:
    if {k[0] for k in terms if k} == {"M", "S"}:
        terms = _site_terms(terms)  # one canonical form: a sum with per-site terms is all per-site
    out = {}
    for k, c in terms.items():
        c = _normalise(strict_sympify(c))
        if c != 0:
            out[k] = c
    return out


def key_degree(k: Key) -> int:
    if not k:
        return 0
    if k[0] == "M":
        return len(k[1])
    return sum(len(w) for _, w in k[1]) + sum(len(w) for w in k[2])


def key_sort(k: Key) -> tuple:
    if not k:
        return (0,)
    if k[0] == "M":
        return (1, len(k[1]), k[1])
    return (2, key_degree(k), tuple((_sym_key(s), w) for s, w in k[1]), k[2])


def key_str(k: Key) -> str:
    if not k:
        return ""
    if k[0] == "M":
        return "*".join(f"M0{AXES[a]}" for a in k[1])
    parts = [f"S{AXES[a]}[{s}]" for s, w in k[1] for a in w]
    for n, w in enumerate(k[2]):
        parts += [f"S{AXES[a]}[k{n + 1}]" for a in w]
    s = "*".join(parts)
    if k[2]:
        s = f"sum'_{{{','.join(f'k{n + 1}' for n in range(len(k[2])))}}}({s})"
    return s


def _word_op(word: Word, unit: sp.Expr, make_key: Callable[[Word], Key]) -> list[tuple[Key, sp.Expr]]:
    return [(make_key(w), c * unit**k) for w, k, c in pbw(word)]


@cache
def mul_keys(k1: Key, k2: Key) -> tuple[tuple[Key, sp.Expr], ...]:
    """Canonical form of the product of two canonical monomials."""
    if not k1:
        return ((k2, sp.S.One),)
    if not k2:
        return ((k1, sp.S.One),)
    if k1[0] == "M" and k2[0] == "M":
        return tuple(_word_op(k1[1] + k2[1], UNIT_COLLECTIVE, lambda w: ("M", w)))
    if k1[0] == "S" and k2[0] == "S":
        return _site_product(k1, k2)
    a = expand_collective(k1[1]) if k1[0] == "M" else Op({k1: sp.S.One})
    b = expand_collective(k2[1]) if k2[0] == "M" else Op({k2: sp.S.One})
    return tuple((a * b).terms.items())


def _injective_choices(n: int, targets: list) -> Iterable[tuple]:
    """All ways to send n slots to ``None`` (a new site) or to distinct targets."""
    options = [None, *targets]

    def rec(i: int, used: frozenset):
        if i == n:
            yield ()
            return
        for o in options:
            if o is not None and o in used:
                continue
            for rest in rec(i + 1, used | {o} if o is not None else used):
                yield (o, *rest)

    yield from rec(0, frozenset())


def _n_injective(n: int, m: int) -> int:
    """The number of items :func:`_injective_choices` yields for n slots and m targets."""
    return sum(math.comb(n, k) * math.perm(m, k) for k in range(min(n, m) + 1))


def _site_product(k1: Key, k2: Key) -> tuple[tuple[Key, sp.Expr], ...]:
    free1, bound1 = dict(k1[1]), k1[2]
    free2, bound2 = dict(k2[1]), k2[2]
    only1 = [s for s in free1 if s not in free2]
    only2 = [s for s in free2 if s not in free1]
    acc: dict[Key, int | sp.Expr] = defaultdict(int)
    a_targets = [("f", s) for s in only2] + [("b", j) for j in range(len(bound2))]
    # the assignments of summed sites to other sites, bounded before they are listed
    _check_work(_n_injective(len(bound1), len(a_targets)) * _n_injective(len(bound2), len(only1)))
    for a_choice in _injective_choices(len(bound1), a_targets):
        taken_b = {t[1] for t in a_choice if t is not None and t[0] == "b"}
        free_b = [j for j in range(len(bound2)) if j not in taken_b]
        for b_choice in _injective_choices(len(free_b), [("f", s) for s in only1]):
            # Build the word at every site; sites commute, so each site's word
            # is A's part followed by B's part (product order A*B).
            free = {s: free1.get(s, ()) + free2.get(s, ()) for s in {**free1, **free2}}
            bound: list[Word] = []
            for i, t in enumerate(a_choice):
                if t is None:
                    bound.append(bound1[i])
                elif t[0] == "f":
                    free[t[1]] = bound1[i] + free[t[1]]
                else:
                    bound.append(bound1[i] + bound2[t[1]])
            for j, t in zip(free_b, b_choice):
                if t is None:
                    bound.append(bound2[j])
                else:
                    free[t[1]] = free[t[1]] + bound2[j]
            for key, power, c in _reduce_sites(free, bound):
                acc[(key, power)] += c
    out: dict[Key, list] = defaultdict(list)
    for (key, power), c in acc.items():
        if c:
            out[key].append(c * UNIT_SITE**power)
    return tuple((k, sp.Add(*cs)) for k, cs in out.items())


def _reduce_sites(free: dict, bound: list[Word]) -> Iterable[tuple[Key, int, int]]:
    """PBW-reduce every site word; yields (key, power of unit, integer coeff)."""
    names = list(free)
    expansions = [pbw(free[s]) for s in names] + [pbw(w) for w in bound]
    _check_work(math.prod(len(e) for e in expansions))
    for combo in itertools.product(*expansions):
        power = sum(k for _, k, _ in combo)
        c = 1
        for _, _, ci in combo:
            c *= ci
        f = {s: combo[n][0] for n, s in enumerate(names)}
        b = [combo[len(names) + m][0] for m in range(len(bound))]
        yield site_key(f, b), power, c


def _key_reversed(k: Key) -> Op:
    """The adjoint of one monomial: generators are Hermitian, so every word
    reverses; distinct sites commute, so this is done site by site."""
    if not k:
        return Op.scalar(1)
    if k[0] == "M":
        return Op(dict(_word_op(tuple(reversed(k[1])), UNIT_COLLECTIVE, lambda w: ("M", w))))
    free = {s: tuple(reversed(w)) for s, w in k[1]}
    bound = [tuple(reversed(w)) for w in k[2]]
    acc: dict[Key, list] = defaultdict(list)
    for key, power, c in _reduce_sites(free, bound):
        acc[key].append(c * UNIT_SITE**power)
    return Op({kk: sp.Add(*cs) for kk, cs in acc.items()})


@cache
def expand_collective(word: Word) -> Op:
    """M0^{a1}...M0^{ad} as gamma^d sum_{k1..kd} S_{k1}^{a1}...S_{kd}^{ad} (eq. (6))."""
    out = Op.scalar(1)
    for a in word:
        out = out * Op({("S", (), ((a,),)): gamma})
    return out


def to_sites(op: Op) -> Op:
    """``op`` with every collective monomial written through the sites (6)."""
    return Op(_site_terms(op.terms))


# -- generators -----------------------------------------------------------------
def M0(a: int | str) -> Op:
    """Component a of the collective moment M0 (eq. (6)); a in x, y, z or 0, 1, 2."""
    return Op({("M", (_axis(a),)): sp.S.One})


def S(site: sp.Symbol | str, a: int | str) -> Op:
    """Component a of the spin at ``site`` (a SymPy symbol, e.g. ``i``)."""
    if isinstance(site, str):
        site = sp.Symbol(site)  # the same symbol as sympy.Symbol("i") in user code
    if not isinstance(site, sp.Symbol):
        raise TypeError(f"a site must be a SymPy symbol, got {site!r}")
    return Op({("S", ((site, (_axis(a),)),), ()): sp.S.One})


def M0_vector() -> tuple[Op, Op, Op]:
    """(M0^x, M0^y, M0^z)."""
    return tuple(M0(a) for a in range(3))  # type: ignore[return-value]


def product(factors: Iterable) -> Op:
    out = Op.scalar(1)
    for f in factors:
        out = out * f
    return out


def commutator(a, b) -> Op:
    """[A, B]_- = AB - BA, in canonical form: summed pair by pair of monomials as
    sum c_A c_B [k_A, k_B], so pairs that commute (a c-number, equal monomials) cost no
    coefficient product -- the same canonical form as AB - BA."""
    a, b = Op.coerce(a), Op.coerce(b)
    if {k[0] for k in itertools.chain(a.terms, b.terms) if k} == {"M", "S"}:
        return a * b - b * a  # mixed: the product writes M0 through the sites (6)
    _check_degree(a.degree() + b.degree())
    # the limits are those of the two products AB and BA, counted as they would count them
    work_ab = work_ba = 0
    keys_ab: set[Key] = set()
    keys_ba: set[Key] = set()
    acc: dict[Key, list] = defaultdict(list)
    for k1, c1 in a.terms.items():
        s1 = _size(c1)
        for k2, c2 in b.terms.items():
            ab, ba = mul_keys(k1, k2), mul_keys(k2, k1)
            s12 = s1 * _size(c2)
            work_ab += s12 * len(ab)
            work_ba += s12 * len(ba)
            if work_ab > MAX_PRODUCT_WORK or work_ba > MAX_PRODUCT_WORK:
                _check_work(max(work_ab, work_ba))
            keys_ab.update(k for k, _ in ab)
            keys_ba.update(k for k, _ in ba)
            keys = _commutator_keys(k1, k2)
            if not keys:
                continue
            c12 = _product(c1, c2)
            for k, c in keys:
                acc[k].append(_product(c12, c))
        if max(len(keys_ab), len(keys_ba)) > MAX_TERMS:
            _too_many_terms(max(len(keys_ab), len(keys_ba)))
        if _BUDGET:
            _check_clock()
    return Op._from_canonical({k: sp.Add(*cs) for k, cs in acc.items()})


@cache
def _commutator_keys(k1: Key, k2: Key) -> tuple[tuple[Key, sp.Expr], ...]:
    """Canonical form of [k1, k2] for two canonical monomials (empty when they commute)."""
    if not k1 or not k2 or k1 == k2:
        return ()
    acc: dict[Key, list] = defaultdict(list)
    for k, c in mul_keys(k1, k2):
        acc[k].append(c)
    for k, c in mul_keys(k2, k1):
        acc[k].append(-c)
    out = ((k, _normalise(sp.Add(*cs))) for k, cs in acc.items())
    return tuple((k, c) for k, c in out if c != 0)


def anticommutator(a, b) -> Op:
    """[A, B]_+ = AB + BA, in canonical form."""
    a, b = Op.coerce(a), Op.coerce(b)
    return a * b + b * a


def same_operator(a, b) -> bool:
    """Decide A == B by the canonical form of A - B.

    The operator part is decided by the identity of canonical monomials; each
    remaining c-number coefficient must vanish identically, tested by
    ``sympy.cancel`` (exact for rational functions of the symbols).
    """
    return not nonzero_terms(Op.coerce(a) - Op.coerce(b))


def nonzero_terms(op: Op) -> dict[Key, sp.Expr]:
    """Terms of ``op`` whose coefficient does not cancel to zero."""
    return {k: c for k, c in op.terms.items() if not vanishes(c) and sp.cancel(c) != 0}


def vanishes(c: sp.Expr) -> bool:
    """A cheap exact proof that the c-number ``c`` is zero: the numerator of ``c`` over a
    common denominator expands to 0.  False means "not shown", never "nonzero": callers
    decide the rest with ``sympy.cancel`` (whose factor_terms/gcd work is wasted on the many
    differences that vanish term by term once over one denominator)."""
    if c == 0:
        return True
    if not isinstance(c, sp.Expr) or not c.is_commutative:
        return False
    try:
        numerator, _ = c.as_numer_denom()
        return sp.expand(numerator) == 0
    except (TypeError, ValueError, NotImplementedError, sp.PolynomialError):
        return False


# -- sums over sites -----------------------------------------------------------------
def site_sum(summand: Callable[[sp.Symbol], Op], exclude: Sequence[sp.Symbol] = ()) -> Op:
    """sum_{j=1}^{N}, j not in ``exclude``, of ``summand(j)``.

    ``summand`` is called with a fresh site symbol, and again with each other
    free site symbol k of its result: because distinct symbols are distinct
    sites, the sum over all j splits into j distinct from every k (a bound
    site) plus the terms j = k.  ``exclude`` gives the restriction j != i of
    e.g. (67).
    """
    exclude = tuple(exclude)
    if len(set(exclude)) != len(exclude):
        raise ValueError("exclude lists a site twice")
    j0 = sp.Dummy("j", integer=True, positive=True)
    body = Op.coerce(summand(j0))
    others = sorted(body.free_sites() - {j0}, key=_sym_key)
    fixed = set(others) | set(exclude)
    acc: dict[Key, list] = defaultdict(list)
    for k, c in body.terms.items():
        free = dict(k[1]) if k and k[0] == "S" else {}
        if j0 not in free:
            acc[k].append(c * (N - len(fixed)))
            continue
        word = free.pop(j0)
        bound = list(k[2])
        acc[site_key(free, [*bound, word])].append(c)
        # the bound site ranges over sites distinct from this term's free sites;
        # remove those fixed sites the term does not mention
        for s in fixed - set(free):
            acc[site_key({**free, s: word}, bound)].append(-c)
    out = Op({kk: sp.Add(*cs) for kk, cs in acc.items()})
    for s in others:
        if s not in exclude:
            out = out + Op.coerce(summand(s))
    return out


# -- vectors -------------------------------------------------------------------------
def cross(u: Sequence, v: Sequence) -> tuple:
    """u x v, keeping the order of (possibly noncommuting) factors."""
    return tuple(
        u[(a + 1) % 3] * v[(a + 2) % 3] - u[(a + 2) % 3] * v[(a + 1) % 3] for a in range(3)
    )


def dot(u: Sequence, v: Sequence):
    """u . v, keeping the order of factors."""
    return u[0] * v[0] + u[1] * v[1] + u[2] * v[2]

