"""Load aggregated grid results and turn them into the book's tables and figures (no training here).

The notebooks call these functions on what ``python -m amnl_utils.experiments`` wrote:
``<results>/<grid>/summary.csv`` (per subset × arm × metric: mean, sd and t-interval over seeds;
for test metrics also the two-level seeds × engines bootstrap interval and the seed-ensemble value),
``comparisons.csv`` (each pair of arms the grid names: paired per-seed difference, t-interval,
minimum detectable effect, bootstrap check) and ``summary.json``; per-engine predictions and
curves come from the run files (:mod:`amnl_utils.results`). The statistics are explained in
:mod:`amnl_utils.stats` and on the book's Methods page.
"""

from __future__ import annotations

import json
import os
from typing import Any, Sequence

import numpy as np

from ._optional import require
from .constants import R_MAX, RUL_BUCKETS, SUBSETS
from .plotting import COLORS
from .results import resolve_root

pd = require("pandas", "amnl_utils.reporting")

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


# --------------------------------------------------------------------------- loading


def grid_dir(grid: str, results: str | os.PathLike | None = None):
    """``<results>/<grid>``; raises ``FileNotFoundError`` saying how to produce it."""
    root = resolve_root(results)
    path = root / grid
    if not (path / "summary.json").is_file():
        raise FileNotFoundError(
            f"no aggregated results for grid {grid!r} in {root}; clone the repository (results/ is committed) or "
            f"produce them with `python -m amnl_utils.experiments run --grid {grid} --aggregate`"
        )
    return path


def load_summary(grid: str, results: str | os.PathLike | None = None) -> tuple[Any, Any, dict]:
    """``(summary, comparisons, meta)`` of an aggregated grid (see the module docstring).

    meta is ``summary.json`` without its two tables: grid wall time, partial flag, configs, commits.
    """
    path = grid_dir(grid, results)
    summary = pd.read_csv(path / "summary.csv")
    comparisons = pd.read_csv(path / "comparisons.csv") if (path / "comparisons.csv").stat().st_size > 1 else pd.DataFrame()
    meta = json.loads((path / "summary.json").read_text())
    meta = {k: v for k, v in meta.items() if k not in ("summary", "comparisons")}
    return summary, comparisons, meta


def _grid_records(grid: str, results: str | os.PathLike | None = None) -> list[tuple[Any, dict]]:
    from .experiments import load_grid

    return load_grid(grid, resolve_root(results), partial=True)


def load_predictions(grid: str, results: str | os.PathLike | None = None, windows: str = "last") -> Any:
    """Per-engine test predictions of every run of a grid: one row per (subset, arm, seed, window).

    windows: ``"last"`` (one window per test engine: columns unit, y_true, y_pred, h_true, h_pred)
    or ``"near_failure"`` (every test window with true RUL ≤ 30: unit, y_true, y_pred). Cycles.
    """
    if windows not in ("last", "near_failure"):
        raise ValueError(f"windows must be 'last' or 'near_failure', got {windows!r}")
    frames = []
    for spec, rec in _grid_records(grid, results):
        p = rec["predictions"]
        cols = p if windows == "last" else p["nf"]
        cols = {k: v for k, v in cols.items() if k != "nf"}
        frames.append(pd.DataFrame({"subset": spec.config.subset, "arm": spec.arm, "seed": spec.config.seed, **cols}))
    if not frames:
        raise FileNotFoundError(f"no run files of grid {grid!r}")
    return pd.concat(frames, ignore_index=True)


def load_curves(grid: str, results: str | os.PathLike | None = None) -> Any:
    """Per-pass curves of every run: subset, arm, seed, epoch, lr, train losses, val_rmse, clipping, balance."""
    rows = []
    for spec, rec in _grid_records(grid, results):
        rows += [{"subset": spec.config.subset, "arm": spec.arm, "seed": spec.config.seed, **c} for c in rec["curves"]]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- tables


