"""LaTeX/PDF report of a checked derivation (``symmag report``).

Records of ``symmag check`` (``StepResult.as_dict``) go through a Jinja2 template with
LaTeX-safe delimiters (``templates/report.tex.j2``: ``((( var )))``, ``((* block *))``)
into one ``.tex`` file: a summary table per section, then every step with its equation
number, status, method, assumptions, the derived equation and, for errata, the printed
form beside it with the residual and the reason.  The output holds no timestamps or
timings, so two runs give byte-identical files.  ``compile_pdf`` runs ``latexmk -pdf``
and reports LaTeX errors with the offending source line.

What the report is about comes from the modules it reports on, never from this file:

    # mymodule.py -- module-level metadata, all optional
    TITLE = "Spin commutators, re-derived"
    AUTHORS = "A. Author, B. Author"
    SOURCE = "Lecture notes, ch. 2 (2024)"       # the citation line under the title
    ABSTRACT = "What is re-derived and how; $\\alpha$ is typeset."   # opening paragraph
    FIGURES = [("plots/fig1.pdf", "Caption")]    # paths relative to the module file

or one ``DOCUMENT = Document(title=..., authors=..., source=..., abstract=...,
figures=..., readings=...)``.  A module without metadata inherits its package's (so the
paper's modules share ``derivations/__init__.py``'s ``DOCUMENT``); without any, the title is
the derivations' own.  A ``Derivation.section`` may be empty: its heading is then the title
alone.  Statements, titles, reasons and metadata are text in which ``$...$`` is typeset
mathematics, passed through as written; outside it special characters are escaped and the
derivations' ASCII names (lambda0, M0, H_eff, <D_I>, ...) typeset as the paper writes them.

Formulas are laid out, never shrunk: a relation between 3-vectors with short entries is one
vector equation, a 3x3 table one matrix equation; longer ones one component per line, and a
line too long for the page is broken at its top-level + and - signs (opening parentheses
and fractions that are too wide).  A relation whose two sides print the same is shown once,
as what both sides reduce to.  An assumption shared by most steps of a section is stated
once under the section heading; each step lists only what it adds.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..checking.derivation import METHODS, STATUSES, Derivation, Printed
from ..errors import SymmagInputError

#: a verified derived form longer than this (LaTeX characters, e.g. a generic interaction's
#: 350 000) is shown through the printed form it agrees with; errata always show it
LONG_LATEX = 12000
TEX_PACKAGES = "texlive-latex-base texlive-latex-recommended latexmk"


@dataclass(frozen=True)
class Figure:
    """A figure file (relative to the report, or absolute) and its LaTeX caption."""

    label: str
    path: str
    caption: str


@dataclass(frozen=True)
class Document:
    """What a report is about: its title page and opening paragraph (text with ``$...$``
    mathematics), the module's own figures, and how readings of the source are introduced."""

    title: str = ""
    authors: str = ""
    source: str = ""
    abstract: str = ""
    figures: tuple[Figure, ...] = ()
    #: the sentence that opens the list of readings (how the source's text was read)
    readings: str = "Where the source leaves a reading open, the derivation records the one it takes."


@dataclass
class Section:
    title: str
    section: str
    name: str
    steps: list[dict] = field(default_factory=list)
    #: the module's metadata (None: none found)
    document: Document | None = None
    #: assumptions stated once for the section (each step lists only the others)
    common: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATUSES}
        for r in self.steps:
            out[r["status"]] += 1
        return out


# -- metadata --------------------------------------------------------------------------------
_META = {"TITLE": "title", "AUTHORS": "authors", "SOURCE": "source", "ABSTRACT": "abstract"}


def _document_in(namespace: Mapping, origin: Path | None) -> Document | None:
    doc = namespace.get("DOCUMENT")
    if isinstance(doc, Document):
        return doc
    if isinstance(doc, Mapping):
        return Document(**doc)
    fields = {f: str(namespace[k]) for k, f in _META.items() if isinstance(namespace.get(k), str)}
    figures = []
    for n, fig in enumerate(namespace.get("FIGURES") or ()):
        if isinstance(fig, Figure):
            figures.append(fig)
            continue
        path, caption = fig
        path = Path(path)
        if origin is not None and not path.is_absolute():
            path = origin.parent / path
        figures.append(Figure(f"module-{n + 1}", path.resolve().as_posix(), tex_text(str(caption))))
    if not fields and not figures:
        return None
    return Document(**fields, figures=tuple(figures))


