"""docs/tutorial.md is executed: its module is assembled from the Python blocks, and each
command it shows is run here with the outcome it describes (report: the PDF is read)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from symmag.cli.main import main

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"
STATUSES = {"hamiltonian": "definition", "total-spin-z": "verified", "total-spin-x": "verified",
            "equation-of-motion": "erratum", "exchange-energy": "verified", "pauli-square": "verified",
            "singlet-triplet": "verified"}


@pytest.fixture(scope="module")
def module(tmp_path_factory) -> Path:
    blocks = re.findall(r"```python\n(.*?)```", TUTORIAL.read_text(), flags=re.DOTALL)
    path = tmp_path_factory.mktemp("tutorial") / "exchange.py"
    path.write_text("\n\n".join(blocks))
    return path


def test_check_gives_the_statuses_the_tutorial_shows(module, capsys):
    assert main(["check", str(module)]) == 0
    table = capsys.readouterr().out
    shown = re.search(r"```console\n\$ symmag check exchange.py\n(.*?)```", TUTORIAL.read_text(),
                      flags=re.DOTALL).group(1).splitlines()
    for line in shown[:-1]:  # the step lines as printed (long ones shortened with ...)
        assert any(got.startswith(line.removesuffix("...").rstrip()) for got in table.splitlines()), line
    assert table.splitlines()[len(shown) - 1].startswith(shown[-1].split(" (")[0])
    assert main(["check", "--json", str(module)]) == 0
    records = json.loads(capsys.readouterr().out)["results"]
    assert {r["id"]: r["status"] for r in records} == STATUSES


def test_without_its_erratum_the_step_is_a_mismatch(module, tmp_path, capsys):
    text = module.read_text()
    bare = tmp_path / "bare.py"
    bare.write_text(text.replace("erratum=Erratum(", "erratum=None and Erratum("))
    assert main(["check", "-v", str(bare)]) == 1
    out = capsys.readouterr().out
    assert "mismatch   equation-of-motion" in out and "To pin it: Erratum(reason, residual=" in out


def test_assumptions_verdict(module, capsys):
    assert main(["check", "--assumptions", str(module)]) == 0
    assert "assumptions: pauli-square: representation needed" in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("latexmk") is None or shutil.which("pdftotext") is None,
                    reason="TeX Live and poppler are installed by .ci/run")
def test_report_carries_the_tutorials_title_and_every_step(module, tmp_path, capsys):
    out = tmp_path / "exchange-report"
    assert main(["report", str(module), "-o", str(out), "--pdf"]) == 0
    pdf = out / "symmag-report.pdf"
    first = subprocess.run(["pdftotext", "-l", "1", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout
    assert "Two exchange-coupled spins: a symmag tutorial" in " ".join(first.split())
    assert "magnetization" not in first.lower()  # nothing of the paper's
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    for step_id, status in STATUSES.items():
        assert step_id in text, step_id
        assert status in text, status


def test_mutants_of_the_tutorial_are_killed(module, capsys):
    assert main(["mutate", str(module), "--max", "10", "--seed", "1"]) == 0
    assert "10 killed, 0 survived" in capsys.readouterr().out
