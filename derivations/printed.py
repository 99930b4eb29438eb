"""The paper's equations as printed, kept apart from what symmag derives.

Keyed by equation number as a string.  Derivations never copy these into
their derived side; a step names its key, and the check reads this table when
it runs.  ``reading`` records how the PDF extraction was interpreted (see
``../shared/paper/READING.md``).

Component equations with free Cartesian indices (a, b, c) are written out for
every component: a 3x3 table for a two-index identity, a 3-tuple for a vector.
"""

from __future__ import annotations

import sympy as sp

from symmag.algebra.fields import H_eff, vector_function
from symmag.algebra.operators import AntiCommutator, Commutator, Moment, Spin
from symmag.algebra.su2 import cross, levi_civita
from symmag.checking.derivation import Printed
from symmag.conventions import N, V, gamma, gamma_abs, hbar, t

_i = sp.Symbol("i", integer=True, positive=True)
_M0 = [Moment(a) for a in range(3)]
_n = sp.Symbol("n", integer=True, positive=True)  # matrix size in numeric readings
R0 = vector_function("R0")
beta, lam = sp.symbols("beta lambda", real=True)


def mat(name: str) -> sp.MatrixSymbol:
    """A named matrix, for equations that are checked on explicit matrices."""
    return sp.MatrixSymbol(name, _n, _n)


def dot_(u, v):
    return sum(a * b for a, b in zip(u, v))


def _corr(a: int, b: int):
    from symmag.algebra.expectation import correlation_symbol

    return correlation_symbol((a, b))


def _gp(a: int, b: int, c: int) -> sp.Symbol:
    """Placeholder for the paper's nested anticommutator G^{abc} of (71)."""
    return sp.Symbol("Gp_" + "xyz"[a] + "xyz"[b] + "xyz"[c])


def comm(a, b):
    return a * b - b * a


def _nc_vector(name: str) -> tuple:
    """Noncommutative placeholders name_x, name_y, name_z for a printed operator vector."""
    return tuple(sp.Symbol(f"{name}_{ax}", commutative=False) for ax in "xyz")


_H_ext = tuple(sp.Symbol(f"H_ext_{ax}", real=True) for ax in "xyz")
alpha, lam0, alpha0 = sp.symbols("alpha lambda0 alpha0", real=True)
H_z, omega0, t0, d_init = sp.symbols("H_z omega0 t0 d", real=True)
M_mag = sp.Symbol("M", positive=True)  # the magnitude of M, constant in Sec. III A
M_p, M_zf = sp.Function("M_p", real=True)(t), sp.Function("M_z", real=True)(t)
phi_dot = sp.Symbol("phidot", real=True)
# the extraction prints both barred parameters of Sec. III B as lambda0; they are two
# different parameters: lb46 in (46)-(48) and lb49 in (49)-(52)
lb46, lb49 = sp.symbols("lambdabar46 lambdabar49", real=True)
kappa = sp.Symbol("kappa", real=True)


def _m0avg() -> tuple:
    """<M0> as symmag's correlation symbols m^a."""
    from symmag.algebra.expectation import moment_average

    return moment_average()


def _m2():
    return sum(x**2 for x in vector_function("M"))
_M = vector_function("M")
_D = tuple(sp.Symbol(f"D_{ax}", real=True) for ax in "xyz")


def _two_index(f) -> tuple:
    return tuple(tuple(f(a, b) for b in range(3)) for a in range(3))


