"""Property-based checks of the canonical algebra against explicit spin matrices.

Random operator polynomials are described by plain data ("specs"), so that one
draw gives both the symbolic operator (built with the public generators) and an
independent reference matrix (built here from our own spin matrices).  Every
identity is then checked either canonically (exact) or on the matrices of
several spin lengths.
"""

from __future__ import annotations

import itertools
from functools import reduce

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symmag.algebra.expectation import correlation_symbol, expectation
from symmag.algebra.matrices import SpinSystem
from symmag.algebra.representation import Representation, represent
from symmag.algebra.su2 import (
    M0,
    Op,
    S,
    anticommutator,
    commutator,
    pbw,
    same_operator,
    site_sum,
    to_sites,
)
from symmag.conventions import N, V, gamma, hbar

# -- fixed data ------------------------------------------------------------------------------

I_SITE = sp.Symbol("i", integer=True, positive=True)
J_SITE = sp.Symbol("j", integer=True, positive=True)
SITE_SYMBOLS = {"i": I_SITE, "j": J_SITE}
SITE_PLACE = {"i": 0, "j": 1}  # where the free sites go in the matrices
SITE_MAP = {I_SITE: 0, J_SITE: 1}
LAM = sp.Symbol("lambda", real=True)  # a generic c-number coupling

HBAR, GAMMA, LAM_VALUE = 0.7, -1.3, 0.37
N_SITES = 3
SPINS = ("1/2", "1", "3/2")
RTOL = 1e-9

SETTINGS = {"deadline": None, "derandomize": True}


def systems(n_sites: int = N_SITES) -> dict[str, SpinSystem]:
    return {s: SpinSystem(n_sites, s, hbar=HBAR, gamma=GAMMA) for s in SPINS}


SYSTEMS = systems()


# -- independent reference matrices ----------------------------------------------------------

def own_spin_matrices(spin: str) -> list[np.ndarray]:
    """S^x, S^y, S^z of one spin (basis m = +s ... -s), built from S^+ here."""
    s = float(sp.Rational(spin))
    d = round(2 * s) + 1
    m = s - np.arange(d)
    splus = np.zeros((d, d), dtype=complex)
    for r in range(d - 1):  # <m_r| S+ |m_{r+1}>, m_r = m_{r+1} + 1
        splus[r, r + 1] = np.sqrt(s * (s + 1) - m[r + 1] * (m[r + 1] + 1))
    sx = (splus + splus.conj().T) / 2
    sy = (splus - splus.conj().T) / 2j
    sz = np.diag(m).astype(complex)
    return [HBAR * a for a in (sx, sy, sz)]


class Reference:
    """Site, collective and site-sum matrices of n_sites spins, independent of symmag."""

    def __init__(self, spin: str, n_sites: int = N_SITES):
        self.n = n_sites
        self.single = single = own_spin_matrices(spin)
        self.d = d = single[0].shape[0]
        self.dim = d**n_sites
        self.site = {
            (k, a): np.kron(np.kron(np.eye(d**k), single[a]), np.eye(d ** (n_sites - k - 1)))
            for k in range(n_sites)
            for a in range(3)
        }

    def collective(self, a: int) -> np.ndarray:
        return GAMMA * sum(self.site[(k, a)] for k in range(self.n))

    def factor(self, f: tuple) -> np.ndarray:
        kind = f[0]
        if kind == "M":
            return self.collective(f[1])
        if kind == "S":
            return self.site[(SITE_PLACE[f[1]], f[2])]
        if kind == "sum1":
            return sum(self.site[(k, f[1])] for k in range(self.n))
        if kind == "sum2":
            return sum(self.site[(k, f[1])] @ self.site[(k, f[2])] for k in range(self.n))
        if kind == "sum1_not_i":
            return sum(self.site[(k, f[1])] for k in range(self.n) if k != SITE_PLACE["i"])
        if kind == "sum_with_i":  # k runs over all sites, i included
            return sum(self.site[(k, f[1])] @ self.site[(SITE_PLACE["i"], f[2])] for k in range(self.n))
        if kind == "sum_with_j_not_i":
            return sum(
                self.site[(k, f[1])] @ self.site[(SITE_PLACE["j"], f[2])]
                for k in range(self.n)
                if k != SITE_PLACE["i"]
            )
        if kind == "sum_with_M":
            return sum(self.site[(k, f[1])] @ self.collective(f[2]) for k in range(self.n))
        if kind == "sum_nested":
            return self.factor(("sum1", f[1])) @ self.factor(("sum1", f[2]))
        raise AssertionError(f)

    def poly(self, spec) -> np.ndarray:
        out = np.zeros((self.dim, self.dim), dtype=complex)
        for coeff, factors in spec:
            m = reduce(np.matmul, (self.factor(f) for f in factors), np.eye(self.dim, dtype=complex))
            out += complex(coeff.xreplace(numeric_values(self.n))) * m
        return out