def _fmt(x: float, d: int) -> str:
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
        name, _, d = METRICS[metric]
        cell = out.setdefault((subset, arm), {})
        cell[name] = f"{_fmt(r['mean'], d)} ± {_fmt(r['sd'], d)}"
        if "of" in r and np.isfinite(r["of"]):  # a count: say out of how many
            cell[name] += f" of {int(r['of'])}"
        if interval:
            cell[f"{name}, 95 % interval"] = f"[{_fmt(r['t_lo'], d)}, {_fmt(r['t_hi'], d)}]"
    order = _order(list(out), subsets, arm_order(summary))
    cols = []
    for m in metrics:
        cols.append(METRICS[m][0])
        if interval:
            cols.append(f"{METRICS[m][0]}, 95 % interval")
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
            f"{METRICS[m][0]}, mean of seeds": _fmt(g.loc[m, "mean"], METRICS[m][2]) for m in metrics if m in g.index
        } | {f"{METRICS[m][0]}, seed ensemble": _fmt(g.loc[m, "ensemble"], METRICS[m][2]) for m in metrics if m in g.index}
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
            index.append((subset, f"{arm_label(r['a'])} − {arm_label(r['b'])}", METRICS[r["metric"]][0]))
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
                row[METRICS[m][0]] = _fmt(g.loc[m, "mean"], METRICS[m][2])
            if m == "best_epoch":
                row["spread of the selected pass (sd)"] = _fmt(g.loc[m, "sd"], 1)
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
            "validation RMSE": f"{v['mean']:.2f} ± {v['sd']:.2f}" if np.isfinite(v["sd"]) else f"{v['mean']:.2f}",
            "selected pass": _fmt(g.loc["best_epoch", "mean"], 1),
            "clipped steps": _fmt(g.loc["clipped_fraction", "mean"], 2),
            "RUL : CE": _fmt(g.loc["balance_ratio", "mean"], 2),
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
    from .model import PRESETS, DualTaskModel, parameter_table

    return pd.DataFrame({p: parameter_table(DualTaskModel(p, n_features=n_features)) for p in ("compact", "paper")
                         if p in PRESETS})


# --------------------------------------------------------------------------- figures


def seed_mean_predictions(preds: Any) -> Any:
    """Seed-averaged prediction per (subset, arm, unit), with the seeds' min and max (cycles)."""
    g = preds.groupby(["subset", "arm", "unit"], sort=False)
    return g.agg(y_true=("y_true", "first"), y_pred=("y_pred", "mean"), lo=("y_pred", "min"),
                 hi=("y_pred", "max")).reset_index()


