"""The Colab path: generated from _config.yml's `colab:` block, first in every notebook, inert outside
Colab; until the book's real address and a fixed version are published it fetches nothing and
installs only an archive the reader uploaded (`make colab-bundle`); every failure is one line that
says what to do.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TAG_CONFIG = "colab:\n  repository: https://github.com/someone/fork/\n  ref: v0.1.0\n"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
COLAB_URL_EXAMPLE = "https://colab.research.google.com/github/someone/fork/blob/v0.1.0/intro.md"


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
    assert "git" not in source.replace("github", "")  # nothing is fetched from anywhere
    assert "make colab-bundle" in source


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


def _unpublished_source(tmp_path: Path, monkeypatch) -> tuple[str, Path, Path]:
    clone, bundle = tmp_path / "amnl-book", tmp_path / "amnl-book.zip"
    monkeypatch.setattr(tool, "COLAB_CLONE", str(clone))
    monkeypatch.setattr(tool, "COLAB_BUNDLE", str(bundle))
    return tool.colab_cell_source(config(tmp_path, 'colab:\n  repository: ""\n  ref: ""\n')), clone, bundle


def test_unpublished_cell_in_colab_without_an_upload_says_what_to_do(fake_colab, capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("AMNL_RESULTS", raising=False)
    source, clone, bundle = _unpublished_source(tmp_path, monkeypatch)
    with pytest.raises(SystemExit) as stop:  # IPython shows a SystemExit as one line, no traceback
        run_cell(source)
    message = str(stop.value)
    assert "colab.repository and colab.ref are not set" in message
    assert "make colab-bundle" in message and str(bundle) in message and "'Two commands'" in message
    assert fake_colab == {"run": [], "fetch": []}, "with nothing uploaded the cell must not install or download"
    assert "AMNL_RESULTS" not in os.environ and not clone.exists()
    assert capsys.readouterr().out == ""


def test_unpublished_cell_in_colab_installs_the_uploaded_archive(fake_colab, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("AMNL_RESULTS", "before")  # restored after the test
    source, clone, bundle = _unpublished_source(tmp_path, monkeypatch)
    # laid out like the archive `make colab-bundle` writes (git archive: the tree's files at its root)
    with zipfile.ZipFile(bundle, "w") as z:
        for name in ("pyproject.toml", "amnl_utils/__init__.py"):
            z.write(ROOT / name, name)
    run_cell(source)
    assert (clone / "amnl_utils" / "__init__.py").is_file() and (clone / "pyproject.toml").is_file()
    assert not Path(str(clone) + ".partial").exists()
    assert fake_colab["run"] == [(([sys.executable, "-m", "pip", "install", "-q", f"{clone}[data]"],), {"check": True})]
    assert fake_colab["fetch"] == [((), {})]
    assert os.environ["AMNL_RESULTS"] == str(clone / "results")


@pytest.mark.parametrize("content", [b"not a zip", None], ids=["corrupt", "not the book"])
def test_unpublished_cell_refuses_a_bad_upload_and_leaves_nothing(fake_colab, monkeypatch, tmp_path, content) -> None:
    source, clone, bundle = _unpublished_source(tmp_path, monkeypatch)
    if content is None:
        with zipfile.ZipFile(bundle, "w") as z:
            z.writestr("notes.txt", "something else")
        expected = "holds no amnl_utils/ folder"
    else:
        bundle.write_bytes(content)
        expected = "is not a readable archive"
    with pytest.raises(SystemExit, match=expected) as stop:
        run_cell(source)
    assert "make colab-bundle" in str(stop.value)
    assert not clone.exists() and not Path(str(clone) + ".partial").exists()
    assert fake_colab == {"run": [], "fetch": []}


def test_a_failed_install_or_fetch_is_one_line(monkeypatch, tmp_path) -> None:
    google = types.ModuleType("google")
    google.colab = types.ModuleType("google.colab")
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", google.colab)

    def failing(cmd, **kwargs):
        raise subprocess.CalledProcessError(128, cmd)

    monkeypatch.setattr(subprocess, "run", failing)
    clone = tmp_path / "amnl-book"
    monkeypatch.setattr(tool, "COLAB_CLONE", str(clone))
    published = tool.colab_cell_source(config(tmp_path, TAG_CONFIG))
    with pytest.raises(SystemExit, match=r"Could not fetch tag v0\.1\.0 of https://github\.com/someone/fork"):
        run_cell(published)
    assert not clone.exists()
    (clone / "amnl_utils").mkdir(parents=True)  # fetched before; the install fails
    with pytest.raises(SystemExit, match="pip could not install .* run the notebook locally"):
        run_cell(published)


def test_sync_tool_names_an_unusable_block_in_one_line(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setattr(tool, "CONFIG", config(tmp_path, "colab:\n  repository: https://github.com/a/b\n  ref: main\n"))
    assert tool.main(["--check"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "colab.ref must be a release tag" in err and "never a branch" in err


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


@pytest.mark.parametrize(("source", "kept"), [("chapters/x.ipynb", True), ("intro.md", False), ("methods.md", False)])
def test_launch_buttons_only_on_notebook_pages(source: str, kept: bool) -> None:
    app = types.SimpleNamespace(env=types.SimpleNamespace(doc2path=lambda name: f"/book/{source}"))
    launch = {"type": "group", "label": "launch-buttons", "buttons": [{"url": COLAB_URL_EXAMPLE}]}
    other = {"type": "group", "label": "download-buttons"}
    context = {"header_buttons": [other, launch]}
    buttons.drop_launch_buttons_off_notebooks(app, source.rsplit(".", 1)[0], "page.html", context, None)
    assert context["header_buttons"] == ([other, launch] if kept else [other])


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
