"""Numeric right-hand-side modules generated from symbolic equations.

A :class:`Model` is one system dy/dt = f(y; p) in SymPy: state symbols, parameter
symbols and right-hand sides.  :func:`render_numpy` turns it into the source of a
NumPy module (Jinja2 template ``templates/numpy_rhs.py.j2``) with the contract
STATE, PARAMETERS, rhs(t, y, *params, out=None), jacobian(t, y, *params),
jac_sparsity(K) and sparse_jacobian(...): one symbolic system, the ensemble size K
an array axis (never unrolled into symbols).  The Jacobian is symbolic.

:func:`render_numba` adds, beside the compiled rhs, the ensemble integrators ``dp54``, ``dop853``
and ``rk4`` (every system advanced on its own, the model's right-hand side inlined; coefficients
from :mod:`symmag.numeric.integrators`); both backends carry NORMS, the state groups whose norm the
equation conserves (checked symbolically), and AUTONOMOUS.  For an LLG model with a Gilbert
damping (:func:`symmag.numeric.thermal.analyse`) both carry THERMAL_FIELD, ``damping`` and
``kernel_rhs`` (the kernels' arithmetic, elementwise in NumPy: the fallback of the stochastic
integrator), and the numba module the stochastic Heun kernel ``heun``.

Reproducible: the same model gives byte-identical source -- common subexpressions
are taken in SymPy's canonical order, and the header carries a sha256 of the
canonical input (srepr), not a timestamp, and a sha256 of the module's own body
(everything after the header), which :func:`verify_body` checks at load time.

Safe at the edges: a norm sqrt(x1**2 + ... + xm**2) of state variables is evaluated as
written only while the sum of squares lies in ``NORM_RANGE``; outside it the module
switches to x = |x| u with |x| from ``hypot`` (nothing squared under- or overflows).
``out`` is checked (ndarray, float64, y's shape) and may alias y.  Every name that renders
also runs: keywords, builtins and the module's own names are renamed ``v_NAME``.

``symmag codegen``, run at the checkout's root, writes the paper's models into
``generated/rhs``, the one place the tool writes them; the wheel ships a copy of that
folder as ``symmag/generated_rhs``, and tests/test_codegen.py fails when a committed module
drifts from what the tool writes now (where models are looked up: :mod:`symmag.numeric.simulate`).
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from .. import atomic
from ..errors import SymmagInputError

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


@dataclass(frozen=True)
class Model:
    """dy/dt = rhs(y; parameters)."""

    name: str
    state: tuple[sp.Symbol, ...]
    parameters: tuple[sp.Symbol, ...]
    rhs: tuple[sp.Expr, ...]
    doc: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier() or keyword.iskeyword(self.name) \
                or self.name.startswith("_"):
            raise SymmagInputError(f"model name {self.name!r} is not a Python module name")
        for kind in ("state", "parameters"):
            symbols = getattr(self, kind)
            if not isinstance(symbols, str):
                with contextlib.suppress(TypeError):
                    symbols = tuple(symbols)  # a generator is read once, here
            if not isinstance(symbols, tuple) or not all(isinstance(s, sp.Symbol) for s in symbols):
                raise SymmagInputError(f"{self.name}: {kind} must be SymPy Symbols, got {symbols!r:.80}")
            object.__setattr__(self, kind, symbols)
        if len(set(self.state) | set(self.parameters)) != len(self.state) + len(self.parameters):
            raise SymmagInputError(f"{self.name}: a symbol is listed twice in state and parameters")
        if isinstance(self.rhs, (str, sp.Basic)) or not hasattr(self.rhs, "__iter__"):
            raise SymmagInputError(f"{self.name}: rhs must be a sequence of SymPy expressions")
        object.__setattr__(self, "rhs", tuple(_strict(self.name, e) for e in self.rhs))
        if not isinstance(self.doc, str):
            raise SymmagInputError(f"{self.name}: doc must be a string")
        if len(self.rhs) != len(self.state):
            raise SymmagInputError(
                f"{self.name}: {len(self.state)} states but {len(self.rhs)} right-hand sides")
        known = set(self.state) | set(self.parameters)
        for e in self.rhs:
            unknown = {s for s in e.free_symbols if s not in known and s.name != "t"}
            if unknown:
                names = ", ".join(sorted(s.name for s in unknown))
                raise SymmagInputError(f"{self.name}: right-hand side uses unknown symbol(s) {names}")
            if e.atoms(sp.core.function.AppliedUndef):
                raise SymmagInputError(f"{self.name}: right-hand side has undefined functions: {e}")


def _strict(name: str, e) -> sp.Expr:
    """A right-hand side as a SymPy expression; text is never parsed (it would be evaluated
    as Python), and only SymPy objects and plain numbers are converted."""
    if isinstance(e, str):
        raise SymmagInputError(f"{name}: a right-hand side is the string {e!r:.60}; give SymPy "
                               "expressions (text is not parsed: it would run as Python)")
    try:
        e = sp.sympify(e, strict=True)
    except (sp.SympifyError, TypeError, ValueError) as exc:
        raise SymmagInputError(f"{name}: a right-hand side is not a SymPy expression: {e!r:.60}") from exc
    if not isinstance(e, sp.Expr):
        raise SymmagInputError(f"{name}: a right-hand side is a {type(e).__name__}, not an expression")
    return e


def digest(model: Model) -> str:
    """sha256 of the canonical input: names and the srepr of every right-hand side."""
    text = "\n".join([model.name, repr([s.name for s in model.state]),
                      repr([p.name for p in model.parameters]), *map(sp.srepr, model.rhs)])
    return hashlib.sha256(text.encode()).hexdigest()


#: names the generated code uses itself -- imports, module globals, locals of the templates --
#: and Python's builtins: a state or parameter so named is renamed v_NAME (a test parses the
#: rendered modules and finds every other name here or starting with "_")
_RESERVED = frozenset({
    "numpy", "numba", "overload", "coo_matrix", "STATE", "PARAMETERS", "N_STATE", "CHUNK", "rhs",
    "rhs_parallel", "jacobian", "jac_sparsity", "sparse_jacobian", "t", "y", "ys", "y2", "out",
    "result", "shape", "k", "size", "work", "whole", "lo", "hi", "j", "x", "kernel", "p", "a", "b",
    "rows", "cols", "vals", "blocks", "name", "value", "scratch", "inputs", "work_shape",
    "NORMS", "AUTONOMOUS", "dp54", "dop853", "rk4", "t0", "t_eval", "rtol", "atol", "first_step", "max_steps",
    "project", "parallel", "step", "single", "values", "accepted", "rejected", "status", "drift",
    "steps", "gaps", "subs", "THERMAL_FIELD", "damping", "kernel_rhs", "heun", "theta", "seed", "offset",
    "step_offset", "STOPS_AT_NOT_FINITE",
    "symmag", *dir(builtins)})


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

    def __init__(self, parameters: Sequence[sp.Symbol], norms: Sequence[sp.Symbol] = ()):
        self.printer = _printer()
        self.norms = set(norms)  # the sums of squares of the normed groups
        self.rescale_args = ", ".join(["t", "ys[:, lo:hi]", "result[:, lo:hi]", *map(str, parameters)])
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
        if symbol in self.norms:  # the plain program is exact for this chunk only in range (nan: no)
            self.body += [f"if not (_LO <= numpy.minimum.reduce({x.text}) and "
                          f"numpy.maximum.reduce({x.text}) <= _HI):",
                          f"    _rescaled({self.rescale_args})", "    continue"]
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


def _inplace_program(cse: tuple[list, list], parameters: Sequence[sp.Symbol],
                     norms: Sequence[sp.Symbol] = ()) -> _Program:
    """The in-place program computing the reduced expressions of ``cse`` (temps, reduced)
    into the rows ``_r{i}``; after each temp of ``norms`` the chunk goes to ``_rescaled``
    unless its values lie in NORM_RANGE."""
    temps, reduced = cse
    program = _Program(parameters, norms)
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


#: sums of squares of the state for which the norm is evaluated as written: well inside the
#: float range, so that products of a few such factors neither under- nor overflow
NORM_RANGE = (1e-100, 1e100)


@dataclass(frozen=True)
class _Norm:
    """A norm sqrt(s1**2 + ... + sm**2) of state symbols found in a model."""

    square: sp.Add  # s1**2 + ... + sm**2
    states: tuple[sp.Symbol, ...]
    temp: sp.Symbol  # the temp the plain program computes the sum of squares into
    scale: sp.Symbol  # |s|, from hypot
    units: tuple[sp.Symbol, ...]  # s_i / |s|


def _norms(exprs: Sequence[sp.Expr], states: Sequence[sp.Symbol]) -> list[_Norm]:
    """The disjoint groups of state symbols whose Euclidean norm (a half-integer power of their
    sum of squares) appears in ``exprs``, in the order of the state."""
    index = {s: i for i, s in enumerate(states)}
    squares = set()
    for e in exprs:
        for node in sp.preorder_traversal(e):
            if node.is_Pow and node.exp.is_Rational and node.exp.q == 2 and node.base.is_Add:
                terms = node.base.args
                bases = [a.base for a in terms if a.is_Pow and a.exp == 2 and a.base in index]
                if len(bases) == len(terms) >= 2:
                    squares.add((tuple(sorted(index[b] for b in bases)), node.base))
    out: list[_Norm] = []
    taken: set[int] = set()
    for group, square in sorted(squares, key=lambda x: x[0]):
        if taken & set(group):
            continue  # overlapping groups: the first one only
        taken |= set(group)
        g = len(out)
        out.append(_Norm(square, tuple(states[i] for i in group), sp.Symbol(f"_n{g}", positive=True),
                         sp.Symbol(f"_s{g}", positive=True),
                         tuple(sp.Symbol(f"_u{g}_{i}", real=True) for i in range(len(group)))))
    return out


def _scaled(exprs: Sequence[sp.Expr], norms: Sequence[_Norm]) -> list[sp.Expr]:
    """``exprs`` with each normed group written s = |s| u and |s| taken out of every sum
    (factor_terms), so that no power of |s| is formed that the result does not have."""
    if not norms:
        return list(exprs)
    sub = {}
    for nm in norms:
        sub[nm.square] = nm.scale ** 2  # |u| = 1: the sum of squares is |s|**2 exactly
        sub.update({s: nm.scale * u for s, u in zip(nm.states, nm.units)})
    return [sp.factor_terms(sp.sympify(e).xreplace(sub)) for e in exprs]


def _scale_lines(norms: Sequence[_Norm], printer: NumPyPrinter) -> list[tuple[str, str]]:
    """|s| by nested hypot (scaled: no square is formed) and the unit vector u = s/|s|."""
    lines = []
    for nm in norms:
        names = [printer.doprint(s) for s in nm.states]
        norm = names[0]
        for name in names[1:]:
            norm = f"numpy.hypot({norm}, {name})"
        lines.append((str(nm.scale), norm))
        lines += [(str(u), f"{name}/{nm.scale}") for u, name in zip(nm.units, names)]
    return lines


def _conserved(rhs: Sequence[sp.Expr], states: Sequence[sp.Symbol], norms: Sequence[_Norm]) -> list:
    """The normed groups (as state indices) whose norm the equation conserves: the sum of
    s * ds/dt over the group simplifies to 0."""
    index = {s: i for i, s in enumerate(states)}
    out = []
    for nm in norms:
        rate = sp.expand(sum(s * rhs[index[s]] for s in nm.states))
        if rate == 0 or sp.simplify(rate) == 0:
            out.append(tuple(index[s] for s in nm.states))
    return out


@dataclass(frozen=True)
class _Group:
    """A conserved group for the integrator templates."""

    indices: tuple[int, ...]

    def norm(self, prefix: str) -> str:
        """|y_g| of the locals ``prefix{i}`` by nested hypot (no square to overflow)."""
        text = f"{prefix}{self.indices[0]}"
        for i in self.indices[1:]:
            text = f"numpy.hypot({text}, {prefix}{i})"
        return text

    def squares(self, prefix: str) -> str:
        """The sum of the squares of the locals ``prefix{i}``, in the order NumPy sums them."""
        return " + ".join(f"{prefix}{i} * {prefix}{i}" for i in self.indices)


def _linear(terms: Sequence[tuple[int, object]], name: str) -> str:
    """sum_q a_q * name.format(q), the coefficients as float literals, zeros left out."""
    parts = [(float(a), name.format(q)) for q, a in terms if a != 0]
    text = ""
    for a, x in parts:
        sign = "-" if a < 0 else "+"
        text += f" {sign} {abs(a)!r}*{x}" if text else f"{'-' if a < 0 else ''}{abs(a)!r}*{x}"
    return text


#: systems dp54 advances side by side, the length of its kernels' scratch rows: 16 doubles, two
#: AVX-512 or four AVX2 registers -- 2.2x the 8 lanes before (whose loops did not vectorize), 1.2x
#: 32 lanes (BENCHMARKS.md, session 6)
DP54_LANES = 16


def _power(power) -> dict:
    return dict(exponent=repr(power.exponent), clamp=[repr(c) for c in power.clamp], scale=repr(power.scale),
                start=repr(power.start), steps=[[repr(c) for c in row] for row in power.steps],
                poly=[repr(c) for c in power.poly])


def _needs(*weights: Sequence) -> list[int]:
    """The stages (1-based) with a nonzero weight in any of ``weights``: the only ones a pass loads
    (numba's compilation time grows with every statement, even a dead load)."""
    return sorted({q for w in weights for q, a in enumerate(w, start=1) if a != 0})


def _stage_args(rows: Sequence[Sequence], n: int, first: int, last: int) -> list:
    """(stage s, c_s, its arguments y + h sum_q a_sq k_q, the stages q they use) for the stages
    first..last (1-based)."""
    return [(s, repr(float(rows[0][s - 1])),
             [f"_y{i} + _h * ({_linear(list(enumerate(rows[1][s - 1], start=1)), '_k{}_' + str(i))})"
              for i in range(n)], _needs(rows[1][s - 1])) for s in range(first, last + 1)]


def _dp54_method(n: int) -> dict:
    """Dormand-Prince 5(4) as expression strings over the kernels' locals ``_y{i}``, ``_z{i}``,
    ``_k{stage}_{i}``, ``_v{stage}`` (symmag.numeric.integrators holds the coefficients)."""
    from . import integrators as ig

    b = list(enumerate(ig.DP_B, start=1))
    e = list(enumerate(ig.DP_E, start=1))
    dense = [(q, [repr(float(c)) for c in row]) for q, row in enumerate(ig.DP_P, start=1) if any(row)]
    err = ["_err = 0.0"]
    err += [f"_err += (_h * ({_linear(e, '_k{}_' + str(i))}) / (_atol + _rtol * max(abs(_y{i}), "
            f"abs(_z{i})))) ** 2" for i in range(n)]
    err.append(f"_err = numpy.sqrt(_err / {n})")
    out = [f"_v{q} = _th * ({c[0]} + _th * ({c[1]} + _th * ({c[2]} + _th * {c[3]})))" for q, c in dense]
    out += [f"_o{i} = _y{i} + _h * ({' + '.join(f'_v{q}*_k{q}_{i}' for q, _ in dense)})" for i in range(n)]
    return dict(
        name="dp54", title="Dormand-Prince 5(4)",
        doc="the error norm RMS |e_i|/(atol + rtol max(|y_i|, |y_new_i|)), the quartic dense output",
        stages=_stage_args((ig.DP_C, ig.DP_A), n, 2, 6), fsal=7, z=8, rows=9, row={q: q for q in range(1, 8)},
        new=[f"_y{i} + _h * ({_linear(b, '_k{}_' + str(i))})" for i in range(n)],
        new_args=[f"_z{i}" for i in range(n)], new_needs=_needs(ig.DP_B), err=err, err_needs=_needs(ig.DP_E),
        extra=[], fvec=[], frow={}, dense_stages=[],
        dense_loads=[q for q, _ in dense], dense_frows=[], dense=out,
        power=_power(ig.DP54_POWER), power_name="_step_power", first_exponent=repr(0.2),
    )


def _dop853_method(n: int) -> dict:
    """DOP853 (SciPy's: the 8(5,3) error norm, the dense output of order 7 from stages 14-16 and
    the coefficient vectors F3..F6 of ``_F{r}_{i}``) as expression strings over the same locals."""
    from . import integrators as ig

    b = list(enumerate(ig.D8_B, start=1))
    e5 = list(enumerate(ig.D8_E5, start=1))
    e3 = list(enumerate(ig.D8_E3, start=1))
    err = ["_e5 = 0.0", "_e3 = 0.0"]
    for i in range(n):
        err += [f"_sc{i} = _atol + _rtol * max(abs(_y{i}), abs(_z{i}))",
                f"_e5 += (({_linear(e5, '_k{}_' + str(i))}) / _sc{i}) ** 2",
                f"_e3 += (({_linear(e3, '_k{}_' + str(i))}) / _sc{i}) ** 2"]
    err += ["_den = _e5 + 0.01 * _e3", f"_err = _h * _e5 / numpy.sqrt(_den * {n}) if _den != 0.0 else 0.0"]
    ext = ig.D8_STAGES_EXTENDED
    fvec = [(r, [f"_h * ({_linear(list(enumerate(d, start=1)), '_k{}_' + str(i))})" for i in range(n)])
            for r, d in enumerate(ig.D8_D, start=3)]
    row = {q: q for q in range(1, 14)} | {q: q + 1 for q in range(14, ext + 1)}
    # SciPy's Dop853DenseOutput:
    # y_old + ((((((F6 x + F5)(1 - x) + F4) x + F3)(1 - x) + F2) x + F1)(1 - x) + F0) x
    dense = ["_x1 = 1.0 - _th"]
    for i in range(n):
        f0, f1, f2 = (f"_dy{i}", f"(_h * _k1_{i} - _dy{i})", f"(2.0 * _dy{i} - _h * (_k13_{i} + _k1_{i}))")
        dense += [f"_dy{i} = _z{i} - _y{i}",
                  f"_o{i} = _y{i} + ((((((_F6_{i} * _th + _F5_{i}) * _x1 + _F4_{i}) * _th + _F3_{i}) * _x1 + "
                  f"{f2}) * _th + {f1}) * _x1 + {f0}) * _th"]
    return dict(
        name="dop853", title="DOP853 (Dormand-Prince 8(5,3), as SciPy's)",
        doc="SciPy's DOP853 error norm (the fifth- and third-order estimates), the dense output of\n"
            "    order 7 (three more stages where a step holds an output)",
        stages=_stage_args((ig.D8_C, ig.D8_A), n, 2, ig.D8_STAGES), fsal=13, z=14, rows=22, row=row,
        new=[f"_y{i} + _h * ({_linear(b, '_k{}_' + str(i))})" for i in range(n)],
        new_args=[f"_z{i}" for i in range(n)], new_needs=_needs(ig.D8_B), err=err,
        err_needs=_needs(ig.D8_E5, ig.D8_E3), extra=_stage_args((ig.D8_C, ig.D8_A), n, ig.D8_STAGES + 2, ext),
        fvec=fvec, frow={r: 15 + r for r in range(3, 7)}, dense_stages=_needs(*ig.D8_D), dense_loads=[1],
        dense_frows=[3, 4, 5, 6], dense=dense,
        power=_power(ig.D8_POWER), power_name="_step_power_dop853", first_exponent=repr(0.125),
    )


def _embedded_context(n: int) -> dict:
    """The embedded Runge-Kutta methods of the generated kernels, and their shared constants."""
    from . import integrators as ig

    return dict(
        methods=[_dp54_method(n), _dop853_method(n)],
        dp_control=f"{ig.SAFETY!r}, {ig.MIN_FACTOR!r}, {ig.MAX_FACTOR!r}",
        min_step=repr(ig.MIN_STEP),
        lanes=DP54_LANES,
    )


def _docstring(doc: str) -> str:
    """``doc`` safe inside a triple-quoted string: it can never end it."""
    doc = doc.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return doc[:-1] + '\\"' if doc.endswith('"') else doc


#: the header's last line; the body sha256 covers everything after it
_BODY_LINE = re.compile(rb"\A(?:#[^\n]*\n){2}# Body sha256: ([0-9a-f]{64})\n")
_PLACEHOLDER = "@BODY-SHA256@"


def verify_body(source: bytes) -> str | None:
    """Why a generated module's body does not match its header (a one-line reason), or None
    when it does."""
    head = _BODY_LINE.match(source)
    if head is None:
        return "it has no `# Body sha256:` header line (not written by this version of symmag codegen)"
    if hashlib.sha256(source[head.end():]).hexdigest() != head.group(1).decode():
        return "it was edited by hand (its body no longer matches the sha256 in its header)"
    return None


def _seal(source: str) -> str:
    """Fill in the body sha256 of a rendered module."""
    head = source.index(_PLACEHOLDER)
    body_start = source.index("\n", head) + 1
    body = hashlib.sha256(source[body_start:].encode()).hexdigest()
    return source[:head] + body + source[head + len(_PLACEHOLDER):]


def _render(model: Model, command: str, template: str) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    _check_functions(model)
    if "\n" in command or "\r" in command or "`" in command:
        raise SymmagInputError(f"the command named in the header must be one line without backticks: "
                               f"{command!r:.60}")

    state_ids = _identifiers(model.state)
    param_ids = _identifiers(model.parameters)
    clash = set(state_ids) & set(param_ids)
    if clash:
        raise SymmagInputError(f"{model.name}: state and parameter names clash: {sorted(clash)}")
    rename = {s: sp.Symbol(n, real=True) for s, n in zip(model.state, state_ids)}
    rename.update({p: sp.Symbol(n, real=True) for p, n in zip(model.parameters, param_ids)})
    rhs = [sp.sympify(e).xreplace(rename) for e in model.rhs]
    states = [rename[s] for s in model.state]
    norms = _norms(rhs, states)
    # the sums of squares become the first temps, so that the programs can test their range
    # before any work that depends on them
    temps, reduced = _cse([e.xreplace({nm.square: nm.temp for nm in norms}) for e in rhs], "_c")
    rhs_cse = ([(nm.temp, nm.square) for nm in norms] + temps, reduced)
    rhs_temps, rhs_exprs = _printed(rhs_cse)  # one elimination, printed three ways
    kernel_temps, kernel_exprs = _printed(rhs_cse, _KernelPrinter())
    program = _inplace_program(rhs_cse, [rename[p] for p in model.parameters], [nm.temp for nm in norms])
    scaled_cse = _cse(_scaled(rhs, norms), "_d")  # the rhs where a norm is out of NORM_RANGE
    scaled_temps, scaled_exprs = _printed(scaled_cse)
    kernel_scaled_temps, kernel_scaled_exprs = _printed(scaled_cse, _KernelPrinter())
    jac = sp.Matrix(rhs).jacobian(states)
    entries = [(i, j) for i in range(len(states)) for j in range(len(states)) if jac[i, j] != 0]
    # the Jacobian always in the scaled form: it is called far less often than rhs
    jac_temps, jac_exprs = _printed(_cse(_scaled([jac[i, j] for i, j in entries], norms), "_j"))
    n_norms = len(norms)
    conserved = _conserved(rhs, states, norms)
    thermal = _thermal_context(model, rename, param_ids)
    n = len(states)
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      keep_trailing_newline=True)
    source = env.get_template(template).render(
        command=command, symmag_version=_version(), sympy_version=sp.__version__,
        digest=digest(model), body_digest=_PLACEHOLDER,
        doc=_docstring(model.doc or f"dy/dt for {model.name}."), n=len(states),
        state_names=repr(tuple(s.name for s in model.state)),
        parameter_names=repr(tuple(p.name for p in model.parameters)),
        arglist=lambda before, after: ", ".join([*before, *param_ids, *after]),
        ptuple="".join(f"{n}, " for n in param_ids).rstrip(" "), parameter_args=param_ids,
        state_args=list(zip(state_ids, range(len(states)))),
        rhs_temps=rhs_temps[n_norms:], rhs_exprs=list(enumerate(rhs_exprs)),
        norm_temps=rhs_temps[:n_norms], kernel_norm_temps=kernel_temps[:n_norms],
        norm_range=NORM_RANGE,
        ok_scalar=" and ".join(f"_LO <= {nm.temp} <= _HI" for nm in norms),
        kernel_bad=" + ".join(f"(({nm.temp} < _LO) | ({nm.temp} > _HI) | ({nm.temp} != {nm.temp}))"
                              for nm in norms),
        scale_lines=_scale_lines(norms, _printer()),
        scaled_temps=scaled_temps, scaled_exprs=list(enumerate(scaled_exprs)),
        kernel_scaled_temps=kernel_scaled_temps, kernel_scaled_exprs=list(enumerate(kernel_scaled_exprs)),
        jac_temps=jac_temps, jac_exprs=[(i, j, e) for (i, j), e in zip(entries, jac_exprs)],
        jac_pattern=repr(tuple(entries)),
        kernel_args=", ".join([*(f"_a_{n}" for n in (*state_ids, *param_ids)),
                               *(f"_r{i}" for i in range(len(states)))]),
        kernel_temps=kernel_temps[n_norms:], kernel_exprs=list(enumerate(kernel_exprs)),
        hoisted=program.hoisted, body=program.body, n_buffers=program.n_buffers,
        chunked=", ".join([*param_ids, *(name for name, _ in program.hoisted)]),
        conserved=repr(tuple(conserved)), groups=[_Group(g) for g in conserved],
        autonomous=repr(not any(s.name == "t" for e in model.rhs for s in sp.sympify(e).free_symbols)),
        states_of=lambda prefix: ", ".join(f"{prefix}{i}" for i in range(n)),
        targets=lambda prefix: "".join(f"{prefix}{i}, " for i in range(n)).rstrip(" "),
        **_embedded_context(n), **thermal,
    )
    return _seal(source)


