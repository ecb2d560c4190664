"""Reading the C-MAPSS files: the 26 columns, the checks on every file, and raw arrays per subset.

``load_arrays(subset)`` (numpy) and ``load_cmapss(subset)`` (pandas DataFrames) are the two entry
points; both find the files (``$CMAPSS_DIR``, a folder you name, or the download cache) and check
their SHA-256 sums through :mod:`amnl_utils.cmapss.download`. A file that is cut short, has a
malformed line or breaks the per-engine run structure is refused with the line that is wrong.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..core.constants import SENSORS, SUBSETS
from ..core.optional import require
from .download import find_cmapss, subset_files

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Names of the 26 columns of ``train_*``/``test_*`` files, in file order.
COLUMNS: tuple[str, ...] = (
    "unit",
    "cycle",
    "setting_1",
    "setting_2",
    "setting_3",
    *(f"s_{i}" for i in range(1, 22)),
)
N_COLUMNS: int = len(COLUMNS)
#: Column indices of the 14 informative sensors (``s_i`` is column ``4 + i``).
SENSOR_COLUMNS: tuple[int, ...] = tuple(4 + s for s in SENSORS)
#: Column indices of the three operating settings.
SETTING_COLUMNS: tuple[int, ...] = (2, 3, 4)
#: Number of fault modes per subset. Not recoverable from the files: taken from NASA's
#: readme.txt (FD001/FD002: HPC degradation; FD003/FD004: HPC and fan degradation).
FAULT_MODES: dict[str, int] = {"FD001": 1, "FD002": 1, "FD003": 2, "FD004": 2}
#: Rows and engines of NASA's files, ``{subset: {"train": (rows, engines), "test": (rows, engines)}}``.
#: Checked on every load, also with ``verify=False`` (no checksums): a file cut at a line boundary
#: parses cleanly, and only its counts give it away.
FILE_SHAPES: dict[str, dict[str, tuple[int, int]]] = {
    "FD001": {"train": (20631, 100), "test": (13096, 100)},
    "FD002": {"train": (53759, 260), "test": (33991, 259)},
    "FD003": {"train": (24720, 100), "test": (16596, 100)},
    "FD004": {"train": (61249, 249), "test": (41214, 248)},
}

PathLike = str | os.PathLike[str]


# --------------------------------------------------------------------------- parsing


def check_subset(subset: str) -> str:
    """Return ``subset`` if it names a C-MAPSS subset (``"FD001"`` … ``"FD004"``), else raise."""
    if not isinstance(subset, str) or subset not in SUBSETS:
        raise ValueError(f"unknown C-MAPSS subset {subset!r}; expected one of {', '.join(SUBSETS)}")
    return subset


def _first_bad_line(path: Path, n_columns: int) -> tuple[int, str]:
    """1-based number and reason of the first line that is not ``n_columns`` numbers."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            fields = raw.split()
            if len(fields) != n_columns:
                return lineno, f"{len(fields)} fields, expected {n_columns}"
            for col, tok in enumerate(fields, start=1):
                try:
                    value = float(tok)
                except ValueError:
                    return lineno, f"field {col} is {tok.decode(errors='replace')!r}, not a number"
                if not np.isfinite(value):
                    return lineno, f"field {col} is {tok.decode(errors='replace')!r}, not finite"
    return 0, ""


def _read_numeric(path: PathLike, n_columns: int) -> np.ndarray:
    """Parse whitespace-separated numbers, exactly ``n_columns`` per line, into float64.

    Raises ``ValueError`` naming the file and the 1-based number of the first bad line.
    """
    path = Path(path)
    try:
        arr = np.loadtxt(path, dtype=np.float64, ndmin=2)
        ok = arr.shape[1] == n_columns and arr.shape[0] > 0 and bool(np.isfinite(arr).all())
    except ValueError:
        ok = False
    if not ok:
        lineno, why = _first_bad_line(path, n_columns)
        if lineno:
            raise ValueError(
                f"{path.name} in {path.parent}, line {lineno}: {why}; the file is truncated or "
                "malformed — replace it with NASA's original (fetch_cmapss())"
            )
        raise ValueError(f"{path.name} in {path.parent} holds no data rows; replace it with NASA's original")
    return arr


def _check_runs(table: np.ndarray, path: Path) -> None:
    """Each engine's rows must be one block with cycles 1, 2, 3, …; raise naming the line."""
    unit, cycle = table[:, 0], table[:, 1]
    bad = np.flatnonzero((unit != np.round(unit)) | (cycle != np.round(cycle)) | (unit < 1))
    if bad.size:
        raise ValueError(f"{path.name}, line {bad[0] + 1}: unit and cycle must be positive integers")
    new_unit = np.r_[True, unit[1:] != unit[:-1]]
    expected = np.where(new_unit, 1.0, np.r_[0.0, cycle[:-1]] + 1.0)
    bad = np.flatnonzero(cycle != expected)
    if bad.size:
        i = bad[0]
        raise ValueError(
            f"{path.name}, line {i + 1}: unit {int(unit[i])} has cycle {int(cycle[i])}, expected "
            f"{int(expected[i])}; rows must run 1, 2, 3, … per engine — replace the file with NASA's original"
        )
    starts = unit[new_unit]
    if np.unique(starts).size != starts.size:
        raise ValueError(f"{path.name}: an engine's rows are split into several blocks")


