"""The rendered book in a real browser: offline, error-free, math typeset, figures interactive.

Run after ``make book`` (``make test`` does both). Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import importlib.util
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from browser_support import BUILD, ROOT, chapter_pages, html_pages, require_build, screenshot

from amnl_utils.book.interactive.framework import figure_id
from amnl_utils.book.interactive.gradient_density import gradient_density_shares

FIG = figure_id("gradient density")
CHAPTER_141 = "chapters/14_1_uniform_vs_weighted.html"
#: Hosts of the public CDNs Jupyter Book / Sphinx / myst-nb would load from by default.
CDN = re.compile(
    r"cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com|ajax\.googleapis\.com|fonts\.googleapis\.com"
    r"|fonts\.gstatic\.com|code\.jquery\.com|bootstrapcdn\.com|polyfill\.io|cdn\.plot\.ly|//cdn\.",
    re.IGNORECASE,
)


def test_book_is_built() -> None:
    build = require_build()
    assert (build / CHAPTER_141).is_file(), f"{CHAPTER_141} missing from {build}"
    assert (build / "_vendor" / "mathjax" / "tex-chtml.js").is_file(), "MathJax was not copied (npm ci?)"


class _Assets(HTMLParser):
    """Collect the URLs a page *loads* (scripts, styles, images, frames), not the links it shows."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "audio", "video") and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and a.get("href") and (a.get("rel") or "") != "canonical":
            self.urls.append(a["href"])


@pytest.mark.parametrize("page", html_pages())
def test_page_loads_nothing_from_the_network(page: str) -> None:
    text = (BUILD / page).read_text(encoding="utf-8")
    cdn = sorted(set(m.group(0) for m in CDN.finditer(text)))
    assert not cdn, f"{page} references a CDN: {cdn}"
    parser = _Assets()
    parser.feed(text)
    remote = [u for u in parser.urls if re.match(r"^(https?:)?//", u)]
    assert not remote, f"{page} loads remote assets: {remote}"


@pytest.mark.parametrize("path", html_pages())
def test_page_renders_offline_without_errors(open_page, path: str) -> None:
    page, log = open_page(path)
    n_math = page.locator(".math").count()
    if n_math:
        assert page.locator("mjx-container").count() >= n_math, f"{path}: math not typeset by MathJax"
        assert page.locator("mjx-merror").count() == 0, f"{path}: MathJax reported a TeX error"
    screenshot(page, "page-" + path.replace("/", "-").removesuffix(".html"))
    log.assert_clean()


def _colab_tool():
    spec = importlib.util.spec_from_file_location("sync_colab_cell", ROOT / "tools" / "sync_colab_cell.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", chapter_pages())
def test_colab_button_follows_config(open_page, path: str) -> None:
    """Published (`colab:` block of _config.yml set): a Colab button opening this notebook at exactly
    the configured tag or commit. Not published: no Colab button, and no repository button in the
    page's header (Jupyter Book would otherwise link its own default address)."""
    target = _colab_tool().colab_target()
    page, log = open_page(path)
    colab = page.eval_on_selector_all("a[href*='colab.research.google.com']", "els => els.map(e => e.href)")
    if target is None:
        github = page.eval_on_selector_all(".bd-header-article a[href*='github.com']", "els => els.map(e => e.href)")
        assert colab == [], f"{path}: the Colab path is not published, yet the page links to Colab: {colab}"
        assert github == [], f"{path}: the book's address is not published, yet the header links to {github}"
    else:
        owner_name = target.url.removeprefix("https://github.com/")
        expected = (
            f"https://colab.research.google.com/github/{owner_name}/blob/{target.ref}/"
            f"{Path(path).with_suffix('.ipynb').as_posix()}"
        )
        assert expected in colab, f"{path}: no Colab launch button to {expected}; found {colab}"
    log.assert_clean()


# --------------------------------------------------------------------------- §14.1 kernel-free figure


def set_slider(page, name: str, value: float) -> None:
    """Move a range input as a drag would: set the value, fire an input event."""
    page.evaluate(
        "([id, v]) => { const el = document.getElementById(id); el.value = String(v);"
        " el.dispatchEvent(new Event('input', {bubbles: true})); }",
        [f"{FIG}-{name}", value],
    )


def series(page, name: str) -> tuple[str, list[float]]:
    loc = page.locator(f"#{FIG}-svg polyline[data-series={name}]")
    return loc.get_attribute("points"), json.loads(loc.get_attribute("data-values"))


def readout(page) -> str:
    return page.locator(f"#{FIG}-readout").inner_text()


@pytest.fixture
def figure_page(open_page):
    page, log = open_page(CHAPTER_141)
    fig = page.locator(f"#{FIG}")
    assert fig.count() == 1, f"the kernel-free figure #{FIG} is not on {CHAPTER_141}"
    fig.scroll_into_view_if_needed()
    yield page, fig
    log.assert_clean()


def test_figure_initial_state_matches_python(figure_page) -> None:
    page, fig = figure_page
    payload = json.loads(page.locator(f"#{FIG}-data").text_content())["payload"]
    mse, amnl = gradient_density_shares(payload, 2.0)
    _, js_mse = series(page, "mse")
    _, js_amnl = series(page, "amnl")
    np.testing.assert_allclose(js_mse, 100 * mse, atol=1e-3)
    np.testing.assert_allclose(js_amnl, 100 * amnl, atol=1e-3)
    assert "weight 1.96, pull 1.96\u00d7 a healthy" in readout(page)
    screenshot(page, "fig-gradient-density-initial", fig)


def test_w_max_1_curves_coincide(figure_page) -> None:
    page, fig = figure_page
    set_slider(page, "w_max", 1)
    (p_mse, v_mse), (p_amnl, v_amnl) = series(page, "mse"), series(page, "amnl")
    assert p_mse == p_amnl and v_mse == v_amnl, "at w_max = 1 the MSE and AMNL curves must coincide"
    assert "coincide" in readout(page)
    assert "weight 1.00, pull 1.00\u00d7" in readout(page)
    screenshot(page, "fig-gradient-density-wmax1", fig)


def test_w_max_2_test_point_at_rul_5(figure_page) -> None:
    page, fig = figure_page
    set_slider(page, "w_max", 5)  # move away and back: the figure must follow both ways
    set_slider(page, "test_rul", 60)
    set_slider(page, "w_max", 2)
    set_slider(page, "test_rul", 5)
    text = readout(page)
    assert "weight 1.96" in text and "pull 1.96\u00d7 a healthy (RUL \u2265 125) sample" in text, text
    assert page.locator(f"#{FIG}-w_max-value").inner_text() == "2.0"
    assert page.locator(f"#{FIG}-test_rul-value").inner_text() == "5"


def test_w_max_5(figure_page) -> None:
    page, fig = figure_page
    set_slider(page, "w_max", 5)
    set_slider(page, "test_rul", 5)
    assert "weight 4.84" in readout(page), readout(page)
    assert series(page, "mse")[0] != series(page, "amnl")[0]
    screenshot(page, "fig-gradient-density-wmax5", fig)
    screenshot(page, "page-14_1-wmax5")


def test_keyboard_moves_the_slider(figure_page) -> None:
    page, _ = figure_page
    slider = page.locator(f"#{FIG}-w_max")
    slider.focus()
    page.keyboard.press("ArrowRight")
    assert page.locator(f"#{FIG}-w_max-value").inner_text() == "2.1"
    assert readout(page).startswith("w_max = 2.1:"), readout(page)
