"""Working-directory independence: after an install, `symmag simulate` and `symmag compare`
find the paper's generated modules from any directory, and the build ships them.

The commands run as the test environment's own install (the console script beside
sys.executable: editable in a checkout, the installed wheel in CI), from an empty temporary
working directory.  The build test lays out the package with setuptools' build_py -- the step
that fills a wheel -- from a copy of the packaging inputs, and runs from that layout alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "generated" / "rhs"
LLG = ["--y0", "0.3,0.1,0.9", "--t-end", "1", "--points", "5", "--param", "gamma_abs=1",
       "--param", "alpha0=0.1", "--param", "Hx=0", "--param", "Hy=0", "--param", "Hz=1"]


def _symmag() -> list[str]:
    script = Path(sys.executable).parent / "symmag"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "symmag"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {**env, "MPLBACKEND": "Agg", **extra}


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env or _env(), capture_output=True, text=True, timeout=300)


def test_simulate_and_compare_work_from_another_directory(tmp_path):
    """Needs cli.py's `simulate --folder` default to be None (the shipped models)."""
    run = _run([*_symmag(), "simulate", "llg_rsi", *LLG, "-o", "out.npz"], tmp_path)
    assert run.returncode == 0, run.stderr
    data = np.load(tmp_path / "out.npz")
    assert data["y"].shape == (3, 5) and list(data["state"]) == ["Mx", "My", "Mz"]
    run = _run([*_symmag(), "compare", "llg_rsi", "--spins", "2"], tmp_path)
    assert run.returncode == 0, run.stderr
    assert "LLG (41)" in run.stdout
    deviations = [float(line.split()[1]) for line in run.stdout.splitlines()[2:]]
    assert len(deviations) == 11 and max(deviations) < 1e-7
    typo = _run([*_symmag(), "simulate", "llg_rs", *LLG], tmp_path)
    assert typo.returncode == 2 and typo.stderr.count("\n") == 1, typo.stderr
    assert "did you mean llg_rsi" in typo.stderr and "known models: llg_rsi, llg_rsi_extra" in typo.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.npz"]  # nothing else written here


def test_build_ships_the_generated_modules(tmp_path):
    """The package as a wheel lays it out holds generated/rhs byte for byte as
    symmag/generated_rhs, and symmag run from that layout alone (no checkout on the path)
    loads and integrates the shipped model from an empty directory."""
    pytest.importorskip("setuptools")
    source = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("symmag", "derivations"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    shutil.copytree(GENERATED, source / "generated" / "rhs", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    lib = tmp_path / "lib"
    build = _run([sys.executable, "-c", "import setuptools; setuptools.setup()", "-q", "build_py",
                  "-d", str(lib)], source)
    assert build.returncode == 0, build.stderr
    # every room of the package is in the build, with all its modules (pyproject lists them by name)
    packages = [q.parent.relative_to(ROOT) for q in (ROOT / "symmag").rglob("__init__.py")]
    assert len(packages) > 5
    for package in packages:
        assert sorted(q.name for q in (lib / package).glob("*.py")) == \
            sorted(q.name for q in (ROOT / package).glob("*.py")), f"{package} is not built whole"
    shipped = lib / "symmag" / "generated_rhs"
    expected = sorted(p.name for p in GENERATED.glob("*.py"))
    assert expected and sorted(p.name for p in shipped.glob("*.py")) == expected
    assert all((shipped / n).read_bytes() == (GENERATED / n).read_bytes() for n in expected)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = _env(PYTHONPATH=str(lib))  # before site-packages and the editable finder
    code = "import symmag.numeric.simulate as s; print(s.load_model('llg_rsi').__file__)"
    probe = _run([sys.executable, "-c", code], elsewhere, env)
    assert probe.returncode == 0, probe.stderr
    assert Path(probe.stdout.strip()) == (shipped / "llg_rsi.py").resolve()
    run = _run([sys.executable, "-m", "symmag", "simulate", "llg_rsi", "--folder", str(shipped), *LLG,
                "-o", "out.npz"], elsewhere, env)
    assert run.returncode == 0, run.stderr
    assert np.load(elsewhere / "out.npz")["y"].shape == (3, 5)