PRINTED: dict[str, Printed] = {
    "1": Printed(
        lhs=sp.I * hbar * mat("drho_dt") + comm(mat("rho"), mat("H")),
        rhs=sp.ZeroMatrix(_n, _n),
        kind="definition",
        reading="~ is hbar; [rho, H]- the commutator; drho_dt stands for the time derivative.",
    ),
    "2": Printed(lhs=sp.Symbol("H"), rhs=sp.Symbol("H_0") + lam * sp.Symbol("H_I"),
                 kind="definition"),
    "3": Printed(
        lhs=sp.Symbol("H_0"),
        rhs=-gamma * sp.Sum(sum(Spin(a, _i) * H_eff[a] for a in range(3)), (_i, 1, N)),
        kind="definition",
        reading="sum over i runs over all N sites of the system.",
    ),
    "4": Printed(lhs=sp.Symbol("Mhat"), rhs=-sp.Derivative(sp.Symbol("H"), sp.Symbol("H_ext")),
                 kind="definition", reading="the functional derivative is read as a derivative "
                 "with respect to the field components."),
    "5": Printed(lhs=sp.Symbol("M"), rhs=sp.Trace(mat("rho") * mat("Mhat")) / V,
                 kind="definition"),
    "6": Printed(
        lhs=tuple(_M0),
        rhs=tuple(gamma * sp.Sum(Spin(a, _i), (_i, 1, N)) for a in range(3)),
        kind="vector",
        reading="M0 = -dH0/dH_ext = gamma sum_i S_i, written per component.",
    ),
    "7": Printed(
        lhs=tuple(sp.Symbol(f"M_0_{ax}") for ax in "xyz"),
        rhs=tuple(gamma / V * sp.Trace(mat("rho_0") * mat(f"Ssum_{ax}")) for ax in "xyz"),
        kind="numeric identity",
        reading="Ssum_a stands for sum_i S_i^a: the trace is linear, so the sum of traces is the "
        "trace of the sum.",
    ),
    "8": Printed(
        lhs=_two_index(lambda a, b: Commutator(_M0[a], _M0[b])),
        rhs=_two_index(
            lambda a, b: sp.Add(*(sp.I * hbar * gamma * levi_civita(a, b, c) * _M0[c]
                                  for c in range(3)))
        ),
        kind="operator identity",
        reading="[A, B]- is the commutator; repeated c is summed; written out for all a, b.",
    ),
    "9": Printed(
        lhs=sp.I * hbar * mat("drho_0_dt") + comm(mat("rho_0"), mat("H_0")),
        rhs=sp.ZeroMatrix(_n, _n),
        kind="definition",
    ),
    "10": Printed(
        lhs=mat("dI0_dt") + comm(mat("I0"), mat("H_0")) / (sp.I * hbar),
        rhs=sp.ZeroMatrix(_n, _n),
        kind="definition",
        reading="dI0/dt is defined as the partial derivative plus the commutator term.",
    ),
    "11": Printed(lhs=sp.Symbol("rho_0"), rhs=sp.exp(-beta * sp.Symbol("I0")) / sp.Symbol("Z0"),
                  kind="definition", reading="1 over Z 0 is 1/Z0."),
    "12": Printed(
        lhs=mat("I0_t"),
        rhs=mat("U_t_t0") * mat("I0_t0") * mat("U_t0_t"),
        kind="numeric identity",
        reading="U(t, t0) is the Schrodinger propagator T exp{-(i/hbar) int H0} and "
        "U(t0, t) = U(t, t0)^dagger, as (18)-(19) require.",
    ),
    "13": Printed(
        lhs=mat("U_t0_t"),
        rhs=mat("Texp_plus"),
        kind="numeric identity",
        reading="T is read literally as time ordering (later times to the left), "
        "Texp_plus = T exp{(i/hbar) int_t0^t H0(tau) dtau}.",
    ),
    "14": Printed(
        lhs=sp.Symbol("I0"),
        rhs=sp.Sum(sum(Spin(a, _i) * R0[a] for a in range(3)), (_i, 1, N)),
        kind="definition",
    ),
    "15": Printed(
        lhs=sp.Sum(
            sum(Spin(a, _i) * (sp.Derivative(R0[a], t) - gamma * cross(R0, H_eff)[a])
                for a in range(3)),
            (_i, 1, N),
        ),
        rhs=0,
        kind="operator identity",
        reading="the text says 'Eq. (9) becomes'; it is (10) for the ansatz (14).",
    ),
    "16": Printed(
        lhs=tuple(sp.Derivative(r, t) for r in R0),
        rhs=tuple(-gamma_abs * c for c in cross(R0, H_eff)),
        kind="vector ODE",
    ),
    "17": Printed(lhs=sp.Symbol("rho"), rhs=sp.exp(-beta * sp.Symbol("I")) / sp.Symbol("Z"),
                  kind="definition"),
    "18": Printed(lhs=mat("rho_int"), rhs=mat("U_t0_t") * mat("rho") * mat("U_t_t0"),
                  kind="definition", reading="U(t0,t) = U(t,t0)^dagger, the inverse propagator."),
    "19": Printed(
        lhs=sp.I * hbar * mat("drho_int_dt"),
        rhs=lam * comm(mat("H_int"), mat("rho_int")),
        kind="numeric identity",
        reading="the derivative is taken numerically; lambda H_I is the interaction term of (2).",
    ),
    "20": Printed(lhs=mat("H_int"), rhs=mat("U_t0_t") * mat("H_I") * mat("U_t_t0"),
                  kind="definition"),
    "21": Printed(lhs=_nc_vector("Mhat"), rhs=tuple(_M0[a] + _nc_vector("MhatI")[a] for a in range(3)),
                  kind="operator identity",
                  reading="M-hat and M-hat_I stand for the operators of the interaction at hand."),
    "22": Printed(lhs=_nc_vector("MhatI"),
                  rhs=tuple(-lam * sp.Derivative(sp.Symbol("H_I"), h) for h in _H_ext),
                  kind="definition"),
    "23": Printed(
        lhs=tuple(sp.Symbol(f"M_{ax}") for ax in "xyz"),
        rhs=tuple(sp.Trace(mat("rho_int") * (mat(f"M0_int_{ax}") + mat(f"MI_int_{ax}"))) / V
                  for ax in "xyz"),
        kind="numeric identity",
    ),
    "24": Printed(
        lhs=tuple(sp.I / hbar * Commutator(sp.Symbol("H_0", commutative=False), _M0[a])
                  for a in range(3)),
        rhs=tuple(gamma * cross(_M0, H_eff)[a] for a in range(3)),
        kind="operator identity",
        reading="(24) conjugated back with U: U(t0,t)...U(t,t0) is a similarity transform and "
        "H_eff a c-number, so its last equality is (i/hbar)[H0, M0] = gamma M0 x H_eff.",
    ),
    "25": Printed(
        lhs=tuple(mat(f"dMI_int_dt_{ax}") for ax in "xyz"),
        rhs=tuple(sp.I / hbar * mat("U_t0_t") * comm(mat("H_0"), mat(f"MI_{ax}")) * mat("U_t_t0")
                  + mat("U_t0_t") * mat(f"dMI_dt_{ax}") * mat("U_t_t0") for ax in "xyz"),
        kind="numeric identity",
    ),
    "26": Printed(
        lhs=_nc_vector("DhatI"),
        rhs=tuple(sp.I / hbar * Commutator(sp.Symbol("H_0", commutative=False), _nc_vector("MhatI")[a])
                  - gamma * cross(_nc_vector("MhatI"), H_eff)[a] for a in range(3)),
        kind="definition",
    ),
    "27": Printed(
        lhs=tuple(mat(f"dMI_int_dt_{ax}") for ax in "xyz"),
        rhs=tuple(gamma * cross([mat(f"MI_int_{b}") for b in "xyz"], H_eff)[a]
                  + mat("U_t0_t") * (mat(f"dMI_dt_{ax}") + mat(f"DI_{ax}")) * mat("U_t_t0")
                  for a, ax in enumerate("xyz")),
        kind="numeric identity",
    ),
    "28": Printed(
        lhs=tuple(sp.Symbol(f"dM_dt_{ax}") for ax in "xyz"),
        rhs=tuple(sp.Trace(mat("rho_int") * (mat(f"dM0_int_dt_{ax}") + mat(f"dMI_int_dt_{ax}"))
                           + lam / (sp.I * hbar) * comm(mat(f"M0_int_{ax}") + mat(f"MI_int_{ax}"),
                                                        mat("H_int"))) / V
                  for ax in "xyz"),
        kind="numeric identity",
        reading="as extracted, rho_int multiplies only the time derivatives; the commutator term "
        "stands alone inside the trace.",
    ),
    "29": Printed(
        lhs=tuple(sp.Derivative(m, t) for m in _M),
        rhs=tuple(-gamma_abs * cross(_M, H_eff)[a] + _D[a] for a in range(3)),
        kind="vector ODE",
    ),
    "30": Printed(
        lhs=_nc_vector("Dhat"),
        rhs=tuple(lam * Commutator(_nc_vector("Mhat")[a], sp.Symbol("H_I", commutative=False))
                  / (sp.I * hbar) + _nc_vector("dMhatI_dt")[a] + _nc_vector("DhatI")[a]
                  for a in range(3)),
        kind="operator identity",
        reading="D = <d-hat> is compared inside the (linear) average; M-hat, H_I, dM-hat_I/dt and "
        "D-hat_I stand for the operators of the interaction at hand.",
    ),
    # ---- Sec. III A: radiation-spin interaction ---------------------------------------
    "31": Printed(
        lhs=lam * sp.Symbol("H_I", commutative=False),
        rhs=-gamma * sp.Sum(sum(Spin(a, _i) * sp.Symbol(f"Hdr_{ax}", real=True)
                                for a, ax in enumerate("xyz")), (_i, 1, N)),
        kind="definition",
        reading="Hdr is the dissipative radiation field of (32).",
    ),
    "32": Printed(
        lhs=tuple(sp.Symbol(f"Hdr_{ax}", real=True) for ax in "xyz"),
        rhs=tuple(lam * (cross(_M, H_eff)[a] - alpha * _m2() * H_eff[a]) for a in range(3)),
        kind="definition",
        reading="M x H_eff with M the c-number magnetization vector; M^2 = M . M.",
    ),
    "33": Printed(
        lhs=_nc_vector("MhatId"),
        rhs=tuple(-lam * (alpha * _m2() * _M0[a] - cross(_M0, _M)[a]) for a in range(3)),
        kind="operator identity",
    ),
    "34": Printed(
        lhs=tuple(_M),
        rhs=tuple((1 - lam * alpha * _m2()) * _m0avg()[a] + lam * cross(_m0avg(), _M)[a]
                  for a in range(3)),
        kind="vector equation",
        reading="<M0> is written with symmag's symbols m^a = <M0^a>.",
    ),
    "35": Printed(
        lhs=(cross(_m0avg(), _M), cross(_m0avg(), _M)),
        rhs=(tuple(lam * cross(_m0avg(), cross(_m0avg(), _M))[a] for a in range(3)),
             tuple(lam * sum(x**2 for x in _m0avg()) * ((1 - lam * alpha * _m2()) * _m0avg()[a] - _M[a])
                   for a in range(3))),
        kind="chain",
        reading="M0 x M0 x M is M0 x (M0 x M); <M0>^2 is |<M0>|^2.",
    ),
    "36": Printed(lhs=_m0avg(), rhs=tuple(x / (1 - lam * alpha * _m2()) for x in _M),
                  kind="vector equation"),
    "37": Printed(
        lhs=(tuple(sp.Symbol(f"DIavg_{ax}", real=True) for ax in "xyz"),
             tuple(sp.Symbol(f"DIavg_{ax}", real=True) for ax in "xyz")),
        rhs=(tuple(-sp.Symbol(f"Cavg_{ax}", real=True) for ax in "xyz"),
             tuple(-gamma * lam / (1 - lam * alpha * _m2()) * cross(_M, cross(_M, H_eff))[a]
                   for a in range(3))),
        kind="chain",
        reading="DIavg = <D_I>, Cavg = lambda <(1/(i hbar))[M, H_I]>; M x M x H_eff is "
        "M x (M x H_eff).",
    ),
    "38": Printed(lhs=tuple(_D), rhs=tuple(alpha * cross(_M, [sp.Derivative(x, t) for x in _M])[a]
                                           for a in range(3)), kind="vector equation"),
    "39": Printed(lhs=alpha, rhs=lam / (1 - lam * alpha * _m2()), kind="relation"),
    "40": Printed(lhs=lam0, rhs=alpha0 / (1 + alpha0**2), kind="relation",
                  reading="lambda0 = lambda M and alpha0 = alpha M with M the magnitude."),
    "41": Printed(
        lhs=tuple(sp.Derivative(x, t) for x in _M),
        rhs=tuple(-gamma_abs * cross(_M, [(1 - lam * alpha * _m2()) * H_eff[b]
                                          + lam * cross(_M, H_eff)[b] for b in range(3)])[a]
                  for a in range(3)),
        kind="vector ODE",
    ),
    "42": Printed(lhs=sp.Derivative(M_p**2, t), rhs=-2 * lam * omega0 * M_zf * M_p**2,
                  kind="ODE", reading="M2\\np is M_p^2; omega0 = |gamma| H_z."),
    "43": Printed(lhs=sp.Derivative(M_zf, t), rhs=lam * omega0 * M_p, kind="ODE",
                  reading="as extracted: lambda omega0 M_p, with no exponent on M_p."),
    "44": Printed(
        lhs=M_zf,
        rhs=M_mag * (sp.tanh(lam0 * omega0 * (t - t0)) + d_init)
        / (1 + d_init * sp.tanh(lam0 * omega0 * (t - t0))),
        kind="solution",
    ),
    "45": Printed(
        lhs=M_p,
        rhs=M_mag * sp.sqrt(1 - d_init**2) / sp.cosh(lam0 * omega0 * (t - t0))
        / (1 + d_init * sp.tanh(lam0 * omega0 * (t - t0))),
        kind="solution",
    ),
    # prose claims of Sec. III A (no equation number), keyed by the claim
    "prose:relaxation-time": Printed(lhs=sp.Symbol("tau", positive=True), rhs=1 / (lam0 * omega0),
                                     kind="prose", reading="'the relaxation characteristic time "
                                     "tau is 1/(lambda0 omega0)'."),
    "prose:relaxed-state": Printed(lhs=sp.Symbol("M_z_inf"), rhs=M_mag, kind="prose",
                                   reading="'In the limit t -> oo, M_z tends to M'."),
    "prose:precession-frequency": Printed(lhs=phi_dot, rhs=omega0, kind="prose",
                                          reading="'omega0 = |gamma| H_z is the frequency of "
                                          "magnetization precession' (below (43))."),
    # ---- Sec. III B: general radiation field -----------------------------------------
    "46": Printed(
        lhs=tuple(sp.Symbol(f"Hdr46_{ax}", real=True) for ax in "xyz"),
        rhs=tuple(sp.Symbol(f"Hdr_{ax}", real=True) - lb46 * H_eff[a] for a, ax in enumerate("xyz")),
        kind="definition",
        reading="the barred lambda0 of (46) (extracted as lambda0) is named lambdabar46; dimensionless.",
    ),
    "47": Printed(lhs=sp.Symbol("omega", real=True), rhs=omega0 * (1 - lb46), kind="relation",
                  reading="omega0 -> omega = omega0 (1 - lambdabar46): omega is |gamma| times the "
                  "magnitude of the rescaled field, held as the definition of omega."),
    "48": Printed(lhs=sp.Symbol("lambda0_46", real=True), rhs=lam0 / (1 - lb46), kind="relation",
                  reading="lambda0 -> lambda0/(1 - lambdabar46); the second lambda0 of the "
                  "extraction is the unbarred radiation parameter."),
    "49": Printed(
        lhs=tuple(sp.Symbol(f"Hdr49_{ax}", real=True) for ax in "xyz"),
        rhs=tuple(sp.Symbol(f"Hdr_{ax}", real=True) + lb49 / M_mag * cross(_M, H_eff)[a]
                  for a, ax in enumerate("xyz")),
        kind="definition",
        reading="the barred lambda0 of (49) is named lambdabar49. Read dimensionally: M x H_eff "
        "carries [M][H], so the added torque is (lambdabar49/M) M x H_eff, i.e. lambdabar = "
        "lambdabar49/M with lambdabar49 dimensionless -- consistent with (50).",
    ),
    "50": Printed(lhs=sp.Symbol("lambda0_49", real=True), rhs=lam0 + lb49, kind="relation"),
    "51": Printed(lhs=sp.Symbol("alpha0_49", real=True), rhs=lam0 / (lam0 + lb49) * alpha0,
                  kind="relation"),
    "52": Printed(lhs=sp.Symbol("taubar", positive=True),
                  rhs=sp.Symbol("tau", positive=True) / (1 + lb49 / lam0), kind="relation",
                  reading="tau -> taubar = tau (1 + lambdabar49/lambda0)^-1."),
    "53": Printed(
        lhs=tuple(sp.Symbol(f"Hnr_{ax}", real=True) for ax in "xyz"),
        rhs=tuple(kappa * lam * _M[a] / M_mag * dot_(_M, H_eff) for a in range(3)),
        kind="definition",
        reading="M/M is the unit vector along M (M its magnitude).",
    ),
    "54": Printed(
        lhs=_nc_vector("MhatIn"),
        rhs=tuple(kappa * lam * _M[a] / M_mag * sum(_M0[b] * _M[b] for b in range(3))
                  for a in range(3)),
        kind="operator identity",
    ),
    "55": Printed(lhs=_m0avg(), rhs=tuple(x / (1 - lam * (alpha * M_mag + kappa) * M_mag) for x in _M),
                  kind="vector equation"),
    "prose:reversal-46": Printed(lhs=sp.Symbol("lambdabar46_reversal"), rhs=sp.Integer(1),
                                 kind="prose", reading="'For lambdabar0 > 1, the magnetization "
                                 "vector turns upside down and the precession continues in an "
                                 "opposite direction' (after (47)): the threshold is 1."),
    "prose:damping-46": Printed(lhs=sp.Symbol("alpha0_46", real=True), rhs=alpha0, kind="prose",
                                reading="'The magnetization damping is not affected by the "
                                "additional field.'"),
    "prose:relaxation-46": Printed(lhs=sp.Symbol("rate_46", real=True), rhs=lam0 * omega0,
                                   kind="prose", reading="'the relaxation characteristic time "
                                   "remains the same' (after (48))."),
    # ---- Sec. III C: magnetization algebra -------------------------------------------
    "56": Printed(
        lhs=_two_index(lambda a, b: Commutator(_nc_vector("Mhat")[a], _nc_vector("Mhat")[b])),
        rhs=_two_index(lambda a, b: sp.Add(*(
            sp.I * hbar * gamma * levi_civita(a, b, c)
            * ((1 - lam * alpha * _m2()) * _nc_vector("Mhat")[c]
               + lam * M_mag / kappa * _nc_vector("MhatIn")[c]) for c in range(3)))),
        kind="operator identity",
        reading="M-hat = M0 + M_I,d; the 1/kappa multiplies lambda M M_I,n^c (the extraction "
        "splits the fraction over lines).",
    ),
    "57": Printed(
        lhs=_two_index(lambda a, b: Commutator(_nc_vector("Mtot")[a], _nc_vector("Mtot")[b])),
        rhs=_two_index(lambda a, b: sp.Add(*(
            sp.I * hbar * gamma * levi_civita(a, b, c)
            * ((1 - lam * alpha * _m2() + kappa * lam * M_mag) * _nc_vector("Mhat")[c]
               + (lam * M_mag / kappa - 1 + lam * alpha * _m2()) * _nc_vector("MhatIn")[c])
            for c in range(3)))),
        kind="operator identity",
    ),
    "58": Printed(lhs=1 / kappa - kappa, rhs=2 / alpha0, kind="relation"),
    "59": Printed(
        lhs=(sp.Symbol("kappa_plus", real=True), sp.Symbol("kappa_minus", real=True)),
        rhs=(-(1 - sp.sqrt(1 + alpha0**2)) / alpha0, -(1 + sp.sqrt(1 + alpha0**2)) / alpha0),
        kind="relation",
        reading="kappa_pm = -(1/alpha0)(1 -+ sqrt(1 + alpha0^2)): the upper sign gives kappa_plus.",
    ),
    "60": Printed(
        lhs=_two_index(lambda a, b: Commutator(_nc_vector("Mtot")[a], _nc_vector("Mtot")[b])),
        rhs=_two_index(lambda a, b: sp.Add(*(sp.I * hbar * sp.Symbol("gamma_tot", real=True)
                                             * levi_civita(a, b, c) * _nc_vector("Mtot")[c]
                                             for c in range(3)))),
        kind="operator identity",
    ),
    "61": Printed(lhs=(sp.Symbol("gamma_tot_plus", real=True), sp.Symbol("gamma_tot_minus", real=True)),
                  rhs=(gamma / sp.sqrt(1 + alpha0**2), -gamma / sp.sqrt(1 + alpha0**2)),
                  kind="relation", reading="gamma_tot = +-gamma/sqrt(1 + alpha0^2), the sign (+) "
                  "for kappa = kappa_plus and (-) for kappa_minus."),
    "prose:kappa-signs": Printed(lhs=(sp.Symbol("sign_kappa_plus"), sp.Symbol("sign_kappa_minus")),
                                 rhs=(sp.Integer(1), sp.Integer(-1)), kind="prose",
                                 reading="'For 0 < alpha0 < 1, kappa_+ > 0 and kappa_- < 0.'"),
}


