"""Rich display in Jupyter for :class:`~symmag.checking.derivation.Step`, ``StepResult`` and
``Derivation`` (their ``_repr_latex_`` / ``_repr_html_`` delegate here), and :func:`table`
for a list of results.

JupyterLab renders ``text/html`` in preference to ``text/latex`` and typesets the ``$$...$$``
and ``$...$`` in it with MathJax 3; ``text/latex`` is what nbconvert's LaTeX/PDF export
uses.  Both are therefore kept valid for MathJax 3 (with or without its ``textmacros``
package) *and* for real LaTeX: nothing but plain characters ever goes inside ``\\text{}``
(``_ ^ { } \\ $ & # % ~ < > |`` are typeset in math mode next to it: ``\\_`` inside
``\\text{}`` shows a literal backslash without ``textmacros`` and a bare ``_`` is an error
with it), and only macros of core TeX/amsmath are emitted around SymPy's own LaTeX.

Display only: nothing here runs a check -- a ``Derivation`` shows its declared steps, and a
``StepResult`` shows what was recorded when it ran.  Uses the records' public fields only;
imported lazily by those methods, so nothing here runs unless a notebook asks for it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: derivation.py imports this module lazily
    from .derivation import Derivation, Step, StepResult

#: status -> badge colour (white text on it reads in light and dark themes alike)
STATUS_COLOURS = {
    "verified": "#2e7d32",
    "erratum": "#b26a00",
    "mismatch": "#c62828",
    "failed": "#7f0000",
    "definition": "#1565c0",
    "unchecked": "#616161",
}

# characters that may not stand inside \text{} portably, and how math mode typesets them
_TEX_SPECIAL = {
    "\\": r"\backslash ",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "^": r"\hat{}",
    "~": r"\sim ",
    "<": "<",
    ">": ">",
    "|": "|",
}

#: inline math in a statement or reason: ``$$...$$`` or ``$...$`` (kept as math)
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.S)
#: the side labels ``compare_printed`` writes into a residual before each side's LaTeX
_RESIDUAL_SIDE = re.compile(r"(?:^|;\s*)printed (lhs|rhs) - derived (?:lhs|rhs) = ")

_CARD = "margin:0.3em 0;padding:0.4em 0.6em;border-left:4px solid {colour};text-align:left"
_CELL = "text-align:left;vertical-align:top;padding:0.15em 0.6em 0.15em 0"
_SCROLL = "overflow-x:auto;max-width:100%"  # MathJax 3 does not break long lines: scroll them


# -- LaTeX pieces --------------------------------------------------------------------------
def tex_text(s: str, macro: str = "text") -> str:
    r"""Plain text for math mode: runs of ordinary characters in ``\macro{...}``, the
    characters in ``_TEX_SPECIAL`` typeset in math mode between them."""
    out: list[str] = []
    run: list[str] = []
    for ch in re.sub(r"\s+", " ", str(s)):  # newlines and tabs: one space, as in prose
        if ch in _TEX_SPECIAL:
            if run:
                out.append(rf"\{macro}{{{''.join(run)}}}")
                run = []
            out.append(_TEX_SPECIAL[ch])
        else:
            run.append(ch)
    if run:
        out.append(rf"\{macro}{{{''.join(run)}}}")
    return "".join(out)


def tex_prose(s: str) -> str:
    """A statement or reason for math mode: its ``$...$`` parts stay math, the rest is text."""
    out, pos = [], 0
    for m in _MATH.finditer(s):
        out.append(tex_text(s[pos:m.start()]))
        out.append("{" + m.group(0).strip("$") + "}")
        pos = m.end()
    out.append(tex_text(s[pos:]))
    return "".join(out)


def residual_sides(residual: str | None) -> list[tuple[str, str]]:
    """``[(label, LaTeX)]`` of a recorded residual: ``compare_printed`` writes
    ``printed rhs - derived rhs = <LaTeX>`` (and likewise for the lhs) as words before the
    LaTeX; a failed claim's residual is LaTeX alone (label ``""``)."""
    if not residual:
        return []
    pieces = _RESIDUAL_SIDE.split(residual)
    if len(pieces) == 1:
        return [("", residual)]
    # split() with one group: [before, side, tex, side, tex, ...]; ``before`` is empty
    return [(pieces[i], pieces[i + 1].strip()) for i in range(1, len(pieces) - 1, 2)]


