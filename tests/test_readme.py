"""The README's own derivation example runs and passes the gate, as the README says."""

from __future__ import annotations

import json
import re
from pathlib import Path

from symmag.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _example() -> str:
    text = README.read_text()
    section = text[text.index("### Writing a derivation"):]
    return re.search(r"```python\n(.*?)```", section, flags=re.DOTALL).group(1)


def test_writing_a_derivation_example(tmp_path, capsys):
    path = tmp_path / "mine.py"
    path.write_text(_example())
    assert main(["check", "--json", str(path)]) == 0
    records = {r["id"]: r["status"] for r in json.loads(capsys.readouterr().out)["results"]}
    assert records == {"moment-algebra": "erratum", "root": "verified"}
    # without its erratum the same difference fails the gate
    path.write_text(_example().replace("erratum=Erratum(", "erratum=None if True else Erratum("))
    assert main(["check", str(path)]) == 1
