"""Load cached grid results and turn them into the book's tables and figures (no training here).

The notebooks call these functions on the files that ``python -m amnl_utils.experiments`` wrote:
``results/<grid>/summary.csv`` (per subset × arm: mean, std over seeds, engine-bootstrap 95 %
interval), ``comparisons.csv`` (arm − MSE with a paired bootstrap interval) and the per-run JSON
files (per-engine test predictions).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .constants import HEALTH_CRITICAL_AT_OR_BELOW, HEALTH_NORMAL_ABOVE, SUBSETS
from .plotting import COLORS

#: Arms in the order the book shows them, with their display names and palette keys.
ARMS: dict[str, tuple[str, str]] = {
    "mse": ("MSE", "mse"),
    "scaled_mse": ("scaled MSE", "scaled"),
    "amnl": ("AMNL", "amnl"),
}
#: Metrics of the headline table: name → (column title, decimals).
METRICS: dict[str, tuple[str, int]] = {
    "rmse": ("RMSE", 2),
    "nasa": ("NASA score", 0),
    "nf_rmse": ("near-failure RMSE", 2),
    "late_count": ("late > 10 (RUL <= 30)", 1),
    "health_acc": ("health acc.", 3),
    "health_f1": ("health macro-F1", 3),
    "rmse_le30": ("RMSE, RUL <= 30", 2),
    "rmse_30_80": ("RMSE, 30 < RUL <= 80", 2),
    "rmse_gt80": ("RMSE, RUL > 80", 2),
}
BUCKET_METRICS: tuple[str, ...] = ("rmse_le30", "rmse_30_80", "rmse_gt80")

#: Published last-cycle test results (SPEC §8), **as reported**: (RMSE, NASA score) per subset.
ANCHORS: dict[str, dict[str, Any]] = {
    "DCNN (Li, Ding & Sun 2018, RESS)": {
        "values": {"FD001": (12.61, 273.7), "FD002": (22.36, 10412), "FD003": (12.64, 284.1), "FD004": (23.31, 12466)},
        "protocol": "as reported",
    },
    "BiLSTM (Wang et al. 2018)": {
        "values": {"FD001": (13.65, 295), "FD002": (23.18, 4130), "FD003": (13.74, 317), "FD004": (24.86, 5430)},
        "protocol": "as reported",
    },
    "DAST (Zhang et al. 2022)": {
        "values": {"FD001": (11.43, 203), "FD002": (15.25, 924), "FD003": (11.32, 154), "FD004": (18.23, 1490)},
        "protocol": "as reported in secondary tables (FD004 also quoted as 18.36)",
    },
    "STAR (Fan, Li & Chang 2024, Sensors 24(3):824)": {
        "values": {"FD001": (10.61, 169), "FD002": (13.47, 784), "FD003": (10.71, 202), "FD004": (15.87, 1449)},
        "protocol": "as reported in secondary tables",
    },
    "DCNN re-implementation (nautel/cmapss-rul-miras)": {
        "values": {"FD001": (13.1, None), "FD002": (12.7, None), "FD003": (12.0, None), "FD004": (13.6, None)},
        "protocol": "10 seeds, per-condition normalisation, engine-level validation; 95 % interval about ±2 RMSE",
    },
    "AMNL source material (claim)": {
        "values": {"FD001": (10.43, 434.4), "FD002": (6.74, None), "FD003": (9.51, None), "FD004": (8.16, None)},
        "protocol": "claimed ± 1.94 / 0.91 / 1.74 / 2.17; epochs selected on the test set",
    },
    "0.5/0.5 baseline in the source material (claim)": {
        "values": {"FD001": (10.08, 143.2), "FD002": (None, None), "FD003": (None, None), "FD004": (None, None)},
        "protocol": "the source's own newer table; epochs selected on the test set",
    },
}


def results_dir(path: str | os.PathLike | None = None) -> Path:
    """Find the results folder: ``path``, ``$AMNL_RESULTS``, ``./results``, ``../results``, the repo's.

    Raises ``FileNotFoundError`` saying how to produce the files if none exists.
    """
    candidates = [Path(p) for p in (path, os.environ.get("AMNL_RESULTS")) if p]
    candidates += [Path("results"), Path("..") / "results", Path(__file__).resolve().parent.parent / "results"]
    for c in candidates:
        if c.is_dir():
            return c
    raise FileNotFoundError(
        "no results folder found (looked for ./results, ../results and the repository's); clone the "
        "repository, or produce them with `python -m amnl_utils.experiments run --grid headline`"
    )


def load_summary(grid: str = "headline", results: str | os.PathLike | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """``(summary, comparisons, meta)`` of an aggregated grid.

    summary: one row per (subset, arm, metric) with mean, std, ci_low, ci_high, n_seeds, ….
    comparisons: one row per (subset, arm ≠ mse, metric) with diff, ci_low, ci_high, verdict.
    meta: ``summary.json`` without its tables (grid wall time, config, commits).
    """
    root = results_dir(results) / grid
    summary = pd.read_csv(root / "summary.csv")
    comparisons = pd.read_csv(root / "comparisons.csv")
    meta = json.loads((root / "summary.json").read_text())
    meta = {k: v for k, v in meta.items() if k not in ("summary", "comparisons")}
    return summary, comparisons, meta


def load_predictions(grid: str = "headline", results: str | os.PathLike | None = None) -> pd.DataFrame:
    """Per-engine test predictions of every run: one row per (subset, arm, seed, unit).

    Columns: subset, arm, seed, unit, y_true (capped, cycles), y_pred (cycles), h_true, h_pred.
    """
    root = results_dir(results) / grid
    frames = []
    for f in sorted(root.glob("FD00*/*.json")):
        r = json.loads(f.read_text())
        p = r["predictions"]
        frames.append(pd.DataFrame({"subset": r["subset"], "arm": r["grid_arm"], "seed": r["seed"], **p}))
    if not frames:
        raise FileNotFoundError(f"no run files under {root}")
    return pd.concat(frames, ignore_index=True)


def load_curves(grid: str = "headline", results: str | os.PathLike | None = None) -> pd.DataFrame:
    """Per-epoch curves of every run: subset, arm, seed, epoch, train_loss, train_rul_loss, train_ce, val_rmse."""
    root = results_dir(results) / grid
    rows = []
    for f in sorted(root.glob("FD00*/*.json")):
        r = json.loads(f.read_text())
        rows += [{"subset": r["subset"], "arm": r["grid_arm"], "seed": r["seed"], **c} for c in r["curves"]]
    return pd.DataFrame(rows)


def bucket_bias_table(preds: pd.DataFrame) -> pd.DataFrame:
    """Mean signed error ``pred - true`` (cycles; > 0 = late) per subset × arm × true-RUL bucket,
    over all seeds and test engines, rounded to 0.1 cycle."""
    edges = [-np.inf, HEALTH_CRITICAL_AT_OR_BELOW, HEALTH_NORMAL_ABOVE, np.inf]
    labels = ["RUL ≤ 30", "30 < RUL ≤ 80", "RUL > 80"]
    d = preds.assign(error=preds.y_pred - preds.y_true,
                     bucket=pd.cut(preds.y_true, edges, labels=labels, right=True),
                     loss=preds.arm.map(lambda a: ARMS[a][0]))
    t = d.groupby(["subset", "loss", "bucket"], observed=True, sort=False)["error"].mean().unstack("bucket")
    order = [(s, ARMS[a][0]) for s in SUBSETS for a in ARMS if (s, ARMS[a][0]) in t.index]
    return t.loc[order, labels].round(1)


def budget_table(grid: str = "headline", results: str | os.PathLike | None = None) -> pd.DataFrame:
    """Did the training budget bind? Per subset × arm: mean epochs run, mean best epoch, and how many
    runs reached the epoch cap while still within their patience (they might have improved further)."""
    root = results_dir(results) / grid
    rows = []
    for f in sorted(root.glob("FD00*/*.json")):
        r = json.loads(f.read_text())
        st = r["stopping"]
        rows.append({"subset": r["subset"], "loss": ARMS[r["grid_arm"]][0], "epochs run": st["epochs_run"],
                     "best epoch": st["best_epoch"], "stopped by the cap": int(st["hit_max_epochs"])})
    t = pd.DataFrame(rows).groupby(["subset", "loss"], sort=False).agg(
        {"epochs run": "mean", "best epoch": "mean", "stopped by the cap": "sum"})
    order = [(s, ARMS[a][0]) for s in SUBSETS for a in ARMS if (s, ARMS[a][0]) in t.index]
    t = t.loc[order]
    t["epochs run"] = t["epochs run"].round(1)
    t["best epoch"] = t["best epoch"].round(1)
    t["stopped by the cap"] = t["stopped by the cap"].astype(str) + " of " + (
        pd.DataFrame(rows).groupby(["subset", "loss"]).size().loc[order].astype(str))
    return t


def _complete(summary_or_preds: pd.DataFrame, subsets: Sequence[str]) -> list[str]:
    """The subsets for which every arm has results (a grid may be partial while it runs)."""
    have = summary_or_preds.groupby("subset")["arm"].nunique()
    return [s for s in subsets if have.get(s, 0) == len(ARMS)]


def _fmt(x: float, d: int) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:,.{d}f}"


def format_cell(row: pd.Series, decimals: int, interval: bool = True) -> str:
    """``"mean ± std [low, high]"`` with the metric's decimals."""
    s = f"{_fmt(row['mean'], decimals)} ± {_fmt(row['std'], decimals)}"
    if interval:
        s += f" [{_fmt(row['ci_low'], decimals)}, {_fmt(row['ci_high'], decimals)}]"
    return s


