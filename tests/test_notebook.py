"""docs/notebook.ipynb, executed in memory with nbclient, and the displays it shows.

The displays must be valid for JupyterLab's MathJax 3 (with or without its ``textmacros``
package) and for real LaTeX.  No headless MathJax is at hand, so validity is checked
structurally: balanced braces, ``\\left``/``\\right`` and environments; nothing but plain
characters inside ``\\text{}``; only macros from a list known to MathJax 3's TeX input (core
and AMS); in HTML every ``$`` opens or closes math, except in ``tex2jax_ignore`` spans.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
import sympy as sp
from nbclient import NotebookClient

from symmag import Derivation, Equal, Step
from symmag.checking.derivation import Erratum
from symmag.checking.notebook import html_prose, residual_sides, table, tex_prose, tex_text

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "notebook.ipynb"

#: macros of MathJax 3's TeX input (base and AMS) that the displays and SymPy's printer use;
#: one outside this list must be checked against MathJax's docs before it is added
MATHJAX_MACROS = set("""
alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi
varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi
Pi Sigma Upsilon Phi Psi Omega hbar ell partial nabla infty emptyset
frac dfrac tfrac sqrt left right middle big Big bigg Bigg hat widehat bar overline underline tilde
widetilde dot ddot vec mathrm mathbf mathit mathcal mathbb mathsf mathtt mathop operatorname
boldsymbol text textbf textit texttt textstyle displaystyle scriptstyle limits nolimits
sum prod int iint oint lim min max sup inf exp log ln sin cos tan cot sec csc sinh cosh tanh coth
arcsin arccos arctan det
cdot cdots ldots dots times otimes oplus odot circ ast star pm mp wedge vee cap cup setminus
leq geq le ge neq ne approx equiv sim simeq propto parallel perp mid in notin subset to rightarrow
leftarrow Rightarrow mapsto langle rangle lvert rvert lVert rVert lbrace rbrace backslash dagger
prime not quad qquad
begin end
""".split())
ENVIRONMENTS = {"array", "matrix", "pmatrix", "bmatrix", "cases", "aligned"}
#: control symbols (backslash + one non-letter) that MathJax 3 knows
CONTROL_SYMBOLS = set(r"{}_,;:!|#%&$ \\")
PLAIN_TEXT_BAD = set("\\_^{}$&#%~")


def tex_problems(tex: str) -> list[str]:
    """Why ``tex`` (math-mode content) would not typeset under MathJax 3 or LaTeX."""
    out = []
    depth = 0
    for tok in re.findall(r"\\[A-Za-z]+|\\.|[{}]", tex):
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
            if depth < 0:
                out.append("a } closes nothing")
                depth = 0
        elif re.fullmatch(r"\\[A-Za-z]+", tok) and tok[1:] not in MATHJAX_MACROS:
            out.append(f"macro {tok} is not in the MathJax 3 list")
        elif len(tok) == 2 and tok[1] not in CONTROL_SYMBOLS:
            out.append(f"control symbol {tok}")
    if depth:
        out.append(f"{depth} unclosed {{")
    if len(re.findall(r"\\left(?![A-Za-z])", tex)) != len(re.findall(r"\\right(?![A-Za-z])", tex)):
        out.append("\\left and \\right do not pair")
    stack: list[str] = []
    for kind, env in re.findall(r"\\(begin|end)\{([^}]*)\}", tex):
        if env not in ENVIRONMENTS:
            out.append(f"environment {env}")
        if kind == "begin":
            stack.append(env)
        elif not stack or stack.pop() != env:
            out.append(f"\\end{{{env}}} closes nothing")
    out += [f"unclosed environment {e}" for e in stack]
    for m in re.finditer(r"\\text(?:bf|it|tt)?(?![A-Za-z])", tex):
        body = re.match(r"\s*\{([^{}]*)\}", tex[m.end():])
        if body is None:
            out.append(f"{m.group(0)} without a plain {{...}} argument")
        elif set(body.group(1)) & PLAIN_TEXT_BAD:
            out.append(f"{m.group(0)}{{{body.group(1)}}} holds a special character")
    return out


def latex_output_problems(latex: str) -> list[str]:
    """A ``text/latex`` output: one display ``$$...$$`` whose content is valid."""
    m = re.fullmatch(r"\$\$(.*)\$\$", latex.strip(), re.S)
    if m is None:
        return ["text/latex is not one $$...$$ display"]
    return tex_problems(m.group(1))


def html_math(markup: str) -> list[str]:
    """The TeX MathJax would typeset in an HTML output; raises when a ``$`` is left over."""
    visible = re.sub(r'<span class="tex2jax_ignore">.*?</span>', "", markup, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", "", visible))
    maths = re.findall(r"\$\$(.+?)\$\$|\$([^$]+)\$", text, flags=re.S)
    rest = re.sub(r"\$\$(.+?)\$\$|\$([^$]+)\$", "", text, flags=re.S)
    assert "$" not in rest and "\\(" not in rest and "\\[" not in rest, rest
    return [a or b for a, b in maths]


def html_output_problems(markup: str) -> list[str]:
    return [p for tex in html_math(markup) for p in tex_problems(tex)]


# -- the notebook, executed once ---------------------------------------------------------
PROBE = """\
import json, sys
import symmag
_r = results[0]
print(json.dumps({"executable": sys.executable, "symmag": symmag.__file__, "status": _r.status,
                  "printed": _r.printed, "derived": _r.derived, "residual": _r.residual,
                  "reason": _r.reason}))
