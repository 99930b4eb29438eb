"""Exact Liouville-von Neumann dynamics against every derived equation (symmag compare)."""

from __future__ import annotations

import numpy as np

from symmag.cli.main import main
from symmag.exact import compare


def test_rsi_exact_follows_the_llg_to_integrator_tolerance():
    """The RSI Hamiltonian is linear in the spins: exact and LLG (41) agree over 3 tau."""
    c = compare.rsi(n_sites=3, relaxation_times=3.0)
    assert c.deviation("LLG (41)").max() < 1e-7
    assert abs(c.exact[2, -1] - c.exact[2, 0]) > 0.1 * np.linalg.norm(c.exact[:, 0])  # it relaxed


def test_compare_uses_the_shipped_models_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    c = compare.rsi(n_sites=1, relaxation_times=1.0, points=6)
    assert c.deviation("LLG (41)").max() < 1e-7
    assert list(tmp_path.iterdir()) == []


def test_sec3b_exact_dynamics_follow_the_generated_model():
    """The radiation field with the extra field (46) and torque (49), M from M = (1 + A^T)<M0>
    solved numerically at each instant: exact M(t) follows llg_rsi_extra, also when the
    extra torque overturns M (lambdabar49 < -lambda0)."""
    lam0 = 0.3 / (1 + 0.3**2)
    for lb46, lb49 in ((0.2, 0.1), (-0.1, -1.6 * lam0)):
        c = compare.rsi(n_sites=3, lambdabar46=lb46, lambdabar49=lb49, relaxation_times=2.0)
        assert c.deviation("Sec. III B model").max() < 1e-7
        if lb49 < -lam0:  # M_z/|M| heads for -1: the magnetization turns over
            assert c.exact[2, -1] / np.linalg.norm(c.exact[:, -1]) < -0.9


def test_lowest_order_error_scales_as_lambda_squared():
    """In zero field (the interaction frame of (68) is the lab frame), over t in [0, 4] on a
    correlated 3-spin state: the lowest order's largest error goes as lambda^2 (fitted
    exponent within 0.15 of 2); each closure's exponent is reported beside it."""
    scaling = compare.lambda_scaling((0.02, 0.04, 0.08, 0.16), n_sites=3, t_end=4.0)
    errors, p = scaling["lowest order"]
    assert abs(p - 2) < 0.15, p
    assert np.all(np.diff(errors) > 0)
    assert set(scaling) == {"lowest order", "mean field", "cumulant 2"}
    assert all(np.isfinite(q) for _, q in scaling.values())


def test_cumulant_closure_beats_lowest_order_in_a_field():
    c = compare.spin_spin(n_sites=3, lam=0.15, h_z=1.0, t_end=8.0)
    assert c.deviation("cumulant 2").max() < 0.2 * c.deviation("lowest order").max()


def test_compare_command(capsys, tmp_path):
    png = tmp_path / "dev.png"
    assert main(["compare", "spin_spin", "--spins", "2", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "fitted exponent" in out and "lowest order" in out and png.stat().st_size > 0
    assert main(["compare", "llg_rsi", "--spins", "9"]) == 2
    assert "--spins" in capsys.readouterr().err
