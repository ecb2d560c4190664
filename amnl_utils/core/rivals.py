"""The field's rivals to AMNL (§14.5): two imbalance corrections and one asymmetric loss.

NumPy references (loss and hand-derived gradient) and PyTorch twins, with the input checks of
:mod:`amnl_utils.core.losses` (same shapes, same messages). Units: prediction and target in the same
unit (cycles, or cycles / ``rul_unit`` in training); losses in that unit squared (LDS, BMC) or in
that unit (pinball).

* **LDS-weighted MSE** — label-distribution smoothing (Yang et al., ICML 2021, "Delving into Deep
  Imbalanced Regression"). The empirical label density ``n_b`` (integer-cycle bins ``b``) is
  replaced by its square root (their ``sqrt_inv`` reweighting), smoothed with a Gaussian kernel
  ``k(d) = exp(-d² / 2σ²)``, ``|d| ≤ (size - 1) / 2`` (size 5, σ 2; zero outside the label range),
  and inverted: ``w_b ∝ 1 / Σ_d k(d) √n_{b-d}``, scaled so that the mean weight over the training
  windows is 1. The loss is ``mean(w_{b(y_i)} (ŷ_i − y_i)²)``. Their reference code builds the
  kernel by filtering a delta with SciPy in reflect mode, which flattens it to (0.86, 0.95, 1, 0.95,
  0.86); we use the closed form the paper states, (0.61, 0.88, 1, 0.88, 0.61).
* **BMC** — Balanced MSE in its batch-based Monte-Carlo form (Ren et al., CVPR 2022, Algorithm 1):
  ``L = 2σ² · mean_i CE(softmax_j(−(ŷ_i − y_j)² / 2σ²), i)``, the cross-entropy of each prediction
  against the batch's own labels. It corrects for the training label distribution as seen in the
  batch. The paper learns ``σ`` or fixes it; we fix it (:data:`BMC_SIGMA`).
* **Pinball** (quantile) loss: ``mean(max(τ u, (τ − 1) u))`` with ``u = y − ŷ``. With ``τ < 0.5`` a
  late prediction (``ŷ > y``) costs ``1 − τ`` per cycle and an early one ``τ``: the minimiser is the
  τ-quantile of the RUL given the window, an earlier estimate than the mean.

Under the 125-cycle cap the training labels below the cap are uniform (one window per engine per
cycle), so the density corrections only turn the plateau down; AMNL is a cost-sensitive weight that
tilts towards failure whatever the density is.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .constants import R_MAX
from .losses import finite_loss, flat_pair_np, flat_pair_torch
from .weights import check_rul

if TYPE_CHECKING:  # torch is optional for the numpy-only install
    import torch

#: LDS kernel: size (bins) and width (bins of one cycle), the paper's defaults.
LDS_KERNEL_SIZE: int = 5
LDS_SIGMA: float = 2.0
#: BMC's noise scale in cycles: fixed at 0.1 R_max = 12.5 cycles, near the MSE runs' validation RMSE
#: (§14.5 quotes their range), the scale the paper's learned σ estimates. Not tuned.
BMC_SIGMA: float = 12.5


# --------------------------------------------------------------------------- LDS


def lds_kernel(size: int = LDS_KERNEL_SIZE, sigma: float = LDS_SIGMA) -> np.ndarray:
    """The smoothing kernel ``exp(-d² / 2σ²)`` for ``d = -(size-1)/2 … (size-1)/2``: ``(size,)``, peak 1."""
    if not (isinstance(size, int) and size >= 1 and size % 2 == 1):
        raise ValueError(f"size must be an odd positive integer number of bins, got {size!r}")
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be a finite number of bins > 0, got {sigma!r}")
    d = np.arange(size) - (size - 1) // 2
    return np.exp(-(d**2) / (2.0 * sigma**2))


def lds_bin_weights(
    y_train: np.ndarray, max_rul: float = R_MAX, size: int = LDS_KERNEL_SIZE, sigma: float = LDS_SIGMA
) -> np.ndarray:
    """LDS weight of every integer-cycle label bin ``0 … ceil(max_rul)``: ``(bins,)`` float64.

    y_train: ``(N,)`` capped training labels in cycles (rounded to the nearest cycle for binning).
    Bins no training label falls in get the weight their smoothed neighbours give (the kernel
    reaches them) or, if none does, the largest weight. Scaled so that ``mean(w[bin(y_train)]) = 1``.
    """
    y = check_rul(np.asarray(y_train).reshape(-1), "y_train")
    if y.size == 0:
        raise ValueError("y_train is empty: LDS needs the training labels to estimate their density")
    if not (np.isfinite(max_rul) and max_rul > 0):
        raise ValueError(f"max_rul must be a finite number of cycles > 0, got {max_rul!r}")
    n_bins = int(math.ceil(max_rul)) + 1
    bins = lds_bin(y, n_bins)
    root = np.sqrt(np.bincount(bins, minlength=n_bins).astype(np.float64))
    h = (size - 1) // 2  # zeros beyond the label range ("constant" mode)
    smooth = np.convolve(np.pad(root, h), lds_kernel(size, sigma), mode="valid")
    w = np.divide(1.0, smooth, out=np.zeros(n_bins), where=smooth > 0)
    w[smooth <= 0] = w.max()
    return w / w[bins].mean()


def lds_bin(y: np.ndarray, n_bins: int) -> np.ndarray:
    """The bin of each label: the nearest whole cycle, clipped to ``[0, n_bins - 1]``; int64."""
    return np.clip(np.rint(np.asarray(y, dtype=np.float64)), 0, n_bins - 1).astype(np.int64)


def lds_weighted_mse(pred: np.ndarray, target: np.ndarray, bin_weights: np.ndarray) -> tuple[float, np.ndarray]:
    """LDS-weighted MSE and its gradient. pred, target: (B,) or (B, 1) cycles; bin_weights from
    :func:`lds_bin_weights`. Returns ``(loss, grad)``, ``grad_i = (2/B) w_i (ŷ_i − y_i)``."""
    shape = np.shape(pred)
    p, t = flat_pair_np(pred, target)
    w = np.asarray(bin_weights, dtype=np.float64)[lds_bin(t, len(bin_weights))]
    r = p - t
    return float(np.mean(w * r**2)), (2.0 / r.size * w * r).reshape(shape)


def lds_weighted_mse_loss(
    pred: "torch.Tensor", target: "torch.Tensor", bin_weights: "torch.Tensor", unit: float = 1.0
) -> "torch.Tensor":
    """PyTorch twin of :func:`lds_weighted_mse`. pred, target in units of ``unit`` cycles (the bin
    of a target is ``round(target · unit)`` cycles); bin_weights: ``(bins,)`` tensor."""
    import torch  # lazy: torch is optional for the numpy-only install

    p, t = flat_pair_torch(pred, target)
    idx = torch.round(t.detach() * unit).clamp(0, bin_weights.numel() - 1).long()
    w = bin_weights.to(p.dtype)[idx]
    return finite_loss((w * (p - t).square()).mean(), p)


# --------------------------------------------------------------------------- BMC


def check_sigma(sigma: float) -> float:
    """``sigma`` as a float; ``ValueError`` unless it is finite and > 0."""
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be a finite number > 0 (the unit of pred), got {sigma!r}")
    return float(sigma)


def bmc(pred: np.ndarray, target: np.ndarray, sigma: float = BMC_SIGMA) -> tuple[float, np.ndarray]:
    """Balanced MSE, batch Monte-Carlo form, and its gradient. pred, target: (B,) or (B, 1) in one
    unit; sigma in that unit. Returns ``(loss, grad)``: with ``P_ij = softmax_j(−(ŷ_i − y_j)² / 2σ²)``,
    ``L = (2σ²/B) Σ_i −log P_ii`` and ``∂L/∂ŷ_i = (2/B) Σ_j P_ij (y_j − y_i)``."""
    sigma = check_sigma(sigma)
    shape = np.shape(pred)
    p, t = flat_pair_np(pred, target)
    logits = -((p[:, None] - t[None, :]) ** 2) / (2 * sigma**2)
    logits -= logits.max(axis=1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    P = np.exp(log_p)
    loss = -np.mean(np.diag(log_p)) * 2 * sigma**2
    grad = 2.0 / p.size * (P * (t[None, :] - t[:, None])).sum(axis=1)
    return float(loss), grad.reshape(shape)


def bmc_loss(pred: "torch.Tensor", target: "torch.Tensor", sigma: float) -> "torch.Tensor":
    """PyTorch twin of :func:`bmc` (Ren et al.'s ``bmc_loss`` with a fixed ``noise_var = σ²``)."""
    import torch  # lazy: torch is optional for the numpy-only install

    sigma = check_sigma(sigma)
    p, t = flat_pair_torch(pred, target)
    logits = -(p[:, None] - t[None, :]).square() / (2 * sigma**2)
    ce = torch.nn.functional.cross_entropy(logits, torch.arange(p.numel(), device=p.device))
    return finite_loss(ce * (2 * sigma**2), p)


# --------------------------------------------------------------------------- pinball


def check_quantile(tau: float) -> float:
    """``tau`` as a float; ``ValueError`` unless ``0 < tau < 1``."""
    if not (isinstance(tau, (int, float)) and not isinstance(tau, bool) and 0 < tau < 1):
        raise ValueError(f"tau must be a number strictly between 0 and 1 (the quantile), got {tau!r}")
    return float(tau)


def pinball(pred: np.ndarray, target: np.ndarray, tau: float) -> tuple[float, np.ndarray]:
    """Pinball loss and its (sub)gradient. pred, target: (B,) or (B, 1) in one unit. Returns
    ``(loss, grad)``: ``L = mean(max(τ u, (τ − 1) u))``, ``u = y − ŷ``; ``∂L/∂ŷ_i = (1 − τ)/B`` when
    late (``ŷ > y``), ``−τ/B`` when early and ``(1 − 2τ)/(2B)`` when exact (PyTorch splits the
    gradient of a tied ``max`` evenly)."""
    tau = check_quantile(tau)
    shape = np.shape(pred)
    p, t = flat_pair_np(pred, target)
    u = t - p
    grad = np.where(u < 0, 1 - tau, np.where(u > 0, -tau, (1 - 2 * tau) / 2)) / p.size
    return float(np.mean(np.maximum(tau * u, (tau - 1) * u))), grad.reshape(shape)


def pinball_loss(pred: "torch.Tensor", target: "torch.Tensor", tau: float) -> "torch.Tensor":
    """PyTorch twin of :func:`pinball`."""
    import torch  # lazy: torch is optional for the numpy-only install

    tau = check_quantile(tau)
    p, t = flat_pair_torch(pred, target)
    u = t - p
    return finite_loss(torch.maximum(tau * u, (tau - 1) * u).mean(), p)
