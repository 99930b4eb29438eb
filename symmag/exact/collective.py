"""Exact dynamics in the collective (total-spin-sector) representation, for large N (issue #8).

A Hamiltonian built only from the collective moment M̂₀ = γ Σᵢ Ŝᵢ (6) of N spins ½ commutes with
every permutation of the sites, so the Liouville-von Neumann equation (1) never leaves a
total-spin sector J = N/2, N/2 - 1, ...: ρ = ⊕_J (d_J copies of ρ_J), with multiplicity
d_J = C(N, N/2-J) - C(N, N/2-J-1), and ⟨A⟩ = Σ_J d_J Tr{ρ_J A_J}/V for a collective A.  The cost
grows like N³ instead of 4^N.

Conventions -- those of :class:`symmag.algebra.matrices.SpinSystem`, checked against it in the tests:
numeric ħ and γ (default γ = -1, the paper's γ = -|γ|); Ŝᵢ = ħσᵢ/2; in sector J, M̂₀ᵃ = γħ Jᵃ with
Jᵃ the spin-J matrices in the basis m = +J ... -J (J₊ just above the diagonal, as in
:func:`symmag.algebra.matrices.spin_matrices`); M = ⟨M̂₀⟩/V = Tr{ρ M̂₀}/V (5) with V = 1 unless given;
G^{ab} = ⟨[M̂₀ᵃ, M̂₀ᵇ]₊⟩/V.  ρ has unit trace.

Hamiltonians are polynomials in the components of M̂₀ whose c-number coefficients may depend on t
and on M (self-consistent fields, as both of the paper's interactions) -- written symbolically and
translated by :mod:`symmag.exact.solve`, or by hand: ``hamiltonian(t, M)``
returns a mapping word -> coefficient, a word being a string over "xyz" or a tuple of axes 0-2,
e.g. ``{"z": -h, "xy": k, "yx": k}`` is -h M̂₀ᶻ + k (M̂₀ˣM̂₀ʸ + M̂₀ʸM̂₀ˣ).  Matrices are never
formed on the ODE route: every word is banded in the |J, m⟩ basis.  A fixed Hamiltonian (the
mapping itself, no callback) is propagated exactly by diagonalizing each kept sector's block.

States.  Each sector's ρ_J is held as weighted pure states, d_J ρ_J = Σ_k w_k |ψ_k⟩⟨ψ_k| with w_k
the probability of state k in the whole ρ (for the thermal state (11), the R₀ eigenbasis).  States
are dropped smallest weight first while the dropped total stays ≤ ``weight_cutoff``, so whole
sectors go when all their states do; the total is reported (``neglected_weight``), and the kept
part is not renormalized: for a fixed H, |⟨A⟩ - ⟨A⟩_kept| ≤ neglected_weight · ‖A‖.  Weights are
computed in logarithms (d_J overflows a float beyond N ≈ 1030).

Limits, checked before anything is allocated or integrated (each error names its constant):
:data:`MAX_SITES` spins, :data:`MAX_ELEMENTS` complex numbers in any one array the state or the
banded Hamiltonian needs, words of at most :data:`MAX_WORD_DEGREE` letters, :data:`MAX_TIMES`
output times, tolerances rtol ≥ :data:`MIN_RTOL` and atol > 0, and at most ``max_steps``
integrator steps (default :data:`MAX_STEPS`).  A Hamiltonian callback that raises or returns
something else than a polynomial is one :class:`SymmagInputError` naming the time.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sps
from scipy.integrate import DOP853
from scipy.linalg import eigh_tridiagonal
from scipy.special import gammaln, logsumexp

from ..errors import SymmagInputError

Word = str | tuple[int, ...]
Polynomial = Mapping[Word, complex]
Hamiltonian = Callable[[float, np.ndarray], Polynomial]

_AXES = {"x": 0, "y": 1, "z": 2}

#: Most spins: the sectors alone are N/2 arrays, the thermal state's weights (N/2)² numbers.
MAX_SITES = 100_000
#: Most complex numbers in one array (the kept states, the stacked words of the Hamiltonian):
#: 2e7 complex numbers are 320 MB.
MAX_ELEMENTS = 20_000_000
#: Longest word of a polynomial in M̂₀: its coefficient tensor has 3ⁿ entries.
MAX_WORD_DEGREE = 12
#: Most output times (the moments stored: 12 numbers a time with second moments).
MAX_TIMES = 1_000_000
#: Smallest relative tolerance: below 100 machine epsilons DOP853 silently raises it.
MIN_RTOL = 100 * float(np.finfo(float).eps)
#: Default step budget of :func:`evolve_collective`: the tests need at most about 110 steps
#: (1280 right-hand sides); a step of 3 spins costs about 6 ms, so 5000 steps are 30 s.
MAX_STEPS = 5_000
#: integrator="auto" compiles (symmag.exact.fused, ~5 s of numba JIT once per process) from this many
#: amplitudes on: at N = 100 (5.1e4 amplitudes, three periods) the compiled route saved ~1 s, at N = 200
#: (1.6e5) ~5 s.  Below it SciPy's DOP853, unless windows (``support_tolerance``) are asked for.
AUTO_COMPILED_AMPLITUDES = 100_000
#: Rows added either side of a pure state's window with ``support_tolerance`` (twice the band of a
#: quadratic Hamiltonian); windows grow by at least twice this.
SUPPORT_PAD = 4


def _elements(n: int, what: str) -> None:
    if n > MAX_ELEMENTS:
        raise SymmagInputError(
            f"{what} needs {n:.3g} complex numbers, more than the limit "
            f"symmag.exact.collective.MAX_ELEMENTS = {MAX_ELEMENTS:.3g}")


def _tolerances(rtol, atol) -> tuple[float, float]:
    rtol, atol = _real(rtol, "rtol"), _real(atol, "atol")
    if not MIN_RTOL <= rtol < 1:
        raise SymmagInputError(
            f"rtol must be in [symmag.exact.collective.MIN_RTOL = {MIN_RTOL:.3g}, 1), got {rtol!r}")
    if not atol > 0:
        raise SymmagInputError(f"atol must be positive, got {atol!r}")
    return rtol, atol


def _real(value, name: str) -> float:
    """A finite real number (not bool), else one clear error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise SymmagInputError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def _vector3(value, name: str) -> np.ndarray:
    try:
        v = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise SymmagInputError(f"{name} must be 3 real numbers, got {value!r}") from None
    if v.shape != (3,) or not np.all(np.isfinite(v)):
        raise SymmagInputError(f"{name} must be 3 finite real numbers, got shape {v.shape}")
    return v


