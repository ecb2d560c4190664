"""What a newcomer reads, checked on the built HTML: every glossary term is linked at its first use
on each page, every glossary link resolves, citations read exactly as the bibliography labels them
("book-ai.org, 2026a", never an ambiguous "2026"), and no title, tab or table-of-contents entry
shows raw LaTeX.

"First use" is the first match of the term's pattern in the page's running text: paragraphs and
list items of the article, leaving out headings, tables, code, maths, figure captions and the
admonitions' titles (a heading names a term, the text under it introduces it). Run after
``make book``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import unescape
from html.parser import HTMLParser

import pytest
from browser_support import BUILD, content_pages, glossary_ids, require_build

#: Each glossary term (as in glossary.md) and the pattern of its uses in running text (a group
#: ``at`` marks the term itself where the pattern also reads the word before it).
TERMS: dict[str, str] = {
    "RUL": r"\bRUL\b",
    "plateau": r"\bplateau\b",
    "near failure": r"\bnear[- ]failure\b",
    "NASA score": r"\bNASA(/PHM08)? score",
    "validation engines": r"\bvalidation engines?\b",
    # the noun (a pass over the training windows), not the verb ("the sigmoid passes them")
    "pass": r"(?:\b(?:a|one|each|every|the|first|last|best|per|selected|all|\d+) (?=pass)|\b(?=pass(?:es)? (?:of|over)\b))"
            r"(?P<at>pass(?:es)?)\b",
    "trunk": r"\btrunk\b",
    "health head": r"\bhealth heads?\b",
    "clip": r"\bbinds?\b",
    "roughness": r"\broughness\b",
    "scaled MSE": r"\bscaled[- ]MSE\b",
    "seed-aware interval": r"\bseed-aware\b",
    "MDE": r"\bMDEs?\b",
    "F-interval": r"\bF-intervals?\b",
    "pooled": r"\bpooled\b",
    "stale run": r"\bstale\b",
    "decision engines": r"\bdecision engines?\b",
    "cost rate": r"\bcost rates?\b",
}

_SKIP = {"h1", "h2", "h3", "h4", "h5", "h6", "table", "pre", "code", "figcaption", "script", "style", "nav",
         "math", "svg", "dt"}
_SKIP_CLASSES = ("math", "admonition-title", "caption", "cell_output", "sd-tab-label", "headerlink")


class _Text(HTMLParser):
    """The article's running text, and for each character whether it sits in a glossary link."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chars: list[str] = []
        self.linked: list[str | None] = []
        self.stack: list[tuple[str, bool, str | None]] = []
        self.in_article = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("br", "img", "hr", "input", "meta", "link", "wbr", "source"):
            return
        if tag == "article" or a.get("role") == "main":
            self.in_article += 1
        cls = a.get("class") or ""
        skip = tag in _SKIP or any(c in cls.split() for c in _SKIP_CLASSES)
        href = a.get("href") or ""
        term = href.split("#term-", 1)[1] if tag == "a" and "glossary.html#term-" in href else None
        self.stack.append((tag, skip, term))

    def handle_endtag(self, tag):
        while self.stack:
            t, _, _ = self.stack.pop()
            if t in ("article",):
                self.in_article -= 1
            if t == tag:
                break

    def handle_data(self, data):
        if self.in_article <= 0 or any(skip for _, skip, _ in self.stack):
            return
        term = next((t for _, _, t in reversed(self.stack) if t), None)
        self.chars.append(data)
        self.linked.extend([term] * len(data))

    @property
    def text(self) -> str:
        return "".join(self.chars)


def _pages() -> list[str]:
    # the glossary defines the terms; the bibliography's text is titles, not the book's prose
    return [p for p in content_pages() if p not in ("glossary.html", "genindex.html", "search.html", "references.html")]


@lru_cache(maxsize=1)
def _term_ids() -> dict[str, str]:
    """Glossary term -> its anchor id, read from the built glossary."""
    return glossary_ids()


def test_the_glossary_defines_every_checked_term():
    require_build()
    ids = _term_ids()
    missing = [t for t in TERMS if t not in ids]
    assert not missing, f"glossary.md does not define {missing}"


@pytest.mark.parametrize("path", _pages())
def test_terms_are_linked_at_first_use(path: str):
    ids = _term_ids()
    parser = _Text()
    parser.feed((BUILD / path).read_text(encoding="utf-8"))
    text = parser.text
    unlinked = []
    for term, pattern in TERMS.items():
        m = re.search(pattern, text)
        if m is None:
            continue
        at = m.start("at") if "at" in m.re.groupindex else m.start()
        if parser.linked[at] != ids[term]:
            unlinked.append(f"{term!r} at …{text[max(0, at - 40):m.end() + 20]!r}…")
    assert not unlinked, f"{path}: first use not linked to the glossary: " + "; ".join(unlinked)


