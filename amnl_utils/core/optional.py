"""Optional dependencies: import them with an error that says what to install.

``amnl_utils`` itself needs only NumPy. The model and training need PyTorch, the tables pandas,
the figures matplotlib, the download pooch and tqdm. Each comes with an install extra.
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: Module -> (pip extra of amnl_utils that brings it, a hint for the reader).
EXTRAS: dict[str, tuple[str, str]] = {
    "torch": (
        "torch",
        "on a GPU machine install the build for your CUDA version from https://pytorch.org; "
        "Colab already has one",
    ),
    "pandas": ("book", ""),
    "scipy": ("book", ""),
    "matplotlib": ("book", ""),
    "ipywidgets": ("book", ""),
    "pooch": ("data", ""),
    "tqdm": ("data", ""),
}


def require(module: str, what: str) -> ModuleType:
    """Import ``module`` or raise ``ImportError`` naming ``what`` needs it and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        extra, hint = EXTRAS.get(top, ("", ""))
        how = f"pip install 'amnl_utils[{extra}]'" if extra else f"pip install {top}"
        msg = f"{what} needs {top}, which is not installed: {how}"
        raise ImportError(msg + (f" ({hint})" if hint else "")) from exc
