"""§14.1's centrepiece: the per-RUL gradient density under MSE and AMNL, with a w_max slider and a test point."""

from __future__ import annotations

import html
import io
import math
import textwrap
from typing import Any

import numpy as np

from ...analysis.gradients import gradient_density
from ...core.constants import HEALTH_CRITICAL_AT_OR_BELOW, R_MAX, W_MAX
from ...core.weights import check_rul, linear_weight, ramp
from ..style import COLORS, FIGURE_WIDTH_IN
from .framework import W_MAX_RANGE, Slider, SliderFigure, live_box_class, slider_figure

# --------------------------------------------------------------------------- §14.1 gradient density


def gradient_density_payload(
    y: np.ndarray,
    max_rul: float = R_MAX,
    bin_width: float = 5.0,
    near: float = HEALTH_CRITICAL_AT_OR_BELOW,
    w_max_range: tuple[float, float] = W_MAX_RANGE,
) -> dict[str, Any]:
    """Data of the per-RUL gradient-density figure, from :func:`amnl_utils.analysis.gradients.gradient_density`.

    y: (N,) capped training RUL, cycles. Per bin (``bin_width`` cycles on ``[0, max_rul]``):
    ``counts`` and ``ramp_sums`` = sum of ``clip(1 - y/R, 0, 1)``, so that the AMNL weight sum is
    ``counts + (w_max - 1) * ramp_sums`` for any ``w_max`` (the linear schedule is linear in
    ``w_max``). ``near``: the same two numbers for ``y <= near`` (the near-failure bucket of
    :data:`amnl_utils.analysis.gradients.BUCKETS`). ``y_top``: y-axis top in % (the capped last bin is drawn
    off-scale).
    """
    y = check_rul(y, "y")
    base = gradient_density(y, w_max=1.0, max_rul=max_rul, bin_width=bin_width)
    two = gradient_density(y, w_max=2.0, max_rul=max_rul, bin_width=bin_width)
    counts = base["counts"].astype(np.int64)
    ramp_sums = two["weight_sums"] - base["weight_sums"]  # (w_max - 1) = 1: exactly the ramp sums
    is_near = y <= near
    payload: dict[str, Any] = {
        "edges": [round(float(e), 6) for e in base["edges"]],
        "centers": [round(float(c), 6) for c in base["centers"]],
        "counts": [int(c) for c in counts],
        "ramp_sums": [round(float(s), 6) for s in ramp_sums],
        "bin_width": float(bin_width),
        "max_rul": float(max_rul),
        "near": {
            "label": f"RUL \u2264 {near:g}",
            "count": int(is_near.sum()),
            "ramp_sum": round(float(ramp(y[is_near], max_rul).sum()), 6),
        },
        "colors": {k: COLORS[k] for k in ("mse", "amnl", "test", "hist")},
    }
    hi = gradient_density_shares(payload, w_max_range[1])[1][:-1]
    lo = gradient_density_shares(payload, w_max_range[0])[0][:-1]
    payload["y_top"] = float(math.ceil(1.15 * 100 * max(hi.max(), lo.max())))
    return payload


def gradient_density_shares(payload: dict[str, Any], w_max: float) -> tuple[np.ndarray, np.ndarray]:
    """``(mse, amnl)`` share of the total gradient per bin (fractions, each sums to 1).

    The Python twin of the figure script: ``amnl`` is ``counts + (w_max - 1) * ramp_sums``,
    normalised. Equal residual magnitude on every sample is assumed (see amnl_utils.analysis.gradients).
    """
    counts = np.asarray(payload["counts"], dtype=np.float64)
    wsum = counts + (w_max - 1.0) * np.asarray(payload["ramp_sums"], dtype=np.float64)
    return counts / counts.sum(), wsum / wsum.sum()


def gradient_density_readout(payload: dict[str, Any], w_max: float, test_rul: float) -> str:
    """The sentence under the figure (the script writes the same one)."""
    r = payload["max_rul"]
    w = float(linear_weight(np.array([test_rul]), max_rul=r, w_max=w_max)[0])
    head = (
        "w_max = 1: every weight is 1, so AMNL is plain MSE and the two curves coincide. "
        if abs(w_max - 1.0) < 1e-9
        else f"w_max = {w_max:.1f}: "
    )
    return (
        f"{head}Test engine at RUL {test_rul:.0f}: weight {w:.2f}, pull {w:.2f}\u00d7 a healthy "
        f"(RUL \u2265 {r:.0f}) sample with the same error."
    )


_GD_TITLE = "AMNL moves gradient from the pile of healthy windows to the few near failure"
_GD_CAPTION = (
    "Bars: share of FD001 training windows per 5-cycle RUL bin (the last bin holds every window "
    "capped at 125). Curves: share of the total gradient each bin receives, equal residuals "
    "assumed; the MSE curve traces the bars. Red: a test engine and its AMNL weight."
)


