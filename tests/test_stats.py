"""Statistics: t-intervals and MDE against textbook values, paired differences, the bootstraps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from amnl_utils.core import metrics as M
from amnl_utils.core import stats as S


def test_t_interval_textbook_value():
    # mean 5, sd sqrt(2.5), n 5: t_{0.975,4} = 2.776445 -> half width 2.776445 * sqrt(2.5 / 5)
    out = S.t_interval([3.0, 4.0, 5.0, 6.0, 7.0])
    half = 2.7764451 * math.sqrt(2.5 / 5)
    assert out["mean"] == 5.0 and out["sd"] == pytest.approx(math.sqrt(2.5))
    assert out["lo"] == pytest.approx(5 - half, rel=1e-6) and out["hi"] == pytest.approx(5 + half, rel=1e-6)


def test_mde_formula_and_shrinks_with_seeds():
    # (t_{0.975,9} + t_{0.80,9}) = 2.262157 + 0.883404
    assert S.mde(1.0, 10) == pytest.approx((2.262157 + 0.883404) / math.sqrt(10), rel=1e-5)
    assert S.mde(1.0, 20) < S.mde(1.0, 10) < S.mde(1.0, 5)
    with pytest.raises(ValueError, match="n >= 2"):
        S.mde(1.0, 1)


def test_paired_difference_removes_shared_seed_noise():
    rng = np.random.default_rng(0)
    seed_effect = rng.normal(0, 5, 10)  # large, shared by both arms of a seed
    a = 20 + seed_effect + rng.normal(0, 0.1, 10)
    b = 21 + seed_effect + rng.normal(0, 0.1, 10)
    d = S.paired_difference(a, b)
    assert d["hi"] < 0 and d["lo"] > -1.5  # the 1-cycle gain is found despite the seed noise
    assert S.verdict(d["lo"], d["hi"]) == "lower"
    unpaired = S.t_interval(a)["hi"] - S.t_interval(a)["lo"]
    assert d["hi"] - d["lo"] < unpaired / 10
    with pytest.raises(ValueError, match="one value per seed"):
        S.paired_difference(a, b[:5])


def test_verdict():
    assert S.verdict(-1.0, 2.0) == "no measurable difference"
    assert S.verdict(-3.0, -1.0) == "lower"
    assert S.verdict(0.5, 1.0) == "higher"
    assert S.verdict(float("nan"), 1.0) == "undefined"


def test_bootstrap_is_deterministic_and_brackets_the_estimate():
    rng = np.random.default_rng(1)
    t = rng.uniform(0, 125, 100)
    p = t + rng.normal(0, 12, 100)
    a = S.bootstrap_ci(M.rmse, t, p, n_boot=300, seed=3)
    b = S.bootstrap_ci(M.rmse, t, p, n_boot=300, seed=3)
    c = S.bootstrap_ci(M.rmse, t, p, n_boot=300, seed=4)
    assert a == b and a != c
    assert a[0] < M.rmse(t, p) < a[1]


def test_bootstrap_groups_resample_whole_engines():
    # two engines with constant errors 0 and 10: every resample's RMSE is one of 0, sqrt(50), 10
    t = np.zeros(6)
    p = np.array([0, 0, 0, 10, 10, 10.0])
    lo, hi = S.bootstrap_ci(M.rmse, t, p, groups=np.array([1, 1, 1, 2, 2, 2]), n_boot=200)
    assert lo == pytest.approx(0.0) and hi == pytest.approx(10.0)


def test_bootstrap_over_seeds_averages_the_metric():
    t = np.linspace(0, 120, 40)
    P = np.stack([t + 5.0, t - 5.0])  # both seeds RMSE exactly 5 on every resample
    assert S.bootstrap_ci(M.rmse, t, P, n_boot=50) == pytest.approx((5.0, 5.0))


def test_resampling_seeds_widens_the_interval_when_seeds_disagree():
    t = np.linspace(0, 120, 60)
    P = np.stack([t + e for e in (1.0, 3.0, 8.0, 2.0)])  # seed RMSEs 1, 3, 8, 2
    engines_only = S.bootstrap_ci(M.rmse, t, P, n_boot=200, seed=0)
    both = S.bootstrap_ci(M.rmse, t, P, n_boot=200, seed=0, resample_seeds=True)
    assert engines_only == pytest.approx((3.5, 3.5))  # constant errors: engines do not matter
    assert both[0] < 3.0 and both[1] > 5.0


def test_paired_bootstrap_interval():
    t = np.linspace(0, 120, 50)
    a, b = t + 3.0, t + 3.0
    assert S.bootstrap_diff_ci(M.rmse, t, a, b, n_boot=50) == pytest.approx((0.0, 0.0))
    lo, hi = S.bootstrap_diff_ci(M.rmse, t, t + 2.0, t + 6.0, n_boot=50)
    assert lo == pytest.approx(-4.0) and hi == pytest.approx(-4.0)


@pytest.mark.parametrize("values, match", [([1.0], "at least 2"), ([1.0, np.nan], "non-finite"),
                                           ([[1.0, 2.0]], "1-D")])
def test_t_interval_bad_input(values, match):
    with pytest.raises(ValueError, match=match):
        S.t_interval(values)
