"""amnl_utils: the shared, tested code of the AMNL book (weights, losses, data, model, metrics).

Import the submodules you need (``from amnl_utils.core.losses import moderate_weighted_mse_loss``); this
top level stays light so that ``import amnl_utils`` works with numpy alone.
"""

#: The package version, in one place (pyproject.toml reads it: `[tool.setuptools.dynamic]`).
__version__ = "0.1.0"
