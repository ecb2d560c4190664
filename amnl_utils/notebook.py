"""The one set-up call every chapter makes in its (hidden) set-up cell."""

from __future__ import annotations

import numpy as np

from .plotting import use_book_style
from .seeding import seed_everything


def setup(seed: int = 0) -> np.random.Generator:
    """Apply the book style, seed every generator, fix print options; return a seeded ``Generator``.

    Printed numbers in the book are rounded so that they are the same on every machine (nbval
    compares them exactly).
    """
    use_book_style()
    np.set_printoptions(precision=4, suppress=True, linewidth=100)
    try:
        import pandas as pd

        pd.set_option("display.precision", 3)
        pd.set_option("display.width", 100)
    except ImportError:
        pass
    return seed_everything(seed)
