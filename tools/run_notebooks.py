"""Re-execute chapter notebooks in place, so that their stored outputs are the ones nbval compares.

    python tools/run_notebooks.py                       # every chapters/*.ipynb
    python tools/run_notebooks.py chapters/14_2_*.ipynb # some of them

Each notebook runs top to bottom in a fresh kernel from the ``chapters/`` folder (as the book build
and nbval run it). No widget state is stored: the static book shows the kernel-free figures, and a
stored state would only add JavaScript the pages never use. The file is written only if the run
succeeds (a failing cell leaves the notebook untouched and names the cell).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]


def run(path: Path, timeout: int = 600) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nb.metadata.pop("widgets", None)
    tmp = path.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "chapters").glob("*.ipynb"))
    for path in paths:
        try:
            run(path.resolve())
        except CellExecutionError as exc:
            print(f"{path}: a cell failed; the notebook was not changed\n{exc}", file=sys.stderr)
            return 1
        print(f"executed: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
