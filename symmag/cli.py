"""Command line: ``symmag check``, ``report``, ``figures``, ``codegen``, ``simulate``, ``compare``,
``reduce``.

Exit codes: 0 nothing failed, 1 a step failed, 2 bad usage or input (one
line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import math
import multiprocessing
import os
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path

from .derivation import METHODS, STATUSES, Derivation, StepResult, summarize
from .errors import SymmagInputError

CHECK_HELP = """\
Run derivations and check every step.  With no PATH, runs every module of the
installed `derivations` package.  A PATH is a Python file defining DERIVATION
or DERIVATIONS; it is imported and executed, so give only trusted code.

Methods: """ + "; ".join(f"{k}: {v}" for k, v in METHODS.items())


def _module_derivations(module, origin: str) -> list[Derivation]:
    found = getattr(module, "DERIVATIONS", None)
    if found is None and hasattr(module, "DERIVATION"):
        found = [module.DERIVATION]
    if not found:
        raise SymmagInputError(f"{origin} defines no derivation (expected DERIVATION or DERIVATIONS)")
    found = list(found)
    for d in found:
        if not isinstance(d, Derivation):
            raise SymmagInputError(f"{origin}: {d!r} is not a symmag Derivation")
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


def discover(paths: Sequence[str] = ()) -> list[Derivation]:
    """Derivations of the given module files, or of the ``derivations`` package."""
    out: list[Derivation] = []
    if paths:
        for p in paths:
            path = Path(p)
            if not path.is_file():
                raise SymmagInputError(f"no such file: {p}")
            if path.suffix != ".py":
                raise SymmagInputError(f"not a Python module: {p}")
            try:
                module = _import_path(path)
            except SymmagInputError:
                raise
            except Exception as exc:
                raise SymmagInputError(f"{p}: import failed: {type(exc).__name__}: {exc}") from exc
            out += _module_derivations(module, p)
        return out
    pkg = importlib.import_module("derivations")
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name in ("printed", "models", "figures") or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"derivations.{info.name}")
        out += _module_derivations(module, module.__name__)
    return out


def _check_ids(derivations: Sequence[Derivation]) -> None:
    seen: dict[str, str] = {}
    for d in derivations:
        for s in d.steps:
            if s.id in seen:
                raise SymmagInputError(f"step id {s.id!r} appears in {seen[s.id]} and {d.name}")
            seen[s.id] = d.name


def run_all(derivations: Sequence[Derivation]) -> list[StepResult]:
    """Run every step of every derivation, in order, in this process."""
    _check_ids(derivations)
    results: list[StepResult] = []
    for d in derivations:
        results += d.run()
    return results


_WORKER_DERIVATIONS: Sequence[Derivation] = ()


def _worker_init(derivations: Sequence[Derivation]) -> None:
    global _WORKER_DERIVATIONS  # one copy per worker process, set once at its start
    _WORKER_DERIVATIONS = derivations


def _worker_run(index: int, latex: bool) -> list[dict]:
    return [r.as_dict(latex) for r in _WORKER_DERIVATIONS[index].run()]


def run_records(derivations: Sequence[Derivation], jobs: int, latex: bool) -> list[dict]:
    """Results as records (``StepResult.as_dict``), derivations spread over ``jobs``
    forked worker processes; the order of the records never depends on ``jobs``."""
    _check_ids(derivations)
    jobs = max(1, min(jobs, len(derivations)))
    if jobs == 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [r.as_dict(latex) for r in run_all(derivations)]
    # Derivations hold closures, which do not pickle: forked workers inherit them instead.
    ctx = multiprocessing.get_context("fork")
    # longest first (by the derivations' cost hints): the last derivation to start is a short one
    order = sorted(range(len(derivations)), key=lambda i: -derivations[i].cost)
    with ctx.Pool(jobs, initializer=_worker_init, initargs=(list(derivations),)) as pool:
        pending = {i: pool.apply_async(_worker_run, (i, latex)) for i in order}
        return [rec for i in range(len(derivations)) for rec in pending[i].get()]


def _table(records: Sequence[dict]) -> str:
    rows = [("id", "eq.", "status", "method", "time/s")]
    rows += [(r["id"], r["equation"] or "-", r["status"], r["method"], f"{r['seconds']:.3f}")
             for r in records]
    widths = [max(len(row[c]) for row in rows) for c in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for r in records:
        if r["status"] in ("failed", "erratum"):
            lines.append(f"{r['status']}: {r['id']}: {r['detail']}")
    s = summarize(records)
    lines.append(", ".join(f"{s[k]} {k}" for k in STATUSES) + f" ({s['total']} steps, {s['seconds']:.2f} s)")
    return "\n".join(lines)


def cmd_check(args) -> int:
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise SymmagInputError(f"--jobs must be at least 1, got {jobs}")
    records = run_records(discover(args.paths), jobs, latex=args.json)
    if args.json:
        print(json.dumps({"results": records, "summary": summarize(records)}, indent=1))
    else:
        print(_table(records))
    return 1 if any(r["status"] == "failed" for r in records) else 0


def cmd_codegen(args) -> int:
    from .codegen import generate

    backends = ("numpy", "numba") if args.backend == "all" else (args.backend,)
    models = importlib.import_module("derivations.models").MODELS
    names = args.models or sorted(models)
    unknown = [n for n in names if n not in models]
    if unknown:
        raise SymmagInputError(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(sorted(models))}")
    _folder(args.output)
    for name in names:
        for path in generate([models[name]()], args.output, backends):
            print(path)
    return 0


def cmd_simulate(args) -> int:
    import numpy as np

    from .simulate import load_model, parse_assignments, save, simulate

    module = load_model(args.model, args.folder)
    try:
        y0 = np.array([float(v) for v in args.y0.split(",")])
    except ValueError as exc:
        raise SymmagInputError(f"--y0 takes comma-separated numbers, got {args.y0!r}") from exc
    if not np.all(np.isfinite(y0)):
        raise SymmagInputError("--y0 must be finite")
    if not (np.isfinite(args.t_end) and args.t_end > 0):
        raise SymmagInputError(f"--t-end must be a finite positive time, got {args.t_end}")
    for name, value in (("--points", args.points), ("--ensemble", args.ensemble)):
        if value < 1:
            raise SymmagInputError(f"{name} must be at least 1, got {value}")
    if not (args.rtol > 0 and args.atol > 0):
        raise SymmagInputError("--rtol and --atol must be positive")
    if args.method not in ("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA"):
        raise SymmagInputError(f"unknown --method {args.method!r}; use RK45, RK23, DOP853, Radau, BDF "
                               "or LSODA")
    if args.ensemble > 1:
        y0 = np.tile(y0[:, None], (1, args.ensemble))
    params = parse_assignments(args.param)
    sim = simulate(module, y0, (0.0, args.t_end), params, t_eval=np.linspace(0.0, args.t_end, args.points),
                   method=args.method, rtol=args.rtol, atol=args.atol, progress=args.progress)
    if not sim.success:
        raise SymmagInputError(f"integration failed: {sim.message}")
    try:
        print(save(sim, args.output))
    except OSError as exc:
        raise SymmagInputError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    return 0


def _figures(outdir: Path) -> list:
    """Figs. 1-2 (derivations/figures.py) into ``outdir``; their Figure records."""
    from .report import Figure

    figs = importlib.import_module("derivations.figures")
    figs.draw(outdir)
    return [Figure(name, f"figures/{name}.pdf", caption) for name, caption in figs.CAPTIONS.items()]


def _folder(path: str) -> Path:
    """An output folder, created if needed; one clear error when it cannot be."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SymmagInputError(f"cannot create folder {path}: {exc.strerror or exc}") from exc
    return out


