"""§14.2's design-constraint checks and per-schedule gradient shares (amnl_utils.analysis.schedule_design).

Expected values are derived by hand from each schedule's formula (its derivative, its endpoints),
not read off the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from amnl_utils.analysis.gradients import gradient_share
from amnl_utils.analysis.schedule_design import (
    comparison_frame,
    constraints_frame,
    design_constraints,
    free_parameters,
    gradient_shares,
    key_numbers,
    resolve,
    shape,
    weights_of,
)
from amnl_utils.core.weights import EXP_RATE, SCHEDULES, SIGMOID_CENTRE, SIGMOID_STEEPNESS, STEP_AT, mean_weight, ramp


def quadratic_weight(y, max_rul=125.0, w_max=2.0, power=2.0):
    """A reader's schedule: the ramp raised to a power (one shape parameter)."""
    return 1.0 + (w_max - 1.0) * ramp(np.asarray(y, dtype=float), max_rul) ** power


@pytest.fixture(scope="module")
def y() -> np.ndarray:
    """Synthetic capped training RUL: one ramp per engine, many windows at the cap."""
    lives = np.random.default_rng(0).integers(130, 360, size=40)
    return np.concatenate([np.minimum(np.arange(n)[::-1], 125) for n in lives]).astype(np.float64)


# --------------------------------------------------------------------------- slopes by hand


@pytest.mark.parametrize("w_max, max_rul", [(2.0, 125.0), (5.0, 100.0), (1.5, 200.0)])
def test_linear_slope_is_rise_over_run(w_max, max_rul):
    c = design_constraints("linear", w_max=w_max, max_rul=max_rul)
    assert c["continuous"] and c["jump"] == 0
    assert c["max_slope"] == pytest.approx((w_max - 1) / max_rul, rel=1e-6)
    assert (c["w_at_0"], c["w_at_r_max"]) == (pytest.approx(w_max), pytest.approx(1.0))


def test_exponential_slope_is_largest_at_failure():
    # shape(y) = (exp(-k y/R) - exp(-k)) / (1 - exp(-k)); |shape'(0)| = k / (R (1 - exp(-k)))
    k, w_max, r = EXP_RATE, 3.0, 125.0
    expected = (w_max - 1) * k / (r * (1 - math.exp(-k)))
    assert design_constraints("exponential", w_max=w_max)["max_slope"] == pytest.approx(expected, rel=1e-3)


def test_sigmoid_slope_is_largest_at_its_centre():
    # s(u) = 1/(1 + exp(a (u - c))): |s'| is largest at u = c, a/4 per unit u; rescaled by s(0) - s(1)
    a, cen, w_max, r = SIGMOID_STEEPNESS, SIGMOID_CENTRE, 2.0, 125.0
    s0, s1 = 1 / (1 + math.exp(-a * cen)), 1 / (1 + math.exp(a * (1 - cen)))
    expected = (w_max - 1) * (a / 4) / (r * (s0 - s1))
    assert design_constraints("sigmoid", w_max=w_max)["max_slope"] == pytest.approx(expected, rel=1e-3)


def test_step_is_reported_as_a_jump_not_a_slope():
    c = design_constraints("step", w_max=4.0)
    assert not c["continuous"] and math.isnan(c["max_slope"])
    assert c["jump"] == pytest.approx(3.0)
    assert c["jump_at"] == pytest.approx(STEP_AT * 125.0, abs=0.01)
    assert c["monotone"] and c["bounded"]


def test_constant_has_no_tilt():
    c = design_constraints("constant", w_max=3.0)
    assert c["max_slope"] == 0 and c["w_at_0"] == 1.0 and c["continuous"] and c["free_parameters"] == 0


def test_no_tilted_schedule_is_less_steep_than_linear():
    # from w_max at 0 to 1 at R_max, some point must fall at least (w_max - 1) / R_max per cycle
    floor = (2.0 - 1.0) / 125.0
    for sched in ("linear", "exponential", "sigmoid", quadratic_weight):
        assert design_constraints(sched)["max_slope"] >= floor * (1 - 1e-9)


# --------------------------------------------------------------------------- constraints that fail


def test_a_jump_anywhere_is_found():
    def late_step_weight(y, max_rul=125.0, w_max=2.0):
        return np.where(np.asarray(y) < 10.0, float(w_max), 1.0)

    c = design_constraints(late_step_weight)
    assert not c["continuous"] and c["jump_at"] == pytest.approx(10.0, abs=0.01)


def test_a_hump_is_not_monotone():
    def hump_weight(y, max_rul=125.0, w_max=2.0):
        u = ramp(np.asarray(y, dtype=float), max_rul)
        return 1.0 + (w_max - 1.0) * 4 * u * (1 - u)  # 1 at failure, w_max at R/2, 1 at R

    c = design_constraints(hump_weight)
    assert not c["monotone"] and c["bounded"] and c["continuous"]


def test_an_overshoot_is_not_bounded():
    def overshoot_weight(y, max_rul=125.0, w_max=2.0):
        return 1.0 + (w_max - 1.0) * 1.5 * ramp(np.asarray(y, dtype=float), max_rul)

    c = design_constraints(overshoot_weight)
    assert not c["bounded"] and c["monotone"]


# --------------------------------------------------------------------------- parameters, shape, names


