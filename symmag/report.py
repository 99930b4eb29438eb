"""LaTeX/PDF report of a checked derivation (``symmag report``).

Records of ``symmag check`` (``StepResult.as_dict``) go through a Jinja2 template with
LaTeX-safe delimiters (``templates/report.tex.j2``: ``((( var )))``, ``((* block *))``)
into one ``.tex`` file: a summary table per section, then every step with its equation
number, status, method, assumptions, the derived equation and, for errata, the printed
form beside it with the residual and the reason.  The output holds no timestamps or
timings, so two runs give byte-identical files.  ``compile_pdf`` runs ``latexmk -pdf``
and reports LaTeX errors with the offending source line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .derivation import METHODS, STATUSES, Derivation
from .errors import SymmagInputError

#: LaTeX longer than this is not typeset (it would shrink past reading); the JSON has it
MAX_LATEX = 2500
TEX_PACKAGES = "texlive-latex-base texlive-latex-recommended latexmk"


@dataclass(frozen=True)
class Figure:
    """A figure file (relative to the report) and its LaTeX caption."""

    label: str
    path: str
    caption: str


@dataclass
class Section:
    title: str
    section: str
    name: str
    steps: list[dict] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATUSES}
        for r in self.steps:
            out[r["status"]] += 1
        return out


# -- text and mathematics -------------------------------------------------------------------
_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
            "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}

#: names in the derivations' plain-text statements, typeset as the paper writes them
_TEXT_MATH = {
    "lambdabar46": r"\bar\lambda_0^{(46)}", "lambdabar49": r"\bar\lambda_0^{(49)}",
    "lambdabar0": r"\bar\lambda_0", "lambda0": r"\lambda_0", "alpha0": r"\alpha_0",
    "omega0": r"\omega_0", "lambda": r"\lambda", "alpha": r"\alpha", "gamma_tot": r"\gamma_{\mathrm{tot}}",
    "|gamma|": r"|\gamma|", "gamma": r"\gamma", "kappa_+-": r"\kappa_\pm", "kappa_pm": r"\kappa_\pm",
    "kappa_+": r"\kappa_+", "kappa_-": r"\kappa_-", "kappa": r"\kappa", "hbar": r"\hbar",
    "omega": r"\omega", "taubar": r"\bar\tau", "tau": r"\tau", "mu": r"\mu", "beta": r"\beta",
    "rho0": r"\hat\rho_0", "rho": r"\hat\rho", "H_eff": r"\vec H_{\mathrm{eff}}",
    "H_ext": r"H_{\mathrm{ext}}", "dH_eff": r"d\vec H_{\mathrm{eff}}", "dH_ext": r"dH_{\mathrm{ext}}",
    "H_r^d": r"\vec H_r^d", "H_r^n": r"\vec H_r^n", "H_z": r"H_z", "M_z": r"M_z", "M_p": r"M_p",
    "M_x": r"M_x", "M_y": r"M_y", "M0": r"\hat M_0", "M_I,d": r"\hat M_{I,d}", "M_I,n": r"\hat M_{I,n}",
    "M_I": r"\hat M_I", "D_I": r"\hat D_I", "H_I": r"\hat H_I", "H_0": r"\hat H_0", "I0": r"\hat I_0",
    "R0": r"\vec R_0", "S_i": r"\hat S_i", "G^{ab}": r"G^{ab}", "epsilon": r"\epsilon",
    "delta": r"\delta", "phi": r"\phi", "Omega": r"\Omega", "drho_dt": r"d\hat\rho/dt",
}
_SCRIPT = r"(?:[_^](?:\{[^{}]*\}|[A-Za-z0-9+\-]+))"
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_])(" + "|".join(re.escape(k) for k in sorted(_TEXT_MATH, key=len, reverse=True))
    + r")(?:\^(\d+|[a-z]|\{[^}]*\}))?(?![A-Za-z0-9_])"
    r"|(?<=[A-Z0-9)\]] )x(?= [A-Z(d])"  # the cross product in "M x H_eff", "M x dM/dt", not "at x = 0"
    r"|(?<![A-Za-z0-9_\\])([A-Za-z]+[0-9]*)(" + _SCRIPT + r"+)(?![A-Za-z0-9_])"  # S_j^b, sum_{i != j}
)
_UNSAFE_IN_MATH = set("&%#$~\\")
_WORDS = {"sum": r"\sum", "prod": r"\prod", "delta": r"\delta", "epsilon": r"\epsilon", "Omega": r"\Omega"}


def _scripts(text: str) -> str:
    out = []
    for m in re.finditer(_SCRIPT, text):
        body = m.group(0)[1:].strip("{}").replace("!=", r"\neq ").replace("<=", r"\le ")
        out.append(m.group(0)[0] + "{" + body + "}")
    return "".join(out)


def _escape(s: str) -> str:
    return "".join(_SPECIAL.get(c, c) for c in s)


def tex_text(s: str | None) -> str:
    """Plain text of a statement or reason as LaTeX: special characters escaped, the
    derivations' ASCII names (lambda0, M0, H_eff, ...) typeset as the paper writes them."""
    if not s:
        return ""
    out, pos = [], 0
    for m in _TOKEN.finditer(s):
        out.append(_escape(s[pos:m.start()]))
        if m.group(3) is not None and m.group(4).count("_") > 1:  # a Python name, e.g. llg_rsi_extra
            out.append(r"\texttt{" + _escape(m.group(0)) + "}")
        elif set(m.group(0)) & _UNSAFE_IN_MATH:  # e.g. x_{i & j}: not mathematics, keep it text
            out.append(_escape(m.group(0)))
        elif m.group(3) is not None:
            base = _WORDS.get(m.group(3)) or _TEXT_MATH.get(m.group(3)) or m.group(3)
            out.append("$" + base + _scripts(m.group(4)) + "$")
        elif m.group(1) is None:
            out.append(r"$\times$")
        else:
            sup = m.group(2)
            base = _TEXT_MATH[m.group(1)]
            if sup is not None and "^" in base:  # lambdabar46^2: a power of a superscripted name
                base = r"\left(" + base + r"\right)"  # TeX unwraps a braced single atom
            sup = "" if sup is None else "^{" + sup.strip("{}") + "}"
            out.append("$" + base + sup + "$")
        pos = m.end()
    out.append(_escape(s[pos:]))
    return "".join(out)


