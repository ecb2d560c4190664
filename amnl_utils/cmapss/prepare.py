"""The C-MAPSS preparation pipeline: label, normalise, window, split, load.

``prepare(subset)`` is the one entry point the experiments use; the smaller functions are
public so the book can show each step. The conventions (the book's Methods page lists them, with
every difference from the rul-datasets loader):

- RUL labels ``min(last_cycle - cycle, max_rul)``, last training cycle RUL 0;
- health state 0/1/2 from the capped RUL with thresholds 80 and 30 (``health_state``);
- the 14 informative sensors of ``constants.SENSORS``, optionally a normalised cycle index;
- z-score fitted on the training engines of the train/validation split only (a seeded random
  20 % of engines is held out for validation), per operating condition on FD002/FD004;
- windows of ``window`` cycles, stride 1, labelled by their last cycle; the test set is the last
  window of each test engine, front-padded with the engine's first row when the engine is shorter;
  the near-failure test windows are every test window whose known true RUL is ≤ 30.

Only numpy is needed to prepare arrays; ``load_cmapss`` (DataFrames) needs pandas and the
loaders need torch, both imported when used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.constants import (
    HEALTH_CRITICAL_AT_OR_BELOW,
    HEALTH_NORMAL_ABOVE,
    NEAR_FAILURE,
    R_MAX,
    SENSORS,
    WINDOW,
)
from ..core.optional import require
from .read import SENSOR_COLUMNS, SETTING_COLUMNS, PathLike, check_subset, load_arrays

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: Decimals that make the settings exactly discrete: the raw values scatter by at most
#: 0.009 / 0.002 / 0 around the six flight conditions (0|10|20|25|35|42, 0|.25|.62|.7|.84, 60|100).
SETTING_DECIMALS: tuple[int, ...] = (0, 2, 0)
#: Subsets flown in six operating conditions, normalised per condition.
MULTI_CONDITION: tuple[str, ...] = ("FD002", "FD004")
#: A per-condition standard deviation below this is treated as zero (feature left centred).
STD_FLOOR: float = 1e-8


# --------------------------------------------------------------------------- labels


def engine_lengths(units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Engine ids and their number of rows, for rows grouped in per-engine blocks.

    ``units``: ``(rows,)``. Returns ``(ids, lengths)``, both ``(engines,)`` int64, in file order.
    """
    units = np.asarray(units)
    starts = np.flatnonzero(np.r_[True, units[1:] != units[:-1]])
    lengths = np.diff(np.r_[starts, units.size])
    return units[starts].astype(np.int64), lengths.astype(np.int64)


def rul_labels(
    units: np.ndarray,
    cycles: np.ndarray,
    rul_at_end: np.ndarray | None = None,
    max_rul: float = R_MAX,
) -> np.ndarray:
    """Piecewise-linear RUL of every row: ``min(last_cycle - cycle + rul_at_end, max_rul)``.

    ``units``, ``cycles``: ``(rows,)``, rows grouped per engine. ``rul_at_end``: ``(engines,)`` RUL
    after each engine's last row (the RUL file for test data); ``None`` means run-to-failure
    (training data), so the last training cycle has RUL 0. Note: rul-datasets labels that cycle 1.
    Returns ``(rows,)`` float64 in cycles; ``max_rul=np.inf`` gives the uncapped RUL.
    """
    units = np.asarray(units)
    cycles = np.asarray(cycles, dtype=np.float64)
    _, lengths = engine_lengths(units)
    ends = np.cumsum(lengths) - 1
    if rul_at_end is not None and len(rul_at_end) != lengths.size:
        raise ValueError(f"rul_at_end has {len(rul_at_end)} values for {lengths.size} engines")
    last_cycle = np.repeat(cycles[ends], lengths)
    extra = 0.0 if rul_at_end is None else np.repeat(np.asarray(rul_at_end, dtype=np.float64), lengths)
    return np.minimum(last_cycle - cycles + extra, max_rul)