def _module_of(d: Derivation) -> tuple[Mapping, Path | None] | None:
    """The namespace (and file) of the module that defines ``d``: a module holding it as
    DERIVATION/DERIVATIONS, else the globals of its steps' claim functions (a module file
    imported by path is not in sys.modules)."""
    for module in list(sys.modules.values()):
        found = getattr(module, "__dict__", {})
        held = found.get("DERIVATION") is d or any(x is d for x in (found.get("DERIVATIONS") or ())
                                                   if isinstance(x, Derivation))
        if held:
            origin = found.get("__file__")
            return found, Path(origin) if origin else None
    for s in d.steps:
        g = getattr(s.claim, "__globals__", None)
        if isinstance(g, dict) and (g.get("DERIVATION") is d or "DERIVATIONS" in g):
            origin = g.get("__file__")
            return g, Path(origin) if origin else None
    return None


def document_of(d: Derivation) -> Document | None:
    """The metadata of the module defining ``d``, or of its package."""
    found = _module_of(d)
    if found is None:
        return None
    namespace, origin = found
    doc = _document_in(namespace, origin)
    package = namespace.get("__package__")
    while doc is None and package:
        parent = sys.modules.get(package)
        if parent is None:
            break
        doc = _document_in(vars(parent), None)
        package = package.rpartition(".")[0]
    return doc


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
_TEXT_MATH.update({
    "DIavg": r"\langle\hat D_I\rangle", "Cavg": r"\tfrac{\lambda}{i\hbar}\langle[\hat M,\hat H_I]\rangle",
    "MhatId": r"\hat M_{I,d}", "MhatIn": r"\hat M_{I,n}", "MhatI": r"\hat M_I", "dMhatI_dt": r"d\hat M_I/dt",
    "DhatI": r"\hat D_I", "lambdabar": r"\bar\lambda", "Ssum": r"\Sigma", "Mhat": r"\hat M",
    "I_0": r"\hat I_0", "H0": r"\hat H_0", "H_int": r"\hat H_{\mathrm{int}}",
    "M_int": r"\hat M_{\mathrm{int}}", "rho_int": r"\hat\rho_{\mathrm{int}}", "Hdr": r"\vec H_r^d",
    "dM_int": r"d\hat M_{\mathrm{int}}", "Texp_plus": r"\mathrm{T}\!\exp_{+}", "dtau": r"d\tau",
})
_SCRIPT = r"(?:[_^](?:\{[^{}]*\}|[A-Za-z0-9+\-]+))"
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_])(" + "|".join(re.escape(k) for k in sorted(_TEXT_MATH, key=len, reverse=True))
    + r")(?:\^(\d+|[a-z]|\{[^}]*\}))?(?![A-Za-z0-9_])"
    r"|(?<=[A-Z0-9)\]] )x(?= [A-Z(d])"  # the cross product in "M x H_eff", "M x dM/dt", not "at x = 0"
    r"|(?<![A-Za-z0-9_\\])([A-Za-z]+[0-9]*)(" + _SCRIPT + r"+)(?![A-Za-z0-9_])"  # S_j^b, sum_{i != j}
)
_UNSAFE_IN_MATH = set("&%#$~\\")
_WORDS = {"sum": r"\sum", "prod": r"\prod", "int": r"\int", "delta": r"\delta", "epsilon": r"\epsilon",
          "Omega": r"\Omega"}


def _scripts(text: str) -> str:
    out = []
    for m in re.finditer(_SCRIPT, text):
        body = m.group(0)[1:].strip("{}").replace("!=", r"\neq ").replace("<=", r"\le ")
        out.append(m.group(0)[0] + "{" + body + "}")
    return "".join(out)


def _escape(s: str) -> str:
    return "".join(_SPECIAL.get(c, c) for c in s)


def _plain_text(s: str | None) -> str:
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


#: LaTeX commands a statement may write outside $...$ (typeset as mathematics)
_MATH_COMMANDS = frozenset(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi "
    "rho sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi "
    "Omega hbar ell partial nabla infty times cdot pm mp le ge neq approx sim propto to dagger "
    "langle rangle sum prod int".split())
