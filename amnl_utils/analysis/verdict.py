"""The book's main question: does AMNL lower the error near failure? Per subset and pooled.

Reads the test metrics of a grid's run files (the ``verdict`` grid: MSE and AMNL at w_max = 2 with
the final recipe, 20 seeds per subset) and compares two arms seed by seed:

* :func:`verdict_table` — for each measure of :data:`MEASURES`, the relative paired difference
  ``mean(A) / mean(B) - 1`` per subset with its t-interval over seeds, and the four subsets pooled
  by inverse-variance weighting (:mod:`amnl_utils.core.pooling`), with the smallest pooled effect
  the grid could detect.
* :func:`health_table` — the health head's accuracy and macro-F1 per arm, and their paired
  difference in points.
* :func:`verdict_words` — the one sentence an interval allows ("lowers … by X %",
  "raises … by X %" or "no measurable difference; … larger than Y % are ruled out"), and
  :func:`small_effect_allowed`, the rule for "harmless" or "modest" (both bounds within ±5 %).

Every number is a fraction (``-0.05`` is 5 % lower) unless its name ends in ``_pts`` (points of
accuracy or F1, in %).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..core.constants import LATE_BY, NEAR_FAILURE, SUBSETS
from ..core.pooling import pool, relative_difference
from ..core.stats import paired_difference, t_interval
from ..engine.runner import load_grid

#: The error measures of the verdict (lower is better), as the run files name them, with their words.
MEASURES: dict[str, str] = {
    "nf_rmse": f"near-failure RMSE (last window of each engine, true RUL ≤ {NEAR_FAILURE:g})",
    "nf_rmse_all": f"near-failure RMSE (every window with true RUL ≤ {NEAR_FAILURE:g})",
    "rmse": "RMSE (last window of each engine)",
    "nasa": "NASA score",
    "late_per_100": f"the count of near-failure windows more than {LATE_BY:g} cycles late (per 100 engines)",
}
#: Short names of :data:`MEASURES` for table rows and axis labels.
SHORT: dict[str, str] = {
    "nf_rmse": "near-failure RMSE, last windows", "nf_rmse_all": "near-failure RMSE, all windows",
    "rmse": "RMSE", "nasa": "NASA score", "late_per_100": "late windows per 100 engines",
}
#: The health-head measures (higher is better), in points (%).
HEALTH: dict[str, str] = {"health_acc": "health accuracy", "health_f1": "health macro-F1"}
#: "Harmless" and "modest" need both bounds of the interval within this fraction of zero.
SMALL: float = 0.05


def run_measures(test: dict[str, Any]) -> dict[str, float]:
    """The measures of one run's ``test`` record: its own metrics plus ``late_per_100``,
    ``late_count_all`` (windows) / ``n_engines`` × 100."""
    if not test:
        raise ValueError("the run has no test metrics (a tuning run, or made with evaluate_test=False)")
    out = {k: float(test[k]) for k in (*MEASURES, *HEALTH) if k in test}
    out["late_per_100"] = 100.0 * float(test["late_count_all"]) / float(test["n_engines"])
    return out


def arm_seed_measures(records: Iterable[tuple[Any, dict]]) -> dict[tuple[str, str], dict[int, dict[str, float]]]:
    """``{(subset, arm): {seed: measures}}`` of ``(spec, record)`` pairs (:func:`load_grid`)."""
    out: dict[tuple[str, str], dict[int, dict[str, float]]] = {}
    for spec, rec in records:
        out.setdefault((spec.config.subset, spec.arm), {})[spec.config.seed] = run_measures(rec["test"])
    return out


def paired(values: dict, subset: str, a: str, b: str, measure: str) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The values of ``measure`` for arms ``a`` and ``b`` on ``subset`` at the seeds both have."""
    va, vb = values.get((subset, a), {}), values.get((subset, b), {})
    seeds = sorted(set(va) & set(vb))
    return (np.array([va[k][measure] for k in seeds]), np.array([vb[k][measure] for k in seeds]), seeds)


