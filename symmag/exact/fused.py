"""A compiled DOP853 for :func:`symmag.exact.collective.evolve_collective` (issue #14): SciPy's
tableau, error norm, step-size control and dense output, with every pass over the state vector in
numba kernels fused with the collective right-hand side.

Why: at N = 1000 the state is 1.86·10⁶ complex amplitudes and an evaluation is memory-bound.  SciPy's
DOP853 spends most of its time in NumPy passes over its 13 stage vectors (a stage's combination, the
error norm, the 7 vectors of the dense output), and the right-hand side in NumPy passes of its own
(phases, moments, the banded product, each pure state's energy).  Here a stage is two passes: one forms
φ = y + h Σ a_j K_j and, in the same loop, the moments ⟨M̂₀⟩ that the self-consistent Hamiltonian needs;
the other applies H - D - E_k to each pure state (a segment of 2J+1 amplitudes, held in cache) and
writes the stage.  The new solution and the error norm are one pass; the interpolant at an output time
is one linear combination (its coefficients computed from SciPy's Horner scheme), so the dense output's
seven vectors are never formed.  The phases of the diagonal picture are folded into H's diagonals per row
(:func:`fold`), so the amplitude kernels work on φ directly; the per-row work runs only on the rows the
segments reach (:class:`Layout`).  Segments are independent: the amplitude kernels run over them with
``numba.prange``, threaded only with :data:`PARALLEL`.

Same method, so the same answer to rounding: the step sequence is SciPy's (``select_initial_step``,
SAFETY 0.9, factors 0.2-10, error exponent -1/8, the E3/E5 norm); the only difference is that a rejected
step does not evaluate f at its rejected end point (SciPy evaluates it and throws it away), so ``nfev``
is lower by one per rejection.  The sums are ordered differently from NumPy's, so results differ from
SciPy's route at the rounding level (tests: 1e-12 on M).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import SymmagInputError

SAFETY, MIN_FACTOR, MAX_FACTOR = 0.9, 0.2, 10.0
ERROR_EXPONENT = -1.0 / 8.0  # -1/(error estimator order 7 + 1)
#: Threads over the pure states (numba ``parallel``); off by default: on the 2-core development machine
#: with another process busy, numba's OpenMP layer made each kernel 9x slower with 2 threads, and its
#: workqueue layer gained 10 % (BENCHMARKS.md, issue 14, session 7).  Set SYMMAG_FUSED_THREADS=1 (with
#: NUMBA_THREADING_LAYER=workqueue) before the first use to compile the threaded kernels (not cached).
PARALLEL = bool(os.environ.get("SYMMAG_FUSED_THREADS"))
#: LLVM may contract and reassociate (FMA, vectorized sums); no assumption of finite values, so a NaN
#: still reaches the error norm and stops the run.
_FAST = {"contract", "reassoc", "nsz", "arcp"}


def available() -> bool:
    try:
        _kernels()
    except ImportError:
        return False
    return True


@functools.cache
def _tableau():
    """DOP853's tableau as SciPy's arrays, from the literals of symmag.numeric.integrators (SciPy's
    coefficients, compared with its private module by a test): no private import here."""
    from types import SimpleNamespace

    from ..numeric import integrators as ig

    a = np.zeros((ig.D8_STAGES_EXTENDED, ig.D8_STAGES_EXTENDED))
    for s, row in enumerate(ig.D8_A):
        a[s, :s] = row
    return SimpleNamespace(A=a, B=np.array(ig.D8_B), C=np.array(ig.D8_C), E3=np.array(ig.D8_E3),
                           E5=np.array(ig.D8_E5), D=np.array(ig.D8_D), N_STAGES=ig.D8_STAGES,
                           N_STAGES_EXTENDED=ig.D8_STAGES_EXTENDED)


@functools.cache
def _kernels():
    """The kernels, compiled once (about 5 s) and cached on disk by numba (``__pycache__`` next to this
    file, or numba's user-wide cache directory), except the threaded variant."""
    import numba
    from numba import prange

    @numba.njit(parallel=PARALLEL, nogil=True, cache=not PARALLEL, fastmath=_FAST)
    def combine(out, c1, v1, c2, v2, use2, idx, coef, hmul, k, mplus, row, seg_start, seg_len, mz_row,
                err, e5, e3, rtol, atol):  # pragma: no cover - compiled
        """out = c1 v1 + c2 v2 + hmul Σ_j coef[j] k[idx[j]]; returns Re, Im ⟨M̂₊⟩ and ⟨M̂ᶻ⟩ (``mplus`` per
        row: ⟨r|M̂₊|r+1⟩ in the picture of φ) and, with ``err``, Σ|Σ e5_j k_j / s|², Σ|Σ e3_j k_j / s|²
        with SciPy's scale s = atol + rtol max(|v1|, |out|).  Real coefficients: the sums run over the float
        view, one stage vector at a time over a segment (a contiguous, vectorized axpy into a buffer in
        cache)."""
        nj = idx.shape[0]
        kf = k.view(np.float64).reshape(k.shape[0], 2 * k.shape[1])
        v1f = v1.view(np.float64)
        v2f = v2.view(np.float64)
        outf = out.view(np.float64)
        p_re = 0.0
        p_im = 0.0
        m_z = 0.0
        s5 = 0.0
        s3 = 0.0
        for s in prange(seg_start.shape[0]):
            a2 = 2 * seg_start[s]
            n2 = 2 * seg_len[s]
            acc = np.zeros(n2)
            a5 = np.zeros(n2 if err else 0)
            a3 = np.zeros(n2 if err else 0)
            for j in range(nj):
                kj = kf[idx[j], a2: a2 + n2]
                cj = coef[j]
                for q in range(n2):
                    acc[q] += cj * kj[q]
                if err:
                    c5 = e5[j]
                    c3 = e3[j]
                    for q in range(n2):
                        a5[q] += c5 * kj[q]
                        a3[q] += c3 * kj[q]
            if use2:
                for q in range(n2):
                    outf[a2 + q] = c1 * v1f[a2 + q] + hmul * acc[q] + c2 * v2f[a2 + q]
            else:
                for q in range(n2):
                    outf[a2 + q] = c1 * v1f[a2 + q] + hmul * acc[q]
            l_re = 0.0
            l_im = 0.0
            l_z = 0.0
            l5 = 0.0
            l3 = 0.0
            prev = 0j
            prev_m = 0j
            a = seg_start[s]
            for i in range(seg_len[s]):
                v = out[a + i]
                r = row[a + i]
                av2 = v.real * v.real + v.imag * v.imag
                l_z += mz_row[r] * av2
                q = prev.conjugate() * v * prev_m
                l_re += q.real
                l_im += q.imag
                prev = v
                prev_m = mplus[r]
                if err:
                    sc = atol + rtol * max(abs(v1[a + i]), math.sqrt(av2))
                    l5 += (a5[2 * i] ** 2 + a5[2 * i + 1] ** 2) / (sc * sc)
                    l3 += (a3[2 * i] ** 2 + a3[2 * i + 1] ** 2) / (sc * sc)
            p_re += l_re
            p_im += l_im
            m_z += l_z
            s5 += l5
            s3 += l3
        return p_re, p_im, m_z, s5, s3

    @numba.njit(parallel=PARALLEL, nogil=True, cache=not PARALLEL, fastmath=_FAST)
    def rhs(out, phi, row, hd, seg_start, seg_len, inv_hbar):  # pragma: no cover - compiled
        """out = (-i/ħ)(H - E_k) φ per pure state (segment), H by its diagonals over the rows (in the
        picture of φ: the phases folded in per row, :func:`fold`),
        E_k = Re⟨ψ_k|H|ψ_k⟩/⟨ψ_k|ψ_k⟩ -- the right-hand side of evolve_collective, fused.  A segment's
        rows are consecutive (one sector, m = +J ... -J), and H does not couple segments."""
        nd = hd.shape[0] // 2
        for s in prange(seg_start.shape[0]):
            a = seg_start[s]
            n = seg_len[s]
            r0 = row[a]
            psi = np.zeros(n + 2 * nd, dtype=np.complex128)  # nd zeros either side
            g = np.empty(n, dtype=np.complex128)
            norm = 0.0
            for i in range(n):
                v = phi[a + i]
                psi[nd + i] = v
                norm += v.real * v.real + v.imag * v.imag
            en = 0.0
            for i in range(n):
                r = r0 + i
                acc = hd[nd, r] * psi[nd + i]
                for kk in range(1, nd + 1):
                    acc += hd[nd + kk, r] * psi[nd + i + kk] + hd[nd - kk, r] * psi[nd + i - kk]
                g[i] = acc
                v = psi[nd + i]
                en += v.real * acc.real + v.imag * acc.imag
            if norm > 0:
                en /= norm
            for i in range(n):
                d = g[i] - en * psi[nd + i]
                out[a + i] = complex(d.imag * inv_hbar, -d.real * inv_hbar)

    @numba.njit(nogil=True, cache=True)
    def leak(out, phi, row, hd, seg_start, seg_len, inv_hbar):  # pragma: no cover - compiled
        """out[s] = ‖(1 - P_s) H ψ_s‖/ħ: the rate at which H carries pure state s out of its window
        (rows row[a] ... row[a] + n - 1) -- H couples rows within nd of the edges, zero across sectors."""
        nd = hd.shape[0] // 2
        rows = hd.shape[1]
        for s in range(seg_start.shape[0]):
            a = seg_start[s]
            n = seg_len[s]
            r0 = row[a]
            tot = 0.0
            for d in range(1, nd + 1):
                r = r0 - d  # above the window: (Hψ)_r = Σ_i hd[nd + (i + d), r] ψ_i, i + d ≤ nd
                if r >= 0:
                    acc = 0j
                    for i in range(min(n, nd - d + 1)):
                        acc += hd[nd + i + d, r] * phi[a + i]
                    tot += acc.real * acc.real + acc.imag * acc.imag
                r = r0 + n - 1 + d  # below: (Hψ)_r = Σ_i hd[nd - (r - r0 - i), r] ψ_i
                if r < rows:
                    acc = 0j
                    for i in range(max(0, n - 1 + d - nd), n):
                        acc += hd[nd - (r - r0 - i), r] * phi[a + i]
                    tot += acc.real * acc.real + acc.imag * acc.imag
            out[s] = math.sqrt(tot) * inv_hbar

    @numba.njit(nogil=True, cache=True)
    def accumulate(hd, words, offsets, coefs, first, active):  # pragma: no cover - compiled
        """hd[n_max + offsets[w], r] += coefs[w] words[w, r] for the rows r in ``active`` (zeroed first
        when ``first``); one pass over the rows, the words real (M̂₊, M̂₋, M̂ᶻ have real elements)."""
        nd = hd.shape[0] // 2
        nw = words.shape[0]
        for r in active:
            if first:
                for o in range(2 * nd + 1):
                    hd[o, r] = 0
            for w in range(nw):
                hd[nd + offsets[w], r] += coefs[w] * words[w, r]

    @numba.njit(nogil=True, cache=True)
    def fold(hd, p, d, active):  # pragma: no cover - compiled
        """The diagonal picture φ = p̄ ψ, p = e^{-iD(t - t₀)/ħ} per row: H - D becomes
        p̄_r (H - D)_{r, r+k} p_{r+k} (on the active rows; p is needed there and within the band)."""
        nd = hd.shape[0] // 2
        rows = hd.shape[1]
        for r in active:
            hd[nd, r] -= d[r]
            pr = p[r].conjugate()
            for kk in range(1, nd + 1):
                if r + kk < rows:
                    hd[nd + kk, r] *= pr * p[r + kk]
                if r >= kk:
                    hd[nd - kk, r] *= pr * p[r - kk]

    @numba.njit(nogil=True, cache=True)
    def phases(p, d, scale, plus, mplus, active):  # pragma: no cover - compiled
        """p_r = e^{-i scale d_r} on the active rows, and ``plus`` = p̄_r ⟨r|M̂₊|r+1⟩ p_{r+1} there."""
        rows = p.shape[0]
        for r in active:
            x = scale * d[r]
            p[r] = complex(math.cos(x), -math.sin(x))
        for r in active:
            if r + 1 < rows:
                plus[r] = p[r].conjugate() * p[r + 1] * mplus[r]

    return combine, rhs, leak, accumulate, fold, phases


class Layout:
    """The flat layout of evolve_collective: element e is row ``row[e]`` of the stacked sectors; the
    pure states are the segments [seg_start, seg_start + seg_len); ⟨r|M̂ᶻ|r⟩ per row."""

    def __init__(self, row, seg_start, seg_len, mz_row, hbar, band: int):
        self.row = np.ascontiguousarray(row, dtype=np.int64)
        self.seg_start = np.ascontiguousarray(seg_start, dtype=np.int64)
        self.seg_len = np.ascontiguousarray(seg_len, dtype=np.int64)
        self.mz_row = np.ascontiguousarray(mz_row, dtype=float)
        self.inv_hbar = 1.0 / hbar
        # the rows the segments cover, ``band`` more either side: the only rows of H (and of the
        # phases) the kernels read, so the per-row work skips the rows no window reaches
        rows = self.mz_row.size
        first = self.row[self.seg_start]
        edge = np.zeros(rows + 1, dtype=np.int64)
        np.add.at(edge, np.maximum(first - band, 0), 1)
        np.add.at(edge, np.minimum(first + self.seg_len + band, rows), -1)
        self.active = np.flatnonzero(np.cumsum(edge[:-1]) > 0).astype(np.int64)


_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0)


