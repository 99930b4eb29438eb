"""Per-system ensemble integrators (issue #15): dp54, dop853 and rk4, generated numba kernels and
the NumPy fallback, through symmag.numeric.simulate.simulate(..., integrator=...)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from symmag.errors import SymmagInputError
from symmag.numeric.simulate import load_model, simulate

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "generated" / "rhs"


@pytest.fixture(scope="module")
def fast():
    pytest.importorskip("numba")
    return load_model("llg_rsi_numba", FOLDER)


@pytest.fixture(scope="module")
def plain():
    return load_model("llg_rsi", FOLDER)


def spread(k: int, seed: int = 7) -> tuple[np.ndarray, dict]:
    """k systems: random directions and |M|, and per-system |gamma|, alpha0, H_z (a field
    along z; H_x = H_y = 0 scalars), always as the same kinds (one numba specialization)."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(3, k))
    y *= rng.uniform(0.5, 2.0, size=k) / np.linalg.norm(y, axis=0)
    return y, {"gamma_abs": rng.uniform(0.7, 1.4, k), "alpha0": rng.uniform(0.05, 0.5, k),
               "Hx": 0.0, "Hy": 0.0, "Hz": rng.uniform(0.5, 1.5, k)}


def closed_form(y0: np.ndarray, p: dict, t: np.ndarray) -> np.ndarray:
    """(44)-(45) for fields along z, per system: (3, K, T)."""
    g, a, hz = (np.broadcast_to(p[n], y0.shape[1])[:, None] for n in ("gamma_abs", "alpha0", "Hz"))
    mag = np.linalg.norm(y0, axis=0)[:, None]
    omega = g * hz
    arg = a / (1 + a**2) * omega * t + np.arctanh(y0[2] / mag[:, 0])[:, None]
    phi = np.arctan2(y0[1], y0[0])[:, None] + omega * t / (1 + a**2)
    mp = mag / np.cosh(arg)
    return np.stack([mp * np.cos(phi), mp * np.sin(phi), mag * np.tanh(arg)])


def errors(sim, y0, p) -> np.ndarray:
    """Per system, max over t of |M - M_exact| / |M|."""
    dev = np.linalg.norm(sim.y - closed_form(y0, p, sim.t), axis=0)
    return dev.max(axis=1) / np.linalg.norm(y0, axis=0)


T = np.linspace(0.0, 30.0, 61)


@pytest.mark.parametrize("integrator", ["dp54", "dop853"])
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_adaptive_matches_the_closed_form_for_every_system(fast, plain, backend, integrator):
    y0, p = spread(12)
    sim = simulate(fast if backend == "numba" else plain, y0, (0, 30), p, t_eval=T, integrator=integrator,
                   rtol=1e-10, atol=1e-12)
    assert sim.success, sim.message
    assert sim.y.shape == (3, 12, T.size) and sim.integrator == integrator
    assert errors(sim, y0, p).max() <= 2e-8  # every system, every output time (dense output too)
    assert np.all(sim.steps > 0) and sim.rejected is not None


def test_dop853_takes_fewer_steps_than_dp54_at_a_tight_tolerance(fast):
    """The reason to choose it: at rtol 1e-8 the eighth-order pair needs a fifth of dp54's steps,
    and is as accurate."""
    y0, p = spread(12)
    five = simulate(fast, y0, (0, 30), p, t_eval=T, integrator="dp54", rtol=1e-8, atol=1e-12)
    eight = simulate(fast, y0, (0, 30), p, t_eval=T, integrator="dop853", rtol=1e-8, atol=1e-12)
    assert (eight.steps + eight.rejected).sum() * 4 < (five.steps + five.rejected).sum()
    assert errors(eight, y0, p).max() <= errors(five, y0, p).max()


def test_dop853_tableau_is_scipys():
    """The DOP853 coefficients the kernels are rendered from (float literals in
    symmag.numeric.integrators) are SciPy's, to the bit."""
    c = pytest.importorskip("scipy.integrate._ivp.dop853_coefficients")
    from symmag.numeric import integrators as ig

    assert np.array_equal(ig.D8_C, c.C) and np.array_equal(ig.D8_B, c.B)
    assert np.array_equal(ig.D8_E3, c.E3) and np.array_equal(ig.D8_E5, c.E5) and np.array_equal(ig.D8_D, c.D)
    assert all(np.array_equal(ig.D8_A[s], c.A[s, :s]) for s in range(c.N_STAGES_EXTENDED))


