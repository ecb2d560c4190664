"""Training one DualTaskModel on one subset with one RUL loss, under the book's protocol (SPEC §3, §4).

* Adam(lr=1e-3), total loss ``0.5 · L_rul + 0.5 · CE`` (:class:`~amnl_utils.model.FixedWeightLoss`),
  gradient clipping at max-norm 1.0.
* The RUL loss is chosen by name: ``"mse"``, ``"scaled_mse"`` (MSE × the mean AMNL weight over the
  *training* windows, the scale-only control) or ``"amnl"`` (:func:`moderate_weighted_mse_loss`).
* An "epoch" is ``steps_per_epoch`` shuffled mini-batches (``None``: one full pass). After each
  epoch the model is scored on the **validation engines** (RMSE on the capped RUL, the same
  criterion for every arm, so selection does not favour one loss); the best epoch's weights are
  kept, training stops after ``patience`` epochs without improvement. The test engines are
  evaluated once, with the selected weights.
* Everything random is seeded through :func:`amnl_utils.seeding.seed_everything`: for a given seed the
  three arms start from the same initial weights and see the same batches.
"""

from __future__ import annotations

import copy
import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from . import metrics as M
from .constants import R_MAX, W_MAX
from .losses import moderate_weighted_mse_loss, scaled_mse_loss
from .model import DualTaskModel, FixedWeightLoss, parameter_table, preset_summary
from .seeding import seed_everything
from .weights import mean_weight

#: The RUL losses a run can use, by name.
RUL_LOSSES: tuple[str, ...] = ("mse", "scaled_mse", "amnl")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines one training run (recorded verbatim in its result file).

    steps_per_epoch: mini-batches per epoch (``None`` = one full pass over the training windows).
    max_val_windows: score validation on at most this many windows (a fixed seeded subset of the
    validation engines' windows; ``None`` = all) to keep the per-epoch check cheap on a CPU.
    """

    subset: str = "FD001"
    loss: str = "mse"
    w_max: float = W_MAX
    preset: str = "compact"
    seed: int = 0
    batch_size: int = 256
    lr: float = 1e-3
    max_epochs: int = 25
    steps_per_epoch: int | None = 50
    patience: int = 8
    clip_norm: float = 1.0
    rul_weight: float = 0.5
    health_weight: float = 0.5
    val_fraction: float = 0.2
    max_val_windows: int | None = 4096
    max_rul: float = R_MAX

    def __post_init__(self) -> None:
        if self.loss not in RUL_LOSSES:
            raise ValueError(f"unknown RUL loss {self.loss!r}; choose one of {list(RUL_LOSSES)}")
        for name in ("batch_size", "max_epochs", "patience"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if self.steps_per_epoch is not None and (not isinstance(self.steps_per_epoch, int) or self.steps_per_epoch < 1):
            raise ValueError(f"steps_per_epoch must be a positive integer or None, got {self.steps_per_epoch!r}")
        if not (self.lr > 0 and self.clip_norm > 0):
            raise ValueError(f"lr and clip_norm must be > 0, got lr={self.lr}, clip_norm={self.clip_norm}")


def default_device() -> torch.device:
    """CUDA if a GPU is visible, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def set_threads(n: int | None = None) -> int:
    """Set torch's intra-op threads (default: all cores, at most 4 — the LSTM gains little beyond).

    Run parallel jobs with ``n = 1`` each so that they do not fight over the cores.
    """
    if n is None:
        n = max(1, min(4, os.cpu_count() or 1))
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"threads must be a positive integer, got {n!r}")
    torch.set_num_threads(n)
    return n


def make_rul_loss(
    name: str, y_train: np.ndarray, w_max: float = W_MAX, max_rul: float = R_MAX
) -> tuple[Callable[[torch.Tensor, torch.Tensor], torch.Tensor], float]:
    """The RUL loss ``f(pred, target) -> 0-d tensor`` for a name, and its scale.

    y_train: (N,) capped RUL of all training windows, cycles. ``scale`` is the mean AMNL weight over
    them (``weights.mean_weight``; about 1.36 on FD001 at w_max = 2): the factor of the
    ``scaled_mse`` control. It is returned for every arm so that it is recorded everywhere.
    """
    scale = mean_weight(y_train, max_rul=max_rul, w_max=w_max)
    if name == "mse":
        return (lambda p, t: torch.nn.functional.mse_loss(p, t)), scale
    if name == "scaled_mse":
        return (lambda p, t: scaled_mse_loss(p, t, scale)), scale
    if name == "amnl":
        return (lambda p, t: moderate_weighted_mse_loss(p, t, max_rul=max_rul, w_max=w_max)), scale
    raise ValueError(f"unknown RUL loss {name!r}; choose one of {list(RUL_LOSSES)}")