REFERENCES = {s: Reference(s) for s in SPINS}


def numeric_values(n_sites: int = N_SITES) -> dict:
    return {N: sp.Integer(n_sites), hbar: sp.Float(HBAR), gamma: sp.Float(GAMMA), LAM: sp.Float(LAM_VALUE)}


# -- evaluation of canonical forms, independently of SpinSystem ------------------------------

_KEY_CACHE: dict = {}
_COEFF_CACHE: dict = {}
_CACHE_LIMIT = 4000  # full matrices of dimension 64 take 64 kB each


def _single_word(ref: Reference, word) -> np.ndarray:
    out = np.eye(ref.d, dtype=complex)
    for a in word:
        out = out @ ref.single[a]
    return out


def key_matrix(ref: Reference, key) -> np.ndarray:
    """Matrix of one canonical monomial, read as the module docstring of
    symmag.algebra.su2 defines it: bound sites range over sites distinct from each
    other and from the free sites.  Built as Kronecker products of one-site words."""
    if not key:
        return np.eye(ref.dim, dtype=complex)
    if key[0] == "M":
        return reduce(np.matmul, (ref.collective(a) for a in key[1]))
    free = {SITE_MAP[s]: w for s, w in key[1]}
    assert len(free) == len(key[1])
    rest = [k for k in range(ref.n) if k not in free]
    total = np.zeros((ref.dim, ref.dim), dtype=complex)
    for places in itertools.permutations(rest, len(key[2])):
        words = dict(free)
        words.update(zip(places, key[2]))
        total += reduce(np.kron, (_single_word(ref, words.get(k, ())) for k in range(ref.n)))
    return total


def _number(c: sp.Expr, vals: dict, vals_key: frozenset) -> complex:
    key = (c, vals_key)
    if key not in _COEFF_CACHE:
        val = c.xreplace(vals)
        assert not val.free_symbols, f"no value for {val.free_symbols} in {c}"
        _COEFF_CACHE[key] = complex(val)
    return _COEFF_CACHE[key]


def op_matrix(spin: str, op: Op, extra: dict | None = None) -> np.ndarray:
    """Matrix of the canonical form ``op`` on N_SITES spins ``spin`` (i -> site 0, j -> 1).

    Our own evaluation (``subs`` in SpinSystem.matrix dominates the runtime);
    ``test_op_matrix_agrees_with_spinsystem`` ties the two together."""
    ref = REFERENCES[spin]
    vals = {**numeric_values(ref.n), **(extra or {})}
    vals_key = frozenset(vals.items())
    if len(_KEY_CACHE) > _CACHE_LIMIT:
        _KEY_CACHE.clear()
    if len(_COEFF_CACHE) > 20 * _CACHE_LIMIT:
        _COEFF_CACHE.clear()
    out = np.zeros((ref.dim, ref.dim), dtype=complex)
    for k, c in op.terms.items():
        ck = (spin, k)
        if ck not in _KEY_CACHE:
            _KEY_CACHE[ck] = key_matrix(ref, k)
        out += _number(c, vals, vals_key) * _KEY_CACHE[ck]
    return out


def assert_close(actual: np.ndarray, expected: np.ndarray, scale: float) -> None:
    err = float(np.max(np.abs(actual - expected), initial=0.0))
    assert err <= RTOL * max(1.0, scale), f"residual {err:.3e} at scale {scale:.3e}"


def norm(m: np.ndarray) -> float:
    return float(np.linalg.norm(m))


# -- strategies ------------------------------------------------------------------------------

