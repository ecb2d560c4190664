"""Relative paired differences per subset, and their pooling across subsets (the book's verdict).

Per subset, two arms trained with the same seeds give per-seed values ``a_s`` and ``b_s`` of one
measure (an error: lower is better). :func:`relative_difference` estimates

    r = mean(a) / mean(b) - 1

(a fraction: -0.05 is "A is 5 % lower"). Its standard error comes from the delta method on the
paired seeds: with ``d_s = a_s - (1 + r) · b_s``, ``se(r) = sd(d) / (sqrt(S) · mean(b))``, and the
interval is a t-interval with ``S - 1`` degrees of freedom. It carries the seed noise (the seed sets
the initial weights, the validation engines and the batch order) and treats the test engines as
fixed, as :func:`amnl_utils.core.stats.paired_difference` does.

:func:`pool` combines the per-subset estimates by **inverse-variance weighting** (a fixed-effect
mean): ``w_i = 1 / se_i^2``, ``r = Σ w_i r_i / Σ w_i``, ``se = 1 / sqrt(Σ w_i)``, with a normal
interval. It answers "what is the average effect over these four subsets", the four being all the
subsets there are, not a sample of some larger population; Cochran's Q and I² say how far the subsets
disagree with that one average. The smallest detectable pooled effect (80 % power, 5 % level) is
``(z_{0.975} + z_{0.80}) · se``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .optional import require
from .stats import LEVEL, POWER, seed_values, t_quantile


def _z(q: float) -> float:
    return float(require("scipy.stats", "the pooled intervals of amnl_utils.core.pooling").norm.ppf(q))


def relative_difference(a: np.ndarray, b: np.ndarray, level: float = LEVEL, power: float = POWER) -> dict[str, float]:
    """Relative paired difference ``mean(a) / mean(b) - 1`` of two arms: ``{rel, se, lo, hi, n, mde}``.

    a, b: (S,) one value of the measure per seed, row ``s`` of both from the same seed, S >= 2;
    ``mean(b)`` must be positive (an error measure). ``rel``, ``se``, ``lo``, ``hi`` and ``mde`` are
    fractions; ``mde`` is the smallest relative difference a paired t-test on these seeds would
    detect at ``power`` and ``level``.
    """
    a, b = seed_values(a, "a"), seed_values(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b need one value per seed each (the same seeds), got {a.shape} and {b.shape}")
    if a.size < 2:
        raise ValueError(f"a relative difference needs at least 2 paired seeds, got {a.size}")
    mb = float(b.mean())
    if not mb > 0:
        raise ValueError(f"the reference arm's mean must be positive (an error measure), got {mb}")
    rel = float(a.mean()) / mb - 1.0
    se = float(np.std(a - (1.0 + rel) * b, ddof=1) / (np.sqrt(a.size) * mb))
    half = t_quantile(0.5 + level / 2, a.size - 1) * se
    detect = (t_quantile(0.5 + level / 2, a.size - 1) + t_quantile(power, a.size - 1)) * se
    return {"rel": rel, "se": se, "lo": rel - half, "hi": rel + half, "n": int(a.size), "mde": float(detect)}


def pool(estimates: Sequence[float], ses: Sequence[float], level: float = LEVEL, power: float = POWER) -> dict[str, float]:
    """Inverse-variance (fixed-effect) mean of per-subset estimates: ``{rel, se, lo, hi, mde, q, i2, k}``.

    estimates, ses: (K,) each subset's estimate and its standard error (same unit), K >= 1, every
    se > 0. ``q`` is Cochran's Q (the weighted squared spread about the pooled mean, K - 1 degrees
    of freedom) and ``i2`` the share of that spread beyond chance, ``max(0, (Q - (K-1)) / Q)``.
    """
    e, s = seed_values(np.asarray(estimates, dtype=float), "estimates"), seed_values(np.asarray(ses, dtype=float), "ses")
    if e.shape != s.shape or e.size == 0:
        raise ValueError(f"need one standard error per estimate and at least one of each, got {e.shape} and {s.shape}")
    if not (s > 0).all():
        raise ValueError(f"every standard error must be positive, got {s.tolist()}")
    w = 1.0 / s**2
    est = float((w * e).sum() / w.sum())
    se = float(1.0 / np.sqrt(w.sum()))
    q = float((w * (e - est) ** 2).sum())
    i2 = max(0.0, (q - (e.size - 1)) / q) if q > 0 else 0.0
    half = _z(0.5 + level / 2) * se
    return {"rel": est, "se": se, "lo": est - half, "hi": est + half,
            "mde": (_z(0.5 + level / 2) + _z(power)) * se, "q": q, "i2": float(i2), "k": int(e.size)}
