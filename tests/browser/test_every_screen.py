"""Every page of the built book on the four screens a reader brings: a 390 px phone and a 1280 px
laptop, each in light and in dark mode. On each, a page

- does not scroll sideways (no element sticks out of the window outside a box that scrolls);
- shows no figure text under 9 CSS px: a PNG figure's smallest font (recorded in the PNG by the
  book's formatter, ``amnl_utils.book.style.book_png``) times the factor the page shrinks it by, and
  every text of a kernel-free slider figure (its font size times the SVG's scale on screen);
- numbers and captions every table;
- links only glossary terms that exist;
- shows launch links (Colab, Binder) only on notebook pages, pointing at the notebook.

Run after ``make book``. Screenshots of every page at 390 px go to artifacts/screenshots/phone-*.png
(light) and phone-dark-*.png (dark); the 1280 px ones are taken by test_book_html.py.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from posixpath import dirname, join, normpath
from urllib.parse import unquote, urlsplit

import pytest
from browser_support import BUILD, DESKTOP, OVERFLOWING, PHONE, ROOT, content_pages, glossary_ids, screenshot

#: The smallest figure text a reader is asked to read, in CSS px.
MIN_TEXT_PX = 9.0
#: The PNG text chunk holding a figure's smallest font in points (amnl_utils.book.style.MIN_FONT_KEY;
#: written out here so that the test does not take the value from the code it checks).
MIN_FONT_KEY = "amnl:min_font_pt"
SCREENS = {
    "390px-light": (PHONE, False),
    "390px-dark": (PHONE, True),
    "1280px-light": (DESKTOP, False),
    "1280px-dark": (DESKTOP, True),
}
#: Pages whose tables are Sphinx's layout, not the book's (no captions expected).
LAYOUT_TABLES = ("genindex.html", "search.html")

#: Every shown image of the article: its source, width on screen and its pixel width.
IMAGES = """() => [...document.querySelectorAll('.bd-article img')]
  .filter(i => i.getBoundingClientRect().width > 0)
  .map(i => ({src: i.getAttribute('src'), shown: i.getBoundingClientRect().width, natural: i.naturalWidth}))"""
#: Every shown text of the slider figures' SVGs, with its size on screen in CSS px.
SVG_TEXT = """() => [...document.querySelectorAll('.bd-article .amnl-fig svg')].flatMap(svg => {
  const m = svg.getScreenCTM();
  if (!m || svg.getBoundingClientRect().width === 0) return [];
  return [...svg.querySelectorAll('text')].filter(t => t.textContent.trim())
    .map(t => ({fig: svg.id, text: t.textContent.trim().slice(0, 30),
                px: parseFloat(t.getAttribute('font-size') || getComputedStyle(t).fontSize) * m.a}));
})"""
#: Tables of the article without a numbered caption ("Table 12" and a text).
UNCAPTIONED = """() => [...document.querySelectorAll('.bd-article table')].filter(t => {
  const c = t.querySelector(':scope > caption');
  const n = c && c.querySelector('.caption-number');
  const x = c && c.querySelector('.caption-text');
  return !(n && /^Table \\d+/.test(n.textContent.trim()) && x && x.textContent.trim().split(/\\s+/).length >= 4);
}).map(t => (t.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60))"""
LAUNCH = ("a[href*='colab.research.google.com'], a[href*='mybinder.org'], a[href*='/hub/user-redirect'], "
          "a[href*='deepnote.com/launch']")


@lru_cache(maxsize=None)
def _png_min_font(file: Path) -> float | None:
    from PIL import Image

    with Image.open(file) as im:
        value = im.text.get(MIN_FONT_KEY) if hasattr(im, "text") else None
    return float(value) if value is not None else None


def _figure_text_problems(page, path: str) -> list[str]:
    problems = []
    for im in page.evaluate(IMAGES):
        src = urlsplit(im["src"]).path
        file = BUILD / normpath(join(dirname(path), unquote(src)))
        name = src.rsplit("/", 1)[-1][:20]
        if not file.is_file() or not im["natural"]:
            problems.append(f"{name}: not found or not loaded")
            continue
        font = _png_min_font(file)
        if font is None:
            problems.append(f"{name}: no {MIN_FONT_KEY} record (drawn outside the book's PNG formatter?)")
            continue
        # the book's PNGs are drawn at 2 px per CSS px (style.INLINE_FORMAT "retina")
        px = font * 96 / 72 * im["shown"] / (im["natural"] / 2)
        if px < MIN_TEXT_PX:
            problems.append(f"{name}: {font:g} pt text shown at {px:.1f} px ({im['shown']:.0f} px wide)")
    small = [t for t in page.evaluate(SVG_TEXT) if t["px"] < MIN_TEXT_PX - 0.05]
    problems += [f"{t['fig']}: {t['text']!r} at {t['px']:.1f} px" for t in small[:5]]
    return problems


@lru_cache(maxsize=1)
def _glossary() -> frozenset[str]:
    return frozenset(glossary_ids().values())


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("path", content_pages())
def test_every_page_reads_on_every_screen(open_page, path: str, screen: str) -> None:
    viewport, dark = SCREENS[screen]
    page, log = open_page(path, viewport=viewport, touch=viewport is PHONE, dark=dark)
    page.wait_for_function("() => [...document.querySelectorAll('.bd-article img')].every(i => i.complete)")
    assert page.evaluate("document.documentElement.dataset.theme") == ("dark" if dark else "light")
    if viewport is PHONE:
        screenshot(page, f"phone-{'dark-' if dark else ''}{path.replace('/', '-').removesuffix('.html')}")
    problems = []
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    if scroll_width > viewport["width"] + 1:
        problems.append(f"scrolls sideways ({scroll_width} px wide): {page.evaluate(OVERFLOWING)}")
    problems += _figure_text_problems(page, path)
    if path not in LAYOUT_TABLES:
        problems += [f"table without a numbered caption: {t!r}" for t in page.evaluate(UNCAPTIONED)]
    terms = page.eval_on_selector_all(".bd-article a[href*='glossary.html#term-']",
                                      "els => els.map(e => e.getAttribute('href').split('#term-')[1])")
    problems += [f"glossary link to a missing term: {t}" for t in sorted(set(terms) - _glossary())]
    launch = page.eval_on_selector_all(LAUNCH, "els => els.map(e => e.href)")
    is_notebook = (ROOT / path).with_suffix(".ipynb").is_file()
    problems += [f"launch link on a page that is not a notebook: {u}" for u in launch if not is_notebook]
    problems += [f"launch link that does not open a notebook: {u}" for u in launch
                 if is_notebook and not urlsplit(u).path.endswith(".ipynb")]
    assert not problems, f"{path} at {screen}: " + "; ".join(problems)
    log.assert_clean()
