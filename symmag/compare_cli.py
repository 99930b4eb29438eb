"""The ``symmag compare`` command line: its arguments and the command.

Light to import (the CLI builds every parser at start-up): NumPy and the solvers are imported
inside :func:`command`.  May use :mod:`symmag.compare`, :mod:`symmag.errors`,
:mod:`symmag.progress`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from .errors import SymmagInputError
from .progress import Progress

#: the full tensor-product space has 4^N entries: N = 6 takes about a minute
MAX_COMPARE_SPINS = 6


def add_parser(sub) -> None:
    """Add the ``compare`` subcommand to the subparsers ``sub``."""
    cmp = sub.add_parser("compare", help="exact quantum dynamics against the derived equations",
                         description="Solve the Liouville-von Neumann equation for a few spins 1/2 "
                         "with the self-consistent Hamiltonian of the model and print the deviation "
                         "of each derived equation's M(t) (generated modules in --folder, executed "
                         "as Python: trusted code).")
    cmp.add_argument("model", choices=("llg_rsi", "llg_rsi_extra", "spin_spin"))
    cmp.add_argument("--lambdabar46", type=float, default=0.2, help="llg_rsi_extra: extra field (46)")
    cmp.add_argument("--lambdabar49", type=float, default=0.1, help="llg_rsi_extra: extra torque (49)")
    cmp.add_argument("--spins", type=int, default=3, metavar="N")
    cmp.add_argument("--lambda", dest="lam", type=float, default=0.15, help="spin_spin only: the coupling")
    cmp.add_argument("--hz", type=float, default=1.0, help="spin_spin only: the field H_z")
    cmp.add_argument("--folder", default=None, metavar="DIR",
                     help="folder of generated modules (default: the models shipped with symmag)")
    cmp.add_argument("--plot", metavar="FILE", help="deviation against time, as PNG or PDF")
    cmp.add_argument("-q", "--quiet", action="store_true", help="no progress line on stderr")
    cmp.set_defaults(func=command)


def command(args) -> int:
    """Run `symmag compare` with parsed ``args``; 0 on success (bad input raises SymmagInputError)."""
    # the exact solvers' skinny matrix-vector products run ~12x slower with OpenBLAS's second
    # thread on a 2-core machine (benchmarks/bench_dynamics.py): one thread unless the user says
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import numpy as np

    from . import compare

    if args.spins < 1 or args.spins > MAX_COMPARE_SPINS:
        raise SymmagInputError(f"--spins must be between 1 and {MAX_COMPARE_SPINS} (the full tensor-product "
                               f"space has 4^N entries; N = {MAX_COMPARE_SPINS} takes about a minute), "
                               f"got {args.spins}")
    for flag, value in (("--lambda", args.lam), ("--hz", args.hz), ("--lambdabar46", args.lambdabar46),
                        ("--lambdabar49", args.lambdabar49)):
        if not math.isfinite(value):
            raise SymmagInputError(f"{flag} must be a finite number, got {value}")
    if args.plot and Path(args.plot).suffix.lower() not in (".png", ".pdf", ".svg"):
        raise SymmagInputError(f"--plot writes .png, .pdf or .svg, got {args.plot!r}")
    with Progress(f"compare {args.model}", quiet=args.quiet) as progress:
        if args.model == "llg_rsi":
            c = compare.rsi(n_sites=args.spins, folder=args.folder, progress=progress.time)
        elif args.model == "llg_rsi_extra":
            c = compare.rsi(n_sites=args.spins, lambdabar46=args.lambdabar46, lambdabar49=args.lambdabar49,
                            folder=args.folder, progress=progress.time)
        else:
            if not args.lam > 0:
                raise SymmagInputError(f"--lambda must be positive, got {args.lam}")
            c = compare.spin_spin(n_sites=args.spins, lam=args.lam, h_z=args.hz, folder=args.folder,
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
        for name, (errs, p) in compare.lambda_scaling(lams, n_sites=args.spins, folder=args.folder).items():
            print(f"  {name:14s} p = {p:.2f}   max errors {' '.join(f'{e:.2e}' for e in errs)}")
    if args.plot:
        try:
            compare.plot(c, args.plot)
        except OSError as exc:
            raise SymmagInputError(f"cannot write {args.plot}: {exc.strerror or exc}") from exc
        print(args.plot)
    return 0
