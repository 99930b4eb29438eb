"""Figs. 1 and 2 of the paper, reproduced: M_z/M and M_p/M from (44)-(45) against
lambda0 omega0 t, for several a = lambdabar49/lambda0 (the extra torque (49)).

The curves come from the derived closed form, not from typed formulas: (44)-(45)
(sec3a_rsi.mz_solution, mp_solution) with the relaxation rate that Sec. III B derives
for the field with the extra torque (sec3b_general_field.rates("49"): (lambda0 +
lambdabar49) omega0).  ``integrated_curves`` gets the same curves by integrating the
generated module llg_rsi_extra, an independent route (a test compares the two).

Conventions: gamma = -|gamma|, omega0 = |gamma| H_z, the field along +z; t0 = 0 and
M_z(0) = d M.  Both axes are dimensionless.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy as sp

from symmag.atomic import replacing
from symmag.conventions import t

from .printed import M_mag, alpha0, lam0, lb49, omega0, t0
from .sec3a_rsi import DELTA, K, mp_solution, mz_solution
from .sec3b_general_field import RELATION_40, rates

#: the values drawn: a > 0, a = 0, -1 < a < 0, a = -1 (no damping), a < -1 (overturning)
A_VALUES = (1.0, 0.0, -0.5, -1.0, -1.5)
D = 0.5  # M_z(0)/M
ALPHA0 = 0.1  # for the integrated check only: the curves depend on lambda0 omega0 t alone
X_END = 6.0  # lambda0 omega0 t


@dataclass(frozen=True)
class Curves:
    x: np.ndarray  # lambda0 omega0 t
    a: tuple[float, ...]
    mz: np.ndarray  # (len(a), len(x)): M_z/M
    mp: np.ndarray  # M_p/M


def closed_form() -> tuple[sp.Expr, sp.Expr, tuple[sp.Symbol, ...]]:
    """(M_z/M, M_p/M) as SymPy expressions of (x, a, d): (44)-(45) with the Sec. III B
    rate, t = x/(lambda0 omega0), t0 = 0 and M_z(0) = d M (delta = atanh d)."""
    x, a, d = sp.symbols("x a d", real=True)
    _, relax = rates("49")  # (lambda0 + lambdabar49) omega0, lambda0 of (40)
    lam0_40 = RELATION_40[lam0]
    rate = relax.xreplace({lb49: a * lam0_40})
    sub = {K: rate, t0: 0, DELTA: sp.atanh(d), t: x / (lam0_40 * omega0)}
    mz = sp.simplify(mz_solution().xreplace(sub) / M_mag)
    mp = sp.simplify(mp_solution().xreplace(sub) / M_mag)
    if mz.has(alpha0, omega0) or mp.has(alpha0, omega0):
        raise AssertionError("the curves should depend on lambda0 omega0 t only")
    return mz, mp, (x, a, d)


def curves(n: int = 601) -> Curves:
    mz, mp, args = closed_form()
    fz, fp = (sp.lambdify(args, e, "numpy") for e in (mz, mp))
    x = np.linspace(0.0, X_END, n)
    return Curves(x, A_VALUES, np.array([fz(x, a, D) * np.ones_like(x) for a in A_VALUES]),
                  np.array([fp(x, a, D) * np.ones_like(x) for a in A_VALUES]))


def integrated_curves(x: np.ndarray, module=None) -> Curves:
    """The same curves from integrating the generated llg_rsi_extra (DOP853, rtol 1e-12) with
    |gamma| = H_z = 1, alpha0 = ALPHA0, lambdabar46 = 0, lambdabar49 = a lambda0."""
    from scipy.integrate import solve_ivp

    if module is None:
        from symmag.numeric.simulate import load_model

        module = load_model("llg_rsi_extra")
    lam0_value = ALPHA0 / (1 + ALPHA0**2)
    y0 = np.array([np.sqrt(1 - D**2), 0.0, D])  # |M| = 1
    mz, mp = [], []
    for a in A_VALUES:
        sol = solve_ivp(module.rhs, (0, x[-1] / lam0_value), y0, t_eval=x / lam0_value, method="DOP853",
                        args=(1.0, ALPHA0, 0.0, a * lam0_value, 0.0, 0.0, 1.0), rtol=1e-12, atol=1e-14)
        mz.append(sol.y[2])
        mp.append(np.hypot(sol.y[0], sol.y[1]))
    return Curves(x, A_VALUES, np.array(mz), np.array(mp))


CAPTIONS = {
    "fig1": (r"$M_z/M$ from (44) against $\lambda_0\omega_0 t$ with the extra torque (49), for "
             r"$a=\bar\lambda_0/\lambda_0 \in \{1, 0, -\tfrac12, -1, -\tfrac32\}$ and $d = M_z(0)/M = "
             r"\tfrac12$; the relaxation rate is $(1+a)\lambda_0\omega_0$ (derived). For $a<-1$ "
             r"$M_z \to -M$: the magnetization turns over; $a=-1$ has no damping. The curves depend "
             r"on $\lambda_0\omega_0 t$ only; the integrated check uses $\alpha_0 = 0.1$, "
             r"$\omega_0 = |\gamma| H_z = 1$."),
    "fig2": (r"$M_p/M$ from (45), same parameters as Fig.~\ref{fig:fig1}. For $a<-1$, $M_p/M$ "
             r"reaches 1 (the magnetization is perpendicular to $\vec H_{\mathrm{eff}}$) when $M_z$ "
             r"crosses zero, then decays as $M$ turns upside down."),
}


def draw(outdir: Path | str) -> list[Path]:
    """Write fig1 and fig2 as PDF (for the report) and PNG (for viewing) into ``outdir``;
    the files carry no timestamps, so reruns are byte-identical."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    c = curves()
    written = []
    for name, data, ylabel, ylim in (("fig1", c.mz, r"$M_z/M$", (-1.05, 1.05)),
                                     ("fig2", c.mp, r"$M_p/M$", (0.0, 1.05))):
        fig, ax = plt.subplots(figsize=(5.2, 3.4), layout="constrained")
        for a, y in zip(c.a, data):
            ax.plot(c.x, y, label=rf"$a = {a:g}$")
        ax.set_xlabel(r"$\lambda_0\omega_0 t$ (dimensionless)")
        ax.set_ylabel(f"{ylabel} (dimensionless)")
        ax.set_xlim(0, X_END)
        ax.set_ylim(*ylim)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="best")
        for ext, meta in (("pdf", {"CreationDate": None, "Producer": None, "Creator": None}),
                          ("png", {"Software": None})):
            path = outdir / f"{name}.{ext}"
            with replacing(path) as tmp:  # a killed run leaves the old figure, never half of one
                fig.savefig(tmp, dpi=150, metadata=meta, format=ext)
            written.append(path)
        plt.close(fig)
    return written
