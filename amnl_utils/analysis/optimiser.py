"""§14.3: what the optimiser sees when ``w_max`` changes, shown with small deterministic runs.

Every run here is tiny (a linear model on one real batch, or one forward/backward pass of the
``compact`` DualTaskModel) and seeded through :func:`amnl_utils.core.seeding.seed_everything`, in float64
where the maths is the point. Three facts are shown, not asserted:

1. **Scale.** Adam's update ``m_hat / (sqrt(v_hat) + eps)`` does not change (up to ``eps``) when every
   gradient is multiplied by ``c > 0``, i.e. when the loss is; plain SGD's update is multiplied by c.
2. **Tilt.** ``w_max`` changes the *relative* weight of the samples of a batch: the direction of the
   gradient and the point the optimiser converges to; in the dual-task sum ``0.5 L_rul + 0.5 CE``
   it also changes the balance between the two terms (:func:`dual_task_balance`).
3. **Clipping.** A global-norm clip rescales the whole gradient to norm ``clip_norm`` when it binds,
   so the gradient Adam receives then depends on the loss scale: Adam's invariance is broken through
   those steps, and only through them.

The linear model: ``yhat / R_max = [1, x_T] @ theta`` on the last cycle of each window (the design of
:mod:`amnl_utils.analysis.baseline`), regressing ``y / R_max`` as training does (``rul_unit = R_max``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..core.constants import R_MAX, RUL_BUCKETS, W_MAX
from ..core.losses import moderate_weighted_mse_loss
from ..core.optional import require
from ..core.seeding import seed_everything
from ..core.weights import check_rul, linear_weight, mean_weight
from .baseline import last_cycle_design

torch = require("torch", "the optimiser demonstrations")

#: Optimisers of the demonstrations, by name.
OPTIMISERS: tuple[str, ...] = ("adam", "sgd")
#: Learning rates of the demonstrations: Adam's default-sized step, and an SGD rate at which plain
#: MSE on the linear problem is stable (below its limit ``2 / lambda_max``, see :func:`sgd_stability_limit`).
LR: dict[str, float] = {"adam": 1e-2, "sgd": 3e-2}


@dataclass(frozen=True)
class LinearProblem:
    """One real batch as a linear least-squares problem.

    ``A``: (B, P) float64 tensor, the design ``[1, x_T]``; ``target``: (B,) float64 tensor, ``y /
    unit``; ``y``: (B,) NumPy true RUL in cycles; ``unit``: cycles per unit of the regression.
    """

    A: Any
    target: Any
    y: np.ndarray
    unit: float = R_MAX


def linear_problem(X: np.ndarray, y: np.ndarray, unit: float = R_MAX) -> LinearProblem:
    """The linear problem of a batch: X (B, T, F) windows, y (B,) true capped RUL (cycles)."""
    y = check_rul(y, "y")
    A = last_cycle_design(X)
    if y.shape != (A.shape[0],):
        raise ValueError(f"y must have shape ({A.shape[0]},) to match X, got {y.shape}")
    if not (np.isfinite(unit) and unit > 0):
        raise ValueError(f"unit must be a finite number of cycles > 0, got {unit!r}")
    return LinearProblem(torch.from_numpy(A), torch.from_numpy(y / unit), y, float(unit))


def _loss(problem: LinearProblem, theta: Any, w_max: float, loss_scale: float) -> Any:
    """``loss_scale * mean(w(y) (yhat - y)²)`` in units of ``problem.unit`` (AMNL; MSE at w_max = 1)."""
    pred = problem.A @ theta
    return loss_scale * moderate_weighted_mse_loss(pred, problem.target, max_rul=R_MAX / problem.unit, w_max=w_max)


def initial_parameters(problem: LinearProblem, seed: int = 0) -> Any:
    """Seeded starting point: ``0.1 * N(0, 1)`` per coefficient, float64 (P,)."""
    seed_everything(seed)
    return 0.1 * torch.randn(problem.A.shape[1], dtype=torch.float64)


@dataclass(frozen=True)
class Trajectory:
    """A run: ``params`` (steps + 1, P) after each step (row 0: the start), ``grad_norms`` (steps,)
    of the loss gradient before clipping, ``clipped`` (steps,) whether the clip bound, ``losses``
    (steps,)."""

    params: np.ndarray
    grad_norms: np.ndarray
    clipped: np.ndarray
    losses: np.ndarray

    @property
    def diverged(self) -> bool:
        """True if a parameter left ``[-1e6, 1e6]`` or became non-finite."""
        p = self.params
        return bool(not np.isfinite(p).all() or np.abs(p).max() > 1e6)

    @property
    def max_step(self) -> float:
        """Largest change of one parameter in one step (the "effective step"), unit of theta."""
        return float(np.abs(np.diff(self.params, axis=0)).max())


def run(
    problem: LinearProblem, *, w_max: float = 1.0, loss_scale: float = 1.0, optimiser: str = "adam",
    lr: float | None = None, steps: int = 200, clip_norm: float | None = None, seed: int = 0,
) -> Trajectory:
    """Optimise the linear problem from :func:`initial_parameters` for ``steps`` full-batch steps.

    The loss is ``loss_scale`` times AMNL at ``w_max`` (plain MSE at 1). ``optimiser``: ``"adam"``
    (``torch.optim.Adam``, default betas and eps) or ``"sgd"``; ``lr`` defaults to :data:`LR`.
    ``clip_norm``: global-norm clipping (``torch.nn.utils.clip_grad_norm_``) before each step, as in
    training, or None. Stops early (and keeps what it has) once the parameters leave ``±1e6``.
    """
    if optimiser not in OPTIMISERS:
        raise ValueError(f"optimiser must be one of {OPTIMISERS}, got {optimiser!r}")
    if not (np.isfinite(loss_scale) and loss_scale > 0):
        raise ValueError(f"loss_scale must be a finite number > 0, got {loss_scale!r}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if clip_norm is not None and not clip_norm > 0:
        raise ValueError(f"clip_norm must be > 0 or None, got {clip_norm!r}")
    lr = LR[optimiser] if lr is None else lr
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: one thread is faster, and the same on every machine
    try:
        return _run(problem, w_max, loss_scale, optimiser, lr, steps, clip_norm, seed)
    finally:
        torch.set_num_threads(threads)


def _run(problem: LinearProblem, w_max: float, loss_scale: float, optimiser: str, lr: float, steps: int,
         clip_norm: float | None, seed: int) -> Trajectory:
    theta = initial_parameters(problem, seed).requires_grad_()
    opt = (torch.optim.Adam if optimiser == "adam" else torch.optim.SGD)([theta], lr=lr)
    params, norms, clipped, losses = [theta.detach().clone()], [], [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = _loss(problem, theta, w_max, loss_scale)
        loss.backward()
        norm = float(theta.grad.norm())
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_([theta], clip_norm)
        opt.step()
        params.append(theta.detach().clone())
        norms.append(norm)
        clipped.append(clip_norm is not None and norm > clip_norm)
        losses.append(float(loss.detach()))
        if not torch.isfinite(theta).all() or float(theta.detach().abs().max()) > 1e6:
            break
    return Trajectory(torch.stack(params).numpy(), np.array(norms), np.array(clipped, dtype=bool), np.array(losses))


def trajectory_gap(a: Trajectory, b: Trajectory) -> np.ndarray:
    """``max_j |theta_a[k, j] - theta_b[k, j]|`` for every step k both runs reached, (K,)."""
    k = min(len(a.params), len(b.params))
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.abs(a.params[:k] - b.params[:k]).max(axis=1)
    return np.where(np.isfinite(gap), gap, np.inf)


def scale_invariance(
    problem: LinearProblem, scales: Sequence[float] = (1.36, 10.0, 1000.0), w_max: float = W_MAX,
    steps: int = 200, clip_norm: float | None = None, seed: int = 0,
) -> list[dict[str, Any]]:
    """Optimise L and c·L (AMNL at ``w_max``) with Adam and with SGD; compare the trajectories.

    One row per optimiser and c: ``max_gap`` = the largest parameter difference over the whole
    trajectory (:func:`trajectory_gap`; inf once the c·L run diverged), and ``diverged``.
    """
    rows = []
    for optimiser in OPTIMISERS:
        ref = run(problem, w_max=w_max, optimiser=optimiser, steps=steps, clip_norm=clip_norm, seed=seed)
        for c in scales:
            other = run(problem, w_max=w_max, loss_scale=c, optimiser=optimiser, steps=steps,
                        clip_norm=clip_norm, seed=seed)
            gap = np.inf if other.diverged else float(trajectory_gap(ref, other).max())
            rows.append({"optimiser": optimiser, "c": float(c), "max_gap": gap, "diverged": other.diverged})
    return rows


def bucket_rmse(problem: LinearProblem, theta: np.ndarray) -> dict[str, float]:
    """RMSE in cycles of the linear model ``theta`` (P,) on the batch, per RUL bucket and ``"all"``."""
    pred = problem.A.numpy() @ np.asarray(theta, dtype=np.float64) * problem.unit
    err = pred - problem.y
    out = {}
    for _, label, lo, hi in RUL_BUCKETS:
        m = (problem.y > lo) & (problem.y <= hi)
        out[label] = float(np.sqrt(np.mean(err[m] ** 2))) if m.any() else float("nan")
    out["all"] = float(np.sqrt(np.mean(err**2)))
    return out


def loss_gradient(problem: LinearProblem, theta: Any, w_max: float, loss_scale: float = 1.0) -> np.ndarray:
    """Gradient (P,) of ``loss_scale`` × AMNL at ``w_max`` with respect to theta, at ``theta`` (P,)."""
    t = torch.as_tensor(np.asarray(theta, dtype=np.float64)).clone().requires_grad_()
    _loss(problem, t, w_max, loss_scale).backward()
    return t.grad.numpy().copy()


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of the angle between two non-zero vectors of one shape."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"vectors differ in shape: {a.shape} vs {b.shape}")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        raise ValueError("the cosine of a zero vector is undefined")
    return float(a @ b / (na * nb))


def tilt(
    problem: LinearProblem, y_train: np.ndarray, w_maxes: Sequence[float] = (1.0, 2.0, 5.0, 10.0),
    steps: int = 200, seed: int = 0,
) -> list[dict[str, Any]]:
    """What ``w_max`` changes under Adam: the direction of the gradient and where the run ends.

    One row per AMNL ``w_max`` and one per scaled-MSE control (``w_max = 1``, loss times the mean
    weight ``c`` of the schedule over ``y_train`` (N,), as in training): ``loss``, ``c``,
    ``cos_to_mse`` (cosine between this loss's gradient and plain MSE's at the start) and the batch
    RMSE per RUL bucket in cycles after ``steps`` Adam steps.
    """
    theta0 = initial_parameters(problem, seed).numpy()
    g_mse = loss_gradient(problem, theta0, 1.0)
    rows = []
    for w_max in w_maxes:
        for kind in ("amnl", "scaled_mse"):
            if kind == "scaled_mse" and w_max == 1.0:
                continue
            c = mean_weight(y_train, w_max=w_max)
            w, scale = (w_max, 1.0) if kind == "amnl" else (1.0, c)
            traj = run(problem, w_max=w, loss_scale=scale, optimiser="adam", steps=steps, seed=seed)
            rows.append({
                "loss": "MSE" if (kind == "amnl" and w_max == 1.0) else kind,
                "w_max": float(w_max), "c": float(c) if kind == "scaled_mse" else 1.0,
                "cos_to_mse": cosine(loss_gradient(problem, theta0, w, scale), g_mse),
                **bucket_rmse(problem, traj.params[-1]),
            })
    return rows


def hessian(problem: LinearProblem, w_max: float) -> np.ndarray:
    """Hessian (P, P) of AMNL at ``w_max`` for the linear model: ``(2/B) A^T diag(w) A``.

    The loss is quadratic in theta, so the Hessian is the same at every theta.
    """
    A = problem.A.numpy()
    w = linear_weight(problem.y, w_max=w_max)
    return 2.0 / len(w) * (A.T * w) @ A


def sgd_stability_limit(problem: LinearProblem, w_max: float) -> float:
    """Largest stable SGD learning rate on the linear problem, ``2 / lambda_max(H)``.

    Full-batch gradient descent on a quadratic converges iff ``lr * lambda_max < 2``; above it the
    step along the top eigenvector grows by ``|1 - lr * lambda_max| > 1`` every step.
    """
    return float(2.0 / np.linalg.eigvalsh(hessian(problem, w_max)).max())


def step_sizes(
    problem: LinearProblem, w_maxes: Sequence[float] = (1.0, 2.0, 3.0, 5.0, 10.0), steps: int = 200,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """The "effective step" per ``w_max``: the largest one-step parameter change under Adam and under
    SGD (each at its :data:`LR`), whether SGD diverged, and SGD's stability limit ``2 / lambda_max``."""
    rows = []
    for w_max in w_maxes:
        adam = run(problem, w_max=w_max, optimiser="adam", steps=steps, seed=seed)
        sgd = run(problem, w_max=w_max, optimiser="sgd", steps=steps, seed=seed)
        rows.append({
            "w_max": float(w_max),
            "adam_max_step": adam.max_step,
            "sgd_max_step": np.inf if sgd.diverged else sgd.max_step,
            "sgd_diverged": sgd.diverged,
            "sgd_lr_limit": sgd_stability_limit(problem, w_max),
        })
    return rows


