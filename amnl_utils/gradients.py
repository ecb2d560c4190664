"""Where the loss sends its gradient: per-RUL gradient pull and per-bucket gradient share.

For one sample ``|dL/dyhat_i| = (2/B) * w(y_i) * |r_i|``. To isolate what the *loss* does (not the
model), these functions assume the same residual magnitude ``|r|`` on every sample, so the pull of a
group of samples is proportional to the sum of their weights. Under plain MSE (``w = 1``) a bucket's
share of the gradient is then just its share of the samples.
"""

from __future__ import annotations

import numpy as np

from .constants import R_MAX, RUL_BUCKETS, W_MAX
from .weights import check_rul, schedule


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
    w = schedule(name)(y, max_rul=max_rul, w_max=w_max)
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
