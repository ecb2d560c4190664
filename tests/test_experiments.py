"""Experiment grids: atomic files, resumability, aggregation (the smoke grid, into tmp_path)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from amnl_utils import experiments as E
from amnl_utils import reporting as R


def test_atomic_write_leaves_no_partial_file(tmp_path):
    path = tmp_path / "sub" / "run.json"
    E.write_json_atomic(path, {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
    with pytest.raises(TypeError):
        E.write_json_atomic(path, {"a": object()})  # fails half-way through serialising
    assert json.loads(path.read_text()) == {"a": 1}  # old file untouched
    with pytest.raises(TypeError):
        E.write_json_atomic(tmp_path / "new.json", {"b": object()})
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["run.json", "sub"]  # no tmp, no new.json


def test_grids_are_well_formed():
    runs = E.grid_runs("headline")
    assert len(runs) == 60
    assert len({r.relpath for r in runs}) == 60
    assert {r.arm for r in runs} == {"mse", "scaled_mse", "amnl"}
    assert {r.config.preset for r in runs} == {"compact"}
    assert all(r.config.w_max == 2.0 for r in runs)
    with pytest.raises(ValueError, match="unknown grid"):
        E.grid_runs("nope")


def test_verdict():
    assert E.verdict(-1.0, 2.0) == "no measurable difference"
    assert E.verdict(-3.0, -1.0) == "lower than MSE"
    assert E.verdict(0.5, 1.0) == "higher than MSE"


def test_smoke_grid_runs_resumes_and_aggregates(tmp_path, cmapss_dir, monkeypatch):
    monkeypatch.setenv("CMAPSS_DIR", str(cmapss_dir))
    out = E.run_grid("smoke", tmp_path, jobs=1, progress=False)
    assert out == {"total": 3, "skipped": 0, "ran": 3}
    files = sorted((tmp_path / "smoke" / "FD001").glob("*.json"))
    assert [f.name for f in files] == ["amnl_s0.json", "mse_s0.json", "scaled_mse_s0.json"]
    rec = json.loads(files[0].read_text())
    for key in ("config", "seed", "git_commit", "versions", "device", "wall_s", "curves", "test",
                "predictions", "stopping", "loss_scale"):
        assert key in rec
    assert not list(tmp_path.rglob("*.tmp"))

    mtimes = {f: f.stat().st_mtime_ns for f in files}
    assert E.run_grid("smoke", tmp_path, progress=False)["ran"] == 0  # resumable: all skipped
    assert {f: f.stat().st_mtime_ns for f in files} == mtimes
    files[1].unlink()
    assert E.run_grid("smoke", tmp_path, progress=False) == {"total": 3, "skipped": 2, "ran": 1}

    summary = E.aggregate("smoke", tmp_path, n_boot=50)
    assert summary["n_runs"] == 3
    table = pd.read_csv(tmp_path / "smoke" / "summary.csv")
    assert set(table["arm"]) == {"mse", "scaled_mse", "amnl"}
    assert {"rmse", "nasa", "nf_rmse", "health_acc", "rmse_le30"} <= set(table["metric"])
    row = table[(table.arm == "amnl") & (table.metric == "rmse")].iloc[0]
    assert row.ci_low <= row["mean"] <= row.ci_high
    comps = pd.read_csv(tmp_path / "smoke" / "comparisons.csv")
    assert set(comps["arm"]) == {"scaled_mse", "amnl"}

    # the notebook's tables build from these files
    summ, comp, meta = R.load_summary("smoke", tmp_path)
    table = R.headline_table(summ)
    assert table.shape == (3, 4) and list(table.index.get_level_values("loss")) == ["MSE", "scaled MSE", "AMNL"]
    assert R.comparison_table(comp).shape[0] == 2
    assert "this book: AMNL (compact, 1 seeds)" in R.anchors_table(summ).index
    assert R.budget_table("smoke", tmp_path)["epochs run"].tolist() == [2.0, 2.0, 2.0]
    assert len(R.load_predictions("smoke", tmp_path)) == 300  # 3 runs × 100 FD001 test engines


def test_cli_list(capsys):
    assert E.main(["list"]) == 0
    assert "headline: 60 runs" in capsys.readouterr().out


def test_git_commit_flags_uncommitted_package_changes(monkeypatch) -> None:
    import subprocess as sp

    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        out = "abc123\n" if cmd[1] == "rev-parse" else " M amnl_utils/losses.py\n"
        return sp.CompletedProcess(cmd, 0, stdout=out, stderr="")

    monkeypatch.setattr(E.subprocess, "run", fake_run)
    assert E.git_commit() == "abc123+dirty"
    monkeypatch.setattr(
        E.subprocess, "run", lambda cmd, **k: sp.CompletedProcess(cmd, 0, stdout="abc123\n" if cmd[1] == "rev-parse" else "", stderr="")
    )
    assert E.git_commit() == "abc123"
    monkeypatch.setattr(E.subprocess, "run", lambda cmd, **k: sp.CompletedProcess(cmd, 128, stdout="", stderr="no repo"))
    assert E.git_commit() == "unknown"
