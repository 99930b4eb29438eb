"""Every shown result of the paper is tested by its own check (issue: checks with teeth).

Each claim step's shown result is perturbed, component by component (r -> r (1 + eps_k)),
and the step's check must then fail with every eps_k in its residual
(:mod:`symmag.checking.teeth`).  The derivations run in two forked workers, as ``symmag check`` does.
"""

from __future__ import annotations

import multiprocessing

from symmag.checking.runner import discover
from symmag.checking.teeth import Survivor, perturbation_failures


def _survivors(index: int) -> list[Survivor]:
    return perturbation_failures([discover()[index]])


def test_every_shown_result_is_checked():
    derivations = discover()
    order = sorted(range(len(derivations)), key=lambda i: -derivations[i].cost)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        found = [s for part in pool.map(_survivors, order) for s in part]
    assert found == [], "\n".join(f"{s.derivation}/{s.step}: {s.why}" for s in found)


def test_a_check_that_ignores_its_result_is_caught():
    import sympy as sp

    from symmag.checking.derivation import Derivation, Derived, Equal, Step

    x = sp.Symbol("x")
    ignores = Step(id="ignores", claim=lambda: Derived(Equal(x, 2), by=lambda r: Equal(2, 2)))
    partial = Step(id="partial", claim=lambda: Derived(Equal((x, x), (2, 3)),
                                                        by=lambda r: Equal(r.rhs[0] ** 2, 4)))
    found = perturbation_failures([Derivation("d", "d", (ignores, partial))])
    assert [s.step for s in found] == ["ignores", "partial"]
    assert "component(s) [1]" in found[1].why
