"""§14.2: the design constraints of a weight schedule, checked numerically, and what each schedule
does to the gradient on real training windows.

Every schedule of :data:`amnl_utils.core.weights.SCHEDULES` has the form

    w(y) = 1 + (w_max - 1) * shape(y),        shape: [0, inf) -> [0, 1]

(constant: shape 0; linear: the ramp ``clip(1 - y / R_max, 0, 1)``). The functions here accept a
schedule by name *or* as a callable ``f(y, max_rul=..., w_max=...) -> weights`` with that form, so
that a reader can define a new schedule and put it through the same checks (§14.2's exercise).

The four design constraints (as the source material lists them, :func:`design_constraints`):

1. monotone non-increasing in the true RUL y;
2. bounded in ``[1, w_max]``;
3. continuous, with a finite slope (measured per cycle on a fine grid);
4. few free parameters beyond ``R_max`` and ``w_max``.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

import numpy as np

from ..core.constants import R_MAX, RUL_BUCKETS, W_MAX, WINDOW
from ..core.weights import (
    SCHEDULES,
    SHAPE_PARAMETERS,
    check_rul,
    check_schedule_args,
    schedule,
)
from .gradients import bucket_gradient_share

#: Arguments every schedule takes; any other argument of a callable is a free shape parameter.
_FIXED_ARGUMENTS: tuple[str, ...] = ("max_rul", "w_max")


def resolve(sched: Any) -> tuple[str, Callable[..., np.ndarray]]:
    """``(name, function)`` of a schedule given by name or as a callable.

    A callable's name is its ``__name__`` without a trailing ``_weight`` (``quadratic_weight`` ->
    ``"quadratic"``). Raises ``ValueError`` for an unknown name or something that is neither.
    """
    if isinstance(sched, str):
        return sched, schedule(sched)
    if callable(sched):
        name = getattr(sched, "__name__", "custom").removesuffix("_weight") or "custom"
        return name, sched
    raise ValueError(f"a schedule is a name ({', '.join(SCHEDULES)}) or a callable, got {sched!r}")


def weights_of(sched: Any, y: np.ndarray, w_max: float = W_MAX, max_rul: float = R_MAX) -> np.ndarray:
    """Weights of a schedule (name or callable) at true RUL ``y`` (cycles): float64, y's shape."""
    check_schedule_args(max_rul, w_max)
    _, f = resolve(sched)
    y = check_rul(y, "y")
    w = np.asarray(f(y, max_rul=max_rul, w_max=w_max), dtype=np.float64)
    if w.shape != y.shape:
        raise ValueError(f"schedule returned shape {w.shape} for y of shape {y.shape}")
    return w


def shape(sched: Any, y: np.ndarray, max_rul: float = R_MAX) -> np.ndarray:
    """The decay shape ``(w(y) - 1) / (w_max - 1)`` of a schedule, in [0, 1] for a valid one.

    y: (...) true RUL in cycles. Evaluated at ``w_max = 2`` and checked at ``w_max = 3``: raises
    ``ValueError`` if the schedule is not of the form ``1 + (w_max - 1) * shape(y)`` (then no single
    shape describes it for every ``w_max``, and the interactive figure could not redraw it).
    """
    name, _ = resolve(sched)
    s2 = weights_of(sched, y, w_max=2.0, max_rul=max_rul) - 1.0
    s3 = weights_of(sched, y, w_max=3.0, max_rul=max_rul) - 1.0
    if not np.allclose(s3, 2.0 * s2, rtol=1e-9, atol=1e-12):
        raise ValueError(
            f"schedule {name!r} is not of the form 1 + (w_max - 1) * shape(y): its weight above 1 does "
            "not scale with w_max - 1"
        )
    return s2


def free_parameters(sched: Any) -> dict[str, float]:
    """Shape parameters of a schedule beyond ``R_max`` and ``w_max``, with their values.

    A name: :data:`amnl_utils.core.weights.SHAPE_PARAMETERS`. A callable: every argument after the first
    (the RUL) other than ``max_rul`` and ``w_max``, with its default (``def f(y, max_rul=125.0,
    w_max=2.0, power=2.0)`` has one, ``power``). Raises ``ValueError`` for such an argument without
    a default, or a callable that does not take ``max_rul`` and ``w_max``.
    """
    name, f = resolve(sched)
    if isinstance(sched, str):
        return dict(SHAPE_PARAMETERS[name])
    params = list(inspect.signature(f).parameters.values())
    names = [p.name for p in params]
    missing = [a for a in _FIXED_ARGUMENTS if a not in names]
    if missing:
        raise ValueError(f"schedule {name!r} must accept {' and '.join(missing)} as keyword arguments")
    out: dict[str, float] = {}
    for p in params[1:]:
        if p.name in _FIXED_ARGUMENTS or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.default is p.empty:
            raise ValueError(f"schedule {name!r}: argument {p.name!r} needs a default value")
        out[p.name] = p.default
    return out


