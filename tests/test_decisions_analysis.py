"""§14.5's analysis on synthetic runs (every arm, two seeds) and the committed analysis file."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from amnl_utils.analysis import decisions as A
from amnl_utils.cmapss.prepare import split_engines_with_decision
from amnl_utils.core.decisions import RULES


def fake_record(seed: int, bias: float, rng: np.random.Generator, units) -> dict:
    val_ids, dec_ids = units

    def engines(ids):
        out = []
        for u in ids:
            start = int(rng.integers(100, 250))
            true = np.minimum(np.arange(start, -1, -1), 125)
            out.append({"unit": int(u), "rul_start": start,
                        "y_pred": np.clip(true + bias + rng.normal(0, 8, true.size), 0, 125).round(2).tolist()})
        return out

    return {"config": {"window": 45, "seed": seed}, "engines": {"val": engines(val_ids), "decision": engines(dec_ids)},
            "test": {"rmse": 12.0 + abs(bias), "nasa": 300.0, "nf_rmse_all": 8.0},
            "stopping": {"best_val_rmse": 12.5 + abs(bias)}}


@pytest.fixture(scope="module")
def synthetic():
    pairs = []
    lives = {u: 200 + (u % 50) for u in range(1, 101)}
    for seed in (0, 1):
        _, val_ids, dec_ids = split_engines_with_decision(np.arange(1, 101), 0.2, seed)
        for arm in A.TRAINED:
            bias = {"mse": 4.0, "amnl": 2.0, "pinball_t0.3": -6.0, "pinball_t0.4": -3.0}.get(arm, 3.0)
            rng = np.random.default_rng(seed)  # the same engines' lives in every arm of a seed
            spec = SimpleNamespace(arm=arm, config=SimpleNamespace(subset="FD001", seed=seed))
            pairs.append((spec, fake_record(seed, bias, rng, (val_ids, dec_ids))))
    with pytest.MonkeyPatch.context() as mp:  # the engines' lives without the data files
        mp.setattr(A, "lives_by_engine", lambda subset, data_dir=None: lives)
        return A.analyse(pairs)


def test_every_arm_policy_rule_and_cost_has_a_row_per_seed(synthetic):
    rows = synthetic["rows"]
    for arm in A.ARMS:
        got = [r for r in rows if r["arm"] == arm]
        assert len(got) == 2 * len(A.POLICIES) * len(RULES) * len(A.KS), arm
    assert {r["tau"] for r in rows if r["arm"] == "pinball"} <= {0.3, 0.4}
    assert len(synthetic["offsets"]) == 2 and all(0 <= o["offset"] <= 30 for o in synthetic["offsets"])


def test_the_pinball_k_curve_chooses_tau_as_the_tables_do(synthetic):
    """The slider's pinball curve takes, per run and k, the τ with the lower validation cost: at the
    tables' k it is the pinball row of that run (the same τ, θ and cost rate)."""
    for seed in (0, 1):
        curve = next(c for c in synthetic["kcurves"] if c["arm"] == "pinball" and c["seed"] == seed)
        for k in A.KS:
            row = next(r for r in synthetic["rows"] if r["arm"] == "pinball" and r["seed"] == seed
                       and (r["policy"], r["rule"], r["k"]) == ("threshold", RULES[0], k))
            i = A.KS_FINE.index(k)
            assert (curve["tau"][i], curve["theta"][i]) == (row["tau"], row["theta"])
            assert curve["cost"][i] == pytest.approx(row["cost_rate"], abs=1e-4)


def test_pinball_k_curve_by_hand():
    n = len(A.KS_FINE)
    curves = {"pinball_t0.3": {"cost": [5.0] * n, "theta": [10.0] * n, "val_cost": [1.0] * n},
              "pinball_t0.4": {"cost": [4.0] * n, "theta": [20.0] * n, "val_cost": [2.0, 1.0] + [0.5] * (n - 2)}}
    got = A.pinball_k_curve(curves)
    # first k: τ 0.3 has the lower validation cost (not the lower decision cost); second: a tie, the
    # first name; then τ 0.4 is lower on validation
    assert got["tau"][:3] == [0.3, 0.3, 0.4]
    assert got["cost"][:3] == [5.0, 5.0, 4.0] and got["theta"][:3] == [10.0, 10.0, 20.0]


def test_the_oracle_is_the_floor_and_wastes_one_cycle(synthetic):
    for k in A.KS:
        by = A.select(synthetic, "FD001", k=k)
        for seed in (0, 1):
            oracle = by["oracle"][seed]
            assert oracle["wasted"] == 1.0 and oracle["failures"] == 0
            assert all(oracle["cost_rate"] <= by[a][seed]["cost_rate"] + 1e-12 for a in A.ARMS)


def test_cost_table_and_best_choice(synthetic):
    table = A.cost_table(synthetic, "FD001", k=10)
    assert [r["arm"] for r in table] == list(A.ARMS)
    amnl = next(r for r in table if r["arm"] == "amnl")
    assert amnl["lo"] <= amnl["cost_rate"] <= amnl["hi"] and set(amnl["vs_mse"]) == {"diff", "lo", "hi", "mde"}
    assert amnl["engine_runs"] == 40  # two seeds × 20 decision engines
    best = A.best_choice(synthetic, "FD001", k=10)
    assert best["arm"] in A.ARMS and best["arm"] not in ("oracle", "age")