def health_state(rul: np.ndarray | float) -> np.ndarray:
    """Health class from RUL in cycles: 0 normal (RUL > 80), 1 degrading (30 < RUL <= 80),
    2 critical (RUL ≤ 30). Any shape in, same shape out, int64. Capping at 125 changes nothing."""
    rul = np.asarray(rul, dtype=np.float64)
    if np.isnan(rul).any():
        raise ValueError("health_state got NaN RUL values; RUL must be a number of cycles")
    return np.where(rul > HEALTH_NORMAL_ABOVE, 0, np.where(rul > HEALTH_CRITICAL_AT_OR_BELOW, 1, 2)).astype(
        np.int64
    )


# --------------------------------------------------------------------------- conditions


def round_settings(settings: np.ndarray) -> np.ndarray:
    """Round the three operating settings ``(rows, 3)`` to their discrete flight-condition values."""
    settings = np.asarray(settings, dtype=np.float64)
    out = np.column_stack([np.round(settings[:, j], d) for j, d in enumerate(SETTING_DECIMALS)])
    return out + 0.0  # turns -0.0 into 0.0 so the two do not print as different conditions


def condition_table(settings: np.ndarray) -> np.ndarray:
    """The distinct operating conditions ``(conditions, 3)``, sorted, of settings ``(rows, 3)``."""
    return np.unique(round_settings(settings), axis=0)


def assign_conditions(settings: np.ndarray, table: np.ndarray, what: str = "rows") -> np.ndarray:
    """Condition id (row of ``table``) of each row of ``settings``; ``(rows,)`` int64.

    Raises ``ValueError`` listing conditions not in ``table`` (e.g. a test condition never
    seen in training: its statistics would be undefined).
    """
    rounded = round_settings(settings)
    table = np.asarray(table, dtype=np.float64)
    match = (rounded[:, None, :] == table[None, :, :]).all(axis=2)
    found = match.any(axis=1)
    if not found.all():
        unseen = np.unique(rounded[~found], axis=0)
        raise ValueError(
            f"{int((~found).sum())} {what} have operating conditions not seen in the training engines: "
            f"{[tuple(float(v) for v in r) for r in unseen[:5]]}; the normalisation statistics are only "
            "defined for training conditions — check that the files belong to the same subset"
        )
    return match.argmax(axis=1).astype(np.int64)


# --------------------------------------------------------------------------- normalisation


@dataclass(frozen=True, eq=False)
class Normaliser:
    """Per-condition z-score statistics. ``mean``, ``std``: ``(conditions, features)``;
    ``conditions``: ``(conditions, 3)`` rounded settings (one all-NaN row = one global condition)."""

    mean: np.ndarray
    std: np.ndarray
    conditions: np.ndarray

    def transform(self, features: np.ndarray, cond: np.ndarray) -> np.ndarray:
        """``(features - mean[cond]) / std[cond]``; ``features`` ``(rows, F)``, ``cond`` ``(rows,)``."""
        return (features - self.mean[cond]) / self.std[cond]


def fit_normaliser(features: np.ndarray, cond: np.ndarray, conditions: np.ndarray) -> Normaliser:
    """Fit z-score statistics per condition.

    Pass the rows of the TRAINING engines of the train/validation split only: validation and
    test engines must not leak into the statistics. ``features`` ``(rows, F)``, ``cond`` ``(rows,)``
    ids into ``conditions`` ``(k, 3)``. A standard deviation below ``STD_FLOOR`` is replaced by 1,
    so a constant feature becomes 0 instead of NaN.
    """
    features = np.asarray(features, dtype=np.float64)
    k = len(conditions)
    counts = np.bincount(cond, minlength=k).astype(np.float64)
    if (counts == 0).any():
        raise ValueError(f"conditions {np.flatnonzero(counts == 0).tolist()} have no rows to fit statistics on")
    mean = np.zeros((k, features.shape[1]))
    var = np.zeros_like(mean)
    for j in range(features.shape[1]):
        mean[:, j] = np.bincount(cond, weights=features[:, j], minlength=k) / counts
        dev = features[:, j] - mean[cond, j]
        var[:, j] = np.bincount(cond, weights=dev * dev, minlength=k) / counts
    std = np.sqrt(var)
    std = np.where(std < STD_FLOOR, 1.0, std)
    return Normaliser(mean, std, np.asarray(conditions, dtype=np.float64))


# --------------------------------------------------------------------------- windows


