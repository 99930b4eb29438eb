"""The collective (total-spin-sector) representation against the full tensor-product space and QuTiP."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from scipy.special import logsumexp

from symmag.algebra.matrices import SpinSystem, spin_matrices
from symmag.exact.collective import (
    CollectiveSystem,
    evolve_collective,
    state_from_blocks,
    thermal_state,
)
from symmag.exact.compare import thermal_invariant_state
from symmag.exact.dynamics import evolve

WORDS = [(a,) for a in range(3)] + [(a, b) for a in range(3) for b in range(3)]


def full_matrix(system: SpinSystem, poly) -> np.ndarray:
    """The polynomial in M0 on the full space, from SpinSystem.collective."""
    mats = [system.collective(a) for a in range(3)]
    out = np.zeros((system.dim, system.dim), dtype=complex)
    for word, c in poly.items():
        term = np.eye(system.dim, dtype=complex)
        for a in ("xyz".index(ch) for ch in word) if isinstance(word, str) else word:
            term = term @ mats[a]
        out += c * term
    return out


def full_moments(system: SpinSystem, rhos: np.ndarray, volume: float) -> tuple[np.ndarray, np.ndarray]:
    """M (3, T) and G (3, 3, T) on the full space."""
    m = [system.collective(a) for a in range(3)]
    mag = np.array([np.einsum("tij,ji->t", rhos, a).real for a in m]) / volume
    g = np.array([[np.einsum("tij,ji->t", rhos, m[a] @ m[b] + m[b] @ m[a]).real for b in range(3)]
                  for a in range(3)]) / volume
    return mag, g


def spin_spin(n: int, lam: float, kappa: float):
    """H(t, M) = -M0.H(t) + kappa (M0^z)^2/N + lam (M.M0)^2, H(t) = (0.3 cos 2t, 0, 1): gamma^2 = 1."""
    def h(t, mag):
        poly = {"x": -0.3 * math.cos(2 * t), "z": -1.0, "zz": kappa / n}
        for a, b in WORDS[3:]:
            poly[(a, b)] = poly.get((a, b), 0.0) + lam * mag[a] * mag[b]
        return poly
    return h


def test_multiplicities_count_every_state():
    for n in range(1, 13):
        system = CollectiveSystem(n)
        d = [system.multiplicity(j) for j in system.sectors]
        assert sum(dj * (2 * Fraction(j) + 1) for dj, j in zip(d, system.sectors)) == 2**n
        assert np.allclose(np.exp(system.log_multiplicities), d, rtol=1e-12, atol=0)


def test_log_multiplicities_do_not_overflow():
    system = CollectiveSystem(2000)
    log_d = system.log_multiplicities
    assert log_d.shape == (1001,) and np.all(np.isfinite(log_d))
    total = logsumexp(log_d + np.log(2 * np.array(system.sectors) + 1))
    assert abs(total - 2000 * math.log(2)) < 1e-12 * total
    for j in (1000.0, 500.0, 17.0, 0.0):  # exact big integers against the log form
        assert abs(system.log_multiplicity(j) - math.log(system.multiplicity(j))) < 1e-9


def test_sector_matrices_follow_spin_system_conventions():
    system = CollectiveSystem(5, hbar=0.7, gamma=-1.3)
    for j in system.sectors:
        ref = spin_matrices(Fraction(j), 0.7)
        for a in range(3):
            assert np.abs(system.collective(j, a).toarray() - (-1.3) * ref[a]).max() < 1e-14


def test_thermal_state_matches_the_full_space():
    """<M0^a> and <M0^a M0^b> of (11) with every state kept, N = 5, against the full-space state."""
    full = SpinSystem(5, "1/2", hbar=1.0, gamma=-1.0)
    r0, beta = np.array([0.6, -0.2, 0.9]), 0.8
    rho = thermal_invariant_state(full, r0, beta)
    state = thermal_state(CollectiveSystem(5), r0, beta, weight_cutoff=0.0)
    assert state.neglected_weight == 0.0 and state.n_states == 6 + 4 + 2  # every (J, m)
    for w in WORDS:
        ref = np.trace(rho @ full_matrix(full, {w: 1.0}))
        assert abs(state.expectation({w: 1.0}) - ref) < 1e-13


@pytest.mark.parametrize("n", [4, 5])
def test_self_consistent_dynamics_match_the_full_space(n):
    """The spin-spin model with a driven field and an anisotropy, M and G^{ab} to 1e-8, in the lab
    frame and in the rotating frame of the static field, each with and without the diagonal picture."""
    full = SpinSystem(n, "1/2", hbar=1.0, gamma=-1.0)
    mats = [full.collective(a) for a in range(3)]
    volume = 2.0
    h = spin_spin(n, 0.4, 0.8)

    def h_full(t, rho):
        return full_matrix(full, h(t, np.array([np.trace(rho @ a).real for a in mats]) / volume))

    r0, beta = np.array([0.5, 0.3, 0.8]), 1.1
    t = np.linspace(0, 8, 33)
    ref_m, ref_g = full_moments(full, evolve(h_full, thermal_invariant_state(full, r0, beta), t,
                                             rtol=1e-11, atol=1e-13), volume)
    state = thermal_state(CollectiveSystem(n, volume=volume), r0, beta, weight_cutoff=1e-15)
    for frame, picture in itertools.product((None, (0.0, 0.0, -1.0)), (False, True)):
        res = evolve_collective(h, state, t, frame=frame, second_moments=True, rtol=1e-11, atol=1e-13,
                                diagonal_picture=picture)
        assert np.abs(res.M - ref_m).max() < 1e-8
        assert np.abs(res.G - ref_g).max() < 1e-8
    assert np.abs(ref_m[0] - ref_m[0, 0]).max() > 0.1  # it moved


def test_higher_correlations_on_request():
    """A three-point correlation (symmetrized) and a non-Hermitian word, through ``observables``,
    against the full space, in the lab frame and a rotating frame."""
    n, volume = 4, 1.5
    full = SpinSystem(n, "1/2", hbar=1.0, gamma=-1.0)
    mats = [full.collective(a) for a in range(3)]
    h = spin_spin(n, 0.4, 0.8)

    def h_full(t, rho):
        return full_matrix(full, h(t, np.array([np.trace(rho @ a).real for a in mats]) / volume))

    r0, beta, t = np.array([0.5, 0.3, 0.8]), 1.1, np.linspace(0, 4, 9)
    rhos = evolve(h_full, thermal_invariant_state(full, r0, beta), t, rtol=1e-11, atol=1e-13)
    wanted = {"G3": {"xyz": 0.5, "zyx": 0.5}, "xy": {"xy": 1.0}, "shifted": {"zz": 1.0, (): 2.0}}
    refs = {k: np.einsum("tij,ji->t", rhos, full_matrix(full, p)) / volume for k, p in wanted.items()}
    state = thermal_state(CollectiveSystem(n, volume=volume), r0, beta, weight_cutoff=1e-15)
    for frame, picture in ((None, False), ((0.0, 0.0, -1.0), False), ((0.0, 0.0, -1.0), True)):
        res = evolve_collective(h, state, t, frame=frame, observables=wanted, rtol=1e-11, atol=1e-13,
                                diagonal_picture=picture)
        for k, ref in refs.items():
            assert np.abs(res.observables[k] - ref).max() < 1e-8, k
    assert np.isrealobj(res.observables["G3"]) and np.abs(refs["xy"].imag).max() > 1e-3
    assert np.iscomplexobj(res.observables["xy"])


def test_any_frame_is_exact():
    """The interaction picture of f.M0 changes nothing but the cost, even when H has no linear term."""
    state = thermal_state(CollectiveSystem(7), (0.4, -0.3, 0.8), 0.9)
    t = np.linspace(0, 4, 9)
    poly = {"zz": 0.3, "xy": 0.2, "yx": 0.2}
    ref = evolve_collective(lambda tt, m: poly, state, t, rtol=1e-11, atol=1e-13)
    res = evolve_collective(lambda tt, m: poly, state, t, frame=(0.2, -0.1, 0.5), second_moments=True,
                            rtol=1e-11, atol=1e-13)
    assert np.abs(res.M - ref.M).max() < 1e-9 and np.abs(res.M[0] - ref.M[0, 0]).max() > 0.05
    assert ref.G is None and res.G.shape == (3, 3, 9)


def test_the_diagonal_picture_takes_fewer_steps_for_the_same_answer():
    """The benchmark's problem (easy axis, lambda = 4/N, V = N, tilted thermal state) at N = 40 for one
    precession period: the interaction picture of H's diagonal agrees with the rotating frame alone and
    needs fewer right-hand sides (the quadratic dispersion in m no longer sets the step)."""
    n = 40
    state = thermal_state(CollectiveSystem(n, volume=n), (math.sin(0.5), 0.0, math.cos(0.5)), math.log(3))

    def h(t, mag):
        poly = {(a, b): 4 / n * mag[a] * mag[b] for a, b in WORDS[3:]}
        poly[(2,)] = -1.0
        poly[(2, 2)] += -1 / n
        return poly

    t = np.linspace(0, 2 * math.pi, 5)
    frame = evolve_collective(h, state, t, frame=(0, 0, -1), second_moments=True)
    picture = evolve_collective(h, state, t, frame=(0, 0, -1), second_moments=True, diagonal_picture=True)
    assert np.abs(picture.M - frame.M).max() < 1e-9 and np.abs(picture.G - frame.G).max() < 1e-8
    assert picture.nfev < 0.9 * frame.nfev, (picture.nfev, frame.nfev)
    assert np.abs(frame.M[0] - frame.M[0, 0]).max() > 0.05  # it moved


def test_the_compiled_integrator_is_scipys_dop853_and_windows_keep_their_bound():
    """integrator='compiled' (symmag.exact.fused: SciPy's tableau, error norm and step control in numba)
    against SciPy's DOP853 on the benchmark's problem (N = 30, t ≤ 1, with and without the
    diagonal picture): the same steps and M, G to rounding.  support_tolerance: each state on a window
    of its rows, the measured bound within the tolerance, M within it of the whole-sector run."""
    pytest.importorskip("numba")
    n = 30
    state = thermal_state(CollectiveSystem(n, volume=n), (math.sin(0.5), 0.0, math.cos(0.5)), math.log(3))

    def h(t, mag):
        poly = {(a, b): 4 / n * mag[a] * mag[b] for a, b in WORDS[3:]}
        poly[(2,)] = -1.0
        poly[(2, 2)] += -1 / n
        return poly

    t = np.linspace(0, 1.0, 3)
    for picture in (True, False):
        opts = {"frame": (0, 0, -1), "second_moments": True, "diagonal_picture": picture}
        ref = evolve_collective(h, state, t, integrator="scipy", **opts)
        res = evolve_collective(h, state, t, integrator="compiled", **opts)
        assert np.abs(res.M - ref.M).max() < 1e-12 and np.abs(res.G - ref.G).max() < 1e-11
        assert res.nfev <= ref.nfev <= res.nfev + ref.nfev // 13 + 1  # one fewer per rejected step
        assert res.n_amplitudes == ref.n_amplitudes and res.truncation_bound == 0
    win = evolve_collective(h, state, t, support_tolerance=1e-10, **opts)
    assert 0 < win.truncation_bound <= 1e-10 and win.truncated_weight <= win.truncation_bound
    assert win.regrowths >= 0 and res.regrowths == 0
    assert win.n_amplitudes < res.n_amplitudes
    assert np.abs(win.M - res.M).max() < 1e-9 and np.abs(win.G - res.G).max() < 1e-8
    assert np.abs(res.M[0] - res.M[0, 0]).max() > 0.01  # it moved


def test_user_blocks_match_the_full_space():
    """rho = A†A/Z with A a polynomial in M0 is, in every sector, d_J copies of A_J†A_J: given as
    blocks it must evolve like the full-space state (N = 4, self-consistent H)."""
    n = 4
    full, system = SpinSystem(n, "1/2", hbar=1.0, gamma=-1.0), CollectiveSystem(n)
    rng = np.random.default_rng(7)
    a_poly = {(): 1.0, **{w: complex(*rng.normal(size=2)) for w in WORDS}}
    a_full = full_matrix(full, a_poly)
    rho = a_full.conj().T @ a_full
    rho /= np.trace(rho).real
    blocks = {}
    for j in system.sectors:
        a_j = system.operator(j, a_poly).toarray()
        blocks[j] = a_j.conj().T @ a_j
    state = state_from_blocks(system, blocks, weight_cutoff=0.0)
    assert abs(sum(b.weights.sum() for b in state.blocks) - 1) < 1e-14
    h = spin_spin(n, 0.5, -0.6)
    mats = [full.collective(a) for a in range(3)]
    t = np.linspace(0, 5, 11)
    rhos = evolve(lambda tt, r: full_matrix(full, h(tt, np.array([np.trace(r @ a).real for a in mats]))),
                  rho, t, rtol=1e-11, atol=1e-13)
    res = evolve_collective(h, state, t, rtol=1e-11, atol=1e-13)
    assert np.abs(res.M - full_moments(full, rhos, 1.0)[0]).max() < 1e-8


def test_blocks_with_log_scales_give_the_thermal_state():
    """exp(-beta I0_J) given per sector with its scale in logarithms: the same state as (11), N = 60."""
    system = CollectiveSystem(60)
    r0, beta = np.array([0.0, 0.6, 0.8]), 1.3
    b = beta * system.hbar  # |R0| = 1
    blocks, scales = {}, {}
    for j in system.sectors:
        i0 = sum(r0[a] * system.spin_matrices(j)[a].toarray() for a in range(3))  # I0/hbar
        lam, v = np.linalg.eigh(i0)
        blocks[j] = (v * np.exp(-b * (lam - lam.min()))) @ v.conj().T  # scaled by exp(b J)
        scales[j] = b * j
    ours = state_from_blocks(system, blocks, scales, weight_cutoff=1e-13)
    ref = thermal_state(system, r0, beta, weight_cutoff=1e-13)
    assert ours.n_states == ref.n_states and ours.sectors == ref.sectors
    for w in WORDS:
        assert abs(ours.expectation({w: 1.0}) - ref.expectation({w: 1.0})) < 1e-10


def test_neglected_weight_is_reported_and_bounded():
    system = CollectiveSystem(50)
    r0, beta = (0.3, 0.0, 0.9), 1.0
    everything = thermal_state(system, r0, beta, weight_cutoff=0.0)
    for cutoff in (1e-14, 1e-8, 1e-3):
        state = thermal_state(system, r0, beta, weight_cutoff=cutoff)
        assert 0 < state.neglected_weight <= cutoff
        assert state.n_states < everything.n_states
        kept = sum(b.weights.sum() for b in state.blocks)
        assert abs(kept + state.neglected_weight - 1) < 1e-13
        bound = state.neglected_weight * 25 + 1e-14  # ||M0^a|| = |gamma| hbar N/2
        for a in "xyz":
            assert abs(state.expectation({a: 1.0}) - everything.expectation({a: 1.0})) <= bound
    assert len(thermal_state(system, r0, beta, weight_cutoff=1e-3).sectors) < len(system.sectors)
    res = evolve_collective(lambda t, m: {"z": -1.0}, thermal_state(system, r0, beta, 1e-8), [0.0, 1.0])
    assert res.neglected_weight == thermal_state(system, r0, beta, 1e-8).neglected_weight


def test_agrees_with_qutip_for_fifty_spins():
    """Fixed H = -(0.3 M0^x + M0^z) + (0.8 (M0^z)^2 + 0.5 {M0^x, M0^y})/N, N = 50: QuTiP evolves every
    sector's d_J rho_J (built from qutip.jmat, exact multiplicities and expm) with mesolve; <M0>
    summed over sectors agrees with ours (in the rotating frame) to 1e-8 over a precession period."""
    qutip = pytest.importorskip("qutip")
    n, beta, r0 = 50, math.log(3), np.array([math.sin(0.5), 0.0, math.cos(0.5)])
    system = CollectiveSystem(n)
    poly = {"x": -0.3, "z": -1.0, "zz": 0.8 / n, "xy": 0.5 / n, "yx": 0.5 / n}
    t = np.linspace(0, 2 * np.pi / math.hypot(0.3, 1.0), 11)
    state = thermal_state(system, r0, beta, weight_cutoff=1e-12)
    ours = evolve_collective(lambda tt, m: poly, state, t, frame=(-0.3, 0, -1), rtol=1e-11, atol=1e-13).M

    b = math.log(3)
    log_z = n * math.log(2 * math.cosh(b / 2))
    theirs = np.zeros((3, t.size))
    for j in state.sectors:  # the sectors left out weigh < 1e-12 in all
        if j == 0:
            continue  # M0 = 0 there (and qutip.jmat(0) is not defined)
        m = [-qutip.jmat(j, a) for a in "xyz"]  # gamma = -1, hbar = 1
        h = -(0.3 * m[0] + m[2]) + (0.8 * m[2] * m[2] + 0.5 * (m[0] * m[1] + m[1] * m[0])) / n
        i0 = sum(float(r0[a]) * qutip.jmat(j, "xyz"[a]) for a in range(3))
        rho = (-b * i0).expm() * math.exp(math.log(system.multiplicity(j)) - log_z)
        out = qutip.mesolve(h, rho, t, e_ops=m, options={"atol": 1e-12, "rtol": 1e-10, "nsteps": 10**6})
        theirs += np.array([np.real(e) for e in out.expect])
    assert np.abs(ours - theirs).max() < 1e-8
    assert np.abs(ours[0] - ours[0, 0]).max() > 0.05  # it moved


@pytest.mark.parametrize("call, message", [
    (lambda: CollectiveSystem(-3), "n_sites"),
    (lambda: CollectiveSystem(2.5), "n_sites"),
    (lambda: CollectiveSystem(4, gamma=0.0), "gamma"),
    (lambda: CollectiveSystem(4).multiplicity(0.5), "not a total-spin sector"),
    (lambda: thermal_state(CollectiveSystem(4), (0, 0, 1), "hot"), "beta"),
    (lambda: thermal_state(CollectiveSystem(4), (0, 0, 1), np.array([1.0])), "beta"),
    (lambda: thermal_state(CollectiveSystem(4), (0, 1), 1.0), "r0"),
    (lambda: thermal_state(CollectiveSystem(4), (0, 0, 1), 1.0, weight_cutoff=2.0), "weight_cutoff"),
    (lambda: state_from_blocks(CollectiveSystem(4), {2.0: np.eye(3)}), "5x5"),
    (lambda: state_from_blocks(CollectiveSystem(4), {1.0: -np.eye(3)}), "positive"),
    (lambda: evolve_collective(lambda t, m: {"z": 1.0}, thermal_state(CollectiveSystem(3), (0, 0, 1), 1.0),
                               np.zeros((2, 2))), "t_eval"),
    (lambda: evolve_collective(lambda t, m: {"z": 1.0}, thermal_state(CollectiveSystem(3), (0, 0, 1), 1.0),
                               [1.0, 0.0]), "t_eval"),
    (lambda: evolve_collective(lambda t, m: {"zq": 1.0}, thermal_state(CollectiveSystem(3), (0, 0, 1), 1.0),
                               [0.0, 1.0]), "word"),
    (lambda: evolve_collective(lambda t, m: {"xy": 1.0}, thermal_state(CollectiveSystem(3), (0, 0, 1), 1.0),
                               [0.0, 1.0]), "not Hermitian"),
    (lambda: evolve_collective(lambda t, m: {"z": 1.0}, np.eye(2), [0.0, 1.0]), "CollectiveState"),
    (lambda: evolve_collective(lambda t, m: {"z": 1.0}, thermal_state(CollectiveSystem(3), (0, 0, 1), 1.0),
                               [0.0, 1.0], diagonal_picture="yes"), "diagonal_picture"),
    (lambda: evolve_collective(lambda t, m: {"z": 1.0}, thermal_state(CollectiveSystem(3), (0, 0, 1), 1.0),
                               [0.0, 1.0], integrator="rk4"), "integrator"),
    (lambda: evolve_collective(lambda t, m: {"z": 1.0}, thermal_state(CollectiveSystem(3), (0, 0, 1), 1.0),
                               [0.0, 1.0], support_tolerance=-1.0), "support_tolerance"),
    (lambda: evolve_collective(lambda t, m: {"z": 1.0}, thermal_state(CollectiveSystem(3), (0, 0, 1), 1.0),
                               [0.0, 1.0], support_tolerance=1e-10, integrator="scipy"), "compiled"),
])
def test_bad_input_is_one_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message) as err:
        call()
    assert "\n" not in str(err.value)