def integrate(layout: Layout, diagonals: Callable[[float, np.ndarray], np.ndarray],
              plus: Callable[[float], np.ndarray], y0: np.ndarray, t: np.ndarray, rtol: float,
              atol: float, max_steps: int, record: Callable[[int, np.ndarray, np.ndarray], None],
              norm_size: int | None = None, leak_into: np.ndarray | None = None,
              resume: Stop | None = None, stop: Callable[[np.ndarray, float], bool] | None = None) -> Stop:
    """DOP853 from t[0] to t[-1], ``record(i, y(t[i]), moments)`` at every t[i] (i ≥ 1) from the
    interpolant;
    ``Stop.nfev`` is the number of right-hand sides.  ``norm_size``: the n of the RMS error norm
    (default y0.size; the untruncated size when the segments are windows, so that the error control
    is the untruncated one's).
    ``leak_into`` (one entry per segment): adds ∫ ‖(1 - P)Hψ‖ dt/ħ, each step's length times the larger of
    the rates at its two ends -- what leaves each window, a bound on each windowed state's error.
    ``stop(rates, t)``, asked after every accepted step (with ``leak_into``), ends the run early when it
    returns True; the returned :class:`Stop` then carries what ``resume`` needs to go on from there (with
    y in a new layout, e.g. grown windows).  Otherwise the run ends at t[-1], ``Stop.done`` True.
    ``diagonals(tt, moments, active)`` gives the banded H - D at tt in the picture of φ (:func:`fold`)
    for the moments (⟨M̂ˣ⟩, ⟨M̂ʸ⟩, ⟨M̂ᶻ⟩ in the frame, over the kept part) of the stage; ``plus(tt,
    active)`` the row elements ⟨r|M̂₊|r+1⟩ in that picture; both are read only on ``layout.active``."""
    combine, rhs, leak = _kernels()[:3]
    c = _tableau()
    lay = layout
    n = y0.size if norm_size is None else norm_size
    k = np.empty((c.N_STAGES_EXTENDED, y0.size), dtype=complex)
    y = np.array(y0, dtype=complex)
    y_old = np.empty_like(y)
    y_new = np.empty_like(y)
    phi = np.empty_like(y)
    phys = np.arange(c.N_STAGES_EXTENDED, dtype=np.int64)  # logical stage -> row of k
    nfev = 0

    def evaluate(tt, out_row, c1, v1, idx, coef, hmul, c2=0.0, v2=None):
        """One right-hand side at tt of φ = c1 v1 (+ c2 v2) + hmul Σ coef k[idx], into k[out_row]."""
        nonlocal nfev
        p_re, p_im, m_z, _, _ = combine(phi, c1, v1, c2, v1 if v2 is None else v2, v2 is not None, idx,
                                        coef, hmul, k, plus(tt, lay.active), lay.row, lay.seg_start,
                                        lay.seg_len, lay.mz_row, False, _EMPTY_F, _EMPTY_F, rtol, atol)
        hd = diagonals(tt, np.array([p_re, p_im, m_z]), lay.active)
        rhs(k[out_row], phi, lay.row, hd, lay.seg_start, lay.seg_len, lay.inv_hbar)
        nfev += 1
        return hd

    t0, t_bound = float(t[0]) if resume is None else resume.t, float(t[-1])
    hd0 = evaluate(t0, phys[0], 1.0, y, _EMPTY_I, _EMPTY_F, 0.0)
    if leak_into is not None:
        rate_old, rate = np.empty(lay.seg_start.size), np.empty(lay.seg_start.size)
        leak(rate_old, y, lay.row, hd0, lay.seg_start, lay.seg_len, lay.inv_hbar)
    if resume is None:
        h_abs = _initial_step(evaluate, k, phys, y, t0, t_bound, rtol, atol)
        tc, i, steps = t0, 1, 0
    else:
        h_abs, tc, i, steps = resume.h_abs, resume.t, resume.i, resume.steps
    a_mat, b_vec, c_vec, e5_all, e3_all, d_mat = c.A, c.B, c.C, c.E5, c.E3, c.D
    ns = c.N_STAGES
    while i < t.size:
        steps += 1
        if steps > max_steps:
            raise SymmagInputError(
                f"the integration needs more than max_steps = {max_steps} steps (reached t = {tc:.6g} of "
                f"{t_bound:.6g}); loosen rtol/atol or raise max_steps")
        min_step = 10 * abs(np.nextafter(tc, np.inf) - tc)
        h_abs = max(h_abs, min_step)
        rejected = False
        while True:
            if h_abs < min_step:
                raise SymmagInputError(f"the integration failed at t = {tc:.6g}: DOP853 step size too small")
            t_new = min(tc + h_abs, t_bound)
            h = t_new - tc
            h_abs = abs(h)
            for s in range(1, ns):
                evaluate(tc + c_vec[s] * h, phys[s], 1.0, y, phys[:s], a_mat[s, :s], h)
            p_re, p_im, m_z, s5, s3 = combine(y_new, 1.0, y, 0.0, y, False, phys[:ns], b_vec, h, k,
                                              plus(t_new, lay.active), lay.row, lay.seg_start, lay.seg_len,
                                              lay.mz_row, True, e5_all[:ns], e3_all[:ns], rtol, atol)
            if s5 == 0 and s3 == 0:
                error_norm = 0.0
            else:
                error_norm = abs(h) * s5 / math.sqrt((s5 + 0.01 * s3) * n)
            if error_norm < 1:
                factor = MAX_FACTOR if error_norm == 0 else min(MAX_FACTOR,
                                                                SAFETY * error_norm**ERROR_EXPONENT)
                if rejected:
                    factor = min(1.0, factor)
                h_abs *= factor
                break
            h_abs *= max(MIN_FACTOR, SAFETY * error_norm**ERROR_EXPONENT)
            rejected = True
        # f at the accepted end point: SciPy's rk_step evaluates it also on rejected steps
        hd = diagonals(t_new, np.array([p_re, p_im, m_z]), lay.active)
        rhs(k[phys[ns]], y_new, lay.row, hd, lay.seg_start, lay.seg_len, lay.inv_hbar)
        nfev += 1
        if leak_into is not None:
            leak(rate, y_new, lay.row, hd, lay.seg_start, lay.seg_len, lay.inv_hbar)
            leak_into += h * np.maximum(rate, rate_old)
            rate_old, rate = rate, rate_old
        t_old, tc = tc, t_new
        y_old, y, y_new = y, y_new, y_old
        if t[i] <= tc:
            for s, (a, cs) in enumerate(zip(c.A[ns + 1:], c.C[ns + 1:]), start=ns + 1):
                evaluate(t_old + cs * h, phys[s], 1.0, y_old, phys[:s], a[:s], h)
            while i < t.size and t[i] <= tc:
                ca, cb, coef = _dense_weights((t[i] - t_old) / (tc - t_old), h, d_mat, ns)
                mom = combine(phi, ca, y_old, cb, y, True, phys, coef, 1.0, k, plus(t[i], lay.active),
                              lay.row, lay.seg_start, lay.seg_len, lay.mz_row, False, _EMPTY_F, _EMPTY_F,
                              rtol, atol)
                record(i, phi, np.array(mom[:3]))
                i += 1
        phys[0], phys[ns] = phys[ns], phys[0]  # f_new is the next step's first stage
        if stop is not None and i < t.size and stop(rate_old, tc):
            return Stop(False, tc, i, y, h_abs, steps, nfev)
    return Stop(True, tc, i, y, h_abs, steps, nfev)


