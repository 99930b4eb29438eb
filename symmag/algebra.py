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
per-class commutator hook (used in :mod:`symmag.operators` for the user-facing
symbols), but no canonical reordering of spin products (``normal_order`` is for
bosons and fermions), no product expansion of AntiCommutator, no sums over
symbolic sites, and its ``simplify``/``.equals`` are unreliable on
noncommutative expressions (SymPy #10892, #18178).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import cache

import sympy as sp

from .conventions import AXES, N, gamma, hbar

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
    than carrying symbols, DESIGN-NOTES.md).
    """
    for p in range(len(word) - 1):
        if word[p] > word[p + 1]:
            break
    else:
        return ((word, 0, 1),)
    b, a = word[p], word[p + 1]
    pre, post = word[:p], word[p + 2 :]
    out: dict[tuple[Word, int], int] = defaultdict(int)
    for w, k, c in pbw(pre + (a, b) + post):
        out[(w, k)] += c
    # X^b X^a = X^a X^b + [X^b, X^a],  [X^b, X^a] = u eps^{bac} X^c
    c_ax = 3 - a - b
    e = levi_civita(b, a, c_ax)
    for w, k, c in pbw(pre + (c_ax,) + post):
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
    """Expanded a*b for expanded a and b: only a sum needs distributing."""
    if a.is_Add or b.is_Add:
        return _normalise(a * b)
    return a * b


def _expand_rational(e: sp.Expr) -> sp.Expr:
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
        return cls({IDENTITY: sp.sympify(c)})

    @staticmethod
    def coerce(x) -> Op:
        if isinstance(x, Op):
            return x
        x = sp.sympify(x, strict=True)
        if not x.is_commutative:
            raise TypeError(
                f"{x} is a noncommutative SymPy expression; convert it with "
                "symmag.operators.to_op"
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
        if not isinstance(other, Op):
            other = sp.sympify(other, strict=True)
            if other.is_commutative:
                return Op._from_canonical({k: _product(c, other) for k, c in self.terms.items()})
            other = Op.coerce(other)
        acc: dict[Key, list] = defaultdict(list)
        for k1, c1 in self.terms.items():
            for k2, c2 in other.terms.items():
                c12 = _product(c1, c2)
                for k, c in mul_keys(k1, k2):
                    acc[k].append(_product(c12, c))
        return Op._from_canonical({k: sp.Add(*cs) for k, cs in acc.items()})

    def __rmul__(self, other) -> Op:
        return Op.coerce(other) * self

    def __truediv__(self, other) -> Op:
        other = sp.sympify(other, strict=True)
        if not other.is_commutative:
            raise TypeError("division by an operator is not polynomial")
        return self * (1 / other)

    def __pow__(self, n: int) -> Op:
        if not isinstance(n, int) or n < 0:
            raise TypeError(f"operator powers must be non-negative integers, got {n!r}")
        out = Op.scalar(1)
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
            except (TypeError, sp.SympifyError):
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
        return self.map_coefficients(lambda c: sp.diff(c, *symbols))

    def subs(self, *args, **kwargs) -> Op:
        """Substitute into the c-number coefficients."""
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
        c = _normalise(sp.sympify(c))
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


def _site_product(k1: Key, k2: Key) -> tuple[tuple[Key, sp.Expr], ...]:
    free1, bound1 = dict(k1[1]), k1[2]
    free2, bound2 = dict(k2[1]), k2[2]
    only1 = [s for s in free1 if s not in free2]
    only2 = [s for s in free2 if s not in free1]
    acc: dict[Key, int | sp.Expr] = defaultdict(int)
    a_targets = [("f", s) for s in only2] + [("b", j) for j in range(len(bound2))]
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
    """[A, B]_- = AB - BA, in canonical form."""
    a, b = Op.coerce(a), Op.coerce(b)
    return a * b - b * a


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
    return {k: c for k, c in op.terms.items() if sp.cancel(c) != 0}


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