#: names of the derivations' own (not the paper's) that a reading may define: such a
#: clause of a reading is left out, the report shows the paper's notation throughout
INTERNAL_NAMES = ("DIavg", "Cavg", "Ssum")
_SUP = r"(?:\^(?:\{[^{}]*\}|-?\d+|dagger|[A-Za-z](?![A-Za-z])))"
_PRE = re.compile(
    r"(?<!\\)\$(?P<math>[^$]+)(?<!\\)\$"  # $...$: mathematics as written
    r"|\\(?P<cmd>[A-Za-z]+)"  # \alpha outside $...$
    r"|<(?=[^\s<>=])(?P<avg>[^<>\n]{1,60}?)(?<=[^\s<>=-])>(?P<avgsup>" + _SUP + r"|_(?:\{[^{}]*\}|\d))?"
    r"|(?<!\|)\|(?P<norm>[A-Za-z]+[0-9]*)\|(?P<normsup>" + _SUP + r")?"  # |M|^2
    r"|(?<=[)|\]])(?P<sup>" + _SUP + r")"  # (1 + x)^-1, U^dagger
    r"|(?<= )(?P<rel>->|!=|<=|>=|\.)(?= )"
    # a Python name with its module path (symmag.algebra.expectation.paper_G3): code, not mathematics
    r"|(?<![\w.])(?P<code>(?:symmag|derivations|sympy|numpy|scipy|qutip)(?:\.[A-Za-z_]\w*)+)"
)
_REL = {"->": r"\to", "!=": r"\neq", "<=": r"\le", ">=": r"\ge", ".": r"\cdot"}


def _braces_balanced(s: str) -> bool:
    depth = 0
    for i, c in enumerate(s):
        if c in "{}" and i and s[i - 1] == "\\":
            continue
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth < 0:
            return False
    return depth == 0


def _sup_tex(sup: str) -> str:
    body = sup[1:].strip("{}")
    return "^{" + (r"\dagger" if body == "dagger" else body) + "}"


def tex_text(s: str | None) -> str:
    """Text of a statement, title, reason or metadata as LaTeX: ``$...$`` is mathematics,
    passed through; elsewhere special characters are escaped, a LaTeX command such as
    ``\\alpha`` typeset, ``<A>`` as an average, and the derivations' ASCII names (lambda0,
    M0, H_eff, ...) as the paper writes them."""
    if not s:
        return ""
    out, pos = [], 0
    for m in _PRE.finditer(s):
        out.append(_plain_text(s[pos:m.start()]))
        if m["math"] is not None:
            ok = _braces_balanced(m["math"]) and "\n\n" not in m["math"]
            out.append("$" + m["math"] + "$" if ok else _escape(m.group(0)))
        elif m["cmd"] is not None:
            out.append(f"$\\{m['cmd']}$" if m["cmd"] in _MATH_COMMANDS else _escape(m.group(0)))
        elif m["avg"] is not None:
            tail = m["avgsup"] or ""
            if tail:
                script = _sup_tex(tail) if tail.startswith("^") else "_{" + tail[1:].strip("{}") + "}"
                tail = "$" + script + "$"
            out.append(r"$\langle$" + _plain_text(m["avg"]) + r"$\rangle$" + tail)
        elif m["norm"] is not None:
            name = _TEXT_MATH.get(m["norm"], m["norm"])
            out.append(f"$|{name}|" + (_sup_tex(m["normsup"]) if m["normsup"] else "") + "$")
        elif m["sup"] is not None:
            out.append("$" + _sup_tex(m["sup"]) + "$")
        elif m["code"] is not None:
            out.append(r"\texttt{" + _escape(m["code"]).replace(".", r".\allowbreak{}") + "}")  # may break
        else:
            out.append("$" + _REL[m["rel"]] + "$")
        pos = m.end()
    out.append(_plain_text(s[pos:]))
    return re.sub(r"(?<!\\)\$\$", "", "".join(out))  # adjacent formulas: one formula


