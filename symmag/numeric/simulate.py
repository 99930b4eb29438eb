"""Integrate generated right-hand-side modules with SciPy.

``simulate(module, y0, t_span, params)`` wraps ``scipy.integrate.solve_ivp``: y0 is one
system (n,) or an ensemble (n, K); every parameter is a scalar, an array of shape (K,),
or a callable of t (a field H(t), evaluated anew at each call).  Implicit methods get the
generated Jacobian: block-sparse for an ensemble.

Every request is checked before anything is allocated or integrated
(:func:`validate_request`, which the CLI calls too): finite numbers, an increasing time span,
tolerances in range, a memory bound (``MAX_BYTES``) and a span the integration can cover
(``MAX_TIME_SCALES``); during the integration a budget of right-hand-side evaluations (and
optionally of seconds) stops it with "step budget exhausted".  :func:`load_model` executes
the module it loads (trusted code) and refuses one whose body was edited by hand.

Where a model comes from (:func:`load_model`, so ``symmag simulate`` and ``symmag compare``),
in this order, never depending on the working directory:

1. a path ending in ``.py`` is that file (relative to the working directory, as given);
2. a model name with an explicit ``folder`` is ``folder/NAME.py``;
3. a model name alone is one of the paper's models shipped with symmag
   (:func:`shipped_folder`): ``symmag/generated_rhs/`` inside an installed wheel -- the
   build maps the checkout's ``generated/rhs`` there (pyproject.toml ``package-dir``) -- or,
   when symmag is imported from its checkout (source tree, editable install), the
   checkout's ``generated/rhs`` itself.  ``symmag codegen`` writes only ``generated/rhs``;
   the wheel carries a copy of what it wrote, checked at load time like any module.

An unknown name is one error listing the known names.  Trusted code: the shipped folder
(part of the installed package, as trusted as symmag itself) and the file or folder the
caller names; nothing is ever loaded from the working directory unasked.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import hashlib
import inspect
import itertools
import json
import math
import numbers
import platform
import re
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np
from scipy.integrate import solve_ivp

from .. import atomic
from ..errors import SymmagInputError

METHODS = ("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA")
#: "solve_ivp": SciPy on the flattened ensemble (one step size for all); "dp54", "dop853", "rk4":
#: every system on its own (symmag.numeric.integrators: the module's generated numba kernels, else NumPy);
#: "heun": the stochastic LLG at a temperature (symmag.numeric.thermal), fixed step
INTEGRATORS = ("solve_ivp", "dp54", "dop853", "rk4", "heun")
FIXED_STEP = ("rk4", "heun")
#: the per-system integrators with an embedded error estimate and their own step control
ADAPTIVE = ("dp54", "dop853")
#: most steps (accepted and rejected) one system may take in dp54, dop853 or rk4
MAX_STEPS = 100_000
IMPLICIT = {"BDF", "Radau", "LSODA"}
#: largest memory a request may need (the stored solution and the solver's work arrays)
MAX_BYTES = 2 * 2**30
#: float64 state-sized arrays a solver keeps besides the stored points (DOP853's stages,
#: BDF's differences and Jacobian blocks), used to estimate a request's memory
_SOLVER_ARRAYS = 40
#: the same for the per-system integrators (the state, the NumPy fallback's stages)
_KERNEL_ARRAYS = 12
#: right-hand-side evaluations after which an integration stops ("step budget exhausted")
MAX_EVALUATIONS = 2_000_000
#: longest span, in units of the model's time scale at y0 (|y0| / |dy/dt|), that is integrated
MAX_TIME_SCALES = 1e9
#: the default number of stored points
POINTS = 201


@dataclass(frozen=True)
class Simulation:
    t: np.ndarray  # (T,)
    y: np.ndarray  # (n, T) for one system, (n, K, T) for an ensemble
    state: tuple[str, ...]
    success: bool
    message: str
    integrator: str = "solve_ivp"
    #: max over systems and stored times of | |y_g(t)|/|y_g(t0)| - 1 | for the norms the
    #: model conserves (module.NORMS: |M| for the LLG models); None without such a norm
    drift: float | None = None
    #: per system: accepted and rejected steps (dp54, dop853, rk4, heun); None for solve_ivp
    steps: np.ndarray | None = None
    rejected: np.ndarray | None = None
    #: right-hand-side calls solve_ivp made (each on the whole ensemble); None otherwise
    evaluations: int | None = None
    #: how it was made (:func:`run_record`): model and its hashes, parameters, y0, span,
    #: integrator and tolerances, noise, versions -- what :func:`save` writes beside the numbers
    record: dict = field(default_factory=dict, compare=False)
    #: the inputs as arrays, for the .npz: ``y0`` and ``param_NAME`` (parameters given as numbers)
    inputs: dict = field(default_factory=dict, compare=False, repr=False)


def _one_line(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:limit]}"


#: the subpackage of an installed symmag that holds the paper's generated modules
SHIPPED_PACKAGE = "symmag.generated_rhs"


def shipped_folder() -> Path | None:
    """The folder of the paper's generated modules shipped with symmag: ``generated_rhs``
    inside the installed package (a wheel), else the ``generated/rhs`` of the checkout symmag
    is imported from (source tree or editable install); None when neither exists."""
    package = Path(__file__).resolve().parents[1]  # symmag/, above this room
    installed = package / SHIPPED_PACKAGE.rpartition(".")[2]
    if installed.is_dir():
        return installed
    root = package.parent
    checkout = root / "generated" / "rhs"
    if (root / "pyproject.toml").is_file() and checkout.is_dir():
        return checkout
    return None


def known_models(folder: str | Path | None = None) -> list[str]:
    """The model names in ``folder`` (default: the shipped models), sorted."""
    where = shipped_folder() if folder is None else Path(folder)
    if where is None or not where.is_dir():
        return []
    return sorted(p.stem for p in where.glob("*.py") if p.stem.isidentifier() and not p.stem.startswith("_"))


#: most model names an error lists (the line stays within the CLI's 300 characters)
_LISTED = 5


def _listing(known: Sequence[str]) -> str:
    """Model names for one line: a NAME_numba beside its NAME is said once for all."""
    twins = [n for n in known if f"{n}_numba" in known]
    rest = [n for n in known if not (n.endswith("_numba") and n[: -len("_numba")] in twins)]
    every = len(twins) == len(rest)
    if len(rest) > _LISTED:
        rest = [*rest[:_LISTED], f"and {len(rest) - _LISTED} more"]
    if not twins:
        return ", ".join(rest)
    return ", ".join(rest) + (" (each also as NAME_numba)" if every else
                              f" ({', '.join(twins)} also as NAME_numba)")


def _did_you_mean(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def resolve_model(name_or_path: str | Path, folder: str | Path | None = None) -> Path:
    """The file of a model: a path ending in ``.py`` as given, else ``NAME.py`` in
    ``folder`` or, without one, among the shipped models (:func:`shipped_folder`).
    An unknown name is one SymmagInputError listing the known names."""
    path = Path(name_or_path)
    if path.suffix == ".py":
        if path.is_file():
            return path
        why = "it is a folder" if path.is_dir() else "no such file"
        hint = (f"; the shipped model is named {path.stem}, without .py"
                if path.parent == Path() and path.stem in known_models() else "")
        raise SymmagInputError(f"no generated module {path}: {why}{hint}")
    name = str(name_or_path)
    if not name.isidentifier():
        raise SymmagInputError(f"{name!r} is neither a model name nor a path to a .py file")
    if folder is not None:
        folder = Path(folder)
        path = folder / f"{name}.py"
        if path.is_file():
            return path
        known = known_models(folder)
        if not folder.is_dir():
            where = f"{folder} does not exist, so it holds no generated modules"
        elif not known:
            where = f"{folder} holds no generated modules"
        else:
            where = f"known in {folder}: {_listing(known)}"
        raise SymmagInputError(f"no generated model {name!r}{_did_you_mean(name, known)} ({where}); "
                               f"`symmag codegen -o {folder}` writes the paper's models there")
    shipped = shipped_folder()
    if shipped is None:
        raise SymmagInputError(f"no model {name!r}: the models shipped with symmag are missing (neither "
                               f"{Path(__file__).resolve().parents[1] / 'generated_rhs'} nor a checkout's "
                               "generated/rhs); reinstall symmag, or give a module's path or its folder")
    path = shipped / f"{name}.py"
    if path.is_file():
        return path
    known = known_models()
    raise SymmagInputError(f"unknown model {name!r}{_did_you_mean(name, known)}; known models: "
                           f"{_listing(known)}; a module of your own: give its path (FILE.py) or its folder")


def load_model(name_or_path: str | Path, folder: str | Path | None = None, *,
               allow_edited: bool = False) -> ModuleType:
    """A generated module, by model name (in ``folder``, default the models shipped with
    symmag) or by path to a ``.py`` file -- :func:`resolve_model`.

    The file is executed as Python: load only trusted modules.  One whose body does not
    match the sha256 in its header (edited by hand, or not written by ``symmag codegen``) is
    refused, or with ``allow_edited`` loaded after a warning on stderr."""
    path = resolve_model(name_or_path, folder)
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise SymmagInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    from .codegen import verify_body

    problem = verify_body(source)
    if problem is not None:
        if not allow_edited:
            raise SymmagInputError(f"{path}: {problem}; regenerate it with `symmag codegen` "
                                   "(or allow it explicitly)")
        print(f"symmag: warning: {path}: {problem}; loading it anyway", file=sys.stderr)
    # execute the bytes just verified (not the file again, which may have changed since), and
    # write no bytecode cache into the generated folder
    module = ModuleType(f"symmag_generated_{path.stem}")
    module.__file__ = str(path)
    try:
        exec(compile(source, str(path), "exec"), module.__dict__)
    except (Exception, SystemExit) as exc:  # trusted code, but its failure is the user's input
        hint = ("; written by another version of symmag? regenerate it with `symmag codegen`"
                if isinstance(exc, ImportError) else "")
        raise SymmagInputError(f"{path} cannot be loaded: {_one_line(exc)}{hint}") from exc
    for attr in ("STATE", "PARAMETERS", "rhs", "jacobian"):
        if not hasattr(module, attr):
            raise SymmagInputError(f"{path} is not a symmag right-hand-side module (no {attr})")
    if not (isinstance(module.STATE, tuple) and module.STATE and isinstance(module.PARAMETERS, tuple)
            and all(isinstance(x, str) for x in (*module.STATE, *module.PARAMETERS))
            and callable(module.rhs) and callable(module.jacobian)):
        raise SymmagInputError(f"{path} is not a symmag right-hand-side module (STATE, PARAMETERS "
                               "must be tuples of names, rhs and jacobian functions)")
    return module


def _parameters(module: ModuleType, params: Sequence | Mapping) -> list:
    names = module.PARAMETERS
    if isinstance(params, Mapping):
        unknown = set(params) - set(names)
        missing = [n for n in names if n not in params]
        if unknown or missing:
            raise SymmagInputError(f"parameters must be {', '.join(names)}; unknown: "
                                   f"{', '.join(sorted(map(str, unknown))) or '-'}, "
                                   f"missing: {', '.join(missing) or '-'}")
        return [params[n] for n in names]
    if isinstance(params, (str, bytes)) or not isinstance(params, Sequence):
        raise SymmagInputError(f"parameters must be a mapping or a sequence of {len(names)} values "
                               f"({', '.join(names)}), got {type(params).__name__}")
    if len(params) != len(names):
        raise SymmagInputError(f"expected {len(names)} parameters ({', '.join(names)}), got {len(params)}")
    return list(params)


def _real_array(what: str, value) -> np.ndarray:
    """``value`` as a float array of finite real numbers, or one clear error."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nesting
        raise SymmagInputError(f"{what} must be real numbers: {_one_line(exc)}") from exc
    if array.dtype.kind not in "biuf":
        raise SymmagInputError(f"{what} must be real numbers, got {array.dtype} values")
    array = array.astype(float)
    if not np.all(np.isfinite(array)):
        raise SymmagInputError(f"{what} must be finite (no nan or inf)")
    return array


