"""The NASA C-MAPSS data: find and check the files (``download``), read them (``read``) and prepare
labelled, normalised windows with an engine-level split (``prepare``).

The names below are the public API; ``from amnl_utils import cmapss`` gives all of them.
"""

from .download import (
    ENV_VAR,
    ChecksumError,
    DownloadError,
    fetch_cmapss,
    find_cmapss,
    subset_files,
)
from .prepare import (
    MULTI_CONDITION,
    Normaliser,
    PreparedData,
    assign_conditions,
    condition_table,
    engine_lengths,
    fit_normaliser,
    health_state,
    last_windows,
    make_loader,
    near_failure_rows,
    prepare,
    round_settings,
    rul_labels,
    sliding_windows,
    split_engines,
    windows_ending_at,
    windows_per_engine,
)
from .read import (
    COLUMNS,
    FAULT_MODES,
    FILE_SHAPES,
    N_COLUMNS,
    SENSOR_COLUMNS,
    SETTING_COLUMNS,
    CMAPSSSubset,
    RawSubset,
    check_counts,
    check_subset,
    load_arrays,
    load_cmapss,
    read_rul,
    read_table,
)
from .summary import subset_summary
