"""§14.3's trained findings (amnl_utils.book.findings.wmax): on the committed grid, and every branch of the
verdict and recommendation rules on hand-made tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from amnl_utils import engine as E
from amnl_utils.book import findings as F
from amnl_utils.book.findings import wmax as W
from amnl_utils.core import stats as S
from amnl_utils.engine.store import resolve_root

WS = (1.5, 2.0, 3.0, 5.0, 8.0, 12.0)
SUBS = ("FD001", "FD002")
COLS = ["subset", "a", "b", "metric", "n_seeds", "diff", "sd", "lo", "hi", "mde", "b_mean", "verdict"]


# --------------------------------------------------------------------------- hand-made tables


def crow(subset, a, b, metric, diff, half=0.1, b_mean=10.0):
    """One paired comparison: ``diff`` ± ``half``."""
    lo, hi = diff - half, diff + half
    return {"subset": subset, "a": a, "b": b, "metric": metric, "n_seeds": 10, "diff": diff, "sd": half,
            "lo": lo, "hi": hi, "mde": 1.4 * half, "b_mean": b_mean, "verdict": S.verdict(lo, hi)}


def side(x):
    """-1: interval below 0, 0: contains 0, +1: above 0."""
    return {-1: -0.5, 0: 0.0, 1: 0.5}[x]


def comparisons(nf=None, rmse=None, rough=None, vs2=None, tilt=None, scale=None, subsets=SUBS):
    """Comparisons against MSE (and against w_max = 2, and the controls); each argument maps
    (subset, w_max) -> -1 / 0 / +1 (missing: 0)."""
    rows = []
    for s in subsets:
        for w in WS:
            for metric, spec in (("nf_rmse_all", nf), ("rmse", rmse), ("roughness", rough), ("nasa", None),
                                 ("nf_rmse", None)):
                rows.append(crow(s, W.amnl(w), "amnl_w1", metric, side((spec or {}).get((s, w), 0))))
            for metric in ("nf_rmse_all", "rmse"):
                rows.append(crow(s, W.amnl(w), "amnl_w2", metric, side((vs2 or {}).get((s, w, metric), 0))))
        for w in (2.0, 5.0, 12.0):
            for metric in ("nf_rmse_all", "rmse"):
                rows.append(crow(s, W.amnl(w), W.scaled(w), metric, side((tilt or {}).get((s, w, metric), 0))))
                rows.append(crow(s, W.scaled(w), "amnl_w1", metric, side((scale or {}).get((s, w, metric), 0))))
    return pd.DataFrame(rows, columns=COLS)


def summary(best_sd=None, diverged=None, subsets=SUBS, n=10):
    """Per-arm rows: best_epoch (sd per (subset, w), default 3), diverged (count per (subset, w)),
    rmse (wide per-arm intervals) and clipped_fraction."""
    rows = []
    for s in subsets:
        for w in (1.0, *WS):
            arm = W.amnl(w)
            sd = (best_sd or {}).get((s, w), 3.0)
            k = (diverged or {}).get((s, w), 0)
            rows += [
                {"subset": s, "arm": arm, "metric": "best_epoch", "n_seeds": n, "mean": 12.0, "sd": sd,
                 "t_lo": 10.0, "t_hi": 14.0},
                {"subset": s, "arm": arm, "metric": "diverged", "n_seeds": n, "mean": k / n, "sd": 0.0,
                 "t_lo": 0.0, "t_hi": 0.0},
                {"subset": s, "arm": arm, "metric": "rmse", "n_seeds": n, "mean": 13.0, "sd": 1.0,
                 "t_lo": 12.0, "t_hi": 14.0},
                {"subset": s, "arm": arm, "metric": "clipped_fraction", "n_seeds": n, "mean": 0.0, "sd": 0.0,
                 "t_lo": 0.0, "t_hi": 0.0},
            ]
        for w in (2.0, 5.0, 12.0):
            rows.append({"subset": s, "arm": W.scaled(w), "metric": "rmse", "n_seeds": n, "mean": 13.0, "sd": 1.0,
                         "t_lo": 12.0, "t_hi": 14.0})
    return pd.DataFrame(rows)


def run_comparisons(clip=None, subsets=SUBS):
    return pd.DataFrame([crow(s, W.amnl(w), "amnl_w1", "clipped_fraction", side((clip or {}).get((s, w), 0)))
                         for s in subsets for w in WS], columns=COLS)


def flags_from(**kw):
    return W.stability_flags(summary(kw.get("best_sd"), kw.get("diverged")), comparisons(rough=kw.get("rough")),
                             run_comparisons(kw.get("clip")), SUBS, WS)


def everywhere(value, subsets=SUBS, ws=WS):
    return {(s, w): value for s in subsets for w in ws}


# --------------------------------------------------------------------------- the committed grid


def _committed():
    path = resolve_root() / "wmax" / "summary.json"
    if not path.is_file():
        pytest.skip(f"{path} does not exist yet: the wmax grid has not been aggregated "
                    "(`python -m amnl_utils.engine run --grid wmax --aggregate`)")
    return path


def test_wmax_findings_hold_on_the_committed_results():
    _committed()
    out = F.wmax_findings()
    for key in ("wmax_verdict", "wmax_recommendation", "wmax_answer", "wmax_tilt", "wmax_mde_rmse", "wmax_nf_w2"):
        assert out[key], key
    assert out["wmax_verdict"].split(":")[0] in ("Not supported", "Supported", "Not supported as stated",
                                                 "Only partly supported")
    assert all(isinstance(v, str) for v in out.values())


def test_a_broken_claim_on_the_committed_results_names_its_sentence(monkeypatch):
    _committed()
    monkeypatch.setattr(W, "BASE", {**E.BASE, "clip_norm": 1.0})  # the findings' view of the recipe only
    with pytest.raises(F.FindingError, match="the recipe clips the gradient norm at 10"):
        F.wmax_findings()


# --------------------------------------------------------------------------- end to end on a hand-made grid


def write_grid(root, comps, summ, configs=None, partial=False):
    out = root / "wmax"
    out.mkdir(parents=True)
    summ.assign(partial=partial).to_csv(out / "summary.csv", index=False)
    comps.assign(partial=partial).to_csv(out / "comparisons.csv", index=False)
    if configs is None:
        configs = {}
        for s in SUBS:
            configs[f"{s}/amnl_w1"] = {"loss": "mse", "schedule": "linear", "w_max": 1.0}
            configs |= {f"{s}/{W.amnl(w)}": {"loss": "amnl", "schedule": "linear", "w_max": w} for w in WS}
            configs |= {f"{s}/{W.scaled(w)}": {"loss": "scaled_mse", "schedule": "linear", "w_max": w}
                        for w in (2.0, 5.0, 12.0)}
    (out / "summary.json").write_text(json.dumps({"grid": "wmax", "partial": partial, "n_runs": 40 if partial else 200,
                                                  "configs": configs, "run_files": {}}))  # no run files behind it
    return root


def test_wmax_findings_end_to_end_on_a_hand_made_grid(tmp_path):
    comps = comparisons(nf=everywhere(-1), rmse={(s, w): 1 for s in SUBS for w in (8.0, 12.0)})
    root = write_grid(tmp_path, comps, summary(), partial=True)
    out = F.wmax_findings(root)
    assert out["wmax_verdict"].startswith("Not supported: on neither subset")
    assert out["wmax_recommendation"].startswith("w_max = 5: the largest value")
    assert out["wmax_rec_value"] == "5"
    assert out["wmax_grid_note"].startswith("Partial grid: 40 of its 200 runs")
    assert out["wmax_nf_w2"] == "−0.50 [−0.60, −0.40] on FD001, −0.50 [−0.60, −0.40] on FD002"
    assert out["wmax_rmse_cost_where"] == "at 8 and 12 on FD001 and at 8 and 12 on FD002"
    assert out["wmax_flagged"] == "0 of 24" and out["wmax_flag_chance"] == "0.6"  # no run files: no clip test
    assert out["wmax_answer"].startswith("Trained on FD001 and FD002 (10 seeds per arm), training does not destabilise")
    assert out["wmax_answer"].endswith("larger values raise the overall test RMSE measurably "
                                       "(at 8 and 12 on FD001 and at 8 and 12 on FD002).")
    # paired intervals 0.20 wide, the arms' 2.00: pairing removes most of the seed noise
    assert out["wmax_pairing_sentence"].startswith("The paired differences remove what the two runs of one seed share: "
                                                   "their median interval spans 0.20 cycles, narrower than one arm's "
                                                   "own, where two independent runs would give 2.83.")


def _with_arm_width(summ, width):
    rmse = summ.metric == "rmse"
    return summ.assign(t_lo=summ.t_lo.where(~rmse, 13.0 - width / 2), t_hi=summ.t_hi.where(~rmse, 13.0 + width / 2))


def test_pairing_that_helps_little_is_said_and_pairing_that_hurts_is_refused(tmp_path):
    # arms 0.18 wide: independent runs would give 0.25, the paired 0.20 are wider than one arm
    out = F.wmax_findings(write_grid(tmp_path / "a", comparisons(), _with_arm_width(summary(), 0.18)))
    assert out["wmax_pairing_sentence"].startswith("Pairing by seed helps less than one might hope: the paired "
                                                   "differences' median interval spans 0.20 cycles, against 0.25 for "
                                                   "two independent runs (21 % narrower), wider than one arm's own.")
    # arms 0.10 wide: independent runs would give 0.14, narrower than the paired 0.20
    with pytest.raises(F.FindingError, match="narrower than those of independent runs"):
        F.wmax_findings(write_grid(tmp_path / "b", comparisons(), _with_arm_width(summary(), 0.10)))


def test_broken_claims_on_a_hand_made_grid_name_their_sentences(tmp_path):
    comps, summ = comparisons(), summary()
    configs = {f"{s}/amnl_w1": {"loss": "mse", "schedule": "linear", "w_max": 1.0} for s in SUBS}
    configs["FD001/scaled_w5"] = {"loss": "scaled_mse", "schedule": "linear", "w_max": 4.0}
    with pytest.raises(F.FindingError, match="the scaled-MSE control at a w_max has the mean weight"):
        F.wmax_findings(write_grid(tmp_path / "a", comps, summ, configs))
    configs = {"FD001/amnl_w1": {"loss": "amnl", "schedule": "linear", "w_max": 2.0}}
    with pytest.raises(F.FindingError, match="w_max = 1 is plain MSE"):
        F.wmax_findings(write_grid(tmp_path / "b", comps, summ, configs))
    configs = {f"{s}/amnl_w1": {"loss": "mse", "schedule": "linear", "w_max": 1.0} for s in SUBS}
    configs["FD002/amnl_w3"] = {"loss": "amnl", "schedule": "step", "w_max": 3.0}
    with pytest.raises(F.FindingError, match="every AMNL arm uses the linear schedule"):
        F.wmax_findings(write_grid(tmp_path / "c", comps, summ, configs))
    wide = comps.assign(lo=comps["diff"] - 5, hi=comps["diff"] + 5)
    with pytest.raises(F.FindingError, match="the paired intervals against MSE are narrower"):
        F.wmax_findings(write_grid(tmp_path / "d", wide, summ))


# --------------------------------------------------------------------------- the rules


def test_spread_ratio():
    r, lo, hi = W.spread_ratio(3.0, 10, 3.0, 10)
    assert r == 1.0 and lo < 1 < hi
    r, lo, hi = W.spread_ratio(10.0, 10, 2.0, 10)
    assert r == 5.0 and lo > 1
    assert all(np.isnan(W.spread_ratio(1.0, 10, 0.0, 10)))
    assert all(np.isnan(W.spread_ratio(1.0, 1, 1.0, 10)))


def test_stability_flags_per_measure():
    f = flags_from(rough={("FD001", 5.0): 1}, clip={("FD002", 2.0): 1}, best_sd={("FD001", 8.0): 30.0},
                   diverged={("FD002", 12.0): 1})
    got = {(r.subset, r.w_max, r.measure) for r in f.itertuples() if r.flagged}
    assert got == {("FD001", 5.0, "roughness"), ("FD002", 2.0, "clipped_fraction"),
                   ("FD001", 8.0, "best_epoch_spread"), ("FD002", 12.0, "diverged")}
    assert len(f) == 2 * 6 * 4
    # lower roughness is not instability; diverged runs count only beyond MSE's
    f = flags_from(rough=everywhere(-1), diverged={(s, w): 1 for s in SUBS for w in (1.0, *WS)})
    assert not f.flagged.any()
    # a cell without data is left out
    f = W.stability_flags(summary(), comparisons(rough={}), run_comparisons().iloc[:0], SUBS, WS)
    assert set(f.measure) == {"roughness", "best_epoch_spread", "diverged"}


def test_onsets():
    high = {("FD001", w): 1 for w in (5.0, 8.0, 12.0)}
    o = W.onsets(flags_from(rough=high))
    assert o[("FD001", "roughness")] == 5.0 and o[("FD002", "roughness")] is None
    # a lone flag at the top, or flags that do not reach the top, are no onset
    assert W.onsets(flags_from(rough={("FD001", 12.0): 1}))[("FD001", "roughness")] is None
    assert W.onsets(flags_from(rough={("FD001", 3.0): 1, ("FD001", 5.0): 1}))[("FD001", "roughness")] is None
    assert W.onsets(flags_from(rough={("FD001", 8.0): 1, ("FD001", 12.0): 1}), persist=3)[("FD001", "roughness")] is None
    # a diverged run counts at once
    assert W.onsets(flags_from(diverged={("FD002", 8.0): 1}))[("FD002", "diverged")] == 8.0


@pytest.mark.parametrize("onset,kind", [(None, "none"), (1.5, "earlier"), (2.0, "earlier"), (3.0, "as claimed"),
                                        (5.0, "as claimed"), (8.0, "later"), (12.0, "later")])
def test_ceiling_verdict(onset, kind):
    om = {("FD001", "roughness"): onset, ("FD002", "roughness"): None, ("FD002", "diverged"): 12.0 if onset else None}
    v = W.ceiling_verdict(om, WS)
    assert v["kind"] == kind and v["onset"] == onset
    if onset is not None:
        assert v["where"] == [("FD001", "roughness")] if onset < 12 else v["where"] == [("FD001", "roughness"),
                                                                                        ("FD002", "diverged")]
    text = W.verdict_sentence(v, 0, 140)
    assert text.startswith({"none": "Not supported: on neither", "earlier": "Not supported as stated",
                            "as claimed": "Supported", "later": "Only partly supported"}[kind])
    assert W.verdict_short(v, 0).startswith("training")
    if kind == "none":
        assert "no run diverged" in text and "3 of 140 AMNL runs diverged" in W.verdict_sentence(v, 3, 140)
        assert "as many as with MSE" in W.verdict_short(v, 3)


def _diffs(comps):
    """The AMNL − MSE rows keyed as wmax_findings keys them: (subset, w_max, metric)."""
    c = comps[comps.a.str.startswith("amnl_w") & (comps.b == "amnl_w1")]
    return {(r["subset"], float(r["a"][len("amnl_w"):]), r["metric"]): r for r in c.to_dict("records")}


def test_recommend_separable():
    comps = comparisons(nf=everywhere(-1), rmse={(s, w): 1 for s in SUBS for w in (8.0, 12.0)})
    rec = W.recommend(comps, {}, SUBS, WS)
    assert rec["rule"] == "separable" and rec["value"] == 5.0 and rec["harmless"] == 5.0
    assert rec["qualified"] == [1.5, 2.0, 3.0, 5.0]
    text = W.recommendation_sentence(rec, _diffs(comps), SUBS)
    assert text.startswith("w_max = 5: the largest value") and "−0.50 cycles on FD001" in text
    assert W.recommendation_short(rec) == "the intervals recommend w_max = 5"
    # an onset on one subset caps it
    rec = W.recommend(comps, {("FD002", "roughness"): 3.0}, SUBS, WS)
    assert rec["value"] == 2.0 and rec["unstable"]["FD002"] == [3.0, 5.0, 8.0, 12.0]


def test_recommend_trade_off():
    comps = comparisons(nf=everywhere(-1), rmse={(s, w): 1 for s in SUBS for w in WS if w >= 3})
    rec = W.recommend(comps, {}, SUBS, WS)
    assert rec["rule"] == "separable" and rec["value"] == 2.0
    comps = comparisons(nf={(s, w): -1 for s in SUBS for w in WS if w >= 3},
                        rmse={(s, w): 1 for s in SUBS for w in WS if w >= 3})
    rec = W.recommend(comps, {}, SUBS, WS)
    assert rec["rule"] == "trade-off" and rec["value"] == 2.0 and rec["gain_all"] == [3.0, 5.0, 8.0, 12.0]
    text = W.recommendation_sentence(rec, _diffs(comps), SUBS)
    assert text.startswith("No free w_max: from w_max = 3 on") and "up to w_max = 2 no value" in text
    assert "(up to w_max = 2 nothing is measurably worse than MSE)" in W.recommendation_short(rec)
    comps = comparisons(nf=everywhere(-1), rmse={("FD002", w): 1 for w in WS})
    rec = W.recommend(comps, {}, SUBS, WS)
    assert rec["rule"] == "trade-off" and rec["harmless"] is None and rec["value"] == 1.0
    text = W.recommendation_sentence(rec, _diffs(comps), SUBS)
    assert "already w_max = 1.5 is measurably worse than MSE on FD002" in text
    assert W.recommendation_short(rec).endswith("(from w_max = 1.5 on)")


def test_recommend_harmless():
    comps = comparisons(nf={("FD001", w): -1 for w in WS})  # a gain on one subset only
    rec = W.recommend(comps, {}, SUBS, WS)
    assert rec["rule"] == "harmless" and rec["value"] == 12.0 and not rec["better_than_2"]
    text = W.recommendation_sentence(rec, _diffs(comps), SUBS)
    # the gain's interval reaches 6 % below MSE: "not measurably worse" is not called harmless
    assert text == ("No w_max is separable from MSE near failure on both subsets, and up to w_max = 12 no value is "
                    "measurably worse than MSE on either subset: that does not make them harmless, since the "
                    "intervals still allow up to 1 % worse (overall RMSE at w_max = 1.5 on FD001) and up to 6 % better "
                    "(near-failure RMSE over all windows at w_max = 1.5 on FD001); no value up to 12 is measurably "
                    "better than 2.")
    assert W.recommendation_short(rec).endswith("and none up to 12 is measurably worse than MSE")
    assert "harmless" not in W.recommendation_short(rec)
    rec = W.recommend(comparisons(vs2={("FD001", 5.0, "rmse"): -1}), {}, SUBS, WS)
    assert rec["better_than_2"] == [("FD001", 5.0)]
    text = W.recommendation_sentence(rec, _diffs(comps), SUBS)
    assert text.endswith("; w_max = 5 on FD001 is measurably better than 2.")
    comps = comparisons(rmse={("FD001", 2.0): 1})
    rec = W.recommend(comps, {}, SUBS, WS)
    assert rec["rule"] == "harmless" and rec["value"] == 1.5
    # every interval up to 1.5 within ±1 % of MSE: now the word is allowed
    assert W.recommendation_sentence(rec, _diffs(comps), SUBS).endswith(
        "any value up to 1.5 is harmless (every interval within ±5 % of MSE).")


def test_worst_bound_reads_each_side():
    diffs = _diffs(comparisons(nf={("FD001", 3.0): -1}, rmse={("FD002", 5.0): 1}))
    assert W.worst_bound(diffs, SUBS, 12.0, side="hi")[1:] == ("FD002", 5.0, "rmse")
    assert W.worst_bound(diffs, SUBS, 12.0, side="lo")[1:] == ("FD001", 3.0, "nf_rmse_all")
    assert W.worst_bound(diffs, SUBS, 12.0, side="hi")[0] == pytest.approx(0.06)
    with pytest.raises(ValueError, match="no AMNL − MSE comparison"):
        W.worst_bound(diffs, SUBS, 1.0)


def test_recommend_mse():
    rec = W.recommend(comparisons(rmse={("FD001", 1.5): 1}), {}, SUBS, WS)
    assert rec["rule"] == "mse" and rec["value"] == 1.0 and rec["harmless"] is None
    text = W.recommendation_sentence(rec, {}, SUBS)
    assert text == ("Stay with MSE: already w_max = 1.5 is measurably worse than MSE on FD001, and no w_max lowers "
                    "the near-failure RMSE on both subsets.")
    assert W.recommendation_short(rec) == "no w_max beats MSE"
    # gains that come with instability everywhere are no recommendation either
    comps = comparisons(nf=everywhere(-1))
    rec = W.recommend(comps, {("FD001", "clipped_fraction"): 1.5}, SUBS, WS)
    assert rec["rule"] == "mse"
    assert "the values that lower the near-failure RMSE on both subsets (1.5, 2, 3, 5, 8 and 12) all raise" in \
        W.recommendation_sentence(rec, {}, SUBS)


def test_recommend_uses_only_w_max_values_with_data():
    comps = comparisons(nf=everywhere(-1))
    comps = comps[~((comps.a == "amnl_w12") & (comps.subset == "FD002"))]
    rec = W.recommend(comps, {}, SUBS, WS)
    assert rec["ws"] == [1.5, 2.0, 3.0, 5.0, 8.0] and rec["value"] == 8.0


@pytest.mark.parametrize("tilt,scale,reading", [
    ({("FD001", 2.0, "nf_rmse_all"): -1}, {}, "What AMNL changes comes from the tilt (1 of 12 tilt tests measurable, "
                                               "chance alone about 0.6); the larger mean weight alone changes nothing"),
    ({("FD001", 2.0, "nf_rmse_all"): -1, ("FD002", 2.0, "nf_rmse_all"): 1}, {},
     "The tilt tests point both ways (2 of 12 tilt tests measurable, chance alone about 0.6), so the tilt has no "
     "consistent effect here; the larger mean weight alone changes nothing"),
    ({("FD001", 2.0, "nf_rmse_all"): -1, ("FD002", 2.0, "nf_rmse_all"): 1}, {("FD002", 5.0, "rmse"): 1},
     "The tilt tests point both ways"),
    ({("FD001", 2.0, "nf_rmse_all"): -1}, {("FD002", 5.0, "rmse"): 1},
     "Both act: the tilt lowers the errors wherever its effect is measurable (1 of 12"),
    ({("FD001", 2.0, "rmse"): 1}, {("FD002", 5.0, "rmse"): 1},
     "Both act: the tilt raises the errors wherever its effect is measurable (1 of 12"),
    ({("FD001", 2.0, "nf_rmse_all"): -1, ("FD002", 5.0, "rmse"): 1}, {("FD002", 5.0, "rmse"): 1},
     "Both act: the tilt moves the errors (2 of 12"),
    ({}, {("FD002", 5.0, "rmse"): 1}, "The tilt adds nothing measurable"),
    ({}, {}, "Neither the tilt nor the scale"),
])
def test_tilt_and_scale(tilt, scale, reading):
    ts = W.tilt_and_scale(comparisons(tilt=tilt, scale=scale), SUBS, (2.0, 5.0, 12.0))
    assert ts["tilt"]["nf_rmse_all"]["n"] == 6
    assert ts["tilt"]["nf_rmse_all"]["lower"] == sum(v < 0 for v in tilt.values())
    out = W.tilt_sentences(ts)
    assert out["wmax_tilt_reading"].startswith(reading)
    assert f"lower in {sum(v < 0 for v in tilt.values())} of 6" in out["wmax_tilt"]
    assert f"from MSE in 0 of 6 cells near failure and {len(scale)} of 6 overall" in out["wmax_scale"]


def test_text_helpers():
    assert W.wlist([]) == "no w_max" and W.wlist([2.0]) == "2" and W.wlist([12.0, 1.5, 3.0]) == "1.5, 3 and 12"
    assert W.signed(-0.5) == "−0.50" and W.signed(0.25, 1) == "+0.2"
    assert W._where({"FD001": [2.0]}, SUBS) == "at 2 on FD001 and at no w_max on FD002"
    assert W._where({}, SUBS) == "at no w_max on FD001 or FD002"


# --------------------------------------------------------------------------- the reporting helpers of §14.3


def test_run_measure_comparisons_pairs_run_files_by_seed(tmp_path):
    from amnl_utils.book import report as reporting
    from amnl_utils.engine import store as R

    committed = R.REPO_DIR / "results" / "runs" / "FD001"
    fresh = E.equivalent_hashes(R.code_hash(), R.default_root())
    template = R.load_record(next(p for p in sorted(committed.glob("*.json")) if R.run_state(p, equivalent=fresh) == "fresh"))
    clipped = {("amnl_w1", 0): 0.0, ("amnl_w1", 1): 0.1, ("amnl_w2", 0): 0.2, ("amnl_w2", 1): 0.4, ("amnl_w3", 0): 0.5}
    for spec in E.grid_runs("wmax"):
        key = (spec.arm, spec.config.seed)
        if spec.config.subset == "FD001" and key in clipped:
            R.write_json_atomic(spec.path(tmp_path), {**template, "seed": spec.config.seed, "code_hash": R.code_hash(),
                                                      "clipped_fraction": clipped[key]})
    out = reporting.run_measure_comparisons("wmax", [("amnl_w2", "amnl_w1"), ("amnl_w3", "amnl_w1")],
                                            ("clipped_fraction",), results=tmp_path)
    assert len(out) == 1  # amnl_w3 has one seed: no paired interval
    r = out.iloc[0]
    assert (r.subset, r.a, r.b, r.metric, r.n_seeds) == ("FD001", "amnl_w2", "amnl_w1", "clipped_fraction", 2)
    assert r["diff"] == pytest.approx(0.25) and r.b_mean == pytest.approx(0.05)
    with pytest.raises(ValueError, match="not per-run measures"):
        reporting.run_measure_comparisons("wmax", [], ("rmse",), results=tmp_path)


def test_w_max_figures_draw_one_panel_per_metric_and_subset():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from amnl_utils.book import report as reporting

    summ = summary()
    fig = reporting.plot_w_max_levels(summ, ["rmse", "best_epoch"], (1.0, *WS), subsets=SUBS)
    axes = fig.get_axes()
    # stacked for a phone: each subset's block of panels, its name over the first
    assert len(axes) == 4 and [a.get_title(loc="left") for a in axes] == [SUBS[0], "", SUBS[1], ""]
    assert [a.get_ylabel() for a in axes] == ["RMSE (cycles)", "selected pass\n(passes)"] * 2
    assert [a.get_xlabel() for a in axes][-1] and not any(a.get_xlabel() for a in axes[:-1])
    assert (fig.get_size_inches()[1] * 96) % 1 == 0  # whole pixels
    plt.close(fig)
    fig = reporting.plot_w_max_differences(comparisons(nf=everywhere(-1)), ["nf_rmse_all"], (1.0, *WS), subsets=SUBS)
    axes = fig.get_axes()
    assert len(axes) == 2 and axes[0].get_ylabel() == "Δ near-failure RMSE,\nall windows (cycles)"
    plt.close(fig)


def test_roughness_with_and_without_the_first_pass():
    from amnl_utils.engine.aggregate import val_roughness

    curves = [{"val_rmse": v} for v in (40.0, 20.0, 21.0, 19.0)]
    assert val_roughness(curves) == pytest.approx((1.0 + 2.0) / 2)
    assert val_roughness(curves, from_pass=1) == pytest.approx((20.0 + 1.0 + 2.0) / 3)
    assert np.isnan(val_roughness(curves[:2]))
    with pytest.raises(ValueError, match="from_pass"):
        val_roughness(curves, from_pass=3)


def test_every_pass_roughness_onsets_from_run_records():
    """AMNL's curves jitter more than MSE's from w_max = 8 on FD001 (onset 8); on FD002 only its
    first pass differs, which only the every-pass roughness sees (flagged, but only at 12: no onset)."""
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    noise = {(s, k): rng.normal(0, 0.05, 12) for s in SUBS for k in range(10)}  # shared by a seed's arms
    records = []
    for s in SUBS:
        for w in (1.0, *WS):
            for k in range(10):
                base = 20.0 + noise[(s, k)] * (1 + 0.1 * k)
                if s == "FD001" and w >= 8:
                    base = base + np.resize([1.0, -1.0], 12)  # rough from pass 2 on
                first = 60.0 if (s == "FD002" and w == 12.0) else 40.0
                curves = [{"val_rmse": v} for v in (first, *base)]
                spec = SimpleNamespace(arm=W.amnl(w), config=SimpleNamespace(subset=s, seed=k))
                records.append((spec, {"curves": curves}))
    got = W.every_pass_roughness_onsets(records, SUBS, WS)
    assert got["FD001"] == (8.0, [8.0, 12.0])
    assert got["FD002"] == (None, [12.0])