def _largest_step(sched: Any, w_max: float, max_rul: float, step: float, y_top: float) -> tuple[float, float]:
    """Largest ``|w(y + step) - w(y)|`` on the grid ``0, step, ..., y_top`` and where it starts."""
    y = np.arange(0.0, y_top + 0.5 * step, step)
    d = np.abs(np.diff(weights_of(sched, y, w_max=w_max, max_rul=max_rul)))
    k = int(np.argmax(d))
    return float(d[k]), float(y[k])


def design_constraints(
    sched: Any, w_max: float = W_MAX, max_rul: float = R_MAX, step: float = 0.01, tol: float = 1e-12
) -> dict[str, Any]:
    """Check the four design constraints of a schedule numerically, on a grid of true RUL.

    The grid runs from 0 to ``1.5 * max_rul`` cycles in steps of ``step`` cycles (so the healthy
    plateau beyond ``max_rul`` is checked too). Returns:

    - ``monotone``: no weight increase from one grid point to the next (beyond ``tol``);
    - ``bounded``: every weight in ``[1, w_max]`` (within ``tol``); ``w_at_0``, ``w_at_r_max``;
    - ``continuous``: False if the largest step between neighbours does not shrink when the grid is
      refined tenfold (a jump; a function with a finite slope L has steps of about ``L * step``);
      then ``jump`` (its size) and ``jump_at`` (cycles) are set and ``max_slope`` is NaN; otherwise
      ``max_slope`` is the largest ``|dw/dy|`` on the fine grid (weight per cycle) and ``jump`` 0;
    - ``free_parameters``: the count of :func:`free_parameters`, and ``parameters`` the dict.
    """
    check_schedule_args(max_rul, w_max)
    if not (np.isfinite(step) and 0 < step <= 1.0):
        raise ValueError(f"step must be a grid spacing in (0, 1] cycles, got {step!r}")
    name, _ = resolve(sched)
    y_top = 1.5 * max_rul
    y = np.arange(0.0, y_top + 0.5 * step, step)
    w = weights_of(sched, y, w_max=w_max, max_rul=max_rul)
    coarse, _ = _largest_step(sched, w_max, max_rul, step, y_top)
    fine, fine_at = _largest_step(sched, w_max, max_rul, step / 10.0, y_top)
    jump = coarse > tol and fine > 0.5 * coarse
    params = free_parameters(sched)
    ends = weights_of(sched, np.array([0.0, max_rul]), w_max=w_max, max_rul=max_rul)
    return {
        "schedule": name,
        "monotone": bool(np.all(np.diff(w) <= tol)),
        "bounded": bool(w.min() >= 1.0 - tol and w.max() <= w_max + tol),
        "w_at_0": float(ends[0]),
        "w_at_r_max": float(ends[1]),
        "continuous": not jump,
        "max_slope": float("nan") if jump else fine / (step / 10.0),
        "jump": fine if jump else 0.0,
        "jump_at": fine_at if jump else float("nan"),
        "free_parameters": len(params),
        "parameters": params,
    }


def constraints_frame(
    schedules: Sequence[Any] = tuple(SCHEDULES), w_max: float = W_MAX, max_rul: float = R_MAX
) -> Any:
    """§14.2's table: :func:`design_constraints` of each schedule, one readable row each (pandas)."""
    import pandas as pd  # lazy: pandas is optional (the [book] extra)

    rows = []
    for sched in schedules:
        c = design_constraints(sched, w_max=w_max, max_rul=max_rul)
        slope = (f"{c['max_slope']:.4f}" if c["continuous"]
                 else f"jump of {c['jump']:.2f} at RUL {c['jump_at']:.0f}")
        rows.append({
            "schedule": c["schedule"],
            "monotone non-increasing": "yes" if c["monotone"] else "no",
            "bounded in [1, w_max]": "yes" if c["bounded"] else "no",
            "w(0)": round(c["w_at_0"], 2),
            f"w({max_rul:g})": round(c["w_at_r_max"], 2),
            "continuous": "yes" if c["continuous"] else "no",
            "max slope (weight per cycle)": slope,
            "free parameters": c["free_parameters"],
        })
    return pd.DataFrame(rows).set_index("schedule")


# --------------------------------------------------------------------------- on real windows


