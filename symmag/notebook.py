"""Rich display in Jupyter for :class:`~symmag.derivation.Step`, ``StepResult`` and
``Derivation`` (``_repr_latex_`` / ``_repr_html_`` delegate here).

Uses only the records' public fields; imported lazily by those methods, so nothing here
runs unless a notebook asks for it.
"""

from __future__ import annotations


def _tex_text(s: str) -> str:
    return s.replace("\\", r"\backslash ").replace("_", r"\_").replace("{", r"\{").replace("}", r"\}")


def derivation_latex(d) -> str:
    rows = [rf"\text{{{_tex_text(d.title)} (Sec. {d.section})}}" if d.section else
            rf"\text{{{_tex_text(d.title)}}}"]
    for st in d.steps:
        eq = f"({st.equation})" if st.equation else f"[{st.id}]"
        rows.append(rf"\text{{{_tex_text(f'{eq} {st.kind}: {st.statement or st.reason}')}}}")
    return "$\\begin{array}{l}" + r" \\ ".join(rows) + r"\end{array}$"


def derivation_html(d) -> str:
    return derivation_latex(d)


def result_latex(r) -> str:
    label = rf"\text{{({r.equation})}}" if r.equation else rf"\text{{[{_tex_text(r.id)}]}}"
    body = r.derived or r.printed or r"\text{(no formula)}"
    return rf"$\displaystyle {body} \qquad {label}\ \text{{{r.status} ({r.method})}}$"


def result_html(r) -> str:
    return result_latex(r)


def step_latex(st) -> str:
    eq = f"({st.equation})" if st.equation else f"[{st.id}]"
    return rf"$\text{{{_tex_text(f'{eq} {st.kind}: {st.statement or st.reason}')}}}$"


def step_html(st) -> str:
    return step_latex(st)
