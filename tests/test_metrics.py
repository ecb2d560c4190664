"""Metrics: hand-computed values, NASA table, bucket edges, all-window near-failure metrics, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from amnl_utils.core import metrics as M
from amnl_utils.core.constants import RUL_BUCKETS


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
    assert b["le30"]["n"] == 2 and b["30_80"]["n"] == 2 and b["gt80"]["n"] == 1
    assert b["le30"]["rmse"] == pytest.approx(math.sqrt((1 + 25) / 2))
    assert b["gt80"]["rmse"] == pytest.approx(4.0)
    assert list(b) == [key for key, *_ in RUL_BUCKETS]  # one definition of the buckets


def test_empty_bucket_is_nan_not_error():
    b = M.bucket_rmse([100.0, 120.0], [90.0, 125.0])
    assert b["le30"]["n"] == 0 and math.isnan(b["le30"]["rmse"])


def test_near_failure_rmse_and_late_count():
    t = np.array([5.0, 30.0, 31.0, 100.0])
    p = np.array([20.0, 35.0, 60.0, 200.0])  # +15 late, +5, +29 (not near failure), +100
    assert M.near_failure_rmse(t, p) == pytest.approx(math.sqrt((225 + 25) / 2))
    assert M.late_count(t, p) == 1  # only RUL 5 is > 10 late among RUL ≤ 30
    assert M.late_count(t, t + 10.0) == 0  # exactly 10 late is not "more than 10"


def test_accuracy_and_macro_f1_hand_case():
    t = np.array([0, 0, 1, 1, 2, 2])
    p = np.array([0, 1, 1, 1, 2, 0])
    assert M.accuracy(t, p) == pytest.approx(4 / 6)
    # class 0: tp1 fp1 fn1 → 0.5; class 1: tp2 fp1 fn0 → 0.8; class 2: tp1 fp0 fn1 → 2/3
    assert M.macro_f1(t, p) == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)


def test_macro_f1_class_never_hit_counts_zero():
    assert M.macro_f1(np.array([0, 1]), np.array([0, 0])) == pytest.approx((2 / 3 + 0.0) / 2)


def test_near_failure_window_metrics_by_hand():
    # engine 1: three windows at RUL 2, 1, 0; engine 2: one at 30; one healthy window ignored
    t = np.array([2.0, 1.0, 0.0, 30.0, 90.0])
    p = np.array([14.0, 1.0, 0.0, 30.0, 10.0])  # +12 (late), 0, 0, 0; the healthy -80 is ignored
    out = M.near_failure_window_metrics(t, p, units=np.array([1, 1, 1, 2, 3]))
    assert out["nf_rmse_all"] == pytest.approx(math.sqrt(144 / 4))
    assert out["late_count_all"] == 1 and out["late_share_all"] == pytest.approx(0.25)
    assert out["n_windows"] == 4 and out["n_engines"] == 2
    with pytest.raises(ValueError, match="units"):
        M.near_failure_window_metrics(t, p, units=np.array([1, 2]))
    empty = M.near_failure_window_metrics(np.array([50.0]), np.array([40.0]), np.array([1]))
    assert math.isnan(empty["nf_rmse_all"]) and empty["n_windows"] == 0


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
