"""The book's tables from aggregated grid results (no training here): metric tables with
intervals, paired comparisons, stability, tuning, anchors, relative differences.

The notebooks call these on what :mod:`amnl_utils.book.loading` reads; the statistics are
explained in :mod:`amnl_utils.core.stats` and on the book's Methods page.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from ..core.constants import RUL_BUCKETS, SUBSETS
from ..core.optional import require
from ..engine.aggregate import RUN_MEASURES, group_runs, paired_rows
from .loading import grid_records
from .style import COLORS

pd = require("pandas", "amnl_utils.book.tables")

#: Display names and palette keys of the arms, in the order the book shows them.
ARMS: dict[str, tuple[str, str]] = {
    "mse": ("MSE", "mse"),
    "scaled_mse": ("scaled MSE", "scaled"),
    "amnl": ("AMNL", "amnl"),
    "constant": ("constant (scaled MSE)", "constant"),
    "linear": ("linear (AMNL)", "linear"),
    "exponential": ("exponential", "exponential"),
    "sigmoid": ("sigmoid", "sigmoid"),
    "step": ("step", "step"),
    "mse_offset": ("MSE + offset", "mse_offset"),
    "lds": ("LDS", "lds"),
    "bmc": ("BMC", "bmc"),
    "pinball": ("pinball", "pinball"),
    "pinball_t0.3": ("pinball, τ = 0.3", "pinball_t0.3"),
    "pinball_t0.4": ("pinball, τ = 0.4", "pinball_t0.4"),
    "oracle": ("oracle", "oracle"),
    "age": ("age-based", "age"),
}
#: Metrics: name -> (display name, unit, decimals).
METRICS: dict[str, tuple[str, str, int]] = {
    "rmse": ("RMSE", "cycles", 2),
    "nasa": ("NASA score", "", 0),
    "nf_rmse": ("near-failure RMSE, last windows", "cycles", 2),
    "nf_rmse_all": ("near-failure RMSE, all windows", "cycles", 2),
    "late_count": ("late > 10 cycles, last windows", "engines", 1),
    "late_count_all": ("late > 10 cycles, all windows", "windows", 1),
    "health_acc": ("health accuracy", "", 3),
    "health_f1": ("health macro-F1", "", 3),
    "rmse_le30": ("RMSE, RUL ≤ 30", "cycles", 2),
    "rmse_30_80": ("RMSE, 30 < RUL ≤ 80", "cycles", 2),
    "rmse_gt80": ("RMSE, RUL > 80", "cycles", 2),
    "best_val_rmse": ("validation RMSE (selected pass)", "cycles", 2),
    "best_epoch": ("selected pass", "passes", 1),
    "epochs_run": ("passes run", "passes", 1),
    "clipped_fraction": ("clipped steps", "share", 3),
    "roughness": ("validation-curve roughness", "cycles", 2),
    "balance_ratio": ("trunk gradient RUL : CE", "ratio", 2),
    "diverged": ("diverged runs", "share", 2),
    "wall_s": ("wall time per run", "s", 0),
}
#: The per-bucket RMSE metrics, in bucket order.
BUCKET_METRICS: tuple[str, ...] = tuple(f"rmse_{key}" for key, *_ in RUL_BUCKETS)


def arm_label(arm: str) -> str:
    """Display name of an arm (``amnl_w3`` -> ``AMNL, w_max = 3``)."""
    if arm in ARMS:
        return ARMS[arm][0]
    for prefix, name in (("amnl_w", "AMNL"), ("scaled_w", "scaled MSE")):
        if arm.startswith(prefix):
            w = arm[len(prefix):]
            return "MSE (w_max = 1)" if (name == "AMNL" and float(w) == 1.0) else f"{name}, w_max = {w}"
    return arm


def arm_color(arm: str) -> str:
    """Palette colour of an arm (AMNL-family green, scaled-MSE blue, MSE grey, schedules their own)."""
    if arm in ARMS:
        return COLORS[ARMS[arm][1]]
    if arm.startswith("scaled_w"):
        return COLORS["scaled"]
    if arm.startswith("amnl_w"):
        return COLORS["mse"] if float(arm[len("amnl_w"):]) == 1.0 else COLORS["amnl"]
    return "#444444"


# --------------------------------------------------------------------------- tables


def metric_header(metric: str) -> str:
    """A metric's name with its unit, as a table header shows it: ``RMSE (cycles)``; unit-free
    metrics (the NASA score, accuracies) keep their bare name."""
    name, unit, _ = METRICS[metric]
    return f"{name} ({unit})" if unit else name


def fmt(x: float, d: int) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    out = f"{x:,.{d}f}"
    return out[1:] if out.startswith("-") and not out.strip("-0.,") else out  # "-0.0" reads as 0.0


def _order(index: Sequence[tuple[str, str]], subsets: Sequence[str], arms: Sequence[str]) -> list[tuple[str, str]]:
    have = set(index)
    return [(s, a) for s in subsets for a in arms if (s, a) in have]


def arm_order(summary: Any) -> list[str]:
    """The arms of a summary in the book's order (known arms first, then by w_max)."""
    arms = list(dict.fromkeys(summary["arm"]))
    known = [a for a in ARMS if a in arms]
    rest = [a for a in arms if a not in ARMS]

    def key(a: str) -> tuple[int, float]:
        for i, prefix in enumerate(("amnl_w", "scaled_w")):
            if a.startswith(prefix):
                return (i, float(a[len(prefix):]))
        return (2, 0.0)

    return known + sorted(rest, key=key)