@torch.no_grad()
def predict(model: DualTaskModel, X: np.ndarray, batch_size: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Predictions in eval mode. X: (N, T, F). Returns rul (N,) float64 cycles, health (N,) int64 class."""
    model.eval()
    dev = next(model.parameters()).device
    ruls, hs = [], []
    for i in range(0, len(X), batch_size):
        r, logits = model(torch.as_tensor(X[i : i + batch_size], device=dev))
        ruls.append(r.double().cpu().numpy())
        hs.append(logits.argmax(1).cpu().numpy())
    return np.concatenate(ruls), np.concatenate(hs).astype(np.int64)


def evaluate(model: DualTaskModel, X: np.ndarray, y: np.ndarray, h: np.ndarray) -> dict[str, Any]:
    """All metrics of :mod:`amnl_utils.metrics` on one split: RUL metrics plus health acc / macro-F1."""
    rul, hp = predict(model, X)
    out = M.rul_metrics(y, rul)
    out["health_acc"] = M.accuracy(h, hp)
    out["health_f1"] = M.macro_f1(h, hp)
    return out


@dataclass
class TrainResult:
    """What :func:`train` returns: the selected model and a JSON-ready record of the run."""

    model: DualTaskModel
    record: dict[str, Any] = field(default_factory=dict)


def train_step(
    model: DualTaskModel,
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    rul_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    combine: FixedWeightLoss,
    optimizer: torch.optim.Optimizer,
    clip_norm: float = 1.0,
) -> dict[str, float]:
    """One optimisation step on a batch ``(x (B,T,F), y (B,) cycles, h (B,) class)``.

    Returns the step's ``loss``, ``rul_loss``, ``ce`` and the gradient norm before clipping.
    """
    model.train()
    x, y, h = batch
    pred, logits = model(x)
    l_rul = rul_loss(pred, y)
    total, ce = combine(l_rul, logits, h)
    optimizer.zero_grad(set_to_none=True)
    total.backward()
    gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
    optimizer.step()
    return {"loss": total.item(), "rul_loss": l_rul.item(), "ce": ce.item(), "grad_norm": gnorm.item()}


def train(
    cfg: TrainConfig,
    data: Any = None,
    *,
    data_dir: str | None = None,
    progress: bool = True,
    threads: int | None = None,
    device: torch.device | str | None = None,
    max_batches: int | None = None,
) -> TrainResult:
    """Train one run and evaluate it once on the test engines with the selected weights.

    data: a :class:`amnl_utils.data.PreparedData` (prepared here with ``cfg.seed`` as split seed if
    ``None``). max_batches: stop every epoch after this many batches (for smoke tests only).
    The record holds the config, the loss scale, per-epoch curves, best epoch, test metrics and the
    per-engine test predictions.
    """
    t0 = time.perf_counter()
    n_threads = set_threads(threads)
    dev = torch.device(device) if device is not None else default_device()
    if data is None:
        from .data import prepare

        data = prepare(cfg.subset, max_rul=cfg.max_rul, val_fraction=cfg.val_fraction, seed=cfg.seed, data_dir=data_dir)
    if data.subset != cfg.subset:
        raise ValueError(f"data is {data.subset} but the config asks for {cfg.subset}")

    rng = seed_everything(cfg.seed)
    model = DualTaskModel(cfg.preset, n_features=data.X_train.shape[2]).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    rul_loss, scale = make_rul_loss(cfg.loss, data.y_train, w_max=cfg.w_max, max_rul=cfg.max_rul)
    combine = FixedWeightLoss(cfg.rul_weight, cfg.health_weight)

    Xtr = torch.as_tensor(data.X_train, device=dev)
    ytr = torch.as_tensor(data.y_train, device=dev)
    htr = torch.as_tensor(data.h_train, device=dev)
    n_val = len(data.y_val)
    vidx = np.arange(n_val)
    if cfg.max_val_windows is not None and n_val > cfg.max_val_windows:
        vidx = np.sort(rng.choice(n_val, size=cfg.max_val_windows, replace=False))
    Xva, yva = data.X_val[vidx], data.y_val[vidx]
    gen = torch.Generator().manual_seed(cfg.seed)
    full = math.ceil(len(ytr) / cfg.batch_size)
    steps = full if cfg.steps_per_epoch is None else cfg.steps_per_epoch
    if max_batches is not None:
        steps = min(steps, max_batches)

    curves: list[dict[str, float]] = []
    best = {"epoch": 0, "val_rmse": float("inf")}
    best_state = copy.deepcopy(model.state_dict())
    since_best = 0
    perm = torch.randperm(len(ytr), generator=gen)
    pos = 0
    bar = _progress(cfg, progress)
    for epoch in range(1, cfg.max_epochs + 1):
        sums = {"loss": 0.0, "rul_loss": 0.0, "ce": 0.0, "grad_norm": 0.0}
        for _ in range(steps):
            if pos >= len(perm):  # next pass over the data, reshuffled
                perm, pos = torch.randperm(len(ytr), generator=gen), 0
            idx = perm[pos : pos + cfg.batch_size].to(dev)
            pos += cfg.batch_size
            out = train_step(model, (Xtr[idx], ytr[idx], htr[idx]), rul_loss, combine, optimizer, cfg.clip_norm)
            for k in sums:
                sums[k] += out[k]
        val_pred, _ = predict(model, Xva)
        val_rmse = M.rmse(yva, val_pred)
        row = {"epoch": epoch, **{f"train_{k}": v / steps for k, v in sums.items()}, "val_rmse": val_rmse}
        curves.append(row)
        if val_rmse < best["val_rmse"]:
            best = {"epoch": epoch, "val_rmse": val_rmse}
            best_state = copy.deepcopy(model.state_dict())
            since_best = 0
        else:
            since_best += 1
        if bar is not None:
            bar.update(1)
            bar.set_postfix(val_rmse=f"{val_rmse:.2f}", best=f"{best['val_rmse']:.2f}@{best['epoch']}")
        if since_best >= cfg.patience:
            break
    if bar is not None:
        bar.close()

    model.load_state_dict(best_state)
    test_rul, test_h = predict(model, data.X_test)
    test = M.rul_metrics(data.y_test, test_rul)
    test["health_acc"] = M.accuracy(data.h_test, test_h)
    test["health_f1"] = M.macro_f1(data.h_test, test_h)
    val_rul, val_h = predict(model, data.X_val)
    val = {"rmse": M.rmse(data.y_val, val_rul), "health_acc": M.accuracy(data.h_val, val_h)}

    record = {
        "config": asdict(cfg),
        "model": {**preset_summary(cfg.preset), "parameters": parameter_table(model)},
        "loss_scale": scale,
        "stopping": {
            "epochs_run": len(curves),
            "best_epoch": best["epoch"],
            "best_val_rmse": best["val_rmse"],
            "hit_max_epochs": len(curves) == cfg.max_epochs and since_best < cfg.patience,
            "steps_per_epoch": steps,
            "windows_per_epoch": min(steps * cfg.batch_size, len(ytr)) if cfg.steps_per_epoch is None else steps * cfg.batch_size,
            "train_windows": int(len(ytr)),
            "val_windows_scored_per_epoch": int(len(vidx)),
        },
        "curves": curves,
        "val": val,
        "test": test,
        "predictions": {
            "unit": [int(u) for u in data.units_test],
            "y_true": [float(v) for v in data.y_test],
            "y_pred": [round(float(v), 4) for v in test_rul],
            "h_true": [int(v) for v in data.h_test],
            "h_pred": [int(v) for v in test_h],
        },
        "device": str(dev),
        "threads": n_threads,
        "wall_s": time.perf_counter() - t0,
    }
    return TrainResult(model=model, record=record)


def _progress(cfg: TrainConfig, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=cfg.max_epochs, desc=f"{cfg.subset} {cfg.loss} s{cfg.seed}", unit="ep", leave=False)
