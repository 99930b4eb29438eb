"""Parameter sweeps of a generated model on Dask, into a labelled, resumable Zarr store.

A sweep is a model, a set of parameter points (:func:`product` -- a Cartesian grid --,
:func:`zipped` lists or a CSV :func:`table`), fixed values for the other parameters, an initial
state or an ensemble per point, output times, integrator options and a reduction per point
(:data:`REDUCTIONS`: the full trajectory, the final state, the ensemble mean <M(t)> or a
switching probability).  :func:`plan` checks all of it (bad input is one SymmagInputError);
:func:`run` computes it on ``dask.distributed`` -- a ``LocalCluster`` by default, an existing
cluster by ``scheduler=ADDRESS`` -- and writes the results into a Zarr store that
``xarray.open_zarr`` opens with the grid's parameters as coordinates.

* **Tasks.** The grid is cut into blocks of about ``batch`` points (default: enough for
  :data:`TARGET_TASK_SECONDS` of work, timed once on the client); one task integrates one block
  as one ensemble call of :func:`symmag.numeric.simulate.simulate`, never one task per point.  A block is
  one chunk of every array of the store, so blocks are written independently: by the workers
  themselves on the LocalCluster, or (an existing cluster, which need not share a file system)
  by the client, which receives every result.
* **Resume.** A block's ``status`` is written after its results; a sweep re-run with the same
  inputs computes only the blocks not yet done (a finished sweep is a no-op).  A store made
  with different inputs is refused, naming the difference, unless ``overwrite``: the new store
  is built beside it and swapped in whole, so the old one is never half-overwritten.  The
  consolidated metadata, with ``complete: true``, is written last.
* **Failures.** A point whose integration fails or gives non-finite numbers is recorded as
  failed (``status`` 2, ``message``) and the rest go on: per-system integrators keep the other
  points of the block and re-run the failed ones alone for their message; ``solve_ivp`` (one
  ODE for the whole block) bisects the block.
* **Trust.** Workers execute the model's code.  The module travels to them by content with its
  sha256; each worker checks the hash before it writes and loads the module (with
  :func:`symmag.numeric.simulate.load_model`, which checks the body hash of its header too).  Run sweeps
  only on clusters you control, of models you trust.

Stochastic runs (``integrator="heun"``): the random numbers of system j of the point with flat
(C-order) grid index k are those of system k E + j of one ensemble run with ``seed``
(``simulate(seed=, system_offset=k E)``, E the ensemble size), so a point's noise does not depend
on the block layout, the batch, the workers or a rerun of a failed point alone; a block is
integrated in one call per run of consecutive flat indices.

The trust model's hash check guards against corruption in transit, not against a hostile client
or scheduler (the plan itself is unpickled).

May use: :mod:`symmag.numeric.simulate` (its public API), :mod:`symmag.atomic`, :mod:`symmag.errors`,
:mod:`symmag.progress`, NumPy; ``dask.distributed``, ``zarr`` and ``xarray`` (the ``sweep``
extra) imported inside the functions that need them, so ``import symmag`` never needs them.
"""

from __future__ import annotations

import asyncio
import csv
import functools
import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import SymmagInputError

#: what is stored per point: the trajectory (state, system, time), the final state (state,
#: system), the ensemble mean over the systems (state, time), or the fraction of systems whose
#: Mz changed sign (a switching probability)
REDUCTIONS = ("trajectory", "final", "mean", "switching")
#: the data variable each reduction writes, and its dimensions after the grid's
OUTPUTS = {"trajectory": ("y", ("state", "system", "time")), "final": ("y_final", ("state", "system")),
           "mean": ("mean", ("state", "time")), "switching": ("p_switch", ())}
#: a task should do at least about this much work (Dask's own overhead is about 1 ms a task)
TARGET_TASK_SECONDS = 0.25
#: ... and never less than this, even to give every worker TASKS_PER_WORKER tasks
MIN_TASK_SECONDS = 0.1
#: most tasks (blocks) one sweep may have: each is validated before any work and scheduled apart
MAX_TASKS = 20_000
#: tasks per worker, so that the last round leaves few workers idle (the tail of a sweep) and
#: a killed sweep loses little work in flight
TASKS_PER_WORKER = 16
#: seconds to wait for an existing scheduler before giving up
CONNECT_TIMEOUT = 5.0
#: the length of a stored failure message
MESSAGE_CHARS = 160
#: per-point status codes in the store
PENDING, DONE, FAILED = 0, 1, 2
#: worker processes of the default LocalCluster run one thread each, numba and BLAS pinned too:
#: the parallelism is the workers'
THREAD_PINS = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1"}
#: the sweepable name that is not a model parameter: heun's temperature
TEMPERATURE = "temperature"
#: format 2: heun's random numbers are keyed by point (format 1 keyed them by block)
_FORMAT = "symmag-sweep/2"


# -- parameter points --------------------------------------------------------------------------

