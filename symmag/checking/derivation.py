"""Derivation records: ordered steps whose checks can fail.

A :class:`Step` carries a *derived* claim, built lazily by the derivation
module from the algebra (never from the printed form), and optionally the key
of the paper's printed equation in a ``PRINTED`` table read at run time.

Status of a step (exactly one):

``verified``    the derived claim passed its checker and, when the step names a
                printed equation, the printed form agrees with the derived one;
``erratum``     the derived claim passed, and the printed form differs from it exactly
                as the step's :class:`Erratum` says: a hand-written reason and the
                pinned residual printed - derived (or, for numeric steps, the pinned gap);
``mismatch``    the derived claim passed, but the printed form differs with no erratum
                recorded, or differently from the pinned one (or no longer differs);
``failed``      the derived claim did not pass (or raised);
``definition``  introduces a symbol; nothing is checked;
``unchecked``   listed and counted, never hidden; the reason is in ``detail``.

Checkers are registered per claim type with :func:`checker`; a claim can
only be verified through one of them.  Methods (``METHODS``) say how.

The gate (``symmag check``'s exit status): 0 when no step is ``failed`` or ``mismatch``
(and, with ``--strict``, none ``unchecked``); 1 otherwise.  A :class:`Derived` claim is
checked through ``by(result)``, so the result that is shown is the one that was tested.

May use: the algebra, representation, expectation, conventions, assumptions and
dimensions modules; never derivations, codegen, report or the CLI.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import sympy as sp

from ..algebra.display import parts_latex, parts_text, relation_latex, relation_text
from ..algebra.representation import Representation, represent
from ..algebra.su2 import Op, nonzero_terms, vanishes
from ..conventions import STATEMENTS
from ..errors import SymmagInputError
from .assumptions import Assumption, consulting, without
from .dimensions import components as _components
from .statuses import GATE_FAILURES, METHODS, STATUSES, gate, summarize_records  # noqa: F401  (re-exported)


# -- claims --------------------------------------------------------------------------
@dataclass(frozen=True)
class Equal:
    """lhs = rhs.  Sides are operators (:class:`Op` or SymPy operator
    expressions), c-number expressions, or equal-length sequences/matrices of them."""

    lhs: Any
    rhs: Any


@dataclass(frozen=True)
class Parallel:
    """Vectors u and v are parallel: u x v = 0 (c-number 3-vectors)."""

    u: Sequence
    v: Sequence


@dataclass(frozen=True)
class Derived:
    """``result`` is what the derivation obtained (shown, and compared with the
    printed form); ``by(result)`` builds the claim that verifies it -- e.g. the
    identity obtained by substituting the result back into the relation it solves --
    so a wrong result fails its own check.  ``by`` must be a function of the
    result; a check that holds whatever the result is caught by
    :func:`symmag.checking.teeth.perturbation_failures`."""

    result: Equal
    by: Callable[[Equal], Any]

    def check_claim(self):
        if not callable(self.by):
            raise TypeError("Derived(by=...) must be a function of the result (result -> claim), "
                            "so that the result shown is the one checked")
        lhs, rhs = _components(self.result.lhs), _components(self.result.rhs)
        if len(lhs) != len(rhs):
            raise ValueError(f"the shown result has {len(lhs)} left-hand and {len(rhs)} right-hand "
                             "components")
        for x in lhs:
            if _scaled_name(x):
                raise ValueError(f"the shown left-hand side {x} is a multiple of a name: write the "
                                 "quantity derived on the left, its value on the right")
        return self.by(self.result)


def _leaves(x) -> int:
    if isinstance(x, (sp.MatrixBase, sp.NDimArray)):
        return len(x)
    if isinstance(x, (tuple, list)):
        return sum(_leaves(e) for e in x)
    return 1


def _perturb_leaves(x, eps: Sequence[sp.Symbol], start: int = 0):
    """``x`` with leaf k replaced by leaf (1 + eps[k]) (or leaf + eps[k] when it is zero)."""

    def one(leaf, e):
        if isinstance(leaf, Op):
            return leaf + e * Op.scalar(1) if leaf.is_zero() else leaf * (1 + e)
        leaf = sp.sympify(leaf)
        return leaf + e if leaf == 0 else leaf * (1 + e)

    if isinstance(x, sp.MatrixBase):
        return sp.Matrix(x.rows, x.cols, [one(v, eps[start + i]) for i, v in enumerate(x)])
    if isinstance(x, (tuple, list)):
        out, k = [], start
        for e in x:
            out.append(_perturb_leaves(e, eps, k))
            k += _leaves(e)
        return type(x)(out)
    return one(x, eps[start])


#: the relative perturbation of :func:`_ignores_result`: a number, not a symbol, so the probe
#: claim is as large as the checked one (a symbol doubled the terms of every product); odd
#: enough that no derivation's own arithmetic maps it back to the result
PROBE_EPS = sp.Rational(3, 7919)


def _ignores_result(claim: Derived, checked) -> str:
    """Cheap structural test (no simplification) that ``by`` is a function of the result: the
    claim built from a perturbed result must differ from the one built from the result."""
    eps = PROBE_EPS
    try:
        probe = claim.by(Equal(claim.result.lhs, _perturb_leaves(claim.result.rhs,
                                                                 [eps] * len(_components(claim.result.rhs)))))
    except Exception:  # it cannot even be built from another result: it uses the result
        return ""
    if probe == checked:
        return ("the check does not involve the shown result: Derived(by=...) builds the same "
                "claim whatever the result is")
    return ""


def _is_name(x) -> bool:
    return isinstance(x, (sp.Symbol, sp.Derivative, sp.Indexed)) or (
        isinstance(x, sp.Function) and isinstance(type(x), sp.core.function.UndefinedFunction))


def _scaled_name(x) -> bool:
    """-x, 2 x, x/3: a name with a number in front.  A check built on the right-hand side
    alone would not see it, so a shown result's left side must be the name itself."""
    if not isinstance(x, sp.Mul):
        return False
    numbers = [a for a in x.args if a.is_number]
    rest = [a for a in x.args if not a.is_number]
    return bool(numbers) and len(rest) == 1 and _is_name(rest[0])