def headline_table(
    summary: pd.DataFrame, metrics: Sequence[str] = ("rmse", "nasa", "nf_rmse", "health_acc"), interval: bool = True
) -> pd.DataFrame:
    """Rows: subset × arm; columns: metrics; cells ``"mean ± std [95 % interval]"`` as strings."""
    out = {}
    for (subset, arm), grp in summary.groupby(["subset", "arm"], sort=False):
        g = grp.set_index("metric")
        out[(subset, ARMS[arm][0])] = {METRICS[m][0]: format_cell(g.loc[m], METRICS[m][1], interval) for m in metrics}
    order = [(s, ARMS[a][0]) for s in SUBSETS for a in ARMS if (s, ARMS[a][0]) in out]
    table = pd.DataFrame.from_dict(out, orient="index").loc[order]
    table.index = pd.MultiIndex.from_tuples(table.index, names=["subset", "loss"])
    return table


def comparison_table(comparisons: pd.DataFrame, metrics: Sequence[str] = ("rmse", "nasa", "nf_rmse")) -> pd.DataFrame:
    """Rows: subset × arm (vs MSE); columns: metrics; cells ``"diff [low, high]: verdict"``."""
    out = {}
    for _, r in comparisons.iterrows():
        if r["metric"] not in metrics:
            continue
        d = METRICS[r["metric"]][1]
        key = (r["subset"], f"{ARMS[r['arm']][0]} − MSE")
        short = {"no measurable difference": "no measurable difference", "lower than MSE": "lower",
                 "higher than MSE": "higher"}.get(r["verdict"], r["verdict"])
        out.setdefault(key, {})[METRICS[r["metric"]][0]] = (
            f"{r['diff']:+,.{d}f} [{r['ci_low']:+,.{d}f}, {r['ci_high']:+,.{d}f}] {short}"
        )
    table = pd.DataFrame.from_dict(out, orient="index")
    table = table[[METRICS[m][0] for m in metrics if METRICS[m][0] in table.columns]]
    table.index = pd.MultiIndex.from_tuples(table.index, names=["subset", "comparison"])
    return table


