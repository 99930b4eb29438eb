"""Bad input: one line on stderr, exit 2, no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from symmag.cli.main import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symmag", *args], capture_output=True, text=True,
                          timeout=120)


def assert_one_line_error(proc: subprocess.CompletedProcess, needle: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert needle in lines[0]


def test_unknown_path():
    assert_one_line_error(run_cli("check", "no/such/file.py"), "no such file")


def test_module_without_derivation(tmp_path):
    mod = tmp_path / "empty.py"
    mod.write_text("x = 1\n")
    assert_one_line_error(run_cli("check", str(mod)), "defines no derivation")


def test_derivation_with_unknown_operator(tmp_path):
    mod = tmp_path / "unknown_op.py"
    mod.write_text(
        "import sympy as sp\n"
        "from symmag import Derivation, Step, Equal, Moment\n"
        "A = sp.Symbol('A', commutative=False)\n"
        "DERIVATION = Derivation('u', 'u', (Step(id='u', claim=lambda: Equal(A*Moment('x'), 0)),))\n"
    )
    assert_one_line_error(run_cli("check", str(mod)), "unknown operator")


def test_derivation_with_non_polynomial_operator(tmp_path):
    mod = tmp_path / "sin_op.py"
    mod.write_text(
        "import sympy as sp\n"
        "from symmag import Derivation, Step, Equal, Moment\n"
        "DERIVATION = Derivation('s', 's', (Step(id='s', claim=lambda: Equal(sp.sin(Moment('x')), 0)),))\n"
    )
    assert_one_line_error(run_cli("check", str(mod)), "non-polynomial")


@pytest.mark.parametrize(
    "expr, needle",
    [
        ("sin(M0x)", "not allowed"),
        ("Q*M0x", "unknown symbol or operator"),
        ("M0x/M0y", "division by an operator"),
        ("M0x**-1", "non-negative integer"),
        ("__import__('os')", "unexpected character"),
        ("M0x +", "unexpected"),
        ("1/0", "division by zero"),
        ("M0x**100000", "larger than 64"),
    ],
)
def test_reduce_rejects(expr, needle, capsys):
    assert main(["reduce", expr]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]


def test_reduce_prints_canonical_form(capsys):
    assert main(["reduce", "[M0x, M0y] - I*hbar*gamma*M0z"]) == 0
    assert capsys.readouterr().out.strip() == "0"


@pytest.mark.parametrize("argv, message", [
    (["figures", "-o", "/dev/null/x"], "cannot create folder"),
    (["codegen", "-o", "/dev/null/x"], "cannot create folder"),
    (["report", "-o", "/dev/null/x"], "cannot create folder"),
    (["compare", "llg_rsi", "--plot", "deviation.txt"], "--plot writes .png, .pdf or .svg"),
    (["compare", "spin_spin", "--hz", "nan"], "--hz must be a finite number"),
    (["compare", "spin_spin", "--lambda", "inf"], "--lambda must be a finite number"),
])
def test_output_and_number_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