@dataclass(frozen=True)
class NumericEqual:
    """lhs = rhs as numbers (arrays), within ``tol`` relative to the larger of
    the two norms.  Only where SymPy cannot decide; ``setup`` says what was
    evaluated (sizes, spins, fields).  ``values`` gives the numbers at which a
    printed form is evaluated for comparison (symbol -> number or array)."""

    lhs: Any
    rhs: Any
    tol: float
    setup: str
    values: Mapping = field(default_factory=dict)
    method: str = "numeric-matrices"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    method: str
    residual: str | None = None  # LaTeX of what is left over when not ok
    #: what is left over, unsimplified: (component, expression or Op) per nonzero component
    #: for symbolic claims; for a printed comparison ``(lhs parts, rhs parts)`` of raw
    #: differences printed - derived, or the relative numeric gaps ``(lhs, rhs)``
    raw: Any = field(default=None, compare=False, repr=False)
    #: the residual as displayed: ``(label, parts, n_components)`` per side left over, for
    #: the plain text of a record (:attr:`StepResult.residual_text`)
    shown: tuple = field(default=(), compare=False, repr=False)


_CHECKERS: dict[type, Callable[..., Outcome]] = {}


def checker(claim_type: type):
    """Register ``f(claim, representation) -> Outcome`` for ``claim_type``."""

    def deco(f):
        _CHECKERS[claim_type] = f
        return f

    return deco


def check_claim(claim, representation: Representation | None = None) -> Outcome:
    f = _CHECKERS.get(type(claim))
    if f is None:
        raise TypeError(f"no checker registered for {type(claim).__name__}")
    return f(claim, representation)


def _is_operator(x) -> bool:
    if isinstance(x, Op):
        return True
    return isinstance(x, sp.Expr) and x.is_commutative is False


def as_op(x, bind: Mapping | None = None) -> Op:
    from ..algebra.operators import to_op

    return to_op(x, bind)


def _difference(lhs, rhs, representation, bind: Mapping | None = None) -> tuple[list, str]:
    """Componentwise lhs - rhs and the method that decides it."""
    ls, rs = _components(lhs), _components(rhs)
    if len(ls) != len(rs):
        raise SymmagInputError(f"sides have {len(ls)} and {len(rs)} components")
    if any(_is_operator(x) for x in ls + rs):
        diffs = []
        c_bind = {k: v for k, v in (bind or {}).items() if not isinstance(v, Op)}
        for a, b in zip(ls, rs):
            d = as_op(a, bind) - as_op(b, bind)
            if c_bind:  # c-number placeholders in operator coefficients (e.g. M for |M|)
                d = d.xreplace(c_bind)
            if representation is not None:
                d = represent(d, representation)
            diffs.append(d)
        return diffs, "operator-algebra"
    def c_number(x):
        x = sp.sympify(x)
        if bind:  # placeholders of a printed form (e.g. M_p(t) for sqrt(M_x^2 + M_y^2))
            x = x.xreplace({k: v for k, v in bind.items() if not isinstance(v, Op)}).doit()
        return x

    return [c_number(a) - c_number(b) for a, b in zip(ls, rs)], "sympy"


def _has_transcendental(e: sp.Expr) -> bool:
    """Anything beyond rational functions of the symbols and function values, where
    cancel is not decisive (roots, exponentials, trigonometric and hyperbolic functions)."""
    if e.has(sp.exp, sp.log, sp.sin, sp.cos, sp.tan, sp.sinh, sp.cosh, sp.tanh, sp.atanh, sp.Abs):
        return True
    return any(not p.exp.is_Integer for p in e.atoms(sp.Pow))


