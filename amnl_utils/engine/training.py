"""Training one DualTaskModel on one subset with one RUL loss, under the book's protocol.

The Methods page of the book states the recipe; :class:`TrainConfig` holds every setting of it.

* Total loss ``0.5 · L_rul + 0.5 · CE`` (:class:`~amnl_utils.engine.model.FixedWeightLoss`). The RUL term
  regresses ``y / rul_unit`` — prediction and target both in units of ``rul_unit`` cycles — so that
  it is commensurate with the cross-entropy (in cycles² it would be ~10⁴ × the CE). At
  ``rul_unit = R_max`` an RMSE of 15 cycles is a loss of about 0.014 against a CE of about 0.4;
  the unit is a recipe choice, made on validation engines. Every number shown to a reader is in
  cycles.
* The RUL loss is chosen by name: ``"mse"``, ``"scaled_mse"`` (MSE × the mean weight of the
  schedule over the *training* windows, the scale-only control) or ``"amnl"`` (the per-sample
  weighted MSE with the plain batch mean; ``schedule="linear"`` is AMNL itself, the other schedules
  of :data:`amnl_utils.core.weights.SCHEDULES` are the alternatives of §14.2), or one of §14.5's
  rivals (:mod:`amnl_utils.core.rivals`): ``"lds"`` (weights from the training labels' smoothed
  density), ``"bmc"`` (Balanced MSE, σ = 12.5 cycles) or ``"pinball"`` (τ = ``quantile``).
* Adam, a linear warm-up then cosine decay of the learning rate per step, gradient clipping at
  ``clip_norm`` (the record says how often it bound). An epoch is one full shuffled pass over the
  training windows.
* After each epoch the model is scored on **all** windows of the validation engines (RMSE in
  cycles, the same criterion for every arm); the best epoch's weights are kept and training stops
  after ``patience`` epochs without improvement. The test engines are evaluated once, with the
  selected weights: their last windows, and every test window whose true RUL is known to be ≤ 30.
* Everything random is seeded through :func:`amnl_utils.core.seeding.seed_everything`: for a given seed
  all arms start from the same initial weights, hold out the same validation engines and see the
  same batches. On one machine, with one thread, a run is bit-for-bit repeatable.
"""

from __future__ import annotations

import copy
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from ..cmapss.prepare import PreparedData, prepare
from ..core import metrics as M
from ..core.constants import R_MAX, W_MAX
from ..core.losses import (
    NonFinitePredictionError,
    moderate_weighted_mse_loss,
    scaled_mse_loss,
    weighted_mse_loss,
)
from ..core.optional import require
from ..core.rivals import BMC_SIGMA, bmc_loss, lds_bin_weights, lds_weighted_mse_loss, pinball_loss
from ..core.seeding import seed_everything
from ..core.weights import mean_weight, schedule_weight_torch
from .config import RUL_LOSSES, TrainConfig
from .model import (
    RUL_SCALE,
    DualTaskModel,
    FixedWeightLoss,
    parameter_table,
    preset_summary,
)

torch = require("torch", "training")

#: Submodules of the shared trunk (both heads read its output z); the gradient balance is measured here.
TRUNK: tuple[str, ...] = ("cnn", "bilstm", "attention", "attn_norm", "funnel")


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


def keep_freed_memory() -> bool:
    """Ask glibc's allocator to keep freed memory instead of returning it to the system.

    A training step allocates and frees the same few-megabyte buffers every time; when glibc hands
    them back to the kernel, each step pays page faults to zero them again. This changes no number,
    only speed. Returns whether the call took effect (False on a non-glibc system).
    """
    if platform.system() != "Linux":
        return False
    try:
        import ctypes  # lazy: libc is reached only on Linux, once per process

        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    ok_trim = libc.mallopt(m_trim_threshold, 1 << 30)
    ok_mmap = libc.mallopt(m_mmap_threshold, 1 << 25)  # 32 MiB, glibc's largest allowed value
    return bool(ok_trim and ok_mmap)


