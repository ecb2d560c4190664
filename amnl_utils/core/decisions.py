"""From RUL predictions to maintenance decisions (§14.5): threshold policies, their cost rates,
the threshold-tuning rules, age-based replacement, and the PHM accuracy metrics.

**The timeline of one engine.** It runs cycle by cycle and fails at its last recorded cycle ``T``
(true RUL 0 there). From the cycle that completes its first window on, the model predicts after
every cycle. A *trajectory* is ``(rul_start, pred)``: the true RUL at the first prediction and the
``rul_start + 1`` predictions (cycles), so that the true RUL at prediction ``k`` is
``r_k = rul_start - k`` and ``T = rul_start + window``.

**Policies.**

* (a) *threshold* θ: replace right after the first cycle whose prediction is ``≤ θ``.
* (b) *lead time* L: order the part after the first cycle whose prediction is ``≤ θ + L``; it
  arrives ``L`` cycles later; replace at the first cycle that has the part and a prediction
  ``≤ θ``. L = 0 is policy (a).

A replacement is *preventive* when the true RUL then is at least 1 cycle; an engine not replaced by
then fails (an alarm at RUL 0 is too late). Its outcome: ``failed``; ``wasted`` = the true RUL
thrown away (0 on a failure); ``used = T - wasted`` cycles of operation.

**Cost rate** (renewal-reward): ``Σ cost / Σ used`` over engines, with cost ``c_p = 1`` per
preventive replacement and ``k · c_p`` per failure (Kamariotis et al., RESS 2024, use the same
renewal form). *Age-based replacement* replaces every engine at a fixed age (no sensors): the floor
of what a model must beat. The *oracle* predicts the true RUL: the cost floor.

**Tuning θ.** Every rule picks θ on the validation engines of the run, never on its decision
engines. ``"plain"`` minimises their cost rate as it is, which puts θ just past the latest engine's
first miss. ``"margin"`` adds to that θ the margin that a leave-one-engine-out check on the same
engines prefers: θ is re-tuned without each engine in turn, the engine is scored at that θ plus
the margin, and the margin with the lowest pooled cost rate wins, so the rule prices how often the
next engine is later than every one seen. ``"bootstrap"`` minimises the mean cost rate over
:data:`N_BOOT` resamples of the engines. Ties go to the larger (safer) θ.

**PHM metrics** (Saxena et al., "Metrics for offline evaluation of prognostic performance", 2010),
on the stretch a capped model is asked to resolve (true RUL ≤ ``r_max``): *α–λ accuracy* — whether
the prediction at the fraction λ of that stretch lies within ``±α`` of the true RUL; *prognostic
horizon* — the true RUL from which every later prediction stays within ``±α · r_max`` cycles.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .constants import R_MAX

#: Bootstrap resamples of the validation engines in the ``"bootstrap"`` tuning rule.
N_BOOT: int = 200
#: Tuning rules for θ (and for the age of age-based replacement); the first is the book's.
RULES: tuple[str, ...] = ("margin", "bootstrap", "plain")
#: The margins (columns, i.e. cycles of θ) the ``"margin"`` rule may add.
MARGINS: np.ndarray = np.arange(0, 31)
#: The θ values tried, in cycles (predictions are clipped to [0, R_MAX]; θ = R_MAX replaces at once).
THETAS: np.ndarray = np.arange(0, int(R_MAX) + 1, dtype=np.float64)


def check_trajectory(rul_start: int, pred: np.ndarray) -> np.ndarray:
    """``pred`` as a float64 ``(rul_start + 1,)`` array; ``ValueError`` on a wrong length, NaN or a negative RUL."""
    pred = np.asarray(pred, dtype=np.float64)
    if isinstance(rul_start, bool) or not isinstance(rul_start, (int, np.integer)) or rul_start < 0:
        raise ValueError(f"rul_start must be a non-negative whole number of cycles, got {rul_start!r}")
    if pred.shape != (int(rul_start) + 1,):
        raise ValueError(f"a trajectory starting at RUL {rul_start} needs {int(rul_start) + 1} predictions "
                         f"(one per cycle down to failure), got shape {pred.shape}")
    if not np.isfinite(pred).all():
        raise ValueError(f"pred has {int((~np.isfinite(pred)).sum())} non-finite values; predictions must be finite")
    return pred


def first_at_or_below(pred: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Index of the first prediction ``≤`` each threshold, ``len(pred)`` where there is none: ``(n_thresholds,)`` int64."""
    running_min = np.minimum.accumulate(np.asarray(pred, dtype=np.float64))
    return np.searchsorted(-running_min, -np.asarray(thresholds, dtype=np.float64), side="left").astype(np.int64)