def residual_parts(diffs: list) -> list[tuple[int, Any]]:
    """(index, what is left) for every component of ``diffs`` that does not vanish: exact
    cancellation for operators and rational functions, simplification where that is not
    decisive (roots, exponentials, trigonometric and hyperbolic functions)."""
    parts = []
    for n, d in enumerate(diffs):
        if isinstance(d, Op):
            left = Op(nonzero_terms(d))
            if not left.is_zero():
                parts.append((n, left))
        else:
            if vanishes(d):  # exact: the common numerator expands to zero (most differences)
                continue
            s = sp.cancel(sp.expand(d))  # exact for rational functions, far cheaper than simplify
            if s != 0 and d.has(sp.sinh, sp.cosh, sp.tanh, sp.exp):
                # hyperbolic functions are rational in exponentials: exact, and cheap when the
                # identity needs no square root; simplify below otherwise
                s = sp.cancel(sp.expand(d.rewrite(sp.exp), power_exp=True, mul=False, multinomial=False))
            if s != 0 and _has_transcendental(d):
                s = sp.simplify(d)
            if s != 0 and d.has(sp.sinh, sp.cosh, sp.tanh, sp.sin, sp.cos, sp.tan):
                s = sp.simplify(d.rewrite(sp.exp))  # hyperbolic identities simplify in exponentials
            if s != 0:
                parts.append((n, s))
    return parts


def _residual_latex(diffs: list) -> str | None:
    return parts_latex(residual_parts(diffs), len(diffs))


@checker(Equal)
def _check_equal(claim: Equal, representation) -> Outcome:
    diffs, method = _difference(claim.lhs, claim.rhs, representation)
    parts = residual_parts(diffs)
    return Outcome(not parts, method, parts_latex(parts, len(diffs)), parts, (("", parts, len(diffs)),))


@checker(Parallel)
def _check_parallel(claim: Parallel, representation) -> Outcome:
    from ..algebra.su2 import cross

    c = [sp.sympify(x) for x in cross(list(claim.u), list(claim.v))]
    parts = residual_parts(c)
    return Outcome(not parts, "sympy", parts_latex(parts, 3), parts, (("", parts, 3),))


@checker(Derived)
def _check_derived(claim: Derived, representation) -> Outcome:
    return check_claim(claim.check_claim(), representation)


def _numeric_gap(a, b) -> tuple[float, float]:
    import numpy as np

    a, b = np.asarray(a, dtype=complex), np.asarray(b, dtype=complex)
    if a.shape != b.shape:
        raise SymmagInputError(f"numeric sides have shapes {a.shape} and {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("inf"), 1.0  # a NaN or infinity never agrees with anything
    scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)), 1e-300)
    return float(np.max(np.abs(a - b), initial=0.0)), scale


@checker(NumericEqual)
def _check_numeric(claim: NumericEqual, representation) -> Outcome:
    if not (0 < claim.tol < 1):
        raise SymmagInputError(f"NumericEqual tolerance must be in (0, 1), got {claim.tol}")
    gap, scale = _numeric_gap(claim.lhs, claim.rhs)
    ok = gap <= claim.tol * scale
    return Outcome(ok, claim.method, None if ok else
                   f"max |lhs - rhs| = {gap:.3e} > {claim.tol:.0e} x {scale:.3e} ({claim.setup})",
                   gap / scale)


# -- printed equations ----------------------------------------------------------------
@dataclass(frozen=True)
class Printed:
    """An equation as the paper prints it.  ``reading`` records how the
    extracted text was interpreted, when it had to be."""

    lhs: Any
    rhs: Any
    kind: str = "equation"
    reading: str = ""


def printed_latex(p: Printed) -> str:
    return relation_latex(p.lhs, p.rhs)


class _mtrace(sp.Function):
    """Trace of a matrix expression, for lambdify (NumPyPrinter lacks Trace)."""


def _evaluate_printed(x, values: Mapping):
    import numpy as np

    keys = list(values)
    x = sp.sympify(x) if not isinstance(x, tuple) else sp.Tuple(*x)
    x = x.replace(lambda e: isinstance(e, sp.Trace), lambda e: _mtrace(e.arg))
    f = sp.lambdify(keys, x, modules=[{"_mtrace": np.trace}, "numpy"])
    return np.asarray(f(*[values[k] for k in keys]), dtype=complex)


def compare_printed(p: Printed, derived, representation=None,
                    bind: Mapping | None = None) -> Outcome:
    """Does the printed equation say what was derived?  Side by side: the
    printed lhs must be the derived lhs and the printed rhs the derived rhs.
    ``raw`` holds the raw differences printed - derived, ``(lhs, rhs)``, each a list of
    components (numeric claims: the relative gaps of the two sides)."""
    if isinstance(derived, Derived):
        derived = derived.result
    if isinstance(derived, NumericEqual):
        parts, gaps = [], []
        for side, pr, dv in (("lhs", p.lhs, derived.lhs), ("rhs", p.rhs, derived.rhs)):
            gap, scale = _numeric_gap(_evaluate_printed(pr, derived.values), dv)
            gaps.append(gap / scale)
            if not gap <= derived.tol * scale:  # NaN fails too
                parts.append(f"printed {side} - derived {side}: max {gap:.3e} (scale {scale:.3e}, "
                             f"{derived.setup})")
        return Outcome(not parts, derived.method, "; ".join(parts) or None, tuple(gaps))
    dl, method = _difference(p.lhs, derived.lhs, representation, bind)
    dr, _ = _difference(p.rhs, derived.rhs, representation, bind)
    pl, pr = residual_parts(dl), residual_parts(dr)
    res_l, res_r = parts_latex(pl, len(dl)), parts_latex(pr, len(dr))
    if res_l is None and res_r is None:
        return Outcome(True, method, raw=(dl, dr))
    parts = []
    if res_l is not None:
        parts.append(f"printed lhs - derived lhs = {res_l}")
    if res_r is not None:
        parts.append(f"printed rhs - derived rhs = {res_r}")
    shown = tuple((f"printed {side} - derived {side} = ", ps, n)
                  for side, ps, n in (("lhs", pl, len(dl)), ("rhs", pr, len(dr))) if ps)
    return Outcome(False, method, "; ".join(parts), (dl, dr), shown)