def make_rul_loss(
    name: str,
    y_train: np.ndarray,
    w_max: float = W_MAX,
    max_rul: float = R_MAX,
    schedule_name: str = "linear",
    unit: float = 1.0,
    quantile: float = 0.5,
) -> tuple[Callable[[torch.Tensor, torch.Tensor], torch.Tensor], float]:
    """The RUL loss ``f(pred, target) -> 0-d tensor`` for a name, and its scale.

    y_train: (N,) capped RUL of all training windows, cycles. ``unit``: the unit of ``pred`` and
    ``target`` in cycles (1 for cycles; training uses ``R_MAX``, i.e. both divided by 125, so that
    the weight ramp ends at ``max_rul / unit``). ``scale`` is the mean weight of the schedule over
    the training windows (``weights.mean_weight``; about 1.36 on FD001 for AMNL at w_max = 2): the
    factor of the ``scaled_mse`` control. It is returned for every arm so that it is recorded
    everywhere. ``"lds"`` bins the targets by whole cycles (``target · unit``); ``"bmc"`` and
    ``"pinball"`` (at τ = ``quantile``) take their scale in ``unit``.
    """
    scale = mean_weight(y_train, max_rul=max_rul, w_max=w_max, name=schedule_name)
    r = max_rul / unit
    if name == "mse":
        return (lambda p, t: torch.nn.functional.mse_loss(p, t)), scale
    if name == "scaled_mse":
        return (lambda p, t: scaled_mse_loss(p, t, scale)), scale
    if name == "amnl" and schedule_name == "linear":
        return (lambda p, t: moderate_weighted_mse_loss(p, t, max_rul=r, w_max=w_max)), scale
    if name == "amnl":
        return (lambda p, t: weighted_mse_loss(p, t, schedule_weight_torch(t, schedule_name, r, w_max))), scale
    if name == "lds":
        bins = torch.as_tensor(lds_bin_weights(y_train, max_rul=max_rul), dtype=torch.float32)
        return (lambda p, t: lds_weighted_mse_loss(p, t, bins.to(p.device), unit)), scale
    if name == "bmc":
        return (lambda p, t: bmc_loss(p, t, BMC_SIGMA / unit)), scale
    if name == "pinball":
        return (lambda p, t: pinball_loss(p, t, quantile)), scale
    raise ValueError(f"unknown RUL loss {name!r}; choose one of {list(RUL_LOSSES)}")


@torch.no_grad()
def predict(
    model: DualTaskModel, X: np.ndarray, batch_size: int = 4096, max_rul: float = R_MAX
) -> tuple[np.ndarray, np.ndarray]:
    """Predictions in eval mode. X: (N, T, F). Returns rul (N,) float64 cycles, health (N,) int64 class.

    The RUL is clipped to ``[0, max_rul]``: every true (capped) label lies there, so the clip can
    only shrink an error.
    """
    model.eval()
    dev = next(model.parameters()).device
    ruls, hs = [], []
    for i in range(0, len(X), batch_size):
        r, logits = model(torch.as_tensor(X[i : i + batch_size], device=dev))
        ruls.append(r.clamp(0.0, max_rul).double().cpu().numpy())
        hs.append(logits.argmax(1).cpu().numpy())
    if not ruls:
        return np.empty(0), np.empty(0, np.int64)
    return np.concatenate(ruls), np.concatenate(hs).astype(np.int64)


@dataclass
class TrainResult:
    """What :func:`train` returns: the selected model and a JSON-ready record of the run."""

    model: DualTaskModel
    record: dict[str, Any] = field(default_factory=dict)


def trunk_parameters(model: DualTaskModel) -> list[torch.Tensor]:
    """The trainable parameters of the shared trunk (:data:`TRUNK`), in module order."""
    return [p for name in TRUNK for p in getattr(model, name).parameters() if p.requires_grad]


def gradient_balance(
    model: DualTaskModel, rul_term: torch.Tensor, ce_term: torch.Tensor
) -> tuple[float, float]:
    """Norms of the trunk gradient coming from each weighted term: ``(|∇ rul_term|, |∇ ce_term|)``.

    rul_term, ce_term: the two 0-d summands of the total loss (already multiplied by their fixed
    weights), with their graph retained. Reads the gradients without touching ``.grad``.
    """
    params = trunk_parameters(model)
    g_rul = torch.autograd.grad(rul_term, params, retain_graph=True)
    g_ce = torch.autograd.grad(ce_term, params, retain_graph=True)
    norm = lambda gs: float(torch.sqrt(sum((g.double() ** 2).sum() for g in gs)))  # noqa: E731
    return norm(g_rul), norm(g_ce)


