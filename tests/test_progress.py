"""The progress line: drawn on a terminal only, silent with quiet, cleared at the end."""

from __future__ import annotations

import io

from symmag.cli.main import main
from symmag.progress import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_drawn_on_a_terminal_and_cleared():
    out = _Terminal()
    with Progress("check", total=3, stream=out) as p:
        p.update(1)
        p.stage("pdflatex")
    text = out.getvalue()
    assert "check: 1/3" in text and "check: pdflatex" in text and text.endswith("\r")


def test_silent_in_a_pipe_or_quiet():
    for stream, quiet in ((io.StringIO(), False), (_Terminal(), True)):
        with Progress("check", total=3, stream=stream, quiet=quiet) as p:
            p.update(1)
            p.time(0.5, 1.0)
        assert stream.getvalue() == ""


def test_integrator_callbacks_are_throttled():
    out = _Terminal()
    p = Progress("compare", stream=out)
    for k in range(1000):
        p.time(k / 1000, 1.0)
    assert out.getvalue().count("\r") < 5


def test_check_prints_no_progress_into_a_pipe(tmp_path, capsys):
    path = tmp_path / "m.py"
    path.write_text("import sympy as sp\nfrom symmag import Derivation, Equal, Step\n"
                    "DERIVATION = Derivation('m', 'm', (Step(id='s', claim=lambda: Equal(sp.S(1), 1)),))\n")
    assert main(["check", str(path)]) == 0
    assert capsys.readouterr().err == ""
