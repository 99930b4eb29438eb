"""Does a check see what a step shows?  Perturb every shown result and re-check.

For each claim step, the derived form a reader is shown -- a :class:`Derived` result, or
the :class:`Equal` / :class:`NumericEqual` / :class:`Parallel` claim itself -- is perturbed:
each component of its right-hand side r becomes r (1 + eps_k) (r + eps_k where r = 0),
eps_k a fresh symbol per component; a numeric right-hand side is scaled by 1 + 1e-3.  The
step's check, run on the perturbed form, must fail, and its residual must involve every
eps_k: then no component is shown that the check did not test.  A check that holds whatever
the result (comparing the result with itself, or a ``by`` that ignores it) survives and is
reported.  A plain Equal claim is not probed: what it shows is what its checker compares;
whether what it checks is worth checking is for mutation testing (:mod:`symmag.checking.mutation`)
to tell.

May use: the checking machinery (:mod:`symmag.checking.derivation`) and the algebra.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..algebra.su2 import Op
from .derivation import (
    Derivation,
    Derived,
    Equal,
    NumericEqual,
    Parallel,
    Step,
    _leaves,
    _perturb_leaves,
    check_claim,
)

NUMERIC_FACTOR = 1 + 1e-3  # far above every numeric step's tolerance (<= 1e-6)


@dataclass(frozen=True)
class Survivor:
    """A step whose check does not see (part of) the form it shows."""

    step: str
    derivation: str
    why: str


def _free(part) -> set:
    if isinstance(part, Op):
        out: set = set()
        for c in part.coefficients():
            out |= sp.sympify(c).free_symbols
        return out
    return sp.sympify(part).free_symbols


def _symbolic_survivor(shown, rebuild, representation) -> str | None:
    """Perturb ``shown``'s rhs, re-check through ``rebuild``; None when the check sees all."""
    n = _leaves(shown.rhs)
    eps = sp.symbols(f"symmag_eps_0:{n}")
    perturbed = Equal(shown.lhs, _perturb_leaves(shown.rhs, eps))
    try:
        outcome = check_claim(rebuild(perturbed), representation)
    except Exception:  # the check cannot even be built from a perturbed result: it uses it
        return None
    if outcome.ok:
        return "the check passes with every component of the shown result perturbed"
    parts = outcome.raw or []
    seen = set().union(*(_free(p) for _, p in parts)) if parts else set(eps)
    missing = [k for k, e in enumerate(eps) if e not in seen]
    if missing:
        return (f"the check does not involve component(s) {missing} of the shown result's "
                f"right-hand side ({n} component(s))")
    return None


def step_survivor(step: Step) -> str | None:
    """Why the step's check does not see its shown result, or None (it does; or nothing
    is shown: definitions, unchecked steps)."""
    if step.kind != "claim":
        return None
    claim = step.claim()
    rep = step.representation
    if isinstance(claim, Derived):
        if not callable(claim.by):
            return "Derived(by=...) is not a function of the result"
        return _symbolic_survivor(claim.result, lambda r: Derived(r, claim.by), rep)
    if isinstance(claim, Equal):
        # what a plain Equal shows is what its checker compares, component by component, by
        # construction (tests/test_records.py breaks one and sees it fail): nothing to probe,
        # and probing every one would double the cost of the paper's check
        return None
    if isinstance(claim, Parallel):
        eps = sp.symbols("symmag_eps_0:3")
        v = [sp.sympify(x) + e for x, e in zip(claim.v, eps)]
        outcome = check_claim(Parallel(claim.u, v), rep)
        return None if not outcome.ok else "the parallelism check passes with v perturbed"
    if isinstance(claim, NumericEqual):
        rhs = np.asarray(claim.rhs, dtype=complex)
        bumped = rhs * NUMERIC_FACTOR if np.any(rhs) else rhs + 1.0
        outcome = check_claim(NumericEqual(claim.lhs, bumped, claim.tol, claim.setup, claim.values,
                                           claim.method), rep)
        return None if not outcome.ok else (f"the numeric check passes with the rhs scaled by "
                                            f"{NUMERIC_FACTOR}")
    return f"no perturbation is defined for {type(claim).__name__} claims"


def perturbation_failures(derivations: Sequence[Derivation]) -> list[Survivor]:
    """Every claim step of ``derivations`` whose check survives the perturbation of its shown
    result (empty: every shown result is tested by its own check)."""
    out = []
    for d in derivations:
        for st in d.steps:
            why = step_survivor(st)
            if why is not None:
                out.append(Survivor(st.id, d.name, why))
    return out
