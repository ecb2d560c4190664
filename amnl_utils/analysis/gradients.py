"""Where the loss sends its gradient: per-RUL gradient pull and per-bucket gradient share.

For one sample ``|dL/dyhat_i| = (2/B) * w(y_i) * |r_i|``. To isolate what the *loss* does (not the
model), these functions assume the same residual magnitude ``|r|`` on every sample, so the pull of a
group of samples is proportional to the sum of their weights. Under plain MSE (``w = 1``) a bucket's
share of the gradient is then just its share of the samples.

:func:`per_sample_gradient` and :func:`gradient_spread` drop that assumption: they take real
residuals (§14.3) and describe the spread of the per-sample pulls in one batch.
"""

from __future__ import annotations

import numpy as np

from ..core.constants import R_MAX, RUL_BUCKETS, W_MAX
from ..core.losses import amnl_weighted_mse
from ..core.weights import check_rul, schedule


def gradient_share(
    y: np.ndarray, w_max: float = W_MAX, max_rul: float = R_MAX, name: str = "linear"
) -> dict[str, dict[str, float]]:
    """Share of samples and of total gradient mass per RUL bucket under a weight schedule.

    y: (N,) true (capped) RUL of the training windows, cycles. Returns ``{label: {"samples":
    fraction, "gradient": fraction}}`` with the labels of ``constants.RUL_BUCKETS`` (``"RUL ≤ 30"``,
    …); each column sums to 1. Assumes equal residual magnitude.
    """
    y = check_rul(y, "y")
    if y.size == 0:
        raise ValueError("y is empty; pass the RUL labels of at least one window")
    return bucket_gradient_share(y, schedule(name)(y, max_rul=max_rul, w_max=w_max))


def bucket_gradient_share(y: np.ndarray, w: np.ndarray) -> dict[str, dict[str, float]]:
    """Share of samples and of total gradient mass per RUL bucket, for given per-sample weights.

    y: (N,) true (capped) RUL, cycles; w: (N,) weights > 0 of those samples (any schedule, also one
    that :data:`amnl_utils.core.weights.SCHEDULES` does not hold). Returns the dict of
    :func:`gradient_share`: a bucket's gradient share is the sum of its weights over the sum of all
    weights (equal residual magnitude assumed).
    """
    y = check_rul(y, "y")
    w = np.asarray(w, dtype=np.float64)
    if y.ndim != 1 or y.size == 0 or w.shape != y.shape:
        raise ValueError(f"y and w must be non-empty (N,) arrays of one shape, got {y.shape} and {w.shape}")
    if not (np.isfinite(w).all() and (w > 0).all()):
        raise ValueError("w must hold finite weights > 0 (a weight schedule maps into [1, w_max])")
    out: dict[str, dict[str, float]] = {}
    for _, label, lo, hi in RUL_BUCKETS:
        m = (y > lo) & (y <= hi)
        out[label] = {"samples": float(m.mean()), "gradient": float(w[m].sum() / w.sum())}
    return out


