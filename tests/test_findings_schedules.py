"""§14.2's findings (amnl_utils.book.findings.schedules): the committed results, the prose adapting to
hand-made results, a broken claim named, and the reading of the 4–8 % claim on hand-made intervals."""

from __future__ import annotations

import json
import math

import pytest

pd = pytest.importorskip("pandas")

from amnl_utils import engine as E  # noqa: E402
from amnl_utils.book import findings as F  # noqa: E402
from amnl_utils.book.findings import schedules as S  # noqa: E402
from amnl_utils.engine.store import resolve_root  # noqa: E402

SUBSETS = ("FD001", E.SECOND_SUBSET)
VERDICTS = {S.CONSISTENT, S.RULED_OUT, S.LARGER, S.UNDECIDED}


# --------------------------------------------------------------------------- the committed results


def test_findings_hold_on_the_committed_results():
    root = resolve_root(None)
    if not (root / "schedules" / "summary.json").is_file():
        pytest.skip(f"the schedules grid is not aggregated yet ({root / 'schedules' / 'summary.json'} does not exist)")
    out = F.schedules_findings()
    for s in ("fd001", "fd002"):
        for m in S.TEXT_METRICS:
            assert out[f"claim_verdict_{m}_{s}"] in VERDICTS
    for key in ("sched_answer", "sched_takeaway", "claim_sentence", "mde_sentence", "vs_linear_sentence",
                "vs_mse_sentence", "sched_status"):
        assert out[key].endswith(".") and "nan" not in out[key]


# --------------------------------------------------------------------------- hand-made results


SCALES = {"mse": 1.0, "constant": 1.36, "linear": 1.36, "exponential": 1.14, "sigmoid": 1.36, "step": 1.29}


@pytest.fixture
def hand_made_scales(monkeypatch):
    """The hand-made grids have no run files: each run's mean weight comes from here."""
    scales = {(s, a): dict.fromkeys(range(10), w) for s in SUBSETS for a, w in SCALES.items()}
    monkeypatch.setattr(S, "_loss_scales", lambda results=None: scales)
    return scales


def _write_grid(root, shift: dict[str, float], sd: float = 0.1, n: int = 10, partial: bool = False):
    """An aggregated ``schedules`` grid under ``root`` in which arm ``a``'s every error metric is
    ``shift[a]`` (a fraction) above the linear ramp's (``shift[(subset, a)]`` on that subset only), with
    per-seed differences of SD ``sd`` × the mean."""
    from amnl_utils.core import stats

    base = {"rmse": 13.0, "nasa": 250.0, "nf_rmse": 6.0, "nf_rmse_all": 5.5, "late_count": 3.0,
            "late_count_all": 20.0, "health_acc": 0.9, "roughness": 0.5}
    level = lambda arm, m, s: base[m] * (1 + shift.get((s, arm), shift.get(arm, 0.0)))  # noqa: E731
    arms = list(E.schedule_arms())
    summary = [{"subset": s, "arm": a, "metric": m, "n_seeds": n, "mean": level(a, m, s), "sd": 0.5,
                "t_lo": level(a, m, s) - 0.3, "t_hi": level(a, m, s) + 0.3,
                "of": 25.0 if m.startswith("late") else float("nan"), "partial": partial}
               for s in SUBSETS for a in arms for m in base]
    comps = []
    t = stats.t_quantile(0.975, n - 1)
    for s in SUBSETS:
        for a, b in E.get_grid("schedules").pairs:
            for m in base:
                bm = level(b, m, s)
                diff, half = level(a, m, s) - bm, t * sd * bm / math.sqrt(n)
                lo, hi = diff - half, diff + half
                comps.append({"subset": s, "a": a, "b": b, "metric": m, "n_seeds": n, "diff": diff, "sd": sd * bm,
                              "lo": lo, "hi": hi, "mde": stats.mde(sd * bm, n), "b_mean": bm,
                              "verdict": stats.verdict(lo, hi), "rel_diff": diff / bm,
                              "rel_mde": stats.mde(sd * bm, n) / bm, "partial": partial})
    d = root / "schedules"
    d.mkdir(parents=True)
    pd.DataFrame(summary).to_csv(d / "summary.csv", index=False)
    pd.DataFrame(comps).to_csv(d / "comparisons.csv", index=False)
    n_expected = len(E.grid_runs("schedules"))
    (d / "summary.json").write_text(json.dumps({"grid": "schedules", "partial": partial,
                                                "n_runs": n_expected // 2 if partial else n_expected,
                                                "n_expected": n_expected, "summary": [], "comparisons": [],
                                                "run_files": {}}))  # hand-made: no run files behind it
    return root


