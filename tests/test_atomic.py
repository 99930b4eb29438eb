"""symmag.atomic: single files and whole folders replaced all at once."""

from __future__ import annotations

import os
import stat

import pytest

from symmag import atomic


def test_write_text_replaces_whole_and_keeps_plain_permissions(tmp_path):
    path = tmp_path / "a.txt"
    atomic.write_text(path, "old")
    atomic.write_text(path, "new")
    assert path.read_text() == "new"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    assert os.listdir(tmp_path) == ["a.txt"]


def test_failed_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "a.txt"
    atomic.write_text(path, "old")
    with pytest.raises(TypeError):
        atomic.write_bytes(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["a.txt"]
    with pytest.raises(RuntimeError), atomic.replacing(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["a.txt"]


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_generation_swaps_in_whole_or_not_at_all(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    with atomic.generation(out) as g:
        atomic.write_text(g / "a", "A1")
        atomic.write_text(g / "b", "B1")
    with atomic.generation(out) as g:
        atomic.write_text(g / "a", "A2")  # b is kept (hard-linked into the staging folder)
    assert (out / "a").read_text() == "A2" and (out / "b").read_text() == "B1"
    with pytest.raises(RuntimeError), atomic.generation(out) as g:
        atomic.write_text(g / "a", "A3")
        raise RuntimeError("the writer failed half-way")
    assert (out / "a").read_text() == "A2"
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_recover_restores_a_folder_moved_aside(tmp_path):
    aside = tmp_path / ".out.old-999999-abcdefgh"  # a crash between the two renames
    aside.mkdir()
    (aside / "a").write_text("complete")
    atomic.recover(tmp_path / "out")
    assert (tmp_path / "out" / "a").read_text() == "complete" and not aside.exists()


def test_generation_refuses_a_file_in_the_way(tmp_path):
    (tmp_path / "out").write_text("a file")
    with pytest.raises(NotADirectoryError), atomic.generation(tmp_path / "out"):
        pass
