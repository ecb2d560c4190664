"""The closing page, "Should I use AMNL?", and the introduction's bottom line: one decision table
built from every section's findings (keys ``c_*``). Each cell is another module's checked sentence,
or a choice made from the interval behind it."""

from __future__ import annotations

import math

from ...analysis import decisions as A
from ...engine.grids import DECISION_SUBSETS
from . import check
from .decisions import LABEL, MAIN_K, decisions_findings, load_or_none
from .schedules import schedules_findings
from .verdict import verdict_findings, verdict_rows
from .wmax import wmax_findings

#: The near-failure difference a future grid should be able to detect (a fraction).
TARGET: float = 0.05


def _sentence(words: str) -> str:
    return words[0].upper() + words[1:] + "."


def _pc(x: float) -> str:
    return f"{100 * x:+.1f}".replace("-", "\u2212")


def use_from_interval(lo: float, hi: float, lower: str = "AMNL", higher: str = "MSE") -> str:
    """Which arm to use when a − b (lower is better) has the interval [lo, hi]: the measurably
    better one, or "either (MSE is simpler)" when 0 lies inside."""
    if hi < 0:
        return lower
    if lo > 0:
        return higher
    return "either (MSE is simpler)"


def closing_findings(results=None) -> dict[str, str]:
    """Every cell of the decision table, the bottom line and the open questions, checked."""
    verdict = verdict_rows(results)
    v = verdict_findings(results, verdict=verdict)
    pooled = {r["measure"]: r for r in verdict.rows if r["subset"] == "pooled"}
    nf, rmse = pooled["nf_rmse"], pooled["rmse"]
    out = {
        "c_nf_use": use_from_interval(nf["lo"], nf["hi"]),
        "c_nf_why": v["v_answer"],
        "c_rmse_use": use_from_interval(rmse["lo"], rmse["hi"]),
        "c_rmse_why": v["v_rmse"],
        "c_schedule_why": _sentence(schedules_findings(results)["sched_short"]),
        "c_wmax_why": _sentence(wmax_findings(results)["wmax_short"]),
    }
    per_subset = nf["n"] / nf["k"]
    need = int(math.ceil(per_subset * (nf["mde"] / TARGET) ** 2))
    check(need > per_subset, "a 5 % near-failure verdict needs more seeds than the verdict grid has")
    out["c_undecided_nf"] = (f"Whether AMNL changes the near-failure error by less than {nf['mde'] * 100:.1f} %: the pooled "
                             f"grid ({per_subset:.0f} seeds per subset) cannot see it; a {TARGET * 100:.0f} % verdict "
                             f"would take about {need} seeds per subset.")
    d_out = load_or_none(results)
    d = decisions_findings(results, out=d_out)
    shown = [s for s in DECISION_SUBSETS if d_out is not None and len(d_out["seeds"].get(s, [])) >= 2]
    if not shown:
        out.update(c_k10_use="not measured yet", c_k10_why=d["d_status"], c_best_k=d["d_status"],
                   c_undecided_decisions="Which loss is cheapest in maintenance: " + d["d_status"][0].lower() + d["d_status"][1:])
        decision_clause = "§14.5's maintenance-cost comparison has not run yet"
    else:
        best = {s: A.best_choice(d_out, s, k=MAIN_K) for s in shown}
        measurable = [s for s, b in best.items() if b["beats_mse"]]
        out["c_k10_use"] = "; ".join(f"{s}: {LABEL[b['arm']]}" for s, b in best.items()) + (
            "" if measurable else " (none measurably cheaper than MSE)")
        out["c_k10_why"] = d["d_cost"]
        out["c_best_k"] = d["d_best_k"]
        mdes = [r["vs_mse"]["mde"] for s in shown for r in A.cost_table(d_out, s, k=MAIN_K) if r["arm"] == "amnl"]
        out["c_undecided_decisions"] = (
            f"Cost differences smaller than about {min(mdes):.2f} to {max(mdes):.2f} per 1000 cycles (k = {MAIN_K}, AMNL "
            f"− MSE): the decisions grid cannot see them. {d['d_status']}")
        decision_clause = (f"at k = {MAIN_K} " + ("no loss makes a threshold policy measurably cheaper than MSE's"
                                                  if not measurable else
                                                  "a loss makes a threshold policy measurably cheaper than MSE's on "
                                                  + ", ".join(measurable)))
    interval = f"{_pc(nf['rel'])} % [{_pc(nf['lo'])}, {_pc(nf['hi'])}]"
    rmse_words = {"MSE": "slightly but measurably worse", "AMNL": "measurably better"}.get(
        out["c_rmse_use"], "not measurably different")
    if nf["hi"] < 0:
        lead = f"AMNL lowers the near-failure error measurably, pooled over four subsets ({interval})"
    else:
        lead = (f"No reason to switch from MSE to AMNL on this evidence: pooled over four subsets, its near-failure "
                f"error is not measurably lower ({interval})")
    out["c_bottom"] = f"{lead}, its overall RMSE is {rmse_words}, and {decision_clause}."
    check(out["c_nf_use"] != "AMNL" or nf["hi"] < 0, "AMNL is recommended for near-failure error only when it is measurably lower")
    return out
