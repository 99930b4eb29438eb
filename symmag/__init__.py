"""symmag: machine re-derivation of the quantum theory of magnetization damping.

Data flows one way: algebra -> derivations -> checks -> report / codegen.
"""

from .algebra import (
    M0,
    Op,
    S,
    anticommutator,
    commutator,
    cross,
    dot,
    same_operator,
    site_sum,
    to_sites,
)
from .derivation import Derivation, Equal, Parallel, Printed, Step
from .errors import SymmagInputError
from .expectation import correlation_symbol, expectation
from .fields import magnetic_moment
from .operators import Moment, Spin, parse_operator, to_op
from .representation import Representation, represent

__version__ = "0.1.0"

__all__ = [
    "M0",
    "Derivation",
    "Equal",
    "Moment",
    "Op",
    "Parallel",
    "Printed",
    "Representation",
    "S",
    "Spin",
    "Step",
    "SymmagInputError",
    "anticommutator",
    "commutator",
    "correlation_symbol",
    "cross",
    "dot",
    "expectation",
    "magnetic_moment",
    "parse_operator",
    "represent",
    "same_operator",
    "site_sum",
    "to_op",
    "to_sites",
]
