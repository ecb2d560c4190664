"""Number and caption every table, whether typed in Markdown or printed by a notebook cell.

A caption is written as an ordinary paragraph just before its table, starting with ``Table:``
(the convention of Pandoc and of MyST's ``table`` directive, readable as it is in Jupyter and
Colab)::

    Table: Test RMSE (cycles) per subset and loss, mean ± sd over 10 seeds.

    | ... a Markdown table, or a code cell whose output is a table ...

While the book is read (a transform on each page's doctree), each such paragraph is removed from
the text and becomes the caption of the next table on the page:

- a Markdown table gets it as its title, so Sphinx numbers it ("Table 12") like a figure;
- a cell's output table (pandas prints raw HTML): the cell output's content is wrapped in a
  :class:`captioned_output` node,
  registered as an enumerable node of the same ``table`` type, so both kinds share one numbering;
  its HTML visitor writes the caption as the ``<caption>`` element of the output's first
  ``<table>``.

A ``Table:`` paragraph with no table after it (before the next caption or the end of the
page) is a build warning, and with ``-W`` an error. tests/browser/test_layout.py checks that every
table of the built book has a caption.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

MARKER = "Table:"
_TABLE_TAG = re.compile(r"<table\b[^>]*>", re.IGNORECASE)


class captioned_output(nodes.General, nodes.Element):
    """A notebook cell's output holding a table, with a :class:`docutils.nodes.caption` child."""


def _is_caption(node: nodes.Node) -> bool:
    if not isinstance(node, nodes.paragraph) or not node.children:
        return False
    first = node.children[0]
    return isinstance(first, nodes.Text) and first.astext().lstrip().startswith(MARKER)


def _html_table_output(node: nodes.Node) -> bool:
    """A cell output container with an HTML ``<table>`` in it."""
    return (isinstance(node, nodes.container) and "cell_output" in node["classes"]
            and any(isinstance(r, nodes.raw) and "html" in r.get("format", "") and _TABLE_TAG.search(r.astext())
                    for r in node.findall(nodes.raw)))


def _caption_children(paragraph: nodes.paragraph) -> list[nodes.Node]:
    """The paragraph's inline content with the ``Table:`` marker cut from its first text."""
    children = [c.deepcopy() for c in paragraph.children]
    text = children[0].astext().lstrip()[len(MARKER):].lstrip()
    children[0] = nodes.Text(text)
    return children if text else children[1:]


class CaptionTables(SphinxTransform):
    """Move each ``Table:`` paragraph into the next table of the page as its caption."""

    default_priority = 500

    def apply(self, **kwargs) -> None:
        order = [n for n in self.document.findall(nodes.Element)
                 if _is_caption(n) or isinstance(n, nodes.table) or _html_table_output(n)]
        pending: nodes.paragraph | None = None
        for node in order:
            if _is_caption(node):
                if pending is not None:
                    logger.warning("table caption with no table after it (another caption comes first): %s",
                                   pending.astext()[:60], location=pending)
                pending = node
                continue
            if pending is None:
                continue
            if isinstance(node, nodes.table):
                node.insert(0, nodes.title("", "", *_caption_children(pending)))
                target = node
            else:
                # inside the cell's output container, which stays a direct child of the cell
                # (myst-nb's hide-output and remove-output tags look for it there)
                target = captioned_output("", nodes.caption("", "", *_caption_children(pending)))
                target.extend(node.children)
                node.children = []
                node.append(target)
            if not target["ids"]:
                self.document.set_id(target)
            pending.parent.remove(pending)
            pending = None
        if pending is not None:
            logger.warning("table caption with no table after it: %s", pending.astext()[:60], location=pending)


def visit_captioned_output(self, node: captioned_output) -> None:
    """HTML: the wrapped output, its first ``<table>`` given ``<caption>`` with the table's number."""
    caption = node.children[0]
    start = len(self.body)
    self.body.append("<caption>")
    self.add_fignumber(node)
    self.body.append('<span class="caption-text">')
    for child in caption.children:
        child.walkabout(self)
    self.body.append("</span></caption>")
    caption_html = "".join(self.body[start:])
    del self.body[start:]
    for child in node.children[1:]:
        child.walkabout(self)
    output = "".join(self.body[start:])
    del self.body[start:]
    match = _TABLE_TAG.search(output)
    if match is None:  # the transform only wraps outputs with a table
        raise AssertionError("captioned_output without a <table>")
    self.body.append(self.starttag(node, "div", CLASS="amnl-captioned-table"))
    self.body.append(output[:match.end()] + caption_html + output[match.end():])
    self.body.append("</div>\n")
    raise nodes.SkipNode


def setup(app: Sphinx) -> dict:
    app.add_enumerable_node(captioned_output, "table", html=(visit_captioned_output, None))
    app.add_transform(CaptionTables)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