def verdict_table(grid: str = "verdict", a: str = "amnl", b: str = "mse", measures: Sequence[str] = tuple(MEASURES),
                  subsets: Sequence[str] = SUBSETS, results: Path | str | None = None,
                  values: dict | None = None) -> list[dict[str, Any]]:
    """Rows ``{measure, subset, rel, se, lo, hi, mde, n, mean_a, mean_b}`` per subset, then a
    ``subset == "pooled"`` row per measure (with ``q``, ``i2``, ``k``; ``n`` is the seeds summed).

    ``values`` (from :func:`arm_seed_measures`) replaces reading the grid's run files (tests). A subset
    with fewer than 2 paired seeds is left out of the table and of the pool.
    """
    values = arm_seed_measures(load_grid(grid, results, partial=True)) if values is None else values
    rows = []
    for m in measures:
        per = []
        for s in subsets:
            va, vb, seeds = paired(values, s, a, b, m)
            if len(seeds) < 2:
                continue
            r = relative_difference(va, vb)
            per.append({"measure": m, "subset": s, **r, "mean_a": float(va.mean()), "mean_b": float(vb.mean())})
        rows += per
        if per:
            p = pool([r["rel"] for r in per], [r["se"] for r in per])
            rows.append({"measure": m, "subset": "pooled", **p, "n": sum(r["n"] for r in per),
                         "mean_a": float("nan"), "mean_b": float("nan")})
    return rows


def health_table(grid: str = "verdict", arms: Sequence[str] = ("amnl", "mse"), subsets: Sequence[str] = SUBSETS,
                 results: Path | str | None = None, values: dict | None = None) -> list[dict[str, Any]]:
    """Per subset and health measure: each arm's mean with its t-interval over seeds, and the
    paired difference ``arms[0] - arms[1]`` with its interval (all in points, %)."""
    values = arm_seed_measures(load_grid(grid, results, partial=True)) if values is None else values
    a, b = arms
    rows = []
    for s in subsets:
        for m in HEALTH:
            va, vb, seeds = paired(values, s, a, b, m)
            if len(seeds) < 2:
                continue
            ta, tb = t_interval(100 * va), t_interval(100 * vb)
            d = paired_difference(100 * va, 100 * vb)
            rows.append({"subset": s, "measure": m, "n": len(seeds),
                         f"{a}_pts": ta["mean"], f"{a}_lo_pts": ta["lo"], f"{a}_hi_pts": ta["hi"],
                         f"{b}_pts": tb["mean"], f"{b}_lo_pts": tb["lo"], f"{b}_hi_pts": tb["hi"],
                         "diff_pts": d["diff"], "lo_pts": d["lo"], "hi_pts": d["hi"], "mde_pts": d["mde"]})
    return rows


def arm_means(values: dict, measure: str, arms: Sequence[str] = ("mse", "amnl"),
              subsets: Sequence[str] = SUBSETS) -> list[dict[str, Any]]:
    """Each arm's mean of ``measure`` per subset with its t-interval over seeds:
    rows ``{subset, arm, mean, lo, hi, n}`` (``values`` from :func:`arm_seed_measures`)."""
    rows = []
    for s in subsets:
        for arm in arms:
            v = np.array([m[measure] for _, m in sorted(values.get((s, arm), {}).items())])
            if v.size >= 2:
                t = t_interval(v)
                rows.append({"subset": s, "arm": arm, "mean": t["mean"], "lo": t["lo"], "hi": t["hi"], "n": t["n"]})
    return rows


def small_effect_allowed(lo: float, hi: float, bound: float = SMALL) -> bool:
    """Whether "harmless", "modest" or "as good as" may describe an interval ``[lo, hi]`` of a
    relative difference: only when both bounds lie within ``±bound``."""
    return bool(np.isfinite(lo) and np.isfinite(hi) and -bound <= lo <= hi <= bound)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}".replace("-", "−")


def _spct(x: float) -> str:
    return ("+" if x >= 0 else "") + _pct(x)


def verdict_words(row: dict[str, Any], a_name: str = "AMNL", b_name: str = "MSE") -> str:
    """The sentence the interval of a :func:`verdict_table` row allows, e.g. "AMNL lowers
    near-failure RMSE (…) by 4.1 % [0.9, 7.3] against MSE" or "there is no measurable difference
    in …: a reduction larger than 6.0 % or an increase larger than 3.0 % is ruled out" (lower case:
    the caller places it in a sentence)."""
    label = MEASURES.get(row["measure"], row["measure"])
    rel, lo, hi = row["rel"], row["lo"], row["hi"]
    if not all(np.isfinite([rel, lo, hi])):
        raise ValueError(f"row {row.get('subset')}/{row['measure']} has no finite interval")
    if hi < 0:
        return f"{a_name} lowers {label} by {_pct(-rel)} % [{_pct(-hi)}, {_pct(-lo)}] against {b_name}"
    if lo > 0:
        return f"{a_name} raises {label} by {_pct(rel)} % [{_pct(lo)}, {_pct(hi)}] against {b_name}"
    return (f"there is no measurable difference in {label} between {a_name} and {b_name} ({_spct(rel)} % "
            f"[{_spct(lo)}, {_spct(hi)}]): a reduction larger than {_pct(-lo)} % or an increase "
            f"larger than {_pct(hi)} % is ruled out")
