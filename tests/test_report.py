"""`symmag report --pdf` and `symmag figures`: the PDF read back with pdftotext."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from symmag.errors import SymmagInputError
from symmag.output.report import _relation, compile_pdf, log_problems, tex_text

ROOT = Path(__file__).resolve().parents[1]


def symmag(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symmag", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=900, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def result_cache(tmp_path_factory):
    """A result cache of this module's own (on: the rerun below reuses the fixture's records)."""
    return {"SYMMAG_NO_CACHE": "0", "SYMMAG_CACHE_DIR": str(tmp_path_factory.mktemp("report-cache"))}


@pytest.fixture(scope="module")
def report(tmp_path_factory, result_cache):
    """The whole paper's report, compiled (LaTeX is required: a missing one fails, not skips)."""
    out = tmp_path_factory.mktemp("report")
    proc = symmag("report", "--pdf", "-o", str(out), env=result_cache)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def check_records(report):
    """The records the report was made from (symmag-report.json, as `check --json` writes them:
    tests/test_records.py holds that the two agree; running the check again cost 20 s of CI)."""
    return json.loads((report / "symmag-report.json").read_text())["results"]


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_every_step_has_a_line_with_its_number_and_status(report, check_records):
    lines = pdf_text(report / "symmag-report.pdf").splitlines()
    missing = []
    for r in check_records:
        label = f"({r['equation']})" if r["equation"] else "[claim]"
        if not any(r["id"] in line and label in line and r["status"] in line for line in lines):
            missing.append(r["id"])
    assert not missing, f"no line with number, id and status for: {missing}"


def test_check_prints_one_short_line_per_step_of_the_paper(check_records):
    """`symmag check`'s default table of the paper's records (the report's, with their times
    restored as 0): one line per step naming it, none of 200 characters or more."""
    from symmag.cli.main import _table

    records = [{**r, "seconds": 0.0, "necessity": [{**n, "seconds": 0.0} for n in r.get("necessity", ())]}
               for r in check_records]
    lines = _table(records, wall=1.0).splitlines()
    assert len(lines) >= len(records) + 1 and max(map(len, lines)) < 200
    assert all(r["id"] in line for r, line in zip(records, lines))


def test_summary_counts_match_check(report, check_records):
    text = pdf_text(report / "symmag-report.pdf")
    row = next(line for line in text.splitlines() if line.split()[:1] == ["all"])
    counts = [int(x) for x in row.split()[1:]]
    from symmag.checking.derivation import STATUSES as statuses

    assert counts == [sum(r["status"] == s for r in check_records) for s in statuses] + [len(check_records)]


def test_figures_are_in_the_pdf(report):
    text = pdf_text(report / "symmag-report.pdf")
    assert re.search(r"Figure 1: .*M\s*z\s*/M", text) and "Figure 2:" in text
    for name in ("fig1", "fig2"):
        for ext in ("pdf", "png"):
            assert (report / "figures" / f"{name}.{ext}").is_file()
    tex = (report / "symmag-report.tex").read_text()
    assert r"\includegraphics[width=0.75\linewidth]{figures/fig1.pdf}" in tex


def test_latex_log_is_clean(report):
    log = (report / "symmag-report.log").read_text(errors="replace")
    assert log_problems(log) == []


def test_errata_show_printed_derived_and_reason(report):
    tex = (report / "symmag-report.tex").read_text()
    block = tex[tex.index("{static-longitudinal}{erratum}"):]
    block = block[:block.index(r"\stephead", 10)]
    assert r"\formulalabel{printed}" in block and r"\formulalabel{derived}" in block
    assert "residual, printed $-$ derived" in block and "Why they differ" in block
    # symbols as the paper writes them, not as Python names
    assert "lambdabar" not in tex.replace(r"\texttt", "") or r"\bar\lambda" in tex
    assert "MhatI" not in tex and "H_{eff" not in tex


def test_tex_is_byte_identical_on_rerun(report, result_cache, tmp_path):
    """Another process, another hash seed: the same .tex, JSON and figures, with no timestamps.
    The whole paper is rendered again from the fixture's cached records; the records themselves
    are derived again, under that other hash seed, for Sec. III B (the module richest in sets and
    dicts) and must match the fixture's.  (Workers: tests/test_records.py; the whole paper derived
    twice cost 70 s of CI.)"""
    proc = symmag("report", "-o", str(tmp_path / "all"), env={**result_cache, "PYTHONHASHSEED": "7"})
    assert proc.returncode == 0, proc.stderr
    for name in ("symmag-report.tex", "symmag-report.json", "figures/fig1.pdf"):
        assert (tmp_path / "all" / name).read_bytes() == (report / name).read_bytes(), name
    proc = symmag("report", str(ROOT / "derivations" / "sec3b_general_field.py"), "-o", str(tmp_path / "b"),
                  "--no-assumptions", env={"SYMMAG_NO_CACHE": "1", "PYTHONHASHSEED": "7"})
    assert proc.returncode == 0, proc.stderr

    def shown(records):  # what the step derived and shows (the re-checks without assumptions apart)
        return [{k: v for k, v in r.items() if k != "necessity"} for r in records
                if r["derivation"] == "sec3b_general_field"]

    fresh = json.loads((tmp_path / "b" / "symmag-report.json").read_text())["results"]
    assert shown(fresh) == shown(json.loads((report / "symmag-report.json").read_text())["results"])