def read_table(path: PathLike) -> np.ndarray:
    """Parse a ``train_*``/``test_*`` file. Returns ``(rows, 26)`` float64 in ``COLUMNS`` order.

    Raises ``ValueError`` with the file name and 1-based line number for a truncated or
    malformed line, or for cycles that do not run 1, 2, 3, … within each engine.
    """
    path = Path(path)
    table = _read_numeric(path, N_COLUMNS)
    _check_runs(table, path)
    return table


def read_rul(path: PathLike) -> np.ndarray:
    """Parse an ``RUL_*`` file: ``(engines,)`` int64 true RUL in cycles after each last test cycle."""
    path = Path(path)
    rul = _read_numeric(path, 1)[:, 0]
    bad = np.flatnonzero((rul != np.round(rul)) | (rul < 0))
    if bad.size:
        raise ValueError(f"{path.name}, line {bad[0] + 1}: RUL {rul[bad[0]]!r} is not a non-negative integer")
    return rul.astype(np.int64)


@dataclass(frozen=True, eq=False)
class RawSubset:
    """The three files of one subset as arrays (numpy only).

    ``train``/``test``: ``(rows, 26)`` float64 in ``COLUMNS`` order; ``rul_test``: ``(test engines,)``
    int64 true (uncapped) RUL after each engine's last test cycle, in unit order.
    """

    subset: str
    train: np.ndarray
    test: np.ndarray
    rul_test: np.ndarray
    data_dir: Path


def check_counts(subset: str, part: str, table: np.ndarray, path: Path) -> None:
    """Raise ``ValueError`` naming the file unless ``table`` has the rows and engines of NASA's
    ``part`` file (:data:`FILE_SHAPES`)."""
    rows, engines = FILE_SHAPES[subset][part]
    got = (table.shape[0], int(np.unique(table[:, 0]).size))
    if got != (rows, engines):
        raise ValueError(
            f"{path.name} in {path.parent} has {got[0]} rows of {got[1]} engines; NASA's file has {rows} rows of "
            f"{engines} engines — it is truncated or not the original: replace it (fetch_cmapss())"
        )


def load_arrays(subset: str, data_dir: PathLike | None = None, *, verify: bool = True) -> RawSubset:
    """Read one subset as numpy arrays; ``verify`` checks SHA-256 sums first (see ``download``).

    Row and engine counts are checked either way (:func:`check_counts`)."""
    check_subset(subset)
    folder = find_cmapss(data_dir, (subset,), verify=verify)
    train_name, test_name, rul_name = subset_files(subset)
    train = read_table(folder / train_name)
    test = read_table(folder / test_name)
    check_counts(subset, "train", train, folder / train_name)
    check_counts(subset, "test", test, folder / test_name)
    rul = read_rul(folder / rul_name)
    n_test = np.unique(test[:, 0]).size
    if rul.size != n_test:
        raise ValueError(
            f"{rul_name} in {folder} has {rul.size} lines but {test_name} has {n_test} engines; "
            "the files do not belong together — replace them with NASA's originals"
        )
    return RawSubset(subset, train, test, rul, folder)


@dataclass(frozen=True, eq=False)
class CMAPSSSubset:
    """Raw tables of one subset: ``train``/``test`` DataFrames with the 26 ``COLUMNS``
    (``unit``, ``cycle`` int64; settings and sensors float64) and ``rul_test``, the
    ``(test engines,)`` int64 true RUL from the RUL file, in unit order."""

    subset: str
    train: pd.DataFrame
    test: pd.DataFrame
    rul_test: np.ndarray
    data_dir: Path


def _to_frame(table: np.ndarray) -> pd.DataFrame:
    pd = require("pandas", "load_cmapss (it returns DataFrames)")
    frame = pd.DataFrame(table, columns=list(COLUMNS))
    return frame.astype({"unit": "int64", "cycle": "int64"})


def load_cmapss(subset: str, data_dir: PathLike | None = None, *, verify: bool = True) -> CMAPSSSubset:
    """Load one subset's raw train/test tables (pandas) and test RUL vector.

    ``data_dir`` defaults to ``$CMAPSS_DIR``, then the user cache (see ``amnl_utils.cmapss.download``).
    With ``verify=True`` every file's SHA-256 must match NASA's original.
    """
    raw = load_arrays(subset, data_dir, verify=verify)
    return CMAPSSSubset(subset, _to_frame(raw.train), _to_frame(raw.test), raw.rul_test, raw.data_dir)

