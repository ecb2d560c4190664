"""Colab launch and repository buttons, only once the book's real address is published.

The ``colab:`` block of ``_config.yml`` is the one place that says where Colab readers get the code
(``repository``: the project's GitHub address; ``ref``: a release tag or a 40-hex commit there).
``tools/sync_colab_cell.py`` reads it to write the notebooks' hidden Colab cell; this extension
reads it (through the same function) to set the theme's buttons, so the two cannot disagree:

- not published (either value empty): no Colab launch button, no repository button, and no
  repository address at all (Jupyter Book would otherwise fill in its own default address);
- published: a repository button and a Colab button on every notebook page, opening the notebook
  at exactly ``ref`` (``.../blob/<ref>/chapters/<name>.ipynb``). Pages written in MyST Markdown
  (the introduction, Methods) get no launch button: Colab cannot open a ``.md`` file
  (:func:`drop_launch_buttons_off_notebooks`).

A Colab button configured by hand (``launch_buttons.colab_url``) is an error: it would open the
notebook at a moving branch, or at an address nobody owns.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

COLAB_URL = "https://colab.research.google.com"
REPOSITORY_BUTTONS = ("use_repository_button", "use_edit_page_button", "use_issues_button")


def _tool(confdir: Path):
    path = confdir / "tools" / "sync_colab_cell.py"
    spec = importlib.util.spec_from_file_location("_amnl_sync_colab_cell", path)
    if spec is None or spec.loader is None:
        raise ExtensionError(f"cannot load {path} (it reads the `colab:` block of _config.yml)")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def configure(app: Sphinx, config) -> None:
    confdir = Path(app.confdir)
    tool = _tool(confdir)
    try:
        target = tool.colab_target(confdir / "_config.yml")
    except ValueError as exc:
        raise ExtensionError(str(exc)) from exc
    theme = dict(config.html_theme_options or {})
    launch = dict(theme.get("launch_buttons") or {})
    if launch.get("colab_url"):
        raise ExtensionError(
            "_config.yml: remove launch_buttons.colab_url; the Colab button follows the `colab:` "
            "block (repository and a tag or commit), so that it opens the version the book shows"
        )
    if target is None:
        theme["repository_url"] = ""
        for key in REPOSITORY_BUTTONS:
            theme[key] = False
        launch.pop("colab_url", None)
    else:
        theme["repository_url"] = target.url
        theme["repository_branch"] = target.ref
        theme["use_repository_button"] = True
        launch["colab_url"] = COLAB_URL
        launch.setdefault("notebook_interface", "classic")
    theme["launch_buttons"] = launch
    config.html_theme_options = theme


def drop_launch_buttons_off_notebooks(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Remove sphinx-book-theme's launch buttons from a page whose source is not an ``.ipynb``
    (a MyST Markdown page with code cells counts as a notebook for the theme, but a launch link to
    it opens a file Colab cannot read)."""
    if Path(app.env.doc2path(pagename)).suffix == ".ipynb":
        return
    buttons = context.get("header_buttons")
    if buttons:
        context["header_buttons"] = [b for b in buttons if b.get("label") != "launch-buttons"]


def setup(app: Sphinx) -> dict:
    # Before the theme reads html_theme_options (builder-inited).
    app.connect("config-inited", configure, priority=100)
    # After the theme has added its launch buttons (priority 501).
    app.connect("html-page-context", drop_launch_buttons_off_notebooks, priority=600)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
