"""symmag.numeric.sweep and `symmag sweep` on a LocalCluster of two worker processes (issue #16).

One cluster serves the whole module (starting one costs seconds); the sweeps are small
llg_rsi sweeps on the NumPy module (no JIT), so every test is deterministic and quick.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")
pytest.importorskip("zarr")
xr = pytest.importorskip("xarray")

from symmag.cli import sweep as sweep_cli  # noqa: E402
from symmag.errors import SymmagInputError  # noqa: E402
from symmag.numeric import sweep  # noqa: E402
from symmag.numeric.simulate import load_model, simulate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "generated" / "rhs"
Y0 = [0.3, 0.1, 0.9]
FIXED = {"gamma_abs": 1.0, "Hx": 0.0, "Hy": 0.0}
TIMES = np.linspace(0.0, 5.0, 11)


@pytest.fixture(scope="module")
def client():
    from distributed import Client

    cluster = sweep.local_cluster(2, silence_logs=logging.CRITICAL)
    c = Client(cluster, set_as_default=False)
    yield c
    c.close()
    cluster.close()


def _plan(**kw):
    grid = kw.pop("grid", None) or sweep.product(Hz=[0.5, 1.0, 1.5, 2.0], alpha0=[0.05, 0.2])
    return sweep.plan("llg_rsi", grid, kw.pop("t_eval", TIMES), y0=kw.pop("y0", Y0),
                      fixed=kw.pop("fixed", FIXED), folder=FOLDER, **{"batch": 2, **kw})


def _reference(hz: np.ndarray, alpha0: np.ndarray, y0, t_eval=TIMES) -> np.ndarray:
    """The final states, point by point, straight from simulate: (P, 3, E)."""
    llg = load_model("llg_rsi", FOLDER)
    y0 = np.asarray(y0, dtype=float).reshape(3, -1)
    out = []
    for h, a in zip(hz, alpha0):
        sim = simulate(llg, y0, (0.0, float(t_eval[-1])), {**FIXED, "Hz": h, "alpha0": a}, t_eval=t_eval,
                       integrator="dp54", rtol=1e-6, atol=1e-9)
        out.append(sim.y[..., -1])
    return np.array(out)


def test_a_killed_worker_still_gets_every_point_right(client, tmp_path):
    rng = np.random.default_rng(16)
    y0 = rng.normal(size=(3, 50))
    y0 /= np.linalg.norm(y0, axis=0)
    hz, alpha0 = np.linspace(0.5, 2.0, 6), np.array([0.05, 0.2])
    p = _plan(grid=sweep.product(Hz=hz, alpha0=alpha0), y0=y0, batch=1, t_eval=np.linspace(0, 20, 5))
    killed = []

    def kill_one(done: int, total: int) -> None:
        if done == 2 and not killed:  # mid-run: the other blocks are queued or running
            pid = next(iter(client.run(os.getpid).values()))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    summary = sweep.run(p, tmp_path / "k.zarr", client=client, on_result=kill_one)
    assert killed and summary.failed == 0 and summary.computed == p.blocks == 12
    ds = xr.open_zarr(tmp_path / "k.zarr")
    assert (ds.status.values == sweep.DONE).all()
    mesh_h, mesh_a = np.meshgrid(hz, alpha0, indexing="ij")
    want = _reference(mesh_h.ravel(), mesh_a.ravel(), y0, np.linspace(0, 20, 5)).reshape(6, 2, 3, 50)
    assert np.abs(ds.y_final.values - want).max() < 1e-12


def test_interrupted_then_resumed_equals_uninterrupted(client, tmp_path):
    # eight blocks of ~0.3 s: when the client stops at the second result, blocks are still unstarted
    # (blocks of milliseconds were all written by the workers before the client could stop them)
    p = _plan(batch=1, t_eval=np.linspace(0.0, 300.0, 11))
    whole = sweep.run(p, tmp_path / "whole.zarr", client=client)
    assert whole.computed == p.blocks == 8 and whole.skipped == 0

    class Stop(Exception):
        pass

    def stop(done: int, total: int) -> None:
        if done == 2:
            raise Stop

    with pytest.raises(Stop):  # this time the workers write their blocks themselves
        sweep.run(p, tmp_path / "part.zarr", client=client, on_result=stop, workers_write=True)
    part = xr.open_zarr(tmp_path / "part.zarr", consolidated=False)
    assert part.attrs["complete"] is False and (part.status.values == sweep.PENDING).any()
    assert not (tmp_path / "part.zarr" / ".zmetadata").exists()  # the consolidated metadata comes last
    resumed = sweep.run(p, tmp_path / "part.zarr", client=client, workers_write=True)
    assert resumed.skipped >= 2 and resumed.computed == p.blocks - resumed.skipped
    a, b = xr.open_zarr(tmp_path / "whole.zarr"), xr.open_zarr(tmp_path / "part.zarr")
    assert b.attrs["complete"] is True
    np.testing.assert_array_equal(a.y_final.values, b.y_final.values)
    np.testing.assert_array_equal(a.status.values, b.status.values)
    again = sweep.run(p, tmp_path / "part.zarr", client=client)  # same inputs: nothing to do
    assert again.computed == 0 and again.skipped == p.blocks


def test_open_zarr_has_the_parameters_as_coordinates(client, tmp_path):
    p = _plan(reduction="mean")
    sweep.run(p, tmp_path / "grid.zarr", client=client)
    ds = xr.open_zarr(tmp_path / "grid.zarr")
    assert ds["mean"].dims == ("Hz", "alpha0", "state", "time")
    np.testing.assert_array_equal(ds["Hz"].values, [0.5, 1.0, 1.5, 2.0])
    np.testing.assert_array_equal(ds["alpha0"].values, [0.05, 0.2])
    mz = ds["mean"].sel(alpha0=0.2, state="Mz").isel(time=-1)  # a slice in one line
    assert mz.dims == ("Hz",) and np.all(np.isfinite(mz.values))
    assert ds.attrs["model"] == "llg_rsi" and len(ds.attrs["model_sha256"]) == 64
    assert ds.attrs["rtol"] == 1e-6 and ds.attrs["integrator"] == "dp54"
    assert {"symmag", "sympy", "numpy"} <= set(__import__("json").loads(ds.attrs["versions"]))
    np.testing.assert_array_equal(ds.y0.values[:, 0], Y0)
    # zipped points from a table: one dimension `point`, each parameter a coordinate along it
    table = tmp_path / "points.csv"
    table.write_text("Hz,alpha0\n0.5,0.1\n1.5,0.3\n2.5,0.2\n")
    sweep.run(_plan(grid=sweep.table(table)), tmp_path / "table.zarr", client=client)
    zs = xr.open_zarr(tmp_path / "table.zarr")
    assert zs.y_final.dims[0] == "point" and zs["Hz"].dims == ("point",) and zs["alpha0"].dims == ("point",)
    want = _reference(np.array([0.5, 1.5, 2.5]), np.array([0.1, 0.3, 0.2]), Y0)
    assert np.abs(zs.y_final.values - want).max() < 1e-12


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="symmag")
    sweep_cli.add_parser(parser.add_subparsers())
    return parser


def test_a_failing_point_is_recorded_and_the_exit_status_is_1(client, tmp_path, capsys):
    address = client.scheduler.address
    out = tmp_path / "fail.zarr"
    args = _parser().parse_args(
        ["sweep", "llg_rsi", "--folder", str(FOLDER), "-o", str(out), "--grid", "Hz=1,2,1e4", "--param",
         "gamma_abs=1", "--param", "alpha0=0.1", "--param", "Hx=0", "--param", "Hy=0", "--y0", "0.3,0.1,0.9",
         "--t-end", "5", "--points", "6", "--max-steps", "300", "--batch", "3", "--scheduler", address])
    assert args.func(args) == 1
    captured = capsys.readouterr()
    assert "FAILED: 1 of 3 points" in captured.out and "Hz = 10000" in captured.out
    assert captured.err == ""  # no progress line off a terminal
    ds = xr.open_zarr(out)
    np.testing.assert_array_equal(ds.status.values, [1, 1, 2])
    assert "max_steps" in str(ds.message.values[2]) and ds.message.values[0] == ""
    assert np.isfinite(ds.y_final.values[:2]).all() and np.isnan(ds.y_final.values[2]).all()
    # solve_ivp integrates a block as one ODE: the block is bisected, the other points kept
    p = sweep.plan("llg_rsi", sweep.zipped(gamma_abs=[1.0, 2.0, 1e12, 3.0]), TIMES, y0=Y0,
                   fixed={"alpha0": 0.1, "Hx": 0.0, "Hy": 0.0, "Hz": 1.0}, integrator="solve_ivp",
                   rtol=1e-9, atol=1e-12, batch=4, folder=FOLDER)
    summary = sweep.run(p, tmp_path / "ivp.zarr", client=client)
    assert summary.failed == 1 and summary.computed == 1 and "time scales" in summary.failures[0]
    ds = xr.open_zarr(tmp_path / "ivp.zarr")
    np.testing.assert_array_equal(ds.status.values, [1, 1, 2, 1])
    llg = load_model("llg_rsi", FOLDER)
    for j, g in ((0, 1.0), (3, 3.0)):
        alone = simulate(llg, Y0, (0, 5), {"gamma_abs": g, "alpha0": 0.1, "Hx": 0, "Hy": 0, "Hz": 1},
                         t_eval=TIMES, rtol=1e-9, atol=1e-12)
        assert np.abs(ds.y_final.values[j, :, 0] - alone.y[:, -1]).max() < 1e-6


def test_bad_input_is_one_clear_error(tmp_path):
    grid = sweep.product(Hz=[1.0])
    with pytest.raises(SymmagInputError, match="no parameter 'Hzz'"):
        sweep.plan("llg_rsi", sweep.product(Hzz=[1.0]), TIMES, y0=Y0, fixed={**FIXED, "alpha0": 0.1},
                   folder=FOLDER)
    with pytest.raises(SymmagInputError, match="no points"):
        sweep.product(Hz=[])
    with pytest.raises(SymmagInputError, match="finite"):
        sweep.product(Hz=[1.0, float("nan")])
    with pytest.raises(SymmagInputError, match="gamma_abs must not be negative"):
        sweep.plan("llg_rsi", sweep.product(gamma_abs=[1.0, -1.0]), TIMES, y0=Y0,
                   fixed={"alpha0": 0.1, "Hx": 0.0, "Hy": 0.0, "Hz": 1.0}, folder=FOLDER)
    with pytest.raises(SymmagInputError, match="no value for alpha0"):
        sweep.plan("llg_rsi", grid, TIMES, y0=Y0, fixed=FIXED, folder=FOLDER)
    table = tmp_path / "evil.csv"
    table.write_text("Hz\n__import__('os').system('true')\n")
    with pytest.raises(SymmagInputError, match="not a number"):
        sweep.table(table)
    parser = _parser()
    base = ["sweep", "llg_rsi", "--folder", str(FOLDER), "-o", str(tmp_path / "x.zarr"), "--y0",
            "0.3,0.1,0.9", "--t-end", "1", "--param", "gamma_abs=1", "--param", "alpha0=0.1",
            "--param", "Hx=0", "--param", "Hy=0"]
    for extra, message in ((["--grid", "Hz=1:2:0"], "COUNT"), (["--grid", "Hz="], "no points"),
                           (["--grid", "Hz=1,nan"], "finite"), (["--grid", "Hq=1"], "no parameter 'Hq'"),
                           ([], "exactly one of")):
        args = parser.parse_args([*base, *extra])
        with pytest.raises(SymmagInputError, match=message) as info:
            args.func(args)
        assert "\n" not in str(info.value)
    assert not (tmp_path / "x.zarr").exists()
    # an unreachable scheduler: a clear error well within 10 s, nothing written
    p = _plan(grid=grid, fixed={**FIXED, "alpha0": 0.1}, batch=1)
    started = time.monotonic()
    with pytest.raises(SymmagInputError, match="cannot reach the Dask scheduler"):
        sweep.run(p, tmp_path / "u.zarr", scheduler="tcp://127.0.0.1:9")
    assert time.monotonic() - started < 10 and not (tmp_path / "u.zarr").exists()
    # a directory that is not a sweep store is never taken over
    (tmp_path / "mine").mkdir()
    with pytest.raises(SymmagInputError, match="not a symmag sweep store"):
        sweep.run(p, tmp_path / "mine", overwrite=True)


def test_a_store_with_other_inputs_is_refused_unless_overwrite(client, tmp_path):
    store = tmp_path / "s.zarr"
    sweep.run(_plan(), store, client=client)
    before = sorted((q.relative_to(store), q.stat().st_mtime_ns) for q in store.rglob("*"))
    refused = r"different inputs \(options.rtol: 1e-06 in the store, 1e-08 now"
    with pytest.raises(SymmagInputError, match=refused):
        sweep.run(_plan(rtol=1e-8), store, client=client)
    assert sorted((q.relative_to(store), q.stat().st_mtime_ns) for q in store.rglob("*")) == before
    summary = sweep.run(_plan(rtol=1e-8), store, client=client, overwrite=True)
    assert summary.computed == 4 and xr.open_zarr(store).attrs["rtol"] == 1e-8
    assert [q.name for q in tmp_path.iterdir()] == ["s.zarr"]  # nothing left beside it


def test_a_grid_of_too_many_tasks_is_refused_at_once():
    """Review finding: millions of one-point tasks sat silently in the validation loop; now one line
    (an automatic batch grows instead)."""
    from symmag.errors import SymmagInputError
    from symmag.numeric import sweep

    grid = sweep.product(Hz=np.linspace(0, 1, 200), Hx=np.linspace(0, 1, 200))
    fixed = {"gamma_abs": 1.0, "alpha0": 0.1, "Hy": 0.0}
    with pytest.raises(SymmagInputError, match="40,000 tasks"):
        sweep.plan("llg_rsi", grid, [0.0, 1.0], y0=[0.0, 0.0, 1.0], fixed=fixed, batch=1)


def _assembled(p: sweep.Plan) -> np.ndarray:
    """Every block run in this process (no cluster), put back in grid order: (points, ...)."""
    out = None
    for block in range(p.blocks):
        result = sweep.run_block(p, block)
        assert (result.status == sweep.DONE).all()
        if out is None:
            out = np.empty((int(np.prod(p.grid.shape)), *result.data.shape[1:]))
        out[p.flat(block)] = result.data
    return out


def test_heun_noise_is_keyed_by_point_not_by_block_layout():
    """A stochastic sweep gives the same numbers whatever its batch (blocks of 1, 4 or 6 points
    of a 3 x 4 grid: rows cut in different places), and each point is system k E + j of one
    ensemble run with the sweep's seed -- simulate(seed=, system_offset=k E) reproduces it."""
    grid = sweep.product(Hz=[0.5, 1.0, 1.5], alpha0=[0.05, 0.1, 0.2, 0.3])
    kw = {"integrator": "heun", "step": 0.05, "seed": 11, "ensemble": 3, "t_eval": np.array([0.0, 1.0]),
          "fixed": {**FIXED, "temperature": 0.05}}
    runs = [_assembled(_plan(grid=grid, batch=b, **kw)) for b in (1, 4, 6)]
    # blocks of 2 x 3 points are not consecutive in the flat order (a resumed store keeps the
    # layout it was made with): one call per run of consecutive points
    runs.append(_assembled(replace(_plan(grid=grid, batch=6, **kw), chunk=(2, 3))))
    assert runs[0].shape == (12, 3, 3)
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0], other)
    llg = load_model("llg_rsi", FOLDER)
    k = 7  # Hz = 1.0, alpha0 = 0.3
    alone = simulate(llg, np.tile(np.reshape(Y0, (3, 1)), (1, 3)), (0.0, 1.0),
                     {**FIXED, "Hz": 1.0, "alpha0": 0.3}, t_eval=[0.0, 1.0], integrator="heun", step=0.05,
                     temperature=0.05, seed=11, system_offset=k * 3)
    np.testing.assert_array_equal(runs[0][k], alone.y[..., -1])
    assert not np.array_equal(runs[0][k], runs[0][k - 1])  # the noise differs from point to point