def _split_top(s: str, sep: str) -> list[str]:
    """``s`` split at the occurrences of ``sep`` outside every {...} and \\left...\\right."""
    depth, parts, start, i = 0, [], 0, 0
    while i < len(s):
        if s.startswith(r"\left", i) and not s[i + 5:i + 6].isalpha():  # not \leftarrow
            depth, i = depth + 1, i + 5
            continue
        if s.startswith(r"\right", i) and not s[i + 6:i + 7].isalpha():  # not \rightarrow
            depth, i = depth - 1, i + 6
            continue
        if s[i] == "{":
            depth += 1
        elif s[i] == "}":
            depth -= 1
        elif depth == 0 and s.startswith(sep, i):
            parts.append(s[start:i])
            start = i + len(sep)
            i = start
            continue
        i += 1
    parts.append(s[start:])
    return parts


def _components(side: str) -> list[str]:
    """The entries of a (nested) tuple \\left(a, b\\right), flattened; [side] otherwise."""
    side = side.strip()
    if side.startswith(r"\left(") and side.endswith(r"\right)"):
        inner = side[len(r"\left("):-len(r"\right)")]
        if len(_split_top(inner, r"\right")) == 1 and inner.count(r"\left") == inner.count(r"\right"):
            return [c for part in _split_top(inner, ",") for c in _components(part)]
    return [side]


def tex_rows(s: str | None) -> list[str]:
    """A formula as rows to typeset one per line: a relation between tuples becomes one
    relation per component ("l_i = r_i"), a residual one row per component; rows too long
    to read are dropped (the caller says so)."""
    if not s:
        return []
    sides = _split_top(s, " = ")
    if len(sides) == 2:
        lhs, rhs = _components(sides[0]), _components(sides[1])
        rows = [f"{a} = {b}" for a, b in zip(lhs, rhs)] if len(lhs) == len(rhs) > 1 else [s]
    else:
        rows = [r.strip() for r in _split_top(s, r",\quad") if r.strip()]
    return rows if all(len(r) <= MAX_LATEX for r in rows) else []


def tex_residual(s: str | None) -> str | None:
    """The residual of an erratum ("printed rhs - derived rhs = ...; ...") as one formula."""
    if not s:
        return None
    s = re.sub(r"printed (lhs|rhs) - derived (lhs|rhs) = ", lambda m: rf"\text{{{m.group(1)}: }}", s)
    return s.replace("; ", r",\quad ")


#: a derived form longer than this is shown through the (shorter) printed form it agrees with
SHORT_LATEX = 600


