"""The one set-up call every chapter makes in its (hidden) set-up cell."""

from __future__ import annotations

import numpy as np

from ..core.seeding import seed_everything
from .style import use_book_style

#: pandas display options the book sets (printed and HTML tables alike).
PANDAS_OPTIONS: dict[str, object] = {
    "display.precision": 3,
    "display.width": 100,
    "display.max_colwidth": None,  # never cut a cell's text
    "display.max_columns": 50,  # every column of any table the book shows
    "display.max_rows": 200,  # every row of any table the book shows (longer ones belong in a figure)
}


def setup(seed: int = 0) -> np.random.Generator:
    """Apply the book style, seed every generator, fix print options; return a seeded ``Generator``.

    Printed numbers in the book are rounded so that they are the same on every machine (nbval
    compares them exactly). Tables are never cut: pandas would otherwise shorten any cell longer
    than 50 characters to "..." (``display.max_colwidth``) and hide middle rows and columns of
    larger tables; the book's tables are small enough to show whole.
    """
    use_book_style()
    np.set_printoptions(precision=4, suppress=True, linewidth=100)
    try:
        import pandas as pd  # lazy: pandas is optional (the [book] extra)
    except ImportError:
        pass
    else:
        for option, value in PANDAS_OPTIONS.items():
            pd.set_option(option, value)
    return seed_everything(seed)
