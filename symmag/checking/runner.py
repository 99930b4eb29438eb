"""Finding derivations and running them: in this process, or in watched worker processes.

:func:`discover` imports derivation modules (the installed ``derivations`` package, or
module files given by path -- trusted code: they are executed).  :func:`run_records` runs
their steps in forked workers that report each step as it finishes, so that a claim that
exits, kills its process or runs past ``step_timeout`` becomes a ``failed`` step with that
reason, and the remaining steps of its derivation go on in a fresh worker.  Nothing is
waited for forever.

May use: the checking machinery (:mod:`symmag.checking.derivation`), errors; never the CLI.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import multiprocessing
import os
import pkgutil
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from pathlib import Path

from ..errors import SymmagInputError
from .derivation import Derivation, StepResult, failed_result, run_step

#: seconds one step may take in a worker before it is stopped and reported as failed
STEP_TIMEOUT = 300.0
#: modules of the ``derivations`` package that hold no derivation
NOT_DERIVATIONS = ("printed", "models", "figures")


class _ExitCalled(BaseException):
    """os._exit called by a module being imported (raised instead of ending the process)."""


@contextlib.contextmanager
def _no_exit() -> Iterator[None]:
    """While importing user code: ``os._exit`` raises instead of ending symmag silently."""
    real = os._exit

    def refuse(code=0):
        raise _ExitCalled(code)

    os._exit = refuse
    try:
        yield
    finally:
        os._exit = real


def _module_derivations(module, origin: str) -> list[Derivation]:
    found = getattr(module, "DERIVATIONS", None)
    if found is None and hasattr(module, "DERIVATION"):
        found = [module.DERIVATION]
    if found is None or (not isinstance(found, Derivation) and not found):
        raise SymmagInputError(f"{origin} defines no derivation (expected DERIVATION or DERIVATIONS)")
    if isinstance(found, Derivation):
        found = [found]
    try:
        found = list(found)
    except TypeError:
        raise SymmagInputError(f"{origin}: DERIVATIONS must be a list of Derivation objects, got "
                               f"{type(found).__name__}") from None
    for d in found:
        if not isinstance(d, Derivation):
            raise SymmagInputError(f"{origin}: {d!r:.80} is not a symmag Derivation")
    return found


def _import_path(path: Path):
    """Import a module file; inside a package (e.g. derivations/), by its dotted
    name, so that its relative imports work."""
    path = path.resolve()
    parts = [path.stem]
    parent = path.parent
    while (parent / "__init__.py").is_file():
        parts.insert(0, parent.name)
        parent = parent.parent
    if len(parts) > 1:
        if str(parent) not in sys.path:
            sys.path.insert(0, str(parent))
        return importlib.import_module(".".join(parts))
    spec = importlib.util.spec_from_file_location(f"symmag_user_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def import_module_file(p: str):
    """Import a derivation module by path (trusted code), every failure one clear error:
    a missing file, a syntax error, an exception or ``sys.exit``/``os._exit`` at import."""
    path = Path(p)
    if not path.is_file():
        raise SymmagInputError(f"no such file: {p}")
    if path.suffix != ".py":
        raise SymmagInputError(f"not a Python module: {p}")
    try:
        with _no_exit():
            return _import_path(path)
    except SymmagInputError:
        raise
    except SyntaxError as exc:
        raise SymmagInputError(f"{p}: syntax error at line {exc.lineno}: {exc.msg}") from None
    except (SystemExit, _ExitCalled) as exc:
        raise SymmagInputError(f"{p}: the module exits while being imported "
                               f"(exit code {exc.args[0] if exc.args else 0})") from None
    except RecursionError:
        raise SymmagInputError(f"{p}: import failed: recursion too deep") from None
    except Exception as exc:
        raise SymmagInputError(f"{p}: import failed: {type(exc).__name__}: {exc}") from None


def discover(paths: Sequence[str] = ()) -> list[Derivation]:
    """Derivations of the given module files, or of the ``derivations`` package."""
    out: list[Derivation] = []
    if paths:
        for p in paths:
            out += _module_derivations(import_module_file(p), p)
        return out
    pkg = importlib.import_module("derivations")
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name in NOT_DERIVATIONS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"derivations.{info.name}")
        out += _module_derivations(module, module.__name__)
    return out


def check_ids(derivations: Sequence[Derivation]) -> None:
    seen: dict[str, str] = {}
    for d in derivations:
        for s in d.steps:
            if s.id in seen:
                raise SymmagInputError(f"step id {s.id!r} appears in {seen[s.id]} and {d.name}")
            seen[s.id] = d.name


def run_all(derivations: Sequence[Derivation], necessity: bool = False) -> list[StepResult]:
    """Run every step of every derivation, in order, in this process (no timeouts: a claim
    that hangs hangs the caller; the CLI uses :func:`run_records`)."""
    check_ids(derivations)
    results: list[StepResult] = []
    for d in derivations:
        results += d.run(necessity)
    return results


# -- watched workers --------------------------------------------------------------------------
def _worker(conn: Connection, derivation: Derivation, start: int, latex: bool, necessity: bool) -> None:
    """Run steps ``start:`` of ``derivation``, sending ("step", k, record) after each."""
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)  # its own group: whatever a claim forks is stopped with it
    # what a claim prints must not land in the records (e.g. --json on stdout)
    with contextlib.suppress(OSError, ValueError):
        os.dup2(2, 1)
    sys.stdout = sys.stderr
    pid = os.getpid()
    try:
        for k in range(start, len(derivation.steps)):
            try:
                result = run_step(derivation.steps[k], derivation, necessity)
            except SymmagInputError as exc:
                conn.send(("input-error", str(exc)))
                return
            except (SystemExit, KeyboardInterrupt) as exc:
                result = failed_result(derivation.steps[k], derivation,
                                       f"the claim raised {type(exc).__name__}"
                                       f"{'(' + repr(exc.args[0]) + ')' if exc.args else ''}")
            if os.getpid() != pid:  # a claim forked and its child came back here: end it
                os._exit(0)
            conn.send(("step", k, result.as_dict(latex)))
        conn.send(("done",))
    except BaseException:  # a record that cannot be sent (e.g. unpicklable): say why
        if os.getpid() != pid:
            os._exit(0)
        conn.send(("crash", traceback.format_exc(limit=3)))
    finally:
        conn.close()


class _Task:
    """A derivation's remaining steps, run by one worker at a time."""

    def __init__(self, index: int, derivation: Derivation):
        self.index, self.derivation = index, derivation
        self.next = 0
        self.records: list[dict] = []
        self.proc = None
        self.conn: Connection | None = None
        self.since = 0.0

    def start(self, ctx, latex: bool, necessity: bool) -> None:
        parent, child = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_worker, args=(child, self.derivation, self.next, latex, necessity),
                                daemon=True)
        self.proc.start()
        child.close()
        self.conn, self.since = parent, time.monotonic()

    def fail_current(self, why: str, latex: bool) -> None:
        step = self.derivation.steps[self.next]
        self.records.append(failed_result(step, self.derivation, why,
                                          time.monotonic() - self.since).as_dict(latex))
        self.next += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.pid is not None:
            with contextlib.suppress(OSError):  # the worker's group: what its claim forked
                os.killpg(self.proc.pid, 9)
        if self.proc is not None and self.proc.is_alive():
            self.proc.kill()
        if self.proc is not None:
            self.proc.join()
        if self.conn is not None:
            self.conn.close()
        self.proc = self.conn = None

    @property
    def finished(self) -> bool:
        return self.next >= len(self.derivation.steps)


