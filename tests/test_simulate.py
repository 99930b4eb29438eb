"""symmag.numeric.simulate and `symmag simulate` on the generated llg_rsi module."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from symmag.cli.main import main
from symmag.errors import SymmagInputError
from symmag.numeric import simulate as simulate_module
from symmag.numeric.simulate import load_model, save, shipped_folder, simulate

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "generated" / "rhs"


@pytest.fixture(scope="module")
def llg():
    return load_model("llg_rsi", FOLDER)


def test_callable_field_and_ensemble(llg):
    y0 = np.array([0.3, 0.1, 0.9])
    params = {"gamma_abs": 1.5, "alpha0": 0.2, "Hx": 0.0, "Hy": 0.0, "Hz": 1.0}
    ref = simulate(llg, y0, (0, 10), params)
    as_function = simulate(llg, y0, (0, 10), {**params, "Hz": lambda t: 1.0})
    assert np.allclose(ref.y, as_function.y, rtol=1e-12, atol=1e-14)
    ensemble = simulate(llg, np.tile(y0[:, None], (1, 3)), (0, 10), params, method="BDF",
                        rtol=1e-10, atol=1e-12)
    assert ensemble.y.shape == (3, 3, ref.t.size)
    assert np.abs(ensemble.y[:, 1, :] - ref.y).max() < 1e-6
    # |M| is conserved by (41)
    assert np.allclose(np.linalg.norm(ref.y, axis=0), np.linalg.norm(y0), rtol=1e-8)


def test_progress_chunks_give_the_same_result(llg, capsys):
    y0 = np.array([0.2, -0.4, 0.8])
    params = (1.0, 0.3, 0.1, 0.0, 1.0)
    plain = simulate(llg, y0, (0, 5), params, rtol=1e-11, atol=1e-13)
    chunked = simulate(llg, y0, (0, 5), params, rtol=1e-11, atol=1e-13, progress=True)
    assert "100.0 %" in capsys.readouterr().err
    assert np.allclose(plain.t, chunked.t) and np.abs(plain.y - chunked.y).max() < 1e-9


def test_bad_parameters(llg):
    with pytest.raises(SymmagInputError, match="missing: Hz"):
        simulate(llg, np.ones(3), (0, 1), {"gamma_abs": 1, "alpha0": 0.1, "Hx": 0, "Hy": 0})
    with pytest.raises(SymmagInputError, match="expected 5 parameters"):
        simulate(llg, np.ones(3), (0, 1), (1, 2))


def test_cli_writes_npz_and_csv(tmp_path, capsys):
    base = ["simulate", "llg_rsi", "--folder", str(FOLDER), "--y0", "0.3,0.1,0.9", "--t-end", "2",
            "--param", "gamma_abs=1.76", "--param", "alpha0=0.1", "--param", "Hx=0",
            "--param", "Hy=0", "--param", "Hz=1", "--points", "11"]
    assert main([*base, "-o", str(tmp_path / "run.npz")]) == 0
    data = np.load(tmp_path / "run.npz")
    assert data["y"].shape == (3, 11) and list(data["state"]) == ["Mx", "My", "Mz"]
    assert main([*base, "--ensemble", "2", "-o", str(tmp_path / "run.csv")]) == 0
    header = (tmp_path / "run.csv").read_text().splitlines()[1]
    assert header.startswith("t,Mx[0],Mx[1],My[0]")
    capsys.readouterr()
    assert main([*base, "--param", "Hw=1", "-o", str(tmp_path / "x.npz")]) == 2
    assert "unknown: Hw" in capsys.readouterr().err
    assert main(["simulate", "nope", "--y0", "1,2,3", "--t-end", "1"]) == 2
    for bad in (["--t-end", "0"], ["--t-end", "inf"], ["--method", "FOO"], ["--points", "0"],
                ["--param", "Hz=2"], ["-o", str(tmp_path / "no" / "dir.npz")]):
        capsys.readouterr()
        assert main([*base, *bad]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("symmag: error:")


def test_bad_requests_are_refused_before_integrating(llg):
    params = {"gamma_abs": 1.5, "alpha0": 0.2, "Hx": 0.0, "Hy": 0.0, "Hz": 1.0}
    for kwargs, match in [({"t_span": (0, -1)}, "increase"), ({"rtol": float("inf")}, "rtol"),
                          ({"params": {**params, "Hz": float("nan")}}, "finite"),
                          ({"y0": [0.0, 0.0, 0.0], "method": "BDF"}, "not finite")]:
        call = {"y0": [0.3, 0.1, 0.9], "t_span": (0, 1), "params": params, **kwargs}
        with pytest.raises(SymmagInputError, match=match):
            simulate(llg, call.pop("y0"), call.pop("t_span"), call.pop("params"), **call)


def test_step_budget_and_memory_bound(llg):
    from symmag.numeric.simulate import validate_request

    params = (1.0, 0.3, 0.1, 0.0, 1.0)
    sim = simulate(llg, [0.3, 0.1, 0.9], (0, 1e3), params, max_evaluations=100)
    assert not sim.success and sim.message.startswith("step budget exhausted")
    with pytest.raises(SymmagInputError, match="GiB"):
        validate_request(llg, [0.3, 0.1, 0.9], (0, 1), ensemble=10**9)


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(SymmagInputError, match=r"known in .*llg_rsi, llg_rsi_extra"):
        load_model("llg", FOLDER)


def test_a_model_name_alone_is_the_shipped_model_from_any_directory(tmp_path, monkeypatch):
    """MODEL: a path ending in .py (relative to the working directory), a name in an explicit
    folder, else a name among the models shipped with symmag -- never ./generated/rhs unasked."""
    import symmag

    if Path(symmag.__file__).resolve().parent == ROOT / "symmag":  # imported from this checkout
        assert shipped_folder() == FOLDER
    monkeypatch.chdir(tmp_path)
    assert Path(load_model("llg_rsi").__file__) == shipped_folder() / "llg_rsi.py"
    shutil.copy(FOLDER / "llg_rsi.py", tmp_path / "mine.py")
    assert load_model("mine.py").PARAMETERS == ("gamma_abs", "alpha0", "Hx", "Hy", "Hz")
    (tmp_path / "generated" / "rhs").mkdir(parents=True)  # a working directory's own generated/rhs
    (tmp_path / "generated" / "rhs" / "llg_rsi.py").write_text("raise SystemExit('not loaded')\n")
    assert Path(load_model("llg_rsi").__file__) == shipped_folder() / "llg_rsi.py"
    with pytest.raises(SymmagInputError, match=r"llg_rsi\.py: no such file; the shipped model is named"):
        load_model("llg_rsi.py")


@pytest.mark.parametrize("name, words", [
    ("llg_rs", "unknown model 'llg_rs' (did you mean llg_rsi"),
    ("easy_axis", "known models: llg_rsi, llg_rsi_extra, "),
    ("easy_axis", " (each also as NAME_numba)"),
])
def test_unknown_shipped_model_lists_the_known_ones(name, words):
    with pytest.raises(SymmagInputError) as exc:
        load_model(name)
    text = str(exc.value)
    assert words in text and "\n" not in text and len(text) <= 300, text
    assert "codegen" not in text  # regenerating would not make an unknown model


def test_missing_shipped_models_are_one_error(monkeypatch):
    monkeypatch.setattr(simulate_module, "shipped_folder", lambda: None)
    with pytest.raises(SymmagInputError, match=r"the models shipped with symmag are missing.*reinstall"):
        load_model("llg_rsi")


def test_outputs_carry_the_record_of_the_run(tmp_path, capsys):
    """The .npz and the .csv say how they were made: model and its hashes, parameters, y0,
    tolerances, versions; the CSV holds every float64 exactly (shortest repr)."""
    import json

    base = ["simulate", "llg_rsi", "--folder", str(FOLDER), "--y0", "0.3,0.1,0.9", "--t-end", "2",
            "--param", "gamma_abs=1.76", "--param", "alpha0=0.1", "--param", "Hx=0",
            "--param", "Hy=0", "--param", "Hz=1", "--points", "11", "--rtol", "1e-10"]
    assert main([*base, "-o", str(tmp_path / "run.npz")]) == 0
    data = np.load(tmp_path / "run.npz")
    record = json.loads(str(data["record"]))
    assert record["model"]["name"] == "llg_rsi" and len(record["model"]["input_sha256"]) == 64
    assert record["parameters"] == {"gamma_abs": 1.76, "alpha0": 0.1, "Hx": 0.0, "Hy": 0.0, "Hz": 1.0}
    assert record["y0"] == [0.3, 0.1, 0.9] and record["options"]["rtol"] == 1e-10
    assert {"symmag", "numpy", "scipy", "python"} <= set(record["versions"])
    assert data["y0"].tolist() == [0.3, 0.1, 0.9] and float(data["param_Hz"]) == 1.0
    assert main([*base, "-o", str(tmp_path / "run.csv")]) == 0
    lines = (tmp_path / "run.csv").read_text().splitlines()
    assert lines[0].startswith("# symmag simulate: ")
    assert json.loads(lines[0].removeprefix("# symmag simulate: "))["parameters"] == record["parameters"]
    values = np.genfromtxt(tmp_path / "run.csv", delimiter=",", skip_header=2)
    assert np.array_equal(values[:, 1:].T, data["y"])  # bit for bit, not to 19 digits


def test_no_default_output_is_written_over(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    base = ["simulate", "llg_rsi", "--y0", "0.3,0.1,0.9", "--t-end", "1", "--param", "gamma_abs=1",
            "--param", "alpha0=0.1", "--param", "Hx=0", "--param", "Hy=0", "--param", "Hz=1"]
    assert main(base) == 0
    assert "no -o given: wrote" in capsys.readouterr().err and (tmp_path / "simulation.npz").is_file()
    before = (tmp_path / "simulation.npz").read_bytes()
    assert main(base) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "simulation.npz exists" in err[0]
    assert (tmp_path / "simulation.npz").read_bytes() == before
    assert main([*base, "-o", "simulation.npz"]) == 0  # named: replaced


def test_the_saved_inputs_are_those_of_the_run(llg, tmp_path):
    """Review finding: the caller reusing its arrays after the run must not change what is saved;
    the record names what ran (solve_ivp's default method)."""
    import json

    y0, hz = np.array([0.3, 0.1, 0.9]), np.array(1.0)
    sim = simulate(llg, y0, (0, 1), {"gamma_abs": 1.0, "alpha0": 0.1, "Hx": 0.0, "Hy": 0.0, "Hz": hz})
    y0[:] = sim.y[:, -1]
    hz[()] = 5.0
    data = np.load(save(sim, tmp_path / "a.npz"))
    assert data["y0"].tolist() == [0.3, 0.1, 0.9] and float(data["param_Hz"]) == 1.0
    record = json.loads(str(data["record"]))
    assert record["options"]["method"] == "DOP853" and record["noise"] is None
