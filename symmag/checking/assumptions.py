"""Removable assumptions: what a claim applies, declared as data so it can be taken away.

An :class:`Assumption` is a named transformation that a derivation applies to an
expression (a substitution such as (39), |M| conservation, a static field).  A step
declares the assumptions its claim applies (``Step(assumes=...)``); ``symmag check
--assumptions`` rebuilds the claim with each one removed -- inside :func:`without` the
assumption is the identity -- and checks it again, so the record can say whether the
result *needs* it ("needed") or holds without it ("not needed").

Functions that cache results computed under assumptions use :func:`cached`, whose key
includes the assumptions removed at the time, so a re-check never sees a stale value.

May use: nothing of symmag (it sits below the algebra and the checking machinery).
The set of removed keys is a :class:`contextvars.ContextVar`: dynamic scope, like
``sympy.evaluate`` or ``numpy.errstate``, not shared mutable state.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

_REMOVED: ContextVar[frozenset[str]] = ContextVar("symmag_removed_assumptions", default=frozenset())
#: keys consulted (applied, or asked whether active) while a claim is built, when recording
_CONSULTED: ContextVar[set[str] | None] = ContextVar("symmag_consulted_assumptions", default=None)


def _note(key: str) -> None:
    seen = _CONSULTED.get()
    if seen is not None:
        seen.add(key)


@dataclass(frozen=True)
class Assumption:
    """A named assumption and what applying it does to an expression.

    ``statement`` is the one line a reader sees ("(39): alpha = lambda/(1 - lambda alpha M^2)");
    ``transform(x)`` applies it.  Calling the assumption applies it unless it has been
    removed with :func:`without`, in which case ``x`` comes back unchanged."""

    key: str
    statement: str
    transform: Callable[[Any], Any] = field(compare=False, repr=False)

    def __call__(self, x):
        _note(self.key)
        if self.key in _REMOVED.get():
            return x
        return self.transform(x)

    @property
    def active(self) -> bool:
        """False inside ``without(self)``: for code whose branch, not a substitution, is the
        assumption (e.g. taking a root that exists only under it)."""
        _note(self.key)
        return self.key not in _REMOVED.get()


@contextmanager
def without(*assumptions: Assumption | str) -> Iterator[None]:
    """Within the block, the given assumptions (or keys) are not applied."""
    keys = frozenset(a.key if isinstance(a, Assumption) else a for a in assumptions)
    token = _REMOVED.set(_REMOVED.get() | keys)
    try:
        yield
    finally:
        _REMOVED.reset(token)


@contextmanager
def consulting() -> Iterator[set[str]]:
    """Record the keys of the assumptions consulted within the block (also by helpers served
    from a :func:`cached` cache): an assumption never consulted was not applied."""
    seen: set[str] = set()
    token = _CONSULTED.set(seen)
    try:
        yield seen
    finally:
        _CONSULTED.reset(token)
        outer = _CONSULTED.get()
        if outer is not None:
            outer |= seen


def removed() -> frozenset[str]:
    """The keys removed in the current context."""
    return _REMOVED.get()


def cached(f: Callable | None = None, *, on: Iterable[Assumption] | None = None):
    """``functools.cache`` keyed also on the removed assumptions, for derivation helpers
    whose result depends on what is assumed.  ``@cached(on=(A, B))`` keys on those alone (a
    re-check without another assumption reuses the value).  A cache hit counts as consulting
    the assumptions the computation consulted."""
    only = None if on is None else frozenset(a.key for a in on)

    def deco(f: Callable) -> Callable:
        @functools.cache
        def inner(_removed: frozenset[str], *args, **kwargs):
            with consulting() as seen:
                value = f(*args, **kwargs)
            return value, frozenset(seen)

        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            key = _REMOVED.get() if only is None else _REMOVED.get() & only
            value, seen = inner(key, *args, **kwargs)
            for k in seen:  # a cache hit consults what the computation consulted
                _note(k)
            return value

        wrapper.cache_clear = inner.cache_clear  # type: ignore[attr-defined]
        return wrapper

    return deco(f) if f is not None else deco