def verdict_counts(comparisons: pd.DataFrame) -> pd.DataFrame:
    """How many (subset, metric) comparisons per arm fall in each verdict."""
    t = comparisons.groupby(["arm", "verdict"]).size().unstack(fill_value=0)
    t.index = [f"{ARMS[a][0]} − MSE" for a in t.index]
    return t


def anchors_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Published RMSE / NASA (as reported) beside this book's MSE, scaled-MSE and AMNL means ± std."""
    rows = {}
    for name, a in ANCHORS.items():
        rows[name] = {
            s: " / ".join("–" if v is None else str(v) if isinstance(v, float) else f"{v:,}" for v in a["values"][s])
            for s in SUBSETS
        } | {"protocol": a["protocol"]}
    for arm, (label, _) in ARMS.items():
        g = summary[summary.arm == arm].set_index(["subset", "metric"])
        n = int(summary[summary.arm == arm]["n_seeds"].min()) if len(g) else 0
        rows[f"this book: {label} (compact, {n} seeds)"] = {
            s: (f"{g.loc[(s, 'rmse'), 'mean']:.2f} ± {g.loc[(s, 'rmse'), 'std']:.2f} / "
                f"{g.loc[(s, 'nasa'), 'mean']:,.0f}") if (s, "rmse") in g.index else "–"
            for s in SUBSETS
        } | {"protocol": "validation-engine early stopping, test used once; RUL capped at 125"}
    t = pd.DataFrame.from_dict(rows, orient="index")
    t.index.name = "method (RMSE / NASA)"
    return t


def parameter_tables() -> pd.DataFrame:
    """Per-block parameter counts of both presets, counted from the modules (rows: blocks)."""
    from .model import PRESETS, DualTaskModel, parameter_table

    return pd.DataFrame({p: parameter_table(DualTaskModel(p)) for p in ("compact", "paper") if p in PRESETS})


# --------------------------------------------------------------------------- figures