def metric_table(summary: Any, metrics: Sequence[str], *, interval: bool = False,
                 subsets: Sequence[str] = SUBSETS) -> Any:
    """Rows: subset × arm; one column per metric with ``mean ± sd`` over seeds (strings, the
    metric's decimals); with ``interval``, a second column per metric with the t-interval."""
    s = summary[summary.metric.isin(metrics)]
    out: dict[tuple[str, str], dict[str, str]] = {}
    for (subset, arm, metric), g in s.groupby(["subset", "arm", "metric"], sort=False):
        r = g.iloc[0]
        name, d = metric_header(metric), METRICS[metric][2]
        cell = out.setdefault((subset, arm), {})
        cell[name] = f"{fmt(r['mean'], d)} ± {fmt(r['sd'], d)}"
        if "of" in r and np.isfinite(r["of"]):  # a count: say out of how many
            cell[name] += f" of {int(r['of'])}"
        if interval:
            cell[f"{name}, 95 % interval"] = f"[{fmt(r['t_lo'], d)}, {fmt(r['t_hi'], d)}]"
    order = _order(list(out), subsets, arm_order(summary))
    cols = []
    for m in metrics:
        cols.append(metric_header(m))
        if interval:
            cols.append(f"{metric_header(m)}, 95 % interval")
    table = pd.DataFrame([out[k] for k in order], index=pd.MultiIndex.from_tuples(
        [(s, arm_label(a)) for s, a in order], names=["subset", "loss"]))
    return table[[c for c in cols if c in table.columns]]


def ensemble_table(summary: Any, metrics: Sequence[str] = ("rmse", "nasa"), subsets: Sequence[str] = SUBSETS) -> Any:
    """The metric of the seed-averaged prediction (one "ensemble" per arm), beside the mean over seeds."""
    s = summary[summary.metric.isin(metrics)]
    rows = {}
    for (subset, arm), g in s.groupby(["subset", "arm"], sort=False):
        g = g.set_index("metric")
        rows[(subset, arm)] = {
            f"{metric_header(m)}, mean of seeds": fmt(g.loc[m, "mean"], METRICS[m][2]) for m in metrics if m in g.index
        } | {f"{metric_header(m)}, seed ensemble": fmt(g.loc[m, "ensemble"], METRICS[m][2]) for m in metrics if m in g.index}
    order = _order(list(rows), subsets, arm_order(summary))
    return pd.DataFrame([rows[k] for k in order], index=pd.MultiIndex.from_tuples(
        [(s, arm_label(a)) for s, a in order], names=["subset", "loss"]))


def comparison_table(comparisons: Any, metrics: Sequence[str], pairs: Sequence[tuple[str, str]] | None = None,
                     subsets: Sequence[str] = SUBSETS) -> Any:
    """Paired differences ``A − B``: rows subset × comparison × metric; columns difference,
    95 % interval, smallest detectable effect (80 % power), seeds, reading. Numbers as strings."""
    c = comparisons[comparisons.metric.isin(metrics)]
    if pairs is not None:
        c = c[[(a, b) in set(pairs) for a, b in zip(c.a, c.b)]]
    rows, index = [], []
    for subset in subsets:
        for _, r in c[c.subset == subset].iterrows():
            d = METRICS[r["metric"]][2]
            index.append((subset, f"{arm_label(r['a'])} − {arm_label(r['b'])}", metric_header(r["metric"])))
            rows.append({"difference": f"{r['diff']:+,.{d}f}", "95 % interval": f"[{r['lo']:+,.{d}f}, {r['hi']:+,.{d}f}]",
                         "detectable (80 %)": f"±{r['mde']:,.{d}f}", "seeds": int(r["n_seeds"]), "reading": r["verdict"]})
    return pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["subset", "comparison", "metric"]))


