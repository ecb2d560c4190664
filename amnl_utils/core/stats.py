"""Intervals that carry seed noise, paired differences and detectable effects: all in one module.

Two sources of noise sit in every number of the book's grids: **training noise** (the seed sets the
initial weights, the validation engines, the batch order and the dropout masks) and **engine
sampling** (which engines happen to be in the test set). On C-MAPSS the first dominates, so every
interval here carries it:

* :func:`paired_difference` — the book's comparisons. For each seed ``s`` both arms were trained
  with the same seed, so ``d_s = metric(A, s) - metric(B, s)`` removes what the two runs share. The
  interval is a t-interval over the ``d_s`` (df = seeds - 1), which is calibrated for 10 seeds where
  a percentile bootstrap over 10 seeds is too narrow. It treats the test engines as fixed.
* :func:`bootstrap_ci` / :func:`bootstrap_diff_ci` with ``resample_seeds=True`` — a two-level
  percentile bootstrap that draws seeds *and* engines with replacement, so it holds both sources.
  The book reports it beside the t-interval as a check, and for the absolute level of one arm.
* :func:`mde` — the smallest true difference a paired comparison would detect with 80 % power at
  the 5 % level: ``(t_{0.975} + t_{0.80}) · sd / sqrt(n)``. A difference inside the interval is
  "no measurable difference", and the MDE says how large an effect could still hide there.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .metrics import check_pair
from .optional import require

#: Default level of every interval and resamples of every bootstrap.
LEVEL: float = 0.95
N_BOOT: int = 1000
#: Power at which :func:`mde` is computed.
POWER: float = 0.80


def t_quantile(q: float, df: int) -> float:
    """The ``q`` quantile of Student's t with ``df`` degrees of freedom."""
    stats = require("scipy.stats", "the t-intervals of amnl_utils.core.stats")
    return float(stats.t.ppf(q, df))


def seed_values(values: np.ndarray, name: str = "values") -> np.ndarray:
    """``values`` as a finite 1-D float64 array (one number per seed), else a ``ValueError`` naming ``name``."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per seed), got shape {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError(f"{name} has {int((~np.isfinite(v)).sum())} non-finite values")
    return v


def t_interval(values: np.ndarray, level: float = LEVEL) -> dict[str, float]:
    """Mean of per-seed values and its t-interval: ``{mean, sd, lo, hi, n}`` (sd with ddof = 1).

    values: (S,), one number per seed, S >= 2.
    """
    v = seed_values(values)
    if v.size < 2:
        raise ValueError(f"a t-interval needs at least 2 values, got {v.size}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    mean, sd = float(v.mean()), float(v.std(ddof=1))
    half = t_quantile(0.5 + level / 2, v.size - 1) * sd / np.sqrt(v.size)
    return {"mean": mean, "sd": sd, "lo": mean - half, "hi": mean + half, "n": int(v.size)}


def mde(sd: float, n: int, level: float = LEVEL, power: float = POWER) -> float:
    """Minimum detectable effect of a paired t-test on ``n`` per-seed differences with SD ``sd``.

    ``(t_{(1+level)/2, n-1} + t_{power, n-1}) · sd / sqrt(n)``, in the metric's unit.
    """
    if n < 2 or not np.isfinite(sd) or sd < 0:
        raise ValueError(f"need n >= 2 and a finite sd >= 0, got n={n}, sd={sd}")
    return float((t_quantile(0.5 + level / 2, n - 1) + t_quantile(power, n - 1)) * sd / np.sqrt(n))


def paired_difference(a: np.ndarray, b: np.ndarray, level: float = LEVEL) -> dict[str, float]:
    """Paired per-seed difference ``a - b``: ``{diff, sd, lo, hi, n, mde}``.

    a, b: (S,) the metric of two arms, row ``s`` of both from the same seed.
    """
    a, b = seed_values(a, "a"), seed_values(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b need one value per seed each, got {a.shape} and {b.shape}")
    t = t_interval(a - b, level)
    return {"diff": t["mean"], "sd": t["sd"], "lo": t["lo"], "hi": t["hi"], "n": t["n"],
            "mde": mde(t["sd"], t["n"], level)}


def verdict(lo: float, hi: float) -> str:
    """Reading of an interval of ``A - B`` (lower is better for every error metric):
    ``"lower"``, ``"higher"`` or ``"no measurable difference"`` (0 inside)."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "undefined"
    if lo <= 0 <= hi:
        return "no measurable difference"
    return "lower" if hi < 0 else "higher"


# --------------------------------------------------------------------------- bootstrap


def _seed_preds(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate y_true (N,) and y_pred (N,) or (S, N); return y_pred as (S, N) float64."""
    p = np.asarray(y_pred, dtype=np.float64)
    p2 = p[None, :] if p.ndim == 1 else p
    if p2.ndim != 2:
        raise ValueError(f"y_pred must be (N,) or (S, N) (S seeds), got shape {p.shape}")
    for row in p2:
        t, _ = check_pair(y_true, row)
    if t.size == 0:
        raise ValueError("no samples: the metric is undefined on an empty set")
    return t, p2


def _bootstrap(
    stat: Callable[..., float], n: int, groups, n_boot: int, level: float, seed: int, n_seeds: int | None = None
) -> tuple[float, float]:
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
    n_boot: int = N_BOOT,
    level: float = LEVEL,
    seed: int = 0,
    resample_seeds: bool = False,
) -> tuple[float, float]:
    """Percentile bootstrap interval of a metric averaged over seeds.

    y_true: (N,). y_pred: (N,) one model, or (S, N) S seeds scored on the same N samples; the
    statistic is the **mean over seeds** of ``metric(y_true, y_pred[s])`` (the number a
    mean-over-seeds table reports). Each resample draws engines with replacement (``groups``: (N,)
    engine id of each sample, all samples of a drawn engine come along; ``None`` = one sample per
    engine) and, with ``resample_seeds``, also the S seeds, so that the interval carries training
    noise too. Seeded by ``seed``: reproducible. Resamples where the metric is NaN (no
    near-failure engine drawn) are dropped. Returns ``(low, high)`` at ``level``.
    """
    t, p = _seed_preds(y_true, y_pred)
    per = lambda idx: np.array([metric(t[idx], row[idx]) for row in p])  # noqa: E731
    if resample_seeds and p.shape[0] > 1:
        return _bootstrap(lambda idx, s: float(np.mean(per(idx)[s])), t.size, groups, n_boot, level, seed, p.shape[0])
    return _bootstrap(lambda idx: float(np.mean(per(idx))), t.size, groups, n_boot, level, seed)


def bootstrap_diff_ci(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y_true: np.ndarray,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    groups: np.ndarray | None = None,
    n_boot: int = N_BOOT,
    level: float = LEVEL,
    seed: int = 0,
    resample_seeds: bool = True,
) -> tuple[float, float]:
    """Paired two-level bootstrap interval of ``metric(a) - metric(b)``, each averaged over seeds.

    pred_a, pred_b: (N,) or (S, N) predictions of two arms on the same samples; row s of both comes
    from the same seed. Each resample draws one set of engines and scores both arms on it, so
    engine-to-engine difficulty cancels; with ``resample_seeds`` (and S > 1) it also draws S seed
    pairs with replacement, so that the interval includes seed-to-seed training noise.
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