def cmd_figures(args) -> int:
    for path in importlib.import_module("derivations.figures").draw(_folder(args.output)):
        print(path)
    return 0


def cmd_report(args) -> int:
    import time

    from .report import compile_pdf, render, sections

    start = time.perf_counter()
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise SymmagInputError(f"--jobs must be at least 1, got {jobs}")
    out = _folder(args.output)
    derivations = discover(args.paths)
    records = run_records(derivations, jobs, latex=True)
    figures = [] if args.paths else _figures(out / "figures")
    tex = out / "symmag-report.tex"
    tex.write_text(render(sections(derivations, records), figures))
    print(tex)
    if args.pdf:
        print(compile_pdf(tex))
    # timings stay out of the .tex (byte-identical reruns): they go to a file of their own
    (out / "timings.txt").write_text(f"symmag report{' --pdf' if args.pdf else ''}: "
                                      f"{time.perf_counter() - start:.1f} s\n")
    return 1 if any(r["status"] == "failed" for r in records) else 0


def cmd_compare(args) -> int:
    import numpy as np

    from . import compare

    if args.spins < 1 or args.spins > 8:
        raise SymmagInputError(f"--spins must be between 1 and 8 (full tensor-product space), "
                               f"got {args.spins}")
    for flag, value in (("--lambda", args.lam), ("--hz", args.hz), ("--lambdabar46", args.lambdabar46),
                        ("--lambdabar49", args.lambdabar49)):
        if not math.isfinite(value):
            raise SymmagInputError(f"{flag} must be a finite number, got {value}")
    if args.plot and Path(args.plot).suffix.lower() not in (".png", ".pdf", ".svg"):
        raise SymmagInputError(f"--plot writes .png, .pdf or .svg, got {args.plot!r}")
    if args.model == "llg_rsi":
        c = compare.rsi(n_sites=args.spins, folder=args.folder)
    elif args.model == "llg_rsi_extra":
        c = compare.rsi(n_sites=args.spins, lambdabar46=args.lambdabar46, lambdabar49=args.lambdabar49,
                        folder=args.folder)
    else:
        if not args.lam > 0:
            raise SymmagInputError(f"--lambda must be positive, got {args.lam}")
        c = compare.spin_spin(n_sites=args.spins, lam=args.lam, h_z=args.hz, folder=args.folder)
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


