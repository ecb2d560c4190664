"""Tests of the C-MAPSS pipeline on the real NASA files (``CMAPSS_DIR``) and on small fakes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from amnl_utils import cmapss as D
from amnl_utils.cmapss.download import ChecksumError
from amnl_utils.core.constants import R_MAX, SENSORS, SUBSETS, WINDOW

# Row and engine counts from the data README (NASA's readme swaps FD004's 248/249).
COUNTS = {
    "FD001": {"train": (20631, 100), "test": (13096, 100)},
    "FD002": {"train": (53759, 260), "test": (33991, 259)},
    "FD003": {"train": (24720, 100), "test": (16596, 100)},
    "FD004": {"train": (61249, 249), "test": (41214, 248)},
}


@pytest.fixture(scope="session")
def prepared(cmapss_dir: Path) -> dict[str, D.PreparedData]:
    return {s: D.prepare(s, data_dir=cmapss_dir) for s in SUBSETS}


def _lengths(units: np.ndarray) -> np.ndarray:
    """Engine lengths by a route independent of the module: np.unique counts."""
    return np.unique(units, return_counts=True)[1]


def _copy_subset(src: Path, dst: Path, subset: str) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for name in (f"train_{subset}.txt", f"test_{subset}.txt", f"RUL_{subset}.txt"):
        shutil.copyfile(src / name, dst / name)
    return dst


# --------------------------------------------------------------------------- counts


@pytest.mark.parametrize("subset", SUBSETS)
def test_row_engine_and_rul_counts(cmapss_dir: Path, subset: str) -> None:
    raw = D.load_cmapss(subset, cmapss_dir)
    for part, frame in (("train", raw.train), ("test", raw.test)):
        rows, engines = COUNTS[subset][part]
        assert frame.shape == (rows, 26), part
        assert frame["unit"].nunique() == engines, part
        assert list(frame.columns[:5]) == ["unit", "cycle", "setting_1", "setting_2", "setting_3"]
        assert frame.columns[-1] == "s_21"
    assert raw.rul_test.dtype == np.int64
    assert raw.rul_test.shape == (COUNTS[subset]["test"][1],)


def test_fd004_engine_counts_are_the_files_not_the_readme(cmapss_dir: Path) -> None:
    raw = D.load_arrays("FD004", cmapss_dir)
    assert np.unique(raw.train[:, 0]).size == 249
    assert np.unique(raw.test[:, 0]).size == 248
    assert raw.rul_test.size == 248


@pytest.mark.parametrize("subset", SUBSETS)
def test_window_counts_match_engine_lengths(
    cmapss_dir: Path, prepared: dict[str, D.PreparedData], subset: str
) -> None:
    data = prepared[subset]
    raw = D.load_arrays(subset, cmapss_dir)
    units = raw.train[:, 0]
    for split, ids in (("train", data.units_train), ("val", data.units_val)):
        lengths = _lengths(units[np.isin(units, np.unique(ids))])
        expected = int(sum(max(n - (WINDOW - 1), 0) for n in lengths))
        assert data.split(split)[0].shape == (expected, WINDOW, len(SENSORS)), split
    assert data.X_test.shape == (COUNTS[subset]["test"][1], WINDOW, len(SENSORS))


def test_subset_summary_counts(cmapss_dir: Path) -> None:
    rows = {r["subset"]: r for r in D.subset_summary(cmapss_dir)}
    assert [rows[s]["conditions"] for s in SUBSETS] == [1, 6, 1, 6]
    assert [rows[s]["fault_modes"] for s in SUBSETS] == [1, 1, 2, 2]
    for s in SUBSETS:
        assert (rows[s]["train_rows"], rows[s]["train_engines"]) == COUNTS[s]["train"]
        assert (rows[s]["test_rows"], rows[s]["test_engines"]) == COUNTS[s]["test"]
    assert rows["FD001"]["train_windows"] == 20631 - 29 * 100


# --------------------------------------------------------------------------- dtypes, labels


@pytest.mark.parametrize("subset", SUBSETS)
def test_prepared_shapes_and_dtypes(prepared: dict[str, D.PreparedData], subset: str) -> None:
    data = prepared[subset]
    for split in ("train", "val", "test"):
        X, y, h = data.split(split)
        units = getattr(data, f"units_{split}")
        assert X.dtype == np.float32 and y.dtype == np.float32 and h.dtype == np.int64
        assert units.dtype == np.int64
        assert X.ndim == 3 and X.shape[1:] == (WINDOW, len(SENSORS))
        assert len(X) == len(y) == len(h) == len(units)
        assert np.isfinite(X).all()
        assert y.min() >= 0 and y.max() <= R_MAX
        np.testing.assert_array_equal(h, D.health_state(y))


@pytest.mark.parametrize("subset", SUBSETS)
def test_test_labels_are_capped_rul_file(cmapss_dir: Path, prepared: dict[str, D.PreparedData], subset: str) -> None:
    data = prepared[subset]
    rul_file = np.loadtxt(cmapss_dir / f"RUL_{subset}.txt")
    np.testing.assert_array_equal(data.y_test_raw, rul_file.astype(np.int64))
    np.testing.assert_array_equal(data.y_test, np.minimum(rul_file, 125).astype(np.float32))
    np.testing.assert_array_equal(data.units_test, np.arange(1, rul_file.size + 1))


def test_training_labels_end_at_zero_and_cap(prepared: dict[str, D.PreparedData]) -> None:
    data = prepared["FD001"]
    for u in np.unique(data.units_train)[:10]:
        y = data.y_train[data.units_train == u]
        assert y[-1] == 0.0  # last training cycle is RUL 0 (rul-datasets would say 1)
        assert y.max() <= 125.0
        tail = y[y < 125]
        np.testing.assert_array_equal(np.diff(tail), -1.0)


def test_rul_labels_small_example() -> None:
    units = np.array([1, 1, 1, 2, 2])
    cycles = np.array([1, 2, 3, 1, 2])
    np.testing.assert_array_equal(D.rul_labels(units, cycles), [2, 1, 0, 1, 0])
    np.testing.assert_array_equal(D.rul_labels(units, cycles, max_rul=1), [1, 1, 0, 1, 0])
    np.testing.assert_array_equal(D.rul_labels(units, cycles, rul_at_end=np.array([10, 200])), [12, 11, 10, 125, 125])


def test_health_state_thresholds() -> None:
    rul = np.array([0, 30, 30.5, 80, 80.1, 125, 300])
    np.testing.assert_array_equal(D.health_state(rul), [2, 2, 1, 1, 0, 0, 0])
    assert D.health_state(np.zeros((2, 3))).shape == (2, 3)
    with pytest.raises(ValueError, match="NaN"):
        D.health_state(np.array([np.nan]))


def test_subset_name_is_validated(cmapss_dir: Path) -> None:
    with pytest.raises(ValueError, match="FD005"):
        D.prepare("FD005", data_dir=cmapss_dir)
    with pytest.raises(ValueError, match="expected one of"):
        D.load_cmapss("fd001", cmapss_dir)


# --------------------------------------------------------------------------- split


@pytest.mark.parametrize("subset", SUBSETS)
def test_train_val_engines_disjoint_and_complete(
    cmapss_dir: Path, prepared: dict[str, D.PreparedData], subset: str
) -> None:
    data = prepared[subset]
    tr, va = set(data.units_train.tolist()), set(data.units_val.tolist())
    assert not tr & va
    all_ids = set(np.unique(D.load_arrays(subset, cmapss_dir).train[:, 0]).astype(int).tolist())
    # every training engine is at least WINDOW long, so every engine contributes a window
    assert tr | va == all_ids
    assert len(va) == round(0.2 * len(all_ids))


def test_split_is_seeded(cmapss_dir: Path) -> None:
    a = D.split_engines(np.arange(1, 101), 0.2, seed=0)
    b = D.split_engines(np.arange(1, 101), 0.2, seed=0)
    c = D.split_engines(np.arange(1, 101), 0.2, seed=1)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    with pytest.raises(ValueError, match="val_fraction"):
        D.split_engines(np.arange(10), 1.0)


# --------------------------------------------------------------------------- normalisation


def _normalised_rows(raw: D.RawSubset, data: D.PreparedData) -> tuple[np.ndarray, np.ndarray]:
    """Training-engine rows normalised with the fitted statistics, and their condition ids."""
    fit = np.isin(raw.train[:, 0], np.unique(data.units_train))
    rows = raw.train[fit]
    norm = data.normaliser
    if np.isnan(norm.conditions).all():
        cond = np.zeros(len(rows), np.int64)
    else:
        cond = D.assign_conditions(rows[:, D.SETTING_COLUMNS], norm.conditions)
    return norm.transform(rows[:, D.SENSOR_COLUMNS], cond), cond


@pytest.mark.parametrize("subset", SUBSETS)
def test_training_features_are_z_scored_per_condition(
    cmapss_dir: Path, prepared: dict[str, D.PreparedData], subset: str
) -> None:
    data = prepared[subset]
    raw = D.load_arrays(subset, cmapss_dir)
    z, cond = _normalised_rows(raw, data)
    n_cond = 6 if subset in ("FD002", "FD004") else 1
    assert data.normaliser.mean.shape == (n_cond, len(SENSORS))
    for c in range(n_cond):
        zc = z[cond == c]
        np.testing.assert_allclose(zc.mean(axis=0), 0.0, atol=1e-9)
        np.testing.assert_allclose(zc.std(axis=0), 1.0, atol=1e-9)
    # the windows hold exactly these rows: the last row of each training window is a fitted row
    last = data.X_train[:, -1, :]
    assert np.isin(np.round(last[:5, 0], 4), np.round(z[:, 0].astype(np.float32), 4)).all()


def test_validation_engines_do_not_enter_statistics(cmapss_dir: Path) -> None:
    a = D.prepare("FD001", data_dir=cmapss_dir, seed=0)
    b = D.prepare("FD001", data_dir=cmapss_dir, seed=1)
    raw = D.load_arrays("FD001", cmapss_dir)
    fit = np.isin(raw.train[:, 0], np.unique(a.units_train))
    expected = raw.train[fit][:, D.SENSOR_COLUMNS].mean(axis=0)
    np.testing.assert_allclose(a.normaliser.mean[0], expected)
    assert not np.allclose(a.normaliser.mean, b.normaliser.mean)  # another split, other stats


def test_changing_the_test_file_changes_no_statistic(cmapss_dir: Path, tmp_path: Path) -> None:
    folder = _copy_subset(cmapss_dir, tmp_path / "altered", "FD002")
    ref = D.prepare("FD002", data_dir=folder, verify=False)
    test_path = folder / "test_FD002.txt"
    table = np.loadtxt(test_path)
    table[:, 5:] = table[:, 5:] * 3.0 + 7.0  # every sensor value of every test row changes
    np.savetxt(test_path, table, fmt="%.6g")
    alt = D.prepare("FD002", data_dir=folder, verify=False)
    for name in ("mean", "std", "conditions"):
        np.testing.assert_array_equal(getattr(ref.normaliser, name), getattr(alt.normaliser, name))
    np.testing.assert_array_equal(ref.X_train, alt.X_train)
    np.testing.assert_array_equal(ref.X_val, alt.X_val)
    assert not np.allclose(ref.X_test, alt.X_test)


def test_unseen_test_condition_is_an_error(cmapss_dir: Path, tmp_path: Path) -> None:
    folder = _copy_subset(cmapss_dir, tmp_path / "cond", "FD002")
    test_path = folder / "test_FD002.txt"
    table = np.loadtxt(test_path)
    table[3, 2:5] = (15.0, 0.5, 80.0)
    np.savetxt(test_path, table, fmt="%.6g")
    with pytest.raises(ValueError, match=r"test_FD002.*not seen in the training engines"):
        D.prepare("FD002", data_dir=folder, verify=False)


def test_zero_std_is_guarded() -> None:
    feats = np.column_stack([np.arange(6.0), np.full(6, 3.0)])
    norm = D.fit_normaliser(feats, np.zeros(6, np.int64), np.full((1, 3), np.nan))
    z = norm.transform(feats, np.zeros(6, np.int64))
    assert np.isfinite(z).all()
    np.testing.assert_array_equal(z[:, 1], 0.0)


# --------------------------------------------------------------------------- windows


def test_sliding_windows_small_example() -> None:
    feats = np.arange(7 * 2, dtype=np.float64).reshape(7, 2)
    units = np.array([1, 1, 1, 1, 2, 2, 3])
    labels = np.arange(7.0)
    X, y, u = D.sliding_windows(feats, units, labels, window=2)
    # engine 1: starts 0,1,2; engine 2: start 4; engine 3 (1 row) none
    np.testing.assert_array_equal(y, [1, 2, 3, 5])
    np.testing.assert_array_equal(u, [1, 1, 1, 2])
    np.testing.assert_array_equal(X[0], feats[0:2])
    np.testing.assert_array_equal(X[3], feats[4:6])
    np.testing.assert_array_equal(D.windows_per_engine([4, 2, 1], 2), [3, 1, 0])


def test_last_windows_front_pad_with_first_row() -> None:
    feats = np.arange(5.0)[:, None] + 1.0
    units = np.array([1, 1, 1, 2, 2])
    X, ids = D.last_windows(feats, units, window=4)
    np.testing.assert_array_equal(ids, [1, 2])
    np.testing.assert_array_equal(X[0, :, 0], [1, 1, 2, 3])
    np.testing.assert_array_equal(X[1, :, 0], [4, 4, 4, 5])


def test_short_real_test_engines_are_padded(cmapss_dir: Path, prepared: dict[str, D.PreparedData]) -> None:
    data = prepared["FD004"]
    raw = D.load_arrays("FD004", cmapss_dir)
    ids, lengths = D.engine_lengths(raw.test[:, 0])
    short = np.flatnonzero(lengths < WINDOW)
    assert short.size > 0
    e = short[0]
    pad = WINDOW - lengths[e]
    np.testing.assert_array_equal(data.X_test[e, :pad], np.repeat(data.X_test[e, pad : pad + 1], pad, axis=0))


def test_train_window_matches_raw_rows(cmapss_dir: Path, prepared: dict[str, D.PreparedData]) -> None:
    data = prepared["FD001"]
    raw = D.load_arrays("FD001", cmapss_dir)
    u = data.units_train[0]
    rows = raw.train[raw.train[:, 0] == u][:, D.SENSOR_COLUMNS]
    z = data.normaliser.transform(rows, np.zeros(len(rows), np.int64)).astype(np.float32)
    np.testing.assert_allclose(data.X_train[0], z[:WINDOW], rtol=1e-6)
    np.testing.assert_allclose(data.X_train[1], z[1 : WINDOW + 1], rtol=1e-6)
    assert data.y_train[0] == min(len(rows) - WINDOW, 125)


# --------------------------------------------------------------------------- errors in files


def test_flipped_byte_is_a_checksum_error(cmapss_dir: Path, tmp_path: Path) -> None:
    folder = _copy_subset(cmapss_dir, tmp_path / "flip", "FD001")
    path = folder / "train_FD001.txt"
    blob = bytearray(path.read_bytes())
    blob[1000] = ord("7") if blob[1000] != ord("7") else ord("8")
    path.write_bytes(bytes(blob))
    with pytest.raises(ChecksumError, match=r"train_FD001\.txt.*SHA-256 mismatch"):
        D.prepare("FD001", data_dir=folder)


@pytest.mark.parametrize(
    ("mutate", "line", "why"),
    [
        (lambda lines: lines[:41] + [lines[41][: len(lines[41]) // 2]], 42, "fields"),  # truncated last line
        (lambda lines: lines[:6] + [" ".join(lines[6].split()[:6] + ["64x.2"] + lines[6].split()[7:])] + lines[7:], 7, "field 7 is '64x.2', not a number"),
        (lambda lines: lines[:9] + [lines[9] + " 1.0"] + lines[10:], 10, "27 fields"),
    ],
)
def test_malformed_line_names_file_and_line(cmapss_dir: Path, tmp_path: Path, mutate, line: int, why: str) -> None:
    src = (cmapss_dir / "train_FD001.txt").read_text().splitlines()[:60]
    path = tmp_path / "train_FD001.txt"
    path.write_text("\n".join(mutate(src)) + "\n")
    with pytest.raises(ValueError, match=rf"train_FD001\.txt.*line {line}\b.*{why}"):
        D.read_table(path)


def test_cycle_gap_names_line(tmp_path: Path) -> None:
    path = tmp_path / "train_FD001.txt"
    rows = [[1, c] + [0.0] * 24 for c in (1, 2, 4)]
    np.savetxt(path, rows, fmt="%g")
    with pytest.raises(ValueError, match=r"line 3.*cycle 4, expected 3"):
        D.read_table(path)


def test_rul_file_engine_count_must_match(cmapss_dir: Path, tmp_path: Path) -> None:
    folder = _copy_subset(cmapss_dir, tmp_path / "rul", "FD001")
    path = folder / "RUL_FD001.txt"
    path.write_text("\n".join(path.read_text().splitlines()[:-1]) + "\n")
    with pytest.raises(ValueError, match=r"RUL_FD001\.txt.*99 lines.*100 engines"):
        D.load_arrays("FD001", folder, verify=False)


# --------------------------------------------------------------------------- loaders


def test_make_loader_batches_and_order(prepared: dict[str, D.PreparedData]) -> None:
    torch = pytest.importorskip("torch")
    data = prepared["FD001"]
    loader = D.make_loader(data, "val", batch_size=100)
    batches = list(loader)
    x, y, h = batches[0]
    assert x.shape == (100, WINDOW, len(SENSORS)) and x.dtype == torch.float32
    assert y.shape == (100,) and y.dtype == torch.float32
    assert h.dtype == torch.int64
    assert sum(len(b[1]) for b in batches) == len(data.y_val)
    np.testing.assert_array_equal(torch.cat([b[1] for b in batches]).numpy(), data.y_val)  # unshuffled
    a = torch.cat([b[1] for b in data.loader("train", seed=3)])
    b = torch.cat([b[1] for b in data.loader("train", seed=3)])
    c = torch.cat([b[1] for b in data.loader("train", seed=4)])
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert sorted(a.tolist()) == sorted(data.y_train.tolist())
    with pytest.raises(ValueError, match="split"):
        D.make_loader(data, "dev")
