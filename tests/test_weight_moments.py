"""E[w] and E[w²] of the linear AMNL weight: closed form, exact integration, SymPy, Monte Carlo and
real labels held to each other and to values worked out by hand (amnl_utils.analysis.weight_moments)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from amnl_utils.analysis.weight_moments import (
    exact_uniform_moment,
    label_moment,
    moment_table,
    monte_carlo_moment,
    symbolic_moment,
    uniform_mean_weight,
    uniform_second_moment,
)


def test_closed_form_by_hand():
    # w_max = 2: w = 2 - u, ∫(2 - u)² du = [-(2 - u)³/3]_0^1 = (8 - 1)/3
    assert uniform_second_moment(2.0) == pytest.approx(7 / 3)
    assert uniform_second_moment(1.0) == 1.0  # plain MSE: every weight 1
    assert uniform_second_moment(3.0) == pytest.approx(13 / 3)
    assert uniform_mean_weight(2.0) == 1.5


def test_exact_integration_by_hand():
    assert exact_uniform_moment(2.0, 2) == Fraction(7, 3)
    # w_max = 3/2: (1 + 3/2 + 9/4) / 3 = 19/12, exactly
    assert exact_uniform_moment(1.5, 2) == Fraction(19, 12)
    # ∫(2 - u)³ du = [-(2 - u)⁴/4]_0^1 = 15/4
    assert exact_uniform_moment(2.0, 3) == Fraction(15, 4)
    assert exact_uniform_moment(7.0, 0) == 1 and exact_uniform_moment(7.0, 1) == 4


@pytest.mark.parametrize("w_max", [1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 12.0])
def test_closed_form_equals_exact_integration(w_max):
    assert uniform_second_moment(w_max) == pytest.approx(float(exact_uniform_moment(w_max, 2)), rel=1e-15)
    assert uniform_mean_weight(w_max) == pytest.approx(float(exact_uniform_moment(w_max, 1)), rel=1e-15)


def test_symbolic_integration_gives_the_closed_form():
    sp = pytest.importorskip("sympy")
    w = sp.Symbol("w_max", positive=True)
    assert sp.simplify(symbolic_moment(2) - (1 + w + w**2) / 3) == 0
    assert sp.simplify(symbolic_moment(1) - (1 + w) / 2) == 0


@pytest.mark.parametrize("w_max", [2.0, 5.0])
def test_monte_carlo_agrees_within_its_error(w_max):
    est, se = monte_carlo_moment(w_max, n=200_000, seed=3)
    assert abs(est - uniform_second_moment(w_max)) < 4 * se
    assert monte_carlo_moment(w_max, n=1000, seed=1) == monte_carlo_moment(w_max, n=1000, seed=1)
    assert monte_carlo_moment(w_max, n=1000, seed=1) != monte_carlo_moment(w_max, n=1000, seed=2)


def test_label_moment_by_hand():
    # half the labels at failure (w = w_max), half at the cap (w = 1): E[w²] = (w_max² + 1) / 2
    y = np.array([0.0, 0.0, 125.0, 125.0])
    assert label_moment(y, 3.0) == pytest.approx(5.0)
    assert label_moment(y, 3.0, power=1) == pytest.approx(2.0)
    # labels spread evenly over [0, R_max] approach the uniform closed form
    assert label_moment(np.linspace(0, 125, 100_001), 4.0) == pytest.approx(uniform_second_moment(4.0), rel=1e-4)


def test_capped_labels_lower_the_moment():
    y = np.minimum(np.random.default_rng(0).integers(0, 300, 5000), 125).astype(float)
    rows = moment_table(y, w_maxes=(1.0, 2.0, 5.0), n=20_000)
    assert [r["w_max"] for r in rows] == [1.0, 2.0, 5.0]
    assert rows[0]["real / uniform"] == pytest.approx(1.0)
    assert all(r["real / uniform"] < 1 for r in rows[1:])
    assert rows[2]["E[w²] exact"] == pytest.approx(31 / 3)


def test_bad_input():
    with pytest.raises(ValueError, match="power"):
        exact_uniform_moment(2.0, -1)
    with pytest.raises(ValueError, match="w_max"):
        uniform_second_moment(0.5)
    with pytest.raises(ValueError, match="n must be"):
        monte_carlo_moment(2.0, n=1)
    with pytest.raises(ValueError, match="empty"):
        label_moment(np.array([]), 2.0)