@dataclass(frozen=True)
class Erratum:
    """Why a printed form differs from the derived one, and *how*: the difference is pinned,
    so that a derivation change that alters it is a ``mismatch``, not a silently different
    erratum.

    ``reason``        hand-written, non-empty: what is wrong in the printed form;
    ``residual``      printed rhs - derived rhs as the step expects it (a c-number or operator
                      expression, a tuple of them per component, or a zero-argument callable
                      returning that); written in the printed form's symbols -- the step's
                      ``bind`` is applied to it as to the printed form.  Compared exactly;
    ``lhs_residual``  likewise for the left-hand sides (default: they agree);
    ``gap``           numeric steps: the expected max |printed - derived|/scale of the two
                      sides, matched to ``gap_rtol``;
    ``dimensions``    True when the printed form is expected to be dimensionally inconsistent.

    The pinned residual is an expectation, like the printed table: never derived-side input."""

    reason: str
    residual: Any = None
    lhs_residual: Any = 0
    gap: float | None = None
    gap_rtol: float = 0.05
    dimensions: bool = False

    def __post_init__(self):
        if not str(self.reason).strip():
            raise ValueError("an Erratum needs a hand-written reason")

    def mismatches(self, cmp: Outcome, dims_ok: bool, representation=None,
                   bind: Mapping | None = None) -> list[str]:
        """What differs between the comparison and this pin (empty: the erratum holds)."""
        out = []
        if dims_ok == self.dimensions:
            out.append("the printed form is dimensionally " + ("consistent" if dims_ok else "inconsistent")
                       + (", though the erratum expects it not to be" if self.dimensions else
                          ", which the erratum does not record"))
        if cmp.raw is None:  # definitions: only the dimensions are compared
            return out
        if self.gap is not None:
            gaps = cmp.raw if isinstance(cmp.raw, tuple) and not isinstance(cmp.raw[0], list) else ()
            gap = max(gaps) if gaps else 0.0
            if not abs(gap - self.gap) <= self.gap_rtol * self.gap:  # NaN or inf never matches
                out.append(f"numeric gap {gap:.4g}, the erratum pins {self.gap:.4g} (rtol {self.gap_rtol})")
            return out
        if not isinstance(cmp.raw[0], list):
            raise SymmagInputError("a numeric comparison's erratum must pin gap=, not a residual")
        for side, actual, expected in (("lhs", cmp.raw[0], self.lhs_residual),
                                       ("rhs", cmp.raw[1], self.residual)):
            expected = expected() if callable(expected) else expected
            if expected is None:
                expected = 0
            expected = _components(expected)
            if len(expected) == 1 and len(actual) > 1:
                expected = expected * len(actual)  # a scalar pin for every component (e.g. 0)
            if len(expected) != len(actual):
                out.append(f"{side}: the erratum pins {len(expected)} components, the residual has "
                           f"{len(actual)}")
                continue
            diffs, _ = _difference(tuple(actual), tuple(expected), representation, bind)
            left = parts_latex(residual_parts(diffs), len(diffs))
            if left is not None:
                out.append(f"{side} residual differs from the pinned one by {left}")
        if cmp.ok and self.gap is None:
            out.append("the printed form now agrees with the derived one")
        return out


