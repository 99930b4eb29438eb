"""Per-system ensemble integrators: the methods' coefficients and the NumPy fallback.

Every system of an ensemble is advanced on its own: its own step size, its own accepted and
rejected steps, its own time.  Two methods:

* ``dp54`` -- the Dormand--Prince 5(4) pair (as SciPy's RK45: local extrapolation, FSAL,
  the error norm RMS_i |e_i| / (atol + rtol max(|y_i|, |y_new_i|)) over one system's
  components, safety 0.9, step factor in [0.2, 10] and at most 1 right after a rejection,
  Hairer's starting step) with its quartic dense output at the requested times;
* ``rk4`` -- the classic fixed-step Runge--Kutta method; between consecutive output times a
  and b it takes ceil((b - a)/step) equal steps, so every output time is a step's end and
  nothing is interpolated.

The numba kernels are generated beside each model's numba right-hand side
(``symmag codegen --backend numba``, template ``numba_rhs.py.j2``) from the coefficients
here, with the model's right-hand side inlined so that a system's state stays in registers
through a step.  :func:`dp54` and :func:`rk4` below are the NumPy fallback (vectorized over the
systems still running, each with its own step) for modules without kernels: the core install
needs no numba.  Both return ``(y, accepted, rejected, status, drift)`` -- see
:data:`STATUS` -- and ``symmag.numeric.simulate.simulate(..., integrator=...)`` wraps either.  The
stochastic Heun integrator of the thermal LLG (``integrator="heun"``) and its NumPy fallback are in
:mod:`symmag.numeric.thermal`; it takes its steps as rk4 does (:func:`substeps`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction as F
from types import ModuleType

import numpy as np

# -- Dormand & Prince (1980), with Shampine's dense output as in SciPy's RK45 ---------------
DP_C = (F(0), F(1, 5), F(3, 10), F(4, 5), F(8, 9), F(1))
DP_A = (
    (),
    (F(1, 5),),
    (F(3, 40), F(9, 40)),
    (F(44, 45), F(-56, 15), F(32, 9)),
    (F(19372, 6561), F(-25360, 2187), F(64448, 6561), F(-212, 729)),
    (F(9017, 3168), F(-355, 33), F(46732, 5247), F(49, 176), F(-5103, 18656)),
)
DP_B = (F(35, 384), F(0), F(500, 1113), F(125, 192), F(-2187, 6784), F(11, 84))
#: fifth- minus fourth-order weights over the seven stages (the seventh is f at the new point)
DP_E = (F(-71, 57600), F(0), F(71, 16695), F(-71, 1920), F(17253, 339200), F(-22, 525), F(1, 40))
#: dense output: y(t + theta h) = y + h sum_k K_k sum_p DP_P[k][p] theta^(p+1)
DP_P = (
    (F(1), F(-8048581381, 2820520608), F(8663915743, 2820520608), F(-12715105075, 11282082432)),
    (F(0), F(0), F(0), F(0)),
    (F(0), F(131558114200, 32700410799), F(-68118460800, 10900136933), F(87487479700, 32700410799)),
    (F(0), F(-1754552775, 470086768), F(14199869525, 1410260304), F(-10690763975, 1880347072)),
    (F(0), F(127303824393, 49829197408), F(-318862633887, 49829197408), F(701980252875, 199316789632)),
    (F(0), F(-282668133, 205662961), F(2019193451, 616988883), F(-1453857185, 822651844)),
    (F(0), F(40617522, 29380423), F(-110615467, 29380423), F(69997945, 29380423)),
)
SAFETY, MIN_FACTOR, MAX_FACTOR = 0.9, 0.2, 10.0
#: the step-size exponent -1/(q + 1), q = 4 the order of the embedded error estimate
ERROR_EXPONENT = -0.2
#: err^ERROR_EXPONENT for the step factor without pow (a libm call does not vectorize, and pow was a
#: fifth of a dp54 kernel's run): err clamped to [2^-18, 2^11] (outside, SAFETY err^-0.2 is beyond
#: [MIN_FACTOR, MAX_FACTOR] anyway), times 2^18 into [1, 2^29], reduced to m in [1, 2) by the powers
#: 2^16, 2^8, 2^4, 2^2, 2 (each exact) collecting the factors 2^(-0.2 k) of those taken, times m^-0.2
#: by a degree-6 polynomial in m - 1.5 (relative error 4.4e-7; Chebyshev fit).  The constants are
#: literals (not computed by pow here) so that every platform renders the same kernels, and the NumPy
#: fallback and the kernels do the same operations in the same order: the backends take the same steps
POWER_CLAMP = (2.0**-18, 2.0**11)
POWER_SCALE, POWER_START = 2.0**18, 12.125732532083186  # 2^18 and 2^(0.2 * 18)
POWER_STEPS = ((65536.0, 1.52587890625e-05, 0.1088188204120155), (256.0, 0.00390625, 0.32987697769322355),
               (16.0, 0.0625, 0.5743491774985174), (4.0, 0.25, 0.757858283255199),
               (2.0, 0.5, 0.8705505632961241))  # (2^k, 2^-k, 2^(-0.2 k))
POWER_POLY = (0.00499289927655364, -0.008393484268018392, 0.012685092776699063, -0.023885328276229877,
              0.04918613996321991, -0.12295275249306224, 0.9221078556419305)  # highest degree first


def step_power(err: np.ndarray) -> np.ndarray:
    """err^ERROR_EXPONENT as the kernels compute it (POWER_CLAMP...), elementwise; nan stays nan."""
    x = np.minimum(np.maximum(err, POWER_CLAMP[0]), POWER_CLAMP[1]) * POWER_SCALE
    r = np.full(np.shape(x), POWER_START)
    for big, inverse, factor in POWER_STEPS:
        taken = x >= big
        x = x * np.where(taken, inverse, 1.0)
        r = r * np.where(taken, factor, 1.0)
    u = x - 1.5
    p = np.full(np.shape(x), POWER_POLY[0])
    for c in POWER_POLY[1:]:
        p = p * u + c
    return r * p


#: a step below this times |t| fails the system (status 2): about SciPy's 10 ulps of t
MIN_STEP = 10 * float(np.finfo(float).eps)

#: the per-system status codes of the integrators
STATUS = {0: "reached the last output time", 1: "took more than max_steps steps",
          2: "step size fell below 10 eps |t| (the solution is singular or not finite there)"}


def floats(row: Sequence[F]) -> list[float]:
    return [float(x) for x in row]


def _norms(y: np.ndarray, groups: Sequence[Sequence[int]]) -> list[np.ndarray]:
    return [np.sqrt(sum(y[i] ** 2 for i in g)) for g in groups]


def _project(y: np.ndarray, r0: list[np.ndarray], groups: Sequence[Sequence[int]]) -> None:
    for g, r in zip(groups, r0):
        s = r / np.sqrt(sum(y[i] ** 2 for i in g))
        for i in g:
            y[i] *= s


def drift(y: np.ndarray, groups: Sequence[Sequence[int]]) -> np.ndarray | None:
    """Per system, max over the stored times of | |y_g(t)|/|y_g(t_0)| - 1 | over the conserved
    groups g; y is (n, K, T).  None for a model without a conserved norm."""
    if not groups:
        return None
    out = np.zeros(y.shape[1])
    for g in groups:
        r = np.sqrt(sum(y[i] ** 2 for i in g))  # (K, T)
        with np.errstate(invalid="ignore", divide="ignore"):
            d = np.abs(r / r[:, :1] - 1)
        out = np.fmax(out, np.nanmax(np.where(np.isnan(d), -np.inf, d), axis=1))
    return out


def _sub(params: Sequence, idx: np.ndarray) -> list:
    return [p[idx] if np.ndim(p) else p for p in params]


def dp54(module: ModuleType, t0: float, t_eval: np.ndarray, y: np.ndarray, params: Sequence, *,
         rtol: float = 1e-6, atol: float = 1e-9, first_step: float = 0.0, max_steps: int = 100_000,
         project: bool = False) -> tuple:
    """Dormand--Prince 5(4) per system, in NumPy, on ``module.rhs``: y (n, K), parameters
    scalars or (K,) arrays, outputs at the non-decreasing ``t_eval`` >= t0.  Returns
    (y (n, K, T), accepted (K,), rejected (K,), status (K,), drift (K,) or None).  The systems
    have their own times, so the model must not depend on t explicitly (module.AUTONOMOUS)."""
    if not getattr(module, "AUTONOMOUS", False):
        raise ValueError("the NumPy dp54 needs an autonomous model (no explicit t); use the numba "
                         "module or solve_ivp")
    groups = getattr(module, "NORMS", ())
    n, k = y.shape
    nt = t_eval.size
    t_end = float(t_eval[-1])
    a, b, e, p = ([floats(r) for r in DP_A], floats(DP_B), floats(DP_E),
                  np.array([floats(r) for r in DP_P]))
    out = np.full((n, k, nt), np.nan)
    y = np.array(y, dtype=float)
    r0 = _norms(y, groups)
    nxt = np.searchsorted(t_eval, t0, side="right")  # the outputs at t0
    out[:, :, :nxt] = y[:, :, None]
    nxt = np.full(k, nxt)
    t = np.full(k, float(t0))
    accepted, rejected = np.zeros(k, np.int64), np.zeros(k, np.int64)
    status = np.zeros(k, np.int64)

    def f(yy, idx):
        return module.rhs(0.0, yy, *_sub(params, idx))

    every = np.arange(k)
    k1 = f(y, every)
    span = t_end - t0
    if first_step > 0:
        h = np.full(k, float(first_step))
    elif span > 0:  # Hairer's starting step, per system (SciPy's select_initial_step)
        scale = atol + rtol * np.abs(y)
        d0 = np.sqrt(np.mean((y / scale) ** 2, axis=0))
        d1 = np.sqrt(np.mean((k1 / scale) ** 2, axis=0))
        h0 = np.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / np.where(d1 > 0, d1, 1))
        h0 = np.minimum(h0, span)
        d2 = np.sqrt(np.mean(((f(y + h0 * k1, every) - k1) / scale) ** 2, axis=0)) / h0
        big = np.maximum(d1, d2)
        h1 = np.where(big <= 1e-15, np.maximum(1e-6, h0 * 1e-3),
                      (0.01 / np.where(big > 0, big, 1)) ** 0.2)
        h = np.minimum(np.minimum(100 * h0, h1), span)
    else:
        h = np.zeros(k)
    was_rejected = np.zeros(k, bool)
    while True:
        act = np.flatnonzero((t < t_end) & (status == 0))
        if act.size == 0:
            break
        over = accepted[act] + rejected[act] >= max_steps
        tiny = h[act] < MIN_STEP * np.abs(t[act])
        status[act[over]], status[act[tiny & ~over]] = 1, 2
        act = act[~(over | tiny)]
        if act.size == 0:
            break
        ta, ya, ka = t[act], y[:, act], [k1[:, act]]
        last = ta + h[act] >= t_end
        ha = np.where(last, t_end - ta, h[act])
        for s in range(1, 6):
            ka.append(f(ya + ha * sum(a[s][q] * ka[q] for q in range(s)), act))
        z = ya + ha * sum(b[q] * ka[q] for q in range(6) if b[q])
        ka.append(f(z, act))
        err = ha * sum(e[q] * ka[q] for q in range(7) if e[q])
        with np.errstate(invalid="ignore", over="ignore"):
            norm = np.sqrt(np.mean((err / (atol + rtol * np.maximum(np.abs(ya), np.abs(z)))) ** 2, axis=0))
        good = (norm < 1) & np.all(np.isfinite(z), axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            power = step_power(norm)
            grow = np.where(norm == 0, MAX_FACTOR, np.minimum(MAX_FACTOR, SAFETY * power))
            shrink = np.where(np.isfinite(norm), np.maximum(MIN_FACTOR, SAFETY * power), MIN_FACTOR)
        grow = np.where(was_rejected[act], np.minimum(1.0, grow), grow)
        # rejected: a smaller step, tried again
        bad = act[~good]
        h[bad] = ha[~good] * shrink[~good]
        rejected[bad] += 1
        was_rejected[bad] = True
        # accepted: the outputs inside the step, then the step
        g = act[good]
        tn = np.where(last[good], t_end, ta[good] + ha[good])
        hg, yg, zg, kg = ha[good], ya[:, good], z[:, good], [x[:, good] for x in ka]
        while True:
            m = nxt[g]
            want = m < nt
            want[want] &= t_eval[m[want]] <= tn[want]
            if not want.any():
                break
            w, mw = np.flatnonzero(want), m[want]
            theta = (t_eval[mw] - ta[good][w]) / hg[w]
            powers = theta[None, :] ** np.arange(1, 5)[:, None]  # (4, W)
            weights = p @ powers  # (7, W)
            value = yg[:, w] + hg[w] * sum(weights[q] * kg[q][:, w] for q in range(7) if p[q].any())
            at_end = t_eval[mw] == tn[w]
            value[:, at_end] = zg[:, w[at_end]]
            if project:
                _project(value, [r[g[w]] for r in r0], groups)
            out[:, g[w], mw] = value
            nxt[g[w]] += 1
        t[g] = tn
        y[:, g] = zg
        k1[:, g] = kg[6]
        if project and groups:
            yy = y[:, g]
            _project(yy, [r[g] for r in r0], groups)
            y[:, g] = yy
            k1[:, g] = f(yy, g)
        h[g] = hg * grow[good]
        accepted[g] += 1
        was_rejected[g] = False
    return out, accepted, rejected, status, drift(out, groups)


def substeps(t0: float, t_eval: np.ndarray, step: float) -> np.ndarray:
    """How many equal rk4 steps lead to each output time from the previous one (t0 first):
    ceil(gap/step), the ratio taken 1e-12 smaller so that a gap of exactly m steps is m."""
    gaps = np.diff(np.concatenate([[t0], t_eval]))
    return np.ceil(gaps / step * (1 - 1e-12)).astype(np.int64)


def rk4(module: ModuleType, t0: float, t_eval: np.ndarray, y: np.ndarray, params: Sequence, *,
        step: float, project: bool = False) -> tuple:
    """Classic Runge--Kutta with steps of at most ``step`` landing on every output time, in NumPy;
    the same arguments and result as :func:`dp54` (rejected all 0, status all 0)."""
    groups = getattr(module, "NORMS", ())
    n, k = y.shape
    subs = substeps(t0, t_eval, step)
    out = np.empty((n, k, t_eval.size))
    y = np.array(y, dtype=float)
    r0 = _norms(y, groups)
    start = float(t0)

    def f(tt, yy):
        return module.rhs(tt, yy, *params)

    for m, (end, count) in enumerate(zip(t_eval, subs)):
        if count:
            dt = (end - start) / count
            for s in range(count):
                tt = start + s * dt
                a1 = f(tt, y)
                a2 = f(tt + dt / 2, y + dt / 2 * a1)
                a3 = f(tt + dt / 2, y + dt / 2 * a2)
                a4 = f(tt + dt, y + dt * a3)
                y += dt / 6 * (a1 + 2 * a2 + 2 * a3 + a4)
                if project:
                    _project(y, r0, groups)
            start = float(end)
        out[:, :, m] = y
    total = np.full(k, int(subs.sum()), np.int64)
    return out, total, np.zeros(k, np.int64), np.zeros(k, np.int64), drift(out, groups)


def step_count(t0: float, t_eval: np.ndarray, step: float) -> int:
    """The number of rk4 steps to the last output time."""
    return int(substeps(t0, t_eval, step).sum())


def check_step(step) -> float:
    """A positive finite rk4 step, or ValueError."""
    if isinstance(step, bool) or not isinstance(step, (int, float, np.floating, np.integer)) \
            or not (math.isfinite(step) and step > 0):
        raise ValueError(f"the step must be a positive finite number, got {step!r}")
    return float(step)
