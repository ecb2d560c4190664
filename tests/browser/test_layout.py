"""Reading comfort on any screen: tables whole and aligned, glued numbers
in the text's own weight, figures sharp and legible at column width, the bibliography complete.

Run after ``make book``. Sideways scrolling and figure text size on every screen are checked by
test_every_screen.py, which also takes the phone screenshots.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import pytest
from browser_support import BUILD, PHONE, ROOT, chapter_pages, content_pages, html_pages, screenshot


def _shot_name(path: str) -> str:
    return path.replace("/", "-").removesuffix(".html")


# --------------------------------------------------------------------------- tables


class _Cells(HTMLParser):
    """The text of every table cell of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self._depth = 0
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag in ("td", "th"):
            self._depth += 1
            if self._depth == 1:
                self._text = []

    def handle_endtag(self, tag) -> None:
        if tag in ("td", "th") and self._depth:
            self._depth -= 1
            if self._depth == 0:
                self.cells.append(" ".join("".join(self._text).split()))

    def handle_data(self, data) -> None:
        if self._depth:
            self._text.append(data)


@pytest.mark.parametrize("path", html_pages())
def test_no_table_cell_is_truncated(path: str) -> None:
    parser = _Cells()
    parser.feed((BUILD / path).read_text(encoding="utf-8"))
    cut = [c for c in parser.cells if c.endswith(("\u2026", "..."))]
    assert not cut, (
        f"{path}: {len(cut)} table cell(s) cut short (pandas display.max_colwidth / max_rows / "
        f"max_columns?): {cut[:5]}"
    )



@pytest.mark.parametrize("path", [p for p in content_pages() if p not in ("genindex.html", "search.html")])
def test_every_table_has_a_number_and_a_caption(path: str) -> None:
    """Every table in a page's article, typed or printed by a cell, opens with a ``<caption>``
    holding its number ("Table 12") and a text (the ``Table:`` paragraphs, _ext/table_captions.py).
    Sphinx's own index and search pages, whose tables are layout, are left out."""
    from bs4 import BeautifulSoup

    article = BeautifulSoup((BUILD / path).read_text(encoding="utf-8"), "html.parser").select_one(".bd-article")
    problems = []
    for i, table in enumerate(article.find_all("table") if article else []):
        caption = table.find("caption", recursive=False)
        number = caption.select_one(".caption-number") if caption else None
        text = caption.select_one(".caption-text") if caption else None
        if number is None or not re.fullmatch(r"Table \d+", number.get_text(strip=True)):
            problems.append(f"table {i + 1}: no numbered caption")
        elif text is None or len(text.get_text(strip=True).split()) < 4:
            problems.append(f"{number.get_text(strip=True)}: caption without a text")
    assert not problems, f"{path}: {problems}; put a 'Table: ...' paragraph just before the table"
    numbers = [n.get_text(strip=True) for n in article.select("table > caption .caption-number")] if article else []
    assert len(numbers) == len(set(numbers)), f"{path}: a table number is used twice: {numbers}"

def _pages_with(marker: str, pages: list[str]) -> list[str]:
    return [p for p in pages if marker in (BUILD / p).read_text(encoding="utf-8")]


#: A plain number as a table shows it (independent of the build's own rule in _ext/numeric_cells.py).
PLAIN_NUMBER = re.compile(r"^[+\-\u2212]?\d[\d,]*(\.\d+)?([eE][+\-\u2212]?\d+)?%?$")


@pytest.mark.parametrize("path", _pages_with('class="dataframe"', content_pages()))
def test_numbers_in_tables_are_right_aligned(open_page, path: str) -> None:
    page, log = open_page(path)
    cells = page.eval_on_selector_all(
        ".bd-article table td",
        "els => els.map(e => [e.textContent.trim(), getComputedStyle(e).textAlign])",
    )
    numeric = [(text, align) for text, align in cells if PLAIN_NUMBER.match(text)]
    assert numeric, f"{path}: a page with a pandas table but no number in any cell?"
    wrong = [(text, align) for text, align in numeric if align not in ("right", "end")]
    assert not wrong, f"{path}: {len(wrong)} of {len(numeric)} numeric cells are not right-aligned: {wrong[:5]}"
    log.assert_clean()


# --------------------------------------------------------------------------- glued numbers


@pytest.mark.parametrize("path", _pages_with("pasted-text", chapter_pages()))
def test_glued_numbers_have_the_weight_of_the_text_around_them(open_page, path: str) -> None:
    page, log = open_page(path)
    pairs = page.eval_on_selector_all(
        ".bd-article span.pasted-text",
        "els => els.map(e => [e.textContent.trim(), getComputedStyle(e).fontWeight,"
        " getComputedStyle(e.parentElement).fontWeight])",
    )
    assert pairs, f"{path}: no glued text found in the article"
    bold = [(text, own, around) for text, own, around in pairs if own != around]
    assert not bold, f"{path}: glued numbers in another weight than their sentence (text, own, around): {bold[:5]}"
    log.assert_clean()


