"""symmag.algebra.display: the display simplifier changes what is shown, never its value."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import sympy as sp

from symmag import M0
from symmag.algebra.display import parts_latex, relation_latex, side_latex, side_text, tidy
from symmag.algebra.fields import H_eff, M
from symmag.conventions import gamma, hbar
from symmag.output.report import shown, tex_formula, tex_width

ROOT = Path(__file__).resolve().parents[1]
alpha, lam = sp.symbols("alpha lambda", real=True)
M2 = sum(m**2 for m in M)


def _norm_free(e):
    """``e`` with the display norms put back as sqrt(M_x^2 + ...), for an exact comparison."""
    back = {s: sp.sqrt(M2) for s in e.free_symbols if s.name == "|M|"}
    back.update({s: sp.sqrt(sum(h**2 for h in H_eff)) for s in e.free_symbols if s.name == "|H_eff|"})
    return e.xreplace(back)


def test_squared_norm_is_recognised_and_the_value_kept():
    cross_x = M[1] * H_eff[2] - M[2] * H_eff[1]
    e = sp.expand(-gamma * lam * M2 * (lam - alpha + alpha**2 * lam * M2) * cross_x / (1 - lam * alpha * M2))
    e = sp.cancel(e)
    shown_e = tidy(e)
    tex = side_latex(e)
    assert "|M|^{2}" in tex and "M_{x}^{2}" not in tex
    assert sp.cancel(_norm_free(shown_e) - e) == 0
    assert len(tex) < len(sp.latex(e)) / 2


def test_factored_residual_of_37():
    """The (37) residual shows its factor (lambda - alpha + alpha^2 lambda |M|^2)."""
    res = sp.cancel(sp.expand(gamma * lam * M2 * (lam - alpha + alpha**2 * lam * M2) / (lam * alpha * M2 - 1)
                              * (M[2] * H_eff[1] - M[1] * H_eff[2])))
    tex = parts_latex([(0, res), (1, 2 * res)], 3)
    assert r"\alpha^{2} \lambda |M|^{2} - \alpha + \lambda" in tex and tex.startswith("[0]:")


def test_common_factor_of_an_operator_pulled_out():
    op = sp.I * hbar * lam * M[2] * (M[0] * M0(1) - M[1] * M0(0))
    tex = side_latex(op)
    assert tex.startswith(r"i \hbar \lambda M_{z} \left(") and tex.count(r"\lambda") == 1


def test_plain_text_and_non_expressions():
    assert side_text(M2 * gamma) == "gamma*|M|**2"
    assert side_latex(sp.Integer(3)) == "3" and tidy(alpha) is alpha
    assert relation_latex(alpha, lam) == r"\alpha = \lambda"


def test_tidy_is_bounded_on_a_large_expression():
    x = sp.symbols("x0:40")
    big = sp.expand(sp.Add(*x) ** 3)  # 11480 terms: beyond the budget, returned as it is
    start = time.perf_counter()
    assert tidy(big) is big
    assert time.perf_counter() - start < 2.0


def test_display_is_independent_of_the_hash_seed():
    code = ("from symmag.algebra.display import side_latex; "
            "from symmag.algebra.fields import M, H_eff; import sympy as sp;"
            "a, l = sp.symbols('alpha lambda', real=True); m2 = sum(x**2 for x in M);"
            "print(side_latex(sp.cancel(sp.expand(l*m2*(l - a + a**2*l*m2)*H_eff[0]/(1 - a*l*m2)))))")
    outs = {subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}, check=True).stdout
            for seed in ("0", "1", "123")}
    assert len(outs) == 1


def test_long_rows_are_broken_not_shrunk():
    e = sp.expand((sp.Add(*sp.symbols("a0:12")) + 1) ** 2)
    s = shown("derived", f"y = {sp.latex(e)}")
    assert len(s.rows) == 1 and len(s.rows[0]) > 2
    assert all(tex_width(line) <= 70 for line in s.rows[0])


def test_vector_equation_and_identical_sides():
    vec = r"\left(a, b, c\right) = \left(x, y, z\right)"
    want = r"\begin{pmatrix}a \\ b \\ c\end{pmatrix} = \begin{pmatrix}x \\ y \\ z\end{pmatrix}"
    assert want in tex_formula("", vec)
    same = tex_formula("derived", r"\left(0, 0, 0\right) = \left(0, 0, 0\right)")
    assert "both sides reduce to" in same and "=" not in same.split("\n", 1)[1]