def clipping(
    problem: LinearProblem, c: float = 10.0, clip_norm: float = 1.0, w_max: float = W_MAX, steps: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """Adam on L and on c·L, both with a global-norm clip at ``clip_norm``.

    Returns the two :class:`Trajectory` objects (``plain``, ``scaled``), the per-step
    ``gap`` (:func:`trajectory_gap`), how many steps the clip bound in each run, and
    ``first_mismatch``: the first step at which the clip bound in one run but not in the other (None
    if never). Before that step the runs agree to Adam's eps; from it on they need not.
    """
    plain = run(problem, w_max=w_max, optimiser="adam", steps=steps, clip_norm=clip_norm, seed=seed)
    scaled = run(problem, w_max=w_max, loss_scale=c, optimiser="adam", steps=steps, clip_norm=clip_norm, seed=seed)
    mismatch = np.flatnonzero(plain.clipped != scaled.clipped)
    return {
        "plain": plain,
        "scaled": scaled,
        "gap": trajectory_gap(plain, scaled),
        "clipped_plain": int(plain.clipped.sum()),
        "clipped_scaled": int(scaled.clipped.sum()),
        "first_mismatch": int(mismatch[0]) if mismatch.size else None,
    }


# --------------------------------------------------------------------------- dual-task balance


def dual_task_balance(
    x: Any, y: Any, h: Any, y_train: np.ndarray, w_maxes: Sequence[float] = (1.0, 2.0, 5.0, 12.0),
    preset: str = "compact", seed: int = 0, unit: float = R_MAX,
) -> list[dict[str, float]]:
    """Trunk gradient norms of ``0.5 L_rul`` and ``0.5 CE`` for a fresh DualTaskModel on one batch.

    x (B, T, F), y (B,) cycles, h (B,) classes: torch tensors of a real batch; y_train (N,): the
    training labels (for the scaled-MSE factor c). One forward pass (training mode, seeded) is
    shared by every row, so only the RUL loss differs: AMNL at each ``w_max`` (``make_rul_loss``,
    RUL in units of ``unit`` cycles, on ``forward_scaled``), and scaled MSE with the same mean weight
    c. Columns: ``w_max``, ``c``, ``rul_amnl``/``rul_scaled`` and ``ce`` (trunk gradient norms,
    :func:`amnl_utils.engine.training.gradient_balance`), ``ratio_amnl``/``ratio_scaled`` (RUL over CE) and
    ``total_norm_amnl`` (norm of the whole model's gradient of the AMNL total, what the gradient
    clip sees). Runs on one thread, restored afterwards.
    """
    from ..engine.model import (  # lazy: imports torch, which this module otherwise does not need
        RUL_SCALE,
        DualTaskModel,
        FixedWeightLoss,
    )
    from ..engine.training import (  # lazy: imports torch, which this module otherwise does not need
        gradient_balance,
        make_rul_loss,
    )

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        seed_everything(seed)
        model = DualTaskModel(preset, n_features=x.shape[2]).train()
        pred, logits = model.forward_scaled(x)  # RUL in units of RUL_SCALE cycles
        pred = pred * (RUL_SCALE / unit)  # ... in units of `unit`, as training.train_step does
        combine = FixedWeightLoss(0.5, 0.5)
        rows = []
        for w_max in w_maxes:
            row: dict[str, float] = {"w_max": float(w_max)}
            for kind in ("amnl", "scaled_mse"):
                loss_fn, c = make_rul_loss(kind, y_train, w_max=w_max, unit=unit)
                l_rul = loss_fn(pred, y / unit)
                total, ce = combine(l_rul, logits, h)
                g_rul, g_ce = gradient_balance(model, combine.rul_weight * l_rul, combine.health_weight * ce)
                key = "amnl" if kind == "amnl" else "scaled"
                row.update({"c": float(c), f"rul_{key}": g_rul, "ce": g_ce, f"ratio_{key}": g_rul / g_ce})
                if kind == "amnl":
                    grads = torch.autograd.grad(total, list(model.parameters()), retain_graph=True)
                    row["total_norm_amnl"] = float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads)))
            rows.append(row)
        return rows
    finally:
        torch.set_num_threads(threads)


