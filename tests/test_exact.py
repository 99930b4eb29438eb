"""One symbolic Hamiltonian, every route: symmag.exact.solve against QuTiP, a closed form, the full space,
the D-term, the hierarchy and a generated closure module (issue #14, items 1 and 4)."""

from __future__ import annotations

import importlib.util
import math
import re

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from derivations import models
from symmag.algebra.expectation import moment_average
from symmag.algebra.fields import H_eff, M
from symmag.algebra.matrices import SpinSystem
from symmag.algebra.operators import Moment
from symmag.algebra.su2 import M0, S, same_operator
from symmag.conventions import N, V, gamma, hbar, t
from symmag.errors import SymmagInputError
from symmag.exact import solve as exact
from symmag.exact.collective import CollectiveSystem, evolve_collective, thermal_state
from symmag.exact.compare import thermal_invariant_state
from symmag.numeric.codegen import Model, render_numpy
from symmag.theory.closures import cumulant_expansion, mean_field
from symmag.theory.dterm import dterm, zeeman_hamiltonian
from symmag.theory.hierarchy import correlation_rate, hierarchy

LAM, KAPPA, CHI = models.LAMBDA_IV, sp.Symbol("kappa", real=True), sp.Symbol("chi", positive=True)
R0, BETA = (math.sin(0.5), 0.0, math.cos(0.5)), math.log(3)  # polarization tanh(ln 3/2) = 1/2
FIELD = sp.symbols("Hx Hy Hz", real=True)


def closure_module(system: dict, name: str, tmp_path):
    """A closed system of symmag.theory.closures as a generated module (symmag.numeric.codegen),
    loaded: M = <M0>/V
    closes the coupling, gamma = -1, hbar = 1; state Mx.. and Gxx..; parameters lambda, kappa, V, N, H."""
    def plain(c):
        return sp.Symbol(("M" if len(c.word) == 1 else "G") + "".join("xyz"[a] for a in c.word), real=True)

    sub = {**dict(zip(M, moment_average())), gamma: -1, hbar: 1}
    rename = {**{c: plain(c) for c in system}, **dict(zip(H_eff, FIELD))}
    rhs = [sp.sympify(e).xreplace(sub).xreplace(rename) for e in system.values()]
    model = Model(name, tuple(plain(c) for c in system), (LAM, KAPPA, V, N, *FIELD), rhs)
    path = tmp_path / f"{name}.py"
    path.write_text(render_numpy(model))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_hamiltonian_runs_dterm_hierarchy_closures_and_the_exact_solvers(tmp_path):
    """H = the paper's spin-spin model (63) plus an easy axis kappa (M0^z)^2/(gamma^2 N), built once
    (the easy axis makes the tilted thermal state (11) evolve: without it (M . M0)^2 commutes with
    rho for all t).  From that one object: dterm's D equals the hierarchy's rate of <M0> under the
    interaction (M_I = 0); the cumulant-2 closure keeps the hierarchy's first order; the closures
    rendered by symmag.numeric.codegen and loaded run against the exact collective solver, which agrees
    with the full space at N = 4.  N = 20, V = N, lambda = 4/N over one precession period: the
    cumulant-2 error is below the effect of lambda itself and well below the mean field's."""
    h = models.spin_spin_hamiltonian() + KAPPA * M0("z") ** 2 / (gamma**2 * N)
    interaction = h - zeeman_hamiltonian()
    d = dterm(interaction).d
    assert all(sp.expand(d[a] - correlation_rate((a,), interaction)) == 0 for a in range(3))
    first = hierarchy(h, 2)
    c2 = cumulant_expansion(h, 2)
    assert all(sp.expand(c2[m] - first[m]) == 0 for m in moment_average())
    modules = {"cumulant 2": closure_module(c2, "c2", tmp_path),
               "mean field": closure_module(mean_field(h, 1), "mf", tmp_path)}

    # the two exact routes on one self-consistent problem: sectors and the full space, N = 4
    options = {"parameters": {LAM: 1.0, KAPPA: -1.0}, "field": (0.2, 0, 1), "rtol": 1e-11, "atol": 1e-13}
    small = exact.solve_collective(h, thermal_state(CollectiveSystem(4, volume=4), R0, BETA),
                                   np.linspace(0, 3, 7), **options)
    system = SpinSystem(4, "1/2", hbar=1.0, gamma=-1.0)
    full = exact.solve_full_space(h, system, thermal_invariant_state(system, R0, BETA), np.linspace(0, 3, 7),
                                  volume=4, **options)
    assert np.abs(small.M - full.M).max() < 1e-8 and np.abs(small.M - small.M[:, :1]).max() > 0.05

    n = 20
    state = thermal_state(CollectiveSystem(n, volume=n), R0, BETA)
    times = np.linspace(0, 2 * np.pi, 21)
    runs = {lam: exact.solve_collective(h, state, times, parameters={LAM: lam, KAPPA: -1.0},
                                        field=(0, 0, 1.0), second_moments=True, frame=(0, 0, -1.0))
            for lam in (4 / n, 0.0)}
    run = runs[4 / n]
    g0 = run.collective.G[:, :, 0]
    values = {"lambda": 4 / n, "kappa": -1.0, "V": float(n), "N": float(n), "Hx": 0.0, "Hy": 0.0, "Hz": 1.0}
    errors = {}
    for label, mod in modules.items():
        y0 = [run.M["xyz".index(s[1]), 0] if s[0] == "M" else g0["xyz".index(s[1]), "xyz".index(s[2])]
              for s in mod.STATE]
        args = tuple(values[p] for p in mod.PARAMETERS)
        sol = solve_ivp(mod.rhs, (0, times[-1]), y0, t_eval=times, args=args, method="DOP853",
                        rtol=1e-10, atol=1e-12)
        errors[label] = np.abs(sol.y[:3] - run.M).max()
    effect = np.abs(run.M - runs[0.0].M).max()
    assert errors["cumulant 2"] < 0.6 * effect and errors["cumulant 2"] < 0.3 * errors["mean field"], errors


