"""The numbers and sentences of §14.5 (maintenance decisions), from the ``decisions`` grid's analysis
file (:mod:`amnl_utils.analysis.decisions`). Keys ``d_*``.

A partial grid is allowed: every sentence then says how many seeds it rests on, and a grid with no
finished seed gives sentences that say so instead of numbers. Each comparison's words come from its
interval (:func:`amnl_utils.core.stats.verdict`).
"""

from __future__ import annotations

from typing import Any

from ...analysis import decisions as A
from ...core.stats import verdict
from ...engine.grids import DECISION_SUBSETS, SEEDS
from . import check

#: The failure cost and the matched wasted life the page's main sentences use.
MAIN_K: int = 10
MATCHED_MISSED: float = 10.0
LABEL: dict[str, str] = {"mse": "MSE", "mse_offset": "MSE + offset", "amnl": "AMNL", "lds": "LDS", "bmc": "BMC",
                         "pinball": "pinball", "oracle": "oracle", "age": "age-based", "pinball_t0.3": "pinball τ 0.3",
                         "pinball_t0.4": "pinball τ 0.4"}


def load_or_none(results=None) -> dict[str, Any] | None:
    """The analysis file, or ``None`` when the grid has no analysed seed yet."""
    try:
        out = A.load(results)
    except FileNotFoundError:
        return None
    return out if out["rows"] else None


def _num(x: float, d: int = 1) -> str:
    return f"{x:.{d}f}".replace("-", "\u2212")


def _signed(x: float, d: int = 1) -> str:
    return f"{x:+.{d}f}".replace("-", "\u2212")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def compare_words(d: dict[str, float], a: str, b: str, what: str, unit: str, d_places: int = 2) -> str:
    """One sentence for a paired difference ``a − b`` of a measure where lower is better."""
    word = verdict(d["lo"], d["hi"])
    interval = f"{_signed(d['diff'], d_places)} [{_signed(d['lo'], d_places)}, {_signed(d['hi'], d_places)}] {unit}"
    if word == "no measurable difference":
        return (f"{LABEL[a]} and {LABEL[b]} do not differ measurably in {what} ({interval}; the grid would detect "
                f"about {_num(d['mde'], d_places)})")
    return f"{LABEL[a]}'s {what} is measurably {word} than {LABEL[b]}'s ({interval})"


