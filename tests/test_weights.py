"""Weight schedules: endpoints, range, monotonicity, the clip floor, bad input (Methods page; §14.2)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from amnl_utils.core.constants import R_MAX
from amnl_utils.core.weights import SCHEDULES, linear_weight, mean_weight, ramp_slope, schedule, unclipped_linear_weight

ruls = arrays(np.float64, st.integers(1, 64), elements=st.floats(0, 400, allow_nan=False))
w_maxes = st.floats(1.0, 10.0, allow_nan=False)


def test_linear_endpoints_and_worked_example():
    assert linear_weight(np.array([0.0, 125.0, 126.0, 1e6])).tolist() == [2.0, 1.0, 1.0, 1.0]
    got = linear_weight(np.array([5.0, 20.0, 50.0, 90.0, 125.0, 200.0]))
    np.testing.assert_allclose(got, [1.96, 1.84, 1.6, 1.28, 1.0, 1.0], atol=1e-12)


def test_linear_matches_closed_form_for_other_ceiling():
    y = np.array([0.0, 62.5, 125.0])
    np.testing.assert_allclose(linear_weight(y, w_max=5.0), [5.0, 3.0, 1.0])
    np.testing.assert_allclose(linear_weight(np.array([5.0]), w_max=5.0), [4.84])


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@settings(max_examples=40, deadline=None)
@given(y=ruls, w_max=w_maxes)
def test_every_schedule_is_bounded_and_monotone(name, y, w_max):
    f = schedule(name)
    w = f(y, w_max=w_max)
    assert w.shape == y.shape
    assert np.all(w >= 1.0 - 1e-12) and np.all(w <= w_max + 1e-12)
    order = np.argsort(y, kind="stable")
    assert np.all(np.diff(w[order]) <= 1e-12), "weight must not increase with RUL"
    assert np.all(f(np.array([125.0, 300.0]), w_max=w_max) == 1.0), "healthy samples keep weight 1"


@pytest.mark.parametrize("name", ["linear", "exponential", "sigmoid", "step"])
def test_tilted_schedules_reach_w_max_at_failure(name):
    assert schedule(name)(np.array([0.0]), w_max=3.0)[0] == pytest.approx(3.0)


def test_constant_is_plain_mse():
    assert np.all(schedule("constant")(np.array([0.0, 50.0, 500.0]), w_max=4.0) == 1.0)


def test_unclipped_ramp_goes_below_one_and_negative():
    w = unclipped_linear_weight(np.array([200.0, 260.0]))
    assert w[0] == pytest.approx(0.4) and w[1] < 0


def test_mean_weight_uniform_rul_is_midpoint():
    y = np.linspace(0, 125, 100001)
    assert mean_weight(y, w_max=2.0) == pytest.approx(1.5, abs=1e-4)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(max_rul=0.0), "max_rul must be"),
        (dict(max_rul=-5.0), "max_rul must be"),
        (dict(w_max=0.5), "w_max must be"),
        (dict(w_max=float("nan")), "w_max must be"),
    ],
)
def test_bad_schedule_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        linear_weight(np.array([1.0]), **kwargs)


def test_bad_targets_are_named():
    with pytest.raises(ValueError, match=r"2 negative values \(min -4.0\)"):
        linear_weight(np.array([1.0, -4.0, -1.0]))
    with pytest.raises(ValueError, match="1 non-finite"):
        linear_weight(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="unknown schedule 'cubic'"):
        schedule("cubic")


@pytest.mark.parametrize("w_max", [1.0, 1.5, 2.0, 5.0, 12.0])
def test_the_fused_slope_is_the_ramp(w_max):
    """``w(y) = w_max * (1 - k * min(y, R))`` with ``k = ramp_slope(R, w_max)``: the form the fused
    AMNL loss uses is the linear weight, at every RUL (both sides of the cap)."""
    y = np.linspace(0.0, 300.0, 601)
    k = ramp_slope(R_MAX, w_max)
    np.testing.assert_allclose(w_max * (1.0 - k * np.minimum(y, R_MAX)), linear_weight(y, w_max=w_max),
                               rtol=1e-14, atol=1e-14)
