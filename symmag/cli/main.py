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

from ..checking.statuses import GATE_FAILURES, METHODS, STATUSES, gate, summarize_records
from ..errors import SymmagInputError
from ..progress import Progress

#: where `symmag simulate` writes without -o (refused when it exists)
DEFAULT_SIMULATION = "simulation.npz"

# SymPy and the derivations are imported only when a step has to run: a rerun served from the
# cache (symmag.checking.cache) imports neither.
STEP_TIMEOUT = 300.0  # symmag.checking.runner.STEP_TIMEOUT (a test checks they agree)
MAX_EVALUATIONS = 2_000_000  # symmag.numeric.simulate.MAX_EVALUATIONS (not imported: it pulls in NumPy)
#: compare works in the full tensor-product space; beyond this a run takes minutes silently

__all__ = ["build_parser", "main"]

CHECK_HELP = """\
Run derivations and check every step.  With no PATH, runs every module of the
installed `derivations` package.  A PATH is a Python file defining DERIVATION
or DERIVATIONS; it is imported and executed, so give only trusted code.

Exit status 0 only when every derived claim holds and every difference from a
printed form is a recorded erratum (a reason and the pinned residual); 1 when a
step failed or is a mismatch (a difference with no erratum, or another residual
than the pinned one), and with --strict when a step is unchecked; 2 bad input.

Methods: """ + "; ".join(f"{k}: {v}" for k, v in METHODS.items())


#: the longest line of the default table (the issue's bound is 200)
LINE_CHARS = 160


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _why(r: dict) -> str:
    """The short text of a table line: what the step shows, or why it is not verified."""
    if r["status"] in ("verified", "definition"):
        return r.get("statement") or ""
    if r["status"] == "erratum":
        return r.get("reason") or r["detail"]
    return r["detail"] or r.get("reason") or ""


def _table(records: Sequence[dict], strict: bool = False, verbose: bool = False,
           wall: float | None = None, cached: int = 0) -> str:
    """One line per step (status, id, equation, a short reason), a summary and the gate;
    ``verbose`` adds each step's detail, residual (plain text) and time."""
    id_w = min(28, max((len(r["id"]) for r in records), default=2))
    eq_w = min(8, max((len(r["equation"] or "") + 2 for r in records), default=3))
    lines = []
    for r in records:
        eq = f"({r['equation']})" if r["equation"] else ""
        head = f"{r['status']:<10} {r['id']:<{id_w}} {eq:<{eq_w}} "
        lines.append((head + _clip(_why(r), max(20, LINE_CHARS - len(head)))).rstrip())
        if verbose:
            lines.append(f"    {r['method']}, {r['seconds']:.3f} s: {' '.join(r['detail'].split())}")
            if r.get("residual_display") and r["status"] != "verified":
                lines.append(f"    residual (printed - derived): {r['residual_display']}")
    removable = ("needed", "not needed", "not applied")
    for r in records:
        rows = [n for n in r.get("necessity", ()) if n["verdict"] in removable]
        if rows:
            text = f"assumptions: {r['id']}: " + "; ".join(f"{n['key']} {n['verdict']}" for n in rows)
            lines.append(text if verbose else _clip(text, LINE_CHARS))
    s = summarize_records(records)
    timing = f"{wall:.1f} s wall" if wall is not None else f"{s['seconds']:.2f} s"
    if cached:
        timing += f", {cached} from the cache"
    lines.append(", ".join(f"{s[k]} {k}" for k in STATUSES) + f" ({s['total']} steps, {timing})")
    if not verbose and any(r["status"] in ("mismatch", "failed") for r in records):
        lines.append("(symmag check -v: each step's detail and residual, and for a mismatch the "
                     "Erratum(reason, residual=...) that would pin it)")
    bad = GATE_FAILURES + (("unchecked",) if strict else ())
    gated = [r["id"] for r in records if r["status"] in bad]
    if gated:
        lines.append(_clip(f"gate: FAILED by {len(gated)} step(s): {', '.join(gated)}", 400))
    return "\n".join(lines)


