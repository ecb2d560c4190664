"""The numbers the book's prose quotes, computed from the committed results and checked.

Each ``*_findings`` function reads an aggregated grid (:mod:`amnl_utils.book.tables`) and returns a
dict of short strings, keyed by the names the notebooks glue (``{glue:text}`name```). Before it
returns, it checks every qualitative statement the prose makes about those numbers ("every
interval contains 0", "the gap is largest on FD004", …) and raises :class:`FindingError` naming
the sentence if a re-run of the grid made it false — so a changed result cannot leave a page
saying something the data no longer support. ``tests/test_findings.py`` runs them on the
committed results.

One module per part of the book: :mod:`.methods` (the tuning log), :mod:`.headline` (§14.4),
:mod:`.schedules` (§14.2), :mod:`.wmax` (§14.3), :mod:`.verdict` (the pooled verdict);
:func:`book_findings` gathers what the introduction quotes.
"""

from __future__ import annotations


class FindingError(AssertionError):
    """A sentence of the book no longer matches the results it quotes."""


def check(condition: bool, sentence: str) -> None:
    """Raise :class:`FindingError` with ``sentence`` (the claim in the prose) unless ``condition``."""
    if not condition:
        raise FindingError(f"the results no longer support: {sentence!r}; re-read the numbers and fix the prose")


def glue_all(values: dict[str, str]) -> None:
    """Glue every value for the book build (``myst_nb.glue``, not displayed). Outside a book build
    (Colab has no myst-nb) it does nothing: the glued strings only serve the rendered pages."""
    try:
        from myst_nb import glue  # lazy: only a book build has myst_nb
    except ImportError:  # pragma: no cover - depends on the environment
        return
    for name, value in values.items():
        glue(name, value, display=False)


def signed(x: float, d: int = 2) -> str:
    """``+0.12`` / ``−0.12`` (a typographic minus)."""
    return f"{x:+.{d}f}".replace("-", "\u2212")


def fmt_range(values, decimals: int = 1, unit: str = "") -> str:
    """``"a to b"`` (or one value if they round alike), with an optional unit after."""
    lo, hi = min(values), max(values)
    a, b = f"{lo:.{decimals}f}", f"{hi:.{decimals}f}"
    text = a if a == b else f"{a} to {b}"
    return f"{text} {unit}".rstrip()


from .ceiling import ceiling_numbers  # noqa: E402
from .headline import check_first_step, headline_findings, model_findings  # noqa: E402
from .intro import book_findings  # noqa: E402
from .methods import (  # noqa: E402
    methods_findings,
    provenance_findings,
    tuning_a_findings,
    tuning_b_findings,
    tuning_c_findings,
)
from .schedules import schedules_findings  # noqa: E402
from .verdict import verdict_findings  # noqa: E402
from .wmax import wmax_findings  # noqa: E402

__all__ = [
    "FindingError", "check", "glue_all", "fmt_range", "signed", "methods_findings", "provenance_findings", "tuning_a_findings",
    "tuning_b_findings", "tuning_c_findings", "check_first_step", "headline_findings", "model_findings",
    "book_findings", "ceiling_numbers", "wmax_findings", "schedules_findings", "verdict_findings",
]
