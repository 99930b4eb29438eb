"""Results of ``symmag check`` and ``symmag report``, cached by a content hash of what they
depend on, so that a rerun with nothing changed costs a fraction of a second.

Holds: finding derivation module files without importing them (:func:`plan`), the key of a
module's results (:func:`module_key`) and the store (:class:`Store`).  May use the standard
library and :mod:`symmag.atomic` only: a warm run imports neither SymPy nor a derivation.

The key of one module's records hashes

* the module's source and, transitively, every local module it imports (absolute and relative
  imports anywhere in the file, found by parsing, never by importing), and the ``__init__.py``
  of every package around them;
* every source file of symmag itself (``*.py`` and templates; not the version number, which
  does not change when ``algebra.py`` does);
* the versions of Python, SymPy, mpmath, NumPy and SciPy, and of any other third-party package
  the module imports;
* the options that change a record (``--json``/LaTeX forms, ``--assumptions``, the step timeout).

So editing one module re-checks that module and the modules importing it; editing symmag
re-checks everything.  A hit never changes a status: records are served only for a key equal
to the one they were built under.  What the key cannot see -- a module that reads other files
or the environment at run time, or imports by ``importlib``/``__import__`` -- is what
``--no-cache`` (or ``SYMMAG_NO_CACHE=1``) is for.  Records of a module with a failed step are
never stored: a timeout or a crashed worker need not recur.

The store is one JSON file per module and option set in the per-user cache directory
(``$SYMMAG_CACHE_DIR``, else ``$XDG_CACHE_HOME/symmag``, else ``~/.cache/symmag``), written
atomically, so concurrent runs at worst both compute and one wins.  ``symmag mutate`` never
uses it.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import os
import pkgutil
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import atomic

FORMAT = 1
#: modules of the ``derivations`` package that hold no derivation (symmag.checking.runner uses the same)
NOT_DERIVATIONS = ("printed", "models", "figures")
#: always part of the key: the checks' results depend on them even when a module does not
#: import them by name
CORE_PACKAGES = ("sympy", "mpmath", "numpy", "scipy")
_PACKAGE = Path(__file__).resolve().parents[1]  # the whole symmag package, every room


def enabled() -> bool:
    """False when ``SYMMAG_NO_CACHE`` is set to anything but ``0``/empty."""
    return os.environ.get("SYMMAG_NO_CACHE", "") in ("", "0")


def cache_dir() -> Path:
    """The per-user cache folder (not created here)."""
    if os.environ.get("SYMMAG_CACHE_DIR"):
        return Path(os.environ["SYMMAG_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "symmag"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_hash(path: Path) -> str:
    return _digest(path.read_bytes())


def symmag_digest() -> str:
    """One hash over every source file of the installed symmag package."""
    h = hashlib.sha256()
    for p in sorted(_PACKAGE.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and p.suffix in (".py", ".j2"):
            h.update(str(p.relative_to(_PACKAGE)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _version(dist: str) -> str:
    """A distribution's version, from its ``*.dist-info`` folder name when it sits beside the
    package (no import of importlib.metadata, ~50 ms); else from importlib.metadata."""
    try:
        spec = importlib.util.find_spec(dist)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        site = Path(spec.origin).parent.parent
        prefix = dist.replace("-", "_").lower() + "-"
        try:
            found = [n for n in os.listdir(site) if n.endswith(".dist-info") and n.lower().startswith(prefix)]
        except OSError:
            found = []
        if len(found) == 1:
            return found[0][len(prefix):-len(".dist-info")]
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "absent"


_THIRD_PARTY_ROOTS = tuple(
    str(Path(p).resolve()) for p in {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
)
_STDLIB_ROOTS = tuple(
    str(Path(p).resolve()) for p in {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")}
)


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r + os.sep) for r in roots)


@dataclass
class _Deps:
    files: dict[str, str] = field(default_factory=dict)  # local source file -> sha256
    markers: set[str] = field(default_factory=set)  # third-party package==version, missing:name


def _package_chain(path: Path) -> tuple[list[str], Path, list[Path]]:
    """(dotted name parts, the folder that would be put on sys.path, the package
    ``__init__.py`` files executed before the module) -- as :mod:`symmag.checking.runner` imports it."""
    parts = [path.stem] if path.name != "__init__.py" else []
    inits = []
    parent = path.parent
    while (parent / "__init__.py").is_file():
        parts.insert(0, parent.name)
        inits.append(parent / "__init__.py")
        parent = parent.parent
    return parts, parent, inits


def _resolve(dotted: str, root: Path, deps: _Deps) -> list[Path]:
    """Local files an absolute import of ``dotted`` executes (packages' ``__init__`` and the
    module), searched the way Python would: ``root`` first, then the import system's finders
    (top-level lookups only, which import nothing).  Third-party packages become markers."""
    parts = dotted.split(".")
    top = parts[0]
    if top == "symmag" or top in sys.stdlib_module_names or top == "__future__":
        return []  # symmag is hashed whole; the standard library belongs to the Python version
    locations: list[Path] = []
    candidate = root / top
    if (candidate / "__init__.py").is_file():
        locations.append(candidate / "__init__.py")
    elif candidate.with_suffix(".py").is_file():
        locations.append(candidate.with_suffix(".py"))
    if not locations:
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            deps.markers.add(f"missing:{top}")
            return []
        origin = spec.origin or ""
        if spec.origin in (None, "built-in", "frozen") or _under(str(Path(origin).resolve()), _STDLIB_ROOTS):
            return []
        if _under(str(Path(origin).resolve()), _THIRD_PARTY_ROOTS):
            deps.markers.add(f"{top}=={_version(top)}")
            return []
        locations.append(Path(origin))
    files = list(locations)
    folder = locations[0].parent if locations[0].name == "__init__.py" else None
    for part in parts[1:]:
        if folder is None:
            break
        if (folder / part / "__init__.py").is_file():
            files.append(folder / part / "__init__.py")
            folder = folder / part
        elif (folder / f"{part}.py").is_file():
            files.append(folder / f"{part}.py")
            folder = None
        else:
            break
    return files


ImportSpec = tuple[int, str, tuple[str, ...]]  # (level, module, names); ``import a.b`` is (0, "a.b", ())


def import_specs(source: bytes) -> list[ImportSpec]:
    """Every import statement of a module, anywhere in it (functions included)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []  # the run reports the syntax error; the source hash already covers it
    out: list[ImportSpec] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(0, alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append((node.level, node.module or "", tuple(a.name for a in node.names)))
    return out


def _imports(path: Path, specs: Sequence[ImportSpec], root: Path, deps: _Deps) -> list[Path]:
    """Local files the module at ``path`` imports, from its import statements."""
    parts, _, _ = _package_chain(path)
    package = parts[:-1] if path.name != "__init__.py" else parts
    out: list[Path] = []
    for level, module, names in specs:
        if level:
            base = package[: len(package) - (level - 1)] if level > 1 else package
            if not base:
                continue  # a relative import outside a package fails at import: nothing to hash
            dotted = ".".join(base + ([module] if module else []))
        else:
            dotted = module
        out += _resolve(dotted, root, deps)
        for name in names:  # `from pkg import submodule`
            out += _resolve(f"{dotted}.{name}", root, deps)
    return out


class _SpecMemo:
    """Import statements by source hash, kept beside the records: parsing every module on
    every run would cost most of a warm run.  Lost or corrupt: recomputed."""

    def __init__(self, folder: Path | None):
        self.path = folder / "imports.json" if folder is not None else None
        self.specs: dict[str, list] = {}
        self.changed = False
        if self.path is not None:
            try:
                loaded = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict) and loaded.get("format") == FORMAT:
                    self.specs = loaded["specs"]
            except (OSError, ValueError, KeyError, TypeError):
                pass

    def get(self, digest: str, source: bytes) -> list[ImportSpec]:
        if digest not in self.specs:
            self.specs[digest] = [list(s) for s in import_specs(source)]
            self.changed = True
        return [(int(a), str(b), tuple(c)) for a, b, c in self.specs[digest]]

    def save(self) -> None:
        if self.path is None or not self.changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_text(self.path, json.dumps({"format": FORMAT, "specs": self.specs}))
        except OSError:
            pass  # a read-only cache folder: the next run parses again