def test_a_later_model_misses_more_at_the_same_threshold(synthetic):
    sw = {(s["arm"], s["seed"]): s for s in synthetic["sweeps"]}
    theta = 10
    assert sw[("mse", 0)]["missed"][theta] >= sw[("pinball_t0.3", 0)]["missed"][theta]
    assert sw[("mse", 0)]["wasted"][theta] <= sw[("pinball_t0.3", 0)]["wasted"][theta]


def test_error_profile_recovers_the_bias(synthetic):
    prof = {(p["arm"], p["seed"]): p["error"] for p in synthetic["profiles"]}
    mid = slice(4, 20)  # away from the clips at 0 and 125
    assert np.mean(prof[("mse", 0)][mid]) == pytest.approx(4.0, abs=1.5)
    assert np.mean(prof[("pinball_t0.3", 0)][mid]) == pytest.approx(-6.0, abs=1.5)


def test_a_seed_without_every_arm_is_left_out(synthetic):
    assert A.analyse([])["rows"] == []


def test_the_page_findings_figures_and_tables_render_from_a_partial_grid(synthetic):
    import matplotlib

    matplotlib.use("Agg")
    from amnl_utils.book.decisions import decision_cost_frame, phm_frame, plot_error_profile, plot_tradeoff
    from amnl_utils.book.findings.decisions import decisions_findings

    out = {**synthetic, "seeds": {"FD001": [0, 1], "FD004": []}}
    f = decisions_findings(out=out)
    assert "FD001 has 2 of 10 seeds" in f["d_status"] and "FD004 has 0" in f["d_status"]
    assert f["d_answer"].startswith("At a failure cost of 10 planned replacements, AMNL's threshold policy costs ")
    assert f["d_answer_detail"].startswith("On FD001, AMNL")
    assert "40 decision-engine runs per arm" in f["d_evidence"]
    frame = decision_cost_frame(out)
    assert list(frame.index.get_level_values("arm")) == ["MSE", "MSE + offset", "AMNL", "LDS", "BMC", "pinball",
                                                         "oracle", "age-based"]
    assert len(phm_frame(out)) == 7  # every arm with predictions (not the oracle)
    assert len(plot_tradeoff(out).axes) == 1 and len(plot_error_profile(out).axes) == 1


def test_the_page_says_so_before_the_grid_has_run(tmp_path):
    from amnl_utils.book.findings.decisions import decisions_findings

    f = decisions_findings(results=tmp_path)  # no analysis file there
    assert set(f.values()) == {"The decisions grid has not run yet, so this page has no measured numbers for it yet."}
    one_seed = decisions_findings(out={"rows": [{}], "seeds": {"FD001": [0], "FD004": []}})
    assert one_seed["d_answer"].startswith("The decisions grid has fewer than 2 finished seeds")


def test_the_committed_analysis_file_matches_the_committed_runs():
    """Once any run of the decisions grid is committed, its analysis file is too, and it was made
    from exactly those runs (a run added or changed without re-analysis fails here)."""
    from amnl_utils.engine.grids import grid_root
    from amnl_utils.engine.runner import load_grid

    root = grid_root(A.GRID)
    runs = load_grid(A.GRID, root, partial=True)
    path = A.output_path(root)
    if not runs:
        assert not path.exists(), f"{path} exists but the grid has no finished run"
        return
    out = A.load(root)  # raises when out of date
    assert set(out["run_files"]) == {spec.path(root).name for spec, _ in runs}
    complete = {s: sorted({spec.config.seed for spec, _ in runs if spec.config.subset == s
                           and sum(1 for sp, _ in runs if sp.config.subset == s and sp.config.seed == spec.config.seed)
                           == len(A.TRAINED)}) for s in out["seeds"]}
    assert out["seeds"] == complete  # a seed counts once every trained arm of it has run


def test_the_failure_cost_slider_readout_matches_python_in_node(synthetic):
    import json
    import shutil
    import subprocess

    from amnl_utils.book.interactive import cost_figure, cost_payload, cost_readout, figure_script

    out = {**synthetic, "seeds": {"FD001": [0, 1], "FD004": []}}
    payload = cost_payload(out)
    assert [s["name"] for s in payload["subsets"]] == ["FD001"]  # FD004 has no seeds yet
    assert cost_readout(payload, 10).startswith("k = 10: the cheapest arm is FD001: ")
    fig = cost_figure(out, k=10)
    assert 'id="amnl-failure-cost-k"' in fig.html and cost_readout(payload, 10) in fig.html
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    program = ("global.window = {};\n" + figure_script() + f"\nconst d = {json.dumps(payload)};\n"
               "process.stdout.write(JSON.stringify([2, 10, 37, 50].map(k => window.AMNLFig.costReadout(d, k))));\n")
    js = json.loads(subprocess.run([node, "-"], input=program, text=True, capture_output=True, check=True).stdout)
    assert js == [cost_readout(payload, k) for k in (2, 10, 37, 50)]


def test_the_test_set_table_has_every_trained_arm(synthetic):
    from amnl_utils.book.decisions import test_frame

    rows = [{"subset": "FD001", "seed": s, "arm": a, "rmse": 12.0 + s, "nasa": 300.0, "nf_rmse_all": 8.0}
            for s in (0, 1) for a in A.TRAINED]
    frame = test_frame({**synthetic, "test": rows, "seeds": {"FD001": [0, 1]}})
    assert len(frame) == len(A.TRAINED)
    assert frame.iloc[0]["RMSE (cycles)"].startswith("12.50 [")
