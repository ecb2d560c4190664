"""§14.2: the ``schedules`` grid (MSE and five weight schedules at w_max = 2 on FD001 and FD002).

Besides the paired differences against the linear ramp and against MSE, it tests the source
material's statement that "linear beats exponential by 4–8 %" (``bookai_losses``), read as the
paired relative difference ``(exponential − linear) / linear`` of a test metric (positive: the
exponential is worse), with its 95 % interval: the t-interval of the per-seed differences divided by
the linear ramp's mean over the seeds. :func:`claim_verdict` turns that interval into one of four
readings; the section's prose defines them in the same words.
"""

from __future__ import annotations

import numpy as np

from ...core.constants import LATE_BY, NEAR_FAILURE, W_MAX
from ...engine.grids import (
    SECOND_SUBSET,
    SEEDS,
    get_grid,
    grid_runs,
    headline_arms,
    schedule_arms,
)
from ...engine.store import canonical_config, run_id
from ..loading import grid_records, load_summary
from . import check, fmt_range
from .headline import and_list, metric_words

#: The claimed margin of the linear ramp over the exponential, as fractions of the linear ramp's metric.
CLAIM: tuple[float, float] = (0.04, 0.08)
#: Readings of an interval of the relative difference against :data:`CLAIM` (see :func:`claim_verdict`).
CONSISTENT = "consistent with the claim"
RULED_OUT = "rules the claim out"
LARGER = "more than claimed"
UNDECIDED = "cannot tell"
#: The arms compared with the linear ramp, and every arm but MSE (compared with MSE).
OTHER_SHAPES: tuple[str, ...] = ("constant", "exponential", "sigmoid", "step")
WEIGHTED: tuple[str, ...] = ("constant", "linear", "exponential", "sigmoid", "step")
#: The metrics the prose and its tables report.
TEXT_METRICS: tuple[str, ...] = ("rmse", "nasa", "nf_rmse", "nf_rmse_all")
#: Short names of the arms, for sentences.
SHORT: dict[str, str] = {"mse": "MSE", "constant": "constant (scaled MSE)", "linear": "linear", "exponential": "exponential",
                         "sigmoid": "sigmoid", "step": "step"}
#: A reading with the claim as its subject (one-line answer, takeaway).
_CLAIM_IS = {CONSISTENT: "is consistent with the grid", RULED_OUT: "is ruled out",
             LARGER: "understates the linear ramp's lead", UNDECIDED: "can be neither confirmed nor ruled out"}
#: A reading with the grid as its subject (the verdict sentence).
_GRID_SAYS = {CONSISTENT: "the grid is consistent with the claim", RULED_OUT: "the grid rules the claim out",
              LARGER: "the grid puts the linear ramp ahead by more than the claimed 8 %",
              UNDECIDED: "the grid cannot tell"}


def claim_verdict(lo: float, hi: float, claim: tuple[float, float] = CLAIM) -> str:
    """Reading of a 95 % interval ``[lo, hi]`` of ``(exponential − linear) / linear`` (fractions;
    positive: the linear ramp is better) against the claim that the linear ramp is better by
    ``claim[0]`` to ``claim[1]``:

    * :data:`RULED_OUT` — ``hi < claim[0]``: the whole interval lies below the claim's smallest
      margin; the linear ramp is better by less than that, or not better at all;
    * :data:`LARGER` — ``lo > claim[1]``: the linear ramp is better by more than the claim's largest margin;
    * :data:`CONSISTENT` — otherwise, if ``lo > 0``: the linear ramp is measurably better and the
      interval reaches into the claimed range;
    * :data:`UNDECIDED` — otherwise (``lo ≤ 0`` and ``hi ≥ claim[0]``): the interval holds both no
      difference and the claimed margin.

    ``"undefined"`` if a bound is not finite.
    """
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "undefined"
    if lo > hi:
        raise ValueError(f"an interval needs lo <= hi, got [{lo}, {hi}]")
    if not claim[0] < claim[1]:
        raise ValueError(f"a claimed range needs low < high, got {claim}")
    if hi < claim[0]:
        return RULED_OUT
    if lo > claim[1]:
        return LARGER
    return CONSISTENT if lo > 0 else UNDECIDED