def seed_mean_predictions(preds: pd.DataFrame) -> pd.DataFrame:
    """Seed-averaged prediction per (subset, arm, unit), with the seeds' min and max."""
    g = preds.groupby(["subset", "arm", "unit"], sort=False)
    return g.agg(y_true=("y_true", "first"), y_pred=("y_pred", "mean"), lo=("y_pred", "min"), hi=("y_pred", "max")).reset_index()


def plot_pred_vs_true(preds: pd.DataFrame, title: str, subsets: Sequence[str] = SUBSETS):
    """One panel per subset: test engines sorted by true RUL; true RUL (black) and each arm's
    seed-averaged prediction (palette colours). Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    m = seed_mean_predictions(preds)
    subsets = _complete(preds, subsets)
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharey=True)
    for ax, subset in zip(axes.flat, subsets):
        d = m[m.subset == subset]
        base = d[d.arm == "mse"].sort_values(["y_true", "unit"])
        order = {u: i for i, u in enumerate(base.unit)}
        for arm, (label, key) in ARMS.items():
            a = d[d.arm == arm]
            x = a.unit.map(order)
            ax.scatter(x, a.y_pred, s=7, color=COLORS[key], label=label, alpha=0.75, zorder=2)
        ax.plot(range(len(base)), base.y_true, color="black", lw=1.5, label="true RUL (capped)", zorder=3)
        ax.set_title(f"{subset} ({len(base)} test engines)", fontsize=10, fontweight="normal")
        ax.set_xlabel("test engine, sorted by true RUL")
        ax.set_ylabel("RUL (cycles)")
    axes.flat[0].legend(loc="upper left")
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return fig


def plot_bucket_rmse(summary: pd.DataFrame, title: str, subsets: Sequence[str] = SUBSETS):
    """Grouped bars: RMSE per true-RUL bucket, per subset and arm (mean over seeds; whisker = the
    engine-bootstrap 95 % interval). Returns the Figure."""
    import matplotlib.pyplot as plt

    labels = ["RUL ≤ 30", "30 < RUL ≤ 80", "RUL > 80"]
    subsets = _complete(summary, subsets)
    fig, axes = plt.subplots(1, len(subsets), figsize=(12, 3.6), sharey=True)
    width = 0.26
    for ax, subset in zip(np.atleast_1d(axes), subsets):
        g = summary[summary.subset == subset].set_index(["arm", "metric"])
        for i, (arm, (label, key)) in enumerate(ARMS.items()):
            means = [g.loc[(arm, b), "mean"] for b in BUCKET_METRICS]
            err = [[g.loc[(arm, b), "mean"] - g.loc[(arm, b), "ci_low"] for b in BUCKET_METRICS],
                   [g.loc[(arm, b), "ci_high"] - g.loc[(arm, b), "mean"] for b in BUCKET_METRICS]]
            ax.bar(np.arange(3) + (i - 1) * width, means, width, yerr=err, color=COLORS[key], label=label,
                   capsize=2, error_kw={"lw": 0.8})
        ax.set_xticks(np.arange(3), labels, fontsize=8)
        ax.set_title(subset, fontsize=10, fontweight="normal")
        ax.set_xlabel("true-RUL bucket (cycles)")
    np.atleast_1d(axes)[0].set_ylabel("RMSE (cycles)")
    np.atleast_1d(axes)[0].legend(loc="upper left")
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return fig


def plot_metric_intervals(summary: pd.DataFrame, metrics: Sequence[str], title: str, subsets: Sequence[str] = SUBSETS):
    """Dot = mean over seeds, bar = engine-bootstrap 95 % interval; one panel per metric."""
    import matplotlib.pyplot as plt

    subsets = _complete(summary, subsets)
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.6))
    for ax, metric in zip(np.atleast_1d(axes), metrics):
        for i, (arm, (label, key)) in enumerate(ARMS.items()):
            g = summary[(summary.arm == arm) & (summary.metric == metric)].set_index("subset").loc[list(subsets)]
            x = np.arange(len(subsets)) + (i - 1) * 0.22
            ax.errorbar(x, g["mean"], yerr=[g["mean"] - g["ci_low"], g["ci_high"] - g["mean"]], fmt="o",
                        color=COLORS[key], label=label, capsize=3, ms=4)
        ax.set_xticks(np.arange(len(subsets)), list(subsets))
        ax.set_xlabel("subset")
        unit = "engines" if metric == "late_count" else ("share" if metric.startswith("health") else "cycles")
        ax.set_ylabel(f"{METRICS[metric][0]} ({unit})")
    np.atleast_1d(axes)[0].legend(loc="upper left")
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return fig


#: Health thresholds quoted by the notebook text (kept next to the tables that use them).
HEALTH_THRESHOLDS = (HEALTH_NORMAL_ABOVE, HEALTH_CRITICAL_AT_OR_BELOW)
