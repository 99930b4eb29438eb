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


#: names the generated code uses itself (a state or parameter so named is renamed v_NAME)
_RESERVED = frozenset({"numpy", "numba", "overload", "t", "y", "ys", "y2", "out", "result", "shape", "k",
                       "size", "work", "whole", "lo", "hi", "j", "x", "kernel", "p"})


def _identifiers(symbols: Sequence[sp.Symbol]) -> list[str]:
    """Valid, distinct Python identifiers for the symbols (keywords and odd names mangled)."""
    out: list[str] = []
    for s in symbols:
        name = re.sub(r"\W", "_", s.name)
        if not name or name[0].isdigit() or name[0] == "_" or keyword.iskeyword(name) or name in _RESERVED:
            name = f"v_{name}"
        base, n = name, 1
        while name in out:
            name, n = f"{base}_{n}", n + 1
        out.append(name)
    return out


_PRINTER_SETTINGS = {"fully_qualified_modules": True, "allow_unknown_functions": False}


def _printer() -> NumPyPrinter:
    return NumPyPrinter(_PRINTER_SETTINGS)


class _KernelPrinter(NumPyPrinter):
    """Scalar code for compiled loops: small integer powers as products."""

    def __init__(self):
        super().__init__(_PRINTER_SETTINGS)

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.args
        if exp.is_Integer and 2 <= exp <= 4:
            b = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Mul"])
            return "(" + "*".join([b] * int(exp)) + ")"
        if exp.is_Integer and -4 <= exp <= -1:
            return f"(1.0/({self._print(base ** (-exp))}))"
        return super()._print_Pow(expr, rational=rational)


def _cse(exprs: Sequence[sp.Expr], prefix: str) -> tuple[list, list]:
    """Common subexpressions in SymPy's canonical order (reproducible output)."""
    return sp.cse(list(exprs), symbols=sp.numbered_symbols(prefix), order="canonical")


def _printed(cse: tuple[list, list], printer: NumPyPrinter | None = None) -> tuple[list, list]:
    temps, reduced = cse
    printer = printer or _printer()
    return [(str(lhs), printer.doprint(rhs)) for lhs, rhs in temps], [printer.doprint(e) for e in reduced]


# -- in-place NumPy: the right-hand side as a straight-line program of ufunc calls ----------
_UFUNCS = {sp.sin: "sin", sp.cos: "cos", sp.tan: "tan", sp.exp: "exp", sp.log: "log",
           sp.sinh: "sinh", sp.cosh: "cosh", sp.tanh: "tanh", sp.asin: "arcsin", sp.acos: "arccos",
           sp.atan: "arctan", sp.Abs: "absolute", sp.sign: "sign", sp.atan2: "arctan2"}


@dataclass
class _Operand:
    text: str
    buffer: int | None = None  # scratch buffer holding it; None for names and hoisted values
    reusable: bool = False  # its buffer may be overwritten by the op that consumes it


