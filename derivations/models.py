"""The paper's Hamiltonians, written once, and its equations as numeric models for ``symmag codegen``,
built from the derivations with SymPy doing every substitution (nothing typed from the paper).

The Hamiltonians -- the RSI (31)-(32) with the Sec. III B modifications (46), (49), (53), and the
spin-spin interaction (63) -- are symmag operators, the one definition that every route starts from:
the D-term and the hierarchy (the derivations), the closures and generated modules (below) and the
exact dynamics (:mod:`symmag.exact.solve`, used by :mod:`symmag.exact.compare` and
:mod:`symmag.exact.accuracy`).  This
part imports only symmag and :mod:`.printed` (the paper's symbols), so the derivation modules can
import it without a cycle and the numeric side without the derivations: the section modules are
imported lazily, by the models that need their derived rates.

Conventions (one naming and one gamma convention for all models): gamma = -|gamma|
(parameter ``gamma_abs`` > 0), the dimensionless damping ``alpha0`` = alpha |M|, the
field components ``Hx, Hy, Hz`` (scalars or per-system arrays, so a time-dependent
field is passed anew at each call), state ``Mx, My, Mz``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from symmag.algebra.fields import H_eff, M
from symmag.algebra.su2 import M0, Op, cross, dot
from symmag.conventions import N, V, gamma, gamma_abs, hbar
from symmag.errors import SymmagInputError
from symmag.numeric.codegen import Model
from symmag.theory.dterm import zeeman_hamiltonian

from .printed import alpha, alpha0, kappa, lam, lb46, lb49

STATE = sp.symbols("Mx My Mz", real=True)
FIELD = sp.symbols("Hx Hy Hz", real=True)
GAMMA_ABS = sp.Symbol("gamma_abs", positive=True)
ALPHA0 = sp.Symbol("alpha0", positive=True)
#: the two barred parameters of Sec. III B (both printed as lambda0 in the extraction)
LB46, LB49 = lb46, lb49


# -- the paper's Hamiltonians ------------------------------------------------------------------
def radiation_field(lam_: sp.Expr = lam, alpha_: sp.Expr = alpha) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """H_r^d = lambda (M x H_eff - alpha M^2 H_eff)  (32), M the c-number magnetization."""
    return tuple(lam_ * (c - alpha_ * dot(M, M) * h) for c, h in zip(cross(M, H_eff), H_eff))


#: the modifications of H_r^d in Sec. III B
FIELD_KINDS = ("none", "46", "49", "53", "46+49")


def field_modification(kind: str, inverse_magnitude: sp.Expr | None = None) -> tuple:
    """The term that the modification ``kind`` adds to H_r^d of (32): -lambdabar46 H_eff (46),
    (lambdabar49/|M|) M x H_eff (49), kappa lambda M (M . H_eff)/|M| (53), or (46) and (49) together.
    ``inverse_magnitude`` stands for 1/|M| (default 1/sqrt(M . M); a positive symbol keeps the
    coefficients polynomial for exact checks)."""
    if kind not in FIELD_KINDS:
        raise SymmagInputError(f"unknown modification of the radiation field {kind!r}; one of {FIELD_KINDS}")
    inv = 1 / sp.sqrt(dot(M, M)) if inverse_magnitude is None else inverse_magnitude
    m_x_h = cross(M, H_eff)
    return {
        "none": (sp.S.Zero,) * 3,
        "46": tuple(-lb46 * h for h in H_eff),
        "49": tuple(lb49 * inv * c for c in m_x_h),
        "53": tuple(kappa * lam * M[a] * inv * dot(M, H_eff) for a in range(3)),
        "46+49": tuple(-lb46 * h + lb49 * inv * c for h, c in zip(H_eff, m_x_h)),
    }[kind]


def rsi_interaction(kind: str = "none", lam_: sp.Expr = lam, alpha_: sp.Expr = alpha,
                    inverse_magnitude: sp.Expr | None = None) -> Op:
    """lambda H_I = -gamma sum_i S_i . H_r^d = -M0 . H_r^d  (31), by (6), with H_r^d of (32) and the
    modification ``kind`` of Sec. III B (:func:`field_modification`)."""
    h_r = [a + b for a, b in zip(radiation_field(lam_, alpha_), field_modification(kind, inverse_magnitude))]
    return -dot([M0(a) for a in range(3)], h_r)


def rsi_hamiltonian(kind: str = "none", lam_: sp.Expr = lam, alpha_: sp.Expr = alpha,
                    inverse_magnitude: sp.Expr | None = None) -> Op:
    """H = -M0 . H_eff (3) + lambda H_I (31)."""
    return zeeman_hamiltonian() + rsi_interaction(kind, lam_, alpha_, inverse_magnitude)


def rsi_dimensionless(h: Op) -> Op:
    """An RSI Hamiltonian in the dimensionless alpha0 = alpha |M| (the parameter ``ALPHA0`` of the
    generated models) with lambda = lambda0/|M|, alpha = alpha0/|M| (40) and lambda0 =
    alpha0/(1 + alpha0^2) (39): the form whose exact dynamics llg_rsi (41) describes."""
    magnitude = sp.sqrt(dot(M, M))
    lam0_ = ALPHA0 / (1 + ALPHA0**2)
    return h.xreplace({lam: lam0_ / magnitude, alpha: ALPHA0 / magnitude})


def spin_spin_coupling(a: int, b: int) -> sp.Expr:
    """J^{ab} = lambda M^a M^b  (63)."""
    return lam * M[a] * M[b]


def spin_spin_interaction() -> Op:
    """lambda H_I = sum_{i,j} J^{ab} S_i^a S_j^b of (63) over all sites = J^{ab} M0^a M0^b/gamma^2 (6)."""
    terms = (spin_spin_coupling(a, b) * M0(a) * M0(b) for a in range(3) for b in range(3))
    return sum(terms, Op()) / gamma**2


def spin_spin_hamiltonian() -> Op:
    """H = -M0 . H_eff (3) + (lambda/gamma^2)(M . M0)^2, the spin-spin model (63) of Sec. IV."""
    return zeeman_hamiltonian() + spin_spin_interaction()


def _llg_form(rate: Sequence[sp.Expr]) -> tuple[sp.Expr, ...]:
    """A derived rate (in M, H_eff and gamma) in the state and parameter symbols, with
    gamma = -|gamma| and alpha = alpha0/|M|, rewritten as a M x H + b M x (M x H) for fast code:
    SymPy finds a and b by projection and the rewrite is checked to reproduce the rate."""
    magnitude = sp.sqrt(dot(STATE, STATE))
    sub = {**dict(zip(M, STATE)), **dict(zip(H_eff, FIELD))}
    rate = [r.xreplace(sub).subs({gamma: -gamma_abs, alpha: alpha0 / magnitude})
            .xreplace({gamma_abs: GAMMA_ABS, alpha0: ALPHA0}) for r in rate]
    prec = cross(STATE, FIELD)
    damp = cross(STATE, prec)
    a = sp.factor(sp.cancel(dot(rate, prec) / dot(prec, prec)))
    b = sp.factor(sp.cancel(dot(rate, damp) / dot(damp, damp)))
    # M x (M x H) = M (M . H) - H |M|^2, which is cheaper to evaluate
    rhs = tuple(a * prec[i] + b * (STATE[i] * dot(STATE, FIELD) - FIELD[i] * dot(STATE, STATE))
                for i in range(3))
    if any(sp.simplify(x - y) != 0 for x, y in zip(rhs, rate)):
        raise AssertionError("the decomposition a M x H + b M x (M x H) does not reproduce the rate")
    return rhs


def llg_rsi() -> Model:
    """(41), the LLG equation of the radiation-spin interaction: the Gilbert equation
    (29)+(38) solved for dM/dt (step llg-form), with lambda and alpha eliminated through
    (39)-(40): alpha = alpha0/|M|, |M| taken from the state."""
    from .sec3a_rsi import gilbert_rate  # lazily: sec3a may import the Hamiltonians above
    doc = ("LLG equation (41) of the radiation-spin interaction, Saradzhev et al. Sec. III A:\n"
           "dM/dt = -|gamma|/(1 + alpha0^2) [M x H + (alpha0/|M|) M x (M x H)],\n"
           "gamma = -|gamma|, alpha0 = alpha |M| dimensionless, lambda0 = alpha0/(1 + alpha0^2).\n"
           "|M| is conserved by the equation. At M = 0 the damping term is 0/0: the right-hand\n"
           "side is nan there (M = 0 is not a state of this model).")
    return Model("llg_rsi", STATE, (GAMMA_ABS, ALPHA0, *FIELD), _llg_form(gilbert_rate()), doc)


def llg_rsi_extra() -> Model:
    """Sec. III B: the radiation field (32) with the extra parallel field (46) and the extra
    torque (49) together -- the derived equation in Gilbert form (step combined-general-field,
    valid in any time-dependent field), solved for dM/dt."""
    from .sec3b_general_field import combined_rate
    doc = ("The RSI magnetization equation with both Sec. III B modifications of the radiation\n"
           "field, Saradzhev et al. (46) and (49): H_r^d -> H_r^d - lambdabar46 H_eff +\n"
           "(lambdabar49/|M|) M x H_eff. Derived (symmag check, step combined-general-field):\n"
           "dM/dt = -|gamma| [p M x H + (q/|M|) M x (M x H)],\n"
           "p = 1/(1 + alpha0^2) - lambdabar46 (precession), q = lambda0 + lambdabar49 (relaxation),\n"
           "lambda0 = alpha0/(1 + alpha0^2); gamma = -|gamma|; alpha0 of the original pair (40).\n"
           "lambdabar46 = lambdabar49 = 0 gives llg_rsi. |M| is conserved; at M = 0 the\n"
           "right-hand side is nan (M = 0 is not a state of this model).")
    return Model("llg_rsi_extra", STATE, (GAMMA_ABS, ALPHA0, LB46, LB49, *FIELD),
                 _llg_form(combined_rate()), doc)


def gilbert_model(name: str, field: Sequence[sp.Expr], parameters: Sequence[sp.Symbol],
                  doc: str = "") -> Model:
    """The same derived LLG equation (41) with a field H_eff(M) of the user's: ``field`` is
    three SymPy expressions in the state symbols ``Mx, My, Mz`` and in ``parameters`` (which
    come after gamma_abs and alpha0).  The derived rate of llg_rsi is reused with H_eff
    replaced by ``field`` (SymPy substitution; the derivation holds for any c-number field)."""
    base = llg_rsi()
    if len(field) != 3:
        raise SymmagInputError(f"{name}: the field needs 3 components, got {len(field)}")
    rhs = tuple(sp.sympify(r).xreplace(dict(zip(FIELD, field))) for r in base.rhs)
    return Model(name, STATE, (GAMMA_ABS, ALPHA0, *parameters), rhs,
                 doc or f"The LLG equation (41) with the field H_eff(M) = {tuple(field)}.")


# -- Sec. IV: the spin-spin model (63), truncated ---------------------------------------------
LAMBDA_IV = sp.Symbol("lambda", real=True)
HBAR = sp.Symbol("hbar", positive=True)
_AX = "xyz"


def _spin_spin(name: str, kind: str, doc: str) -> Model:
    """A truncation of the Sec. IV hierarchy (symmag.exact.accuracy.spin_spin_systems) with M =
    <M0>/V closing the self-consistent coupling, V = 1 and gamma = -|gamma|.  State: the
    magnetization (Mx, My, Mz) and, where kept, the symmetrized two-point functions
    G^{ab} = <[M0^a, M0^b]_+> (Gxx, Gxy, ...); frozen ones are parameters."""
    from symmag.algebra.expectation import Correlation, moment_average
    from symmag.conventions import V, hbar
    from symmag.exact.accuracy import LAMBDA, spin_spin_systems

    system = spin_spin_systems()[kind]
    m = moment_average()

    def plain(c: Correlation) -> sp.Symbol:
        if len(c.word) == 1:
            return STATE[c.word[0]]
        return sp.Symbol("G" + "".join(_AX[a] for a in c.word), real=True)

    correlations = {c for e in system.values() for c in sp.sympify(e).free_symbols
                    if isinstance(c, Correlation)}
    rename = {c: plain(c) for c in (*system, *correlations)}
    sub = {**dict(zip(M, m)), V: 1, gamma: -gamma_abs}
    rhs = tuple(sp.expand(sp.sympify(system[k]).xreplace(sub).xreplace(rename)
                          .xreplace({**dict(zip(H_eff, FIELD)), gamma_abs: GAMMA_ABS, LAMBDA: LAMBDA_IV,
                                     hbar: HBAR}))
                for k in system)
    state = tuple(rename[k] for k in system)
    frozen = sorted({rename[c] for c in correlations} - set(state), key=lambda s: s.name)
    used = set().union(*(e.free_symbols for e in rhs))
    params = tuple(p for p in (GAMMA_ABS, LAMBDA_IV, HBAR) if p in used) + tuple(FIELD) + tuple(frozen)
    return Model(name, state, params, rhs, doc)


_IV_DOC = ("Saradzhev et al. Sec. IV: the spin-spin interaction (63) with the self-consistent\n"
           "coupling J^ab = lambda M^a M^b, H = -M0 . H + (lambda/gamma^2)(M . M0)^2, M = <M0> (V = 1,\n"
           "M_I = 0), gamma = -|gamma|; the correlation hierarchy (68)-(71) generated by symmag and ")


def spin_spin_lowest() -> Model:
    """(73)-(76) generalized: dM/dt with the two-point functions frozen at their initial values
    (parameters Gxx ... Gzz; the paper's (72) is Gzz = 2 gamma^2 I, the others zero)."""
    return _spin_spin("spin_spin_lowest", "lowest order", _IV_DOC + "truncated at the lowest\n"
                      "order: G^ab frozen at its initial value (parameters). With (72), Gzz = 2 gamma^2 I\n"
                      "and the others 0, this is (73)-(76): precession about H_z + 2 lambda I M_z.")


def spin_spin_mean_field() -> Model:
    """Mean-field closure: every moment factorized (symmag.theory.closures.mean_field)."""
    return _spin_spin("spin_spin_mean_field", "mean field", _IV_DOC + "closed by the mean\n"
                      "field: every symmetrized moment factorized, mu_w = prod mu_a.")


def spin_spin_cumulant2() -> Model:
    """Second-order cumulant closure: three-point cumulants dropped
    (symmag.theory.closures.cumulant_expansion(H, 2)); state M and the six G^{ab}."""
    return _spin_spin("spin_spin_cumulant2", "cumulant 2", _IV_DOC + "closed at second order\n"
                      "in the cumulants: joint cumulants of three indices set to zero; the state carries\n"
                      "the six symmetrized two-point functions G^ab = <[M0^a, M0^b]_+>.")


# -- collective models closed by symmag.theory.closures, for the closure study (symmag.exact.compare) ------
#: the easy-axis strength of :func:`easy_axis` and the LMG coupling of :func:`lmg_hamiltonian`
KAPPA = sp.Symbol("kappa", real=True)
CHI = sp.Symbol("chi", real=True)


def easy_axis() -> Op:
    """kappa (M0^z)^2/(gamma^2 N): an anisotropy along z, extensive with V = N (kappa < 0: easy axis).
    Without it the tilted thermal state (11) is inert under (63): (M . M0)^2 commutes with rho0."""
    return KAPPA * M0("z") * M0("z") / (gamma**2 * N)


def spin_spin_axis_hamiltonian() -> Op:
    """The spin-spin model (63) with the easy axis: -M0 . H_eff + (lambda/gamma^2)(M . M0)^2 +
    kappa (M0^z)^2/(gamma^2 N), M = <M0>/V -- the problem of benchmarks/bench_dynamics.py."""
    return spin_spin_hamiltonian() + easy_axis()


def lmg_hamiltonian() -> Op:
    """The Lipkin-Meshkov-Glick Hamiltonian in a transverse field, -M0 . H_eff - chi (M0^x)^2/(gamma^2
    hbar N) = -gamma hbar J . H_eff - hbar chi J_x^2/N: a fixed H (no M-dependence), not in the paper."""
    return zeeman_hamiltonian() - CHI * M0("x") * M0("x") / (gamma**2 * hbar * N)


#: the collective Hamiltonians whose closures are generated, by the prefix of their model names
COLLECTIVE_HAMILTONIANS = {"spin_spin_axis": spin_spin_axis_hamiltonian, "lmg": lmg_hamiltonian}
#: closure (symmag.theory.closures.CLOSURES) -> suffix of the model name
CLOSURE_SUFFIX = {"lowest": "lowest", "mean field": "mean_field", "cumulant 2": "cumulant2",
                  "cumulant 3": "cumulant3", "cumulant 4": "cumulant4"}


def closure_model(name: str, hamiltonian: Op, closure: str, doc: str = "") -> Model:
    """A closure of the hierarchy of a collective ``hamiltonian`` (symmag.theory.closures.close) as a
    codegen Model: M = <M0>/V closes any M-dependence of the coefficients (so the moment operator
    must then be M0, M_I = 0), gamma = -|gamma|.  State Mx, My, Mz and the kept G^w = 2^(n-1) <W(w)>
    (Gxx, ..., Gxyz, ...); parameters gamma_abs, hbar, V, N and the named ones (sorted) where used,
    then Hx, Hy, Hz."""
    from symmag.algebra.expectation import Correlation, moment_average
    from symmag.algebra.fields import magnetic_moment
    from symmag.algebra.su2 import same_operator
    from symmag.theory.closures import close

    depends_on_m = any(c.has(*M) for c in hamiltonian.terms.values())
    if depends_on_m and not all(same_operator(m, M0(a)) for a, m in enumerate(magnetic_moment(hamiltonian))):
        raise SymmagInputError(f"{name}: the closures close M = <M0>/V; this Hamiltonian's moment "
                               "-dH/dH_eff is not M0 (M_I != 0)")
    system = close(hamiltonian, closure)

    def plain(c: Correlation) -> sp.Symbol:
        if len(c.word) == 1:
            return STATE[c.word[0]]
        return sp.Symbol("G" + "".join(_AX[a] for a in c.word), real=True)

    rename = {c: plain(c) for c in system}
    sub = {**dict(zip(M, moment_average())), gamma: -gamma_abs}
    final = {**dict(zip(H_eff, FIELD)), gamma_abs: GAMMA_ABS, hbar: HBAR}
    rhs = tuple(sp.expand(sp.sympify(e).xreplace(sub).xreplace(rename).xreplace(final))
                for e in system.values())
    state = tuple(rename[k] for k in system)
    used = set().union(*(e.free_symbols for e in rhs)) - set(state)
    fixed = [p for p in (GAMMA_ABS, HBAR, V, N) if p in used]
    named = sorted(used - set(fixed) - set(FIELD), key=lambda s: s.name)
    return Model(name, state, (*fixed, *named, *FIELD), rhs, doc or f"{closure} closure of {name}")


def _closure_doc(prefix: str, closure: str) -> str:
    what = {"spin_spin_axis": "the spin-spin model (63) with an easy axis, H = -M0 . H + (lambda/gamma^2)\n"
                              "(M . M0)^2 + kappa (M0^z)^2/(gamma^2 N), M = <M0>/V",
            "lmg": "the Lipkin-Meshkov-Glick Hamiltonian in a transverse field, H = -M0 . H -\n"
                   "chi (M0^x)^2/(gamma^2 hbar N)"}[prefix]
    how = {"lowest": "lowest order: <M0> exact in G^ab, G^ab precessing freely under -M0 . H (the\n"
                     "zeroth order of (68)-(69))",
           "mean field": "mean field: every symmetrized moment factorized",
           }.get(closure, f"{closure} closure: joint cumulants of more than {closure[-1]} indices set to\n"
                          "zero")
    return (f"The correlation hierarchy of {what}, gamma = -|gamma|, closed at the\n{how}\n"
            "(symmag.theory.closures.close; state M = <M0>/V and the kept G^w = 2^(n-1) <W(w)>/V).")


def _closure_factory(prefix: str, closure: str):
    name = f"{prefix}_{CLOSURE_SUFFIX[closure]}"

    def make() -> Model:
        return closure_model(name, COLLECTIVE_HAMILTONIANS[prefix](), closure, _closure_doc(prefix, closure))

    make.__name__ = name
    make.__doc__ = f"{closure} closure of {prefix} (symmag.theory.closures.close)."
    return make


MODELS = {"llg_rsi": llg_rsi, "llg_rsi_extra": llg_rsi_extra, "spin_spin_lowest": spin_spin_lowest,
          "spin_spin_mean_field": spin_spin_mean_field, "spin_spin_cumulant2": spin_spin_cumulant2}
#: the closures shipped as generated modules (and drift-checked in CI); the cumulant-3 and -4
#: systems (19 and 34 equations, 10-60 s each to build and render) are generated on first use by
#: ``symmag compare`` into the per-user cache (symmag.exact.compare.closure_folder)
SHIPPED_CLOSURES = ("lowest", "mean field", "cumulant 2")
MODELS.update({f"{prefix}_{CLOSURE_SUFFIX[closure]}": _closure_factory(prefix, closure)
               for prefix in COLLECTIVE_HAMILTONIANS for closure in SHIPPED_CLOSURES})