def plot_pred_vs_true(preds: Any, arms: Sequence[str] | None = None, subsets: Sequence[str] = SUBSETS):
    """One panel per subset (2 × 2): test engines sorted by true RUL; the true (capped) RUL as a
    black line and each arm's seed-averaged prediction as dodged markers, so that no arm hides
    another. Returns the Figure (no title: the caption carries the finding)."""
    import matplotlib.pyplot as plt

    m = seed_mean_predictions(preds)
    arms = list(arms) if arms is not None else arm_order(preds)
    subsets = [s for s in subsets if s in set(m.subset)]
    ncols = 2 if len(subsets) > 1 else 1
    nrows = int(np.ceil(len(subsets) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(7.0, 3.0 * nrows), sharey=True, squeeze=False)
    markers = ["o", "s", "^", "D", "v", "P", "X"]
    for ax, subset in zip(axes.flat, subsets):
        d = m[m.subset == subset]
        base = d[d.arm == arms[0]].sort_values(["y_true", "unit"])
        order = {u: i for i, u in enumerate(base.unit)}
        for i, arm in enumerate(arms):
            a = d[d.arm == arm]
            x = a.unit.map(order) + (i - (len(arms) - 1) / 2) * 0.28
            ax.scatter(x, a.y_pred, s=9, marker=markers[i % len(markers)], color=arm_color(arm),
                       label=arm_label(arm), alpha=0.85, linewidths=0, zorder=2)
        ax.plot(range(len(base)), base.y_true, color="black", lw=1.2, label="true RUL (capped)", zorder=3)
        ax.set_title(f"{subset} ({len(base)} test engines)", fontsize=10, fontweight="normal")
        ax.set_xlabel("test engine, sorted by true RUL")
        ax.set_ylabel("RUL (cycles)")
        ax.set_ylim(-5, R_MAX + 20)
    for ax in list(axes.flat)[len(subsets):]:
        ax.set_visible(False)
    axes.flat[0].legend(loc="upper left", fontsize=8, markerscale=1.5)
    return fig


def plot_bucket_rmse(summary: Any, arms: Sequence[str] | None = None, subsets: Sequence[str] = SUBSETS):
    """RMSE per true-RUL bucket (mean over seeds; whisker = t-interval over seeds), one panel per
    subset (2 × 2), arms side by side. Returns the Figure."""
    import matplotlib.pyplot as plt

    arms = list(arms) if arms is not None else arm_order(summary)
    subsets = [s for s in subsets if s in set(summary.subset)]
    labels = [label for _, label, *_ in RUL_BUCKETS]
    nrows = int(np.ceil(len(subsets) / 2))
    fig, axes = plt.subplots(nrows, 2 if len(subsets) > 1 else 1, figsize=(7.0, 2.8 * nrows), sharey=True, squeeze=False)
    width = 0.8 / len(arms)
    for ax, subset in zip(axes.flat, subsets):
        g = summary[summary.subset == subset].set_index(["arm", "metric"])
        for i, arm in enumerate(arms):
            means = np.array([g.loc[(arm, b), "mean"] for b in BUCKET_METRICS])
            lo = np.array([g.loc[(arm, b), "t_lo"] for b in BUCKET_METRICS])
            hi = np.array([g.loc[(arm, b), "t_hi"] for b in BUCKET_METRICS])
            x = np.arange(3) + (i - (len(arms) - 1) / 2) * width
            ax.bar(x, means, width, yerr=[means - lo, hi - means], color=arm_color(arm), label=arm_label(arm),
                   capsize=2, error_kw={"lw": 0.8})
        ax.set_xticks(np.arange(3), labels, fontsize=8)
        ax.set_title(subset, fontsize=10, fontweight="normal")
        ax.set_ylabel("RMSE (cycles)")
    for ax in list(axes.flat)[len(subsets):]:
        ax.set_visible(False)
    axes.flat[0].legend(loc="upper left", fontsize=8)
    return fig


def plot_forest(comparisons: Any, metrics: Sequence[str], pairs: Sequence[tuple[str, str]] | None = None,
                subsets: Sequence[str] = SUBSETS):
    """Forest plot of paired differences ``A − B`` (mean over seeds, t-interval over the per-seed
    differences), one panel per metric, stacked; a grey band marks ± the smallest effect the grid
    detects with 80 % power. An interval that crosses 0 is "no measurable difference"."""
    import matplotlib.pyplot as plt

    c = comparisons[comparisons.metric.isin(metrics)]
    if pairs is not None:
        c = c[[(a, b) in set(pairs) for a, b in zip(c.a, c.b)]]
    pair_list = list(dict.fromkeys(zip(c.a, c.b)))
    subsets = [s for s in subsets if s in set(c.subset)]
    rows = [(s, p) for s in subsets for p in pair_list if ((c.subset == s) & (c.a == p[0]) & (c.b == p[1])).any()]
    fig, axes = plt.subplots(len(metrics), 1, figsize=(7.0, 0.9 + 0.28 * len(rows) * len(metrics) + 0.5 * len(metrics)),
                             squeeze=False)
    for ax, metric in zip(axes[:, 0], metrics):
        y = np.arange(len(rows))[::-1]
        for yi, (subset, (a, b)) in zip(y, rows):
            r = c[(c.subset == subset) & (c.a == a) & (c.b == b) & (c.metric == metric)]
            if r.empty:
                continue
            r = r.iloc[0]
            ax.fill_betweenx([yi - 0.4, yi + 0.4], -r["mde"], r["mde"], color="#000000", alpha=0.06, lw=0)
            crosses = r["lo"] <= 0 <= r["hi"]
            color = arm_color(a)
            ax.errorbar([r["diff"]], [yi], xerr=[[r["diff"] - r["lo"]], [r["hi"] - r["diff"]]], fmt="o",
                        color=color, mfc="white" if crosses else color, capsize=2, ms=4, lw=1.2)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(y, [f"{s}: {arm_label(a)} − {arm_label(b)}" for s, (a, b) in rows], fontsize=8)
        name, unit, _ = METRICS[metric]
        ax.set_xlabel(f"difference in {name}" + (f" ({unit})" if unit else ""))
        ax.grid(axis="y", alpha=0)
    return fig


def plot_metric_by_arm(summary: Any, metric: str, arms: Sequence[str] | None = None, x: Sequence[float] | None = None,
                       subsets: Sequence[str] | None = None, xlabel: str = ""):
    """Mean over seeds with its t-interval for each arm (x = the arms' positions, e.g. their
    w_max), one line per subset. Returns the Figure."""
    import matplotlib.pyplot as plt

    arms = list(arms) if arms is not None else arm_order(summary)
    subsets = list(subsets) if subsets is not None else [s for s in SUBSETS if s in set(summary.subset)]
    xs = np.asarray(x if x is not None else np.arange(len(arms)), dtype=float)
    fig, ax = plt.subplots(figsize=(7.0, 3.4))
    for k, subset in enumerate(subsets):
        g = summary[(summary.subset == subset) & (summary.metric == metric)].set_index("arm")
        have = [i for i, a in enumerate(arms) if a in g.index]
        mean = np.array([g.loc[arms[i], "mean"] for i in have])
        lo = np.array([g.loc[arms[i], "t_lo"] for i in have])
        hi = np.array([g.loc[arms[i], "t_hi"] for i in have])
        ax.errorbar(xs[have] * (1 + 0.012 * (k - (len(subsets) - 1) / 2)), mean, yerr=[mean - lo, hi - mean], fmt="o-",
                    capsize=3, ms=4, lw=1.2, label=subset)
    name, unit, _ = METRICS[metric]
    ax.set_ylabel(name + (f" ({unit})" if unit else ""))
    ax.set_xlabel(xlabel)
    if x is None:
        ax.set_xticks(xs, [arm_label(a) for a in arms], rotation=20, ha="right", fontsize=8)
    ax.legend(fontsize=8)
    return fig


def plot_w_max_effect(summary: Any, metrics: Sequence[str], w_max_values: Sequence[float],
                      subsets: Sequence[str] = SUBSETS):
    """One panel per metric (stacked): AMNL's mean over seeds with its t-interval against ``w_max``
    (log axis; 1 is MSE), one line per subset, and the scaled-MSE controls as open squares at their
    ``w_max``. Returns the Figure."""
    import matplotlib.pyplot as plt

    subsets = [s for s in subsets if s in set(summary.subset)]
    fig, axes = plt.subplots(len(metrics), 1, figsize=(7.0, 2.9 * len(metrics)), sharex=True, squeeze=False)
    markers = {s: m for s, m in zip(SUBSETS, ("o", "s", "^", "D"))}
    for ax, metric in zip(axes[:, 0], metrics):
        for k, subset in enumerate(subsets):
            g = summary[(summary.subset == subset) & (summary.metric == metric)].set_index("arm")
            ws = [w for w in w_max_values if f"amnl_w{w:g}" in g.index]
            rows = g.loc[[f"amnl_w{w:g}" for w in ws]]
            shift = 1 + 0.03 * (k - (len(subsets) - 1) / 2)
            line = ax.errorbar(np.array(ws) * shift, rows["mean"], yerr=[rows["mean"] - rows["t_lo"], rows["t_hi"] - rows["mean"]],
                               fmt="-" + markers[subset], ms=4, capsize=2, lw=1.2, label=f"{subset}, AMNL")
            sc = [w for w in w_max_values if f"scaled_w{w:g}" in g.index]
            if sc:
                srows = g.loc[[f"scaled_w{w:g}" for w in sc]]
                ax.errorbar(np.array(sc) * shift * 1.04, srows["mean"], yerr=[srows["mean"] - srows["t_lo"],
                            srows["t_hi"] - srows["mean"]], fmt="s", mfc="white", ms=5, capsize=2, lw=1,
                            color=line[0].get_color(), label=f"{subset}, scaled MSE")
        name, unit, _ = METRICS[metric]
        ax.set_ylabel(name + (f" ({unit})" if unit else ""), fontsize=9)
        ax.set_xscale("log")
        ax.set_xticks(list(w_max_values), [f"{w:g}" for w in w_max_values])
        ax.minorticks_off()
    axes[-1, 0].set_xlabel("$w_{\\max}$ (1 = MSE)")
    axes[0, 0].legend(fontsize=8, ncol=2)
    return fig


# --------------------------------------------------------------------------- tuning analysis


def replay_early_stopping(val_rmse: Sequence[float], patience: int) -> dict[str, float]:
    """What a run would have kept had it stopped after ``patience`` passes without a better
    validation RMSE — replayed on a whole validation curve (``val_rmse[k]`` after pass k + 1).

    Valid for curves recorded with the same budget (the learning-rate schedule depends on the
    budget, not on the patience, so the passes before the stop are the same). The rule is
    :func:`amnl_utils.training.train`'s (``tests/test_reporting.py`` holds the two together).
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
                index.append((subset, f"{arm_label(a)} − {arm_label(b)}", METRICS[metric][0]))
                rows.append({"difference (%)": f"{100 * r['rel_diff']:+.1f}",
                             "95 % interval (%)": f"[{100 * lo:+.1f}, {100 * hi:+.1f}]",
                             "detectable (80 %), %": f"±{100 * r['rel_mde']:.1f}", "seeds": int(r["n_seeds"]),
                             "reading": reading(lo, hi) if reading is not None else r["verdict"]})
    return pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["subset", "comparison", "metric"]))


def mark_relative_range(ax: Any, comparisons: Any, pair: tuple[str, str], metric: str, rel_range: tuple[float, float],
                        label: str | None = None, subsets: Sequence[str] = SUBSETS) -> Any:
    """On a panel of :func:`plot_forest`, hatch the range ``rel_range`` (fractions of B's mean over
    the seeds, e.g. a claimed relative difference) on the row of ``pair`` of each subset, in the
    metric's unit. Rows are found by their tick labels; a subset without that row is skipped."""
    a, b = pair
    ticks = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks())}
    first = True
    for subset in subsets:
        r = comparisons[(comparisons.subset == subset) & (comparisons.a == a) & (comparisons.b == b)
                        & (comparisons.metric == metric)]
        y = ticks.get(f"{subset}: {arm_label(a)} − {arm_label(b)}")
        if r.empty or y is None:
            continue
        m = float(r.iloc[0]["b_mean"])
        ax.fill_betweenx([y - 0.4, y + 0.4], rel_range[0] * m, rel_range[1] * m, facecolor="none", hatch="////",
                         edgecolor=arm_color(a), lw=0.8, label=label if first else None, zorder=1)
        first = False
    return ax


