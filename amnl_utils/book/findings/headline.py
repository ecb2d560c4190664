"""§14.4: the one-step walkthrough and the headline grid (MSE, scaled MSE, AMNL on FD001-FD004).

:func:`headline_findings` reads the aggregated ``headline`` grid and its run files and returns
every number §14.4 (and, through :func:`amnl_utils.book.findings.book_findings`, the introduction)
quotes. The qualitative words of those sentences ("lower", "late", "met on 2 of 4 subsets") are
computed from the intervals here, not typed into the prose; the few fixed statements the prose
makes are checked.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ...core.constants import NEAR_FAILURE, SUBSETS
from ...core.stats import paired_difference, verdict
from ...engine.grids import RECIPE, SEEDS, recipe
from ..loading import grid_records, load_predictions, load_summary
from ..tables import ANCHORS, bucket_bias_table, parameter_tables, seed_mean_predictions
from . import check, fmt_range, signed
from .methods import tuning_a_findings

#: The headline's arms and the pairs its prose compares (A − B; lower is better for every error).
PAIRS: tuple[tuple[str, str], ...] = (("amnl", "mse"), ("scaled_mse", "mse"), ("amnl", "scaled_mse"))
#: The test metrics of the headline comparisons, in the order the prose lists them.
ERROR_METRICS: tuple[str, ...] = ("rmse", "nasa", "nf_rmse", "nf_rmse_all", "late_count", "late_count_all")
#: Targets for the MSE arm's mean test RMSE (the independent DCNN re-implementation; the published
#: numbers live in :data:`amnl_utils.book.tables.ANCHORS`).
REIMPL = "DCNN re-implementation"


def check_first_step(l_rul: float, ce: float, g_rul: float, g_ce: float, l_rul_cycles: float) -> dict[str, str]:
    """The one-step walkthrough of §14.4: its numbers, and the claims the prose makes about them.

    l_rul: the RUL term in the recipe's unit; ce: the cross-entropy; g_rul, g_ce: their trunk
    gradient norms (0.5-weighted); l_rul_cycles: the same RUL loss in cycles².
    """
    check(0.3 < l_rul / ce < 10, "at the first step the RUL term and the cross-entropy are of the same order")
    check(l_rul_cycles / ce > 1000, "in cycles² the RUL term would be over a thousand times the cross-entropy")
    check(g_rul > g_ce, "at the first step the RUL term sends the larger gradient to the trunk")
    return {
        "rul_unit": f"{recipe('FD001').rul_unit:g}",
        "step_l_rul": f"{l_rul:.2f}",
        "step_ce": f"{ce:.2f}",
        "step_l_rul_cycles": f"{l_rul_cycles:,.0f} cycles²",
        "step_balance": f"{g_rul / g_ce:.0f}",
        "train_balance": tuning_a_findings()["a_balance_u31"],
        "a_balance_u125": tuning_a_findings()["a_balance_u125"],
    }


# --------------------------------------------------------------------------- sentence pieces


def and_list(items: Sequence[str]) -> str:
    """``"a"``, ``"a and b"``, ``"a, b and c"``."""
    items = list(items)
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def signed_range(values: Sequence[float], decimals: int = 1, unit: str = "cycles") -> str:
    """A range of signed errors in words: ``"late by 3.1 to 9.8 cycles"`` when all are > 0,
    ``"early by …"`` when all are < 0, else ``"between −2.0 and +1.5 cycles"``."""
    v = np.asarray(values, dtype=float)
    if (v > 0).all():
        return f"late by {fmt_range(v, decimals)} {unit}"
    if (v < 0).all():
        return f"early by {fmt_range(-v, decimals)} {unit}"
    return f"between {v.min():+.{decimals}f} and {v.max():+.{decimals}f} {unit}"


def metric_words(metric: str) -> str:
    """How the prose names a metric."""
    return {
        "rmse": "RMSE", "nasa": "NASA score", "nf_rmse": "near-failure RMSE (last windows)",
        "nf_rmse_all": "near-failure RMSE (all windows)", "late_count": "late predictions (last windows)",
        "late_count_all": "late predictions (all windows)", "health_acc": "health accuracy",
    }[metric]


def _cell(r: Any) -> str:
    d = 0 if r["metric"] in ("nasa",) else 1 if r["metric"].startswith("late") else 2
    return f"{r['diff']:+.{d}f} [{r['lo']:+.{d}f}, {r['hi']:+.{d}f}]"


def separable_cells(comparisons: Any, a: str, b: str, metrics: Sequence[str] = ERROR_METRICS) -> Any:
    """The rows of ``A − B`` (subset × metric) whose 95 % interval excludes 0."""
    c = comparisons[(comparisons.a == a) & (comparisons.b == b) & comparisons.metric.isin(metrics)]
    return c[c.verdict != "no measurable difference"]


def pair_sentence(comparisons: Any, a: str, b: str, metrics: Sequence[str] = ERROR_METRICS) -> str:
    """What the intervals of ``A − B`` say, in one clause: none separable, or which cells are
    lower / higher (with the difference and its interval)."""
    c = comparisons[(comparisons.a == a) & (comparisons.b == b) & comparisons.metric.isin(metrics)]
    check(len(c) > 0, f"the headline compares {a} with {b}")
    sep = separable_cells(comparisons, a, b, metrics)
    if sep.empty:
        return f"no measurable difference in any of the {len(c)} subset × metric cells"
    cells = [f"{r['verdict']} {metric_words(r['metric'])} on {r['subset']}, {_cell(r)}" for _, r in sep.iterrows()]
    return f"a measurable difference in {len(sep)} of {len(c)} subset × metric cells: " + "; ".join(cells)


# --------------------------------------------------------------------------- the headline


def near_failure_bias_sentence(preds: Any, subsets: Sequence[str] = SUBSETS) -> str:
    """AMNL − MSE in the mean signed error (predicted − true, cycles; > 0 = late) of the last windows
    with true RUL ≤ ``NEAR_FAILURE``, per subset: the paired difference over seeds with its
    t-interval, and the direction only where the interval excludes 0."""
    near = preds[preds.y_true <= NEAR_FAILURE]
    per = (near.y_pred - near.y_true).groupby([near.subset, near.arm, near.seed]).mean()
    cells, signs = [], []
    for s in subsets:
        a, b = per.get((s, "amnl")), per.get((s, "mse"))
        if a is None or b is None:
            continue
        seeds = sorted(set(a.index) & set(b.index))
        d = paired_difference(a.loc[seeds].to_numpy(), b.loc[seeds].to_numpy())
        cells.append(f"{signed(d['diff'], 1)} [{signed(d['lo'], 1)}, {signed(d['hi'], 1)}] cycles on {s}")
        signs.append(verdict(d["lo"], d["hi"]))
    check(bool(cells), "the headline has AMNL and MSE predictions near failure")
    if all(v == "no measurable difference" for v in signs):
        reading = "every interval contains 0, so the grid does not establish a direction"
    else:
        reading = "; ".join(f"{v} on {s}" for s, v in zip(subsets, signs) if v != "no measurable difference")
        reading = f"measurably {reading}, elsewhere no measurable difference"
    return f"{'; '.join(cells)}: {reading}"


def _wide(summary: Any, value: str = "mean") -> Any:
    return summary.pivot_table(index=["subset", "arm"], columns="metric", values=value)


def headline_findings(results=None) -> dict[str, str]:
    """Every number the headline part of §14.4 quotes (keys ``h_*``), checked."""
    summary, comparisons, meta = load_summary("headline", results)
    check(not meta["partial"] or meta["n_runs"] < meta["n_expected"], "the headline grid's partial flag is consistent")
    n_seeds = int(summary["n_seeds"].min())
    mean, lo = _wide(summary), _wide(summary, "t_lo")
    ens = _wide(summary, "ensemble")
    out: dict[str, str] = {
        "h_windows": " / ".join(str(RECIPE[s]["window"]) for s in SUBSETS),
        "h_n_seeds": f"{n_seeds}",
        "h_n_runs": f"{meta['n_runs']}",
        "h_run_hours": f"{meta['sum_run_wall_s'] / 3600:.1f}",
        "h_mean_run_s": f"{meta['sum_run_wall_s'] / meta['n_runs']:.0f}",
        "h_partial": (f" (a partial grid: {meta['n_runs']} of {meta['n_expected']} runs)" if meta["partial"] else ""),
    }
    check(n_seeds >= min(10, len(SEEDS)) or meta["partial"], "every arm of the headline has at least 10 seeds")

    # --- the answer: every pair the prose compares, computed
    out["h_amnl_mse"] = pair_sentence(comparisons, "amnl", "mse")
    out["h_scaled_mse"] = pair_sentence(comparisons, "scaled_mse", "mse")
    out["h_amnl_scaled"] = pair_sentence(comparisons, "amnl", "scaled_mse")
    tested = comparisons[comparisons.metric.isin(ERROR_METRICS)
                         & np.array([(a, b) in PAIRS for a, b in zip(comparisons.a, comparisons.b)])]
    n_sep = int((tested.verdict != "no measurable difference").sum())
    chance = 0.05 * len(tested)
    if n_sep == 0:
        out["h_chance"] = f"None of the {len(tested)} intervals of the three pairs excludes 0"
    elif n_sep <= chance:
        out["h_chance"] = (
            f"Of all {len(tested)} intervals of the three pairs, {n_sep} exclude{'s' if n_sep == 1 else ''} 0; at the "
            f"95 % level about {chance:.1f} would by chance alone if no loss made any difference, so "
            f"{'this cell is' if n_sep == 1 else 'these cells are'} no evidence of an effect")
    else:
        out["h_chance"] = (f"Of all {len(tested)} intervals of the three pairs, {n_sep} exclude 0, more than the "
                           f"about {chance:.1f} that chance alone would give at the 95 % level")
    out["h_short"] = f"With {n_seeds} seeds per arm, AMNL against plain MSE shows {out['h_amnl_mse']}."
    out["h_answer"] = (
        f"Trained with {n_seeds} seeds per arm and selected on validation engines, AMNL against plain MSE "
        f"shows {out['h_amnl_mse']}; against MSE scaled by AMNL's mean weight it shows "
        f"{out['h_amnl_scaled']}.{out['h_partial']}"
    )

    # --- how large an effect could still hide: MDEs and the interval bounds, relative to B
    am = comparisons[(comparisons.a == "amnl") & (comparisons.b == "mse")].set_index(["subset", "metric"])
    for metric in ("rmse", "nf_rmse", "nf_rmse_all"):
        r = am.xs(metric, level="metric")
        out[f"h_mde_{metric}"] = fmt_range(r["mde"], 2, "cycles")
        out[f"h_rel_mde_{metric}"] = fmt_range(100 * r["rel_mde"], 0, "%")
        out[f"h_bounds_{metric}"] = f"{100 * (r['lo'] / r['b_mean']).min():+.0f} % to {100 * (r['hi'] / r['b_mean']).max():+.0f} %"
    worst = am.xs("nf_rmse_all", level="metric")
    worst_hi = (worst["hi"] / worst["b_mean"]).idxmax()
    out["h_worst_subset"] = worst_hi
    out["h_worst_hi"] = f"{100 * worst.loc[worst_hi, 'hi'] / worst.loc[worst_hi, 'b_mean']:+.0f} %"

    # --- the MSE arm against the targets (the re-implementation), mean of seeds and seed ensemble
    reimpl = {s: ANCHORS[REIMPL]["values"][s][0] for s in SUBSETS}
    mse_rmse = {s: mean.loc[(s, "mse"), "rmse"] for s in SUBSETS}
    mse_ens = {s: ens.loc[(s, "mse"), "rmse"] for s in SUBSETS}
    met = [s for s in SUBSETS if mse_rmse[s] <= reimpl[s]]
    met_ens = [s for s in SUBSETS if mse_ens[s] <= reimpl[s]]
    out |= {
        "h_mse_rmse": " / ".join(f"{mse_rmse[s]:.2f}" for s in SUBSETS),
        "h_mse_rmse_ens": " / ".join(f"{mse_ens[s]:.2f}" for s in SUBSETS),
        "h_amnl_rmse": " / ".join(f"{mean.loc[(s, 'amnl'), 'rmse']:.2f}" for s in SUBSETS),
        "h_reimpl_rmse": " / ".join(f"{reimpl[s]:.1f}" for s in SUBSETS),
        "h_target_met": f"{len(met)} of 4 subsets" + (f" ({and_list(met)})" if met and len(met) < 4 else ""),
        "h_target_met_ens": f"{len(met_ens)} of 4 subsets" + (f" ({and_list(met_ens)})" if met_ens and len(met_ens) < 4 else ""),
        "h_reimpl_gap": " / ".join(f"{mse_rmse[s] - reimpl[s]:+.1f}" for s in SUBSETS),
        "h_ens_gain": fmt_range([mse_rmse[s] - mse_ens[s] for s in SUBSETS], 2, "cycles"),
    }
    check(all(mse_ens[s] < mse_rmse[s] for s in SUBSETS), "the seed ensemble is better than the mean seed on every subset")

    # --- the source material's claims, beside ours (they used test-set epoch selection)
    claim = {s: ANCHORS["AMNL, source material (claim)"]["values"][s][0] for s in SUBSETS}
    below = [s for s in SUBSETS if claim[s] < lo.loc[(s, "amnl"), "rmse"]]
    out["h_claims"] = " / ".join(f"{claim[s]:.2f}" for s in SUBSETS)
    out["h_claims_below"] = f"{len(below)} of 4"

    # --- per engine: how far the seed-averaged predictions of AMNL and MSE are apart
    preds = load_predictions("headline", results)
    sm = seed_mean_predictions(preds).pivot_table(index=["subset", "unit"], columns="arm", values="y_pred")
    gap = (sm["amnl"] - sm["mse"]).abs()
    out["h_engine_gap_median"] = fmt_range(gap.groupby("subset").median(), 1, "cycles")
    out["h_engine_gap_max"] = fmt_range(gap.groupby("subset").max(), 1, "cycles")
    out["h_engine_gap_over5"] = f"{int((gap > 5).sum())} of {gap.size}"

    # --- signed error by bucket (all arms): where the predictions are late or early
    bias = bucket_bias_table(preds)
    out["h_bias_le30"] = signed_range(bias["RUL ≤ 30"])
    out["h_bias_30_80"] = signed_range(bias["30 < RUL ≤ 80"])
    out["h_bias_gt80"] = signed_range(bias["RUL > 80"])
    out["h_bias_amnl_vs_mse_ci"] = near_failure_bias_sentence(preds)

    # --- health head
    out["h_health_acc"] = fmt_range(mean.xs("health_acc", axis=1), 3)
    out["h_health_f1"] = fmt_range(mean.xs("health_f1", axis=1), 3)

    # --- how training behaved (per-run measures)
    out["h_clipped_max"] = f"{100 * mean['clipped_fraction'].max():.2f} %"
    out["h_balance"] = fmt_range(mean["balance_ratio"], 2)
    out["h_best_pass"] = " / ".join(
        fmt_range(mean.xs(s, level="subset")["best_epoch"], 0) + f" of {RECIPE[s]['max_epochs']}" for s in SUBSETS)
    out["h_diverged"] = f"{int(round((mean['diverged'] * summary.pivot_table(index=['subset', 'arm'], columns='metric', values='n_seeds')['diverged']).sum()))}"
    check(mean["diverged"].max() == 0, "no run of the headline diverged")
    out["h_n_nf_windows"] = " / ".join(
        f"{int(summary[(summary.subset == s) & (summary.metric == 'late_count_all')]['of'].iloc[0]):,}" for s in SUBSETS)
    out["h_n_nf_engines"] = " / ".join(
        f"{int(summary[(summary.subset == s) & (summary.metric == 'late_count')]['of'].iloc[0])}" for s in SUBSETS)
    out["h_near_failure"] = f"{NEAR_FAILURE:g}"
    out["h_mean_weight"] = fmt_range(_loss_scales(results), 2)
    return out


def _loss_scales(results=None) -> list[float]:
    """AMNL's mean weight c per subset (mean over the seeds' training windows), from the run files."""
    c: dict[str, list[float]] = {}
    for spec, rec in grid_records("headline", results):
        if spec.arm == "amnl":
            c.setdefault(spec.config.subset, []).append(float(rec["loss_scale"]))
    return [float(np.mean(v)) for v in c.values()]


def model_findings() -> dict[str, str]:
    """Facts of the two presets that §14.4 quotes (counted from the modules, 15 inputs)."""
    params = parameter_tables(n_features=15)
    total = params.loc["total", "paper"]
    return {
        "paper_params_m": f"{total / 1e6:.1f}",
        "paper_bilstm_pct": f"{100 * params.loc['bilstm', 'paper'] / total:.0f}",
        "compact_params": f"{params.loc['total', 'compact']:,}",
    }
