"""The general D-term of Sec. II B for any interaction, eqs. (21), (22), (26), (30).

Given the interaction term lambda*H_I of (2), written with symmag's operators
and c-numbers (which may depend on H_eff, on the magnetization M and on t):

    M_I  = -lambda dH_I/dH_ext                                    (22)
    M    = M0 + M_I                                               (21)
    D_I  = (i/hbar)[H0, M_I] - gamma M_I x H_eff                   (26)
    D    = < (1/(i hbar))[M, lambda H_I] + dM_I/dt + D_I >           (30)

with H0 = -M0 . H_eff (eq. (3) through (6)), the derivative taken at fixed
c-number M (``field-derivative``) and dM_I/dt the explicit time derivative of
the coefficients (chain rule through H_eff(t), M(t) and t).  gamma keeps its
sign open here: (29) reads dM/dt = gamma M x H_eff + D, which is the printed
-|gamma| M x H_eff + D for gamma = -|gamma|.

Inputs are checked before the work: the interaction through
:func:`~symmag.algebra.operators.to_op` (strings refused), the field as three c-numbers, the
time as a symbol; the algebra's limits (``symmag.algebra.su2.MAX_DEGREE``, ...) bound the
rest, and D's averages stop at ``symmag.algebra.expectation.MAX_ORDERINGS``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from ..algebra.expectation import check_label, expectation
from ..algebra.fields import H_eff, check_field, check_time, magnetic_moment, total_time_derivative
from ..algebra.operators import to_op
from ..algebra.su2 import M0_vector, Op, commutator, cross, dot, nonzero_terms
from ..conventions import gamma, hbar, t
from ..errors import SymmagInputError

CONVENTIONS = ("gamma-sign-open", "field-derivative", "average-per-volume", "hbar-symbolic")

Vector = tuple[Op, Op, Op]


@dataclass(frozen=True)
class DTerm:
    """Everything (21)-(30) give for one interaction."""

    interaction: Op  # lambda H_I
    zeeman: Op  # H0
    moment_interaction: Vector  # M_I (22)
    moment: Vector  # M = M0 + M_I (21)
    moment_interaction_rate: Vector  # dM_I/dt, explicit time dependence (chain rule)
    d_interaction: Vector  # D_I (26)
    d_operator: Vector  # the operator averaged in (30)
    label: str = ""  # "" for <.>, "0" for <.>_0
    conventions: tuple[str, ...] = CONVENTIONS

    @cached_property
    def d(self) -> tuple[sp.Expr, sp.Expr, sp.Expr] | None:
        """D = <d_operator> in correlation symbols; None for per-site operators,
        which have no named correlation symbols yet.  (Checked, not caught: a limit of
        the expectation map must reach the caller, not become None.)"""
        if any(x.has_sites() for x in self.d_operator):
            return None
        return tuple(expectation(x, self.label) for x in self.d_operator)  # type: ignore[return-value]


def zeeman_hamiltonian(field: Sequence[sp.Expr] = H_eff) -> Op:
    """H0 = -M0 . H_eff, the collective form of (3)."""
    return -dot(M0_vector(), field)


def check_hermitian(op: Op, what: str = "interaction") -> None:
    left = nonzero_terms(op - op.adjoint())
    if left:
        raise SymmagInputError(
            f"the {what} is not Hermitian (H - H^dagger = {Op(left)}); declare c-number "
            "symbols real=True, and symmetrize products of noncommuting factors"
        )


def d_interaction(moment_interaction: Sequence, field: Sequence[sp.Expr] = H_eff) -> Vector:
    """D_I = (i/hbar)[H0, M_I] - gamma M_I x H_eff  (26), for a given M_I."""
    field = check_field(field)
    h0 = zeeman_hamiltonian(field)
    m_i = [Op.coerce(x) for x in moment_interaction]
    precession = cross(m_i, field)
    return tuple(sp.I / hbar * commutator(h0, m_i[a]) - gamma * precession[a]  # type: ignore[return-value]
                 for a in range(3))


def dterm(interaction, field: Sequence[sp.Expr] = H_eff, time: sp.Symbol = t,
          label: str = "") -> DTerm:
    """The D-term of (30) for ``interaction`` = lambda*H_I (an operator polynomial).

    Raises :class:`SymmagInputError` for an unknown operator, non-polynomial
    dependence on an operator, or a non-Hermitian interaction."""
    field, time, label = check_field(field), check_time(time), check_label(label)
    lam_hi = to_op(interaction)
    check_hermitian(lam_hi)
    h0 = zeeman_hamiltonian(field)
    m0 = M0_vector()
    m_i = magnetic_moment(lam_hi, field)
    m = tuple(a + b for a, b in zip(m0, m_i))
    d_i = d_interaction(m_i, field)
    rate = tuple(x.map_coefficients(lambda c: total_time_derivative(c, time)) for x in m_i)
    d_op = tuple(commutator(m[a], lam_hi) / (sp.I * hbar) + rate[a] + d_i[a] for a in range(3))
    return DTerm(lam_hi, h0, m_i, m, rate, d_i, d_op, label)  # type: ignore[arg-type]