def windows_per_engine(lengths: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """Number of stride-1 windows of each engine: ``max(length - window + 1, 0)``; int64."""
    return np.maximum(np.asarray(lengths, dtype=np.int64) - window + 1, 0)


def sliding_windows(
    features: np.ndarray, units: np.ndarray, labels: np.ndarray, window: int = WINDOW
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All stride-1 windows that lie inside one engine, without a Python loop per window.

    ``features`` ``(rows, F)``, ``units`` and ``labels`` ``(rows,)``, rows grouped per engine in
    cycle order. Returns ``X`` ``(N, window, F)`` float32, ``y`` ``(N,)`` float32 = label at each
    window's last row, and ``u`` ``(N,)`` int64 engine ids. Engines shorter than ``window``
    give no training window.
    """
    features = np.ascontiguousarray(features, dtype=np.float32)
    units = np.asarray(units)
    n = units.shape[0]
    if n < window:
        return (
            np.empty((0, window, features.shape[1]), np.float32),
            np.empty(0, np.float32),
            np.empty(0, np.int64),
        )
    # start i is valid when rows i and i + window - 1 belong to the same engine (blocks are contiguous)
    starts = np.flatnonzero(units[: n - window + 1] == units[window - 1 :])
    view = np.lib.stride_tricks.sliding_window_view(features, window, axis=0)  # (n-w+1, F, w)
    X = np.ascontiguousarray(view[starts].transpose(0, 2, 1))
    last = starts + window - 1
    return X, np.asarray(labels)[last].astype(np.float32), units[last].astype(np.int64)


def windows_ending_at(
    features: np.ndarray, units: np.ndarray, end_rows: np.ndarray, window: int = WINDOW
) -> np.ndarray:
    """Windows of ``window`` rows ending at the given rows: ``(len(end_rows), window, F)`` float32.

    ``features`` ``(rows, F)`` and ``units`` ``(rows,)``, rows grouped per engine in cycle order;
    ``end_rows``: row indices of each window's last row. Padding rule: a window that would reach back
    before its engine's first row is front-padded by repeating that first (already normalised) row,
    so the real cycles sit at the end of the window.
    """
    features = np.asarray(features, dtype=np.float32)
    units = np.asarray(units)
    end_rows = np.asarray(end_rows, dtype=np.int64)
    _, lengths = engine_lengths(units)
    first_row = np.repeat(np.cumsum(lengths) - lengths, lengths)  # first row of each row's engine
    rows = end_rows[:, None] - np.arange(window - 1, -1, -1)[None, :]  # (N, window)
    rows = np.maximum(rows, first_row[end_rows][:, None])
    return features[rows]


def last_windows(features: np.ndarray, units: np.ndarray, window: int = WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """The last ``window`` rows of every engine: ``X`` ``(engines, window, F)`` float32, ids ``(engines,)``.

    Engines shorter than ``window`` are front-padded with their first row (``windows_ending_at``).
    """
    ids, lengths = engine_lengths(units)
    return windows_ending_at(features, units, np.cumsum(lengths) - 1, window), ids


def near_failure_rows(units: np.ndarray, cycles: np.ndarray, rul_at_end: np.ndarray,
                      threshold: float = NEAR_FAILURE) -> tuple[np.ndarray, np.ndarray]:
    """Test rows whose known true RUL is ≤ ``threshold``: ``(rows (K,) int64, true RUL (K,) float64)``.

    The true RUL of a test row is ``rul_at_end + last_cycle - cycle`` (``rul_labels`` uncapped), so
    only engines whose RUL file value is ≤ ``threshold`` contribute, each with its last
    ``threshold - RUL file + 1`` rows (fewer if the engine is shorter).
    """
    true = rul_labels(units, cycles, rul_at_end, max_rul=np.inf)
    rows = np.flatnonzero(true <= threshold)
    return rows.astype(np.int64), true[rows]


# --------------------------------------------------------------------------- split


def split_engines(units: np.ndarray, val_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split engine ids into disjoint sorted ``(train_ids, val_ids)``.

    ``round(val_fraction * engines)`` engines (at least one when ``val_fraction > 0``) are drawn
    without replacement by ``np.random.default_rng(seed)``.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction!r}")
    ids = np.unique(np.asarray(units)).astype(np.int64)
    n_val = int(round(val_fraction * ids.size))
    if val_fraction > 0:
        n_val = max(n_val, 1)
    if n_val >= ids.size:
        raise ValueError(f"val_fraction={val_fraction} leaves no training engine out of {ids.size}")
    rng = np.random.default_rng(seed)
    val = np.sort(rng.choice(ids, size=n_val, replace=False)) if n_val else ids[:0]
    return np.setdiff1d(ids, val), val


#: §14.5's decision engines: the training engines are cut once into this many folds, and seed ``s``
#: holds fold ``s mod DECISION_FOLDS`` out, so ten seeds cover every engine twice.
DECISION_FOLDS: int = 5
#: Seed of the one fixed partition into folds (the same for every run, arm and seed).
DECISION_PARTITION_SEED: int = 145


def decision_folds(ids: np.ndarray, n_folds: int = DECISION_FOLDS, seed: int = DECISION_PARTITION_SEED) -> list[np.ndarray]:
    """A fixed partition of engine ids into ``n_folds`` sorted folds of near-equal size
    (a permutation by ``np.random.default_rng(seed)``, cut with ``np.array_split``)."""
    ids = np.unique(np.asarray(ids)).astype(np.int64)
    if not (isinstance(n_folds, int) and 2 <= n_folds <= ids.size):
        raise ValueError(f"n_folds must be an integer in [2, {ids.size}] for {ids.size} engines, got {n_folds!r}")
    perm = np.random.default_rng(seed).permutation(ids)
    return [np.sort(f) for f in np.array_split(perm, n_folds)]


def split_engines_with_decision(
    units: np.ndarray, val_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split engine ids three ways, ``(train_ids, val_ids, decision_ids)``, disjoint and sorted.

    The decision engines are fold ``seed mod DECISION_FOLDS`` of :func:`decision_folds`; the
    validation engines are then drawn from the others as :func:`split_engines` draws them
    (``round(val_fraction * remaining engines)``, seeded by ``seed``).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    ids = np.unique(np.asarray(units)).astype(np.int64)
    decision = decision_folds(ids)[int(seed) % DECISION_FOLDS]
    train, val = split_engines(np.setdiff1d(ids, decision), val_fraction, seed)
    return train, val, decision


def window_labels(units: np.ndarray, labels: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """The label at the last row of every stride-1 window, in :func:`sliding_windows`' order,
    without building the windows: ``(N,)`` of ``labels``' dtype."""
    units = np.asarray(units)
    n = units.shape[0]
    if n < window:
        return np.asarray(labels)[:0]
    starts = np.flatnonzero(units[: n - window + 1] == units[window - 1 :])
    return np.asarray(labels)[starts + window - 1]


# --------------------------------------------------------------------------- prepare


@dataclass(frozen=True, eq=False)
class PreparedData:
    """Windows ready for training. ``X_*``: ``(N, window, 14)`` float32 normalised sensors;
    ``y_*``: ``(N,)`` float32 capped RUL in cycles at each window's last cycle; ``h_*``: ``(N,)``
    int64 health state; ``units_*``: ``(N,)`` int64 engine id of each row. The test split has one
    row per test engine (its last window), ``y_test = min(RUL file, max_rul)``, and ``y_test_raw``
    keeps the uncapped RUL file values (int64). ``X_test_nf``/``y_test_nf``/``units_test_nf``: every
    test window whose known true RUL is ≤ 30 (``near_failure_rows``), last windows included.
    ``normaliser`` holds the statistics fitted on the training engines only. ``cycle_feature``: the
    last feature is the cycle index, z-scored like the sensors. With ``decision_fold``,
    ``X_dec``/``y_dec``/``units_dec`` hold every window of the decision engines (as the validation
    windows), and ``rul_val_raw``/``rul_dec_raw`` the uncapped true RUL (cycles, float64) at every
    validation and decision window; without it they are ``None``."""

    subset: str
    X_train: np.ndarray
    y_train: np.ndarray
    h_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    h_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    h_test: np.ndarray
    units_train: np.ndarray
    units_val: np.ndarray
    units_test: np.ndarray
    y_test_raw: np.ndarray
    X_test_nf: np.ndarray
    y_test_nf: np.ndarray
    units_test_nf: np.ndarray
    normaliser: Normaliser
    window: int = WINDOW
    max_rul: float = R_MAX
    val_fraction: float = 0.2
    seed: int = 0
    sensors: tuple[int, ...] = field(default=SENSORS)
    cycle_feature: bool = False
    decision_fold: bool = False
    X_dec: np.ndarray | None = None
    y_dec: np.ndarray | None = None
    units_dec: np.ndarray | None = None
    rul_val_raw: np.ndarray | None = None
    rul_dec_raw: np.ndarray | None = None

    @property
    def n_features(self) -> int:
        """Features per cycle: the 14 sensors, plus the cycle index when ``cycle_feature``."""
        return int(self.X_train.shape[2])

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(X, y, h)`` of ``"train"``, ``"val"`` or ``"test"``."""
        if name not in ("train", "val", "test"):
            raise ValueError(f"split must be 'train', 'val' or 'test', got {name!r}")
        return getattr(self, f"X_{name}"), getattr(self, f"y_{name}"), getattr(self, f"h_{name}")

    def loader(self, split: str, batch_size: int = 256, shuffle: bool | None = None, seed: int = 0) -> Any:
        """A torch DataLoader over one split; see :func:`make_loader`."""
        return make_loader(self, split, batch_size=batch_size, shuffle=shuffle, seed=seed)

    def __repr__(self) -> str:
        return (
            f"PreparedData({self.subset}: train {self.X_train.shape}, val {self.X_val.shape}, "
            f"test {self.X_test.shape}, window={self.window}, max_rul={self.max_rul}, seed={self.seed})"
        )


def prepare(
    subset: str,
    window: int = WINDOW,
    max_rul: float = R_MAX,
    val_fraction: float = 0.2,
    seed: int = 0,
    data_dir: PathLike | None = None,
    *,
    cycle_feature: bool = False,
    decision_fold: bool = False,
    verify: bool = True,
) -> PreparedData:
    """Read, label, split, normalise and window one C-MAPSS subset (the Methods page's protocol).

    Steps: capped RUL labels on the training file; validation engines drawn by engine
    (``split_engines``); z-score statistics fitted on the rows of the *training* engines only —
    validation and test engines never enter them — per operating condition on FD002/FD004,
    globally on FD001/FD003; stride-1 windows of ``window`` cycles for train and validation;
    the last window of each test engine (front-padded with the first row if shorter), and every
    test window with known true RUL ≤ 30. ``cycle_feature`` appends the cycle index (cycles since
    the engine's first recorded cycle, known at prediction time) as a 15th feature, z-scored with
    the same training statistics. ``decision_fold`` first holds the decision engines out
    (:func:`split_engines_with_decision`); they never enter the statistics either. ``data_dir``
    defaults to ``$CMAPSS_DIR``, then the user cache.
    """
    check_subset(subset)
    if not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be a positive integer number of cycles, got {window!r}")
    if not max_rul > 0:
        raise ValueError(f"max_rul must be > 0 cycles, got {max_rul!r}")
    window = int(window)
    raw = load_arrays(subset, data_dir, verify=verify)
    train, test = raw.train, raw.test

    units = train[:, 0].astype(np.int64)
    rul = rul_labels(units, train[:, 1], None, max_rul)
    if decision_fold:
        train_ids, val_ids, dec_ids = split_engines_with_decision(units, val_fraction, seed)
    else:
        train_ids, val_ids = split_engines(units, val_fraction, seed)
    is_fit = np.isin(units, train_ids)

    if subset in MULTI_CONDITION:
        conditions = condition_table(train[is_fit][:, SETTING_COLUMNS])
        cond_train = assign_conditions(train[:, SETTING_COLUMNS], conditions, f"rows of train_{subset}.txt")
        cond_test = assign_conditions(test[:, SETTING_COLUMNS], conditions, f"rows of test_{subset}.txt")
    else:
        conditions = np.full((1, 3), np.nan)
        cond_train = np.zeros(len(train), np.int64)
        cond_test = np.zeros(len(test), np.int64)

    columns = list(SENSOR_COLUMNS) + ([1] if cycle_feature else [])  # column 1 is the cycle
    feats = train[:, columns]
    norm = fit_normaliser(feats[is_fit], cond_train[is_fit], conditions)
    z_train = norm.transform(feats, cond_train)
    z_test = norm.transform(test[:, columns], cond_test)

    X_tr, y_tr, u_tr = sliding_windows(z_train[is_fit], units[is_fit], rul[is_fit], window)
    is_val = np.isin(units, val_ids)
    X_va, y_va, u_va = sliding_windows(z_train[is_val], units[is_val], rul[is_val], window)
    extra: dict[str, Any] = {}
    if decision_fold:
        raw_rul = rul_labels(units, train[:, 1], None, np.inf)
        is_dec = np.isin(units, dec_ids)
        X_de, y_de, u_de = sliding_windows(z_train[is_dec], units[is_dec], rul[is_dec], window)
        extra = {
            "decision_fold": True, "X_dec": X_de, "y_dec": y_de, "units_dec": u_de,
            "rul_val_raw": window_labels(units[is_val], raw_rul[is_val], window),
            "rul_dec_raw": window_labels(units[is_dec], raw_rul[is_dec], window),
        }
    test_units = test[:, 0].astype(np.int64)
    X_te, u_te = last_windows(z_test, test_units, window)
    y_te = np.minimum(raw.rul_test, max_rul).astype(np.float32)
    nf_rows, nf_true = near_failure_rows(test_units, test[:, 1], raw.rul_test)
    X_nf = windows_ending_at(z_test, test_units, nf_rows, window)

    return PreparedData(
        subset=subset,
        X_train=X_tr,
        y_train=y_tr,
        h_train=health_state(y_tr),
        X_val=X_va,
        y_val=y_va,
        h_val=health_state(y_va),
        X_test=X_te,
        y_test=y_te,
        h_test=health_state(y_te),
        units_train=u_tr,
        units_val=u_va,
        units_test=u_te,
        y_test_raw=raw.rul_test.copy(),
        X_test_nf=X_nf,
        y_test_nf=np.minimum(nf_true, max_rul).astype(np.float32),
        units_test_nf=test_units[nf_rows],
        normaliser=norm,
        window=window,
        max_rul=float(max_rul),
        val_fraction=float(val_fraction),
        seed=int(seed),
        cycle_feature=bool(cycle_feature),
        **extra,
    )


# --------------------------------------------------------------------------- torch loaders


def _torch() -> Any:
    return require("torch", "make_loader")


def _batch_dataset(torch: Any, x: Any, y: Any, h: Any) -> Any:
    class WindowBatches(torch.utils.data.Dataset):
        """Windows as tensors; indexed by a list of row numbers, returns one whole batch."""

        def __init__(self) -> None:
            self.x, self.y, self.h = x, y, h

        def __len__(self) -> int:
            return int(self.y.shape[0])

        def __getitem__(self, idx: Any) -> tuple[Any, Any, Any]:
            return self.x[idx], self.y[idx], self.h[idx]

    return WindowBatches()


def make_loader(
    data: PreparedData,
    split: str,
    batch_size: int = 256,
    shuffle: bool | None = None,
    seed: int = 0,
) -> torch.utils.data.DataLoader:
    """A torch ``DataLoader`` of ``(x, y, h)`` batches: ``x`` ``(B, window, 14)`` float32,
    ``y`` ``(B,)`` float32 capped RUL, ``h`` ``(B,)`` int64 health state.

    ``shuffle`` defaults to ``True`` for ``"train"`` and ``False`` otherwise; the order is drawn
    from a ``torch.Generator`` seeded with ``seed``, so it repeats run to run. Batches are sliced
    in one indexing operation each (no per-sample collate).
    """
    torch = _torch()
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    X, y, h = data.split(split)
    if shuffle is None:
        shuffle = split == "train"
    dataset = _batch_dataset(torch, torch.from_numpy(X), torch.from_numpy(y), torch.from_numpy(h))
    if shuffle:
        gen = torch.Generator().manual_seed(int(seed))
        base = torch.utils.data.RandomSampler(dataset, generator=gen)
    else:
        base = torch.utils.data.SequentialSampler(dataset)
    sampler = torch.utils.data.BatchSampler(base, batch_size=int(batch_size), drop_last=False)
    return torch.utils.data.DataLoader(dataset, batch_size=None, sampler=sampler)


