"""The ``symmag sweep`` command line: its arguments and the command.

``symmag sweep MODEL -o STORE.zarr`` runs a parameter sweep (:mod:`symmag.numeric.sweep`) on Dask: a
``LocalCluster`` of this machine's cores by default, or the cluster of ``--scheduler ADDRESS``.
The points are a Cartesian product (``--grid NAME=V1,V2,...`` or ``NAME=START:STOP:COUNT``, one
per swept parameter), zipped lists (``--zip``) or a CSV table (``--table FILE``).  Progress on
stderr when it is a terminal (``-q`` silences it); a summary of points, tasks, wall time and
failures at the end.  Exit status 0, 1 when any point failed, 2 for bad input (one line).
Workers execute the model's code: trusted models, clusters you control.

Light to import (the CLI builds every parser at start-up): NumPy and Dask are imported inside
:func:`command`.  May use :mod:`symmag.numeric.sweep`, :mod:`symmag.errors`, :mod:`symmag.progress`.
"""

from __future__ import annotations

import math
import re
import sys

from ..errors import SymmagInputError
from ..progress import Progress

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
#: most points a START:STOP:COUNT range may have
MAX_RANGE = 10_000_000


def add_parser(sub) -> None:
    """Add the ``sweep`` subcommand to the subparsers ``sub``."""
    sw = sub.add_parser(
        "sweep", help="a parameter sweep of a generated model on Dask, into a Zarr store",
        description="Integrate MODEL at every point of a parameter grid, the points batched into "
        "ensemble calls, on a Dask LocalCluster (or --scheduler ADDRESS), and write one reduction per "
        "point into a Zarr store (xarray.open_zarr(STORE)); an interrupted sweep resumes where it "
        "stopped. Workers execute the model's code: trusted models only. Exit status 1 when a point "
        "failed (recorded in the store), 2 for bad input.")
    sw.add_argument("model", metavar="MODEL_OR_FILE",
                    help="a generated model (e.g. llg_rsi_numba) or FILE.py")
    sw.add_argument("-o", "--output", required=True, metavar="STORE", help="the Zarr store (a folder)")
    sw.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2,...|NAME=START:STOP:COUNT",
                    help="a swept parameter; several --grid make their Cartesian product")
    sw.add_argument("--zip", action="append", default=[], metavar="NAME=V1,V2,...",
                    help="parameters swept together, value k of each forming point k")
    sw.add_argument("--table", metavar="FILE.csv",
                    help="points from a CSV file: a header of names, rows of numbers")
    sw.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a fixed parameter")
    sw.add_argument("--y0", required=True, help="the initial state, comma-separated numbers")
    sw.add_argument("--ensemble", type=int, default=1, help="copies of y0 per point (default 1)")
    sw.add_argument("--t-end", type=float, required=True)
    sw.add_argument("--points", type=int, default=101, help="output times from 0 to --t-end (default 101)")
    sw.add_argument("--reduce", default="final", choices=("trajectory", "final", "mean", "switching"),
                    help="stored per point: the trajectory, the final state (default), the ensemble mean "
                    "<y(t)>, or the switching probability (the fraction of systems whose Mz changed sign)")
    sw.add_argument("--integrator", default="dp54", help="dp54 (default), dop853, rk4, heun or solve_ivp")
    sw.add_argument("--method", default=None, help="solve_ivp's method")
    sw.add_argument("--rtol", type=float, default=1e-6)
    sw.add_argument("--atol", type=float, default=1e-9)
    sw.add_argument("--step", type=float, default=None, help="rk4 and heun: the fixed step")
    sw.add_argument("--max-steps", type=int, default=None, help="most steps one system may take")
    sw.add_argument("--seed", type=int, default=None, help="heun: the seed of the thermal noise")
    sw.add_argument("--batch", type=int, default=None,
                    help="points per task (default: timed for about 0.25 s of work a task)")
    sw.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="an existing Dask scheduler (tcp://HOST:8786, from `dask scheduler`)")
    sw.add_argument("--workers", type=int, default=None, help="LocalCluster worker processes (default: CPUs)")
    sw.add_argument("--folder", default=None, metavar="DIR", help="folder of generated modules")
    sw.add_argument("--overwrite", action="store_true",
                    help="replace a store made with different inputs (default: refuse)")
    sw.add_argument("-q", "--quiet", action="store_true", help="no progress line on stderr")
    sw.set_defaults(func=command)


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SymmagInputError(f"{what}: not a number: {text.strip()!r}") from None
    if not math.isfinite(value):
        raise SymmagInputError(f"{what} must be a finite number, got {text.strip()}")
    return value


