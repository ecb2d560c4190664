"""§14.3: the ``wmax`` grid (AMNL, linear schedule, at w_max = 1 … 12, and scaled-MSE controls at
w_max = 2, 5, 12, on FD001 and FD002), its verdict on the claimed ceiling and its recommendation.

The rules are plain functions of the aggregated tables, so that ``tests/test_findings_wmax.py`` can
run every branch on hand-made tables:

* :func:`stability_flags` — per subset × w_max × stability measure, is AMNL measurably *less*
  stable than MSE? Roughness of the validation curve and the share of clipped steps: the paired
  per-seed interval of ``AMNL − MSE`` lies above 0. Spread of the selected pass: the F-interval of
  the ratio of the two standard deviations lies above 1. Diverged runs: more than MSE's.
* :func:`onsets` — a measure counts as destabilised *from* a w_max on when it is flagged there and at
  every larger w_max of the grid, at least :data:`PERSIST` values in a row (one interval in forty
  lies on one side by chance, so a lone flag is not a trend); a diverged run counts at once.
* :func:`ceiling_verdict` — the source material's claim (training destabilises past
  w_max ≈ :data:`CLAIMED`) against the earliest onset.
* :func:`recommend` — the largest w_max whose near-failure RMSE (all windows) is below MSE's, the
  interval excluding 0, on every subset, with no measurable rise of the overall RMSE and no onset at
  or below it; failing that, the largest w_max up to which nothing is measurably worse than MSE.
* :func:`tilt_and_scale` — AMNL against scaled MSE at the same mean weight (tilt), and scaled MSE
  against MSE (scale alone).

:func:`wmax_findings` reads the grid, applies them and returns the strings the notebook glues.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ...analysis.verdict import SMALL
from ...core.constants import W_MAX
from ...core.stats import paired_difference
from ...engine import store as R
from ...engine.aggregate import val_roughness
from ...engine.grids import BASE, SECOND_SUBSET, W_MAX_CONTROLS, W_MAX_VALUES, grid_runs
from ..loading import grid_records, load_summary
from ..tables import run_measure_comparisons
from . import check, fmt_range, signed

#: The ceiling the source material names: "past w_max ≈ 3 the effective step explodes".
CLAIMED: float = 3.0
#: A flagged measure must stay flagged for this many consecutive w_max values (up to the largest).
PERSIST: int = 2
#: The near-failure metric of the recommendation (every test window with true RUL ≤ 30; engines as groups).
NF: str = "nf_rmse_all"
#: The measures of :func:`worst_bound`, in words.
BOUND_WORDS: dict[str, str] = {NF: "near-failure RMSE over all windows", "rmse": "overall RMSE"}
#: The stability measures, in the order the book names them.
STABILITY: dict[str, str] = {
    "roughness": "validation-curve roughness",
    "clipped_fraction": "share of clipped steps",
    "best_epoch_spread": "spread of the selected pass",
    "diverged": "diverged runs",
}
#: Measures whose flag counts at once (an event, not an interval).
IMMEDIATE: tuple[str, ...] = ("diverged",)
MSE_ARM = "amnl_w1"


def grid_values() -> tuple[tuple[float, ...], tuple[float, ...], tuple[str, ...]]:
    """The grid's AMNL w_max values above 1, its two subsets and its scaled-MSE control values (read
    from :mod:`amnl_utils.engine` when needed: importing it loads torch)."""
    return tuple(w for w in W_MAX_VALUES if w != 1.0), ("FD001", SECOND_SUBSET), tuple(W_MAX_CONTROLS)


def _defaults(ws=None, subsets=None, controls=None):
    g_ws, g_sub, g_ctrl = grid_values()
    return (tuple(ws) if ws is not None else g_ws, tuple(subsets) if subsets is not None else g_sub,
            tuple(controls) if controls is not None else g_ctrl)


def amnl(w: float) -> str:
    return f"amnl_w{w:g}"


def scaled(w: float) -> str:
    return f"scaled_w{w:g}"


def wlist(values: Sequence[float], none: str = "no w_max") -> str:
    """``"3, 5 and 12"`` (plain text; ``none`` if empty)."""
    v = [f"{w:g}" for w in sorted(values)]
    if not v:
        return none
    return v[0] if len(v) == 1 else ", ".join(v[:-1]) + " and " + v[-1]


def _row(comparisons: Any, subset: str, a: str, b: str, metric: str) -> dict | None:
    if comparisons is None or len(comparisons) == 0:
        return None
    c = comparisons[(comparisons.subset == subset) & (comparisons.a == a) & (comparisons.b == b)
                    & (comparisons.metric == metric)]
    return None if c.empty else c.iloc[0].to_dict()


def _cell(summary: Any, subset: str, arm: str, metric: str) -> dict | None:
    s = summary[(summary.subset == subset) & (summary.arm == arm) & (summary.metric == metric)]
    return None if s.empty else s.iloc[0].to_dict()


# --------------------------------------------------------------------------- rules


def spread_ratio(sd_a: float, n_a: int, sd_b: float, n_b: int, level: float = 0.95) -> tuple[float, float, float]:
    """Ratio ``sd_a / sd_b`` of two standard deviations over seeds and its F-interval
    (``(ratio, lo, hi)``; the two arms' seeds treated as independent samples). NaN where a standard
    deviation is 0 or missing, or a sample has fewer than 2 seeds."""
    from scipy import stats  # lazy: scipy is optional (the [book] extra)

    if not (n_a >= 2 and n_b >= 2 and np.isfinite(sd_a) and np.isfinite(sd_b) and sd_a > 0 and sd_b > 0):
        return float("nan"), float("nan"), float("nan")
    f = (sd_a / sd_b) ** 2
    q_hi = stats.f.ppf(0.5 + level / 2, n_a - 1, n_b - 1)
    q_lo = stats.f.ppf(0.5 - level / 2, n_a - 1, n_b - 1)
    return float(np.sqrt(f)), float(np.sqrt(f / q_hi)), float(np.sqrt(f / q_lo))


def stability_flags(summary: Any, comparisons: Any, run_comparisons: Any,
                    subsets: Sequence[str] | None = None, ws: Sequence[float] | None = None) -> Any:
    """One row per subset × w_max × stability measure: ``value`` (paired difference, sd ratio or
    count), its interval ``lo``/``hi`` (NaN for counts) and ``flagged`` (AMNL measurably less stable
    than MSE, see the module docstring). Cells without data are left out."""
    import pandas as pd  # lazy: pandas is optional (the [book] extra)

    ws, subsets, _ = _defaults(ws, subsets)
    rows = []
    for s in subsets:
        mse_be, mse_dv = _cell(summary, s, MSE_ARM, "best_epoch"), _cell(summary, s, MSE_ARM, "diverged")
        for w in ws:
            for measure, table in (("roughness", comparisons), ("clipped_fraction", run_comparisons)):
                r = _row(table, s, amnl(w), MSE_ARM, measure)
                if r is not None:
                    rows.append({"subset": s, "w_max": w, "measure": measure, "value": r["diff"], "lo": r["lo"],
                                 "hi": r["hi"], "flagged": bool(r["lo"] > 0)})
            be = _cell(summary, s, amnl(w), "best_epoch")
            if be is not None and mse_be is not None:
                ratio, lo, hi = spread_ratio(be["sd"], int(be["n_seeds"]), mse_be["sd"], int(mse_be["n_seeds"]))
                rows.append({"subset": s, "w_max": w, "measure": "best_epoch_spread", "value": ratio, "lo": lo,
                             "hi": hi, "flagged": bool(np.isfinite(lo) and lo > 1)})
            dv = _cell(summary, s, amnl(w), "diverged")
            if dv is not None and mse_dv is not None:
                k = int(round(dv["mean"] * dv["n_seeds"]))
                k0 = int(round(mse_dv["mean"] * mse_dv["n_seeds"]))
                rows.append({"subset": s, "w_max": w, "measure": "diverged", "value": float(k), "lo": np.nan,
                             "hi": np.nan, "flagged": k > k0})
    return pd.DataFrame(rows, columns=["subset", "w_max", "measure", "value", "lo", "hi", "flagged"])


def onsets(flags: Any, persist: int = PERSIST) -> dict[tuple[str, str], float | None]:
    """Per (subset, measure): the w_max from which the measure is flagged at every larger w_max of
    the grid, at least ``persist`` values in a row (``IMMEDIATE`` measures: the smallest flagged
    w_max); ``None`` if there is no such w_max."""
    out: dict[tuple[str, str], float | None] = {}
    for (s, m), g in flags.groupby(["subset", "measure"], sort=False):
        g = g.sort_values("w_max")
        ws, fl = list(g.w_max), list(g.flagged)
        if m in IMMEDIATE:
            hit = [w for w, f in zip(ws, fl) if f]
            out[(s, m)] = float(min(hit)) if hit else None
            continue
        k = len(fl)
        while k > 0 and fl[k - 1]:
            k -= 1
        out[(s, m)] = float(ws[k]) if len(fl) - k >= persist else None
    return out


def every_pass_roughness_onsets(records: Sequence[tuple[Any, dict]], subsets: Sequence[str],
                                ws: Sequence[float]) -> dict[str, tuple[float | None, list[float]]]:
    """Per subset, ``(onset, flagged w_max values)`` of the roughness flag (:func:`onsets`) when the
    roughness counts every pass, the warm-up pass included (``val_roughness(curves, from_pass=1)``):
    the same paired t-interval of AMNL − MSE per w_max, from the grid's run files ``records``
    ((spec, record) pairs)."""
    import pandas as pd  # lazy: pandas is optional (the [book] extra)

    by: dict[tuple[str, str], dict[int, float]] = {}
    for spec, rec in records:
        by.setdefault((spec.config.subset, spec.arm), {})[spec.config.seed] = val_roughness(rec["curves"], from_pass=1)
    rows = []
    for s in subsets:
        for w in ws:
            a, b = by.get((s, amnl(w)), {}), by.get((s, MSE_ARM), {})
            seeds = sorted(set(a) & set(b))
            if len(seeds) < 2:
                continue
            d = paired_difference(np.array([a[k] for k in seeds]), np.array([b[k] for k in seeds]))
            rows.append({"subset": s, "w_max": w, "measure": "roughness", "value": d["diff"], "lo": d["lo"],
                         "hi": d["hi"], "flagged": bool(d["lo"] > 0)})
    flags = pd.DataFrame(rows, columns=["subset", "w_max", "measure", "value", "lo", "hi", "flagged"])
    on = onsets(flags)
    return {s: (on.get((s, "roughness")), [float(w) for w in flags[(flags.subset == s) & flags.flagged].w_max])
            for s in subsets}


def ceiling_verdict(onset_map: dict[tuple[str, str], float | None], ws: Sequence[float] | None = None,
                    claimed: float = CLAIMED) -> dict[str, Any]:
    """The claim "training destabilises past w_max ≈ ``claimed``" against the earliest onset.

    ``kind``: ``"none"`` (no onset anywhere), ``"as claimed"`` (the earliest onset is ``claimed`` or the
    next w_max of the grid above it), ``"earlier"`` (below ``claimed``) or ``"later"`` (past the next
    value). Also ``onset`` (the earliest, or None) and ``where`` (the (subset, measure) pairs with it)."""
    ws, _, _ = _defaults(ws)
    found = {k: v for k, v in onset_map.items() if v is not None}
    if not found:
        return {"kind": "none", "onset": None, "where": []}
    first = min(found.values())
    above = [w for w in ws if w > claimed]
    nxt = min(above) if above else claimed
    kind = "earlier" if first < claimed else ("as claimed" if first <= nxt else "later")
    return {"kind": kind, "onset": first, "where": sorted(k for k, v in found.items() if v == first)}


def recommend(comparisons: Any, onset_map: dict[tuple[str, str], float | None],
              subsets: Sequence[str] | None = None, ws: Sequence[float] | None = None, nf: str = NF) -> dict[str, Any]:
    """The recommendation rule (module docstring), on the paired comparisons against MSE.

    Per subset and w_max: ``gain`` (the ``nf`` difference's interval lies below 0), ``cost`` (the
    overall RMSE difference's interval lies above 0), ``unstable`` (an onset at or below it). Returns
    ``rule``: ``"separable"`` (``value`` = the largest w_max with a gain on every subset, no cost, not
    unstable), ``"trade-off"`` (gains on every subset exist, each with a cost somewhere; ``value`` =
    the harmless bound, or 1), ``"harmless"`` (no gain on every subset; ``value`` = the largest w_max
    up to which no w_max has a cost or is unstable on any subset) or ``"mse"`` (already the smallest
    w_max costs: ``value`` 1). Also the per-subset ``gains``/``costs`` lists, ``harmless`` (None if
    none), ``qualified``, ``gain_all``, ``better_than_2`` ((subset, w_max) up to the harmless bound
    measurably better than w_max = 2 in ``nf`` or overall RMSE) and ``ws`` (the w_max values with
    data on every subset)."""
    ws, subsets, _ = _defaults(ws, subsets)
    first_onset = {s: min([v for (ss, _), v in onset_map.items() if ss == s and v is not None], default=np.inf)
                   for s in subsets}
    have = [w for w in ws if all(_row(comparisons, s, amnl(w), MSE_ARM, m) is not None
                                 for s in subsets for m in (nf, "rmse"))]
    gains = {s: [w for w in have if _row(comparisons, s, amnl(w), MSE_ARM, nf)["hi"] < 0] for s in subsets}
    costs = {s: [w for w in have if _row(comparisons, s, amnl(w), MSE_ARM, "rmse")["lo"] > 0] for s in subsets}
    unstable = {s: [w for w in have if w >= first_onset[s]] for s in subsets}
    ok = [w for w in have if not any(w in costs[s] or w in unstable[s] for s in subsets)]
    qualified = [w for w in ok if all(w in gains[s] for s in subsets)]
    gain_all = [w for w in have if all(w in gains[s] and w not in unstable[s] for s in subsets)]
    harmless = None
    for w in have:
        if w not in ok:
            break
        harmless = w
    better_than_2 = []
    if harmless is not None:
        for s in subsets:
            for w in have:
                if w <= harmless and w != W_MAX:
                    rows = [_row(comparisons, s, amnl(w), amnl(W_MAX), m) for m in (nf, "rmse")]
                    if any(r is not None and r["hi"] < 0 for r in rows):
                        better_than_2.append((s, w))
    if qualified:
        rule, value = "separable", max(qualified)
    elif gain_all:
        rule, value = "trade-off", harmless if harmless is not None else 1.0
    elif harmless is not None:
        rule, value = "harmless", harmless
    else:
        rule, value = "mse", 1.0
    return {"rule": rule, "value": value, "harmless": harmless, "qualified": qualified, "gain_all": gain_all,
            "gains": gains, "costs": costs, "unstable": unstable, "better_than_2": better_than_2, "ws": have}


def tilt_and_scale(comparisons: Any, subsets: Sequence[str] | None = None, controls: Sequence[float] | None = None,
                   metrics: Sequence[str] = (NF, "rmse")) -> dict[str, dict[str, dict[str, int]]]:
    """Counts of the readings ("lower", "higher", "no measurable difference") over subset × control
    w_max: ``tilt`` (AMNL − scaled MSE at the same mean weight) and ``scale`` (scaled MSE − MSE), per
    metric; ``n`` is the number of cells with data."""
    _, subsets, controls = _defaults(None, subsets, controls)
    out: dict[str, dict[str, dict[str, int]]] = {"tilt": {}, "scale": {}}
    for kind, pair in (("tilt", lambda w: (amnl(w), scaled(w))), ("scale", lambda w: (scaled(w), MSE_ARM))):
        for m in metrics:
            counts = {"lower": 0, "higher": 0, "no measurable difference": 0, "n": 0}
            for s in subsets:
                for w in controls:
                    r = _row(comparisons, s, *pair(w), m)
                    if r is None:
                        continue
                    counts["n"] += 1
                    counts["lower" if r["hi"] < 0 else "higher" if r["lo"] > 0 else "no measurable difference"] += 1
            out[kind][m] = counts
    return out


# --------------------------------------------------------------------------- sentences


def _where(by_subset: dict[str, list[float]], subsets: Sequence[str]) -> str:
    """``"at 3, 5 and 8 on FD001 and at no w_max on FD002"`` (plain text)."""
    parts = [f"at {wlist(by_subset.get(s, []))} on {s}" for s in subsets]
    if all(not by_subset.get(s) for s in subsets):
        return "at no w_max on " + " or ".join(subsets)
    return " and ".join(parts)


def verdict_sentence(verdict: dict[str, Any], n_diverged: int, n_runs: int, top: float = 12.0) -> str:
    """The verdict on the claimed ceiling, as one plain-text sentence (``top``: the largest w_max)."""
    where = "; ".join(f"{STABILITY[m]} on {s}" for s, m in verdict["where"])
    div = "no run diverged" if n_diverged == 0 else f"{n_diverged} of {n_runs} AMNL runs diverged"
    if verdict["kind"] == "none":
        return (f"Not supported: on neither subset does any stability measure worsen persistently as w_max grows "
                f"to {top:g}, and {div}.")
    w = f"{verdict['onset']:g}"
    if verdict["kind"] == "as claimed":
        return f"Supported: training destabilises from w_max = {w} on ({where}), and at no smaller w_max."
    if verdict["kind"] == "earlier":
        return (f"Not supported as stated: training destabilises already from w_max = {w} on ({where}), "
                f"below the claimed ceiling of about {CLAIMED:g}.")
    return (f"Only partly supported: training does destabilise, but from w_max = {w} on ({where}), "
            f"well past the claimed {CLAIMED:g}.")


def verdict_short(verdict: dict[str, Any], n_diverged: int, top: float = 12.0) -> str:
    """A clause for the one-line answer."""
    if verdict["kind"] == "none":
        extra = "no run diverged" if n_diverged == 0 else f"{n_diverged} runs diverged, as many as with MSE"
        return (f"training does not destabilise anywhere up to w_max = {top:g} (no persistent rise in "
                f"roughness, clipping or the spread of the selected pass; {extra})")
    w = f"{verdict['onset']:g}"
    return {"as claimed": f"training destabilises from w_max = {w} on, as the source material says",
            "earlier": f"training destabilises already from w_max = {w} on",
            "later": f"training destabilises only from w_max = {w} on"}[verdict["kind"]]


def recommendation_sentence(rec: dict[str, Any], diffs: dict[tuple[str, float, str], dict],
                            subsets: Sequence[str]) -> str:
    """The recommendation as plain text, stating which branch of the rule applied."""
    def at(w: float, metric: str) -> str:
        return " and ".join(f"{signed(diffs[(s, w, metric)]['diff'])} cycles on {s}" for s in subsets)

    h = rec["harmless"]
    upto = (f"up to w_max = {h:g} no value is measurably worse than MSE on either subset" if h is not None
            else f"already w_max = {min(rec['ws']):g} is measurably worse than MSE on "
                 + " and ".join(s for s in subsets if min(rec["ws"]) in rec["costs"][s] + rec["unstable"][s]))
    b2 = rec["better_than_2"]
    if rec["rule"] == "separable":
        w = rec["value"]
        return (f"w_max = {w:g}: the largest value whose near-failure RMSE (all windows) is below MSE's on "
                f"{' and '.join(subsets)} with the interval excluding 0 ({at(w, NF)}), at no measurable cost in "
                f"overall RMSE ({at(w, 'rmse')}) or stability.")
    if rec["rule"] == "trade-off":
        w = min(rec["gain_all"])
        return (f"No free w_max: from w_max = {w:g} on the near-failure RMSE is measurably below MSE's on both "
                f"subsets ({at(w, NF)} at {w:g}), but every such value also raises the overall RMSE measurably on "
                f"at least one ({at(w, 'rmse')}); {upto}. Choose by which error matters more.")
    if rec["rule"] == "harmless":
        two = ""
        if h > W_MAX:
            two = (f"; no value up to {h:g} is measurably better than 2" if not b2 else
                   "; " + ", ".join(f"w_max = {w:g} on {s}" for s, w in b2) + " is measurably better than 2")
        return (f"No w_max is separable from MSE near failure on both subsets, and {upto}: "
                f"{small_effect_clause(diffs, subsets, h)}{two}.")
    both = [w for w in rec["ws"] if all(w in rec["gains"][s] for s in subsets)]
    if both:
        return (f"Stay with MSE: {upto}; the values that lower the near-failure RMSE on both subsets "
                f"({wlist(both)}) all raise the overall RMSE measurably or destabilise training.")
    return f"Stay with MSE: {upto}, and no w_max lowers the near-failure RMSE on both subsets."


def worst_bound(diffs: dict[tuple[str, float, str], dict], subsets: Sequence[str], upto: float,
                metrics: Sequence[str] = (NF, "rmse"), side: str = "hi") -> tuple[float, str, float, str]:
    """The interval bound farthest from 0 on one side, relative to MSE's mean, over the AMNL − MSE
    comparisons at 1 < w_max ≤ ``upto``: ``(fraction, subset, w_max, metric)``. ``side="hi"``: the
    largest upper bound (+0.19 reads "up to 19 % worse cannot be ruled out"); ``"lo"``: the smallest
    lower bound (−0.32: "up to 32 % better")."""
    if side not in ("lo", "hi"):
        raise ValueError(f"side must be 'lo' or 'hi', got {side!r}")
    bounds = [(r[side] / r["b_mean"], s, w, m) for (s, w, m), r in diffs.items()
              if s in subsets and 1.0 < w <= upto and m in metrics]
    if not bounds:
        raise ValueError(f"no AMNL − MSE comparison at 1 < w_max <= {upto:g}")
    # the first of equal bounds (subset, then w_max order) names the place
    return max(bounds, key=lambda b: b[0]) if side == "hi" else min(bounds, key=lambda b: b[0])


def small_effect_clause(diffs: dict[tuple[str, float, str], dict], subsets: Sequence[str], upto: float) -> str:
    """"any value up to X is harmless" only when every interval bound of AMNL − MSE (near failure,
    all windows, and overall RMSE) at w_max ≤ X lies within ±5 % of MSE's mean
    (:data:`amnl_utils.analysis.verdict.SMALL`); else how much worse and better the bounds allow."""
    hi, s_hi, w_hi, m_hi = worst_bound(diffs, subsets, upto, side="hi")
    lo, s_lo, w_lo, m_lo = worst_bound(diffs, subsets, upto, side="lo")
    if max(hi, -lo) <= SMALL:
        return f"any value up to {upto:g} is harmless (every interval within ±{100 * SMALL:g} % of MSE)"
    return (f"that does not make them harmless, since the intervals still allow up to {100 * max(hi, 0):.0f} % "
            f"worse ({BOUND_WORDS[m_hi]} at w_max = {w_hi:g} on {s_hi}) and up to {100 * max(-lo, 0):.0f} % better "
            f"({BOUND_WORDS[m_lo]} at w_max = {w_lo:g} on {s_lo})")


def recommendation_short(rec: dict[str, Any]) -> str:
    """A clause for the one-line answer."""
    h = rec["harmless"]
    if rec["rule"] == "separable":
        return f"the intervals recommend w_max = {rec['value']:g}"
    if rec["rule"] == "trade-off":
        safe = (f"up to w_max = {h:g} nothing is measurably worse than MSE" if h is not None
                else f"from w_max = {min(rec['ws']):g} on")
        return (f"every w_max that lowers the near-failure error on both subsets also raises the overall RMSE "
                f"measurably ({safe})")
    if rec["rule"] == "harmless":
        return (f"no w_max lowers the near-failure error measurably on both subsets, and none up to {h:g} is "
                f"measurably worse than MSE")
    return "no w_max beats MSE"


def tilt_sentences(ts: dict[str, dict[str, dict[str, int]]]) -> dict[str, str]:
    """The tilt-versus-scale sentences (plain text) and a computed reading of them."""
    t_nf, t_all, s_nf, s_all = ts["tilt"][NF], ts["tilt"]["rmse"], ts["scale"][NF], ts["scale"]["rmse"]
    tilt = (f"Against scaled MSE at the same mean weight, AMNL's near-failure RMSE (all windows) is lower in "
            f"{t_nf['lower']} of {t_nf['n']} subset × w_max cells and higher in {t_nf['higher']}; its overall RMSE is "
            f"higher in {t_all['higher']} and lower in {t_all['lower']}.")
    scale = (f"Scaled MSE itself differs measurably from MSE in {s_nf['n'] - s_nf['no measurable difference']} of "
             f"{s_nf['n']} cells near failure and {s_all['n'] - s_all['no measurable difference']} of {s_all['n']} "
             f"overall.")
    def measurable(c: dict[str, int]) -> int:
        return c["n"] - c["no measurable difference"]

    tilt_any, scale_any = measurable(t_nf) + measurable(t_all), measurable(s_nf) + measurable(s_all)
    mixed = any(c["lower"] and c["higher"] for c in (t_nf, t_all))
    n_tests = t_nf["n"] + t_all["n"]
    tally = f"({tilt_any} of {n_tests} tilt tests measurable, chance alone about {0.05 * n_tests:.1f})"
    scale_text = ("the larger mean weight alone changes nothing measurable." if not scale_any else
                  "the larger mean weight alone (through the RUL:health balance) moves some errors too.")
    if tilt_any and mixed:
        reading = f"The tilt tests point both ways {tally}, so the tilt has no consistent effect here; {scale_text}"
    elif tilt_any and not scale_any:
        reading = f"What AMNL changes comes from the tilt {tally}; {scale_text}"
    elif tilt_any:
        worse = t_nf["higher"] + t_all["higher"]
        moves = ("raises the errors wherever its effect is measurable" if worse == tilt_any else
                 "lowers the errors wherever its effect is measurable" if worse == 0 else "moves the errors")
        reading = f"Both act: the tilt {moves} {tally}, and {scale_text}"
    elif scale_any:
        reading = "The tilt adds nothing measurable to what the larger mean weight alone does."
    else:
        reading = "Neither the tilt nor the scale moves the errors measurably."
    return {"wmax_tilt": tilt, "wmax_scale": scale, "wmax_tilt_reading": reading}


# --------------------------------------------------------------------------- the findings


def _flagged_at(flags: Any, measure: str, subsets: Sequence[str]) -> dict[str, list[float]]:
    f = flags[(flags.measure == measure) & flags.flagged]
    return {s: sorted(f[f.subset == s].w_max) for s in subsets}


def wmax_findings(results=None) -> dict[str, str]:
    """Everything §14.3's trained part glues, with its claims checked (see the module docstring)."""
    ws, grid_subsets, controls = grid_values()
    top = max(ws)
    summary, comparisons, meta = load_summary("wmax", results)
    subsets = [s for s in grid_subsets if s in set(summary.subset)]
    records = grid_records("wmax", results)  # the run files, read once
    run_comps = run_measure_comparisons("wmax", [(amnl(w), MSE_ARM) for w in ws], ("clipped_fraction",),
                                        records=records)

    # -- what the prose says about the grid's design
    check(ws == (1.5, 2.0, 3.0, 5.0, 8.0, 12.0) and controls == (2.0, 5.0, 12.0) and tuple(grid_subsets) == (
        "FD001", "FD002"), "the grid is AMNL at w_max 1, 1.5, 2, 3, 5, 8, 12 and scaled MSE at 2, 5, 12, on FD001 "
                           "and FD002")
    configs = meta["configs"]
    for s in subsets:
        check(configs.get(f"{s}/{MSE_ARM}", {}).get("loss") == "mse", "w_max = 1 is plain MSE (the same runs)")
        for w in ws:
            c = configs.get(f"{s}/{amnl(w)}")
            check(c is None or (c["loss"] == "amnl" and c["schedule"] == "linear" and c["w_max"] == w),
                  "every AMNL arm uses the linear schedule at its w_max")
        for w in controls:
            c = configs.get(f"{s}/{scaled(w)}")
            check(c is None or (c["loss"] == "scaled_mse" and c["w_max"] == w),
                  "the scaled-MSE control at a w_max has the mean weight of AMNL at that w_max")
    check(BASE["clip_norm"] == 10.0, "the recipe clips the gradient norm at 10")
    ids = {g: {R.run_id(spec.config) for spec in grid_runs(g)} for g in ("wmax", "headline", "schedules")}
    check(bool(ids["wmax"] & ids["headline"]) and bool(ids["wmax"] & ids["schedules"]),
          "the grid shares its runs with the headline and schedules grids")

    # -- accuracy against MSE (paired per seed)
    diffs: dict[tuple[str, float, str], dict] = {}
    for s in subsets:
        for w in ws:
            for m in ("rmse", "nasa", "nf_rmse", NF):
                r = _row(comparisons, s, amnl(w), MSE_ARM, m)
                if r is not None:
                    diffs[(s, w, m)] = r
    check(bool(diffs), "the grid has paired comparisons against MSE")

    def d_at(w: float, m: str) -> str:
        return ", ".join("n/a on " + s if (s, w, m) not in diffs else
                         "{} [{}, {}] on {}".format(*(signed(diffs[(s, w, m)][k]) for k in ("diff", "lo", "hi")), s)
                         for s in subsets)

    def side(m: str, lower: bool) -> dict[str, list[float]]:
        return {s: [w for w in ws if (s, w, m) in diffs and (diffs[(s, w, m)]["hi"] < 0 if lower
                                                             else diffs[(s, w, m)]["lo"] > 0)] for s in subsets}

    def of(m: str, key: str) -> list[float]:
        return [r[key] if key != "rel_mde" else r["mde"] / r["b_mean"] for (_, _, mm), r in diffs.items() if mm == m]

    # pairing by seed: the paired interval of A − MSE against the interval the same difference would
    # have between independent runs (the two arms' t-intervals combined: sqrt(width_A² + width_MSE²))
    arm_rmse = summary[(summary.metric == "rmse") & summary.arm.str.startswith("amnl_w")]
    width = {(r.subset, r.arm): r.t_hi - r.t_lo for r in arm_rmse.itertuples()}
    rmse_pairs = [(s, w, r) for (s, w, m), r in diffs.items() if m == "rmse"]
    paired_width = float(np.median([r["hi"] - r["lo"] for _, _, r in rmse_pairs]))
    arm_width = float(np.median(arm_rmse.t_hi - arm_rmse.t_lo))
    unpaired_width = float(np.median([np.hypot(width[(s, amnl(w))], width[(s, MSE_ARM)]) for s, w, _ in rmse_pairs]))
    check(paired_width < unpaired_width, "the paired intervals against MSE are narrower than those of independent runs")
    gain = 1 - paired_width / unpaired_width
    if paired_width < arm_width:
        pairing = (f"The paired differences remove what the two runs of one seed share: their median interval spans "
                   f"{paired_width:.2f} cycles, narrower than one arm's own, where two independent runs would give "
                   f"{unpaired_width:.2f}.")
    else:
        pairing = (f"Pairing by seed helps less than one might hope: the paired differences' median interval spans "
                   f"{paired_width:.2f} cycles, against {unpaired_width:.2f} for two independent runs "
                   f"({100 * gain:.0f} % narrower), wider than one arm's own. Two runs of one seed share their "
                   f"initial weights, validation engines and batch order, yet their errors move together only "
                   f"weakly, so the intervals rest on the number of seeds more than on the pairing.")

    # -- stability (the clipped-step pairs come from the run files, which may run ahead of a partial aggregate)
    if not meta["partial"]:
        for r in run_comps.itertuples():
            agg = _row(comparisons, r.subset, r.a, r.b, "roughness")
            check(agg is not None and int(agg["n_seeds"]) == int(r.n_seeds),
                  "the clipped-step comparisons pair the same seeds as the aggregated grid")
    flags = stability_flags(summary, comparisons, run_comps, subsets, ws)
    onset_map = onsets(flags)
    verdict = ceiling_verdict(onset_map, ws)
    every = every_pass_roughness_onsets(records, subsets, ws)
    out_every = "; ".join(
        f"on {s} it is flagged {'at ' + wlist(fl) if fl else 'at no w_max'}, "
        + (f"an onset from w_max = {v:g}" if v is not None else "no persistent onset") for s, (v, fl) in every.items())
    div = summary[(summary.metric == "diverged") & summary.arm.isin([amnl(w) for w in ws])]
    n_div = int(round(float((div["mean"] * div["n_seeds"]).sum())))
    n_runs = int(div["n_seeds"].sum())
    tested = flags[~flags.measure.isin(IMMEDIATE) & flags.lo.notna()]
    clip = summary[summary.metric == "clipped_fraction"]
    best = summary[(summary.metric == "best_epoch") & summary.arm.str.startswith("amnl_w")]
    onset_text = "; ".join(f"{STABILITY[m]} on {s} from w_max = {v:g}" for (s, m), v in sorted(onset_map.items())
                           if v is not None) or "none"

    # -- recommendation, tilt and scale
    rec = recommend(comparisons, onset_map, subsets, ws)
    n_seeds = summary.groupby(["subset", "arm"])["n_seeds"].max()
    n_expected = len(grid_runs("wmax"))
    out = {
        "wmax_seeds": fmt_range(n_seeds, 0),
        "wmax_grid_note": (f"All {n_expected} runs of the grid are in." if not meta["partial"] else
                           f"Partial grid: {meta['n_runs']} of its {n_expected} runs so far; every number here "
                           "will change when the rest land."),
        "wmax_nf_gain_where": _where(side(NF, True), subsets),
        "wmax_nf_last_gain_where": _where(side("nf_rmse", True), subsets),
        "wmax_nf_cost_where": _where(side(NF, False), subsets),
        "wmax_rmse_cost_where": _where(side("rmse", False), subsets),
        "wmax_rmse_gain_where": _where(side("rmse", True), subsets),
        "wmax_nasa_cost_where": _where(side("nasa", False), subsets),
        "wmax_nf_w2": d_at(2.0, NF),
        "wmax_nf_wtop": d_at(top, NF),
        "wmax_rmse_w2": d_at(2.0, "rmse"),
        "wmax_rmse_wtop": d_at(top, "rmse"),
        "wmax_top": f"{top:g}",
        "wmax_mde_rmse": fmt_range(of("rmse", "mde"), 2, "cycles"),
        "wmax_mde_rmse_rel": fmt_range([100 * x for x in of("rmse", "rel_mde")], 1, "%"),
        "wmax_mde_nf": fmt_range(of(NF, "mde"), 2, "cycles"),
        "wmax_mde_nf_rel": fmt_range([100 * x for x in of(NF, "rel_mde")], 1, "%"),
        "wmax_mde_nf_last": fmt_range(of("nf_rmse", "mde"), 2, "cycles"),
        "wmax_paired_width": f"{paired_width:.2f}",
        "wmax_arm_width": f"{arm_width:.2f}",
        "wmax_pairing_sentence": pairing,
        "wmax_diverged": f"{n_div} of {n_runs}",
        "wmax_clip_max": f"{100 * clip['mean'].max():.2f} %",
        "wmax_clip_norm": f"{BASE['clip_norm']:g}",
        "wmax_rough_where": _where(_flagged_at(flags, "roughness", subsets), subsets),
        "wmax_clip_where": _where(_flagged_at(flags, "clipped_fraction", subsets), subsets),
        "wmax_spread_where": _where(_flagged_at(flags, "best_epoch_spread", subsets), subsets),
        "wmax_spread_sd": fmt_range(best["sd"], 1, "passes"),
        "wmax_flagged": f"{int(tested.flagged.sum())} of {len(tested)}",
        "wmax_flag_chance": f"{0.025 * len(tested):.1f}",
        "wmax_persist": f"{PERSIST}",
        "wmax_onsets": onset_text,
        "wmax_rough_every": (f"The onset depends on how the roughness is measured: it leaves out the first pass, "
                             f"whose descent out of the warm-up is learning, not instability. Counted over every "
                             f"pass: {out_every}."),
        "wmax_verdict": verdict_sentence(verdict, n_div, n_runs, top),
        "wmax_recommendation": recommendation_sentence(rec, diffs, subsets),
        "wmax_rec_value": f"{rec['value']:g}",
        **tilt_sentences(tilt_and_scale(comparisons, subsets, controls)),
    }
    cost = side("rmse", lower=False)
    cost_clause = ("" if not any(cost.values()) else
                   f"; larger values raise the overall test RMSE measurably ({out['wmax_rmse_cost_where']})")
    first_cost = min((w for ws_ in cost.values() for w in ws_), default=None)
    out["wmax_short"] = ("no w_max lowers the near-failure error measurably on both subsets"
                         + ("" if first_cost is None else
                            f", and the overall RMSE rises measurably from w_max = {first_cost:g} on "
                            + " and ".join(s for s in subsets if first_cost in cost[s])))
    out["wmax_answer"] = (f"Trained on {' and '.join(subsets)} ({out['wmax_seeds']} seeds per arm), "
                          f"{verdict_short(verdict, n_div, top)}; {recommendation_short(rec)}{cost_clause}.")
    return out
