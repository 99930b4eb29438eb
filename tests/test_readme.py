"""The README's own derivation example runs and passes the gate, as the README says."""

from __future__ import annotations

import json
import re
from pathlib import Path

from symmag.cli.main import main

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


def test_collective_example_shows_an_effect_of_the_coupling():
    """The README's exact-dynamics example runs (quickly) and the coupling changes M(t)."""
    import numpy as np

    text = README.read_text()
    section = text[text.index("### Exact dynamics"):text.index("### The report")]
    code = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL).group(1)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)  # the README's own code: trusted
    free, coupled = (scope["runs"][c].M[:, -1] for c in (0.0, 4 / 100))
    assert np.allclose(free, [-0.0939, 0.0407, 0.2194], atol=6e-5)
    assert np.allclose(coupled, [-0.1005, 0.0419, 0.2179], atol=6e-5)
    assert np.abs(coupled - free).max() > 5e-3