AXIS = st.integers(0, 2)


def factor_strategy(kinds: str) -> st.SearchStrategy:
    """(degree, spec) of one generator factor."""
    collective = st.tuples(st.just(1), st.tuples(st.just("M"), AXIS))
    site = st.one_of(
        st.tuples(st.just(1), st.tuples(st.just("S"), st.sampled_from(["i", "j"]), AXIS)),
        st.tuples(st.just(1), st.tuples(st.just("sum1"), AXIS)),
        st.tuples(st.just(2), st.tuples(st.just("sum2"), AXIS, AXIS)),
        # sums whose summand involves other sites, or a restriction
        st.tuples(st.just(1), st.tuples(st.just("sum1_not_i"), AXIS)),
        st.tuples(st.just(2), st.tuples(st.just("sum_with_i"), AXIS, AXIS)),
        st.tuples(st.just(2), st.tuples(st.just("sum_with_j_not_i"), AXIS, AXIS)),
        st.tuples(st.just(2), st.tuples(st.just("sum_nested"), AXIS, AXIS)),
    )
    if kinds == "collective":
        return collective
    if kinds == "site":
        return site
    return st.one_of(
        collective, site, st.tuples(st.just(2), st.tuples(st.just("sum_with_M"), AXIS, AXIS))
    )


RATIONALS = st.builds(
    sp.Rational, st.integers(-3, 3).filter(bool), st.integers(1, 3)
)


# c-number factors: symbols, and sums and powers that the coefficient normalisation expands
C_NUMBERS = [sp.S.One, LAM, hbar, gamma, N, LAM + hbar, (gamma - LAM) ** 2, sp.I * (N - 1)]


def coefficient_strategy(symbolic: bool) -> st.SearchStrategy:
    if not symbolic:
        return RATIONALS
    return st.builds(lambda r, s: r * s, RATIONALS, st.sampled_from(C_NUMBERS))


@st.composite
def monomial_specs(draw, max_degree: int, kinds: str) -> tuple:
    # lean towards the full degree: the small ones come from the shrinker anyway
    target = draw(st.one_of(st.just(max_degree), st.integers(0, max_degree)))
    factors: list = []
    deg = 0
    while deg < target:
        d, f = draw(factor_strategy(kinds).filter(lambda df, room=target - deg: df[0] <= room))
        factors.append(f)
        deg += d
    return tuple(factors)


def poly_specs(max_degree: int = 4, kinds: str = "any", max_terms: int = 3,
               symbolic: bool = False) -> st.SearchStrategy:
    """A sum of a few monomials with small rational (optionally symbolic) coefficients.

    ``kinds``: "collective" (M0 only), "site" (S and site sums only), "mixed" (each
    factor either kind), or "any" (one of those three per polynomial)."""
    if kinds == "any":
        return st.sampled_from(["mixed", "mixed", "collective", "site"]).flatmap(
            lambda k: poly_specs(max_degree, k, max_terms, symbolic)
        )
    return st.lists(
        st.tuples(coefficient_strategy(symbolic), monomial_specs(max_degree, kinds)),
        min_size=1,
        max_size=max_terms,
    )


def build_factor(f: tuple) -> Op:
    kind = f[0]
    if kind == "M":
        return M0(f[1])
    if kind == "S":
        return S(SITE_SYMBOLS[f[1]], f[2])
    if kind == "sum1":
        return site_sum(lambda k: S(k, f[1]))
    if kind == "sum2":
        return site_sum(lambda k: S(k, f[1]) * S(k, f[2]))
    if kind == "sum1_not_i":
        return site_sum(lambda k: S(k, f[1]), exclude=(I_SITE,))
    if kind == "sum_with_i":
        return site_sum(lambda k: S(k, f[1]) * S(I_SITE, f[2]))
    if kind == "sum_with_j_not_i":
        return site_sum(lambda k: S(k, f[1]) * S(J_SITE, f[2]), exclude=(I_SITE,))
    if kind == "sum_with_M":
        return site_sum(lambda k: S(k, f[1]) * M0(f[2]))
    if kind == "sum_nested":
        return site_sum(lambda k: S(k, f[1]) * site_sum(lambda m: S(m, f[2])))
    raise AssertionError(f)


