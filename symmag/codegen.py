"""Numeric right-hand-side modules generated from symbolic equations.

A :class:`Model` is one system dy/dt = f(y; p) in SymPy: state symbols, parameter
symbols and right-hand sides.  :func:`render_numpy` turns it into the source of a
NumPy module (Jinja2 template ``templates/numpy_rhs.py.j2``) with the contract
STATE, PARAMETERS, rhs(t, y, *params, out=None), jacobian(t, y, *params),
jac_sparsity(K) and sparse_jacobian(...): one symbolic system, the ensemble size K
an array axis (never unrolled into symbols).  The Jacobian is symbolic.

Reproducible: the same model gives byte-identical source -- common subexpressions
are taken in SymPy's canonical order, and the header carries a sha256 of the
canonical input (srepr), not a timestamp.
"""

from __future__ import annotations

import hashlib
import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from .errors import SymmagInputError

TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class Model:
    """dy/dt = rhs(y; parameters)."""

    name: str
    state: tuple[sp.Symbol, ...]
    parameters: tuple[sp.Symbol, ...]
    rhs: tuple[sp.Expr, ...]
    doc: str = ""

    def __post_init__(self):
        if not self.name.isidentifier() or keyword.iskeyword(self.name):
            raise SymmagInputError(f"model name {self.name!r} is not a Python module name")
        if len(self.rhs) != len(self.state):
            raise SymmagInputError(
                f"{self.name}: {len(self.state)} states but {len(self.rhs)} right-hand sides")
        known = set(self.state) | set(self.parameters)
        for e in self.rhs:
            unknown = {s for s in sp.sympify(e).free_symbols if s not in known and s.name != "t"}
            if unknown:
                names = ", ".join(sorted(s.name for s in unknown))
                raise SymmagInputError(f"{self.name}: right-hand side uses unknown symbol(s) {names}")
            if sp.sympify(e).atoms(sp.core.function.AppliedUndef):
                raise SymmagInputError(f"{self.name}: right-hand side has undefined functions: {e}")


def digest(model: Model) -> str:
    """sha256 of the canonical input: names and the srepr of every right-hand side."""
    text = "\n".join([model.name, repr([s.name for s in model.state]),
                      repr([p.name for p in model.parameters]), *map(sp.srepr, model.rhs)])
    return hashlib.sha256(text.encode()).hexdigest()


def _identifiers(symbols: Sequence[sp.Symbol]) -> list[str]:
    """Valid, distinct Python identifiers for the symbols (keywords and odd names mangled)."""
    out: list[str] = []
    for s in symbols:
        name = re.sub(r"\W", "_", s.name)
        if not name or name[0].isdigit() or keyword.iskeyword(name) or name in ("numpy", "t", "y", "out"):
            name = f"v_{name}"
        base, n = name, 1
        while name in out:
            name, n = f"{base}_{n}", n + 1
        out.append(name)
    return out


def _printer() -> NumPyPrinter:
    return NumPyPrinter({"fully_qualified_modules": True, "allow_unknown_functions": False})


def _cse(exprs: Sequence[sp.Expr], prefix: str):
    temps, reduced = sp.cse(list(exprs), symbols=sp.numbered_symbols(prefix), order="canonical")
    printer = _printer()
    return [(str(lhs), printer.doprint(rhs)) for lhs, rhs in temps], [printer.doprint(e) for e in reduced]


def render_numpy(model: Model, command: str = "symmag codegen") -> str:
    """Source of a vectorized NumPy module for ``model``."""
    return _render(model, command, "numpy_rhs.py.j2")


def render_numba(model: Model, command: str = "symmag codegen --backend numba") -> str:
    """Source of a module whose rhs is an ``@numba.njit`` loop over the ensemble (numba is
    imported by the generated module only; the jacobian stays vectorized NumPy)."""
    return _render(model, command, "numba_rhs.py.j2")


def _render(model: Model, command: str, template: str) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    state_ids = _identifiers(model.state)
    param_ids = _identifiers(model.parameters)
    clash = set(state_ids) & set(param_ids)
    if clash:
        raise SymmagInputError(f"{model.name}: state and parameter names clash: {sorted(clash)}")
    rename = {s: sp.Symbol(n, real=True) for s, n in zip(model.state, state_ids)}
    rename.update({p: sp.Symbol(n, real=True) for p, n in zip(model.parameters, param_ids)})
    rhs = [sp.sympify(e).xreplace(rename) for e in model.rhs]
    states = [rename[s] for s in model.state]
    rhs_temps, rhs_exprs = _cse(rhs, "_r")
    jac = sp.Matrix(rhs).jacobian(states)
    entries = [(i, j) for i in range(len(states)) for j in range(len(states)) if jac[i, j] != 0]
    jac_temps, jac_exprs = _cse([jac[i, j] for i, j in entries], "_j")
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      keep_trailing_newline=True)
    kernel_temps, kernel_exprs = _cse(rhs, "_k")
    return env.get_template(template).render(
        command=command, symmag_version=_version(), sympy_version=sp.__version__,
        digest=digest(model), doc=model.doc or f"dy/dt for {model.name}.", n=len(states),
        state_names=repr(tuple(s.name for s in model.state)),
        parameter_names=repr(tuple(p.name for p in model.parameters)),
        params=", ".join(param_ids), parameter_args=param_ids,
        state_args=list(zip(state_ids, range(len(states)))),
        rhs_temps=rhs_temps, rhs_exprs=list(enumerate(rhs_exprs)),
        jac_temps=jac_temps, jac_exprs=[(i, j, e) for (i, j), e in zip(entries, jac_exprs)],
        jac_pattern=repr(tuple(entries)),
        state_arg_list=", ".join(f"{n}_a" for n in state_ids),
        kernel_params=", ".join(f"{n}_a" for n in param_ids),
        kernel_temps=kernel_temps, kernel_exprs=list(enumerate(kernel_exprs)),
    )


def _version() -> str:
    from . import __version__

    return __version__


BACKENDS = {"numpy": ("{name}.py", render_numpy), "numba": ("{name}_numba.py", render_numba)}


def generate(models: Sequence[Model], outdir: Path | str, backends: Sequence[str] = ("numpy",),
             command: str = "symmag codegen") -> list[Path]:
    """Write one module per model and backend into ``outdir``; returns the paths written.
    Files are named ``MODEL.py`` (numpy) and ``MODEL_numba.py``."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for model in models:
        for backend in backends:
            pattern, render = BACKENDS[backend]
            path = outdir / pattern.format(name=model.name)
            path.write_text(render(model, command_for(command, model, backend)))
            paths.append(path)
    return paths


def command_for(command: str, model: Model, backend: str) -> str:
    """The command named in a generated file's header."""
    return f"{command} --backend {backend} {model.name}"
