"""Interactive figures: one data payload, two front ends (SPEC §5 "Interactive per-RUL gradient density").

Every interactive figure of the book exists twice, drawing from the same payload computed here:

- **kernel-free** (:func:`slider_figure`): self-contained HTML — range inputs, an inline SVG, the
  payload as JSON and a small script (``js/slider_figure.js``, shipped with the package). It needs
  no kernel and no network, so the sliders work in the static book, in Jupyter and in Colab.
  Element ids derive from the figure's name (no random ids), so the HTML is the same on every run
  and nbval can compare it exactly.
- **live** (:func:`gradient_density_widget`): ipywidgets sliders redrawing a matplotlib figure in
  a running kernel. The book does not store widget state (no widget JavaScript is loaded from a
  CDN); in the static pages the kernel-free version carries the interactivity.

The payloads are small: the pull of a linear-schedule weight is linear in ``w_max``
(``w = 1 + (w_max - 1) * ramp`` with ``ramp = clip(1 - y / R_max, 0, 1)``), so two arrays per bin
(or per sample) let the page recompute every curve for any ``w_max``. ``gradient_density_shares``
and ``w_max_gradients`` are the Python twins of what the script computes; the tests hold them to
:mod:`amnl_utils.gradients` and :mod:`amnl_utils.losses`.
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Sequence

import numpy as np

from .constants import HEALTH_CRITICAL_AT_OR_BELOW, R_MAX, W_MAX
from .gradients import gradient_density
from .plotting import COLORS
from .weights import check_rul, linear_weight

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
) -> SliderFigure:
    """Build a kernel-free slider figure.

    name: figure name, the source of every element id (``figure_id(name)``); use one name per
    page. sliders: the range inputs, passed to the draw function as ``values[slider.name]``.
    payload: JSON-able data (lists, numbers, strings). draw: the name of a draw function
    registered in ``js/slider_figure.js`` (``AMNLFig.register(name, (fig, payload, values) =>
    readout)``). readout: the initial readout text (what the script writes at the initial slider
    values; shown if scripts are off). width/height: SVG viewBox in px (it scales to the page).
    """
    fid = figure_id(name)
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
    ramp = np.clip(1.0 - y / max_rul, 0.0, 1.0)
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
            "ramp_sum": round(float(ramp[is_near].sum()), 6),
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
    box = _live_box_class()([widgets.HBox([w_slider, t_slider]), readout, image])
    redraw()
    return box


def _live_box_class() -> type:
    import ipywidgets as widgets

    class LiveFigure(widgets.VBox):
        def __repr__(self) -> str:  # the widget's text/plain: fixed, not its (changing) state
            return "LiveFigure('gradient density'): sliders w_max and test RUL"

    return LiveFigure


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
    ramp = np.clip(1.0 - y / max_rul, 0.0, 1.0)
    g_hi = float((base * (1.0 + (w_max_range[1] - 1.0) * ramp)).max())
    y_grid = np.arange(0.0, 1.2 * max_rul + 1e-9, 1.0)
    return {
        "y_grid": [round(float(v), 6) for v in y_grid],
        "ramp_grid": [round(float(v), 6) for v in np.clip(1.0 - y_grid / max_rul, 0.0, 1.0)],
        "base": [float(f"{v:.10g}") for v in base],
        "ramp": [float(f"{v:.10g}") for v in ramp],
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
    g = w_max_gradients(payload, w_max)
    ratio = float(np.quantile(g, 0.99) / np.median(g))
    return (
        f"w_max = {w_max:.1f}: weight {w_max:.2f} at RUL 0, 1.00 at RUL \u2265 {payload['max_rul']:.0f}; "
        f"p99/median of the per-sample |gradient| = {ratio:.2f}."
    )


def w_max_figure(
    y: np.ndarray, residual: np.ndarray, name: str = "w_max ceiling", w_max: float = W_MAX,
    max_rul: float = R_MAX,
) -> SliderFigure:
    """Kernel-free §14.3 figure: the schedule w(y) and the batch's per-sample |gradient| histogram."""
    payload = w_max_payload(y, residual, max_rul=max_rul)
    return slider_figure(
        name,
        [Slider("w_max", "w<sub>max</sub>", W_MAX_RANGE[0], W_MAX_RANGE[1], 0.1, w_max, decimals=1)],
        payload,
        "w_max_ceiling",
        title="A larger w_max steepens the schedule and stretches the tail of per-sample gradients",
        caption="Left: the AMNL weight (green) against plain MSE (grey). Right: per-sample "
        "|gradient| of one batch at the chosen w_max.",
        readout=w_max_readout(payload, w_max),
        width=760,
        height=340,
    )