def train_step(
    model: DualTaskModel,
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    rul_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    combine: FixedWeightLoss,
    optimizer: torch.optim.Optimizer,
    clip_norm: float = 1.0,
    measure_balance: bool = False,
    unit: float = RUL_SCALE,
) -> dict[str, float]:
    """One optimisation step on a batch ``(x (B,T,F), y (B,) cycles, h (B,) class)``.

    The RUL loss sees the prediction and the target in units of ``unit`` cycles (default R_max; the
    loss must be built for the same unit, see :func:`make_rul_loss`). Returns the step's ``loss``,
    ``rul_loss`` (in units²), ``ce``, the gradient norm before clipping and
    whether the clip bound; with ``measure_balance`` also ``balance_rul``/``balance_ce``, the trunk
    gradient norms of the two weighted terms (:func:`gradient_balance`). A non-finite loss skips
    the update and returns ``finite = False``.
    """
    model.train()
    x, y, h = batch
    pred, logits = model.forward_scaled(x)  # RUL in units of RUL_SCALE
    if unit != RUL_SCALE:
        pred = pred * (RUL_SCALE / unit)
    try:
        l_rul = rul_loss(pred, y / unit)
    except NonFinitePredictionError:  # the model's output blew up: a diverged step, as a NaN loss is
        nan = float("nan")
        return {"loss": nan, "rul_loss": nan, "ce": nan, "grad_norm": nan, "clipped": False, "finite": False}
    total, ce = combine(l_rul, logits, h)
    out = {"loss": total.item(), "rul_loss": l_rul.item(), "ce": ce.item()}
    if not math.isfinite(out["loss"]):
        return {**out, "grad_norm": float("nan"), "clipped": False, "finite": False}
    if measure_balance:
        out["balance_rul"], out["balance_ce"] = gradient_balance(
            model, combine.rul_weight * l_rul, combine.health_weight * ce
        )
    optimizer.zero_grad(set_to_none=True)
    total.backward()
    gnorm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm))
    optimizer.step()
    return {**out, "grad_norm": gnorm, "clipped": gnorm > clip_norm, "finite": math.isfinite(gnorm)}


def lr_lambda(cfg: TrainConfig, steps_per_epoch: int) -> Callable[[int], float]:
    """Multiplier of ``cfg.lr`` at optimiser step ``k`` (0-based): linear warm-up over
    ``warmup_epochs`` passes, then cosine decay to ``lr_final`` at ``max_epochs`` passes."""
    total = cfg.max_epochs * steps_per_epoch
    warm = int(round(cfg.warmup_epochs * steps_per_epoch))

    def f(k: int) -> float:
        if cfg.lr_schedule == "constant":
            return 1.0
        if k < warm:
            return (k + 1) / warm
        progress = min(1.0, (k - warm) / max(1, total - warm))
        return cfg.lr_final + (1.0 - cfg.lr_final) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return f


def prepare_for(cfg: TrainConfig, data_dir: str | None = None) -> PreparedData:
    """The :class:`~amnl_utils.cmapss.prepare.PreparedData` a config asks for (its split seed is the run's seed)."""
    return prepare(
        cfg.subset, window=cfg.window, max_rul=cfg.max_rul, val_fraction=cfg.val_fraction, seed=cfg.seed,
        data_dir=data_dir, cycle_feature=cfg.cycle_feature, decision_fold=cfg.decision_fold,
    )