def _label(equation: str | None, step_id: str) -> str:
    return f"({equation}) {step_id}" if equation else step_id


def _latex_rows(rows: list[tuple[str, str]]) -> str:
    body = r" \\ ".join(f"{a} & {b}" for a, b in rows)
    return r"$$\begin{array}{ll} " + body + r" \end{array}$$"


# -- HTML pieces ---------------------------------------------------------------------------
def html_text(s: Any) -> str:
    """Literal text: escaped, and kept from MathJax when it holds a ``$`` or a backslash
    (``tex2jax_ignore`` is MathJax 3's default class for that)."""
    s = html.escape(str(s), quote=False)
    return f'<span class="tex2jax_ignore">{s}</span>' if ("$" in s or "\\" in s) else s


def html_prose(s: str) -> str:
    """A statement or reason: escaped text, its ``$...$`` parts left for MathJax."""
    out, pos = [], 0
    for m in _MATH.finditer(s):
        out.append(html_text(s[pos:m.start()]))
        out.append(html.escape(m.group(0), quote=False))
        pos = m.end()
    out.append(html_text(s[pos:]))
    return "".join(out)


def html_math(tex: str) -> str:
    """Display math for MathJax, scrolled sideways when it is wider than the output."""
    return f'<div style="{_SCROLL}">$$' + html.escape(tex, quote=False) + "$$</div>"


def badge(status: str) -> str:
    colour = STATUS_COLOURS.get(status, "#616161")
    return (f'<span style="background:{colour};color:#fff;border-radius:3px;padding:0 0.4em;'
            f'font-weight:bold">{html.escape(status)}</span>')


def _html_rows(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f'<tr><th style="{_CELL};white-space:nowrap">{a}</th><td style="{_CELL}">{b}</td></tr>'
                    for a, b in rows)
    return f"<table>{cells}</table>" if cells else ""


def _html_list(items: Iterable[str]) -> str:
    items = list(items)
    return "<ul style=\"margin:0\">" + "".join(f"<li>{i}</li>" for i in items) + "</ul>" if items else ""


# -- Step ------------------------------------------------------------------------------------
def _pinned_residual(st: Step) -> str | None:
    """LaTeX of the residual a step's erratum pins (None: none, or built by a callable,
    which displaying must not call)."""
    if st.erratum is None or st.erratum.residual is None or callable(st.erratum.residual):
        return None
    from ..algebra.display import side_latex

    try:
        return side_latex(st.erratum.residual)
    except Exception:  # display never raises over an expectation it cannot print
        return None


def step_latex(st: Step) -> str:
    """``Step._repr_latex_``: the step as declared (id, kind, statement, erratum)."""
    rows = [(tex_text(_label(st.equation, st.id), "textbf"), tex_text(st.kind))]
    if st.statement:
        rows.append((r"\text{statement}", tex_prose(st.statement)))
    if st.printed:
        where = f"equation ({st.printed})" if isinstance(st.printed, str) else "given inline"
        rows.append((r"\text{printed}", tex_text(where)))
    if st.why:
        rows.append((r"\text{erratum}" if st.erratum else r"\text{reason}", tex_prose(st.why)))
    pinned = _pinned_residual(st)
    if pinned:
        rows.append((r"\text{pinned residual}", r"\displaystyle " + pinned))
    for a in _step_assumptions(st):
        rows.append((r"\text{assumes}", tex_prose(a)))
    return _latex_rows(rows)


def _step_assumptions(st: Step) -> list[str]:
    return ([f"{a.key}: {a.statement}" for a in st.assumes] + list(st.assumptions)
            + [f"convention {k}" for k in st.conventions])


