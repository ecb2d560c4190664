"""The Colab path: generated from _config.yml's `colab:` block, first in every notebook, inert outside
Colab, refusing to fetch anything until the book's real address and a fixed version are published.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TAG_CONFIG = "colab:\n  repository: https://github.com/someone/fork/\n  ref: v0.1.0\n"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load("sync_colab_cell", ROOT / "tools" / "sync_colab_cell.py")
buttons = _load("colab_buttons", ROOT / "_ext" / "colab_buttons.py")
NOTEBOOKS = tool.notebooks()


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "_config.yml"
    path.write_text(text, encoding="utf-8")
    return path


def run_cell(source: str) -> None:
    exec(compile(source, "<colab cell>", "exec"), {})


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


def test_the_book_config_is_usable_and_in_one_place() -> None:
    """The repository's own _config.yml: either not published, or published with a fixed ref; and the
    address is set only in the `colab:` block (the buttons and the cell are derived from it)."""
    target = tool.colab_target()  # raises ValueError on an unusable value
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert not (cfg.get("repository") or {}).get("url"), (
        "_config.yml sets repository.url by hand; set colab.repository instead (_ext/colab_buttons.py)"
    )
    assert not (cfg.get("launch_buttons") or {}).get("colab_url"), (
        "_config.yml sets launch_buttons.colab_url by hand; the `colab:` block decides the button"
    )
    if target is not None:
        for path in NOTEBOOKS:
            rest = nbformat.read(path, as_version=4).cells[1:]
            assert not [c for c in rest if target.url in c.source], f"{path.name} repeats the repository URL"


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("title: x\n", "colab.repository and colab.ref are not set"),
        ("colab:\n", "colab.repository and colab.ref are not set"),
        ('colab:\n  repository: ""\n  ref: ""\n', "colab.repository and colab.ref are not set"),
        ("colab:\n  repository: https://github.com/someone/fork\n", "colab.ref is not set"),
        ('colab:\n  repository: ""\n  ref: v0.1.0\n', "colab.repository is not set"),
    ],
    ids=["no block", "empty block", "empty values", "no ref", "no repository"],
)
def test_unpublished_states(tmp_path: Path, text: str, missing: str) -> None:
    cfg = config(tmp_path, text)
    assert tool.colab_target(cfg) is None
    source = tool.colab_cell_source(cfg)
    assert source.startswith(tool.COLAB_MARKER)
    assert f"{missing} in _config.yml" in source
    assert "subprocess" not in source and "git" not in source and "pip" not in source


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("colab:\n  repository: https://github.com/someone/fork\n  ref: main\n", "colab.ref"),
        ("colab:\n  repository: https://github.com/someone/fork\n  ref: dev\n", "colab.ref"),
        ("colab:\n  repository: https://github.com/someone/fork\n  ref: 0123abc\n", "colab.ref"),
        ("colab:\n  repository: http://github.com/someone/fork\n  ref: v0.1.0\n", "colab.repository"),
        ("colab:\n  repository: https://gitlab.com/someone/fork\n  ref: v0.1.0\n", "colab.repository"),
        ("colab:\n  repository: https://github.com/someone\n  ref: v0.1.0\n", "colab.repository"),
        ("colab: https://github.com/someone/fork\n", "`colab` must be a mapping"),
    ],
    ids=["branch main", "branch dev", "short commit", "http", "not github", "no repo name", "not a mapping"],
)
def test_unusable_values_are_refused_with_the_key_named(tmp_path: Path, text: str, key: str) -> None:
    cfg = config(tmp_path, text)
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        tool.colab_target(cfg)


@pytest.mark.parametrize(
    ("ref", "refspec"),
    [("v0.1.0", "refs/tags/v0.1.0"), ("1.2", "refs/tags/1.2"), ("v1.0.0-rc1", "refs/tags/v1.0.0-rc1"), (COMMIT, COMMIT)],
)
def test_published_target(tmp_path: Path, ref: str, refspec: str) -> None:
    cfg = config(tmp_path, f"colab:\n  repository: https://github.com/someone/fork.git/\n  ref: '{ref}'\n")
    target = tool.colab_target(cfg)
    assert target == ("https://github.com/someone/fork", ref)
    assert target.refspec == refspec


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
    download = types.ModuleType("amnl_utils.cmapss.download")
    download.fetch_cmapss = lambda *a, **k: calls["fetch"].append((a, k))
    monkeypatch.setitem(sys.modules, "amnl_utils.cmapss.download", download)
    return calls


def test_unpublished_cell_in_colab_stops_and_fetches_nothing(fake_colab, capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("AMNL_RESULTS", raising=False)
    source = tool.colab_cell_source(config(tmp_path, 'colab:\n  repository: ""\n  ref: ""\n'))
    with pytest.raises(RuntimeError, match=r"not published yet: colab\.repository and colab\.ref are not set"):
        run_cell(source)
    assert fake_colab == {"run": [], "fetch": []}, "the unpublished cell must not clone, install or download"
    assert "AMNL_RESULTS" not in os.environ
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(("ref", "refspec"), [("v0.1.0", "refs/tags/v0.1.0"), (COMMIT, COMMIT)], ids=["tag", "commit"])
def test_published_cell_in_colab_fetches_exactly_the_ref(fake_colab, capsys, monkeypatch, tmp_path, ref, refspec) -> None:
    clone = tmp_path / "amnl-book"
    monkeypatch.setattr(tool, "COLAB_CLONE", str(clone))
    monkeypatch.setenv("AMNL_RESULTS", "before")  # restored after the test
    url = "https://github.com/someone/fork"
    source = tool.colab_cell_source(config(tmp_path, f"colab:\n  repository: {url}\n  ref: '{ref}'\n"))
    run_cell(source)
    assert fake_colab["run"] == [
        ((["git", "init", "-q", str(clone)],), {"check": True}),
        ((["git", "-C", str(clone), "fetch", "-q", "--depth", "1", url, refspec],), {"check": True}),
        ((["git", "-C", str(clone), "checkout", "-q", "FETCH_HEAD"],), {"check": True}),
        (([sys.executable, "-m", "pip", "install", "-q", f"{clone}[data]"],), {"check": True}),
    ]
    assert fake_colab["fetch"] == [((), {})]
    # the notebooks' result tables are read from the checkout
    assert os.environ["AMNL_RESULTS"] == str(clone / "results")
    assert capsys.readouterr().out == ""
    # a second run (checkout already there) does not fetch again
    (clone / "amnl_utils").mkdir(parents=True)
    fake_colab["run"].clear()
    run_cell(source)
    assert [call[0][0][0] for call in fake_colab["run"]] == [sys.executable]


@pytest.mark.parametrize("text", ["title: x\n", TAG_CONFIG], ids=["unpublished", "published"])
def test_outside_colab_runs_nothing_and_prints_nothing(monkeypatch, capsys, tmp_path, text) -> None:
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)

    def forbidden(*args, **kwargs):
        raise AssertionError(f"subprocess.run called outside Colab: {args}")

    monkeypatch.setattr(subprocess, "run", forbidden)
    run_cell(tool.colab_cell_source(config(tmp_path, text)))
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


# --------------------------------------------------------------------------- the book's buttons


class _App:
    def __init__(self, confdir: Path) -> None:
        self.confdir = str(confdir)


def _configured_theme(tmp_path: Path, text: str, theme: dict | None = None) -> dict:
    """html_theme_options after _ext/colab_buttons.py has read ``text`` as the book's _config.yml."""
    (tmp_path / "tools").mkdir(exist_ok=True)
    (tmp_path / "tools" / "sync_colab_cell.py").write_text(
        (ROOT / "tools" / "sync_colab_cell.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    config(tmp_path, text)
    cfg = types.SimpleNamespace(html_theme_options=dict(theme or {}))
    buttons.configure(_App(tmp_path), cfg)
    return cfg.html_theme_options


def test_unpublished_book_has_no_colab_or_repository_button(tmp_path: Path) -> None:
    # Jupyter Book fills in its own default address; the extension must blank it.
    theme = _configured_theme(tmp_path, "title: x\n", {"repository_url": "https://github.com/executablebooks/jupyter-book",
                                                       "use_repository_button": True})
    assert theme["repository_url"] == ""
    assert theme["use_repository_button"] is False
    assert not theme["launch_buttons"].get("colab_url")


def test_published_book_opens_colab_at_the_ref(tmp_path: Path) -> None:
    theme = _configured_theme(tmp_path, TAG_CONFIG)
    assert theme["repository_url"] == "https://github.com/someone/fork"
    assert theme["repository_branch"] == "v0.1.0"  # the launch URL is .../blob/v0.1.0/<notebook>
    assert theme["launch_buttons"]["colab_url"] == buttons.COLAB_URL
    assert theme["use_repository_button"] is True


def test_hand_set_colab_button_is_refused(tmp_path: Path) -> None:
    with pytest.raises(buttons.ExtensionError, match="remove launch_buttons.colab_url"):
        _configured_theme(tmp_path, "title: x\n", {"launch_buttons": {"colab_url": buttons.COLAB_URL}})


def test_unusable_colab_block_fails_the_build(tmp_path: Path) -> None:
    with pytest.raises(buttons.ExtensionError, match=r"colab\.ref must be a release tag"):
        _configured_theme(tmp_path, "colab:\n  repository: https://github.com/someone/fork\n  ref: main\n")


# --------------------------------------------------------------------------- under nbval, from any folder


def test_colab_cell_passes_nbval_from_another_folder(tmp_path: Path) -> None:
    """`cd <folder> && pytest --nbval x.ipynb` works from any folder of the repository: the sanitize
    file named in pyproject's addopts (a path relative to the repository root) is found, and the
    generated Colab cell prints nothing under nbval (its stored output is empty).

    The notebook's second cell prints a memory address that differs on every run; its stored output
    only matches after tests/nbval_sanitize.cfg has replaced the address on both sides.
    """
    folder = ROOT / "artifacts" / f"nbval-{os.getpid()}-{tmp_path.name}"
    folder.mkdir(parents=True)
    try:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        colab = nbformat.v4.new_code_cell(tool.colab_cell_source(), metadata={"tags": ["remove-cell"]}, execution_count=1)
        address = nbformat.v4.new_code_cell("print(object())", execution_count=2)
        address.outputs = [nbformat.v4.new_output("stream", name="stdout", text="<object object at 0x7f0000000000>\n")]
        nb.cells = [colab, address]
        nbformat.write(nb, folder / "tiny.ipynb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "tiny.ipynb"],
            cwd=folder, env=env, capture_output=True, text=True, timeout=600,
        )
    finally:
        shutil.rmtree(folder)
    out = result.stdout + result.stderr
    assert "No such file" not in out, f"the sanitize file was not found:\n{out[-3000:]}"
    assert result.returncode == 0 and "2 passed" in out, f"pytest from {folder.relative_to(ROOT)} failed:\n{out[-3000:]}"
