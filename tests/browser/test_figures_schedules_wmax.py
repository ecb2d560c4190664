"""The kernel-free figures of §14.2 (schedule explorer) and §14.3 (w_max ceiling) in a real browser.

Run after ``make book``. Every check moves the controls the way a reader would (set the value or the
checked state, fire the input event) and compares what the page shows with the Python twins of the
figures' scripts (amnl_utils.book.interactive) run on the payload embedded in the page. The fixtures
block every non-local request, so the figures are also shown to work offline.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from browser_support import DESKTOP, PHONE, readout, screenshot, set_control

from amnl_utils.book.interactive.ceiling import w_max_gradients, w_max_readout
from amnl_utils.book.interactive.framework import figure_id, figure_script
from amnl_utils.book.interactive.schedule_explorer import schedule_explorer_readout, schedule_explorer_values
from amnl_utils.core.weights import SCHEDULES

CHAPTER_142 = "chapters/14_2_linear_decay.html"
CHAPTER_143 = "chapters/14_3_w_max_ceiling.html"
DETAILS_142 = "chapters/14_2_details.html"
DETAILS_143 = "chapters/14_3_details.html"
EXPLORER = figure_id("schedule explorer")
WMAX = figure_id("w_max ceiling")


def payload(page, fid: str) -> dict:
    return json.loads(page.locator(f"#{fid}-data").text_content())["payload"]


@pytest.fixture
def explorer(open_page):
    page, log = open_page(CHAPTER_142)
    fig = page.locator(f"#{EXPLORER}")
    assert fig.count() == 1, f"the schedule explorer #{EXPLORER} is not on {CHAPTER_142}"
    fig.scroll_into_view_if_needed()
    yield page, fig, payload(page, EXPLORER)
    log.assert_clean()


@pytest.fixture
def wmax_page(open_page):
    page, log = open_page(CHAPTER_143)
    fig = page.locator(f"#{WMAX}")
    assert fig.count() == 1, f"the w_max figure #{WMAX} is not on {CHAPTER_143}"
    fig.scroll_into_view_if_needed()
    yield page, fig, payload(page, WMAX)
    log.assert_clean()


# --------------------------------------------------------------------------- §14.2 explorer


def test_explorer_starts_with_every_schedule(explorer) -> None:
    page, fig, data = explorer
    names = [e["name"] for e in data["schedules"]]
    assert names == list(SCHEDULES)
    for name in names:
        assert page.locator(f"#{EXPLORER}-{name}").is_checked()
        assert page.locator(f"#{EXPLORER}-svg polyline[data-series=weight-{name}]").count() == 1
    assert readout(page, EXPLORER) == schedule_explorer_readout(data, names, 2.0, 20)
    screenshot(page, "fig-schedule-explorer-initial", fig)


@pytest.mark.parametrize(
    "w_max, test_rul, picked",
    [(2.0, 20, ["linear", "step"]), (4.5, 0, ["exponential", "sigmoid", "constant"]), (1.0, 90, ["linear"])],
)
def test_explorer_readout_and_bars_follow_the_controls(explorer, w_max, test_rul, picked) -> None:
    page, fig, data = explorer
    for name in SCHEDULES:
        set_control(page, EXPLORER, name, name in picked)
    set_control(page, EXPLORER, "w_max", w_max)
    set_control(page, EXPLORER, "test_rul", test_rul)
    assert readout(page, EXPLORER) == schedule_explorer_readout(data, picked, w_max, test_rul)
    assert page.locator(f"#{EXPLORER}-w_max-value").inner_text() == f"{w_max:.1f}"
    assert page.locator(f"#{EXPLORER}-test_rul-value").inner_text() == f"{test_rul}"
    values = schedule_explorer_values(data, w_max, test_rul)
    for name in SCHEDULES:
        bars = page.locator(f"#{EXPLORER}-svg g[data-series=share-{name}]")
        curve = page.locator(f"#{EXPLORER}-svg polyline[data-series=weight-{name}]")
        if name in picked:
            shown = json.loads(bars.get_attribute("data-values"))
            np.testing.assert_allclose(shown, 100 * np.asarray(values[name]["shares"]), atol=1e-3)
            assert curve.count() == 1 and bars.locator("rect").count() == len(data["buckets"])
        else:
            assert curve.count() == 0 and bars.count() == 0
    screenshot(page, f"fig-schedule-explorer-w{w_max:g}-rul{test_rul}", fig)


def test_explorer_with_nothing_ticked_says_so(explorer) -> None:
    page, _, _ = explorer
    for name in SCHEDULES:
        set_control(page, EXPLORER, name, False)
    assert "No schedule picked" in readout(page, EXPLORER)
    assert page.locator(f"#{EXPLORER}-svg polyline[data-series^=weight-]").count() == 0


def test_clicking_a_checkbox_redraws(explorer) -> None:
    page, _, data = explorer
    page.locator(f"#{EXPLORER}-step").click()  # a real click: the browser fires input and change
    names = [n for n in SCHEDULES if n != "step"]
    assert readout(page, EXPLORER) == schedule_explorer_readout(data, names, 2.0, 20)


def test_script_maths_in_the_page_match_python(explorer) -> None:
    page, _, data = explorer
    got = page.evaluate("d => [2, 3.7].map(w => AMNLFig.math.scheduleValues(d, w, 33))", data)
    for w, values in zip([2, 3.7], got):
        ref = schedule_explorer_values(data, w, 33)
        for name, v in ref.items():
            assert values[name]["weight"] == pytest.approx(v["weight"], abs=1e-12)
            np.testing.assert_allclose(values[name]["shares"], v["shares"], rtol=1e-12)


def test_the_solution_figure_has_its_own_ids(open_page) -> None:
    """The exercise's explorer (a reader's schedule added) works next to the main one."""
    page, log = open_page(CHAPTER_142)
    fid = figure_id("schedule explorer with a quadratic")
    data = payload(page, fid)
    assert [e["name"] for e in data["schedules"]][-1] == "quadratic"
    page.evaluate(f"() => document.getElementById('{fid}').closest('details')?.setAttribute('open', '')")
    set_control(page, fid, "w_max", 3.0)
    assert readout(page, fid) == schedule_explorer_readout(data, ["linear", "quadratic"], 3.0, 20)
    assert readout(page, EXPLORER) == schedule_explorer_readout(payload(page, EXPLORER), list(SCHEDULES), 2.0, 20)
    log.assert_clean()


# --------------------------------------------------------------------------- §14.3 w_max figure


@pytest.mark.parametrize("w_max", [1.0, 2.0, 5.0])
def test_w_max_readout_matches_python(wmax_page, w_max) -> None:
    page, fig, data = wmax_page
    set_control(page, WMAX, "w_max", 3.3)  # move away first: the figure must follow every move
    set_control(page, WMAX, "w_max", w_max)
    assert readout(page, WMAX) == w_max_readout(data, w_max)
    assert page.locator(f"#{WMAX}-w_max-value").inner_text() == f"{w_max:.1f}"
    # the histogram counts every sample of the batch once
    heights = page.eval_on_selector_all(f"#{WMAX}-svg rect[data-series=hist]", "els => els.length")
    assert heights == len(data["hist_edges"]) - 1
    g = page.evaluate("([d, w]) => AMNLFig.math.wMaxGradients(d, w)", [data, w_max])
    np.testing.assert_allclose(g, w_max_gradients(data, w_max), rtol=1e-12)
    screenshot(page, f"fig-w-max-ceiling-{w_max:g}", fig)


def test_w_max_initial_state(wmax_page) -> None:
    page, _, data = wmax_page
    assert readout(page, WMAX) == w_max_readout(data, 2.0)
    assert page.locator(f"#{WMAX}-svg polyline[data-series=schedule]").count() == 1


def test_one_copy_of_the_script_per_figure_and_no_remote_source(open_page) -> None:
    for path in (CHAPTER_142, CHAPTER_143):
        page, log = open_page(path)
        scripts = page.eval_on_selector_all("script[src]", "els => els.map(e => e.getAttribute('src'))")
        assert not [s for s in scripts if s.startswith(("http:", "https:", "//"))]
        inline = page.eval_on_selector_all("div.amnl-fig script:not([type])", "els => els.map(e => e.textContent)")
        assert inline and all(figure_script() in s for s in inline)
        log.assert_clean()


@pytest.mark.parametrize("path, name", [(CHAPTER_142, "14_2"), (CHAPTER_143, "14_3")])
def test_pages_at_phone_width(open_page, path, name) -> None:
    page, log = open_page(path, viewport=PHONE, touch=True)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"{path} scrolls sideways at {PHONE['width']} px: {width} px wide"
    fid = EXPLORER if path == CHAPTER_142 else WMAX
    box = page.locator(f"#{fid}").bounding_box()
    assert box["width"] <= PHONE["width"], box
    screenshot(page, f"phone-fig-{name}", page.locator(f"#{fid}"))
    log.assert_clean()


@pytest.mark.parametrize("path", [CHAPTER_142, CHAPTER_143])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_full_page_screenshots(open_page, path, viewport) -> None:
    """Whole-page screenshots at a laptop and a phone width, for a person to look at."""
    page, log = open_page(path, viewport=viewport, touch=viewport is PHONE)
    page.wait_for_function("() => [...document.querySelectorAll('.bd-article img')].every(i => i.complete)")
    shot = screenshot(page, f"{path.split('/')[-1].removesuffix('.html')}-{viewport['width']}")
    assert shot.stat().st_size > 0
    log.assert_clean()


# --------------------------------------------------------------------------- §14.2 trained results


def test_schedules_results_section(open_page) -> None:
    """The trained-results part of §14.2: its prose glued (no raw roles), the forest plot numbered,
    captioned and described, its tables whole, and the opening answer stating the trained result."""
    page, log = open_page(CHAPTER_142, viewport=PHONE, touch=True)
    section = page.locator("#trained-on-real-c-mapss-does-the-schedule-matter")
    assert section.count() == 1
    text = section.inner_text().replace("\u00a0", " ")  # the prose keeps "4–8 %" on one line
    assert "{glue" not in text and "nan" not in text.split()
    assert "4–8 %" in text and "Details page" in text
    fig = page.locator("#fig-14-2-forest")
    assert fig.count() == 1
    assert fig.locator("img").get_attribute("alt").startswith("Forest plot")
    assert "Fig." in fig.locator("figcaption").inner_text()
    assert section.locator("table").count() >= 1
    answer = page.locator("p", has_text="Answer in one line.")
    assert "Trained, " in answer.inner_text()  # the glued short answer rendered
    detail = page.locator("p", has_text="In more detail.")
    assert "on FD001 and FD002 with 10 seeds per arm" in detail.inner_text()
    log.assert_clean()


def test_schedules_details_page(open_page) -> None:
    """§14.2's Details page: the full tables of the grid, whole and glued, and the 4–8 % claim read
    on every metric with the detectable effect."""
    page, log = open_page(DETAILS_142, viewport=PHONE, touch=True)
    text = page.locator(".bd-article").inner_text().replace("\u00a0", " ")
    assert "{glue" not in text and "nan" not in text.split()
    assert "4–8 %" in text and "80 % power" in text
    tables = page.locator(".bd-article table")
    assert tables.count() >= 5
    for k in range(tables.count()):  # no cell cut off: a wide table scrolls inside its own box
        assert "..." not in tables.nth(k).inner_text()
    log.assert_clean()


# --------------------------------------------------------------------------- §14.3 trained results

WMAX_FIGURES = ("fig-14-3-accuracy", "fig-14-3-near-failure", "fig-14-3-paired")
#: The figures of §14.3's Details page: the optimiser runs, training stability, the tilt alone.
WMAX_DETAIL_FIGURES = ("fig-14-3-optimiser", "fig-14-3-stability", "fig-14-3-tilt")


def _check_figures(page, names, viewport) -> None:
    """Each figure numbered, captioned, described (alt text) and never wider than the window."""
    for name in names:
        fig = page.locator(f"#{name}")
        assert fig.count() == 1, name
        assert len(fig.locator("img").get_attribute("alt")) > 100, name
        assert "Fig." in fig.locator("figcaption").inner_text(), name
        box = fig.locator("img").bounding_box()
        assert box["width"] <= viewport["width"], name  # never wider than the window


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_wmax_results_section(open_page, viewport) -> None:
    """The trained-results part of §14.3: its prose glued (no raw roles, no NaN), the verdict and the
    recommendation stated, five numbered figures with caption and alt text, its tables whole, and the
    opening answer and the takeaway stating the trained result."""
    page, log = open_page(CHAPTER_143, viewport=viewport, touch=viewport is PHONE)
    section = page.locator("#trained-on-real-c-mapss-where-does-training-suffer")
    assert section.count() == 1
    text = section.inner_text()
    assert "{glue" not in text and "nan" not in text.split()
    assert "Verdict on" in text and "Recommendation." in text and "80\u00a0% power" in text
    _check_figures(page, WMAX_FIGURES, viewport)
    assert section.locator("table").count() >= 1
    answer = page.locator("p", has_text="Answer in one line.")
    assert "Trained, " in answer.inner_text()  # the glued short answer rendered
    detail = page.locator("p", has_text="In more detail.")
    assert "Trained on FD001 and FD002" in detail.inner_text()
    takeaway = page.locator(".admonition", has_text="Takeaway")
    assert "Trained on FD001 and FD002" in takeaway.inner_text()
    log.assert_clean()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_wmax_details_page(open_page, viewport) -> None:
    """§14.3's Details page: the optimiser checks, the stability rule with its verdict and the
    tilt-or-scale comparison, figures numbered and described, tables whole, every number glued."""
    page, log = open_page(DETAILS_143, viewport=viewport, touch=viewport is PHONE)
    text = page.locator(".bd-article").inner_text()
    assert "{glue" not in text and "nan" not in text.split()
    assert "Training destabilises from" in text and "Recommend the largest" in text
    _check_figures(page, WMAX_DETAIL_FIGURES, viewport)
    tables = page.locator(".bd-article table")
    assert tables.count() >= 7
    for k in range(tables.count()):  # no cell cut off: a wide table scrolls inside its own box
        assert "..." not in tables.nth(k).inner_text()
    log.assert_clean()
