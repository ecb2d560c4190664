"""Interactive figures: one data payload, two front ends.

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
:func:`amnl_utils.core.weights.ramp`), linear in ``w_max``, so per bin, per bucket or per sample two
arrays (counts and shape sums, or base gradient and shape) let the page recompute every curve for
any ``w_max``. ``gradient_density_shares``, ``schedule_explorer_values`` and ``w_max_gradients``
are the Python twins of what the script computes (``AMNLFig.math``); the tests hold them to
:mod:`amnl_utils.analysis.gradients`, :mod:`amnl_utils.core.weights` and :mod:`amnl_utils.core.losses`, and run the
script's own functions in node and in the browser on the same payloads.
"""

from __future__ import annotations

import html
import io
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Sequence

from ..style import COLORS

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
    return resources.files(__package__).joinpath("js/slider_figure.js").read_text(encoding="utf-8")


def _json_for_script(obj: Any) -> str:
    """JSON that is safe inside ``<script>`` (no ``</``) and byte-identical across runs."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def fmt(value: float, decimals: int) -> str:
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
    values; shown if scripts are off). width/height: the SVG's viewBox, the widest layout; the
    script redraws the figure in the SVG's own width in px (a narrower layout on a phone, so that
    its text keeps its size) and sets the viewBox to what it drew.
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
            f'<output id="{sid}-value" for="{sid}">{fmt(s.value, s.decimals)}</output>'
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
        f"#{fid} .amnl-fig-slider{{display:inline-flex;flex-wrap:wrap;align-items:center;gap:0.2em 0.5em;margin:0;"
        "max-width:100%}"
        f"#{fid} input[type=range]{{width:180px;max-width:100%;accent-color:{COLORS['amnl']}}}"
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


def live_box_class(text: str) -> type:
    """A ``VBox`` subclass whose text form is the fixed ``text`` (stable notebook output)."""
    import ipywidgets as widgets  # lazy: widgets load only for a live figure in a kernel

    class LiveFigure(widgets.VBox):
        def __repr__(self) -> str:  # the widget's text/plain: fixed, not its (changing) state
            return text

    return LiveFigure


def png(fig: Any) -> bytes:
    """A matplotlib ``Figure`` as PNG bytes (for the live widgets' Image)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()
