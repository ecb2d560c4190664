"""§14.2's schedule explorer: five schedules on one range [1, w_max], where each puts the gradient."""

from __future__ import annotations

import html
import math
import textwrap
from typing import Any, Sequence

import numpy as np

from ...analysis.schedule_design import resolve, shape
from ...core.constants import R_MAX, RUL_BUCKETS, W_MAX
from ...core.weights import SCHEDULES, check_rul, from_shape
from ..style import COLORS, FIGURE_WIDTH_IN
from .framework import (
    W_MAX_RANGE,
    Checkbox,
    Slider,
    SliderFigure,
    live_box_class,
    png,
    slider_figure,
)

# --------------------------------------------------------------------------- §14.2 schedule explorer

#: Colours of schedules that :data:`amnl_utils.book.style.COLORS` does not name (a reader's own).
_EXTRA_COLORS: tuple[str, ...] = ("#17becf", "#e377c2", "#bcbd22", "#1f77b4")


def schedule_explorer_payload(
    y: np.ndarray,
    schedules: Sequence[Any] = tuple(SCHEDULES),
    max_rul: float = R_MAX,
    w_max_range: tuple[float, float] = W_MAX_RANGE,
) -> dict[str, Any]:
    """Data of the §14.2 schedule explorer, from :mod:`amnl_utils.analysis.schedule_design`.

    y: (N,) capped training RUL, cycles; schedules: names of :data:`amnl_utils.core.weights.SCHEDULES`
    or callables of the form ``1 + (w_max - 1) * shape(y)``. Every schedule enters as its shape: on a
    1-cycle grid ``y_grid`` (0 … 1.2 R_max), and summed over the windows of each RUL bucket
    (``shape_sums``, with the bucket ``counts``). For any ``w_max`` a bucket's weight sum is then
    ``count + (w_max - 1) * shape_sum`` and the mean weight ``1 + (w_max - 1) * shape_total / n``,
    which is what the script (and :func:`schedule_explorer_values`) computes.
    """
    y = check_rul(y, "y")
    if y.size == 0:
        raise ValueError("y is empty; pass the RUL labels of at least one window")
    y_grid = np.arange(0.0, 1.2 * max_rul + 1e-9, 1.0)
    in_bucket = [(y > lo) & (y <= hi) for _, _, lo, hi in RUL_BUCKETS]
    entries, extra = [], iter(_EXTRA_COLORS)
    for sched in schedules:
        name, _ = resolve(sched)
        s_y = shape(sched, y, max_rul)
        entries.append({
            "name": name,
            "label": "constant (= MSE)" if name == "constant" else name,
            "color": COLORS.get(name) or next(extra, "#333333"),
            "shape_grid": [float(f"{v:.10g}") for v in shape(sched, y_grid, max_rul)],
            "shape_sums": [float(f"{s_y[m].sum():.10g}") for m in in_bucket],
            "shape_total": float(f"{s_y.sum():.10g}"),
        })
    if len({e["name"] for e in entries}) != len(entries):
        raise ValueError(f"schedule names must be unique, got {[e['name'] for e in entries]}")
    payload: dict[str, Any] = {
        "schedules": entries,
        "y_grid": [round(float(v), 6) for v in y_grid],
        "buckets": [label for _, label, _, _ in RUL_BUCKETS],
        "counts": [int(m.sum()) for m in in_bucket],
        "n": int(y.size),
        "max_rul": float(max_rul),
        "w_range": [float(w_max_range[0]), float(w_max_range[1])],
        "colors": {k: COLORS[k] for k in ("mse", "test", "hist")},
    }
    top = max(max(_explorer_shares(payload, e, w)) for e in entries for w in w_max_range)
    payload["share_top"] = float(5 * math.ceil(1.1 * 100 * top / 5))  # % axis top, fixed for every setting
    return payload


def _explorer_shares(payload: dict[str, Any], entry: dict[str, Any], w_max: float) -> list[float]:
    """Gradient share (fraction) per bucket of one schedule entry at ``w_max``."""
    sums = [c + (w_max - 1.0) * s for c, s in zip(payload["counts"], entry["shape_sums"])]
    total = payload["n"] + (w_max - 1.0) * entry["shape_total"]
    return [v / total for v in sums]


