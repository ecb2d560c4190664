"""Evaluation metrics of the book, defined once (the Methods page): NumPy only, pure functions.

All RUL arrays are in cycles. ``y_true`` is the true RUL **capped at R_MAX = 125** (the standard
protocol for the test windows); ``y_pred`` the model's prediction. ``d = y_pred - y_true``:
``d > 0`` is a *late* prediction (the model thinks the engine has more life left than it has, the
dangerous direction), ``d < 0`` an early one. Intervals over seeds and engines live in
:mod:`amnl_utils.core.stats`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .constants import LATE_BY, NEAR_FAILURE, RUL_BUCKETS

#: Time constants of the NASA/PHM08 score: early errors are divided by 13, late ones by 10.
NASA_EARLY_TAU: float = 13.0
NASA_LATE_TAU: float = 10.0


def check_pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate two 1-D, equal-length, finite arrays; return them as float64."""
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.ndim != 1 or p.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D (N,), got {t.shape} and {p.shape}")
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {t.shape[0]} vs {p.shape[0]}")
    for name, a in (("y_true", t), ("y_pred", p)):
        bad = ~np.isfinite(a)
        if bad.any():
            raise ValueError(f"{name} has {int(bad.sum())} non-finite values (NaN or inf)")
    return t, p


def _nonempty(t: np.ndarray) -> None:
    if t.size == 0:
        raise ValueError("no samples: the metric is undefined on an empty set")


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error in cycles. y_true, y_pred: (N,), N >= 1."""
    t, p = check_pair(y_true, y_pred)
    _nonempty(t)
    return float(np.sqrt(np.mean((p - t) ** 2)))


def nasa_terms(d: np.ndarray) -> np.ndarray:
    """Per-sample NASA/PHM08 penalty of errors ``d = pred - true`` (cycles), shape kept.

    ``exp(-d/13) - 1`` for ``d < 0`` (early), ``exp(d/10) - 1`` for ``d >= 0`` (late); unitless, >= 0.
    """
    d = np.asarray(d, dtype=np.float64)
    if not np.isfinite(d).all():
        raise ValueError(f"d has {int((~np.isfinite(d)).sum())} non-finite values")
    return np.where(d < 0, np.expm1(-d / NASA_EARLY_TAU), np.expm1(d / NASA_LATE_TAU))


def nasa_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """NASA/PHM08 scoring function, **summed** over samples (one per test engine). Lower is better."""
    t, p = check_pair(y_true, y_pred)
    _nonempty(t)
    return float(np.sum(nasa_terms(p - t)))


def nasa_score_table(distances: Sequence[float] = (5, 10, 15, 20, 25, 30, 40, 50)) -> list[dict]:
    """Penalty of a single engine predicted ``|d|`` cycles early vs late.

    Returns one dict per distance: ``{"abs_error": |d|, "early": ..., "late": ..., "late/early": ...}``.
    At ``|d| = 10``: early 1.158, late 1.718.
    """
    rows = []
    for a in distances:
        a = float(a)
        if not np.isfinite(a) or a <= 0:
            raise ValueError(f"distances must be finite and > 0 cycles, got {a!r}")
        early, late = float(nasa_terms(-a)), float(nasa_terms(a))
        rows.append({"abs_error": a, "early": early, "late": late, "late/early": late / early})
    return rows


def near_failure_rmse(y_true: np.ndarray, y_pred: np.ndarray, threshold: float = NEAR_FAILURE) -> float:
    """RMSE over the samples with true RUL ``≤ threshold`` (30 cycles); NaN if there are none."""
    t, p = check_pair(y_true, y_pred)
    m = t <= threshold
    return float(np.sqrt(np.mean((p[m] - t[m]) ** 2))) if m.any() else float("nan")


def bucket_rmse(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, dict[str, float]]:
    """RMSE (cycles) and count per true-RUL bucket of ``constants.RUL_BUCKETS``.

    Returns ``{key: {"rmse": float (NaN if empty), "mean_error": mean of pred - true, "n": int}}``
    with keys ``le30`` (y ≤ 30), ``30_80`` (30 < y ≤ 80) and ``gt80`` (y > 80).
    """
    t, p = check_pair(y_true, y_pred)
    out = {}
    for name, _, lo, hi in RUL_BUCKETS:
        m = (t > lo) & (t <= hi)
        n = int(m.sum())
        out[name] = {
            "rmse": float(np.sqrt(np.mean((p[m] - t[m]) ** 2))) if n else float("nan"),
            "mean_error": float(np.mean(p[m] - t[m])) if n else float("nan"),
            "n": n,
        }
    return out


def late_count(
    y_true: np.ndarray, y_pred: np.ndarray, late_by: float = LATE_BY, threshold: float = NEAR_FAILURE
) -> int:
    """Number of near-failure samples (true RUL ≤ 30) predicted more than ``late_by`` (10) cycles late."""
    t, p = check_pair(y_true, y_pred)
    return int(np.sum((t <= threshold) & (p - t > late_by)))


def _labels(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    if t.ndim != 1 or t.shape != p.shape:
        raise ValueError(f"class labels must be two 1-D arrays of equal length, got {t.shape} and {p.shape}")
    _nonempty(t)
    for name, a in (("y_true", t), ("y_pred", p)):
        if not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"{name} must hold integer class labels, got dtype {a.dtype}")
    return t, p


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of correct class labels. y_true, y_pred: (N,) integer labels."""
    t, p = _labels(y_true, y_pred)
    return float(np.mean(t == p))


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Unweighted mean of the per-class F1 over the classes present in ``y_true`` or ``y_pred``.

    Per class c: precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2PR/(P+R), taken as 0 when
    TP = 0 (the convention of scikit-learn's ``f1_score(average="macro")``).
    """
    t, p = _labels(y_true, y_pred)
    f1s = []
    for c in np.union1d(t, p):
        tp = np.sum((p == c) & (t == c))
        fp = np.sum((p == c) & (t != c))
        fn = np.sum((p != c) & (t == c))
        f1s.append(0.0 if tp == 0 else 2.0 * tp / (2.0 * tp + fp + fn))
    return float(np.mean(f1s))


def rul_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """All RUL metrics of one set of last-cycle test predictions, as a flat-ish dict.

    Keys: rmse, nasa, nf_rmse (true RUL ≤ 30), n_near_failure, late_count, bucket (see
    :func:`bucket_rmse`).
    """
    t, p = check_pair(y_true, y_pred)
    return {
        "rmse": rmse(t, p),
        "nasa": nasa_score(t, p),
        "nf_rmse": near_failure_rmse(t, p),
        "n_near_failure": int(np.sum(t <= NEAR_FAILURE)),
        "late_count": late_count(t, p),
        "bucket": bucket_rmse(t, p),
    }


def near_failure_window_metrics(y_true: np.ndarray, y_pred: np.ndarray, units: np.ndarray) -> dict:
    """Near-failure metrics on **every** test window with known true RUL ≤ 30, not only the last.

    y_true: (N,) true RUL of each window, cycles (``RUL file + last cycle - window's last cycle``);
    y_pred: (N,) predictions; units: (N,) engine id of each window. Windows with true RUL above
    ``NEAR_FAILURE`` are ignored. Returns ``nf_rmse_all`` (RMSE over the windows), ``late_count_all``
    (windows more than ``LATE_BY`` cycles late), ``late_share_all`` (that count / windows),
    ``n_windows`` and ``n_engines``; the RMSE is NaN without windows. Engines, not windows, are the
    resampling unit of any interval (see :func:`amnl_utils.core.stats.bootstrap_ci`'s ``groups``).
    """
    t, p = check_pair(y_true, y_pred)
    u = np.asarray(units)
    if u.shape != t.shape:
        raise ValueError(f"units must have the shape of y_true {t.shape}, got {u.shape}")
    m = t <= NEAR_FAILURE
    n = int(m.sum())
    late = int(np.sum(p[m] - t[m] > LATE_BY))
    return {
        "nf_rmse_all": float(np.sqrt(np.mean((p[m] - t[m]) ** 2))) if n else float("nan"),
        "late_count_all": late,
        "late_share_all": late / n if n else float("nan"),
        "n_windows": n,
        "n_engines": int(np.unique(u[m]).size),
    }
