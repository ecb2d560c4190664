"""_ext/table_captions.py on a two-page Sphinx project: a Markdown table and a notebook's output
table each take the ``Table:`` paragraph before them as a numbered ``<caption>``; a caption with no
table after it fails a ``-W`` build."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CONF = f"""
import sys
sys.path.insert(0, {str(ROOT / "_ext")!r})
extensions = ["myst_nb", "table_captions"]
numfig = True
nb_execution_mode = "off"
exclude_patterns = ["_build"]
"""

INDEX = """# Tables

Some text.

Table: Weights of **AMNL** at three RUL values (cycles).

| RUL (cycles) | weight |
|---:|---:|
| 0 | 2.0 |
| 125 | 1.0 |

```{toctree}
frame
```
"""

OUTPUT_TABLE = ('<div><table border="1" class="dataframe"><thead><tr><th>RUL (cycles)</th></tr></thead>'
                "<tbody><tr><td>5</td></tr></tbody></table></div>")


def _notebook(caption: str) -> dict:
    return {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": [
            {"cell_type": "markdown", "id": "a", "metadata": {}, "source": f"# Frame\n\n{caption}\n"},
            {"cell_type": "code", "id": "b", "metadata": {}, "execution_count": 1, "source": "frame",
             "outputs": [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                          "data": {"text/html": OUTPUT_TABLE, "text/plain": "   RUL\n0    5"}}]},
            {"cell_type": "markdown", "id": "c", "metadata": {}, "source": "Table: The same table, hidden until asked for."},
            {"cell_type": "code", "id": "d", "metadata": {"tags": ["hide-output"]}, "execution_count": 2,
             "source": "frame", "outputs": [{"output_type": "execute_result", "execution_count": 2, "metadata": {},
                                             "data": {"text/html": OUTPUT_TABLE, "text/plain": "   RUL\n0    5"}}]},
        ],
    }


def _build(tmp_path: Path, caption: str, *, index: str = INDEX) -> subprocess.CompletedProcess:
    (tmp_path / "conf.py").write_text(CONF)
    (tmp_path / "index.md").write_text(index)
    (tmp_path / "frame.ipynb").write_text(json.dumps(_notebook(caption)))
    return subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "-q", str(tmp_path),
                           str(tmp_path / "_build")], capture_output=True, text=True, timeout=300)


def test_markdown_and_output_tables_get_numbered_captions(tmp_path: Path) -> None:
    pytest.importorskip("myst_nb")
    from bs4 import BeautifulSoup

    run = _build(tmp_path, "Table: The RUL of one engine, printed by the cell.")
    assert run.returncode == 0, run.stderr
    index = BeautifulSoup((tmp_path / "_build" / "index.html").read_text(), "html.parser")
    frame = BeautifulSoup((tmp_path / "_build" / "frame.html").read_text(), "html.parser")
    md_caption = index.select_one("table > caption")
    out_caption = frame.select_one("table.dataframe > caption")
    assert md_caption is not None and out_caption is not None
    def parts(caption) -> tuple[str, str]:
        return (caption.select_one(".caption-number").get_text(strip=True),
                caption.select_one(".caption-text").get_text(" ", strip=True))

    assert parts(md_caption) == ("Table 1", "Weights of AMNL at three RUL values (cycles).")
    assert md_caption.find("strong") is not None  # inline markup survives
    assert parts(out_caption) == ("Table 2", "The RUL of one engine, printed by the cell.")
    # the paragraph left the text: it is only the caption now
    assert "Table:" not in index.get_text() and "Table:" not in frame.get_text()
    # the wrapped output keeps an id, so a link can point at the table
    assert frame.select_one("div.amnl-captioned-table")["id"]
    # a hide-output cell still hides its captioned table behind its toggle
    hidden = frame.select("div.cell.tag_hide-output table.dataframe")
    assert len(hidden) == 1 and hidden[0].find_parent("details") is not None
    assert parts(hidden[0].caption) == ("Table 3", "The same table, hidden until asked for.")


def test_a_caption_without_a_table_fails_the_build(tmp_path: Path) -> None:
    pytest.importorskip("myst_nb")
    dangling = INDEX.replace("Some text.", "Table: A caption for a table that never comes.\n\nTable: Weights.")
    run = _build(tmp_path, "Table: The RUL of one engine, printed by the cell.", index=dangling)
    assert run.returncode != 0
    assert "table caption with no table after it" in run.stderr
