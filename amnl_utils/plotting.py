"""The book's matplotlib style and palette, set in one place.

Uniform MSE is grey, AMNL green, the scaled-MSE control blue, a test point red (STYLE.md).
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
}

#: rcParams applied by :func:`use_book_style`.
BOOK_RC: dict[str, object] = {
    "figure.figsize": (7.0, 3.8),
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "font.size": 10,
    # Deterministic SVG/PNG output: no random ids or dates in saved figures.
    "svg.hashsalt": "amnl-book",
    "svg.fonttype": "none",
}


def use_book_style() -> None:
    """Apply the book's matplotlib style (idempotent). Needs matplotlib."""
    import matplotlib as mpl

    mpl.rcParams.update(BOOK_RC)