def train(
    cfg: TrainConfig,
    data: Any = None,
    *,
    data_dir: str | None = None,
    progress: bool = True,
    threads: int | None = None,
    device: torch.device | str | None = None,
) -> TrainResult:
    """Train one run and evaluate it once on the test engines with the selected weights.

    data: a :class:`amnl_utils.cmapss.prepare.PreparedData` matching ``cfg`` (prepared here if ``None``).
    The record holds the config, the loss scale, per-epoch curves, the stopping point, test metrics
    and the per-engine test predictions (last windows and near-failure windows).
    """
    t0 = time.perf_counter()
    n_threads = set_threads(threads)
    keep_freed_memory()
    dev = torch.device(device) if device is not None else default_device()
    if data is None:
        data = prepare_for(cfg, data_dir)
    if data.subset != cfg.subset:
        raise ValueError(f"data is {data.subset} but the config asks for {cfg.subset}")
    if getattr(data, "decision_fold", False) != cfg.decision_fold:
        raise ValueError(f"the data's decision_fold is {getattr(data, 'decision_fold', False)} but the config asks for "
                         f"{cfg.decision_fold}; prepare the data with prepare_for(cfg)")
    if data.X_train.shape[1] != cfg.window:
        raise ValueError(f"data has windows of {data.X_train.shape[1]} cycles but the config asks for {cfg.window}")

    seed_everything(cfg.seed)
    model = DualTaskModel(cfg.preset, n_features=data.X_train.shape[2], dropout=cfg.dropout).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rul_loss, scale = make_rul_loss(
        cfg.loss, data.y_train, w_max=cfg.w_max, max_rul=cfg.max_rul, schedule_name=cfg.schedule, unit=cfg.rul_unit,
        quantile=cfg.quantile,
    )
    combine = FixedWeightLoss(cfg.rul_weight, cfg.health_weight)

    Xtr = torch.as_tensor(data.X_train, device=dev)
    ytr = torch.as_tensor(data.y_train, device=dev)
    htr = torch.as_tensor(data.h_train, device=dev)
    gen = torch.Generator().manual_seed(cfg.seed)
    steps = math.ceil(len(ytr) / cfg.batch_size)
    if cfg.max_steps_per_epoch is not None:
        steps = min(steps, cfg.max_steps_per_epoch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(cfg, steps))

    ema = WeightAverage(model, cfg.ema_decay) if cfg.ema_decay > 0 else None
    scored = ema.model if ema is not None else model  # the weights that are validated and kept

    curves: list[dict[str, float]] = []
    best = {"epoch": 0, "val_rmse": float("inf")}
    best_state = copy.deepcopy(scored.state_dict())
    since_best, diverged, n_clipped, n_steps = 0, False, 0, 0
    bar = _progress(cfg, progress)
    for epoch in range(1, cfg.max_epochs + 1):
        perm = torch.randperm(len(ytr), generator=gen)
        sums = {"loss": 0.0, "rul_loss": 0.0, "ce": 0.0, "grad_norm": 0.0}
        gmax, clipped, balance = 0.0, 0, {}
        for k in range(steps):
            idx = perm[k * cfg.batch_size : (k + 1) * cfg.batch_size].to(dev)
            out = train_step(
                model, (Xtr[idx], ytr[idx], htr[idx]), rul_loss, combine, optimizer, cfg.clip_norm,
                measure_balance=(k == 0), unit=cfg.rul_unit,
            )
            if not out["finite"]:
                diverged = True
                break
            scheduler.step()
            if ema is not None:
                ema.update(model)
            for key in sums:
                sums[key] += out[key]
            gmax = max(gmax, out["grad_norm"])
            clipped += int(out["clipped"])
            if k == 0:
                balance = {"balance_rul": out["balance_rul"], "balance_ce": out["balance_ce"]}
        if diverged:
            break
        n_clipped += clipped
        n_steps += steps
        val_pred, _ = predict(scored, data.X_val, max_rul=cfg.max_rul)
        val_rmse = M.rmse(data.y_val, val_pred)
        row = {
            "epoch": epoch,
            "lr": optimizer.param_groups[0]["lr"],
            **{f"train_{key}": v / steps for key, v in sums.items()},
            "grad_norm_max": gmax,
            "clipped_fraction": clipped / steps,
            **balance,
            "val_rmse": val_rmse,
        }
        curves.append(row)
        if val_rmse < best["val_rmse"]:
            best = {"epoch": epoch, "val_rmse": val_rmse}
            best_state = copy.deepcopy(scored.state_dict())
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
    record = {
        "config": asdict(cfg),
        "model": {**preset_summary(cfg.preset), "dropout": model.config.dropout, "n_features": int(data.X_train.shape[2]),
                  "parameters": parameter_table(model)},
        "loss_scale": scale,
        "stopping": {
            "epochs_run": len(curves),
            "best_epoch": best["epoch"],
            "best_val_rmse": best["val_rmse"],
            "hit_max_epochs": len(curves) == cfg.max_epochs and since_best < cfg.patience,
            "diverged": diverged,
            "steps_per_epoch": steps,
            "train_windows": int(len(ytr)),
            "val_windows": int(len(data.y_val)),
        },
        "clipped_fraction": n_clipped / n_steps if n_steps else float("nan"),
        "curves": curves,
        **evaluate_selected(model, data, cfg.max_rul, test=cfg.evaluate_test),
        **({"engines": engine_predictions(model, data, cfg.max_rul)} if cfg.decision_fold else {}),
        "device": str(dev),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": n_threads,
        "wall_s": time.perf_counter() - t0,
    }
    return TrainResult(model=model, record=record)