class _Program:
    """Compiles CSE output into ufunc calls writing into scratch buffers ``_b0, _b1, ...``
    (out=), so that an ensemble rhs allocates nothing per operation.  Subexpressions of the
    parameters alone are hoisted: evaluated once per call, before any per-system work."""

    def __init__(self, parameters: Sequence[sp.Symbol]):
        self.printer = _printer()
        self.scalar: set[sp.Symbol] = set(parameters)
        self.hoisted: list[tuple[str, str]] = []
        self.body: list[str] = []
        self.free: list[int] = []
        self.n_buffers = 0
        self.temps: dict[sp.Symbol, int] = {}  # array temp -> buffer
        self.uses: dict[sp.Symbol, int] = {}  # array temp -> reads still to come

    # buffers
    def _take(self) -> int:
        if self.free:
            return self.free.pop()
        self.n_buffers += 1
        return self.n_buffers - 1

    def _release(self, buffer: int) -> None:
        if buffer not in self.free:
            self.free.append(buffer)
            self.free.sort(reverse=True)  # deterministic: lowest index first

    def _is_scalar(self, e: sp.Expr) -> bool:
        return e.free_symbols <= self.scalar

    def _hoist(self, e: sp.Expr) -> _Operand:
        if e.is_Integer or e.is_Symbol:
            return _Operand(self.printer.doprint(e))
        if e.is_Number:
            return _Operand(repr(float(e)))
        text = self.printer.doprint(e)
        for name, value in self.hoisted:
            if value == text:
                return _Operand(name)
        name = f"_h{len(self.hoisted)}"
        self.hoisted.append((name, text))
        return _Operand(name)

    def _op(self, ufunc: str, args: Sequence[_Operand], target: str | None) -> _Operand:
        reusable = [a for a in args if a.reusable]
        if target is not None:
            out, result = target, _Operand(target)
        elif reusable:
            b = reusable[0].buffer
            out, result = f"_b{b}", _Operand(f"_b{b}", b, True)
        else:
            b = self._take()
            out, result = f"_b{b}", _Operand(f"_b{b}", b, True)
        self.body.append(f"numpy.{ufunc}({', '.join(a.text for a in args)}, out={out})")
        for a in reusable:
            if a.buffer != result.buffer:
                self._release(a.buffer)
        return result

    # expressions
    def compile(self, e: sp.Expr, target: str | None = None) -> _Operand:
        if self._is_scalar(e):
            return self._hoist(e)
        if e.is_Symbol:
            if e in self.temps:
                self.uses[e] -= 1
                return _Operand(f"_b{self.temps[e]}")
            return _Operand(e.name)
        if e.is_Add:
            return self._add(e, target)
        if e.is_Mul:
            return self._mul(e, target)
        if e.is_Pow:
            return self._pow(e, target)
        if e.func in _UFUNCS:
            return self._op(_UFUNCS[e.func], [self.compile(a) for a in e.args], target)
        raise SymmagInputError(f"cannot generate code for {type(e).__name__}")  # _check_functions

    def _add(self, e: sp.Expr, target: str | None) -> _Operand:
        scalar = sp.Add(*[a for a in e.args if self._is_scalar(a)])
        terms = [a for a in e.args if not self._is_scalar(a)]
        positive = [a for a in terms if not a.could_extract_minus_sign()]
        negative = [-a for a in terms if a.could_extract_minus_sign()]
        last = len(positive) + len(negative) - 1 + (scalar != 0)
        n = 0

        def step(ufunc, args):
            nonlocal n
            n += 1
            return self._op(ufunc, args, target if n == last else None)

        if positive:
            acc = self.compile(positive[0])
        else:  # the first negative term keeps its sign (folded into its hoisted factor)
            acc = self.compile(-negative.pop(0))
        for a in positive[1:]:
            acc = step("add", [acc, self.compile(a)])
        for a in negative:
            acc = step("subtract", [acc, self.compile(a)])
        if scalar != 0:
            acc = step("add", [acc, self._hoist(scalar)])
        return acc

    def _mul(self, e: sp.Expr, target: str | None) -> _Operand:
        scalar = sp.Mul(*[a for a in e.args if self._is_scalar(a)])
        factors = [a for a in e.args if not self._is_scalar(a)]
        numerator = [a for a in factors if not (a.is_Pow and a.exp.is_negative)]
        denominator = [a.base ** (-a.exp) for a in factors if a.is_Pow and a.exp.is_negative]
        if numerator:
            ops = len(numerator) - 1 + len(denominator) + (scalar != 1)
        else:  # scalar/(...): the scalar is the first numerator
            ops = len(denominator)
        n = 0

        def step(ufunc, args):
            nonlocal n
            n += 1
            return self._op(ufunc, args, target if n == ops else None)

        if numerator:
            acc = self.compile(numerator[0], target if ops == 0 else None)
            for a in numerator[1:]:
                acc = step("multiply", [acc, self.compile(a)])
        else:
            acc = step("divide", [self._hoist(scalar), self.compile(denominator.pop(0))])
            scalar = sp.S.One
        for a in denominator:
            acc = step("divide", [acc, self.compile(a)])
        if scalar == -1:
            acc = step("negative", [acc])
        elif scalar != 1:
            acc = step("multiply", [acc, self._hoist(scalar)])
        return acc

    def _pow(self, e: sp.Expr, target: str | None) -> _Operand:
        base, exp = e.args
        if exp == sp.S.Half:
            return self._op("sqrt", [self.compile(base)], target)
        if exp.is_Integer and 2 <= exp <= 4:
            x = self.compile(base)
            if exp == 2:  # in place when the base is an intermediate
                return self._op("multiply", [x, _Operand(x.text)], target)
            view = _Operand(x.text)
            acc = self._op("multiply", [view, view], None)
            for k in range(3, int(exp) + 1):
                acc = self._op("multiply", [acc, view], target if k == exp else None)
            if x.reusable:
                self._release(x.buffer)
            return acc
        if exp.is_negative:
            return self._op("divide", [_Operand("1.0"), self.compile(base ** (-exp))], target)
        power = self._hoist(exp) if self._is_scalar(exp) else self.compile(exp)  # e.g. x**y, y a state
        return self._op("power", [self.compile(base), power], target)

    def assign_temp(self, symbol: sp.Symbol, e: sp.Expr, uses: int) -> None:
        if self._is_scalar(e):
            self.scalar.add(symbol)
            self.hoisted.append((str(symbol), self.printer.doprint(e)))
            return
        x = self.compile(e)
        if not x.reusable:  # a name or another temp: give it its own buffer
            b = self._take()
            self.body.append(f"numpy.copyto(_b{b}, {x.text})")
            x = _Operand(f"_b{b}", b)
        self.temps[symbol], self.uses[symbol] = x.buffer, uses
        self._end_statement()

    def output(self, i: int, e: sp.Expr) -> None:
        target = f"_r{i}"
        x = self.compile(e, target)
        if x.text != target:
            self.body.append(f"{target}[...] = {x.text}")
            if x.reusable:
                self._release(x.buffer)
        self._end_statement()

    def _end_statement(self) -> None:
        # a temp's buffer is freed only once the statement that read it last is complete: an
        # operand read earlier in the same statement may still be waiting for its op
        for symbol, left in self.uses.items():
            if left == 0 and symbol in self.temps:
                self._release(self.temps.pop(symbol))


