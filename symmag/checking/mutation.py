"""Mutation testing of derivations (``symmag mutate [PATH ...]``): do the checks notice a
changed derivation?

Holds, in order: the records (:class:`Mutant`, :class:`MutantResult`, :class:`Report`); the
mutation sites and operators, found with :mod:`ast` in the function bodies of derivation
modules (never in ``printed.py``, docstrings, f-strings or the arguments of ``Erratum(...)``);
the static call graph that maps a mutant to the steps it can affect; the seeded drawing;
the recorded list of equivalent mutants (``docs/equivalent-mutants.md``); the forked runner
(one child per mutant, SIGKILL on timeout); the verdicts against an unmutated baseline; and
the command line (:func:`add_arguments`, :func:`run`).

A mutant exists only in the memory of a forked child: the child drops the mutated package's
modules from ``sys.modules``, makes the import system execute the mutated AST (compiled with
the original file name) as that module under its real name, imports the derivations with
:func:`symmag.checking.runner.discover` exactly as ``symmag check`` does, and runs the affected steps with
:func:`symmag.checking.derivation.run_step`.  No file is ever written and nothing is cached between runs.

May use: the standard library, :mod:`symmag.errors`, and lazily (inside functions, so that the
CLI can import this module cheaply) :mod:`symmag.checking.derivation` and
:func:`symmag.checking.runner.discover`.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import importlib
import importlib.util
import json
import math
import os
import random
import re
import selectors
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import SymmagInputError

# -- constants -------------------------------------------------------------------------------------
#: step statuses that fail the gate of ``symmag check`` (at least; see :func:`killing`)
GATE_FAILURES = frozenset({"failed", "mismatch"})
#: statuses this module gives a step itself: building or running it raised / it vanished
RAISED, MISSING = "raised", "missing"
VERDICTS = ("killed", "survived", "timed out", "crashed")
#: modules of the derivations package that are never mutated (printed equations, codegen
#: models, figures): mutating the expectations would test nothing
NOT_MUTATED = ("printed", "models", "figures")
#: share of the drawn mutants taken from shown results (Derived(result=...) and what it uses)
SHOWN_SHARE = 0.2
#: integer constants up to this size are mutated (larger ones are sizes and resolutions)
SMALL_INT = 10
ID_LENGTH = 12
DEFAULT_MAX, DEFAULT_TIMEOUT = 200, 120.0

#: calls that keep their (callable) arguments without calling them at import time
STORING_CALLS = frozenset({"Step", "step", "definition", "Derivation", "Erratum", "Assumption", "Printed",
                           "dict", "tuple", "list", "set", "frozenset"})
#: calls whose first positional argument (or ``id=``) is a step id
STEP_CALLS = frozenset({"Step", "step", "definition"})
#: decorators known not to call the function they decorate
PLAIN_DECORATORS = frozenset({"cache", "cached", "lru_cache", "cached_property", "property", "staticmethod",
                              "classmethod", "dataclass", "wraps", "total_ordering", "abstractmethod",
                              "setter", "getter", "deleter", "overload", "final", "contextmanager"})
#: names whose use makes the dependencies of a function unknowable statically
DYNAMIC_NAMES = frozenset({"globals", "vars", "locals", "eval", "exec", "__import__", "importlib"})
#: claims whose checks are symmetric in their two sides: swapping them is equivalent by construction
SYMMETRIC_CALLS = frozenset({"Equal", "Parallel", "NumericEqual", "dot", "max", "min", "Eq", "hypot", "has",
                             "gcd", "lcm", "isinstance", "issubclass", "getattr", "hasattr", "setattr"})
#: calls whose integer arguments are random seeds: a correct check holds for every seed
SEED_CALLS = frozenset({"default_rng", "RandomState", "Random", "seed"})
#: calls returning containers, text or truth values, never negated (-all(...) is as true as all(...))
NON_NUMERIC_CALLS = frozenset({"tuple", "list", "dict", "set", "frozenset", "zip", "sorted", "map", "filter",
                               "range", "str", "repr", "enumerate", "reversed", "type", "isinstance",
                               "all", "any", "bool", "callable", "hasattr"})
CLAIMS = frozenset({"Equal", "NumericEqual", "Parallel"})


def killing() -> frozenset[str]:
    """Statuses that kill a mutant: the gate's failures -- ``symmag.checking.derivation.GATE_FAILURES``
    read at run time, so that a status added there counts -- and this module's own."""
    from symmag.checking import derivation

    return GATE_FAILURES | frozenset(getattr(derivation, "GATE_FAILURES", ())) | {RAISED, MISSING}


# -- records ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mutant:
    """One mutation of one AST node.  ``id`` is stable under edits elsewhere in the file (it
    hashes no line number); ``node_index`` locates the node in this parse of the source."""

    id: str
    file: str  # relative to the package root's parent, e.g. derivations/sec3a_rsi.py
    path: str  # absolute
    module: str  # dotted name the module is imported under
    line: int
    function: str  # qualified name; lambdas are named by their enclosing context
    operator: str
    original: str  # the source line
    mutated: str  # the same line, mutated
    before: str  # ast.unparse of the node
    after: str  # ast.unparse of its replacement
    node_index: int
    shown: bool  # inside a shown result: Derived(result=...) and what it uses in its function
    #: what the mutated code belongs to: "unit:<i>" (the i-th module-level statement),
    #: "step:<id>" (a lambda in that step's definition) or "import" (runs at import time)
    owner: str
    affected_steps: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class MutantResult:
    """The verdict on one mutant.  ``statuses``: the steps run, in order, and their status --
    a killed mutant stops at the first step that newly fails, so the rest are not listed;
    ``changed``: the steps whose status differs from the baseline, as (baseline, mutant)."""

    mutant: Mutant
    verdict: str  # one of VERDICTS
    statuses: dict[str, str] = field(default_factory=dict)
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)
    killed_by: str | None = None
    detail: str = ""
    seconds: float = 0.0
    equivalent: bool = False  # on the recorded list of equivalent mutants

    def record(self) -> dict:
        """The JSON record of ``symmag mutate --json``."""
        m = self.mutant
        return {"id": m.id, "file": m.file, "line": m.line, "function": m.function, "operator": m.operator,
                "original": m.original, "mutated": m.mutated, "shown_result": m.shown,
                "affected_steps": list(m.affected_steps), "verdict": self.verdict,
                "statuses": self.statuses, "changed": {k: list(v) for k, v in self.changed.items()},
                "killed_by": self.killed_by, "equivalent": self.equivalent, "detail": self.detail,
                "seconds": round(self.seconds, 3)}


@dataclass
class Report:
    """A mutation run: the results in drawing order and what is needed to summarize them."""

    results: list[MutantResult]
    eligible: int
    shown_eligible: int
    steps: list[str]  # every step id in derivation order
    baseline: dict[str, str]
    seconds: float
    seed: int
    equivalent_file: str | None = None

    def count(self, verdict: str) -> int:
        return sum(r.verdict == verdict for r in self.results)

    def summary(self) -> dict:
        killed, survived = self.count("killed"), self.count("survived")
        return {"eligible": self.eligible, "eligible_shown_results": self.shown_eligible,
                "drawn": len(self.results), "drawn_shown_results": sum(r.mutant.shown for r in self.results),
                "killed": killed, "survived": survived,
                "survived_equivalent": sum(r.verdict == "survived" and r.equivalent for r in self.results),
                "survived_no_step": sum(r.verdict == "survived" and not r.mutant.affected_steps
                                        for r in self.results),
                "timed_out": self.count("timed out"), "crashed": self.count("crashed"),
                "kill_ratio": round(killed / (killed + survived), 4) if killed + survived else None,
                "seed": self.seed, "equivalent_file": self.equivalent_file,
                "seconds": round(self.seconds, 2)}

    def exit_status(self) -> int:
        """1 when a survivor is not on the recorded list of equivalent mutants, else 0."""
        return int(any(r.verdict == "survived" and not r.equivalent for r in self.results))


# -- sources and their traversal -------------------------------------------------------------------
@dataclass(frozen=True)
class _Ctx:
    """Where a node sits, as the traversal passes it down."""

    unit: int  # index of the module-level statement
    label: str  # module-level context, for naming lambdas (e.g. "step[rsi-moment].bind")
    scope: str = ""  # qualified name of the enclosing def/class
    func: str | None = None  # qualified name of the innermost function whose body holds the node
    func_index: int | None = None  # traversal index of that function
    owner: str = ""  # see Mutant.owner
    mode: str = "stored"  # module-level code: "stored" (kept) or "called" (may run at import)
    step: str | None = None  # id of the enclosing module-level step call
    excluded: bool = False  # docstring, annotation, f-string or Erratum argument
    in_key: bool = False  # subscript slice or dict key


@dataclass(frozen=True)
class _Visit:
    node: ast.AST
    parent: ast.AST | None
    field: str
    pos: int | None
    ctx: _Ctx


@dataclass
class _Source:
    """A module file read once, parsed once: its mutants refer to nodes of this tree (a forked
    child mutates its own copy of it)."""

    path: Path
    rel: str
    module: str
    text: str
    tree: ast.Module
    visits: list[_Visit]
    neutral: set[int]  # node ids whose sign no correct check can see (compared with zero)
    shown: set[int]  # node ids inside shown results
    lines: list[str] = field(default_factory=list)
    parents: dict[int, ast.AST | None] = field(default_factory=dict)  # node id -> parent node

    def grandparent(self, v: _Visit) -> ast.AST | None:
        return self.parents.get(id(v.parent))