# -- steps and derivations --------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One step.  ``claim`` is a zero-argument callable returning the derived
    claim (built when the step is checked, so its cost is timed)."""

    id: str
    claim: Callable[[], Any] | None = None
    equation: str | None = None
    #: the printed form compared with: a key of the derivation's printed table, or a Printed inline
    printed: str | Printed | None = None
    kind: str = "claim"  # "claim", "definition" or "unchecked"
    assumptions: tuple[str, ...] = ()
    conventions: tuple[str, ...] = ()
    representation: Representation | None = None
    reason: str = ""  # why unchecked (for a printed form that differs: ``erratum``)
    statement: str = ""  # one line: what the step shows
    #: the expected difference from the printed form, with its reason
    erratum: Erratum | None = None
    #: removable assumptions the claim applies: re-checked without each one on request
    assumes: tuple[Assumption, ...] = ()
    #: what the printed form's placeholders stand for: operators (e.g. M-hat) or
    #: c-number expressions (e.g. M_p(t) -> sqrt(M_x^2 + M_y^2))
    bind: Callable[[], Mapping] | None = None
    #: for a printed equation with several relations (tuples), the one this step derives
    part: int | None = None

    def __post_init__(self):
        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"a step id must be a non-empty string, got {self.id!r}")
        if self.kind not in ("claim", "definition", "unchecked"):
            raise ValueError(f"unknown step kind {self.kind!r}")
        if self.kind == "claim" and self.claim is None:
            raise ValueError(f"step {self.id}: a claim step needs a claim")
        if self.kind == "unchecked" and not self.reason:
            raise ValueError(f"step {self.id}: an unchecked step must say why")
        for key in self.conventions:
            if key not in STATEMENTS:
                raise ValueError(f"step {self.id}: unknown convention {key!r}")
        if self.printed is not None and not isinstance(self.printed, str | Printed):
            raise ValueError(f"step {self.id}: printed= takes a printed-table key or a Printed, "
                             f"got {type(self.printed).__name__}")
        if self.erratum is not None and not isinstance(self.erratum, Erratum):
            raise ValueError(f"step {self.id}: erratum= takes an Erratum(reason, residual=...)")
        for a in self.assumes:
            if not isinstance(a, Assumption):
                raise ValueError(f"step {self.id}: assumes= takes Assumption objects, got {a!r}")

    @property
    def why(self) -> str:
        """The reason recorded for the step: its erratum's, else ``reason``."""
        return self.erratum.reason if self.erratum is not None else self.reason

    def _repr_latex_(self) -> str:
        """Jupyter: the step as declared (not run: displaying never triggers a check)."""
        from .notebook import step_latex

        return step_latex(self)

    def _repr_html_(self) -> str:
        from .notebook import step_html

        return step_html(self)

    def all_assumptions(self) -> list[str]:
        out = list(self.assumptions)
        out += [a.statement for a in self.assumes]
        out += [STATEMENTS[k] for k in self.conventions]
        if self.representation is not None:
            out.append(self.representation.describe())
        return out


def step(step_id: str, equation: str | None, claim: Callable[[], Any], statement: str, **kw) -> Step:
    """A claim step: ``claim`` builds the derived claim when the step is checked."""
    return Step(id=step_id, equation=equation, claim=claim, statement=statement, **kw)


def definition(step_id: str, equation: str | None, statement: str, **kw) -> Step:
    """A definition step: introduces a symbol, nothing to check.  Its printed form defaults
    to the derivation's printed-table entry of the same equation number (whose dimensions
    are checked); pass ``printed=None`` for a definition with no printed form, or
    ``printed="key"`` for another entry."""
    return Step(id=step_id, equation=equation, printed=kw.pop("printed", equation), kind="definition",
                statement=statement, **kw)


@dataclass(frozen=True)
class Derivation:
    """An ordered list of steps, e.g. one paper section."""

    name: str
    title: str
    steps: tuple[Step, ...]
    printed_table: Callable[[], Mapping[str, Printed]] = field(default=lambda: {})
    section: str = ""
    #: dimension table (see symmag.checking.dimensions); None skips the dimension check
    dimensions: Mapping[str, sp.Expr] | None = None
    #: rough cost in seconds, a scheduling hint only: ``symmag check`` starts the costliest
    #: derivations first across its workers (a stale hint changes the wall time, never a result)
    cost: float = 1.0

    def __post_init__(self):
        seen: set[str] = set()
        for s in self.steps:
            if s.id in seen:
                raise ValueError(f"derivation {self.name}: duplicate step id {s.id!r}")
            seen.add(s.id)

    def run(self, necessity: bool = False) -> list[StepResult]:
        return [run_step(s, self, necessity) for s in self.steps]

    def _repr_latex_(self) -> str:
        """Jupyter: the steps of the derivation (not run: displaying never triggers checks)."""
        from .notebook import derivation_latex

        return derivation_latex(self)

    def _repr_html_(self) -> str:
        from .notebook import derivation_html

        return derivation_html(self)


