"""Evaluation metrics of the book, defined once (SPEC §3): NumPy only, pure functions.

All RUL arrays are in cycles. ``y_true`` is the true RUL **capped at R_MAX = 125** (the standard
protocol for the last-cycle test windows); ``y_pred`` the model's prediction. ``d = y_pred - y_true``:
``d > 0`` is a *late* prediction (the model thinks the engine has more life left than it has, the
dangerous direction), ``d < 0`` an early one.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .constants import HEALTH_CRITICAL_AT_OR_BELOW, HEALTH_NORMAL_ABOVE, LATE_BY, NEAR_FAILURE

#: Time constants of the NASA/PHM08 score: early errors are divided by 13, late ones by 10.
NASA_EARLY_TAU: float = 13.0
NASA_LATE_TAU: float = 10.0
#: RUL buckets of the error-by-bucket metric: (name, low exclusive, high inclusive) in cycles.
BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("<=30", -np.inf, HEALTH_CRITICAL_AT_OR_BELOW),
    ("30-80", HEALTH_CRITICAL_AT_OR_BELOW, HEALTH_NORMAL_ABOVE),
    (">80", HEALTH_NORMAL_ABOVE, np.inf),
)


def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    t, p = _pair(y_true, y_pred)
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
    t, p = _pair(y_true, y_pred)
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
    """RMSE over the samples with true RUL ``<= threshold`` (30 cycles); NaN if there are none."""
    t, p = _pair(y_true, y_pred)
    m = t <= threshold
    return float(np.sqrt(np.mean((p[m] - t[m]) ** 2))) if m.any() else float("nan")


def bucket_rmse(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, dict[str, float]]:
    """RMSE (cycles) and count per true-RUL bucket ``<=30``, ``30-80`` (30 < y <= 80), ``>80``.

    Returns ``{bucket: {"rmse": float (NaN if empty), "mean_error": mean of pred - true, "n": int}}``.
    """
    t, p = _pair(y_true, y_pred)
    out = {}
    for name, lo, hi in BUCKETS:
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
    """Number of near-failure samples (true RUL <= 30) predicted more than ``late_by`` (10) cycles late."""
    t, p = _pair(y_true, y_pred)
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

    Keys: rmse, nasa, nf_rmse (true RUL <= 30), n_near_failure, late_count, bucket (see
    :func:`bucket_rmse`).
    """
    t, p = _pair(y_true, y_pred)
    return {
        "rmse": rmse(t, p),
        "nasa": nasa_score(t, p),
        "nf_rmse": near_failure_rmse(t, p),
        "n_near_failure": int(np.sum(t <= NEAR_FAILURE)),
        "late_count": late_count(t, p),
        "bucket": bucket_rmse(t, p),
    }


def _seed_preds(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate y_true (N,) and y_pred (N,) or (S, N); return y_pred as (S, N) float64."""
    p = np.asarray(y_pred, dtype=np.float64)
    p2 = p[None, :] if p.ndim == 1 else p
    if p2.ndim != 2:
        raise ValueError(f"y_pred must be (N,) or (S, N) (S seeds), got shape {p.shape}")
    for row in p2:
        t, _ = _pair(y_true, row)
    _nonempty(t)
    return t, p2


def _bootstrap(
    stat: Callable[..., float], n: int, groups, n_boot: int, level: float, seed: int, n_seeds: int | None = None
):
    """Percentile interval of ``stat(idx)`` (or ``stat(idx, seed_idx)`` when ``n_seeds`` is given)."""
    if not (0 < level < 1):
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 10:
        raise ValueError(f"n_boot must be an integer >= 10, got {n_boot!r}")
    g = np.arange(n) if groups is None else np.asarray(groups)
    if g.shape != (n,):
        raise ValueError(f"groups must have shape ({n},), got {g.shape}")
    uniq, inv = np.unique(g, return_inverse=True)
    members = [np.flatnonzero(inv == k) for k in range(uniq.size)]
    rng = np.random.default_rng(seed)
    stats = np.empty(n_boot)
    for b in range(n_boot):
        draw = rng.integers(0, uniq.size, size=uniq.size)
        idx = np.concatenate([members[k] for k in draw])
        if n_seeds is None:
            stats[b] = stat(idx)
        else:
            stats[b] = stat(idx, rng.integers(0, n_seeds, size=n_seeds))
    stats = stats[np.isfinite(stats)]
    if stats.size == 0:
        return float("nan"), float("nan")
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(stats, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def bootstrap_ci(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Engine-level percentile bootstrap interval of a metric.

    y_true: (N,). y_pred: (N,) one model, or (S, N) S seeds scored on the same N samples; then the
    statistic is the **mean over seeds** of ``metric(y_true, y_pred[s])`` (the same number a
    mean-over-seeds table reports), and each resample uses the same engines for every seed.
    groups: (N,) engine id of each sample; engines (not samples) are drawn with replacement and
    all samples of a drawn engine come along. ``None`` means one sample per engine (the last-cycle
    test set). Uses its own ``np.random.default_rng(seed)``: the interval is reproducible.
    Resamples where the metric is NaN (e.g. no near-failure engine drawn) are dropped. Returns
    ``(low, high)`` at ``level`` (0.95 → the 2.5th and 97.5th percentiles).
    """
    t, p = _seed_preds(y_true, y_pred)
    return _bootstrap(
        lambda idx: float(np.mean([metric(t[idx], row[idx]) for row in p])), t.size, groups, n_boot, level, seed
    )


def bootstrap_diff_ci(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y_true: np.ndarray,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    groups: np.ndarray | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    resample_seeds: bool = True,
) -> tuple[float, float]:
    """Paired bootstrap interval of ``metric(a) - metric(b)``, each averaged over seeds.

    pred_a, pred_b: (N,) or (S, N) predictions of two arms on the same samples; row s of both comes
    from the same seed (same initial weights, batches and validation split). Each resample draws
    one set of engines and scores both arms on it, so engine-to-engine difficulty cancels. With
    ``resample_seeds`` (and S > 1) it also draws S seed pairs with replacement, so that the
    interval includes seed-to-seed training noise, not only the choice of test engines.
    An interval containing 0 is "no measurable difference".
    """
    t, a = _seed_preds(y_true, pred_a)
    _, b = _seed_preds(y_true, pred_b)
    if a.shape != b.shape:
        raise ValueError(f"pred_a and pred_b must have the same shape, got {a.shape} and {b.shape}")
    per_a = lambda idx: np.array([metric(t[idx], row[idx]) for row in a])  # noqa: E731
    per_b = lambda idx: np.array([metric(t[idx], row[idx]) for row in b])  # noqa: E731
    if resample_seeds and a.shape[0] > 1:
        return _bootstrap(
            lambda idx, s: float(np.mean((per_a(idx) - per_b(idx))[s])), t.size, groups, n_boot, level, seed, a.shape[0]
        )
    return _bootstrap(lambda idx: float(np.mean(per_a(idx) - per_b(idx))), t.size, groups, n_boot, level, seed)
