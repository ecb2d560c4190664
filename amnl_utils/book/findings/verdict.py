"""The numbers and sentences of the book's verdict (§14.4, "The verdict"): AMNL against MSE, per
subset and pooled over the four subsets, from the ``verdict`` grid's run files
(:mod:`amnl_utils.analysis.verdict`). Keys ``v_*``.

Every sentence is generated from its interval by :func:`amnl_utils.analysis.verdict.verdict_words`,
so it can only say what the interval allows; "harmless" and "modest" are never generated, and the
one place the prose may use a small-effect word is checked by
:func:`~amnl_utils.analysis.verdict.small_effect_allowed`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ...analysis.verdict import (
    MEASURES,
    arm_seed_measures,
    health_table,
    small_effect_allowed,
    verdict_table,
    verdict_words,
)
from ...core.constants import SUBSETS
from ...engine.grids import VERDICT_SEEDS
from ...engine.runner import load_grid
from . import check

#: The measure the book's main question is about.
MAIN: str = "nf_rmse"
#: The pooled smallest detectable effect the grid was sized for (a fraction).
TARGET_MDE: float = 0.10


def _pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}".replace("-", "−")


def _sentence(words: str) -> str:
    return words[0].upper() + words[1:] + "."


class Verdict(NamedTuple):
    """The verdict grid read once: what every cell of the verdict page draws on."""

    #: :func:`~amnl_utils.analysis.verdict.verdict_table` rows (per subset and pooled)
    rows: list[dict[str, Any]]
    #: :func:`~amnl_utils.analysis.verdict.health_table` rows
    health: list[dict[str, Any]]
    #: paired seeds per subset
    seeds: dict[str, int]
    #: :func:`~amnl_utils.analysis.verdict.arm_seed_measures` of the grid
    values: dict


def verdict_rows(results=None) -> Verdict:
    """The committed verdict grid, read once (as many seeds as have finished; the pairs need both
    arms)."""
    values = arm_seed_measures(load_grid("verdict", results, partial=True))
    seeds = {s: len(set(values.get((s, "amnl"), {})) & set(values.get((s, "mse"), {}))) for s in SUBSETS}
    return Verdict(verdict_table(values=values), health_table(values=values), seeds, values)


def verdict_findings(results=None, verdict: Verdict | None = None) -> dict[str, str]:
    """Every number and sentence the verdict quotes (keys ``v_*``), checked; ``verdict`` is the
    grid already read by :func:`verdict_rows` (else it is read from ``results``)."""
    rows, health, seeds, _ = verdict if verdict is not None else verdict_rows(results)
    n_min, n_max = min(seeds.values()), max(seeds.values())
    check(n_min >= 10, "every subset of the verdict has at least 10 paired seeds")
    pooled = {r["measure"]: r for r in rows if r["subset"] == "pooled"}
    check(set(pooled) == set(MEASURES) and all(p["k"] == len(SUBSETS) for p in pooled.values()),
          "every measure is pooled over all four subsets")
    done = n_min == len(VERDICT_SEEDS)
    out = {
        "v_seeds": f"{n_min}" if n_min == n_max else f"{n_min} to {n_max}",
        "v_target_seeds": f"{len(VERDICT_SEEDS)}",
        "v_status": ("" if done else
                     f" The verdict grid is not finished yet: {n_min}" + ("" if n_min == n_max else f" to {n_max}")
                     + f" of {len(VERDICT_SEEDS)} seeds per subset have run, and the numbers below will tighten "
                     "when the rest are committed."),
        "v_answer": f"Pooled over the four subsets, {verdict_words(pooled[MAIN])}.",
        "v_answer_all": _sentence(verdict_words(pooled["nf_rmse_all"])),
        "v_rmse": _sentence(verdict_words(pooled["rmse"])),
        "v_nasa": _sentence(verdict_words(pooled["nasa"])),
        "v_late": _sentence(verdict_words(pooled["late_per_100"])),
        "v_mde_main": _pct(pooled[MAIN]["mde"]),
        "v_mde_all": _pct(pooled["nf_rmse_all"]["mde"]),
        "v_target": _pct(TARGET_MDE, 0),
        "v_i2_main": f"{100 * pooled[MAIN]['i2']:.0f}",
    }
    reached = pooled[MAIN]["mde"] <= TARGET_MDE
    out["v_mde_sentence"] = (
        f"The pooled comparison would detect a near-failure difference of {out['v_mde_main']} % (last windows) "
        f"or {out['v_mde_all']} % (all windows) with 80 % power; the grid was sized for "
        f"{out['v_target']} %, which is " + ("reached." if reached else "not reached yet.")
    )
    per = [r for r in rows if r["measure"] == MAIN and r["subset"] != "pooled"]
    out["v_per_subset"] = "; ".join(f"{r['subset']}: {'+' if r['rel'] >= 0 else ''}{_pct(r['rel'])} % "
                                    f"[{_pct(r['lo'])}, {_pct(r['hi'])}]" for r in per)
    out["v_mde_subsets"] = f"{_pct(min(r['mde'] for r in per), 0)} to {_pct(max(r['mde'] for r in per), 0)}"
    r = pooled["rmse"]
    small = small_effect_allowed(r["lo"], r["hi"])
    if small and r["lo"] <= 0 <= r["hi"]:
        out["v_rmse_small"] = ("both bounds of the pooled RMSE interval lie within ±5 %, so on overall RMSE AMNL is "
                               "as good as MSE")
    elif small:
        out["v_rmse_small"] = ("a measurable but small difference: both bounds of the pooled RMSE interval lie "
                               "within ±5 %")
    else:
        out["v_rmse_small"] = ("the pooled RMSE interval reaches beyond ±5 %, so not even overall RMSE can be called "
                               "unchanged")
    # the health head: does AMNL change the other task?
    sep = [h for h in health if not h["lo_pts"] <= 0 <= h["hi_pts"]]
    out["v_health"] = (
        "On no subset does the health head's accuracy or macro-F1 differ measurably between the arms "
        f"(every paired interval contains 0; together they span {_pct(min(h['lo_pts'] for h in health) / 100)} "
        f"to +{_pct(max(h['hi_pts'] for h in health) / 100)} points)." if not sep else
        "The health head differs measurably on " + ", ".join(f"{h['subset']} ({h['measure']}, "
                                                             f"{h['diff_pts']:+.1f} points)" for h in sep) + "."
    )
    return out
