"""The numbers §14.3 and its Details page quote from the small optimiser runs on one real batch.

:func:`ceiling_numbers` makes the batch and the checks exactly as the cells of §14.3 do (FD001,
validation engines drawn with seed 0, the first training batch of 256 windows, the last-cycle
least-squares baseline's residuals, the small linear problem of
:mod:`amnl_utils.analysis.optimiser`) and formats them with
:func:`amnl_utils.analysis.optimiser.key_numbers`, which raises if a statement of the prose no
longer holds. Both pages glue from it, so the two never quote different numbers.
"""

from __future__ import annotations

#: The w_max values of §14.3's moment, spread and step tables.
W_MAXES: tuple[float, ...] = (1.0, 2.0, 3.0, 5.0, 10.0)
#: The loss scales, tilt w_max values and dual-task w_max values the section's cells use.
SCALES: tuple[float, ...] = (1.36, 10.0, 1000.0)
TILT_W_MAXES: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0)
BALANCE_W_MAXES: tuple[float, ...] = (1.0, 2.0, 5.0, 12.0)


def ceiling_numbers(seed: int = 0, batch_size: int = 256) -> dict[str, str]:
    """§14.3's quoted numbers (short strings keyed by glue name) from the FD001 batch of ``seed``.

    Needs torch and the C-MAPSS data (``CMAPSS_DIR``); a few seconds on a CPU.
    """
    import numpy as np  # lazy: the findings package imports without the scientific stack

    from ...analysis import optimiser as opt  # lazy: torch
    from ...analysis.baseline import baseline_batch  # lazy: as above
    from ...analysis.gradients import gradient_spread  # lazy: as above
    from ...analysis.weight_moments import moment_table  # lazy: as above
    from ...cmapss.prepare import prepare  # lazy: torch
    from ...core.constants import R_MAX, W_MAX  # lazy: kept beside the other imports
    from ...engine.grids import recipe  # lazy: torch
    from .methods import tuning_a_findings  # lazy: reads the tuning grid only when called

    data = prepare("FD001", seed=seed)
    x, y, h, y_batch, residual = baseline_batch(data, batch_size, seed)
    problem = opt.linear_problem(x.numpy(), y_batch)
    unit = recipe("FD001").rul_unit
    numbers = opt.key_numbers(
        moment_table(data.y_train, w_maxes=W_MAXES, n=100_000, seed=seed),
        gradient_spread(y_batch, residual, w_maxes=W_MAXES),
        opt.scale_invariance(problem, scales=SCALES, w_max=W_MAX),
        opt.tilt(problem, data.y_train, w_maxes=TILT_W_MAXES),
        opt.step_sizes(problem, w_maxes=W_MAXES),
        opt.clipping(problem, c=10.0, clip_norm=1.0, w_max=W_MAX),
        opt.dual_task_balance(x, y, h, data.y_train, w_maxes=BALANCE_W_MAXES, unit=unit),
    )
    numbers["at_cap_pct"] = f"{100 * np.mean(data.y_train == R_MAX):.1f}"
    numbers["rul_unit"] = f"{unit:g}"
    numbers["train_balance"] = tuning_a_findings()["a_balance_u31"]
    numbers["clip_norm"] = f"{recipe('FD001').clip_norm:g}"
    return numbers