def run_records(derivations: Sequence[Derivation], jobs: int, latex: bool, necessity: bool = False,
                step_timeout: float = STEP_TIMEOUT,
                progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """Results as records (``StepResult.as_dict``), derivations spread over ``jobs`` forked
    worker processes that report every step; the order of the records never depends on
    ``jobs``.  A step whose worker dies or exceeds ``step_timeout`` seconds is ``failed``
    with that reason.  ``necessity``: re-check every claim without each of its removable
    assumptions.  ``progress(done, total)`` is called as steps finish.  Where fork is not
    available the derivations run in this process, without timeouts."""
    check_ids(derivations)
    if not (step_timeout > 0):
        raise SymmagInputError(f"the step timeout must be positive, got {step_timeout}")
    total = sum(len(d.steps) for d in derivations)
    if "fork" not in multiprocessing.get_all_start_methods():
        return [r.as_dict(latex) for r in run_all(derivations, necessity)]
    # Derivations hold closures, which do not pickle: forked workers inherit them instead.
    ctx = multiprocessing.get_context("fork")
    tasks = [_Task(i, d) for i, d in enumerate(derivations)]
    # longest first (by the derivations' cost hints): the last derivation to start is a short one
    queue = sorted((t for t in tasks if not t.finished), key=lambda t: -t.derivation.cost)
    running: list[_Task] = []
    jobs = max(1, jobs)

    def report() -> None:
        if progress is not None:
            progress(sum(len(t.records) for t in tasks), total)

    try:
        while queue or running:
            while queue and len(running) < jobs:
                task = queue.pop(0)
                task.start(ctx, latex, necessity)
                running.append(task)
            deadline = min(t.since for t in running) + step_timeout
            # the sentinel alone is not enough: a grandchild a claim forked inherits it, so
            # liveness is also polled (waitpid) every half second
            ready = wait([t.conn for t in running] + [t.proc.sentinel for t in running],
                         timeout=min(0.5, max(0.0, deadline - time.monotonic())))
            now = time.monotonic()
            for task in list(running):
                if task.conn in ready or task.proc.sentinel in ready or not task.proc.is_alive():
                    try:
                        # a dead worker may have sent its last records first: read them all
                        msg = task.conn.recv() if task.conn.poll() else None
                    except (EOFError, OSError):
                        msg = None
                    if msg is not None and msg[0] == "step" and msg[1] != task.next:
                        continue  # not the step expected (a forked copy of the worker): ignore
                    if msg is not None and msg[0] == "step":
                        task.records.append(msg[2])
                        task.next, task.since = msg[1] + 1, now
                        report()
                        continue
                    if msg is not None and msg[0] == "input-error":
                        raise SymmagInputError(msg[1])
                    if msg is None:  # the worker ended without a word: the claim ended it
                        task.proc.join(5)
                        code = task.proc.exitcode
                        task.stop()
                        if not task.finished:
                            task.fail_current(f"the claim ended its worker process (exit code {code})",
                                              latex)
                    elif msg[0] == "crash":
                        task.stop()
                        if not task.finished:
                            task.fail_current(f"the worker failed: {msg[1].strip().splitlines()[-1]}", latex)
                    else:  # "done"
                        task.stop()
                elif now - task.since >= step_timeout:
                    task.stop()
                    task.fail_current(f"timed out after {step_timeout:g} s (step timeout)", latex)
                else:
                    continue
                running.remove(task)
                if not task.finished:
                    queue.insert(0, task)  # the rest of its steps, in a fresh worker
                report()
    finally:
        for task in running:
            task.stop()
    return [rec for t in tasks for rec in t.records]