def _positive_int(what: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise SymmagInputError(f"{what} must be a whole number of at least 1, got {value!r}")
    return int(value)


def _tolerance(what: str, value, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            math.isfinite(value) and low <= value < high):
        raise SymmagInputError(f"{what} must be a finite number in [{low:g}, {high:g}), got {value!r}")


def _check_values(module: ModuleType, values: list, k: int | None) -> list:
    """Each parameter finite: a number, an array of shape (K,), or a callable (checked later)."""
    checked = []
    for name, v in zip(module.PARAMETERS, values):
        if callable(v):
            checked.append(v)
            continue
        array = _real_array(f"parameter {name}", v)
        if not (array.ndim == 0 or (array.ndim == 1 and k is not None and array.shape[0] == k)):
            shape = "a number" if k is None else f"a number or an array of shape ({k},)"
            raise SymmagInputError(f"parameter {name} must be {shape}; got shape {array.shape}")
        checked.append(array if array.ndim else float(array))
    return checked


def validate_request(module: ModuleType, y0, t_span, params: Sequence | Mapping | None = None, *,
                     t_eval=None, points: int | None = None, ensemble: int = 1,
                     method: str | None = None, rtol: float = 1e-9, atol: float = 1e-12,
                     max_bytes: int = MAX_BYTES, integrator: str = "solve_ivp",
                     step: float | None = None, max_steps: int = MAX_STEPS, temperature=None,
                     seed: int | None = None, ms: float | None = None, volume: float | None = None,
                     step_offset: int = 0) -> None:
    """Refuse, with one clear SymmagInputError, a request :func:`simulate` cannot answer
    right -- before anything is allocated: y0 of the wrong shape or not finite, a time span
    not finite or not increasing, t_eval outside it, ``points``/``ensemble`` not a whole
    number >= 1, an unknown method, tolerances out of range (rtol in [100 eps, 1), atol
    > 0), parameters not finite, or a request needing more than ``max_bytes`` of memory.

    ``ensemble`` K copies of a single y0 (n,) and ``points`` stored times are what the CLI
    will allocate; call this before it does.  ``integrator`` dp54, dop853 or rk4: a scalar atol,
    parameters that are numbers or arrays (no callables), ``step`` (rk4 only, required there)
    positive, strictly increasing t_eval, at most ``max_steps`` steps per system.  ``heun`` (the
    stochastic LLG, fixed ``step``): a model with a Gilbert damping (THERMAL_FIELD), ``temperature``
    finite and >= 0 (a number or one per system; kelvin with ``ms`` and ``volume``, else reduced --
    symmag.numeric.thermal.field_scale), ``seed`` a whole number in [0, 2^64), ``step_offset`` one
    in [0, 2^63), and alpha_G/|gamma_G| > 0 for every system at a positive temperature;
    temperature, seed and a step_offset belong to heun alone."""
    n = len(module.STATE)
    y0 = _real_array("y0", y0)
    if y0.ndim not in (1, 2) or y0.shape[0] != n or (y0.ndim == 2 and y0.shape[1] == 0):
        raise SymmagInputError(f"y0 must have shape ({n},) or ({n}, K) with K >= 1; got {y0.shape}")
    ensemble = _positive_int("ensemble", ensemble)
    if ensemble > 1 and y0.ndim != 1:
        raise SymmagInputError("ensemble copies a single y0 of shape (n,); y0 is already an ensemble")
    if integrator not in INTEGRATORS:
        raise SymmagInputError(f"unknown integrator {integrator!r}; use {', '.join(INTEGRATORS)}")
    if method is not None and integrator != "solve_ivp":
        raise SymmagInputError(f"method {method!r} is solve_ivp's; integrator {integrator} has none")
    if method is not None and method not in METHODS:
        raise SymmagInputError(f"unknown method {method!r}; use {', '.join(METHODS)}")
    if integrator == "heun" and not getattr(module, "THERMAL_FIELD", ()):
        name = getattr(module, "__name__", "?").removeprefix("symmag_generated_")
        raise SymmagInputError(f"model {name} takes no thermal field: it has no Gilbert damping (heun "
                               "integrates the stochastic LLG of an LLG model, e.g. llg_rsi, llg_rsi_extra)")
    if integrator != "heun" and (temperature is not None or seed is not None):
        raise SymmagInputError(f"temperature and seed are for integrator 'heun' (the stochastic LLG), not "
                               f"{integrator}")
    if isinstance(step_offset, bool) or not isinstance(step_offset, numbers.Integral) \
            or not 0 <= step_offset < 2**63:
        raise SymmagInputError(f"step_offset must be a whole number in [0, 2^63), got {step_offset!r}")
    if step_offset and integrator != "heun":
        raise SymmagInputError(f"step_offset numbers heun's random steps; integrator {integrator} has none")
    if integrator == "heun":
        from .thermal import check_seed, field_scale

        theta = field_scale(0.0 if temperature is None else temperature, ms, volume)
        if seed is not None:
            check_seed(seed)
    elif ms is not None or volume is not None:
        raise SymmagInputError("ms and volume set the units of the temperature: integrator 'heun' only")
    if integrator in FIXED_STEP:
        if step is None:
            raise SymmagInputError(f"integrator {integrator} needs a step (step=H, H > 0)")
        if isinstance(step, bool) or not isinstance(step, numbers.Real) or not (
                math.isfinite(step) and step > 0):
            raise SymmagInputError(f"step must be a positive finite number, got {step!r}")
    elif step is not None:
        raise SymmagInputError(f"step is for rk4 and heun; integrator {integrator} chooses its own steps")
    max_steps = _positive_int("max_steps", max_steps)
    _tolerance("rtol", rtol, 100 * np.finfo(float).eps, 1.0)
    if np.ndim(atol) == 0:
        _tolerance("atol", atol, 0.0, math.inf)
        if atol == 0:
            raise SymmagInputError("atol must be positive, got 0")
    elif integrator != "solve_ivp":
        raise SymmagInputError(f"integrator {integrator} takes a single atol, one number")
    else:
        a = _real_array("atol", atol)
        if a.shape != (y0.size * ensemble,) or not np.all(a > 0):
            raise SymmagInputError(f"atol must be a positive number or {y0.size * ensemble} positive numbers")
    try:
        t0, t1 = (float(t) for t in t_span)
    except (TypeError, ValueError) as exc:
        raise SymmagInputError(f"t_span must be two numbers (t0, t_end), got {t_span!r:.60}") from exc
    if not (math.isfinite(t0) and math.isfinite(t1) and math.isfinite(t1 - t0)):
        raise SymmagInputError(f"t_span must be finite, got ({t0}, {t1})")
    if not t1 > t0:
        raise SymmagInputError(f"t_span must increase: t_end = {t1} is not after t0 = {t0}")
    systems = (y0.shape[1] if y0.ndim == 2 else 1) * ensemble
    if t_eval is not None:
        times = _real_array("t_eval", t_eval)
        if times.ndim != 1 or times.size == 0:
            raise SymmagInputError("t_eval must be a non-empty sequence of times")
        if times.min() < t0 or times.max() > t1 or np.any(np.diff(times) < 0) or (
                integrator != "solve_ivp" and np.any(np.diff(times) <= 0)):
            raise SymmagInputError(f"t_eval must be increasing times in t_span [{t0}, {t1}]")
        stored = times.size
    else:
        stored = POINTS if points is None else _positive_int("points", points)
        times = None
    arrays = _SOLVER_ARRAYS if integrator == "solve_ivp" else _KERNEL_ARRAYS
    need = 8 * n * systems * (stored + arrays)
    if need > max_bytes:
        raise SymmagInputError(f"{systems} system(s) x {stored} points need about {need / 2**30:.3g} GiB, "
                               f"more than the bound of {max_bytes / 2**30:.3g} GiB; fewer systems or points")
    if integrator in FIXED_STEP:  # after the memory bound: the output times are allocated here
        from .integrators import step_count

        count = step_count(t0, np.linspace(t0, t1, stored) if times is None else times, float(step))
        if count > max_steps:
            raise SymmagInputError(f"step {step:g} means {count} steps per system over t_span, more than "
                                   f"max_steps = {max_steps}; a larger step or a larger max_steps")
    if params is not None:
        values = _check_values(module, _parameters(module, params),
                              systems if y0.ndim == 2 or ensemble > 1 else None)
        if integrator != "solve_ivp" and any(callable(v) for v in values):
            raise SymmagInputError(f"integrator {integrator} takes parameters that are numbers or arrays; "
                                   "a parameter that is a function of t needs integrator='solve_ivp'")
        if integrator == "heun":
            _check_thermal(module, values, theta, systems)


def _check_thermal(module: ModuleType, values: list, theta, systems: int) -> None:
    """Per-system temperatures of the ensemble's size, and alpha_G/|gamma_G| finite and positive
    wherever the temperature is (the noise variance 2 alpha_G theta/|gamma_G| must be a variance)."""
    if np.ndim(theta) and np.shape(theta) != (systems,):
        raise SymmagInputError(f"temperature must be a number or one per system ({systems}), got shape "
                               f"{np.shape(theta)}")
    with np.errstate(all="ignore"):
        alpha, gamma = (np.broadcast_to(np.asarray(x, dtype=float), (systems,))
                        for x in module.damping(*values))
        ratio = alpha / gamma
    hot = np.broadcast_to(np.asarray(theta) > 0, (systems,))
    bad = np.flatnonzero(hot & ~(np.isfinite(ratio) & (ratio > 0)))
    if bad.size:
        j = int(bad[0])
        raise SymmagInputError(f"thermal noise needs a positive Gilbert damping: alpha_G = {alpha[j]:g}, "
                               f"|gamma_G| = {gamma[j]:g} for system {j} ({bad.size} such system(s)); at "
                               "these parameters the model does not relax: no temperature can be defined")


class _Budget(Exception):
    """Raised inside solve_ivp's callbacks when the evaluation or time budget is spent."""


def _probe(module: ModuleType, rhs, t0: float, y: np.ndarray) -> np.ndarray:
    """dy/dt at the start: the model must answer, with the state's shape, in finite numbers."""
    try:
        with np.errstate(all="ignore"):  # a non-finite answer is reported below, in one line
            f = np.asarray(rhs(t0, y), dtype=float)
    except (Exception, SystemExit) as exc:
        raise SymmagInputError(f"the model's rhs fails at the initial state: {_one_line(exc)}") from exc
    if f.shape != y.shape:
        raise SymmagInputError(f"the model's rhs returns shape {f.shape} for a state of shape {y.shape}")
    if not np.all(np.isfinite(f)):
        finite = np.isfinite(f.reshape(len(module.STATE), -1)).all(axis=1)
        bad = ", ".join(module.STATE[i] for i in np.flatnonzero(~finite))
        raise SymmagInputError(f"dy/dt is not finite at the initial state (in {bad}): the model is "
                               "undefined there (e.g. M = 0) or the numbers are too large")
    return f


#: arrays up to this many values are written into a record in full; larger ones as a summary
#: (shape, range, sha256 of the bytes), their values being in the .npz itself
RECORD_VALUES = 1000
_SHA_LINE = re.compile(r"^# (?:rerun the command\. )?(Input|Body) sha256: ([0-9a-f]{64})$", re.M)


def _recorded_value(v):
    if callable(v):
        return {"function of t": getattr(v, "__name__", type(v).__name__)}
    if isinstance(v, (str, bool)) or v is None:
        return v
    a = np.asarray(v)
    if a.ndim == 0:
        x = a.item()
        return float(x) if isinstance(x, float) else x
    if a.size <= RECORD_VALUES:
        return a.tolist()
    b = np.ascontiguousarray(a, dtype=float)
    return {"shape": list(a.shape), "min": float(b.min()), "max": float(b.max()),
            "sha256": hashlib.sha256(b.tobytes()).hexdigest()}


def _versions(module: ModuleType) -> dict:
    import scipy

    from .. import __version__

    out = {"symmag": __version__, "python": platform.python_version(), "numpy": np.__version__,
           "scipy": scipy.__version__}
    if "numba" in sys.modules and getattr(module, "__name__", "").endswith("_numba"):
        out["numba"] = sys.modules["numba"].__version__
    return out


def run_record(module: ModuleType, arguments: Mapping) -> dict:
    """The record of one :func:`simulate` call: the model (name and the Input/Body sha256 of its
    generated header), its parameters by name, y0, the span and output times, the integrator
    and its options, the noise and the versions.  JSON-serialisable."""
    header = ""
    path = getattr(module, "__file__", None)
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                header = "".join(f.readline() for _ in range(3))
        except OSError:
            header = ""
    hashes = {kind.lower(): h for kind, h in _SHA_LINE.findall(header)}
    params = arguments["params"]
    names = tuple(getattr(module, "PARAMETERS", ()))
    if not isinstance(params, Mapping):
        params = dict(zip(names, params))
    t_eval = arguments.get("t_eval")
    integrator = arguments.get("integrator")
    # what ran, not what was passed: the defaults filled in, the options an integrator ignores left out
    used = {"solve_ivp": ("method", "rtol", "atol", "max_evaluations", "max_seconds"),
            **dict.fromkeys(ADAPTIVE, ("rtol", "atol", "max_steps", "project", "parallel")),
            "rk4": ("step", "max_steps", "project", "parallel"),
            "heun": ("step", "max_steps", "project", "parallel")}.get(integrator, ())
    options = {"integrator": integrator, **{k: _recorded_value(arguments.get(k)) for k in used}}
    if options.get("method", "") is None:
        options["method"] = "DOP853"
    return {
        "model": {"name": Path(path).stem if path else getattr(module, "__name__", "?").rsplit(".", 1)[-1],
                  "input_sha256": hashes.get("input"), "body_sha256": hashes.get("body")},
        "state": list(getattr(module, "STATE", ())),
        "parameters": {str(k): _recorded_value(v) for k, v in params.items()},
        "y0": _recorded_value(arguments["y0"]),
        "t_span": [float(x) for x in arguments["t_span"]],
        "t_eval": None if t_eval is None else _recorded_value(t_eval),
        "options": options,
        "noise": None if integrator != "heun" else {
            **{k: _recorded_value(arguments.get(k)) for k in ("temperature", "ms", "volume")},
            "seed": 0 if arguments.get("seed") is None else int(arguments["seed"]),
            "system_offset": int(arguments.get("system_offset", 0)),
            **_step_offsets(arguments)},
        "versions": _versions(module),
    }


def _step_offsets(arguments: Mapping) -> dict:
    """heun's first step number, and the one a continuation of the run starts from: each step of a
    system draws the numbers of its counter (step, system) under the seed."""
    from .integrators import step_count

    first = int(arguments.get("step_offset", 0))
    t0, t1 = (float(x) for x in arguments["t_span"])
    t_eval = arguments.get("t_eval")
    times = np.linspace(t0, t1, POINTS) if t_eval is None else np.asarray(t_eval, dtype=float)
    return {"step_offset": first, "next_step_offset": first + step_count(t0, times, float(arguments["step"]))}


def _recorded(f):
    """``f`` (simulate) whose result carries :func:`run_record` of its arguments."""
    signature = inspect.signature(f)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        sim = f(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = bound.arguments
        module, params = arguments["module"], arguments["params"]
        if not isinstance(params, Mapping):
            params = dict(zip(getattr(module, "PARAMETERS", ()), params))
        # copies: the caller may reuse its arrays (y0[:] = y(t_end)) before saving
        inputs = {"y0": np.array(arguments["y0"], dtype=float),
                  **{f"param_{k}": np.array(v, dtype=float) for k, v in params.items() if not callable(v)}}
        return dataclasses.replace(sim, record=run_record(module, arguments), inputs=inputs)

    return wrapper


@_recorded
def simulate(module: ModuleType, y0, t_span: tuple[float, float], params: Sequence | Mapping, *,
             t_eval=None, method: str | None = None, rtol: float = 1e-9, atol: float = 1e-12,
             progress: bool = False, max_evaluations: int = MAX_EVALUATIONS,
             max_seconds: float | None = None, max_bytes: int = MAX_BYTES,
             integrator: str = "solve_ivp", step: float | None = None, max_steps: int = MAX_STEPS,
             project: bool = False, parallel: bool = False, temperature=None, seed: int | None = None,
             ms: float | None = None, volume: float | None = None, system_offset: int = 0,
             step_offset: int = 0) -> Simulation:
    """Integrate dy/dt = module.rhs(t, y, *params) from y0 over t_span.

    ``integrator``: "solve_ivp" (default; ``method``, default DOP853, on the flattened
    ensemble), or every system on its own: "dp54" (Dormand--Prince 5(4), per-system step
    control and dense output), "dop853" (the same with SciPy's DOP853: fewer steps at tight
    tolerances) or "rk4" (fixed ``step``) -- the module's generated numba
    kernels when it has them (MODEL_numba), else symmag.numeric.integrators' NumPy version.  With
    those, ``project`` scales each conserved norm (|M|) back to its initial value after every
    step and ``parallel`` spreads the systems over numba's threads; ``max_steps`` bounds
    each system's steps.  The result reports the drift of the conserved norms.

    ``integrator="heun"``: the stochastic LLG (Stratonovich, stochastic Heun with fixed ``step``;
    ``project`` gives the norm-preserving variant) with Brown's thermal field at ``temperature`` (a
    number or one per system): in kelvin when ``ms`` (A/m) and ``volume`` (m^3) are given, else in
    reduced units, theta = k_B T/(mu0 M_s V) in the unit of the fields (symmag.numeric.thermal).  Random
    numbers keyed by (``seed``, default 0; system index; step): the same numbers whatever the
    backend, slicing or threads; ``system_offset`` is the index of the first system (so that a
    part of a larger ensemble, run alone, draws that part's numbers), ``step_offset`` the number of the
    first step: a run continued from the end of another, y0 = its y(t_end), passes that run's
    ``record["noise"]["next_step_offset"]`` (its step_offset plus the steps it took) and so draws new
    numbers -- with the default 0 every call starts at step 0 and, with the same seed, repeats the
    noise of the run it continues.

    The request is checked first (:func:`validate_request`); bad input is one
    SymmagInputError.  When ``max_evaluations`` right-hand-side evaluations (or
    ``max_seconds`` of wall time) are spent the integration stops and the result has
    ``success=False`` and a message starting "step budget exhausted"."""
    validate_request(module, y0, t_span, params, t_eval=t_eval, method=method, rtol=rtol, atol=atol,
                     max_bytes=max_bytes, integrator=integrator, step=step, max_steps=max_steps,
                     temperature=temperature, seed=seed, ms=ms, volume=volume, step_offset=step_offset)
    method = "DOP853" if method is None else method
    max_evaluations = _positive_int("max_evaluations", max_evaluations)
    if max_seconds is not None:
        _tolerance("max_seconds", max_seconds, 0.0, math.inf)
    y0 = np.asarray(y0, dtype=float)
    shape = y0.shape
    k = shape[1] if y0.ndim == 2 else None
    values = _check_values(module, _parameters(module, params), k)
    dynamic = [callable(v) for v in values]
    t0, t1 = map(float, t_span)

    def at(t):
        return [v(t) if d else v for v, d in zip(values, dynamic)]

    try:  # a callable parameter's value at t0 is checked too
        _check_values(module, at(t0), k)
    except SymmagInputError as exc:
        raise SymmagInputError(f"at t0 = {t0}: {exc}") from None
    except Exception as exc:
        raise SymmagInputError(f"a parameter function fails at t0 = {t0}: {_one_line(exc)}") from exc

    evaluations = 0
    started = time.monotonic()

    def spend() -> None:
        nonlocal evaluations
        evaluations += 1
        if evaluations > max_evaluations:
            raise _Budget(f"{max_evaluations} right-hand-side evaluations (max_evaluations)")
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            raise _Budget(f"{max_seconds:g} s (max_seconds)")

    def rhs(t, y):
        spend()
        return module.rhs(t, y.reshape(shape), *at(t)).ravel()

    f0 = _probe(module, lambda t, y: module.rhs(t, y, *at(t)), t0, y0)
    scale = np.abs(y0).max()
    rate = np.abs(f0).max() / scale if scale > 0 else 0.0
    if rate * (t1 - t0) > MAX_TIME_SCALES:
        raise SymmagInputError(f"t_span covers {rate * (t1 - t0):.3g} time scales of the model at y0 "
                               f"(|y0|/|dy/dt| = {1 / rate:.3g}), more than {MAX_TIME_SCALES:.0g}: the "
                               "integration would not finish; shorten it")

    options = {}
    if method in IMPLICIT:
        if len(shape) == 2:
            options["jac"] = lambda t, y: module.sparse_jacobian(t, y, *at(t))
        else:
            options["jac"] = lambda t, y: module.jacobian(t, y, *at(t))

    if t_eval is None:
        t_eval = np.linspace(t0, t1, POINTS)
    t_eval = np.asarray(t_eval, dtype=float)
    if integrator != "solve_ivp":
        thermal = None
        if integrator == "heun":
            from .thermal import field_scale

            if isinstance(system_offset, bool) or not isinstance(system_offset, numbers.Integral) \
                    or system_offset < 0:
                raise SymmagInputError(f"system_offset must be a non-negative integer, got {system_offset!r}")
            thermal = (field_scale(0.0 if temperature is None else temperature, ms, volume),
                       0 if seed is None else int(seed), int(system_offset), int(step_offset))
        return _per_system(module, integrator, y0, t0, t_eval, values, rtol=float(rtol), atol=float(atol),
                           step=step, max_steps=max_steps, project=bool(project), parallel=bool(parallel),
                           progress=progress, max_seconds=max_seconds, thermal=thermal)
    chunks = np.linspace(t0, t1, 21) if progress else np.array([t0, t1])
    ts, ys = [], []
    y = y0.ravel()
    message, success = "", True
    reached = t0
    for a, b in itertools.pairwise(chunks):
        last = b == chunks[-1]
        keep = t_eval[(t_eval >= a) & ((t_eval <= b) if last else (t_eval < b))]
        try:
            # floating-point trouble shows in the solver's verdict and in the check below, in
            # one line, rather than as a warning per operation
            with np.errstate(all="ignore"):
                sol = solve_ivp(rhs, (a, b), y, method=method, t_eval=np.unique(np.append(keep, b)),
                                rtol=rtol, atol=atol, **options)
        except _Budget as exc:
            success, message = False, (f"step budget exhausted: {exc} spent before t = {b:g} "
                                       f"(reached t = {reached:g} of {t1:g})")
            break
        except Exception as exc:  # the model's code or the solver's linear algebra
            raise SymmagInputError(f"integration failed between t = {a:g} and {b:g}: "
                                   f"{_one_line(exc)}") from exc
        success, message = sol.success, sol.message
        if success and not np.all(np.isfinite(sol.y)):
            success, message = False, f"the solution is not finite by t = {b:g} (it overflowed)"
        if not success:
            break
        mask = np.isin(sol.t, keep)
        ts.append(sol.t[mask])
        ys.append(sol.y[:, mask])
        y = sol.y[:, -1]
        reached = b
        if progress:  # a chunked run reports how far it got
            print(f"\rsimulating: {100 * (b - t0) / (t1 - t0):5.1f} %", end="", file=sys.stderr,
                  flush=True)
    if progress:
        print(file=sys.stderr)
    t = np.concatenate(ts) if ts else np.array([])
    y_out = np.concatenate(ys, axis=1) if ys else np.empty((y0.size, 0))
    y_out = y_out.reshape(*shape, -1)
    groups = getattr(module, "NORMS", ())
    return Simulation(t, y_out, tuple(module.STATE), success, str(message), "solve_ivp",
                      _max_drift(y_out.reshape(len(module.STATE), -1, t.size), groups) if t.size else None,
                      None, None, evaluations)


def _max_drift(y: np.ndarray, groups) -> float | None:
    """The largest drift of the conserved norms over systems and stored times ((n, K, T))."""
    from .integrators import drift

    if not groups or y.shape[-1] == 0:
        return None
    d = drift(y, groups)
    return float(np.nanmax(d)) if np.isfinite(d).any() else math.nan


#: systems per call of a per-system integrator when progress is shown or time is bounded
_PROGRESS_CHUNKS = 20


def _per_system(module: ModuleType, integrator: str, y0: np.ndarray, t0: float, t_eval: np.ndarray,
                values: list, *, rtol: float, atol: float, step: float | None, max_steps: int,
                project: bool, parallel: bool, progress: bool, max_seconds: float | None,
                thermal: tuple | None = None) -> Simulation:
    """dp54, dop853, rk4 or heun for every system on its own; the systems are independent (heun's random
    numbers keyed by each system's global index), so running them in slices (for progress or a
    time bound) gives the same numbers.  ``thermal``: heun's (theta, seed, system offset, step offset)."""
    from . import integrators
    from . import thermal as thermal_

    shape = y0.shape
    y2 = y0.reshape(len(module.STATE), -1)
    k = y2.shape[1]
    kernels = hasattr(module, integrator)
    groups = getattr(module, "NORMS", ())
    slices = _PROGRESS_CHUNKS if (progress or max_seconds is not None) and k > 1 else 1
    edges = np.linspace(0, k, min(slices, k) + 1).astype(int)
    started = time.monotonic()
    parts, message, success = [], "", True
    for lo, hi in itertools.pairwise(edges):
        sub = [v[lo:hi] if np.ndim(v) else v for v in values]
        try:
            with np.errstate(all="ignore"):  # trouble shows in the status and the check below
                if integrator == "heun":
                    theta = thermal[0][lo:hi] if np.ndim(thermal[0]) else thermal[0]
                    options = dict(step=step, theta=theta, seed=thermal[1], offset=int(lo) + thermal[2],
                                   step_offset=thermal[3], project=project)
                    part = (module.heun(t0, t_eval, y2[:, lo:hi], *sub, parallel=parallel, **options)
                            if kernels else thermal_.heun(module, t0, t_eval, y2[:, lo:hi], sub, **options))
                elif kernels:
                    options = (dict(rtol=rtol, atol=atol, max_steps=max_steps) if integrator in ADAPTIVE
                               else dict(step=step))
                    part = getattr(module, integrator)(t0, t_eval, y2[:, lo:hi], *sub, project=project,
                                                       parallel=parallel, **options)
                elif integrator in ADAPTIVE:
                    part = getattr(integrators, integrator)(module, t0, t_eval, y2[:, lo:hi], sub, rtol=rtol,
                                                            atol=atol, max_steps=max_steps, project=project)
                else:
                    part = integrators.rk4(module, t0, t_eval, y2[:, lo:hi], sub, step=step, project=project)
        except Exception as exc:  # the model's code, or a module the integrator cannot run
            raise SymmagInputError(f"integration failed ({integrator}): {_one_line(exc)}") from exc
        parts.append(part)
        if progress:
            print(f"\rsimulating: {100 * hi / k:5.1f} % of the systems", end="", file=sys.stderr, flush=True)
        if max_seconds is not None and time.monotonic() - started > max_seconds and hi < k:
            success, message = False, (f"step budget exhausted: {max_seconds:g} s (max_seconds) spent "
                                       f"after {hi} of {k} systems; the others are nan")
            break
    if progress:
        print(file=sys.stderr)
    if len(parts) == 1 and parts[0][1].size == k:  # one call did every system: its arrays as they are
        out = parts[0][0].reshape(y2.shape[0], k, -1)
        steps, rejected, status = parts[0][1:4]
        done = k
    else:  # slices (progress, a time bound), the systems not reached nan
        out = np.full((y2.shape[0], k, t_eval.size), np.nan)
        steps, rejected, status = (np.zeros(k, np.int64) for _ in range(3))
        done = 0
        for part in parts:
            width = part[1].size
            out[:, done:done + width] = part[0].reshape(y2.shape[0], width, -1)
            steps[done:done + width], rejected[done:done + width] = part[1], part[2]
            status[done:done + width] = part[3]
            done += width
    failed = np.flatnonzero(status[:done])
    if success and failed.size:
        first = failed[0]
        success, message = False, (f"{failed.size} of {k} systems stopped (the first, system {first}, "
                                   f"{integrators.STATUS[int(status[first])]}); their later values are nan")
        if status[first] == 1:
            message = "step budget exhausted: " + message + f" (max_steps = {max_steps})"
    # dp54 and dop853 stop a system at an output that is not finite (status 3, above; the NumPy
    # fallback, and kernels generated since STOPS_AT_NOT_FINITE): the scan of every output, a tenth
    # of a dop853 run at K = 2e5, is for the others
    stops = integrator in ADAPTIVE and (not kernels or getattr(module, "STOPS_AT_NOT_FINITE", False))
    if success and not stops and not np.all(np.isfinite(out)):
        success, message = False, "the solution is not finite (it overflowed)"
    if success:
        backend = "numba kernels" if kernels else "NumPy"
        message = (f"{integrator} ({backend}): every system reached t = {t_eval[-1]:g}; "
                   f"steps per system {int(steps.min())}..{int(steps.max())}")
    y_out = out[:, 0] if len(shape) == 1 else out
    # each part's own drift (integrators.drift of its outputs, or the kernel's, the same measure):
    # computing it again over the whole (n, K, T) output took a fifth of a dp54 run at K = 2e5
    drifts = [part[4] for part in parts if part[4] is not None]
    drift_ = None
    if groups and drifts:
        d = np.concatenate(drifts)
        drift_ = float(np.nanmax(d)) if np.isfinite(d).any() else math.nan
    return Simulation(t_eval.copy(), y_out, tuple(module.STATE), success, message, integrator,
                      drift_, steps, rejected, None)


def parse_assignments(items: Sequence[str]) -> dict[str, float]:
    """NAME=NUMBER pairs from the command line (finite numbers only; nothing is evaluated)."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise SymmagInputError(f"expected NAME=NUMBER, got {item!r}")
        if name.strip() in out:
            raise SymmagInputError(f"{name.strip()} is given twice")
        try:
            number = float(value)
        except ValueError as exc:
            raise SymmagInputError(f"not a number for {name.strip()}: {value!r}") from exc
        if not math.isfinite(number):
            raise SymmagInputError(f"{name.strip()} must be a finite number, got {value.strip()}")
        out[name.strip()] = number
    return out


def save(sim: Simulation, path: str | Path) -> Path:
    """Write a simulation as .npz or .csv, atomically (a temporary file beside ``path`` moved into
    place when complete), with the record of how it was made.

    .npz: ``t``, ``y``, ``state``, ``y0`` and ``param_NAME`` for every parameter given as numbers,
    and ``record``, the JSON of :attr:`Simulation.record` (``json.loads(str(f["record"]))``).
    .csv: a first line ``# symmag simulate: {record JSON}``, the column names (t, then one column
    per state, or per state and system ``Mx[k]``), the values at full float64 precision (the
    shortest repr that reads back to the same number).  ``pandas.read_csv(path, comment="#")``
    or ``numpy.genfromtxt(path, delimiter=",", names=True, skip_header=1)`` read it."""
    path = Path(path)
    if path.suffix not in (".npz", ".csv"):
        raise SymmagInputError(f"output must end in .npz or .csv, got {path.name}")
    if path.is_dir():
        raise SymmagInputError(f"output {path} is a folder")
    if not path.parent.is_dir():
        raise SymmagInputError(f"cannot write {path}: folder {path.parent} does not exist")
    record = json.dumps(sim.record, sort_keys=True, allow_nan=True)
    try:
        with atomic.replacing(path) as tmp:
            if path.suffix == ".npz":
                np.savez(tmp, t=sim.t, y=sim.y, state=np.array(sim.state), record=np.array(record),
                         **sim.inputs)
            else:
                flat = sim.y.reshape(-1, sim.t.size)
                if sim.y.ndim == 2:
                    header = ["t", *sim.state]
                else:
                    header = ["t", *(f"{s}[{k}]" for s in sim.state for k in range(sim.y.shape[1]))]
                with open(tmp, "w", encoding="utf-8") as f:
                    f.write(f"# symmag simulate: {record}\n")
                    f.write(",".join(header) + "\n")
                    for k in range(sim.t.size):  # a row at a time: no Python copy of the whole array
                        f.write(",".join(map(repr, [float(sim.t[k]), *flat[:, k].tolist()])) + "\n")
    except OSError as exc:
        raise SymmagInputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path