def test_free_parameters():
    assert {n: len(free_parameters(n)) for n in SCHEDULES} == {
        "constant": 0, "linear": 0, "exponential": 1, "sigmoid": 2, "step": 1}
    assert free_parameters(quadratic_weight) == {"power": 2.0}
    assert design_constraints(quadratic_weight)["free_parameters"] == 1

    def no_default_weight(y, max_rul=125.0, w_max=2.0, *, k):
        return np.ones_like(y)

    with pytest.raises(ValueError, match="needs a default"):
        free_parameters(no_default_weight)
    with pytest.raises(ValueError, match="must accept w_max"):
        free_parameters(lambda y, max_rul=125.0: y)


def test_resolve_names():
    assert resolve(quadratic_weight)[0] == "quadratic"
    assert resolve("step")[0] == "step"
    with pytest.raises(ValueError, match="unknown schedule"):
        resolve("cubic")
    with pytest.raises(ValueError, match="a name"):
        resolve(3.0)


def test_shape_is_the_ramp_for_linear_and_rejects_non_affine_schedules():
    y = np.array([0.0, 25.0, 100.0, 125.0, 300.0])
    np.testing.assert_allclose(shape("linear", y), [1.0, 0.8, 0.2, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(shape("step", y), [1.0, 1.0, 0.0, 0.0, 0.0])

    def power_weight(y, max_rul=125.0, w_max=2.0):
        return w_max ** ramp(np.asarray(y, dtype=float), max_rul)  # 1 ... w_max, but not 1 + (w_max-1) shape

    with pytest.raises(ValueError, match="not of the form"):
        shape(power_weight, y)


def test_bad_arguments():
    with pytest.raises(ValueError, match="step must be"):
        design_constraints("linear", step=0.0)
    with pytest.raises(ValueError, match="w_max must be"):
        design_constraints("linear", w_max=0.5)
    with pytest.raises(ValueError, match="negative"):
        weights_of("linear", np.array([-1.0]))
    with pytest.raises(ValueError, match="returned shape"):
        weights_of(lambda y, max_rul=125.0, w_max=2.0: np.ones(3), np.ones(2))


# --------------------------------------------------------------------------- shares on windows


def test_shares_by_hand_for_the_step():
    # step weights 2, 2 (RUL <= 50) and 1, 1: the near-failure bucket holds 4 of the 6 weight units
    y = np.array([0.0, 15.0, 125.0, 125.0])
    shares = gradient_shares(y, "step", w_max=2.0)
    assert shares["RUL ≤ 30"] == pytest.approx(4 / 6)
    assert shares["RUL > 80"] == pytest.approx(2 / 6)
    assert shares["30 < RUL ≤ 80"] == 0.0


@pytest.mark.parametrize("name", list(SCHEDULES))
@pytest.mark.parametrize("w_max", [1.0, 2.0, 4.5])
def test_shares_equal_gradients_module(y, name, w_max):
    ref = gradient_share(y, w_max=w_max, name=name)
    got = gradient_shares(y, name, w_max=w_max)
    assert got == pytest.approx({k: v["gradient"] for k, v in ref.items()}, abs=1e-12)


def test_a_callable_copy_of_linear_gives_linear_numbers(y):
    def my_linear_weight(y, max_rul=125.0, w_max=2.0):
        return 1.0 + (w_max - 1.0) * ramp(np.asarray(y, dtype=float), max_rul)

    assert gradient_shares(y, my_linear_weight, 3.0) == pytest.approx(gradient_shares(y, "linear", 3.0))
    assert design_constraints(my_linear_weight)["max_slope"] == pytest.approx(design_constraints("linear")["max_slope"])


def test_comparison_frame(y):
    frame = comparison_frame(y, [*SCHEDULES, quadratic_weight])
    assert list(frame.index) == [*SCHEDULES, "quadratic"]
    for name in SCHEDULES:
        assert frame.loc[name, "mean weight"] == pytest.approx(mean_weight(y, name=name), abs=5e-4)
    assert np.allclose(frame.drop(columns="mean weight").sum(axis=1), 100, atol=0.15)
    # constant puts exactly the windows' share on every bucket
    windows = [100 * np.mean(y <= 30), 100 * np.mean((y > 30) & (y <= 80)), 100 * np.mean(y > 80)]
    np.testing.assert_allclose(frame.loc["constant"].drop("mean weight"), windows, atol=0.05)


def test_constraints_frame_rows():
    frame = constraints_frame()
    assert list(frame.index) == list(SCHEDULES)
    assert frame.loc["step", "continuous"] == "no"
    assert frame.loc["step", "max slope (weight per cycle)"] == "jump of 1.00 at RUL 50"
    assert frame.loc["linear", "max slope (weight per cycle)"] == "0.0080"
    assert frame["free parameters"].tolist() == [0, 0, 1, 2, 1]


def test_key_numbers(y):
    k = key_numbers(y)
    assert k["slope_linear"] == "0.0080" and k["step_jump_at"] == "50"
    # the exponential is k / (1 - e^-k) = 5.03 times steeper than linear at its steepest
    assert k["slope_ratio_exponential"] == f"{EXP_RATE / (1 - math.exp(-EXP_RATE)):.1f}"
    assert k["near_share_windows"] == f"{100 * np.mean(y <= 30):.1f}"