def test_dp54_in_a_tilted_field_matches_dop853(fast):
    y0 = np.array([[0.2, 0.9, -0.3], [0.6, -0.2, -0.7]]).T
    p = {"gamma_abs": np.full(2, 1.7), "alpha0": np.full(2, 0.3), "Hx": 0.4, "Hy": -0.5,
         "Hz": np.array([0.8, 1.2])}
    ref = simulate(fast, y0, (0, 20), p, t_eval=np.linspace(0, 20, 41), rtol=1e-12, atol=1e-14)
    sim = simulate(fast, y0, (0, 20), p, t_eval=np.linspace(0, 20, 41), integrator="dp54",
                   rtol=1e-10, atol=1e-12)
    assert np.abs(sim.y - ref.y).max() <= 1e-8


@pytest.mark.parametrize("integrator", ["dp54", "dop853"])
def test_backends_agree_and_each_system_is_independent(fast, plain, integrator):
    """The numba kernels and the NumPy fallback take the same steps here (a tie could flip one on
    another CPU) and agree to rounding (the kernels fuse multiplies and adds: 2e-12 after dop853's
    ~60 steps here, against rtol 1e-7); a
    system integrated inside an ensemble gets exactly what it gets alone (nothing is shared
    between systems), and on numba's threads what it gets serially."""
    y0, p = spread(12)
    a = simulate(fast, y0, (0, 30), p, t_eval=T, integrator=integrator, rtol=1e-7, atol=1e-10)
    b = simulate(plain, y0, (0, 30), p, t_eval=T, integrator=integrator, rtol=1e-7, atol=1e-10)
    assert np.array_equal(a.steps, b.steps) and np.array_equal(a.rejected, b.rejected)
    assert np.abs(a.y - b.y).max() <= 1e-10
    j = 5
    one = {n: v[j:j + 1] if np.ndim(v) else v for n, v in p.items()}
    alone = simulate(fast, y0[:, j:j + 1], (0, 30), one, t_eval=T, integrator=integrator, rtol=1e-7,
                     atol=1e-10)
    assert np.array_equal(alone.y[:, 0], a.y[:, j]) and alone.steps[0] == a.steps[j]
    threads = simulate(fast, y0, (0, 30), p, t_eval=T, integrator=integrator, rtol=1e-7, atol=1e-10,
                       parallel=True)
    assert np.array_equal(threads.y, a.y) and np.array_equal(threads.steps, a.steps)


@pytest.mark.parametrize("method", ["dp54", "dop853"])
def test_step_power_is_the_same_in_both_backends_and_close_to_pow(fast, method):
    """The step factor's err^-0.2 (dp54) and err^-0.125 (dop853) without pow: the compiled
    _step_power* called on its own and the NumPy fallback's step_power agree bit for bit (inlined
    in the kernels, whose multiply-adds may fuse, to rounding), and both are within 5e-7 of pow
    where it matters."""
    from symmag.numeric.integrators import D8_POWER, DP54_POWER, step_power

    power, kernel = ((DP54_POWER, fast._step_power) if method == "dp54"
                     else (D8_POWER, fast._step_power_dop853))
    lo, hi = power.clamp
    err = np.concatenate([np.geomspace(1e-10, 1e6, 3001), [0.0, lo, hi, 1.0, np.inf]])
    compiled = np.array([kernel(e) for e in err])
    assert np.array_equal(compiled, step_power(err, power))
    inside = (err >= lo) & (err <= hi)
    assert np.abs(compiled[inside] / err[inside] ** power.exponent - 1).max() <= 5e-7


@pytest.mark.parametrize("integrator", ["dp54", "dop853"])
def test_per_system_step_control(fast, integrator):
    """Two systems 25x apart in time scale: the fast one takes about 25x the steps."""
    y0 = np.array([[0.6, 0.0, 0.8], [0.6, 0.0, 0.8]]).T
    p = {"gamma_abs": np.array([1.0, 1.0]), "alpha0": np.array([0.1, 0.1]), "Hx": 0.0, "Hy": 0.0,
         "Hz": np.array([0.2, 5.0])}
    sim = simulate(fast, y0, (0, 30), p, t_eval=T, integrator=integrator, rtol=1e-8, atol=1e-11)
    slow, quick = sim.steps
    print(f"per-system steps: slow {slow} (+{sim.rejected[0]} rejected), fast {quick} "
          f"(+{sim.rejected[1]} rejected)")
    assert quick > 10 * slow
    assert errors(sim, y0, p).max() <= 1e-6


