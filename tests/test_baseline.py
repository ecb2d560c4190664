"""The last-cycle least-squares baseline of §14.3 (amnl_utils.analysis.baseline)."""

from __future__ import annotations

import numpy as np
import pytest

from amnl_utils.analysis.baseline import fit_last_cycle, last_cycle_design, predict_last_cycle


def windows(n=60, t=5, f=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, t, f)).astype(np.float32)


def test_recovers_an_exact_linear_rule():
    X = windows()
    beta = np.array([60.0, 10.0, -5.0, 2.5])
    y = 60.0 + X[:, -1, :].astype(float) @ beta[1:]
    assert (y >= 0).all()
    fitted = fit_last_cycle(X, y)
    np.testing.assert_allclose(fitted, beta, atol=1e-8)
    np.testing.assert_allclose(predict_last_cycle(fitted, X), y, atol=1e-8)


def test_equals_the_normal_equations_and_ignores_earlier_cycles():
    X = windows(seed=1)
    y = np.random.default_rng(2).uniform(0, 125, len(X))
    A = np.column_stack([np.ones(len(X)), X[:, -1, :].astype(float)])
    expected = np.linalg.solve(A.T @ A, A.T @ y)
    np.testing.assert_allclose(fit_last_cycle(X, y), expected, rtol=1e-9)
    X2 = X.copy()
    X2[:, :-1, :] = 0.0  # only the last cycle enters
    np.testing.assert_allclose(fit_last_cycle(X2, y), expected, rtol=1e-9)


def test_design_has_an_intercept_first():
    X = windows(n=2, t=2, f=2)
    A = last_cycle_design(X)
    assert A.shape == (2, 3) and (A[:, 0] == 1).all()
    np.testing.assert_array_equal(A[:, 1:], X[:, -1, :])


def test_bad_input():
    X = windows(n=3)
    with pytest.raises(ValueError, match="at least 4 windows"):
        fit_last_cycle(X, np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        fit_last_cycle(windows(), np.ones(5))
    with pytest.raises(ValueError, match=r"\(N, T, F\)"):
        last_cycle_design(np.ones((3, 4)))
    with pytest.raises(ValueError, match="negative"):
        fit_last_cycle(windows(), -np.ones(60))
    bad = windows()
    bad[0, -1, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        last_cycle_design(bad)
    with pytest.raises(ValueError, match="beta must have shape"):
        predict_last_cycle(np.ones(2), windows())
