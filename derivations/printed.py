"""The paper's equations as printed, kept apart from what symmag derives.

Keyed by equation number as a string.  Derivations never copy these into
their derived side; a step names its key, and the check reads this table when
it runs.  ``reading`` records how the PDF extraction was interpreted (see
``../shared/paper/READING.md``).

Component equations with free Cartesian indices (a, b, c) are written out for
every component: a 3x3 table for a two-index identity, a 3-tuple for a vector.
"""

from __future__ import annotations

import sympy as sp

from symmag.algebra import levi_civita
from symmag.conventions import N, gamma, hbar
from symmag.derivation import Printed
from symmag.fields import H_eff
from symmag.operators import Commutator, Moment, Spin

_i = sp.Symbol("i", integer=True, positive=True)
_M0 = [Moment(a) for a in range(3)]


def _two_index(f) -> tuple:
    return tuple(tuple(f(a, b) for b in range(3)) for a in range(3))


PRINTED: dict[str, Printed] = {
    "3": Printed(
        lhs=sp.Symbol("H_0"),
        rhs=-gamma * sp.Sum(sum(Spin(a, _i) * H_eff[a] for a in range(3)), (_i, 1, N)),
        kind="definition",
        reading="sum over i runs over all N sites of the system.",
    ),
    "6": Printed(
        lhs=tuple(_M0),
        rhs=tuple(gamma * sp.Sum(Spin(a, _i), (_i, 1, N)) for a in range(3)),
        kind="vector",
        reading="M0 = -dH0/dH_ext = gamma sum_i S_i, written per component.",
    ),
    "8": Printed(
        lhs=_two_index(lambda a, b: Commutator(_M0[a], _M0[b])),
        rhs=_two_index(
            lambda a, b: sp.Add(*(sp.I * hbar * gamma * levi_civita(a, b, c) * _M0[c]
                                  for c in range(3)))
        ),
        kind="operator identity",
        reading="[A, B]- is the commutator; repeated c is summed; written out for all a, b.",
    ),
}
