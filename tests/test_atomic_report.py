"""`symmag report` killed at random points leaves its folder complete-old or complete-new.

A report of generation A is written; then the report of generation B is started and
killed (SIGKILL, the whole process group) at a random instant of its run, for several
seeds.  Every time, the folder holds one generation whole: the .tex, the PDF compiled from
it and timings.txt all of A or all of B -- never a mixture, never a truncated file.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (1, 2, 3)

MODULE = """\
import sympy as sp
from symmag import Derivation, Equal, Step
x = sp.Symbol("x")
DERIVATION = Derivation("gen", "Atomic report", (
    Step(id="only", claim=lambda: Equal(x + x, 2 * x), statement="generation {gen}"),))
"""


def _report(module: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "symmag", "report", "--pdf", "-o", str(out), str(module)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _generation(out: Path) -> str:
    tex = (out / "symmag-report.tex").read_text()
    (gen,) = {g for g in "AB" if f"generation {g}" in tex}
    pdf = subprocess.run(["pdftotext", str(out / "symmag-report.pdf"), "-"], capture_output=True,
                         text=True, check=True).stdout
    assert f"generation {gen}" in pdf, "the PDF is not the one compiled from this .tex"
    assert (out / "timings.txt").read_text().startswith("symmag report --pdf")
    return gen


def test_killed_report_leaves_one_generation(tmp_path):
    modules = {}
    for gen in "AB":
        modules[gen] = tmp_path / f"gen_{gen}.py"
        modules[gen].write_text(MODULE.format(gen=gen))
    out = tmp_path / "report"
    start = time.monotonic()
    assert _report(modules["A"], out).wait(timeout=300) == 0
    full = time.monotonic() - start
    seen = {"A"}
    current = "A"
    for seed in SEEDS:
        target = "B" if current == "A" else "A"
        proc = _report(modules[target], out)
        time.sleep(random.Random(seed).uniform(0.3, 1.1) * full)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        current = _generation(out)
        seen.add(current)
        assert current in (target, "A" if target == "B" else "B")
    # and an undisturbed run completes, clearing what the killed ones left behind
    target = "B" if current == "A" else "A"
    assert _report(modules[target], out).wait(timeout=300) == 0
    assert _generation(out) == target
    assert not [p for p in tmp_path.iterdir() if ".staging-" in p.name or ".old-" in p.name]
