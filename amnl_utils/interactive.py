"""Interactive figures: one data payload, two front ends (SPEC §5 "Interactive per-RUL gradient density").

Every interactive figure of the book exists twice, drawing from the same payload computed here:

- **kernel-free** (:func:`slider_figure`): self-contained HTML — range inputs and checkboxes, an
  inline SVG, the payload as JSON and a small script (``js/slider_figure.js``, shipped with the
  package). It needs no kernel and no network, so the controls work in the static book, in Jupyter
  and in Colab. Element ids derive from the figure's name (no random ids), so the HTML is the same
  on every run and nbval can compare it exactly.
- **live** (:func:`gradient_density_widget`, :func:`schedule_explorer_widget`,
  :func:`w_max_widget`): ipywidgets redrawing a matplotlib figure in a running kernel. The book
  does not store widget state (no widget JavaScript is loaded from a CDN); in the static pages the
  kernel-free version carries the interactivity.

The figures: §14.1 gradient density, §14.2 schedule explorer, §14.3 w_max ceiling. The payloads are
small: every schedule is ``w = 1 + (w_max - 1) * shape(y)`` (the linear one's shape is
:func:`amnl_utils.weights.ramp`), linear in ``w_max``, so per bin, per bucket or per sample two
arrays (counts and shape sums, or base gradient and shape) let the page recompute every curve for
any ``w_max``. ``gradient_density_shares``, ``schedule_explorer_values`` and ``w_max_gradients``
are the Python twins of what the script computes (``AMNLFig.math``); the tests hold them to
:mod:`amnl_utils.gradients`, :mod:`amnl_utils.weights` and :mod:`amnl_utils.losses`, and run the
script's own functions in node and in the browser on the same payloads.
"""

from __future__ import annotations

import html
import json
import math
import re
import textwrap
from dataclasses import dataclass
from importlib import resources
from typing import Any, Sequence

import numpy as np

from .constants import HEALTH_CRITICAL_AT_OR_BELOW, R_MAX, RUL_BUCKETS, W_MAX
from .gradients import gradient_density, tail_ratio
from .plotting import COLORS
from .weights import SCHEDULES, check_rul, linear_weight, ramp

#: Slider range of ``w_max`` in the book's figures.
W_MAX_RANGE: tuple[float, float] = (1.0, 5.0)


@dataclass(frozen=True)
class Slider:
    """One range input. ``label`` may hold inline HTML (``w<sub>max</sub>``); ``unit`` is shown after the value."""

    name: str
    label: str
    min: float
    max: float
    step: float
    value: float
    decimals: int = 0
    unit: str = ""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.name):
            raise ValueError(f"slider name {self.name!r} must be an identifier (letters, digits, _)")
        if not (self.min <= self.value <= self.max) or self.step <= 0:
            raise ValueError(
                f"slider {self.name!r}: need min <= value <= max and step > 0, got "
                f"min={self.min}, value={self.value}, max={self.max}, step={self.step}"
            )


@dataclass(frozen=True)
class Checkbox:
    """One checkbox, passed to the draw function as ``values[checkbox.name]`` (true or false).

    ``label`` may hold inline HTML; ``color``, if given, colours a swatch before the label (the
    checkboxes then double as the figure's legend).
    """

    name: str
    label: str
    checked: bool = True
    color: str = ""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.name):
            raise ValueError(f"checkbox name {self.name!r} must be an identifier (letters, digits, _)")
        if self.color and not re.fullmatch(r"#[0-9a-fA-F]{6}", self.color):
            raise ValueError(f"checkbox {self.name!r}: color must be #rrggbb, got {self.color!r}")


@dataclass(frozen=True)
class SliderFigure:
    """A kernel-free figure: ``html`` is what Jupyter, Colab and the book display."""

    name: str
    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:  # stable text/plain for nbval (no memory address)
        return f"SliderFigure({self.name!r})"


