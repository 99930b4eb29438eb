"""Hostile input to the CLI: every case ends, within its timeout, with one line on stderr
and exit 2 (bad input) or 1 (a failed step), never a traceback, a hang or a silent 0.

In-process through ``symmag.cli.main.main``: claims run in forked workers (a claim that exits or
hangs ends only its worker), and ``os._exit`` during a user module's import is refused, so
even those cases cannot take the test process with them.  One case runs the real command
in a subprocess to see the same from outside.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from symmag.cli.main import main

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
import sympy as sp
from symmag import Derivation, Equal, Step
x = sp.Symbol("x")
DERIVATION = Derivation("g", "g", (Step(id="ok", claim=lambda: Equal(x + x, 2 * x)),))
"""

#: module sources that must be refused at import/discovery with exit 2
BAD_MODULES = {
    "syntax-error": "def f(:\n",
    "derivations-int": "DERIVATIONS = 42\n",
    "derivations-list-of-int": "DERIVATIONS = [1, 2]\n",
    "derivation-str": "DERIVATION = 'not one'\n",
    "no-derivation": "x = 1\n",
    "empty-list": "DERIVATIONS = []\n",
    "raises-at-import": "raise RuntimeError('boom')\n",
    "unknown-import": "import symmag_no_such_module\n",
    "sys-exit-0-at-import": "import sys\nsys.exit(0)\n",
    "sys-exit-3-at-import": "import sys\nsys.exit(3)\n",
    "os-exit-at-import": "import os\nos._exit(0)\n",
    "recursion-at-import": "def f(n):\n    return f(n + 1)\nf(0)\n",
    "keyerror-printed": textwrap.dedent("""\
        import sympy as sp
        from symmag import Derivation, Equal, Step
        x = sp.Symbol("x")
        DERIVATION = Derivation("p", "p", (Step(id="s", printed="9", claim=lambda: Equal(x, x)),))
        """),
    "duplicate-step-ids": textwrap.dedent("""\
        import sympy as sp
        from symmag import Derivation, Equal, Step
        x = sp.Symbol("x")
        s = Step(id="same", claim=lambda: Equal(x, x))
        DERIVATIONS = [Derivation("a", "a", (s,)), Derivation("b", "b", (s,))]
        """),
    "bad-step-kind": textwrap.dedent("""\
        from symmag import Derivation, Step
        DERIVATION = Derivation("k", "k", (Step(id="s", kind="maybe", claim=lambda: 1),))
        """),
}


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "error:" in lines[0], err
    return lines[0]


def _run(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symmag", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize("name", sorted(BAD_MODULES))
@pytest.mark.parametrize("command", ["check", "report"])
def test_bad_module_is_one_error(tmp_path, name, command, capsys):
    path = tmp_path / f"{name.replace('-', '_')}.py"
    path.write_text(BAD_MODULES[name])
    extra = ["-o", str(tmp_path / "out")] if command == "report" else []
    assert main([command, *extra, str(path)]) == 2
    _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "out").exists()  # nothing written for a module that cannot run


def test_module_exiting_at_import_from_outside(tmp_path):
    path = tmp_path / "exits.py"
    path.write_text(BAD_MODULES["os-exit-at-import"])
    proc = _run(["check", str(path)])
    assert proc.returncode == 2 and "exits while being imported" in _one_error_line(proc.stderr)


CLAIMS = {
    "sys-exit": ("import sys", "sys.exit(0)", "SystemExit"),
    "os-exit": ("import os", "os._exit(0)", "ended its worker process"),
    "kill-self": ("import os, signal", "os.kill(os.getpid(), signal.SIGKILL)", "ended its worker process"),
    "hang": ("import time", "time.sleep(60)", "timed out"),
    "busy-loop": ("import itertools", "[None for _ in itertools.count()]", "timed out"),
    "keyboard-interrupt": ("", "(_ for _ in ()).throw(KeyboardInterrupt)", "KeyboardInterrupt"),
    "recursion": ("", "(lambda f: f(f))(lambda f: f(f))", "RecursionError"),
}


@pytest.mark.parametrize("name", sorted(CLAIMS))
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_claim_that_ends_or_hangs_is_a_failed_step(tmp_path, name, jobs, capsys):
    imports, body, why = CLAIMS[name]
    path = tmp_path / "claims.py"
    path.write_text(textwrap.dedent(f"""\
        {imports}
        import sympy as sp
        from symmag import Derivation, Equal, Step
        x = sp.Symbol("x")
        def bad():
            return {body}
        DERIVATION = Derivation("c", "c", (
            Step(id="before", claim=lambda: Equal(x + x, 2 * x)),
            Step(id="bad", claim=bad),
            Step(id="after", claim=lambda: Equal(x * x, x**2)),
        ))
        """))
    assert main(["check", "--jobs", jobs, "--step-timeout", "1", str(path)]) == 1
    out, err = capsys.readouterr()
    assert "gate: FAILED by 1 step(s): bad" in out
    assert why in out and "Traceback" not in err
    assert out.count("verified") >= 2  # the steps around it still ran