# --------------------------------------------------------------------------- the numbers §14.3 quotes


def key_numbers(
    moments: Sequence[dict[str, float]], spread: Sequence[dict[str, float]], scale: Sequence[dict[str, Any]],
    tilt_rows: Sequence[dict[str, Any]], steps: Sequence[dict[str, Any]], clip: dict[str, Any],
    balance: Sequence[dict[str, float]], gap_bound: float = 1e-6, end_bound: float = 1e-4,
) -> dict[str, str]:
    """The numbers §14.3's prose quotes, formatted, from the results of the functions that made them.

    moments: :func:`amnl_utils.analysis.weight_moments.moment_table`; spread:
    :func:`amnl_utils.analysis.gradients.gradient_spread`; scale: :func:`scale_invariance`; tilt_rows:
    :func:`tilt`; steps: :func:`step_sizes`; clip: :func:`clipping`; balance:
    :func:`dual_task_balance`. Keys carry the ``w_max`` they belong to (``tail_w3``). Raises
    ``ValueError`` if a statement the prose makes does not hold for these results: every Adam gap
    below ``gap_bound``, every SGD gap above it, the clip runs equal (below ``gap_bound``) before
    their first mismatch and within ``end_bound`` of each other at the end (this problem is convex:
    the clip changes the path, not the minimum).
    """
    out: dict[str, str] = {"gap_bound": f"{gap_bound:.0e}".replace("e-0", "e-")}
    for r in moments:
        k = f"w{r['w_max']:g}"
        out[f"ew_uniform_{k}"] = f"{r['E[w] uniform']:.2f}"
        out[f"ew_real_{k}"] = f"{r['E[w] real']:.2f}"
        out[f"ew2_uniform_{k}"] = f"{r['E[w²] formula']:.2f}"
        out[f"ew2_real_{k}"] = f"{r['E[w²] real']:.2f}"
        out[f"ew2_ratio_{k}"] = f"{r['real / uniform']:.2f}"
    for r in spread:
        k = f"w{r['w_max']:g}"
        out[f"tail_{k}"] = f"{r['p99/median']:.2f}"
        out[f"maxmed_{k}"] = f"{r['max/median']:.2f}"
        out[f"near_grad_{k}"] = f"{100 * r['near_share']:.1f}"
    adam = [r for r in scale if r["optimiser"] == "adam"]
    sgd = [r for r in scale if r["optimiser"] == "sgd"]
    if not all(r["max_gap"] < gap_bound for r in adam) or not all(r["max_gap"] > gap_bound for r in sgd):
        raise ValueError("the prose says every Adam gap is below and every SGD gap above the bound")
    out["scales"] = ", ".join(f"{r['c']:g}" for r in adam)
    finite = [r for r in sgd if not r["diverged"]]
    out["sgd_gap"] = ", ".join(f"{r['max_gap']:.3f} at c = {r['c']:g}" for r in finite) or "none"
    out["sgd_diverged_scales"] = ", ".join(f"{r['c']:g}" for r in sgd if r["diverged"]) or "none"
    near, mid, healthy = (label for _, label, _, _ in RUL_BUCKETS)
    for r in tilt_rows:
        if r["loss"] == "scaled_mse":
            continue
        k = f"w{r['w_max']:g}"
        out[f"cos_{k}"] = f"{r['cos_to_mse']:.2f}"
        out[f"nf_rmse_{k}"] = f"{r[near]:.1f}"
        out[f"mid_rmse_{k}"] = f"{r[mid]:.1f}"
        out[f"healthy_rmse_{k}"] = f"{r[healthy]:.1f}"
        out[f"all_rmse_{k}"] = f"{r['all']:.1f}"
    out["adam_lr"] = f"{LR['adam']:g}"
    out["sgd_lr"] = f"{LR['sgd']:g}"
    for r in steps:
        k = f"w{r['w_max']:g}"
        out[f"adam_step_{k}"] = f"{r['adam_max_step']:.4f}"
        out[f"sgd_step_{k}"] = "diverged" if r["sgd_diverged"] else f"{r['sgd_max_step']:.3f}"
        out[f"sgd_limit_{k}"] = f"{r['sgd_lr_limit']:.3g}"
    diverged = [r["w_max"] for r in steps if r["sgd_diverged"]]
    out["sgd_first_diverged"] = f"{min(diverged):g}" if diverged else "none"
    k = clip["first_mismatch"]
    if k is not None and not clip["gap"][: k + 1].max() < gap_bound:
        raise ValueError("the prose says the clipped runs agree until their first mismatch")
    out["clipped_plain"] = str(clip["clipped_plain"])
    out["clipped_scaled"] = str(clip["clipped_scaled"])
    out["first_mismatch"] = "never" if k is None else str(k)
    if not clip["gap"][-1] < end_bound:
        raise ValueError("the prose says the clipped runs end at the same minimum")
    out["clip_gap_max"] = f"{clip['gap'].max():.3f}"
    out["end_bound"] = f"{end_bound:.0e}".replace("e-0", "e-")
    out["clip_steps"] = str(len(clip["gap"]) - 1)
    for r in balance:
        k = f"w{r['w_max']:g}"
        out[f"c_{k}"] = f"{r['c']:.2f}"
        out[f"ratio_amnl_{k}"] = f"{r['ratio_amnl']:.2f}"
        out[f"ratio_scaled_{k}"] = f"{r['ratio_scaled']:.2f}"
    out["max_total_norm"] = f"{max(r['total_norm_amnl'] for r in balance):.2f}"
    return out