def stability_table(summary: Any, subsets: Sequence[str] = SUBSETS) -> Any:
    """Did training behave? Per subset × arm: passes run, selected pass (mean and its sd over the
    seeds), clipped steps, trunk gradient balance, validation-curve roughness, diverged runs ("k of
    n") and wall time (means over seeds)."""
    metrics = ("epochs_run", "best_epoch", "clipped_fraction", "balance_ratio", "roughness", "diverged", "wall_s")
    s = summary[summary.metric.isin(metrics)]
    rows = {}
    for (subset, arm), g in s.groupby(["subset", "arm"], sort=False):
        g = g.set_index("metric")
        row = {}
        for m in metrics:
            if m not in g.index:
                continue
            if m == "diverged":
                row[METRICS[m][0]] = f"{int(round(g.loc[m, 'mean'] * g.loc[m, 'n_seeds']))} of {int(g.loc[m, 'n_seeds'])}"
            else:
                row[metric_header(m)] = fmt(g.loc[m, "mean"], METRICS[m][2])
            if m == "best_epoch":
                row["spread of the selected pass, sd (passes)"] = fmt(g.loc[m, "sd"], 1)
        rows[(subset, arm)] = row
    order = _order(list(rows), subsets, arm_order(summary))
    return pd.DataFrame([rows[k] for k in order], index=pd.MultiIndex.from_tuples(
        [(s, arm_label(a)) for s, a in order], names=["subset", "loss"]))


def tuning_table(summary: Any, subsets: Sequence[str] = SUBSETS) -> Any:
    """A tuning stage (validation engines only): per subset × variant, the validation RMSE of the
    selected pass (mean ± sd over seeds), the selected pass, clipped steps and gradient balance."""
    rows = {}
    for (subset, arm), g in summary.groupby(["subset", "arm"], sort=False):
        g = g.set_index("metric")
        v = g.loc["best_val_rmse"]
        rows[(subset, arm)] = {
            "validation RMSE (cycles)": f"{v['mean']:.2f} ± {v['sd']:.2f}" if np.isfinite(v["sd"]) else f"{v['mean']:.2f}",
            "selected pass (passes)": fmt(g.loc["best_epoch", "mean"], 1),
            "clipped steps (share)": fmt(g.loc["clipped_fraction", "mean"], 2),
            "RUL : CE (ratio)": fmt(g.loc["balance_ratio", "mean"], 2),
            "seeds": int(v["n_seeds"]),
        }
    order = [(s, a) for s in subsets for a in dict.fromkeys(summary.arm) if (s, a) in rows]
    return pd.DataFrame([rows[k] for k in order], index=pd.MultiIndex.from_tuples(order, names=["subset", "variant"]))


def bucket_bias_table(preds: Any, subsets: Sequence[str] = SUBSETS) -> Any:
    """Mean signed error ``pred − true`` (cycles; > 0 = late) per subset × arm × true-RUL bucket,
    over all seeds and test engines (last windows), rounded to 0.1 cycle."""
    edges = [RUL_BUCKETS[0][2], *[hi for *_, hi in RUL_BUCKETS]]
    labels = [label for _, label, *_ in RUL_BUCKETS]
    d = preds.assign(error=preds.y_pred - preds.y_true,
                     bucket=pd.cut(preds.y_true, edges, labels=labels, right=True))
    t = d.groupby(["subset", "arm", "bucket"], observed=True, sort=False)["error"].mean().unstack("bucket")
    order = _order(list(t.index), subsets, arm_order(preds))
    t = t.loc[order, labels].round(1)
    t.index = pd.MultiIndex.from_tuples([(s, arm_label(a)) for s, a in order], names=["subset", "loss"])
    return t


# --------------------------------------------------------------------------- published numbers

