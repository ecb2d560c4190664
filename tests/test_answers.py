"""Each page's answer ("**Answer in one line.**") is at most two sentences and 50 words as the reader
sees it: every glued value substituted from the findings, roles reduced to their text, and an
inline formula counted as one word. The reasons go in the body."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from amnl_utils.book import findings as F

#: The pages that answer a question: every chapter but the sections' Details pages (checks and full
#: tables behind an answer given on the section's own page).
CHAPTERS = sorted(p for p in (Path(__file__).resolve().parents[1] / "chapters").glob("*.ipynb")
                  if not p.stem.endswith("_details"))
MAX_WORDS, MAX_SENTENCES = 50, 2


@pytest.fixture(scope="module")
def glued() -> dict[str, str]:
    from amnl_utils.book.findings.closing import closing_findings
    from amnl_utils.book.findings.decisions import decisions_findings

    return {**F.headline_findings(), **F.schedules_findings(), **F.wmax_findings(), **F.verdict_findings(),
            **decisions_findings(), **closing_findings()}


def answer(path: Path) -> str | None:
    for cell in json.loads(path.read_text())["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and "**Answer in one line.**" in src:
            return src.split("**Answer in one line.**", 1)[1].split("\n\n", 1)[0]
    return None


def rendered(text: str, glued: dict[str, str]) -> str:
    text = re.sub(r"\{glue:text\}`([^`]+)`", lambda m: glued[m.group(1)], text)
    text = re.sub(r"\{[a-z]+\}`([^`<]*?)\s*(?:<[^>]*>)?`", r"\1", text)  # {doc}`words <target>` -> words
    text = re.sub(r"\$[^$]+\$", "x", text)
    return " ".join(text.replace("*", "").split())


def test_rendering_substitutes_glue_roles_and_math():
    out = rendered("A {glue:text}`k` and {doc}`the verdict <verdict>`, $w(y) \\in [1, 2]$ grows.", {"k": "b c"})
    assert out == "A b c and the verdict, x grows."


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_each_answer_is_at_most_two_sentences_and_50_words(path, glued):
    text = answer(path)
    assert text is not None, f"{path.name} has no '**Answer in one line.**' paragraph"
    shown = rendered(text, glued)
    words = len(shown.split())
    sentences = len(re.findall(r"[.!?](?=\s|$)", shown))
    assert words <= MAX_WORDS and sentences <= MAX_SENTENCES, (
        f"{path.name}: the answer has {words} words and {sentences} sentences (at most {MAX_WORDS} and "
        f"{MAX_SENTENCES}); move the reasons into the body:\n{shown}")