def _gradient_density_sliders(w_max: float, test_rul: float, max_rul: float) -> list[Slider]:
    return [
        Slider("w_max", "w<sub>max</sub>", W_MAX_RANGE[0], W_MAX_RANGE[1], 0.1, w_max, decimals=1),
        Slider("test_rul", "test engine RUL", 0.0, max_rul, 1.0, test_rul, decimals=0, unit=" cycles"),
    ]


def gradient_density_figure(
    y: np.ndarray,
    name: str = "gradient density",
    w_max: float = W_MAX,
    test_rul: float = 5.0,
    max_rul: float = R_MAX,
) -> SliderFigure:
    """Kernel-free §14.1 figure: RUL histogram, MSE and AMNL gradient share per bin, a test point.

    y: (N,) capped training RUL (cycles). Sliders: ``w_max`` in [1, 5] and the test engine's RUL.
    """
    payload = gradient_density_payload(y, max_rul=max_rul)
    return slider_figure(
        name,
        _gradient_density_sliders(w_max, test_rul, max_rul),
        payload,
        "gradient_density",
        title=_GD_TITLE,
        caption=_GD_CAPTION,
        readout=gradient_density_readout(payload, w_max, test_rul),
    )


def draw_gradient_density(ax: Any, payload: dict[str, Any], w_max: float, test_rul: float) -> None:
    """Matplotlib version of the same figure (for the live widget), on an existing ``Axes``."""
    edges = np.asarray(payload["edges"])
    centers = np.asarray(payload["centers"])
    mse, amnl = (100 * s for s in gradient_density_shares(payload, w_max))
    top = payload["y_top"]
    colors = payload["colors"]
    ax.bar(edges[:-1], np.minimum(mse, top), width=np.diff(edges), align="edge", color=colors["hist"],
           edgecolor="white", label="training windows (FD001)")
    for c, m in zip(centers, mse):
        if m > top:
            ax.annotate(f"\u2191{m:.0f}%", (c, top), xytext=(0, -12), textcoords="offset points",
                        ha="center")
    same = abs(w_max - 1.0) < 1e-9
    # The curves stop before the capped last bin, which is off-scale (as in the script).
    ax.plot(centers[:-1], mse[:-1], color=colors["mse"], lw=2.2, label="gradient share, MSE")
    ax.plot(centers[:-1], amnl[:-1], color=colors["amnl"], lw=2.2, ls="--" if same else "-",
            label="gradient share, AMNL")
    w = float(linear_weight(np.array([test_rul]), max_rul=payload["max_rul"], w_max=w_max)[0])
    ax.plot([test_rul], [0], "o", color=colors["test"], ms=8, clip_on=False, label=f"test engine (w = {w:.2f})")
    ax.axvline(test_rul, color=colors["test"], alpha=0.35, ls=":")
    ax.set(xlim=(0, payload["max_rul"]), ylim=(0, top), xlabel="true RUL of the training window (cycles)",
           ylabel=f"share per {payload['bin_width']:.0f}-cycle bin (%)")
    ax.set_title(textwrap.fill(_GD_TITLE, 44))
    ax.figure.legend(loc="outside lower center", ncols=2)


def gradient_density_widget(
    y: np.ndarray, w_max: float = W_MAX, test_rul: float = 5.0, max_rul: float = R_MAX
) -> Any:
    """Live §14.1 figure for a running kernel (Jupyter, Colab): ipywidgets + matplotlib.

    Returns a ``VBox`` (sliders, readout, plot) whose text form is a fixed string, so a cell that
    displays it has the same text output on every run.
    """
    import ipywidgets as widgets  # lazy: widgets load only for a live figure in a kernel
    from matplotlib.figure import Figure  # lazy: matplotlib loads only when a figure is drawn

    payload = gradient_density_payload(y, max_rul=max_rul)
    w_slider = widgets.FloatSlider(value=w_max, min=W_MAX_RANGE[0], max=W_MAX_RANGE[1], step=0.1,
                                   description="w_max", readout_format=".1f", continuous_update=False)
    t_slider = widgets.IntSlider(value=int(test_rul), min=0, max=int(max_rul), step=1,
                                 description="test RUL", continuous_update=False)
    readout = widgets.HTML()
    # A PNG in an Image widget rather than an Output widget: no captured outputs, so it behaves
    # the same in Jupyter, Colab and headless execution (nbclient without stored widget state).
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))

    def redraw(_change: Any = None) -> None:
        readout.value = html.escape(gradient_density_readout(payload, w_slider.value, t_slider.value))
        fig = Figure(figsize=(FIGURE_WIDTH_IN, 4.6), layout="constrained")
        draw_gradient_density(fig.add_subplot(), payload, w_slider.value, t_slider.value)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        image.value = buf.getvalue()

    w_slider.observe(redraw, names="value")
    t_slider.observe(redraw, names="value")
    box = live_box_class("LiveFigure('gradient density'): sliders w_max and test RUL")(
        [widgets.HBox([w_slider, t_slider]), readout, image]
    )
    redraw()
    return box