def build(spec) -> Op:
    out = Op()
    for coeff, factors in spec:
        mono = Op.scalar(1)
        for f in factors:
            mono = mono * build_factor(f)
        out = out + coeff * mono
    return out


# -- canonical-key predicates ----------------------------------------------------------------

def is_sorted(word) -> bool:
    return list(word) == sorted(word)


def assert_canonical_key(k) -> None:
    assert isinstance(k, tuple)
    if k == ():
        return
    if k[0] == "M":
        assert len(k) == 2 and len(k[1]) >= 1 and is_sorted(k[1]), k
        assert all(a in (0, 1, 2) for a in k[1]), k
        return
    assert k[0] == "S" and len(k) == 3, k
    free, bound = k[1], k[2]
    assert free or bound, k
    syms = [s for s, _ in free]
    assert len(set(syms)) == len(syms), f"site twice in {k}"
    assert [s.name for s in syms] == sorted(s.name for s in syms), k
    for _, w in free:
        assert len(w) >= 1 and is_sorted(w) and all(a in (0, 1, 2) for a in w), k
    assert list(bound) == sorted(bound), k
    for w in bound:
        assert len(w) >= 1 and is_sorted(w) and all(a in (0, 1, 2) for a in w), k


def assert_canonical(op: Op) -> None:
    kinds = set()
    for k, c in op.terms.items():
        assert_canonical_key(k)
        assert c != 0 and c.is_commutative, (k, c)
        assert sp.expand(c) == c, f"coefficient not expanded: {c}"
        if k:
            kinds.add(k[0])
    assert kinds != {"M", "S"}, "collective and per-site monomials mixed in one operator"


# ============================================================================================
# 0. the reference machinery itself
# ============================================================================================

@pytest.mark.parametrize("spin", SPINS)
def test_reference_matches_spinsystem_sites(spin):
    system, ref = SYSTEMS[spin], REFERENCES[spin]
    for (k, a), m in ref.site.items():
        assert np.allclose(system.site(k, a), m, atol=1e-12)
    for a in range(3):
        assert np.allclose(system.collective(a), ref.collective(a), atol=1e-12)
    # [S^x, S^y] = i hbar S^z on one site, and the Casimir
    sx, sy, sz = (ref.site[(0, a)] for a in range(3))
    assert np.allclose(sx @ sy - sy @ sx, 1j * HBAR * sz, atol=1e-12)
    s = float(sp.Rational(spin))
    assert np.allclose(sx @ sx + sy @ sy + sz @ sz, s * (s + 1) * HBAR**2 * np.eye(ref.dim), atol=1e-12)


@settings(max_examples=6, **SETTINGS)
@given(a_spec=poly_specs(max_degree=3, symbolic=True), b_spec=poly_specs(max_degree=1))
def test_op_matrix_agrees_with_spinsystem(a_spec, b_spec):
    """Our evaluation of canonical monomials is SpinSystem.matrix's."""
    op = build(a_spec) * build(b_spec)
    for spin in ("1/2", "3/2"):
        expected = SYSTEMS[spin].matrix(op, values={LAM: LAM_VALUE}, site_map=SITE_MAP)
        assert_close(op_matrix(spin, op), expected, norm(expected))


# ============================================================================================
# 1. canonical products, commutators and anticommutators against matrices
# ============================================================================================

@settings(max_examples=50, **SETTINGS)
@given(spec=poly_specs(max_degree=4, symbolic=True))
def test_canonical_form_matches_factor_matrices(spec):
    """The canonical form of a polynomial is the product of its factors' matrices."""
    op = build(spec)
    assert_canonical(op)
    for spin in SPINS:
        expected = REFERENCES[spin].poly(spec)
        assert_close(op_matrix(spin, op), expected, norm(expected))


@settings(max_examples=20, **SETTINGS)
@given(a_spec=poly_specs(max_degree=4), b_spec=poly_specs(max_degree=4))
def test_commutator_and_anticommutator_match_matrices(a_spec, b_spec):
    A, B = build(a_spec), build(b_spec)
    comm, anti = commutator(A, B), anticommutator(A, B)
    assert_canonical(comm)
    assert_canonical(anti)
    for spin in SPINS:
        ref = REFERENCES[spin]
        a, b = ref.poly(a_spec), ref.poly(b_spec)
        # the matrices of the canonical A and B are those of their factors
        assert_close(op_matrix(spin, A), a, norm(a))
        assert_close(op_matrix(spin, B), b, norm(b))
        scale = norm(a) * norm(b)
        assert_close(op_matrix(spin, comm), a @ b - b @ a, scale)
        assert_close(op_matrix(spin, anti), a @ b + b @ a, scale)


