"""symmag: machine re-derivation of the quantum theory of magnetization damping.

Data flows one way, room by room (each subpackage's docstring says what it may import):

    algebra   exact SU(2) operators, fields, averages, matrices, their printing
    theory    the paper's general results as functions: D-term, hierarchy, closures
    checking  derivation records, their checks, statuses, cache, mutation testing
    output    what a person reads: the LaTeX/PDF report, notebook displays
    numeric   generated right-hand sides, integrators, thermal noise, simulate, sweep
    exact     exact quantum dynamics and the comparisons with the derived equations
    cli       the ``symmag`` command

``errors``, ``conventions``, ``atomic`` and ``progress`` are shared by every room.
"""

# Names resolve on first use (PEP 562): ``import symmag.cli`` must not pull in SymPy, so that
# a rerun served from the result cache starts in a fraction of a second.
_HOMES = {
    **dict.fromkeys(("M0", "Op", "S", "anticommutator", "commutator", "cross", "dot",
                     "same_operator", "site_sum", "to_sites"), "algebra.su2"),
    **dict.fromkeys(("Moment", "Spin", "parse_operator", "to_op"), "algebra.operators"),
    **dict.fromkeys(("correlation_symbol", "expectation"), "algebra.expectation"),
    "magnetic_moment": "algebra.fields",
    **dict.fromkeys(("Representation", "represent"), "algebra.representation"),
    **dict.fromkeys(("Derivation", "Equal", "Parallel", "Printed", "Step"), "checking.derivation"),
    "SymmagInputError": "errors",
}


def __getattr__(name: str):
    if name in _HOMES:
        import importlib

        value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
        globals()[name] = value  # the next lookup is an ordinary attribute
        return value
    raise AttributeError(f"module 'symmag' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


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
