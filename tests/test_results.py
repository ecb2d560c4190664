"""Result files: identity of a run, code hash, atomic writes, clear errors for damaged files."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from amnl_utils.engine import store as R
from amnl_utils.engine.config import TrainConfig

PACKAGE = Path(R.__file__).resolve().parent.parent  # amnl_utils/


def test_equal_runs_get_equal_ids():
    mse = TrainConfig(loss="mse", w_max=5.0, schedule="step")
    assert R.run_id(mse) == R.run_id(TrainConfig(loss="amnl", w_max=1.0))  # MSE is AMNL at w_max = 1
    assert R.run_id(mse) == R.run_id(TrainConfig(loss="scaled_mse", w_max=1.0, schedule="sigmoid"))
    amnl = TrainConfig(loss="amnl", w_max=2.0)
    assert R.run_id(amnl) != R.run_id(replace(amnl, seed=1))
    assert R.run_id(amnl) != R.run_id(replace(amnl, window=45))
    assert R.run_id(amnl) != R.run_id(replace(amnl, schedule="step"))
    assert R.run_id(amnl) == R.run_id(R.canonical_config(amnl))  # a dict works too


def test_run_path_is_readable():
    cfg = TrainConfig(subset="FD002", loss="amnl", schedule="exponential", w_max=2.0, seed=7)
    path = R.run_path("/r", cfg)
    assert path.parent == Path("/r/runs/FD002")
    assert path.name == f"amnl_exponential_w2_s7_{R.run_id(cfg)}.json"
    assert R.run_path("/r", TrainConfig(loss="amnl", w_max=1.0)).name.startswith("mse_s0_")


def test_code_hash_ignores_docstrings_and_comments_but_not_code(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    for name in R.TRAINING_MODULES:
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PACKAGE / f"{name}.py", pkg / f"{name}.py")
    base = R.code_hash(pkg)
    assert base == R.code_hash()  # same files, same hash
    weights = pkg / "core" / "weights.py"
    src = weights.read_text()
    weights.write_text(src.replace('"""Per-sample weight schedules', '"""Edited prose. Per-sample weight schedules') + "\n# a comment\n")
    assert R.code_hash(pkg) == base
    weights.write_text(src.replace("EXP_RATE: float = 5.0", "EXP_RATE: float = 5.5"))
    assert R.code_hash(pkg) != base


def test_atomic_write_leaves_no_partial_file(tmp_path):
    path = tmp_path / "sub" / "run.json"
    R.write_json_atomic(path, {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
    with pytest.raises(TypeError):
        R.write_json_atomic(path, {"a": object()})  # fails half-way through serialising
    assert json.loads(path.read_text()) == {"a": 1}  # old file untouched
    with pytest.raises(TypeError):
        R.write_json_atomic(tmp_path / "new.json", {"b": object()})
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["run.json", "sub"]  # no tmp, no new.json


def _record(**over):
    rec = {k: None for k in R.REQUIRED_KEYS}
    rec.update({"code_hash": R.code_hash(), **over})
    return rec


def test_damaged_files_get_an_error_naming_them(tmp_path):
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps(_record())[:-20])
    with pytest.raises(R.ResultFileError, match=r"cut\.json: not a complete result file"):
        R.load_record(cut)
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"subset": "FD001", "seed": 0}))
    with pytest.raises(R.ResultFileError, match=r"old\.json: result file lacks \['run_id'"):
        R.load_record(old)
    arr = tmp_path / "list.json"
    arr.write_text("[1, 2]")
    with pytest.raises(R.ResultFileError, match="expected a JSON object"):
        R.load_record(arr)


def test_run_state(tmp_path):
    assert R.run_state(tmp_path / "none.json") == "missing"
    R.write_json_atomic(tmp_path / "ok.json", _record())
    assert R.run_state(tmp_path / "ok.json") == "fresh"
    R.write_json_atomic(tmp_path / "old.json", _record(code_hash="0" * 16))
    assert R.run_state(tmp_path / "old.json") == "stale"
    (tmp_path / "bad.json").write_text("{")
    assert R.run_state(tmp_path / "bad.json") == "corrupt"


def test_results_root_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(R.ENV_VAR, str(tmp_path))
    assert R.default_root() == tmp_path and R.resolve_root(None) == tmp_path
    assert R.resolve_root("elsewhere") == Path("elsewhere")
    monkeypatch.delenv(R.ENV_VAR)
    assert R.default_root() == PACKAGE.parent / "results"
    assert R.scratch_root() == PACKAGE.parent / "scratch" and R.resolve_root(None, scratch=True) == R.scratch_root()


def test_config_from_record_rejects_unknown_keys():
    cfg = TrainConfig(subset="FD003", seed=4, loss="amnl", w_max=3.0)
    assert R.config_from_record({"config": R.canonical_config(cfg)}) == cfg
    with pytest.raises(R.ResultFileError, match="unknown to this code"):
        R.config_from_record({"config": {**R.canonical_config(cfg), "steps_per_epoch": 50}})