def schedule_explorer_values(payload: dict[str, Any], w_max: float, test_rul: float) -> dict[str, dict[str, Any]]:
    """The Python twin of the explorer's script: per schedule, at ``w_max`` and a test RUL (cycles).

    Returns ``{name: {"weight": w(test_rul), "mean_weight": mean over the windows, "shares": [per
    bucket fraction]}}``. ``test_rul`` is looked up on the 1-cycle grid (rounded to a whole cycle,
    clipped to the grid), as the slider moves in whole cycles.
    """
    k = int(min(max(round(test_rul), 0), len(payload["y_grid"]) - 1))
    return {
        e["name"]: {
            "weight": from_shape(e["shape_grid"][k], w_max),
            "mean_weight": from_shape(e["shape_total"] / payload["n"], w_max),
            "shares": _explorer_shares(payload, e, w_max),
        }
        for e in payload["schedules"]
    }


def schedule_explorer_readout(
    payload: dict[str, Any], picked: Sequence[str], w_max: float, test_rul: float
) -> str:
    """The text under the explorer for the picked schedules (the script writes the same)."""
    names = [e["name"] for e in payload["schedules"] if e["name"] in set(picked)]
    head = f"w_max = {w_max:.1f}, test engine at RUL {test_rul:.0f}."
    if not names:
        return f"{head} No schedule picked: tick at least one box."
    v = schedule_explorer_values(payload, w_max, test_rul)
    near = payload["buckets"][0]
    weight = ", ".join(f"{n} {v[n]['weight']:.2f}" for n in names)
    mean = ", ".join(f"{n} {v[n]['mean_weight']:.2f}" for n in names)
    share = ", ".join(f"{n} {100 * v[n]['shares'][0]:.1f}%" for n in names)
    return (f"{head} Its weight: {weight}. Mean weight over the training windows: {mean}. "
            f"Share of the gradient on {near}: {share}.")


_SE_TITLE = "Five schedules, one range [1, w_max]: where each puts the gradient"
_SE_CAPTION = (
    "Top: weight w(y) of each picked schedule (the red line marks the test engine). Bottom: share "
    "of the total gradient each RUL bucket of the FD001 training windows receives (equal residuals "
    "assumed); the dark tick is the bucket's share of the windows, what plain MSE gives it."
)


def schedule_explorer_figure(
    y: np.ndarray,
    schedules: Sequence[Any] = tuple(SCHEDULES),
    name: str = "schedule explorer",
    w_max: float = W_MAX,
    test_rul: float = 20.0,
    max_rul: float = R_MAX,
    picked: Sequence[str] | None = None,
) -> SliderFigure:
    """Kernel-free §14.2 figure: checkboxes pick schedules; sliders set ``w_max`` and a test RUL.

    y: (N,) capped training RUL (cycles). ``picked``: names ticked at first (default: all).
    """
    payload = schedule_explorer_payload(y, schedules, max_rul=max_rul)
    names = [e["name"] for e in payload["schedules"]]
    picked = names if picked is None else list(picked)
    boxes = [Checkbox(e["name"], html.escape(e["label"]), e["name"] in picked, e["color"])
             for e in payload["schedules"]]
    sliders = [
        Slider("w_max", "w<sub>max</sub>", W_MAX_RANGE[0], W_MAX_RANGE[1], 0.1, w_max, decimals=1),
        Slider("test_rul", "test engine RUL", 0.0, payload["y_grid"][-1], 1.0, test_rul, decimals=0,
               unit=" cycles"),
    ]
    return slider_figure(
        name, sliders, payload, "schedule_explorer", title=_SE_TITLE, caption=_SE_CAPTION,
        readout=schedule_explorer_readout(payload, picked, w_max, test_rul), width=720, height=600,
        checkboxes=boxes,
    )


