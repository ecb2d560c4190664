"""Plain and AMNL-weighted MSE: NumPy (loss + hand-derived gradient) and PyTorch twins (§14.1).

AMNL loss over a batch of B samples::

    L = (1/B) * sum_i w(y_i) * (yhat_i - y_i)^2,     w(y) = 1 + (w_max - 1) * clip(1 - y/R_max, 0, 1)
    dL/dyhat_i = (2/B) * w(y_i) * (yhat_i - y_i)

The reduction is a *plain mean over the batch*, not ``sum(w * sq) / sum(w)``: with the plain mean a
batch rich in near-failure samples carries a larger loss (and gradient); the normalised form divides
that signal away. Plain MSE is the same with ``w = 1``.

Bad input is refused the same way by the NumPy and the PyTorch functions: shapes other than
``(B,)`` or ``(B, 1)``, mismatched sizes, empty batches, non-finite predictions, non-finite or
negative targets raise ``ValueError`` with the same messages. The PyTorch functions take
floating-point tensors only: an integer or boolean tensor raises ``TypeError`` (cast it with
``.float()``); nothing is cast silently.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .constants import R_MAX, W_MAX
from .weights import check_rul, check_schedule_args, linear_weight, ramp_slope

if TYPE_CHECKING:  # torch is optional for the numpy-only install
    import torch


class NonFinitePredictionError(ValueError):
    """Predictions with NaN or inf: the loss is undefined (training counts the run as diverged)."""


def non_finite_message(n_bad: int) -> str:
    """The one message for non-finite predictions, shared by the NumPy and PyTorch losses."""
    return f"pred has {n_bad} non-finite values (NaN or inf); the loss is undefined"


def flat_pair_np(pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate a (pred, target) pair of shape (B,) or (B, 1); return both as float64 (B,)."""
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    for name, a in (("pred", pred), ("target", target)):
        if not (a.ndim == 1 or (a.ndim == 2 and a.shape[1] == 1)):
            raise ValueError(f"{name} must have shape (B,) or (B, 1), got {a.shape}")
    if pred.size != target.size:
        raise ValueError(
            f"pred and target differ in size: pred {pred.shape} vs target {target.shape}; "
            "pass one prediction per target"
        )
    if pred.size == 0:
        raise ValueError("empty batch: pred and target have 0 elements; the mean is undefined")
    if not np.isfinite(pred).all():
        raise NonFinitePredictionError(non_finite_message(int((~np.isfinite(pred)).sum())))
    return pred.reshape(-1), check_rul(target.reshape(-1))


