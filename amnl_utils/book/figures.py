"""The book's result figures from aggregated grid results: predictions against truth, error by
RUL bucket, forest plots of paired differences, and the panels of §14.3 against ``w_max``."""

from __future__ import annotations

import textwrap
from typing import Any, Sequence

import numpy as np

from ..core.constants import R_MAX, RUL_BUCKETS, SUBSETS
from .style import COLORS, FIGURE_WIDTH_IN
from .tables import (
    BUCKET_METRICS,
    METRICS,
    arm_color,
    arm_label,
    arm_order,
    seed_mean_predictions,
)


def plot_pred_vs_true(preds: Any, arms: Sequence[str] | None = None, subsets: Sequence[str] = SUBSETS):
    """One panel per subset, stacked: test engines sorted by true RUL; the true (capped) RUL as a
    black line and each arm's seed-averaged prediction as dodged markers, so that no arm hides
    another. Returns the Figure (no title: the caption carries the finding)."""
    import matplotlib.pyplot as plt  # lazy: matplotlib loads only when a figure is drawn

    m = seed_mean_predictions(preds)
    arms = list(arms) if arms is not None else arm_order(preds)
    subsets = [s for s in subsets if s in set(m.subset)]
    fig, axes = plt.subplots(len(subsets), 1, figsize=(FIGURE_WIDTH_IN, 1.0 + 1.9 * len(subsets)), sharey=True, squeeze=False)
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
        ax.set_title(f"{subset} ({len(base)} test engines)", loc="left")
        ax.set_ylim(-5, R_MAX + 20)
    fig.supxlabel("test engine, sorted by true RUL")
    fig.supylabel("RUL (cycles)")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncol=2, markerscale=1.8)  # below it would meet the x label
    return fig


def plot_bucket_rmse(summary: Any, arms: Sequence[str] | None = None, subsets: Sequence[str] = SUBSETS):
    """RMSE per true-RUL bucket (mean over seeds; whisker = t-interval over seeds), one panel per
    subset, stacked, arms side by side. Returns the Figure."""
    import matplotlib.pyplot as plt  # lazy: matplotlib loads only when a figure is drawn

    arms = list(arms) if arms is not None else arm_order(summary)
    subsets = [s for s in subsets if s in set(summary.subset)]
    labels = [label for _, label, *_ in RUL_BUCKETS]
    fig, axes = plt.subplots(len(subsets), 1, figsize=(FIGURE_WIDTH_IN, 1.0 + 1.5 * len(subsets)), sharex=True, sharey=True,
                             squeeze=False)
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
        ax.set_xticks(np.arange(3), labels)
        ax.set_title(subset, loc="left")
    fig.supylabel("RMSE (cycles)")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3)
    return fig


def pair_label(a: str, b: str) -> str:
    """Short label of the paired difference ``a − b`` for a figure row: arm names without their
    bracketed aliases, a shared ``w_max`` said once (``AMNL − scaled MSE, w_max = 2``)."""
    la, lb = arm_label(a).split(" (")[0], arm_label(b).split(" (")[0]
    (ta, _, sa), (tb, _, sb) = la.partition(", "), lb.partition(", ")
    return f"{ta} − {tb}, {sa}" if sa and sa == sb else f"{la} − {lb}"


def _forest_rows(subsets: Sequence[str], pairs: Sequence[tuple[str, str]], has: Any) -> list[tuple[str, tuple[str, str] | None]]:
    """Rows of a forest plot, top to bottom: per subset a header row ``(subset, None)`` and then its
    pairs ``(subset, (a, b))`` for which ``has(subset, pair)``."""
    rows = []
    for s in subsets:
        mine = [(s, p) for p in pairs if has(s, p)]
        rows += [(s, None), *mine] if mine else []
    return rows


def plot_forest(comparisons: Any, metrics: Sequence[str], pairs: Sequence[tuple[str, str]] | None = None,
                subsets: Sequence[str] = SUBSETS):
    """Forest plot of paired differences ``A − B`` (mean over seeds, t-interval over the per-seed
    differences), one panel per metric, stacked; rows grouped under a bold header per subset
    (labels from :func:`pair_label`); a grey band marks ± the smallest effect the grid detects with
    80 % power. An interval that crosses 0 is "no measurable difference"."""
    import matplotlib.pyplot as plt  # lazy: matplotlib loads only when a figure is drawn

    c = comparisons[comparisons.metric.isin(metrics)]
    if pairs is not None:
        c = c[[(a, b) in set(pairs) for a, b in zip(c.a, c.b)]]
    pair_list = list(dict.fromkeys(zip(c.a, c.b)))
    subsets = [s for s in subsets if s in set(c.subset)]
    rows = _forest_rows(subsets, pair_list, lambda s, p: ((c.subset == s) & (c.a == p[0]) & (c.b == p[1])).any())
    fig, axes = plt.subplots(len(metrics), 1, figsize=(FIGURE_WIDTH_IN, 0.9 + 0.27 * len(rows) * len(metrics) + 0.6 * len(metrics)),
                             squeeze=False)
    for ax, metric in zip(axes[:, 0], metrics):
        y = np.arange(len(rows))[::-1]
        for yi, (subset, pair) in zip(y, rows):
            r = c[(c.subset == subset) & (c.a == pair[0]) & (c.b == pair[1]) & (c.metric == metric)] if pair else c[:0]
            if r.empty:
                continue
            r = r.iloc[0]
            ax.fill_betweenx([yi - 0.4, yi + 0.4], -r["mde"], r["mde"], color="#000000", alpha=0.06, lw=0)
            crosses = r["lo"] <= 0 <= r["hi"]
            color = arm_color(pair[0])
            ax.errorbar([r["diff"]], [yi], xerr=[[r["diff"] - r["lo"]], [r["hi"] - r["diff"]]], fmt="o",
                        color=color, mfc="white" if crosses else color, capsize=2, ms=4, lw=1.2)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_ylim(-0.6, len(rows) - 0.4)  # the header rows carry no data: keep them in view
        ax.set_yticks(y, [s if p is None else pair_label(*p) for s, p in rows])
        for label, (_, p) in zip(ax.get_yticklabels(), rows):
            label.set_fontweight("bold" if p is None else "normal")
        name, unit, _ = METRICS[metric]
        ax.set_xlabel(_wrap_label(f"difference in {name}", unit, width=40))
        ax.grid(axis="y", alpha=0)
    return fig


