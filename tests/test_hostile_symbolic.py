"""Hostile inputs to the symbolic side (issue 17): `symmag reduce` and its parser, the
algebra, the D-term, the hierarchy and its closures, and the exact-dynamics entry points.

Every case ends within its timeout with one clear error (a SymmagInputError naming the
bound it hit, or a TypeError for a wrong type) or with the right answer.  Cases that would
hang if a limit regressed run in two subprocess batches (``subprocess.run`` with a timeout,
each case's CPU time measured inside, so a loaded machine does not fail it); the rest run
in-process.  No case may execute a string as Python.
"""

from __future__ import annotations

import builtins
import json
import math
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numpy as np
import pytest
import sympy as sp

from symmag import (
    M0,
    Moment,
    Op,
    Spin,
    SymmagInputError,
    commutator,
    expectation,
    parse_operator,
    same_operator,
    to_op,
)
from symmag.algebra.expectation import correlation_symbol
from symmag.algebra.fields import functional_derivative, magnetic_moment, total_time_derivative
from symmag.algebra.su2 import pbw
from symmag.cli.main import main
from symmag.conventions import gamma
from symmag.exact.collective import CollectiveSystem, evolve_collective, thermal_state
from symmag.exact.dynamics import averages, evolve
from symmag.theory.closures import cumulant, cumulant_expansion, mean_field
from symmag.theory.dterm import dterm
from symmag.theory.hierarchy import correlation_rate, hierarchy, symmetrized_operator

CASE_SECONDS = 6.0  # CPU seconds of one case inside a batch (the parse budget is 2 s of CPU)
BATCH_TIMEOUT = 300.0  # a hang guard only: a batch takes about 20 s on an idle 2-core machine
LAM = sp.Symbol("lam", real=True)
H2 = LAM * (M0("x") * M0("x") + M0("z") * M0("z")) / gamma**2


