"""Bad input, tried as a new user would: each case gets a precise error or a visible report, never
a silent wrong answer. One test per case (the list in the module docstrings of the code under test)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from amnl_utils import cmapss as D  # noqa: E402
from amnl_utils import engine as E  # noqa: E402
from amnl_utils.book import loading  # noqa: E402
from amnl_utils.core import losses as L  # noqa: E402
from amnl_utils.engine import store as R  # noqa: E402

# --------------------------------------------------------------------------- the losses


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_torch_losses_refuse_non_finite_predictions_with_the_numpy_message(bad):
    pred, target = torch.tensor([1.0, bad, 3.0]), torch.tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError) as np_err:
        L.amnl_weighted_mse(pred.numpy(), target.numpy())
    for loss in (lambda p, t: L.moderate_weighted_mse_loss(p, t), lambda p, t: L.scaled_mse_loss(p, t, 1.3),
                 lambda p, t: L.weighted_mse_loss(p, t, torch.ones(3))):
        with pytest.raises(L.NonFinitePredictionError) as err:
            loss(pred.clone().requires_grad_(), target)
        assert str(err.value) == str(np_err.value) == "pred has 1 non-finite values (NaN or inf); the loss is undefined"


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.bool])
def test_integer_tensors_are_refused_with_a_type_error(dtype):
    """Refused, not cast: a silent cast would hide a caller's mistake (documented in core.losses)."""
    good = torch.tensor([1.0, 2.0])
    bad = torch.tensor([1, 0], dtype=dtype)
    for pred, target, name in ((bad, good, "pred"), (good, bad, "target")):
        with pytest.raises(TypeError, match=rf"{name} is a torch\.{str(dtype).split('.')[1]} tensor.*\.float\(\)"):
            L.moderate_weighted_mse_loss(pred, target)
        with pytest.raises(TypeError, match="floating-point tensors only"):
            L.weighted_mse_loss(pred, target, 1.0)


def test_a_weight_of_another_shape_is_reshaped_or_refused_never_broadcast():
    pred = torch.tensor([10.0, 20.0, 30.0, 40.0])
    target = torch.tensor([0.0, 50.0, 100.0, 125.0])
    w = torch.tensor([2.0, 1.6, 1.2, 1.0])
    expected = float((w * (pred - target) ** 2).mean())
    assert float(L.weighted_mse_loss(pred, target, w)) == pytest.approx(expected)
    # (B, 1) has B elements: reshaped to (B,), the same loss (broadcast would give a (B, B) mean)
    assert float(L.weighted_mse_loss(pred, target, w.reshape(4, 1))) == pytest.approx(expected)
    assert float(L.weighted_mse_loss(pred.reshape(4, 1), target, w.reshape(4, 1))) == pytest.approx(expected)
    for bad in (torch.ones(2), torch.ones(4, 2), torch.ones(1)):
        with pytest.raises(ValueError, match="never broadcast"):
            L.weighted_mse_loss(pred, target, bad)
    assert float(L.weighted_mse_loss(pred, target, torch.tensor(2.0))) == pytest.approx(
        2 * float(((pred - target) ** 2).mean()))


# --------------------------------------------------------------------------- the run store


@pytest.fixture(scope="module")
def smoke_store(tmp_path_factory, cmapss_dir) -> Path:
    root = tmp_path_factory.mktemp("smoke")
    import os

    os.environ.setdefault("CMAPSS_DIR", str(cmapss_dir))
    E.run_grid("smoke", root, progress=False, isolate=False)
    E.aggregate("smoke", root)
    return root


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _status(root: Path, capsys) -> tuple[int, str]:
    rc = E.main(["status", "--grid", "smoke", "--results", str(root)])
    return rc, capsys.readouterr().out


def test_status_exits_non_zero_on_missing_corrupt_or_stale_runs(smoke_store, tmp_path, capsys):
    assert _status(smoke_store, capsys)[0] == 0
    specs = E.grid_runs("smoke")
    for kind in ("missing", "corrupt", "stale"):
        root = _copy(smoke_store, tmp_path / kind)
        path = specs[1].path(root)
        if kind == "missing":
            path.unlink()
        elif kind == "corrupt":
            path.write_text(path.read_text()[: 200])  # cut off mid-write
        else:
            rec = json.loads(path.read_text())
            path.write_text(json.dumps({**rec, "code_hash": "0" * 16}))
        rc, out = _status(root, capsys)
        assert rc == 1, kind
        assert f"{kind}: {path}" in out