# --------------------------------------------------------------------------- figures

#: Bounds on natural width / displayed width of a figure image at a 1280 px window.
SHARP_MIN, LEGIBLE_MAX = 1.5, 2.2
IMAGES = """() => [...document.querySelectorAll('.bd-article img')].map(img => {
  const column = img.closest('.bd-article');
  const cs = getComputedStyle(column);
  return {
    src: img.getAttribute('src'),
    natural: img.naturalWidth,
    shown: img.getBoundingClientRect().width,
    column: column.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight),
  };
})"""


@pytest.mark.parametrize("path", _pages_with("<img", chapter_pages()))
def test_figures_are_not_downscaled_into_illegibility(open_page, path: str) -> None:
    """Every image in a chapter's article, at a 1280 px window (1 CSS px = 1 screen px):

    - natural width / displayed width ≤ 2.2: the PNG was drawn no wider than the column, at 2x
      density (the book style: 5 in at 192 dpi, shown 480 px wide). A figure drawn much wider (a
      1400 px-wide 1x figure squeezed into a 600 px column, or a 12 in figure) is shrunk on screen,
      and its text with it, below the 10 pt the style sets;
    - natural width / displayed width ≥ 1.5: the PNG has about 2 pixels per displayed pixel, sharp on
      high-density screens (a 1x PNG is blurry there);
    - no image is wider than its column.
    """
    page, log = open_page(path)
    page.wait_for_function("() => [...document.querySelectorAll('.bd-article img')].every(i => i.complete)")
    images = page.evaluate(IMAGES)
    assert images, f"{path}: no image in the article"
    problems = []
    for im in images:
        if im["natural"] == 0:
            problems.append(f"{im['src']}: did not load")
            continue
        ratio = im["natural"] / im["shown"]
        where = f"{im['src'].rsplit('/', 1)[-1][:16]}: {im['natural']} px drawn, shown at {im['shown']:.0f} px"
        if ratio > LEGIBLE_MAX:
            problems.append(f"{where} (x{ratio:.2f} > {LEGIBLE_MAX}: drawn too wide, text shrunk)")
        if ratio < SHARP_MIN:
            problems.append(f"{where} (x{ratio:.2f} < {SHARP_MIN}: not drawn for 2x screens)")
        if im["shown"] > im["column"] + 1:
            problems.append(f"{where}, wider than its {im['column']:.0f} px column")
    assert not problems, f"{path}: " + "; ".join(problems)
    log.assert_clean()


@pytest.mark.parametrize("path", _pages_with("<img", chapter_pages()))
def test_figures_keep_their_shape_on_a_phone(open_page, path: str) -> None:
    """At 390 px the figures shrink to the column; their height must shrink with them."""
    page, log = open_page(path, viewport=PHONE, touch=True)
    page.wait_for_function("() => [...document.querySelectorAll('.bd-article img')].every(i => i.complete)")
    images = page.eval_on_selector_all(
        ".bd-article img",
        "els => els.map(i => [i.getAttribute('src'), i.naturalWidth / i.naturalHeight,"
        " i.getBoundingClientRect().width / i.getBoundingClientRect().height, i.getBoundingClientRect().right])",
    )
    assert images, f"{path}: no image in the article"
    squashed = [
        f"{src.rsplit('/', 1)[-1][:16]}: drawn {drawn:.2f}:1, shown {shown:.2f}:1"
        for src, drawn, shown, _ in images
        if abs(shown / drawn - 1) > 0.02
    ]
    assert not squashed, f"{path}: figures distorted at {PHONE['width']} px: {squashed}"
    wide = [f"{src.rsplit('/', 1)[-1][:16]}: right edge at {right:.0f} px" for src, _, _, right in images if right > PHONE["width"] + 1]
    assert not wide, f"{path}: figures wider than the screen: {wide}"
    log.assert_clean()


# --------------------------------------------------------------------------- references