def cmd_reduce(args) -> int:
    import sympy as sp

    from .operators import parse_operator

    symbols = {}
    for name in filter(None, (args.symbols or "").split(",")):
        name = name.strip()
        if not name.isidentifier():
            raise SymmagInputError(f"not a symbol name: {name!r}")
        symbols[name] = sp.Symbol(name)
    op = parse_operator(args.expression, symbols)
    print(op.latex() if args.latex else op)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="symmag", description="Machine-checked magnetization dynamics.")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="run and check derivations", description=CHECK_HELP)
    c.add_argument("paths", nargs="*", metavar="PATH", help="derivation module files (trusted code)")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="worker processes, one derivation at a time each (default: CPU count)")
    c.set_defaults(func=cmd_check)
    g = sub.add_parser("codegen", help="write numeric right-hand-side modules",
                       description="Render NumPy modules (STATE, PARAMETERS, rhs, jacobian) from the "
                       "derived equations of derivations/models.py.")
    g.add_argument("models", nargs="*", metavar="MODEL", help="model names (default: all)")
    g.add_argument("-o", "--output", default="generated/rhs", help="output folder")
    g.add_argument("--backend", default="numpy", choices=("numpy", "numba", "all"))
    g.set_defaults(func=cmd_codegen)
    m = sub.add_parser("simulate", help="integrate a generated model with SciPy",
                       description="Integrate a module written by `symmag codegen` from t = 0 to "
                       "--t-end and write .npz or .csv. Numbers only on the command line.")
    m.add_argument("model", help="model name (in --folder) or path to a generated module")
    m.add_argument("--y0", required=True, help="initial state, comma-separated")
    m.add_argument("--param", action="append", default=[], metavar="NAME=NUMBER")
    m.add_argument("--t-end", type=float, required=True)
    m.add_argument("--points", type=int, default=201)
    m.add_argument("--ensemble", type=int, default=1, metavar="K", help="K copies of y0")
    m.add_argument("--method", default="DOP853")
    m.add_argument("--rtol", type=float, default=1e-9)
    m.add_argument("--atol", type=float, default=1e-12)
    m.add_argument("--folder", default="generated/rhs")
    m.add_argument("--progress", action="store_true", help="report progress on stderr")
    m.add_argument("-o", "--output", default="simulation.npz")
    m.set_defaults(func=cmd_simulate)
    rep = sub.add_parser("report", help="LaTeX (and PDF) report of the checked derivation",
                         description="Run the derivations (or the PATHs given) and write "
                         "DIR/symmag-report.tex with every step, its status and method, errata "
                         "beside their printed forms, and Figs. 1-2; --pdf compiles it with latexmk.")
    rep.add_argument("paths", nargs="*", metavar="PATH", help="derivation module files (trusted code)")
    rep.add_argument("-o", "--output", default="generated/report", metavar="DIR")
    rep.add_argument("--pdf", action="store_true", help="compile with latexmk -pdf")
    rep.add_argument("--jobs", type=int, default=None, metavar="N")
    rep.set_defaults(func=cmd_report)
    fig = sub.add_parser("figures", help="Figs. 1-2 of the paper as PDF and PNG",
                         description="M_z/M and M_p/M from (44)-(45) against lambda0 omega0 t for "
                         "several a = lambdabar0/lambda0 (derivations/figures.py).")
    fig.add_argument("-o", "--output", default="generated/report/figures", metavar="DIR")
    fig.set_defaults(func=cmd_figures)
    cmp = sub.add_parser("compare", help="exact quantum dynamics against the derived equations",
                         description="Solve the Liouville-von Neumann equation for a few spins 1/2 "
                         "with the self-consistent Hamiltonian of the model and print the deviation "
                         "of each derived equation's M(t) (generated modules in --folder).")
    cmp.add_argument("model", choices=("llg_rsi", "llg_rsi_extra", "spin_spin"))
    cmp.add_argument("--lambdabar46", type=float, default=0.2, help="llg_rsi_extra: extra field (46)")
    cmp.add_argument("--lambdabar49", type=float, default=0.1, help="llg_rsi_extra: extra torque (49)")
    cmp.add_argument("--spins", type=int, default=3, metavar="N")
    cmp.add_argument("--lambda", dest="lam", type=float, default=0.15, help="spin_spin only: the coupling")
    cmp.add_argument("--hz", type=float, default=1.0, help="spin_spin only: the field H_z")
    cmp.add_argument("--folder", default=None, help="generated modules (default generated/rhs)")
    cmp.add_argument("--plot", metavar="FILE", help="deviation against time, as PNG or PDF")
    cmp.set_defaults(func=cmd_compare)
    r = sub.add_parser(
        "reduce",
        help="canonical form of an operator polynomial",
        description="Parse EXPRESSION with a restricted grammar (no eval): M0x, Sy[i], "
        "numbers, I, hbar, gamma, N, the names in --symbols, + - * / **, [A, B], {A, B}.",
    )
    r.add_argument("expression")
    r.add_argument("--symbols", help="comma-separated c-number names, e.g. 'lam,alpha'")
    r.add_argument("--latex", action="store_true")
    r.set_defaults(func=cmd_reduce)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except SymmagInputError as exc:
        print(f"symmag: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