# ============================================================================================
# 2. Jacobi identity and Leibniz rule, canonically
# ============================================================================================

@settings(max_examples=25, **SETTINGS)
@given(
    a_spec=poly_specs(max_degree=3, max_terms=2, symbolic=True),
    b_spec=poly_specs(max_degree=2, max_terms=2, symbolic=True),
    c_spec=poly_specs(max_degree=2, max_terms=2, symbolic=True),
)
def test_jacobi_identity(a_spec, b_spec, c_spec):
    A, B, C = build(a_spec), build(b_spec), build(c_spec)
    jac = commutator(A, commutator(B, C)) + commutator(B, commutator(C, A)) + commutator(
        C, commutator(A, B)
    )
    assert jac.is_zero(), jac
    assert same_operator(jac, 0)


@settings(max_examples=25, **SETTINGS)
@given(
    a_spec=poly_specs(max_degree=3, max_terms=2, symbolic=True),
    b_spec=poly_specs(max_degree=2, max_terms=2, symbolic=True),
    c_spec=poly_specs(max_degree=2, max_terms=2, symbolic=True),
)
def test_leibniz_rule_and_associativity(a_spec, b_spec, c_spec):
    A, B, C = build(a_spec), build(b_spec), build(c_spec)
    lhs = commutator(A, B * C)
    rhs = commutator(A, B) * C + B * commutator(A, C)
    assert lhs == rhs
    assert (lhs - rhs).is_zero()
    # the anticommutator version and associativity of the canonical product
    assert (anticommutator(A, B * C) - (anticommutator(A, B) * C - B * commutator(A, C))).is_zero()
    assert ((A * B) * C - A * (B * C)).is_zero()


# ============================================================================================
# 3. canonical form: idempotent and faithful
# ============================================================================================

@settings(max_examples=30, **SETTINGS)
@given(spec=poly_specs(max_degree=4, symbolic=True), other=poly_specs(max_degree=2))
def test_canonical_form_is_idempotent(spec, other):
    op = build(spec)
    for x in (op, op * build(other), commutator(op, build(other)), to_sites(op)):
        assert_canonical(x)
        again = Op(dict(x.terms))
        assert again.terms == x.terms
        assert Op(dict(reversed(list(x.terms.items())))).terms == x.terms
        assert (x + 0).terms == x.terms and (x * 1).terms == x.terms
        assert (x - x).is_zero()
        # rebuilding from single monomials gives the same canonical form
        rebuilt = sum((Op({k: 1}) * c for k, c in x.terms.items()), Op())
        assert rebuilt.terms == x.terms
    # the per-site form of a per-site operator is itself; of a collective one, equal
    assert to_sites(to_sites(op)).terms == to_sites(op).terms
    assert same_operator(to_sites(op), op)


@settings(max_examples=20, **SETTINGS)
@given(a_spec=poly_specs(max_degree=4, symbolic=True), b_spec=poly_specs(max_degree=2, symbolic=True))
def test_equality_hash_and_adjoint(a_spec, b_spec):
    A, B = build(a_spec), build(b_spec)
    # the collective and the per-site form of one operator: equal, with equal hashes
    a_sites = to_sites(A)
    assert a_sites == A and A == a_sites and hash(a_sites) == hash(A)
    p1, p2 = A * B, a_sites * to_sites(B)
    assert p1 == p2 and hash(p1) == hash(p2)
    assert (A**0).terms == {(): 1} and (A / 2 - A * sp.Rational(1, 2)).is_zero()
    assert (1 - A) == -(A - 1)
    # adjoint: an anti-automorphism, the conjugate transpose on matrices
    adj = A.adjoint()
    assert_canonical(adj)
    assert adj.adjoint() == A
    assert ((A * B).adjoint() - B.adjoint() * A.adjoint()).is_zero()
    for spin in ("1/2", "3/2"):
        m = REFERENCES[spin].poly(a_spec)
        assert_close(op_matrix(spin, adj), m.conj().T, norm(m))