def figure_id(name: str) -> str:
    """Deterministic DOM id for a figure name: ``"Gradient density"`` -> ``"amnl-gradient-density"``."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug:
        raise ValueError(f"figure name {name!r} has no letters or digits to build an id from")
    return f"amnl-{slug}"


def figure_script() -> str:
    """The JavaScript shared by every kernel-free figure (``amnl_utils/js/slider_figure.js``)."""
    return resources.files("amnl_utils").joinpath("js/slider_figure.js").read_text(encoding="utf-8")


def _json_for_script(obj: Any) -> str:
    """JSON that is safe inside ``<script>`` (no ``</``) and byte-identical across runs."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def slider_figure(
    name: str,
    sliders: Sequence[Slider],
    payload: dict[str, Any],
    draw: str,
    *,
    title: str,
    caption: str = "",
    readout: str = "",
    width: int = 720,
    height: int = 380,
    checkboxes: Sequence[Checkbox] = (),
) -> SliderFigure:
    """Build a kernel-free slider figure.

    name: figure name, the source of every element id (``figure_id(name)``); use one name per
    page. sliders: the range inputs, passed to the draw function as ``values[slider.name]``.
    payload: JSON-able data (lists, numbers, strings). draw: the name of a draw function
    registered in ``js/slider_figure.js`` (``AMNLFig.register(name, (fig, payload, values) =>
    readout)``). readout: the initial readout text (what the script writes at the initial slider
    values; shown if scripts are off). width/height: SVG viewBox in px (it scales to the page).
    checkboxes: optional checkboxes, shown in a row above the sliders and passed as
    ``values[checkbox.name]`` (booleans). Control names must be unique.
    """
    fid = figure_id(name)
    names = [c.name for c in (*checkboxes, *sliders)]
    if len(set(names)) != len(names):
        raise ValueError(f"control names must be unique within a figure, got {names}")
    boxes = []
    for c in checkboxes:
        cid = f"{fid}-{c.name}"
        swatch = f'<span class="amnl-fig-swatch" style="background:{c.color}"></span>' if c.color else ""
        boxes.append(
            f'<label class="amnl-fig-check" for="{cid}"><input type="checkbox" id="{cid}" '
            f'data-name="{c.name}"{" checked" if c.checked else ""}>{swatch}<span>{c.label}</span></label>'
        )
    controls = []
    for s in sliders:
        sid = f"{fid}-{s.name}"
        controls.append(
            f'<label class="amnl-fig-slider" for="{sid}"><span>{s.label}</span>'
            f'<input type="range" id="{sid}" data-name="{s.name}" data-decimals="{s.decimals}" '
            f'min="{s.min:g}" max="{s.max:g}" step="{s.step:g}" value="{s.value:g}">'
            f'<output id="{sid}-value" for="{sid}">{_fmt(s.value, s.decimals)}</output>'
            f"{html.escape(s.unit)}</label>"
        )
    spec = _json_for_script({"draw": draw, "payload": payload})
    style = (
        f"#{fid}{{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
        "max-width:760px;margin:0.5em 0 1em 0;padding:0.6em 0.8em;color:#222;background:#fff;"
        "border:1px solid #e5e5e5;border-radius:6px;box-sizing:border-box}"
        f"#{fid} .amnl-fig-title{{font-weight:600;font-size:1.0em;margin:0 0 0.3em 0}}"
        f"#{fid} .amnl-fig-controls{{display:flex;flex-wrap:wrap;gap:0.4em 1.6em;align-items:center;"
        "font-size:0.92em;margin:0 0 0.2em 0}"
        f"#{fid} .amnl-fig-slider{{display:inline-flex;align-items:center;gap:0.5em;margin:0}}"
        f"#{fid} input[type=range]{{width:180px;accent-color:{COLORS['amnl']}}}"
        f"#{fid} .amnl-fig-check{{display:inline-flex;align-items:center;gap:0.3em;margin:0}}"
        f"#{fid} .amnl-fig-swatch{{display:inline-block;width:0.9em;height:0.9em;border-radius:2px}}"
        f"#{fid} output{{font-variant-numeric:tabular-nums;min-width:1.6em;font-weight:600}}"
        f"#{fid} svg{{width:100%;height:auto;display:block;background:#fff}}"
        f"#{fid} .amnl-fig-readout{{font-size:0.92em;margin:0.2em 0;padding:0.4em 0.6em;"
        f"border-left:3px solid {COLORS['test']};background:#fafafa;min-height:2.6em}}"
        f"#{fid} .amnl-fig-caption{{font-size:0.85em;color:#555;margin:0.2em 0}}"
    )
    parts = [
        f'<div id="{fid}" class="amnl-fig">',
        f"<style>{style}</style>",
        f'<p class="amnl-fig-title">{html.escape(title)}</p>',
        *([f'<div class="amnl-fig-controls">{"".join(boxes)}</div>'] if boxes else []),
        f'<div class="amnl-fig-controls">{"".join(controls)}</div>',
        f'<svg id="{fid}-svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{html.escape(title)}" xmlns="http://www.w3.org/2000/svg"></svg>',
        f'<p id="{fid}-readout" class="amnl-fig-readout" aria-live="polite">{html.escape(readout)}</p>',
    ]
    if caption:
        parts.append(f'<p class="amnl-fig-caption">{html.escape(caption)}</p>')
    parts += [
        f'<script type="application/json" id="{fid}-data">{spec}</script>',
        f"<script>\n{figure_script()}\nwindow.AMNLFig.mount({json.dumps(fid)});\n</script>",
        "</div>",
    ]
    return SliderFigure(name=name, html="\n".join(parts))