def step_html(st: Step) -> str:
    """``Step._repr_html_``: the step as declared, a card."""
    head = (f"<b>{html_text(_label(st.equation, st.id))}</b> &middot; {html.escape(st.kind)}"
            + (" &middot; erratum expected" if st.erratum else "")
            + ' <span style="opacity:0.7">(declared, not run)</span>')
    rows = []
    if st.statement:
        rows.append(("statement", html_prose(st.statement)))
    if st.printed:
        rows.append(("printed", f"equation ({html_text(st.printed)}) of the printed table"
                     if isinstance(st.printed, str) else "given inline"))
    if st.why:
        rows.append(("erratum" if st.erratum else "reason", html_prose(st.why)))
    pinned = _pinned_residual(st)
    if pinned:
        rows.append(("pinned residual<br>printed &minus; derived", html_math(pinned)))
    if _step_assumptions(st):
        rows.append(("assumes", _html_list(html_prose(a) for a in _step_assumptions(st))))
    colour = STATUS_COLOURS["definition" if st.kind == "definition" else "unchecked"]
    return (f'<div class="symmag symmag-step" style="{_CARD.format(colour=colour)}">'
            f"<div>{head}</div>{_html_rows(rows)}</div>")


# -- StepResult ------------------------------------------------------------------------------
def _seconds(r: StepResult) -> str:
    return f"{r.seconds:.3g} s"


def result_latex(r: StepResult) -> str:
    """``StepResult._repr_latex_``: status, statement, printed, derived, residual, reason."""
    rows = [(tex_text(_label(r.equation, r.id), "textbf"),
             tex_text(r.status, "textbf") + tex_text(f" ({r.method}, {_seconds(r)})"))]
    if r.statement:
        rows.append((r"\text{statement}", tex_prose(r.statement)))
    if r.printed:
        rows.append((r"\text{printed}", r"\displaystyle " + r.printed))
    if r.derived:
        rows.append((r"\text{derived}", r"\displaystyle " + r.derived))
    for side, tex in residual_sides(r.residual):
        label = (rf"\text{{printed {side}}} - \text{{derived {side}}}" if side
                 else r"\text{residual}")
        rows.append((label, r"\displaystyle " + tex))
    if r.reason and r.status != "verified":
        rows.append((r"\text{reason}", tex_prose(r.reason)))
    for n in r.necessity:
        if n.get("verdict") not in (None, "not tested", "convention", "stated"):
            rows.append((r"\text{without }" + tex_text(n["key"], "texttt"), tex_text(n["verdict"])))
    return _latex_rows(rows)


def result_html(r: StepResult) -> str:
    """``StepResult._repr_html_``: a card with the same rows as :func:`result_latex`."""
    head = (f"<b>{html_text(_label(r.equation, r.id))}</b> {badge(r.status)} "
            f'<span style="opacity:0.7">{html_text(r.method)} &middot; {_seconds(r)}</span>')
    rows = []
    if r.statement:
        rows.append(("statement", html_prose(r.statement)))
    if r.printed:
        rows.append(("printed", html_math(r.printed)))
    if r.derived:
        rows.append(("derived", html_math(r.derived)))
    for side, tex in residual_sides(r.residual):
        label = f"printed {side} &minus; derived {side}" if side else "residual"
        rows.append((label, html_math(tex)))
    if r.reason and r.status != "verified":
        rows.append(("reason", html_prose(r.reason)))
    tested = [n for n in r.necessity if n.get("verdict") not in (None, "not tested")]
    if tested:
        rows.append(("assumptions", _html_list(
            f"<code>{html_text(n['key'])}</code>: {html_text(n['verdict'])}"
            + (f" &mdash; {html_text(n['note'])}" if n.get("note") else "") for n in tested)))
    elif r.assumptions:
        rows.append(("assumptions", _html_list(html_prose(a) for a in r.assumptions)))
    if r.detail and r.detail not in (r.statement, r.reason):
        rows.append(("detail", f"<details><summary>show</summary>{html_text(r.detail)}</details>"))
    colour = STATUS_COLOURS.get(r.status, "#616161")
    return (f'<div class="symmag symmag-result symmag-{html.escape(r.status)}" '
            f'style="{_CARD.format(colour=colour)}"><div>{head}</div>{_html_rows(rows)}</div>')


# -- Derivation and tables -------------------------------------------------------------------
def _title(d: Derivation) -> str:
    return f"{d.title} (Sec. {d.section})" if d.section else d.title