def plot_metric_by_arm(summary: Any, metric: str, arms: Sequence[str] | None = None, x: Sequence[float] | None = None,
                       subsets: Sequence[str] | None = None, xlabel: str = ""):
    """Mean over seeds with its t-interval for each arm (x = the arms' positions, e.g. their
    w_max), one line per subset. Returns the Figure."""
    import matplotlib.pyplot as plt  # lazy: matplotlib loads only when a figure is drawn

    arms = list(arms) if arms is not None else arm_order(summary)
    subsets = list(subsets) if subsets is not None else [s for s in SUBSETS if s in set(summary.subset)]
    xs = np.asarray(x if x is not None else np.arange(len(arms)), dtype=float)
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, 3.4))
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
        ax.set_xticks(xs, [arm_label(a) for a in arms], rotation=30, ha="right")
    ax.legend()
    return fig


def plot_w_max_effect(summary: Any, metrics: Sequence[str], w_max_values: Sequence[float],
                      subsets: Sequence[str] = SUBSETS):
    """One panel per metric (stacked): AMNL's mean over seeds with its t-interval against ``w_max``
    (log axis; 1 is MSE), one line per subset, and the scaled-MSE controls as open squares at their
    ``w_max``. Returns the Figure."""
    import matplotlib.pyplot as plt  # lazy: matplotlib loads only when a figure is drawn

    subsets = [s for s in subsets if s in set(summary.subset)]
    fig, axes = plt.subplots(len(metrics), 1, figsize=(FIGURE_WIDTH_IN, 0.8 + 2.6 * len(metrics)), sharex=True, squeeze=False)
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
        ax.set_ylabel(_wrap_label(name, unit))
        ax.set_xscale("log")
        ax.set_xticks(list(w_max_values), [f"{w:g}" for w in w_max_values])
        ax.minorticks_off()
    axes[-1, 0].set_xlabel("$w_{\\max}$ (1 = MSE)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2)
    return fig


def mark_relative_range(ax: Any, comparisons: Any, pair: tuple[str, str], metric: str, rel_range: tuple[float, float],
                        label: str | None = None, subsets: Sequence[str] = SUBSETS) -> Any:
    """On a panel of :func:`plot_forest`, hatch the range ``rel_range`` (fractions of B's mean over
    the seeds, e.g. a claimed relative difference) on the row of ``pair`` of each subset, in the
    metric's unit. Rows are found by their tick labels (a pair's row under its subset's header); a
    subset without that row is skipped."""
    a, b = pair
    rows, current = {}, None
    for t, y in sorted(zip(ax.get_yticklabels(), ax.get_yticks()), key=lambda ty: -ty[1]):
        if t.get_text() in subsets:  # a subset's header row; its pair rows follow below it
            current = t.get_text()
        elif current is not None and t.get_text() == pair_label(a, b):
            rows[current] = y
    first = True
    for subset in subsets:
        r = comparisons[(comparisons.subset == subset) & (comparisons.a == a) & (comparisons.b == b)
                        & (comparisons.metric == metric)]
        y = rows.get(subset)
        if r.empty or y is None:
            continue
        m = float(r.iloc[0]["b_mean"])
        ax.fill_betweenx([y - 0.4, y + 0.4], rel_range[0] * m, rel_range[1] * m, facecolor="none", hatch="////",
                         edgecolor=arm_color(a), lw=0.8, label=label if first else None, zorder=1)
        first = False
    return ax


def _w_max_axes(n_metrics: int, subsets: Sequence[str], row_height: float = 1.75):
    """One column of panels, stacked for a phone: each subset's block of ``n_metrics`` panels (the
    subset's name over its first), sharing the x-axis. Returns ``(fig, axes)`` with ``axes[i, j]``
    the panel of metric ``i`` and subset ``j``."""
    import matplotlib.pyplot as plt  # lazy: matplotlib loads only when a figure is drawn

    n = n_metrics * len(subsets)
    height = round(96 * (1.0 + row_height * n)) / 96  # whole pixels at the display dpi
    fig, flat = plt.subplots(n, 1, figsize=(FIGURE_WIDTH_IN, height), sharex=True, squeeze=False)
    axes = flat[:, 0].reshape(len(subsets), n_metrics).T
    for ax, subset in zip(axes[0], subsets):
        ax.set_title(subset, loc="left")
    return fig, axes


def _wrap_label(name: str, unit: str, width: int = 20) -> str:
    """An axis label, unit in brackets, on lines of about ``width`` characters (20: what a short
    stacked panel's y-axis holds): at its first comma if it has one, else at spaces."""
    label = name + (f" ({unit})" if unit else "")
    if len(label) <= width:
        return label
    if ", " in name:
        return name.replace(", ", ",\n", 1) + (f" ({unit})" if unit else "")
    return textwrap.fill(label, width)


def _w_max_ticks(ax: Any, w_max_values: Sequence[float]) -> None:
    ax.set_xscale("log")
    ax.set_xticks(list(w_max_values), [f"{w:g}" for w in w_max_values])
    ax.minorticks_off()


def plot_w_max_levels(summary: Any, metrics: Sequence[str], w_max_values: Sequence[float],
                      subsets: Sequence[str] = ("FD001", "FD002"), log_metrics: Sequence[str] = ()):
    """Levels against ``w_max``: a panel per metric and subset, stacked (each its own y-axis). AMNL (linear) as a green line, its mean over seeds with the t-interval; ``w_max = 1``
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
            ax.set_ylabel(_wrap_label(name, unit))
    axes[-1, -1].set_xlabel("$w_{\\max}$ (1 = MSE)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2)
    fig.align_ylabels()
    return fig


def plot_w_max_differences(comparisons: Any, metrics: Sequence[str], w_max_values: Sequence[float],
                           reference: str = "amnl_w1", subsets: Sequence[str] = ("FD001", "FD002")):
    """Paired differences against ``reference`` (default MSE) as a function of ``w_max``: a panel
    per metric and subset, stacked. AMNL at each ``w_max`` minus the reference (mean of the
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
                                    label="± detectable (80 % power)")
                    ax.plot(ws, r["diff"], color=color, lw=1.2)
                for w, (_, row) in zip(ws, r.iterrows()):
                    crosses = row["lo"] <= 0 <= row["hi"]
                    ax.errorbar([w * shift], [row["diff"]], yerr=[[row["diff"] - row["lo"]], [row["hi"] - row["diff"]]],
                                fmt=marker, ms=5, capsize=2, lw=1.2, color=color, mfc="white" if crosses else color,
                                label=f"{label} − {ref_label}" if w == ws[0] else None)
            ax.axhline(0, color="black", lw=0.8)
            _w_max_ticks(ax, w_max_values)
            ax.set_ylabel(_wrap_label(f"Δ {name}", unit))
    axes[-1, -1].set_xlabel("$w_{\\max}$")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2)
    fig.align_ylabels()
    return fig


