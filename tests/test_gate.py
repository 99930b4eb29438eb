"""The gate: what makes `symmag check` exit 1, and what an erratum must pin."""

from __future__ import annotations

import functools
import json
import textwrap

import pytest
import sympy as sp

from symmag.checking.assumptions import Assumption, cached, without
from symmag.checking.derivation import Derivation, Derived, Equal, Erratum, Printed, Step
from symmag.cli.main import main

MODULE = """\
import sympy as sp
from symmag import Derivation, Equal, M0, Printed, Step
from symmag.algebra.su2 import commutator
from symmag.conventions import gamma, hbar
from symmag.checking.derivation import Erratum

# the paper (as a user typed it) with the wrong sign of the structure constant
PRINTED = {{"8": Printed(lhs=commutator(M0("x"), M0("y")), rhs=-sp.I * hbar * gamma * M0("z"))}}
claim = lambda: Equal(commutator(M0("x"), M0("y")), sp.I * hbar * gamma * M0("z"))
DERIVATION = Derivation("mine", "My derivation", (
    Step(id="my-algebra", equation="8", printed="8", claim=claim{erratum}),
), printed_table=lambda: PRINTED)
"""


def _module(tmp_path, erratum: str = "") -> str:
    path = tmp_path / "mine.py"
    path.write_text(MODULE.format(erratum=erratum))
    return str(path)


