"""Paths and helpers shared by the browser tests and their fixtures."""

from __future__ import annotations

from pathlib import Path

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


def require_build() -> Path:
    if not (BUILD / "index.html").is_file():
        pytest.fail(f"no built book at {BUILD}; run `make book` first (`make test` does it)")
    return BUILD


def screenshot(page, name: str, locator=None) -> Path:
    """Save a screenshot under artifacts/screenshots (full page, or one element)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if locator is None:
        page.evaluate("() => window.scrollTo(0, 0)")  # else the sticky header is drawn mid-page
        page.screenshot(path=str(path), full_page=True)
    else:
        locator.screenshot(path=str(path))
    return path
