"""The result cache (symmag.checking.cache): a rerun with nothing changed is served without importing
SymPy; an edited step, an edited imported module or an edited symmag is re-checked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from symmag.checking import cache, runner
from symmag.cli import main as cli
from symmag.cli.main import main

ROOT = Path(__file__).resolve().parents[1]

MODULE = textwrap.dedent('''
    import sympy as sp
    from symmag import Derivation, Step
    from symmag.checking.derivation import Derived, Equal
    {imports}
    x = sp.Symbol("x", positive=True)

    def root():
        return Derived(result=Equal(x, {value}), by=lambda r: Equal(r.rhs**2, 2))

    DERIVATION = Derivation("{name}", "A derivation", (
        Step(id="{name}-root", claim=root, statement="x = sqrt(2) solves x^2 = 2"),
    ))
''')


def _write(path: Path, name: str, value: str = "sp.sqrt(2)", imports: str = "") -> Path:
    path.write_text(MODULE.format(name=name, value=value, imports=imports))
    return path


@pytest.fixture
def cached(monkeypatch, tmp_path):
    monkeypatch.setenv("SYMMAG_NO_CACHE", "")
    monkeypatch.setenv("SYMMAG_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _check(capsys, *args: str) -> tuple[int, dict]:
    for name in [m for m in sys.modules if m == "pkg" or m.startswith("pkg.")]:
        del sys.modules[name]  # a fresh `symmag check` process imports the package afresh
    code = main(["check", "--json", "--jobs", "1", *args])
    return code, json.loads(capsys.readouterr().out)


def _statuses(out: dict) -> dict:
    return {r["id"]: r["status"] for r in out["results"]}


def test_rerun_is_served_without_sympy(cached, tmp_path):
    """Second run: same output, every record from the cache, and SymPy never imported."""
    mod = _write(tmp_path / "mine.py", "mine")
    probe = (f"import sys; from symmag.cli.main import main; code = main(['check', '--json', {str(mod)!r}]); "
             "print(code, 'sympy' in sys.modules, file=sys.stderr)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                           timeout=120, check=True) for _ in range(2)]
    assert [r.stderr.split() for r in runs] == [["0", "True"], ["0", "False"]]
    first, second = (json.loads(r.stdout) for r in runs)
    assert first["results"] == second["results"]
    assert (first["summary"]["cached"], second["summary"]["cached"]) == (0, 1)


def test_edited_step_is_rechecked(cached, tmp_path, capsys):
    mod = _write(tmp_path / "mine.py", "mine")
    assert _check(capsys, str(mod))[1]["summary"]["cached"] == 0
    assert _check(capsys, str(mod))[1]["summary"]["cached"] == 1
    _write(mod, "mine", value="sp.sqrt(3)")  # a wrong result: its own check must fail
    code, out = _check(capsys, str(mod))
    assert code == 1 and _statuses(out) == {"mine-root": "failed"} and out["summary"]["cached"] == 0
    # a failed step is never stored: the next run checks it again
    assert _check(capsys, str(mod))[1]["summary"]["cached"] == 0
    _write(mod, "mine")
    assert _statuses(_check(capsys, str(mod))[1]) == {"mine-root": "verified"}


def test_edited_import_rechecks_only_its_importers(cached, tmp_path, capsys):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text("import sympy as sp\nVALUE = sp.sqrt(2)\n")
    a = _write(pkg / "a.py", "a", value="VALUE", imports="from .helpers import VALUE")
    b = _write(pkg / "b.py", "b")
    assert _check(capsys, str(a), str(b))[1]["summary"]["cached"] == 0
    assert _check(capsys, str(a), str(b))[1]["summary"]["cached"] == 2
    (pkg / "helpers.py").write_text("import sympy as sp\nVALUE = sp.sqrt(5)\n")
    code, out = _check(capsys, str(a), str(b))
    assert code == 1 and out["summary"]["cached"] == 1  # b served, a re-run
    assert _statuses(out) == {"a-root": "failed", "b-root": "verified"}


def test_edited_symmag_rechecks_everything(cached, tmp_path, capsys, monkeypatch):
    """Editing symmag/algebra/su2.py (in a copy of the package the cache hashes) is a full re-check."""
    copy = tmp_path / "symmag-copy"
    shutil.copytree(Path(cache.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "_PACKAGE", copy)
    mods = [str(_write(tmp_path / f"m{i}.py", f"m{i}")) for i in range(2)]
    assert _check(capsys, *mods)[1]["summary"]["cached"] == 0
    assert _check(capsys, *mods)[1]["summary"]["cached"] == 2
    with (copy / "algebra.py").open("a") as f:
        f.write("\n# an edit\n")
    assert _check(capsys, *mods)[1]["summary"]["cached"] == 0


def test_no_cache_and_a_corrupt_entry(cached, tmp_path, capsys):
    mod = _write(tmp_path / "mine.py", "mine")
    _check(capsys, "--no-cache", str(mod))
    assert not (cached / "check").exists() or not list((cached / "check").glob("*.json"))
    _check(capsys, str(mod))
    entries = [p for p in (cached / "check").glob("*.json") if p.name != "imports.json"]
    assert len(entries) == 1
    entries[0].write_text('{"format": 1, "key": "')  # truncated by a crash of another writer
    code, out = _check(capsys, str(mod))
    assert code == 0 and out["summary"]["cached"] == 0 and _statuses(out) == {"mine-root": "verified"}
    assert _check(capsys, str(mod))[1]["summary"]["cached"] == 1


def test_options_have_their_own_entries(cached, tmp_path, capsys):
    """The table (no LaTeX) and --json (LaTeX forms) are cached apart: neither serves the other."""
    mod = _write(tmp_path / "mine.py", "mine")
    assert main(["check", str(mod)]) == 0
    capsys.readouterr()
    code, out = _check(capsys, str(mod))
    assert code == 0 and out["summary"]["cached"] == 0 and out["results"][0]["derived"]


def test_the_paper_modules_are_found_without_importing():
    files = cache.derivation_files(())
    assert [f.stem for f in files] == sorted(f.stem for f in (ROOT / "derivations").glob("sec*.py"))


def test_constants_agree_with_the_modules_that_own_them():
    assert cli.STEP_TIMEOUT == runner.STEP_TIMEOUT
    assert cache.NOT_DERIVATIONS == runner.NOT_DERIVATIONS


def test_report_with_nothing_changed_is_not_rebuilt(cached, tmp_path, capsys):
    mod = str(_write(tmp_path / "mine.py", "mine"))
    out = tmp_path / "report"
    assert main(["report", mod, "-o", str(out)]) == 0
    tex = out / "symmag-report.tex"
    built = tex.stat().st_mtime_ns
    assert "up to date" not in capsys.readouterr().err
    assert main(["report", mod, "-o", str(out)]) == 0
    assert "up to date" in capsys.readouterr().err and tex.stat().st_mtime_ns == built
    tex.write_text(tex.read_text() + "% edited by hand\n")  # its files changed: rebuilt
    assert main(["report", mod, "-o", str(out)]) == 0
    assert "up to date" not in capsys.readouterr().err and "edited by hand" not in tex.read_text()
    _write(Path(mod), "mine", value="sp.sqrt(3)")  # an input changed: rebuilt, and the gate says so
    assert main(["report", mod, "-o", str(out)]) == 1
    assert "up to date" not in capsys.readouterr().err


def test_an_unusable_cache_folder_is_no_error(monkeypatch, tmp_path, capsys):
    """A cache that cannot be written (here: its path is a file) costs speed, never a result."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("SYMMAG_NO_CACHE", "")
    monkeypatch.setenv("SYMMAG_CACHE_DIR", str(blocker))
    mod = _write(tmp_path / "mine.py", "mine")
    for _ in range(2):
        code, out = _check(capsys, str(mod))
        assert code == 0 and out["summary"]["cached"] == 0 and _statuses(out) == {"mine-root": "verified"}