def test_same_named_distinct_site_symbols_commute():
    # two distinct symbols that share a name (and differ in assumptions) are distinct sites
    plain, other = sp.Symbol("i"), sp.Symbol("i", integer=True, positive=True)
    assert plain != other
    x, y = S(plain, 0), S(other, 1)
    # distinct symbols are distinct sites, so x and y commute (as their matrices do)
    system = SYSTEMS["1/2"]
    site_map = {plain: 0, other: 1}
    mx, my = system.matrix(x, site_map=site_map), system.matrix(y, site_map=site_map)
    assert np.allclose(mx @ my, my @ mx)
    assert same_operator(x * y, y * x)
    assert commutator(x, y).is_zero()


WORDS = st.lists(AXIS, min_size=1, max_size=3).map(lambda w: tuple(sorted(w)))


@st.composite
def canonical_site_keys(draw):
    free_syms = draw(st.sampled_from([(), (I_SITE,), (J_SITE,), (I_SITE, J_SITE)]))
    free = tuple((s, draw(WORDS)) for s in free_syms)
    bound = tuple(sorted(draw(st.lists(WORDS, min_size=0 if free else 1, max_size=2))))
    return ("S", free, bound)


CANONICAL_KEYS = st.one_of(
    st.lists(AXIS, min_size=1, max_size=4).map(lambda w: ("M", tuple(sorted(w)))),
    canonical_site_keys(),
)


@settings(max_examples=60, **SETTINGS)
@given(k1=CANONICAL_KEYS, k2=CANONICAL_KEYS)
def test_distinct_canonical_monomials_are_never_merged(k1, k2):
    for k in (k1, k2):
        assert_canonical_key(k)
        assert Op({k: 1}).terms == {k: 1}
    if k1 == k2 or k1[0] != k2[0]:
        # a collective and a per-site key may be equal operators (M0 = gamma sum S)
        return
    total = Op({k1: 1}) + Op({k2: 2})
    assert total.terms == {k1: 1, k2: 2}
    assert not same_operator(Op({k1: 1}), Op({k2: 1}))


@settings(max_examples=40, **SETTINGS)
@given(
    n=st.integers(1, 4),
    data=st.data(),
)
def test_distinct_pbw_words_have_non_proportional_matrices(n, data):
    system = SpinSystem(2, "3/2", hbar=HBAR, gamma=GAMMA)
    words = list(itertools.combinations_with_replacement(range(3), n))
    w1, w2 = data.draw(st.lists(st.sampled_from(words), min_size=2, max_size=2, unique=True))
    m1 = system.matrix(Op({("M", w1): 1})).ravel()
    m2 = system.matrix(Op({("M", w2): 1})).ravel()
    overlap = abs(np.vdot(m1, m2)) ** 2
    assert overlap < (1 - 1e-6) * np.vdot(m1, m1).real * np.vdot(m2, m2).real


def test_pbw_words_are_linearly_independent():
    """All sorted collective words of degree <= 4 (35 of them) are independent
    operators on two spins 3/2, so no canonical form could merge two of them."""
    system = SpinSystem(2, "3/2", hbar=HBAR, gamma=GAMMA)
    words = [w for n in range(5) for w in itertools.combinations_with_replacement(range(3), n)]
    mats = np.array([system.matrix(Op({("M", w) if w else (): 1})).ravel() for w in words])
    assert np.linalg.matrix_rank(mats, tol=1e-8 * np.linalg.norm(mats, 2)) == len(words)


@settings(max_examples=40, **SETTINGS)
@given(word=st.lists(AXIS, min_size=0, max_size=5).map(tuple))
def test_pbw_reduction_is_sorted_and_exact(word):
    """pbw(word) is a combination of sorted words that equals the word in every spin."""
    from symmag.algebra.su2 import UNIT_COLLECTIVE

    out = pbw(word)
    assert all(is_sorted(w) for w, _, _ in out)
    assert all(len(w) + k == len(word) for w, k, _ in out)  # each commutator trades a factor
    op = Op({("M", w) if w else (): c * UNIT_COLLECTIVE**k for w, k, c in out})
    direct = reduce(lambda x, a: x * M0(a), word, Op.scalar(1))
    assert op == direct
    for spin in ("1/2", "3/2"):
        ref = REFERENCES[spin]
        expected = reduce(np.matmul, (ref.collective(a) for a in word), np.eye(ref.dim, dtype=complex))
        assert_close(op_matrix(spin, op), expected, norm(expected))