def test_figure_curves_closed_form_against_generated_rhs():
    """Figs. 1-2: the closed form (44)-(45) with the derived Sec. III B rate and the generated
    llg_rsi_extra integrated with solve_ivp agree to max|dM|/M <= 1e-6."""
    from derivations import figures

    closed = figures.curves(201)
    integrated = figures.integrated_curves(closed.x)
    assert np.abs(closed.mz - integrated.mz).max() <= 1e-6
    assert np.abs(closed.mp - integrated.mp).max() <= 1e-6
    assert closed.mz[closed.a.index(-1.5), -1] < -0.9  # a < -1 turns over
    assert np.allclose(closed.mz[closed.a.index(-1.0)], figures.D)  # a = -1: no damping


def test_figures_command(tmp_path):
    proc = symmag("figures", "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig1.pdf", "fig1.png", "fig2.pdf", "fig2.png"]


def test_missing_latex_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SymmagInputError, match="apt-get install --no-install-recommends texlive-latex-base"):
        compile_pdf(tmp_path / "x.tex")


def test_latex_error_names_the_source_line(tmp_path):
    tex = tmp_path / "broken.tex"
    tex.write_text("\\documentclass{article}\n\\begin{document}\nfine\n\\undefinedmacro{x}\n\\end{document}\n")
    with pytest.raises(SymmagInputError) as err:
        compile_pdf(tex)
    message = str(err.value)
    assert "line 4" in message and "Undefined control sequence" in message and "\\undefinedmacro" in message
    assert "\n" not in message


def test_text_is_escaped_and_names_typeset():
    assert tex_text("50% of M_I & lambda0^2 # {x}") == (
        r"50\% of $\hat M_I$ \& $\lambda_0^{2}$ \# \{x\}")
    assert tex_text("M x H_eff") == r"M $\times$ $\vec H_{\mathrm{eff}}$"
    # a power of a name that already carries a superscript: no double superscript
    assert tex_text("lambdabar46^2") == r"$\left(\bar\lambda_0^{(46)}\right)^{2}$"


def test_report_of_a_users_derivation(tmp_path):
    mod = tmp_path / "mine.py"
    mod.write_text(
        "from symmag import Derivation, Step, Equal, M0\n"
        "from symmag.conventions import gamma, hbar\n"
        "claim = lambda: Equal(M0(0) * M0(1) - M0(1) * M0(0), 1j * gamma * hbar * M0(2))\n"
        "DERIVATION = Derivation('mine', 'My commutator', (Step(id='my-commutator', claim=claim,\n"
        "    statement='[M0^x, M0^y] = i gamma hbar M0^z'),), section='A')\n"
    )
    proc = symmag("report", "-o", str(tmp_path / "out"), str(mod))
    assert proc.returncode == 0, proc.stderr
    tex = (tmp_path / "out" / "symmag-report.tex").read_text()
    assert "{my-commutator}{verified}" in tex and r"\section{Sec.~A: My commutator}" in tex
    assert r"\includegraphics" not in tex  # the paper's figures only with the paper


def test_awkward_text_in_a_users_derivation_still_compiles(tmp_path):
    """Special characters in a section name, an equation number, a statement, a numeric
    residual (a failed step): the PDF still builds and the step still has its line."""
    mod = tmp_path / "awkward.py"
    mod.write_text(
        "import numpy as np\n"
        "from symmag import Derivation, Step, Equal, M0\n"
        "from symmag.checking.derivation import NumericEqual\n"
        "bad = lambda: NumericEqual(np.array([1.0]), np.array([2.0]), 1e-9, setup='n_sites = 2 # 50%')\n"
        "ok = lambda: Equal(M0(0), M0(0))\n"
        "DERIVATION = Derivation('awk_ward', 'Odd & ends: 100% of x_{i & j}', (\n"
        "    Step(id='odd_id', claim=ok, equation='2#a',\n"
        "         statement='at x = 0, x_{i & j} and 50% #3 ~ \\\\ ^'),\n"
        "    Step(id='numeric-gap', claim=bad, statement='a numeric claim that fails'),\n"
        "), section='IV_A')\n"
    )
    out = tmp_path / "out"
    proc = symmag("report", "--pdf", "-o", str(out), str(mod))
    assert proc.returncode == 1, proc.stderr  # a step failed: exit 1, but the PDF is there
    text = pdf_text(out / "symmag-report.pdf")
    assert any("odd_id" in line and "(2#a)" in line and "verified" in line for line in text.splitlines())
    assert any("numeric-gap" in line and "failed" in line for line in text.splitlines())


