"""One import for a chapter's result cells: ``from amnl_utils.book import report as R``.

The public names of :mod:`.loading` (reading a grid's aggregate and run files), :mod:`.tables`
(tables of results) and :mod:`.figures` (figures of results), re-exported; nothing is defined here.
"""

from .figures import (  # noqa: F401
    mark_relative_range,
    pair_label,
    plot_bucket_rmse,
    plot_forest,
    plot_metric_by_arm,
    plot_pred_vs_true,
    plot_w_max_differences,
    plot_w_max_effect,
    plot_w_max_levels,
)
from .loading import (  # noqa: F401
    grid_dir,
    grid_records,
    load_curves,
    load_predictions,
    load_summary,
)
from .tables import (  # noqa: F401
    ANCHORS,
    ARMS,
    BUCKET_METRICS,
    METRICS,
    anchors_table,
    arm_color,
    arm_label,
    arm_order,
    bucket_bias_table,
    comparison_table,
    ensemble_table,
    fmt,
    metric_table,
    parameter_tables,
    patience_table,
    relative_table,
    replay_early_stopping,
    run_measure_comparisons,
    seed_mean_predictions,
    stability_table,
    tuning_table,
)