def outcomes(rul_start: int, pred: np.ndarray, thetas: np.ndarray = THETAS, lead: int = 0
             ) -> tuple[np.ndarray, np.ndarray]:
    """Policy (a) (``lead = 0``) or (b) on one trajectory for every θ: ``(failed, wasted)``, both
    ``(n_thetas,)`` — bool, and the true RUL thrown away in cycles (int64, 0 on a failure)."""
    pred = check_trajectory(rul_start, pred)
    if isinstance(lead, bool) or not isinstance(lead, (int, np.integer)) or lead < 0:
        raise ValueError(f"lead must be a non-negative whole number of cycles, got {lead!r}")
    thetas = np.asarray(thetas, dtype=np.float64)
    n = pred.size
    k_theta = first_at_or_below(pred, thetas)
    k_rep = k_theta if lead == 0 else np.maximum(k_theta, first_at_or_below(pred, thetas + lead) + lead)
    r_rep = rul_start - k_rep
    failed = (k_theta >= n) | (k_rep >= n) | (r_rep < 1)
    return failed, np.where(failed, 0, r_rep).astype(np.int64)


def policy_matrix(trajectories: Sequence[tuple[int, np.ndarray]], window: int, thetas: np.ndarray = THETAS,
                  lead: int = 0) -> dict[str, np.ndarray]:
    """:func:`outcomes` for many engines: ``{"failed", "wasted", "used"}``, each ``(engines, n_thetas)``
    (``used = T - wasted`` with ``T = rul_start + window``)."""
    if not trajectories:
        raise ValueError("no trajectories: a policy needs at least one engine")
    failed, wasted = zip(*(outcomes(r, p, thetas, lead) for r, p in trajectories))
    life = np.array([int(r) + int(window) for r, _ in trajectories])[:, None]
    w = np.array(wasted)
    return {"failed": np.array(failed), "wasted": w, "used": life - w}


def age_matrix(lives: np.ndarray, ages: np.ndarray) -> dict[str, np.ndarray]:
    """Age-based replacement at every age ``a`` (cycles) for engines failing at ``lives``: the
    :func:`policy_matrix` dict. An engine is replaced after cycle ``a`` unless it fails first (``a ≥ T``)."""
    T = np.asarray(lives, dtype=np.int64)[:, None]
    a = np.asarray(ages, dtype=np.int64)[None, :]
    if T.size == 0 or (T < 1).any():
        raise ValueError("lives must be at least one engine's failure cycle, each >= 1")
    failed = a >= T
    wasted = np.where(failed, 0, T - a)
    return {"failed": failed, "wasted": wasted, "used": T - wasted}


def cost_rate(m: dict[str, np.ndarray], k: float, rows: np.ndarray | None = None) -> np.ndarray:
    """Cost per cycle of operation, ``Σ cost / Σ used`` over engines (``rows``: engine indices, with
    repeats, default all), for each column of a :func:`policy_matrix`: ``(n_thetas,)``. ``k``: the
    cost of a failure in units of a preventive replacement."""
    if not (np.isfinite(k) and k >= 1):
        raise ValueError(f"k must be a finite failure cost >= 1 (in units of a planned replacement), got {k!r}")
    f, u = (m["failed"], m["used"]) if rows is None else (m["failed"][rows], m["used"][rows])
    cost = np.where(f, float(k), 1.0)
    return cost.sum(axis=0) / u.sum(axis=0)