def _call_name(func: ast.AST) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Call):  # @lru_cache(maxsize=None), @dataclass(frozen=True)
        return _call_name(func.func)
    return ""


def _step_id(call: ast.Call) -> str | None:
    """The step id of a module-level step definition, when written as a string."""
    for kw in call.keywords:
        if kw.arg in ("id", "step_id") and _is_str(kw.value):
            return kw.value.value
    if _call_name(call.func) in STEP_CALLS and call.args and _is_str(call.args[0]):
        return call.args[0].value
    return None


def _statement_label(stmt: ast.stmt) -> str:
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return stmt.name
    if isinstance(stmt, ast.Assign):
        return ast.unparse(stmt.targets[0])
    if isinstance(stmt, ast.AnnAssign | ast.AugAssign):
        return ast.unparse(stmt.target)
    return f"<{type(stmt).__name__.lower()}>"


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and _is_str(stmt.value)


def _traverse(tree: ast.Module) -> list[_Visit]:
    """Every node in a fixed pre-order with its context; the same source gives the same list."""
    visits: list[_Visit] = []
    lambdas: dict[str, int] = {}  # lambdas named so far per enclosing name (this traversal only)

    def lambda_name(prefix: str) -> str:
        lambdas[prefix] = n = lambdas.get(prefix, 0) + 1
        return f"{prefix}.<lambda>" if n == 1 else f"{prefix}.<lambda{n}>"

    def visit(node: ast.AST, parent: ast.AST | None, fld: str, pos: int | None, ctx: _Ctx) -> None:
        visits.append(_Visit(node, parent, fld, pos, ctx))
        me = len(visits) - 1
        for fld2, pos2, child, cctx in _children(node, ctx, me, lambda_name):
            visit(child, node, fld2, pos2, cctx)

    for i, stmt in enumerate(tree.body):
        visit(stmt, tree, "body", i, _Ctx(unit=i, label=_statement_label(stmt)))
    return visits


def _fields(node: ast.AST, ctx: _Ctx, skip: Iterable[str] = ()):
    for name, value in ast.iter_fields(node):
        if name in skip:
            continue
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield name, i, item, ctx
        elif isinstance(value, ast.AST):
            yield name, None, value, ctx


def _children(node: ast.AST, ctx: _Ctx, me: int, lambda_name: Callable[[str], str]):
    """(field, position, child, child context) of one node: where the context changes."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        qual = f"{ctx.scope}.{node.name}" if ctx.scope else node.name
        owner = ctx.owner if ctx.func is not None else f"unit:{ctx.unit}"
        inner = replace(ctx, scope=qual, func=qual, func_index=me, owner=owner, mode="stored", step=None)
        for i, d in enumerate(node.decorator_list):
            yield "decorator_list", i, d, replace(ctx, mode="called")
        yield "args", None, node.args, ctx
        if node.returns is not None:
            yield "returns", None, node.returns, replace(ctx, excluded=True)
        for i, stmt in enumerate(node.body):
            yield "body", i, stmt, replace(inner, excluded=True) if i == 0 and _is_docstring(stmt) else inner
        return
    if isinstance(node, ast.Lambda):
        if ctx.func is not None:
            name, owner = lambda_name(ctx.func), ctx.owner
        else:
            name = lambda_name(ctx.label)
            owner = "import" if ctx.mode == "called" else f"step:{ctx.step}" if ctx.step \
                else f"unit:{ctx.unit}"
        yield "args", None, node.args, ctx
        yield "body", None, node.body, replace(ctx, scope=name, func=name, func_index=me, owner=owner)
        return
    if isinstance(node, ast.ClassDef):
        qual = f"{ctx.scope}.{node.name}" if ctx.scope else node.name
        for i, d in enumerate(node.decorator_list):
            yield "decorator_list", i, d, replace(ctx, mode="called")
        for fld, pos, child, _ in _fields(node, ctx, skip=("decorator_list", "body")):
            yield fld, pos, child, ctx
        for i, stmt in enumerate(node.body):
            doc = i == 0 and _is_docstring(stmt)
            yield "body", i, stmt, replace(ctx, scope=qual, excluded=ctx.excluded or doc)
        return
    if isinstance(node, ast.arg):  # only an annotation below
        yield from _fields(node, replace(ctx, excluded=True))
        return
    if isinstance(node, ast.AnnAssign):
        yield "target", None, node.target, ctx
        yield "annotation", None, node.annotation, replace(ctx, excluded=True)
        if node.value is not None:
            yield "value", None, node.value, ctx
        return
    if isinstance(node, ast.JoinedStr):  # messages, never mutated
        yield from _fields(node, replace(ctx, excluded=True))
        return
    if isinstance(node, ast.Subscript):
        yield "value", None, node.value, ctx
        yield "slice", None, node.slice, replace(ctx, in_key=True)
        yield "ctx", None, node.ctx, ctx
        return
    if isinstance(node, ast.Dict):
        for i, k in enumerate(node.keys):
            if k is not None:
                yield "keys", i, k, replace(ctx, in_key=True)
        for i, v in enumerate(node.values):
            yield "values", i, v, ctx
        return
    if isinstance(node, ast.Call):
        name = _call_name(node.func)
        if name == "Erratum":  # pinned expected residuals: like the printed tables, never mutated
            yield from _fields(node, replace(ctx, excluded=True))
            return
        if ctx.func is not None:
            yield from _fields(node, ctx)
            return
        sid = _step_id(node)
        label, step = (f"step[{sid}]", sid) if sid is not None else (ctx.label, ctx.step)
        keeps = ctx.mode != "called" and (name in STORING_CALLS or sid is not None)
        args_mode = "stored" if keeps else "called"
        yield "func", None, node.func, replace(ctx, mode="called")
        for i, a in enumerate(node.args):
            yield "args", i, a, replace(ctx, label=f"{label}.{i}", step=step, mode=args_mode)
        for i, kw in enumerate(node.keywords):
            yield "keywords", i, kw, replace(ctx, label=f"{label}.{kw.arg or '**'}", step=step,
                                             mode=args_mode)
        return
    yield from _fields(node, ctx)


def _zero_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return not isinstance(node.value, bool) and isinstance(node.value, int | float) and node.value == 0
    if isinstance(node, ast.Tuple | ast.List):
        return all(_zero_literal(e) for e in node.elts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):  # (0,) * 9
        return _zero_literal(node.left) or _zero_literal(node.right)
    return False


def _sign_neutral(tree: ast.Module) -> set[int]:
    """Nodes whose sign no correct check can see: a side compared with zero (x = 0 iff -x = 0,
    also componentwise) and the sides of Parallel (u x v = 0 iff (-u) x v = 0)."""
    out: set[int] = set()

    def mark(node: ast.AST, deep: bool) -> None:
        out.add(id(node))
        if deep and isinstance(node, ast.Tuple | ast.List):
            for e in node.elts:
                mark(e, deep)

    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _call_name(node.func) in CLAIMS and len(node.args) >= 2):
            continue
        a, b = node.args[:2]
        if _call_name(node.func) == "Parallel":
            mark(a, False)
            mark(b, False)
            continue
        for x, y in ((a, b), (b, a)):
            if _zero_literal(y):
                mark(x, True)
            elif isinstance(x, ast.Tuple | ast.List) and isinstance(y, ast.Tuple | ast.List) \
                    and len(x.elts) == len(y.elts):  # componentwise: (f, g) = (0, h)
                for xe, ye in zip(x.elts, y.elts):
                    if _zero_literal(ye):
                        mark(xe, True)
    return out


def _bound_names(target: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


def _used_names(expr: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _bindings(func: ast.AST) -> dict[str, list[ast.AST]]:
    """name -> the expressions assigned to it anywhere in the function."""
    out: dict[str, list[ast.AST]] = {}
    for node in ast.walk(func):
        pairs: list[tuple[ast.AST, ast.AST]] = []
        if isinstance(node, ast.Assign):
            pairs = [(t, node.value) for t in node.targets]
        elif isinstance(node, ast.AugAssign | ast.AnnAssign | ast.NamedExpr) and node.value is not None:
            pairs = [(node.target, node.value)]
        elif isinstance(node, ast.For | ast.comprehension):
            pairs = [(node.target, node.iter)]
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            pairs = [(node.optional_vars, node.context_expr)]
        for target, value in pairs:
            for name in _bound_names(target):
                out.setdefault(name, []).append(value)
    return out


def _shown_nodes(visits: list[_Visit]) -> set[int]:
    """Nodes of shown results: the ``result=`` of each Derived(...) call (keyword or first
    positional argument) and, transitively within its function, the right-hand sides of the
    assignments to the names it uses."""
    out: set[int] = set()
    for v in visits:
        n = v.node
        if not (isinstance(n, ast.Call) and _call_name(n.func) == "Derived"):
            continue
        result = next((kw.value for kw in n.keywords if kw.arg == "result"), n.args[0] if n.args else None)
        if result is None:
            continue
        exprs = [result]
        if v.ctx.func_index is not None:
            binds = _bindings(visits[v.ctx.func_index].node)
            todo, seen = _used_names(result), set()
            while todo:
                name = todo.pop()
                if name in seen:
                    continue
                seen.add(name)
                for value in binds.get(name, ()):
                    exprs.append(value)
                    todo |= _used_names(value)
        for e in exprs:
            out.update(id(x) for x in ast.walk(e))
    return out


def _module_location(path: Path) -> tuple[str, Path]:
    """(dotted module name, the package root's parent) as ``symmag check PATH`` imports it:
    inside a package by its dotted name, else as a standalone module."""
    parts, parent = [path.stem], path.parent
    while (parent / "__init__.py").is_file():
        parts.insert(0, parent.name)
        parent = parent.parent
    if len(parts) == 1:
        return f"symmag_user_{path.stem}", parent
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts), parent


def _parse(path: Path, text: str, shown_as: str) -> ast.Module:
    try:
        return ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise SymmagInputError(f"{shown_as}: syntax error at line {exc.lineno}: {exc.msg}") from None


def load_source(path: str | Path, shown_as: str | None = None) -> _Source:
    """Read and parse one derivation module (``shown_as``: how errors name it)."""
    path = Path(path).resolve()
    module, root = _module_location(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SymmagInputError(f"cannot read {shown_as or path}: {exc.strerror or exc}") from None
    tree = _parse(path, text, shown_as or str(path))
    visits = _traverse(tree)
    return _Source(path, path.relative_to(root).as_posix(), module, text, tree, visits,
                   _sign_neutral(tree), _shown_nodes(visits), text.splitlines(),
                   {id(v.node): v.parent for v in visits})


# -- mutation operators ----------------------------------------------------------------------------
def _is_int(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool)


def _is_neg(node: ast.AST) -> bool:
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)


def _not_arithmetic(node: ast.AST) -> bool:
    """Operands that make + and * concatenation or repetition (strings, sequences)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str | bytes)
    return isinstance(node, ast.JoinedStr | ast.Tuple | ast.List | ast.ListComp | ast.Dict | ast.Set)