def uniform_mse(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Plain MSE and its gradient with respect to the predictions.

    pred, target: (B,) or (B, 1), RUL in cycles. Returns ``(loss, grad)`` with ``loss`` in
    cycles^2 and ``grad`` of pred's shape: ``grad_i = (2/B) * (pred_i - target_i)``.
    """
    shape = np.shape(pred)
    p, t = flat_pair_np(pred, target)
    r = p - t
    return float(np.mean(r**2)), (2.0 / r.size * r).reshape(shape)


def amnl_weighted_mse(
    pred: np.ndarray, target: np.ndarray, max_rul: float = R_MAX, w_max: float = W_MAX
) -> tuple[float, np.ndarray, np.ndarray]:
    """AMNL loss, its per-sample weights and its gradient with respect to the predictions.

    pred, target: (B,) or (B, 1), RUL in cycles (target >= 0, finite). Returns ``(loss, weights,
    grad)``: ``loss = mean(w * (pred - target)^2)`` in cycles^2; ``weights`` (B,) in ``[1, w_max]``;
    ``grad`` of pred's shape, ``grad_i = (2/B) * w_i * (pred_i - target_i)``.
    """
    check_schedule_args(max_rul, w_max)
    shape = np.shape(pred)
    p, t = flat_pair_np(pred, target)
    w = linear_weight(t, max_rul=max_rul, w_max=w_max)
    r = p - t
    return float(np.mean(w * r**2)), w, (2.0 / r.size * w * r).reshape(shape)


def normalised_weighted_mse(
    pred: np.ndarray, target: np.ndarray, max_rul: float = R_MAX, w_max: float = W_MAX
) -> float:
    """PITFALL, not AMNL: ``sum(w * sq) / sum(w)``, the weight-normalised mean.

    pred, target: (B,) or (B, 1) RUL in cycles. Dividing by ``sum(w)`` cancels the batch-level
    signal: a batch whose samples all share one weight gives exactly plain MSE, whatever that
    weight is. Shown in §14.1 next to :func:`amnl_weighted_mse`.
    """
    p, t = flat_pair_np(pred, target)
    w = linear_weight(t, max_rul=max_rul, w_max=w_max)
    return float(np.sum(w * (p - t) ** 2) / np.sum(w))


# --------------------------------------------------------------------------- PyTorch twins


def flat_pair_torch(pred: "torch.Tensor", target: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
    """Validate a (pred, target) tensor pair of shape (B,) or (B, 1); return both flattened (B,)."""
    import torch  # lazy: torch is optional for the numpy-only install

    for name, a in (("pred", pred), ("target", target)):
        if not isinstance(a, torch.Tensor):
            raise ValueError(f"{name} must be a torch.Tensor, got {type(a).__name__}")
        if not a.is_floating_point():
            raise TypeError(
                f"{name} is a {a.dtype} tensor; the AMNL losses take floating-point tensors only "
                f"(nothing is cast silently): pass {name}.float()"
            )
        if not (a.dim() == 1 or (a.dim() == 2 and a.shape[1] == 1)):
            raise ValueError(f"{name} must have shape (B,) or (B, 1), got {tuple(a.shape)}")
    if pred.numel() != target.numel():
        raise ValueError(
            f"pred and target differ in size: pred {tuple(pred.shape)} vs target {tuple(target.shape)}; "
            "pass one prediction per target"
        )
    if pred.numel() == 0:
        raise ValueError("empty batch: pred and target have 0 elements; the mean is undefined")
    t = target.detach()
    lo, hi = torch.aminmax(t)  # one pass: NaN propagates into both, inf shows in one of them
    lo_v, hi_v = float(lo), float(hi)
    if not (np.isfinite(lo_v) and np.isfinite(hi_v)):
        n_bad = int((~torch.isfinite(t)).sum())
        raise ValueError(f"target has {n_bad} non-finite values (NaN or inf); RUL must be finite")
    if lo_v < 0:
        n_neg = int((t < 0).sum())
        raise ValueError(f"target has {n_neg} negative values (min {lo_v}); RUL must be >= 0")
    return pred.reshape(-1), target.reshape(-1)


def finite_loss(loss: "torch.Tensor", p: "torch.Tensor") -> "torch.Tensor":
    """Return ``loss``; if it is not finite, raise the NumPy functions' error (non-finite ``p``) or say it overflowed."""
    value = float(loss.detach())
    if math.isfinite(value):
        return loss
    n_bad = int((~p.detach().isfinite()).sum())
    if n_bad:
        raise NonFinitePredictionError(non_finite_message(n_bad))
    raise ValueError(f"the loss overflowed to {value} with finite inputs; predictions are far too large "
                     f"(max |pred| {float(p.detach().abs().max()):.3g}): check the model's output scale")


def weight_vector(weight: "torch.Tensor | float", n: int) -> "torch.Tensor | float":
    """A scalar weight as it is; a tensor weight as ``(n,)`` if it has ``n`` elements. Never broadcast."""
    import torch  # lazy: torch is optional for the numpy-only install

    if not isinstance(weight, torch.Tensor):
        if not np.isfinite(weight):
            raise ValueError(f"weight must be finite, got {weight!r}")
        return float(weight)
    if weight.dim() == 0:
        return weight
    if weight.numel() != n:
        raise ValueError(
            f"weight has shape {tuple(weight.shape)} ({weight.numel()} elements) but the batch has {n} samples; "
            "pass one weight per sample, shape (B,) or (B, 1), or a scalar (weights are never broadcast)"
        )
    return weight.reshape(n)


def weighted_mse_loss(pred: "torch.Tensor", target: "torch.Tensor", weight: "torch.Tensor | float") -> "torch.Tensor":
    """``mean(weight * (pred - target)^2)`` over the batch: the plain-mean reduction AMNL uses.

    pred, target: (B,) or (B, 1); weight: a scalar, or a tensor with B elements (``(B,)`` or
    ``(B, 1)``, reshaped to ``(B,)``; any other shape is refused, never broadcast). Returns a 0-d
    tensor with autograd.
    """
    p, t = flat_pair_torch(pred, target)
    w = weight_vector(weight, p.numel())
    return finite_loss((w * (p - t).square()).mean(), p)


def _amnl_function():
    """The autograd function behind :func:`moderate_weighted_mse_loss` (built on first use).

    Same maths as ``mean(w * (p - t)^2)``, in fewer passes over the batch: with ``tc = min(t, R)``
    and ``k = (w_max - 1) / (w_max R)``, ``w / w_max = 1 - k tc``, so ``v = r (1 - k tc)`` is one
    ``addcmul``; the loss is ``w_max * dot(v, r) / B`` and the backward pass needs only ``v``:
    ``dL/dp = (2 w_max / B) v``. (Targets are checked to be >= 0 before, so no lower clip is needed.)
    """
    global _AMNL_FN
    if _AMNL_FN is None:
        import torch  # lazy: torch is optional for the numpy-only install

        class _AMNLWeightedMSE(torch.autograd.Function):
            @staticmethod
            def forward(ctx, p, t, max_rul, w_max):  # type: ignore[override]
                r = p - t
                k = ramp_slope(max_rul, w_max)
                v = torch.addcmul(r, r, t.detach().clamp(max=max_rul), value=-k)
                ctx.save_for_backward(v)
                ctx.scale = 2.0 * w_max / r.numel()
                return torch.dot(v, r) * (w_max / r.numel())

            @staticmethod
            def backward(ctx, grad_out):  # type: ignore[override]
                (v,) = ctx.saved_tensors
                g = v * (grad_out * ctx.scale)
                return g, (-g if ctx.needs_input_grad[1] else None), None, None

        _AMNL_FN = _AMNLWeightedMSE
    return _AMNL_FN


_AMNL_FN = None


def moderate_weighted_mse_loss(
    pred: "torch.Tensor", target: "torch.Tensor", max_rul: float = R_MAX, w_max: float = W_MAX
) -> "torch.Tensor":
    """AMNL loss in PyTorch, a drop-in for ``F.mse_loss(pred, target)``.

    pred: (B,) or (B, 1) predicted RUL in cycles; target: same size, true (capped) RUL, finite and
    ``>= 0``. Returns a 0-d tensor ``mean(w(target) * (pred - target)^2)`` with autograd (the weight
    is a constant of the target, as in :func:`amnl_utils.core.weights.linear_weight_torch`); its gradient equals
    :func:`amnl_weighted_mse`'s NumPy gradient. ``w_max = 1`` is exactly MSE. Raises
    ``ValueError`` on mismatched sizes, empty batches, non-finite predictions, non-finite or negative targets,
    ``max_rul <= 0`` or ``w_max < 1``.
    """
    check_schedule_args(max_rul, w_max)
    p, t = flat_pair_torch(pred, target)
    if p.dtype != t.dtype:  # promote like the elementwise formula would
        import torch  # lazy: torch is optional for the numpy-only install

        dtype = torch.promote_types(p.dtype, t.dtype)
        p, t = p.to(dtype), t.to(dtype)
    return finite_loss(_amnl_function().apply(p, t, float(max_rul), float(w_max)), p)


def scaled_mse_loss(pred: "torch.Tensor", target: "torch.Tensor", scale: float) -> "torch.Tensor":
    """The scale-only control: ``scale * MSE``, with ``scale`` = AMNL's mean weight on the training set.

    It has AMNL's average emphasis of the RUL term but no tilt towards failure (§14.4).
    """
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
    p, t = flat_pair_torch(pred, target)
    return finite_loss(scale * (p - t).square().mean(), p)
