"""Relative paired differences and their inverse-variance pooling (amnl_utils.core.pooling), and the
verdict built on them (amnl_utils.analysis.verdict): hand-worked values, coverage by simulation,
bad input, the words an interval allows, and the committed verdict grid."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from amnl_utils import engine as E
from amnl_utils.analysis import verdict as V
from amnl_utils.core.pooling import pool, relative_difference
from amnl_utils.engine.grids import VERDICT_SEEDS

# --------------------------------------------------------------------------- hand-worked


def test_relative_difference_by_hand():
    # mean a = 3, mean b = 2: r = 0.5; d = a - 1.5 b = (0.5, -0.5), sd = 1/sqrt(2);
    # se = sd / (sqrt(2) * 2) = 0.25; t_{0.975, 1} = 12.706
    r = relative_difference(np.array([2.0, 4.0]), np.array([1.0, 3.0]))
    assert r["rel"] == pytest.approx(0.5) and r["se"] == pytest.approx(0.25) and r["n"] == 2
    assert r["hi"] - r["rel"] == pytest.approx(12.7062047 * 0.25)
    assert r["mde"] == pytest.approx((sps.t.ppf(0.975, 1) + sps.t.ppf(0.8, 1)) * 0.25)


def test_an_exact_ratio_has_no_spread():
    b = np.array([10.0, 12.0, 9.0, 14.0])
    r = relative_difference(0.9 * b, b)
    assert r["rel"] == pytest.approx(-0.1) and r["se"] == pytest.approx(0.0, abs=1e-15)
    assert r["lo"] == pytest.approx(-0.1) and r["hi"] == pytest.approx(-0.1)


def test_pool_by_hand():
    # w = (100, 25): r = (10 + 7.5) / 125 = 0.14, se = 1/sqrt(125); Q = 100·0.04² + 25·0.16² = 0.8 < K-1
    p = pool([0.1, 0.3], [0.1, 0.2])
    assert p["rel"] == pytest.approx(0.14) and p["se"] == pytest.approx(1 / math.sqrt(125))
    assert p["q"] == pytest.approx(0.8) and p["i2"] == 0.0 and p["k"] == 2
    assert p["hi"] - p["rel"] == pytest.approx(1.959964 * p["se"], rel=1e-6)
    assert p["mde"] == pytest.approx((1.959964 + 0.841621) * p["se"], rel=1e-6)
    # far apart: most of the spread is beyond chance
    q = pool([-0.2, 0.2], [0.01, 0.01])
    assert q["rel"] == pytest.approx(0.0, abs=1e-12) and q["i2"] > 0.99


def test_one_subset_pools_to_itself():
    p = pool([0.07], [0.02])
    assert p["rel"] == pytest.approx(0.07) and p["se"] == pytest.approx(0.02) and p["q"] == 0.0


# --------------------------------------------------------------------------- calibration


def test_the_intervals_cover_the_true_ratio_about_95_percent_of_the_time():
    """Simulated subsets: per-seed errors b ~ N(10, 1) and a = (1 + r)·b·(1 + noise); the per-subset
    t-intervals and the pooled normal interval should each cover the truth in ~95 % of grids."""
    rng = np.random.default_rng(0)
    true = [-0.05, 0.0, -0.08, 0.02]
    n_rep, cover, cover_pool = 1500, 0, 0
    for _ in range(n_rep):
        ses, ests = [], []
        for k, r in enumerate(true):
            b = rng.normal(10.0 + k, 1.0, 20)
            a = (1 + r) * b * (1 + rng.normal(0, 0.05, 20))
            out = relative_difference(a, b)
            cover += out["lo"] <= r <= out["hi"]
            ests.append(out["rel"] - r)  # pool the errors: truth 0
            ses.append(out["se"])
        p = pool(ests, ses)
        cover_pool += p["lo"] <= 0.0 <= p["hi"]
    assert 0.93 <= cover / (4 * n_rep) <= 0.97
    assert 0.92 <= cover_pool / n_rep <= 0.975


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("a, b, match", [
    ([1.0, 2.0], [1.0, 2.0, 3.0], "the same seeds"),
    ([1.0], [1.0], "at least 2 paired seeds"),
    ([1.0, np.nan], [1.0, 2.0], "non-finite"),
    ([1.0, 2.0], [-1.0, -2.0], "must be positive"),
    ([[1.0, 2.0]], [[1.0, 2.0]], "1-D"),
])
def test_relative_difference_refuses_bad_input(a, b, match):
    with pytest.raises(ValueError, match=match):
        relative_difference(np.array(a), np.array(b))


@pytest.mark.parametrize("e, s, match", [
    ([0.1, 0.2], [0.1], "one standard error per estimate"),
    ([], [], "at least one"),
    ([0.1], [0.0], "must be positive"),
    ([0.1], [np.inf], "non-finite"),
])
def test_pool_refuses_bad_input(e, s, match):
    with pytest.raises(ValueError, match=match):
        pool(e, s)


# --------------------------------------------------------------------------- the verdict


def _values(shift: dict[str, float], n: int = 12, sd: float = 0.03) -> dict:
    """Hand-made seed values: AMNL's every error measure is ``shift[subset]`` (a fraction) off MSE's,
    with per-seed noise of ``sd`` × the level."""
    rng = np.random.default_rng(1)
    out = {}
    for s, f in shift.items():
        for arm in ("mse", "amnl"):
            out[(s, arm)] = {}
        for k in range(n):
            base = {"nf_rmse": 8.0, "nf_rmse_all": 9.0, "rmse": 13.0, "nasa": 400.0, "late_per_100": 300.0,
                    "health_acc": 0.88, "health_f1": 0.86}
            out[(s, "mse")][k] = {m: v * (1 + rng.normal(0, sd)) for m, v in base.items()}
            out[(s, "amnl")][k] = {m: v * (1 + (f if m in V.MEASURES else 0.0)) for m, v in out[(s, "mse")][k].items()}
            out[(s, "amnl")][k] = {m: v * (1 + rng.normal(0, sd / 3)) for m, v in out[(s, "amnl")][k].items()}
    return out


def test_the_verdict_finds_a_pooled_reduction_and_words_it():
    values = _values({"FD001": -0.06, "FD002": -0.06, "FD003": -0.06, "FD004": -0.06})
    rows = V.verdict_table(values=values)
    pooled = {r["measure"]: r for r in rows if r["subset"] == "pooled"}
    assert set(pooled) == set(V.MEASURES) and pooled["nf_rmse"]["k"] == 4 and pooled["nf_rmse"]["n"] == 48
    r = pooled["nf_rmse"]
    assert r["hi"] < 0 and r["lo"] < r["rel"] < r["hi"] and abs(r["rel"] + 0.06) < 0.02
    words = V.verdict_words(r)
    assert words.startswith("AMNL lowers near-failure RMSE (last window") and " % [" in words
    assert not V.small_effect_allowed(r["lo"], r["hi"]) or r["lo"] >= -0.05


def test_no_difference_is_worded_with_what_it_rules_out():
    values = _values({s: 0.0 for s in ("FD001", "FD002", "FD003", "FD004")})
    row = next(r for r in V.verdict_table(values=values) if r["subset"] == "pooled" and r["measure"] == "rmse")
    assert row["lo"] < 0 < row["hi"]
    words = V.verdict_words(row)
    assert words.startswith("there is no measurable difference in RMSE") and "is ruled out" in words
    assert V.small_effect_allowed(row["lo"], row["hi"])  # 3 % noise, 48 seeds: both bounds within ±5 %
    assert not V.small_effect_allowed(-0.06, 0.01) and not V.small_effect_allowed(-0.01, float("nan"))


def test_a_rise_is_worded_as_a_rise():
    row = {"measure": "nasa", "rel": 0.1, "lo": 0.04, "hi": 0.16}
    assert V.verdict_words(row) == "AMNL raises NASA score by 10.0 % [4.0, 16.0] against MSE"
    with pytest.raises(ValueError, match="no finite interval"):
        V.verdict_words({"measure": "nasa", "rel": 0.1, "lo": float("nan"), "hi": 0.2, "subset": "FD001"})


def test_a_subset_with_one_seed_stays_out_of_the_pool():
    values = _values({"FD001": -0.05, "FD002": -0.05})
    values[("FD003", "mse")] = {0: values[("FD001", "mse")][0]}
    values[("FD003", "amnl")] = {0: values[("FD001", "amnl")][0]}
    rows = V.verdict_table(values=values, measures=("rmse",))
    assert [r["subset"] for r in rows] == ["FD001", "FD002", "pooled"] and rows[-1]["k"] == 2


def test_the_health_table_reports_points_per_arm_and_their_difference():
    rows = V.health_table(values=_values({"FD001": -0.05}))
    assert [r["measure"] for r in rows] == ["health_acc", "health_f1"]
    acc = rows[0]
    assert acc["n"] == 12 and 80 < acc["mse_pts"] < 95 and acc["lo_pts"] < acc["diff_pts"] < acc["hi_pts"]
    assert acc["mse_lo_pts"] < acc["mse_pts"] < acc["mse_hi_pts"]


def test_arm_means_give_each_arm_its_interval():
    values = _values({"FD001": -0.05, "FD002": 0.0})
    rows = V.arm_means(values, "late_per_100")
    assert [(r["subset"], r["arm"]) for r in rows] == [("FD001", "mse"), ("FD001", "amnl"), ("FD002", "mse"),
                                                      ("FD002", "amnl")]
    direct = np.mean([m["late_per_100"] for m in values[("FD001", "amnl")].values()])
    assert rows[1]["mean"] == pytest.approx(direct) and rows[1]["lo"] < direct < rows[1]["hi"] and rows[1]["n"] == 12


def test_run_measures_counts_late_windows_per_100_engines():
    m = V.run_measures({"rmse": 13.0, "nasa": 600.0, "nf_rmse": 8.0, "nf_rmse_all": 10.0, "late_count_all": 327,
                        "n_engines": 248, "health_acc": 0.9, "health_f1": 0.85})
    assert m["late_per_100"] == pytest.approx(100 * 327 / 248)
    with pytest.raises(ValueError, match="no test metrics"):
        V.run_measures({})


def test_the_verdict_grid_pairs_the_headline_runs_and_adds_seeds():
    """Seeds 0-9 of the verdict grid are the headline grid's very run files (no run twice)."""
    head = {s.path("/r") for s in E.grid_runs("headline") if s.arm in ("mse", "amnl")}
    verdict = [s.path("/r") for s in E.grid_runs("verdict")]
    assert len(verdict) == len(set(verdict)) == 2 * 4 * len(VERDICT_SEEDS) and len(VERDICT_SEEDS) >= 20
    assert head <= set(verdict)