def test_a_users_module_has_its_own_title_authors_and_mathematics(tmp_path):
    """Module metadata on the first page (not the paper's), no "Sec. :" for an empty section,
    $...$ in a statement typeset (pdftotext reads the Greek letter back)."""
    mod = tmp_path / "notes.py"
    mod.write_text(
        "from symmag import Derivation, Step, Equal, M0\n"
        "TITLE = 'Commutators of my notes'\n"
        "AUTHORS = 'Ada Lovelace, Emmy Noether'\n"
        "SOURCE = 'Lecture notes, ch. 2'\n"
        "ABSTRACT = 'Two identities, with $\\\\alpha$ kept symbolic.'\n"
        "claim = lambda: Equal(M0(0) + M0(1), M0(1) + M0(0))\n"
        "DERIVATION = Derivation('notes', 'Sums commute', (Step(id='sum-commutes', claim=claim,\n"
        "    statement='$\\\\alpha$ plays no role: $M_0^x + M_0^y$ is symmetric'),))\n"
    )
    out = tmp_path / "out"
    proc = symmag("report", "--pdf", "-o", str(out), str(mod))
    assert proc.returncode == 0, proc.stderr
    first = subprocess.run(["pdftotext", "-l", "1", str(out / "symmag-report.pdf"), "-"],
                           capture_output=True, text=True, check=True).stdout
    assert "Commutators of my notes" in first and "Ada Lovelace, Emmy Noether" in first
    assert "Lecture notes, ch. 2" in first
    assert "Magnetization damping" not in first and "Saradzhev" not in first
    assert "Every numbered equation of the paper" not in first
    assert "α plays no role" in first and "\\α" not in first and "\\alpha" not in first
    tex = (out / "symmag-report.tex").read_text()
    assert r"\section{Sums commute}" in tex and "Sec.~:" not in tex
    assert "extraction" not in pdf_text(out / "symmag-report.pdf")


def _display_rows(tex: str) -> list[str]:
    """Every displayed row of the report: align* rows with their continuation lines joined,
    and single \\[...\\] formulas."""
    rows = []
    for block in re.findall(r"\\begin\{align\*\}\n(.*?)\n\\end\{align\*\}", tex, flags=re.S):
        for line in block.split("\\\\\n"):
            if line.startswith(r"&\qquad ") and rows:
                rows[-1] += " " + line[len(r"&\qquad "):]
            else:
                rows.append(line.lstrip("&"))
    rows += re.findall(r"^\\\[(.*)\\\]$", tex, flags=re.M)
    return rows


def test_formulas_are_typeset_readably(report):
    """No formula left untypeset for length, none shrunk, no equality with identical sides."""
    tex = (report / "symmag-report.tex").read_text()
    text = pdf_text(report / "symmag-report.pdf")
    assert "too long to typeset" not in text and "characters of" not in text
    assert r"\resizebox" not in tex and r"\scalebox" not in tex
    assert not re.search(r"\\(small|footnotesize|scriptsize|tiny)\b[^\n]*(\\begin\{align|\\\[)", tex)
    rows = _display_rows(tex)
    assert len(rows) > 200
    same = [r for r in rows if (rel := _relation(r)) is not None and rel[0] == rel[2]]
    assert same == []
    assert "|M|^{2}" in tex  # M_x^2 + M_y^2 + M_z^2 recognised


def test_no_internal_names_in_the_pdf(report):
    text = pdf_text(report / "symmag-report.pdf")
    for name in ("DIavg", "Cavg", "MhatI", "DhatI", "Ssum", "lambdabar", "dMhatI_dt", "Mtot_",
                 "\u03b3ratio", "crate", "prec rate", "precrate", "relaxrate", "Iint", "M Iint",
                 "dM Idt", "DIx", "Hdr46", "Hdr49", "drho", "dI0dt", "H int", "Hint "):
        assert name not in text, name


def test_the_report_json_holds_the_records_check_gives(tmp_path, capsys):
    """symmag-report.json is `check --json --assumptions` of the same modules, without timings."""
    from symmag.cli.main import main, without_timings

    path = str(ROOT / "derivations" / "sec4_spin_spin.py")
    assert main(["report", path, "-o", str(tmp_path), "-q"]) == 0
    capsys.readouterr()
    assert main(["check", path, "--json", "--assumptions", "-q"]) == 0
    checked = json.loads(capsys.readouterr().out)
    written = json.loads((tmp_path / "symmag-report.json").read_text())
    assert written["results"] == [without_timings(r) for r in checked["results"]]
    assert not any("seconds" in n for r in written["results"] for n in r["necessity"])
    assert written["summary"] == {k: v for k, v in checked["summary"].items()
                                  if k not in ("seconds", "wall_seconds", "cached")}