def dependencies(path: Path, memo: _SpecMemo | None = None) -> _Deps:
    """The local source files behind a module (itself included) and its third-party markers."""
    memo = memo or _SpecMemo(None)
    deps = _Deps()
    _, root, inits = _package_chain(path)
    todo = [path, *inits]
    while todo:
        p = todo.pop().resolve()
        key = str(p)
        if key in deps.files:
            continue
        source = p.read_bytes()
        deps.files[key] = _digest(source)
        todo += _imports(p, memo.get(deps.files[key], source), root, deps)
    return deps


@dataclass(frozen=True)
class ModuleKey:
    """Where one module's records are stored and the hash they must match."""

    path: Path
    slot: str  # one file per module and option set: a new key replaces the old entry
    key: str
    files: tuple[str, ...]


def module_key(path: Path, options: Mapping, environment: str, memo: _SpecMemo | None = None) -> ModuleKey:
    deps = dependencies(path, memo)
    slot = _digest(json.dumps([str(path), dict(sorted(options.items()))]).encode())[:24]
    key = _digest(json.dumps({"format": FORMAT, "environment": environment, "module": str(path),
                              "options": dict(sorted(options.items())),
                              "files": sorted(deps.files.items()),
                              "markers": sorted(deps.markers)}).encode())
    return ModuleKey(path, slot, key, tuple(sorted(deps.files)))


def environment_digest() -> str:
    """Python, the core packages' versions and symmag's own sources."""
    return _digest(json.dumps({"python": sys.version, "implementation": sys.implementation.name,
                               "packages": {d: _version(d) for d in CORE_PACKAGES},
                               "symmag": symmag_digest()}).encode())


