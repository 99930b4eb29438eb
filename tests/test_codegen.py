"""Generated right-hand-side modules: contract, accuracy against the closed form, drift."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from derivations.models import llg_rsi
from symmag.codegen import Model, command_for, render_numba, render_numpy
from symmag.errors import SymmagInputError

ROOT = Path(__file__).resolve().parents[1]


def load(source: str, tmp_path: Path, name: str = "mod"):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def llg(tmp_path_factory):
    return load(render_numpy(llg_rsi()), tmp_path_factory.mktemp("gen"), "llg")


def closed_form(m0: np.ndarray, field: np.ndarray, gamma_abs: float, alpha0: float, t: np.ndarray):
    """(44)-(45) and the derived azimuth phi0 + omega0 t/(1 + alpha0^2), in the field's frame."""
    n = field / np.linalg.norm(field)
    e1 = np.cross(n, [1.0, 0.0, 0.0] if abs(n[0]) < 0.9 else [0.0, 1.0, 0.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(n, e1)
    mag = np.linalg.norm(m0)
    d = m0 @ n / mag
    phi0 = np.arctan2(m0 @ e2, m0 @ e1)
    omega0 = gamma_abs * np.linalg.norm(field)
    lam0 = alpha0 / (1 + alpha0**2)
    arg = lam0 * omega0 * t + np.arctanh(d)
    mz, mp = mag * np.tanh(arg), mag / np.cosh(arg)
    phi = phi0 + omega0 * t / (1 + alpha0**2)
    return (np.outer(mp * np.cos(phi), e1) + np.outer(mp * np.sin(phi), e2) + np.outer(mz, n)).T


@pytest.mark.parametrize("alpha0", [0.01, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("m0, field", [
    ([0.3, 0.1, 0.8], [0.0, 0.0, 1.0]),
    ([0.6, -0.2, -0.7], [0.0, 0.0, 1.3]),      # d < 0
    ([0.2, 0.9, -0.3], [0.4, -0.5, 0.8]),      # field not along z
])
def test_llg_matches_closed_form(llg, alpha0, m0, field):
    m0, field = np.array(m0), np.array(field)
    gamma_abs = 1.7
    lam0, omega0 = alpha0 / (1 + alpha0**2), gamma_abs * np.linalg.norm(field)
    t_end = 5 / (lam0 * omega0)  # five relaxation times
    sol = solve_ivp(llg.rhs, (0, t_end), m0, args=(gamma_abs, alpha0, *field), method="DOP853",
                    rtol=1e-11, atol=1e-13, dense_output=True)
    t = np.linspace(0, t_end, 400)
    exact = closed_form(m0, field, gamma_abs, alpha0, t)
    err = np.linalg.norm(sol.sol(t) - exact, axis=0) / np.linalg.norm(m0)
    assert err.max() <= 1e-8


def test_jacobian_matches_central_differences(llg):
    rng = np.random.default_rng(3)
    params = (1.3, 0.4, 0.2, -0.5, 0.9)
    for _ in range(5):
        y = rng.normal(size=3)
        jac = llg.jacobian(0.0, y, *params)
        h = 1e-6
        numeric = np.column_stack([(llg.rhs(0, y + h * e, *params) - llg.rhs(0, y - h * e, *params)) / (2 * h)
                                   for e in np.eye(3)])
        assert np.abs(jac - numeric).max() <= 1e-7 * max(1.0, np.abs(jac).max())


def test_ensemble_layouts_and_parameter_arrays(llg):
    rng = np.random.default_rng(5)
    k = 7
    y = rng.normal(size=(3, k))
    hz = rng.normal(size=k)
    params = (1.0, 0.3, 0.1, 0.0, hz)
    one_by_one = np.column_stack([llg.rhs(0, y[:, j], 1.0, 0.3, 0.1, 0.0, hz[j]) for j in range(k)])
    assert np.allclose(llg.rhs(0, y, *params), one_by_one, rtol=1e-14, atol=0)
    assert np.allclose(llg.rhs(0, y.ravel(), *params), one_by_one.ravel(), rtol=1e-14, atol=0)
    out = np.empty(3 * k)
    assert llg.rhs(0, y.ravel(), *params, out=out) is not None and np.allclose(out, one_by_one.ravel())
    blocks = llg.jacobian(0, y, *params)
    assert blocks.shape == (3, 3, k)
    sparse = llg.sparse_jacobian(0, y.ravel(), *params).toarray()
    assert np.allclose(sparse[np.ix_(np.arange(3) * k + 2, np.arange(3) * k + 2)], blocks[:, :, 2])
    assert (llg.jac_sparsity(k).toarray() != 0).sum() == 9 * k


def test_bad_input_names_what_was_expected(llg):
    with pytest.raises(ValueError, match=r"shape \(3,\), \(3, K\) or \(3\*K,\)"):
        llg.rhs(0, np.zeros(4), 1, 0.1, 0, 0, 1)
    with pytest.raises(ValueError, match=r"parameter Hz must be a scalar or have shape \(5,\)"):
        llg.rhs(0, np.ones((3, 5)), 1, 0.1, 0, 0, np.ones(4))
    with pytest.raises(TypeError, match="Hz"):
        llg.rhs(0, np.ones(3), 1, 0.1, 0, 0)


def test_awkward_symbol_names_still_generate(tmp_path):
    lam, weird, x = sp.Symbol("lambda"), sp.Symbol("H-x"), sp.Symbol("x")
    model = Model("awkward", (x,), (lam, weird), (lam * x + weird,))
    mod = load(render_numpy(model), tmp_path, "awkward")
    assert mod.PARAMETERS == ("lambda", "H-x")
    assert mod.rhs(0, np.array([2.0]), 3.0, 1.0)[0] == 7.0


def test_model_rejects_unknown_symbols():
    x, a = sp.symbols("x a")
    with pytest.raises(SymmagInputError, match="unknown symbol"):
        Model("m", (x,), (), (a * x,))


def test_rendering_is_byte_identical_across_hash_seeds(tmp_path):
    code = ("import sys; from derivations.models import llg_rsi; from symmag.codegen import render_numpy;"
            "sys.stdout.write(render_numpy(llg_rsi()))")
    outs = []
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outs.append(subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                                   capture_output=True, text=True, timeout=300).stdout)
    assert outs[0] == outs[1] == outs[2]


@pytest.mark.parametrize("backend, filename, render", [
    ("numpy", "llg_rsi.py", render_numpy), ("numba", "llg_rsi_numba.py", render_numba)])
def test_committed_modules_match_the_tool(backend, filename, render):
    model = llg_rsi()
    committed = (ROOT / "generated" / "rhs" / filename).read_text()
    assert committed == render(model, command_for("symmag codegen", model, backend)), (
        f"generated/rhs/{filename} drifted: rerun `symmag codegen --backend all`")


def test_numba_backend_agrees_with_numpy(llg, tmp_path):
    pytest.importorskip("numba")
    fast = load(render_numba(llg_rsi()), tmp_path, "llg_numba")
    rng = np.random.default_rng(11)
    for shape in [(3,), (3, 9), (27,)]:
        y = rng.normal(size=shape)
        k = 9 if len(shape) == 2 or shape[0] == 27 else None
        hz = rng.normal(size=k) if k else 0.7
        a, b = llg.rhs(0, y, 1.3, 0.2, 0.1, -0.3, hz), fast.rhs(0, y, 1.3, 0.2, 0.1, -0.3, hz)
        assert a.shape == b.shape == shape
        assert np.linalg.norm(a - b) <= 1e-12 * np.linalg.norm(a)


def test_gilbert_model_with_a_field_of_the_users(llg, tmp_path):
    from derivations.models import STATE, gilbert_model

    hz, k = sp.symbols("Hz K", real=True)
    model = gilbert_model("llg_anisotropy", (0, 0, hz + k * STATE[2]), (hz, k))
    mod = load(render_numpy(model), tmp_path, "aniso")
    assert mod.PARAMETERS == ("gamma_abs", "alpha0", "Hz", "K")
    y = np.array([0.3, -0.2, 0.9])
    # K = 0 is llg_rsi in a static field along z; K != 0 shifts Hz by K Mz
    assert np.allclose(mod.rhs(0, y, 1.3, 0.2, 0.8, 0.0), llg.rhs(0, y, 1.3, 0.2, 0, 0, 0.8), rtol=1e-14)
    assert np.allclose(mod.rhs(0, y, 1.3, 0.2, 0.8, 0.5), llg.rhs(0, y, 1.3, 0.2, 0, 0, 0.8 + 0.5 * 0.9),
                       rtol=1e-14)
    jac = mod.jacobian(0, y, 1.3, 0.2, 0.8, 0.5)
    h = 1e-6
    numeric = np.column_stack([(mod.rhs(0, y + h * e, 1.3, 0.2, 0.8, 0.5)
                                - mod.rhs(0, y - h * e, 1.3, 0.2, 0.8, 0.5)) / (2 * h) for e in np.eye(3)])
    assert np.abs(jac - numeric).max() < 1e-7