"""


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook run in memory (never written back), plus a probe cell that prints the
    erratum record as the kernel holds it."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE, metadata={"tags": ["probe"]}))
    # kernel_name "python3" is ipykernel's own spec; jupyter_client launches its "python" as
    # this very sys.executable, so no per-user kernelspec install is needed.  IPYTHONDIR in
    # tmp keeps the kernel's profile and history out of the home directory.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))
        mp.setenv("PYTHONHASHSEED", "0")
        NotebookClient(nb, timeout=60, startup_timeout=60, kernel_name="python3",
                       extra_arguments=["--HistoryManager.enabled=False"],
                       resources={"metadata": {"path": str(ROOT)}}).execute()
    cells = {}
    for cell in nb.cells:
        for tag in cell.metadata.get("tags", []):
            cells[tag] = cell
    return cells


def data(cell, mime: str) -> str:
    (out,) = [o for o in cell.outputs if o.output_type == "execute_result"]
    return out["data"][mime]


def test_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert "without outputs" in nb.cells[0].source
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_kernel_is_this_python_and_this_checkout(executed):
    probe = json.loads(executed["probe"].outputs[0]["text"])
    assert os.path.realpath(probe["executable"]) == os.path.realpath(sys.executable)
    assert Path(probe["symmag"]).resolve().is_relative_to(ROOT)


def test_erratum_shows_printed_derived_residual_and_reason(executed):
    probe = json.loads(executed["probe"].outputs[0]["text"])
    assert probe["status"] == "erratum"
    ((side, residual),) = residual_sides(probe["residual"])
    assert side == "rhs" and residual == r"- 2 i \gamma \hbar \hat{M}_{0}^{z}"
    markup = data(executed["erratum"], "text/html")
    for label, tex in (("printed", probe["printed"]), ("derived", probe["derived"]),
                       ("printed rhs &minus; derived rhs", residual)):
        assert f">{label}</th>" in markup
        assert f"$${html.escape(tex, quote=False)}$$" in markup
    assert ">reason</th>" in markup and html.escape(probe["reason"]) in markup
    assert "erratum</span>" in markup
    latex = data(executed["erratum"], "text/latex")
    for tex in (probe["printed"], probe["derived"], residual):
        assert tex in latex
    assert r"\text{printed rhs} - \text{derived rhs}" in latex
    assert tex_text(probe["reason"]) in latex


def test_verified_table_step_and_derivation(executed):
    verified = data(executed["verified"], "text/html")
    assert "verified</span>" in verified and ">printed</th>" in verified and ">derived</th>" in verified
    assert r"$x = \sqrt{2}$" in verified  # the statement's math is kept as math
    summary = data(executed["table"], "text/html")
    assert "1 verified, 1 erratum" in summary and "moment-algebra" in summary
    assert "declared, not run" in data(executed["step"], "text/html")
    paper = data(executed["paper-derivation"], "text/html")
    assert "hamiltonian-split" in paper and "H = H0 + lambda H_I." in paper
    assert "erratum" in data(executed["paper-table"], "text/html")


def test_every_output_is_valid_for_mathjax3(executed):
    shown = [c for c in executed.values() if c.metadata["tags"] != ["probe"]]
    assert len(shown) >= 8
    for cell in shown:
        # nothing on stderr (a warning would be shown to every reader), no error output
        assert all(o.output_type == "execute_result" for o in cell.outputs), cell.outputs
        if not cell.outputs:
            continue
        assert latex_output_problems(data(cell, "text/latex")) == [], cell.source
        assert html_output_problems(data(cell, "text/html")) == [], cell.source


# -- the pieces, in process --------------------------------------------------------------
def test_text_never_puts_special_characters_inside_text():
    tex = tex_text(r"H = H0 + lambda H_I, {a^b} \ 100% & #1 ~ <x|y>")
    assert tex_problems(tex) == []
    assert r"\text{H = H0 + lambda H}\_\text{I, }\{" in tex
    assert tex_prose("a $x_1^2$ b") == r"\text{a }{x_1^2}\text{ b}"
    assert tex_problems(tex_prose("solves $x^2 = 2$ for x_0")) == []


def test_html_escapes_text_and_keeps_math():
    markup = html_prose("<b>a</b> & $x < 1$ costs \\$5")
    assert "<b>" not in markup and "&lt;b&gt;a&lt;/b&gt; &amp; " in markup
    assert "$x &lt; 1$" in markup
    assert html_math(markup) == ["x < 1"]  # the stray $ is shielded from MathJax


def test_residual_sides():
    assert residual_sides(None) == []
    assert residual_sides(r"x^{2}") == [("", r"x^{2}")]
    assert residual_sides(r"printed lhs - derived lhs = a; printed rhs - derived rhs = b_{1}") == [
        ("lhs", "a"), ("rhs", "b_{1}")]


def test_displaying_never_runs_a_claim():
    calls = []

    def claim():
        calls.append(1)
        return Equal(sp.Symbol("x"), sp.Symbol("x"))

    d = Derivation("probe", "Probe_with_underscore {braces}", (
        Step(id="s_1", equation="1", claim=claim, statement="H_I and \\alpha",
             erratum=Erratum("why_not", residual=sp.Symbol("x_1"))),
        Step(id="u", kind="unchecked", reason="100% $unchecked$"),
    ))
    for obj in (d, *d.steps):
        assert latex_output_problems(obj._repr_latex_()) == []
        assert html_output_problems(obj._repr_html_()) == []
    assert calls == []
    results = d.run()
    assert calls == [1]
    t = table(results)
    assert latex_output_problems(t._repr_latex_()) == [] and html_output_problems(t._repr_html_()) == []
    assert "1 mismatch, 1 unchecked" in repr(t)  # the pinned residual does not match: x - x = 0
    for r in results:
        assert latex_output_problems(r._repr_latex_()) == []
        assert html_output_problems(r._repr_html_()) == []


def test_the_validity_check_has_teeth():
    """What the first placeholder displays emitted, and what MathJax 3 lacks, is caught."""
    assert tex_problems(r"\text{H\_I}")  # shows a literal backslash without textmacros
    assert tex_problems(r"\text{H_I}")  # an error with textmacros
    assert tex_problems(r"\text{a \backslash b}")
    assert tex_problems(r"\tr\left(\rho\right)")  # not a MathJax macro: \operatorname{tr}
    assert tex_problems(r"\frac{a}{b") and tex_problems(r"\left( a") and tex_problems(r"\begin{array}{l}")
    assert latex_output_problems(r"$x$ and $y$")
    with pytest.raises(AssertionError):
        html_math("costs $5")
