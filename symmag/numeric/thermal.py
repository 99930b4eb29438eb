"""Stochastic LLG: the Brown thermal field, its counter-based random numbers, stochastic Heun.

Physics.  For an LLG model in Gilbert form dM/dt = -|gamma_G| M x H_eff + (alpha_G/|M|) M x dM/dt
the fluctuation-dissipation theorem fixes Brown's thermal field, added to H_eff:

    <H_th,i(t) H_th,j(t')> = 2 D delta_ij delta(t - t'),   D = alpha_G k_B T / (|gamma_G| mu0 M_s V).

:func:`analyse` reads alpha_G and |gamma_G| off the model's own derived right-hand side (the
equation written a M x H + b M x (M x H): alpha_G = b|M|/a, |gamma_G| = -a (1 + alpha_G^2)), so the
damping is the one the derivation produced -- alpha0 of (39)-(40) for ``llg_rsi``, the Sec. III B
alpha_eff for ``llg_rsi_extra`` -- and is never typed again; the thermal field is added to the
applied-field parameters ``Hx, Hy, Hz`` (H_eff = H + H_internal(M), as in ``gilbert_model``).
A model without them, without an M x (M x H) term or whose damping depends on the state is refused.

Units.  SI: H and M in A/m (|M| = M_s), |gamma| in m/(A s) (2.2128e5 for g = 2), t in s, T in K,
M_s in A/m and V in m^3 parameters of the noise, k_B and mu0 below.  The kernels take the
thermal field scale theta = k_B T/(mu0 M_s V) (A/m: the field whose Zeeman energy on the particle is
k_B T), so D = alpha_G theta/|gamma_G|.  Reduced units: m = M/M_s as the state (the LLG equations are
homogeneous in M, so m(t) = M(t)/M_s), fields in a unit H_u, time in 1/(|gamma| H_u); then theta is
the reduced temperature k_B T/(mu0 M_s V H_u) = 1/xi for a field H_u, and ``temperature`` is given as
that number directly (:func:`field_scale`).

Numerics.  Stratonovich interpretation, stochastic Heun: with the field increment
dH = sqrt(2 D/h) z (z three standard normals per system and step),
k1 = f(y; H + dH), y~ = y + h k1, k2 = f(y~; H + dH), y' = y + (h/2)(k1 + k2); with ``project`` y' is
scaled back to |y(t0)| after every step (the norm-preserving variant).

Random numbers: Philox4x32-10 (Salmon et al. 2011) keyed by the 64-bit seed, counter (step, system
index) -- the step counted from ``step_offset`` (default 0), the system from ``offset``, so that a run
continued from another's end with the same seed draws new numbers when it passes that run's
step_offset plus its steps (symmag.numeric.simulate records it as ``next_step_offset``) -- and the
inverse normal CDF of Acklam (relative error 1.2e-9) from the first three 32-bit words; its tails
need a logarithm, computed here from six square roots and a series (only +, -, *, / and sqrt, which
IEEE rounds correctly).  The same functions run vectorized in NumPy and compiled
by numba (the generated ``MODEL_numba.heun`` imports them), so a trajectory is bit-identical across
chunk sizes, thread counts and the two backends (tests/test_thermal.py).

May use: NumPy, SymPy (:func:`analyse` only), symmag.errors; never numba (the core install).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

import numpy

from ..errors import SymmagInputError

#: Boltzmann's constant, J/K (exact in the SI since 2019)
K_B = 1.380649e-23
#: the vacuum permeability, N/A^2 (CODATA 2018)
MU_0 = 1.25663706212e-6
#: the applied-field parameters the thermal field is added to
FIELD_NAMES = ("Hx", "Hy", "Hz")


@dataclass(frozen=True)
class Thermal:
    """How a model takes thermal noise: the positions of Hx, Hy, Hz among its parameters, and
    its Gilbert damping alpha_G and gyromagnetic ratio |gamma_G| as expressions in the parameters."""

    field: tuple[int, int, int]
    alpha: object  # sympy.Expr
    gamma: object  # sympy.Expr


def analyse(model) -> Thermal:
    """The Gilbert damping and gyromagnetic ratio of an LLG ``model`` (a symmag.numeric.codegen.Model)
    read off its right-hand side, or SymmagInputError saying why it takes no thermal field."""
    import sympy as sp

    names = [p.name for p in model.parameters]
    if len(model.state) != 3:
        raise SymmagInputError(f"{model.name} is not a macrospin LLG model (its state is not M = (Mx, My, "
                               "Mz)): it has no Gilbert damping to take thermal noise")
    missing = [n for n in FIELD_NAMES if n not in names]
    if missing:
        raise SymmagInputError(f"{model.name} has no applied-field parameter(s) {', '.join(missing)} for the "
                               "thermal field to add to")
    field = tuple(names.index(n) for n in FIELD_NAMES)
    h = [model.parameters[i] for i in field]
    m = sp.Matrix(model.state)
    g = sp.Matrix(model.rhs).jacobian(h)
    if any(sp.diff(x, hh) != 0 and sp.simplify(sp.diff(x, hh)) != 0 for x in g for hh in h):
        raise SymmagInputError(f"{model.name}: the field enters its equation nonlinearly; not an LLG model")
    eta = sp.Matrix(sp.symbols("eta0:3", real=True))
    noise = g * eta
    prec = m.cross(eta)
    damp = m.cross(prec)
    a = sp.cancel(noise.dot(prec) / prec.dot(prec))
    b = sp.cancel(noise.dot(damp) / damp.dot(damp))
    if (a.free_symbols | b.free_symbols) & set(eta) or any(
            sp.simplify(x) != 0 for x in noise - a * prec - b * damp):
        raise SymmagInputError(f"{model.name}: its right-hand side is not a M x H + b M x (M x H); "
                               "not an LLG model")
    if sp.simplify(b) == 0:
        raise SymmagInputError(f"{model.name} has no Gilbert damping (no M x (M x H) term): thermal noise "
                               "needs one")
    magnitude = sp.sqrt(m.dot(m))
    alpha = sp.simplify(sp.factor(b * magnitude / a))
    gamma = sp.simplify(sp.factor(-a * (1 + alpha**2)))
    if (alpha.free_symbols | gamma.free_symbols) & set(model.state):
        raise SymmagInputError(f"{model.name}: its Gilbert damping depends on the state; the thermal field "
                               "here needs one fixed by the parameters")
    return Thermal(field, alpha, gamma)


def thermal_or_none(model) -> Thermal | None:
    """:func:`analyse`, or None for a model that takes no thermal field (codegen renders no heun)."""
    try:
        return analyse(model)
    except SymmagInputError:
        return None


# -- units -------------------------------------------------------------------------------------
def check_temperature(temperature) -> numpy.ndarray | float:
    """A temperature (a number or an array of them) that is finite and not negative."""
    if isinstance(temperature, bool):
        raise SymmagInputError(f"temperature must be a number, got {temperature!r}")
    try:
        value = numpy.asarray(temperature, dtype=float)
    except (TypeError, ValueError) as exc:
        raise SymmagInputError(f"temperature must be a number or an array of numbers, got "
                               f"{temperature!r:.60}") from exc
    if value.ndim > 1 or not numpy.all(numpy.isfinite(value)):
        raise SymmagInputError("temperature must be finite: a number or one per system")
    if numpy.any(value < 0):
        raise SymmagInputError(f"temperature must not be negative, got {numpy.min(value):g}")
    return float(value) if value.ndim == 0 else value


def field_scale(temperature, ms: float | None = None, volume: float | None = None):
    """theta = k_B T/(mu0 M_s V), the thermal field scale the kernels take: in SI with T in K,
    ``ms`` in A/m and ``volume`` in m^3; without them (reduced units) ``temperature`` already is
    theta = k_B T/(mu0 M_s V H_u) in the unit H_u of the fields."""
    t = check_temperature(temperature)
    if (ms is None) != (volume is None):
        raise SymmagInputError("give both ms (A/m) and volume (m^3) for SI units, or neither for reduced "
                               "units")
    if ms is None:
        return t
    for what, v in (("ms", ms), ("volume", volume)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (math.isfinite(v) and v > 0):
            raise SymmagInputError(f"{what} must be a positive finite number, got {v!r}")
    return K_B * t / (MU_0 * float(ms) * float(volume))


def check_seed(seed) -> int:
    """A seed: a whole number in [0, 2^64)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**64:
        raise SymmagInputError(f"seed must be a whole number in [0, 2^64), got {seed!r}")
    return int(seed)


