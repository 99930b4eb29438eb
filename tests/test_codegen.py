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

from derivations.models import MODELS
from symmag.errors import SymmagInputError
from symmag.numeric.codegen import Model, command_for, render_numba, render_numpy

ROOT = Path(__file__).resolve().parents[1]


def load(source: str, tmp_path: Path, name: str = "mod"):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def models():
    return {name: make() for name, make in MODELS.items()}


@pytest.fixture(scope="module")
def modules(models, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gen")
    return {name: load(render_numpy(m), tmp, name) for name, m in models.items()}


@pytest.fixture(scope="module")
def llg(modules):
    return modules["llg_rsi"]


def params_for(mod, seed: int = 0) -> list:
    """Scalar values for a module's PARAMETERS, in (0.3, 1.1)."""
    return list(np.random.default_rng(seed).uniform(0.3, 1.1, size=len(mod.PARAMETERS)))


def closed_form(m0: np.ndarray, field: np.ndarray, gamma_abs: float, alpha0: float, t: np.ndarray,
                precession: float | None = None, relaxation: float | None = None):
    """(44)-(45) and the derived azimuth phi0 + omega0 t/(1 + alpha0^2), in the field's frame.
    ``precession`` p and ``relaxation`` q replace 1/(1 + alpha0^2) and lambda0 (Sec. III B)."""
    n = field / np.linalg.norm(field)
    e1 = np.cross(n, [1.0, 0.0, 0.0] if abs(n[0]) < 0.9 else [0.0, 1.0, 0.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(n, e1)
    mag = np.linalg.norm(m0)
    d = m0 @ n / mag
    phi0 = np.arctan2(m0 @ e2, m0 @ e1)
    omega0 = gamma_abs * np.linalg.norm(field)
    p = 1 / (1 + alpha0**2) if precession is None else precession
    q = alpha0 / (1 + alpha0**2) if relaxation is None else relaxation
    arg = q * omega0 * t + np.arctanh(d)
    mz, mp = mag * np.tanh(arg), mag / np.cosh(arg)
    phi = phi0 + p * omega0 * t
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


@pytest.mark.parametrize("lb46, a", [(0.3, 0.5), (-0.2, -0.5), (0.1, -1.5)])  # a < -1 overturns
def test_extra_model_matches_closed_form(modules, lb46, a):
    """llg_rsi_extra in a tilted static field against (44)-(45) with the derived Sec. III B
    rates: precession (1/(1 + alpha0^2) - lambdabar46) omega0, relaxation (1 + a) lambda0 omega0."""
    mod = modules["llg_rsi_extra"]
    m0, field, gamma_abs, alpha0 = np.array([0.2, 0.5, 0.7]), np.array([0.3, -0.4, 0.9]), 1.7, 0.3
    lam0 = alpha0 / (1 + alpha0**2)
    p, q = 1 / (1 + alpha0**2) - lb46, (1 + a) * lam0
    t_end = 5 / abs(q * gamma_abs * np.linalg.norm(field))
    sol = solve_ivp(mod.rhs, (0, t_end), m0, args=(gamma_abs, alpha0, lb46, a * lam0, *field),
                    method="DOP853", rtol=1e-11, atol=1e-13, dense_output=True)
    t = np.linspace(0, t_end, 300)
    exact = closed_form(m0, field, gamma_abs, alpha0, t, p, q)
    assert (np.linalg.norm(sol.sol(t) - exact, axis=0) / np.linalg.norm(m0)).max() <= 1e-8
    if a < -1:  # overturned: M_z -> -M along the field
        assert sol.sol(t_end) @ field / np.linalg.norm(field) < -0.99 * np.linalg.norm(m0)


def test_extra_model_reduces_to_llg_rsi(modules):
    y = np.random.default_rng(2).normal(size=(3, 50))
    a = modules["llg_rsi_extra"].rhs(0, y, 1.3, 0.4, 0.0, 0.0, 0.2, -0.5, 0.9)
    assert np.allclose(a, modules["llg_rsi"].rhs(0, y, 1.3, 0.4, 0.2, -0.5, 0.9), rtol=1e-13, atol=0)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_jacobian_matches_central_differences(modules, name):
    mod = modules[name]
    params, n = params_for(mod), mod.N_STATE
    rng = np.random.default_rng(3)
    for _ in range(5):
        y = rng.normal(size=n)
        jac = mod.jacobian(0.0, y, *params)
        h = 1e-6
        numeric = np.column_stack([(mod.rhs(0, y + h * e, *params) - mod.rhs(0, y - h * e, *params)) / (2 * h)
                                   for e in np.eye(n)])
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


def test_ensembles_larger_than_a_chunk(llg):
    """The NumPy backend works through the ensemble in chunks: systems on either side of
    every chunk boundary, with per-system and scalar parameters mixed, match one-by-one calls."""
    k = 2 * llg.CHUNK + 3
    rng = np.random.default_rng(8)
    y, hz, alpha0 = rng.normal(size=(3, k)), rng.normal(size=k), rng.uniform(0.1, 1, size=k)
    full = llg.rhs(0, y, 1.1, alpha0, 0.2, -0.1, hz)
    for j in (0, llg.CHUNK - 1, llg.CHUNK, 2 * llg.CHUNK - 1, 2 * llg.CHUNK, k - 1, 12345):
        one = llg.rhs(0, y[:, j], 1.1, alpha0[j], 0.2, -0.1, hz[j])
        assert np.allclose(full[:, j], one, rtol=1e-14, atol=0)


def random_expression(rng, leaves, depth):
    """A random expression tree over ``leaves`` with the operations the in-place compiler
    handles, deterministic for a seeded rng."""
    if depth == 0 or rng.random() < 0.2:
        if rng.random() < 0.85:
            return leaves[rng.integers(len(leaves))]
        return sp.Rational(rng.integers(-5, 6), 3)
    a, b = random_expression(rng, leaves, depth - 1), random_expression(rng, leaves, depth - 1)
    choice = rng.integers(9)
    return [a + b, a - b, a * b, a / (b**2 + 1), sp.sqrt(a**2 + 1), a**3, sp.sin(a) * b, sp.exp(-a**2),
            sp.atan2(a, b**2 + 1)][choice]


def test_inplace_program_matches_lambdify_on_random_models(tmp_path):
    """The straight-line in-place program (buffer reuse, hoisting, chunks) computes what
    sympy.lambdify computes, for random models whose temporaries are shared across outputs."""
    x, y, z, a, b = sp.symbols("x y z a b", real=True)
    rng = np.random.default_rng(2026)
    values = np.random.default_rng(1).normal(size=(3, 9000))
    pa, pb = 0.7, np.random.default_rng(2).normal(size=9000)
    for n in range(25):
        common = random_expression(rng, [x, y, z, a, b], 2)
        rhs = tuple(random_expression(rng, [x, y, z, a, b, common], 3) for _ in range(3))
        model = Model(f"random{n}", (x, y, z), (a, b), rhs)
        mod = load(render_numpy(model), tmp_path, f"random{n}")
        expected = np.array([np.broadcast_to(v, (9000,)) for v in
                             sp.lambdify([x, y, z, a, b], list(rhs), "numpy")(*values, pa, pb)])
        got = mod.rhs(0, values, pa, pb)
        assert np.allclose(got, expected, rtol=1e-12, atol=1e-12, equal_nan=True), rhs


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


def test_unsupported_functions_and_time_dependence(tmp_path):
    x, y, t, k = sp.symbols("x y t k")
    with pytest.raises(SymmagInputError, match="Max cannot be generated"):
        render_numpy(Model("m", (x,), (), (sp.Max(x, 1),)))
    with pytest.raises(SymmagInputError, match="ImaginaryUnit cannot be generated"):
        render_numpy(Model("m", (x,), (), (sp.I * x,)))
    # a state-dependent exponent, t on the right-hand side, a parameter named like an internal
    model = Model("timed", (x, y), (k,), (x ** (y + 1) * sp.sin(t) + k, -x - y))
    renders = [render_numpy] + ([render_numba] if importlib.util.find_spec("numba") else [])
    ys = np.abs(np.random.default_rng(0).normal(size=(2, 20000))) + 0.5
    for render in renders:
        mod = load(render(model), tmp_path, f"timed_{render.__name__}")
        assert mod.PARAMETERS == ("k",)
        full = mod.rhs(0.7, ys, 0.3)
        for j in (0, 9000, 19999):
            expected = [ys[0, j] ** (ys[1, j] + 1) * np.sin(0.7) + 0.3, -ys[0, j] - ys[1, j]]
            assert np.allclose(full[:, j], expected, rtol=1e-14)
            assert np.allclose(mod.rhs(0.7, ys[:, j], 0.3), full[:, j], rtol=1e-14)
        assert mod.rhs(0.0, np.zeros((2, 0)), 0.3).shape == (2, 0)


def test_model_rejects_unknown_symbols():
    x, a = sp.symbols("x a")
    with pytest.raises(SymmagInputError, match="unknown symbol"):
        Model("m", (x,), (), (a * x,))


def test_rendering_is_byte_identical_across_hash_seeds(tmp_path):
    code = ("import sys; from derivations.models import llg_rsi; "
            "from symmag.numeric.codegen import render_numpy;"
            "sys.stdout.write(render_numpy(llg_rsi()))")
    outs = []
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outs.append(subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                                   capture_output=True, text=True, timeout=300).stdout)
    assert outs[0] == outs[1] == outs[2]


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("backend, suffix, render", [("numpy", "", render_numpy),
                                                     ("numba", "_numba", render_numba)])
def test_committed_modules_match_the_tool(models, name, backend, suffix, render):
    model = models[name]
    path = ROOT / "generated" / "rhs" / f"{name}{suffix}.py"
    assert path.exists(), f"{path} is missing: run `symmag codegen --backend all`"
    assert path.read_text() == render(model, command_for("symmag codegen", model, backend)), (
        f"generated/rhs/{path.name} drifted: rerun `symmag codegen --backend all`")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_numba_backend_agrees_with_numpy(models, modules, name, tmp_path):
    pytest.importorskip("numba")
    mod, fast = modules[name], load(render_numba(models[name]), tmp_path, f"{name}_numba")
    params, n = params_for(mod), mod.N_STATE
    rng = np.random.default_rng(11)
    for shape in [(n,), (n, 9), (9 * n,)]:
        y = rng.normal(size=shape)
        if len(shape) == 2 or shape[0] == 9 * n:  # per-system parameters next to scalar ones
            params[-1], params[1] = rng.uniform(0.3, 1.1, size=9), rng.uniform(0.3, 1.1, size=9)
        a = mod.rhs(0, y, *params)
        for rhs in (fast.rhs, fast.rhs_parallel):
            b = rhs(0, y, *params)
            assert a.shape == b.shape == shape
            assert np.linalg.norm(a - b) <= 1e-12 * np.linalg.norm(a)
        out = np.empty_like(y)
        assert fast.rhs(0, y, *params, out=out) is out and np.array_equal(out, fast.rhs(0, y, *params))
    if name.startswith("llg"):  # extreme norms (rescaled in both backends) beside ordinary ones
        y = rng.normal(size=(n, 9))
        y[:, 3] *= 1e200
        y[:, 5] *= 1e-300
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            a = mod.rhs(0, y, *params)
            for rhs in (fast.rhs, fast.rhs_parallel):
                assert np.all(np.isfinite(a)) and np.allclose(rhs(0, y, *params), a, rtol=1e-12, atol=0)


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


def test_spin_spin_lowest_order_precesses_at_76(modules):
    """spin_spin_lowest with the correlations of (72) (Gzz = 2 gamma^2 I, others 0): M_z is
    constant and M precesses at |gamma|(H_z + 2 lambda I M_z) -- the derived (76)."""
    mod = modules["spin_spin_lowest"]
    gamma_abs, lam, hz, i_corr = 1.3, 0.4, 0.8, 0.25
    params = (gamma_abs, lam, 0.0, 0.0, hz, 0.0, 0.0, 0.0, 0.0, 0.0, 2 * gamma_abs**2 * i_corr)
    m0 = np.array([0.5, 0.2, 0.6])
    t = np.linspace(0, 20, 50)
    sol = solve_ivp(mod.rhs, (0, 20), m0, args=params, t_eval=t, method="DOP853", rtol=1e-12, atol=1e-14)
    omega = gamma_abs * (hz + 2 * lam * i_corr * m0[2])
    phi = np.arctan2(m0[1], m0[0]) + omega * t
    mp = np.hypot(m0[0], m0[1])
    exact = np.array([mp * np.cos(phi), mp * np.sin(phi), np.full_like(t, m0[2])])
    assert np.abs(sol.y - exact).max() <= 1e-8


@pytest.mark.parametrize("name, kind", [("spin_spin_lowest", "lowest order"),
                                        ("spin_spin_mean_field", "mean field"),
                                        ("spin_spin_cumulant2", "cumulant 2")])
def test_spin_spin_modules_are_the_closure_systems(modules, name, kind):
    """The generated module computes the SymPy system of symmag.exact.accuracy.spin_spin_systems
    (lambdified independently, with M = <M0>, V = 1, gamma = -|gamma|)."""
    from symmag.algebra.expectation import moment_average
    from symmag.algebra.fields import H_eff, M
    from symmag.conventions import V, gamma, hbar
    from symmag.exact.accuracy import LAMBDA, spin_spin_systems

    mod = modules[name]
    system = spin_spin_systems()[kind]
    rng = np.random.default_rng(4)
    values = dict(zip(mod.PARAMETERS, rng.uniform(0.3, 1.1, size=len(mod.PARAMETERS))))
    y = rng.normal(size=mod.N_STATE)
    num = {"gamma": -values["gamma_abs"], "lambda": values.get("lambda", 0.0),
           "hbar": values.get("hbar", 1.0)}
    sub = {**dict(zip(M, moment_average())), V: 1, gamma: num["gamma"], LAMBDA: num["lambda"],
           hbar: num["hbar"], **{h: values[f"H{a}"] for h, a in zip(H_eff, "xyz")}}
    state = list(system)
    names = {c: "M" + "xyz"[c.word[0]] if len(c.word) == 1 else "G" + "".join("xyz"[a] for a in c.word)
             for e in system.values() for c in sp.sympify(e).free_symbols | set(state) if hasattr(c, "word")}
    frozen = {c: values[n] for c, n in names.items() if n in values}
    f = sp.lambdify([state], [sp.sympify(system[k]).xreplace(sub).xreplace(frozen) for k in state])
    assert [names[k] for k in state] == list(mod.STATE)
    assert np.allclose(mod.rhs(0, y, *values.values()), np.array(f(y), dtype=float), rtol=1e-12, atol=1e-12)


def _names(source: str) -> set[str]:
    """Every identifier a module binds or reads (names, arguments, functions), attributes aside."""
    import ast

    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.alias):
            out.add((node.asname or node.name).split(".")[0])
    return out


def test_every_name_the_templates_use_is_reserved(models):
    """A state or parameter can only clash with a name of the generated code if that name is
    missing from codegen._RESERVED (or does not start with "_"): every name the rendered
    modules use, other than the model's own, is one of those."""
    from symmag.numeric.codegen import _RESERVED, _identifiers

    for model in (models["llg_rsi"], models["spin_spin_cumulant2"]):
        own = set(_identifiers(model.state)) | set(_identifiers(model.parameters))
        for render in (render_numpy, render_numba):
            stray = {n for n in _names(render(model)) - own if not n.startswith("_") and n not in _RESERVED}
            assert not stray, f"{render.__name__} uses names not in _RESERVED: {sorted(stray)}"


def test_header_carries_the_body_sha256(llg, tmp_path):
    from symmag.numeric.codegen import verify_body

    source = (ROOT / "generated" / "rhs" / "llg_rsi.py").read_bytes()
    assert source.splitlines()[2].startswith(b"# Body sha256: ") and verify_body(source) is None
    assert "edited by hand" in verify_body(source.replace(b"CHUNK = 8192", b"CHUNK = 8193"))
    assert "edited by hand" in verify_body(source + b"\n")
    assert "no `# Body sha256:`" in verify_body(b"import os\n" + source)


def test_hand_edited_module_is_refused_at_load(tmp_path):
    from symmag.numeric.simulate import load_model

    path = tmp_path / "llg_rsi.py"
    source = (ROOT / "generated" / "rhs" / "llg_rsi.py").read_text()
    path.write_text(source.replace("alpha0**2 + 1", "alpha0**2 + 2"))
    with pytest.raises(SymmagInputError, match=r"llg_rsi\.py: it was edited by hand.*symmag codegen"):
        load_model(path)


def test_generate_writes_one_generation(tmp_path):
    """generate() writes every file at once (a staging folder swapped in): files it does not
    rewrite are kept, no staging folder is left behind."""
    from symmag.numeric.codegen import generate, verify_body

    x = sp.Symbol("x", real=True)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "other.txt").write_text("kept")
    paths = generate([Model("one", (x,), (), (-x,)), Model("two", (x,), (), (x,))], tmp_path / "out")
    assert [p.name for p in paths] == ["one.py", "two.py"]
    assert all(verify_body(p.read_bytes()) is None for p in paths)
    assert (tmp_path / "out" / "other.txt").read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