def test_the_verdict_on_the_committed_runs():
    """On the committed run files (as many seeds as have finished), every subset and the pool get a
    finite interval, and the pooled one is no wider than any subset's."""
    rows = V.verdict_table()
    for m in V.MEASURES:
        got = [r for r in rows if r["measure"] == m]
        pooled = next(r for r in got if r["subset"] == "pooled")
        assert pooled["k"] == 4 and pooled["n"] >= 40
        assert all(pooled["hi"] - pooled["lo"] <= r["hi"] - r["lo"] for r in got if r["subset"] != "pooled")
        assert V.verdict_words(pooled)


def test_the_verdict_findings_on_the_committed_runs():
    from amnl_utils.book.findings import verdict_findings

    out = verdict_findings()
    assert out["v_answer"].startswith("Pooled over the four subsets, ") and out["v_answer"].endswith(".")
    assert "ruled out" in out["v_answer"] or " by " in out["v_answer"]
    for key in ("v_answer_all", "v_rmse", "v_nasa", "v_late", "v_health", "v_mde_sentence"):
        assert out[key].endswith(".") and "nan" not in out[key], key
    assert int(out["v_seeds"].split()[0]) >= 10
    assert (out["v_status"] == "") == (out["v_seeds"] == out["v_target_seeds"])