def _word(key) -> tuple[int, ...]:
    if isinstance(key, (str, tuple)) and len(key) > MAX_WORD_DEGREE:
        raise SymmagInputError(
            f"a word of {len(key)} letters exceeds the limit symmag.exact.collective.MAX_WORD_DEGREE = "
            f"{MAX_WORD_DEGREE}")
    if isinstance(key, str) and all(ch in _AXES for ch in key):
        return tuple(_AXES[ch] for ch in key)
    if isinstance(key, tuple) and all(isinstance(a, numbers.Integral) and not isinstance(a, bool)
                                      and 0 <= a <= 2 for a in key):
        return tuple(int(a) for a in key)
    raise SymmagInputError(f"a word is a string over 'xyz' or a tuple of axes 0-2, got {key!r}")


def _tensors(poly) -> dict[int, np.ndarray]:
    """Coefficient tensors by degree, C[a1, ..., an] of M̂₀^{a1}...M̂₀^{an}."""
    if not isinstance(poly, Mapping):
        raise SymmagInputError(f"the Hamiltonian must be a mapping word -> number, got {type(poly).__name__}")
    out: dict[int, np.ndarray] = {}
    for key, c in poly.items():
        w = _word(key)
        if not isinstance(c, numbers.Number) or not np.isfinite(c):
            raise SymmagInputError(f"coefficient of {key!r} must be a finite number, got {c!r}")
        t = out.setdefault(len(w), np.zeros((3,) * len(w), dtype=complex))
        t[w] += c
    return out