def decisions_findings(results=None, out: dict[str, Any] | None = None) -> dict[str, str]:
    """Every number and sentence §14.5 quotes (keys ``d_*``), checked."""
    out = out if out is not None else load_or_none(results)
    target = len(SEEDS)
    seeds = {s: len(v) for s, v in (out or {}).get("seeds", {}).items()}
    shown = [s for s in DECISION_SUBSETS if seeds.get(s, 0) >= 2]
    if out is None or not shown:
        none = ("The decisions grid has not run yet" if not seeds else
                "The decisions grid has fewer than 2 finished seeds per subset so far") + (
                ", so this page has no measured numbers for it yet.")
        return {key: none for key in ("d_status", "d_answer", "d_tradeoff", "d_cost", "d_offset", "d_evidence",
                                      "d_rule", "d_context", "d_phm", "d_best_k", "d_offset_same", "d_answer_detail",
                                      "d_mse_val", "d_boot_same")}
    n_min = min(seeds.get(s, 0) for s in DECISION_SUBSETS)
    check(all(out["seeds"][s] == sorted({r["seed"] for r in out["rows"] if r["subset"] == s}) for s in shown),
          "the seeds the page names are the seeds its rows hold")
    status = (f"All {target} seeds per subset have run." if n_min >= target else
              "The decisions grid is not finished: " + ", ".join(f"{s} has {seeds.get(s, 0)} of {target} seeds"
                                                                 for s in DECISION_SUBSETS)
              + ". Every number on this page is from those seeds; the intervals will narrow as the rest are committed.")
    f = {"d_status": status}
    answer, cost, evidence, tradeoff, rule_words, context, phm_words = [], [], [], [], [], [], []
    for s in shown:
        table = {r["arm"]: r for r in A.cost_table(out, s, k=MAIN_K)}
        amnl, mse = table["amnl"], table["mse"]
        answer.append(f"on {s}, " + compare_words(amnl["vs_mse"], "amnl", "mse", f"cost rate at k = {MAIN_K}",
                                                     "per 1000 cycles"))
        best = A.best_choice(out, s, k=MAIN_K)
        cost.append(f"{s}: the lowest mean cost rate is {LABEL[best['arm']]}'s ({_num(best['cost_rate'], 2)} per 1000 "
                    f"cycles, mean θ {_num(best['theta'], 0)} cycles)"
                    + ("" if best["arm"] == "mse" else
                       (", measurably below MSE's" if best["beats_mse"] else ", not measurably below MSE's")))
        evidence.append(f"{s}: {amnl['engine_runs']} decision-engine runs per arm, in which MSE missed "
                        f"{_count(mse['failures'], 'failure')} and AMNL {amnl['failures']}")
        waste = A.matched_waste(out, s, MATCHED_MISSED)
        trade = {r["arm"]: r for r in A.tradeoff_table(out, s, waste)}
        if "vs_mse" in trade.get("amnl", {}):
            tradeoff.append(f"on {s}, at {waste:.0f} cycles, " + compare_words(
                trade["amnl"]["vs_mse"], "amnl", "mse", "missed failures", "per 100 engines", 1))
        plain = {r["arm"]: r for r in A.cost_table(out, s, rule="plain", k=MAIN_K)}
        rule_words.append(f"on {s}, " + compare_words(plain["amnl"]["vs_mse"], "amnl", "mse",
                                                        f"cost rate at k = {MAIN_K}", "per 1000 cycles"))
        context.append(f"{s}: oracle {_num(table['oracle']['cost_rate'], 2)}, best model "
                       f"{_num(best['cost_rate'], 2)}, age-based {_num(table['age']['cost_rate'], 2)} per 1000 cycles")
        check(table["oracle"]["cost_rate"] <= min(r["cost_rate"] for r in table.values()) + 1e-9,
              "the oracle has the lowest cost rate")
        ph = {r["arm"]: [] for r in out["phm"]}
        for r in out["phm"]:
            if r["subset"] == s:
                ph[r["arm"]].append(r["alpha_lambda_0.5"])
        phm_words.append(f"{s}: " + ", ".join(f"{LABEL[a]} {_num(sum(v) / len(v), 0)} %" for a, v in ph.items() if v))
    offsets = [o["offset"] for o in out["offsets"]]
    gaps = []
    for s in shown:
        by = A.select(out, s, k=MAIN_K)
        gaps += [abs(by["mse_offset"][k]["cost_rate"] / by["mse"][k]["cost_rate"] - 1) for k in by["mse"]]
    n_diff = sum(g > 1e-9 for g in gaps)
    f["d_offset_same"] = (f"the two tuned policies cost exactly the same in all {len(gaps)} runs at k = {MAIN_K}" if not n_diff else
                          f"in {n_diff} of {len(gaps)} runs the two tuned policies differ at k = {MAIN_K}, by up to "
                          f"{100 * max(gaps):.0f} % in cost rate: a half-cycle offset moves θ off the 1-cycle grid, and "
                          "where the tuning sits on the edge of a missed failure that decides it")
    amnl_vs_mse = {s: next(r for r in A.cost_table(out, s, k=MAIN_K) if r["arm"] == "amnl")["vs_mse"] for s in shown}
    words = {s: verdict(d["lo"], d["hi"]) for s, d in amnl_vs_mse.items()}
    same = [s for s, w in words.items() if w == "no measurable difference"]
    differ = [f"{'lower' if w == 'lower' else 'higher'} on {s}" for s, w in words.items() if w != "no measurable difference"]
    cheapest = ", ".join(f"{LABEL[A.best_choice(out, s, k=MAIN_K)['arm']]} on {s}" for s in shown)
    short = (f"At a failure cost of {MAIN_K} planned replacements, AMNL's threshold policy costs "
             + (("no measurably different amount from MSE's on " + " and ".join(same)) if same else "")
             + ("; " if same and differ else "") + ("measurably " + " and ".join(differ) + " than MSE's" if differ else "")
             + f". The cheapest arm is {cheapest}.")
    boot, plain = ([(r["subset"], r["seed"], r["arm"], r["policy"], r["k"], r["theta"]) for r in out["rows"] if r["rule"] == rule]
                   for rule in ("bootstrap", "plain"))
    n_same = len(set(boot) & set(plain))
    f["d_boot_same"] = (f"(Minimising the mean cost over 200 bootstrap resamples instead picks the plain minimum's θ in "
                        f"{n_same} of {len(boot)} run-arm-policy-cost cases here: it does not move θ off the edge.)")
    val = [r["val_rmse"] for r in out["test"] if r["arm"] == "mse" and r["subset"] in shown]
    f["d_mse_val"] = f"{min(val):.0f}–{max(val):.0f} cycles"
    f.update({
        "d_answer": short,
        "d_answer_detail": "O" + "; ".join(answer)[1:] + ".",  # "on FD001, …" opens the sentence
        "d_cost": "; ".join(cost) + ".",
        "d_evidence": "; ".join(evidence) + ".",
        "d_tradeoff": (f"Read at the wasted life where MSE misses {MATCHED_MISSED:.0f} failures per 100 engines, "
                       + "; ".join(tradeoff) + "."
                       if tradeoff else "The trade-off needs at least two seeds."),
        "d_rule": "With θ at the plain validation minimum instead: " + "; ".join(rule_words) + ".",
        "d_context": "; ".join(context) + ".",
        "d_offset": (f"The chosen offsets lie between {_num(min(offsets))} and {_num(max(offsets))} cycles."
                     if offsets else ""),
        "d_phm": "; ".join(phm_words) + ".",
        "d_best_k": "; ".join(
            f"k = {k}: " + ", ".join(f"{s} {LABEL[A.best_choice(out, s, k=k)['arm']]}" for s in shown)
            for k in A.KS) + ".",
    })
    return f
