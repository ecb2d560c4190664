"""The per-subset data table of the book's introduction, computed from the files."""

from __future__ import annotations

from ..core.constants import SUBSETS, WINDOW
from .prepare import condition_table, engine_lengths, windows_per_engine
from .read import FAULT_MODES, SETTING_COLUMNS, PathLike, load_arrays


def subset_summary(data_dir: PathLike | None = None, window: int = WINDOW, *, verify: bool = True) -> list[dict]:
    """One dict per subset, computed from the files (fault modes from ``FAULT_MODES``):
    ``subset, conditions, fault_modes, train_engines, test_engines, train_rows, test_rows,
    train_windows`` (stride 1, ``window`` cycles), ``test_shorter_than_window``."""
    rows = []
    for subset in SUBSETS:
        raw = load_arrays(subset, data_dir, verify=verify)
        _, train_len = engine_lengths(raw.train[:, 0])
        _, test_len = engine_lengths(raw.test[:, 0])
        rows.append(
            {
                "subset": subset,
                "conditions": int(len(condition_table(raw.train[:, SETTING_COLUMNS]))),
                "fault_modes": FAULT_MODES[subset],
                "train_engines": int(train_len.size),
                "test_engines": int(test_len.size),
                "train_rows": int(raw.train.shape[0]),
                "test_rows": int(raw.test.shape[0]),
                "train_windows": int(windows_per_engine(train_len, window).sum()),
                "test_shorter_than_window": int((test_len < window).sum()),
            }
        )
    return rows