@dataclass(frozen=True)
class StepResult:
    """The outcome of one step.  ``printed`` and ``derived`` (LaTeX) are rendered
    on first use: printing large canonical forms costs more than checking them."""

    id: str
    derivation: str
    equation: str | None
    status: str
    method: str
    assumptions: list[str]
    seconds: float
    detail: str
    #: the parts of ``detail``, for reports: what the step shows, why a printed form differs
    #: (or why a step is unchecked), the LaTeX residual printed - derived (errata, failures)
    statement: str = ""
    reason: str = ""
    residual: str | None = None
    claim: Any = field(default=None, repr=False, compare=False)
    printed_entry: Printed | None = field(default=None, repr=False, compare=False)
    #: per removable assumption: {key, statement, verdict ("needed", "not needed",
    #: "not applied" or "not tested"), note, seconds}
    necessity: tuple[dict, ...] = ()
    #: what ``residual`` shows, for its plain text: ``(label, parts, n_components)`` per side
    residual_source: tuple = field(default=(), repr=False, compare=False)

    @cached_property
    def printed(self) -> str | None:
        return printed_latex(self.printed_entry) if self.printed_entry is not None else None

    @cached_property
    def derived(self) -> str | None:
        return derived_latex(self.claim) if self.claim is not None else None

    @cached_property
    def derived_display(self) -> str | None:
        """The derived form as readable plain text (display only)."""
        return derived_text(self.claim) if self.claim is not None else None

    @cached_property
    def residual_text(self) -> str | None:
        """The residual (``residual``, LaTeX) as plain text for the terminal (display only)."""
        if self.residual is None or not self.residual_source:
            return None
        return "; ".join(label + (parts_text(list(parts), n) or "")
                         for label, parts, n in self.residual_source)

    def _repr_latex_(self) -> str:
        """Jupyter: the step as typeset mathematics with its status and method."""
        from .notebook import result_latex

        return result_latex(self)

    def _repr_html_(self) -> str:
        from .notebook import result_html

        return result_html(self)

    def as_dict(self, latex: bool = True) -> dict:
        """The JSON record of ``symmag check --json``; ``latex=False`` skips the (costly)
        rendering of the printed and derived forms."""
        return {
            "id": self.id,
            "derivation": self.derivation,
            "equation": self.equation,
            "status": self.status,
            "method": self.method,
            "assumptions": self.assumptions,
            "printed": self.printed if latex else None,
            "derived": self.derived if latex else None,
            "derived_display": self.derived_display if latex else None,
            "seconds": round(self.seconds, 4),
            "detail": self.detail,
            "statement": self.statement,
            "reason": self.reason,
            "residual": self.residual,
            "residual_display": self.residual_text if latex else None,
            "necessity": [dict(n) for n in self.necessity],
        }


def derived_latex(claim) -> str | None:
    """LaTeX of what a claim derived (display only: :mod:`symmag.algebra.display`)."""
    if isinstance(claim, Derived):
        return derived_latex(claim.result)
    if isinstance(claim, Equal):
        return relation_latex(claim.lhs, claim.rhs)
    if isinstance(claim, Parallel):
        return relation_latex(tuple(claim.u), tuple(claim.v), r"\parallel")
    return None


def derived_text(claim) -> str | None:
    """Plain text of what a claim derived, for the terminal and JSON ``derived_display``."""
    if isinstance(claim, Derived):
        return derived_text(claim.result)
    if isinstance(claim, Equal):
        return relation_text(claim.lhs, claim.rhs)
    if isinstance(claim, Parallel):
        return relation_text(tuple(claim.u), tuple(claim.v), "||")
    return None


def _dimensions_of(relation, table) -> str:
    """Dimension of a relation; raises DimensionError when it is inconsistent."""
    from .dimensions import check_relation

    if isinstance(relation, Derived):
        relation = relation.result
    if isinstance(relation, Printed | Equal):
        return check_relation(relation.lhs, relation.rhs, table)
    return ""


def _why_and_residual(why: str, claim, residual) -> tuple[str, str | None]:
    """(reason, LaTeX residual) for a record: the residuals of symbolic claims (Equal,
    Parallel) are LaTeX; a numeric gap is text and joins the reason."""
    if residual is None or isinstance(claim, Equal | Parallel):
        return why, residual
    return f"{why} ({residual})", None


def _necessity(step: Step, claim, representation) -> tuple[dict, ...]:
    """Re-check the claim without each declared assumption (and without the spin length of
    ``representation=``): "needed" when it then fails or cannot be built, "not needed" when
    it still holds -- a finding where the paper uses the assumption."""
    out = []
    trials = [(a.key, a.statement, a) for a in step.assumes]
    if step.representation is not None:
        trials.append(("representation", step.representation.describe(), None))
    for key, statement, assumption in trials:
        start = time.perf_counter()
        try:
            if assumption is None:
                outcome = check_claim(claim, None)
            else:
                with without(assumption), consulting() as seen:
                    bare = step.claim()
                if assumption.key not in seen:
                    verdict, outcome = "not applied", None
                    note = ("the claim never consults it (unused, or applied inside a cache that "
                            "ignores assumptions: use symmag.checking.assumptions.cached)")
                else:
                    with without(assumption):
                        outcome = check_claim(bare, step.representation)
            if outcome is not None:
                verdict = "not needed" if outcome.ok else "needed"
                note = ("the claim holds without it" if outcome.ok else
                        "without it the claim fails" + (f": {_short(outcome.residual)}"
                                                        if outcome.residual else ""))
        except SymmagInputError as exc:
            verdict, note = "needed", f"without it the claim cannot be built: {exc}"
        except Exception as exc:  # e.g. a root that exists only under the assumption
            verdict, note = "needed", f"without it the claim cannot be built: {type(exc).__name__}: {exc}"
        out.append({"key": key, "statement": statement, "verdict": verdict, "note": note,
                    "seconds": round(time.perf_counter() - start, 4)})
    return tuple(out)


