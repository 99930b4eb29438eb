"""symmag: machine re-derivation of the quantum theory of magnetization damping.

Data flows one way: algebra -> derivations -> checks -> report / codegen.
"""

import sys
import types

# Names resolve on first use (PEP 562): ``import symmag.cli`` must not pull in SymPy, so that
# a rerun served from the result cache starts in a fraction of a second.
_HOMES = {
    "M0": "algebra", "Op": "algebra", "S": "algebra", "anticommutator": "algebra",
    "commutator": "algebra", "cross": "algebra", "dot": "algebra", "same_operator": "algebra",
    "site_sum": "algebra", "to_sites": "algebra",
    "Derivation": "derivation", "Equal": "derivation", "Parallel": "derivation",
    "Printed": "derivation", "Step": "derivation",
    "SymmagInputError": "errors",
    "correlation_symbol": "expectation", "expectation": "expectation",
    "magnetic_moment": "fields",
    "Moment": "operators", "Spin": "operators", "parse_operator": "operators", "to_op": "operators",
    "Representation": "representation", "represent": "representation",
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


class _Package(types.ModuleType):
    """The package object.  Importing a submodule binds it as an attribute of its package; for
    ``symmag.expectation`` that would shadow the function ``expectation`` (which the eager
    imports used to rebind afterwards), so such a binding is dropped: the name stays the
    function, and the submodule stays reachable through ``sys.modules`` and ``from ... import``."""

    def __setattr__(self, name: str, value) -> None:
        if name in _HOMES and isinstance(value, types.ModuleType) and value.__name__ == f"{__name__}.{name}":
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
