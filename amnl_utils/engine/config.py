"""The configuration of one training run: every setting of the recipe, checked on construction."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.constants import R_MAX, W_MAX, WINDOW
from ..core.weights import SCHEDULES

#: The RUL losses a run can use, by name.
RUL_LOSSES: tuple[str, ...] = ("mse", "scaled_mse", "amnl", "lds", "bmc", "pinball")
#: The rivals of §14.5 (:mod:`amnl_utils.core.rivals`): they ignore ``schedule`` and ``w_max``.
RIVAL_LOSSES: tuple[str, ...] = ("lds", "bmc", "pinball")
#: Learning-rate schedules: constant, or linear warm-up followed by cosine decay.
LR_SCHEDULES: tuple[str, ...] = ("constant", "cosine")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines one training run (recorded verbatim in its result file).

    Units: ``window`` and ``rul_unit`` (the unit of the regressed RUL) in cycles; ``max_epochs``, ``warmup_epochs`` and ``patience`` in full passes
    over the training windows; ``lr`` the peak learning rate, decayed by cosine to
    ``lr * lr_final`` at ``max_epochs``. ``ema_decay > 0`` validates, selects and tests an
    exponential moving average of the weights (updated after every step) instead of the raw
    weights; 0 turns it off. ``schedule`` and ``w_max`` define the weights of
    ``"amnl"`` and the factor of ``"scaled_mse"`` (the mean weight of that schedule); MSE ignores
    them. ``evaluate_test=False`` (the tuning grids) never reads the test engines: the record then
    holds no test metrics and no test predictions. ``max_steps_per_epoch`` caps an epoch's
    mini-batches (smoke tests only). ``dropout`` overrides the preset's rate when not ``None``.
    ``quantile`` is τ of the ``"pinball"`` loss (the other losses ignore it). ``decision_fold=True``
    (§14.5) holds a fifth of the training engines out as *decision engines* — fold ``seed mod 5``
    of a fixed partition — before the validation engines are drawn from the rest; the record then
    stores the prediction at every cycle of the validation and decision engines.
    """

    subset: str = "FD001"
    loss: str = "mse"
    w_max: float = W_MAX
    schedule: str = "linear"
    preset: str = "compact"
    seed: int = 0
    window: int = WINDOW
    cycle_feature: bool = False
    rul_unit: float = R_MAX
    dropout: float | None = None
    batch_size: int = 256
    lr: float = 1e-3
    lr_schedule: str = "cosine"
    warmup_epochs: float = 1.0
    lr_final: float = 0.01
    weight_decay: float = 0.0
    ema_decay: float = 0.0
    max_epochs: int = 30
    patience: int = 10
    clip_norm: float = 1.0
    rul_weight: float = 0.5
    health_weight: float = 0.5
    val_fraction: float = 0.2
    max_rul: float = R_MAX
    evaluate_test: bool = True
    max_steps_per_epoch: int | None = None
    quantile: float = 0.5
    decision_fold: bool = False

    def __post_init__(self) -> None:
        if self.loss not in RUL_LOSSES:
            raise ValueError(f"unknown RUL loss {self.loss!r}; choose one of {list(RUL_LOSSES)}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown weight schedule {self.schedule!r}; choose one of {list(SCHEDULES)}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"unknown lr_schedule {self.lr_schedule!r}; choose one of {list(LR_SCHEDULES)}")
        for name in ("batch_size", "max_epochs", "patience", "window"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        m = self.max_steps_per_epoch
        if m is not None and (not isinstance(m, int) or m < 1):
            raise ValueError(f"max_steps_per_epoch must be a positive integer or None, got {m!r}")
        if not (self.lr > 0 and self.clip_norm > 0):
            raise ValueError(f"lr and clip_norm must be > 0, got lr={self.lr}, clip_norm={self.clip_norm}")
        if not (np.isfinite(self.rul_unit) and self.rul_unit > 0):
            raise ValueError(f"rul_unit must be a finite number of cycles > 0, got {self.rul_unit!r}")
        if self.dropout is not None and not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1) or None, got {self.dropout!r}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1) (0 = off), got {self.ema_decay!r}")
        if not (0 <= self.warmup_epochs < self.max_epochs and 0 < self.lr_final <= 1 and self.weight_decay >= 0):
            raise ValueError(
                "need 0 <= warmup_epochs < max_epochs, 0 < lr_final <= 1 and weight_decay >= 0, got "
                f"{self.warmup_epochs}, {self.lr_final}, {self.weight_decay}"
            )
        if isinstance(self.quantile, bool) or not (isinstance(self.quantile, (int, float)) and 0 < self.quantile < 1):
            raise ValueError(f"quantile must be a number strictly between 0 and 1 (τ of the pinball loss), got {self.quantile!r}")
        if not isinstance(self.decision_fold, bool):
            raise ValueError(f"decision_fold must be True or False, got {self.decision_fold!r}")
        if not (np.isfinite(self.w_max) and self.w_max >= 1):
            raise ValueError(f"w_max must be a finite number >= 1, got {self.w_max!r}")