def _pin_hint(cmp: Outcome, limit: int = 400) -> str:
    """For a difference with no erratum: the Erratum arguments that would pin it, as Python
    text a user can paste (after checking that the difference is the paper's, not theirs)."""
    if not isinstance(cmp.raw, tuple) or len(cmp.raw) != 2 or not isinstance(cmp.raw[0], list):
        return ""
    args = []
    for name, diffs in (("lhs_residual", cmp.raw[0]), ("residual", cmp.raw[1])):
        left = dict(residual_parts(diffs))
        if not left:
            continue
        comps = [repr(left[n]) if isinstance(left.get(n), Op) else sp.sstr(left.get(n, 0))
                 for n in range(len(diffs))]
        args.append(f"{name}={comps[0] if len(comps) == 1 else '(' + ', '.join(comps) + ')'}")
    text = ", ".join(args)
    return f" To pin it: Erratum(reason, {text})." if args and len(text) <= limit else ""


#: why conventions and free-text assumptions are not re-checked without them
CONVENTION_NOTE = ("a convention of notation or units (symmag/conventions.py): it fixes what the "
                   "symbols mean, so there is no claim to run without it")
STATED_NOTE = ("stated in words, not applied as a removable transformation (a reading of the "
               "text, or a condition the claim is built for); see docs/errata.md")


def _fixed_assumptions(step: Step) -> tuple[dict, ...]:
    """The step's conventions and free-text assumptions, listed beside the removable ones
    with the reason they are not re-checked."""
    rows = [{"key": k, "statement": STATEMENTS[k], "verdict": "convention", "note": CONVENTION_NOTE,
             "seconds": 0.0} for k in step.conventions]
    rows += [{"key": "stated", "statement": a, "verdict": "stated", "note": STATED_NOTE, "seconds": 0.0}
             for a in step.assumptions]
    return tuple(rows)


def _sentence(text: str) -> str:
    text = text.rstrip()
    return text if not text or text.endswith(".") else text + "."


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[:limit] + " ..."


def _where(exc: BaseException) -> str:
    """``file:line`` of the innermost frame of the traceback outside symmag itself -- the line
    of the user's (or the paper's) derivation module that led to ``exc`` -- else ``""``."""
    import os
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    own = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # all of symmag
    for frame in reversed(frames):
        name = frame.filename
        if os.path.abspath(name).startswith(own) or "site-packages" in name:
            continue
        if not name.startswith("<"):
            rel = os.path.relpath(name)
            name = name if rel.startswith("..") else rel
        return f"{name}:{frame.lineno}"
    return ""


