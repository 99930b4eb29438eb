"""The ``symmag compare`` command line: its arguments and the command.

Two kinds of MODEL.  ``llg_rsi``, ``llg_rsi_extra`` and ``spin_spin``: exact full-space dynamics of a
few spins against the paper's derived equations (:func:`symmag.exact.compare.rsi`,
:func:`symmag.exact.compare.spin_spin`).  A collective model -- ``spin_spin_axis`` (the paper's (63) with an
easy axis), ``lmg``, or a Python file of the user's defining ``HAMILTONIAN`` -- runs the closure study
(:func:`symmag.exact.compare.closure_study`): exact collective dynamics for each N of ``--spins`` against each
closure of ``--closures``, over the values of one ``--sweep`` parameter, with the fitted exponents and
the realizability checks; ``--plot`` draws the error map.  Every input is checked, and the Hamiltonian
translated and evaluated, before the first integration; bad input is one line and exit status 2.

Light to import (the CLI builds every parser at start-up): NumPy and the solvers are imported
inside :func:`command`.  May use :mod:`symmag.exact.compare`, :mod:`symmag.errors`, :mod:`symmag.progress`.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from pathlib import Path

from ..errors import SymmagInputError
from ..progress import Progress

#: the full tensor-product space has 4^N entries: N = 6 takes about a minute
MAX_COMPARE_SPINS = 6
#: the full-space comparisons of the paper's derived equations (the rest is the closure study)
FULL_SPACE_MODELS = ("llg_rsi", "llg_rsi_extra", "spin_spin")
#: command-line names of the closures (the suffixes of their generated modules)
CLOSURE_NAMES = {"lowest": "lowest", "mean_field": "mean field", "cumulant2": "cumulant 2",
                 "cumulant3": "cumulant 3", "cumulant4": "cumulant 4"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def add_parser(sub) -> None:
    """Add the ``compare`` subcommand to the subparsers ``sub``."""
    cmp = sub.add_parser("compare", help="exact quantum dynamics against the derived equations and closures",
                         description="llg_rsi, llg_rsi_extra, spin_spin: solve the Liouville-von Neumann "
                         "equation for a few spins 1/2 and print the deviation of each derived equation's "
                         "M(t). spin_spin_axis, lmg or FILE.py (defining HAMILTONIAN, a polynomial in M0): "
                         "exact collective dynamics for each N of --spins against the closures of the "
                         "correlation hierarchy, with fitted exponents and realizability. Generated and "
                         "user modules are executed as Python: trusted code.")
    cmp.add_argument("model", metavar="MODULE_OR_MODEL",
                     help=f"{', '.join(FULL_SPACE_MODELS)}, spin_spin_axis, lmg, or a FILE.py")
    cmp.add_argument("--lambdabar46", type=float, default=0.2, help="llg_rsi_extra: extra field (46)")
    cmp.add_argument("--lambdabar49", type=float, default=0.1, help="llg_rsi_extra: extra torque (49)")
    cmp.add_argument("--spins", nargs="+", default=None, metavar="N",
                     help="number(s) of spins (full-space models: one, default 3; closure study: a list, "
                     "default 2 7 24 84 290 1000)")
    cmp.add_argument("--lambda", dest="lam", type=float, default=0.15, help="spin_spin only: the coupling")
    cmp.add_argument("--hz", type=float, default=1.0, help="spin_spin only: the field H_z")
    cmp.add_argument("--closures", nargs="+", default=None, metavar="CLOSURE",
                     help=f"closure study: any of {', '.join(CLOSURE_NAMES)} (default: all)")
    cmp.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="closure study: a parameter (per-spin ones, e.g. lambda, times N)")
    cmp.add_argument("--sweep", metavar="NAME=V1,V2,...", help="closure study: the parameter varied")
    cmp.add_argument("--polarization", type=float, default=1.0,
                     help="closure study: single-spin polarization of the tilted thermal state (11); "
                     "1: the coherent state")
    cmp.add_argument("--tilt", type=float, default=0.5, help="closure study: angle of R0 from z (rad)")
    cmp.add_argument("--t-end", type=float, default=2 * math.pi,
                     help="closure study: end time (default 2 pi, one precession period)")
    cmp.add_argument("--points", type=int, default=41, help="closure study: output times")
    cmp.add_argument("--folder", default=None, metavar="DIR",
                     help="folder of generated modules (default: the models shipped with symmag; for a "
                     "FILE.py, where its closures are written, else a temporary folder)")
    cmp.add_argument("--plot", metavar="FILE", help="deviation against time (or the error map), PNG/PDF/SVG")
    cmp.add_argument("-q", "--quiet", action="store_true", help="no progress line on stderr")
    cmp.set_defaults(func=command)


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SymmagInputError(f"{what} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise SymmagInputError(f"{what} must be a finite number, got {text!r}")
    return value


def _assignment(text: str, flag: str) -> tuple[str, str]:
    name, eq, value = text.partition("=")
    if not eq or not _NAME.match(name.strip()):
        raise SymmagInputError(f"{flag} takes NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def _spins(values, default):
    if values is None:
        return default
    out = []
    for v in values:
        for part in str(v).replace(",", " ").split():
            if not re.fullmatch(r"[0-9]+", part):
                raise SymmagInputError(f"--spins takes positive integers, got {part!r}")
            out.append(int(part))
    if not out:
        raise SymmagInputError("--spins needs at least one number")
    return out


def _plot_path(path):
    if path and Path(path).suffix.lower() not in (".png", ".pdf", ".svg"):
        raise SymmagInputError(f"--plot writes .png, .pdf or .svg, got {path!r}")


def command(args) -> int:
    """Run `symmag compare` with parsed ``args``; 0 on success (bad input raises SymmagInputError)."""
    # the exact solvers' skinny matrix-vector products run ~12x slower with OpenBLAS's second
    # thread on a 2-core machine (benchmarks/bench_dynamics.py): one thread unless the user says
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    _plot_path(args.plot)
    if args.model in FULL_SPACE_MODELS:
        return _full_space(args)
    return _study(args)


def _full_space(args) -> int:
    import numpy as np

    from ..exact import compare

    spins = _spins(args.spins, [3])
    if len(spins) != 1:
        raise SymmagInputError(f"{args.model} takes one --spins N, got {len(spins)}")
    n = spins[0]
    if n < 1 or n > MAX_COMPARE_SPINS:
        raise SymmagInputError(f"--spins must be between 1 and {MAX_COMPARE_SPINS} (the full tensor-product "
                               f"space has 4^N entries; N = {MAX_COMPARE_SPINS} takes about a minute), "
                               f"got {n}")
    for flag, value in (("--lambda", args.lam), ("--hz", args.hz), ("--lambdabar46", args.lambdabar46),
                        ("--lambdabar49", args.lambdabar49)):
        if not math.isfinite(value):
            raise SymmagInputError(f"{flag} must be a finite number, got {value}")
    if args.closures or args.param or args.sweep:
        raise SymmagInputError(f"--closures, --param and --sweep are for the closure study, not {args.model}")
    with Progress(f"compare {args.model}", quiet=args.quiet) as progress:
        if args.model == "llg_rsi":
            c = compare.rsi(n_sites=n, folder=args.folder, progress=progress.time)
        elif args.model == "llg_rsi_extra":
            c = compare.rsi(n_sites=n, lambdabar46=args.lambdabar46, lambdabar49=args.lambdabar49,
                            folder=args.folder, progress=progress.time)
        else:
            if not args.lam > 0:
                raise SymmagInputError(f"--lambda must be positive, got {args.lam}")
            c = compare.spin_spin(n_sites=n, lam=args.lam, h_z=args.hz, folder=args.folder,
                                  progress=progress.time)
    setup = ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}" for k, v in c.setup.items())
    print(f"{c.model}: exact Liouville-von Neumann M(t) against the derived equations ({setup})")
    names = list(c.approximations)
    widths = [max(16, len(n) + 2) for n in names]
    print("t".rjust(10) + "".join(n.rjust(w) for n, w in zip(names, widths)) + "   (max_a |dM^a|/|M(0)|)")
    for k in np.linspace(0, len(c.t) - 1, 11).astype(int):
        print(f"{c.t[k]:10.4g}" + "".join(f"{c.deviation(n)[k]:{w}.3e}" for n, w in zip(names, widths)))
    if args.model == "spin_spin":
        lams = (0.02, 0.04, 0.08, 0.16)
        print(f"error against lambda in zero field, t in [0, 4], lambda = {lams}: fitted exponent p "
              "(error ~ lambda^p; the lowest order predicts 2)")
        for name, (errs, p) in compare.lambda_scaling(lams, n_sites=n, folder=args.folder).items():
            print(f"  {name:14s} p = {p:.2f}   max errors {' '.join(f'{e:.2e}' for e in errs)}")
    if args.plot:
        try:
            compare.plot(c, args.plot)
        except OSError as exc:
            raise SymmagInputError(f"cannot write {args.plot}: {exc.strerror or exc}") from exc
        print(args.plot)
    return 0


def _study(args) -> int:
    from ..exact import compare

    spins = compare.check_spins(_spins(args.spins, [2, 7, 24, 84, 290, 1000]))
    names = args.closures or list(CLOSURE_NAMES)
    names = [x for part in names for x in part.replace(",", " ").split()]
    unknown = [c for c in names if c not in CLOSURE_NAMES]
    if unknown or not names:
        raise SymmagInputError(f"unknown closure(s) {', '.join(unknown) or '(none)'}; choose from "
                               f"{', '.join(CLOSURE_NAMES)}")
    closures = [CLOSURE_NAMES[c] for c in dict.fromkeys(names)]
    fixed = {}
    for text in args.param:
        name, value = _assignment(text, "--param")
        fixed[name] = _number(value, f"--param {name}")
    parameter, values = None, ()
    if args.sweep:
        parameter, rest = _assignment(args.sweep, "--sweep")
        values = tuple(_number(v, f"--sweep {parameter}") for v in rest.split(",") if v.strip())
        if not values:
            raise SymmagInputError(f"--sweep {parameter} needs at least one value")
        if parameter in fixed:
            raise SymmagInputError(f"{parameter} is both --param and --sweep")
    if not 0 < args.polarization <= 1:
        raise SymmagInputError(f"--polarization must be in (0, 1], got {args.polarization}")
    for flag, value in (("--tilt", args.tilt), ("--t-end", args.t_end)):
        if not math.isfinite(value):
            raise SymmagInputError(f"{flag} must be a finite number, got {value}")
    if not args.t_end > 0 or not 2 <= args.points <= 10_000:
        raise SymmagInputError("--t-end must be positive and --points between 2 and 10000")
    known = compare.collective_models()
    tmp = None
    if args.model in known:
        model = known[args.model]
        if args.folder is not None:
            from dataclasses import replace

            model = replace(model, folder=args.folder)
    elif args.model.endswith(".py"):
        model = compare.user_model(args.model)
    else:
        raise SymmagInputError(f"unknown model {args.model!r}: one of {', '.join(FULL_SPACE_MODELS)}, "
                               f"{', '.join(known)}, or a FILE.py defining HAMILTONIAN")
    for name in (*fixed, *([parameter] if parameter else [])):
        if name not in model.parameters and args.model in known:
            raise SymmagInputError(f"{model.name} has no parameter {name} (its parameters: "
                                   f"{', '.join(model.parameters)})")
    # the Hamiltonian translated and evaluated at t = 0 for the smallest and the largest N, every value
    for n in (spins[0], spins[-1]):
        for v in values or (None,):
            extra = {**fixed, **({parameter: v} if parameter else {})}
            compare.check_model(model, n, extra, args.polarization, args.tilt)
    try:
        if args.model not in known:
            if args.folder is None:
                tmp = tempfile.TemporaryDirectory(prefix="symmag-compare-")
            model = compare.build_closures(model, closures, args.folder or tmp.name)
        with Progress(f"compare {model.name}", quiet=args.quiet) as progress:
            study = compare.closure_study(model, spins, parameter, values, closures, fixed=fixed,
                                          t_end=args.t_end, points=args.points,
                                          polarization=args.polarization, tilt=args.tilt,
                                          progress=progress.update)
        print(compare.study_table(study, model))
        if args.plot:
            try:
                compare.plot_study(study, args.plot, model)
            except OSError as exc:
                raise SymmagInputError(f"cannot write {args.plot}: {exc.strerror or exc}") from exc
            print(args.plot)
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0