def derivation_files(paths: Sequence[str]) -> list[Path] | None:
    """The module files ``symmag check PATH...`` would import, in its order, or None when that
    cannot be told without importing (a missing file, not ``.py``, no ``derivations``
    package): the caller then takes the uncached route, which gives the proper error."""
    if paths:
        files = []
        for p in paths:
            path = Path(p)
            if path.suffix != ".py" or not path.is_file():
                return None
            files.append(path.resolve())
        return files
    try:
        spec = importlib.util.find_spec("derivations")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    files = []
    for info in sorted(pkgutil.iter_modules(spec.submodule_search_locations), key=lambda m: m.name):
        if info.name in NOT_DERIVATIONS or info.name.startswith("_") or info.ispkg:
            continue
        files.append((Path(info.module_finder.path) / f"{info.name}.py").resolve())
    return files


class Store:
    """The cache folder: one JSON entry per (module, options)."""

    def __init__(self, folder: Path | None = None):
        self.folder = (folder or cache_dir()) / "check"

    def _entry(self, k: ModuleKey) -> Path:
        return self.folder / f"{k.slot}.json"

    def load(self, k: ModuleKey) -> list[dict] | None:
        """The records stored under exactly this key, else None (a corrupt entry is a miss)."""
        try:
            entry = json.loads(self._entry(k).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != k.key:
            return None
        records = entry.get("records")
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            return None
        return records

    def save(self, k: ModuleKey, records: Sequence[dict]) -> bool:
        """Store the records (not when a step failed); False when the folder is not writable."""
        if any(r.get("status") == "failed" for r in records):
            return False
        entry = {"format": FORMAT, "key": k.key, "module": str(k.path), "files": list(k.files),
                 "records": list(records)}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic.write_text(self._entry(k), json.dumps(entry, separators=(",", ":")))
        except OSError:
            return False
        return True


@dataclass
class Plan:
    """The modules of one run, each with its key and (when stored) its records."""

    keys: list[ModuleKey]
    hits: dict[Path, list[dict]]
    store: Store

    @property
    def misses(self) -> list[ModuleKey]:
        return [k for k in self.keys if k.path not in self.hits]


def plan(paths: Sequence[str], options: Mapping, store: Store | None = None) -> Plan | None:
    """Keys and stored records for the modules of a run; None when the cache is off or the
    modules cannot be found without importing them."""
    if not enabled():
        return None
    files = derivation_files(paths)
    if files is None or len(set(files)) != len(files):
        return None
    store = store or Store()
    environment = environment_digest()
    memo = _SpecMemo(store.folder)
    try:
        keys = [module_key(p, options, environment, memo) for p in files]
    except OSError:
        return None
    memo.save()
    hits = {k.path: r for k in keys if (r := store.load(k)) is not None}
    return Plan(keys, hits, store)


# -- the report: skipped when its inputs and its own files are as the last run left them --
STAMP = ".symmag-report.json"


def _tool_identity(name: str) -> str:
    """Which ``name`` on PATH, and which build of it (path, size, mtime): an upgrade of TeX
    Live changes the PDF, so it changes the key."""
    import shutil

    found = shutil.which(name)
    if found is None:
        return f"{name}: absent"
    st = Path(found).resolve().stat()
    return f"{Path(found).resolve()}:{st.st_size}:{st.st_mtime_ns}"


def report_key(p: Plan, options: Mapping, extra_files: Sequence[Path] = ()) -> str:
    """The hash of everything a report is made from: every module's key, the figure code,
    matplotlib and the LaTeX tools (a report is up to date only when, besides, every module's
    records are stored: ``not p.misses``)."""
    deps = _Deps()
    for f in extra_files:
        d = dependencies(f)
        deps.files.update(d.files)
        deps.markers |= d.markers
    return _digest(json.dumps({"format": FORMAT, "modules": [k.key for k in p.keys],
                               "options": dict(sorted(options.items())),
                               "files": sorted(deps.files.items()), "markers": sorted(deps.markers),
                               "matplotlib": _version("matplotlib"),
                               "tools": [_tool_identity(t) for t in ("latexmk", "pdflatex")]}).encode())


def _outputs(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): _file_hash(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != STAMP and "__pycache__" not in p.parts}


def report_is_current(folder: Path, key: str) -> bool:
    """True when ``folder`` holds a report built under ``key`` and none of its files changed."""
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
        return stamp.get("key") == key and stamp.get("files") == _outputs(folder)
    except (OSError, ValueError, AttributeError):
        return False


def write_stamp(folder: Path, key: str) -> None:
    """Record the key and the files of a report just built (inside its generation)."""
    atomic.write_text(folder / STAMP, json.dumps({"format": FORMAT, "key": key,
                                                  "files": _outputs(folder)}, indent=1))


def figures_file() -> Path | None:
    """``derivations/figures.py`` of the installed paper package, found without importing it."""
    try:
        spec = importlib.util.find_spec("derivations")
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        if (Path(location) / "figures.py").is_file():
            return (Path(location) / "figures.py").resolve()
    return None
