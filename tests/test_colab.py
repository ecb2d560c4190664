"""The Colab set-up cell: generated from _config.yml, first in every notebook, inert outside Colab."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _load_tool():
    spec = importlib.util.spec_from_file_location("sync_colab_cell", ROOT / "tools" / "sync_colab_cell.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()
NOTEBOOKS = tool.notebooks()


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "no chapters/*.ipynb found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_is_the_generated_colab_cell(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "code"
    assert first.source == tool.colab_cell_source(), (
        f"{path.name}: first cell is not the generated Colab cell; run `python tools/sync_colab_cell.py`"
    )
    assert "remove-cell" in first.metadata.get("tags", []), f"{path.name}: Colab cell must be tagged remove-cell"


def test_repository_url_comes_from_config() -> None:
    repo = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]
    url, branch = tool.repository()
    assert (url, branch) == (repo["url"].rstrip("/"), repo.get("branch", "main"))
    assert f'"--branch", "{branch}",' in tool.colab_cell_source()
    assert f'"{url}", repo]' in tool.colab_cell_source()
    # ... and nowhere else in the notebooks: one place to change it.
    for path in NOTEBOOKS:
        rest = nbformat.read(path, as_version=4).cells[1:]
        assert not [c for c in rest if url in c.source], f"{path.name} repeats the repository URL"


def test_generated_cell_from_another_config(tmp_path: Path) -> None:
    cfg = tmp_path / "_config.yml"
    cfg.write_text("repository:\n  url: https://github.com/someone/fork/\n  branch: dev\n")
    src = tool.colab_cell_source(cfg)
    assert '"--branch", "dev",' in src and '"https://github.com/someone/fork", repo]' in src
    cfg.write_text("repository:\n  branch: dev\n")
    with pytest.raises(ValueError, match="repository.url"):
        tool.colab_cell_source(cfg)


@pytest.fixture
def fake_colab(monkeypatch):
    """Pretend to be Colab: a google.colab module, a recording subprocess.run, a fake fetch."""
    calls: dict[str, list] = {"run": [], "fetch": []}
    google = types.ModuleType("google")
    colab = types.ModuleType("google.colab")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls["run"].append((a, k)))
    download = types.ModuleType("amnl_utils.download")
    download.fetch_cmapss = lambda *a, **k: calls["fetch"].append((a, k))
    monkeypatch.setitem(sys.modules, "amnl_utils.download", download)
    return calls


def test_in_colab_clones_installs_and_fetches_data(fake_colab, capsys, monkeypatch, tmp_path) -> None:
    clone = tmp_path / "amnl-book"
    monkeypatch.setattr(tool, "COLAB_CLONE", str(clone))
    monkeypatch.setenv("AMNL_RESULTS", "before")  # restored (unset) after the test
    source = tool.colab_cell_source()
    exec(compile(source, "<colab cell>", "exec"), {})
    url, branch = tool.repository()
    assert fake_colab["run"] == [
        ((["git", "clone", "-q", "--depth", "1", "--branch", branch, url, str(clone)],), {"check": True}),
        (([sys.executable, "-m", "pip", "install", "-q", f"{clone}[data]"],), {"check": True}),
    ]
    assert fake_colab["fetch"] == [((), {})]
    # the notebooks' result tables are read from the clone
    assert os.environ["AMNL_RESULTS"] == str(clone / "results")
    assert capsys.readouterr().out == ""
    # a second run (clone already there) does not clone again
    clone.mkdir()
    fake_colab["run"].clear()
    exec(compile(source, "<colab cell>", "exec"), {})
    assert [call[0][0][0] for call in fake_colab["run"]] == [sys.executable]


def test_outside_colab_runs_nothing_and_prints_nothing(monkeypatch, capsys) -> None:
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)

    def forbidden(*args, **kwargs):
        raise AssertionError(f"subprocess.run called outside Colab: {args}")

    monkeypatch.setattr(subprocess, "run", forbidden)
    exec(compile(tool.colab_cell_source(), "<colab cell>", "exec"), {})
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_sync_rewrites_stale_and_inserts_missing_cells(tmp_path: Path) -> None:
    source = tool.colab_cell_source()
    stale = tmp_path / "stale.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(tool.COLAB_MARKER + "\nold body", metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_markdown_cell("# Title"),
    ]
    nbformat.write(nb, stale)
    missing = tmp_path / "missing.ipynb"
    nb2 = nbformat.v4.new_notebook()
    nb2.cells = [nbformat.v4.new_markdown_cell("# Title")]
    nbformat.write(nb2, missing)

    for path, n_cells in ((stale, 2), (missing, 2)):
        assert tool.sync_notebook(path, source, write=False) is True  # --check reports it
        assert tool.sync_notebook(path, source) is True
        assert tool.sync_notebook(path, source) is False  # idempotent
        cells = nbformat.read(path, as_version=4).cells
        assert len(cells) == n_cells and cells[0].source == source
        assert cells[0].metadata["tags"] == ["remove-cell"]
        assert cells[1].source == "# Title"


def test_check_mode_passes_on_the_repository() -> None:
    assert tool.main(["--check"]) == 0, "run `python tools/sync_colab_cell.py` to update the notebooks"