def reading_text(s: str | None) -> str:
    """A reading of the source without what only explains internal names (the report shows
    the paper's notation): clauses "NAME = ..." and the lead "NAME_a stands for ...:"."""
    if not s:
        return ""
    names = "|".join(INTERNAL_NAMES)
    keep = [c for c in s.split("; ") if not re.match(r"\s*(" + names + r") = ", c)]
    text = "; ".join(keep).strip()
    text = re.sub(r"^\s*(?:" + names + r")\w* stands for [^:;]*: ", "", text)
    return text[:1].upper() + text[1:] if text else text


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


#: the width of a formula line, in the estimate of :func:`tex_width` (about one letter of
#: mathematics each; the text width holds about 85 of them: the rest is the estimate's margin)
LINE_UNITS = 64
#: an entry of a vector or matrix equation set on one line is at most this wide
ENTRY_UNITS = 16
_ACCENTS = ("hat", "bar", "vec", "dot", "ddot", "tilde", "mathbf", "boldsymbol", "mathcal")
_TEXTLIKE = ("mathrm", "text", "operatorname", "textit", "mathit")
_SPACES = {"quad": 2.0, "qquad": 4.0, ",": 0.3, ";": 0.5, ":": 0.4, "!": 0.0, " ": 0.5}
_DELIMS = ("\\{", "\\}", "\\langle", "\\rangle", "\\lvert", "\\rvert", "\\|", "(", ")", "[", "]", "|", ".")


def _group(s: str, i: int) -> int:
    """Index after the {...} group opening at s[i] (or after the single token there)."""
    if i >= len(s):
        return i
    if s[i] != "{":
        if s[i] == "\\":
            m = re.match(r"\\(?:[A-Za-z]+|.)", s[i:])
            return i + (len(m.group(0)) if m else 1)
        return i + 1
    depth = 0
    for j in range(i, len(s)):
        if s[j] == "\\":
            continue
        if s[j] == "{" and (j == 0 or s[j - 1] != "\\"):
            depth += 1
        elif s[j] == "}" and (j == 0 or s[j - 1] != "\\"):
            depth -= 1
            if depth == 0:
                return j + 1
    return len(s)


def _delim(s: str, i: int) -> int:
    for d in _DELIMS:
        if s.startswith(d, i):
            return i + len(d)
    return i


def _right_end(s: str, i: int) -> tuple[int, int]:
    """For the \\left at s[i]: (index of its matching \\right, index after that delimiter)."""
    depth, j = 0, i
    while j < len(s):
        if s.startswith(r"\left", j) and not s[j + 5:j + 6].isalpha():
            depth += 1
            j += 5
            continue
        if s.startswith(r"\right", j) and not s[j + 6:j + 7].isalpha():
            depth -= 1
            if depth == 0:
                return j, _delim(s, j + 6)
            j += 6
            continue
        if s[j] == "{":
            j = _group(s, j)
            continue
        j += 1
    return len(s), len(s)


