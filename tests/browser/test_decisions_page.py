"""§14.5 in a real browser: the failure-cost slider's readout follows the slider and says what the
Python twin says, from the payload embedded in the page and from the committed analysis file."""

from __future__ import annotations

import json

import pytest
from browser_support import readout, set_control

from amnl_utils.analysis import decisions as A
from amnl_utils.book.interactive import cost_payload, cost_readout
from amnl_utils.book.interactive.framework import figure_id

CHAPTER = "chapters/14_5_maintenance_decisions.html"
FIG = figure_id("failure cost")


def committed_payload() -> dict | None:
    """The slider's payload from the committed analysis file, ``None`` while no subset has 2 seeds."""
    try:
        out = A.load()
    except FileNotFoundError:
        return None
    return cost_payload(out) if any(len(v) >= 2 for v in out["seeds"].values()) else None


@pytest.fixture
def cost_page(open_page):
    expected = committed_payload()
    page, log = open_page(CHAPTER)
    fig = page.locator(f"#{FIG}")
    if expected is None:
        assert fig.count() == 0, "the page shows cost curves although the grid has fewer than 2 seeds per subset"
        pytest.skip("the decisions grid has fewer than 2 finished seeds per subset: the page says so instead")
    assert fig.count() == 1, f"the failure-cost figure #{FIG} is not on {CHAPTER}"
    fig.scroll_into_view_if_needed()
    yield page, expected
    log.assert_clean()


def test_the_page_carries_the_committed_analysis(cost_page):
    page, expected = cost_page
    assert json.loads(page.locator(f"#{FIG}-data").text_content())["payload"] == expected


@pytest.mark.parametrize("k", [10, 2, 27, 50])
def test_the_readout_follows_the_slider_and_matches_python(cost_page, k):
    page, expected = cost_page
    set_control(page, FIG, "k", k)
    assert readout(page, FIG) == cost_readout(expected, k)
    assert page.locator(f"#{FIG}-k-value").inner_text() == str(k)
