"""Shared fixtures: where the real C-MAPSS files are (read through CMAPSS_DIR, as the Methods page says)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def cmapss_dir() -> Path:
    """The folder with the NASA C-MAPSS files, from the CMAPSS_DIR environment variable."""
    value = os.environ.get("CMAPSS_DIR")
    if not value:
        pytest.skip("CMAPSS_DIR is not set; point it at a folder with the NASA C-MAPSS files")
    path = Path(value)
    if not path.is_dir():
        pytest.fail(f"CMAPSS_DIR={value} is not a folder; point it at the NASA C-MAPSS files")
    return path