# --------------------------------------------------------------------------- paired run measures and w_max panels


def run_measure_comparisons(grid: str, pairs: Sequence[tuple[str, str]],
                            metrics: Sequence[str] = ("clipped_fraction", "best_epoch", "epochs_run"),
                            results: str | os.PathLike | None = None) -> Any:
    """Paired per-seed differences ``A − B`` of per-run training measures (``experiments.RUN_MEASURES``),
    read from a grid's run files, for measures the aggregated comparisons do not hold. Columns as in
    ``comparisons.csv`` without the bootstrap: subset, a, b, metric, n_seeds, diff, sd, lo, hi, mde,
    b_mean, verdict (t-interval over the seeds both arms share; pairs with fewer than 2 are left out)."""
    from . import stats as S
    from .experiments import RUN_MEASURES, group_runs

    unknown = [m for m in metrics if m not in RUN_MEASURES]
    if unknown:
        raise ValueError(f"not per-run measures: {unknown}; choose from {sorted(RUN_MEASURES)}")
    groups = group_runs(_grid_records(grid, results))
    rows = []
    for subset in sorted({s for s, _ in groups}):
        for a, b in pairs:
            if (subset, a) not in groups or (subset, b) not in groups:
                continue
            ga, gb = groups[(subset, a)], groups[(subset, b)]
            common = sorted(set(ga.seeds) & set(gb.seeds))
            if len(common) < 2:
                continue
            ia, ib = [ga.seeds.index(s) for s in common], [gb.seeds.index(s) for s in common]
            for metric in metrics:
                va, vb = ga.per_seed(metric)[ia], gb.per_seed(metric)[ib]
                if not (np.isfinite(va).all() and np.isfinite(vb).all()):
                    continue
                d = S.paired_difference(va, vb)
                rows.append({"subset": subset, "a": a, "b": b, "metric": metric, "n_seeds": d["n"], "diff": d["diff"],
                             "sd": d["sd"], "lo": d["lo"], "hi": d["hi"], "mde": d["mde"], "b_mean": float(np.mean(vb)),
                             "verdict": S.verdict(d["lo"], d["hi"])})
    cols = ["subset", "a", "b", "metric", "n_seeds", "diff", "sd", "lo", "hi", "mde", "b_mean", "verdict"]
    return pd.DataFrame(rows, columns=cols)