_NEVER_NEGATED = (ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.ListComp, ast.SetComp,
                  ast.DictComp, ast.GeneratorExp, ast.Lambda, ast.Starred, ast.JoinedStr, ast.Compare,
                  ast.BoolOp, ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom, ast.Slice)


def _negatable(src: _Source, v: _Visit, grandparent: ast.AST | None) -> bool:
    """Where adding a unary minus makes a meaningful mutant: the first term of a sum, a
    component of a tuple or list, a returned arithmetic value, a side of a claim."""
    node, parent = v.node, v.parent
    if not isinstance(node, ast.expr) or isinstance(node, _NEVER_NEGATED) or v.ctx.in_key:
        return False
    if _is_neg(node) or id(node) in src.neutral:
        return False
    if isinstance(getattr(node, "ctx", ast.Load()), ast.Store | ast.Del):
        return False
    if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Add | ast.Sub) and v.field == "left":
        return not _not_arithmetic(parent.right)
    if isinstance(parent, ast.Tuple | ast.List) and isinstance(parent.ctx, ast.Load) and v.field == "elts":
        # not the class tuple of isinstance(x, (A, B))
        return not (isinstance(grandparent, ast.Call) and _call_name(grandparent.func) in ("isinstance",
                                                                                          "issubclass"))
    if (isinstance(parent, ast.Return) and v.field == "value") or (isinstance(parent, ast.Lambda)
                                                                   and v.field == "body"):
        if isinstance(node, ast.BinOp):
            return not (_not_arithmetic(node.left) or _not_arithmetic(node.right))
        return isinstance(node, ast.Call) and _call_name(node.func)[:1].islower() \
            and _call_name(node.func) not in NON_NUMERIC_CALLS
    return isinstance(parent, ast.Call) and _call_name(parent.func) in ("Equal", "NumericEqual") \
        and v.field == "args" and v.pos in (0, 1)


def _seed_position(v: _Visit) -> bool:
    if isinstance(v.parent, ast.keyword):
        return v.parent.arg == "seed"
    return isinstance(v.parent, ast.Call) and v.field == "args" and _call_name(v.parent.func) in SEED_CALLS


def _past_components(v: _Visit) -> bool:
    """x[2] -> x[3] and range(3) -> range(4) on the three components x, y, z only raise an
    IndexError: trivially killed, never informative."""
    node, parent = v.node, v.parent
    if isinstance(parent, ast.Subscript) and v.field == "slice":
        return node.value == 2
    return isinstance(parent, ast.Call) and _call_name(parent.func) == "range" and len(parent.args) == 1 \
        and node.value == 3


def _at(new: ast.AST, old: ast.AST) -> ast.AST:
    return ast.fix_missing_locations(ast.copy_location(new, old))


def _mutations(src: _Source, v: _Visit, grandparent: ast.AST | None) -> list[tuple[str, ast.AST]]:
    """(operator, replacement) for one node, in a fixed order; replacements share children
    with the original and are only ever put in place of it."""
    node = v.node
    out: list[tuple[str, ast.AST]] = []
    if isinstance(node, ast.BinOp) and not (_not_arithmetic(node.left) or _not_arithmetic(node.right)):
        left, right, op = node.left, node.right, node.op
        if isinstance(op, ast.Add):
            out += [("add->sub", ast.BinOp(left, ast.Sub(), right)), ("drop-right-term", left),
                    ("drop-left-term", right)]
        elif isinstance(op, ast.Sub):
            out += [("sub->add", ast.BinOp(left, ast.Add(), right)), ("drop-right-term", left),
                    ("drop-left-term", ast.UnaryOp(ast.USub(), right))]
        elif isinstance(op, ast.Mult):
            out += [("mul->div", ast.BinOp(left, ast.Div(), right)),
                    ("mul->add", ast.BinOp(left, ast.Add(), right))]
        elif isinstance(op, ast.Div):
            out += [("div->mul", ast.BinOp(left, ast.Mult(), right))]
        elif isinstance(op, ast.Pow) and not (_is_int(right) or (_is_neg(right) and _is_int(right.operand))):
            # integer exponents are changed by the constant operators already
            bumped = ast.BinOp(right, ast.Add(), ast.Constant(1))
            out += [("pow-exponent", ast.BinOp(left, ast.Pow(), bumped))]
    if _is_neg(node) and id(node) not in src.neutral:
        out.append(("drop-neg", node.operand))
    if _negatable(src, v, grandparent):
        out.append(("add-neg", ast.UnaryOp(ast.USub(), node)))
    if _is_int(node) and node.value <= SMALL_INT and not _seed_position(v):
        if not _past_components(v):
            out.append(("int+1", ast.Constant(node.value + 1)))
        if node.value != 1:  # 1 -> 0 mostly divides by zero or empties a range: trivially killed
            out.append(("int-1", ast.Constant(node.value - 1)))
    if isinstance(node, ast.Call) and len(node.args) >= 2 and _call_name(node.func) not in SYMMETRIC_CALLS \
            and not any(isinstance(a, ast.Starred) for a in node.args[:2]) \
            and ast.unparse(node.args[0]) != ast.unparse(node.args[1]):
        out.append(("swap-args", ast.Call(node.func, [node.args[1], node.args[0], *node.args[2:]],
                                          node.keywords)))
    # a replacement that is a child of the node keeps its own location; only new nodes get the node's
    kids = {id(c) for c in ast.iter_child_nodes(node)}
    return [(name, new if id(new) in kids else _at(new, node)) for name, new in out]


def _eligible(v: _Visit) -> bool:
    return v.ctx.func is not None and not v.ctx.excluded and isinstance(v.node, ast.expr)


def _segment(line: str, start: int, end: int | None) -> tuple[str, str, str]:
    """Split a source line at AST byte offsets."""
    raw = line.encode("utf-8")
    end = len(raw) if end is None else end
    return raw[:start].decode("utf-8", "replace"), raw[start:end].decode("utf-8", "replace"), \
        raw[end:].decode("utf-8", "replace")


def _shown_lines(src: _Source, v: _Visit, new: ast.AST) -> tuple[str, str]:
    """The source line before and after the mutation (one line; a node spanning several lines
    is shown as its unparsed text)."""
    node, lines = v.node, src.lines
    if node.lineno == node.end_lineno and node.lineno <= len(lines):
        line = lines[node.lineno - 1]
        head, _, tail = _segment(line, node.col_offset, node.end_col_offset)
        text = ast.unparse(new)
        bare = not (head.rstrip().endswith("(") and tail.lstrip().startswith(")")) and v.field != "slice"
        if bare and isinstance(new, ast.BinOp | ast.UnaryOp) and isinstance(v.parent, ast.BinOp | ast.UnaryOp
                                                                            | ast.Attribute | ast.Subscript):
            text = f"({text})"  # as the mutant is parsed, not as the bare text would read
        return line.strip(), (head + text + tail).strip()
    return _short(ast.unparse(node)), _short(ast.unparse(new))


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def mutant_id(file: str, function: str, operator: str, before: str, after: str, occurrence: int) -> str:
    """The stable id: no line number, only what the mutation is and where in which function."""
    key = "\x1f".join((file, function, operator, before, after, str(occurrence)))
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:ID_LENGTH]


def find_mutants(src: _Source) -> list[Mutant]:
    """Every eligible mutant of one module, in source order."""
    if src.path.name == "printed.py":  # the paper's printed equations are never mutated
        return []
    seen: dict[tuple[str, str, str, str], int] = {}
    out: list[Mutant] = []
    for index, v in enumerate(src.visits):
        if not _eligible(v):
            continue
        for operator, new in _mutations(src, v, src.grandparent(v)):
            before, after = ast.unparse(v.node), ast.unparse(new)
            if before == after:
                continue
            key = (v.ctx.func, operator, before, after)
            seen[key] = occurrence = seen.get(key, -1) + 1
            original, mutated = _shown_lines(src, v, new)
            out.append(Mutant(
                id=mutant_id(src.rel, v.ctx.func, operator, before, after, occurrence), file=src.rel,
                path=str(src.path), module=src.module, line=v.node.lineno, function=v.ctx.func,
                operator=operator, original=original, mutated=mutated, before=before, after=after,
                node_index=index, shown=id(v.node) in src.shown, owner=v.ctx.owner))
    return out