USAGE = [
    ["check", "--jobs", "0"],
    ["check", "--jobs", "-3"],
    ["check", "--jobs", "many"],
    ["check", "--step-timeout", "0"],
    ["check", "--step-timeout", "nan"],
    ["check", "--step-timeout", "inf"],
    ["check", "--step-timeout", "-1"],
    ["check", "/no/such/file.py"],
    ["check", "README.md"],
    ["check", "derivations"],
    ["report", "--jobs", "0"],
    ["report", "-o", "README.md"],
    ["report", "--step-timeout", "nan"],
    ["figures", "-o", "README.md"],
    ["compare", "spin_spin", "--spins", "0"],
    ["compare", "spin_spin", "--spins", "7"],
    ["compare", "spin_spin", "--lambda", "nan"],
    ["compare", "spin_spin", "--lambda", "-1"],
    ["compare", "spin_spin", "--hz", "inf"],
    ["compare", "llg_rsi", "--lambdabar46", "nan"],
    ["compare", "spin_spin", "--plot", "out.txt"],
    ["compare", "no_such_model"],
    ["codegen", "no_such_model"],
    ["nope"],
    [],
    ["check", "--no-such-flag"],
]


@pytest.mark.parametrize("args", USAGE, ids=[" ".join(a) or "(none)" for a in USAGE])
def test_bad_usage_is_one_line_exit_2(args, capsys):
    with pytest.raises(SystemExit) as exc:  # argparse exits; main returns otherwise
        raise SystemExit(main(args))
    assert exc.value.code == 2
    _one_error_line(capsys.readouterr().err)


def test_unexpected_error_is_one_line_and_debug_shows_the_traceback(monkeypatch, capsys):
    import symmag.cli.main as cli

    def boom(args):
        raise ZeroDivisionError("division by zero somewhere")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "cmd_figures", boom)
    monkeypatch.setattr(cli, "build_parser", lambda: _with_func(parser, "figures", boom))
    assert cli.main(["figures", "-o", "x"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "ZeroDivisionError" in line and "--debug" in line
    with pytest.raises(ZeroDivisionError):
        cli.main(["--debug", "figures", "-o", "x"])


def _with_func(parser, command, func):
    for action in parser._subparsers._group_actions:
        action.choices[command].set_defaults(func=func)
    return parser


def test_good_module_still_passes(tmp_path):
    path = tmp_path / "good.py"
    path.write_text(GOOD)
    assert main(["check", str(path)]) == 0


def test_cli_budget_default_is_the_library_one():
    import symmag.cli.main as cli
    import symmag.numeric.simulate as simulate

    assert cli.MAX_EVALUATIONS == simulate.MAX_EVALUATIONS


SIMULATE = [
    ["--t-end", "1e308"], ["--t-end", "nan"], ["--t-end", "-1"], ["--t-end", "0"],
    ["--param", "gamma_abs=nan"], ["--param", "Hz=inf"], ["--y0", "1e308,0,0"], ["--y0", "nan,0,1"],
    ["--y0", "1,2"], ["--rtol", "inf"], ["--rtol", "0"], ["--atol", "-1"], ["--ensemble", "0"],
    ["--ensemble", "100000000000"], ["--points", "10000000000"], ["--method", "Euler"],
    ["--max-evaluations", "0"], ["--max-seconds", "nan"], ["--param", "nosuch=1"], ["--param", "Hz"],
]


@pytest.mark.parametrize("extra", SIMULATE, ids=[" ".join(a) for a in SIMULATE])
def test_bad_simulate_input_is_one_line(extra, tmp_path, capsys):
    base = {"--y0": "0.3,0.1,0.9", "--t-end": "5"}
    args = ["simulate", "llg_rsi", "--folder", str(ROOT / "generated" / "rhs"), "-o", str(tmp_path / "r.npz"),
            "--param", "gamma_abs=1.76", "--param", "alpha0=0.1", "--param", "Hx=0", "--param", "Hy=0"]
    if not any(e.startswith("Hz") for e in extra):
        args += ["--param", "Hz=1"]
    for flag, value in base.items():
        if flag not in extra:
            args += [flag, value]
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(args + extra))
    assert exc.value.code == 2
    _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "r.npz").exists()
