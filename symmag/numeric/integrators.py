"""Per-system ensemble integrators: the methods' coefficients and the NumPy fallback.

Every system of an ensemble is advanced on its own: its own step size, its own accepted and
rejected steps, its own time.  Three methods:

* ``dp54`` -- the Dormand--Prince 5(4) pair (as SciPy's RK45: local extrapolation, FSAL,
  the error norm RMS_i |e_i| / (atol + rtol max(|y_i|, |y_new_i|)) over one system's
  components, safety 0.9, step factor in [0.2, 10] and at most 1 right after a rejection,
  Hairer's starting step) with its quartic dense output at the requested times;
* ``dop853`` -- Dormand and Prince's 8(5,3) pair as SciPy's DOP853 (its error norm from the
  fifth- and third-order estimates, step exponent -1/8, the same controller), with the dense
  output of order 7 from three more stages, computed only for a step that holds an output: at
  the tolerances where every system must be right to 1e-5 it needs about a fifth of dp54's
  steps, each costing about 2.5 of dp54's (BENCHMARKS.md);
* ``rk4`` -- the classic fixed-step Runge--Kutta method; between consecutive output times a
  and b it takes ceil((b - a)/step) equal steps, so every output time is a step's end and
  nothing is interpolated.

The numba kernels are generated beside each model's numba right-hand side
(``symmag codegen --backend numba``, template ``numba_rhs.py.j2``) from the coefficients
here, with the model's right-hand side inlined so that a system's state stays in registers
through a step.  :func:`dp54`, :func:`dop853` and :func:`rk4` below are the NumPy fallback
(vectorized over the systems still running, each with its own step) for modules without kernels:
the core install needs no numba.  Each returns ``(y, accepted, rejected, status, drift)`` -- see
:data:`STATUS` -- and ``symmag.numeric.simulate.simulate(..., integrator=...)`` wraps them.  The
stochastic Heun integrator of the thermal LLG (``integrator="heun"``) and its NumPy fallback are in
:mod:`symmag.numeric.thermal`; it takes its steps as rk4 does (:func:`substeps`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
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
# -- Dormand & Prince's 8(5,3) pair DOP853 (Hairer, Norsett & Wanner, Solving ODEs I, 2nd ed., and
# Hairer's dop853.f), with its seventh-order dense output: the coefficients of SciPy's DOP853
# (scipy/integrate/_ivp/dop853_coefficients.py) as float literals, rows of A up to the stage, so
# that the kernels and symmag.exact.fused do not import a private SciPy module; a test compares them.
# Stages 0-11 make the step, stage 12 is f at the new point (FSAL), 13-15 the dense output's.
D8_C = (0.0, 0.05260015195876773, 0.0789002279381516, 0.1183503419072274, 0.2816496580927726,
        0.3333333333333333, 0.25, 0.3076923076923077, 0.6512820512820513, 0.6, 0.8571428571428571, 1.0, 1.0,
        0.1, 0.2, 0.7777777777777778)
D8_A = (
    (),
    (0.05260015195876773,),
    (0.0197250569845379, 0.0591751709536137),
    (0.02958758547680685, 0.0, 0.08876275643042054),
    (0.2413651341592667, 0.0, -0.8845494793282861, 0.924834003261792),
    (0.037037037037037035, 0.0, 0.0, 0.17082860872947386, 0.12546768756682242),
    (0.037109375, 0.0, 0.0, 0.17025221101954405, 0.06021653898045596, -0.017578125),
    (0.03709200011850479, 0.0, 0.0, 0.17038392571223998, 0.10726203044637328, -0.015319437748624402,
     0.008273789163814023),
    (0.6241109587160757, 0.0, 0.0, -3.3608926294469414, -0.868219346841726, 27.59209969944671,
     20.154067550477894, -43.48988418106996),
    (0.47766253643826434, 0.0, 0.0, -2.4881146199716677, -0.590290826836843, 21.230051448181193,
     15.279233632882423, -33.28821096898486, -0.020331201708508627),
    (-0.9371424300859873, 0.0, 0.0, 5.186372428844064, 1.0914373489967295, -8.149787010746927,
     -18.52006565999696, 22.739487099350505, 2.4936055526796523, -3.0467644718982196),
    (2.273310147516538, 0.0, 0.0, -10.53449546673725, -2.0008720582248625, -17.9589318631188,
     27.94888452941996, -2.8589982771350235, -8.87285693353063, 12.360567175794303, 0.6433927460157636),
    (0.054293734116568765, 0.0, 0.0, 0.0, 0.0, 4.450312892752409, 1.8915178993145003, -5.801203960010585,
     0.3111643669578199, -0.1521609496625161, 0.20136540080403034, 0.04471061572777259),
    (0.056167502283047954, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25350021021662483, -0.2462390374708025,
     -0.12419142326381637, 0.15329179827876568, 0.00820105229563469, 0.007567897660545699, -0.008298),
    (0.03183464816350214, 0.0, 0.0, 0.0, 0.0, 0.028300909672366776, 0.053541988307438566,
     -0.05492374857139099, 0.0, 0.0, -0.00010834732869724932, 0.0003825710908356584,
     -0.00034046500868740456, 0.1413124436746325),
    (-0.42889630158379194, 0.0, 0.0, 0.0, 0.0, -4.697621415361164, 7.683421196062599, 4.06898981839711,
     0.3567271874552811, 0.0, 0.0, 0.0, -0.0013990241651590145, 2.9475147891527724, -9.15095847217987),
)
D8_B = (0.054293734116568765, 0.0, 0.0, 0.0, 0.0, 4.450312892752409, 1.8915178993145003, -5.801203960010585,
        0.3111643669578199, -0.1521609496625161, 0.20136540080403034, 0.04471061572777259)
D8_E3 = (-0.18980075407240762, 0.0, 0.0, 0.0, 0.0, 4.450312892752409, 1.8915178993145003, -5.801203960010585,
         -0.4226823213237919, -0.1521609496625161, 0.20136540080403034, 0.02265179219836082, 0.0)
D8_E5 = (0.01312004499419488, 0.0, 0.0, 0.0, 0.0, -1.2251564463762044, -0.4957589496572502,
         1.6643771824549864, -0.35032884874997366, 0.3341791187130175, 0.08192320648511571,
         -0.022355307863886294, 0.0)
D8_D = (
    (-8.428938276109013, 0.0, 0.0, 0.0, 0.0, 0.5667149535193777, -3.0689499459498917, 2.38466765651207,
     2.117034582445028, -0.871391583777973, 2.2404374302607883, 0.6315787787694688, -0.08899033645133331,
     18.148505520854727, -9.194632392478356, -4.436036387594894),
    (10.427508642579134, 0.0, 0.0, 0.0, 0.0, 242.28349177525817, 165.20045171727028, -374.5467547226902,
     -22.113666853125306, 7.733432668472264, -30.674084731089398, -9.332130526430229, 15.697238121770845,
     -31.139403219565178, -9.35292435884448, 35.81684148639408),
    (19.985053242002433, 0.0, 0.0, 0.0, 0.0, -387.0373087493518, -189.17813819516758, 527.8081592054236,
     -11.57390253995963, 6.8812326946963, -1.0006050966910838, 0.7777137798053443, -2.778205752353508,
     -60.19669523126412, 84.32040550667716, 11.99229113618279),
    (-25.69393346270375, 0.0, 0.0, 0.0, 0.0, -154.18974869023643, -231.5293791760455, 357.6391179106141,
     93.40532418362432, -37.45832313645163, 104.0996495089623, 29.8402934266605, -43.53345659001114,
     96.32455395918828, -39.17726167561544, -149.72683625798564),
)
#: the dense output's polynomial has INTERPOLATOR_POWER = 7 coefficient vectors F0..F6
D8_STAGES, D8_STAGES_EXTENDED = 12, 16

SAFETY, MIN_FACTOR, MAX_FACTOR = 0.9, 0.2, 10.0
#: the step-size exponent -1/(q + 1), q = 4 the order of the embedded error estimate
ERROR_EXPONENT = -0.2
#: err^ERROR_EXPONENT for the step factor without pow (a libm call does not vectorize, and pow was a
#: fifth of a dp54 kernel's run): err clamped to [2^-18, 2^11] (outside, SAFETY err^-0.2 is beyond
#: [MIN_FACTOR, MAX_FACTOR] anyway), times 2^18 into [1, 2^29], reduced to m in [1, 2) by the powers
#: 2^16, 2^8, 2^4, 2^2, 2 (each exact) collecting the factors 2^(-0.2 k) of those taken, times m^-0.2
#: by a degree-6 polynomial in m - 1.5 (relative error 4.4e-7; Chebyshev fit).  The constants are
#: literals (not computed by pow here) so that every platform renders the same kernels, and the NumPy
#: fallback and the kernels do the same operations in the same order (the kernels may fuse a multiply
#: and an add: the backends agree to rounding and take the same steps but in a rare tie)
POWER_CLAMP = (2.0**-18, 2.0**11)
POWER_SCALE, POWER_START = 2.0**18, 12.125732532083186  # 2^18 and 2^(0.2 * 18)
POWER_STEPS = ((65536.0, 1.52587890625e-05, 0.1088188204120155), (256.0, 0.00390625, 0.32987697769322355),
               (16.0, 0.0625, 0.5743491774985174), (4.0, 0.25, 0.757858283255199),
               (2.0, 0.5, 0.8705505632961241))  # (2^k, 2^-k, 2^(-0.2 k))
POWER_POLY = (0.00499289927655364, -0.008393484268018392, 0.012685092776699063, -0.023885328276229877,
              0.04918613996321991, -0.12295275249306224, 0.9221078556419305)  # highest degree first


@dataclass(frozen=True)
class StepPower:
    """err^exponent without pow, as POWER_* above describe for dp54: err clamped to ``clamp``, times
    ``scale`` (= 1/clamp[0]), reduced to m in [1, 2) by the exact powers of two of ``steps`` (2^k,
    2^-k, 2^(exponent k)), times m^exponent by the polynomial ``poly`` in m - 1.5 (highest degree
    first); ``start`` = scale^(-exponent)."""

    exponent: float
    clamp: tuple[float, float]
    scale: float
    start: float
    steps: tuple[tuple[float, float, float], ...]
    poly: tuple[float, ...]


DP54_POWER = StepPower(ERROR_EXPONENT, POWER_CLAMP, POWER_SCALE, POWER_START, POWER_STEPS, POWER_POLY)
#: DOP853's err^(-1/8) (its error estimate is of order 7): clamped to [2^-28, 2^18] (0.9 err^(-1/8) is
#: 10.2 and 0.19 there, beyond [MIN_FACTOR, MAX_FACTOR]), the polynomial's relative error 2.4e-7
D8_POWER = StepPower(
    -0.125, (2.0**-28, 2.0**18), 2.0**28, 11.313708498984761,  # 2^(28/8)
    ((4294967296.0, 2.3283064365386963e-10, 0.0625), (65536.0, 1.52587890625e-05, 0.25),
     (256.0, 0.00390625, 0.5), (16.0, 0.0625, 0.7071067811865476), (4.0, 0.25, 0.8408964152537145),
     (2.0, 0.5, 0.9170040432046712)),
    (0.002742136820818101, -0.004677392683367335, 0.007231957301044565, -0.013941965528850237,
     0.02970940775252396, -0.07921771657040463, 0.9505797949620347))


def step_power(err: np.ndarray, power: StepPower = DP54_POWER) -> np.ndarray:
    """err^power.exponent as the kernels compute it, elementwise; nan stays nan."""
    x = np.minimum(np.maximum(err, power.clamp[0]), power.clamp[1]) * power.scale
    r = np.full(np.shape(x), power.start)
    for big, inverse, factor in power.steps:
        taken = x >= big
        x = x * np.where(taken, inverse, 1.0)
        r = r * np.where(taken, factor, 1.0)
    u = x - 1.5
    p = np.full(np.shape(x), power.poly[0])
    for c in power.poly[1:]:
        p = p * u + c
    return r * p


#: a step below this times |t| fails the system (status 2): about SciPy's 10 ulps of t
MIN_STEP = 10 * float(np.finfo(float).eps)

#: the per-system status codes of the integrators
STATUS = {0: "reached the last output time", 1: "took more than max_steps steps",
          2: "step size fell below 10 eps |t| (the solution is singular or not finite there)",
          3: "an output is not finite (it overflowed); the system stopped at that step"}


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
    return _embedded("dp54", module, t0, t_eval, y, params, rtol=rtol, atol=atol, first_step=first_step,
                     max_steps=max_steps, project=project)


def dop853(module: ModuleType, t0: float, t_eval: np.ndarray, y: np.ndarray, params: Sequence, *,
           rtol: float = 1e-6, atol: float = 1e-9, first_step: float = 0.0, max_steps: int = 100_000,
           project: bool = False) -> tuple:
    """DOP853 per system (as SciPy's DOP853: the 8(5,3) error norm, exponent -1/8, the dense output of
    order 7 from three more stages), in NumPy; the arguments and result of :func:`dp54`."""
    return _embedded("dop853", module, t0, t_eval, y, params, rtol=rtol, atol=atol, first_step=first_step,
                     max_steps=max_steps, project=project)


def _embedded(method: str, module: ModuleType, t0: float, t_eval: np.ndarray, y: np.ndarray,
              params: Sequence, *, rtol: float, atol: float, first_step: float, max_steps: int,
              project: bool) -> tuple:
    """dp54 or dop853, every system with its own step; the operations of the generated kernels."""
    if not getattr(module, "AUTONOMOUS", False):
        raise ValueError(f"the NumPy {method} needs an autonomous model (no explicit t); use the numba "
                         "module or solve_ivp")
    groups = getattr(module, "NORMS", ())
    n, k = y.shape
    nt = t_eval.size
    t_end = float(t_eval[-1])
    eight = method == "dop853"
    if eight:
        a, b, stages, power, order = D8_A, D8_B, D8_STAGES, D8_POWER, 7
    else:
        a, b, stages, power, order = [floats(r) for r in DP_A], floats(DP_B), 6, DP54_POWER, 4
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

    def combine(coefs, ks):
        return sum(x * kk for x, kk in zip(coefs, ks) if x)

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
                      (0.01 / np.where(big > 0, big, 1)) ** (1 / (order + 1)))
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
        for s in range(1, stages):
            ka.append(f(ya + ha * combine(a[s], ka), act))
        z = ya + ha * combine(b, ka)
        ka.append(f(z, act))
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            scale = atol + rtol * np.maximum(np.abs(ya), np.abs(z))
            if eight:  # SciPy's DOP853._estimate_error_norm
                e5 = (combine(D8_E5, ka) / scale) ** 2
                e3 = (combine(D8_E3, ka) / scale) ** 2
                e5, e3 = sum(e5[i] for i in range(n)), sum(e3[i] for i in range(n))
                den = e5 + 0.01 * e3
                norm = np.where(den != 0, ha * e5 / np.sqrt(den * n), 0.0)
            else:
                err = ha * sum(e * kk for e, kk in zip(floats(DP_E), ka) if e)
                norm = np.sqrt(sum(((err / scale) ** 2)[i] for i in range(n)) / n)
        good = (norm < 1) & np.all(np.isfinite(z), axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = step_power(norm, power)
            grow = np.where(norm == 0, MAX_FACTOR, np.minimum(MAX_FACTOR, SAFETY * factor))
            shrink = np.where(np.isfinite(norm), np.maximum(MIN_FACTOR, SAFETY * factor), MIN_FACTOR)
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
        if eight and g.size:  # the dense output's three more stages and coefficient vectors F0..F6
            for s in range(stages + 1, D8_STAGES_EXTENDED):
                kg.append(f(yg + hg * combine(a[s], kg), g))
            dy = zg - yg
            big_f = [dy, hg * kg[0] - dy, 2 * dy - hg * (kg[stages] + kg[0])]
            big_f += [hg * combine(row, kg) for row in D8_D]
        while True:
            m = nxt[g]
            want = m < nt
            want[want] &= t_eval[m[want]] <= tn[want]
            if not want.any():
                break
            w, mw = np.flatnonzero(want), m[want]
            theta = (t_eval[mw] - ta[good][w]) / hg[w]
            if eight:  # SciPy's Dop853DenseOutput: F6, F5, ..., F0 times x and 1 - x in turn
                value = np.zeros((n, w.size))
                for i, part in enumerate(reversed(big_f)):
                    value = (value + part[:, w]) * (theta if i % 2 == 0 else 1 - theta)
                value = yg[:, w] + value
            else:
                powers = theta[None, :] ** np.arange(1, 5)[:, None]  # (4, W)
                weights = np.array([floats(r) for r in DP_P]) @ powers  # (7, W)
                value = yg[:, w] + hg[w] * sum(weights[q] * kg[q][:, w] for q in range(7) if any(DP_P[q]))
            at_end = t_eval[mw] == tn[w]
            value[:, at_end] = zg[:, w[at_end]]
            if project:
                _project(value, [r[g[w]] for r in r0], groups)
            out[:, g[w], mw] = value
            nxt[g[w]] += 1
            with np.errstate(invalid="ignore"):
                status[g[w][~np.all(np.isfinite(value), axis=0)]] = 3  # as the kernels: stopped
        t[g] = tn
        y[:, g] = zg
        k1[:, g] = kg[stages]
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
