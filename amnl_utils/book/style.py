"""The book's matplotlib style and palette, set in one place.

Uniform MSE is grey, AMNL green, the scaled-MSE control blue, a test point red. Figures are drawn
``FIGURE_WIDTH_IN`` wide with no text under ``MIN_FONT_PT``, shown at their own size on a laptop and
shrunk to the column on a phone (their text stays at 9 CSS px or more), and rendered at twice the
pixel density (see ``BOOK_RC``). The inline PNG formatter (:func:`book_png`) records each figure's
smallest font in the image, for the tests that check the text size on screen.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

#: One palette for the whole book.
COLORS: dict[str, str] = {
    "mse": "#7f7f7f",  # uniform MSE
    "amnl": "#2ca02c",  # AMNL
    "scaled": "#1f77b4",  # scaled-MSE control
    "test": "#d62728",  # the test point / a highlighted sample
    "hist": "#d9d9d9",  # background histograms
    "exponential": "#9467bd",
    "sigmoid": "#ff7f0e",
    "step": "#8c564b",
    "constant": "#7f7f7f",
    "linear": "#2ca02c",
    "lds": "#1f77b4",  # the §14.5 rivals
    "bmc": "#17becf",
    "pinball": "#d62728",
    "pinball_t0.3": "#d62728",
    "pinball_t0.4": "#ff9896",
    "mse_offset": "#bcbd22",
    "oracle": "#000000",
    "age": "#8c564b",
}

#: Width of a book figure in inches. A figure is shown at its own size where the column is wide
#: enough (480 CSS px at 96 CSS px per inch; the column is about 688 px at a 1280 px window) and
#: shrunk to the column on a phone (about 342 px at a 390 px window, a factor of about 0.71).
FIGURE_WIDTH_IN = 5.0
#: The smallest font in a book figure, in points: 14 CSS px at the figure's own size, about 9.8 px
#: on a 390 px phone (a 5 in figure, about 490 px with its margin, shrunk to 342 px); the browser
#: tests hold every figure's text to 9 px on both screens.
MIN_FONT_PT = 10.5
#: Dots per inch of the figure *as displayed* (CSS px per inch). The PNGs are rendered at twice this
#: (``INLINE_FORMAT``), for sharp figures on high-density screens.
DISPLAY_DPI = 96
#: The inline backend's format: "retina" renders the PNG at 2 x figure.dpi (192 dpi, 960 px for a
#: 5 in figure) and records the 1x size in the output's metadata, which the book uses as the image's
#: width; a figure is then never shown larger than drawn, whatever its size.
INLINE_FORMAT = "retina"
#: The PNG text chunk (and output-metadata key, under ``"amnl"``) that records a figure's smallest
#: font size in points, written by :func:`book_png`: the browser tests read it back from the built
#: book's images to check the text size on screen.
MIN_FONT_KEY = "amnl:min_font_pt"

#: rcParams applied by :func:`use_book_style`.
BOOK_RC: dict[str, object] = {
    # 5 x 3.25 in = 480 x 312 px at 96 dpi: whole pixels, so the "<Figure size WxH ...>" text of a
    # figure stays an integer pair that tests/nbval_sanitize.cfg can recognise.
    "figure.figsize": (FIGURE_WIDTH_IN, 3.25),
    "figure.dpi": DISPLAY_DPI,
    # Files written with savefig (outside the inline backend) at the same 2x density.
    "savefig.dpi": 2 * DISPLAY_DPI,
    # The margin the inline backend's tight bounding box leaves around the drawing (default 0.1 in).
    "savefig.pad_inches": 0.05,
    # Labels, legends and colour bars fit inside the figure without manual tight_layout calls.
    "figure.constrained_layout.use": True,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    # Readable on a phone: no text under MIN_FONT_PT (ticks and legends at it), titles ≤ 12 pt.
    "font.size": 11,
    "axes.titlesize": 11.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "xtick.labelsize": MIN_FONT_PT,
    "ytick.labelsize": MIN_FONT_PT,
    "legend.fontsize": MIN_FONT_PT,
    "legend.title_fontsize": 11,
    "legend.frameon": False,
    "figure.titlesize": 12,
    "figure.labelsize": 11,  # supxlabel / supylabel, as the axes' own labels
    # Deterministic SVG/PNG output: no random ids or dates in saved figures.
    "svg.hashsalt": "amnl-book",
    "svg.fonttype": "none",
}


def use_book_style() -> None:
    """Apply the book's matplotlib style (idempotent). Needs matplotlib.

    In a Jupyter kernel (the book build, nbval, Colab) it also switches the inline backend to
    ``INLINE_FORMAT``; in a plain Python process only the rcParams change.
    """
    import matplotlib as mpl  # lazy: matplotlib loads only when a figure is drawn

    mpl.rcParams.update(BOOK_RC)
    _use_inline_format()


def min_font_pt(fig: Any) -> float | None:
    """The smallest font size (points) of any visible, non-empty text of ``fig`` (a matplotlib Figure):
    titles, labels, tick labels, legends, annotations. Draws the figure first (without rendering), so
    that tick labels are the ones shown. A figure with no text gives None."""
    from matplotlib.text import Text  # lazy: matplotlib loads only when a figure is drawn

    fig.draw_without_rendering()
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return float(min(sizes)) if sizes else None


def book_png(fig: Any, base: Callable[..., Any]) -> tuple[str, dict[str, Any]] | None:
    """The inline backend's PNG formatter for the book: ``base`` (the backend's retina formatter)
    with the figure's smallest font size (:func:`min_font_pt`) recorded twice, as the PNG text chunk
    ``MIN_FONT_KEY`` and in the output's metadata as ``{"amnl": {MIN_FONT_KEY: ...}}`` beside the
    1x ``width``/``height`` (CSS px); a figure without text records nothing. Returns
    ``(base64 PNG, metadata)``, or None for an empty figure."""
    font = min_font_pt(fig)
    out = base(fig, metadata={MIN_FONT_KEY: f"{font:g}"}) if font is not None else base(fig)
    if out is None:
        return None
    data, metadata = out
    return data, ({**metadata, "amnl": {MIN_FONT_KEY: font}} if font is not None else metadata)


def _use_inline_format() -> None:
    try:
        from IPython import get_ipython  # lazy: only inside a notebook kernel
    except ImportError:  # no IPython: no inline backend to configure
        return
    if get_ipython() is None:
        return
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats  # lazy: only in a kernel
    except ImportError:  # an IPython without the inline backend: nothing to configure
        return
    set_matplotlib_formats(INLINE_FORMAT)
    from matplotlib.figure import Figure  # lazy: matplotlib loads only when a figure is drawn

    png = get_ipython().display_formatter.formatters["image/png"]
    base = png.lookup_by_type(Figure)  # the retina formatter, with the backend's print options
    png.for_type(Figure, partial(book_png, base=base))
