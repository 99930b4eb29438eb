"""`symmag new NAME` writes a starting module that passes `symmag check` as written."""

from __future__ import annotations

import json

import pytest

from symmag.cli.main import main


def test_new_module_passes_check(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["new", "mynotes", "--title", "My notes on spins"]) == 0
    assert capsys.readouterr().out.strip() == "mynotes.py"
    text = (tmp_path / "mynotes.py").read_text()
    assert 'TITLE = "My notes on spins"' in text
    assert main(["check", "--json", "mynotes.py"]) == 0
    statuses = [r["status"] for r in json.loads(capsys.readouterr().out)["results"]]
    assert statuses == ["definition", "verified", "verified", "verified"]


@pytest.mark.parametrize("argv, message", [
    (["new", "1bad"], "a module name is a Python identifier"),
    (["new", "ok", "--title", 'a "quote"'], "--title: no quotes"),
])
def test_new_refuses_bad_names(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_new_never_overwrites_without_force(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.py").write_text("# my work\n")
    assert main(["new", "mine.py"]) == 2
    assert "exists" in capsys.readouterr().err and (tmp_path / "mine.py").read_text() == "# my work\n"
    assert main(["new", "mine", "--force"]) == 0
    assert "DERIVATION = Derivation" in (tmp_path / "mine.py").read_text()
