"""The lineage of the training code: which code hashes were certified to compute the same runs.

A change to a training-relevant module changes the code hash (:func:`amnl_utils.engine.store.code_hash`)
and would mark every committed run stale. When the change alters no number — a function moved, a
check added, a new option that leaves the old ones alone — ``python -m amnl_utils.engine certify``
re-creates a stratified sample of the stale runs (:mod:`amnl_utils.engine.certification`) and, if every
one comes out the same, appends an *equivalence* to ``<results>/lineage.json``::

    {"old": "<hash>", "new": "<hash>", "certified_at": ..., "processor": {...}, "commit": ...,
     "wall_s": ..., "tolerance_used": false, "sample": [{"run": ..., "strata": [...], ...}, ...]}

Equivalence is symmetric and transitive: a run is fresh when its hash is connected to the current
hash by a chain of certified equivalences (:func:`equivalent_hashes`). The file is committed with
the results, so the claim and its evidence travel together.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .store import write_json_atomic

#: The lineage file, under the results folder.
LINEAGE_FILE: str = "lineage.json"
#: Keys every equivalence carries (checked on load).
ENTRY_KEYS: tuple[str, ...] = ("old", "new", "certified_at", "processor", "sample", "tolerance_used")


class LineageError(ValueError):
    """A lineage file that cannot be used: unreadable, or an entry without its evidence."""


def lineage_path(root: str | os.PathLike) -> Path:
    """``<root>/lineage.json``."""
    return Path(root) / LINEAGE_FILE


def load_lineage(root: str | os.PathLike) -> list[dict[str, Any]]:
    """The certified equivalences under ``root`` (``[]`` when there is no lineage file).

    Raises :class:`LineageError` naming the file if it is not a list of complete entries: a broken
    lineage must never silently turn stale runs fresh or fresh runs stale.
    """
    path = lineage_path(root)
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LineageError(f"{path}: not a readable lineage file ({type(exc).__name__}: {exc}); "
                           "restore it from git (`git checkout -- results/lineage.json`)") from None
    entries = data.get("equivalences") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise LineageError(f"{path}: expected an object with a list 'equivalences'")
    for i, e in enumerate(entries):
        missing = [k for k in ENTRY_KEYS if not isinstance(e, dict) or k not in e]
        if missing:
            raise LineageError(f"{path}: equivalence {i} lacks {missing}")
        if not e["sample"]:
            raise LineageError(f"{path}: equivalence {i} ({e['old']} ≡ {e['new']}) has an empty sample")
    return entries


def equivalent_hashes(current: str, root: str | os.PathLike) -> frozenset[str]:
    """Every code hash connected to ``current`` by certified equivalences (``current`` included)."""
    edges: dict[str, set[str]] = {}
    for e in load_lineage(root):
        edges.setdefault(e["old"], set()).add(e["new"])
        edges.setdefault(e["new"], set()).add(e["old"])
    seen, todo = {current}, [current]
    while todo:
        for h in edges.get(todo.pop(), ()):
            if h not in seen:
                seen.add(h)
                todo.append(h)
    return frozenset(seen)


def append_equivalence(root: str | os.PathLike, entry: dict[str, Any]) -> Path:
    """Add one certified equivalence to the lineage file (atomically; earlier entries are kept)."""
    missing = [k for k in ENTRY_KEYS if k not in entry]
    if missing:
        raise ValueError(f"an equivalence needs {list(ENTRY_KEYS)}; missing {missing}")
    if not entry["sample"]:
        raise ValueError("an equivalence needs a non-empty sample of re-created runs")
    entries = load_lineage(root)
    return write_json_atomic(lineage_path(root), {"equivalences": [*entries, entry]})


def lineage_summary(current: str, root: str | os.PathLike) -> list[dict[str, Any]]:
    """The equivalences on the chain to ``current``, without their samples (for verify records and
    the Methods page): old, new, date, processor, sample size, whether a tolerance was used."""
    hashes = equivalent_hashes(current, root)
    return [{"old": e["old"], "new": e["new"], "certified_at": e["certified_at"],
             "processor": e["processor"].get("model_name", "?"), "sample": len(e["sample"]),
             "tolerance_used": e["tolerance_used"]}
            for e in load_lineage(root) if e["old"] in hashes or e["new"] in hashes]
