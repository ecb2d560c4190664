"""The experiment engine: the model and its training, the run store, the grids, the runner,
aggregation, re-creation and the command line (``python -m amnl_utils.engine``).

Importing this package does not import torch: the model and the training loop
(:mod:`~amnl_utils.engine.model`, :mod:`~amnl_utils.engine.training`) load it when imported.
"""

from .aggregate import (
    ALL_WINDOW_METRICS,
    CLASS_METRICS,
    COMPARED,
    COUNT_METRICS,
    LAST_WINDOW_METRICS,
    RUN_MEASURES,
    ArmRuns,
    StaleAggregateError,
    aggregate,
    balance_ratio,
    check_aggregate,
    comparison_rows,
    group_runs,
    paired_rows,
    summary_rows,
    val_roughness,
)
from .certification import CertificationError, arm_family, certify
from .cli import main
from .config import TrainConfig
from .grids import (
    BASE,
    GRIDS,
    RECIPE,
    SECOND_SUBSET,
    SEEDS,
    W_MAX_CONTROLS,
    W_MAX_VALUES,
    Grid,
    RunSpec,
    get_grid,
    grid_root,
    grid_runs,
    headline_arms,
    recipe,
    recipe_table,
    schedule_arms,
    w_max_arms,
)
from .lineage import equivalent_hashes, load_lineage
from .provenance import cpu_fingerprint, environment, git_commit, same_processor_kind
from .reproduce import compare_records, rerun, verify
from .runner import grid_status, load_grid, run_grid, run_one