def test_stray_temporary_files_are_reported_and_removed_on_the_next_run(smoke_store, tmp_path, capsys):
    root = _copy(smoke_store, tmp_path / "store")
    stray = root / "runs" / "FD001" / ".mse_s0_0123456789ab.json.abc123.tmp"
    stray.write_text('{"run_id": "half a fi')
    rc, out = _status(root, capsys)
    assert rc == 1 and f"stray temporary file: {stray}" in out
    E.run_grid("smoke", root, progress=False, isolate=False)  # every run fresh: nothing trains
    assert not stray.exists()
    assert _status(root, capsys)[0] == 0


def test_the_book_refuses_an_aggregate_that_no_longer_matches_its_runs(smoke_store, tmp_path):
    root = _copy(smoke_store, tmp_path / "store")
    summary, _, meta = loading.load_summary("smoke", root)
    assert meta["n_runs"] == 3 and "run_files" not in meta
    specs = E.grid_runs("smoke")
    specs[0].path(root).unlink()
    with pytest.raises(E.StaleAggregateError, match=r"(?s)1 differ.*deleted.*`python -m amnl_utils\.engine aggregate --grid smoke`"):
        loading.load_summary("smoke", root)
    shutil.copy(specs[0].path(smoke_store), specs[0].path(root))
    loading.load_summary("smoke", root)  # restored: accepted again
    path = specs[2].path(root)
    rec = json.loads(path.read_text())
    rec["test"]["rmse"] += 1.0  # a run file edited after aggregation
    path.write_text(json.dumps(rec))
    with pytest.raises(E.StaleAggregateError, match="changed"):
        loading.load_summary("smoke", root)


def test_scratch_grids_never_write_into_the_committed_store(monkeypatch, tmp_path):
    monkeypatch.delenv(R.ENV_VAR, raising=False)
    assert E.get_grid("smoke").scratch and not any(E.get_grid(g).scratch for g in ("headline", "schedules", "wmax"))
    assert E.grid_root("smoke") == R.scratch_root() != R.default_root()
    assert E.grid_root("headline") == R.default_root()
    assert E.grid_root("smoke", tmp_path) == tmp_path  # unless told otherwise
    ignored = (R.REPO_DIR / ".gitignore").read_text().splitlines()
    assert f"/{R.SCRATCH_DIR}/" in ignored
    monkeypatch.setenv(R.ENV_VAR, str(tmp_path))
    assert E.grid_root("smoke") == tmp_path


def test_verify_false_still_checks_row_and_engine_counts(cmapss_dir, tmp_path):
    folder = tmp_path / "cut"
    folder.mkdir()
    for name in D.subset_files("FD001"):
        shutil.copy(cmapss_dir / name, folder / name)
    path = folder / "train_FD001.txt"
    lines = path.read_text().splitlines(keepends=True)
    last_engine_start = max(i for i, line in enumerate(lines) if line.split()[1] == "1")
    path.write_text("".join(lines[: len(lines) // 2]))  # cut at a line boundary: every line parses
    with pytest.raises(ValueError, match=r"train_FD001\.txt.*has 10315 rows of \d+ engines; NASA's file has 20631 rows of 100 engines"):
        D.load_arrays("FD001", folder, verify=False)
    path.write_text("".join(lines[:last_engine_start]))  # whole engines dropped
    with pytest.raises(ValueError, match="99 engines"):
        D.load_arrays("FD001", folder, verify=False)


def test_a_verify_record_names_the_code_and_the_lineage(smoke_store, tmp_path, cmapss_dir):
    root = _copy(smoke_store, tmp_path / "store")
    E.verify("smoke", sample=1, results=root, data_dir=str(cmapss_dir), record=True)
    saved = json.loads((root / "smoke" / "verify.json").read_text())
    assert saved["code_hash"] == R.code_hash() and saved["lineage"] == []
    assert saved["commit"] == E.git_commit() and saved["all_identical"] is True


def test_unreadable_numbers_in_predictions_never_pass_as_identical():
    a = {"predictions": {"y_pred": [1.0, 2.0]}, "curves": [], "test": {}, "stopping": {}}
    b = {"predictions": {"y_pred": [1.0, 2.5]}, "curves": [], "test": {}, "stopping": {}}
    assert not E.compare_records(a, b)["identical"]
    assert E.compare_records(a, b)["max_abs_pred_diff"] == 0.5
    assert np.isnan(E.compare_records(a, {**b, "predictions": {"y_pred": [1.0]}})["max_abs_pred_diff"])