def test_rk4_converges_at_order_4(fast, plain):
    y0 = np.array([[0.3, 0.1, 0.8]]).T
    p = {"gamma_abs": np.array([1.3]), "alpha0": np.array([0.2]), "Hx": 0.0, "Hy": 0.0, "Hz": np.array([1.1])}
    t = np.linspace(0, 10, 11)
    errs = []
    for h in (0.2, 0.1, 0.05):
        sim = simulate(fast, y0, (0, 10), p, t_eval=t, integrator="rk4", step=h)
        assert sim.steps[0] == round(10 / h)
        errs.append(errors(sim, y0, p)[0])
        numpy_sim = simulate(plain, y0, (0, 10), p, t_eval=t, integrator="rk4", step=h)
        assert np.abs(numpy_sim.y - sim.y).max() <= 1e-13
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    print(f"rk4 errors {errs}, observed orders {orders}")
    assert np.all(np.abs(orders - 4) <= 0.25)


def test_rk4_parallel_is_the_serial_result(fast):
    y0, p = spread(40)
    a = simulate(fast, y0, (0, 30), p, t_eval=T, integrator="rk4", step=0.05)
    b = simulate(fast, y0, (0, 30), p, t_eval=T, integrator="rk4", step=0.05, parallel=True)
    assert np.array_equal(a.y, b.y)


@pytest.mark.parametrize("integrator", ["dp54", "dop853"])
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_norm_drift_is_reported_and_projection_removes_it(fast, plain, backend, integrator):
    mod = fast if backend == "numba" else plain
    y0, p = spread(12)
    loose = simulate(mod, y0, (0, 30), p, t_eval=T, integrator=integrator, rtol=1e-5, atol=1e-8)
    norms = np.linalg.norm(loose.y, axis=0)
    actual = np.abs(norms / norms[:, :1] - 1).max()
    assert loose.drift == pytest.approx(actual, rel=1e-6) and 1e-10 < loose.drift < 1e-3
    projected = simulate(mod, y0, (0, 30), p, t_eval=T, integrator=integrator, rtol=1e-5, atol=1e-8,
                         project=True)
    assert projected.drift <= 1e-14
    # projection removes the radial error only: the trajectory is as accurate as before
    assert errors(projected, y0, p).max() <= 1.5 * errors(loose, y0, p).max()
    ivp = simulate(mod, y0, (0, 30), p, t_eval=T, rtol=1e-5, atol=1e-8)
    assert ivp.drift is not None and ivp.drift > 0


@pytest.mark.parametrize("integrator", ["dp54", "dop853"])
def test_max_steps_stops_a_system_and_says_so(fast, integrator):
    y0, p = spread(3)
    sim = simulate(fast, y0, (0, 30), p, t_eval=T, integrator=integrator, max_steps=5)
    assert not sim.success and sim.message.startswith("step budget exhausted")
    assert np.isnan(sim.y[:, :, -1]).all() and not np.isnan(sim.y[:, :, 0]).any()


def test_a_single_system_and_progress(fast, capsys):
    sim = simulate(fast, [0.3, 0.1, 0.9], (0, 10), {"gamma_abs": 1.0, "alpha0": 0.1, "Hx": 0.0, "Hy": 0.0,
                                                   "Hz": 1.0}, integrator="rk4", step=0.05)
    assert sim.y.shape == (3, 201) and sim.success
    y0, p = spread(40)
    chunked = simulate(fast, y0, (0, 30), p, t_eval=T, integrator="rk4", step=0.05, progress=True)
    whole = simulate(fast, y0, (0, 30), p, t_eval=T, integrator="rk4", step=0.05)
    assert np.array_equal(chunked.y, whole.y) and "100.0 %" in capsys.readouterr().err


PARAMS = {"gamma_abs": 1.0, "alpha0": 0.1, "Hx": 0.0, "Hy": 0.0, "Hz": 1.0}


