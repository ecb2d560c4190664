"""Experiment grids: shared runs, resumability, stale and damaged files, partial aggregation, the
statistics of the tables, the results folder of the CLI, workers that die with their parent, and
committed results that re-create bit for bit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from amnl_utils import engine as E
from amnl_utils.core import stats as S
from amnl_utils.core.constants import SUBSETS
from amnl_utils.engine import store as R
from amnl_utils.engine.config import TrainConfig

REPO = R.REPO_DIR
COMMITTED = REPO / "results"


def paths(grid: str, arm: str, subset: str = "FD001", seed: int = 0) -> set[Path]:
    return {s.path("/r") for s in E.grid_runs(grid) if s.arm == arm and s.config.subset == subset
            and s.config.seed == seed}


def test_final_grids_are_well_formed():
    for name, n_subsets, n_arms in (("headline", 4, 3), ("schedules", 2, 6), ("wmax", 2, 10)):
        runs = E.grid_runs(name)
        assert len(runs) == n_subsets * n_arms * len(E.SEEDS)
        assert len({r.path("/r") for r in runs}) == len(runs)  # no two arms of a grid are one run
        assert len(E.SEEDS) >= 10
        assert {r.config.preset for r in runs} == {"compact"}
        assert all(r.config.evaluate_test for r in runs)
        for r in runs:  # every run follows the recipe of its subset
            assert r.config.window == E.RECIPE[r.config.subset]["window"]
    assert {r.config.subset for r in E.grid_runs("headline")} == set(SUBSETS)
    with pytest.raises(ValueError, match="unknown grid"):
        E.grid_runs("nope")


def test_grids_share_runs():
    amnl = paths("headline", "amnl")
    assert amnl == paths("schedules", "linear") == paths("wmax", "amnl_w2")
    assert paths("headline", "mse") == paths("schedules", "mse") == paths("wmax", "amnl_w1")
    assert paths("headline", "scaled_mse") == paths("schedules", "constant") == paths("wmax", "scaled_w2")
    assert paths("wmax", "scaled_w5") != paths("wmax", "amnl_w5")


def test_tuning_grids_never_read_the_test_set():
    tuning = [g for g in E.GRIDS.values() if g.tuning]
    assert tuning
    for g in tuning:
        assert all(not r.config.evaluate_test for r in g.runs())


def test_every_compared_pair_names_arms_of_its_grid():
    for g in E.GRIDS.values():
        arms = {r.arm for r in g.runs()}
        for a, b in g.pairs:
            assert a in arms and b in arms, (g.name, a, b)
    assert ("amnl", "scaled_mse") in E.GRIDS["headline"].pairs  # AMNL − scaled MSE is computed


def test_smoke_grid_resumes_and_repairs_damaged_and_stale_files(tmp_path, cmapss_dir, monkeypatch):
    monkeypatch.setenv("CMAPSS_DIR", str(cmapss_dir))
    out = E.run_grid("smoke", tmp_path, progress=False, isolate=False)
    assert out == {"total": 3, "skipped": 0, "ran": 3, "failed": 0}
    files = sorted((tmp_path / "runs" / "FD001").glob("*.json"))
    assert [f.name.split("_s0_")[0] for f in files] == ["amnl_w2", "mse", "scaled_mse_w2"]
    rec = R.load_record(files[0])
    assert rec["config"]["window"] == 30 and rec["code_hash"] == R.code_hash()
    assert 0 <= rec["clipped_fraction"] <= 1 and "nf_rmse_all" in rec["test"]
    assert not list(tmp_path.rglob("*.tmp"))

    mtimes = {f: f.stat().st_mtime_ns for f in files}
    assert E.run_grid("smoke", tmp_path, progress=False, isolate=False)["ran"] == 0  # all skipped
    assert {f: f.stat().st_mtime_ns for f in files} == mtimes

    files[1].write_text(files[1].read_text()[:500])  # cut off, as by a full disk
    stale = json.loads(files[2].read_text()) | {"code_hash": "0" * 16}
    files[2].write_text(json.dumps(stale))  # made by other training code
    state = E.grid_status("smoke", tmp_path)
    assert [len(state[k]) for k in ("fresh", "stale", "corrupt", "missing")] == [1, 1, 1, 0]
    with pytest.raises(RuntimeError, match=r"(?s)stale: 1 run.*corrupt: 1 run"):
        E.aggregate("smoke", tmp_path, n_boot=20)
    with pytest.raises(RuntimeError, match="never aggregated"):
        E.aggregate("smoke", tmp_path, n_boot=20, partial=True)  # partial never admits stale runs
    assert E.run_grid("smoke", tmp_path, progress=False, isolate=False)["ran"] == 2
    assert E.grid_status("smoke", tmp_path)["fresh"].__len__() == 3


def test_aggregate_refuses_an_incomplete_grid_unless_partial(tmp_path, cmapss_dir, monkeypatch):
    monkeypatch.setenv("CMAPSS_DIR", str(cmapss_dir))
    spec = E.grid_runs("smoke")[0]
    E.run_one(spec.config, spec.path(tmp_path))
    with pytest.raises(RuntimeError, match=r"(?s)missing: 2 run.*--partial"):
        E.aggregate("smoke", tmp_path, n_boot=20)
    out = E.aggregate("smoke", tmp_path, n_boot=20, partial=True)
    assert out["partial"] and out["n_runs"] == 1 and out["n_expected"] == 3
    assert pd.read_csv(tmp_path / "smoke" / "summary.csv")["partial"].all()


def _fake_record(cfg: TrainConfig, y_true, y_pred, nf_true, nf_pred, nf_units, val=20.0) -> dict:
    rec = {k: None for k in R.REQUIRED_KEYS}
    curves = [{"epoch": e, "val_rmse": val + (0.5 if e % 2 else 0.0), "balance_rul": 1.0, "balance_ce": 2.0}
              for e in range(1, 6)]
    rec.update(
        run_id=R.run_id(cfg), subset=cfg.subset, seed=cfg.seed, config=R.canonical_config(cfg),
        code_hash=R.code_hash(), git_commit="abc", versions={}, curves=curves, val={"rmse": val},
        stopping={"best_val_rmse": val, "best_epoch": 2, "epochs_run": 5, "diverged": False},
        clipped_fraction=0.1, wall_s=1.0, started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:01:00+00:00", test={},
        predictions={"unit": list(range(1, len(y_true) + 1)), "y_true": list(y_true), "y_pred": list(y_pred),
                     "h_true": [2 if y <= 30 else 0 for y in y_true], "h_pred": [2 if p <= 30 else 0 for p in y_pred],
                     "nf": {"unit": [int(u) for u in nf_units], "y_true": list(nf_true), "y_pred": list(nf_pred)}},
    )
    return rec


def test_aggregate_statistics_match_the_stats_module(tmp_path, monkeypatch):
    """A grid of hand-made records: the tables hold exactly the paired per-seed statistics."""
    rng = np.random.default_rng(0)
    y = rng.uniform(0, 125, 40).round()
    nf_true, nf_units = np.array([3.0, 2.0, 1.0, 0.0, 20.0, 19.0]), np.array([1, 1, 1, 1, 2, 2])
    seeds = range(4)
    cfgs = {"mse": lambda k: TrainConfig(loss="mse", seed=k), "amnl": lambda k: TrainConfig(loss="amnl", seed=k)}
    grid = E.Grid("fake", "hand-made", lambda: [E.RunSpec(a, f(k)) for k in seeds for a, f in cfgs.items()],
                  pairs=(("amnl", "mse"),))
    monkeypatch.setitem(E.GRIDS, "fake", grid)
    per_seed = {"mse": [], "amnl": []}
    for spec in grid.runs():
        shift = 4.0 if spec.arm == "mse" else 2.0 + 0.5 * spec.config.seed
        pred = y + shift + rng.normal(0, 3, y.size)
        per_seed[spec.arm].append(float(np.sqrt(np.mean((pred - y) ** 2))))
        R.write_json_atomic(spec.path(tmp_path), _fake_record(spec.config, y, pred, nf_true, nf_true + shift, nf_units))
    out = E.aggregate("fake", tmp_path, n_boot=50)
    comp = pd.DataFrame(out["comparisons"]).set_index("metric")
    expected = S.paired_difference(per_seed["amnl"], per_seed["mse"])
    for key in ("diff", "lo", "hi", "mde"):
        assert comp.loc["rmse", key] == pytest.approx(expected[key])
    assert comp.loc["nf_rmse_all", "diff"] == pytest.approx(np.mean([2.0 + 0.5 * k for k in seeds]) - 4.0)
    assert comp.loc["rmse", "boot_lo"] < comp.loc["rmse", "diff"] < comp.loc["rmse", "boot_hi"]
    summ = pd.DataFrame(out["summary"]).set_index(["arm", "metric"])
    assert summ.loc[("mse", "rmse"), "mean"] == pytest.approx(np.mean(per_seed["mse"]))
    assert summ.loc[("mse", "roughness"), "mean"] == pytest.approx(0.5)
    assert summ.loc[("mse", "balance_ratio"), "mean"] == pytest.approx(0.5)
    assert not out["partial"] and (tmp_path / "fake" / "comparisons.csv").exists()


def test_cli_list(capsys):
    assert E.main(["list"]) == 0
    assert "headline: 120 runs" in capsys.readouterr().out


def test_cli_honours_amnl_results(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(R.ENV_VAR, str(tmp_path))
    assert E.main(["status", "--grid", "smoke"]) == 1  # missing runs: not complete
    assert json.loads(capsys.readouterr().out.splitlines()[0]) == {"fresh": 0, "stale": 0, "corrupt": 0, "missing": 3}
    with pytest.raises(RuntimeError, match=str(tmp_path)):
        E.main(["aggregate", "--grid", "smoke"])


def _children(pid: int) -> list[int]:
    import psutil

    try:
        return [c.pid for c in psutil.Process(pid).children(recursive=True) if "_run-one" in " ".join(c.cmdline())]
    except psutil.NoSuchProcess:
        return []


def test_workers_die_with_their_parent(tmp_path, cmapss_dir):
    """SIGKILL of `run --jobs 2`: its run processes go too, and no new run starts."""
    import psutil

    env = {**os.environ, "CMAPSS_DIR": str(cmapss_dir), R.ENV_VAR: str(tmp_path), "PYTHONPATH": str(REPO)}
    parent = subprocess.Popen([sys.executable, "-m", "amnl_utils.engine", "run", "--grid", "smoke", "--jobs", "2",
                               "--no-progress"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        kids: list[int] = []
        while time.time() < deadline and len(kids) < 2:
            kids = _children(parent.pid)
            time.sleep(0.05)
        assert len(kids) == 2, "the grid did not start two run processes"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.time() + 10
        while time.time() < deadline and any(psutil.pid_exists(k) and psutil.Process(k).status() != "zombie" for k in kids):
            time.sleep(0.05)
        assert not any(psutil.pid_exists(k) and psutil.Process(k).status() != "zombie" for k in kids)
    finally:
        if parent.poll() is None:
            parent.kill()
    time.sleep(1.0)  # nothing is left to start another run
    alive = [p for p in psutil.process_iter(["cmdline"]) if str(tmp_path) in " ".join(p.info["cmdline"] or [])]
    assert not [p for p in alive if p.status() != "zombie"]


def test_committed_results_are_fresh():
    """Every committed run was made by the current training code or by code the lineage file
    certifies equivalent (else: `certify`, and if that refuses, re-run its grid)."""
    files = sorted((COMMITTED / "runs").rglob("*.json"))
    assert files, "no committed result files"
    fresh = E.equivalent_hashes(R.code_hash(), COMMITTED)
    stale = [str(f.relative_to(COMMITTED)) for f in files if R.load_record(f)["code_hash"] not in fresh]
    assert not stale, (f"{len(stale)} committed runs are stale, e.g. {stale[:3]}; run `python -m amnl_utils.engine "
                       "certify`, or re-run their grids if it refuses")


def test_a_committed_run_recreates_bit_for_bit(tmp_path, cmapss_dir):
    """`rerun` re-trains one committed (smoke) run in a fresh process and gets the same bits.

    The smoke grid is a scratch grid, so it never writes into the committed store; its three
    reference runs were committed there once and are read from there explicitly."""
    spec = E.grid_runs("smoke")[2]
    path = spec.path(COMMITTED)
    original = R.load_record(path)

    out = E.rerun(path, tmp_path, data_dir=str(cmapss_dir))
    assert not out["stale"]
    if E.same_processor_kind(original.get("cpu"), E.cpu_fingerprint()):
        assert out["same_cpu"] is True
        assert out["identical"] and out["max_abs_pred_diff"] == 0.0
    else:
        # Float kernels differ between processors, so bit identity holds on the same one only. Over
        # the smoke run's six steps the drift stays in the last bits: 1e-4 cycles (the stored
        # rounding) between the AMD EPYC that made the file and an Intel Xeon. Far more means a
        # real change, not the processor.
        assert out["same_cpu"] is False
        assert out["max_abs_pred_diff"] <= 0.01


def test_verify_this_cpu_samples_only_runs_made_here(tmp_path, cmapss_dir, monkeypatch):
    monkeypatch.setenv("CMAPSS_DIR", str(cmapss_dir))
    E.run_grid("smoke", tmp_path, progress=False, isolate=False)
    elsewhere = E.grid_runs("smoke")[0].path(tmp_path)  # pretend one run came from another machine
    rec = json.loads(elsewhere.read_text())
    rec["cpu"] = {**rec["cpu"], "model_name": "another processor"}
    elsewhere.write_text(json.dumps(rec))
    rows = E.verify("smoke", sample=3, results=tmp_path, data_dir=str(cmapss_dir), this_cpu=True)
    assert len(rows) == 2 and all(r["identical"] and r["same_cpu"] for r in rows)
    assert str(elsewhere.relative_to(tmp_path)) not in {r["run"] for r in rows}
    for spec in E.grid_runs("smoke")[1:]:
        spec.path(tmp_path).unlink()
    with pytest.raises(RuntimeError, match="made on this processor"):
        E.verify("smoke", sample=1, results=tmp_path, data_dir=str(cmapss_dir), this_cpu=True)


def test_verify_reruns_a_sample_and_records_it(tmp_path, cmapss_dir, monkeypatch):
    monkeypatch.setenv("CMAPSS_DIR", str(cmapss_dir))
    E.run_grid("smoke", tmp_path, progress=False, isolate=False)  # made in this process ...
    rows = E.verify("smoke", sample=1, results=tmp_path, data_dir=str(cmapss_dir), record=True)
    assert len(rows) == 1 and rows[0]["identical"]  # ... re-made in a fresh one: the same bits
    saved = json.loads((tmp_path / "smoke" / "verify.json").read_text())
    assert saved["all_identical"] and saved["sample"] == 1 and saved["of"] == 3
    assert saved["runs"][0]["run"].startswith("runs/FD001/")
