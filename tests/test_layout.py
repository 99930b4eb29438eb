"""The package layout: data flows one way between the rooms, and no module imports itself back.

Each room's ``__init__`` docstring says what it may import; this test holds the code to it,
counting lazy imports inside functions too (annotation-only imports under TYPE_CHECKING are not
imports at run time)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "symmag"
ROOMS = ("algebra", "theory", "checking", "output", "numeric", "exact", "cli")
SHARED = "shared"  # errors, conventions, atomic, progress and the package itself
ALLOWED = {
    "algebra": {"algebra"},
    "theory": {"theory", "algebra"},
    "checking": {"checking", "algebra"},
    "output": {"output", "checking", "algebra"},
    "numeric": {"numeric", "algebra"},
    "exact": {"exact", "algebra", "theory", "numeric", "checking"},
    "cli": set(ROOMS),
    SHARED: set(),
}


def _module(path: Path) -> str:
    parts = list(path.with_suffix("").relative_to(PACKAGE.parent).parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _room(module: str) -> str:
    if module == "symmag.__main__":
        return "cli"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ROOMS else SHARED


def _imports() -> dict[str, set[str]]:
    """symmag module -> the symmag modules it imports, anywhere in its body.  ``from P import X``
    counts as an import of the module P.X when there is one; from the top package, a name it
    resolves on first use (``symmag.Derivation``, ``symmag._HOMES``) counts as its home module."""
    import symmag

    paths = [p for p in sorted(PACKAGE.rglob("*.py")) if "generated_rhs" not in p.parts]
    modules = {_module(p) for p in paths}

    def named(package: str, name: str) -> str:
        if package == "symmag" and name in symmag._HOMES:
            return f"symmag.{symmag._HOMES[name]}"
        candidate = f"{package}.{name}"
        return candidate if candidate in modules else package

    out: dict[str, set[str]] = {}
    for path in paths:
        module = _module(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                       and getattr(node.test, "id", "") == "TYPE_CHECKING"
                       for stmt in node.body for n in ast.walk(stmt)}
        targets = out.setdefault(module, set())
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join([*base, node.module] if node.module else base)
                else:
                    source = node.module or ""
                if source == "symmag" or source.startswith("symmag."):
                    targets.update(named(source, a.name) for a in node.names)
            elif isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.startswith("symmag"))
    return out


def test_rooms_import_only_what_their_docstring_allows():
    bad = [f"{m} -> {t}" for m, ts in _imports().items() for t in sorted(ts)
           if _room(t) != SHARED and _room(t) != _room(m) and _room(t) not in ALLOWED[_room(m)]]
    assert not bad, "imports against the flow:\n" + "\n".join(bad)


def test_no_import_cycles():
    graph = _imports()
    modules = set(graph)

    def resolve(t: str) -> str | None:  # `from .x import name` may name a module or an object in x
        while t and t not in modules:
            t = t.rpartition(".")[0]
        return t or None

    edges = {m: {r for t in ts if (r := resolve(t)) and r != m} for m, ts in graph.items()}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(m: str, path: list[str]) -> bool:
        state[m] = 1
        for t in sorted(edges.get(m, ())):
            if state.get(t) == 1:
                cycle.extend(path[path.index(t):] + [t])
                return True
            if t not in state and visit(t, [*path, t]):
                return True
        state[m] = 2
        return False

    for m in sorted(edges):
        if m not in state and visit(m, [m]):
            break
    assert not cycle, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize("room", ROOMS)
def test_each_room_says_what_it_may_import(room):
    doc = ast.get_docstring(ast.parse((PACKAGE / room / "__init__.py").read_text(encoding="utf-8")))
    assert doc and "May import" in doc