def test_wrong_printed_form_without_a_reason_fails_the_gate(tmp_path, capsys):
    assert main(["check", _module(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "mismatch" in out
    assert out.strip().splitlines()[-1] == "gate: FAILED by 1 step(s): my-algebra"
    assert "symmag check -v" in out and max(len(line) for line in out.splitlines()) < 200
    assert main(["check", "-v", _module(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "To pin it: Erratum(reason, residual=" in out  # says how to record it, once checked
    assert "residual (printed - derived): " in out and "I*gamma*hbar" in out  # as plain text


def test_recorded_erratum_passes_the_gate(tmp_path, capsys):
    path = _module(tmp_path, ', erratum=Erratum("sign of the structure constant misprinted", '
                   'residual=-2 * sp.I * hbar * gamma * M0("z"))')
    assert main(["check", "--json", path]) == 0
    (rec,) = json.loads(capsys.readouterr().out)["results"]
    assert rec["status"] == "erratum" and rec["reason"].startswith("sign of the structure")


def test_erratum_with_another_residual_is_a_mismatch(tmp_path, capsys):
    path = _module(tmp_path, ', erratum=Erratum("misprinted", residual=-3 * sp.I * hbar * gamma * M0("z"))')
    assert main(["check", path]) == 1
    assert "otherwise than the erratum pins" in capsys.readouterr().out


def test_erratum_that_no_longer_differs_is_a_mismatch():
    x = sp.Symbol("x")
    table = {"1": Printed(lhs=2 * x, rhs=2 * x)}
    step = Step(id="s", claim=lambda: Equal(2 * x, x + x), printed="1",
                erratum=Erratum("once differed", residual=0))
    (r,) = Derivation("d", "d", (step,), printed_table=lambda: table).run()
    assert r.status == "mismatch" and "now agrees" in r.detail


def test_erratum_needs_a_reason():
    with pytest.raises(ValueError):
        Erratum("  ", residual=1)


def test_unchecked_fails_the_gate_only_when_strict(tmp_path):
    path = tmp_path / "unchecked.py"
    path.write_text(textwrap.dedent("""\
        from symmag import Derivation, Step
        DERIVATION = Derivation("u", "u", (Step(id="later", kind="unchecked", reason="not yet"),))
        """))
    assert main(["check", str(path)]) == 0
    assert main(["check", "--strict", str(path)]) == 1


# -- assumptions: declared, removable, re-checked ------------------------------------------
x, a = sp.symbols("x a", real=True)
SQUARE = Assumption("a-is-x", "a = x", lambda e: e.xreplace({a: x}))
NOOP = Assumption("positive", "x > 0 (never applied)", lambda e: e)


@functools.cache
def _plain_cached() -> sp.Expr:
    return SQUARE(sp.expand((a + 1) ** 2))


@cached
def _expanded() -> sp.Expr:
    return SQUARE(sp.expand((a + 1) ** 2))


def test_necessity_needed_and_not_needed():
    needs = Step(id="needs", claim=lambda: Equal(_expanded(), x**2 + 2 * x + 1), assumes=(SQUARE,))
    idle = Step(id="idle", claim=lambda: Equal(NOOP(x + x), 2 * x), assumes=(NOOP,))
    unused = Step(id="unused", claim=lambda: Equal(x + x, 2 * x), assumes=(SQUARE,))
    stale = Step(id="stale", claim=lambda: Equal(_plain_cached(), x**2 + 2 * x + 1), assumes=(SQUARE,))
    d = Derivation("d", "d", (needs, idle, unused, stale))
    results = {r.id: r for r in d.run(necessity=True)}
    assert all(r.status == "verified" for r in results.values())
    assert results["needs"].necessity[0]["verdict"] == "needed"
    assert results["idle"].necessity[0]["verdict"] == "not needed"  # applied, and changes nothing
    # declared but never consulted, or hidden in a cache that ignores assumptions: not "not needed"
    assert results["unused"].necessity[0]["verdict"] == "not applied"
    assert results["stale"].necessity[0]["verdict"] == "not applied"
    plain = {r.id: r for r in d.run()}
    assert plain["needs"].necessity[0]["verdict"] == "not tested"


def test_assumption_not_needed_is_reported():
    step = Step(id="s", claim=lambda: Equal(SQUARE(sp.expand((a + 1) ** 2 - a**2)), SQUARE(2 * a + 1)),
                assumes=(SQUARE,))
    (r,) = Derivation("d", "d", (step,)).run(necessity=True)
    assert r.necessity[0]["verdict"] == "not needed" and "holds without it" in r.necessity[0]["note"]


def test_cached_helpers_see_removed_assumptions():
    assert _expanded() == x**2 + 2 * x + 1
    with without(SQUARE):
        assert _expanded() == sp.expand((a + 1) ** 2)
    assert _expanded() == x**2 + 2 * x + 1


def test_representation_necessity():
    from symmag.algebra.representation import Representation
    from symmag.algebra.su2 import S
    from symmag.conventions import hbar

    i = sp.Symbol("i")
    step = Step(id="sx2", claim=lambda: Equal(S(i, 0) * S(i, 0), hbar**2 / 4),
                representation=Representation(sp.Rational(1, 2)))
    (r,) = Derivation("d", "d", (step,)).run(necessity=True)
    assert r.status == "verified" and r.necessity[0] == {**r.necessity[0], "key": "representation",
                                                         "verdict": "needed"}


def test_check_assumptions_flag_prints_verdicts(tmp_path, capsys):
    path = tmp_path / "assume.py"
    path.write_text(textwrap.dedent("""\
        import sympy as sp
        from symmag import Derivation, Equal, Step
        from symmag.checking.assumptions import Assumption
        x, a = sp.symbols("x a")
        A = Assumption("a-is-x", "a = x", lambda e: e.xreplace({a: x}))
        DERIVATION = Derivation("u", "u", (
            Step(id="s", claim=lambda: Equal(A(a + x), 2 * x), assumes=(A,)),))
        """))
    assert main(["check", "--assumptions", str(path)]) == 0
    assert "assumptions: s: a-is-x needed" in capsys.readouterr().out
    assert main(["check", "--json", "--assumptions", str(path)]) == 0
    (rec,) = json.loads(capsys.readouterr().out)["results"]
    assert rec["necessity"][0]["verdict"] == "needed" and rec["necessity"][0]["statement"] == "a = x"


def test_derived_result_is_what_is_checked():
    # the wrong result of x^2 - 4 = 0 (x = -2 is right, x = 3 is not) fails its own check
    eq = x**2 - 4
    step = lambda value: Step(id="root", claim=lambda: Derived(Equal(x, value),  # noqa: E731
                                                               by=lambda r: Equal(eq.subs(x, r.rhs), 0)))
    assert Derivation("d", "d", (step(-2),)).run()[0].status == "verified"
    assert Derivation("d", "d", (step(3),)).run()[0].status == "failed"


def test_nonfinite_numbers_never_pass():
    import numpy as np

    from symmag.checking.derivation import NumericEqual

    steps = (Step(id="inf", claim=lambda: NumericEqual(np.inf, 1.0, 1e-9, "t")),
             Step(id="nan", claim=lambda: NumericEqual(np.array([np.nan, 1.0]), np.ones(2), 1e-9, "t")),
             Step(id="tol", claim=lambda: NumericEqual(1.0, 2.0, np.inf, "t")))
    with pytest.raises(Exception, match="tolerance"):
        Derivation("d", "d", steps[2:]).run()
    assert [r.status for r in Derivation("d", "d", steps[:2]).run()] == ["failed", "failed"]


def test_by_that_ignores_the_result_is_a_mismatch(tmp_path, capsys):
    y = sp.Symbol("y")
    table = {"p": Printed(lhs=y, rhs=x**3 + 7)}
    step = Step(id="ignores", printed="p",
                claim=lambda: Derived(Equal(y, x**3 + 7), by=lambda r: Equal(x, x)))
    (r,) = Derivation("d", "d", (step,), printed_table=lambda: table).run()
    assert r.status == "mismatch" and "does not involve the shown result" in r.detail
    scaled = Step(id="scaled", claim=lambda: Derived(Equal(-y, 2), by=lambda r: Equal(r.rhs, 2)))
    assert Derivation("d", "d", (scaled,)).run()[0].status == "failed"


def test_errors_in_a_users_module_name_the_step_and_the_line(tmp_path, capsys):
    path = tmp_path / "oops.py"
    path.write_text(textwrap.dedent("""\
        import sympy as sp
        from symmag import Derivation, Step
        from symmag.checking.derivation import definition
        from symmag.algebra.operators import to_op

        def crash():
            return {}["x"]

        def bad_operator():
            return to_op(sp.Symbol("dM0x/dt", commutative=False))

        DERIVATION = Derivation("oops", "oops", (
            Step(id="crash", claim=crash),
            definition("undefined", "7", "no printed table has (7)"),
        ))
        """))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "step undefined of oops" in err and "printed=None" in err
    path.write_text(path.read_text().replace('definition("undefined", "7", "no printed table has (7)")',
                                             'Step(id="operator", claim=bad_operator)'))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert f"step operator of oops ({path}:10): unknown operator: dM0x/dt" in err
    path.write_text(path.read_text().replace('    Step(id="operator", claim=bad_operator),\n', ""))
    assert main(["check", str(path)]) == 1
    assert f"error while deriving at {path}:7: KeyError" in capsys.readouterr().out


def test_a_printed_form_may_be_given_inline(tmp_path, capsys):
    """No printed table needed: Step(printed=Printed(...)) is compared the same way."""
    path = tmp_path / "inline.py"
    path.write_text(textwrap.dedent("""\
        import sympy as sp
        from symmag import Derivation, Equal, M0, Printed, Step
        from symmag.algebra.su2 import commutator
        from symmag.conventions import gamma, hbar
        from symmag.checking.derivation import Erratum

        claim = lambda: Equal(commutator(M0("x"), M0("y")), sp.I * hbar * gamma * M0("z"))
        PRINTED = Printed(lhs=commutator(M0("x"), M0("y")), rhs=-sp.I * hbar * gamma * M0("z"))
        DERIVATION = Derivation("inline", "inline", (
            Step(id="inline-algebra", equation="8", printed=PRINTED, claim=claim{erratum}),))
        """))
    source = path.read_text()
    path.write_text(source.format(erratum=""))
    assert main(["check", str(path)]) == 1
    assert "mismatch   inline-algebra" in capsys.readouterr().out
    pin = ', erratum=Erratum("sign", residual=-2 * sp.I * hbar * gamma * M0("z"))'
    path.write_text(source.format(erratum=pin))
    assert main(["check", str(path)]) == 0