def test_no_difference_rules_the_claim_out_and_says_what_could_have_been_seen(tmp_path, hand_made_scales):
    out = F.schedules_findings(_write_grid(tmp_path, {}, sd=0.02))
    assert out["claim_verdict_rmse_fd001"] == S.RULED_OUT
    assert "ruled out on both subsets" in out["sched_answer"]
    assert out["vs_linear_sentence"].startswith("No other schedule differs measurably")
    assert out["mde_sentence"].startswith("None of the RMSE differences")
    assert "would have been detected on both subsets" in out["mde_sentence"]
    assert "no schedule's test RMSE differs measurably" in out["sched_answer"]
    assert out["sched_status"].startswith("All 120 runs")
    assert (out["sched_mean_weight_exponential"], out["sched_mean_weight_linear"]) == ("1.14", "1.36")


def test_a_wide_interval_cannot_tell_and_a_4_percent_gap_could_be_missed(tmp_path, hand_made_scales):
    out = F.schedules_findings(_write_grid(tmp_path, {}, sd=0.2, partial=True))
    assert out["claim_verdict_rmse_fd002"] == S.UNDECIDED
    assert "can be neither confirmed nor ruled out on either subset" in out["sched_answer"]
    assert "could have been missed on both subsets" in out["mde_sentence"]
    assert "partial" in out["sched_status"]


def test_a_claimed_gap_is_found_and_named(tmp_path, hand_made_scales):
    out = F.schedules_findings(_write_grid(tmp_path, {"exponential": 0.06, "step": -0.03, "mse": 0.05}, sd=0.02))
    assert out["claim_verdict_rmse_fd001"] == S.CONSISTENT
    assert out["claim_rmse_fd001"].startswith("+6.0 %")
    assert "is consistent with the grid on both subsets" in out["sched_answer"]
    assert "the exponential schedule gives a measurably higher test RMSE than the linear ramp (by 6.0 %)" in out["sched_answer"]
    assert "the step schedule gives a measurably lower test RMSE than the linear ramp (by 3.0 %)" in out["sched_answer"]
    assert "the constant (scaled MSE) and sigmoid schedules no measurable difference" in out["sched_answer"]
    assert "by chance alone" in out["vs_linear_sentence"]
    assert out["vs_linear_count"] == "16 of 32"
    assert "linear, 8 better" in out["vs_mse_sentence"]
    assert out["sched_chance"] == ""  # the step is lower on both subsets: not read as chance


def test_a_few_differences_on_one_subset_are_read_as_chance(tmp_path, hand_made_scales):
    # the step lower on FD001 only: 4 of 32 intervals exclude 0 (chance alone: 1.6, and 4 or more
    # happen with probability 0.07), none on both subsets
    out = F.schedules_findings(_write_grid(tmp_path, {("FD001", "step"): -0.03}, sd=0.02))
    assert out["vs_linear_count"] == "4 of 32"
    # the one-line answer leads with the reading; the per-schedule detail stays on the page
    assert out["sched_answer"].startswith("No evidence that the shape of the decay matters (on FD001 and FD002")
    assert "4 of the 32 intervals against the linear ramp exclude 0, about as many as chance alone gives (1.6)" in (
        out["sched_answer"])
    assert "the step schedule gives a measurably lower test RMSE than the linear ramp (by 3.0 %)" in out["sched_takeaway"]
    assert "no evidence that the shape of the decay matters" in out["sched_chance"]
    # on both subsets it is a finding, not chance
    both = F.schedules_findings(_write_grid(tmp_path / "both", {"step": -0.03}, sd=0.02))
    assert both["sched_chance"] == "" and "chance alone" not in both["sched_answer"]


