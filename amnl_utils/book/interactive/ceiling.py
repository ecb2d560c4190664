"""§14.3's w_max slider: the schedule and the histogram of per-sample |gradient| on a real batch."""

from __future__ import annotations

import html
import textwrap
from typing import Any, Sequence

import numpy as np

from ...analysis.gradients import tail_ratio
from ...core.constants import R_MAX, W_MAX
from ...core.weights import check_rul, from_shape, ramp
from ..style import COLORS, FIGURE_WIDTH_IN
from .framework import (
    W_MAX_RANGE,
    Slider,
    SliderFigure,
    live_box_class,
    png,
    slider_figure,
)

# --------------------------------------------------------------------------- §14.3 w_max ceiling


def w_max_payload(
    y: np.ndarray,
    residual: np.ndarray,
    max_rul: float = R_MAX,
    w_max_range: tuple[float, float] = W_MAX_RANGE,
    bins: int = 30,
) -> dict[str, Any]:
    """Data of the §14.3 figure: the weight schedule and the per-sample |gradient| of one batch.

    y: (B,) true RUL of a batch (cycles); residual: (B,) ``pred - y`` (cycles). Per sample:
    ``base = (2/B)|r|`` and ``ramp = clip(1 - y/R, 0, 1)``, so ``|dL/dpred| = base * (1 + (w_max
    - 1) * ramp)``. The histogram edges cover the largest |gradient| at the top of the slider.
    """
    y = check_rul(y, "y")
    r = np.asarray(residual, dtype=np.float64)
    if r.shape != y.shape or y.ndim != 1 or y.size == 0:
        raise ValueError(f"y and residual must be non-empty (B,) arrays of one shape, got {y.shape} and {r.shape}")
    if not np.isfinite(r).all():
        raise ValueError("residual has non-finite values; pass finite pred - target in cycles")
    base = 2.0 / y.size * np.abs(r)
    ramp_y = ramp(y, max_rul)
    g_hi = float((base * from_shape(ramp_y, w_max_range[1])).max())
    y_grid = np.arange(0.0, 1.2 * max_rul + 1e-9, 1.0)
    return {
        "y_grid": [round(float(v), 6) for v in y_grid],
        "ramp_grid": [round(float(v), 6) for v in ramp(y_grid, max_rul)],
        "base": [float(f"{v:.10g}") for v in base],
        "ramp": [float(f"{v:.10g}") for v in ramp_y],
        "w_range": [float(w_max_range[0]), float(w_max_range[1])],
        "hist_edges": [round(float(v), 9) for v in np.linspace(0.0, g_hi if g_hi > 0 else 1.0, bins + 1)],
        "max_rul": float(max_rul),
        "w_top": float(w_max_range[1] + 0.5),
        "colors": {k: COLORS[k] for k in ("mse", "amnl", "test", "hist")},
    }


def w_max_gradients(payload: dict[str, Any], w_max: float) -> np.ndarray:
    """Per-sample |gradient| of the batch at ``w_max`` (the Python twin of the script)."""
    return np.asarray(payload["base"]) * from_shape(np.asarray(payload["ramp"]), w_max)


def w_max_readout(payload: dict[str, Any], w_max: float) -> str:
    """The sentence under the §14.3 figure (the script writes the same one)."""
    ratio = tail_ratio(w_max_gradients(payload, w_max), 0.99)
    return (
        f"w_max = {w_max:.1f}: weight {w_max:.2f} at RUL 0, 1.00 at RUL \u2265 {payload['max_rul']:.0f}; "
        f"p99/median of the per-sample |gradient| = {ratio:.2f}."
    )


_WM_TITLE = "A larger w_max steepens the schedule and stretches the tail of per-sample gradients"


