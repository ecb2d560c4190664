"""Per-sample weight schedules w(y) over the true RUL y (§14.1 and §14.2 of the book).

Every schedule maps a true RUL ``y`` (cycles, ``>= 0``) to a weight in ``[1, w_max]``: ``w_max`` at
failure (``y = 0``), falling to 1 at ``y >= R_max`` (the clip floor: a healthy engine is never
weighted *below* plain MSE). The linear schedule is AMNL's; the others are the alternatives that
§14.2 compares, each scaled to the same range so the comparison is fair.

The ramp is written once (:func:`ramp`, for NumPy arrays and torch tensors alike); every schedule maps
its decay shape onto ``[1, w_max]`` through :func:`from_shape`. The PyTorch twins
(:func:`linear_weight_torch`, :func:`schedule_weight_torch`) sit at the end, beside the NumPy ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from .constants import R_MAX, W_MAX

if TYPE_CHECKING:  # torch is optional for the numpy-only install
    import torch

#: Decay rate of the exponential schedule: ``exp(-EXP_RATE * y / R_max)`` (value at y = R_max ~ 0.7 %).
EXP_RATE: float = 5.0
#: Steepness of the sigmoid schedule in units of 1/R_max, and its centre as a fraction of R_max.
SIGMOID_STEEPNESS: float = 10.0
SIGMOID_CENTRE: float = 0.5
#: The step schedule gives ``w_max`` for ``y <= STEP_AT * R_max`` and 1 above.
STEP_AT: float = 0.4


def check_schedule_args(max_rul: float, w_max: float) -> None:
    """Raise ``ValueError`` unless ``max_rul > 0`` and ``w_max >= 1`` (both finite)."""
    if not np.isfinite(max_rul) or max_rul <= 0:
        raise ValueError(f"max_rul must be a finite number > 0 (cycles), got {max_rul!r}")
    if not np.isfinite(w_max) or w_max < 1:
        raise ValueError(
            f"w_max must be a finite number >= 1 (1 recovers plain MSE), got {w_max!r}"
        )


def check_rul(y: np.ndarray, name: str = "target") -> np.ndarray:
    """Return ``y`` as a float64 array; raise ``ValueError`` on NaN/inf or negative RUL."""
    y = np.asarray(y, dtype=np.float64)
    bad = ~np.isfinite(y)
    if bad.any():
        raise ValueError(f"{name} has {int(bad.sum())} non-finite values (NaN or inf); RUL must be finite")
    neg = y < 0
    if neg.any():
        raise ValueError(
            f"{name} has {int(neg.sum())} negative values (min {float(y.min())}); RUL must be >= 0"
        )
    return y


def ramp(y, max_rul: float = R_MAX):
    """The linear ramp ``clip(1 - y / max_rul, 0, 1)``: 1 at failure, 0 from ``max_rul`` on.

    y: NumPy array or torch tensor of true RUL in cycles, any shape; the result has y's type, shape
    and dtype. This is the one definition of the ramp: the NumPy weights, the PyTorch weights of
    :mod:`amnl_utils.core.losses` and the payloads of the interactive figures all call it (the figures'
    JavaScript is checked against it by a test). No validation here; callers check their input.
    """
    return (1.0 - y / max_rul).clip(0.0, 1.0)


def from_shape(shape, w_max: float = W_MAX):
    """Map a decay shape in ``[0, 1]`` (1 at failure) onto weights in ``[1, w_max]``:
    ``1 + (w_max - 1) * shape``.

    shape: a number, NumPy array or torch tensor (any shape); the result has its type and shape.
    Every schedule is of this form, which is why the figures can recompute any ``w_max`` from one
    shape sum.
    """
    return 1.0 + (w_max - 1.0) * shape


def ramp_slope(max_rul: float = R_MAX, w_max: float = W_MAX) -> float:
    """The ramp's slope in the form the fused AMNL loss uses: ``k`` with ``w(y) / w_max = 1 - k * min(y, max_rul)``.

    For ``y >= 0``, ``1 + (w_max - 1) * clip(1 - y/R, 0, 1) = w_max * (1 - k * min(y, R))`` with
    ``k = (w_max - 1) / (w_max * R)`` (1 / cycles); the loss of :mod:`amnl_utils.core.losses` then
    needs one fused multiply-add per sample. A test holds this form to :func:`linear_weight`.
    """
    return (w_max - 1.0) / (w_max * max_rul)


def linear_weight(y: np.ndarray, max_rul: float = R_MAX, w_max: float = W_MAX) -> np.ndarray:
    """AMNL weight ``w(y) = 1 + (w_max - 1) * clip(1 - y / max_rul, 0, 1)``.

    y: (...) true RUL in cycles, ``>= 0``. Returns float64 weights of the same shape, in
    ``[1, w_max]``: ``w_max`` at ``y = 0``, 1 for ``y >= max_rul``.
    """
    check_schedule_args(max_rul, w_max)
    return from_shape(ramp(check_rul(y), max_rul), w_max)


def constant_weight(y: np.ndarray, max_rul: float = R_MAX, w_max: float = W_MAX) -> np.ndarray:
    """Plain MSE as a schedule: weight 1 everywhere (``w_max`` is ignored; it has no tilt)."""
    check_schedule_args(max_rul, w_max)
    return np.ones_like(check_rul(y))


def exponential_weight(y: np.ndarray, max_rul: float = R_MAX, w_max: float = W_MAX) -> np.ndarray:
    """Exponential decay, rescaled so that it is exactly ``w_max`` at 0 and 1 at ``y >= max_rul``.

    shape(y) = (exp(-k y / R) - exp(-k)) / (1 - exp(-k)) for y < R, 0 beyond; k = ``EXP_RATE``.
    """
    check_schedule_args(max_rul, w_max)
    y = check_rul(y)
    k = EXP_RATE
    u = np.clip(y / max_rul, 0.0, 1.0)
    shape = (np.exp(-k * u) - np.exp(-k)) / (1.0 - np.exp(-k))
    return from_shape(shape, w_max)


def sigmoid_weight(y: np.ndarray, max_rul: float = R_MAX, w_max: float = W_MAX) -> np.ndarray:
    """Logistic decay centred at ``SIGMOID_CENTRE * max_rul``, rescaled to hit ``w_max`` at 0 and 1 at ``max_rul``.

    shape(y) = (s(y) - s(R)) / (s(0) - s(R)), s(y) = 1 / (1 + exp(a (y/R - 1/2))), a =
    ``SIGMOID_STEEPNESS``; clipped to 0 for ``y >= max_rul``.
    """
    check_schedule_args(max_rul, w_max)
    y = check_rul(y)
    a = SIGMOID_STEEPNESS
    u = np.clip(y / max_rul, 0.0, 1.0)

    def s(v: np.ndarray | float) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(a * (np.asarray(v) - SIGMOID_CENTRE)))

    shape = (s(u) - s(1.0)) / (s(0.0) - s(1.0))
    return from_shape(shape, w_max)


def step_weight(y: np.ndarray, max_rul: float = R_MAX, w_max: float = W_MAX) -> np.ndarray:
    """Two-level step: ``w_max`` for ``y <= STEP_AT * max_rul`` (50 cycles at R=125), 1 above."""
    check_schedule_args(max_rul, w_max)
    y = check_rul(y)
    return np.where(y <= STEP_AT * max_rul, float(w_max), 1.0)


#: Shape parameters of each schedule beyond R_max and w_max, with their values (§14.2 counts them).
SHAPE_PARAMETERS: dict[str, dict[str, float]] = {
    "constant": {},
    "linear": {},
    "exponential": {"rate": EXP_RATE},
    "sigmoid": {"steepness": SIGMOID_STEEPNESS, "centre (fraction of R_max)": SIGMOID_CENTRE},
    "step": {"threshold (fraction of R_max)": STEP_AT},
}

#: Name -> schedule, in the order §14.2 presents them.
SCHEDULES: dict[str, Callable[..., np.ndarray]] = {
    "constant": constant_weight,
    "linear": linear_weight,
    "exponential": exponential_weight,
    "sigmoid": sigmoid_weight,
    "step": step_weight,
}


def schedule(name: str) -> Callable[..., np.ndarray]:
    """Look a schedule up by name (one of :data:`SCHEDULES`)."""
    try:
        return SCHEDULES[name]
    except KeyError:
        raise ValueError(f"unknown schedule {name!r}; choose one of {sorted(SCHEDULES)}") from None


def mean_weight(y: np.ndarray, max_rul: float = R_MAX, w_max: float = W_MAX, name: str = "linear") -> float:
    """Average weight over a set of targets ``y`` (e.g. all training windows).

    This is the *scale* AMNL adds on top of its tilt: the scaled-MSE control multiplies plain MSE by
    exactly this number (§14.1, §14.4).
    """
    return float(np.mean(schedule(name)(y, max_rul=max_rul, w_max=w_max)))


def unclipped_linear_weight(y: np.ndarray, max_rul: float = R_MAX, w_max: float = W_MAX) -> np.ndarray:
    """PITFALL, not AMNL: the linear ramp *without* the clip floor.

    ``1 + (w_max - 1) * (1 - y / max_rul)`` falls below 1 for ``y > max_rul`` (and below 0 for
    ``y > 2 * max_rul`` at ``w_max = 2``), so healthy targets would be down-weighted or even pushed
    the wrong way. Shown in §14.1 to motivate the clip.
    """
    check_schedule_args(max_rul, w_max)
    return from_shape(1.0 - check_rul(y) / max_rul, w_max)


# --------------------------------------------------------------------------- PyTorch twins


def linear_weight_torch(target: "torch.Tensor", max_rul: float = R_MAX, w_max: float = W_MAX) -> "torch.Tensor":
    """PyTorch twin of :func:`linear_weight` (no gradient flows through it).

    target: (...) true RUL in cycles. Returns weights of the same shape and dtype, in ``[1, w_max]``.
    """
    import torch  # lazy: torch is optional (the numpy-only install never calls this)

    check_schedule_args(max_rul, w_max)
    with torch.no_grad():
        return from_shape(ramp(target, max_rul), w_max)


def schedule_weight_torch(target: "torch.Tensor", name: str, max_rul: float = R_MAX, w_max: float = W_MAX) -> "torch.Tensor":
    """Per-sample weights of any schedule of :data:`SCHEDULES` for a target batch, as a tensor.

    target: (B,) true RUL, in the same unit as ``max_rul``. The NumPy schedule is the one
    definition; this evaluates it (in float64) and returns a tensor of target's dtype and device
    (no gradient).
    """
    import torch  # lazy: torch is optional (the numpy-only install never calls this)

    y = target.detach().cpu().double().numpy()
    w = schedule(name)(y, max_rul=max_rul, w_max=w_max)
    return torch.from_numpy(w).to(device=target.device, dtype=target.dtype)