def apply_mutant(src: _Source, mutant: Mutant) -> ast.AST:
    """Put the mutant's replacement in place in ``src.tree`` (in place: call it in a child, or
    undo it with :func:`_undo`); returns the node replaced.  Checks that the node is the one the
    mutant was found at and that the function's source changed."""
    v = src.visits[mutant.node_index]
    if ast.unparse(v.node) != mutant.before:
        raise RuntimeError(f"mutant {mutant.id}: the source changed since it was found")
    new = dict(_mutations(src, v, src.grandparent(v))).get(mutant.operator)
    if new is None or ast.unparse(new) != mutant.after:
        raise RuntimeError(f"mutant {mutant.id}: operator {mutant.operator} does not apply here")
    func = src.visits[v.ctx.func_index].node
    before = ast.unparse(func)
    _put(v, new)
    if ast.unparse(func) == before:
        _put(v, v.node)
        raise RuntimeError(f"mutant {mutant.id} leaves {mutant.function} unchanged")
    return v.node


def _put(v: _Visit, new: ast.AST) -> None:
    if v.pos is None:
        setattr(v.parent, v.field, new)
    else:
        getattr(v.parent, v.field)[v.pos] = new


def _undo(src: _Source, mutant: Mutant) -> None:
    v = src.visits[mutant.node_index]
    _put(v, v.node)


def mutated_code(src: _Source, mutant: Mutant):
    """The code object of the mutated module, compiled under the original file name (so that
    tracebacks point to real lines), without this module's __future__ flags."""
    apply_mutant(src, mutant)
    try:
        return compile(src.tree, str(src.path), "exec", dont_inherit=True)
    finally:
        _undo(src, mutant)


# -- the static call graph -------------------------------------------------------------------------
@dataclass
class _Module:
    """A module of the analysed set: what its names are bound to and what it imports."""

    name: str
    path: Path
    tree: ast.Module
    package: str  # for relative imports
    names: dict[str, list[int]] = field(default_factory=dict)  # name -> defining statements
    imports: dict[str, tuple[str, ...]] = field(default_factory=dict)  # ("module", m) | ("from", m, attr)
    stars: list[str] = field(default_factory=list)
    edges: set[str] = field(default_factory=set)  # modules of the set it imports


Ref = tuple[str, ...]  # a name and the attributes taken of it: ("printed", "table")
Unit = tuple[str, int]  # (module, index of the module-level statement)