def coherent_ket(j: float, direction) -> np.ndarray:
    """|J, J> along ``direction`` in the basis m = +J ... -J: the top eigenvector of n.J (QuTiP's jmat)."""
    import qutip

    n = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    op = sum(n[a] * qutip.jmat(j, "xyz"[a]).full() for a in range(3))
    return np.linalg.eigh(op)[1][:, -1]


@pytest.mark.parametrize("driven", [False, True])
def test_collective_from_a_symbolic_h_agrees_with_qutip(driven):
    """The Lipkin-Meshkov-Glick Hamiltonian in a transverse field, written symbolically,
    H = -M0 . H_eff + chi ((M0^z)^2 - 0.4 (M0^x)^2)/(gamma^2 hbar N), N = 16, from the coherent state
    along -R0 (the thermal state (11) at beta |R0| = 40).  Fixed field (0.7, 0, 0): exact per-sector
    propagation; driven field (0.7, 0.3 cos 2t, 0): the ODE route with the field compiled from t.
    QuTiP (sesolve on qutip.jmat(8), gamma = -1, hbar = 1) agrees to 1e-8 on <M0>."""
    qutip = pytest.importorskip("qutip")
    n, r0 = 16, np.array([0.3, -0.5, 0.8])
    h = -sum(M0(a) * H_eff[a] for a in range(3)) + CHI * (M0("z") ** 2 - sp.Rational(2, 5) * M0("x") ** 2) / (
        gamma**2 * hbar * N)
    field = (0.7, 0.3 * sp.cos(2 * t), 0) if driven else (0.7, 0, 0)
    times = np.linspace(0, 6, 13)
    state = thermal_state(CollectiveSystem(n), 40 * r0 / np.linalg.norm(r0), 1.0)
    ours = exact.solve_collective(h, state, times, parameters={CHI: 1.5}, field=field, rtol=1e-11, atol=1e-13)
    assert state.neglected_weight < 1e-12 and (ours.collective.nfev == 0) == (not driven)

    j = n / 2
    m = [-qutip.jmat(j, a) for a in "xyz"]
    hq = [-0.7 * m[0] + 1.5 * (m[2] * m[2] - 0.4 * m[0] * m[0]) / n]
    if driven:
        hq.append([-m[1], lambda tt, *args: 0.3 * math.cos(2 * tt)])
    psi0 = qutip.Qobj(coherent_ket(j, -r0))
    out = qutip.sesolve(hq if driven else hq[0], psi0, times, e_ops=m,
                        options={"atol": 1e-13, "rtol": 1e-11, "nsteps": 10**6})
    theirs = np.array([np.real(e) for e in out.expect])
    assert np.abs(ours.m0 - theirs).max() < 1e-8
    assert np.abs(ours.m0 - ours.m0[:, :1]).max() > 0.5  # it moved


