"""§14.5's figures and tables, drawn from the ``decisions`` analysis file
(:mod:`amnl_utils.analysis.decisions`; no training and no data files here)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..analysis.decisions import ARMS, LAMBDAS, cost_table, runs_of, shown_subsets
from ..core.optional import require
from ..core.stats import t_interval
from .style import FIGURE_WIDTH_IN
from .tables import arm_color, arm_label, fmt

pd = require("pandas", "amnl_utils.book.decisions")
#: The arms drawn as curves (the derived and context arms have no sweep of their own, or the oracle's is trivial).
CURVE_ARMS: tuple[str, ...] = ("mse", "amnl", "lds", "bmc", "pinball_t0.3", "pinball_t0.4")


def _stacked(out: dict[str, Any], key: str, arms: Sequence[str], height: float):
    """One panel per subset with 2 or more seeds, stacked: ``(fig, [(ax, subset, [(arm, runs)])])``,
    the runs being ``out[key]``'s items of that subset and arm (arms without any are left out)."""
    plt = require("matplotlib.pyplot", "amnl_utils.book.decisions")
    subsets = shown_subsets(out)
    fig, axes = plt.subplots(len(subsets), 1, figsize=(FIGURE_WIDTH_IN, 0.9 + height * len(subsets)), squeeze=False,
                             layout="constrained")
    panels = [(ax, s, [(a, runs_of(out[key], s, a)) for a in arms if runs_of(out[key], s, a)]) for ax, s in zip(axes[:, 0], subsets)]
    return fig, panels


def _legend_below(fig: Any, panels: list) -> None:
    """One legend for the stacked panels, below them (in a panel it would cover the curves on a phone)."""
    if panels:
        handles, labels = panels[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=2)


def plot_tradeoff(out: dict[str, Any], arms: Sequence[str] = CURVE_ARMS):
    """Missed failures per 100 engines against mean wasted life (cycles), θ swept; one stacked panel per subset."""
    fig, panels = _stacked(out, "sweeps", arms, 3.3)
    for ax, subset, arm_runs in panels:
        for arm, runs in arm_runs:
            w = np.mean([r["wasted"] for r in runs], axis=0)
            m = np.array([r["missed"] for r in runs])
            mean = m.mean(axis=0)
            ax.plot(w, mean, color=arm_color(arm), lw=1.8, label=arm_label(arm))
            if len(runs) >= 2:
                half = np.array([t_interval(m[:, j])["hi"] - mean[j] if m[:, j].std() > 0 else 0.0 for j in range(m.shape[1])])
                ax.fill_between(w, np.maximum(mean - half, 0), mean + half, color=arm_color(arm), alpha=0.12, lw=0)
        ax.set(xlim=(0, 30), ylim=(0, 60), xlabel="mean wasted life per engine (cycles)",
               ylabel="missed failures per 100 engines", title=subset)
    _legend_below(fig, panels)
    return fig


def plot_error_profile(out: dict[str, Any], arms: Sequence[str] = CURVE_ARMS):
    """Mean signed error against the true RUL (5-cycle bins) per arm; one stacked panel per subset."""
    centres = np.asarray(out["rul_bins"], dtype=float) + 2.5
    fig, panels = _stacked(out, "profiles", arms, 3.1)
    for ax, subset, arm_runs in panels:
        for arm, runs in arm_runs:
            e = np.array([[np.nan if v is None else v for v in r["error"]] for r in runs], dtype=float)
            ax.plot(centres, np.nanmean(e, axis=0), color=arm_color(arm), lw=1.8, label=arm_label(arm))
        ax.axhline(0, color="#999999", lw=0.8)
        ax.set(xlim=(0, 125), xlabel="true RUL (cycles)", ylabel="mean error (cycles; > 0 late)", title=subset)
    _legend_below(fig, panels)
    return fig


def decision_cost_frame(out: dict[str, Any], policy: str = "threshold", rule: str = "margin", k: int = 10):
    """§14.5's cost tables (policies a and b): per subset and arm, the cost rate with its interval and
    the counts behind it."""
    rows = []
    for subset in shown_subsets(out):
        for r in cost_table(out, subset, policy, rule, k, ARMS):
            d = r.get("vs_mse")
            rows.append({
                "subset": subset, "arm": arm_label(r["arm"]),
                "cost / 1000 cycles": f"{fmt(r['cost_rate'], 2)} [{fmt(r['lo'], 2)}, {fmt(r['hi'], 2)}]",
                "missed / 100": fmt(r["missed"], 1), "wasted (cycles)": fmt(r["wasted"], 1),
                "θ (cycles)": fmt(r["theta"], 0), "failures / runs": f"{r['failures']} / {r['engine_runs']}",
                "− MSE / 1000 cycles": "" if d is None else f"{d['diff']:+.2f} [{d['lo']:+.2f}, {d['hi']:+.2f}]",
            })
    return pd.DataFrame(rows).set_index(["subset", "arm"])


def phm_frame(out: dict[str, Any], arms: Sequence[str] = ("mse", "mse_offset") + CURVE_ARMS[1:]):
    """§14.5's PHM table: α–λ accuracy (%) at each λ and the mean prognostic horizon (cycles)."""
    rows = []
    for subset in shown_subsets(out):
        for arm in arms:
            runs = runs_of(out["phm"], subset, arm)
            if not runs:
                continue
            row = {"subset": subset, "arm": arm_label(arm)}
            for lam in LAMBDAS:
                row[f"α–λ at λ = {lam:g} (%)"] = fmt(float(np.mean([r[f"alpha_lambda_{lam:g}"] for r in runs])), 0)
            row["horizon (cycles)"] = fmt(float(np.mean([r["horizon"] for r in runs])), 1)
            rows.append(row)
    return pd.DataFrame(rows).set_index(["subset", "arm"])


def test_frame(out: dict[str, Any], arms: Sequence[str] = ("mse",) + CURVE_ARMS[1:]):
    """§14.5's test-set table: each trained arm's test-set RMSE (cycles), NASA score and near-failure RMSE
    over every window with true RUL ≤ 30 (cycles), mean [95 % t-interval] over seeds."""
    names = {"rmse": "RMSE (cycles)", "nasa": "NASA score", "nf_rmse_all": "near-failure RMSE, all windows (cycles)"}
    rows = []
    for subset in shown_subsets(out):
        for arm in arms:
            runs = runs_of(out["test"], subset, arm)
            if len(runs) < 2:
                continue
            row = {"subset": subset, "arm": arm_label(arm), "seeds": len(runs)}
            for m, name in names.items():
                ci = t_interval(np.array([r[m] for r in runs]))
                d = 0 if m == "nasa" else 2
                row[name] = f"{fmt(ci['mean'], d)} [{fmt(ci['lo'], d)}, {fmt(ci['hi'], d)}]"
            rows.append(row)
    return pd.DataFrame(rows).set_index(["subset", "arm"])