#: Published last-cycle test results, **as reported**: (RMSE, NASA score) per subset, with the
#: bibliography key of the source and how the numbers were obtained.
ANCHORS: dict[str, dict[str, Any]] = {
    "DCNN": {"cite": "li2018dcnn", "values": {"FD001": (12.61, 273.7), "FD002": (22.36, 10412), "FD003": (12.64, 284.1),
                                              "FD004": (23.31, 12466)},
             "protocol": "as reported by the authors"},
    "BiLSTM": {"cite": "wang2018bilstm", "values": {"FD001": (13.65, 295), "FD002": (23.18, 4130), "FD003": (13.74, 317),
                                                    "FD004": (24.86, 5430)},
               "protocol": "as reported by the authors"},
    "DAST": {"cite": "zhang2022dast", "values": {"FD001": (11.43, 203), "FD002": (15.25, 924), "FD003": (11.32, 154),
                                                 "FD004": (18.23, 1490)},
             "protocol": "as copied in secondary tables (FD004 also quoted as 18.36)"},
    "STAR": {"cite": "fan2024star", "values": {"FD001": (10.61, 169), "FD002": (13.47, 784), "FD003": (10.71, 202),
                                               "FD004": (15.87, 1449)},
             "protocol": "as copied in secondary tables"},
    "DCNN re-implementation": {"cite": "miras_reimpl", "values": {"FD001": (13.1, None), "FD002": (12.7, None),
                                                                  "FD003": (12.0, None), "FD004": (13.6, None)},
                               "protocol": "10 seeds, per-condition normalisation, validation engines; 95 % interval about ±2 RMSE"},
    "AMNL, source material (claim)": {"cite": "bookai_amnl", "values": {"FD001": (10.43, 434.4), "FD002": (6.74, None),
                                                                        "FD003": (9.51, None), "FD004": (8.16, None)},
                                      "protocol": "claimed ± 1.94 / 0.91 / 1.74 / 2.17 RMSE; epochs selected on the test set"},
    "0.5/0.5 baseline, source material (claim)": {"cite": "bookai_amnl", "values": {"FD001": (10.08, 143.2), "FD002": (None, None),
                                                                                    "FD003": (None, None), "FD004": (None, None)},
                                                  "protocol": "the source's own newer table; epochs selected on the test set"},
}


def anchors_table(summary: Any, arms: Sequence[str] = ("mse", "amnl")) -> Any:
    """Published RMSE / NASA (as reported) beside this book's arms (mean ± sd over seeds, and the
    seed ensemble). Rows: methods; columns: subsets and how each row was obtained."""
    rows = {}
    for name, a in ANCHORS.items():
        rows[name] = {s: " / ".join("–" if v is None else f"{v:,}" for v in a["values"][s]) for s in SUBSETS}
        rows[name]["how"] = a["protocol"]
    for arm in arms:
        g = summary[summary.arm == arm].set_index(["subset", "metric"])
        if g.empty:
            continue
        n = int(summary[summary.arm == arm]["n_seeds"].min())
        rows[f"this book: {arm_label(arm)}"] = {
            # no-break spaces: "13.03 ± 0.51" never wraps inside itself, only at the "/"
            s: (f"{g.loc[(s, 'rmse'), 'mean']:.2f}\u00a0±\u00a0{g.loc[(s, 'rmse'), 'sd']:.2f} / "
                f"{g.loc[(s, 'nasa'), 'mean']:,.0f}"
                if (s, "rmse") in g.index else "–") for s in SUBSETS
        } | {"how": f"compact model, mean ± sd over {n} seeds; validation engines select, test read once"}
        rows[f"this book: {arm_label(arm)}, seed ensemble"] = {
            s: (f"{g.loc[(s, 'rmse'), 'ensemble']:.2f} / {g.loc[(s, 'nasa'), 'ensemble']:,.0f}"
                if (s, "rmse") in g.index else "–") for s in SUBSETS
        } | {"how": f"the mean prediction of the {n} seeds, scored once"}
    t = pd.DataFrame.from_dict(rows, orient="index")
    t.index.name = "RMSE / NASA score"
    return t


def parameter_tables(n_features: int = 14) -> Any:
    """Per-block parameter counts of both presets for ``n_features`` inputs per cycle, counted from
    the modules (rows: blocks)."""
    from ..engine.model import (  # lazy: imports torch, which this module otherwise does not need
        PRESETS,
        DualTaskModel,
        parameter_table,
    )

    return pd.DataFrame({p: parameter_table(DualTaskModel(p, n_features=n_features)) for p in ("compact", "paper")
                         if p in PRESETS})


