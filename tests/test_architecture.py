"""The package's architecture, held by its syntax trees (docs/architecture.md explains it).

* Layers: ``core`` < ``cmapss`` < ``engine`` < ``analysis`` < ``book``; a module imports only from
  its own layer or a lower one (book → analysis → engine → cmapss → core), at any depth of the code.
* No private name crosses modules: ``from .x import _name`` and ``module._name`` are refused.
* An import inside a function says why it is there, in a ``# lazy: ...`` comment on its line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "amnl_utils"
LAYERS = ("core", "cmapss", "engine", "analysis", "book")
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` reads from."""
    if node.level == 0:
        return node.module or ""
    base = _name(path).split(".")
    if not _is_package(path):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "amnl_utils" or len(parts) < 2:
        return None
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else None


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _resolve(path, node)
            yield node, target, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield node, a.name, []


def test_every_module_sits_in_a_layer():
    loose = [_name(p) for p in MODULES if _layer(_name(p)) is None and _name(p) != "amnl_utils"]
    assert not loose, f"modules outside the layers {LAYERS}: {loose}; see docs/architecture.md"


def test_imports_follow_the_one_direction():
    wrong = []
    for path in MODULES:
        here = _layer(_name(path))
        if here is None:
            continue
        for node, target, names in _imports(path):
            targets = [target] + [f"{target}.{n}" for n in names] if target == "amnl_utils" else [target]
            for t in targets:
                there = _layer(t)
                if there is not None and there > here:
                    wrong.append(f"{_name(path)}:{node.lineno} imports {t} ({LAYERS[here]} must not import {LAYERS[there]})")
    assert not wrong, "imports against book → analysis → engine → cmapss → core:\n" + "\n".join(wrong)


def test_no_private_name_crosses_modules():
    crossing = []
    for path in MODULES:
        tree = ast.parse(path.read_text())
        aliases = set()  # names bound to our own modules, e.g. `from . import store as R`
        for node, target, names in _imports(path):
            if isinstance(node, ast.ImportFrom) and target.startswith("amnl_utils"):
                for a in node.names:
                    if a.name.startswith("_") and not a.name.startswith("__"):
                        crossing.append(f"{_name(path)}:{node.lineno} imports {target}.{a.name}")
                    aliases.add(a.asname or a.name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases \
                    and node.attr.startswith("_") and not node.attr.startswith("__"):
                crossing.append(f"{_name(path)}:{node.lineno} reads {node.value.id}.{node.attr}")
    assert not crossing, "private names used outside their module:\n" + "\n".join(crossing)


def test_imports_inside_functions_say_why():
    silent = []
    for path in MODULES:
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    text = " ".join(lines[node.lineno - 1 : (node.end_lineno or node.lineno)])
                    if "# lazy:" not in text:
                        silent.append(f"{_name(path)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert not silent, "imports inside functions without a `# lazy: <why>` comment:\n" + "\n".join(silent)


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_modules_stay_small(path):
    """About 400 lines is the guide; 600 is where a module surely holds more than one idea."""
    n = len(path.read_text().splitlines())
    assert n <= 600, f"{_name(path)} has {n} lines; split it by idea (docs/architecture.md)"


def test_the_direction_test_catches_a_wrong_import(tmp_path):
    """The checker itself: a core module importing the engine is found."""
    bad = PACKAGE / "core" / "weights.py"
    node = ast.parse("from ..engine import store").body[0]
    assert _layer(_resolve(bad, node)) == LAYERS.index("engine") > _layer(_name(bad))


def test_no_source_cites_a_file_outside_the_repository():
    """Docstrings and comments cite the book's Methods page or a section, never the team's
    specification, which is not part of the repository a reader has."""
    import re

    sources = [*MODULES, *sorted((PACKAGE.parent / "tests").rglob("*.py")), *sorted((PACKAGE.parent / "tools").glob("*.py"))]
    cited = [f"{p.relative_to(PACKAGE.parent)}:{i}" for p in sources
             for i, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"\bSPEC\b|SPEC\.md", line)
             and p.name != "test_architecture.py"]
    assert not cited, "cites the specification, which readers do not have: " + ", ".join(cited)