def test_one_axis_twisting_of_a_thousand_spins_follows_the_closed_form():
    """One-axis twisting H = hbar chi J_z^2 = chi (M0^z)^2/(gamma^2 hbar), N = 1000, from the coherent
    state along +x.  Closed form: J_+ e^{-i chi t J_z^2} = e^{-i chi t J_z^2} J_+ e^{-i chi t (2 J_z + 1)}
    (J_+ raises m by one, (m + 1)^2 - m^2 = 2m + 1), so in the Heisenberg picture J_+(t) =
    J_+ e^{i chi t (2 J_z + 1)}; with 2 J_z = sum_i sigma_i^z and the product state |+x>^N,
    <J_+(t)> = e^{i chi t} sum_i <sigma_+^i e^{i chi t sigma_z^i}> prod_{k != i} <e^{i chi t sigma_z^k}>
    = e^{i chi t} N (e^{-i chi t}/2) cos^{N-1}(chi t): <J_x>(t) = (N/2) cos^{N-1}(chi t), <J_y> = 0.
    Here gamma = -1, hbar = 1, so <M0^x> = -<J_x>; the times reach the revival chi t = pi, where
    cos^{999} = -1 (phases chi m^2 t up to 8e5 rad: exact per-sector propagation, no integrator)."""
    n, chi = 1000, 0.8
    h = CHI * M0("z") ** 2 / (gamma**2 * hbar)
    times = np.concatenate([np.linspace(0, 0.15, 16), [math.pi / 2, math.pi]]) / chi
    state = thermal_state(CollectiveSystem(n), (-40.0, 0, 0), 1.0)  # weight of the rest: 1000 e^-40
    run = exact.solve_collective(h, state, times, parameters={CHI: chi})
    closed = n / 2 * np.cos(chi * times) ** (n - 1)
    assert state.neglected_weight < 1e-12 and run.collective.nfev == 0
    assert np.abs(-run.m0[0] - closed).max() < 1e-8 * n and np.abs(run.m0[1:]).max() < 1e-8 * n
    assert abs(-run.m0[0, -1] + n / 2) < 1e-8 * n  # the revival, with the sign of cos^999(pi)


def test_fixed_hamiltonian_exact_propagation_matches_the_ode_route():
    """Item 4: a fixed polynomial is propagated by diagonalizing each kept sector; on a mixed thermal
    state of 12 spins (all sectors) it agrees with the DOP853 route, G included."""
    poly = {"x": -0.3, "z": -1.0, "zz": 0.8 / 12, "xy": 0.5 / 12, "yx": 0.5 / 12}
    state = thermal_state(CollectiveSystem(12), R0, BETA)
    times = np.linspace(0, 5, 11)
    fixed = evolve_collective(poly, state, times, second_moments=True)
    ode = evolve_collective(lambda tt, m: poly, state, times, second_moments=True, rtol=1e-12, atol=1e-14)
    assert fixed.nfev == 0 and np.abs(fixed.M - ode.M).max() < 1e-9 and np.abs(fixed.G - ode.G).max() < 1e-8


def test_rsi_moment_closes_the_loop_in_sectors_as_in_the_full_space():
    """The RSI (31)-(32) with (46) and (49): M = <M0 + M_I>/V (4), (5) by fixed-point iteration; the
    collective and the full-space routes agree, and M differs from <M0> by (36)'s factor."""
    h = models.rsi_dimensionless(models.rsi_hamiltonian("46+49"))
    params = {models.ALPHA0: 0.3, models.LB46: 0.2, models.LB49: 0.1}
    times = np.linspace(0, 4, 5)
    coll = exact.solve_collective(h, thermal_state(CollectiveSystem(3), (0.8, 0.1, -0.6), 1.5), times,
                                  parameters=params, field=(0, 0, 1.0), rtol=1e-11, atol=1e-13)
    system = SpinSystem(3, "1/2", hbar=1.0, gamma=-1.0)
    full = exact.solve_full_space(h, system, thermal_invariant_state(system, (0.8, 0.1, -0.6), 1.5), times,
                                  parameters=params, field=(0, 0, 1.0), rtol=1e-11, atol=1e-13)
    assert np.abs(coll.M - full.M).max() < 1e-9 and np.abs(coll.M - coll.m0).max() > 0.01