def _signed(x: float, decimals: int) -> str:
    """``+1.23`` / ``−1.23`` (a real minus sign, for prose)."""
    return f"{x:+.{decimals}f}".replace("-", "−")


def _pct(x: float) -> str:
    return f"{_signed(100 * x, 1)} %"


def _rows(comparisons, subsets, pairs, metrics) -> dict[tuple[str, str, str, str], dict]:
    """``(subset, a, b, metric) -> row`` of the comparisons the prose uses."""
    c = comparisons[comparisons.subset.isin(subsets) & comparisons.metric.isin(metrics)]
    return {(r.subset, r.a, r.b, r.metric): r._asdict() for r in c.itertuples(index=False)
            if (r.a, r.b) in set(pairs)}


def _separable(r: dict) -> bool:
    return bool(r["hi"] < 0 or r["lo"] > 0)


def _loss_scales(results=None) -> dict[tuple[str, str], dict[int, float]]:
    """Each run's mean weight over its training windows (``loss_scale``), by (subset, arm) and seed,
    from the run files."""
    out: dict[tuple[str, str], dict[int, float]] = {}
    for spec, rec in grid_records("schedules", results):
        out.setdefault((spec.config.subset, spec.arm), {})[spec.config.seed] = float(rec["loss_scale"])
    return out


