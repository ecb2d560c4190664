"""The book's matplotlib style and palette, set in one place.

Uniform MSE is grey, AMNL green, the scaled-MSE control blue, a test point red. Figures are drawn at
the text column's width and shown at their own size, rendered at twice the pixel density (see
``BOOK_RC``).
"""

from __future__ import annotations

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

#: Width of a book figure in inches: the text column is about 688 CSS px wide at a 1280 px window
#: (96 CSS px per inch), so a 7 in figure is shown at its own size, fonts at their point size.
FIGURE_WIDTH_IN = 7.0
#: Dots per inch of the figure *as displayed* (CSS px per inch). The PNGs are rendered at twice this
#: (``INLINE_FORMAT``), for sharp figures on high-density screens.
DISPLAY_DPI = 96
#: The inline backend's format: "retina" renders the PNG at 2 x figure.dpi (192 dpi, 1344 px for a
#: 7 in figure) and records the 1x size in the output's metadata, which the book uses as the image's
#: width; a figure is then never shown larger than drawn, whatever its size.
INLINE_FORMAT = "retina"

#: rcParams applied by :func:`use_book_style`.
BOOK_RC: dict[str, object] = {
    # 7 x 3.75 in = 672 x 360 px at 96 dpi: whole pixels, so the "<Figure size WxH ...>" text of a
    # figure stays an integer pair that tests/nbval_sanitize.cfg can recognise.
    "figure.figsize": (FIGURE_WIDTH_IN, 3.75),
    "figure.dpi": DISPLAY_DPI,
    # Files written with savefig (outside the inline backend) at the same 2x density.
    "savefig.dpi": 2 * DISPLAY_DPI,
    # Labels, legends and colour bars fit inside the figure without manual tight_layout calls.
    "figure.constrained_layout.use": True,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    # Readable at column width: text at ≥ 10 pt as displayed, legends ≥ 9 pt, titles ≤ 12 pt.
    "font.size": 10.5,
    "axes.titlesize": 11.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 10.5,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 9.5,
    "legend.title_fontsize": 10,
    "legend.frameon": False,
    "figure.titlesize": 12,
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