def test_the_shared_hamiltonians_are_the_derivations_own():
    """derivations.models holds the one definition of (31)-(32), (46)/(49)/(53) and (63), and the
    section modules build their D-terms from it (no second copy to drift)."""
    from derivations import sec3a_rsi, sec3b_general_field, sec4_spin_spin

    assert sec3a_rsi.rsi_interaction is models.rsi_interaction
    assert sec3b_general_field.radiation_field is models.radiation_field
    assert sec3b_general_field.field_modification is models.field_modification
    assert sec4_spin_spin.coupling is models.spin_spin_coupling
    assert sec4_spin_spin.spin_spin_interaction is models.spin_spin_interaction
    minus_m0 = [-M0(a) for a in range(3)]
    for kind in ("46", "49", "53", "46+49"):  # sec3b's 1/|M| symbol inside the shared field
        mine = models.rsi_interaction(kind, inverse_magnitude=sec3b_general_field.M_INV)
        theirs = sum((x * y for x, y in zip(minus_m0, sec3b_general_field.modified_field(kind))), M0("x") * 0)
        assert same_operator(mine, theirs), kind
    assert same_operator(models.spin_spin_interaction(), sec4_spin_spin.interaction_collective())


COLLECTIVE = CollectiveSystem(3)
STATE = thermal_state(COLLECTIVE, (0, 0, 1.0), 1.0)


def _time_of(message: str) -> float:
    return float(re.search(r"at t = ([-0-9.e+]+)", message).group(1))


@pytest.mark.parametrize("call, words", [
    (lambda: exact.to_collective(KAPPA * M0("x") * M0("y"), COLLECTIVE, parameters={KAPPA: 1.0}).translation
     .coefficients(0.0, np.zeros(3)), "not Hermitian"),
    (lambda: exact.solve_collective(sp.I * KAPPA * M0("z"), STATE, [0, 1], parameters={KAPPA: 1.0}),
     "not Hermitian"),
    (lambda: exact.to_collective(S(sp.Symbol("i"), "z") * M0("z"), COLLECTIVE), "per-site"),
    (lambda: exact.to_collective(1 / Moment("x"), COLLECTIVE), "non-polynomial"),
    (lambda: exact.to_collective(sp.Symbol("t") * M0("z"), COLLECTIVE), "the time is symmag.conventions.t"),
    (lambda: exact.solve_collective(sp.log(t) * M0("z"), STATE, [0, 1]),
     "at t = 0: the coefficient of the term M0z"),
    (lambda: exact.solve_collective(KAPPA * M0("z"), STATE, [0, 1]), "kappa, which has no value"),
    (lambda: exact.solve_collective(-M0("z") * H_eff[2], STATE, [0, 1]), "pass field="),
    (lambda: exact.solve_full_space(S(sp.Symbol("i"), "z"), SpinSystem(2), np.eye(4) / 4, [0, 1]),
     "site_map"),
    (lambda: exact.solve_collective(M0("z"), STATE, [0, 1], parameters={"lambdaa": 1.0}), "appear in no"),
])
def test_bad_input_is_one_clear_error_naming_the_term(call, words):
    with pytest.raises(SymmagInputError, match=re.escape(words)):
        call()


def test_nan_coefficient_is_reported_at_the_first_bad_time():
    """sqrt(1 - t) is real up to t = 1: the error comes from the first evaluation beyond it."""
    with pytest.raises(SymmagInputError, match=r"the coefficient of the term M0z.*is nan") as info:
        exact.solve_collective(sp.sqrt(1 - t) * M0("z") + M0("x") ** 2, STATE, np.linspace(0, 2, 5))
    assert 1 < _time_of(str(info.value)) < 1.5
    with pytest.raises(SymmagInputError, match=r"at t = .*the coefficient of the term Sz\[i\]") as info:
        h = sp.sqrt(1 - t) * S(sp.Symbol("i"), "z") * S(sp.Symbol("j"), "z")
        exact.solve_full_space(h, SpinSystem(2), np.diag([0.7, 0.1, 0.1, 0.1]).astype(complex),
                               np.linspace(0, 2, 5), site_map={"i": 0, "j": 1})
    assert 1 < _time_of(str(info.value)) < 1.5