def draw_schedule_explorer(
    axes: Sequence[Any], payload: dict[str, Any], picked: Sequence[str], w_max: float, test_rul: float
) -> None:
    """Matplotlib version of the explorer (for the live widget) on two stacked ``Axes``."""
    ax1, ax2 = axes
    entries = [e for e in payload["schedules"] if e["name"] in set(picked)]
    v = schedule_explorer_values(payload, w_max, test_rul)
    y_grid = np.asarray(payload["y_grid"])
    for e in entries:
        ax1.plot(y_grid, from_shape(np.asarray(e["shape_grid"]), w_max), color=e["color"], lw=2.2,
                 label=e["label"])
        ax1.plot([test_rul], [v[e["name"]]["weight"]], "o", color=e["color"], ms=6)
    ax1.axvline(test_rul, color=payload["colors"]["test"], ls="--", lw=1.2, label="test engine")
    lo, hi = payload["w_range"]
    ax1.set(xlim=(0, y_grid[-1]), ylim=(lo - 0.05 * (hi - lo), hi), xlabel="true RUL (cycles)",
            ylabel="weight w(y)")
    ax1.legend(loc="upper right", ncols=2)
    ax1.set_title(textwrap.fill(_SE_TITLE, 44))
    n_b = len(payload["buckets"])
    width = 0.8 / max(len(entries), 1)
    for k, e in enumerate(entries):
        x = np.arange(n_b) - 0.4 + width * (k + 0.5)
        ax2.bar(x, 100 * np.asarray(v[e["name"]]["shares"]), width=width * 0.92, color=e["color"],
                label=e["label"])
    windows = 100 * np.asarray(payload["counts"]) / payload["n"]
    ax2.hlines(windows, np.arange(n_b) - 0.42, np.arange(n_b) + 0.42, color="#222222", lw=2,
               label="share of windows (MSE)")
    ax2.set_xticks(np.arange(n_b), payload["buckets"])
    ax2.legend(loc="upper left", ncols=2)
    ax2.set(ylim=(0, payload["share_top"]), ylabel="share of the gradient (%)",
            xlabel="true-RUL bucket of the FD001 training windows")


def schedule_explorer_widget(
    y: np.ndarray, schedules: Sequence[Any] = tuple(SCHEDULES), w_max: float = W_MAX, test_rul: float = 20.0,
    max_rul: float = R_MAX,
) -> Any:
    """Live §14.2 figure for a running kernel: checkboxes and two sliders redrawing
    :func:`draw_schedule_explorer` from the explorer's payload. Returns a ``VBox`` with a fixed text."""
    import ipywidgets as widgets  # lazy: widgets load only for a live figure in a kernel
    from matplotlib.figure import Figure  # lazy: matplotlib loads only when a figure is drawn

    payload = schedule_explorer_payload(y, schedules, max_rul=max_rul)
    checks = [widgets.Checkbox(value=True, description=e["label"], indent=False,
                               layout=widgets.Layout(width="auto")) for e in payload["schedules"]]
    w_slider = widgets.FloatSlider(value=w_max, min=W_MAX_RANGE[0], max=W_MAX_RANGE[1], step=0.1,
                                   description="w_max", readout_format=".1f", continuous_update=False)
    t_slider = widgets.IntSlider(value=int(test_rul), min=0, max=int(payload["y_grid"][-1]), step=1,
                                 description="test RUL", continuous_update=False)
    readout = widgets.HTML()
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))

    def redraw(_change: Any = None) -> None:
        picked = [e["name"] for e, c in zip(payload["schedules"], checks) if c.value]
        readout.value = html.escape(schedule_explorer_readout(payload, picked, w_slider.value, t_slider.value))
        fig = Figure(figsize=(FIGURE_WIDTH_IN, 7.0), layout="constrained")
        draw_schedule_explorer(fig.subplots(2, 1), payload, picked, w_slider.value, t_slider.value)
        image.value = png(fig)

    for widget in (*checks, w_slider, t_slider):
        widget.observe(redraw, names="value")
    box = live_box_class("LiveFigure('schedule explorer'): schedule checkboxes, sliders w_max and test RUL")(
        [widgets.HBox(checks), widgets.HBox([w_slider, t_slider]), readout, image]
    )
    redraw()
    return box