@pytest.mark.parametrize("kwargs, words", [
    ({"integrator": "rk4", "step": 0.0}, ["step", "positive"]),
    ({"integrator": "rk4", "step": -0.1}, ["step", "positive"]),
    ({"integrator": "rk4", "step": np.nan}, ["step", "positive"]),
    ({"integrator": "rk4"}, ["rk4 needs a step"]),
    ({"integrator": "rk4", "step": 1e-9}, ["max_steps"]),
    ({"integrator": "dp54", "step": 0.1}, ["step is for rk4 and heun"]),
    ({"integrator": "dp54", "y0": [np.nan, 0.0, 1.0]}, ["y0", "finite"]),
    ({"integrator": "dp54", "Hz": np.nan}, ["Hz", "finite"]),
    ({"integrator": "rk4", "step": 0.1, "alpha0": np.inf}, ["alpha0", "finite"]),
    ({"integrator": "dp54", "t_eval": [0.0, 0.5, 0.2]}, ["t_eval", "increasing"]),
    ({"integrator": "dp54", "t_eval": [0.0, 0.5, 0.5]}, ["t_eval", "increasing"]),
    ({"integrator": "dp54", "Hz": lambda t: 1.0}, ["function of t", "solve_ivp"]),
    ({"integrator": "dp54", "atol": [1e-9, 1e-9, 1e-9]}, ["single atol"]),
    ({"integrator": "dp54", "method": "RK45"}, ["method", "solve_ivp"]),
    ({"integrator": "dp54", "max_steps": 0}, ["max_steps"]),
    ({"integrator": "dop853", "step": 0.1}, ["step is for rk4 and heun"]),
    ({"integrator": "dop853", "rtol": 0.0}, ["rtol"]),
    ({"integrator": "euler"}, ["unknown integrator", "dp54"]),
], ids=["step-0", "step-neg", "step-nan", "no-step", "too-many-steps", "step-dp54", "y0-nan",
        "param-nan", "param-inf", "t-eval-back", "t-eval-flat", "callable", "atol-array", "method",
        "max-steps", "step-dop853", "rtol-dop853", "unknown"])
def test_bad_input_is_one_line(fast, kwargs, words):
    kwargs = dict(kwargs)
    y0 = kwargs.pop("y0", [0.3, 0.1, 0.9])
    params = {**PARAMS, **{k: kwargs.pop(k) for k in list(kwargs) if k in PARAMS}}
    with pytest.raises(SymmagInputError) as exc:
        simulate(fast, y0, (0, 1), params, **kwargs)
    text = str(exc.value)
    assert "\n" not in text and all(w in text for w in words), text


def test_simulate_cli_runs_dop853(tmp_path, capsys):
    """symmag simulate --integrator dop853 writes a result whose record says what ran, and the
    numbers are the library's."""
    import json

    from symmag.cli.main import main

    out = tmp_path / "run.npz"
    argv = ["simulate", "llg_rsi", "--folder", str(FOLDER), "--y0", "0.6,0,0.8", "--t-end", "5",
            "--param", "gamma_abs=1", "--param", "alpha0=0.1", "--param", "Hx=0", "--param", "Hy=0",
            "--param", "Hz=1", "--points", "11", "--integrator", "dop853", "--rtol", "1e-8", "--atol",
            "1e-10", "-o", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    data = np.load(out)
    record = json.loads(str(data["record"]))
    assert record["options"]["integrator"] == "dop853" and record["options"]["rtol"] == 1e-8
    direct = simulate(load_model("llg_rsi", FOLDER), [0.6, 0.0, 0.8], (0, 5), PARAMS,
                      t_eval=np.linspace(0, 5, 11), integrator="dop853", rtol=1e-8, atol=1e-10)
    assert np.array_equal(data["y"], direct.y)


def test_an_output_that_is_not_finite_stops_the_system():
    """dop853 (NumPy) stops a system at an output that is not finite, status 3, its later outputs
    nan: here the right-hand side turns inf at the first dense-output stage of the first step
    (call 15: k1, the starting step's probe, stages 2-12, f at the new point, then the dense
    stages), so the step's own stages are finite and only its outputs are not."""
    import types

    from symmag.numeric import integrators

    calls = []

    def rhs(t, y, a):
        calls.append(None)
        return -a * y * (np.inf if len(calls) == 15 else 1.0)

    module = types.SimpleNamespace(STATE=("x",), AUTONOMOUS=True, NORMS=(), rhs=rhs)
    t = np.linspace(0.0, 2.0, 41)
    with np.errstate(all="ignore"):  # as simulate calls it: the trouble shows in the status
        y, accepted, _, status, _ = integrators.dop853(module, 0.0, t, np.array([[1.0, 2.0]]), [0.5])
    assert status.tolist() == [3, 3] and accepted.tolist() == [1, 1]
    assert np.isfinite(y[:, :, 0]).all() and np.isnan(y[:, :, -1]).all()
    assert "not finite" in integrators.STATUS[3]