def tune(m: dict[str, np.ndarray], k: float, rule: str = "bootstrap", seed: int = 0, n_boot: int = N_BOOT) -> int:
    """The column (θ or age index) a rule picks on the engines of ``m`` (validation engines only)."""
    if rule == "margin":
        return margin_tune(m, k)
    if rule == "plain":
        score = cost_rate(m, k)
    elif rule == "bootstrap":
        n = m["failed"].shape[0]
        counts = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=n_boot)  # (n_boot, n)
        cost = np.where(m["failed"], float(k), 1.0)
        score = ((counts @ cost) / (counts @ m["used"])).mean(axis=0)
    else:
        raise ValueError(f"unknown tuning rule {rule!r}; choose one of {list(RULES)}")
    return int(score.size - 1 - np.argmin(score[::-1]))  # ties: the larger θ


def margin_tune(m: dict[str, np.ndarray], k: float, margins: np.ndarray = MARGINS) -> int:
    """The ``"margin"`` rule: the plain optimum plus the margin that leave-one-engine-out prefers
    (see the module docstring); the column is capped at the last one."""
    cost = np.where(m["failed"], float(k), 1.0)
    used = m["used"].astype(np.float64)
    n, n_col = cost.shape
    last = lambda score: score.shape[-1] - 1 - np.argmin(score[..., ::-1], axis=-1)  # noqa: E731  ties: larger
    if n < 2:
        return int(last(cost.sum(0) / used.sum(0)))
    loo = last((cost.sum(0) - cost) / (used.sum(0) - used))  # (n,): each engine's θ tuned without it
    cols = np.minimum(loo[:, None] + np.asarray(margins)[None, :], n_col - 1)  # (n, margins)
    rows = np.arange(n)[:, None]
    pooled = cost[rows, cols].sum(0) / used[rows, cols].sum(0)
    best = int(np.asarray(margins)[last(pooled)])
    return int(min(last(cost.sum(0) / used.sum(0)) + best, n_col - 1))


def summarise(m: dict[str, np.ndarray], column: int, k: float) -> dict[str, float]:
    """One column's ``{cost_rate (per 1000 cycles), missed (per 100 engines), wasted (mean cycles per
    engine), engines, failures}``."""
    f = m["failed"][:, column]
    return {"cost_rate": 1000.0 * float(cost_rate(m, k)[column]), "missed": 100.0 * float(f.mean()),
            "wasted": float(m["wasted"][:, column].mean()), "engines": int(f.size), "failures": int(f.sum())}


def alpha_lambda(rul_start: int, pred: np.ndarray, lam: float, alpha: float = 0.2, r_max: float = R_MAX) -> bool:
    """α–λ accuracy of one trajectory: is the prediction at the fraction ``lam`` of the stretch from
    ``min(rul_start, r_max)`` to failure within ``[(1 - α) r*, (1 + α) r*]`` of the true RUL r*?"""
    pred = check_trajectory(rul_start, pred)
    if not (0 <= lam < 1 and 0 < alpha < 1):
        raise ValueError(f"need 0 <= lam < 1 and 0 < alpha < 1, got lam={lam!r}, alpha={alpha!r}")
    k_p = max(0, int(rul_start) - int(r_max))
    k = k_p + int(round(lam * (int(rul_start) - k_p)))
    r = int(rul_start) - k
    return bool((1 - alpha) * r <= pred[k] <= (1 + alpha) * r)


def prognostic_horizon(rul_start: int, pred: np.ndarray, alpha: float = 0.2, r_max: float = R_MAX) -> float:
    """Prognostic horizon of one trajectory, cycles: the true RUL from which every later prediction
    (to failure) lies within ``± α · r_max`` of the true RUL, searched where the true RUL ≤ ``r_max``;
    0 when the last prediction is already outside."""
    pred = check_trajectory(rul_start, pred)
    r = int(rul_start) - np.arange(pred.size)
    ok = np.abs(pred - r) <= alpha * r_max
    stays = np.logical_and.accumulate(ok[::-1])[::-1] & (r <= r_max)
    idx = np.flatnonzero(stays)
    return float(r[idx[0]]) if idx.size else 0.0
