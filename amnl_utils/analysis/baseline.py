"""A deterministic NumPy baseline for RUL: least squares on the last cycle of each window (§14.3).

§14.3 needs *real* residuals ``r_i = yhat_i - y_i`` to look at the per-sample gradient of a batch,
without training a network (and without a random initialisation). The baseline predicts the RUL of
a window from its last cycle only, linearly in the 14 z-scored sensors plus an intercept::

    yhat = [1, x_T] @ beta,     beta = argmin_b || [1, X_T] b - y ||²

fitted on the training windows by ``numpy.linalg.lstsq``. It is a weak model (it sees one cycle
and no trend), which is the point: its residuals have the spread of an early-training network.
"""

from __future__ import annotations

import numpy as np

from ..core.weights import check_rul


def last_cycle_design(X: np.ndarray) -> np.ndarray:
    """Design matrix ``[1, x_T]``: X (N, T, F) windows -> (N, F + 1) float64, intercept first."""
    X = np.asarray(X)
    if X.ndim != 3 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty (N, T, F) array of windows, got shape {X.shape}")
    last = X[:, -1, :].astype(np.float64)
    if not np.isfinite(last).all():
        raise ValueError("X has non-finite values in the last cycle of some window")
    return np.column_stack([np.ones(len(last)), last])


def fit_last_cycle(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares coefficients ``beta`` (F + 1,): intercept (cycles), then cycles per sensor unit.

    X: (N, T, F) windows (z-scored sensors); y: (N,) true capped RUL in cycles. Raises
    ``ValueError`` if there are fewer windows than coefficients.
    """
    A = last_cycle_design(X)
    y = check_rul(y, "y")
    if y.shape != (A.shape[0],):
        raise ValueError(f"y must have shape ({A.shape[0]},) to match X, got {y.shape}")
    if A.shape[0] < A.shape[1]:
        raise ValueError(f"need at least {A.shape[1]} windows to fit {A.shape[1]} coefficients, got {A.shape[0]}")
    beta, *_ = np.linalg.lstsq(A, y, rcond=None)
    return beta


def predict_last_cycle(beta: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Predicted RUL (N,) in cycles of windows X (N, T, F) under coefficients ``beta`` (F + 1,)."""
    A = last_cycle_design(X)
    beta = np.asarray(beta, dtype=np.float64)
    if beta.shape != (A.shape[1],):
        raise ValueError(f"beta must have shape ({A.shape[1]},) for {A.shape[1] - 1} features, got {beta.shape}")
    return A @ beta


def baseline_batch(data, batch_size: int = 256, seed: int = 0):
    """§14.3's batch: the first training batch of ``data`` (a prepared subset, its loader shuffled by
    ``seed``) and the residuals (cycles) on it of the last-cycle baseline fitted to all of ``data``'s
    training windows. Returns ``(x, y, h, y_batch, residual)``: the loader's tensors, then ``y`` as
    float64 and ``prediction - y_batch``, both (batch_size,)."""
    x, y, h = next(iter(data.loader("train", batch_size=batch_size, seed=seed)))
    y_batch = y.numpy().astype(np.float64)
    beta = fit_last_cycle(data.X_train, data.y_train)
    return x, y, h, y_batch, predict_last_cycle(beta, x.numpy()) - y_batch
