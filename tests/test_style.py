"""The book's figure style: every figure is drawn for a phone's column, with no text under the
book's smallest font, and the PNG formatter records that font in the image and in the output."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest

from amnl_utils.book.style import (
    DISPLAY_DPI,
    FIGURE_WIDTH_IN,
    MIN_FONT_KEY,
    MIN_FONT_PT,
    book_png,
    min_font_pt,
    use_book_style,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
#: A phone's column at a 390 px window (CSS px), as the browser tests measure it.
PHONE_COLUMN_PX = 342


def _figure(fontsize: float | None = None):
    from matplotlib.figure import Figure

    use_book_style()
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], label="a line")
    ax.set_xlabel("x (cycles)")
    ax.legend()
    if fontsize is not None:
        ax.annotate("small", (0.5, 0.5), fontsize=fontsize)
    return fig


def test_min_font_is_the_smallest_visible_text():
    assert min_font_pt(_figure()) == MIN_FONT_PT  # the ticks and the legend, at the style's floor
    assert min_font_pt(_figure(fontsize=7)) == 7.0
    fig = _figure(fontsize=7)
    fig.axes[0].texts[0].set_visible(False)  # hidden text is not read
    assert min_font_pt(fig) == MIN_FONT_PT
    from matplotlib.figure import Figure

    assert min_font_pt(Figure()) is None  # nothing to read


def test_book_png_records_the_font_in_the_png_and_the_metadata():
    from IPython.core.pylabtools import retina_figure
    from PIL import Image

    data, metadata = book_png(_figure(fontsize=8.5), base=lambda fig, **kw: retina_figure(fig, base64=True, **kw))
    assert metadata["amnl"] == {MIN_FONT_KEY: 8.5}
    png = Image.open(io.BytesIO(base64.b64decode(data)))
    assert png.text[MIN_FONT_KEY] == "8.5"
    assert png.width // 2 == metadata["width"] and png.height // 2 == metadata["height"]  # retina: 2 px per CSS px


def _png_outputs():
    for nb in NOTEBOOKS:
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        for i, cell in enumerate(cells):
            for out in cell.get("outputs", []):
                if "image/png" in out.get("data", {}):
                    yield pytest.param(out, id=f"{nb.stem}-cell{i}")


@pytest.mark.parametrize("output", list(_png_outputs()))
def test_every_stored_figure_is_drawn_for_a_phone(output):
    """Each figure a chapter stores came through the book's formatter (its smallest font recorded),
    has no text under MIN_FONT_PT, is drawn about FIGURE_WIDTH_IN wide (its own width on a laptop),
    and its text stays at 9 CSS px or more when a phone shrinks it to its column."""
    from PIL import Image

    meta = output["metadata"]["image/png"]
    assert "amnl" in meta, "figure not drawn through amnl_utils.book.style.book_png (use_book_style())"
    font = meta["amnl"][MIN_FONT_KEY]
    png = Image.open(io.BytesIO(base64.b64decode(output["data"]["image/png"])))
    assert float(png.text[MIN_FONT_KEY]) == font
    assert font >= MIN_FONT_PT, f"text at {font} pt, under the book's {MIN_FONT_PT} pt"
    width = meta["width"]
    assert width <= FIGURE_WIDTH_IN * DISPLAY_DPI + 16, f"drawn {width} px wide: wider than a book figure"
    phone_px = font * 96 / 72 * min(1.0, PHONE_COLUMN_PX / width)
    assert phone_px >= 9.0, f"{font} pt text at {phone_px:.1f} px on a phone"