def seed_key(seed: int) -> tuple[int, int]:
    """The two 32-bit key words of Philox from a 64-bit seed."""
    seed = check_seed(seed)
    return seed & 0xFFFFFFFF, seed >> 32


# -- Philox4x32-10 and normal numbers: one implementation, NumPy arrays or numba scalars ------------
_MASK = numpy.uint64(0xFFFFFFFF)
_S32 = numpy.uint64(32)
_M0 = numpy.uint64(0xD2511F53)
_M1 = numpy.uint64(0xCD9E8D57)
_W0 = numpy.uint64(0x9E3779B9)
_W1 = numpy.uint64(0xBB67AE85)


def philox(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of the counter (c0, c1, c2, c3) under the key (k0, k1): four 32-bit words.
    Every argument and result is uint64 holding a 32-bit value (scalars or arrays): the 32 x 32
    products are exact in 64 bits, and there is nothing but integer arithmetic."""
    for _ in range(10):
        p0 = _M0 * c0
        p1 = _M1 * c2
        c0, c1, c2, c3 = ((p1 >> _S32) ^ c1 ^ k0, p1 & _MASK, (p0 >> _S32) ^ c3 ^ k1, p0 & _MASK)
        k0 = (k0 + _W0) & _MASK
        k1 = (k1 + _W1) & _MASK
    return c0, c1, c2, c3


# Acklam's rational approximations of the inverse normal CDF (central region and lower tail)
_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
      -3.066479806614716e+01, 2.506628277459239e+00)
_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
      -1.328068155288572e+01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
      4.374664141464968e+00, 2.938163982698783e+00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00)
P_LOW = 0.02425
_LN_TERMS = tuple(1.0 / (2 * n + 1) for n in range(12))


def central(q):
    """Acklam's central rational function of q = u - 1/2 (|q| <= 1/2 - P_LOW)."""
    r = q * q
    num = (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q
    den = ((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0
    return num / den


def tail(p):
    """Acklam's lower tail at p in [2^-33, P_LOW) (a negative number).  Its log p is computed from
    +, -, *, / and sqrt only (correctly rounded at every step in NumPy and numba alike):
    x = p^(1/64) by six square roots lies in [0.69, 1], where log x = 2 atanh s,
    s = (x - 1)/(x + 1), |s| < 0.18, summed in 12 terms (truncation below 1e-17)."""
    x = p
    for _ in range(6):
        x = numpy.sqrt(x)
    s = (x - 1.0) / (x + 1.0)
    s2 = s * s
    acc = _LN_TERMS[11]
    for n in range(10, -1, -1):
        acc = acc * s2 + _LN_TERMS[n]
    q = numpy.sqrt(-256.0 * s * acc)  # sqrt(-2 log p), log p = 64 log x = 128 s acc
    num = ((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]
    den = (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0
    return num / den


_TWO_M32 = 2.0**-32


def make_normal(tail_, central_):
    """The scalar inverse CDF from its two parts: one standard normal number from a 32-bit word x
    (uint64), u = (x + 1/2) 2^-32 exactly.  Built from given parts so that numba compiles it
    over their compiled versions (the generated kernels) and plain Python over these."""

    def normal(x):
        u = (numpy.float64(x) + 0.5) * _TWO_M32
        v = 1.0 - u  # exact: u has 33 significant bits
        if u < 0.5:
            if u < P_LOW:
                return tail_(u)
        elif v < P_LOW:
            return -tail_(v)
        return central_(u - 0.5)

    return normal


#: :func:`make_normal` over the plain parts (for a scalar)
normal = make_normal(tail, central)


def normals(x):
    """:func:`normal` over an array of 32-bit words, the same arithmetic for every element that
    it selects."""
    u = (x.astype(numpy.float64) + 0.5) * _TWO_M32
    v = 1.0 - u
    low = u < 0.5
    p = numpy.where(low, u, v)
    lower = tail(p)  # every element (only those below P_LOW are kept): p <= 1/2 is in its range
    return numpy.where(p < P_LOW, numpy.where(low, lower, -lower), central(u - 0.5))


def thermal_normals(seed: int, systems: numpy.ndarray, step: int) -> numpy.ndarray:
    """The three standard normals (3, K) of the given systems (global indices) at one step."""
    k0, k1 = (numpy.uint64(w) for w in seed_key(seed))
    j = systems.astype(numpy.uint64)
    n = numpy.uint64(step)
    words = philox(numpy.full(j.shape, n & _MASK), numpy.full(j.shape, n >> _S32), j & _MASK, j >> _S32,
                   k0, k1)
    return numpy.stack([normals(w) for w in words[:3]])


def noise_scale(alpha, gamma, theta):
    """2 alpha_G theta/|gamma_G| (the thermal field is sqrt(that/h) z per step), as the kernels compute
    it: exactly 0 where theta is 0 -- no noise at T = 0 whatever the damping, also at |gamma_G| = 0
    where the formula is 0/0 (the deterministic LLG then, which for gamma = 0 does not move)."""
    alpha, gamma, theta = (numpy.asarray(x, dtype=float) for x in (alpha, gamma, theta))
    with numpy.errstate(divide="ignore", invalid="ignore"):
        return numpy.where(theta > 0.0, 2.0 * alpha * theta / gamma, 0.0)


# -- stochastic Heun, NumPy ---------------------------------------------------------------------
def heun(module: ModuleType, t0: float, t_eval: numpy.ndarray, y: numpy.ndarray, params: Sequence, *,
         step: float, theta=0.0, seed: int = 0, offset: int = 0, step_offset: int = 0,
         project: bool = False) -> tuple:
    """Stochastic Heun (Stratonovich) for every system of ``module`` in NumPy, bit-identical to the
    generated ``MODEL_numba.heun``: y (3, K), parameters scalars or (K,) arrays, the thermal field
    scale ``theta`` (scalar or (K,)), ``offset`` the global index of the first system and
    ``step_offset`` the number of the first step (the counter of its random numbers: a run continuing
    another from its end passes that run's step_offset plus its steps, else it repeats its noise).
    No noise where theta is 0 (:func:`noise_scale`).  Steps as rk4 (symmag.numeric.integrators.substeps).
    Returns (y (3, K, T), steps (K,), rejected 0, status 0, drift (K,) or None)."""
    from .integrators import drift, substeps

    field = getattr(module, "THERMAL_FIELD", ())
    if not field:
        raise SymmagInputError("this model takes no thermal field (no Gilbert damping): heun needs an LLG "
                               "model")
    groups = getattr(module, "NORMS", ())
    n, k = y.shape
    subs = substeps(t0, t_eval, step)
    params = list(params)
    d2 = noise_scale(*module.damping(*params), theta)
    systems = numpy.arange(offset, offset + k)
    ys = [numpy.array(y[i], dtype=float) for i in range(n)]
    r0 = [numpy.sqrt(sum(ys[i] * ys[i] for i in g)) for g in groups]
    out = numpy.empty((n, k, t_eval.size))
    start, count = float(t0), int(step_offset)
    for m, (end, ns) in enumerate(zip(t_eval, subs)):
        if ns:
            h = (end - start) / ns
            hh = 0.5 * h
            sg = numpy.sqrt(d2 / h)
            for s in range(ns):
                t = start + s * h
                z = thermal_normals(seed, systems, count)
                noisy = list(params)
                for c, i in enumerate(field):
                    noisy[i] = params[i] + sg * z[c]
                k1 = module.kernel_rhs(t, *ys, *noisy)
                k2 = module.kernel_rhs(t + h, *(a + h * b for a, b in zip(ys, k1)), *noisy)
                ys = [a + hh * (b + c) for a, b, c in zip(ys, k1, k2)]
                if project:
                    for g, r in zip(groups, r0):
                        p = r / numpy.sqrt(sum(ys[i] * ys[i] for i in g))
                        for i in g:
                            ys[i] = ys[i] * p
                count += 1
            start = float(end)
        for i in range(n):
            out[i, :, m] = ys[i]
    steps = numpy.full(k, int(subs.sum()), numpy.int64)
    zeros = numpy.zeros(k, numpy.int64)
    return out, steps, zeros, zeros.copy(), drift(out, groups)