@dataclass(frozen=True)
class CollectiveSystem:
    """N spins ½ seen through their total-spin sectors; numeric ħ, γ and volume V."""

    n_sites: int
    hbar: float = 1.0
    gamma: float = -1.0
    volume: float = 1.0

    def __post_init__(self):
        n = self.n_sites
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise SymmagInputError(f"n_sites must be a positive integer, got {n!r}")
        if n > MAX_SITES:
            raise SymmagInputError(
                f"n_sites = {n} exceeds the limit symmag.exact.collective.MAX_SITES = {MAX_SITES}")
        hbar, gamma, volume = (_real(getattr(self, k), k) for k in ("hbar", "gamma", "volume"))
        if hbar <= 0 or volume <= 0 or gamma == 0:
            raise SymmagInputError("hbar and volume must be positive and gamma nonzero")
        for k, v in (("n_sites", int(n)), ("hbar", hbar), ("gamma", gamma), ("volume", volume)):
            object.__setattr__(self, k, v)

    @property
    def sectors(self) -> tuple[float, ...]:
        """J = N/2, N/2 - 1, ..., down to 0 or 1/2."""
        return tuple((self.n_sites - 2 * k) / 2 for k in range(self.n_sites // 2 + 1))

    def _k(self, j) -> int:
        """k = N/2 - J, checking that J is a sector."""
        k2 = self.n_sites - 2 * _real(j, "J")
        if k2 != int(k2) or int(k2) % 2 or not 0 <= k2 <= self.n_sites:
            raise SymmagInputError(f"J = {j!r} is not a total-spin sector of {self.n_sites} spins 1/2")
        return int(k2) // 2

    def multiplicity(self, j) -> int:
        """d_J = C(N, N/2-J) - C(N, N/2-J-1), exact."""
        k = self._k(j)
        return math.comb(self.n_sites, k) - (math.comb(self.n_sites, k - 1) if k else 0)

    def log_multiplicity(self, j) -> float:
        """log d_J, finite for any N (d_J itself overflows a float beyond N ≈ 1030)."""
        self._k(j)
        return float(_log_d(self.n_sites, np.array([float(j)]))[0])

    @property
    def log_multiplicities(self) -> np.ndarray:
        """log d_J for every sector, in the order of :attr:`sectors`."""
        return _log_d(self.n_sites, np.array(self.sectors))

    def spin_matrices(self, j) -> tuple[sps.csr_matrix, sps.csr_matrix, sps.csr_matrix]:
        """Dimensionless (Jˣ, Jʸ, Jᶻ) of sector J, sparse, basis m = +J ... -J."""
        self._k(j)
        return _ladder(float(j))

    def collective(self, j, a: int) -> sps.csr_matrix:
        """M̂₀ᵃ = γħ Jᵃ in sector J (eq. (6) restricted to the sector)."""
        return self.gamma * self.hbar * self.spin_matrices(j)[a]

    def operator(self, j, poly: Polynomial) -> sps.csr_matrix:
        """Σ_w c_w M̂₀^{w1}...M̂₀^{wn} in sector J (the identity for the empty word)."""
        mats = [self.collective(j, a) for a in range(3)]
        dim = _dim(j)
        out = sps.csr_matrix((dim, dim), dtype=complex)
        for key, c in poly.items():
            term = sps.identity(dim, dtype=complex, format="csr")
            for a in _word(key):
                term = term @ mats[a]
            out = out + c * term
        return out


def _log_d(n: int, j: np.ndarray) -> np.ndarray:
    """log d_J = log[C(N, k) (2J+1)/(N/2+J+1)], k = N/2 - J: the difference of binomials in closed
    form, so no cancellation between huge numbers."""
    return gammaln(n + 1) - gammaln(n / 2 - j + 1) - gammaln(n / 2 + j + 2) + np.log(2 * j + 1)


def _dim(j: float) -> int:
    return round(2 * j) + 1


def _ladder(j: float) -> tuple[sps.csr_matrix, sps.csr_matrix, sps.csr_matrix]:
    m = j - np.arange(_dim(j))
    jp = sps.diags(np.sqrt(j * (j + 1) - m[1:] * (m[1:] + 1)), 1, format="csr")  # <m+1|J+|m>
    return (((jp + jp.T) / 2).tocsr(), ((jp - jp.T) / 2j).tocsr(), sps.diags(m, 0, format="csr"))


@dataclass(frozen=True, eq=False)
class SectorStates:
    """Sector J of a state: d_J ρ_J = Σ_k weights[k] |ψ_k⟩⟨ψ_k|, ψ_k the columns of ``vectors``."""

    j: float
    vectors: np.ndarray  # (2J+1, K), unit columns
    weights: np.ndarray  # (K,), probabilities in the whole ρ


@dataclass(frozen=True, eq=False)
class CollectiveState:
    """ρ = ⊕_J (d_J copies of ρ_J), truncated: the kept sectors and what was dropped."""

    system: CollectiveSystem
    blocks: tuple[SectorStates, ...]
    neglected_weight: float

    @property
    def sectors(self) -> tuple[float, ...]:
        return tuple(b.j for b in self.blocks)

    @property
    def n_states(self) -> int:
        return sum(len(b.weights) for b in self.blocks)

    def expectation(self, poly: Polynomial) -> complex:
        """⟨A⟩ = Σ_J d_J Tr{ρ_J A_J}/V (5), over the kept part."""
        total = 0j
        for b in self.blocks:
            a = self.system.operator(b.j, poly)
            total += np.einsum("ik,ik,k->", b.vectors.conj(), a @ b.vectors, b.weights)
        return total / self.system.volume


def _keep(log_w: list[np.ndarray], cutoff: float) -> tuple[list[np.ndarray], float]:
    """Drop the smallest weights while their total stays ≤ cutoff: masks of kept states, dropped total."""
    flat = np.concatenate(log_w)
    order = np.argsort(flat, kind="stable")
    dropped = np.cumsum(np.exp(flat[order]))  # smallest first, so the partial sums are accurate
    n_drop = int(np.searchsorted(dropped, cutoff, side="right"))
    keep = np.ones(flat.size, dtype=bool)
    keep[order[:n_drop]] = False
    bounds = np.cumsum([0, *(len(x) for x in log_w)])
    return [keep[a:b] for a, b in itertools.pairwise(bounds)], float(dropped[n_drop - 1]) if n_drop else 0.0


def _cutoff(value) -> float:
    c = _real(value, "weight_cutoff")
    if not 0 <= c < 1:
        raise SymmagInputError(f"weight_cutoff must be in [0, 1), got {value!r}")
    return c


def thermal_state(system: CollectiveSystem, r0: Sequence[float], beta: float,
                  weight_cutoff: float = 1e-12) -> CollectiveState:
    """ρ̂₀ = exp(-β I₀)/Z₀ with I₀ = Σᵢ Ŝᵢ·R₀ = M̂₀·R₀/γ (11), (14).

    In sector J, I₀ = ħ|R₀| (n̂·J) has eigenvalues ħ|R₀| m, so state (J, m) has probability
    d_J e^{-bm}/Z₀ with b = βħ|R₀| and Z₀ = (2 cosh(b/2))^N; the single-spin polarization along
    -n̂ is tanh(b/2)."""
    if not isinstance(system, CollectiveSystem):
        raise SymmagInputError(f"system must be a CollectiveSystem, got {type(system).__name__}")
    r0, beta, cutoff = _vector3(r0, "r0"), _real(beta, "beta"), _cutoff(weight_cutoff)
    half = system.n_sites // 2
    _elements((half + 1) * (system.n_sites + 1 - half), "the thermal state's weights")
    r = float(np.linalg.norm(r0))
    b = beta * system.hbar * r
    n = system.n_sites
    log_z = n * (abs(b) / 2 + math.log1p(math.exp(-abs(b))))
    ms = [j - np.arange(_dim(j)) for j in system.sectors]  # +J ... -J
    log_w = [ld - b * m - log_z for ld, m in zip(system.log_multiplicities, ms)]
    keep, neglected = _keep(log_w, cutoff)
    _elements(sum(len(m) * int(kp.sum()) for m, kp in zip(ms, keep)), "the kept states")
    nx, ny, nz = r0 / r if r > 0 else (0.0, 0.0, 1.0)  # no field: any basis diagonalizes ρ_J
    s, phi = math.hypot(nx, ny), math.atan2(ny, nx)
    blocks = []
    for j, m, lw, kp in zip(system.sectors, ms, log_w, keep):
        if not kp.any():
            continue
        dim = len(m)
        # n̂·J = D T D†, D = diag(e^{i i φ}), T real tridiagonal: eigenvectors of T, ascending m = -J...
        c = np.sqrt(j * (j + 1) - m[1:] * (m[1:] + 1))
        idx = np.flatnonzero(kp)  # positions in +J ... -J
        lo, hi = dim - 1 - idx.max(), dim - 1 - idx.min()  # the same states in ascending order
        _, u = eigh_tridiagonal(nz * m, s * c / 2, select="i", select_range=(lo, hi))
        u = np.exp(1j * phi * np.arange(dim))[:, None] * u[:, ::-1]  # back to descending m
        cols = idx - idx.min()
        blocks.append(SectorStates(j, u[:, cols], np.exp(lw[idx])))
    return CollectiveState(system, tuple(blocks), neglected)


def state_from_blocks(system: CollectiveSystem, blocks: Mapping[float, np.ndarray],
                      log_scales: Mapping[float, float] | None = None,
                      weight_cutoff: float = 1e-12) -> CollectiveState:
    """ρ = ⊕_J (d_J copies of e^{s_J} B_J)/Z from positive semidefinite blocks B_J, s_J =
    ``log_scales[J]`` (default 0); Z = Σ_J d_J e^{s_J} Tr B_J, so sector J weighs d_J e^{s_J} Tr B_J/Z
    (computed in logarithms).  Sectors not given are empty."""
    if not isinstance(system, CollectiveSystem):
        raise SymmagInputError(f"system must be a CollectiveSystem, got {type(system).__name__}")
    if not isinstance(blocks, Mapping) or not blocks:
        raise SymmagInputError("blocks must be a non-empty mapping J -> matrix")
    cutoff = _cutoff(weight_cutoff)
    log_scales = dict(log_scales or {})
    js, vecs, log_w = [], [], []
    for j, block in blocks.items():
        system._k(j)
        dim = _dim(j)
        try:
            bm = np.asarray(block, dtype=complex)
        except (TypeError, ValueError):
            raise SymmagInputError(f"block of J = {j} must be a numeric matrix") from None
        if bm.shape != (dim, dim) or not np.all(np.isfinite(bm)):
            raise SymmagInputError(f"block of J = {j} must be a finite {dim}x{dim} matrix, got {bm.shape}")
        scale = np.abs(bm).max()
        if np.abs(bm - bm.conj().T).max() > 1e-12 * scale:
            raise SymmagInputError(f"block of J = {j} is not Hermitian")
        lam, v = np.linalg.eigh((bm + bm.conj().T) / 2)
        if lam.min() < -1e-12 * max(lam.max(), 0):
            raise SymmagInputError(f"block of J = {j} is not positive semidefinite ({lam.min():.3g})")
        pos = lam > 0
        js.append(float(j))
        vecs.append(v[:, pos])
        scale_j = _real(log_scales.get(j, 0.0), "log scale")
        log_w.append(system.log_multiplicity(j) + scale_j + np.log(lam[pos]))
    if not any(len(x) for x in log_w):
        raise SymmagInputError("every block is zero")
    log_z = logsumexp(np.concatenate(log_w))
    keep, neglected = _keep([x - log_z for x in log_w], cutoff)
    out = [SectorStates(j, v[:, kp], np.exp(lw[kp] - log_z))
           for j, v, lw, kp in zip(js, vecs, log_w, keep) if kp.any()]
    return CollectiveState(system, tuple(out), neglected)


@dataclass(frozen=True, eq=False)
class CollectiveResult:
    """Exact collective dynamics at the requested times (over the kept part of ρ)."""

    t: np.ndarray  # (T,)
    M: np.ndarray  # (3, T): ⟨M̂₀⟩/V
    G: np.ndarray | None  # (3, 3, T): ⟨[M̂₀ᵃ, M̂₀ᵇ]₊⟩/V, when asked for
    neglected_weight: float
    sectors: tuple[float, ...]  # kept sectors J
    n_states: int  # kept pure states
    nfev: int  # right-hand-side evaluations
    #: <P>(t)/V of each polynomial asked for with ``observables`` (e.g. three-point words)
    observables: dict | None = None
    #: with ``support_tolerance``: Σ_k ε_k², ε_k a bound on ‖φ_k - φ_k^window‖ (the tail dropped at t₀ plus
    #: ∫‖(1 - P_k)Hψ_k‖dt/ħ, what left the window), and Σ_k (2‖φ_k‖ε_k + ε_k²) ≥ ‖ρ - ρ_window‖₁ for
    #: the same H(t): |ΔM^a| ≤ truncation_bound · |γ|ħ J_max / V
    truncated_weight: float = 0.0
    truncation_bound: float = 0.0
    #: amplitudes integrated (the windows' total, when they were last grown, with ``support_tolerance``)
    n_amplitudes: int = 0
    #: times the windows were grown during the run (each one restart of the integrator, one evaluation)
    regrowths: int = 0


def _rotation(omega: np.ndarray, tau: float) -> np.ndarray:
    """R = exp(τ [ω]×), [ω]× v = ω × v (Rodrigues)."""
    w = float(np.linalg.norm(omega))
    if w == 0:
        return np.eye(3)
    k = np.array([[0, -omega[2], omega[1]], [omega[2], 0, -omega[0]], [-omega[1], omega[0], 0]]) / w
    return np.eye(3) + math.sin(w * tau) * k + (1 - math.cos(w * tau)) * (k @ k)


class _Banded:
    """Words of M̂₀ on the kept sectors as diagonals over the stacked sector rows (no global state:
    one instance per evolution).  Row r of the stack is |J, m⟩ of one kept sector; diagonal k of a
    word holds W[r, r+k], zero across sector boundaries since every word is block diagonal."""

    def __init__(self, system: CollectiveSystem, sectors: Sequence[float]):
        ladders = [_ladder(j) for j in sectors]
        g = system.gamma * system.hbar
        self.m = [g * sps.block_diag([lad[a] for lad in ladders], format="csr") for a in range(3)]
        self.size = self.m[0].shape[0]
        self.stacks: dict[int, np.ndarray] = {}
        self.sph: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # real words, offsets

    def stack(self, n: int) -> np.ndarray:
        """(3ⁿ, 2n+1, rows): diagonals -n..n of every word of degree n, built once."""
        if n not in self.stacks:
            _elements(3**n * (2 * n + 1) * self.size, f"the words of degree {n} of the Hamiltonian")
            out = np.zeros((3**n, 2 * n + 1, self.size), dtype=complex)
            for i, w in enumerate(itertools.product(range(3), repeat=n)):
                mat = self.m[w[0]]
                for a in w[1:]:
                    mat = mat @ self.m[a]
                for k in range(-n, n + 1):
                    d = mat.diagonal(k)
                    out[i, k + n, max(-k, 0): max(-k, 0) + len(d)] = d
            self.stacks[n] = out
        return self.stacks[n]

    def spherical(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(3ⁿ, rows) and offsets: each word of degree n in the letters M̂₊, M̂₋, M̂ᶻ (in that order)
        is one diagonal, offset #₊ - #₋ -- a tenth of :meth:`stack`'s memory at degree 2 (real, one
        diagonal a word), read once per right-hand side of the compiled route."""
        if n not in self.sph:
            _elements(3**n * self.size, f"the words of degree {n} of the Hamiltonian")
            letters = [self.m[0] + 1j * self.m[1], self.m[0] - 1j * self.m[1], self.m[2]]
            out = np.zeros((3**n, self.size))  # real: M̂₊ = γħJ₊, M̂₋, M̂ᶻ have real elements
            offsets = np.zeros(3**n, dtype=int)
            for i, w in enumerate(itertools.product(range(3), repeat=n)):
                mat = sps.identity(self.size, dtype=complex, format="csr")
                for a in w:
                    mat = mat @ letters[a]
                k = w.count(0) - w.count(1)
                d = mat.diagonal(k)
                out[i, max(-k, 0): max(-k, 0) + len(d)] = d.real
                offsets[i] = k
            self.sph[n] = (out, offsets)
        return self.sph[n]


#: M̂ˣ = (M̂₊ + M̂₋)/2, M̂ʸ = (M̂₊ - M̂₋)/2i, M̂ᶻ: row a, columns (₊, ₋, z).
_SPHERICAL = np.array([[0.5, 0.5, 0], [-0.5j, 0.5j, 0], [0, 0, 1]], dtype=complex)


def evolve_collective(hamiltonian: Hamiltonian | Polynomial, state: CollectiveState,
                      t_eval: Sequence[float], *,
                      frame: Sequence[float] | None = None, second_moments: bool = False,
                      observables: Mapping[str, Polynomial] | None = None,
                      rtol: float = 1e-10, atol: float = 1e-12,
                      max_steps: int = MAX_STEPS, diagonal_picture: bool = False,
                      integrator: str = "auto", support_tolerance: float = 0.0) -> CollectiveResult:
    """M(t) (and G^{ab}(t) with ``second_moments``) from the Liouville-von Neumann equation (1),
    iħ dρ/dt = [H(t, M), ρ] with M = ⟨M̂₀⟩/V of the current state, at the times ``t_eval``.

    ``hamiltonian(t, M)`` returns the polynomial in M̂₀ (module docstring); it is checked to be
    Hermitian at t_eval[0].  A fixed Hamiltonian -- the polynomial itself, a mapping -- is
    propagated exactly instead: each kept sector's H_J diagonalized once (``frame``, rtol, atol,
    max_steps and ``diagonal_picture`` then play no part; ``nfev`` is 0).  Otherwise each kept pure
    state evolves as iħ dψ/dt = H ψ, all of them in one DOP853 solve (the integrator of
    :func:`symmag.exact.dynamics.evolve`) stepped by hand so that only the moments at ``t_eval`` are
    stored.  ``frame``, a constant vector f, makes the solve run in
    the interaction picture of H_f = f·M̂₀ -- exact for any H, in which M̂₀ rotates rigidly,
    dM̂₀/dt = γ f × M̂₀ -- so a dominant Zeeman term f = -H_ext costs no steps.
    ``diagonal_picture=True`` integrates, in addition, in the interaction picture of D, the diagonal
    of H at t_eval[0] in the |J, m⟩ basis (of the frame, if one is given): φ = e^{iD(t - t₀)/ħ} ψ, the
    phases computed in closed form at every evaluation, so the picture is exact for any H; what is
    left to integrate is H - D: its diagonal is the drift D(t) - D(t₀), its off-diagonal elements turn
    at the differences of D between neighbouring m.  Without it the step is set by the amplitudes in
    the tails of each pure state (down to atol), whose phases turn at the quadratic dispersion of H
    in m (e.g. (M̂₀ᶻ)²/N: (m - m̄)²/N relative to the state's centre) -- which no rotating frame removes.
    Error control is unchanged: DOP853's, on φ, whose entries have the moduli of ψ's; the phases add
    only their rounding, |D|(t - t₀)/ħ times the machine epsilon.
    ``observables`` maps names to polynomials in M̂₀ (the Hamiltonian's format, e.g.
    {"xyz": 1} for M̂₀ˣM̂₀ʸM̂₀ᶻ); their averages ⟨P⟩/V come back in ``result.observables``
    (real part for Hermitian P), so correlations of any order are available on request.
    ``integrator``: "scipy" is SciPy's DOP853 driven step by step; "compiled" the same method
    (tableau, error norm, step control, dense output) in numba kernels fused with the right-hand side
    (:mod:`symmag.exact.fused`: a few passes over the amplitudes per evaluation instead of NumPy's dozens,
    threaded over the pure states only with SYMMAG_FUSED_THREADS set; same answer to rounding, and one
    evaluation fewer per rejected step);
    "auto" (default) is "compiled" when numba is installed, SYMMAG_NO_NUMBA is not set and the state has
    at least :data:`AUTO_COMPILED_AMPLITUDES` amplitudes or windows are asked for, else "scipy".
    ``support_tolerance`` τ > 0 (compiled integrator only): each pure state is integrated on a window of
    its m rows (under P H P) instead of the whole sector -- their support is much narrower than 2J+1
    (at N = 1000 the weighted amplitudes above 1e-20 fill about 27 % of the rows).  What that costs is
    measured during the run, not assumed: per state, the norm of the tail dropped at t₀ plus
    ∫‖(1 - P)Hψ‖dt/ħ (what left the window) bounds ‖φ - φ_window‖, and the windows grow during the
    run so that ``truncation_bound`` Σ_k (2‖φ_k‖ε_k + ε_k²) -- a bound on ‖ρ - ρ_window‖₁ along the
    same H(t), so |ΔM^a| ≤ τ·|γ|ħJ_max/V -- stays ≤ τ (:func:`_windowed`; if it does not, the run
    is repeated on whole sectors).  The error norm is over the untruncated number of amplitudes, so
    the step control is the untruncated run's (the dropped amplitudes carry no error of their own).
    "Along the same H(t)": for a self-consistent H the bound does not cover how a change of M feeds
    back into H (nor does the thermal weight cutoff); the benchmark measures that against a run
    with tighter windows.
    More than ``max_steps`` integrator steps, or an integrator failure, is a
    :class:`SymmagInputError` (the tolerances or the Hamiltonian ask too much)."""
    if not isinstance(state, CollectiveState):
        raise SymmagInputError(f"state must be a CollectiveState, got {type(state).__name__}")
    fixed = isinstance(hamiltonian, Mapping)
    if not fixed and not callable(hamiltonian):
        raise SymmagInputError("hamiltonian must be a polynomial {word: coefficient} or a callable "
                               "(t, M) -> {word: coefficient}")
    try:
        t = np.asarray(t_eval, dtype=float)
    except (TypeError, ValueError):
        raise SymmagInputError("t_eval must be a sequence of real times") from None
    if t.ndim != 1 or t.size < 1 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise SymmagInputError(f"t_eval must be 1-d, increasing and finite, got shape {t.shape}")
    if t.size > MAX_TIMES:
        raise SymmagInputError(
            f"{t.size} output times exceed the limit symmag.exact.collective.MAX_TIMES = {MAX_TIMES}")
    rtol, atol = _tolerances(rtol, atol)
    if isinstance(max_steps, bool) or not isinstance(max_steps, numbers.Integral) or max_steps < 1:
        raise SymmagInputError(f"max_steps must be a positive integer, got {max_steps!r}")
    if not isinstance(diagonal_picture, bool):
        raise SymmagInputError(f"diagonal_picture must be True or False, got {diagonal_picture!r}")
    if integrator not in ("auto", "scipy", "compiled"):
        raise SymmagInputError(f"integrator must be 'auto', 'scipy' or 'compiled', got {integrator!r}")
    cut = _real(support_tolerance, "support_tolerance")
    if not 0 <= cut < 1:
        raise SymmagInputError(f"support_tolerance must be in [0, 1), got {support_tolerance!r}")
    if integrator != "scipy":
        compiled = _banded_kernel() is not None and _fused_available()
        if integrator == "compiled" and not compiled:
            raise SymmagInputError("integrator='compiled' needs numba (installed, SYMMAG_NO_NUMBA unset)")
        large = sum(b.vectors.size for b in state.blocks) >= AUTO_COMPILED_AMPLITUDES
        integrator = "compiled" if compiled and (integrator == "compiled" or large or cut > 0) else "scipy"
    if cut > 0 and integrator != "compiled" and not fixed:
        raise SymmagInputError("support_tolerance needs the compiled integrator (numba installed, "
                               "SYMMAG_NO_NUMBA unset, integrator 'auto' or 'compiled')")
    if observables is not None and not isinstance(observables, Mapping):
        raise SymmagInputError(
            f"observables must be a mapping name -> polynomial, got {type(observables).__name__}")
    f = np.zeros(3) if frame is None else _vector3(frame, "frame")
    if fixed:  # exact propagation needs no frame
        frame, f = None, np.zeros(3)
    system, blocks = state.system, state.blocks
    hbar, vol = system.hbar, system.volume
    omega = system.gamma * f  # dM̂₀/dt = γ f × M̂₀ in the frame

    # Flat layout: the columns √w_k ψ_k one after another, each of length 2J+1, so a diagonal
    # offset k is the same shift for every column; row[e] is the stacked sector row of element e.
    bands = _Banded(system, [b.j for b in blocks])
    dims = np.array([len(b.vectors) for b in blocks])
    starts = np.concatenate([[0], np.cumsum(dims)[:-1]])
    row = np.concatenate([s + np.tile(np.arange(d), len(b.weights)) for s, d, b in zip(starts, dims, blocks)])
    y0 = np.concatenate([(b.vectors * np.sqrt(b.weights)).ravel(order="F") for b in blocks])
    mz = bands.m[2].diagonal().real[row]
    mplus = (bands.m[0] + 1j * bands.m[1]).diagonal(1)  # <r|M̂₊|r+1>, 0 across sectors
    mplus = np.append(mplus, 0.0)[row][:-1]

    def moments(y: np.ndarray) -> np.ndarray:
        """⟨M̂₀⟩ in the frame: ⟨M̂ᶻ⟩ and ⟨M̂₊⟩ = ⟨M̂ˣ⟩ + i⟨M̂ʸ⟩ from the diagonals."""
        plus = np.vdot(y[:-1], mplus * y[1:])
        return np.array([plus.real, plus.imag, np.dot(mz, y.real**2 + y.imag**2)])

    kernel = _banded_kernel()

    def apply(hd: np.ndarray, y: np.ndarray) -> np.ndarray:
        """H y for the flat layout, H given by its diagonals over the stacked sector rows."""
        if kernel is not None:
            return kernel(np.ascontiguousarray(hd), row, y)
        n = hd.shape[0] // 2
        hf = np.take(hd, row, axis=1)
        out = hf[n] * y
        for k in range(1, n + 1):
            out[:-k] += hf[n + k, :-k] * y[k:]
            out[k:] += hf[n - k, k:] * y[:-k]
        return out

    def call(tt: float, m: np.ndarray):
        """hamiltonian(t, M), its failures turned into one clear error."""
        try:
            poly = hamiltonian(tt, m)
            return _tensors(poly)
        except SymmagInputError as exc:
            raise SymmagInputError(f"hamiltonian(t, M) at t = {tt:.6g}: {exc}") from None
        except Exception as exc:  # a user callback: any failure is its own
            raise SymmagInputError(
                f"hamiltonian(t, M) raised {type(exc).__name__} at t = {tt:.6g}: {exc}") from exc

    def diagonals(tt: float, y: np.ndarray) -> np.ndarray:
        rot = _rotation(omega, tt - t[0])
        tensors = call(tt, rot @ moments(y) / vol)
        tensors.pop(0, None)  # c·1 is a global phase
        if frame is not None:  # H - H_f
            tensors[1] = tensors.get(1, np.zeros(3, dtype=complex)) - f
        return banded(tensors, rot)

    def banded(tensors: dict[int, np.ndarray], rot: np.ndarray) -> np.ndarray:
        """Diagonals of a polynomial in M̂₀, written in the frame (rotation ``rot``)."""
        n_max = max(tensors, default=1)
        hd = np.zeros((2 * n_max + 1, bands.size), dtype=complex)
        for n, c in tensors.items():
            for _ in range(n):  # U_f† M̂₀ᵃ U_f = Σ_b R_ab M̂₀ᵇ in every factor
                c = np.tensordot(c, rot, axes=([0], [0]))
            hd[n_max - n: n_max + n + 1] += np.tensordot(c.ravel(), bands.stack(n), axes=1)
        return hd

    if fixed:
        try:
            tensors0 = _tensors(hamiltonian)
        except SymmagInputError as exc:
            raise SymmagInputError(f"the Hamiltonian: {exc}") from None
        tensors0.pop(0, None)
        hd0 = banded(tensors0, np.eye(3))
    else:
        hd0 = diagonals(t[0], y0)
    n0 = hd0.shape[0] // 2
    herm = max((np.abs(hd0[n0 + k, : bands.size - k] - hd0[n0 - k, k:].conj()).max(initial=0.0)
                for k in range(n0 + 1)), default=0.0)
    if herm > 1e-10 * max(np.abs(hd0).max(), 1e-300):
        raise SymmagInputError(f"hamiltonian(t, M) is not Hermitian at t = {t[0]}")

    # each kept pure state is one segment of the flat layout (2J+1 rows)
    seg_len = np.concatenate([np.full(len(b.weights), d) for b, d in zip(blocks, dims)])
    seg_start = np.concatenate([[0], np.cumsum(seg_len)[:-1]])

    d_frozen = None  # with diagonal_picture: the diagonal of H at t_eval[0], taken out of H below

    def rhs(tt: float, y: np.ndarray) -> np.ndarray:
        hd = diagonals(tt, y)
        if d_frozen is not None:
            hd[hd.shape[0] // 2] -= d_frozen
        hy = apply(hd, y)
        # A phase of each pure state drops out of ρ = Σ w |ψ><ψ|: evolve each ψ_k under H - E_k(t),
        # E_k = <ψ_k|H|ψ_k>/<ψ_k|ψ_k> (exact for any real E_k).  The occupied states lie at the top of
        # their sectors, O(N) away from the sector's mean energy: the integrator no longer has to
        # follow that O(N) phase, only the spread of each state's energy.
        norm = np.add.reduceat(y.real**2 + y.imag**2, seg_start)
        energy = np.add.reduceat((y.conj() * hy).real, seg_start) / np.where(norm > 0, norm, 1.0)
        hy -= np.repeat(energy, seg_len) * y
        return (-1j / hbar) * hy

    wanted = {} if observables is None else {name: _tensors(p) for name, p in observables.items()}
    obs_out = {name: np.zeros(t.size, dtype=complex) for name in wanted}

    def record(i: int, y: np.ndarray) -> None:
        rot = _rotation(omega, t[i] - t[0])
        m_out[:, i] = rot @ moments(y) / vol
        for name, tensors in wanted.items():
            constant = complex(tensors.get(0, 0.0)) if 0 in tensors else 0.0
            rest = {n: c for n, c in tensors.items() if n > 0}
            value = np.vdot(y, apply(banded(rest, rot), y)) if rest else 0.0
            obs_out[name][i] = (value + constant * np.vdot(y, y)) / vol
        if g_out is not None:
            my = [apply(bands.stack(1)[a], y) for a in range(3)]
            g = np.array([[2 * np.vdot(my[a], my[b]).real for b in range(3)] for a in range(3)])
            g_out[:, :, i] = rot @ g @ rot.T / vol

    m_out = np.zeros((3, t.size))
    g_out = np.zeros((3, 3, t.size)) if second_moments else None
    if fixed:
        for i, y in enumerate(_propagate_fixed(hd0, y0, dims, starts, [len(b.weights) for b in blocks], t,
                                               hbar)):
            record(i, y)
        return _result(t, m_out, g_out, state, 0, obs_out, observables, n_amplitudes=y0.size)
    if diagonal_picture:  # phi = exp(iD(t - t0)/hbar) psi: rhs and record take phi
        d_frozen = hd0[n0].real.copy()

        def phase(tt: float) -> np.ndarray:
            """exp(-iD(t - t₀)/ħ) on the flat layout."""
            return np.exp((-1j / hbar) * (tt - t[0]) * d_frozen)[row]

        rhs_psi, record_psi = rhs, record

        def rhs(tt: float, phi: np.ndarray) -> np.ndarray:
            ph = phase(tt)
            return ph.conj() * rhs_psi(tt, ph * phi)  # dφ/dt = e^{iDτ/ħ} (-i/ħ)(H - D - E_k) ψ

        def record(i: int, phi: np.ndarray) -> None:
            record_psi(i, phase(t[i]) * phi)

    record(0, y0)
    nfev = 0
    if t.size > 1 and integrator == "compiled":
        from . import fused

        _, _, _, accumulate, fold, row_phases = fused._kernels()
        rows_mz = bands.m[2].diagonal().real
        rows_mplus = np.append((bands.m[0] + 1j * bands.m[1]).diagonal(1), 0.0)
        band = MAX_WORD_DEGREE  # rows of H read beyond a window: at most the degree of H
        layout = fused.Layout(row, seg_start, seg_len, rows_mz, hbar, band)
        phased = {"key": None, "p": np.zeros(bands.size, dtype=complex),
                  "plus": np.zeros(bands.size, dtype=complex)}
        hd_buffers: dict[int, np.ndarray] = {}

        def phases_at(tt: float, active: np.ndarray) -> np.ndarray | None:
            """p = e^{-iD(t - t₀)/ħ} on the active rows (the diagonal picture), once per time."""
            if d_frozen is None:
                return None
            if phased["key"] != (tt, id(active)):
                phased["key"] = (tt, id(active))
                row_phases(phased["p"], d_frozen, (tt - t[0]) / hbar, phased["plus"], rows_mplus, active)
            return phased["p"]

        def plus_rows(tt: float, active: np.ndarray) -> np.ndarray:
            return rows_mplus if phases_at(tt, active) is None else phased["plus"]

        def fused_diagonals(tt: float, mom: np.ndarray, active: np.ndarray) -> np.ndarray:
            """H - D at tt on the active rows in the picture of φ, from the stage's moments (frame)."""
            rot = _rotation(omega, tt - t[0])
            tensors = call(tt, rot @ mom / vol)
            tensors.pop(0, None)
            if frame is not None:
                tensors[1] = tensors.get(1, np.zeros(3, dtype=complex)) - f
            n_max = max(tensors, default=1)
            hd = hd_buffers.setdefault(n_max, np.zeros((2 * n_max + 1, bands.size), dtype=complex))
            first = True
            rt = rot @ _SPHERICAL
            for n, c in tensors.items():
                for _ in range(n):  # M̂₀ᵃ in the frame = Σ_s (R T)_as M̂ˢ in every factor
                    c = np.tensordot(c, rt, axes=([0], [0]))
                words, offsets = bands.spherical(n)
                accumulate(hd, words, offsets, np.ascontiguousarray(c.ravel()), first, active)
                first = False
            if first:
                hd[:] = 0
            p = phases_at(tt, active)
            if p is not None:
                fold(hd, p, d_frozen, active)
            return hd

        def record_moments(i: int, phi: np.ndarray, mom: np.ndarray) -> None:
            if g_out is None and not wanted:  # M only: the integrator's moments of φ(t_i)
                m_out[:, i] = _rotation(omega, t[i] - t[0]) @ mom / vol
            else:
                record(i, phi)

        if cut == 0:
            nfev = fused.integrate(layout, fused_diagonals, plus_rows, y0, t, rtol, atol, max_steps,
                                   record_moments).nfev
            return _result(t, m_out, g_out, state, nfev, obs_out, observables, n_amplitudes=y0.size)

        def done(nfev: int, n_amp: int, trunc: tuple[float, float], regrowths: int = 0) -> CollectiveResult:
            return _result(t, m_out, g_out, state, nfev, obs_out, observables, n_amplitudes=n_amp,
                           truncated=trunc, regrowths=regrowths)

        return _windowed(fused, fused_diagonals, plus_rows, record_moments, y0, row, seg_start, seg_len,
                         rows_mz, hbar, t, rtol, atol, max_steps, cut, done,
                         needs_vector=g_out is not None or bool(wanted))
    elif t.size > 1:
        solver = DOP853(rhs, t[0], y0, t[-1], rtol=rtol, atol=atol)
        i, steps = 1, 0
        while i < t.size:
            steps += 1
            if steps > max_steps:
                raise SymmagInputError(
                    f"the integration needs more than max_steps = {max_steps} steps (reached t = "
                    f"{solver.t:.6g} of {t[-1]:.6g}); loosen rtol/atol or raise max_steps")
            solver.step()
            if solver.status == "failed":
                raise SymmagInputError(
                    f"the integration failed at t = {solver.t:.6g}: DOP853 step size too small")
            if t[i] <= solver.t:  # the interpolant costs three more evaluations: only when needed
                dense = solver.dense_output()
                while i < t.size and t[i] <= solver.t:
                    record(i, dense(t[i]))
                    i += 1
        nfev = solver.nfev
    return _result(t, m_out, g_out, state, nfev, obs_out, observables, n_amplitudes=y0.size)


def _banded_kernel():
    """The banded product H y compiled with numba (one pass, no gathered copy of the diagonals), or
    None without numba -- the NumPy path above is the reference and is always available.  Set
    SYMMAG_NO_NUMBA=1 to force the NumPy path."""
    import os

    if os.environ.get("SYMMAG_NO_NUMBA"):
        return None
    try:
        return _compiled()
    except ImportError:
        return None


def _fused_available() -> bool:
    from . import fused

    return fused.available()


@functools.cache
def _compiled():
    """Compiled once per process (a pure function of nothing: the cache only saves the compile), and
    cached on disk by numba (about 2 s of JIT otherwise)."""
    import numba

    @numba.njit(cache=True, nogil=True)
    def banded(hd, row, y):  # pragma: no cover - compiled
        n = hd.shape[0] // 2
        size = y.shape[0]
        out = np.empty_like(y)
        for e in range(size):
            r = row[e]
            acc = hd[n, r] * y[e]
            for k in range(1, n + 1):
                if e + k < size:
                    acc += hd[n + k, r] * y[e + k]
                if e - k >= 0:
                    acc += hd[n - k, r] * y[e - k]
            out[e] = acc
        return out

    return banded


def _windowed(fused, diagonals, plus, record, y0, row, seg_start, seg_len, rows_mz, hbar, t, rtol, atol,
              max_steps, tol, result, needs_vector: bool = True):
    """The compiled integration with each pure state k on a window of its rows (``support_tolerance``).

    Budget: Σ_k 2‖φ_k‖ε_k ≤ tol, shared evenly, ε_k = tail_k + leaked_k ≤ allow_k = tol/(2K‖φ_k‖).  The
    window starts as the smallest with tail_k ≤ allow_k/8, plus SUPPORT_PAD rows either side.  After
    every step a state whose ε_k plus its current leak rate times the time left would pass allow_k/2 has
    its window grown (2·SUPPORT_PAD rows or an eighth of its length more either side, clipped to the
    sector) and the integration goes on from there in the new layout (its error control unchanged: the
    norm is over the untruncated size).  If the bound still ends above tol, the run is repeated on
    whole sectors."""
    norms = np.sqrt(np.add.reduceat(np.abs(y0) ** 2, seg_start))
    allow = tol / (2 * len(seg_start) * np.maximum(norms, 1e-300))
    lo, hi = np.empty(len(seg_start), dtype=np.int64), np.empty(len(seg_start), dtype=np.int64)
    tail = np.zeros(len(seg_start))
    for s, (a, n) in enumerate(zip(seg_start, seg_len)):
        w2 = np.abs(y0[a: a + n]) ** 2
        lim = (allow[s] / 8) ** 2 / 2  # each side
        top, bottom = np.cumsum(w2), np.cumsum(w2[::-1])
        lo[s] = max(int(np.searchsorted(top, lim, side="right")) - SUPPORT_PAD, 0)
        hi[s] = min(n - int(np.searchsorted(bottom, lim, side="right")) + SUPPORT_PAD, n)
        hi[s] = max(hi[s], lo[s] + 1)
        tail[s] = math.sqrt(max(float(np.sum(w2[:lo[s]]) + np.sum(w2[hi[s]:])), 0.0))
    leaked = np.zeros(len(seg_start))
    full = np.zeros_like(y0)
    t_end, nfev, resume, y, restarts = float(t[-1]), 0, None, None, 0
    take = np.zeros(0, dtype=np.int64)
    while True:
        old_take = take
        take = np.concatenate([np.arange(a + lo[s], a + hi[s]) for s, a in enumerate(seg_start)])
        lengths = hi - lo
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        layout = fused.Layout(row[take], starts, lengths, rows_mz, hbar, MAX_WORD_DEGREE)
        if y is None:
            y = y0[take]
        else:  # the current state, zeros in the new rows
            full[:] = 0
            full[old_take] = y
            y = full[take]

        def record_window(i: int, phi: np.ndarray, mom: np.ndarray, take=take) -> None:
            if needs_vector:  # G or observables: the whole layout, zeros outside the windows
                full[:] = 0
                full[take] = phi
            record(i, full, mom)

        grow = np.zeros(len(seg_start), dtype=bool)

        def stop(rates: np.ndarray, tc: float, grow=grow, room=lengths < seg_len) -> bool:
            foreseen = tail + leaked + rates * (t_end - tc)
            if not np.any((foreseen > allow / 2) & room):
                return False
            grow[:] = (foreseen > allow / 8) & room  # the ones close to it too: fewer restarts
            return True

        out = fused.integrate(layout, diagonals, plus, y, t, rtol, atol, max_steps, record_window,
                              norm_size=y0.size, leak_into=leaked, resume=resume, stop=stop)
        nfev += out.nfev
        if out.done:
            break
        resume, y = out, out.y
        extra = np.maximum(2 * SUPPORT_PAD, lengths // 8)
        restarts += 1
        lo = np.where(grow, np.maximum(lo - extra, 0), lo)
        hi = np.where(grow, np.minimum(hi + extra, seg_len), hi)
    eps = np.minimum(tail + leaked, 2 * norms)  # ‖φ - φ_window‖ ≤ ‖φ‖ + ‖φ_window‖ in any case
    bound = float(np.sum(2 * norms * eps + eps**2))
    if bound > tol and (hi - lo).sum() < y0.size:  # not foreseen: the whole sectors, no windows
        layout = fused.Layout(row, seg_start, seg_len, rows_mz, hbar, MAX_WORD_DEGREE)
        nfev += fused.integrate(layout, diagonals, plus, y0, t, rtol, atol, max_steps, record).nfev
        return result(nfev, y0.size, (0.0, 0.0), restarts)
    return result(nfev, int((hi - lo).sum()), (float(np.sum(eps**2)), bound), restarts)


def _result(t: np.ndarray, m_out: np.ndarray, g_out: np.ndarray | None, state: CollectiveState, nfev: int,
            obs_out: dict, observables, n_amplitudes: int = 0,
            truncated: tuple[float, float] = (0.0, 0.0), regrowths: int = 0) -> CollectiveResult:
    obs = None if observables is None else {name: (v.real if np.abs(v.imag).max(initial=0) <= 1e-12 *
                                                   max(np.abs(v.real).max(initial=0), 1) else v)
                                             for name, v in obs_out.items()}
    return CollectiveResult(t, m_out, g_out, state.neglected_weight, state.sectors, state.n_states, nfev,
                            obs, truncated[0], truncated[1], n_amplitudes, regrowths)


def _propagate_fixed(hd: np.ndarray, y0: np.ndarray, dims: np.ndarray, starts: np.ndarray,
                     counts: Sequence[int], t: np.ndarray, hbar: float):
    """The flat state at each time under a fixed H, exactly: each sector's H_J (dense from its
    diagonals, rows ``starts[b]`` on) diagonalized once, ψ(t) = U e^{-iE(t - t₀)/ħ} U† ψ(t₀) for its
    ``counts[b]`` kept states.  Cost (2J+1)³ per kept sector once, then (2J+1)² per state and time;
    no integrator, so no tolerance."""
    from scipy.linalg import eigh

    n = hd.shape[0] // 2
    _elements(int(max(dims)) ** 2, "a dense sector Hamiltonian")
    sectors, seg = [], 0
    for s, d, kb in zip(starts, dims, counts):
        hj = np.zeros((d, d), dtype=complex)
        for k in range(-min(n, d - 1), min(n, d - 1) + 1):
            r = np.arange(max(0, -k), d - max(0, k))
            hj[r, r + k] = hd[n + k, s + r]  # diagonal k holds W[r, r+k]
        e, u = eigh((hj + hj.conj().T) / 2)  # Hermitian to rounding: checked by the caller
        psi = y0[seg: seg + d * kb].reshape(d, kb, order="F")
        sectors.append((e - e.mean(), u, u.conj().T @ psi))  # a phase per sector drops out of ρ_J
        seg += d * kb
    for tt in t:
        yield np.concatenate([(u @ (np.exp(-1j * (tt - t[0]) / hbar * e)[:, None] * c)).ravel(order="F")
                              for e, u, c in sectors])
