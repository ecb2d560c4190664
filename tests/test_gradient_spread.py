"""Per-sample gradients with real residuals and the per-bucket share for given weights
(the §14.2/§14.3 additions to amnl_utils.analysis.gradients)."""

from __future__ import annotations

import numpy as np
import pytest

from amnl_utils.analysis.gradients import (
    bucket_gradient_share,
    gradient_share,
    gradient_spread,
    per_sample_gradient,
    tail_ratio,
)
from amnl_utils.core.weights import SCHEDULES, schedule


def test_per_sample_gradient_by_hand():
    # w_max = 3: weights 3, 2, 1, 1; |grad| = (2/4) w |r|
    y = np.array([0.0, 62.5, 125.0, 200.0])
    r = np.array([1.0, -2.0, 3.0, -4.0])
    np.testing.assert_allclose(per_sample_gradient(y, r, w_max=3.0), [1.5, 2.0, 1.5, 2.0], rtol=1e-12)
    np.testing.assert_allclose(per_sample_gradient(y, r, w_max=1.0), [0.5, 1.0, 1.5, 2.0], rtol=1e-12)


def test_tail_ratio_by_hand_and_scale_free():
    g = np.arange(1.0, 102.0)  # 1 … 101: median 51, 99th percentile 1 + 0.99 * 100 = 100
    assert tail_ratio(g) == pytest.approx(100 / 51)
    assert tail_ratio(g, 1.0) == pytest.approx(101 / 51)
    assert tail_ratio(7.5 * g) == pytest.approx(tail_ratio(g))


def test_spread_rows():
    rng = np.random.default_rng(0)
    y = np.minimum(rng.integers(0, 250, 400), 125).astype(float)
    r = rng.normal(0, 15, 400)
    rows = gradient_spread(y, r, w_maxes=(1.0, 4.0))
    # at w_max = 1 the near-failure share of |gradient| is its share of |r|
    near = y <= 30
    assert rows[0]["near_share"] == pytest.approx(np.abs(r[near]).sum() / np.abs(r).sum())
    assert rows[1]["near_share"] > rows[0]["near_share"]
    assert rows[0]["median"] == pytest.approx(np.median(2 / 400 * np.abs(r)))


def test_bucket_share_for_given_weights_equals_gradient_share():
    y = np.minimum(np.random.default_rng(1).integers(0, 300, 1000), 125).astype(float)
    for name in SCHEDULES:
        w = schedule(name)(y, w_max=3.0)
        assert bucket_gradient_share(y, w) == gradient_share(y, w_max=3.0, name=name)


def test_bad_input():
    with pytest.raises(ValueError, match="one shape"):
        per_sample_gradient(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="non-finite"):
        per_sample_gradient(np.ones(2), np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="median"):
        tail_ratio(np.zeros(5))
    with pytest.raises(ValueError, match="q must be"):
        tail_ratio(np.ones(5), 0.3)
    with pytest.raises(ValueError, match="finite weights > 0"):
        bucket_gradient_share(np.ones(2), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="one shape"):
        bucket_gradient_share(np.ones(2), np.ones(3))