def tex_width(s: str) -> float:
    """Rough width of LaTeX mathematics, in letters (fractions as their wider part,
    scripts smaller): enough to decide where to break a line."""
    w, i, n = 0.0, 0, len(s)
    while i < n:
        c = s[i]
        if c == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", s[i:])
            if m is None:
                break
            name = m.group(1)
            i += len(m.group(0))
            if name in ("frac", "tfrac", "dfrac"):
                j = _group(s, i)
                k = _group(s, j)
                scale = 0.75 if name == "tfrac" else 1.0
                w += scale * max(tex_width(s[i + 1:j - 1]), tex_width(s[j + 1:k - 1])) + 0.4
                i = k
            elif name in ("left", "right", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr"):
                j = _delim(s, i)
                w += 0.6
                i = max(j, i)
            elif name in _ACCENTS:
                j = _group(s, i)
                w += tex_width(s[i:j].strip("{}") if s[i:i + 1] == "{" else s[i:j])
                i = j
            elif name in _TEXTLIKE:
                j = _group(s, i)
                w += 0.75 * len(re.sub(r"\\[A-Za-z]+|[{}$]", "", s[i:j]))
                i = j
            elif name in _SPACES:
                w += _SPACES[name]
            elif name in ("begin", "end"):
                i = _group(s, i)
            elif name in ("sum", "prod", "int"):
                w += 1.6
            else:
                w += 1.1
        elif c in "^_":
            j = _group(s, i + 1)
            w += 0.7 * tex_width(s[i + 1:j].strip("{}") if s[i + 1:i + 2] == "{" else s[i + 1:j])
            i = j
        elif c in "{} &":
            i += 1
        elif c in "+-=<>":
            w += 2.0
            i += 1
        elif c in ",;()[]|'.":
            w += 0.6
            i += 1
        else:
            w += 1.05 if c.isupper() else 0.9
            i += 1
    return w


def _top_terms(s: str) -> list[str]:
    """``s`` cut before every top-level binary + and - (outside {...} and \\left...\\right)."""
    cuts, depth, i = [], 0, 0
    while i < len(s):
        if s.startswith(r"\left", i) and not s[i + 5:i + 6].isalpha():
            depth, i = depth + 1, i + 5
            continue
        if s.startswith(r"\right", i) and not s[i + 6:i + 7].isalpha():
            depth, i = depth - 1, i + 6
            continue
        c = s[i]
        if c == "\\":
            i = _group(s, i)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif depth == 0 and c in "+-" and i > 0 and s[i - 1] == " " and s[i + 1:i + 2] == " " \
                and s[:i].strip() and not s[:i].rstrip().endswith(("=", "(", ",", r"\quad", ":")):
            cuts.append(i)
        i += 1
    parts, start = [], 0
    for c in cuts:
        parts.append(s[start:c].strip())
        start = c
    parts.append(s[start:].strip())
    return [p for p in parts if p]


def _big(inner: str) -> str:
    return "Bigg" if inner.count(r"\frac") > 1 and "frac{" in inner and re.search(
        r"\\frac\{[^{}]*\\frac", inner) else ("Big" if r"\frac" in inner else "big")


def _top_groups(t: str) -> list[tuple[int, int, str, int, int]]:
    """Top-level \\left...\\right groups and \\frac's of a term: (start, end, kind, a, b) with
    the inner text t[a:b] (a fraction's numerator)."""
    out, i = [], 0
    while i < len(t):
        if t.startswith(r"\left", i) and not t[i + 5:i + 6].isalpha():
            a = _delim(t, i + 5)
            r, end = _right_end(t, i)
            out.append((i, end, "left", a, r))
            i = end
            continue
        if t.startswith(r"\frac", i) or t.startswith(r"\dfrac", i):
            j = t.index("{", i)
            k = _group(t, j)
            end = _group(t, k)
            out.append((i, end, "frac", j + 1, k - 1))
            i = end
            continue
        if t[i] == "\\":
            i = _group(t, i)
            continue
        if t[i] == "{":
            i = _group(t, i)
            continue
        i += 1
    return out


def tex_pieces(s: str, width: float = LINE_UNITS) -> list[str]:
    """``s`` as fragments to set on successive lines (each at most ``width`` where a break
    exists): cut at top-level + and -, a too-wide parenthesis or numerator opened into
    fixed-size delimiters (\\Bigl( ... \\Bigr)) and cut inside."""
    out: list[str] = []
    for t in _top_terms(s):
        if tex_width(t) <= width:
            out.append(t)
            continue
        groups = [g for g in _top_groups(t) if tex_width(t[g[3]:g[4]]) > width / 3]
        if not groups:
            out.append(t)
            continue
        start, end, kind, a, b = max(groups, key=lambda g: tex_width(t[g[3]:g[4]]))
        inner = t[a:b]
        size = _big(inner)
        if kind == "left":
            opening, closing = t[start + 5:a], t[b + 6:end]
            opening = {r"\{": r"\{", ".": "."}.get(opening, opening)
            head, tail = t[:start] + f"\\{size}l{opening}", f"\\{size}r{closing}" + t[end:]
        else:
            k = _group(t, b + 1)
            head = t[:start] + r"\frac{1}{" + t[b + 2:k - 1] + "}\\" + size + "l("
            tail = "\\" + size + "r)" + t[end:]
        inner_pieces = tex_pieces(inner, width)
        inner_pieces[0] = head + " " + inner_pieces[0]
        inner_pieces[-1] = inner_pieces[-1] + " " + tail
        out += inner_pieces
    return out


def _lines(pieces: list[str], width: float) -> list[str]:
    lines: list[str] = []
    for p in pieces:
        if lines and tex_width(lines[-1] + " " + p) <= width:
            lines[-1] += " " + p
        else:
            lines.append(p)
    return lines


def _tuple_items(side: str) -> list[str] | None:
    """The entries of a tuple \\left(a, b\\right), or None when ``side`` is no tuple."""
    side = side.strip()
    if side.startswith(r"\left(") and side.endswith(r"\right)"):
        r, end = _right_end(side, 0)
        if end == len(side):
            items = [x.strip() for x in _split_top(side[len(r"\left("):r], ", ")]
            if len(items) > 1:
                return items
    return None


def _matrix(items: list[str]) -> tuple[list[list[str]], bool] | None:
    """A tuple as matrix rows: nested tuples of one length are the rows of a table,
    flat entries one column; None when nested unevenly."""
    nested = [_tuple_items(x) for x in items]
    if all(n is None for n in nested):
        return [[x] for x in items], False
    if all(n is not None for n in nested) and len({len(n) for n in nested}) == 1:
        if any(_tuple_items(e) is not None for n in nested for e in n):
            return None
        return nested, True
    return None


def _entry_ok(e: str) -> bool:
    """Short enough for a vector or matrix entry, and no fraction (a matrix sets its
    entries in text style: a fraction there would drop two sizes below the body font)."""
    return tex_width(e) <= ENTRY_UNITS and r"\frac" not in e


def _pmatrix(rows: list[list[str]]) -> str:
    return r"\begin{pmatrix}" + r" \\ ".join(" & ".join(r) for r in rows) + r"\end{pmatrix}"


def _flat(items: list[str]) -> list[str]:
    out = []
    for x in items:
        inner = _tuple_items(x)
        out += _flat(inner) if inner is not None else [x]
    return out


def _relation(s: str) -> tuple[str, str, str] | None:
    for rel in (" = ", r" \parallel "):
        sides = _split_top(s, rel)
        if len(sides) == 2:
            return sides[0].strip(), rel.strip(), sides[1].strip()
    return None


@dataclass
class Shown:
    """A formula as set: its label and the display-math lines (each row's first line and
    its continuation lines)."""

    label: str
    rows: list[list[str]]
    matrix: str | None = None


def _set_row(row: str, width: float) -> list[str]:
    rel = _relation(row)
    if rel is None:
        return _lines(tex_pieces(row, width), width)
    lhs, op, rhs = rel
    pieces = tex_pieces(lhs, width)
    pieces[-1] += f" {op}"
    return _lines(pieces + tex_pieces(rhs, width), width)


def shown(label: str, latex: str | None, width: float = LINE_UNITS) -> Shown | None:
    """How a formula is set (see the module docstring): a vector or matrix equation when its
    entries are short, else one component per row; long rows broken over several lines; a
    relation whose sides are the same, once ("both sides reduce to")."""
    if not latex:
        return None
    rows = [r.strip() for r in _split_top(latex, r",\quad") if r.strip()]
    if len(rows) == 1 and (rel := _relation(rows[0])) is not None:
        lhs, op, rhs = rel
        li, ri = _tuple_items(lhs), _tuple_items(rhs)
        if lhs == rhs:
            label = f"{label}: both sides reduce to" if label else "both sides reduce to"
            items = li
            if items is None:
                return Shown(label, [_set_row(lhs, width)])
            mat = _matrix(items)
            if mat is not None and all(_entry_ok(e) for r in mat[0] for e in r):
                return Shown(label, [], _pmatrix(mat[0]))
            return Shown(label, [_set_row(x, width) for x in _flat(items)])
        if li is not None and ri is not None and len(li) == len(ri):
            ml, mr = _matrix(li), _matrix(ri)
            if ml is not None and mr is not None and len(ml[0][0]) == len(mr[0][0]):
                entries = [e for r in ml[0] + mr[0] for e in r]
                if all(_entry_ok(e) for e in entries):
                    text = f"{_pmatrix(ml[0])} {op} {_pmatrix(mr[0])}"
                    if tex_width(text) <= width:
                        return Shown(label, [], text)
            fl, fr = _flat(li), _flat(ri)
            if len(fl) == len(fr):
                out = []
                for a, b in zip(fl, fr):
                    row = f"{a} {op} {b}" if a != b else a + r" \quad\text{(both sides)}"
                    out.append(_set_row(row, width))
                return Shown(label, out)
    return Shown(label, [_set_row(r, width) for r in rows])


def tex_formula(label: str, latex: str | None) -> str:
    """The LaTeX of a labelled formula: the label, then one ``align*`` (rows left-aligned,
    continuation lines indented) or a single centred vector/matrix equation."""
    s = shown(label, latex)
    if s is None:
        return ""
    head = r"\formulalabel{" + s.label + "}\n" if s.label else ""
    if s.matrix is not None:
        return head + r"\[" + s.matrix + r"\]" + "\n"
    lines = []
    for row in s.rows:
        lines.append("&" + row[0])
        lines += [r"&\qquad " + c for c in row[1:]]
    return head + "\\begin{align*}\n" + "\\\\\n".join(lines) + "\n\\end{align*}\n"


def tex_residual(s: str | None) -> str | None:
    """The residual of an erratum ("printed rhs - derived rhs = ...; ...") as one formula."""
    if not s:
        return None
    s = re.sub(r"printed (lhs|rhs) - derived (lhs|rhs) = ", lambda m: rf"\text{{{m.group(1)}: }}", s)
    return s.replace("; ", r",\quad ")


# -- building -------------------------------------------------------------------------------
#: an assumption of at least this share of a section's steps (and of two) is stated once
COMMON_SHARE = 0.5


def _common_assumptions(steps: list[dict]) -> list[str]:
    counts: dict[str, int] = {}
    for r in steps:
        for a in dict.fromkeys(r["assumptions"]):
            counts[a] = counts.get(a, 0) + 1
    return [a for a, n in counts.items() if n >= 2 and n >= COMMON_SHARE * len(steps)]


def sections(derivations: Sequence[Derivation], records: Sequence[Mapping]) -> list[Section]:
    """Records grouped by derivation (in the order given), with each step's reading of the
    source (from the printed table), its module's metadata and the section's shared
    assumptions attached."""
    by_name = {d.name: Section(d.title, d.section, d.name, document=document_of(d)) for d in derivations}
    readings = {}
    for d in derivations:
        table = d.printed_table() if d.printed_table is not None else {}
        for s in d.steps:
            entry = s.printed if isinstance(s.printed, Printed) else (
                table.get(s.printed) if s.printed is not None else None)
            readings[s.id] = reading_text(getattr(entry, "reading", "") or "")
    for r in records:
        if r["derivation"] not in by_name:
            raise SymmagInputError(f"record {r['id']} names unknown derivation {r['derivation']}")
        by_name[r["derivation"]].steps.append({**r, "reading": readings.get(r["id"], "")})
    for sec in by_name.values():
        sec.common = _common_assumptions(sec.steps)
        for r in sec.steps:
            r["own_assumptions"] = [a for a in r["assumptions"] if a not in sec.common]
            r["not_assumed"] = ([a for a in sec.common if a not in r["assumptions"]]
                                if r["status"] not in ("definition", "unchecked") else [])
    return list(by_name.values())


def _document(secs: Sequence[Section], title: str | None) -> Document:
    found = [s.document for s in secs if s.document is not None]
    doc = found[0] if found else Document()
    if not doc.title:
        titles = list(dict.fromkeys(s.title for s in secs))
        doc = Document(**{**vars(doc), "title": titles[0] if len(titles) == 1 else "Derivations, re-derived"})
    if title:
        doc = Document(**{**vars(doc), "title": title})
    return doc


def render(secs: Sequence[Section], figures: Sequence[Figure] = (), title: str | None = None,
           document: Document | None = None) -> str:
    """The report's LaTeX source.  ``document`` (default: the metadata of the reported
    modules, see the module docstring) gives the title page and the opening paragraph."""
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
    env.globals["formula"] = tex_formula
    doc = document if document is not None else _document(secs, title)
    totals = {s: sum(sec.counts[s] for sec in secs) for s in STATUSES}
    readings = [(r["equation"] or r["id"], r["reading"]) for sec in secs for r in sec.steps if r["reading"]]
    seen, unique = set(), []
    for key, text in readings:  # one entry per reading (several steps may share a printed form)
        if text not in seen:
            seen.add(text)
            unique.append((key, text))
    return env.get_template("report.tex.j2").render(
        doc=doc, sections=secs, statuses=STATUSES, totals=totals, methods=METHODS,
        figures=list(figures) + list(doc.figures), readings=unique, long_latex=LONG_LATEX,
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