def rul_histogram(y: np.ndarray, max_rul: float = R_MAX, bin_width: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of capped RUL labels on bins of ``bin_width`` cycles covering ``[0, max_rul]``.

    y: (N,) RUL in cycles. Returns ``(edges (K+1,), counts (K,))``; the last bin is closed so that
    the (many) windows at exactly ``max_rul`` are counted in it.
    """
    y = check_rul(y, "y")
    if bin_width <= 0:
        raise ValueError(f"bin_width must be > 0 cycles, got {bin_width}")
    edges = np.arange(0.0, max_rul + bin_width, bin_width)
    edges[-1] = max(edges[-1], max_rul)
    counts, edges = np.histogram(np.minimum(y, max_rul), bins=edges)
    return edges, counts


def gradient_density(
    y: np.ndarray, w_max: float = W_MAX, max_rul: float = R_MAX, bin_width: float = 5.0, name: str = "linear"
) -> dict[str, np.ndarray]:
    """Relative gradient pull per RUL bin under uniform MSE and under a schedule.

    y: (N,) training RUL labels (cycles). Returns ``edges`` (K+1,), ``centers`` (K,), ``counts`` (K,),
    ``weight_sums`` (K,) (sum of the per-sample weights in each bin), and the share of total gradient
    mass per bin for ``"mse"`` and ``"weighted"`` (each sums to 1; equal residuals assumed). At
    ``w_max = 1`` the two coincide.
    """
    y = check_rul(y, "y")
    edges, counts = rul_histogram(y, max_rul=max_rul, bin_width=bin_width)
    w = schedule(name)(y, max_rul=max_rul, w_max=w_max)
    weight_sums, _ = np.histogram(np.minimum(y, max_rul), bins=edges, weights=w)
    return {
        "edges": edges,
        "centers": 0.5 * (edges[:-1] + edges[1:]),
        "counts": counts,
        "weight_sums": weight_sums,
        "mse": counts / counts.sum(),
        "weighted": weight_sums / weight_sums.sum(),
    }


# --------------------------------------------------------------------------- §14.3: real residuals


def per_sample_gradient(
    y: np.ndarray, residual: np.ndarray, w_max: float = W_MAX, max_rul: float = R_MAX
) -> np.ndarray:
    """Per-sample gradient magnitude of the AMNL loss, ``|dL/dyhat_i| = (2/B) w(y_i) |r_i|``.

    y: (B,) true RUL of one batch (cycles); residual: (B,) ``pred - y`` (cycles). Returns (B,)
    float64 in cycles (the loss is in cycles², the prediction in cycles). The gradient is the one
    of :func:`amnl_utils.core.losses.amnl_weighted_mse`; ``w_max = 1`` is plain MSE.
    """
    y = check_rul(y, "y")
    r = np.asarray(residual, dtype=np.float64)
    if y.ndim != 1 or y.size == 0 or r.shape != y.shape:
        raise ValueError(f"y and residual must be non-empty (B,) arrays of one shape, got {y.shape} and {r.shape}")
    if not np.isfinite(r).all():
        raise ValueError("residual has non-finite values; pass finite pred - target in cycles")
    _, _, grad = amnl_weighted_mse(y + r, y, max_rul=max_rul, w_max=w_max)
    return np.abs(grad)


def tail_ratio(g: np.ndarray, q: float = 0.99) -> float:
    """``quantile(g, q) / median(g)`` (NumPy's default linear-interpolation quantile).

    g: (B,) non-negative per-sample gradient magnitudes. How far the largest pulls of a batch stand
    above its typical pull: a number without unit, so a global rescaling of the loss leaves it
    unchanged. Raises ``ValueError`` for an empty array, ``q`` outside (0.5, 1] or a zero median.
    """
    g = np.asarray(g, dtype=np.float64)
    if g.ndim != 1 or g.size == 0 or not np.isfinite(g).all() or (g < 0).any():
        raise ValueError("g must be a non-empty (B,) array of finite values >= 0")
    if not 0.5 < q <= 1.0:
        raise ValueError(f"q must be in (0.5, 1], got {q!r}")
    med = float(np.median(g))
    if med == 0:
        raise ValueError("the median |gradient| is 0; the ratio is undefined")
    return float(np.quantile(g, q) / med)


def gradient_spread(
    y: np.ndarray, residual: np.ndarray, w_maxes: tuple[float, ...] = (1.0, 2.0, 3.0, 5.0, 10.0),
    max_rul: float = R_MAX, near: float = RUL_BUCKETS[0][3],
) -> list[dict[str, float]]:
    """Spread of the per-sample |gradient| of one batch at several ``w_max`` (§14.3's table).

    y, residual: (B,) as in :func:`per_sample_gradient`. One row per ``w_max`` with ``median`` and
    ``p99`` of ``|dL/dyhat_i|`` (cycles), ``p99/median`` (:func:`tail_ratio`), ``max/median`` and
    ``near_share``: the fraction of the batch's total |gradient| carried by samples with
    ``y <= near`` (the near-failure bucket).
    """
    y = check_rul(y, "y")
    rows = []
    for w_max in w_maxes:
        g = per_sample_gradient(y, residual, w_max=w_max, max_rul=max_rul)
        rows.append({
            "w_max": float(w_max),
            "median": float(np.median(g)),
            "p99": float(np.quantile(g, 0.99)),
            "p99/median": tail_ratio(g, 0.99),
            "max/median": tail_ratio(g, 1.0),
            "near_share": float(g[y <= near].sum() / g.sum()),
        })
    return rows
