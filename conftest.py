"""pytest from any folder of the repository.

pyproject.toml's ``addopts`` name ``--nbval-sanitize-with tests/nbval_sanitize.cfg``, a path that
nbval opens relative to the *working folder*: ``cd chapters && pytest --nbval 14_1_....ipynb``
would fail with "No such file or directory: 'tests/nbval_sanitize.cfg'". pytest loads this file
(the repository root is the rootdir of every run inside the repository) before nbval reads the
option, and makes a relative path absolute: against the working folder if the file is there (a path
typed on the command line), otherwise against the repository root (the path in addopts).
"""

from __future__ import annotations

from pathlib import Path

import pytest


def resolve_sanitize_path(value: str | None, cwd: Path, rootdir: Path) -> str | None:
    """The sanitize file as an absolute path (unchanged if absolute, absent, or found nowhere)."""
    if not value or Path(value).is_absolute():
        return value
    for base in (cwd, rootdir):
        candidate = base / value
        if candidate.is_file():
            return str(candidate.resolve())
    return value  # nbval reports the missing file by the name the user gave


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    option = config.option
    if getattr(option, "nbval_sanitize_with", None):
        option.nbval_sanitize_with = resolve_sanitize_path(
            option.nbval_sanitize_with, Path.cwd(), config.rootpath
        )