def _inplace_program(cse: tuple[list, list], parameters: Sequence[sp.Symbol]) -> _Program:
    """The in-place program computing the reduced expressions of ``cse`` (temps, reduced)
    into the rows ``_r{i}``."""
    temps, reduced = cse
    program = _Program(parameters)
    later = [*[rhs for _, rhs in temps], *reduced]
    for k, (lhs, rhs) in enumerate(temps):
        program.assign_temp(lhs, rhs, sum(x.count(lhs) for x in later[k + 1:]))
    for i, e in enumerate(reduced):
        program.output(i, e)
    return program


def render_numpy(model: Model, command: str = "symmag codegen") -> str:
    """Source of a vectorized NumPy module for ``model``."""
    return _render(model, command, "numpy_rhs.py.j2")


def render_numba(model: Model, command: str = "symmag codegen --backend numba") -> str:
    """Source of a module whose rhs is an ``@numba.njit`` loop over the ensemble (numba is
    imported by the generated module only; the jacobian stays vectorized NumPy)."""
    return _render(model, command, "numba_rhs.py.j2")


#: functions a generated module may call (NumPy ufuncs; numba compiles them too)
SUPPORTED_FUNCTIONS = frozenset(_UFUNCS)


def _check_functions(model: Model) -> None:
    """Only what both backends evaluate: + - * / **, real numbers and the supported ufuncs."""
    for e in model.rhs:
        for node in sp.preorder_traversal(sp.sympify(e)):
            if isinstance(node, (sp.Symbol, sp.Add, sp.Mul, sp.Pow)) or type(node) in SUPPORTED_FUNCTIONS \
                    or (node.is_Number and node.is_real) or isinstance(node, sp.NumberSymbol):
                continue
            names = ", ".join(sorted(k.__name__ for k in SUPPORTED_FUNCTIONS))
            raise SymmagInputError(f"{model.name}: {type(node).__name__} cannot be generated; the "
                                   f"right-hand sides may use real numbers, + - * / ** and {names}")


def _render(model: Model, command: str, template: str) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    _check_functions(model)

    state_ids = _identifiers(model.state)
    param_ids = _identifiers(model.parameters)
    clash = set(state_ids) & set(param_ids)
    if clash:
        raise SymmagInputError(f"{model.name}: state and parameter names clash: {sorted(clash)}")
    rename = {s: sp.Symbol(n, real=True) for s, n in zip(model.state, state_ids)}
    rename.update({p: sp.Symbol(n, real=True) for p, n in zip(model.parameters, param_ids)})
    rhs = [sp.sympify(e).xreplace(rename) for e in model.rhs]
    states = [rename[s] for s in model.state]
    rhs_cse = _cse(rhs, "_c")  # one elimination, printed three ways: single system, kernel, in place
    rhs_temps, rhs_exprs = _printed(rhs_cse)
    kernel_temps, kernel_exprs = _printed(rhs_cse, _KernelPrinter())
    program = _inplace_program(rhs_cse, [rename[p] for p in model.parameters])
    jac = sp.Matrix(rhs).jacobian(states)
    entries = [(i, j) for i in range(len(states)) for j in range(len(states)) if jac[i, j] != 0]
    jac_temps, jac_exprs = _printed(_cse([jac[i, j] for i, j in entries], "_j"))
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      keep_trailing_newline=True)
    return env.get_template(template).render(
        command=command, symmag_version=_version(), sympy_version=sp.__version__,
        digest=digest(model), doc=model.doc or f"dy/dt for {model.name}.", n=len(states),
        state_names=repr(tuple(s.name for s in model.state)),
        parameter_names=repr(tuple(p.name for p in model.parameters)),
        arglist=lambda before, after: ", ".join([*before, *param_ids, *after]),
        ptuple="".join(f"{n}, " for n in param_ids).rstrip(" "), parameter_args=param_ids,
        state_args=list(zip(state_ids, range(len(states)))),
        rhs_temps=rhs_temps, rhs_exprs=list(enumerate(rhs_exprs)),
        jac_temps=jac_temps, jac_exprs=[(i, j, e) for (i, j), e in zip(entries, jac_exprs)],
        jac_pattern=repr(tuple(entries)),
        kernel_args=", ".join([*(f"{n}_a" for n in (*state_ids, *param_ids)),
                               *(f"_r{i}" for i in range(len(states)))]),
        kernel_temps=kernel_temps, kernel_exprs=list(enumerate(kernel_exprs)),
        hoisted=program.hoisted, body=program.body, n_buffers=program.n_buffers,
        chunked=", ".join([*param_ids, *(name for name, _ in program.hoisted)]),
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