@pytest.mark.parametrize("path", _pages())
def test_glossary_links_resolve(path: str):
    ids = set(_term_ids().values())
    html = (BUILD / path).read_text(encoding="utf-8")
    targets = set(re.findall(r'href="[^"]*glossary\.html#term-([^"]+)"', html))
    assert targets <= ids, f"{path} links glossary terms that do not exist: {sorted(targets - ids)}"


@lru_cache(maxsize=1)
def _bibliography_labels() -> dict[str, str]:
    html = (BUILD / "references.html").read_text(encoding="utf-8")
    labels = {}
    for m in re.finditer(r'<div class="citation" id="([^"]+)" role="doc-biblioentry">\s*<span class="label">(.*?)</span>\s*</span>',
                         html, re.S):
        labels[m.group(1)] = unescape(re.sub(r"<[^>]+>", "", m.group(2))).strip("[] \n")
    return labels


@pytest.mark.parametrize("path", _pages())
def test_citations_read_as_the_bibliography_labels_them(path: str):
    require_build()
    labels = _bibliography_labels()
    assert labels, "no bibliography entries found in references.html"
    years = {lab.rsplit(", ", 1)[1] for lab in labels.values()}
    assert any(y[-1].isalpha() for y in years), "expected disambiguated years (2026a, 2026b) in the bibliography"
    html = (BUILD / path).read_text(encoding="utf-8")
    wrong = []
    for m in re.finditer(r'<a class="reference internal" href="[^"]*references\.html#([^"]+)"[^>]*>(.*?)</a>', html, re.S):
        target, text = m.group(1), unescape(re.sub(r"<[^>]+>", "", m.group(2))).strip()
        if target not in labels:
            continue
        label = labels[target]
        if text not in (label, label.rsplit(", ", 1)[1]):
            wrong.append(f"{text!r} cites [{label}]")
    assert not wrong, f"{path}: citations that do not read as their bibliography label: {wrong}"


@pytest.mark.parametrize("path", _pages())
def test_no_raw_latex_in_titles_or_the_table_of_contents(path: str):
    html = (BUILD / path).read_text(encoding="utf-8")
    title = unescape(re.search(r"<title>(.*?)</title>", html, re.S).group(1))
    assert "$" not in title and "\\" not in title, f"{path}: the tab title shows raw LaTeX: {title!r}"
    nav = re.search(r'<nav class="bd-docs-nav bd-links".*?</nav>', html, re.S)
    if nav:
        entries = [unescape(re.sub(r"<[^>]+>", "", e)) for e in re.findall(r"<a [^>]*>(.*?)</a>", nav.group(0), re.S)]
        raw = [e for e in entries if "$" in e or "\\(" in e or "\\max" in e]
        assert not raw, f"{path}: table-of-contents entries with raw LaTeX: {raw}"


# --------------------------------------------------------------------------- page length

#: A section's main page keeps the argument (question, maths, code, figures, takeaway, exercises)
#: within this many words of running text; checks, full tables and robustness details live on the
#: section's Details page.
WORD_BUDGET = 2500
#: The sections' main pages and the Details page that takes each one's overflow.
DETAILS = {
    "chapters/14_2_linear_decay.html": "chapters/14_2_details.html",
    "chapters/14_3_w_max_ceiling.html": "chapters/14_3_details.html",
    "chapters/14_4_dual_task_wiring.html": "chapters/14_4_details.html",
}
MAIN_PAGES = ("chapters/14_1_uniform_vs_weighted.html", *DETAILS, "chapters/14_5_maintenance_decisions.html")


def running_words(path: str) -> int:
    """Words of running text on a built page (paragraphs and list items of the article; headings,
    tables, code, maths, captions and cell outputs left out)."""
    parser = _Text()
    parser.feed((BUILD / path).read_text(encoding="utf-8"))
    return len(re.findall(r"[A-Za-z0-9][\w'’.,%-]*", parser.text))


@pytest.mark.parametrize("path", MAIN_PAGES)
def test_a_sections_main_page_is_within_the_word_budget(path: str):
    require_build()
    words = running_words(path)
    assert words <= WORD_BUDGET, (f"{path}: {words} words of running text, over the {WORD_BUDGET}-word budget; "
                                  "move checks and full tables to the section's Details page")


@pytest.mark.parametrize("main, details", DETAILS.items())
def test_details_pages_are_in_the_toc_and_linked_from_their_section(main: str, details: str):
    require_build()
    assert (BUILD / details).is_file(), f"no Details page {details}"
    toc = (BUILD / "intro.html").read_text(encoding="utf-8")
    name = details.rsplit("/", 1)[-1]
    assert f'href="chapters/{name}"' in toc, f"{details} is not in the table of contents"
    assert f'href="{name}' in (BUILD / main).read_text(encoding="utf-8"), f"{main} does not link to {details}"