def test_a_larger_gap_than_claimed(tmp_path, hand_made_scales):
    out = F.schedules_findings(_write_grid(tmp_path, {"exponential": 0.12}, sd=0.02))
    assert out["claim_verdict_nasa_fd002"] == S.LARGER
    assert "understates the linear ramp's lead" in out["sched_answer"]


def test_a_broken_claim_is_reported_with_its_sentence(tmp_path, monkeypatch, hand_made_scales):
    root = _write_grid(tmp_path, {})
    path = root / "schedules" / "comparisons.csv"
    c = pd.read_csv(path)
    c.loc[0, "n_seeds"] = 3
    c.to_csv(path, index=False)
    with pytest.raises(F.FindingError, match="every comparison pairs all seeds of both arms"):
        F.schedules_findings(root)

    root2 = _write_grid(tmp_path / "b", {})
    hand_made_scales[("FD001", "constant")] = dict.fromkeys(range(10), 1.0)
    with pytest.raises(F.FindingError, match="the constant arm is scaled MSE at the linear ramp's mean weight"):
        F.schedules_findings(root2)
    hand_made_scales[("FD001", "constant")] = hand_made_scales[("FD001", "linear")]

    head = E.headline_arms(w_max=3.0)  # the headline's AMNL at another w_max: no longer the same runs
    monkeypatch.setattr(S, "headline_arms", lambda: head)  # where the findings look it up
    with pytest.raises(F.FindingError, match="the MSE, constant and linear arms are the very runs of the headline"):
        F.schedules_findings(root2)


def test_a_missing_comparison_is_named(tmp_path, hand_made_scales):
    root = _write_grid(tmp_path, {})
    path = root / "schedules" / "comparisons.csv"
    c = pd.read_csv(path)
    c[~((c.a == "step") & (c.b == "mse"))].to_csv(path, index=False)
    with pytest.raises(F.FindingError, match="every schedule is compared with linear and with MSE"):
        F.schedules_findings(root)


# --------------------------------------------------------------------------- the reading of the 4–8 % claim


@pytest.mark.parametrize("lo, hi, want", [
    (-0.05, 0.02, S.RULED_OUT),      # 0 inside, the whole interval below 4 %
    (-0.09, -0.03, S.RULED_OUT),     # the exponential measurably better
    (0.005, 0.03, S.RULED_OUT),      # the linear ramp measurably better, by less than 4 %
    (0.05, 0.07, S.CONSISTENT),      # inside 4-8 %
    (0.01, 0.05, S.CONSISTENT),      # excludes 0, reaches into 4-8 % from below
    (0.06, 0.12, S.CONSISTENT),      # reaches into 4-8 % from above
    (0.02, 0.15, S.CONSISTENT),      # covers 4-8 % and more, 0 excluded
    (0.09, 0.14, S.LARGER),          # the whole interval above 8 %
    (-0.01, 0.06, S.UNDECIDED),      # 0 and the claimed margin both inside
    (-0.20, 0.30, S.UNDECIDED),      # very wide
    (0.0, 0.05, S.UNDECIDED),        # touches 0: 0 is not excluded
    (-0.02, 0.04, S.UNDECIDED),      # touches 4 %: not below it
    (0.08, 0.10, S.CONSISTENT),      # touches 8 %: not above it
])
def test_claim_verdict(lo, hi, want):
    assert S.claim_verdict(lo, hi) == want


def test_claim_verdict_edges():
    assert S.claim_verdict(float("nan"), 0.1) == "undefined"
    assert S.claim_verdict(0.0, float("inf")) == "undefined"
    with pytest.raises(ValueError, match="lo <= hi"):
        S.claim_verdict(0.05, 0.01)
    with pytest.raises(ValueError, match="low < high"):
        S.claim_verdict(0.0, 0.1, claim=(0.08, 0.04))
    assert S.claim_verdict(0.01, 0.015, claim=(0.01, 0.02)) == S.CONSISTENT
