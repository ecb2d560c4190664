"""Per-bucket gradient share and per-RUL gradient density (amnl_utils.analysis.gradients)."""

from __future__ import annotations

import numpy as np
import pytest

from amnl_utils.analysis.gradients import gradient_density, gradient_share, rul_histogram


def test_share_by_hand():
    # two near-failure samples (weights 2.0 and 1.88) and two healthy ones (weight 1)
    y = np.array([0.0, 15.0, 125.0, 125.0])
    share = gradient_share(y, w_max=2.0)
    assert share["RUL ≤ 30"]["samples"] == 0.5
    assert share["RUL ≤ 30"]["gradient"] == pytest.approx(3.88 / 5.88)
    assert share["RUL > 80"]["gradient"] == pytest.approx(2 / 5.88)
    assert share["30 < RUL ≤ 80"] == {"samples": 0.0, "gradient": 0.0}


def test_share_at_w_max_one_equals_sample_share():
    y = np.random.default_rng(1).uniform(0, 125, 500)
    for v in gradient_share(y, w_max=1.0).values():
        assert v["gradient"] == pytest.approx(v["samples"])


def test_histogram_counts_capped_values_in_last_bin():
    edges, counts = rul_histogram(np.array([0.0, 4.9, 5.0, 125.0, 125.0]), bin_width=5.0)
    assert edges[0] == 0 and edges[-1] == 125 and len(counts) == 25
    assert counts[0] == 2 and counts[1] == 1 and counts[-1] == 2 and counts.sum() == 5


def test_density_sums_to_one_and_coincides_at_w_max_one():
    y = np.minimum(np.random.default_rng(2).integers(0, 300, 2000), 125).astype(float)
    d = gradient_density(y, w_max=3.0)
    assert d["mse"].sum() == pytest.approx(1) and d["weighted"].sum() == pytest.approx(1)
    assert d["weighted"][0] > d["mse"][0] and d["weighted"][-1] < d["mse"][-1]
    d1 = gradient_density(y, w_max=1.0)
    np.testing.assert_array_equal(d1["weighted"], d1["mse"])


def test_bad_input():
    with pytest.raises(ValueError, match="y is empty"):
        gradient_share(np.array([]))
    with pytest.raises(ValueError, match="negative"):
        gradient_share(np.array([-1.0]))
    with pytest.raises(ValueError, match="bin_width"):
        rul_histogram(np.array([1.0]), bin_width=0)