# ============================================================================================
# 4. no representation identity unless declared
# ============================================================================================

@settings(max_examples=20, **SETTINGS)
@given(a_spec=poly_specs(max_degree=4, kinds="site"), b_spec=poly_specs(max_degree=3, kinds="site"))
def test_site_algebra_is_representation_independent(a_spec, b_spec):
    A, B = build(a_spec), build(b_spec)
    prod = A * B
    square = A**2
    for spin in SPINS:
        ref = REFERENCES[spin]
        a, b = ref.poly(a_spec), ref.poly(b_spec)
        assert_close(op_matrix(spin, A), a, norm(a))
        assert_close(op_matrix(spin, prod), a @ b, norm(a) * norm(b))
        assert_close(op_matrix(spin, square), a @ a, norm(a) ** 2)


def test_squares_stay_degree_two():
    sq = S(I_SITE, 0) * S(I_SITE, 0)
    assert sq.terms == {("S", ((I_SITE, (0, 0)),), ()): 1}
    assert sq.degree() == 2 and not sq.is_scalar()
    summed = site_sum(lambda k: S(k, 0) * S(k, 0))
    assert summed.terms == {("S", (), ((0, 0),)): 1}
    casimir = sum((S(I_SITE, a) * S(I_SITE, a) for a in range(3)), Op())
    assert casimir.degree() == 2 and not casimir.is_scalar()
    # {S^x, S^y} is not reduced to zero (it is for spin 1/2 only)
    anti = anticommutator(S(I_SITE, 0), S(I_SITE, 1))
    assert anti.degree() == 2 and not anti.is_zero()


REPRESENTATIONS = {s: Representation(sp.Rational(s)) for s in SPINS}


@settings(max_examples=30, **SETTINGS)
@given(spec=poly_specs(max_degree=4, symbolic=True))
def test_declared_representation_matches_its_spin(spec):
    op = build(spec)
    for spin in SPINS:
        reduced = represent(op, REPRESENTATIONS[spin])
        assert_canonical(reduced)
        for k in reduced.terms:
            words = [w for _, w in k[1]] + list(k[2]) if k else []
            if spin == "1/2":
                assert all(len(w) <= 1 for w in words), k
            else:
                assert all(w.count(2) <= 1 for w in words), k
        expected = REFERENCES[spin].poly(spec)
        assert_close(op_matrix(spin, reduced), expected, norm(expected))


@settings(max_examples=12, **SETTINGS)
@given(a_spec=poly_specs(max_degree=3, symbolic=True), b_spec=poly_specs(max_degree=3))
def test_represent_is_canonical_and_multiplicative(a_spec, b_spec):
    """represent() is idempotent and a homomorphism onto its reduced words:
    reducing a product equals reducing the product of the reduced factors."""
    A, B = build(a_spec), build(b_spec)
    half_by_casimir = Representation(sp.Rational(1, 2), ("casimir",))
    for rep in (*REPRESENTATIONS.values(), half_by_casimir):
        ra, rb = represent(A, rep), represent(B, rep)
        assert represent(ra, rep).terms == ra.terms
        assert (represent(A * B, rep) - represent(ra * rb, rep)).is_zero()
    # the Casimir alone is a valid identity at spin 1/2, too
    expected = REFERENCES["1/2"].poly(a_spec)
    assert_close(op_matrix("1/2", represent(A, half_by_casimir)), expected, norm(expected))


