"""Hostile input to the numeric side: generated modules, codegen, simulate and load_model.

Every case ends within its time guard with a clear one-line error or the right answer.
Cases run in-process (a SIGALRM guard fails a case that runs too long); the few where a
hang is what is being tested run the CLI in a subprocess with ``timeout=``.
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from symmag.errors import SymmagInputError
from symmag.numeric.codegen import Model, generate, render_numba, render_numpy
from symmag.numeric.simulate import (
    Simulation,
    load_model,
    parse_assignments,
    save,
    simulate,
    validate_request,
)

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "generated" / "rhs"
HAS_NUMBA = importlib.util.find_spec("numba") is not None
PARAMS = {"gamma_abs": 1.7, "alpha0": 0.3, "Hx": 0.2, "Hy": -0.4, "Hz": 0.9}
P = tuple(PARAMS.values())
GUARD_SECONDS = 20


@pytest.fixture(autouse=True)
def time_guard():
    """Fail a case that runs past GUARD_SECONDS instead of hanging the suite."""
    def expired(signum, frame):
        raise TimeoutError(f"case ran past {GUARD_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, GUARD_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def llg():
    return load_model("llg_rsi", FOLDER)


@pytest.fixture(scope="module")
def backends(llg):
    mods = {"numpy": llg}
    if HAS_NUMBA:
        mods["numba"] = load_model("llg_rsi_numba", FOLDER)
    return mods


def one_line_error(exc_info, *words: str) -> None:
    """The error is one line and names what was wrong."""
    text = str(exc_info.value)
    assert "\n" not in text and text, text
    for w in words:
        assert w.lower() in text.lower(), (w, text)


def load_source(source: str, tmp_path: Path, name: str):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    return load_model(path)


# -- generated modules at the edges -----------------------------------------------------------
BACKENDS = ["numpy", "numba"]


def backend(backends, name):
    if name not in backends:
        pytest.skip("numba is not installed")
    return backends[name]


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("layout", ["single", "ensemble", "flat"])
def test_out_aliasing_y_is_right(backends, name, layout):
    mod = backend(backends, name)
    y = np.random.default_rng(1).normal(size={"single": (3,), "ensemble": (3, 50), "flat": (150,)}[layout])
    expected = mod.rhs(0.0, y, *P)
    got = mod.rhs(0.0, y, *P, out=y)
    assert got is y and np.allclose(y, expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", BACKENDS)
def test_out_overlapping_y_shifted_is_right(backends, name):
    mod = backend(backends, name)
    buf = np.random.default_rng(2).normal(size=3 * 40 + 1)
    y, out = buf[1:], buf[:-1]
    expected = mod.rhs(0.0, y.copy(), *P)
    assert mod.rhs(0.0, y, *P, out=out) is out and np.allclose(out, expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", BACKENDS)
def test_out_aliasing_a_per_system_parameter_is_right(backends, name):
    mod = backend(backends, name)
    y = np.random.default_rng(3).normal(size=(3, 30))
    out = np.random.default_rng(4).normal(size=(3, 30))
    hz = out[2]  # a parameter that is a row of out
    expected = mod.rhs(0.0, y, *P[:4], hz.copy())
    assert np.allclose(mod.rhs(0.0, y, *P[:4], hz, out=out), expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", BACKENDS)
def test_non_contiguous_out_is_written(backends, name):
    mod = backend(backends, name)
    y = np.random.default_rng(5).normal(size=60)
    out = np.zeros(120)[::2]
    assert mod.rhs(0.0, y, *P, out=out) is out and np.allclose(out, mod.rhs(0.0, y, *P), rtol=1e-14)


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("out, error, words", [
    (np.zeros(3, dtype=int), TypeError, ["dtype float64", "int"]),
    (np.zeros(3, dtype=np.float32), TypeError, ["dtype float64"]),
    ([0.0, 0.0, 0.0], TypeError, ["numpy.ndarray", "list"]),
    (np.zeros(4), ValueError, ["shape of y"]),
    (np.zeros((3, 1)), ValueError, ["shape of y"]),
], ids=["int", "float32", "list", "longer", "2d"])
def test_bad_out_is_refused(backends, name, out, error, words):
    mod = backend(backends, name)
    with pytest.raises(error) as exc:
        mod.rhs(0.0, np.ones(3), *P, out=out)
    one_line_error(exc, *words)


@pytest.mark.parametrize("name", BACKENDS)
def test_read_only_out_is_refused(backends, name):
    mod = backend(backends, name)
    out = np.zeros(3)
    out.flags.writeable = False
    with pytest.raises(ValueError) as exc:
        mod.rhs(0.0, np.ones(3), *P, out=out)
    one_line_error(exc, "read-only")


@pytest.mark.parametrize("y, words", [
    (np.array([1 + 1j, 0, 0]), ["real numbers", "complex"]),
    (np.array(["1", "2", "3"]), ["real numbers"]),
    (np.array([object(), 1, 2], dtype=object), ["real numbers"]),
])
def test_y_that_is_not_real_numbers_is_refused(llg, y, words):
    with pytest.raises(TypeError) as exc:
        llg.rhs(0.0, y, *P)
    one_line_error(exc, *words)


def test_parameter_that_is_not_real_is_refused(llg):
    with pytest.raises(TypeError) as exc:
        llg.rhs(0.0, np.ones(3), 1.0 + 2j, *P[1:])
    one_line_error(exc, "gamma_abs", "real numbers")


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1e-120, 1e-60, 1e60, 1e120, 1e155, 1e200, 1e300])
@pytest.mark.parametrize("layout", ["single", "ensemble"])
def test_norm_neither_underflows_nor_overflows(backends, name, scale, layout):
    """llg_rsi is homogeneous of degree 1 in M: rhs(s M) = s rhs(M), for every s that keeps
    the answer finite -- the norm is scaled before it is squared."""
    mod = backend(backends, name)
    m = np.array([0.3, -0.5, 0.8])
    if layout == "ensemble":  # one extreme system among ordinary ones, either side of a chunk
        y = np.tile(m[:, None], (1, mod.CHUNK + 5))
        y[:, [3, mod.CHUNK + 2]] *= scale
        cols = [3, mod.CHUNK + 2]
    else:
        y, cols = m * scale, None
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        got = mod.rhs(0.0, y, *P)
    ref = mod.rhs(0.0, m, *P)
    got = got if cols is None else got[:, cols].T
    assert np.all(np.isfinite(got))
    assert np.allclose(got / scale, np.broadcast_to(ref, np.shape(got)), rtol=1e-13, atol=0)
    if layout == "ensemble":  # the ordinary systems are untouched by the rescaled chunk
        assert np.allclose(mod.rhs(0.0, y[:, :3], *P), np.tile(ref[:, None], (1, 3)), rtol=1e-14)


@pytest.mark.parametrize("scale", [1e-300, 1e155, 1e300])
def test_jacobian_of_extreme_norms_is_finite_and_right(llg, scale):
    m = np.array([0.3, -0.5, 0.8])
    assert np.allclose(llg.jacobian(0.0, m * scale, *P), llg.jacobian(0.0, m, *P), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("scale", [1e-300, 1e155])
def test_extra_model_norm_is_scaled_too(scale):
    mod = load_model("llg_rsi_extra", FOLDER)
    m, p = np.array([0.2, 0.5, 0.7]), (1.3, 0.4, 0.1, -0.2, 0.3, -0.4, 0.9)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        assert np.allclose(mod.rhs(0.0, m * scale, *p) / scale, mod.rhs(0.0, m, *p), rtol=1e-13, atol=0)


# -- names that render must also run ---------------------------------------------------------
AWKWARD = ["min", "range", "float", "CHUNK", "N_STATE", "numpy", "rhs", "out", "len", "sum", "print",
           "__import__", "lambda", "class", "x_a", "STATE", "jacobian", "coo_matrix", "bad", "size"]


@pytest.mark.parametrize("pname", AWKWARD)
def test_parameter_named_like_a_builtin_or_module_name_runs(pname, tmp_path):
    x, y = sp.Symbol("x", real=True), sp.Symbol("y", real=True)
    p = sp.Symbol(pname, real=True)
    model = Model("awk", (x, y), (p,), (p * x - y, x * y + p))
    mod = load_source(render_numpy(model), tmp_path, "awk")
    assert mod.PARAMETERS == (pname,) and mod.N_STATE == 2 and mod.CHUNK == 8192
    ys = np.random.default_rng(0).normal(size=(2, 7))
    expected = np.array([0.5 * ys[0] - ys[1], ys[0] * ys[1] + 0.5])
    assert np.allclose(mod.rhs(0.0, ys, 0.5), expected, rtol=1e-14)
    assert np.allclose(mod.rhs(0.0, ys[:, 2], 0.5), expected[:, 2], rtol=1e-14)


def test_many_awkward_names_in_both_backends(tmp_path):
    """All at once, with a norm, in both backends (one numba compile)."""
    states = sp.symbols("x x_a min", real=True)
    params = sp.symbols("range float CHUNK N_STATE numpy _at", real=True)
    a, b, c = states
    norm = sp.sqrt(a**2 + b**2 + c**2)
    rhs = tuple(params[i] * s + params[i + 3] * s / norm for i, s in enumerate(states))
    model = Model("names", states, params, rhs)
    ys = np.random.default_rng(1).normal(size=(3, 9))
    pv = np.linspace(0.5, 1.0, 6)
    f = sp.lambdify([*states, *params], list(rhs), "numpy")
    expected = np.array(f(*ys, *pv))
    renders = [render_numpy] + ([render_numba] if HAS_NUMBA else [])
    for render in renders:
        mod = load_source(render(model), tmp_path, f"names_{render.__name__}")
        assert np.allclose(mod.rhs(0.0, ys, *pv), expected, rtol=1e-13)


@pytest.mark.parametrize("rhs", [
    "__import__('os').system('echo pwned > /tmp/symmag-pwned')",
    "x + 1",
])
def test_model_rhs_strings_are_never_evaluated(rhs):
    x = sp.Symbol("x")
    with pytest.raises(SymmagInputError) as exc:
        Model("m", (x,), (), (rhs,))
    one_line_error(exc, "string", "not parsed")
    assert not Path("/tmp/symmag-pwned").exists()


@pytest.mark.parametrize("kwargs, words", [
    ({"rhs": (object(),)}, ["not a SymPy expression"]),
    ({"rhs": ([1, 2],)}, ["not"]),
    ({"rhs": (sp.Eq(sp.Symbol("x"), 1),)}, ["not an expression"]),
    ({"rhs": "x"}, ["sequence"]),
    ({"state": ("x",)}, ["SymPy Symbols"]),
    ({"state": "x"}, ["SymPy Symbols"]),
    ({"parameters": (sp.Symbol("x"),)}, ["twice"]),
    ({"name": "1abc"}, ["module name"]),
    ({"name": "class"}, ["module name"]),
    ({"name": "_private"}, ["module name"]),
    ({"name": "a-b"}, ["module name"]),
    ({"doc": 42}, ["doc"]),
], ids=["object", "list", "relation", "str-rhs", "str-state", "str-states", "twice", "digit", "keyword",
        "underscore", "dash", "doc"])
def test_bad_model_input(kwargs, words):
    x = sp.Symbol("x")
    args = {"name": "m", "state": (x,), "parameters": (), "rhs": (x,), **kwargs}
    with pytest.raises(SymmagInputError) as exc:
        Model(**args)
    one_line_error(exc, *words)


def test_doc_cannot_end_the_docstring(tmp_path):
    x = sp.Symbol("x")
    doc = 'ends """ here; import os; os.system("false") """ and a quote"'
    mod = load_source(render_numpy(Model("docs", (x,), (), (-x,), doc)), tmp_path, "docs")
    assert 'import os' in mod.__doc__ and mod.rhs(0.0, np.array([2.0]))[0] == -2.0


def test_command_with_a_newline_is_refused():
    x = sp.Symbol("x")
    with pytest.raises(SymmagInputError) as exc:
        render_numpy(Model("m", (x,), (), (x,)), command="symmag codegen\nimport os")
    one_line_error(exc, "one line")


def test_codegen_into_a_file_is_refused(tmp_path):
    target = tmp_path / "file"
    target.write_text("keep")
    x = sp.Symbol("x")
    with pytest.raises(SymmagInputError) as exc:
        generate([Model("m", (x,), (), (x,))], target)
    one_line_error(exc, "not a folder")
    assert target.read_text() == "keep"


def test_codegen_unknown_backend_is_refused(tmp_path):
    x = sp.Symbol("x")
    with pytest.raises(SymmagInputError) as exc:
        generate([Model("m", (x,), (), (x,))], tmp_path, backends=("fortran",))
    one_line_error(exc, "fortran")
    assert list(tmp_path.iterdir()) == []


# -- load_model ---------------------------------------------------------------------------------
def test_hand_edited_module_is_refused(tmp_path):
    edited = (FOLDER / "llg_rsi.py").read_text().replace("CHUNK = 8192", "CHUNK = 4096")
    path = tmp_path / "llg_rsi.py"
    path.write_text(edited)
    with pytest.raises(SymmagInputError) as exc:
        load_model(path)
    one_line_error(exc, str(path), "edited by hand", "symmag codegen")


def test_hand_edited_module_loads_with_allow_edited_and_a_warning(tmp_path, capsys):
    path = tmp_path / "llg_rsi.py"
    path.write_text((FOLDER / "llg_rsi.py").read_text() + "\n# a comment\n")
    mod = load_model(path, allow_edited=True)
    assert mod.CHUNK == 8192 and "edited by hand" in capsys.readouterr().err


@pytest.mark.parametrize("source, words", [
    ("def rhs(:\n", ["SyntaxError"]),
    ("import sys\nsys.exit(0)\n", ["SystemExit"]),
    ("raise RuntimeError('boom')\n", ["RuntimeError", "boom"]),
    ("STATE = ('x',)\n", ["no PARAMETERS"]),
    ("STATE = 'x'\nPARAMETERS = ()\nrhs = jacobian = print\n", ["tuples of names"]),
], ids=["syntax", "exit", "raises", "missing", "malformed"])
def test_broken_model_files_are_one_error(tmp_path, capsys, source, words):
    path = tmp_path / "broken.py"
    path.write_text(source)
    with pytest.raises(SymmagInputError) as exc:  # refused first: not written by codegen
        load_model(path)
    one_line_error(exc, "Body sha256")
    with pytest.raises(SymmagInputError) as exc:
        load_model(path, allow_edited=True)
    one_line_error(exc, *words)


@pytest.mark.parametrize("name, words", [
    ("nope", ["known in", "llg_rsi", "symmag codegen"]),
    ("../etc/passwd", ["neither a model name"]),
    ("llg rsi", ["neither a model name"]),
])
def test_unknown_model_names(name, words):
    with pytest.raises(SymmagInputError) as exc:
        load_model(name, FOLDER)
    one_line_error(exc, *words)


def test_missing_folder_and_directory_path(tmp_path):
    with pytest.raises(SymmagInputError) as exc:
        load_model("llg_rsi", tmp_path / "none")
    one_line_error(exc, "no generated modules")
    (tmp_path / "dir.py").mkdir()
    with pytest.raises(SymmagInputError) as exc:
        load_model(tmp_path / "dir.py")
    one_line_error(exc, "no generated module")


def _fake_model(tmp_path: Path, body: str) -> object:
    """A hand-written model module (loaded with allow_edited)."""
    path = tmp_path / "fake.py"
    path.write_text("import numpy\nSTATE = ('a', 'b')\nPARAMETERS = ()\n"
                    "def jacobian(t, y):\n    return numpy.zeros((2, 2))\n" + body)
    return load_model(path, allow_edited=True)


@pytest.mark.parametrize("body, words", [
    ("def rhs(t, y):\n    raise ZeroDivisionError('inside rhs')\n", ["rhs fails", "ZeroDivisionError"]),
    ("def rhs(t, y):\n    return numpy.zeros(3)\n", ["shape (3,)"]),
    ("def rhs(t, y):\n    return numpy.array([numpy.nan, 0.0])\n", ["not finite", "a"]),
    ("def rhs(t, y):\n    import sys; sys.exit(3)\n", ["SystemExit"]),
], ids=["raises", "shape", "nan", "exit"])
def test_model_whose_rhs_misbehaves(tmp_path, capsys, body, words):
    mod = _fake_model(tmp_path, body)
    with pytest.raises(SymmagInputError) as exc:
        simulate(mod, [1.0, 2.0], (0, 1), {})
    one_line_error(exc, *words)


# -- simulate and validate_request -----------------------------------------------------------
Y0 = [0.3, 0.1, 0.9]


@pytest.mark.parametrize("t_span, words", [
    ((0, -1), ["increase"]), ((0, 0), ["increase"]), ((1, 0.5), ["increase"]),
    ((0, np.nan), ["finite"]), ((0, np.inf), ["finite"]), ((-1e308, 1e308), ["finite"]),
    (("a", "b"), ["two numbers"]), ((0,), ["two numbers"]), (None, ["two numbers"]),
], ids=["negative", "empty", "backwards", "nan", "inf", "overflow", "text", "one", "none"])
def test_bad_time_spans(llg, t_span, words):
    with pytest.raises(SymmagInputError) as exc:
        simulate(llg, Y0, t_span, PARAMS)
    one_line_error(exc, *words)


@pytest.mark.parametrize("rtol, atol, words", [
    (np.inf, 1e-12, ["rtol"]), (np.nan, 1e-12, ["rtol"]), (0.0, 1e-12, ["rtol"]), (-1e-6, 1e-12, ["rtol"]),
    (1.0, 1e-12, ["rtol"]), (1e-300, 1e-12, ["rtol"]), ("1e-6", 1e-12, ["rtol"]),
    (1e-9, 0.0, ["atol"]), (1e-9, -1.0, ["atol"]), (1e-9, np.inf, ["atol"]), (1e-9, np.nan, ["atol"]),
    (1e-9, [1e-12, 1e-12], ["atol"]),
], ids=["rtol-inf", "rtol-nan", "rtol-0", "rtol-neg", "rtol-1", "rtol-tiny", "rtol-str", "atol-0",
        "atol-neg", "atol-inf", "atol-nan", "atol-short"])
def test_bad_tolerances(llg, rtol, atol, words):
    with pytest.raises(SymmagInputError) as exc:
        simulate(llg, Y0, (0, 1), PARAMS, rtol=rtol, atol=atol)
    one_line_error(exc, *words)


@pytest.mark.parametrize("name, value, words", [
    ("gamma_abs", np.nan, ["gamma_abs", "finite"]), ("Hz", np.inf, ["Hz", "finite"]),
    ("Hx", -np.inf, ["Hx", "finite"]), ("alpha0", "0.1", ["alpha0", "real numbers"]),
    ("alpha0", 1j, ["alpha0", "real numbers"]), ("Hz", np.array([1.0, np.nan]), ["Hz"]),
    ("Hz", lambda t: np.nan, ["t0", "Hz", "finite"]), ("Hz", lambda t: 1 / 0, ["t0", "ZeroDivisionError"]),
    ("Hz", [[1.0], [2.0, 3.0]], ["Hz"]),
], ids=["nan", "inf", "-inf", "str", "complex", "array-nan", "callable-nan", "callable-raises", "ragged"])
def test_bad_parameters(llg, name, value, words):
    with pytest.raises(SymmagInputError) as exc:
        simulate(llg, Y0, (0, 1), {**PARAMS, name: value})
    one_line_error(exc, *words)


def test_parameters_of_the_wrong_kind(llg):
    with pytest.raises(SymmagInputError) as exc:
        simulate(llg, Y0, (0, 1), "gamma_abs=1")
    one_line_error(exc, "mapping or a sequence")


@pytest.mark.parametrize("y0, words", [
    ([np.nan, 0, 1], ["y0", "finite"]), ([np.inf, 0, 1], ["y0", "finite"]), ([1, 2], ["shape"]),
    ([], ["shape"]), (np.zeros((3, 0)), ["shape"]), ([1j, 0, 1], ["real numbers"]),
    (["a", "b", "c"], ["real numbers"]), (np.zeros((3, 2, 2)), ["shape"]),
], ids=["nan", "inf", "short", "empty", "no-systems", "complex", "text", "3d"])
def test_bad_initial_states(llg, y0, words):
    with pytest.raises(SymmagInputError) as exc:
        simulate(llg, y0, (0, 1), PARAMS)
    one_line_error(exc, *words)


@pytest.mark.parametrize("kwargs, words", [
    ({"method": "FOO"}, ["unknown method", "DOP853"]), ({"method": "bdf"}, ["unknown method"]),
    ({"t_eval": [0.5, 2.0]}, ["t_eval"]), ({"t_eval": [0.5, 0.2]}, ["t_eval"]),
    ({"t_eval": [np.nan]}, ["t_eval", "finite"]), ({"t_eval": []}, ["t_eval"]),
    ({"max_evaluations": 0}, ["max_evaluations"]), ({"max_seconds": -1.0}, ["max_seconds"]),
], ids=["method", "method-case", "t_eval-outside", "t_eval-unsorted", "t_eval-nan", "t_eval-empty",
        "budget-0", "seconds-neg"])
def test_bad_options(llg, kwargs, words):
    with pytest.raises(SymmagInputError) as exc:
        simulate(llg, Y0, (0, 1), PARAMS, **kwargs)
    one_line_error(exc, *words)


@pytest.mark.parametrize("kwargs, words", [
    ({"ensemble": 10**9}, ["GiB", "bound"]), ({"points": 10**10}, ["GiB", "bound"]),
    ({"ensemble": 0}, ["ensemble"]), ({"points": 0}, ["points"]), ({"points": 1.5}, ["points"]),
    ({"ensemble": True}, ["ensemble"]),
], ids=["ensemble-huge", "points-huge", "ensemble-0", "points-0", "points-float", "ensemble-bool"])
def test_requests_refused_before_allocation(llg, kwargs, words):
    with pytest.raises(SymmagInputError) as exc:
        validate_request(llg, Y0, (0, 1), PARAMS, **kwargs)
    one_line_error(exc, *words)


def test_absurd_span_is_refused_at_once(llg):
    with pytest.raises(SymmagInputError) as exc:
        simulate(llg, Y0, (0, 1e308), PARAMS)
    one_line_error(exc, "time scales", "shorten")


@pytest.mark.parametrize("kwargs", [{"max_evaluations": 50}, {"max_seconds": 1e-9}])
def test_step_budget_stops_the_integration(llg, kwargs):
    sim = simulate(llg, Y0, (0, 1e4), PARAMS, **kwargs)
    assert not sim.success and sim.message.startswith("step budget exhausted")


@pytest.mark.parametrize("method", ["BDF", "Radau", "LSODA", "DOP853"])
def test_zero_magnetization_is_one_error(llg, method):
    with pytest.raises(SymmagInputError) as exc:
        simulate(llg, [0.0, 0.0, 0.0], (0, 1), PARAMS, method=method)
    one_line_error(exc, "not finite", "M = 0")


def test_huge_but_finite_state_is_answered(llg):
    """|M| = 1e300: the model is homogeneous in M, so the answer is 1e300 times the unit one."""
    unit = simulate(llg, Y0, (0, 1), PARAMS, rtol=1e-10)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        big = simulate(llg, np.array(Y0) * 1e300, (0, 1), PARAMS, rtol=1e-10, atol=1e288)
    assert big.success and np.allclose(big.y / 1e300, unit.y, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("text, words", [
    ("gamma_abs=nan", ["finite"]), ("Hz=inf", ["finite"]), ("Hz=-inf", ["finite"]), ("Hz=1e999", ["finite"]),
    ("Hz", ["NAME=NUMBER"]), ("=1", ["NAME=NUMBER"]), ("Hz=one", ["not a number"]),
])
def test_bad_assignments(text, words):
    with pytest.raises(SymmagInputError) as exc:
        parse_assignments([text])
    one_line_error(exc, *words)


SIM = Simulation(np.array([0.0, 1.0]), np.zeros((3, 2)), ("Mx", "My", "Mz"), True, "")


@pytest.mark.parametrize("where, words", [
    ("folder.npz", ["is a folder"]), ("none/x.npz", ["does not exist"]), ("x.txt", [".npz or .csv"]),
])
def test_bad_output_paths(tmp_path, where, words):
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(SymmagInputError) as exc:
        save(SIM, tmp_path / where)
    one_line_error(exc, *words)


@pytest.mark.parametrize("suffix", [".npz", ".csv"])
def test_save_replaces_atomically(tmp_path, suffix):
    path = tmp_path / f"run{suffix}"
    path.write_text("old")
    save(SIM, path)
    assert path.read_bytes() != b"old" and sorted(p.name for p in tmp_path.iterdir()) == [path.name]


# -- the CLI where a hang is what is tested: subprocess with a timeout -------------------------
@pytest.mark.parametrize("extra, words", [
    (["--t-end", "1e308"], ["time scales"]),
    (["--t-end", "1", "--param", "gamma_abs=nan"], ["finite"]),
])
def test_cli_answers_instead_of_hanging(extra, words):
    params = [a for k, v in PARAMS.items() if not any(e.startswith(f"{k}=") for e in extra)
              for a in ("--param", f"{k}={v}")]
    proc = subprocess.run([sys.executable, "-m", "symmag", "simulate", "llg_rsi", "--folder", str(FOLDER),
                           "--y0", "0.3,0.1,0.9", *params, *extra, "-o", "/dev/null/x.npz"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    err = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(err) == 1, proc.stderr
    assert all(w in err[0] for w in words), err[0]