def plot_relative_forest(rows: Sequence[dict], measures: Sequence[str], labels: dict[str, str] | None = None):
    """Forest plot of relative paired differences (``rows`` of
    :func:`amnl_utils.analysis.verdict.verdict_table`): one panel per measure, stacked; a row per
    subset and the pooled estimate last (a diamond). Intervals in %; a hollow marker crosses 0, and a
    grey band marks ± the pooled smallest detectable effect. Returns the Figure."""
    import matplotlib.pyplot as plt  # lazy: matplotlib loads only when a figure is drawn

    labels = labels or {}
    fig, axes = plt.subplots(len(measures), 1, figsize=(FIGURE_WIDTH_IN, 0.8 + 1.8 * len(measures)), squeeze=False)
    for ax, m in zip(axes[:, 0], measures):
        got = [r for r in rows if r["measure"] == m]
        pooled = [r for r in got if r["subset"] == "pooled"]
        if pooled:
            ax.axvspan(-100 * pooled[0]["mde"], 100 * pooled[0]["mde"], color="#000000", alpha=0.06, lw=0)
        y = np.arange(len(got))[::-1]
        for yi, r in zip(y, got):
            crosses = r["lo"] <= 0 <= r["hi"]
            color = COLORS["amnl"] if r["subset"] != "pooled" else "black"
            ax.errorbar([100 * r["rel"]], [yi], xerr=[[100 * (r["rel"] - r["lo"])], [100 * (r["hi"] - r["rel"])]],
                        fmt="D" if r["subset"] == "pooled" else "o", color=color, mfc="white" if crosses else color,
                        capsize=2, ms=5, lw=1.2)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(y, [f"{r['subset']} ({r['n']} seeds)" if r["subset"] != "pooled" else "pooled" for r in got])
        ax.set_xlabel(f"AMNL − MSE (% of MSE),\n{labels.get(m, m)}")
        ax.grid(axis="y", alpha=0)
    return fig
