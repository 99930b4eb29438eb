"""Command line: ``symmag check``, ``mutate``, ``report``, ``figures``, ``codegen``, ``simulate``,
``compare``, ``reduce``.

Exit codes: 0 nothing failed, 1 a step failed or is a mismatch (``check``, ``report``; with
``--strict`` also an unchecked step) or a mutant survived (``mutate``), 2 bad usage or input
(one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .derivation import GATE_FAILURES, METHODS, STATUSES, gate, summarize
from .errors import SymmagInputError
from .runner import STEP_TIMEOUT, discover, run_records

MAX_EVALUATIONS = 2_000_000  # symmag.simulate.MAX_EVALUATIONS (not imported: it pulls in NumPy)
#: compare works in the full tensor-product space; beyond this a run takes minutes silently
MAX_COMPARE_SPINS = 6

__all__ = ["build_parser", "discover", "main", "run_records"]

CHECK_HELP = """\
Run derivations and check every step.  With no PATH, runs every module of the
installed `derivations` package.  A PATH is a Python file defining DERIVATION
or DERIVATIONS; it is imported and executed, so give only trusted code.

Exit status 0 only when every derived claim holds and every difference from a
printed form is a recorded erratum (a reason and the pinned residual); 1 when a
step failed or is a mismatch (a difference with no erratum, or another residual
than the pinned one), and with --strict when a step is unchecked; 2 bad input.

