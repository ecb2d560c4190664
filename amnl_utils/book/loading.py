"""Reading what the experiment engine wrote for a grid: its aggregate and its run files.

``<results>/<grid>/summary.csv`` (per subset × arm × metric: mean, sd and t-interval over seeds;
for test metrics also the two-level seeds × engines bootstrap interval and the seed-ensemble value),
``comparisons.csv`` (each pair of arms the grid names: paired per-seed difference, t-interval,
minimum detectable effect, bootstrap check) and ``summary.json``; per-engine predictions and
curves come from the run files. An aggregate that no longer matches its run files is refused.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..core.optional import require
from ..engine.aggregate import check_aggregate
from ..engine.grids import GRIDS
from ..engine.runner import load_grid
from ..engine.store import resolve_root

pd = require("pandas", "amnl_utils.book.loading")


# --------------------------------------------------------------------------- loading


def _root(grid: str, results: str | os.PathLike | None):
    """The results folder of ``grid`` (the scratch folder for a scratch grid, unless ``results``)."""
    return resolve_root(results, scratch=grid in GRIDS and GRIDS[grid].scratch)


def grid_dir(grid: str, results: str | os.PathLike | None = None):
    """``<results>/<grid>``; raises ``FileNotFoundError`` saying how to produce it."""
    root = _root(grid, results)
    path = root / grid
    if not (path / "summary.json").is_file():
        raise FileNotFoundError(
            f"no aggregated results for grid {grid!r} in {root}; clone the repository (results/ is committed) or "
            f"produce them with `python -m amnl_utils.engine run --grid {grid} --aggregate`"
        )
    return path


def load_summary(grid: str, results: str | os.PathLike | None = None) -> tuple[Any, Any, dict]:
    """``(summary, comparisons, meta)`` of an aggregated grid (see the module docstring).

    meta is ``summary.json`` without its two tables and its run-file list: grid wall time, partial
    flag, configs, commits. Raises :class:`~amnl_utils.engine.aggregate.StaleAggregateError` (naming
    the command that fixes it) if the run files changed since the grid was aggregated.
    """
    path = grid_dir(grid, results)
    meta = json.loads((path / "summary.json").read_text())
    check_aggregate(grid, path.parent, meta)
    summary = pd.read_csv(path / "summary.csv")
    comparisons = pd.read_csv(path / "comparisons.csv") if (path / "comparisons.csv").stat().st_size > 1 else pd.DataFrame()
    meta = {k: v for k, v in meta.items() if k not in ("summary", "comparisons", "run_files")}
    return summary, comparisons, meta


def grid_records(grid: str, results: str | os.PathLike | None = None) -> list[tuple[Any, dict]]:
    """Every finished run of a grid as ``(config, record)`` pairs (a partial grid is allowed)."""
    return load_grid(grid, _root(grid, results), partial=True)


def load_predictions(grid: str, results: str | os.PathLike | None = None, windows: str = "last") -> Any:
    """Per-engine test predictions of every run of a grid: one row per (subset, arm, seed, window).

    windows: ``"last"`` (one window per test engine: columns unit, y_true, y_pred, h_true, h_pred)
    or ``"near_failure"`` (every test window with true RUL ≤ 30: unit, y_true, y_pred). Cycles.
    """
    if windows not in ("last", "near_failure"):
        raise ValueError(f"windows must be 'last' or 'near_failure', got {windows!r}")
    frames = []
    for spec, rec in grid_records(grid, results):
        p = rec["predictions"]
        cols = p if windows == "last" else p["nf"]
        cols = {k: v for k, v in cols.items() if k != "nf"}
        frames.append(pd.DataFrame({"subset": spec.config.subset, "arm": spec.arm, "seed": spec.config.seed, **cols}))
    if not frames:
        raise FileNotFoundError(f"no run files of grid {grid!r}")
    return pd.concat(frames, ignore_index=True)


def load_curves(grid: str, results: str | os.PathLike | None = None) -> Any:
    """Per-pass curves of every run: subset, arm, seed, epoch, lr, train losses, val_rmse, clipping, balance."""
    rows = []
    for spec, rec in grid_records(grid, results):
        rows += [{"subset": spec.config.subset, "arm": spec.arm, "seed": spec.config.seed, **c} for c in rec["curves"]]
    return pd.DataFrame(rows)