def derivation_latex(d: Derivation) -> str:
    """``Derivation._repr_latex_``: one row a declared step (nothing is run)."""
    rows = [(tex_text(_title(d), "textbf"), tex_text(f"{d.name}: {len(d.steps)} steps, not run"))]
    for st in d.steps:
        what = st.statement or st.why
        rows.append((tex_text(_label(st.equation, st.id), "texttt"),
                     tex_text(st.kind + (", erratum expected" if st.erratum else ""))
                     + (r"\text{: }" + tex_prose(what) if what else "")))
    return _latex_rows(rows)


def derivation_html(d: Derivation) -> str:
    """``Derivation._repr_html_``: a table of the declared steps (nothing is run)."""
    head = (f"<b>{html_text(_title(d))}</b> &middot; <code>{html_text(d.name)}</code> &middot; "
            f'{len(d.steps)} steps <span style="opacity:0.7">(declared, not run: '
            "<code>symmag.checking.notebook.table(derivation.run())</code> checks them)</span>")
    rows = []
    for st in d.steps:
        kind = html.escape(st.kind) + ("<br>erratum expected" if st.erratum else "")
        rows.append([html_text(st.equation or ""), f"<code>{html_text(st.id)}</code>", kind,
                     html_prose(st.statement or st.why),
                     ", ".join(f"<code>{html_text(a.key)}</code>" for a in st.assumes)])
    return (f'<div class="symmag symmag-derivation"><div>{head}</div>'
            + _grid(["eq.", "step", "kind", "statement", "assumes"], rows) + "</div>")


def _grid(header: list[str], rows: list[list[str]]) -> str:
    th = "".join(f'<th style="{_CELL}">{h}</th>' for h in header)
    body = "".join("<tr>" + "".join(f'<td style="{_CELL}">{c}</td>' for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


class ResultTable:
    """A status table of step results (``table(derivation.run())``): one row a step with its
    status, method, time, statement -- or, when it is not verified, its reason -- and the
    residual printed - derived of errata, mismatches and failures."""

    def __init__(self, results: Iterable[StepResult]):
        self.results = list(results)

    def counts(self) -> dict[str, int]:
        """Steps per status, in the order of ``STATUS_COLOURS``, omitting absent ones."""
        seen = [r.status for r in self.results]
        order = list(STATUS_COLOURS) + sorted(set(seen) - set(STATUS_COLOURS))
        return {s: seen.count(s) for s in order if s in seen}

    def _summary(self) -> str:
        return ", ".join(f"{n} {s}" for s, n in self.counts().items())

    def _what(self, r: StepResult) -> str:
        return r.statement if r.status in ("verified", "definition") or not r.reason else r.reason

    def _repr_html_(self) -> str:
        rows = []
        for r in self.results:
            res = "".join(html_math(rf"\text{{{side}: }}{tex}" if side else tex)
                          for side, tex in residual_sides(r.residual))
            rows.append([html_text(r.equation or ""), f"<code>{html_text(r.id)}</code>", badge(r.status),
                         html_text(r.method), f"{r.seconds:.2f}", html_prose(self._what(r)), res])
        total = sum(r.seconds for r in self.results)
        head = f"<b>{len(self.results)} steps</b>: {html.escape(self._summary())} ({total:.2f} s)"
        return (f'<div class="symmag symmag-table"><div>{head}</div>'
                + _grid(["eq.", "step", "status", "method", "s", "statement / reason",
                         "printed &minus; derived"], rows) + "</div>")

    def _repr_latex_(self) -> str:
        rows = [(tex_text(f"{len(self.results)} steps", "textbf"), tex_text(self._summary()))]
        for r in self.results:
            rows.append((tex_text(_label(r.equation, r.id), "texttt"),
                         tex_text(r.status, "textbf") + tex_text(f" ({r.method}): ")
                         + tex_prose(self._what(r))))
        return _latex_rows(rows)

    def __repr__(self) -> str:
        lines = [f"{len(self.results)} steps: {self._summary()}"]
        lines += [f"  {r.status:<10} {_label(r.equation, r.id)}" for r in self.results]
        return "\n".join(lines)


def table(results: Iterable[StepResult]) -> ResultTable:
    """A status table of ``StepResult`` s for a notebook, e.g. ``table(DERIVATION.run())``."""
    return ResultTable(results)
