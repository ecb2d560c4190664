"""Serve the book's JavaScript from the book itself, so the built HTML works offline.

Jupyter Book loads MathJax from a CDN by default. This extension points Sphinx's ``mathjax_path``
at a copy of MathJax 3 that ``npm ci`` installs from the npm registry at build time (pinned in
package.json / package-lock.json) and copies it into ``<outdir>/_vendor/mathjax`` when the build
finishes. It is kept out of the source ``_static/`` on purpose: Jupyter Book adds every script it
finds there to every page. It also switches off myst-nb's ipywidgets loader (require.js and the
html-manager from CDNs): the book stores no widget state; the kernel-free figures carry the
interactivity of the static pages (see amnl_utils.book.interactive). Scripts that the static pages
never use are dropped from every page (sphinx-thebe's unpkg loader, stored widget state). MathJax is
loaded on every page: each page's sidebar lists the chapter titles, some of which hold math.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

#: Where the copy lands inside the HTML output folder.
VENDOR_DIR = "_vendor/mathjax"
#: The MathJax component the pages load (TeX input, CommonHTML output, the menu).
MATHJAX_ENTRY = "tex-chtml.js"
#: Bundles we never load (they are alternative entry points); everything else MathJax may
#: lazy-load (TeX extensions, fonts, the menu, accessibility) is copied.
SKIP = ("tex-chtml-full*.js", "tex-svg*.js", "tex-mml-*.js", "mml-*.js", "node-main.js", "adaptors")


def mathjax_source(app: Sphinx) -> Path:
    """The ``es5`` folder of the npm-installed MathJax, or a clear error saying how to get it."""
    src = Path(app.confdir) / "node_modules" / "mathjax" / "es5"
    if not (src / MATHJAX_ENTRY).is_file():
        raise ExtensionError(
            f"MathJax is not installed at {src}; run `npm ci` in the book folder first "
            "(`make book` does it) so the book can serve MathJax without a CDN"
        )
    return src


def configure(app: Sphinx, config) -> None:
    # add_js_file prefixes relative paths with "_static/"; step out of it to reach _vendor/.
    config.mathjax_path = f"../{VENDOR_DIR}/{MATHJAX_ENTRY}"
    config.nb_ipywidgets_js = {}
    # pydata-sphinx-theme logs a console error ("Got invalid theme mode") on a reader's first
    # visit when no default mode is set. "auto" follows the reader's system; the figures, drawn on
    # white, follow the theme through _static/amnl.css (dark mode inverts their lightness).
    config.html_context = {**(config.html_context or {}), "default_mode": "auto"}
    mathjax_source(app)  # fail before the notebooks execute, not after


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    dest = Path(app.outdir) / VENDOR_DIR
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(mathjax_source(app), dest, ignore=shutil.ignore_patterns(*SKIP))


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _drop(js) -> bool:
    attrs = getattr(js, "attributes", {}) or {}
    name = str(getattr(js, "filename", js) or "").split("?")[0]
    return (
        "THEBE_JS_URL" in str(attrs.get("body", ""))  # names a CDN (unpkg)
        or name.endswith("sphinx-thebe.js")
        or attrs.get("type") == WIDGET_STATE
    )


def drop_unused_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Remove scripts the static book never uses, one of which names a CDN.

    - sphinx-thebe's loader (Jupyter Book always adds it): it fetches thebe from unpkg when a
      reader presses "live code", a button this book does not enable (launch_buttons.thebe off);
    - the ipywidgets state myst-nb stores after executing a notebook: with no widget manager on
      the page (``nb_ipywidgets_js = {}``) nothing reads it, and it embeds the live widget's image.
    """
    launch = (app.config.html_theme_options or {}).get("launch_buttons", {})
    if launch.get("thebe"):
        return
    context["script_files"] = [js for js in context.get("script_files", []) if not _drop(js)]


def setup(app: Sphinx) -> dict:
    # MathJax on every page, not only on pages whose body has math: a page's sidebar or a link text
    # may carry another page's math, which would stay raw TeX on a page without it. (Titles carry
    # none: a browser tab cannot typeset, so §14.3 is "The wₘₐₓ ceiling", and a test keeps it so.)
    app.set_html_assets_policy("always")
    # Early (default is 500) so that myst-nb builds its own config from ours.
    app.connect("config-inited", configure, priority=100)
    app.connect("html-page-context", drop_unused_scripts)
    app.connect("build-finished", copy_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