def test_a_verdict_on_too_few_seeds_is_refused(tmp_path):
    """With fewer than 10 paired seeds on a subset the page's sentences are not allowed."""
    import shutil

    from amnl_utils.book.findings import FindingError, verdict_findings
    from amnl_utils.engine.store import default_root

    src = default_root()
    (tmp_path / "runs").mkdir()
    shutil.copy(src / "lineage.json", tmp_path / "lineage.json")
    for spec in E.grid_runs("verdict"):
        if spec.config.seed < 5 and spec.path(src).exists():
            spec.path(tmp_path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(spec.path(src), spec.path(tmp_path))
    with pytest.raises(FindingError, match="at least 10 paired seeds"):
        verdict_findings(tmp_path)


def test_a_small_but_measurable_rmse_cost_is_not_called_as_good(monkeypatch):
    """'As good as MSE' needs an interval that contains 0 as well as bounds within ±5 %."""
    from amnl_utils.book.findings import verdict as VF

    read = VF.verdict_rows()
    for lo, hi, words in ((0.001, 0.021, "a measurable but small difference"), (-0.01, 0.012, "as good as MSE"),
                          (-0.01, 0.07, "reaches beyond ±5 %")):
        changed = [{**r, "lo": lo, "hi": hi, "rel": (lo + hi) / 2} if (r["subset"], r["measure"]) == ("pooled", "rmse")
                   else r for r in read.rows]
        assert words in VF.verdict_findings(verdict=read._replace(rows=changed))["v_rmse_small"]