def _timeout(value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise SymmagInputError(f"--step-timeout must be a positive number of seconds, got {value}")
    return value


def _jobs(args) -> int:
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise SymmagInputError(f"--jobs must be at least 1, got {jobs}")
    return jobs


def _options(latex: bool, necessity: bool, step_timeout: float) -> dict:
    """What changes a record: part of its cache key and what the runner is given."""
    return {"latex": latex, "necessity": necessity, "step_timeout": step_timeout}


def _run(paths: Sequence[str], jobs: int, options: dict, plan, progress: Progress,
         want_derivations: bool = False) -> tuple[list, list, int]:
    """(records, derivations, how many records came from the cache).  With a ``plan``
    (:func:`symmag.checking.cache.plan`; None: no cache) modules whose key is stored are served from
    it and the others are imported and run.  ``want_derivations`` imports every module even
    when all are cached (the report needs them)."""
    latex, necessity, step_timeout = options["latex"], options["necessity"], options["step_timeout"]
    if plan is None:
        from ..checking.runner import discover, run_records

        derivations = discover(paths)
        records = run_records(derivations, jobs, latex=latex, necessity=necessity,
                              step_timeout=step_timeout, progress=progress.update)
        return records, derivations, 0
    if not plan.misses and not want_derivations:
        records = [r for k in plan.keys for r in plan.hits[k.path]]
        _unique_ids(records)
        return records, [], len(records)
    from ..checking.runner import discover, run_records

    per_module = {k.path: discover([str(k.path)]) for k in plan.keys
                  if want_derivations or k.path not in plan.hits}
    todo = [d for k in plan.misses for d in per_module[k.path]]
    cached = sum(len(r) for r in plan.hits.values())
    fresh = run_records(todo, jobs, latex=latex, necessity=necessity, step_timeout=step_timeout,
                        progress=lambda done, total: progress.update(cached + done, cached + total))
    records, at = [], 0
    for k in plan.keys:
        if k.path in plan.hits:
            records += plan.hits[k.path]
            continue
        ids = [st.id for d in per_module[k.path] for st in d.steps]
        mine = fresh[at:at + len(ids)]
        at += len(ids)
        if [r["id"] for r in mine] == ids:  # one record per step, in order: safe to store
            plan.store.save(k, mine)
        records += mine
    _unique_ids(records)
    return records, [d for k in plan.keys for d in per_module.get(k.path, [])], cached


def _unique_ids(records: Sequence[dict]) -> None:
    seen: dict[str, str] = {}
    for r in records:
        if r["id"] in seen and seen[r["id"]] != r["derivation"]:
            raise SymmagInputError(f"step id {r['id']!r} appears in {seen[r['id']]} and {r['derivation']}")
        seen[r["id"]] = r["derivation"]


def cmd_check(args) -> int:
    import time

    from ..checking import cache

    start = time.perf_counter()
    options = _options(args.json or args.verbose, args.assumptions, _timeout(args.step_timeout))
    plan = cache.plan(args.paths, options) if not args.no_cache else None
    with Progress("check", quiet=args.quiet) as progress:
        records, _, cached = _run(args.paths, _jobs(args), options, plan, progress)
    wall = time.perf_counter() - start
    if args.json:
        summary = {**summarize_records(records), "wall_seconds": round(wall, 3), "cached": cached}
        print(json.dumps({"results": records, "summary": summary}, indent=1))
    else:
        print(_table(records, args.strict, args.verbose, wall, cached))
    return gate(records, args.strict)


def cmd_new(args) -> int:
    """Write a commented starting module NAME.py that passes ``symmag check`` as written."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from .. import atomic

    path = Path(args.name if args.name.endswith(".py") else f"{args.name}.py")
    name = path.stem
    if not name.isidentifier():
        raise SymmagInputError(f"a module name is a Python identifier (letters, digits, _), got {name!r}")
    if path.exists() and not args.force:
        raise SymmagInputError(f"{path} exists; choose another name or pass --force to overwrite it")
    if any(c in args.title for c in '"\\\n'):
        raise SymmagInputError("--title: no quotes, backslashes or line breaks")
    env = Environment(loader=PackageLoader("symmag", "templates"), undefined=StrictUndefined,
                      keep_trailing_newline=True)
    text = env.get_template("new_derivation.py.j2").render(
        name=name, filename=path.name, title=args.title or name.replace("_", " ").capitalize())
    try:
        atomic.write_text(path, text)
    except OSError as exc:
        raise SymmagInputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    print(path)
    return 0


def cmd_mutate(args) -> int:
    from ..checking import mutation

    return mutation.run(args)


def cmd_codegen(args) -> int:
    from ..numeric.codegen import generate

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

    from ..numeric.simulate import load_model, parse_assignments, save, simulate, validate_request

    module = load_model(args.model, args.folder, allow_edited=args.allow_edited)
    try:
        y0 = np.array([float(v) for v in args.y0.split(",")])
    except ValueError as exc:
        raise SymmagInputError(f"--y0 takes comma-separated numbers, got {args.y0!r}") from exc
    params = parse_assignments(args.param)
    # before anything is allocated: finite numbers, an increasing span, tolerances, memory
    validate_request(module, y0, (0.0, args.t_end), params, points=args.points, ensemble=args.ensemble,
                     method=args.method, rtol=args.rtol, atol=args.atol, integrator=args.integrator,
                     step=args.step, temperature=args.temperature, seed=args.seed, ms=args.ms,
                     volume=args.volume)
    if not (math.isfinite(args.max_evaluations) and args.max_evaluations >= 1):
        raise SymmagInputError(f"--max-evaluations must be at least 1, got {args.max_evaluations}")
    if args.max_seconds is not None and not (math.isfinite(args.max_seconds) and args.max_seconds > 0):
        raise SymmagInputError(f"--max-seconds must be a positive number, got {args.max_seconds}")
    if args.output is None and Path(DEFAULT_SIMULATION).exists():
        # a default is never written over: only a file the user named is replaced
        raise SymmagInputError(f"{DEFAULT_SIMULATION} exists here and no -o was given: name the output "
                               "with -o FILE.npz or FILE.csv (a file given with -o is replaced)")
    if args.ensemble > 1:
        y0 = np.tile(y0[:, None], (1, args.ensemble))
    sim = simulate(module, y0, (0.0, args.t_end), params, t_eval=np.linspace(0.0, args.t_end, args.points),
                   method=args.method, rtol=args.rtol, atol=args.atol, progress=args.progress,
                   max_evaluations=args.max_evaluations, max_seconds=args.max_seconds,
                   integrator=args.integrator, step=args.step, project=args.project, parallel=args.parallel,
                   temperature=args.temperature, seed=args.seed, ms=args.ms, volume=args.volume)
    if not sim.success:
        raise SymmagInputError(f"integration failed: {sim.message}")
    output = args.output if args.output is not None else DEFAULT_SIMULATION
    try:
        print(save(sim, output))
    except OSError as exc:
        raise SymmagInputError(f"cannot write {output}: {exc.strerror or exc}") from exc
    if args.output is None:
        print(f"(no -o given: wrote {Path(output).resolve()})", file=sys.stderr)
    return 0


def _figures(outdir: Path) -> list:
    """Figs. 1-2 (derivations/figures.py) into ``outdir``; their Figure records."""
    from ..output.report import Figure

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


def without_timings(record: dict) -> dict:
    """A check record without its seconds (the step's and each re-check's): what a rerun
    reproduces byte for byte."""
    out = {k: v for k, v in record.items() if k != "seconds"}
    if "necessity" in out:
        out["necessity"] = [{k: v for k, v in n.items() if k != "seconds"} for n in out["necessity"]]
    return out


def cmd_report(args) -> int:
    import time

    from .. import atomic
    from ..output.report import compile_pdf, render, sections

    start = time.perf_counter()
    jobs = _jobs(args)
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise SymmagInputError(f"-o {args.output}: exists and is not a folder")
    _folder(str(out.parent) if str(out.parent) else ".")
    from ..checking import cache

    options = _options(True, not args.no_assumptions, _timeout(args.step_timeout))
    plan = cache.plan(args.paths, options) if not args.no_cache else None
    figures_code = [] if args.paths else [f for f in [cache.figures_file()] if f is not None]
    key = cache.report_key(plan, {**options, "pdf": args.pdf, "paper": not args.paths},
                           figures_code) if plan is not None else None
    if key is not None and not plan.misses and out.is_dir() and cache.report_is_current(out, key):
        # nothing it is made from changed, and nobody touched its files: it is up to date
        print(out / "symmag-report.tex")
        if args.pdf:
            print(out / "symmag-report.pdf")
        print(f"(up to date: {args.output} was built from these very inputs; --no-cache rebuilds it)",
              file=sys.stderr)
        return gate([r for k in plan.keys for r in plan.hits[k.path]])
    with Progress("report", quiet=args.quiet) as progress:
        records, derivations, _ = _run(args.paths, jobs, options, plan, progress, want_derivations=True)
        # one generation: the .tex, its figures and the PDF are swapped in together, so a crash
        # or a LaTeX error leaves the previous complete report
        try:
            with atomic.generation(out) as stage:
                progress.stage("figures")
                figures = [] if args.paths else _figures(stage / "figures")
                progress.stage("LaTeX")
                tex = stage / "symmag-report.tex"
                atomic.write_text(tex, render(sections(derivations, records), figures))
                if args.pdf:
                    # latexmk and pdflatex open their outputs for writing in place: unlink the
                    # hard-linked copies first, so the live report's files are never touched
                    for leftover in stage.glob("symmag-report.*"):
                        if leftover.suffix != ".tex":
                            leftover.unlink()
                    progress.stage("pdflatex")
                    compile_pdf(tex)
                # the records the report shows, as `check --json` gives them (without the per-step
                # seconds, so that a rerun is byte-identical): for scripts and tests.  After the
                # PDF: the step above clears the stage of every other symmag-report.* file
                atomic.write_text(stage / "symmag-report.json", json.dumps(
                    {"results": [without_timings(r) for r in records],
                     "summary": without_timings(summarize_records(records))}, indent=1) + "\n")
                # timings stay out of the .tex (byte-identical reruns): they go to a file of their own
                atomic.write_text(stage / "timings.txt", f"symmag report{' --pdf' if args.pdf else ''}: "
                                                         f"{time.perf_counter() - start:.1f} s\n")
                if key is not None:  # a rerun is skipped only when every module is then a hit
                    cache.write_stamp(stage, key)
        except OSError as exc:
            raise SymmagInputError(f"cannot write the report into {args.output}: "
                                   f"{exc.strerror or exc}") from exc
    print(out / "symmag-report.tex")
    if args.pdf:
        print(out / "symmag-report.pdf")
    return gate(records)


def cmd_reduce(args) -> int:
    import sympy as sp

    from ..algebra.operators import parse_operator

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


def _cache_and_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-cache", action="store_true",
                   help="run every step, neither reading nor writing the result cache "
                   "(also SYMMAG_NO_CACHE=1; the cache is in $SYMMAG_CACHE_DIR, else "
                   "$XDG_CACHE_HOME/symmag or ~/.cache/symmag)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress line on stderr")


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
    c.add_argument("-v", "--verbose", action="store_true",
                   help="add each step's detail, its residual as plain text, and its time")
    _cache_and_quiet(c)
    c.set_defaults(func=cmd_check)
    nw = sub.add_parser("new", help="write a commented starting derivation module NAME.py",
                        description="Write NAME.py: metadata, a printed table, a definition, claims "
                        "built from the algebra and a Derived result with its check; it passes "
                        "`symmag check NAME.py` as written. docs/tutorial.md goes further.")
    nw.add_argument("name", metavar="NAME", help="module name (NAME or NAME.py, a Python identifier)")
    nw.add_argument("--title", default="", help="the derivation's title (default: from NAME)")
    nw.add_argument("--force", action="store_true", help="overwrite an existing file")
    nw.set_defaults(func=cmd_new)
    mu = sub.add_parser("mutate", help="mutation testing: do the checks notice a changed derivation?",
                        description="Rewrite the derivation code (AST mutants of function bodies; never "
                        "the printed tables or pinned errata), run each mutant's affected steps in a "
                        "fresh process and report killed / survived / timed out. Exit 1 when a "
                        "survivor is not on the recorded list of equivalent mutants. PATHs are "
                        "imported and executed: trusted code only.")
    from ..checking import mutation  # argument definitions only: light to import

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
    m.add_argument("model", help="model name (shipped with symmag, or in --folder) or path to a "
                   "generated module (FILE.py)")
    m.add_argument("--y0", required=True, help="initial state, comma-separated")
    m.add_argument("--param", action="append", default=[], metavar="NAME=NUMBER")
    m.add_argument("--t-end", type=float, required=True)
    m.add_argument("--points", type=int, default=201)
    m.add_argument("--ensemble", type=int, default=1, metavar="K", help="K copies of y0")
    m.add_argument("--method", default=None, help="solve_ivp's method (default DOP853)")
    m.add_argument("--integrator", default="solve_ivp",
                   choices=("solve_ivp", "dp54", "dop853", "rk4", "heun"),  # simulate.INTEGRATORS
                   help="solve_ivp (one ODE for the whole ensemble) or every system on its own: dp54 "
                   "or dop853 (adaptive, per-system steps; dop853 takes fewer at tight --rtol), rk4 "
                   "(fixed --step) or heun (the stochastic LLG at "
                   "--temperature, fixed --step); MODEL_numba has compiled kernels")
    m.add_argument("--step", type=float, default=None, metavar="H", help="rk4's and heun's step")
    m.add_argument("--temperature", type=float, default=None, metavar="T",
                   help="heun: the temperature of the Brown thermal field; kelvin with --ms and --volume "
                   "(SI), else reduced: k_B T/(mu0 M_s V) in the unit of the fields")
    m.add_argument("--seed", type=int, default=None, metavar="N",
                   help="heun: the seed of the random numbers, a whole number in [0, 2^64) (default 0)")
    m.add_argument("--ms", type=float, default=None, metavar="A_PER_M", help="heun, SI: saturation M_s (A/m)")
    m.add_argument("--volume", type=float, default=None, metavar="M3",
                   help="heun, SI: particle volume V (m^3)")
    m.add_argument("--project", action="store_true",
                   help="dp54/dop853/rk4/heun: scale |M| back to |M(0)| after each step")
    m.add_argument("--parallel", action="store_true",
                   help="dp54/dop853/rk4/heun: the systems over numba's threads")
    m.add_argument("--rtol", type=float, default=1e-9)
    m.add_argument("--atol", type=float, default=1e-12)
    m.add_argument("--folder", default=None, metavar="DIR",
                   help="find MODEL as DIR/MODEL.py (default: the models shipped with symmag)")
    m.add_argument("--progress", action="store_true", help="report progress on stderr")
    m.add_argument("--allow-edited", action="store_true",
                   help="load a generated module whose body no longer matches its header (warns)")
    m.add_argument("--max-evaluations", type=int, default=MAX_EVALUATIONS, metavar="N",
                   help=f"stop after N right-hand-side evaluations (default {MAX_EVALUATIONS:,})")
    m.add_argument("--max-seconds", type=float, default=None, metavar="S", help="stop after S s of wall time")
    m.add_argument("-o", "--output", default=None, metavar="FILE",
                   help=f".npz or .csv, with the record of the run (default {DEFAULT_SIMULATION}, never "
                   "written over; a file given here is replaced)")
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
    _cache_and_quiet(rep)
    rep.set_defaults(func=cmd_report)
    fig = sub.add_parser("figures", help="Figs. 1-2 of the paper as PDF and PNG",
                         description="M_z/M and M_p/M from (44)-(45) against lambda0 omega0 t for "
                         "several a = lambdabar0/lambda0 (derivations/figures.py).")
    fig.add_argument("-o", "--output", default="generated/report/figures", metavar="DIR")
    fig.set_defaults(func=cmd_figures)
    from . import compare as compare_cli
    from . import sweep as sweep_cli  # argument definitions only: light to import

    compare_cli.add_parser(sub)
    sweep_cli.add_parser(sub)
    r = sub.add_parser(
        "reduce",
        help="canonical form of an operator polynomial",
        description="Parse EXPRESSION with a restricted grammar (no eval): M0x, Sy[i], "
        "numbers, I, hbar, gamma, N, the names in --symbols, + - * / **, [A, B], {A, B}. "
        "Bounded (symmag.algebra.parsing.MAX_*): input length, nesting, digits, powers and 2 s of CPU; "
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