class WeightAverage:
    """Exponential moving average of a model's weights: ``avg ← decay · avg + (1 - decay) · w``
    after every step; buffers (BatchNorm statistics) are copied. ``model`` holds the average."""

    def __init__(self, model: DualTaskModel, decay: float) -> None:
        self.decay = float(decay)
        self.model = copy.deepcopy(model)
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: DualTaskModel) -> None:
        avg = list(self.model.parameters())
        torch._foreach_lerp_(avg, [p.detach() for p in model.parameters()], 1.0 - self.decay)
        for b_avg, b in zip(self.model.buffers(), model.buffers()):
            b_avg.copy_(b)


def evaluate_selected(model: DualTaskModel, data: Any, max_rul: float = R_MAX, test: bool = True) -> dict[str, Any]:
    """Validation and test metrics of the selected model, and its per-engine test predictions.

    Returns ``{"val": …, "test": …, "predictions": …}``: ``test`` holds the last-window metrics of
    :func:`amnl_utils.core.metrics.rul_metrics`, health accuracy and macro-F1, and the near-failure
    metrics over every test window with true RUL ≤ 30 (``*_all``); ``predictions`` the last-window
    predictions per engine and, under ``"nf"``, the near-failure windows' (rounded to 1e-4 cycles).
    With ``test=False`` both are ``None`` and the test windows are never read.
    """
    val_rul, val_h = predict(model, data.X_val, max_rul=max_rul)
    val = {"rmse": M.rmse(data.y_val, val_rul), "health_acc": M.accuracy(data.h_val, val_h)}
    if not test:
        return {"val": val, "test": None, "predictions": None}
    test_rul, test_h = predict(model, data.X_test, max_rul=max_rul)
    test = M.rul_metrics(data.y_test, test_rul)
    test["health_acc"] = M.accuracy(data.h_test, test_h)
    test["health_f1"] = M.macro_f1(data.h_test, test_h)
    nf_rul, _ = predict(model, data.X_test_nf, max_rul=max_rul)
    test.update(M.near_failure_window_metrics(data.y_test_nf, nf_rul, data.units_test_nf))
    return {
        "val": val,
        "test": test,
        "predictions": {
            "unit": [int(u) for u in data.units_test],
            "y_true": [float(v) for v in data.y_test],
            "y_pred": [round(float(v), 4) for v in test_rul],
            "h_true": [int(v) for v in data.h_test],
            "h_pred": [int(v) for v in test_h],
            "nf": {
                "unit": [int(u) for u in data.units_test_nf],
                "y_true": [float(v) for v in data.y_test_nf],
                "y_pred": [round(float(v), 4) for v in nf_rul],
            },
        },
    }


def engine_predictions(model: DualTaskModel, data: Any, max_rul: float = R_MAX) -> dict[str, list[dict[str, Any]]]:
    """The selected model's prediction at every cycle of the validation and decision engines
    (§14.5's policies are tuned on the first and scored on the second).

    Returns ``{"val": [...], "decision": [...]}``, one dict per engine in id order: ``unit``,
    ``rul_start`` (the uncapped true RUL at its first window, cycles; the RUL at window ``k`` is
    ``rul_start - k``) and ``y_pred`` (cycles, clipped to ``[0, max_rul]``, rounded to 0.01).
    """
    out: dict[str, list[dict[str, Any]]] = {}
    for name, X, units, raw in (("val", data.X_val, data.units_val, data.rul_val_raw),
                                ("decision", data.X_dec, data.units_dec, data.rul_dec_raw)):
        pred, _ = predict(model, X, max_rul=max_rul)
        rows = []
        for u in np.unique(units):
            at = np.flatnonzero(units == u)
            rows.append({"unit": int(u), "rul_start": int(raw[at[0]]),
                         "y_pred": [round(float(v), 2) for v in pred[at]]})
        out[name] = rows
    return out


def _progress(cfg: TrainConfig, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm  # lazy: the [data] extra, needed only to download

    label = {"mse": "mse", "lds": "lds", "bmc": "bmc", "pinball": f"pinball t{cfg.quantile:g}"}.get(
        cfg.loss, f"{cfg.loss} {cfg.schedule} w{cfg.w_max:g}")
    return tqdm(total=cfg.max_epochs, desc=f"{cfg.subset} {label} s{cfg.seed}", unit="pass", leave=False)