def test_representation_is_not_applied_to_other_spins():
    witness = site_sum(lambda k: S(k, 0) * S(k, 0))
    half = represent(witness, REPRESENTATIONS["1/2"])
    assert same_operator(half, N * hbar**2 / 4)
    one = represent(witness, REPRESENTATIONS["1"])
    assert one == witness  # casimir keeps words with at most one z: nothing to do
    for spin in SPINS:
        assert_close(op_matrix(spin, witness), REFERENCES[spin].factor(("sum2", 0, 0)), 1.0)
    # the spin-1/2 identity is right for spin 1/2 and wrong for spin 1
    expected_half = REFERENCES["1/2"].factor(("sum2", 0, 0))
    assert_close(op_matrix("1/2", half), expected_half, 1.0)
    diff = op_matrix("1", half) - REFERENCES["1"].factor(("sum2", 0, 0))
    assert np.max(np.abs(diff)) > 0.1
    # and the Casimir of spin 1 is wrong for spin 1/2
    casimir = site_sum(lambda k: S(k, 0) * S(k, 0) + S(k, 1) * S(k, 1) + S(k, 2) * S(k, 2))
    c1 = represent(casimir, REPRESENTATIONS["1"])
    assert same_operator(c1, 2 * N * hbar**2)
    assert_close(op_matrix("1", c1), op_matrix("1", casimir), 1.0)
    diff = op_matrix("1/2", c1) - op_matrix("1/2", casimir)
    assert np.max(np.abs(diff)) > 0.1


# ============================================================================================
# 5. the expectation map
# ============================================================================================

EXP_SITES, EXP_SPIN, V_VALUE = 2, "1", 2.5


def _density_matrix(dim: int) -> np.ndarray:
    rng = np.random.default_rng(20240607)
    x = rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))
    rho = x @ x.conj().T + 0.1 * np.eye(dim)
    return rho / np.trace(rho).real


def _expectation_values() -> tuple[SpinSystem, np.ndarray, dict]:
    system = SpinSystem(EXP_SITES, EXP_SPIN, hbar=HBAR, gamma=GAMMA)
    rho = _density_matrix(system.dim)
    assert np.allclose(rho, rho.conj().T) and np.linalg.eigvalsh(rho).min() > 0
    assert np.isclose(np.trace(rho), 1)
    mats = [system.collective(a) for a in range(3)]
    vals = {V: sp.Float(V_VALUE), hbar: sp.Float(HBAR), gamma: sp.Float(GAMMA),
            LAM: sp.Float(LAM_VALUE), N: sp.Integer(EXP_SITES)}
    for n in range(1, 5):
        for word in itertools.combinations_with_replacement(range(3), n):
            perms = list(itertools.permutations(word))
            w = sum(reduce(np.matmul, (mats[a] for a in p)) for p in perms) / len(perms)
            avg = np.trace(rho @ w) / V_VALUE
            assert abs(avg.imag) < 1e-10 * max(1.0, abs(avg))
            vals[correlation_symbol(word)] = sp.Float(2 ** (n - 1) * avg.real)
    return system, rho, vals


EXP_SYSTEM, RHO, EXP_VALUES = _expectation_values()


@settings(max_examples=40, **SETTINGS)
@given(spec=poly_specs(max_degree=4, kinds="collective", max_terms=4, symbolic=True))
def test_expectation_is_the_trace_with_rho(spec):
    op = build(spec)
    value = expectation(op)
    assert value.free_symbols <= set(EXP_VALUES)
    got = complex(value.xreplace(EXP_VALUES))
    matrix = EXP_SYSTEM.matrix(op, values={LAM: LAM_VALUE})
    expected = np.trace(RHO @ matrix) / V_VALUE
    assert abs(got - expected) <= RTOL * max(1.0, norm(matrix))


def test_expectation_of_symmetrized_words_is_exact():
    """<W(w)> = G^w / 2^(n-1) and <1> = 1/V symbolically, for every word of degree <= 4."""
    assert expectation(Op.scalar(1)) == 1 / V
    for n in range(1, 5):
        for word in itertools.combinations_with_replacement(range(3), n):
            perms = list(itertools.permutations(word))
            w = sum((reduce(lambda x, a: x * M0(a), p, Op.scalar(1)) for p in perms), Op())
            got = expectation(w / len(perms))
            assert sp.expand(got - correlation_symbol(word) / 2 ** (n - 1)) == 0, (word, got)
    for a in range(3):
        for b in range(3):
            assert sp.expand(expectation(anticommutator(M0(a), M0(b))) - correlation_symbol((a, b))) == 0