def _assignment(text: str, flag: str) -> tuple[str, str]:
    name, eq, value = text.partition("=")
    if not eq or not _NAME.match(name.strip()):
        raise SymmagInputError(f"{flag} takes NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def parse_values(text: str, what: str) -> list[float]:
    """``V1,V2,...`` or ``START:STOP:COUNT`` (COUNT points, both ends included) as floats."""
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3 or not re.fullmatch(r"\s*[0-9]+\s*", parts[2]):
            raise SymmagInputError(f"{what} takes START:STOP:COUNT, got {text!r}")
        start, stop, count = _number(parts[0], what), _number(parts[1], what), int(parts[2])
        if not 1 <= count <= MAX_RANGE:
            raise SymmagInputError(f"{what}: COUNT must be between 1 and {MAX_RANGE}, got {count}")
        return [start] if count == 1 else [start + (stop - start) * k / (count - 1) for k in range(count)]
    values = [_number(v, what) for v in text.split(",") if v.strip()]
    if not values:
        raise SymmagInputError(f"{what} has no values: the grid has no points")
    return values


def _grid(args):
    from ..numeric import sweep

    given = [flag for flag, value in (("--grid", args.grid), ("--zip", args.zip), ("--table", args.table))
             if value]
    if len(given) != 1:
        raise SymmagInputError("give the points by exactly one of --grid, --zip or --table"
                               + (f" (got {', '.join(given)})" if given else ""))
    if args.table:
        return sweep.table(args.table)
    flag = given[0]
    values: dict[str, list[float]] = {}
    for text in args.grid or args.zip:
        name, rest = _assignment(text, flag)
        if name in values:
            raise SymmagInputError(f"{name} is given twice in {flag}")
        values[name] = parse_values(rest, f"{flag} {name}")
    return sweep.product(**values) if args.grid else sweep.zipped(**values)


def command(args) -> int:
    """Run `symmag sweep` with parsed ``args``: 0, or 1 when a point failed (bad input raises
    SymmagInputError)."""
    import numpy as np

    from ..numeric import sweep

    grid = _grid(args)
    fixed = {}
    for text in args.param:
        name, value = _assignment(text, "--param")
        if name in fixed:
            raise SymmagInputError(f"--param {name} is given twice")
        fixed[name] = _number(value, f"--param {name}")
    y0 = [_number(v, "--y0") for v in args.y0.split(",")]
    if not (math.isfinite(args.t_end) and args.t_end > 0):
        raise SymmagInputError(f"--t-end must be a positive number, got {args.t_end}")
    if not 1 <= args.points <= 100_000:
        raise SymmagInputError(f"--points must be between 1 and 100000, got {args.points}")
    if args.workers is not None and args.workers < 1:
        raise SymmagInputError(f"--workers must be at least 1, got {args.workers}")
    if args.workers is not None and args.scheduler is not None:
        raise SymmagInputError("--workers is for the LocalCluster; an existing --scheduler has its own")
    times = np.linspace(0.0, args.t_end, args.points) if args.points > 1 else np.array([args.t_end])
    p = sweep.plan(args.model, grid, times, y0=y0, fixed=fixed, ensemble=args.ensemble, reduction=args.reduce,
                   integrator=args.integrator, rtol=args.rtol, atol=args.atol, method=args.method,
                   step=args.step, max_steps=args.max_steps, seed=args.seed, batch=args.batch,
                   workers=args.workers, folder=args.folder)
    with Progress(f"sweep {p.model_path.stem}", total=p.blocks, quiet=args.quiet) as progress:
        def started(dashboard: str | None) -> None:
            if dashboard and progress.enabled:  # a terminal: where to watch the workers
                print(f"dashboard: {dashboard}", file=sys.stderr)

        summary = sweep.run(p, args.output, scheduler=args.scheduler, workers=args.workers,
                            overwrite=args.overwrite, progress=progress, on_start=started)
    print(format_summary(summary))
    return 1 if summary.failed else 0


def format_summary(s) -> str:
    """The closing lines of a sweep: points, tasks, wall time, failures, where it went."""
    lines = []
    if s.computed == 0:
        lines.append(f"{s.store}: complete already ({s.points} points, {s.blocks} tasks); nothing to do")
    else:
        resumed = f", {s.skipped} done before (resumed)" if s.skipped else ""
        overhead = "" if s.overhead is None else f", scheduler overhead {100 * max(s.overhead, 0):.0f} %"
        lines.append(f"{s.store}: {s.points} points in {s.blocks} tasks ({s.computed} run now{resumed}) on "
                     f"{s.workers} worker(s), {s.wall:.1f} s wall, {s.task_seconds:.1f} task-seconds"
                     f"{overhead}")
    if s.dashboard:
        lines.append(f"dashboard: {s.dashboard}")
    if s.failed:
        lines.append(f"FAILED: {s.failed} of {s.points} points (status 2 and message in the store):")
        lines.extend(f"  {f}" for f in s.failures)
        if s.failed > len(s.failures):
            lines.append(f"  ... and {s.failed - len(s.failures)} more")
    else:
        lines.append("failures: none")
    return "\n".join(lines)