# --------------------------------------------------------------------------- figures


def seed_mean_predictions(preds: Any) -> Any:
    """Seed-averaged prediction per (subset, arm, unit), with the seeds' min and max (cycles)."""
    g = preds.groupby(["subset", "arm", "unit"], sort=False)
    return g.agg(y_true=("y_true", "first"), y_pred=("y_pred", "mean"), lo=("y_pred", "min"),
                 hi=("y_pred", "max")).reset_index()


# --------------------------------------------------------------------------- tuning analysis


def replay_early_stopping(val_rmse: Sequence[float], patience: int) -> dict[str, float]:
    """What a run would have kept had it stopped after ``patience`` passes without a better
    validation RMSE — replayed on a whole validation curve (``val_rmse[k]`` after pass k + 1).

    Valid for curves recorded with the same budget (the learning-rate schedule depends on the
    budget, not on the patience, so the passes before the stop are the same). The rule is
    :func:`amnl_utils.engine.training.train`'s (``tests/test_reporting.py`` holds the two together).
    Returns ``{"best_epoch", "best_val_rmse", "epochs_run"}``.
    """
    if not isinstance(patience, int) or patience < 1:
        raise ValueError(f"patience must be a positive integer, got {patience!r}")
    best, best_epoch, since = float("inf"), 0, 0
    run = 0
    for k, v in enumerate(val_rmse, start=1):
        run = k
        if v < best:
            best, best_epoch, since = float(v), k, 0
        else:
            since += 1
        if since >= patience:
            break
    return {"best_epoch": best_epoch, "best_val_rmse": best, "epochs_run": run}


def patience_table(curves: Any, patiences: Sequence[int]) -> Any:
    """Per subset × variant × patience: the replayed selected validation RMSE (mean over seeds),
    the passes run and the passes saved against running the whole budget (curves: ``load_curves``)."""
    rows = []
    for (subset, arm, seed), g in curves.groupby(["subset", "arm", "seed"], sort=False):
        v = g.sort_values("epoch")["val_rmse"].to_numpy()
        full = min(v)
        for p in patiences:
            r = replay_early_stopping(v, p)
            rows.append({"subset": subset, "variant": arm, "seed": seed, "patience": p, "val_rmse": r["best_val_rmse"],
                         "loss vs whole budget": r["best_val_rmse"] - full, "passes run": r["epochs_run"],
                         "budget": len(v)})
    t = pd.DataFrame(rows).groupby(["subset", "variant", "patience"], sort=False).mean(numeric_only=True)
    return t.drop(columns="seed").round(3)

# --------------------------------------------------------------------------- relative differences


def relative_table(comparisons: Any, metrics: Sequence[str], pairs: Sequence[tuple[str, str]] | None = None,
                   subsets: Sequence[str] = SUBSETS, reading: Any = None) -> Any:
    """Paired differences ``A − B`` in percent of B's mean over the seeds, for claims stated in
    percent. Rows: subset × comparison × metric (in the order of ``pairs`` and ``metrics``);
    columns (in percent of B's mean): the difference, its 95 % interval (the t-interval of the paired
    difference divided by B's mean) and the smallest detectable effect (80 % power); seeds; a reading.
    ``reading(lo, hi) -> str`` (the interval as fractions) fills the last column; default: the
    comparison's own reading (whether 0 is inside). Numbers as strings."""
    c = comparisons[comparisons.metric.isin(metrics)]
    pair_list = list(pairs) if pairs is not None else list(dict.fromkeys(zip(c.a, c.b)))
    rows, index = [], []
    for subset in subsets:
        for a, b in pair_list:
            for metric in metrics:
                r = c[(c.subset == subset) & (c.a == a) & (c.b == b) & (c.metric == metric)]
                if r.empty:
                    continue
                r = r.iloc[0]
                lo, hi = r["lo"] / r["b_mean"], r["hi"] / r["b_mean"]
                index.append((subset, f"{arm_label(a)} − {arm_label(b)}", metric_header(metric)))
                rows.append({"difference (%)": f"{100 * r['rel_diff']:+.1f}",
                             "95 % interval (%)": f"[{100 * lo:+.1f}, {100 * hi:+.1f}]",
                             "detectable (80 %), %": f"±{100 * r['rel_mde']:.1f}", "seeds": int(r["n_seeds"]),
                             "reading": reading(lo, hi) if reading is not None else r["verdict"]})
    return pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["subset", "comparison", "metric"]))