Methods: """ + "; ".join(f"{k}: {v}" for k, v in METHODS.items())


#: characters of a detail shown in the terminal; ``--json`` has it whole
DETAIL_CHARS = 400


def _clip(text: str, limit: int = DETAIL_CHARS) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + " ... (--json has it whole)"


def _table(records: Sequence[dict], strict: bool = False) -> str:
    rows = [("id", "eq.", "status", "method", "time/s")]
    rows += [(r["id"], r["equation"] or "-", r["status"], r["method"], f"{r['seconds']:.3f}")
             for r in records]
    widths = [max(len(row[c]) for row in rows) for c in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for r in records:
        if r["status"] in ("failed", "mismatch", "erratum") or (strict and r["status"] == "unchecked"):
            eq = f" ({r['equation']})" if r["equation"] else ""
            lines.append(f"{r['status']}: {r['id']}{eq}: {_clip(r['detail'])}")
    removable = ("needed", "not needed", "not applied")
    for r in records:
        rows = [n for n in r.get("necessity", ()) if n["verdict"] in removable]
        if rows:
            lines.append(f"assumptions: {r['id']}: " + "; ".join(f"{n['key']} {n['verdict']}" for n in rows))
    s = summarize(records)
    lines.append(", ".join(f"{s[k]} {k}" for k in STATUSES) + f" ({s['total']} steps, {s['seconds']:.2f} s)")
    bad = GATE_FAILURES + (("unchecked",) if strict else ())
    gated = [r["id"] for r in records if r["status"] in bad]
    if gated:
        lines.append(f"gate: FAILED by {len(gated)} step(s): {', '.join(gated)}")
    return "\n".join(lines)


def _timeout(value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise SymmagInputError(f"--step-timeout must be a positive number of seconds, got {value}")
    return value


def cmd_check(args) -> int:
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise SymmagInputError(f"--jobs must be at least 1, got {jobs}")
    records = run_records(discover(args.paths), jobs, latex=args.json, necessity=args.assumptions,
                          step_timeout=_timeout(args.step_timeout))
    if args.json:
        print(json.dumps({"results": records, "summary": summarize(records)}, indent=1))
    else:
        print(_table(records, args.strict))
    return gate(records, args.strict)


def cmd_mutate(args) -> int:
    from . import mutation

    return mutation.run(args)


def cmd_codegen(args) -> int:
    from .codegen import generate

    backends = ("numpy", "numba") if args.backend == "all" else (args.backend,)
    models = importlib.import_module("derivations.models").MODELS
    names = args.models or sorted(models)
    unknown = [n for n in names if n not in models]
    if unknown:
        raise SymmagInputError(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(sorted(models))}")
    _folder(args.output)
    # one generation: every model's modules are swapped into the folder together
    for path in generate([models[name]() for name in names], args.output, backends):
        print(path)
    return 0


def cmd_simulate(args) -> int:
    import numpy as np

    from .simulate import load_model, parse_assignments, save, simulate, validate_request

    module = load_model(args.model, args.folder, allow_edited=args.allow_edited)
    try:
        y0 = np.array([float(v) for v in args.y0.split(",")])
    except ValueError as exc:
        raise SymmagInputError(f"--y0 takes comma-separated numbers, got {args.y0!r}") from exc
    params = parse_assignments(args.param)
    # before anything is allocated: finite numbers, an increasing span, tolerances, memory
    validate_request(module, y0, (0.0, args.t_end), params, points=args.points, ensemble=args.ensemble,
                     method=args.method, rtol=args.rtol, atol=args.atol)
    if not (math.isfinite(args.max_evaluations) and args.max_evaluations >= 1):
        raise SymmagInputError(f"--max-evaluations must be at least 1, got {args.max_evaluations}")
    if args.max_seconds is not None and not (math.isfinite(args.max_seconds) and args.max_seconds > 0):
        raise SymmagInputError(f"--max-seconds must be a positive number, got {args.max_seconds}")
    if args.ensemble > 1:
        y0 = np.tile(y0[:, None], (1, args.ensemble))
    sim = simulate(module, y0, (0.0, args.t_end), params, t_eval=np.linspace(0.0, args.t_end, args.points),
                   method=args.method, rtol=args.rtol, atol=args.atol, progress=args.progress,
                   max_evaluations=args.max_evaluations, max_seconds=args.max_seconds)
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
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise SymmagInputError(f"-o {args.output}: exists and is not a folder")
    try:
        paths = importlib.import_module("derivations.figures").draw(_folder(args.output))
    except OSError as exc:
        raise SymmagInputError(f"cannot write the figures into {args.output}: {exc.strerror or exc}") from exc
    for path in paths:
        print(path)
    return 0


def cmd_report(args) -> int:
    import time

    from . import atomic
    from .report import compile_pdf, render, sections

    start = time.perf_counter()
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise SymmagInputError(f"--jobs must be at least 1, got {jobs}")
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise SymmagInputError(f"-o {args.output}: exists and is not a folder")
    _folder(str(out.parent) if str(out.parent) else ".")
    derivations = discover(args.paths)
    records = run_records(derivations, jobs, latex=True, necessity=not args.no_assumptions,
                          step_timeout=_timeout(args.step_timeout))
    # one generation: the .tex, its figures and the PDF are swapped in together, so a crash
    # or a LaTeX error leaves the previous complete report
    try:
        with atomic.generation(out) as stage:
            figures = [] if args.paths else _figures(stage / "figures")
            tex = stage / "symmag-report.tex"
            atomic.write_text(tex, render(sections(derivations, records), figures))
            if args.pdf:
                # latexmk and pdflatex open their outputs for writing in place: unlink the
                # hard-linked copies first, so the live report's files are never touched
                for leftover in stage.glob("symmag-report.*"):
                    if leftover.suffix != ".tex":
                        leftover.unlink()
                compile_pdf(tex)
            # timings stay out of the .tex (byte-identical reruns): they go to a file of their own
            atomic.write_text(stage / "timings.txt", f"symmag report{' --pdf' if args.pdf else ''}: "
                                                     f"{time.perf_counter() - start:.1f} s\n")
    except OSError as exc:
        raise SymmagInputError(f"cannot write the report into {args.output}: {exc.strerror or exc}") from exc
    print(out / "symmag-report.tex")
    if args.pdf:
        print(out / "symmag-report.pdf")
    return gate(records)


def cmd_compare(args) -> int:
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


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as one line (and exit 2), like every other error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="symmag", description="Machine-checked magnetization dynamics.",
                epilog="Trusted code: `check`, `report` and `mutate` import and execute the module "
                "files given as PATH; `simulate` and `compare` execute the generated model modules "
                "they load. Everything else parses its input without evaluating it.")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks of unexpected errors")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    c = sub.add_parser("check", help="run and check derivations", description=CHECK_HELP)
    c.add_argument("paths", nargs="*", metavar="PATH", help="derivation module files (trusted code)")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="worker processes, one derivation at a time each (default: CPU count)")
    c.add_argument("--strict", action="store_true", help="an unchecked step also makes the exit status 1")
    c.add_argument("--step-timeout", type=float, default=STEP_TIMEOUT, metavar="SECONDS",
                   help=f"a step still running after this is stopped and failed (default {STEP_TIMEOUT:g})")
    c.add_argument("--assumptions", action="store_true",
                   help="re-check every claim without each removable assumption it declares and "
                   "say for each one 'needed' or 'not needed'")
    c.set_defaults(func=cmd_check)
    mu = sub.add_parser("mutate", help="mutation testing: do the checks notice a changed derivation?",
                        description="Rewrite the derivation code (AST mutants of function bodies; never "
                        "the printed tables or pinned errata), run each mutant's affected steps in a "
                        "fresh process and report killed / survived / timed out. Exit 1 when a "
                        "survivor is not on the recorded list of equivalent mutants. PATHs are "
                        "imported and executed: trusted code only.")
    from . import mutation  # argument definitions only: light to import

    mutation.add_arguments(mu)
    mu.set_defaults(func=cmd_mutate)
    g = sub.add_parser("codegen", help="write numeric right-hand-side modules",
                       description="Render NumPy modules (STATE, PARAMETERS, rhs, jacobian) from the "
                       "derived equations of derivations/models.py.")
    g.add_argument("models", nargs="*", metavar="MODEL", help="model names (default: all)")
    g.add_argument("-o", "--output", default="generated/rhs", help="output folder")
    g.add_argument("--backend", default="numpy", choices=("numpy", "numba", "all"))
    g.set_defaults(func=cmd_codegen)
    m = sub.add_parser("simulate", help="integrate a generated model with SciPy",
                       description="Integrate a module written by `symmag codegen` from t = 0 to "
                       "--t-end and write .npz or .csv. Numbers only on the command line. MODEL (or "
                       "any .py in --folder) is executed as Python: give only trusted modules; a "
                       "module edited by hand is refused unless --allow-edited.")
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
    m.add_argument("--allow-edited", action="store_true",
                   help="load a generated module whose body no longer matches its header (warns)")
    m.add_argument("--max-evaluations", type=int, default=MAX_EVALUATIONS, metavar="N",
                   help=f"stop after N right-hand-side evaluations (default {MAX_EVALUATIONS:,})")
    m.add_argument("--max-seconds", type=float, default=None, metavar="S", help="stop after S s of wall time")
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
    rep.add_argument("--step-timeout", type=float, default=STEP_TIMEOUT, metavar="SECONDS")
    rep.add_argument("--no-assumptions", action="store_true",
                     help="skip re-checking each claim without its removable assumptions")
    rep.set_defaults(func=cmd_report)
    fig = sub.add_parser("figures", help="Figs. 1-2 of the paper as PDF and PNG",
                         description="M_z/M and M_p/M from (44)-(45) against lambda0 omega0 t for "
                         "several a = lambdabar0/lambda0 (derivations/figures.py).")
    fig.add_argument("-o", "--output", default="generated/report/figures", metavar="DIR")
    fig.set_defaults(func=cmd_figures)
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
    cmp.add_argument("--folder", default=None, help="generated modules (default generated/rhs)")
    cmp.add_argument("--plot", metavar="FILE", help="deviation against time, as PNG or PDF")
    cmp.set_defaults(func=cmd_compare)
    r = sub.add_parser(
        "reduce",
        help="canonical form of an operator polynomial",
        description="Parse EXPRESSION with a restricted grammar (no eval): M0x, Sy[i], "
        "numbers, I, hbar, gamma, N, the names in --symbols, + - * / **, [A, B], {A, B}. "
        "Bounded (symmag.parsing.MAX_*): input length, nesting, digits, powers and 2 s of CPU; "
        "--symbols refuses the grammar's own names (gamma, hbar, I, N, M0x, ...). An expression "
        "that starts with '-' goes after '--': symmag reduce -- '-M0x'.",
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
        print(f"symmag: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("symmag: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or an input nobody foresaw: one line, the traceback on --debug
        if args.debug:
            raise
        print(f"symmag: error: unexpected {type(exc).__name__}: {_one_line(str(exc))} "
              "(rerun with `symmag --debug ...` for the traceback)", file=sys.stderr)
        return 2


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + " ..."


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
