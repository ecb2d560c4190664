"""The grid runner's second executor: submitit (SLURM), tested with submitit's local executor."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("submitit")

from amnl_utils import engine as E  # noqa: E402


def test_submitit_runs_a_grid_like_the_local_pool(tmp_path, cmapss_dir, monkeypatch):
    monkeypatch.setenv("CMAPSS_DIR", str(cmapss_dir))
    local, cluster = tmp_path / "local", tmp_path / "cluster"
    E.run_grid("smoke", local, progress=False, jobs=2)
    out = E.run_grid("smoke", cluster, progress=False, jobs=2, executor="submitit",
                     executor_options={"cluster": "local", "folder": tmp_path / "logs"})
    assert out == {"total": 3, "skipped": 0, "ran": 3, "failed": 0}
    assert len(E.grid_status("smoke", cluster)["fresh"]) == 3
    assert any((tmp_path / "logs").rglob("*_log.out"))  # submitit kept its job logs where told
    for spec in E.grid_runs("smoke"):
        a = json.loads(spec.path(local).read_text())
        b = json.loads(spec.path(cluster).read_text())
        assert E.compare_records(a, b)["identical"], spec.path(cluster).name  # one thread each: same bits
    # resumable like the local pool: nothing left to run
    again = E.run_grid("smoke", cluster, progress=False, executor="submitit",
                       executor_options={"cluster": "local", "folder": tmp_path / "logs"})
    assert again["ran"] == 0


def test_a_failed_submitit_job_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("CMAPSS_DIR", str(tmp_path / "no-data-here"))
    with pytest.raises(RuntimeError, match=r"3 run\(s\) of grid smoke failed(?s:.*)submitit job"):
        E.run_grid("smoke", tmp_path / "store", progress=False, executor="submitit",
                   executor_options={"cluster": "local", "folder": tmp_path / "logs"})


def test_unknown_executor_and_options_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown executor 'ray'"):
        E.run_grid("smoke", tmp_path, executor="ray")
    with pytest.raises(ValueError, match="unknown submitit options"):
        E.run_grid("smoke", tmp_path, progress=False, executor="submitit",
                   executor_options={"cluster": "local", "folder": tmp_path / "logs", "partition": "gpu"})