def _absolute(module: _Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.package.split(".") if module.package else []
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join([*base, node.module] if node.module else base)


def _module_names(stmt: ast.stmt) -> set[str]:
    """Names a module-level statement binds (not those bound inside functions or classes)."""
    out: set[str] = set()

    def walk(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.add(node.name)
            return
        if isinstance(node, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
            return  # their variables are their own
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
        for child in ast.iter_child_nodes(node):
            walk(child)

    walk(stmt)
    return out


def _build_module(name: str, path: Path, tree: ast.Module, is_package: bool, known: set[str]) -> _Module:
    m = _Module(name, path, tree, name if is_package else name.rpartition(".")[0])
    for i, stmt in enumerate(tree.body):
        for n in _module_names(stmt):
            m.names.setdefault(n, []).append(i)
    # imports anywhere, also inside functions: a function-level import binds a name in that
    # function only, but reading it as module-level can only add dependencies
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    m.imports[a.asname] = ("module", a.name)
                else:
                    m.imports[a.name.split(".")[0]] = ("module", a.name.split(".")[0])
                m.edges |= {x for x in _prefixes(a.name) if x in known}
        elif isinstance(node, ast.ImportFrom):
            src = _absolute(m, node)
            m.edges |= {x for x in _prefixes(src) if x in known}
            for a in node.names:
                if a.name == "*":
                    m.stars.append(src)
                    continue
                m.imports[a.asname or a.name] = ("from", src, a.name)
                if f"{src}.{a.name}" in known:
                    m.edges.add(f"{src}.{a.name}")
    return m


def _prefixes(dotted: str) -> list[str]:
    parts = dotted.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _chain(node: ast.Attribute) -> Ref | None:
    parts: list[str] = []
    cur: ast.AST = node
    while isinstance(cur, ast.Attribute):
        parts.insert(0, cur.attr)
        cur = cur.value
    if isinstance(cur, ast.Name):
        return (cur.id, *parts)
    return None


def _params(args: ast.arguments) -> set[str]:
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    return {a.arg for a in every if a is not None}


def _locals(func: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Names local to a function: its parameters and what its own body binds (not what nested
    functions, classes or comprehensions bind, except walrus targets), minus ``global``."""
    out = _params(func.args)
    declared: set[str] = set()

    def walk(node: ast.AST, in_comprehension: bool = False) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.add(node.name)
            return
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
            in_comprehension = True
        if isinstance(node, ast.NamedExpr):
            out.add(node.target.id)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            if not in_comprehension:
                out.add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            out.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            declared.update(node.names)
        for child in ast.iter_child_nodes(node):
            walk(child, in_comprehension)

    for stmt in func.body:
        walk(stmt)
    return out - declared


def _collect(node: ast.AST, mode: str, refs: set[Ref], called: set[Ref], skip: set[int],
             local: frozenset[str] = frozenset()) -> None:
    """References to module-level names under ``node`` (``local``: names bound in an enclosing
    function, lambda or comprehension, which are not).  ``mode`` at module level: "stored" (the
    value is kept) or "called" (it may run now, at import); "deferred" inside function bodies.
    ``called`` gets the references that may run at import time."""
    if id(node) in skip:
        return

    def go(child: ast.AST, m: str = mode, loc: frozenset[str] = local) -> None:
        _collect(child, m, refs, called, skip, loc)

    if isinstance(node, ast.Name):
        if isinstance(node.ctx, ast.Load) and node.id not in local:
            refs.add((node.id,))
            if mode == "called":
                called.add((node.id,))
        return
    if isinstance(node, ast.Attribute):
        chain = _chain(node)
        if chain is not None and isinstance(node.ctx, ast.Load):
            if chain[0] not in local:
                refs.add(chain)
                if mode == "called":
                    called.add(chain)
            return
    if isinstance(node, ast.arg):
        return  # annotations only
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        for d in getattr(node, "decorator_list", ()):
            go(d, "deferred" if mode == "deferred" else "called")
        for d in (*node.args.defaults, *(x for x in node.args.kw_defaults if x is not None)):
            go(d)
        if isinstance(node, ast.Lambda):
            go(node.body, "called" if mode == "called" else "deferred", local | _params(node.args))
        else:
            inner = local | _locals(node)
            for stmt in node.body:
                go(stmt, "deferred", inner)
        return
    if isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
        inner = local | {n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
        for child in ast.iter_child_nodes(node):
            go(child, mode, inner)
        return
    if isinstance(node, ast.AnnAssign):
        go(node.target)
        if node.value is not None:
            go(node.value)
        return
    if isinstance(node, ast.ClassDef):
        for d in node.decorator_list:
            go(d, "deferred" if mode == "deferred" else "called")
        for child in (*node.bases, *node.keywords, *node.body):
            go(child)
        return
    if isinstance(node, ast.Call) and mode != "deferred":
        storing = _call_name(node.func) in STORING_CALLS or _step_id(node) is not None
        go(node.func, "called")
        for child in (*node.args, *node.keywords):
            go(child, "stored" if storing and mode == "stored" else "called")
        return
    for child in ast.iter_child_nodes(node):
        go(child)


#: calls that wrap a function without calling it (what a wrapping decorator may hand it to)
WRAPPING_CALLS = frozenset({"wraps", "update_wrapper", "cache", "cached", "lru_cache", "partial"})


def wraps_only(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Is ``func`` a decorator that only wraps its argument: uses it inside the functions it
    builds (which it returns, never calls or hands elsewhere) or passes it to functools.wraps,
    cache and the like, and neither calls nor stores it while decorating?  A decorator that
    registers what it decorates hides who calls it: that is not wrapping."""
    params = [*func.args.posonlyargs, *func.args.args]
    if not params:
        return False
    arg = params[0].arg
    built = {n.name for n in func.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    ok = [True]

    def walk(node: ast.AST, parent: ast.AST | None) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for d in node.decorator_list:
                walk(d, node)
            return  # its body runs later, when the wrapper is called
        if isinstance(node, ast.Lambda):
            if not (isinstance(parent, ast.Call) and _call_name(parent.func) in WRAPPING_CALLS):
                ok[0] = False  # a lambda handed to anything else may be called now
            return
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Lambda) or (isinstance(node.func, ast.Name)
                                                     and node.func.id in built | {arg}):
                ok[0] = False
            wrapping = _call_name(node.func) in WRAPPING_CALLS
            walk(node.func, node)
            for a in (*node.args, *(k.value for k in node.keywords)):
                if isinstance(a, ast.Name) and a.id == arg and wrapping:
                    continue
                walk(a, node)
            return
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in built | {arg}:
            return  # reading f.__name__, setting wrapper.cache_clear
        if isinstance(node, ast.Name) and (node.id == arg or node.id in built):
            if not (node.id in built and isinstance(parent, ast.Return)):  # returning the wrapper is fine
                ok[0] = False  # called, stored or handed on: no longer only wrapped
            return
        for child in ast.iter_child_nodes(node):
            walk(child, node)

    for stmt in func.body:
        walk(stmt, func)
    return ok[0]


def wrapper_factory(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A decorator factory (``@cached_on(key)``) whose every return is one of its own nested
    decorators, each of which only wraps (:func:`wraps_only`)."""
    nested = {n.name: n for n in func.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    returns = [n for n in func.body if isinstance(n, ast.Return)]
    return bool(returns) and all(isinstance(r.value, ast.Name) and r.value.id in nested
                                 and wraps_only(nested[r.value.id]) for r in returns)


def _plain_decorators(stmt: ast.stmt, wrapping: Callable[[ast.AST], bool]) -> bool:
    """False when a decorator might call the function at import, or register it (then who
    calls it is not in the code): plain are the known ones and those ``wrapping`` accepts."""
    for node in ast.walk(stmt):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if any(_call_name(d) not in PLAIN_DECORATORS and not wrapping(d) for d in node.decorator_list):
                return False
    return True


@dataclass(frozen=True)
class _StepNode:
    id: str
    module: str
    unit: int
    refs: frozenset[Ref]


@dataclass
class Graph:
    """Which module-level statements each statement and each step definition reaches."""

    modules: dict[str, _Module]
    deps: dict[Unit, set[Unit]]  # direct dependencies of each module-level statement
    import_time: set[Unit]  # statements that may run at import time
    step_units: dict[str, set[Unit]]  # step id -> every statement it reaches (transitively)
    importers: dict[str, set[str]]  # module -> modules importing it, transitively, itself included

    def affected(self, mutant: Mutant, steps: Sequence[str],
                 step_modules: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
        """The steps (of ``steps``, in that order) a mutant can affect.  A step with no static
        definition counts as affected by every mutant (its dependencies are unknown)."""
        unknown = [s for s in steps if s not in self.step_units]
        kind, _, rest = mutant.owner.partition(":")
        unit = (mutant.module, int(rest)) if kind == "unit" else None
        if kind == "import" or unit in self.import_time:
            # runs at import time: anything built from it may differ, in every importer
            mods = self.importers.get(mutant.module, {mutant.module})
            hit = {s for s in steps
                   if not step_modules.get(s) or any(m in mods for m in step_modules[s])}
        elif kind == "step":
            hit = {rest}
        else:
            hit = {s for s, units in self.step_units.items() if unit in units}
        hit |= set(unknown)
        return tuple(s for s in steps if s in hit)


def _resolver(modules: dict[str, _Module]) -> Callable[[str, Ref], set[Unit]]:
    everything = {(name, i) for name, m in modules.items() for i in range(len(m.tree.body))}
    memo: dict[tuple[str, Ref], set[Unit]] = {}

    def whole(mod: str, rest: Ref, seen: frozenset) -> set[Unit]:
        if not rest:  # the module itself is used (passed around, getattr): all of it
            return {(mod, i) for i in range(len(modules[mod].tree.body))}
        sub = f"{mod}.{rest[0]}"
        if sub in modules:
            return whole(sub, rest[1:], seen)
        return resolve(mod, rest, seen)

    def resolve(mod: str, ref: Ref, seen: frozenset = frozenset()) -> set[Unit]:
        if ref[0] in DYNAMIC_NAMES:
            return set(everything)
        key = (mod, ref[:2])
        if key in memo:
            return memo[key]
        if key in seen or mod not in modules:
            return set()
        seen = seen | {key}
        m = modules[mod]
        out = {(mod, i) for i in m.names.get(ref[0], ())}
        target = m.imports.get(ref[0])
        if target is not None and target[0] == "module":
            if target[1] in modules:
                out |= whole(target[1], ref[1:], seen)
            elif ref[0] in modules:  # import pkg.sub: the chain names the submodule
                out |= whole(ref[0], ref[1:], seen)
        elif target is not None:
            src, attr = target[1], target[2]
            if f"{src}.{attr}" in modules:
                out |= whole(f"{src}.{attr}", ref[1:], seen)
            elif src in modules:
                out |= resolve(src, (attr, *ref[1:]), seen)
        elif not out:
            for src in m.stars:
                if src in modules:
                    out |= resolve(src, ref, seen)
        memo[key] = out
        return out

    return resolve


def build_graph(modules: dict[str, _Module], loaded: Iterable[str], step_ids: set[str]) -> Graph:
    """The call graph over ``modules``; ``loaded``: the modules imported when the derivations
    are (their import-time code runs); ``step_ids``: the step ids of the derivations run."""
    resolve = _resolver(modules)
    deps: dict[Unit, set[Unit]] = {}
    seeds: set[Unit] = set()
    step_nodes: list[_StepNode] = []
    context: dict[str, set[Ref]] = {}  # module -> references of its derivation definitions
    context_units: dict[str, set[Unit]] = {}
    live = _import_closure(modules, loaded)

    def wrapping(mod: str, decorator: ast.AST) -> bool:
        """A decorator of the analysed modules that only wraps (a name, or a factory's call)."""
        factory = isinstance(decorator, ast.Call)
        target = decorator.func if factory else decorator
        ref = (target.id,) if isinstance(target, ast.Name) else \
            _chain(target) if isinstance(target, ast.Attribute) else None
        defs = [modules[m].tree.body[i] for m, i in (resolve(mod, ref) if ref else ())]
        check = wrapper_factory if factory else wraps_only
        return bool(defs) and all(isinstance(d, ast.FunctionDef | ast.AsyncFunctionDef) and check(d)
                                  for d in defs)
    for name, m in modules.items():
        for i, stmt in enumerate(m.tree.body):
            refs: set[Ref] = set()
            called: set[Ref] = set()
            _collect(stmt, "stored", refs, called, set())
            deps[(name, i)] = {u for r in refs for u in resolve(name, r)}
            if name in live:
                seeds |= {u for r in called for u in resolve(name, r)}
                if not _plain_decorators(stmt, lambda d, name=name: wrapping(name, d)):
                    seeds.add((name, i))
            calls = _step_calls(stmt, step_ids)
            if calls or any(isinstance(n, ast.Call) and _call_name(n.func) == "Derivation"
                            for n in ast.walk(stmt)):
                rest: set[Ref] = set()
                _collect(stmt, "stored", rest, set(), {id(c) for _, c in calls})
                context.setdefault(name, set()).update(rest)
                context_units.setdefault(name, set()).add((name, i))
            for sid, call in calls:
                srefs: set[Ref] = set()
                _collect(call, "stored", srefs, set(), set())
                step_nodes.append(_StepNode(sid, name, i, frozenset(srefs)))
    import_time = _closure(seeds, deps)
    step_units: dict[str, set[Unit]] = {}
    for node in step_nodes:
        start = {u for r in node.refs | context.get(node.module, set()) for u in resolve(node.module, r)}
        reach = _closure(start, deps) | {(node.module, node.unit)} | context_units.get(node.module, set())
        step_units.setdefault(node.id, set()).update(reach)
    importers = {name: {name} for name in modules}
    for name in modules:
        for other in _import_closure(modules, [name]):
            importers[other].add(name)
    return Graph(modules, deps, import_time, step_units, importers)


def _closure(start: Iterable[Unit], deps: Mapping[Unit, set[Unit]]) -> set[Unit]:
    out: set[Unit] = set()
    todo = list(start)
    while todo:
        u = todo.pop()
        if u not in out:
            out.add(u)
            todo.extend(deps.get(u, ()))
    return out


def _import_closure(modules: Mapping[str, _Module], start: Iterable[str]) -> set[str]:
    out: set[str] = set()
    todo = [m for m in start if m in modules]
    while todo:
        m = todo.pop()
        if m not in out:
            out.add(m)
            todo.extend(modules[m].edges)
    return out


def _step_calls(stmt: ast.stmt, step_ids: set[str]) -> list[tuple[str, ast.Call]]:
    """Module-level step definitions in a statement (outside function bodies), outermost."""
    out: list[tuple[str, ast.Call]] = []

    def walk(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return
        if isinstance(node, ast.Call):
            sid = _step_id(node)
            if sid is None and node.args and isinstance(node.args[0], ast.Constant) \
                    and node.args[0].value in step_ids:
                sid = node.args[0].value  # a step helper of another name
            if sid is not None:
                out.append((sid, node))
                return
        for child in ast.iter_child_nodes(node):
            walk(child)

    walk(stmt)
    return out


def load_modules(files: Mapping[str, tuple[Path, bool]], given: Sequence[_Source] = ()) -> dict[str, _Module]:
    """The analysed modules: ``given`` (already parsed) and the module files of
    :func:`package_modules`; a file that does not parse is left out (if a derivation imports
    it, the derivations do not import, and that is reported)."""
    trees: dict[str, tuple[Path, ast.Module, bool]] = {s.module: (s.path, s.tree, False) for s in given}
    for name, (path, is_package) in files.items():
        if name not in trees:
            try:
                trees[name] = (path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path)),
                               is_package)
            except (SyntaxError, OSError, UnicodeDecodeError):
                continue
    return {name: _build_module(name, path, tree, is_package, set(trees))
            for name, (path, tree, is_package) in trees.items()}


def package_modules(root: Path, package: str) -> dict[str, tuple[Path, bool]]:
    """dotted name -> (file, is a package) for every module file of a package directory."""
    out: dict[str, tuple[Path, bool]] = {}
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        out[".".join(parts)] = (path, is_package)
    return out


# -- drawing and the recorded equivalents ----------------------------------------------------------
def draw(mutants: Sequence[Mutant], n: int, seed: int) -> list[Mutant]:
    """``n`` mutants drawn uniformly with ``random.Random(seed)``, at least ``SHOWN_SHARE`` of
    them (rounded up) from shown results when there are that many; returned in source order."""
    rng = random.Random(seed)
    n = max(0, min(n, len(mutants)))
    shown = [m for m in mutants if m.shown]
    picked = rng.sample(shown, min(len(shown), math.ceil(SHOWN_SHARE * n)))
    chosen = {m.id for m in picked}
    rest = [m for m in mutants if m.id not in chosen]
    picked += rng.sample(rest, n - len(picked))
    order = {m.id: i for i, m in enumerate(mutants)}
    return sorted(picked, key=lambda m: order[m.id])


_ID_CELL = re.compile(rf"^`?([0-9a-f]{{{ID_LENGTH}}})`?$")


def parse_equivalents(text: str) -> set[str]:
    """Mutant ids from a Markdown table whose first column is the id (in backticks); header,
    separator and any other row are skipped."""
    out: set[str] = set()
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            continue
        match = _ID_CELL.match(line.strip("|").split("|")[0].strip())
        if match:
            out.add(match.group(1))
    return out


def read_equivalents(path: Path | None, required: bool) -> set[str]:
    if path is None:
        return set()
    if not path.is_file():
        if required:
            raise SymmagInputError(f"no such file: {path}")
        return set()
    try:
        return parse_equivalents(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SymmagInputError(f"cannot read {path}: {exc}") from None


# -- the forked runner -----------------------------------------------------------------------------
@dataclass
class _Task:
    key: Any
    run: Callable[[], dict]  # runs in the child; its result goes back as JSON
    timeout: float


@dataclass(frozen=True)
class _Outcome:
    key: Any
    kind: str  # "ok", "timed out" or "crashed"
    payload: dict | None
    seconds: float
    detail: str = ""


@dataclass
class _Running:
    task: _Task
    pid: int
    fd: int
    start: float
    chunks: list[bytes] = field(default_factory=list)


def _child(task: _Task, write_fd: int) -> None:
    """In the forked child: never returns.  Anything that ends it without a report -- sys.exit,
    os._exit, a signal, an error of this module -- is a crash for the parent."""
    status = 70
    try:
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):  # not the parent's handlers
            signal.signal(sig, signal.SIG_DFL)
        with contextlib.suppress(OSError):
            os.setpgid(0, 0)  # its own process group: a timeout kills whatever it started too
        # a child whose parent is gone (killed, say) still ends: SIGALRM's default action
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(int(task.timeout) + 30)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # the parent's output (e.g. --json) stays clean
            os.dup2(null, fd)
        try:
            payload = task.run()
        except Exception as exc:  # an error of this module, not of the mutant: say what it was
            payload = {"internal_error": f"{type(exc).__name__}: {exc}"}
        data = json.dumps(payload).encode("utf-8")
        while data:
            data = data[os.write(write_fd, data):]
        status = 0
    finally:
        os._exit(status)


def _start(task: _Task) -> _Running:
    read_fd, write_fd = os.pipe()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(task, write_fd)
    os.close(write_fd)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)  # also from the parent: no race with a kill right after the fork
    return _Running(task, pid, read_fd, time.monotonic())


def _kill(pid: int) -> None:
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            kill()
            break
        except OSError:
            continue
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _reap(rec: _Running) -> int | None:
    """Wait for a child whose pipe closed; SIGKILL it if it lingers past its deadline."""
    deadline = rec.start + rec.task.timeout
    while True:
        try:
            pid, status = os.waitpid(rec.pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if pid:
            return status
        if time.monotonic() > deadline:
            _kill(rec.pid)
            return None
        time.sleep(0.005)


def _finish(rec: _Running) -> _Outcome:
    status = _reap(rec)
    seconds = time.monotonic() - rec.start
    data = b"".join(rec.chunks)
    if status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and data:
        try:
            return _Outcome(rec.task.key, "ok", json.loads(data), seconds)
        except ValueError:
            pass
    if status is None:
        why = "killed after closing its pipe"
    elif os.WIFSIGNALED(status):
        why = f"killed by signal {os.WTERMSIG(status)}"
    else:
        why = f"exited with status {os.WEXITSTATUS(status)} without reporting"
    return _Outcome(rec.task.key, "crashed", None, seconds, why)


class Stopped(Exception):
    """SIGTERM or SIGHUP while mutants run: the children are killed, then this propagates."""

    def __init__(self, signum: int):
        super().__init__(f"stopped by signal {signum}; no mutant is left running")
        self.signum = signum


@contextlib.contextmanager
def _stopped_by_signals():
    """While children run, SIGTERM and SIGHUP raise :class:`Stopped` (so that the children are
    killed on the way out) instead of ending the parent and orphaning them."""
    def stop(signum, frame):
        raise Stopped(signum)

    saved = {}
    try:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            saved[sig] = signal.signal(sig, stop)
    except ValueError:  # not the main thread: signals stay as they are
        pass
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def run_forked(tasks: Iterable[_Task], jobs: int, on_done: Callable[[_Outcome], Iterable[_Task]]) -> None:
    """Run each task in a forked child, at most ``jobs`` at once, in order; ``on_done`` gets
    each outcome as it comes and may return more tasks.  No child outlives this call."""
    with _stopped_by_signals():
        _run_forked(deque(tasks), jobs, on_done)


def _run_forked(queue: deque[_Task], jobs: int, on_done: Callable[[_Outcome], Iterable[_Task]]) -> None:
    sel = selectors.DefaultSelector()
    running: dict[int, _Running] = {}

    def close(rec: _Running) -> None:
        sel.unregister(rec.fd)
        os.close(rec.fd)
        del running[rec.fd]

    try:
        while queue or running:
            while queue and len(running) < jobs:
                rec = _start(queue.popleft())
                running[rec.fd] = rec
                sel.register(rec.fd, selectors.EVENT_READ)
            wait = min(r.start + r.task.timeout for r in running.values()) - time.monotonic()
            for key, _ in sel.select(timeout=max(0.0, min(wait, 1.0))):
                rec = running[key.fd]
                chunk = os.read(key.fd, 1 << 16)
                if chunk:
                    rec.chunks.append(chunk)
                    continue
                close(rec)
                queue.extend(on_done(_finish(rec)))
            now = time.monotonic()
            for rec in [r for r in running.values() if now >= r.start + r.task.timeout]:
                _kill(rec.pid)
                close(rec)
                queue.extend(on_done(_Outcome(rec.task.key, "timed out", None, now - rec.start,
                                              f"no verdict within {rec.task.timeout:g} s")))
    finally:
        for rec in list(running.values()):
            _kill(rec.pid)
            close(rec)
        sel.close()


# -- what the children do --------------------------------------------------------------------------
def _drop_modules(packages: Iterable[str]) -> None:
    """Forget the imported modules of these packages: the child imports them afresh."""
    for name in list(sys.modules):
        if any(name == p or name.startswith(p + ".") for p in packages):
            del sys.modules[name]


def _install(path: str, code) -> list[str]:
    """Make the import system execute ``code`` for the module file ``path``, under whatever
    name it is imported (its real dotted name; ``symmag check``'s name for a standalone file):
    the module is in sys.modules before its body runs, so its dependants import the mutant.
    Returns the list that records each such import (empty: the mutant was never imported)."""
    from importlib.machinery import SourceFileLoader

    target, used = os.path.realpath(path), []
    original = SourceFileLoader.get_code

    def get_code(self, fullname):
        if os.path.realpath(self.path) == target:
            used.append(fullname)
            return code
        return original(self, fullname)

    SourceFileLoader.get_code = get_code  # in a forked child only, which exits afterwards
    return used


def _error_text(exc: BaseException) -> str:
    return _short(f"{type(exc).__name__}: {exc}", 300)


def _run_steps(paths: Sequence[str], steps: Sequence[str], known_failing: frozenset[str],
               stop_early: bool) -> dict:
    """Import the derivations and run the named steps; with ``stop_early``, stop at the first
    step that fails the gate and is not in ``known_failing``."""
    from symmag.checking.derivation import run_step
    from symmag.checking.runner import discover

    start, kill = time.perf_counter(), killing()
    try:
        derivations = discover(list(paths))
    except Exception as exc:  # the mutant does not import: killed (the baseline: bad input)
        return {"import_error": _error_text(exc)}
    by_id = {s.id: (s, d) for d in derivations for s in d.steps}
    statuses: dict[str, str] = {}
    seconds: dict[str, float] = {}
    details: dict[str, str] = {}
    stopped = None
    for sid in steps:
        t0 = time.perf_counter()
        if sid not in by_id:
            statuses[sid], details[sid] = MISSING, "the step is gone"
        else:
            try:
                r = run_step(*by_id[sid])
                statuses[sid] = r.status
                if r.status in kill:
                    details[sid] = _short(r.detail, 300)
            except Exception as exc:  # run_step re-raises SymmagInputError by design
                statuses[sid], details[sid] = RAISED, _error_text(exc)
        seconds[sid] = round(time.perf_counter() - t0, 4)
        if stop_early and statuses[sid] in kill and sid not in known_failing:
            stopped = sid
            break
    return {"statuses": statuses, "seconds": seconds, "details": details, "stopped": stopped,
            "total": time.perf_counter() - start}


def _discovery(paths: Sequence[str], packages: Sequence[str]) -> dict:
    """Child: the derivations, their modules and steps, and the package modules imported."""
    from symmag.checking.runner import discover

    _drop_modules(packages)
    try:
        if paths:
            found = [(d, [_module_location(Path(p).resolve())[0]]) for p in paths for d in discover([p])]
        else:
            derivations = discover()
            found = [(d, _owning_modules(d, packages)) for d in derivations]
    except SymmagInputError as exc:
        return {"error": str(exc)}
    except Exception as exc:
        return {"error": f"the derivations do not import: {_error_text(exc)}"}
    loaded = sorted(n for n in sys.modules if any(n == p or n.startswith(p + ".") for p in packages))
    return {"derivations": [{"name": d.name, "modules": mods, "cost": float(getattr(d, "cost", 1.0)),
                             "steps": [s.id for s in d.steps]} for d, mods in found],
            "loaded": loaded}


def _owning_modules(derivation, packages: Sequence[str]) -> list[str]:
    out = []
    for name, mod in list(sys.modules.items()):
        if mod is None or not any(name == p or name.startswith(p + ".") for p in packages):
            continue
        found = getattr(mod, "DERIVATIONS", None) or getattr(mod, "DERIVATION", None)
        if found is derivation or (isinstance(found, list | tuple) and any(d is derivation for d in found)):
            out.append(name)
    return out


def _baseline_task(paths: Sequence[str], packages: Sequence[str], steps: Sequence[str]) -> dict:
    _drop_modules(packages)
    return _run_steps(paths, steps, frozenset(), stop_early=False)


def _mutant_task(paths: Sequence[str], packages: Sequence[str], src: _Source, mutant: Mutant,
                 known_failing: frozenset[str]) -> dict:
    _drop_modules(packages)
    used = _install(mutant.path, mutated_code(src, mutant))
    out = _run_steps(paths, mutant.affected_steps, known_failing, stop_early=True)
    if not used and "import_error" not in out:
        return {"internal_error": f"the mutated module {mutant.module} was never imported"}
    return out


# -- a run -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Target:
    """What is mutated: the paper (no paths) or module files, and how to import them."""

    paths: tuple[str, ...]
    packages: tuple[str, ...]  # top-level packages whose modules the children import afresh
    package_dirs: tuple[tuple[str, Path], ...]  # (package name, directory) of the analysed packages
    equivalent_default: Path | None


def _target(paths: Sequence[str]) -> _Target:
    if not paths:
        spec = importlib.util.find_spec("derivations")
        if spec is None or not spec.submodule_search_locations:
            raise SymmagInputError("the derivations package is not importable")
        pkg_dir = Path(next(iter(spec.submodule_search_locations))).resolve()
        return _Target((), ("derivations",), (("derivations", pkg_dir),),
                       pkg_dir.parent / "docs" / "equivalent-mutants.md")
    packages, dirs = [], []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise SymmagInputError(f"no such file: {p}")
        if path.suffix != ".py":
            raise SymmagInputError(f"not a Python module: {p}")
        name, root = _module_location(path.resolve())
        if not name.startswith("symmag_user_"):
            top = name.split(".")[0]
            if top not in packages:
                packages.append(top)
                dirs.append((top, root / top))
    return _Target(tuple(paths), tuple(packages), tuple(dirs), None)


def _warm_up(trees: Iterable[ast.Module], packages: Sequence[str]) -> None:
    """Import in the parent, once, what the derivation modules import from outside their
    packages (sympy, symmag, ...): every child starts with it imported."""
    names: set[str] = set()
    for tree in trees:
        for node in tree.body:
            if isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module)
    for name in sorted(names):
        if any(name == p or name.startswith(p + ".") for p in packages) or name == "__future__":
            continue
        try:
            importlib.import_module(name)
        except Exception:  # a child reports the real import error of a module
            continue


def _progress(out, k: int, n: int, result: MutantResult) -> None:
    m = result.mutant
    print(f"[{k}/{n}] {result.verdict:9s} {m.where} {m.function} {m.operator} ({result.seconds:.1f} s)",
          file=out, flush=True)


def mutate(paths: Sequence[str] = (), *, max_mutants: int = DEFAULT_MAX, seed: int = 0,
           jobs: int | None = None, timeout: float = DEFAULT_TIMEOUT, equivalent: str | None = None,
           only: Callable[[Mutant], bool] | None = None, listing: bool = False,
           progress=None) -> Report:
    """Mutation testing of the paper's derivations (no ``paths``) or of module files.

    ``only`` keeps the eligible mutants it accepts before drawing (tests pick mutants this way);
    ``listing`` draws without running; ``progress``: a text stream for one line per mutant."""
    started = time.perf_counter()
    if not hasattr(os, "fork"):
        raise SymmagInputError("symmag mutate runs each mutant in a forked process: it needs os.fork (POSIX)")
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise SymmagInputError(f"--jobs must be at least 1, got {jobs}")
    if max_mutants < 0:
        raise SymmagInputError(f"--max must be at least 0, got {max_mutants}")
    if not timeout > 0:
        raise SymmagInputError(f"--timeout must be positive, got {timeout}")
    target = _target(paths)
    eq_path = Path(equivalent) if equivalent else target.equivalent_default
    recorded = read_equivalents(eq_path, required=bool(equivalent))
    given = [load_source(p, shown_as=p) for p in target.paths]  # syntax errors: bad input, now
    files: dict[str, tuple[Path, bool]] = {}
    for package, directory in target.package_dirs:
        files.update(package_modules(directory, package))
    modules = load_modules(files, given)
    # models and figures are not derivations: what only they import is not needed
    _warm_up((m.tree for name, m in modules.items() if name.rpartition(".")[2] not in ("models", "figures")),
             target.packages)
    # once here (SymPy, the checkers), inherited by every child
    importlib.import_module("symmag.checking.runner")

    found = _one_child(_Task("discovery", lambda: _discovery(target.paths, target.packages),
                             max(timeout, 300.0)))
    if "error" in found:
        raise SymmagInputError(found["error"])
    derivations = found["derivations"]
    steps = [s for d in derivations for s in d["steps"]]
    if len(set(steps)) != len(steps):
        dup = next(s for s in steps if steps.count(s) > 1)
        raise SymmagInputError(f"step id {dup!r} appears twice")
    step_modules = {s: d["modules"] for d in derivations for s in d["steps"]}
    graph = build_graph(modules, [*found["loaded"], *(s.module for s in given)], set(steps))
    if not target.paths:  # the paper: the modules that hold derivations, never printed/models/figures
        owners = sorted({m for d in derivations for m in d["modules"]})
        given = [load_source(files[m][0], shown_as=m) for m in owners
                 if m.rpartition(".")[2] not in NOT_MUTATED]
    sources = {s.module: s for s in given}
    eligible = [m for s in given for m in find_mutants(s)]
    candidates = [m for m in eligible if only is None or only(m)]
    drawn = [replace(m, affected_steps=graph.affected(m, steps, step_modules))
             for m in draw(candidates, max_mutants, seed)]
    for m in drawn:  # the function's source must change (raises otherwise); undone at once
        apply_mutant(sources[m.module], m)
        _undo(sources[m.module], m)
    report = Report([], len(candidates), sum(m.shown for m in candidates), steps, {}, 0.0, seed,
                    str(eq_path) if eq_path is not None else None)
    if listing:
        report.results = [MutantResult(m, "drawn", equivalent=m.id in recorded) for m in drawn]
        report.seconds = time.perf_counter() - started
        return report
    _run(report, drawn, derivations, sources, target, jobs, timeout, recorded, progress)
    report.seconds = time.perf_counter() - started
    return report


def _one_child(task: _Task) -> dict:
    box: list[_Outcome] = []
    run_forked([task], 1, lambda o: box.append(o) or ())
    outcome = box[0]
    if outcome.kind != "ok":
        raise SymmagInputError(f"{task.key} of the derivations {outcome.kind}: {outcome.detail}")
    if "internal_error" in outcome.payload:
        raise RuntimeError(f"{task.key}: {outcome.payload['internal_error']}")
    return outcome.payload


def _run(report: Report, drawn: list[Mutant], derivations: list[dict], sources: Mapping[str, _Source],
         target: _Target, jobs: int, timeout: float, recorded: set[str], progress) -> None:
    """Baseline first (one child per derivation), then one child per mutant; verdicts as the
    baseline of a mutant's steps becomes known (its children need not wait for it)."""
    baseline, kill = report.baseline, killing()
    failing: set[str] = set()  # baseline steps that fail the gate, as far as known
    wanted = {s for m in drawn for s in m.affected_steps}
    cost = {s: d["cost"] / max(1, len(d["steps"])) for d in derivations for s in d["steps"]}
    results: dict[str, MutantResult] = {}
    waiting: dict[str, tuple[Mutant, _Outcome]] = {}  # finished before their baseline was known
    by_id = {m.id: m for m in drawn}

    def mutant_task(m: Mutant) -> _Task:
        # run_child runs after the fork: it sees the baseline failures the parent knew then
        def run_child() -> dict:
            return _mutant_task(target.paths, target.packages, sources[m.module], m, frozenset(failing))
        return _Task(("mutant", m.id), run_child, timeout)

    def finish(m: Mutant, result: MutantResult) -> None:
        results[m.id] = replace(result, equivalent=m.id in recorded)
        if progress is not None:
            _progress(progress, len(results), len(drawn), results[m.id])

    def decide(m: Mutant, outcome: _Outcome) -> list[_Task]:
        verdict = _verdict(m, outcome, baseline)
        if verdict is None:  # it stopped at a step that fails unmutated too: run it through
            return [mutant_task(m)]
        finish(m, verdict)
        return []

    def on_done(outcome: _Outcome) -> list[_Task]:
        kind, name = outcome.key[:2]
        if kind == "mutant":
            m = by_id[name]
            if all(s in baseline for s in m.affected_steps):
                return decide(m, outcome)
            waiting[m.id] = (m, outcome)
            return []
        payload = outcome.payload or {}
        if outcome.kind != "ok" or "statuses" not in payload:
            why = outcome.detail or payload.get("import_error") or payload.get("internal_error")
            raise SymmagInputError(f"the unmutated steps of {name} did not run: {why}")
        baseline.update(payload["statuses"])
        failing.update(s for s, st in payload["statuses"].items() if st in kill)
        if progress is not None:
            print(f"baseline  {name}: {len(payload['statuses'])} steps ({outcome.seconds:.1f} s)",
                  file=progress, flush=True)
            for s, st in payload["statuses"].items():
                if st in kill:
                    print(f"baseline  step {s} is {st} unmutated: {payload['details'].get(s, '')}",
                          file=progress, flush=True)
        more: list[_Task] = []
        for mid, (m, o) in list(waiting.items()):
            if all(s in baseline for s in m.affected_steps):
                del waiting[mid]
                more += decide(m, o)
        return more

    for m in drawn:
        if not m.affected_steps:
            finish(m, MutantResult(m, "survived", detail="affects no step: no check runs the mutated code"))
    tasks = [_Task(("baseline", d["name"]), _bind(_baseline_task, target.paths, target.packages,
                                                  [s for s in d["steps"] if s in wanted]),
                   max(2 * timeout, 300.0))
             for d in sorted(derivations, key=lambda d: -d["cost"]) if any(s in wanted for s in d["steps"])]
    runnable = [m for m in drawn if m.affected_steps]
    tasks += [mutant_task(m) for m in sorted(runnable, key=lambda m: -sum(cost[s] for s in m.affected_steps))]
    run_forked(tasks, jobs, on_done)
    report.results = [results[m.id] for m in drawn]


def _bind(f: Callable, *args) -> Callable[[], dict]:
    return lambda: f(*args)


def _verdict(m: Mutant, outcome: _Outcome, baseline: Mapping[str, str]) -> MutantResult | None:
    """Killed when an affected step newly fails the gate (or raises, or the module does not
    import); None when the child stopped at a step that fails unmutated too (run it again)."""
    if outcome.kind != "ok":
        return MutantResult(m, outcome.kind, detail=outcome.detail, seconds=outcome.seconds)
    p = outcome.payload
    if "internal_error" in p:
        return MutantResult(m, "crashed", detail=f"internal error: {p['internal_error']}",
                            seconds=outcome.seconds)
    if "import_error" in p:
        return MutantResult(m, "killed", detail=f"the mutated module does not import: {p['import_error']}",
                            killed_by="import", seconds=outcome.seconds)
    statuses = p["statuses"]
    changed = {s: (baseline[s], st) for s, st in statuses.items() if baseline.get(s) != st}
    kill = killing()
    new = [s for s, st in statuses.items() if st in kill and baseline.get(s) not in kill]
    if new:
        s = new[0]
        why = f"{s}: {statuses[s]}: {p['details'].get(s, '')}"
        return MutantResult(m, "killed", statuses, changed, s, why, outcome.seconds)
    if p.get("stopped"):
        return None
    return MutantResult(m, "survived", statuses, changed, None, "", outcome.seconds)


# -- output ----------------------------------------------------------------------------------------
def _step_table(report: Report) -> list[str]:
    reached: dict[str, list[int]] = {}
    for r in report.results:
        for s in r.mutant.affected_steps:
            row = reached.setdefault(s, [0, 0, 0])
            row[0] += 1
            row[1] += r.killed_by == s
            row[2] += r.verdict == "survived"
    rows = [("step", "reached", "killed", "survived")]
    rows += [(s, *(str(x) for x in reached[s])) for s in report.steps if s in reached]
    widths = [max(len(row[c]) for row in rows) for c in range(4)]
    lines = ["  ".join(cell.ljust(w) if c == 0 else cell.rjust(w)
                       for c, (cell, w) in enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _statuses_text(r: MutantResult) -> str:
    """What a survivor left on its steps: the changed ones by name, the others counted."""
    if not r.statuses:
        return r.detail
    same: dict[str, list[str]] = {}
    for s, st in r.statuses.items():
        if s not in r.changed:
            same.setdefault(st, []).append(s)
    parts = [f"changed: {s} {old} -> {new}" for s, (old, new) in r.changed.items()]
    if len(r.statuses) <= 3:
        parts += [f"{s} {st}" for st, ids in same.items() for s in ids]
    elif same:
        parts.append("unchanged: " + ", ".join(f"{len(ids)} {st}" for st, ids in same.items()))
    return f"{len(r.statuses)} step{'s' if len(r.statuses) != 1 else ''}: " + "; ".join(parts)


def format_report(report: Report) -> str:
    """The plain-text report: steps reached, survivors with their lines, totals."""
    s = report.summary()
    lines = [f"{s['drawn']} mutants drawn of {s['eligible']} eligible ({s['drawn_shown_results']} from shown "
             f"results, of {s['eligible_shown_results']}), seed {report.seed}", ""]
    lines += _step_table(report)
    survivors = [r for r in report.results if r.verdict == "survived"]
    if survivors:
        lines += ["", "survived:"]
    for r in survivors:
        m = r.mutant
        tag = "  [recorded equivalent]" if r.equivalent else ""
        lines.append(f"  {m.id}  {m.where}  {m.function}  {m.operator}{tag}")
        lines.append(f"      - {m.original}")
        lines.append(f"      + {m.mutated}")
        lines.append(f"      {_statuses_text(r)}")
    for verdict in ("timed out", "crashed"):
        rest = [r for r in report.results if r.verdict == verdict]
        if rest:
            lines += ["", f"{verdict}:"]
            lines += [f"  {r.mutant.id}  {r.mutant.where}  {r.mutant.function}  {r.mutant.operator}: "
                      f"{r.detail}" for r in rest]
    ratio = "n/a" if s["kill_ratio"] is None else f"{s['kill_ratio']:.2f}"
    lines += ["", f"{s['drawn']} drawn: {s['killed']} killed, {s['survived']} survived "
              f"({s['survived_equivalent']} recorded equivalent, {s['survived_no_step']} reaching no step), "
              f"{s['timed_out']} timed out, {s['crashed']} crashed; kill ratio {ratio} "
              f"(killed/(killed+survived)); {s['seconds']:.1f} s"]
    return "\n".join(lines)


def format_listing(report: Report) -> str:
    lines = []
    for r in report.results:
        m = r.mutant
        lines.append(f"{m.id}  {m.where}  {m.function}  {m.operator}{'  [shown]' if m.shown else ''}"
                     f"  steps: {len(m.affected_steps)}{'  [recorded equivalent]' if r.equivalent else ''}")
        lines.append(f"    - {m.original}")
        lines.append(f"    + {m.mutated}")
    lines.append(f"{len(report.results)} drawn of {report.eligible} eligible")
    return "\n".join(lines)


# -- command line ----------------------------------------------------------------------------------
DESCRIPTION = ("Mutation testing: rewrite the derivation code (AST mutants of function bodies; never the "
               "printed tables or pinned errata), run each mutant's affected steps in a fresh process and "
               "report killed / survived / timed out / crashed. Exit 1 when a survivor is not on the "
               "recorded list of equivalent mutants. PATHs are imported and executed: trusted code only.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``symmag mutate``."""
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="derivation module files (trusted code); default: the paper's derivations")
    parser.add_argument("--max", type=int, default=DEFAULT_MAX, metavar="N", dest="max_mutants",
                        help=f"mutants drawn (default {DEFAULT_MAX}; at least {SHOWN_SHARE * 100:.0f}%% of "
                        "them from shown results)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the drawing (default 0)")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="mutants run at once, one process each (default: CPU count)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help="a mutant still running after this is killed: 'timed out' "
                        f"(default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--equivalent", metavar="FILE",
                        help="Markdown table of mutants judged equivalent (default for the paper: "
                        "docs/equivalent-mutants.md of the checkout)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--list", action="store_true", dest="listing",
                        help="print the drawn mutants, run none")


def run(args: argparse.Namespace) -> int:
    """``symmag mutate``: 1 when a survivor is not recorded as equivalent, 0 otherwise."""
    try:
        report = mutate(args.paths, max_mutants=args.max_mutants, seed=args.seed, jobs=args.jobs,
                        timeout=args.timeout, equivalent=args.equivalent, listing=args.listing,
                        progress=None if args.listing else sys.stderr)
    except Stopped as exc:
        print(f"symmag: {exc}", file=sys.stderr)
        return 128 + exc.signum
    if args.json:
        print(json.dumps({"mutants": [r.record() for r in report.results], "summary": report.summary()},
                         indent=1))
    else:
        print(format_listing(report) if args.listing else format_report(report))
    return 0 if args.listing else report.exit_status()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m symmag.checking.mutation", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except SymmagInputError as exc:
        print(f"symmag: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