_j = sp.Symbol("j", integer=True, positive=True)
J_ex = sp.Symbol("J", real=True)
PRINTED.update({
    # ---- Sec. IV: spin-spin interactions (62)-(67) ------------------------------------
    "62": Printed(
        lhs=-2 * J_ex * sp.Sum(sp.Sum(sum(Spin(a, _i) * Spin(a, _j) for a in range(3)), (_j, 1, N)),
                               (_i, 1, N)),
        rhs=-2 * J_ex / gamma**2 * sum(_M0[a] * _M0[a] for a in range(3)),
        kind="operator identity",
        reading="S_i S_j is the dot product S_i . S_j; the double sum runs over all i, j.",
    ),
    "63": Printed(
        lhs=lam * sp.Symbol("H_I", commutative=False),
        rhs=sp.Sum(sp.Sum(sum(lam * _M[a] * _M[b] * Spin(a, _i) * Spin(b, _j)
                              for a in range(3) for b in range(3)), (_j, 1, N)), (_i, 1, N)),
        kind="definition",
        reading="J^{ab} = lambda M^a M^b; the double sum includes i = j. In Sec. IV lambda is a new "
        "coupling: (63) makes its dimension 1/(E T^2 [M]^2).",
    ),
    "64": Printed(lhs=tuple(_D), rhs=tuple(lam / gamma * cross(_M, [sp.Symbol(f"Omega_{ax}", real=True)
                                                                    for ax in "xyz"])[a]
                                           for a in range(3)), kind="vector equation"),
    "65": Printed(
        lhs=tuple(sp.Symbol(f"Omega_{ax}", real=True) for ax in "xyz"),
        rhs=tuple(sum(_corr(a, b) * _M[b] for b in range(3)) for a in range(3)),
        kind="definition", reading="<[M0^a, M0^b]_+> is symmag's G^{ab}; b is summed.",
    ),
    "66": Printed(lhs=AntiCommutator(_M0[0], _M0[1]), rhs=_M0[0] * _M0[1] + _M0[1] * _M0[0],
                  kind="definition", reading="written for a = x, b = y."),
    "69": Printed(
        lhs=_two_index(lambda a, b: sp.Symbol(f"dG_{'xyz'[a]}{'xyz'[b]}", real=True)),
        rhs=_two_index(lambda a, b: sp.Add(*(
            lam * _M[c] * _M[d] / gamma * (levi_civita(a, c, e) * _gp(e, b, d)
                                           + levi_civita(b, c, e) * _gp(a, e, d))
            for c in range(3) for d in range(3) for e in range(3)))),
        kind="ODE",
        reading="(69) differentiated in t: dG^{ab}/dt = (1/gamma) J^{cd} (eps^{ace} G^{ebd} + "
        "eps^{bce} G^{aed}), J^{cd} = lambda M^c M^d; Gp^{abc} is the paper's nested anticommutator "
        "(71), <[[M0^a, M0^b]_+, M0^c]_+>. Frame: the dynamics generated by lambda H_I alone "
        "(the Zeeman part removed, M0 not rotated), which is what (68) implies.",
    ),
    "68": Printed(lhs=sp.Symbol("rho_lambda"), rhs=sp.Symbol("rho_0") + lam / (sp.I * hbar)
                  * sp.Symbol("Integral_of_commutator"), kind="definition",
                  reading="the integral of [H_lambda(tau), rho_lambda(tau)] over tau from t0 to t is "
                  "kept as a placeholder; (68) is (19) integrated."),
    "70": Printed(lhs=sp.Symbol("G0^{ab}"), rhs=sp.Symbol("<[M0^a, M0^b]_+>_0"), kind="definition"),
    "71": Printed(lhs=sp.Symbol("Gp^{abc}"), rhs=sp.Symbol("<[[M0^a, M0^b]_+, M0^c]_+>"),
                  kind="definition", reading="see symmag.algebra.expectation: "
                  "G^{abc}_paper = G^{abc} + lower "
                  "orders."),
    "67": Printed(
        lhs=_two_index(lambda a, b: AntiCommutator(_M0[a], _M0[b])),
        rhs=_two_index(lambda a, b: 2 * gamma**2 * sp.Sum(
            sp.Sum(Spin(a, _i) * Spin(b, _j), (_j, 1, N)) - Spin(a, _i) * Spin(b, _i), (_i, 1, N))),
        kind="operator identity",
        reading="G^{ab} = <[M0^a, M0^b]_+> compared inside the (linear) average; the sum over "
        "j != i is written as the sum over all j minus the term j = i.",
    ),
})