# -- building -------------------------------------------------------------------------------
def sections(derivations: Sequence[Derivation], records: Sequence[Mapping]) -> list[Section]:
    """Records grouped by derivation (in the order given), with each step's reading of the
    extraction (from the printed table) attached."""
    by_name = {d.name: Section(d.title, d.section, d.name) for d in derivations}
    readings = {}
    for d in derivations:
        table = d.printed_table() if d.printed_table is not None else {}
        for s in d.steps:
            entry = table.get(s.printed) if s.printed is not None else None
            readings[s.id] = getattr(entry, "reading", "") or ""
    for r in records:
        if r["derivation"] not in by_name:
            raise SymmagInputError(f"record {r['id']} names unknown derivation {r['derivation']}")
        by_name[r["derivation"]].steps.append({**r, "reading": readings.get(r["id"], "")})
    return list(by_name.values())


def render(secs: Sequence[Section], figures: Sequence[Figure] = (), title: str | None = None) -> str:
    """The report's LaTeX source."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("symmag", "templates"), undefined=StrictUndefined,
        block_start_string="((*", block_end_string="*))", variable_start_string="(((",
        variable_end_string=")))", comment_start_string="((=", comment_end_string="=))",
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False,
    )
    env.filters["text"] = tex_text
    env.filters["verbatim"] = _escape
    # typewriter (ids): cmtt has a real underscore glyph at 95, which pdftotext reads back
    env.filters["tt"] = lambda s: _escape(s).replace(r"\_", r"\char95{}")
    env.filters["label"] = lambda s: re.sub(r"[^A-Za-z0-9:.-]", "-", str(s))
    env.filters["residual"] = tex_residual
    env.filters["rows"] = tex_rows
    totals = {s: sum(sec.counts[s] for sec in secs) for s in STATUSES}
    readings = [(r["equation"] or r["id"], r["reading"]) for sec in secs for r in sec.steps if r["reading"]]
    seen, unique = set(), []
    for key, text in readings:  # one entry per reading (several steps may share a printed form)
        if text not in seen:
            seen.add(text)
            unique.append((key, text))
    return env.get_template("report.tex.j2").render(
        title=title or "Magnetization damping, re-derived by machine",
        sections=secs, statuses=STATUSES, totals=totals, methods=METHODS, figures=figures,
        readings=unique, max_latex=MAX_LATEX, short_latex=SHORT_LATEX,
    )


# -- compiling ------------------------------------------------------------------------------
class LatexError(SymmagInputError):
    """LaTeX stopped; the message names the source line."""


def compile_pdf(tex: Path) -> Path:
    """``latexmk -pdf`` in the file's folder; returns the PDF.  Missing LaTeX or a LaTeX error
    raises a one-line :class:`SymmagInputError` (what to install / the offending line)."""
    if shutil.which("latexmk") is None or shutil.which("pdflatex") is None:
        raise SymmagInputError(f"--pdf needs latexmk and pdflatex; on Debian: apt-get install "
                               f"--no-install-recommends {TEX_PACKAGES}")
    tex = Path(tex).resolve()
    proc = subprocess.run(
        ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
         tex.name], cwd=tex.parent, capture_output=True, text=True, timeout=600)
    log = tex.with_suffix(".log")
    if proc.returncode != 0:
        raise LatexError(latex_error(log.read_text(errors="replace") if log.exists() else proc.stdout,
                                     tex))
    return tex.with_suffix(".pdf")


def latex_error(log: str, tex: Path) -> str:
    """The first error of a LaTeX log ("! message" and its "l.N"), with that source line."""
    m = re.search(r"^! (.*)$(?:\n.*)*?\nl\.(\d+)", log, flags=re.MULTILINE)
    f = re.search(r"^\S*\.tex:(\d+): (.*)$", log, flags=re.MULTILINE)  # -file-line-error form
    if m is None and f is None:
        return f"LaTeX failed on {tex.name} (see {tex.with_suffix('.log').name})"
    if m is None or (f is not None and f.start() < m.start()):
        message, line = f.group(2).strip(), int(f.group(1))
    else:
        message, line = m.group(1).strip(), int(m.group(2))
    source = tex.read_text().splitlines()
    text = source[line - 1].strip() if 0 < line <= len(source) else ""
    if len(text) > 160:
        text = text[:157] + "..."
    return f"LaTeX error in {tex.name}, line {line}: {message} -- {text}"


def log_problems(log: str) -> list[str]:
    """Overfull boxes and undefined references in a LaTeX log (the report has none)."""
    pats = (r"Overfull \\hbox.*", r"LaTeX Warning: Reference .* undefined.*",
            r"LaTeX Warning: There were undefined references.*", r"LaTeX Warning: Citation .* undefined.*")
    return [m.group(0) for p in pats for m in re.finditer(p, log)]
