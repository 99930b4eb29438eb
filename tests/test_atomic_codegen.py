"""codegen writes one generation, all or nothing: killed at any point it leaves the folder
complete-old or complete-new, and concurrent writers never expose a partial file."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

import pytest
import sympy as sp

from symmag import atomic
from symmag.numeric import codegen
from symmag.numeric.codegen import Model, generate, verify_body
from symmag.numeric.simulate import load_model

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "generated" / "rhs"

NAMES = [f"m{i}.py" for i in range(3)]


def small_models(tag: str) -> list[Model]:
    x, y, k = sp.symbols("x y k", real=True)
    return [Model(f"m{i}", (x, y), (k,), (-k * x * (i + 1), x - y * sp.sqrt(x**2 + y**2)),
                  doc=f"generation {tag}") for i in range(len(NAMES))]


_RENDERED: dict = {}


@pytest.fixture(autouse=True)
def cached_rendering(monkeypatch):
    """Render each small model once per command: the tests are about writing, not rendering."""
    pattern, render = codegen.BACKENDS["numpy"]
    cache = _RENDERED

    def cached(model, command):
        key = (model.name, model.doc, command)
        if key not in cache:
            cache[key] = render(model, command)
        return cache[key]

    monkeypatch.setitem(codegen.BACKENDS, "numpy", (pattern, cached))


def fork_writer(tag: str, folder: Path, delay: float, rounds: int = 1) -> tuple[int, int]:
    """A forked process (a warm copy of this one: no start-up cost) that writes ``rounds``
    generations of the small models as TAG once it reads a byte on the returned pipe, each
    file's write slowed by ``delay`` so that a kill lands inside the write phase."""
    models = small_models(tag)
    for m in models:  # render in the parent, so that the child only writes
        codegen.BACKENDS["numpy"][1](m, codegen.command_for(f"gen-{tag}", m, "numpy"))
    go_read, go_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            os.close(go_write)
            os.read(go_read, 1)
            write = atomic.write_text

            def slow(path, text, *a, **k):
                time.sleep(delay)
                return write(path, text, *a, **k)

            atomic.write_text = slow
            for _ in range(rounds):
                generate(models, folder, ("numpy",), command=f"gen-{tag}")
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(go_read)
    return pid, go_write


def go(writer: tuple[int, int]) -> None:
    os.write(writer[1], b"g")
    os.close(writer[1])


def finish(writer: tuple[int, int], kill: bool = False) -> int:
    if kill:
        os.kill(writer[0], signal.SIGKILL)
    return os.waitpid(writer[0], 0)[1]


def generation_of(folder: Path, names: list[str]) -> str:
    """The one generation every file of ``folder`` belongs to; fails on a partial or mixed set."""
    files = sorted(p.name for p in folder.glob("*.py"))
    assert files == sorted(names), f"files {files}, expected {sorted(names)}"
    tags = set()
    for name in names:
        source = (folder / name).read_bytes()
        assert verify_body(source) is None, f"{name}: {verify_body(source)}"
        tags.add(source.splitlines()[0].decode().split("`")[1].split(" ")[0])
    assert len(tags) == 1, f"files of several generations: {tags}"
    return tags.pop()


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_killed_inside_the_write_phase_leaves_old_or_new(tmp_path, seed):
    """A writer killed at a random point (fixed seeds) of its write phase."""
    folder = tmp_path / "out"
    generate(small_models("old"), folder, ("numpy",), command="gen-old")
    writer = fork_writer("new", folder, delay=0.03)
    go(writer)
    time.sleep(random.Random(seed).uniform(0.0, 0.12))  # 3 files x 0.03 s, then the swap
    finish(writer, kill=True)
    assert generation_of(folder, NAMES) in ("gen-old", "gen-new")
    # the next run recovers (removes the dead writer's staging folder) and writes
    generate(small_models("after"), folder, ("numpy",), command="gen-after")
    assert generation_of(folder, NAMES) == "gen-after"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_killed_symmag_codegen_leaves_old_or_new(tmp_path):
    """`symmag codegen -o DIR` killed at random times (three seeds, run side by side): DIR holds
    the previous complete set (the committed modules under another header command) or the
    complete new one."""
    names = ["llg_rsi.py", "llg_rsi_numba.py"]
    runs = []
    for seed in (11, 12, 13):
        folder = tmp_path / f"rhs{seed}"
        folder.mkdir()
        for name in names:  # the old generation: same bodies, another command in the header
            lines = (COMMITTED / name).read_text().splitlines(keepends=True)
            lines[0] = lines[0].replace("`symmag codegen", "`old-generation", 1)
            (folder / name).write_text("".join(lines))
        assert generation_of(folder, names) == "old-generation"
        child = subprocess.Popen([sys.executable, "-m", "symmag", "codegen", "-o", str(folder),
                                  "--backend", "all", "llg_rsi"], cwd=ROOT, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        runs.append((random.Random(seed).uniform(0.5, 5.0), folder, child))
    began = time.monotonic()
    for at, folder, child in sorted(runs, key=lambda r: r[0]):
        time.sleep(max(0.0, at - (time.monotonic() - began)))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        assert generation_of(folder, names) in ("old-generation", "symmag")


def test_concurrent_codegens_and_a_reader_never_see_a_partial_file(tmp_path):
    folder = tmp_path / "out"
    generate(small_models("old"), folder, ("numpy",), command="gen-old")
    writers = [fork_writer(tag, folder, delay=0.0, rounds=40) for tag in ("a", "b")]
    for w in writers:
        go(w)
    seen, errors, stop = set(), [], threading.Event()

    def snapshot() -> dict[str, bytes] | None:
        """Every module of the folder read through one handle on it (one generation), or None
        when that generation was retired while being read."""
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            out = {}
            for name in sorted(n for n in os.listdir(fd) if n.endswith(".py")):
                f = os.open(name, os.O_RDONLY, dir_fd=fd)
                with os.fdopen(f, "rb") as fh:
                    out[name] = fh.read()
            return out
        except FileNotFoundError:
            return None
        finally:
            os.close(fd)

    def read() -> None:
        while not stop.is_set():
            try:
                files = snapshot()
                if files is not None:
                    assert sorted(files) == NAMES, sorted(files)
                    assert all(verify_body(b) is None for b in files.values())
                    tags = {b.splitlines()[0].decode().split("`")[1].split(" ")[0] for b in files.values()}
                    assert len(tags) == 1, tags
                    seen.add(tags.pop())
                for name in NAMES:  # and by path, through the public loader, file by file
                    assert load_model(folder / name).PARAMETERS == ("k",)
            except Exception as exc:  # reported in the main thread
                errors.append(f"{type(exc).__name__}: {exc}")
                return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for w in writers:
            assert finish(w) == 0
    finally:
        stop.set()
        reader.join(timeout=30)
    assert not errors, errors[0]
    assert generation_of(folder, NAMES) in ("gen-a", "gen-b")
    assert seen & {"gen-a", "gen-b"}, seen  # the reader did see new generations
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "out"]
    assert not leftovers, leftovers
    assert not list(folder.glob(".*")), os.listdir(folder)