I_corr = sp.Symbol("I", real=True)
PRINTED.update({
    "72": Printed(
        lhs=_two_index(lambda a, b: sp.Symbol(f"C_{'xyz'[a]}{'xyz'[b]}", real=True)),
        rhs=_two_index(lambda a, b: I_corr if a == b == 2 else sp.S.Zero),
        kind="definition",
        reading="C^{ab} = sum_i sum_{j != i} <S_i^a S_j^b>_0 = I^{ab}, with I^{zz} = I and all "
        "other entries 0; H_eff = H_z z, uniform and static.",
    ),
    "73": Printed(lhs=sp.Symbol("D_x", real=True), rhs=2 * lam * gamma * I_corr * _M[1] * _M[2],
                  kind="relation"),
    "74": Printed(lhs=sp.Symbol("D_y", real=True), rhs=-2 * lam * gamma * I_corr * _M[0] * _M[2],
                  kind="relation"),
    "75": Printed(lhs=sp.Symbol("D_z", real=True), rhs=sp.S.Zero, kind="relation"),
    "76": Printed(lhs=sp.Symbol("omegabar0", real=True),
                  rhs=omega0 * (1 - lam * 2 * I_corr * _M[2] / H_z), kind="relation",
                  reading="omega0 -> omegabar0 (the bar was lost): the shifted precession frequency; "
                  "omega0 = |gamma| H_z."),
})


def table() -> dict[str, Printed]:
    """PRINTED as it is when a check runs (never a copy taken at import)."""
    return PRINTED