@dataclass
class Stop:
    """Where :func:`integrate` ended: done, or stopped at t before output i (to be resumed)."""

    done: bool
    t: float
    i: int
    y: np.ndarray
    h_abs: float
    steps: int
    nfev: int


def _initial_step(evaluate, k, phys, y0, t0, t_bound, rtol, atol) -> float:
    """SciPy's select_initial_step (Hairer, Nørsett & Wanner II.4) for order 7, one evaluation."""
    def norm(x):
        return float(np.linalg.norm(x) / x.size**0.5)

    interval = abs(t_bound - t0)
    scale = atol + np.abs(y0) * rtol
    f0 = k[phys[0]]
    d0, d1 = norm(y0 / scale), norm(f0 / scale)
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    h0 = min(h0, interval)
    spare = phys[1]  # stage 1 is rewritten by the first step
    evaluate(t0 + h0, spare, 1.0, y0, phys[:1], np.ones(1), h0)
    d2 = norm((k[spare] - f0) / scale) / h0
    if d1 <= 1e-15 and d2 <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** (1 / 8)
    return min(100 * h0, h1, interval)


def _dense_weights(x: float, h: float, d_mat: np.ndarray, ns: int) -> tuple[float, float, np.ndarray]:
    """y(t_old + x h) = ca y_old + cb y + Σ_j coef_j K_j: SciPy's Dop853DenseOutput, F₀ = Δ,
    F₁ = h K₀ - Δ, F₂ = 2Δ - h(K_ns + K₀), F₃₊ᵣ = h Σ_j D_rj K_j, summed by its Horner scheme
    (Σ_i F_i, reversed, times x and 1 - x in turn) with the F's expanded."""
    w = np.zeros(7)
    for i, fi in enumerate(range(6, -1, -1)):
        w[fi] += 1.0
        w *= x if i % 2 == 0 else 1 - x
    a = w[0] - w[1] + 2 * w[2]
    coef = h * (w[3:] @ d_mat)
    coef[0] += h * (w[1] - w[2])
    coef[ns] -= h * w[2]
    return 1.0 - a, a, coef