def gradient_shares(y: np.ndarray, sched: Any, w_max: float = W_MAX, max_rul: float = R_MAX) -> dict[str, float]:
    """Share of the total gradient per RUL bucket under one schedule (equal residuals assumed).

    y: (N,) capped training RUL (cycles). Returns ``{bucket label: fraction}`` (sums to 1), the
    ``"gradient"`` column of :func:`amnl_utils.analysis.gradients.gradient_share`, for any schedule.
    """
    y = check_rul(y, "y")
    share = bucket_gradient_share(y, weights_of(sched, y, w_max=w_max, max_rul=max_rul))
    return {label: v["gradient"] for label, v in share.items()}


def comparison_frame(
    y: np.ndarray, schedules: Sequence[Any] = tuple(SCHEDULES), w_max: float = W_MAX, max_rul: float = R_MAX
) -> Any:
    """Per schedule: the mean weight over ``y`` and the % of the gradient each RUL bucket gets.

    y: (N,) capped training RUL, cycles. A pandas DataFrame, one row per schedule; shares in %,
    rounded to 0.1. The ``constant`` schedule (plain MSE) gives each bucket its share of the windows.
    """
    import pandas as pd  # lazy: pandas is optional (the [book] extra)

    y = check_rul(y, "y")
    labels = [label for _, label, _, _ in RUL_BUCKETS]
    rows = {}
    for sched in schedules:
        name, _ = resolve(sched)
        shares = gradient_shares(y, sched, w_max=w_max, max_rul=max_rul)
        mean = float(np.mean(weights_of(sched, y, w_max=w_max, max_rul=max_rul)))
        rows[name] = {"mean weight": mean, **{b: 100 * shares[b] for b in labels}}
    frame = pd.DataFrame.from_dict(rows, orient="index").rename_axis("schedule")
    return frame.round({"mean weight": 3, **{b: 1 for b in labels}})


def key_numbers(y: np.ndarray, w_max: float = W_MAX, max_rul: float = R_MAX, window: int = WINDOW) -> dict[str, str]:
    """The numbers §14.2's prose quotes (glued into the text), formatted, from the functions above.

    y: (N,) capped training RUL of FD001's training windows (cycles); window: their length in
    cycles (an engine needs ``window + max_rul - 1`` cycles of life to hold a window at every RUL
    below the cap).
    """
    y = check_rul(y, "y")
    near, mid = RUL_BUCKETS[0][1], RUL_BUCKETS[1][1]
    c = {name: design_constraints(name, w_max=w_max, max_rul=max_rul) for name in SCHEDULES}
    shares = {name: gradient_shares(y, name, w_max=w_max, max_rul=max_rul) for name in SCHEDULES}
    means = {name: float(np.mean(weights_of(name, y, w_max=w_max, max_rul=max_rul))) for name in SCHEDULES}
    tilted = [n for n in SCHEDULES if n != "constant"]
    near_shares = [100 * shares[n][near] for n in tilted]
    return {
        "w_max": f"{w_max:g}",
        "slope_linear": f"{c['linear']['max_slope']:.4f}",
        "slope_exponential": f"{c['exponential']['max_slope']:.4f}",
        "slope_sigmoid": f"{c['sigmoid']['max_slope']:.4f}",
        "slope_ratio_exponential": f"{c['exponential']['max_slope'] / c['linear']['max_slope']:.1f}",
        "step_jump_at": f"{c['step']['jump_at']:.0f}",
        "near_share_windows": f"{100 * shares['constant'][near]:.1f}",
        "near_share_range": f"{min(near_shares):.1f} to {max(near_shares):.1f}",
        "near_share_linear": f"{100 * shares['linear'][near]:.1f}",
        "near_share_exponential": f"{100 * shares['exponential'][near]:.1f}",
        "near_share_step": f"{100 * shares['step'][near]:.1f}",
        "mid_share_windows": f"{100 * shares['constant'][mid]:.1f}",
        "mid_share_exponential": f"{100 * shares['exponential'][mid]:.1f}",
        "mid_share_linear": f"{100 * shares['linear'][mid]:.1f}",
        "mid_share_sigmoid": f"{100 * shares['sigmoid'][mid]:.1f}",
        "mean_linear_4": f"{means['linear']:.4f}",
        "mean_sigmoid_4": f"{means['sigmoid']:.4f}",
        "full_ramp_life": f"{window + max_rul - 1:.0f}",
        "mean_linear": f"{means['linear']:.2f}",
        "mean_exponential": f"{means['exponential']:.2f}",
        "mean_sigmoid": f"{means['sigmoid']:.2f}",
        "mean_step": f"{means['step']:.2f}",
        "mean_range": f"{min(means[n] for n in tilted):.2f} to {max(means[n] for n in tilted):.2f}",
    }