def _plain(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", re.sub(r"\\[a-zA-Z]+|[{}]", "", text).lower())


def test_bibliography_lists_every_entry() -> None:
    from pybtex.database import parse_file

    bib = parse_file(str(ROOT / "references.bib"))
    html = (BUILD / "references.html").read_text(encoding="utf-8")
    listed = html.count('role="doc-biblioentry"')
    assert listed == len(bib.entries), f"references.html lists {listed} entries, references.bib has {len(bib.entries)}"
    text = _plain(unescape(re.sub(r"<[^>]+>", "", html)))
    missing = [key for key, e in bib.entries.items() if _plain(e.fields["title"]) not in text]
    assert not missing, f"references.html does not show the titles of: {missing}"


# --------------------------------------------------------------------------- dark mode


def _luminance_of_png(png: bytes) -> float:
    """Mean luminance (0 black ... 1 white) of a screenshot."""
    import io

    import matplotlib.image as mpimg

    rgb = mpimg.imread(io.BytesIO(png), format="png")[..., :3]
    return float((0.2126 * rgb[..., 0] + 0.7152 * rgb[..., 1] + 0.0722 * rgb[..., 2]).mean())


@pytest.mark.parametrize("path", ["intro.html", "chapters/14_4_dual_task_wiring.html"])
def test_figures_follow_the_dark_theme(open_page, path: str) -> None:
    """With the reader's system in dark mode, the page is dark and so are its figures (no bright
    panels), while in light mode the same figures stay light; screenshots of the first figure at
    390 px, dark, go to artifacts/screenshots/dark-*.png."""
    figure = ".bd-article .cell_output img"
    light, _ = open_page(path, viewport=PHONE)
    assert light.evaluate("document.documentElement.dataset.theme") == "light"
    light_img = light.locator(figure).first
    light_img.scroll_into_view_if_needed()
    assert _luminance_of_png(light_img.screenshot()) > 0.7
    page, log = open_page(path, viewport=PHONE, dark=True)
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    img = page.locator(figure).first
    img.scroll_into_view_if_needed()
    shot = img.screenshot()
    (screenshot(page, f"dark-{_shot_name(path)}", locator=img))
    assert _luminance_of_png(shot) < 0.3, f"{path}: the first figure is a bright panel in dark mode"
    log.assert_clean()


@pytest.mark.parametrize("path", _pages_with('class="amnl-fig"', chapter_pages()))
def test_kernel_free_figures_follow_the_dark_theme(open_page, path: str) -> None:
    """The SVG slider figures: a light card in light mode, a dark one in dark mode (never a bright
    panel in a dark page)."""
    light, _ = open_page(path, viewport=PHONE)
    card = light.locator(".bd-article .amnl-fig").first
    card.scroll_into_view_if_needed()
    assert _luminance_of_png(card.screenshot()) > 0.7, f"{path}: the slider figure is not light in light mode"
    page, log = open_page(path, viewport=PHONE, dark=True)
    card = page.locator(".bd-article .amnl-fig").first
    card.scroll_into_view_if_needed()
    assert _luminance_of_png(card.screenshot()) < 0.3, f"{path}: the slider figure is a bright panel in dark mode"
    log.assert_clean()


# --------------------------------------------------------------------------- equations and code

#: Display equations and code a reader copies whose content is wider than their box (they would
#: scroll sideways): tag, overflow in px and the start of their text.
WIDER_THAN_BOX = """(selector) => [...document.querySelectorAll(selector)]
  .filter(e => e.getBoundingClientRect().width > 0 && e.scrollWidth > e.clientWidth + 1)
  .map(e => `${e.tagName.toLowerCase()} +${e.scrollWidth - e.clientWidth} px: ${(e.textContent || '').trim().slice(0, 50)}`)"""
CODE = (".bd-article .cell_input div.highlight pre, .bd-article div.highlight-bash div.highlight pre, "
        ".bd-article div.highlight-python div.highlight pre")
EQUATIONS = '.bd-article mjx-container[display="true"]'


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 900}], ids=["390px", "1280px"])
@pytest.mark.parametrize("path", content_pages())
def test_code_lines_wrap_inside_the_column(open_page, path: str, viewport: dict) -> None:
    page, _ = open_page(path, viewport=viewport)
    wide = page.evaluate(WIDER_THAN_BOX, CODE)
    assert not wide, f"{path} at {viewport['width']} px: code that scrolls sideways: {wide[:3]}"


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 900}], ids=["390px", "1280px"])
@pytest.mark.parametrize("path", content_pages())
def test_display_equations_fit_the_column(open_page, path: str, viewport: dict) -> None:
    """At 390 px and at 1280 px every display equation fits its column. MathJax 3 does not break
    lines, so the long ones are written on several lines (aligned or gathered), and on a phone
    display maths is set at 88 % (_static/amnl.css)."""
    page, _ = open_page(path, viewport=viewport)
    wide = page.evaluate(WIDER_THAN_BOX, EQUATIONS)
    assert not wide, f"{path} at {viewport['width']} px: display equations wider than the column: {wide[:3]}"
