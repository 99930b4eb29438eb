"""All-or-nothing writes: a crash leaves the old complete output or the new one, never a mix.

* :func:`write_text` / :func:`write_bytes` write to a temporary file in the target's folder
  and :func:`os.replace` it into place (atomic on POSIX and Windows), so a reader never sees a
  truncated file and a killed writer leaves the previous file intact.
* :func:`replacing` gives a temporary path for writers that want a file name (matplotlib's
  ``savefig``, ``numpy.savez``) and moves it into place when the block succeeds.
* :func:`generation` builds a multi-file output (codegen's modules, the report with its
  figures) in a staging folder beside the target -- a hard-linked copy of what is there, so
  files not rewritten are kept -- and swaps it in as one: on Linux with
  ``renameat2(RENAME_EXCHANGE)``, an atomic exchange of two directories; elsewhere by two
  renames, with :func:`recover` restoring the previous folder should a crash fall between
  them.  Concurrent readers see the old set or the new, never part of each.

May use: the standard library only.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

_STAGING = ".staging-"
_OLD = ".old-"


def _umask() -> int:
    mask = os.umask(0)  # the only portable way to read it: set and restore at once
    os.umask(mask)
    return mask


def _plain_mode(path: str | os.PathLike, directory: bool = False) -> None:
    """mkstemp/mkdtemp create private (0600/0700) entries; give them the mode an ordinary
    open()/mkdir() would have, so an atomic write is not also a change of permissions."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform lets a directory be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _keep_mode(tmp: str, path: Path) -> None:
    """The replacement gets the mode of the file it replaces, or a new file's ordinary mode."""
    try:
        os.chmod(tmp, path.stat().st_mode & 0o7777)
    except FileNotFoundError:
        _plain_mode(tmp)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, fsync,
    ``os.replace``).  Returns the path."""
    path = Path(os.path.realpath(path))  # through a symlink to the file it names
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        _keep_mode(tmp, path)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8, newlines as given)."""
    return write_bytes(path, text.encode(encoding))


@contextlib.contextmanager
def replacing(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix, so writers that choose a format by it
    still do); moved onto ``path`` when the block ends without an exception."""
    path = Path(os.path.realpath(path))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.",
                               suffix=path.suffix if suffix is None else suffix)
    os.close(fd)
    try:
        _keep_mode(tmp, path)
        yield Path(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two directories (Linux renameat2); False where unsupported."""
    if not hasattr(os, "uname") or os.uname().sysname != "Linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    return False  # EINVAL / ENOSYS: the file system or kernel cannot; fall back


def recover(folder: str | os.PathLike) -> None:
    """Undo an interrupted two-rename swap: when ``folder`` is missing but a complete previous
    generation was moved aside, put it back.  Staging folders left by killed writers are
    removed.  Harmless when there is nothing to do."""
    folder = Path(folder)
    parent = folder.parent
    if not parent.is_dir():
        return
    aside = sorted(p for p in parent.glob(f".{folder.name}{_OLD}*") if _ours(p, folder, _OLD))
    if not folder.exists() and aside:
        os.rename(aside[-1], folder)
        aside = aside[:-1]
    staged = [p for p in parent.glob(f".{folder.name}{_STAGING}*") if _ours(p, folder, _STAGING)]
    for p in aside + sorted(staged):
        if _stale(p):
            shutil.rmtree(p, ignore_errors=True)


def _ours(p: Path, folder: Path, kind: str) -> bool:
    """A name this module made: .NAME.staging-PID-XXXXXXXX or .NAME.old-PID-XXXXXXXX (never a
    user's own folder that happens to start the same way)."""
    return re.fullmatch(re.escape(f".{folder.name}{kind}") + r"\d+-[a-z0-9_]{8}", p.name) is not None


def _stale(p: Path) -> bool:
    """A staging folder whose writer is gone (its pid is part of the name)."""
    try:
        pid = int(p.name.rsplit("-", 2)[-2])
    except (ValueError, IndexError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@contextlib.contextmanager
def generation(folder: str | os.PathLike) -> Iterator[Path]:
    """Build a new generation of ``folder`` in a staging folder and swap it in as one.

    The staging folder starts as a hard-linked copy of ``folder`` (files the block does not
    rewrite are kept); write into it with :func:`write_text` / :func:`replacing` -- never
    open an existing file there for writing in place, it shares its inode with the live
    copy.  On success the staging folder replaces ``folder``; on an exception it is
    removed and ``folder`` is untouched."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    recover(folder)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}{_STAGING}{os.getpid()}-"))
    try:
        if folder.is_dir():
            _snapshot(folder, staging)
            shutil.copymode(folder, staging)
        else:
            _plain_mode(staging, directory=True)
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(f"{folder} exists and is not a folder")
        yield staging
        _swap_in(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


_SKIP = ("__pycache__",)  # bytecode belongs to whoever imports the modules, not to a generation
_BY_FD = os.scandir in os.supports_fd and os.link in os.supports_dir_fd and os.open in os.supports_dir_fd


def _snapshot(folder: Path, staging: Path, attempts: int = 5) -> None:
    """Hard-link (or copy) what ``folder`` holds into the empty ``staging``.  Read through one
    directory descriptor, so the copy is of one generation even while a concurrent writer
    swaps another in; if that generation is deleted under us, start again."""
    for attempt in range(attempts):
        try:
            if _BY_FD:
                fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
                try:
                    _copy_fd(fd, staging)
                finally:
                    os.close(fd)
            else:
                shutil.copytree(folder, staging, copy_function=_link_or_copy, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns(*_SKIP))
            return
        except (FileNotFoundError, shutil.Error):
            if attempt == attempts - 1:
                raise
            for entry in list(staging.iterdir()):
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()


def _copy_fd(fd: int, dest: Path) -> None:
    for entry in os.scandir(fd):
        if entry.name in _SKIP:
            continue
        target = dest / entry.name
        if entry.is_symlink():
            os.symlink(os.readlink(entry.name, dir_fd=fd), target)
        elif entry.is_dir():
            sub = os.open(entry.name, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0), dir_fd=fd)
            try:
                target.mkdir()
                _copy_fd(sub, target)
            finally:
                os.close(sub)
        else:
            try:
                os.link(entry.name, target, src_dir_fd=fd)
            except FileNotFoundError:
                raise
            except OSError:  # no hard links here (another file system): copy the bytes
                src = os.open(entry.name, os.O_RDONLY, dir_fd=fd)
                with os.fdopen(src, "rb") as fin, open(target, "wb") as fout:
                    shutil.copyfileobj(fin, fout)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _swap_in(staging: Path, folder: Path) -> None:
    """Make ``staging`` the new ``folder``; afterwards ``staging`` holds the old one (or is gone)."""
    _fsync_dir(staging)
    if not folder.exists():
        os.rename(staging, folder)
    elif not _exchange(staging, folder):
        aside = folder.parent / f".{folder.name}{_OLD}{os.getpid()}-{staging.name[-8:]}"
        os.rename(folder, aside)  # a crash from here to the next line is undone by recover()
        os.rename(staging, folder)
        os.rename(aside, staging)
    _fsync_dir(folder.parent)
