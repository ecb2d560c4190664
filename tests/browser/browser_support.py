"""Paths and helpers shared by the browser tests and their fixtures."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from posixpath import dirname, join, normpath

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


#: Viewports the layout tests use: a phone (iPhone 12-15 class) and a laptop.
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

_REFRESH = re.compile(r"<meta\s+http-equiv=[\"']refresh[\"']\s+content=[\"']\s*\d+\s*;\s*url=([^\"']+)", re.IGNORECASE)


def html_pages() -> list[str]:
    """Every HTML page of the built book, relative to _build/html (empty if not built)."""
    if not BUILD.is_dir():
        return []
    return sorted(
        p.relative_to(BUILD).as_posix()
        for p in BUILD.rglob("*.html")
        if not any(part.startswith((".", "_")) for part in p.relative_to(BUILD).parts)
    )


def chapter_pages() -> list[str]:
    return [p for p in html_pages() if p.startswith("chapters/")]


def content_pages() -> list[str]:
    """Pages a reader reads (not redirects such as index.html): what layout tests look at."""
    return [p for p in html_pages() if redirect_target(p) is None]


def redirect_target(path: str) -> str | None:
    """Where a page's ``<meta http-equiv="refresh">`` sends the browser (relative to the book), or None."""
    file = BUILD / path
    if not file.is_file():
        return None
    match = _REFRESH.search(file.read_text(encoding="utf-8"))
    return normpath(join(dirname(path), match.group(1).strip())) if match else None


#: The outermost elements that stick out to the right of the viewport and make the page scroll
#: sideways (elements inside a box that clips or scrolls, and fixed elements, do not).
OVERFLOWING = """() => {
  const vw = document.documentElement.clientWidth;
  const clipped = el => {
    for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.position === 'fixed') return true;
      if (['auto', 'scroll', 'hidden', 'clip'].includes(s.overflowX) && a.getBoundingClientRect().right <= vw + 1) return true;
    }
    return false;
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + [...el.classList].slice(0, 3).map(c => '.' + c).join('');
  const over = [...document.body.querySelectorAll('*')].filter(el => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.right > vw + 1 && getComputedStyle(el).position !== 'fixed' && !clipped(el);
  });
  const outer = over.filter(el => !over.includes(el.parentElement));
  outer.sort((a, b) => b.getBoundingClientRect().right - a.getBoundingClientRect().right);
  return outer.slice(0, 5).map(el => {
    const p = el.parentElement;
    const text = (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60);
    return `${p ? name(p) + ' > ' : ''}${name(el)}: right edge at ${Math.round(el.getBoundingClientRect().right)} px`
      + (text ? ` ("${text}")` : '');
  });
}"""


def glossary_ids() -> dict[str, str]:
    """Glossary term -> its anchor id (without ``term-``), read from the built glossary."""
    html = (BUILD / "glossary.html").read_text(encoding="utf-8")
    ids = {}
    for m in re.finditer(r'<dt id="(term-[^"]+)">(.*?)<a class="headerlink"', html, re.S):
        ids[unescape(re.sub(r"<[^>]+>", "", m.group(2))).strip()] = m.group(1).removeprefix("term-")
    return ids


def require_build() -> Path:
    if not (BUILD / "index.html").is_file():
        pytest.fail(f"no built book at {BUILD}; run `make book` first (`make test` does it)")
    return BUILD


def screenshot(page, name: str, locator=None, full_page: bool = True) -> Path:
    """Save a screenshot under artifacts/screenshots (full page, the window as it is, or one element)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if locator is None and not full_page:
        page.screenshot(path=str(path))
    elif locator is None:
        page.evaluate("() => window.scrollTo(0, 0)")  # else the sticky header is drawn mid-page
        page.screenshot(path=str(path), full_page=True)
    else:
        locator.screenshot(path=str(path))
    return path


def set_control(page, fid: str, name: str, value) -> None:
    """Set a slider's value or a checkbox's checked state, then fire the input event."""
    page.evaluate(
        "([id, v]) => { const el = document.getElementById(id);"
        " if (el.type === 'checkbox') { el.checked = v; } else { el.value = String(v); }"
        " el.dispatchEvent(new Event('input', {bubbles: true})); }",
        [f"{fid}-{name}", value],
    )


def readout(page, fid: str) -> str:
    return page.locator(f"#{fid}-readout").inner_text()
