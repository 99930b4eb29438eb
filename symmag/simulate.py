"""Integrate generated right-hand-side modules with SciPy.

``simulate(module, y0, t_span, params)`` wraps ``scipy.integrate.solve_ivp``: y0 is one
system (n,) or an ensemble (n, K); every parameter is a scalar, an array of shape (K,),
or a callable of t (a field H(t), evaluated anew at each call).  Implicit methods get the
generated Jacobian: block-sparse for an ensemble.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
from scipy.integrate import solve_ivp

from .errors import SymmagInputError

IMPLICIT = {"BDF", "Radau", "LSODA"}


@dataclass(frozen=True)
class Simulation:
    t: np.ndarray  # (T,)
    y: np.ndarray  # (n, T) for one system, (n, K, T) for an ensemble
    state: tuple[str, ...]
    success: bool
    message: str


def load_model(name_or_path: str | Path, folder: str | Path = "generated/rhs") -> ModuleType:
    """A generated module, by model name (looked up in ``folder``) or by file path."""
    path = Path(name_or_path)
    if path.suffix != ".py":
        path = Path(folder) / f"{name_or_path}.py"
    if not path.is_file():
        raise SymmagInputError(f"no generated module {path}; run `symmag codegen` first")
    spec = importlib.util.spec_from_file_location(f"symmag_generated_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for attr in ("STATE", "PARAMETERS", "rhs", "jacobian"):
        if not hasattr(module, attr):
            raise SymmagInputError(f"{path} is not a symmag right-hand-side module (no {attr})")
    return module


def _parameters(module: ModuleType, params: Sequence | Mapping) -> list:
    names = module.PARAMETERS
    if isinstance(params, Mapping):
        unknown = set(params) - set(names)
        missing = [n for n in names if n not in params]
        if unknown or missing:
            raise SymmagInputError(f"parameters must be {', '.join(names)}; unknown: "
                                   f"{', '.join(sorted(unknown)) or '-'}, "
                                   f"missing: {', '.join(missing) or '-'}")
        return [params[n] for n in names]
    if len(params) != len(names):
        raise SymmagInputError(f"expected {len(names)} parameters ({', '.join(names)}), got {len(params)}")
    return list(params)


def simulate(module: ModuleType, y0, t_span: tuple[float, float], params: Sequence | Mapping, *,
             t_eval=None, method: str = "DOP853", rtol: float = 1e-9, atol: float = 1e-12,
             progress: bool = False) -> Simulation:
    """Integrate dy/dt = module.rhs(t, y, *params) from y0 over t_span."""
    y0 = np.asarray(y0, dtype=float)
    n = len(module.STATE)
    if y0.shape[0] != n or y0.ndim not in (1, 2):
        raise SymmagInputError(f"y0 must have shape ({n},) or ({n}, K); got {y0.shape}")
    shape = y0.shape
    values = _parameters(module, params)
    dynamic = [callable(v) for v in values]

    def at(t):
        return [v(t) if d else v for v, d in zip(values, dynamic)]

    def rhs(t, y):
        return module.rhs(t, y.reshape(shape), *at(t)).ravel()

    options = {}
    if method in IMPLICIT:
        if len(shape) == 2:
            options["jac"] = lambda t, y: module.sparse_jacobian(t, y, *at(t))
        else:
            options["jac"] = lambda t, y: module.jacobian(t, y, *at(t))

    t0, t1 = map(float, t_span)
    if t_eval is None:
        t_eval = np.linspace(t0, t1, 201)
    t_eval = np.asarray(t_eval, dtype=float)
    chunks = np.linspace(t0, t1, 21) if progress else np.array([t0, t1])
    ts, ys = [], []
    y = y0.ravel()
    message, success = "", True
    for a, b in itertools.pairwise(chunks):
        last = b == chunks[-1]
        keep = t_eval[(t_eval >= a) & ((t_eval <= b) if last else (t_eval < b))]
        sol = solve_ivp(rhs, (a, b), y, method=method, t_eval=np.unique(np.append(keep, b)),
                        rtol=rtol, atol=atol, **options)
        success, message = sol.success, sol.message
        if not sol.success:
            break
        mask = np.isin(sol.t, keep)
        ts.append(sol.t[mask])
        ys.append(sol.y[:, mask])
        y = sol.y[:, -1]
        if progress:  # a chunked run reports how far it got
            print(f"\rsimulating: {100 * (b - t0) / (t1 - t0):5.1f} %", end="", file=sys.stderr,
                  flush=True)
    if progress:
        print(file=sys.stderr)
    t = np.concatenate(ts) if ts else np.array([])
    y_out = np.concatenate(ys, axis=1) if ys else np.empty((y0.size, 0))
    return Simulation(t, y_out.reshape(*shape, -1), tuple(module.STATE), success, str(message))


def parse_assignments(items: Sequence[str]) -> dict[str, float]:
    """NAME=NUMBER pairs from the command line (numbers only; nothing is evaluated)."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise SymmagInputError(f"expected NAME=NUMBER, got {item!r}")
        if name.strip() in out:
            raise SymmagInputError(f"{name.strip()} is given twice")
        try:
            out[name.strip()] = float(value)
        except ValueError as exc:
            raise SymmagInputError(f"not a number for {name.strip()}: {value!r}") from exc
    return out


def save(sim: Simulation, path: str | Path) -> Path:
    """Write a simulation as .npz (t, y, state) or .csv (t, then one column per state/system)."""
    path = Path(path)
    if path.suffix == ".npz":
        np.savez(path, t=sim.t, y=sim.y, state=np.array(sim.state))
    elif path.suffix == ".csv":
        flat = sim.y.reshape(-1, sim.t.size)
        if sim.y.ndim == 2:
            header = ["t", *sim.state]
        else:
            header = ["t", *(f"{s}[{k}]" for s in sim.state for k in range(sim.y.shape[1]))]
        np.savetxt(path, np.column_stack([sim.t, flat.T]), delimiter=",", header=",".join(header),
                   comments="")
    else:
        raise SymmagInputError(f"output must end in .npz or .csv, got {path.name}")
    return path