@dataclass(frozen=True)
class Grid:
    """Parameter points: ``kind`` "product" (dimensions are the parameters, each its own values)
    or "zip" (one dimension ``point``, every parameter a value per point)."""

    kind: str
    values: dict[str, np.ndarray]

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(self.values) if self.kind == "product" else ("point",)

    @property
    def shape(self) -> tuple[int, ...]:
        if self.kind == "product":
            return tuple(v.size for v in self.values.values())
        return (next(iter(self.values.values())).size,)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def at(self, region: tuple[slice, ...]) -> dict[str, np.ndarray]:
        """Every parameter's value at each point of ``region`` (C order), as flat arrays."""
        if self.kind == "zip":
            return {n: v[region[0]] for n, v in self.values.items()}
        axes = np.meshgrid(*(v[s] for v, s in zip(self.values.values(), region)), indexing="ij")
        return {n: a.ravel() for n, a in zip(self.values, axes)}


def _floats(name: str, values) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise SymmagInputError(f"{name}: values must be numbers ({exc})") from None
    if array.size == 0:
        raise SymmagInputError(f"{name} has no values: the grid has no points")
    if not np.all(np.isfinite(array)):
        raise SymmagInputError(f"{name} must be finite numbers (no nan or inf)")
    return array


def product(**values: Sequence[float]) -> Grid:
    """The Cartesian product of each parameter's values: ``product(Hz=[...], alpha0=[...])``."""
    if not values:
        raise SymmagInputError("a grid needs at least one parameter")
    grid = {n: _floats(n, v) for n, v in values.items()}
    for n, v in grid.items():
        if np.unique(v).size != v.size:
            raise SymmagInputError(f"{n} repeats a value; a product grid's coordinates are distinct")
    return Grid("product", grid)


def zipped(**values: Sequence[float]) -> Grid:
    """Points given parameter by parameter, value k of each forming point k (equal lengths)."""
    if not values:
        raise SymmagInputError("a grid needs at least one parameter")
    grid = {n: _floats(n, v) for n, v in values.items()}
    sizes = {n: v.size for n, v in grid.items()}
    if len(set(sizes.values())) != 1:
        raise SymmagInputError("zipped lists must have equal lengths: "
                               + ", ".join(f"{n} {k}" for n, k in sizes.items()))
    return Grid("zip", grid)


