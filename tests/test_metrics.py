"""Metrics: hand-computed values, NASA table, bucket edges, bootstrap determinism, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from amnl_utils import metrics as M


def test_rmse_hand_value():
    assert M.rmse([0, 0, 0, 0], [1, -1, 3, -3]) == pytest.approx(math.sqrt(5.0))


def test_nasa_score_asymmetric_hand_value():
    # one engine 13 early (e^1 - 1), one 10 late (e^1 - 1), one exact (0)
    assert M.nasa_score([50, 50, 50], [37, 60, 50]) == pytest.approx(2 * (math.e - 1))


def test_nasa_table_values():
    table = {row["abs_error"]: row for row in M.nasa_score_table()}
    assert sorted(table) == [5, 10, 15, 20, 25, 30, 40, 50]
    assert round(table[10]["early"], 3) == 1.158
    assert round(table[10]["late"], 3) == 1.718
    assert table[50]["late"] == pytest.approx(math.exp(5) - 1)
    assert all(r["late"] > r["early"] for r in table.values())


def test_bucket_edges_are_inclusive_on_the_right():
    t = np.array([30.0, 30.5, 80.0, 80.5, 0.0])
    p = t + np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    b = M.bucket_rmse(t, p)
    assert b["<=30"]["n"] == 2 and b["30-80"]["n"] == 2 and b[">80"]["n"] == 1
    assert b["<=30"]["rmse"] == pytest.approx(math.sqrt((1 + 25) / 2))
    assert b[">80"]["rmse"] == pytest.approx(4.0)


def test_empty_bucket_is_nan_not_error():
    b = M.bucket_rmse([100.0, 120.0], [90.0, 125.0])
    assert b["<=30"]["n"] == 0 and math.isnan(b["<=30"]["rmse"])


def test_near_failure_rmse_and_late_count():
    t = np.array([5.0, 30.0, 31.0, 100.0])
    p = np.array([20.0, 35.0, 60.0, 200.0])  # +15 late, +5, +29 (not near failure), +100
    assert M.near_failure_rmse(t, p) == pytest.approx(math.sqrt((225 + 25) / 2))
    assert M.late_count(t, p) == 1  # only RUL 5 is > 10 late among RUL <= 30
    assert M.late_count(t, t + 10.0) == 0  # exactly 10 late is not "more than 10"


def test_accuracy_and_macro_f1_hand_case():
    t = np.array([0, 0, 1, 1, 2, 2])
    p = np.array([0, 1, 1, 1, 2, 0])
    assert M.accuracy(t, p) == pytest.approx(4 / 6)
    # class 0: tp1 fp1 fn1 → 0.5; class 1: tp2 fp1 fn0 → 0.8; class 2: tp1 fp0 fn1 → 2/3
    assert M.macro_f1(t, p) == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)


def test_macro_f1_class_never_hit_counts_zero():
    assert M.macro_f1(np.array([0, 1]), np.array([0, 0])) == pytest.approx((2 / 3 + 0.0) / 2)


def test_bootstrap_is_deterministic_and_brackets_the_estimate():
    rng = np.random.default_rng(1)
    t = rng.uniform(0, 125, 100)
    p = t + rng.normal(0, 12, 100)
    a = M.bootstrap_ci(M.rmse, t, p, n_boot=300, seed=3)
    b = M.bootstrap_ci(M.rmse, t, p, n_boot=300, seed=3)
    c = M.bootstrap_ci(M.rmse, t, p, n_boot=300, seed=4)
    assert a == b and a != c
    assert a[0] < M.rmse(t, p) < a[1]


def test_bootstrap_groups_resample_whole_engines():
    # two engines with constant errors 0 and 10: every resample's RMSE is one of 0, sqrt(50), 10
    t = np.zeros(6)
    p = np.array([0, 0, 0, 10, 10, 10.0])
    lo, hi = M.bootstrap_ci(M.rmse, t, p, groups=np.array([1, 1, 1, 2, 2, 2]), n_boot=200)
    assert lo == pytest.approx(0.0) and hi == pytest.approx(10.0)


def test_bootstrap_over_seeds_averages_the_metric():
    t = np.linspace(0, 120, 40)
    P = np.stack([t + 5.0, t - 5.0])  # both seeds RMSE exactly 5 on every resample
    assert M.bootstrap_ci(M.rmse, t, P, n_boot=50) == pytest.approx((5.0, 5.0))


def test_paired_difference_interval():
    t = np.linspace(0, 120, 50)
    a, b = t + 3.0, t + 3.0
    assert M.bootstrap_diff_ci(M.rmse, t, a, b, n_boot=50) == pytest.approx((0.0, 0.0))
    lo, hi = M.bootstrap_diff_ci(M.rmse, t, t + 2.0, t + 6.0, n_boot=50)
    assert lo == pytest.approx(-4.0) and hi == pytest.approx(-4.0)


@pytest.mark.parametrize(
    "t, p, match",
    [
        ([1.0, 2.0], [1.0], "differ in length"),
        ([[1.0]], [[1.0]], "1-D"),
        ([1.0, np.nan], [1.0, 2.0], "non-finite"),
        ([], [], "empty"),
    ],
)
def test_bad_input_raises(t, p, match):
    with pytest.raises(ValueError, match=match):
        M.rmse(t, p)


def test_class_metrics_reject_float_labels():
    with pytest.raises(ValueError, match="integer"):
        M.accuracy(np.array([0.0, 1.0]), np.array([0, 1]))
