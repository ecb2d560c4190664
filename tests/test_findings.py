"""The book's prose claims, checked against the committed results (amnl_utils.book.findings)."""

from __future__ import annotations

import pytest

from amnl_utils import engine as E
from amnl_utils.book import findings as F


def test_tuning_log_claims_hold_on_the_committed_results():
    out = F.methods_findings()
    assert out["windows_by_subset"].startswith("45 / 60 / 45 / 45")
    for key in ("a_w30_gap", "a_unit_gain", "b_clip_cost_fd001", "c_cycle_fd003", "verify_sentence"):
        assert out[key]
    assert float(out["a_unit_gain"]) > 0 and float(out["a_balance_u125"]) < 0.1
    assert "bit for bit" in out["verify_sentence"] and "runs of the final grids" in out["machines_sentence"]
    assert "without changing a number" in out["lineage_sentence"] and "lineage.json" in out["lineage_sentence"]


def test_a_verify_record_that_failed_or_crossed_processors_is_refused(tmp_path, monkeypatch):
    import json
    import shutil

    from amnl_utils.engine.store import resolve_root

    root = resolve_root(None)
    shutil.copytree(root, tmp_path / "results")
    verify = tmp_path / "results" / "headline" / "verify.json"
    rec = json.loads(verify.read_text())
    rec["runs"][0]["same_cpu"] = False
    verify.write_text(json.dumps(rec))
    with pytest.raises(F.FindingError, match="re-made on the processor that made them"):
        F.provenance_findings(tmp_path / "results")
    rec["runs"][0]["same_cpu"], rec["all_identical"] = True, False
    verify.write_text(json.dumps(rec))
    with pytest.raises(F.FindingError, match="every re-run of the headline sample was identical"):
        F.provenance_findings(tmp_path / "results")


def test_a_broken_claim_is_reported_with_its_sentence(monkeypatch):
    monkeypatch.setitem(E.RECIPE, "FD002", {**E.RECIPE["FD002"], "window": 45})
    with pytest.raises(F.FindingError, match="the recipe's window on FD002 is 60 cycles"):
        F.tuning_a_findings()
    monkeypatch.setitem(E.BASE, "clip_norm", 1.0)
    with pytest.raises(F.FindingError, match="the recipe clips at 10"):
        F.tuning_b_findings()


def test_stage_d_claims_hold_and_a_retuned_recipe_is_refused(monkeypatch):
    from amnl_utils.book.findings import methods as M

    out = M.tuning_d_findings()
    assert out["d_seeds"] == "3" and out["d_val_seeds"] == "20"
    assert out["d_w60_diff"].startswith("−") and "[" in out["d_ema_diff"]
    assert float(out["d_val_mean"]) < float(out["d_test_mean"])
    # the prose says the recipe was not changed after the test read; a changed recipe breaks that claim
    monkeypatch.setattr(M, "RECIPE", {**M.RECIPE, "FD003": {**M.RECIPE["FD003"], "window": 60}})
    with pytest.raises(F.FindingError, match="the recipe is unchanged"):
        M.tuning_d_findings()


def test_helpers():
    assert F.fmt_range([1.234, 2.0], 1) == "1.2 to 2.0"
    assert F.fmt_range([1.21, 1.24], 1, "cycles") == "1.2 cycles"
    F.check(True, "never raised")
    with pytest.raises(F.FindingError, match="'a sentence'"):
        F.check(False, "a sentence")


# --------------------------------------------------------------------------- §14.4 headline

import pandas as pd  # noqa: E402

from amnl_utils.book.findings import headline as H  # noqa: E402
from amnl_utils.engine.store import default_root  # noqa: E402

HEADLINE = default_root() / "headline" / "summary.json"
needs_headline = pytest.mark.skipif(not HEADLINE.is_file(), reason="the headline grid is not aggregated yet")


def _comparisons(rows):
    return pd.DataFrame([{"subset": s, "a": a, "b": b, "metric": m, "diff": d, "lo": lo, "hi": hi,
                          "verdict": "lower" if hi < 0 else "higher" if lo > 0 else "no measurable difference"}
                         for s, a, b, m, d, lo, hi in rows])


def test_pair_sentence_says_none_when_every_interval_contains_zero():
    c = _comparisons([("FD001", "amnl", "mse", "rmse", 0.1, -0.3, 0.5), ("FD002", "amnl", "mse", "rmse", -0.2, -0.6, 0.1)])
    assert H.pair_sentence(c, "amnl", "mse") == "no measurable difference in any of the 2 subset × metric cells"