def w_max_figure(
    y: np.ndarray, residual: np.ndarray, name: str = "w_max ceiling", w_max: float = W_MAX,
    max_rul: float = R_MAX, w_max_range: tuple[float, float] = W_MAX_RANGE,
) -> SliderFigure:
    """Kernel-free §14.3 figure: the schedule w(y) and the batch's per-sample |gradient| histogram.

    y: (B,) true RUL of one batch (cycles); residual: (B,) ``pred - y`` (cycles). One slider,
    ``w_max`` over ``w_max_range``; the two panels are stacked (schedule above, histogram below).
    """
    payload = w_max_payload(y, residual, max_rul=max_rul, w_max_range=w_max_range)
    return slider_figure(
        name,
        [Slider("w_max", "w<sub>max</sub>", w_max_range[0], w_max_range[1], 0.1, w_max, decimals=1)],
        payload,
        "w_max_ceiling",
        title=_WM_TITLE,
        caption="Top: the AMNL weight (green) against plain MSE (grey). Bottom: histogram of the "
        "per-sample |gradient| (2/B)\u00b7w\u00b7|r| of one batch at the chosen w_max.",
        readout=w_max_readout(payload, w_max),
        width=720,
        height=560,
    )


def draw_w_max_ceiling(axes: Sequence[Any], payload: dict[str, Any], w_max: float) -> None:
    """Matplotlib version of the §14.3 figure (for the live widget) on two stacked ``Axes``."""
    ax1, ax2 = axes
    colors = payload["colors"]
    y_grid = np.asarray(payload["y_grid"])
    ax1.plot(y_grid, np.ones_like(y_grid), color=colors["mse"], lw=2.2, label="plain MSE")
    ax1.plot(y_grid, from_shape(np.asarray(payload["ramp_grid"]), w_max), color=colors["amnl"], lw=2.2,
             label=f"AMNL, w_max = {w_max:.1f}")
    ax1.set(xlim=(0, y_grid[-1]), ylim=(0, payload["w_top"]), xlabel="true RUL (cycles)", ylabel="weight w(y)")
    ax1.legend(loc="upper right")
    ax1.set_title(textwrap.fill(_WM_TITLE, 44))
    edges = np.asarray(payload["hist_edges"])
    g = w_max_gradients(payload, w_max)
    ax2.hist(np.clip(g, edges[0], edges[-1]), bins=edges, color=colors["amnl"], alpha=0.75)
    ax2.set(xlim=(edges[0], edges[-1]), xlabel="per-sample |\u2202L/\u2202\u0177| (cycles)",
            ylabel="samples in the batch")


def w_max_widget(
    y: np.ndarray, residual: np.ndarray, w_max: float = W_MAX, max_rul: float = R_MAX,
    w_max_range: tuple[float, float] = W_MAX_RANGE,
) -> Any:
    """Live §14.3 figure for a running kernel: a w_max slider redrawing :func:`draw_w_max_ceiling`
    from the payload of :func:`w_max_figure`. Returns a ``VBox`` with a fixed text form."""
    import ipywidgets as widgets  # lazy: widgets load only for a live figure in a kernel
    from matplotlib.figure import Figure  # lazy: matplotlib loads only when a figure is drawn

    payload = w_max_payload(y, residual, max_rul=max_rul, w_max_range=w_max_range)
    w_slider = widgets.FloatSlider(value=w_max, min=w_max_range[0], max=w_max_range[1], step=0.1,
                                   description="w_max", readout_format=".1f", continuous_update=False)
    readout = widgets.HTML()
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))

    def redraw(_change: Any = None) -> None:
        readout.value = html.escape(w_max_readout(payload, w_slider.value))
        fig = Figure(figsize=(FIGURE_WIDTH_IN, 6.0), layout="constrained")
        draw_w_max_ceiling(fig.subplots(2, 1), payload, w_slider.value)
        image.value = png(fig)

    w_slider.observe(redraw, names="value")
    box = live_box_class("LiveFigure('w_max ceiling'): slider w_max")([w_slider, readout, image])
    redraw()
    return box