def schedules_findings(results=None) -> dict[str, str]:
    """Everything §14.2 glues about the trained schedules, with the checks of its prose."""
    summary, comparisons, meta = load_summary("schedules", results)
    subsets = ("FD001", SECOND_SUBSET)
    pairs = get_grid("schedules").pairs
    vs_linear = [(a, "linear") for a in OTHER_SHAPES]
    vs_mse = [(a, "mse") for a in WEIGHTED]
    check(set(vs_linear + vs_mse) <= set(pairs), "the grid compares every schedule with linear and with MSE")
    rows = _rows(comparisons, subsets, pairs, TEXT_METRICS)
    want = [(s, a, b, m) for s in subsets for a, b in vs_linear + vs_mse for m in TEXT_METRICS]
    check(all(k in rows for k in want), f"every schedule is compared with linear and with MSE on {and_list(list(subsets))}")

    # --- the grid: its seeds, its design, the runs it shares with §14.4
    ns = {int(r["n_seeds"]) for r in rows.values()}
    arm_seeds = set(summary[summary.subset.isin(subsets)].n_seeds.astype(int))
    check(len(ns) == 1 and arm_seeds == ns, "every comparison pairs all seeds of both arms, the same seeds for every arm")
    n = ns.pop()
    check(meta["partial"] or n == len(SEEDS), f"the complete grid has {len(SEEDS)} seeds per arm")
    specs = grid_runs("schedules")
    check(meta["n_expected"] == len(specs), "the aggregate counts the grid's runs")
    shared = {"mse": "mse", "constant": "scaled_mse", "linear": "amnl"}
    sched, head = schedule_arms(), headline_arms()
    check(all(run_id(sched[a](s, k)) == run_id(head[h](s, k)) for a, h in shared.items() for s in subsets for k in SEEDS),
          "the MSE, constant and linear arms are the very runs of the headline grid's MSE, scaled MSE and AMNL")
    cfg = {a: canonical_config(sched[a]("FD001", 0)) for a in sched}
    check(cfg["constant"]["loss"] == "scaled_mse" and cfg["constant"]["w_max"] == cfg["linear"]["w_max"] == W_MAX,
          "the constant arm is scaled MSE at the linear ramp's mean weight (w_max = 2)")
    check(all(cfg[a]["loss"] == "amnl" and cfg[a]["schedule"] == a and cfg[a]["w_max"] == W_MAX
              for a in ("linear", "exponential", "sigmoid", "step")),
          "every tilted arm trains the AMNL loss at w_max = 2 with its own schedule")
    check(NEAR_FAILURE == 30.0 and LATE_BY == 10.0,
          "near-failure windows have a true RUL of at most 30 cycles; late is more than 10 cycles late")
    scales = _loss_scales(results)  # (subset, arm) -> {seed: mean weight over its training windows}
    both = {s: sorted(set(scales[(s, "constant")]) & set(scales[(s, "linear")])) for s in subsets}
    check(all(both[s] and all(np.isclose(scales[(s, "constant")][k], scales[(s, "linear")][k]) for k in both[s])
              for s in subsets),
          "the constant arm is scaled MSE at the linear ramp's mean weight, seed by seed")
    check(all(max(scales[(s, "exponential")].values()) < min(scales[(s, "linear")].values()) for s in subsets),
          "the exponential's mean weight is lower than the linear ramp's")
    if meta["partial"]:
        status = (f"These results are partial: {meta['n_runs']} of the grid's {meta['n_expected']} runs, "
                  f"{n} seeds per arm; the page is re-built when the grid is complete.")
    else:
        status = f"All {meta['n_runs']} runs of the grid are in: {n} seeds per arm, paired by seed."

    out: dict[str, str] = {"sched_n_seeds": f"{n}", "sched_status": status}
    for a in ("linear", "exponential"):
        out[f"sched_mean_weight_{a}"] = fmt_range([w for s in subsets for w in scales[(s, a)].values()], 2)

    # --- the 4–8 % claim: (exponential − linear) / linear, per subset and metric
    verdicts: dict[tuple[str, str], str] = {}
    rel: dict[tuple[str, str], tuple[float, float, float]] = {}
    for s in subsets:
        for m in TEXT_METRICS:
            r = rows[(s, "exponential", "linear", m)]
            lo, hi = r["lo"] / r["b_mean"], r["hi"] / r["b_mean"]
            check(bool(np.isclose(r["rel_diff"], r["diff"] / r["b_mean"])),
                  "the relative difference is the paired difference divided by the linear ramp's mean")
            rel[(s, m)] = (r["rel_diff"], lo, hi)
            verdicts[(s, m)] = claim_verdict(lo, hi)
            check(verdicts[(s, m)] != "undefined", f"the {m} interval of exponential − linear on {s} is finite")
            key = f"{m}_{s.lower()}"
            out[f"claim_{key}"] = f"{_pct(r['rel_diff'])} (95 % interval {_pct(lo)} to {_pct(hi)})"
            out[f"claim_verdict_{key}"] = verdicts[(s, m)]
        b = rows[(s, "exponential", "linear", "rmse")]["b_mean"]
        out[f"claim_cycles_{s.lower()}"] = f"{CLAIM[0] * b:.2f} to {CLAIM[1] * b:.2f} cycles"
        out[f"linear_rmse_{s.lower()}"] = f"{b:.2f}"

    def _claim_summary(m: str) -> str:
        v = [verdicts[(s, m)] for s in subsets]
        if len(set(v)) == 1:
            return f"{_CLAIM_IS[v[0]]} on {'either subset' if v[0] == UNDECIDED else 'both subsets'}"
        return and_list([f"{_CLAIM_IS[x]} on {s}" for s, x in zip(subsets, v)])

    out["claim_sentence"] = "; ".join(
        f"on {s} the exponential's test RMSE differs from the linear ramp's by {out[f'claim_rmse_{s.lower()}']}, "
        f"where 4–8 % would be {out[f'claim_cycles_{s.lower()}']}: {_GRID_SAYS[verdicts[(s, 'rmse')]]}"
        for s in subsets)
    out["claim_sentence"] = out["claim_sentence"][0].upper() + out["claim_sentence"][1:] + "."
    others = []
    for m in ("nasa", "nf_rmse", "nf_rmse_all"):
        vals = and_list([f"{_pct(rel[(s, m)][0])} on {s} ({verdicts[(s, m)]})" for s in subsets])
        others.append(f"{metric_words(m)} {vals}")
    out["claim_other_sentence"] = ("On the other metrics the relative difference is: " + "; ".join(others) + ".")
    out["claim_rmse_summary"] = _claim_summary("rmse")

    # --- against the linear ramp, and against MSE: which intervals exclude 0 (lower = better)
    def _tally(ref: str, arms) -> str:
        parts = []
        for a in arms:
            cells = [rows[(s, a, ref, m)] for s in subsets for m in TEXT_METRICS]
            better, worse = sum(r["hi"] < 0 for r in cells), sum(r["lo"] > 0 for r in cells)
            same = len(cells) - better - worse
            if not better and not worse:
                parts.append(f"{SHORT[a]}, no measurable difference in any")
                continue
            words = [f"{better} better"] * bool(better) + [f"{worse} worse"] * bool(worse)
            parts.append(f"{SHORT[a]}, {and_list(words)}" + (f" and {same} with no measurable difference" if same else ""))
        return "; ".join(parts)

    lin = [rows[(s, a, "linear", m)] for s in subsets for a in OTHER_SHAPES for m in TEXT_METRICS]
    k, n_sep = len(lin), sum(_separable(r) for r in lin)
    cells = f"{len(subsets) * len(TEXT_METRICS)} cells (RMSE, NASA score and both near-failure RMSEs on {and_list(list(subsets))})"
    if not n_sep:
        out["vs_linear_sentence"] = (f"No other schedule differs measurably from the linear ramp: all {k} intervals "
                                     f"against it, {len(OTHER_SHAPES)} schedules × {cells}, contain 0.")
    else:
        out["vs_linear_sentence"] = (
            f"Against the linear ramp, {n_sep} of the {k} intervals exclude 0. Per schedule, of its {cells}: "
            f"{_tally('linear', OTHER_SHAPES)}. With {k} intervals at the 95 % level, about {0.05 * k:.1f} would "
            "exclude 0 by chance alone if the schedule made no difference at all.")
    out["vs_linear_count"] = f"{n_sep} of {k}"
    out["vs_mse_sentence"] = f"Against plain MSE, in the same {cells}: {_tally('mse', WEIGHTED)}."

    # --- what the grid could have seen (MDE)
    rmse_lin = {s: [rows[(s, a, "linear", "rmse")] for a in OTHER_SHAPES] for s in subsets}
    nf_lin = {s: [rows[(s, a, "linear", "nf_rmse_all")] for a in OTHER_SHAPES] for s in subsets}
    mde_parts = [f"{fmt_range([r['mde'] for r in rmse_lin[s]], 2, 'cycles')} "
                 f"({fmt_range([100 * r['rel_mde'] for r in rmse_lin[s]], 1, '%')} of the linear ramp's RMSE) on {s}"
                 for s in subsets]
    nf_parts = [f"{fmt_range([r['mde'] for r in nf_lin[s]], 2, 'cycles')} "
                f"({fmt_range([100 * r['rel_mde'] for r in nf_lin[s]], 1, '%')}) on {s}" for s in subsets]
    exp_mde = {s: rows[(s, "exponential", "linear", "rmse")]["rel_mde"] for s in subsets}
    seen = [s for s in subsets if exp_mde[s] <= CLAIM[0]]
    missed = [s for s in subsets if exp_mde[s] > CLAIM[0]]
    four = "a 4 % RMSE gap between the exponential and the linear ramp"
    if not missed:
        gap = f"so {four} would have been detected on both subsets"
    elif not seen:
        gap = f"so even {four} could have been missed on both subsets"
    else:
        gap = f"so {four} would have been detected on {and_list(seen)} but could have been missed on {and_list(missed)}"
    rmse_sep = {s: [r for r in rmse_lin[s] if _separable(r)] for s in subsets}
    nothing = not any(rmse_sep.values())
    lead = ("None of the RMSE differences against the linear ramp is separable from 0, so what the grid tells is "
            "how large a difference it could have seen" if nothing else
            "Where an interval contains 0, a difference smaller than the detectable one may still hide in it")
    out["mde_sentence"] = (
        f"{lead}: with {n} seeds, the smallest RMSE difference from the linear ramp that a paired comparison "
        f"detects with 80 % power is {and_list(mde_parts)}, {gap}. For the near-failure RMSE over all windows it is "
        f"{and_list(nf_parts)}.")
    out["mde_rmse_pct"] = fmt_range([100 * r["rel_mde"] for s in subsets for r in rmse_lin[s]], 1, "%")

    # --- the one-line answer and the takeaway
    def _rmse_clause(s: str) -> str:
        parts = []
        for word, pick in (("higher", lambda r: r["lo"] > 0), ("lower", lambda r: r["hi"] < 0)):
            rs = [r for r in rmse_lin[s] if pick(r)]
            if rs:
                names = and_list([SHORT[r["a"]] for r in rs])
                by = fmt_range([abs(100 * r["rel_diff"]) for r in rs], 1, "%")
                parts.append(f"the {names} schedule{'s give' if len(rs) > 1 else ' gives'} a measurably {word} test "
                             f"RMSE than the linear ramp (by {by})")
        rest = [SHORT[r["a"]] for r in rmse_lin[s] if not _separable(r)]
        if rest:
            parts.append(f"the {and_list(rest)} schedule{'s' if len(rest) > 1 else ''} no measurable difference")
        return f"on {s}, " + ", ".join(parts)

    # --- is what separates more than chance? (k intervals at the 95 % level: about 0.05 k exclude 0
    # by chance alone when nothing differs; a schedule that truly differs should do so on both subsets)
    from scipy.stats import binom  # lazy: scipy is optional (the [book] extra)

    p_chance = float(binom.sf(n_sep - 1, k, 0.05)) if n_sep else 1.0

    def _direction(r) -> int:
        return 1 if r["lo"] > 0 else -1 if r["hi"] < 0 else 0

    both = [(a, m) for a in OTHER_SHAPES for m in TEXT_METRICS
            if len({_direction(rows[(s, a, "linear", m)]) for s in subsets}) == 1
            and _direction(rows[(subsets[0], a, "linear", m)]) != 0]
    if n_sep and p_chance > 0.05 and not both:
        out["sched_chance"] = (
            f" Of all {k} intervals against the linear ramp, {n_sep} exclude 0, about as many as chance alone gives "
            f"({0.05 * k:.1f}), and no schedule differs from it in the same direction on both subsets in any "
            "metric: no evidence that the shape of the decay matters.")
    else:
        out["sched_chance"] = ""
    if nothing:
        rmse_clause = (f"no schedule's test RMSE differs measurably from the linear ramp's on either subset (with 80 % "
                       f"power the grid detects differences of {out['mde_rmse_pct']} of it)")
    else:
        rmse_clause = "; ".join(_rmse_clause(s) for s in subsets)
    where = f"on {and_list(list(subsets))} with {n} seeds per arm"
    nf_verdicts = {verdicts[(s, m)] for s in subsets for m in ("nf_rmse", "nf_rmse_all")}
    nf_part = ("; near failure the intervals are too wide to test it" if nf_verdicts == {UNDECIDED} else
               f"; near failure (all windows) it {_claim_summary('nf_rmse_all')}")
    claim = (f" In test RMSE, the source material's claim that linear beats exponential by 4–8 % "
             f"{out['claim_rmse_summary']}{nf_part}.")
    if nothing:
        out["sched_short"] = "no schedule's test RMSE differs measurably from the linear ramp's"
    elif out["sched_chance"]:
        out["sched_short"] = (f"no schedule differs from it beyond chance ({n_sep} of {k} intervals exclude 0; chance "
                              f"alone gives {0.05 * k:.1f})")
    else:
        out["sched_short"] = (f"{n_sep} of the {k} intervals against it exclude 0, more than chance alone gives "
                              f"({0.05 * k:.1f})")
    if not nothing and out["sched_chance"]:
        # chance explains what separates: say that first, and leave the per-schedule detail to the page
        out["sched_answer"] = (f"No evidence that the shape of the decay matters ({where}): {n_sep} of the {k} "
                               f"intervals against the linear ramp exclude 0, about as many as chance alone gives "
                               f"({0.05 * k:.1f}), and none in the same direction on both subsets.{claim}")
    else:
        out["sched_answer"] = f"Trained {where}: {rmse_clause}.{out['sched_chance']}{claim}"
    out["sched_takeaway"] = (
        f"Trained {where}: {rmse_clause}; {out['vs_linear_count']} paired differences against the linear ramp "
        f"(four schedules; RMSE, NASA score and near-failure RMSE) exclude 0, where chance alone gives about "
        f"{0.05 * k:.1f}. The claim that linear beats "
        f"exponential by 4–8 % {out['claim_rmse_summary']}.")
    return out