def run_step(step: Step, derivation: Derivation, necessity: bool = False) -> StepResult:
    """Check one step.  ``necessity``: also re-check its claim without each declared
    assumption (``StepResult.necessity``)."""
    from .dimensions import DimensionError, DimensionUnknown

    start = time.perf_counter()
    printed_entry = None
    if isinstance(step.printed, Printed):
        printed_entry = step.printed
    elif step.printed is not None:
        table = derivation.printed_table()
        if step.printed not in table:
            raise SymmagInputError(
                f"step {step.id} of {derivation.name} names printed equation {step.printed!r}, which "
                "its printed_table lacks (a definition() takes its equation number as the printed key "
                "unless given printed=None)")
        printed_entry = table[step.printed]
    if printed_entry is not None and step.part is not None:
        printed_entry = Printed(lhs=printed_entry.lhs[step.part], rhs=printed_entry.rhs[step.part],
                                kind=printed_entry.kind, reading=printed_entry.reading)
    dims = derivation.dimensions
    base = dict(
        id=step.id,
        derivation=derivation.name,
        equation=step.equation,
        assumptions=step.all_assumptions(),
        printed_entry=printed_entry,
        statement=step.statement,
    )
    untested = tuple({"key": k, "statement": st, "verdict": "not tested", "note": "", "seconds": 0.0}
                     for k, st in [(a.key, a.statement) for a in step.assumes]
                     + ([("representation", step.representation.describe())]
                        if step.representation is not None else []))
    fixed = _fixed_assumptions(step)

    def done(status: str, method: str, claim, detail: str, reason: str = "",
             residual: str | None = None, needed: tuple = untested, shown: tuple = ()) -> StepResult:
        return StepResult(**base, status=status, method=method, claim=claim,
                          seconds=time.perf_counter() - start, detail=detail.strip(),
                          reason=reason, residual=residual, necessity=needed + fixed,
                          residual_source=shown if residual is not None else ())

    def printed_dims() -> tuple[bool, str]:
        if printed_entry is None or dims is None:
            return True, ""
        try:
            return True, f" Printed form dimensionally consistent [{_dimensions_of(printed_entry, dims)}]."
        except DimensionError as exc:
            return False, f" Printed form dimensionally inconsistent: {exc}."
        except DimensionUnknown as exc:
            return True, f" Printed form's dimensions not checked: {exc}."

    if step.kind in ("definition", "unchecked"):
        try:
            claim = step.claim() if step.claim is not None else None
        except SymmagInputError:
            raise
        except Exception as exc:  # a definition that cannot even be built is a failed step
            why = f"error while building: {type(exc).__name__}: {exc}"
            return done("failed", "none", None, why, why)
        ok, note = printed_dims()
        detail = (step.why or step.statement) + note
        if not ok:
            pin = step.erratum.mismatches(Outcome(True, "dimensions"), ok) if step.erratum else ["no erratum"]
            if pin:
                why = ("the printed form differs (" + "; ".join(pin) + ")").strip()
                return done("mismatch", "dimensions", claim, why + note, why)
            return done("erratum", "dimensions", claim, detail, step.why + note)
        return done(step.kind, "definition" if step.kind == "definition" else "none", claim, detail,
                    step.why)
    try:
        claim = step.claim()
        checked = claim.check_claim() if isinstance(claim, Derived) else claim
        outcome = check_claim(checked, step.representation)
        if outcome.ok and isinstance(claim, Derived):
            ignored = _ignores_result(claim, checked)
            if ignored:
                return done("mismatch", outcome.method, claim, ignored, ignored)
    except SymmagInputError as exc:
        if str(exc).startswith(f"step {step.id}"):
            raise
        where = _where(exc)
        raise SymmagInputError(f"step {step.id} of {derivation.name}" + (f" ({where})" if where else "")
                               + f": {exc}") from None
    except (Exception, SystemExit) as exc:  # a derivation that crashes is a failed step, with why
        where = _where(exc)
        why = f"error while deriving{f' at {where}' if where else ''}: {type(exc).__name__}: {exc}"
        return done("failed", "none", None, why, why)
    derived = claim
    if not outcome.ok:
        return done("failed", outcome.method, derived,
                    f"derived claim does not hold; residual: {outcome.residual}",
                    *_why_and_residual("the derived claim does not hold", checked, outcome.residual),
                    shown=outcome.shown)
    needed = _necessity(step, claim, step.representation) if necessity else untested
    dim_note = ""
    if dims is not None:
        try:
            d = _dimensions_of(claim, dims)
            dim_note = f" Dimensions [{d}]." if d else ""
        except DimensionError as exc:
            why = f"derived claim is dimensionally inconsistent: {exc}"
            return done("failed", outcome.method, derived, why, why, needed=needed)
        except DimensionUnknown as exc:
            dim_note = f" Dimensions not checked: {exc}."
    if printed_entry is None:
        if step.erratum is not None:
            why = "the step records an erratum but names no printed form"
            return done("mismatch", outcome.method, derived, why, why, needed=needed)
        return done("verified", outcome.method, derived, step.statement + dim_note, needed=needed)
    bind = step.bind() if step.bind is not None else None
    try:
        cmp = compare_printed(printed_entry, claim, step.representation, bind)
    except SymmagInputError:
        raise
    except Exception as exc:  # the printed form could not be evaluated: say so, never pass
        why = f"could not compare with the printed form: {type(exc).__name__}: {exc}"
        return done("failed", outcome.method, derived, why, why, needed=needed)
    ok_dims, pnote = printed_dims()
    if cmp.ok and ok_dims and step.erratum is None:
        return done("verified", outcome.method, derived, step.statement + dim_note + pnote, needed=needed)
    residual = f" Residual: {cmp.residual}." if not cmp.ok else ""
    shown = claim.result if isinstance(claim, Derived) else claim
    if step.erratum is None:
        why = ("the printed form differs from the derived one and no erratum is recorded "
               "(Step(erratum=Erratum(reason, residual=...)))" + ("" if ok_dims else pnote))
        return done("mismatch", outcome.method, derived,
                    _sentence(why) + residual + _pin_hint(cmp) + dim_note,
                    *_why_and_residual(why, shown, cmp.residual if not cmp.ok else None), needed=needed,
                    shown=cmp.shown)
    try:
        pin = step.erratum.mismatches(cmp, ok_dims, step.representation, bind)
    except SymmagInputError:
        raise
    except Exception as exc:  # a pinned residual that cannot be built or compared
        pin = [f"the pinned residual could not be compared: {type(exc).__name__}: {exc}"]
    if pin:
        why = "the printed form differs otherwise than the erratum pins: " + "; ".join(pin)
        return done("mismatch", outcome.method, derived, _sentence(why) + residual + dim_note + pnote,
                    *_why_and_residual(why, shown, cmp.residual if not cmp.ok else None), needed=needed,
                    shown=cmp.shown)
    reason = step.erratum.reason
    return done("erratum", outcome.method, derived, _sentence(reason) + residual + dim_note + pnote,
                *_why_and_residual(reason + ("" if ok_dims else pnote), shown,
                                   cmp.residual if not cmp.ok else None), needed=needed,
                shown=cmp.shown)


def failed_result(step: Step, derivation: Derivation, why: str, seconds: float = 0.0) -> StepResult:
    """The record of a step that could not be run to its end (its process died, it timed out)."""
    return StepResult(id=step.id, derivation=derivation.name, equation=step.equation, status="failed",
                      method="none", assumptions=step.all_assumptions(), seconds=seconds, detail=why,
                      statement=step.statement, reason=why)


def summarize(results: Sequence[StepResult | dict]) -> dict:
    """Counts per status and the total time, of results or of their records."""
    return summarize_records([r if isinstance(r, dict) else r.as_dict(latex=False) for r in results])