def test_pair_sentence_names_the_separable_cells_with_their_sign():
    c = _comparisons([("FD001", "amnl", "mse", "rmse", 0.1, -0.3, 0.5),
                      ("FD002", "amnl", "mse", "nf_rmse_all", -0.8, -1.4, -0.2),
                      ("FD004", "amnl", "mse", "nasa", 40.0, 5.0, 75.0),
                      ("FD001", "scaled_mse", "mse", "rmse", -5.0, -6.0, -4.0)])  # another pair: ignored
    text = H.pair_sentence(c, "amnl", "mse")
    assert text == ("a measurable difference in 2 of 3 subset × metric cells: lower near-failure RMSE (all windows) "
                    "on FD002, -0.80 [-1.40, -0.20]; higher NASA score on FD004, +40 [+5, +75]")


def test_pair_sentence_refuses_a_pair_the_grid_does_not_have():
    with pytest.raises(F.FindingError, match="compares amnl with step"):
        H.pair_sentence(_comparisons([("FD001", "amnl", "mse", "rmse", 0.1, -0.3, 0.5)]), "amnl", "step")


def test_signed_range_words():
    assert H.signed_range([3.14, 9.8]) == "late by 3.1 to 9.8 cycles"
    assert H.signed_range([-2.0, -0.5]) == "early by 0.5 to 2.0 cycles"
    assert H.signed_range([-2.0, 1.5]) == "between -2.0 and +1.5 cycles"
    assert H.and_list(["a"]) == "a" and H.and_list(["a", "b", "c"]) == "a, b and c"


@needs_headline
def test_headline_claims_hold_on_the_committed_results():
    out = F.headline_findings()
    assert out["h_n_seeds"] == "10" and out["h_n_runs"] == "120" and out["h_partial"] == ""
    assert out["h_answer"].startswith("Trained with 10 seeds per arm")
    for key in ("h_amnl_mse", "h_scaled_mse", "h_amnl_scaled"):
        assert "measurabl" in out[key] or "no measurable difference" in out[key]
    assert out["h_windows"] == "45 / 60 / 45 / 45"


@needs_headline
def test_a_broken_headline_claim_is_reported_with_its_sentence(monkeypatch):
    real = H.load_summary

    def diverged(grid, results=None):
        summary, comparisons, meta = real(grid, results)
        summary = summary.copy()
        summary.loc[summary.metric == "diverged", "mean"] = 0.1
        return summary, comparisons, meta

    monkeypatch.setattr(H, "load_summary", diverged)  # where the findings look it up
    with pytest.raises(F.FindingError, match="no run of the headline diverged"):
        F.headline_findings()


def test_model_facts_are_counted_from_the_modules():
    out = F.model_findings()
    assert out["paper_params_m"] == "3.5" and out["compact_params"] == "44,116"


@pytest.mark.skipif(not all((default_root() / g / "summary.json").is_file() for g in ("headline", "schedules", "wmax")),
                    reason="the three final grids are not all aggregated yet")
def test_the_introduction_states_each_sections_finding():
    out = F.book_findings()
    assert set(out) == {"intro_headline", "intro_schedules", "intro_wmax", "intro_verdict", "intro_bottom"}
    assert out["intro_headline"].startswith("AMNL at w_max = 2 against plain MSE on the four subsets")
    assert all(len(v.split()) <= 50 for v in out.values())
    assert all(v and "{" not in v for v in out.values())  # plain text: the links live in intro.md


def test_a_lineage_sample_that_failed_is_refused(tmp_path):
    import json
    import shutil

    from amnl_utils.engine.store import resolve_root

    shutil.copytree(resolve_root(None), tmp_path / "results")
    lineage = tmp_path / "results" / "lineage.json"
    rec = json.loads(lineage.read_text())
    rec["equivalences"][-1]["sample"][0]["passed"] = False
    lineage.write_text(json.dumps(rec))
    with pytest.raises(F.FindingError, match="every sample run of the equivalence"):
        F.provenance_findings(tmp_path / "results")


def test_ceiling_numbers_remake_the_small_runs_of_section_14_3():
    """§14.3 and its Details page glue from one function; what it quotes is what the runs give."""
    import numpy as np

    from amnl_utils.analysis import optimiser as opt
    from amnl_utils.cmapss.prepare import prepare
    from amnl_utils.core.constants import R_MAX

    out = F.ceiling_numbers()
    data = prepare("FD001", seed=0)
    assert out["at_cap_pct"] == f"{100 * np.mean(data.y_train == R_MAX):.1f}"
    # Adam's largest step is its learning rate at every w_max; SGD's stable rate falls as w_max grows
    assert out["adam_step_w1"] == out["adam_step_w10"] == f"{opt.LR['adam']:.4f}"
    assert float(out["sgd_limit_w10"]) < float(out["sgd_limit_w1"])
    assert int(out["first_mismatch"]) < int(out["clip_steps"]) == 200
    assert set(F.ceiling_numbers(seed=1)) == set(out)  # the same quotes for another batch
