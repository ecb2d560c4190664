"""Finding one's way around the book at every width: the menu (table of contents), the page's own
contents, one search box.

A phone (390 px wide): the table of contents starts closed; the one visible menu button opens it,
with the chapters in reach of a finger; tapping beside it closes it again. The contents button
opens the list of the page's sections. A laptop (1280 px): the table of contents is always shown,
with exactly one search box and no empty bar above the page.
"""

from __future__ import annotations

import pytest
from browser_support import DESKTOP, PHONE, screenshot

CHAPTER = "chapters/14_1_uniform_vs_weighted.html"
#: A chapter the table of contents must offer (any page's menu lists every chapter).
OTHER_CHAPTER = "14_2_linear_decay"

#: Whether an element is on screen: laid out, not hidden, inside the viewport's width.
ON_SCREEN = """el => {
  const r = el.getBoundingClientRect(), s = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && r.left >= -1 && r.right <= innerWidth + 1
    && r.bottom > 0 && r.top < innerHeight
    && s.visibility !== 'hidden' && s.display !== 'none' && parseFloat(s.opacity) > 0.5;
}"""
#: Whether a tap at the element's centre reaches it (nothing covers it).
REACHABLE = """el => {
  const r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return hit !== null && (hit === el || el.contains(hit));
}"""


def on_screen(locator) -> bool:
    return locator.count() > 0 and locator.first.evaluate(ON_SCREEN)


def wait_on_screen(page, selector: str, shown: bool, what: str) -> None:
    """Wait (up to 3 s, the sidebars slide) until ``selector`` is (or is not) on screen."""
    js = f"sel => {{ const el = document.querySelector(sel); const on = !!el && ({ON_SCREEN})(el); return on === {str(shown).lower()}; }}"
    try:
        page.wait_for_function(js, arg=selector, timeout=3000)
    except Exception as exc:  # playwright's TimeoutError: say what did not happen
        raise AssertionError(f"{what} ({selector}) {'did not appear' if shown else 'did not go away'} within 3 s") from exc


def visible_buttons(page, selector: str):
    buttons = page.locator(f"{selector}:visible")
    return buttons, buttons.count()


@pytest.mark.parametrize("path", ["intro.html", CHAPTER, "references.html"])
def test_phone_menu_button_opens_the_table_of_contents(open_page, path: str) -> None:
    page, log = open_page(path, viewport=PHONE, touch=True)
    sidebar = page.locator(".bd-sidebar-primary")
    assert sidebar.count() == 1, f"{path}: no primary sidebar (.bd-sidebar-primary) on the page"
    assert not on_screen(sidebar), f"{path}: at {PHONE['width']} px the table of contents should start closed"

    toggles, n = visible_buttons(page, ".primary-toggle")
    assert n == 1, f"{path}: expected exactly one visible menu button (.primary-toggle), found {n}"
    toggles.first.tap()
    wait_on_screen(page, ".bd-sidebar-primary", True, f"{path}: after tapping the menu button, the table of contents")

    link = sidebar.locator(f"a[href*='{OTHER_CHAPTER}']")
    assert link.count() >= 1, f"{path}: the table of contents has no link to {OTHER_CHAPTER}"
    assert on_screen(link), f"{path}: the link to {OTHER_CHAPTER} is not on screen in the open menu"
    assert link.first.evaluate(REACHABLE), f"{path}: the link to {OTHER_CHAPTER} is covered by something else"
    screenshot(page, f"nav-phone-menu-{path.replace('/', '-').removesuffix('.html')}", full_page=False)

    # Tapping beside the open menu closes it.
    box = sidebar.bounding_box()
    page.touchscreen.tap(min(PHONE["width"] - 10, box["x"] + box["width"] + 20), PHONE["height"] // 2)
    wait_on_screen(page, ".bd-sidebar-primary", False, f"{path}: after tapping beside it, the open menu")
    log.assert_clean()


def test_phone_contents_button_opens_the_page_sections(open_page) -> None:
    page, log = open_page(CHAPTER, viewport=PHONE, touch=True)
    assert not on_screen(page.locator(".bd-sidebar-secondary")), "the page's contents should start closed on a phone"
    toggles, n = visible_buttons(page, ".secondary-toggle")
    assert n == 1, f"expected exactly one visible contents button (.secondary-toggle), found {n}"
    toggles.first.tap()
    wait_on_screen(page, ".bd-sidebar-secondary", True, "after tapping the contents button, the page's contents")
    section = page.locator(".bd-sidebar-secondary a[href^='#']")
    assert section.count() >= 2, f"the page's contents list {section.count()} sections"
    assert on_screen(section), "the first section link is not on screen in the open contents"
    assert section.first.evaluate(REACHABLE), "the first section link is covered by something else"
    screenshot(page, "nav-phone-contents-14_1", full_page=False)
    log.assert_clean()


#: What a reader would take for a search box: the theme's search field button, a search input.
SEARCH_BOXES = ".search-button-field, input[type='search'], input[name='q']"


@pytest.mark.parametrize("path", ["intro.html", CHAPTER, "references.html"])
def test_desktop_shows_the_table_of_contents_and_one_search_box(open_page, path: str) -> None:
    page, log = open_page(path, viewport=DESKTOP)
    sidebar = page.locator(".bd-sidebar-primary")
    assert on_screen(sidebar), f"{path}: at {DESKTOP['width']} px the table of contents should be shown"
    link = sidebar.locator(f"a[href*='{OTHER_CHAPTER}']")
    assert on_screen(link) and link.first.evaluate(REACHABLE), f"{path}: the link to {OTHER_CHAPTER} is not in reach"

    boxes = page.locator(SEARCH_BOXES).filter(visible=True)
    found = [b.evaluate("el => el.outerHTML.slice(0, 120)") for b in boxes.all()]
    assert len(found) == 1, f"{path}: expected exactly one visible search box, found {len(found)}: {found}"

    header = page.locator("header.bd-header")
    height = header.first.evaluate("el => el.getBoundingClientRect().height") if header.count() else 0
    assert height <= 1, f"{path}: an empty top bar ({height:.0f} px, header.bd-header) sits above the page"
    log.assert_clean()