# --------------------------------------------------------------------------- paired run measures and w_max panels


def run_measure_comparisons(grid: str, pairs: Sequence[tuple[str, str]],
                            metrics: Sequence[str] = ("clipped_fraction", "best_epoch", "epochs_run"),
                            results: str | os.PathLike | None = None, records: Sequence | None = None) -> Any:
    """Paired per-seed differences ``A − B`` of per-run training measures (``engine.RUN_MEASURES``),
    read from a grid's run files (or from its ``records``, :func:`~amnl_utils.book.loading.grid_records`,
    when the caller has read them already), for measures the aggregated comparisons do not hold. Columns as in
    ``comparisons.csv`` without the bootstrap: subset, a, b, metric, n_seeds, diff, sd, lo, hi, mde,
    b_mean, verdict (t-interval over the seeds both arms share; pairs with fewer than 2 are left out)."""
    unknown = [m for m in metrics if m not in RUN_MEASURES]
    if unknown:
        raise ValueError(f"not per-run measures: {unknown}; choose from {sorted(RUN_MEASURES)}")
    cols = ["subset", "a", "b", "metric", "n_seeds", "diff", "sd", "lo", "hi", "mde", "b_mean", "verdict"]
    rows = paired_rows(group_runs(records if records is not None else grid_records(grid, results)), pairs, metrics)
    return pd.DataFrame([{k: r[k] for k in cols} for r in rows], columns=cols)


# --------------------------------------------------------------------------- the verdict


def _pct(x: float) -> str:
    return f"{100 * x:+.1f}".replace("-", "−")


def verdict_frame(rows: Sequence[dict], labels: dict[str, str], measures: Sequence[str] | None = None) -> Any:
    """The relative paired differences of :func:`amnl_utils.analysis.verdict.verdict_table` as a
    table: per measure and subset (pooled last), AMNL − MSE in % of MSE with its 95 % interval, the
    smallest difference the seeds could detect, and the paired seeds."""
    out = []
    for r in rows:
        if measures is not None and r["measure"] not in measures:
            continue
        out.append({"measure": labels.get(r["measure"], r["measure"]), "subset": r["subset"],
                    "AMNL − MSE (%)": _pct(r["rel"]), "95 % interval (%)": f"{_pct(r['lo'])} to {_pct(r['hi'])}",
                    "detectable (%)": f"{100 * r['mde']:.1f}", "seeds": int(r["n"])})
    return pd.DataFrame(out).set_index(["measure", "subset"])


def arm_means_frame(rows: Sequence[dict], unit: str, decimals: int = 1) -> Any:
    """Each arm's mean per subset with its 95 % t-interval over seeds (rows of
    :func:`amnl_utils.analysis.verdict.arm_means`), one column per arm; ``unit`` goes in the headers."""
    cell = {}
    for r in rows:
        cell.setdefault(r["subset"], {})[f"{arm_label(r['arm'])} ({unit})"] = (
            f"{r['mean']:.{decimals}f} [{r['lo']:.{decimals}f}, {r['hi']:.{decimals}f}]")
    return pd.DataFrame.from_dict(cell, orient="index").rename_axis("subset")


def health_frame(rows: Sequence[dict]) -> Any:
    """The health head per subset (rows of :func:`amnl_utils.analysis.verdict.health_table`): each
    arm's accuracy and macro-F1 in % with its interval, and AMNL − MSE in points."""
    names = {"health_acc": "accuracy", "health_f1": "macro-F1"}
    out = []
    for r in rows:
        out.append({"subset": r["subset"], "measure": names[r["measure"]],
                    "MSE (%)": f"{r['mse_pts']:.1f} [{r['mse_lo_pts']:.1f}, {r['mse_hi_pts']:.1f}]",
                    "AMNL (%)": f"{r['amnl_pts']:.1f} [{r['amnl_lo_pts']:.1f}, {r['amnl_hi_pts']:.1f}]",
                    "AMNL − MSE (points)": f"{r['diff_pts']:+.1f} [{r['lo_pts']:+.1f}, {r['hi_pts']:+.1f}]"
                    .replace("-", "−")})
    return pd.DataFrame(out).set_index(["subset", "measure"])
