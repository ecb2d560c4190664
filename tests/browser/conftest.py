"""Browser fixtures: the built book served on 127.0.0.1, Debian's chromium driven by Playwright.

The tests read the book that ``make book`` built into ``_build/html`` (``make test`` builds it
first). Every request that does not go to the local server is blocked and recorded, so a page that
needs the network fails its test instead of silently fetching from a CDN.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from browser_support import CHROMIUM_ARGS, DESKTOP, redirect_target, require_build


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # keep the test output clean
        pass


@pytest.fixture(scope="session")
def site() -> Iterator[str]:
    """Base URL of a local HTTP server over ``_build/html``."""
    build = require_build()
    handler = functools.partial(_QuietHandler, directory=str(build))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("Debian's chromium is not installed (apt-get install chromium; .ci/run does it)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class PageLog:
    """What went wrong while a page loaded and ran."""

    blocked: list[str] = field(default_factory=list)  # non-local requests (all blocked)
    failed: list[str] = field(default_factory=list)  # local requests that failed or got >= 400
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions

    def assert_clean(self) -> None:
        assert not self.blocked, f"page tried to reach the network: {self.blocked}"
        assert not self.failed, f"requests for the book's own files failed: {self.failed}"
        assert not self.errors, f"JavaScript errors: {self.errors}"


@pytest.fixture
def open_page(browser, site) -> Iterator[Callable[..., tuple[object, PageLog]]]:
    """``open_page("chapters/x.html")`` -> (page, log), loaded, with MathJax finished typesetting.

    ``viewport`` (default 1280 x 900) sets the window size; ``touch=True`` gives a touch screen
    (``locator.tap()``), as on a phone; ``dark=True`` a reader whose system asks for dark mode (the
    theme's default "auto" follows it). A page that redirects (index.html's meta refresh) is
    followed to its target before anything else is awaited.
    """
    contexts = []
    local = urlsplit(site).netloc

    def _open(path: str, viewport: dict | None = None, touch: bool = False, dark: bool = False) -> tuple[object, PageLog]:
        log = PageLog()
        context = browser.new_context(viewport=viewport or DESKTOP, device_scale_factor=1, has_touch=touch,
                                      color_scheme="dark" if dark else "light")
        contexts.append(context)

        def route(r) -> None:
            url = r.request.url
            if url.startswith(("data:", "blob:", "about:")) or urlsplit(url).netloc == local:
                r.continue_()
            else:
                log.blocked.append(url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("pageerror", lambda exc: log.errors.append(f"pageerror: {exc}"))
        page.on("console", lambda m: log.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)

        def on_response(resp) -> None:
            if resp.status >= 400 and not resp.url.endswith("/favicon.ico"):  # favicon: the browser's own ask
                log.failed.append(f"{resp.status} {resp.url}")

        page.on("response", on_response)
        page.on(
            "requestfailed",
            lambda req: log.failed.append(f"{req.failure} {req.url}") if urlsplit(req.url).netloc == local else None,
        )
        page.goto(f"{site}/{path}", wait_until="load")
        target = redirect_target(path)
        if target is not None:
            # A meta refresh replaces the page after its load event: wait until the target has
            # loaded, or the MathJax wait below would run in a page that is being torn down.
            page.wait_for_url(f"{site}/{target}", wait_until="load")
        # MathJax (deferred) typesets after load; its startup promise resolves when it is done.
        page.wait_for_function("() => !document.querySelector('.math') || (window.MathJax && MathJax.startup && MathJax.startup.promise)")
        page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise.then(() => true) : true")
        return page, log

    yield _open
    for c in contexts:
        c.close()