def _reduce(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(["reduce", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def _assert_one_line_error(rc: int, err: str, needle: str = "") -> str:
    lines = err.strip().splitlines()
    assert rc == 2, (rc, err)
    assert len(lines) == 1 and lines[0].startswith("symmag: error:"), err
    assert "rerun with" not in lines[0], err  # a deliberate check, not the CLI's catch-all
    assert needle in lines[0], (needle, lines[0])
    return lines[0]


# -- `symmag reduce`, in-process: malformed input, answered before any work ---------------------
BAD_REDUCE = [
    ("", "empty"),
    ("   ", "empty"),
    ("M0x +", "end of input"),
    ("(M0x", "expected ')'"),
    ("M0x)", "after a complete expression"),
    ("[M0x, M0y", "expected ']'"),
    ("[M0x M0y]", "expected ','"),
    ("{M0x, }", "unexpected"),
    ("M0x**-1", "non-negative integer"),
    ("M0x**0.5", "non-negative integer"),
    ("M0x**(1/2)", "non-negative integer"),
    ("M0x**M0y", "non-negative integer"),
    ("M0x**", "non-negative integer"),
    ("M0x**65", "MAX_POWER"),
    ("gamma**10000", "MAX_POWER"),
    ("M0x**" + "9" * 5000, "MAX_POWER"),
    ("2**64**2", "after a complete expression"),
    ("M0x/M0y", "division by an operator"),
    ("M0x/(M0y+1)", "division by an operator"),
    ("1/0", "division by zero"),
    ("M0x/(gamma-gamma)", "division by zero"),
    ("sin(M0x)", "not allowed"),
    ("exp(gamma)", "not allowed"),
    ("foo", "unknown symbol"),
    ("M0w", "unknown symbol"),
    ("pi*M0x", "unknown symbol"),
    ("Sx[1]", "a site must be a name"),
    ("Sx[i", "expected ']'"),
    ("M0x + \u03b1", "unexpected character"),
    ("\u0661\u0662*M0x", "unexpected character"),
    ("M0x\x00", "unexpected character"),
    ("M0x\u00a0+ M0y", "unexpected character"),
    ("M0x\u200b", "unexpected character"),
    ("__import__('os').system('echo pwned')", "unexpected character"),
    ("M0x; import os", "unexpected character"),
    ("lambda: 1", "unexpected character"),
    ("7" * 5000, "MAX_DIGITS"),
    ("1." + "5" * 5000, "MAX_DIGITS"),
    ("M0x+" * 25_000 + "M0x", "MAX_INPUT_LENGTH"),
    ("(" * 100_000, "MAX_INPUT_LENGTH"),
    ("(" * 60 + "M0x" + ")" * 60, "MAX_NESTING"),
    ("[" * 60 + "M0x" + ", M0y]" * 60, "MAX_NESTING"),
    (" " + "-" * 60 + "M0x", "MAX_NESTING"),
    ("*".join(["9" * 999] * 5), "MAX_DIGITS"),
]


@pytest.mark.parametrize("text,needle", BAD_REDUCE, ids=[f"bad{i}" for i in range(len(BAD_REDUCE))])
def test_reduce_bad_expression_is_one_line(capsys, text, needle):
    _assert_one_line_error(*_reduce(capsys, text)[::2], needle)


SHADOWING = ["gamma", "hbar", "I", "N", "M0x", "M0z", "Sx", "pi", "E", "oo", "nan", "lam,gamma"]


@pytest.mark.parametrize("names", SHADOWING)
def test_reduce_refuses_shadowing_a_builtin(capsys, names):
    """`--symbols gamma` used to return (-I*gamma*hbar + I*gamma*hbar)*M0z instead of 0."""
    _assert_one_line_error(*_reduce(capsys, "[M0x, M0y] - I*gamma*hbar*M0z", "--symbols", names)[::2],
                           "reserved")


@pytest.mark.parametrize("names,needle", [("a b", "not a symbol name"), ("\u03bb", "not a symbol name"),
                                          ("1x", "not a symbol name")])
def test_reduce_refuses_bad_symbol_names(capsys, names, needle):
    _assert_one_line_error(*_reduce(capsys, "M0x", "--symbols", names)[::2], needle)


@pytest.mark.parametrize("argv,expected", [
    (["[M0x*M0y, M0z]"], "(I*gamma*hbar)*M0x*M0x + (-I*gamma*hbar)*M0y*M0y"),
    (["[M0x, M0y] - I*gamma*hbar*M0z"], "0"),
    (["lam*[M0x, M0y]", "--symbols", "lam"], "(I*gamma*hbar*lam)*M0z"),
    (["((((gamma**64)**64)**64)**64)"], "(gamma**16777216)"),
    (["--", "-(-(-M0x))"], "(-1)*M0x"),
])
def test_reduce_valid_inputs_still_answer(capsys, argv, expected):
    rc, out, err = _reduce(capsys, *argv)
    assert rc == 0 and not err
    assert out.strip() == expected


# -- the library parser ---------------------------------------------------------------------------
@pytest.mark.parametrize("symbols,needle", [
    ({"gamma": sp.Symbol("g")}, "reserved"),
    ({"hbar": sp.Symbol("h")}, "reserved"),
    ({"I": sp.Symbol("i")}, "reserved"),
    ({"N": sp.Symbol("n")}, "reserved"),
    ({"M0x": sp.Symbol("m")}, "reserved"),
    ({"pi": sp.Symbol("p")}, "reserved"),
    ({"E": sp.Symbol("e")}, "reserved"),
    ({"g": sp.Symbol("gamma")}, "not the built-in"),
    ({"a b": sp.Symbol("a")}, "not a symbol name"),
    ({"a": sp.Symbol("a", commutative=False)}, "commutative"),
    ({"a": object()}, "not a SymPy expression"),
    (["a"], "must be a mapping"),
])
def test_parse_operator_refuses_bad_symbols(symbols, needle):
    with pytest.raises(SymmagInputError, match=needle):
        parse_operator("M0x", symbols=symbols)


def test_parse_operator_accepts_the_builtins_by_value():
    """A user name may stand for the built-in itself (no shadowing: the same symbol)."""
    out = parse_operator("[M0x, M0y] - I*g*hbar*M0z", symbols={"g": gamma})
    assert out.is_zero()


@pytest.mark.parametrize("text", [None, 12, b"M0x"])
def test_parse_operator_refuses_non_strings(text):
    with pytest.raises(SymmagInputError, match="must be a string"):
        parse_operator(text)


# -- strict sympification: a string is never evaluated as Python ------------------------------------
PAYLOAD = ("__import__('os').system('echo pwned') or "
           "__import__('builtins').__setattr__('SYMMAG_PWNED', 1)")
X = sp.Symbol("X", commutative=False)
a_sym = sp.Symbol("a")


@cache
def _small_state():
    return thermal_state(CollectiveSystem(3), (0.0, 0.0, 1.0), 0.5)


ENTRY_POINTS = {
    "Op.scalar": lambda p: Op.scalar(p),
    "Op(dict)": lambda p: Op({(): p}),
    "Op.__mul__": lambda p: M0("x") * p,
    "Op.__add__": lambda p: M0("x") + p,
    "Op.__truediv__": lambda p: M0("x") / p,
    "Op.subs": lambda p: (a_sym * M0("x")).subs(a_sym, p),
    "Op.diff": lambda p: M0("x").diff(p),
    "commutator": lambda p: commutator(M0("x"), p),
    "same_operator": lambda p: same_operator(M0("x"), p),
    "parse_operator(symbols=)": lambda p: parse_operator("a*M0x", symbols={"a": p}),
    "total_time_derivative": lambda p: total_time_derivative(p),
    "to_op": lambda p: to_op(p),
    "Spin(site=)": lambda p: Spin("x", p),
    "to_op(bind=)": lambda p: to_op(X, bind={X: p}),
    "functional_derivative": lambda p: functional_derivative(M0("x"), [p]),
    "magnetic_moment": lambda p: magnetic_moment(p),
    "expectation": lambda p: expectation(p),
    "dterm": lambda p: dterm(p),
    "dterm(field=)": lambda p: dterm(M0("x") * M0("x"), field=(p, 0, 0)),
    "correlation_rate": lambda p: correlation_rate((0,), p),
    "hierarchy": lambda p: hierarchy(p, 1),
    "cumulant_expansion": lambda p: cumulant_expansion(p, 2),
    "mean_field": lambda p: mean_field(p),
    "evolve_collective": lambda p: evolve_collective(lambda t, m: {"z": p}, _small_state(), [0.0, 1.0]),
    "evolve_collective(observables=)": lambda p: evolve_collective(
        lambda t, m: {"z": 1.0}, _small_state(), [0.0, 1.0], observables={"o": {"x": p}}),
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_strings_are_refused_not_evaluated(entry, capfd):
    with pytest.raises(SymmagInputError):
        ENTRY_POINTS[entry](PAYLOAD)
    assert not hasattr(builtins, "SYMMAG_PWNED")
    assert "pwned" not in capfd.readouterr().out


# -- the algebra ------------------------------------------------------------------------------------
@pytest.mark.parametrize("make,exc,needle", [
    (lambda: M0("x") ** -1, TypeError, "non-negative"),
    (lambda: M0("x") ** 1.5, TypeError, "non-negative"),
    (lambda: M0("x") ** True, TypeError, "non-negative"),
    (lambda: M0("x") ** 65, SymmagInputError, "MAX_DEGREE"),
    (lambda: (M0("x") * M0("y")) ** 33, SymmagInputError, "MAX_DEGREE"),
    (lambda: M0("x") ** 40 * M0("y") ** 40, SymmagInputError, "MAX_DEGREE"),
    (lambda: pbw((0,) * 65), SymmagInputError, "MAX_DEGREE"),
    (lambda: M0("x") / 0, SymmagInputError, "by zero"),
    (lambda: M0("x") / M0("y"), SymmagInputError, "not a SymPy expression"),
    (lambda: Op.scalar(object()), SymmagInputError, "not a SymPy expression"),
    (lambda: M0("w"), ValueError, "unknown axis"),
    (lambda: to_op(sp.sin(Moment("x"))), SymmagInputError, "non-polynomial"),
    (lambda: to_op(Moment("x") ** -1), SymmagInputError, "non-polynomial"),
    (lambda: to_op(Moment("x") ** sp.Rational(1, 2)), SymmagInputError, "non-polynomial"),
    (lambda: to_op(Moment("x") ** 100), SymmagInputError, "MAX_DEGREE"),
    (lambda: to_op(Moment("x") / Moment("y")), SymmagInputError, "non-polynomial"),
    (lambda: to_op(sp.Symbol("Q", commutative=False)), SymmagInputError, "unknown operator"),
    (lambda: to_op(Moment("x"), bind=[1]), SymmagInputError, "mapping"),
])
def test_algebra_refuses(make, exc, needle):
    with pytest.raises(exc, match=needle):
        make()


def test_deep_sympy_expression_is_refused_not_a_recursion_error():
    e = Moment("x")
    for _ in range(3000):
        e = sp.physics.quantum.Commutator(e, Moment("y"))
    with pytest.raises(SymmagInputError, match="nested too deeply"):
        to_op(e)


# -- dterm ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make,needle", [
    (lambda: dterm(M0("x") * M0("y")), "not Hermitian"),
    (lambda: dterm(sp.sin(Moment("x"))), "non-polynomial"),
    (lambda: dterm(M0("x") ** 2, field=(1, 2)), "3 components"),
    (lambda: dterm(M0("x") ** 2, field=5), "sequence"),
    (lambda: dterm(M0("x") ** 2, field=(X, 0, 0)), "commutative"),
    (lambda: dterm(M0("x") ** 2, time="t"), "time must be a SymPy symbol"),
    (lambda: dterm(M0("x") ** 2, label="^x"), "label"),
    (lambda: dterm(M0("x") ** 64), "MAX_DEGREE"),
])
def test_dterm_refuses(make, needle):
    with pytest.raises(SymmagInputError, match=needle):
        make()


def test_dterm_of_a_valid_anisotropy_still_answers():
    k = sp.Symbol("K", real=True)
    d = dterm(-k * M0("z") * M0("z") / gamma**2)
    assert d.d[2] == 0 and d.d[0] == sp.expand(correlation_symbol("yz") * k / gamma)


# -- hierarchy and closures -------------------------------------------------------------------------
@pytest.mark.parametrize("make,needle", [
    (lambda: hierarchy(H2, 0), "MAX_ORDER"),
    (lambda: hierarchy(H2, 7), "MAX_ORDER"),
    (lambda: hierarchy(H2, 2.5), "MAX_ORDER"),
    (lambda: hierarchy(H2, True), "MAX_ORDER"),
    (lambda: correlation_rate((3,), H2), "axes"),
    (lambda: correlation_rate("xq", H2), "axes"),
    (lambda: correlation_rate(5, H2), "axes"),
    (lambda: correlation_rate((), H2), "MAX_ORDER"),
    (lambda: correlation_rate((0, 1, 2) * 4, H2), "MAX_ORDER"),
    (lambda: correlation_rate((0,), H2, label="a^b"), "label"),
    (lambda: correlation_rate((0,), sp.sin(Moment("x"))), "non-polynomial"),
    (lambda: symmetrized_operator((0, 1, 2) * 8), "MAX_ORDERINGS"),
    (lambda: cumulant_expansion(H2, 0), "MAX_ORDER"),
    (lambda: cumulant_expansion(H2, 7), "MAX_ORDER"),
    (lambda: mean_field(H2, 0), "MAX_ORDER"),
    (lambda: cumulant((0,) * 9), "MAX_CUMULANT_WORD"),
    (lambda: expectation(M0("x") ** 17), "MAX_EXPECTATION_DEGREE"),
])
def test_hierarchy_refuses(make, needle):
    with pytest.raises(SymmagInputError, match=needle):
        make()


def test_hierarchy_words_as_names_agree_with_axes():
    assert correlation_rate("xz", H2) == correlation_rate((0, 2), H2)


# -- collective and dynamics: checked before anything is allocated or integrated -------------------
@pytest.mark.parametrize("make,needle", [
    (lambda: CollectiveSystem(-3), "positive integer"),
    (lambda: CollectiveSystem(0), "positive integer"),
    (lambda: CollectiveSystem(True), "positive integer"),
    (lambda: CollectiveSystem(10**9), "MAX_SITES"),
    (lambda: CollectiveSystem(4, hbar=math.nan), "finite"),
    (lambda: CollectiveSystem(4, gamma=math.inf), "finite"),
    (lambda: thermal_state(CollectiveSystem(4), (math.nan, 0, 1), 1.0), "finite"),
    (lambda: thermal_state(CollectiveSystem(4), (0, 0, 1), math.inf), "finite"),
    (lambda: thermal_state(CollectiveSystem(4), (0, 0, 1), 1.0, weight_cutoff=1.5), "weight_cutoff"),
    (lambda: thermal_state(CollectiveSystem(90_000), (0, 0, 1), 1.0), "MAX_ELEMENTS"),
    (lambda: evolve_collective(lambda t, m: {"z": 1.0}, _small_state(), [1.0, 0.0]), "increasing"),
    (lambda: evolve_collective(lambda t, m: {"z": 1.0}, _small_state(), [0.0, math.nan]), "finite"),
    (lambda: evolve_collective(lambda t, m: {"z": 1.0}, _small_state(), np.linspace(0, 1, 2_000_000)),
     "MAX_TIMES"),
    (lambda: evolve_collective(lambda t, m: {"z": 1.0}, _small_state(), [0, 1], max_steps=0), "max_steps"),
    (lambda: evolve_collective(lambda t, m: {"z": 1.0}, _small_state(), [0, 1], frame=(math.nan, 0, 0)),
     "finite"),
    (lambda: evolve_collective(lambda t, m: {"x" * 13: 1.0}, _small_state(), [0, 1]), "MAX_WORD_DEGREE"),
    (lambda: evolve_collective(lambda t, m: {"z": 1.0}, _small_state(), [0, 1], observables=[1]), "mapping"),
    (lambda: evolve(lambda t, r: r, np.zeros((2, 3)), [0, 1]), "square"),
    (lambda: evolve(lambda t, r: r, np.zeros((2048, 2048)), [0, 1]), "MAX_DIMENSION"),
    (lambda: evolve(lambda t, r: r, np.eye(2), [1, 0]), "increasing"),
    (lambda: evolve(lambda t, r: r, np.eye(2), [0, 1], hbar=0.0), "hbar"),
    (lambda: evolve(lambda t, r: r, np.eye(2) * math.nan, [0, 1]), "finite"),
    (lambda: averages([np.eye(2)], np.zeros((3, 2, 2)), volume=math.nan), "volume"),
    (lambda: averages([np.eye(3)], np.zeros((3, 2, 2))), "matrix"),
])
def test_numeric_entry_points_refuse(make, needle):
    with pytest.raises(SymmagInputError, match=needle):
        make()


# -- cases that would hang if a limit regressed: subprocess batches under a timeout --------------
_PRELUDE = """
import math, numpy as np, sympy as sp
from symmag import M0, S
from symmag.algebra import su2 as algebra
from symmag.algebra.su2 import pbw
from symmag.exact.collective import CollectiveSystem, evolve_collective, thermal_state
from symmag.theory.dterm import dterm
from symmag.exact.dynamics import evolve
state = thermal_state(CollectiveSystem(3), (0.0, 0.0, 1.0), 0.5)
def boom(t, m):
    raise ZeroDivisionError("inside the callback")
def hz(t, m):
    return {"z": 1.0}
"""

# id: (kind, payload, expected): kind "cli" (argv of `symmag reduce`) or "py" (code); expected is
# a substring of the one-line error, or "ok" (exit 0 / no exception) or "ok-or-error" (either)
HANGS = {
    "reduce-(M0x+M0y+M0z)**64": ("cli", ["(M0x+M0y+M0z)**64"], "MAX_SECONDS"),
    "reduce-(M0x*M0y)**32": ("cli", ["(M0x*M0y)**32"], "MAX_SECONDS"),
    "reduce-(M0x+M0y)**64": ("cli", ["(M0x+M0y)**64"], "MAX_SECONDS"),
    # the reduction's work budget or the parse's time budget, whichever comes first
    "reduce-zx-reordering": ("cli", ["M0z**32*M0x**32"], "MAX_"),
    "reduce-zyx-reordering": ("cli", ["M0z**13*M0y**13*M0x**13"], "MAX_"),
    "reduce-commutator-of-powers": ("cli", ["[(M0x+M0y+M0z)**10, (M0x+M0y+M0z)**10]"], "MAX_"),
    "reduce-scalar-tower": ("cli", ["((gamma+hbar)**64)**64"], "MAX_EXPANDED_TERMS"),
    "reduce-number-tower": ("cli", ["((((2**64)**64)**64)**64)"], "MAX_DIGITS"),
    "reduce-trinomial-64": ("cli", ["(gamma+hbar+N)**64"], "MAX_EXPANDED_TERMS"),
    "reduce-site-degree": ("cli", ["(Sz[i]*Sz[j])**20*(Sx[i]*Sx[j])**20"], "MAX_DEGREE"),
    "reduce-operator-tower": ("cli", ["((((gamma*M0x)**4)**4)**4)**4"], "MAX_DEGREE"),
    "reduce-site-power": ("cli", ["(Sx[i]+Sy[i]+Sz[i])**30"], "ok-or-error"),
    "reduce-M0x**64": ("cli", ["M0x**64"], "ok"),
    "reduce-(M0x+1)**64": ("cli", ["(M0x+1)**64"], "ok"),
    "reduce-(gamma+hbar)**64": ("cli", ["(gamma+hbar)**64"], "ok"),
    "reduce-(M0x+M0y+M0z)**6": ("cli", ["(M0x+M0y+M0z)**6"], "ok"),
    "dterm-M0x**40": ("py", "dterm(M0('x')**40).d", "MAX_EXPECTATION_DEGREE"),
    "dterm-M0x**12": ("py", "dterm(M0('x')**12).d", "ok"),
    "library-power-time": ("py", "algebra.MAX_POWER_SECONDS = 1.0\n(M0('x')+M0('y')+M0('z'))**40",
                           "MAX_POWER_SECONDS"),
    "library-reordering": ("py", "M0('z')**30 * M0('x')**30", "MAX_REDUCTION_WORK"),
    "library-pbw": ("py", "pbw((2,)*22 + (0,)*22)", "MAX_REDUCTION_WORK"),
    "library-site-sum-power": ("py", "from symmag import site_sum\n"
                               "site_sum(lambda j: S(j, 'x') * S(j, 'y'))**3", "ok-or-error"),
    "collective-rtol0-atol0": ("py", "evolve_collective(hz, state, [0, 1], rtol=0, atol=0)",
                               "rtol"),
    "collective-atol0": ("py", "evolve_collective(hz, state, [0, 1], atol=0)", "atol"),
    "collective-rtol-nan": ("py", "evolve_collective(hz, state, [0, 1], rtol=math.nan)",
                            "finite"),
    "collective-atol-inf": ("py", "evolve_collective(hz, state, [0, 1], atol=math.inf)",
                            "finite"),
    "collective-rtol-negative": ("py", "evolve_collective(hz, state, [0, 1], rtol=-1)",
                                 "rtol"),
    # transverse to the state's axis: a z field only turns the phase of this state, which the
    # solver removes (each pure state evolves under H - <H>), so it needs no steps at all
    "collective-step-budget": ("py", "evolve_collective(lambda t, m: {'x': 1e6}, state, [0, 1e3], "
                               "max_steps=50)",
                               "max_steps"),
    "collective-t-end-huge": ("py", "evolve_collective(hz, state, [0, 1e300], max_steps=300)",
                              "max_steps"),
    "collective-callback-raises": ("py", "evolve_collective(boom, state, [0, 1])",
                                   "raised ZeroDivisionError"),
    "collective-callback-list": ("py", "evolve_collective(lambda t, m: [1, 2, 3], state, [0, 1])", "mapping"),
    "collective-callback-nan": ("py", "evolve_collective(lambda t, m: {'z': math.nan}, state, [0, 1])",
                                "finite"),
    "collective-callback-nan-later": ("py", "evolve_collective(lambda t, m: {'z': 1.0 if t == 0 else "
                                      "math.nan}, state, [0, 1])", "finite"),
    "collective-callback-bad-word": ("py", "evolve_collective(lambda t, m: {'w': 1.0}, state, [0, 1])",
                                     "word"),
    "collective-memory": ("py", "big = thermal_state(CollectiveSystem(2000), (0, 0, 1), 50.0)\n"
                          "evolve_collective(lambda t, m: {'x' * 10: 1.0}, big, [0, 1])", "MAX_ELEMENTS"),
    "dynamics-callback-raises": ("py", "evolve(boom, np.eye(2) / 2, [0, 1])", "raised ZeroDivisionError"),
    "dynamics-callback-shape": ("py", "evolve(lambda t, r: np.eye(3), np.eye(2) / 2, [0, 1])", "2x2"),
    "dynamics-rtol0": ("py", "evolve(lambda t, r: np.diag([1.0, -1.0]), np.eye(2) / 2, [0, 1], rtol=0, "
                       "atol=0)", "tol"),
    "dynamics-budget": ("py", "evolve(lambda t, r: 1e6 * np.array([[0, 1], [1, 0]]), np.diag([1.0, 0]), "
                        "[0, 1e3], max_evaluations=1000)", "max_evaluations"),
}

_RUNNER = textwrap.dedent("""
    import contextlib, io, json, sys, time
    cases = json.load(sys.stdin)
    ns = {}
    exec(PRELUDE, ns)
    from symmag.cli.main import main
    for name, kind, payload in cases:
        t0 = time.process_time()
        if kind == "cli":
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                rc = main(["reduce", *payload])
            rec = {"rc": rc, "err": err.getvalue()}
        else:
            try:
                exec(payload, dict(ns))
                rec = {"rc": 0, "err": ""}
            except Exception as exc:
                rec = {"rc": 2, "err": f"{type(exc).__name__}: {exc}"}
        rec.update(name=name, seconds=time.process_time() - t0)
        print(json.dumps(rec), flush=True)
""")


def _batch(names: list[str]) -> dict[str, dict]:
    cases = [(n, *HANGS[n][:2]) for n in names]
    code = _RUNNER.replace("exec(PRELUDE, ns)", f"exec({_PRELUDE!r}, ns)")
    try:
        proc = subprocess.run([sys.executable, "-c", code], input=json.dumps(cases), capture_output=True,
                              text=True, timeout=BATCH_TIMEOUT)
        out = proc.stdout
    except subprocess.TimeoutExpired as exc:  # what finished before the timeout still counts
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
    return {r["name"]: r for r in map(json.loads, filter(None, out.splitlines()))}


@pytest.fixture(scope="module")
def hang_results() -> dict[str, dict]:
    names = list(HANGS)
    halves = [names[0::2], names[1::2]]  # two batches, one per core
    with ThreadPoolExecutor(2) as pool:
        results: dict[str, dict] = {}
        for part in pool.map(_batch, halves):
            results.update(part)
    return results


@pytest.mark.parametrize("name", list(HANGS))
def test_would_hang_answers_within_its_timeout(hang_results, name):
    kind, _, expected = HANGS[name]
    assert name in hang_results, f"{name} did not finish within the batch timeout"
    rec = hang_results[name]
    assert rec["seconds"] < CASE_SECONDS, rec
    if expected == "ok":
        assert rec["rc"] == 0 and not rec["err"], rec
        return
    if expected == "ok-or-error" and rec["rc"] == 0:
        return
    if kind == "cli":
        _assert_one_line_error(rec["rc"], rec["err"], "" if expected == "ok-or-error" else expected)
    else:
        assert rec["err"].startswith("SymmagInputError: "), rec
        assert "\n" not in rec["err"].strip(), rec
        if expected != "ok-or-error":
            assert expected in rec["err"], rec


def _pbw_by_swaps(word: tuple[int, ...]) -> dict:
    """The former reduction (swap the first out-of-order pair), exponential but plain: a
    reference for the polynomial one now in :func:`symmag.algebra.su2.pbw`."""
    from symmag.algebra.su2 import levi_civita

    for p in range(len(word) - 1):
        if word[p] > word[p + 1]:
            break
    else:
        return {(word, 0): 1}
    b, a = word[p], word[p + 1]
    out: dict = {}
    for (w, k), c in _pbw_by_swaps(word[:p] + (a, b) + word[p + 2:]).items():
        out[(w, k)] = out.get((w, k), 0) + c
    c_ax = 3 - a - b
    for (w, k), c in _pbw_by_swaps(word[:p] + (c_ax,) + word[p + 2:]).items():
        out[(w, k + 1)] = out.get((w, k + 1), 0) + levi_civita(b, a, c_ax) * c
    return {key: c for key, c in out.items() if c}


def test_polynomial_pbw_equals_the_former_reduction_on_every_short_word():
    import itertools

    for n in range(7):
        for word in itertools.product(range(3), repeat=n):
            assert {(w, k): c for w, k, c in pbw(word)} == _pbw_by_swaps(word), word
