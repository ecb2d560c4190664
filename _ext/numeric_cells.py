"""Mark table cells that hold a number, so the book's CSS can right-align them.

CSS cannot select a cell by its content, so this runs on every HTML page as it is written
(``html-page-context``): each ``<td>`` of the page body whose text is a number gets the class
``amnl-num`` (``_static/amnl.css`` right-aligns it with tabular figures). It covers pandas output
tables (``table.dataframe``), Markdown tables and glued tables alike.

A number here: an optional sign, digits with an optional thousands separator, decimals and
exponent, then an optional unit-like suffix (%, ×, pp), an optional ``± number`` and an optional
interval ``[a, b]`` / ``(a, b)`` ("7.37 ± 1.25 [6.60, 8.11]"), a count may carry its denominator
("3.2 ± 4.2 of 25"); or such an interval alone; or a
placeholder a numeric column uses for "no value" (NaN, nan, inf, a dash).
"""

from __future__ import annotations

import html
import re

from sphinx.application import Sphinx

CLASS = "amnl-num"

_NUM = r"[+\-\u2212\u2013]?(?:\d{1,3}(?:[,\u2009\u202f]\d{3})+|\d+)?(?:\.\d+)?(?:[eE][+\-\u2212]?\d+)?"
_SUFFIX = r"(?:\s?(?:%|\u00d7|x|pp))?"
_INTERVAL = rf"[\[(]\s*{_NUM}{_SUFFIX}\s*,\s*{_NUM}{_SUFFIX}\s*[\])]"
NUMERIC = re.compile(
    rf"{_NUM}{_SUFFIX}(?:\s*(?:\u00b1|\+/-)\s*{_NUM}{_SUFFIX})?(?:\s+of\s+{_NUM})?(?:\s*{_INTERVAL})?"
    rf"|{_INTERVAL}"
)
#: What a numeric column shows for "no value".
PLACEHOLDERS = frozenset({"NaN", "nan", "inf", "-inf", "\u2212inf", "\u2014", "\u2013", "-"})
_CELL = re.compile(r"<td(?P<attrs>(?:\s[^>]*)?)>(?P<content>.*?)</td>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_CLASS_ATTR = re.compile(r'\sclass="(?P<cls>[^"]*)"')


def is_numeric(text: str) -> bool:
    """Whether a cell's text (tags stripped, entities decoded) is a number (see module docstring)."""
    text = " ".join(text.split())
    if text in PLACEHOLDERS:
        return True
    return any(ch.isdigit() for ch in text) and NUMERIC.fullmatch(text) is not None


def _mark(match: re.Match) -> str:
    attrs, content = match.group("attrs"), match.group("content")
    if not is_numeric(html.unescape(_TAG.sub("", content))):
        return match.group(0)
    if _CLASS_ATTR.search(attrs):
        attrs = _CLASS_ATTR.sub(lambda m: f' class="{m.group("cls")} {CLASS}"', attrs, count=1)
    else:
        attrs = f' class="{CLASS}"' + attrs
    return f"<td{attrs}>{content}</td>"


def mark_numeric_cells(body: str) -> str:
    """``body`` with ``class="amnl-num"`` added to every ``<td>`` that holds a number."""
    return _CELL.sub(_mark, body)


def on_page(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if "body" in context:
        context["body"] = mark_numeric_cells(context["body"])


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", on_page)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