# --------------------------------------------------------------------------- §14.1 gradient density


def gradient_density_payload(
    y: np.ndarray,
    max_rul: float = R_MAX,
    bin_width: float = 5.0,
    near: float = HEALTH_CRITICAL_AT_OR_BELOW,
    w_max_range: tuple[float, float] = W_MAX_RANGE,
) -> dict[str, Any]:
    """Data of the per-RUL gradient-density figure, from :func:`amnl_utils.gradients.gradient_density`.

    y: (N,) capped training RUL, cycles. Per bin (``bin_width`` cycles on ``[0, max_rul]``):
    ``counts`` and ``ramp_sums`` = sum of ``clip(1 - y/R, 0, 1)``, so that the AMNL weight sum is
    ``counts + (w_max - 1) * ramp_sums`` for any ``w_max`` (the linear schedule is linear in
    ``w_max``). ``near``: the same two numbers for ``y <= near`` (the near-failure bucket of
    :data:`amnl_utils.gradients.BUCKETS`). ``y_top``: y-axis top in % (the capped last bin is drawn
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
    normalised. Equal residual magnitude on every sample is assumed (see amnl_utils.gradients).
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
                        ha="center", fontsize=8)
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
    ax.set_title(_GD_TITLE, fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))


def gradient_density_widget(
    y: np.ndarray, w_max: float = W_MAX, test_rul: float = 5.0, max_rul: float = R_MAX
) -> Any:
    """Live §14.1 figure for a running kernel (Jupyter, Colab): ipywidgets + matplotlib.

    Returns a ``VBox`` (sliders, readout, plot) whose text form is a fixed string, so a cell that
    displays it has the same text output on every run.
    """
    import io

    import ipywidgets as widgets
    from matplotlib.figure import Figure

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
        fig = Figure(figsize=(8.6, 3.8), layout="constrained")
        draw_gradient_density(fig.add_subplot(), payload, w_slider.value, t_slider.value)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        image.value = buf.getvalue()

    w_slider.observe(redraw, names="value")
    t_slider.observe(redraw, names="value")
    box = _live_box_class("LiveFigure('gradient density'): sliders w_max and test RUL")(
        [widgets.HBox([w_slider, t_slider]), readout, image]
    )
    redraw()
    return box


def _live_box_class(text: str) -> type:
    """A ``VBox`` subclass whose text form is the fixed ``text`` (stable notebook output)."""
    import ipywidgets as widgets

    class LiveFigure(widgets.VBox):
        def __repr__(self) -> str:  # the widget's text/plain: fixed, not its (changing) state
            return text

    return LiveFigure


def _png(fig: Any) -> bytes:
    """A matplotlib ``Figure`` as PNG bytes (for the live widgets' Image)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


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
    g_hi = float((base * (1.0 + (w_max_range[1] - 1.0) * ramp_y)).max())
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
    return np.asarray(payload["base"]) * (1.0 + (w_max - 1.0) * np.asarray(payload["ramp"]))


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
    ax1.plot(y_grid, 1.0 + (w_max - 1.0) * np.asarray(payload["ramp_grid"]), color=colors["amnl"], lw=2.2,
             label=f"AMNL, w_max = {w_max:.1f}")
    ax1.set(xlim=(0, y_grid[-1]), ylim=(0, payload["w_top"]), xlabel="true RUL (cycles)", ylabel="weight w(y)")
    ax1.legend(loc="upper right")
    ax1.set_title(textwrap.fill(_WM_TITLE, 64), fontsize=10)
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
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    payload = w_max_payload(y, residual, max_rul=max_rul, w_max_range=w_max_range)
    w_slider = widgets.FloatSlider(value=w_max, min=w_max_range[0], max=w_max_range[1], step=0.1,
                                   description="w_max", readout_format=".1f", continuous_update=False)
    readout = widgets.HTML()
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))

    def redraw(_change: Any = None) -> None:
        readout.value = html.escape(w_max_readout(payload, w_slider.value))
        fig = Figure(figsize=(7.0, 6.0), layout="constrained")
        draw_w_max_ceiling(fig.subplots(2, 1), payload, w_slider.value)
        image.value = _png(fig)

    w_slider.observe(redraw, names="value")
    box = _live_box_class("LiveFigure('w_max ceiling'): slider w_max")([w_slider, readout, image])
    redraw()
    return box