def table(path: str | Path) -> Grid:
    """Points from a CSV file: a header of parameter names, then one row of numbers per point.
    Values are parsed with ``float`` only (never evaluated)."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r) and not r[0].startswith("#")]
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or exc
        raise SymmagInputError(f"cannot read the table {path}: {why}") from None
    if not rows:
        raise SymmagInputError(f"the table {path} is empty: no header of parameter names")
    header = [c.strip() for c in rows[0]]
    if len(set(header)) != len(header) or not all(h.isidentifier() for h in header):
        raise SymmagInputError(f"{path}: the header must be distinct parameter names, got {','.join(header)}")
    columns: list[list[float]] = [[] for _ in header]
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise SymmagInputError(f"{path}: row {line} has {len(row)} values for {len(header)} columns")
        for col, cell in zip(columns, row):
            try:
                col.append(float(cell))
            except ValueError:
                raise SymmagInputError(f"{path}: row {line}: not a number: {cell.strip()!r}") from None
    if len(rows) == 1:
        raise SymmagInputError(f"the table {path} has a header and no rows: the grid has no points")
    return zipped(**dict(zip(header, columns)))


# -- the plan ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """A checked sweep: everything :func:`run` needs, and the record stored with the results."""

    model_path: Path
    source: bytes
    sha256: str
    state: tuple[str, ...]
    parameters: tuple[str, ...]
    grid: Grid
    fixed: dict[str, float]
    y0: np.ndarray  # (n, E)
    t0: float
    t_eval: np.ndarray
    integrator: str
    options: dict  # passed to simulate (rtol, atol, method, step, max_steps, project, ...)
    reduction: str
    seed: int | None
    chunk: tuple[int, ...]  # points per block along each grid dimension
    record: dict = field(repr=False)

    @property
    def blocks(self) -> int:
        return math.prod(-(-s // c) for s, c in zip(self.grid.shape, self.chunk))

    def flat(self, block: int) -> np.ndarray:
        """The flat (C-order) grid indices of a block's points, in the order of ``Grid.at``."""
        ranges = np.meshgrid(*(np.arange(s.start, s.stop) for s in self.region(block)), indexing="ij")
        return np.ravel_multi_index([r.ravel() for r in ranges], self.grid.shape)

    def region(self, block: int) -> tuple[slice, ...]:
        counts = [-(-s // c) for s, c in zip(self.grid.shape, self.chunk)]
        index = np.unravel_index(block, counts)
        return tuple(slice(int(i) * c, min(s, (int(i) + 1) * c))
                     for i, c, s in zip(index, self.chunk, self.grid.shape))


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name in ("symmag", "sympy", "numpy", "scipy", "numba", "dask", "distributed", "zarr", "xarray"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "-"
    return out


def _chunk(shape: tuple[int, ...], batch: int) -> tuple[int, ...]:
    """Block shape of about ``batch`` points: the last dimension filled first."""
    out, rest = [0] * len(shape), batch
    for i in reversed(range(len(shape))):
        out[i] = max(1, min(shape[i], rest))
        rest = max(1, rest // out[i])
    return tuple(out)


def plan(model: str | Path, grid: Grid, t_eval, *, y0, fixed: Mapping[str, float] | None = None,
         ensemble: int = 1, reduction: str = "final", integrator: str = "dp54", rtol: float = 1e-6,
         atol: float = 1e-9, method: str | None = None, step: float | None = None,
         max_steps: int | None = None, project: bool = False, seed: int | None = None,
         batch: int | None = None, workers: int | None = None, folder: str | Path | None = None) -> Plan:
    """Check a sweep and fix its block layout; bad input is one SymmagInputError.

    ``y0``: one state (n,), copied ``ensemble`` times, or an ensemble (n, E), the same for every
    point.  ``fixed``: a value for each model parameter not in ``grid``.  ``temperature`` may be
    a grid dimension (or fixed) with ``integrator="heun"``.  ``batch``: points per task (default:
    timed on the client for :data:`TARGET_TASK_SECONDS` of work a task, less -- down to
    :data:`MIN_TASK_SECONDS` -- when that leaves fewer than :data:`TASKS_PER_WORKER` tasks for each
    of ``workers``, default this machine's CPUs)."""
    from . import simulate as sim

    path = sim.resolve_model(model, folder)
    sim.load_model(path)  # its errors (not a module, edited by hand) in its words
    source = path.read_bytes()
    # the memo the workers use: a process that runs blocks itself (a benchmark) compiles once
    module = load_verified(source, hashlib.sha256(source).hexdigest(), path.stem)
    names = tuple(module.PARAMETERS)
    fixed = dict(fixed or {})
    allowed = (*names, TEMPERATURE) if integrator == "heun" else names
    for name in (*grid.values, *fixed):
        if name not in allowed:
            extra = f" ({TEMPERATURE} too, with integrator heun)" if TEMPERATURE not in allowed else ""
            raise SymmagInputError(f"{path.stem} has no parameter {name!r}; its parameters: "
                                   f"{', '.join(names)}{extra}")
    both = set(grid.values) & set(fixed)
    if both:
        raise SymmagInputError(f"{', '.join(sorted(both))} is both swept and fixed")
    missing = [n for n in names if n not in grid.values and n not in fixed]
    if missing:
        raise SymmagInputError(f"no value for {', '.join(missing)} (neither swept nor fixed)")
    for name, value in fixed.items():
        fixed[name] = float(_floats(name, [value])[0])
    for name, values in (*grid.values.items(), *((n, np.array([v])) for n, v in fixed.items())):
        # a magnitude (gamma_abs) or a temperature is never negative: say so before any work
        if (name.endswith("_abs") or name == TEMPERATURE) and np.any(values < 0):
            raise SymmagInputError(f"{name} must not be negative, got {values[values < 0][0]:g}")
    if reduction not in REDUCTIONS:
        raise SymmagInputError(f"unknown reduction {reduction!r}; use {', '.join(REDUCTIONS)}")
    state = tuple(module.STATE)
    if reduction == "switching" and "Mz" not in state:
        raise SymmagInputError(f"the switching probability needs a state Mz; {path.stem} has "
                               f"{', '.join(state)}")
    try:
        y = np.asarray(y0, dtype=float)
    except (TypeError, ValueError):
        y = None
    if y is None or y.ndim not in (1, 2) or y.shape[0] != len(state):
        raise SymmagInputError(f"y0 must have shape ({len(state)},) or ({len(state)}, E)")
    if isinstance(ensemble, bool) or not isinstance(ensemble, int) or ensemble < 1:
        raise SymmagInputError(f"ensemble must be a whole number of at least 1, got {ensemble!r}")
    if y.ndim == 2 and ensemble != 1:
        raise SymmagInputError("ensemble copies a single y0 (n,); y0 is already an ensemble")
    y = np.repeat(y[:, None], ensemble, axis=1) if y.ndim == 1 else y
    times = _floats("t_eval", t_eval)
    if times.size < 1 or np.any(np.diff(times) <= 0):
        raise SymmagInputError("t_eval must be increasing times")
    t0 = 0.0 if times[0] > 0 else float(times[0])
    if times[-1] <= t0:
        raise SymmagInputError("t_eval must reach past t0 = 0")
    if seed is not None and integrator != "heun":
        raise SymmagInputError(f"seed is for integrator heun (the stochastic LLG), not {integrator}")
    options: dict = {"integrator": integrator, "rtol": float(rtol), "atol": float(atol)}
    for key, value in (("method", method), ("step", step), ("max_steps", max_steps)):
        if value is not None:
            options[key] = value
    if project:
        options["project"] = True
    if integrator == "heun":
        from .thermal import check_seed

        options["seed"] = 0 if seed is None else check_seed(seed)
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise SymmagInputError(f"batch must be a whole number of at least 1, got {batch!r}")
    draft = Plan(path, source, hashlib.sha256(source).hexdigest(), state, names, grid, fixed, y, t0, times,
                 integrator, options, reduction, seed, _chunk(grid.shape, batch or 1), {})
    automatic = batch is None
    if batch is None:
        batch = _calibrate(module, draft, workers or os.cpu_count() or 1)
        draft = replace(draft, chunk=_chunk(grid.shape, batch))
    if draft.blocks > MAX_TASKS and automatic:  # a chosen batch is the user's; an automatic one grows
        batch = -(-int(np.prod(grid.shape)) // MAX_TASKS)
        draft = replace(draft, chunk=_chunk(grid.shape, batch))
    if draft.blocks > MAX_TASKS:
        # every block is checked below and becomes one task: a grid of millions of one-point
        # blocks would sit silently in that loop (and swamp the scheduler) instead of answering
        raise SymmagInputError(f"the sweep would have {draft.blocks:,} tasks (at most {MAX_TASKS:,}): "
                               f"give a larger --batch (points per task, now {int(np.prod(draft.chunk)):,}) "
                               "or fewer points")
    for block in range(draft.blocks):  # what simulate would refuse, refused now (exit 2, no work done)
        points = grid.at(draft.region(block))
        y_b, params, extra = _request(draft, points, int(draft.flat(block)[0]))
        extra.pop("system_offset", None)  # where the block's numbers start: nothing to validate
        try:
            sim.validate_request(module, y_b, (t0, float(times[-1])), params, t_eval=times,
                                 **_simulate_kw(draft), **extra)
        except SymmagInputError as exc:
            raise SymmagInputError(f"block {block} ({_describe(points, 0)}...): {exc}") from None
    record = {
        "format": _FORMAT, "model": path.stem, "model_sha256": draft.sha256, "state": list(state),
        "parameters": list(names), "grid": {"kind": grid.kind, "dims": list(grid.dims),
                                            "values": {n: _numbers(v) for n, v in grid.values.items()}},
        "fixed": fixed, "y0": _numbers(y), "t0": t0, "t_eval": _numbers(times), "integrator": integrator,
        "options": {k: v for k, v in options.items() if k != "integrator"}, "reduction": reduction,
        "seed": seed,
    }
    return replace(draft, record=record)


#: arrays of more numbers than this are recorded by their sha256 (they are in the store anyway)
_LISTED = 256


def _numbers(a: np.ndarray):
    """An array for the record: its numbers, or for a large one its shape and sha256."""
    if a.size <= _LISTED:
        return a.tolist()
    data = np.ascontiguousarray(a, dtype="<f8")
    return {"shape": list(a.shape), "sha256": hashlib.sha256(data.tobytes()).hexdigest(),
            "min": float(a.min()), "max": float(a.max())}


def _simulate_kw(p: Plan) -> dict:
    return {k: v for k, v in p.options.items() if k != "seed"}


def _request(p: Plan, points: Mapping[str, np.ndarray], first: int) -> tuple[np.ndarray, dict, dict]:
    """The ensemble call of consecutive points from flat grid index ``first``: y0 (n, b E), the
    parameters (per-system arrays for the swept ones), and heun's temperature, seed and the index
    of the first system in the sweep's one stream."""
    e = p.y0.shape[1]
    b = next(iter(points.values())).size
    y = np.tile(p.y0, (1, b))
    per_system = {n: np.repeat(v, e) for n, v in points.items()}
    params = {n: per_system[n] if n in per_system else p.fixed[n] for n in p.parameters}
    extra = {}
    if p.integrator == "heun":
        temperature = per_system.get(TEMPERATURE, p.fixed.get(TEMPERATURE, 0.0))
        extra = {"temperature": temperature, "seed": int(p.options["seed"]), "system_offset": first * e}
    return y, params, extra


def _describe(points: Mapping[str, np.ndarray], j: int) -> str:
    return ", ".join(f"{n} = {v[j]:g}" for n, v in points.items())


def _calibrate(module, p: Plan, workers: int) -> int:
    """Points per task for about TARGET_TASK_SECONDS of work: one point timed on the client
    (twice: the first call compiles numba kernels), then a batch of the size that suggests; fewer
    points (down to MIN_TASK_SECONDS of work) when the workers would get too few tasks to share
    the load evenly at the end."""
    from .simulate import simulate

    one = {n: v[:1] for n, v in p.grid.at(p.region(0)).items()}
    span = (p.t0, float(p.t_eval[-1]))

    def timed(points) -> float:
        y, params, extra = _request(p, points, 0)
        started = time.perf_counter()
        try:
            simulate(module, y, span, params, t_eval=p.t_eval, **_simulate_kw(p), **extra)
        except SymmagInputError as exc:
            raise SymmagInputError(f"at {_describe(points, 0)}: {exc}") from None
        return time.perf_counter() - started

    timed(one)  # numba compiles here
    batch = min(p.grid.size, max(1, math.ceil(TARGET_TASK_SECONDS / max(timed(one), 1e-6))))
    if batch > 1:  # a call has a fixed cost besides its cost per point: time a batch of that size once
        points = p.grid.at(replace(p, chunk=_chunk(p.grid.shape, batch)).region(0))
        size = next(iter(points.values())).size
        per_point = timed(points) / size
        batch = min(p.grid.size, max(1, math.ceil(TARGET_TASK_SECONDS / max(per_point, 1e-9))))
        spread = math.ceil(p.grid.size / (TASKS_PER_WORKER * workers))
        batch = max(min(batch, spread), math.ceil(MIN_TASK_SECONDS / max(per_point, 1e-9)))
    return int(min(batch, p.grid.size))


# -- what a worker does -----------------------------------------------------------------------

@dataclass(frozen=True)
class BlockResult:
    """One block's results, points in C order: ``data`` (b, ...) of the reduction, ``status`` and
    ``messages`` per point, the task's wall and CPU seconds and the worker's process id."""

    block: int
    data: np.ndarray
    status: np.ndarray
    messages: list[str]
    seconds: float
    pid: int
    cpu_seconds: float = 0.0


@functools.lru_cache(maxsize=8)
def _worker_module(sha: str, name: str, source: bytes):
    """The verified module, loaded once per worker process (a memo, not state: the same sha is
    the same code, and numba compiles its kernels once)."""
    from .simulate import load_model

    folder = Path(tempfile.mkdtemp(prefix=f"symmag-sweep-{sha[:12]}-"))  # private (0700) to this process
    try:
        path = folder / f"{name}.py"
        path.write_bytes(source)
        return load_model(path)  # executes the bytes it read and checked; the file is not needed after
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def load_verified(source: bytes, sha: str, name: str):
    """The model module from its bytes, after checking their sha256 against ``sha``."""
    actual = hashlib.sha256(source).hexdigest()
    if actual != sha:
        raise SymmagInputError(f"model {name}: sha256 {actual} of the code received, expected {sha}: refused")
    return _worker_module(sha, name, source)


def _reduce(p: Plan, y: np.ndarray, y0: np.ndarray) -> np.ndarray:
    """y (n, b, E, T) -> the stored reduction (b, ...)."""
    if p.reduction == "trajectory":
        return y.transpose(1, 0, 2, 3)
    if p.reduction == "final":
        return y[..., -1].transpose(1, 0, 2)
    if p.reduction == "mean":
        return y.mean(axis=2).transpose(1, 0, 2)
    z = p.state.index("Mz")
    return (np.sign(y[z, :, :, -1]) != np.sign(y0[z])[None, :]).mean(axis=1)


def _integrate(p: Plan, module, sub: Mapping[str, np.ndarray], first: int) -> tuple[np.ndarray, bool, str]:
    """One ensemble call for consecutive points from flat index ``first``: (y (n, b, E, T), success,
    message); a raising model or solver is this call's failure, not the sweep's."""
    from .simulate import simulate

    b, e = next(iter(sub.values())).size, p.y0.shape[1]
    y, params, extra = _request(p, sub, first)
    shape = (len(p.state), b, e, p.t_eval.size)
    try:
        sim = simulate(module, y, (p.t0, float(p.t_eval[-1])), params, t_eval=p.t_eval,
                       **_simulate_kw(p), **extra)
        return sim.y.reshape(shape), sim.success, sim.message
    except Exception as exc:  # the model's code or the solver: this block's failure, not the sweep's
        return np.full(shape, np.nan), False, f"{type(exc).__name__}: {exc}"


def _solve(p: Plan, module, points: Mapping[str, np.ndarray], block: int, keep: np.ndarray):
    """Integrate the points ``keep`` of a block; (reduced data, status, messages) for them."""
    b = keep.size
    flat = p.flat(block)[keep]
    # heun's systems are keyed by flat point index: one call per run of consecutive points (the
    # other integrators draw nothing, one call for the whole block)
    cuts = np.flatnonzero(np.diff(flat) != 1) + 1 if p.integrator == "heun" else np.array([], int)
    status = np.full(b, DONE, np.int8)
    messages = [""] * b
    outs, ok, message = [], True, ""
    for part in np.split(np.arange(b), cuts):
        out, part_ok, part_message = _integrate(p, module, {n: v[keep[part]] for n, v in points.items()},
                                                int(flat[part[0]]))
        outs.append(out)
        if not part_ok and ok:
            ok, message = False, part_message
    out = np.concatenate(outs, axis=1)
    finite = np.isfinite(out).reshape(len(p.state), b, -1).all(axis=(0, 2))
    if ok and finite.all():
        return _reduce(p, out, p.y0), status, messages
    if b == 1:
        status[0] = FAILED
        messages[0] = message if not ok else "the solution is not finite (nan or overflow)"
        return np.full_like(_reduce(p, out, p.y0), np.nan), status, messages
    if p.integrator == "solve_ivp" or finite.all() or not finite.any():
        # one ODE for the whole block, or no point to tell apart: split until the failure is isolated
        half = b // 2
        parts = [_solve(p, module, points, block, keep[:half]), _solve(p, module, points, block, keep[half:])]
        return (np.concatenate([q[0] for q in parts]), np.concatenate([q[1] for q in parts]),
                parts[0][2] + parts[1][2])
    # the per-system integrators: the finite points are right as they are; each other point is
    # run alone, for its own message
    data = _reduce(p, out, p.y0)
    for j in np.flatnonzero(~finite):
        alone = _solve(p, module, points, block, keep[j:j + 1])
        data[j], status[j], messages[j] = alone[0][0], alone[1][0], alone[2][0]
    return data, status, messages


def run_block(p: Plan, block: int, store: str | None = None) -> BlockResult:
    """A worker's task: verify and load the model (``p.source`` against ``p.sha256``), integrate
    one block (its points in one ensemble call), return the reduction per point -- or, with
    ``store`` (a path the worker shares with the client), write it there (its own chunks: blocks
    are chunks) and return the status without the data.  Executes the model's code."""
    started, cpu = time.perf_counter(), time.process_time()
    module = load_verified(p.source, p.sha256, p.model_path.stem)
    points = p.grid.at(p.region(block))
    b = next(iter(points.values())).size
    data, status, messages = _solve(p, module, points, block, np.arange(b))
    result = BlockResult(block, data, status, [m[:MESSAGE_CHARS] for m in messages],
                         time.perf_counter() - started, os.getpid(), time.process_time() - cpu)
    if store is None:
        return result
    import zarr

    group = zarr.open_group(store, mode="r+")
    # a task of a cancelled run may end after its store was replaced by one of other inputs
    if group.attrs.get("inputs_sha256") == _inputs_sha256(p):
        _write(group, p, result)
    return replace(result, data=np.empty((0,)), seconds=time.perf_counter() - started,
                   cpu_seconds=time.process_time() - cpu)


def warm(p: Plan) -> int:
    """Load the model and compile its kernels (one point) on a worker, so tasks are timed
    without JIT; returns the process id."""
    module = load_verified(p.source, p.sha256, p.model_path.stem)
    points = {n: v[:1] for n, v in p.grid.at(p.region(0)).items()}
    _solve(p, module, points, 0, np.arange(1))
    return os.getpid()


# -- the store --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Summary:
    """What a run did: points, blocks computed now and found done, failures, times."""

    store: Path
    points: int
    blocks: int
    computed: int
    skipped: int
    failed: int
    wall: float
    task_seconds: float
    workers: int
    failures: list[str]
    dashboard: str | None = None
    #: CPU seconds of the tasks (below task_seconds when the workers share their cores)
    task_cpu_seconds: float = 0.0
    #: seconds the client spent receiving (and writing) results
    write_seconds: float = 0.0
    #: CPU seconds of the client's process from the first task submitted to the last result (with
    #: a LocalCluster that includes the scheduler)
    client_cpu_seconds: float = 0.0

    @property
    def overhead(self) -> float | None:
        """1 - task seconds / (workers x wall): the share of the workers' time not in tasks."""
        if not self.computed or self.wall <= 0 or not self.workers:
            return None
        return 1 - self.task_seconds / (self.workers * self.wall)


def _inputs_sha256(p: Plan) -> str:
    return hashlib.sha256(json.dumps(p.record, sort_keys=True).encode()).hexdigest()


def _attrs(p: Plan) -> dict:
    return {"symmag_sweep": json.dumps(p.record, sort_keys=True), "inputs_sha256": _inputs_sha256(p),
            "model": p.record["model"], "model_sha256": p.sha256, "integrator": p.integrator,
            "rtol": p.options["rtol"], "atol": p.options["atol"], "seed": p.seed, "reduction": p.reduction,
            "chunk": list(p.chunk), "versions": json.dumps(_versions(), sort_keys=True), "complete": False}


def _difference(old: dict, new: dict) -> str | None:
    """The first input that differs between two records, in words; None when they agree."""
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            inner = _difference(a, b)
            return f"{key}.{inner}" if inner else None
        def short(x) -> str:
            text = json.dumps(x)
            return text if len(text) <= 60 else text[:57] + "..."
        return f"{key}: {short(a)} in the store, {short(b)} now"
    return None


def _existing(store: Path) -> dict | None:
    """The attributes of the sweep store at ``store`` (None when there is none)."""
    import zarr

    if not store.exists():
        return None
    try:
        group = zarr.open_group(str(store), mode="r")
        attrs = group.attrs.asdict()
    except Exception:
        attrs = {}
    if "symmag_sweep" not in attrs:
        raise SymmagInputError(f"{store} exists and is not a symmag sweep store; choose another path")
    return attrs


def _create(p: Plan, store: Path) -> None:
    """Write the empty store (coordinates, y0, NaN results, status 0, the record) beside ``store``
    and move it into place whole; an older store there is replaced only once the new one is
    complete on disk (a crash in between is undone by symmag.atomic.recover)."""
    import dask.array as da
    import xarray as xr

    from .. import atomic

    name, dims = OUTPUTS[p.reduction]
    rest = {"state": len(p.state), "system": p.y0.shape[1], "time": p.t_eval.size}
    shape = (*p.grid.shape, *(rest[d] for d in dims))
    chunks = (*p.chunk, *(rest[d] for d in dims))
    coords: dict = {"state": list(p.state), "time": p.t_eval}
    if p.grid.kind == "product":
        coords.update({n: v for n, v in p.grid.values.items()})
    else:
        coords.update({n: ("point", v) for n, v in p.grid.values.items()})
    ds = xr.Dataset(
        {name: ((*p.grid.dims, *dims), da.full(shape, np.nan, chunks=chunks)),
         "status": (p.grid.dims, da.zeros(p.grid.shape, dtype="i1", chunks=p.chunk)),
         "message": (p.grid.dims, da.full(p.grid.shape, "", dtype=f"U{MESSAGE_CHARS}", chunks=p.chunk)),
         "y0": (("state", "system"), p.y0)},
        coords=coords, attrs=_attrs(p))
    ds["status"].attrs["meaning"] = "0 not computed, 1 done, 2 failed (see message)"
    store.parent.mkdir(parents=True, exist_ok=True)
    atomic.recover(store)
    tmp = Path(tempfile.mkdtemp(dir=store.parent, prefix=f".{store.name}.new-"))
    try:
        ds.to_zarr(str(tmp / "s"), compute=False, mode="w", consolidated=False, zarr_format=2)
        if store.exists():
            # the name symmag.atomic.recover knows: should we die between the renames it restores the old
            aside = Path(tempfile.mkdtemp(dir=store.parent, prefix=f".{store.name}.old-{os.getpid()}-"))
            os.rmdir(aside)
            os.rename(store, aside)
            os.rename(tmp / "s", store)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.rename(tmp / "s", store)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write(group, p: Plan, result: BlockResult) -> None:
    """A block's results, then its status (so a crash between them leaves the block pending)."""
    region = p.region(result.block)
    sizes = tuple(s.stop - s.start for s in region)
    name = OUTPUTS[p.reduction][0]
    group[name][region] = result.data.reshape(*sizes, *result.data.shape[1:])
    group["message"][region] = np.array(result.messages, dtype=f"U{MESSAGE_CHARS}").reshape(sizes)
    group["status"][region] = result.status.reshape(sizes)


def _finish(store: Path, group, p: Plan) -> int:
    """Mark the store complete and consolidate its metadata (written last); the failed points."""
    import zarr

    failed = int((group["status"][...] == FAILED).sum())
    group.attrs.update({"complete": True, "failed_points": failed})
    zarr.consolidate_metadata(str(store))
    return failed


def _failures(group, p: Plan, limit: int = 5) -> list[str]:
    status = group["status"][...]
    where = np.argwhere(status == FAILED)[:limit]
    messages = group["message"]
    out = []
    for index in where:
        idx = tuple(int(i) for i in index)
        if p.grid.kind == "product":
            at = ", ".join(f"{n} = {v[i]:g}" for (n, v), i in zip(p.grid.values.items(), idx))
        else:
            values = ", ".join(f"{n} = {v[idx[0]]:g}" for n, v in p.grid.values.items())
            at = f"point {idx[0]} ({values})"
        out.append(f"{at}: {messages[idx]}")
    return out


# -- running ----------------------------------------------------------------------------------

async def _probe(address: str) -> None:
    """Connect to ``address`` with Dask's handshake, then hang up."""
    from distributed.comm import connect

    comm = await connect(address, timeout=CONNECT_TIMEOUT)
    await comm.close()


def _client(scheduler: str | None, workers: int | None):
    """A Dask client: of the scheduler at ``scheduler`` (one clear error within CONNECT_TIMEOUT
    when it cannot be reached), else of a new LocalCluster of ``workers`` single-threaded
    processes.  Returns (client, cluster or None)."""
    import logging

    from distributed import Client

    if scheduler is not None:
        try:
            # a bare connection first: a Client that fails half-way leaves a finalizer that blocks
            # for 10 s and prints a traceback at exit
            asyncio.run(_probe(scheduler))
            return Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False), None
        except Exception as exc:  # refused, timed out, or something that does not speak Dask's protocol
            why = f"{type(exc).__name__}: {str(exc)[:100]}"
            raise SymmagInputError(f"cannot reach the Dask scheduler at {scheduler} within "
                                   f"{CONNECT_TIMEOUT:g} s ({why})") from None
    cluster = local_cluster(workers or os.cpu_count() or 1, silence_logs=logging.ERROR)
    return Client(cluster, set_as_default=False), cluster


def local_cluster(workers: int, **kwargs):
    """The LocalCluster of a sweep: ``workers`` processes of one thread each (numba and BLAS
    pinned, THREAD_PINS), the dashboard when bokeh is installed, and every task handed to a
    worker at once (worker-saturation inf): the scheduler runs in the client's process, whose
    writes to the store would otherwise delay each worker's next task (Dask's work stealing
    still balances the load, and a lost worker's tasks are rescheduled)."""
    import importlib.util

    import dask
    from distributed import LocalCluster

    options = {"n_workers": workers, "threads_per_worker": 1, "processes": True, "env": dict(THREAD_PINS),
               "dashboard_address": ":0" if importlib.util.find_spec("bokeh") else None, **kwargs}
    with dask.config.set({"distributed.scheduler.worker-saturation": math.inf}):
        return LocalCluster(**options)


def run(p: Plan, store: str | Path, *, scheduler: str | None = None, workers: int | None = None,
        overwrite: bool = False, client=None, on_result: Callable[[int, int], None] | None = None,
        progress=None, on_start: Callable[[str | None], None] | None = None,
        workers_write: bool | None = None) -> Summary:
    """Run the sweep ``p`` into the Zarr store ``store``, resuming what a previous run with the
    same inputs finished.  ``client``: an existing ``distributed.Client`` (else one is made:
    ``scheduler`` or a LocalCluster of ``workers`` processes).  ``on_result(done, total)`` and
    ``progress`` (a symmag.progress.Progress) are called as blocks finish, ``on_start(dashboard)``
    once connected (the dashboard's address or None).  ``workers_write``: the workers write their
    blocks into the store themselves (it must be a path they see: default True on the LocalCluster
    made here, else False -- then the client receives every result and writes it).  Workers
    execute the model's code (see the module docstring)."""
    import zarr

    store = Path(store)
    started = time.perf_counter()
    old = _existing(store)
    attrs = _attrs(p)
    fresh = True
    if old is not None:
        why = _difference(json.loads(old["symmag_sweep"]), p.record)
        if why is None:
            fresh = False
            # the block layout of the store is the one kept (its chunks are the blocks)
            p = replace(p, chunk=tuple(old.get("chunk", p.chunk)))
        elif not overwrite:
            raise SymmagInputError(f"{store} holds a sweep with different inputs ({why}); choose another "
                                   "path, or overwrite it (overwrite=True, --overwrite)")
    if not fresh:
        group = zarr.open_group(str(store), mode="r+")
        status = group["status"][...]
        todo = [b for b in range(p.blocks) if (status[p.region(b)] == PENDING).any()]
        if not todo:
            if not old.get("complete"):
                _finish(store, group, p)
            failed = int((status == FAILED).sum())
            return Summary(store, p.grid.size, p.blocks, 0, p.blocks, failed, time.perf_counter() - started,
                           0.0, 0, _failures(group, p))
    else:
        todo = list(range(p.blocks))
    own = client is None
    cluster = None
    if own:
        client, cluster = _client(scheduler, workers)
    if workers_write is None:
        # a worker busy in a numba kernel holds the GIL, so a result waits in it until the task
        # ends: on one machine, writing where the worker is loses nothing at a kill
        workers_write = cluster is not None
    target = str(store.resolve()) if workers_write else None
    try:
        if fresh:
            try:
                _create(p, store)
            except OSError as exc:  # the store's folder: bad input, in one line
                raise SymmagInputError(f"cannot create the store {store}: {exc.strerror or exc}") from exc
        group = zarr.open_group(str(store), mode="r+")
        try:  # JIT on every worker, outside the tasks' times; only an optimization: a task compiles too
            client.run(warm, p, on_error="return")
        except (OSError, TimeoutError):  # a worker lost meanwhile: the scheduler reassigns its tasks
            pass
        n_workers = len(client.scheduler_info(n_workers=-1).get("workers", {})) or 1
        dashboard = _dashboard(client)
        if on_start is not None:
            on_start(dashboard)
        from distributed import as_completed

        t_start, client_cpu = time.perf_counter(), time.process_time()
        prefix = f"symmag-sweep-{attrs['inputs_sha256'][:12]}"
        futures = [client.submit(run_block, p, b, target, pure=False, key=f"{prefix}-{b}") for b in todo]
        seconds, cpu, done, writing = 0.0, 0.0, 0, 0.0
        try:
            for future in as_completed(futures, loop=client.loop):
                t_write = time.perf_counter()
                result = future.result()
                if target is None:
                    _write(group, p, result)
                writing += time.perf_counter() - t_write
                seconds += result.seconds
                cpu += result.cpu_seconds
                done += 1
                future.release()
                if progress is not None:
                    progress.update(done, len(todo))
                if on_result is not None:
                    on_result(done, len(todo))
        except BaseException:
            client.cancel(futures)
            raise
        wall, client_cpu = time.perf_counter() - t_start, time.process_time() - client_cpu
        failed = _finish(store, group, p)
        return Summary(store, p.grid.size, p.blocks, len(todo), p.blocks - len(todo), failed, wall, seconds,
                       n_workers, _failures(group, p), dashboard, cpu, writing, client_cpu)
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()


def _dashboard(client) -> str | None:
    """The dashboard's address, when the scheduler serves one (it needs bokeh)."""
    import importlib.util

    if importlib.util.find_spec("bokeh") is None:
        return None
    try:
        return client.dashboard_link
    except Exception:  # a scheduler without the dashboard service: nothing to link to
        return None


def open_sweep(store: str | Path):
    """The store as an ``xarray.Dataset`` (``xarray.open_zarr``; an unfinished store has no
    consolidated metadata yet, so it is read without)."""
    import xarray as xr

    store = Path(store)
    return xr.open_zarr(str(store), consolidated=(store / ".zmetadata").is_file())
