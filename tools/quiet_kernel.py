"""Make the environment's Jupyter kernel quiet about its own transport.

ipykernel 7 logs a warning at every start when it talks to its client over TCP without CurveZMQ
keys ("Kernel is running over TCP without encryption ..."). Here the client is always a local
process (the book build, nbval, ``tools/run_notebooks.py``), the sockets are bound to 127.0.0.1 and
the connection file is readable by its owner only, so the warning says nothing a reader of the
build or test output can act on, and it is printed once per notebook. This adds
``--IPKernelApp.log_level=ERROR`` to the kernelspec ``make venv`` installs: the kernel application's
own warnings go, while every warning a notebook's code raises still reaches that cell's output.

    python tools/quiet_kernel.py [KERNEL_JSON]   # default: <sys.prefix>/share/jupyter/kernels/python3/kernel.json
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

FLAG = "--IPKernelApp.log_level=ERROR"


def quiet(path: Path) -> bool:
    """Add :data:`FLAG` to the kernelspec at ``path``; True if it changed. Written to a temporary
    file, then renamed."""
    if not path.is_file():
        raise SystemExit(f"quiet_kernel: no kernelspec at {path}; run `make venv` (it installs one) first")
    spec = json.loads(path.read_text(encoding="utf-8"))
    argv = spec.get("argv")
    if not isinstance(argv, list) or "{connection_file}" not in argv:
        raise SystemExit(f"quiet_kernel: {path} is not an ipykernel kernelspec (no argv with {{connection_file}})")
    if FLAG in argv:
        return False
    spec["argv"] = [*argv, FLAG]
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else Path(sys.prefix) / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    quiet(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