def _w_max_axes(n_rows: int, subsets: Sequence[str], row_height: float = 2.3):
    import matplotlib.pyplot as plt

    height = round(96 * (0.9 + row_height * n_rows)) / 96  # whole pixels at the display dpi
    fig, axes = plt.subplots(n_rows, len(subsets), figsize=(7.0, height), sharex=True,
                             squeeze=False)
    for ax, subset in zip(axes[0], subsets):
        ax.set_title(subset, fontsize=10.5)
    return fig, axes


def _wrap_label(name: str, unit: str) -> str:
    """An axis label on two lines at its first comma (long metric names), unit in brackets."""
    return name.replace(", ", ",\n", 1) + (f" ({unit})" if unit else "")


def _w_max_ticks(ax: Any, w_max_values: Sequence[float]) -> None:
    ax.set_xscale("log")
    ax.set_xticks(list(w_max_values), [f"{w:g}" for w in w_max_values])
    ax.minorticks_off()


def plot_w_max_levels(summary: Any, metrics: Sequence[str], w_max_values: Sequence[float],
                      subsets: Sequence[str] = ("FD001", "FD002"), log_metrics: Sequence[str] = ()):
    """Levels against ``w_max``: one row of panels per metric, one column per subset (each its own
    y-axis). AMNL (linear) as a green line, its mean over seeds with the t-interval; ``w_max = 1``
    (MSE) as a grey point with a dotted grey line at its mean; the scaled-MSE controls as open blue
    squares at their ``w_max``. ``log_metrics``: metrics drawn on a log y-axis. Returns the Figure."""
    subsets = [s for s in subsets if s in set(summary.subset)]
    fig, axes = _w_max_axes(len(metrics), subsets)
    for i, metric in enumerate(metrics):
        name, unit, _ = METRICS[metric]
        for j, subset in enumerate(subsets):
            ax = axes[i, j]
            g = summary[(summary.subset == subset) & (summary.metric == metric)].set_index("arm")
            ws = [w for w in w_max_values if f"amnl_w{w:g}" in g.index]
            r = g.loc[[f"amnl_w{w:g}" for w in ws]]
            ax.errorbar(ws, r["mean"], yerr=[r["mean"] - r["t_lo"], r["t_hi"] - r["mean"]], fmt="-o", ms=4, capsize=2,
                        lw=1.4, color=COLORS["amnl"], label="AMNL (linear)")
            if "amnl_w1" in g.index:
                m = g.loc["amnl_w1"]
                ax.axhline(m["mean"], color=COLORS["mse"], ls=":", lw=1.2)
                ax.errorbar([1.0], [m["mean"]], yerr=[[m["mean"] - m["t_lo"]], [m["t_hi"] - m["mean"]]], fmt="o", ms=5,
                            capsize=2, color=COLORS["mse"], label="MSE ($w_{\\max} = 1$)", zorder=3)
            sc = [w for w in w_max_values if f"scaled_w{w:g}" in g.index]
            if sc:
                s = g.loc[[f"scaled_w{w:g}" for w in sc]]
                ax.errorbar(np.array(sc) * 1.06, s["mean"], yerr=[s["mean"] - s["t_lo"], s["t_hi"] - s["mean"]], fmt="s",
                            mfc="white", ms=5, capsize=2, lw=1, color=COLORS["scaled"],
                            label="scaled MSE, same mean weight")
            if metric in log_metrics:
                ax.set_yscale("log")
            _w_max_ticks(ax, w_max_values)
            if j == 0:
                ax.set_ylabel(_wrap_label(name, unit), fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("$w_{\\max}$ (1 = MSE)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8.5)
    return fig


def plot_w_max_differences(comparisons: Any, metrics: Sequence[str], w_max_values: Sequence[float],
                           reference: str = "amnl_w1", subsets: Sequence[str] = ("FD001", "FD002")):
    """Paired differences against ``reference`` (default MSE) as a function of ``w_max``: one row of
    panels per metric, one column per subset. AMNL at each ``w_max`` minus the reference (mean of the
    per-seed differences, t-interval; filled marker: the interval excludes 0, open: it contains 0), the
    scaled-MSE controls as blue squares, and a grey band of ± the smallest difference the grid detects
    with 80 % power (the MDE) at each ``w_max``. Below 0: lower than the reference. Returns the Figure."""
    subsets = [s for s in subsets if s in set(comparisons.subset)]
    fig, axes = _w_max_axes(len(metrics), subsets)
    ref_label = arm_label(reference).split(" (")[0]
    for i, metric in enumerate(metrics):
        name, unit, _ = METRICS[metric]
        for j, subset in enumerate(subsets):
            ax = axes[i, j]
            c = comparisons[(comparisons.subset == subset) & (comparisons.metric == metric) & (comparisons.b == reference)]
            c = c.set_index("a")
            for prefix, color, marker, label, shift in (("amnl_w", COLORS["amnl"], "o", "AMNL", 1.0),
                                                        ("scaled_w", COLORS["scaled"], "s", "scaled MSE", 1.06)):
                ws = [w for w in w_max_values if f"{prefix}{w:g}" in c.index]
                if not ws:
                    continue
                r = c.loc[[f"{prefix}{w:g}" for w in ws]]
                if prefix == "amnl_w":
                    ax.fill_between(ws, -r["mde"], r["mde"], color="#000000", alpha=0.07, lw=0,
                                    label="± smallest detectable difference (80 % power)")
                    ax.plot(ws, r["diff"], color=color, lw=1.2)
                for w, (_, row) in zip(ws, r.iterrows()):
                    crosses = row["lo"] <= 0 <= row["hi"]
                    ax.errorbar([w * shift], [row["diff"]], yerr=[[row["diff"] - row["lo"]], [row["hi"] - row["diff"]]],
                                fmt=marker, ms=5, capsize=2, lw=1.2, color=color, mfc="white" if crosses else color,
                                label=f"{label} − {ref_label}" if w == ws[0] else None)
            ax.axhline(0, color="black", lw=0.8)
            _w_max_ticks(ax, w_max_values)
            if j == 0:
                ax.set_ylabel(_wrap_label(f"Δ {name}", unit), fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("$w_{\\max}$")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8.5)
    return fig