def _thermal_context(model: Model, rename: dict, param_ids: Sequence[str]) -> dict:
    """What the templates need for the thermal field (symmag.numeric.thermal): the positions of the
    applied field, the damping and gyromagnetic ratio printed for the kernels, and the parameter
    list of the kernels' calls with the field increment added; thermal False for a model that
    takes no thermal field."""
    from . import thermal as th

    info = th.thermal_or_none(model)
    if info is None:
        return dict(thermal=False, thermal_field="()", damping=("", ""), noisy_args="")
    printer = _KernelPrinter()
    damping = tuple(printer.doprint(sp.sympify(e).xreplace(rename)) for e in (info.alpha, info.gamma))
    noisy = list(param_ids)
    for c, i in enumerate(info.field):
        noisy[i] = f"{param_ids[i]} + _sg * _z{c}"
    return dict(thermal=True, thermal_field=repr(info.field), damping=damping, noisy_args=", ".join(noisy))


def _version() -> str:
    from .. import __version__

    return __version__


BACKENDS = {"numpy": ("{name}.py", render_numpy), "numba": ("{name}_numba.py", render_numba)}


def generate(models: Sequence[Model], outdir: Path | str, backends: Sequence[str] = ("numpy",),
             command: str = "symmag codegen") -> list[Path]:
    """Write one module per model and backend into ``outdir`` as one generation: everything
    is rendered first, then written into a staging copy of the folder that is swapped in
    atomically (symmag.atomic.generation) -- a crash leaves the previous complete set, and a
    concurrent reader never sees a partial file.  Returns the paths written.
    Files are named ``MODEL.py`` (numpy) and ``MODEL_numba.py``."""
    outdir = Path(outdir)
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        raise SymmagInputError(f"unknown backend(s) {', '.join(map(str, unknown))}; "
                               f"use {', '.join(BACKENDS)}")
    sources: dict[str, str] = {}
    for model in models:
        for backend in backends:
            pattern, render = BACKENDS[backend]
            name = pattern.format(name=model.name)
            if name in sources:
                raise SymmagInputError(f"two models would write {name}")
            sources[name] = render(model, command_for(command, model, backend))
    if outdir.exists() and not outdir.is_dir():
        raise SymmagInputError(f"output {outdir} exists and is not a folder")
    try:
        with atomic.generation(outdir) as staging:
            for name, text in sources.items():
                atomic.write_text(staging / name, text)
    except OSError as exc:
        raise SymmagInputError(f"cannot write {outdir}: {exc.strerror or exc}") from exc
    return [outdir / name for name in sources]


def command_for(command: str, model: Model, backend: str) -> str:
    """The command named in a generated file's header."""
    return f"{command} --backend {backend} {model.name}"