# --------------------------------------------------------------------------- §14.2 schedule explorer

#: Colours of schedules that :data:`amnl_utils.plotting.COLORS` does not name (a reader's own).
_EXTRA_COLORS: tuple[str, ...] = ("#17becf", "#e377c2", "#bcbd22", "#1f77b4")


def schedule_explorer_payload(
    y: np.ndarray,
    schedules: Sequence[Any] = tuple(SCHEDULES),
    max_rul: float = R_MAX,
    w_max_range: tuple[float, float] = W_MAX_RANGE,
) -> dict[str, Any]:
    """Data of the §14.2 schedule explorer, from :mod:`amnl_utils.schedule_design`.

    y: (N,) capped training RUL, cycles; schedules: names of :data:`amnl_utils.weights.SCHEDULES`
    or callables of the form ``1 + (w_max - 1) * shape(y)``. Every schedule enters as its shape: on a
    1-cycle grid ``y_grid`` (0 … 1.2 R_max), and summed over the windows of each RUL bucket
    (``shape_sums``, with the bucket ``counts``). For any ``w_max`` a bucket's weight sum is then
    ``count + (w_max - 1) * shape_sum`` and the mean weight ``1 + (w_max - 1) * shape_total / n``,
    which is what the script (and :func:`schedule_explorer_values`) computes.
    """
    from .schedule_design import resolve, shape

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
            "weight": 1.0 + (w_max - 1.0) * e["shape_grid"][k],
            "mean_weight": 1.0 + (w_max - 1.0) * e["shape_total"] / payload["n"],
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
        ax1.plot(y_grid, 1.0 + (w_max - 1.0) * np.asarray(e["shape_grid"]), color=e["color"], lw=2.2,
                 label=e["label"])
        ax1.plot([test_rul], [v[e["name"]]["weight"]], "o", color=e["color"], ms=6)
    ax1.axvline(test_rul, color=payload["colors"]["test"], ls="--", lw=1.2, label="test engine")
    lo, hi = payload["w_range"]
    ax1.set(xlim=(0, y_grid[-1]), ylim=(lo - 0.05 * (hi - lo), hi), xlabel="true RUL (cycles)",
            ylabel="weight w(y)")
    ax1.legend(loc="upper right", ncols=2, fontsize=8)
    ax1.set_title(_SE_TITLE, fontsize=10)
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
    ax2.legend(loc="upper left", ncols=3, fontsize=8)
    ax2.set(ylim=(0, payload["share_top"]), ylabel="share of the gradient (%)",
            xlabel="true-RUL bucket of the FD001 training windows")


def schedule_explorer_widget(
    y: np.ndarray, schedules: Sequence[Any] = tuple(SCHEDULES), w_max: float = W_MAX, test_rul: float = 20.0,
    max_rul: float = R_MAX,
) -> Any:
    """Live §14.2 figure for a running kernel: checkboxes and two sliders redrawing
    :func:`draw_schedule_explorer` from the explorer's payload. Returns a ``VBox`` with a fixed text."""
    import ipywidgets as widgets
    from matplotlib.figure import Figure

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
        fig = Figure(figsize=(7.0, 6.4), layout="constrained")
        draw_schedule_explorer(fig.subplots(2, 1), payload, picked, w_slider.value, t_slider.value)
        image.value = _png(fig)

    for widget in (*checks, w_slider, t_slider):
        widget.observe(redraw, names="value")
    box = _live_box_class("LiveFigure('schedule explorer'): schedule checkboxes, sliders w_max and test RUL")(
        [widgets.HBox(checks), widgets.HBox([w_slider, t_slider]), readout, image]
    )
    redraw()
    return box
