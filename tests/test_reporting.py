"""Reporting: tables and figures build from an aggregated grid, say what the files hold, and never
truncate or re-type numbers. Uses a small hand-made grid (no training)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from test_experiments import _fake_record

from amnl_utils import engine as E
from amnl_utils.book import report as REP
from amnl_utils.engine import store as R
from amnl_utils.engine.config import TrainConfig


@pytest.fixture
def grid(tmp_path, monkeypatch):
    """Two subsets × three arms × four seeds of hand-made records, aggregated into tmp_path."""
    rng = np.random.default_rng(0)
    arms = {"mse": dict(loss="mse"), "scaled_mse": dict(loss="scaled_mse"), "amnl": dict(loss="amnl")}
    runs = [E.RunSpec(a, TrainConfig(subset=s, seed=k, **kw)) for k in range(4) for s in ("FD001", "FD002")
            for a, kw in arms.items()]
    monkeypatch.setitem(E.GRIDS, "fake", E.Grid("fake", "hand-made", lambda: runs,
                                               pairs=(("amnl", "mse"), ("scaled_mse", "mse"), ("amnl", "scaled_mse"))))
    y = np.concatenate([np.arange(0, 40, 2.0), np.full(20, 125.0)])
    nf_true, nf_units = np.array([3.0, 2.0, 1.0, 0.0, 20.0, 19.0]), np.array([1, 1, 1, 1, 2, 2])
    for spec in runs:
        shift = {"mse": 6.0, "scaled_mse": 5.0, "amnl": 3.0}[spec.arm]
        pred = np.clip(y + shift + rng.normal(0, 2, y.size), 0, 125)
        R.write_json_atomic(spec.path(tmp_path), _fake_record(spec.config, y, pred, nf_true, nf_true + shift, nf_units,
                                                              val=15 + shift))
    E.aggregate("fake", tmp_path, n_boot=30)
    monkeypatch.setenv(R.ENV_VAR, str(tmp_path))
    return tmp_path


def test_tables_build_and_keep_the_numbers(grid):
    summary, comparisons, meta = REP.load_summary("fake")
    assert meta["n_runs"] == 24 and not meta["partial"]
    t = REP.metric_table(summary, ["rmse", "nf_rmse_all"], interval=True)
    assert list(t.index.get_level_values("loss")[:3]) == ["MSE", "scaled MSE", "AMNL"]
    assert list(t.columns) == ["RMSE (cycles)", "RMSE (cycles), 95 % interval",
                               "near-failure RMSE, all windows (cycles)",
                               "near-failure RMSE, all windows (cycles), 95 % interval"]
    row = summary[(summary.subset == "FD001") & (summary.arm == "amnl") & (summary.metric == "rmse")].iloc[0]
    assert t.loc[("FD001", "AMNL"), "RMSE (cycles)"] == f"{row['mean']:.2f} ± {row['sd']:.2f}"
    c = REP.comparison_table(comparisons, ["nf_rmse_all"])
    # the near-failure windows were shifted by exactly 3 (AMNL) and 6 (MSE): the difference is -3
    assert c.loc[("FD001", "AMNL − MSE", "near-failure RMSE, all windows (cycles)"), "difference"] == "-3.00"
    assert set(c["reading"]) <= {"lower", "higher", "no measurable difference"}
    assert ("FD002", "AMNL − scaled MSE", "near-failure RMSE, all windows (cycles)") in c.index
    e = REP.ensemble_table(summary)
    assert e.shape == (6, 4)
    s = REP.stability_table(summary)
    assert s.loc[("FD001", "MSE"), "diverged runs"] == "0 of 4"
    a = REP.anchors_table(summary)
    assert "this book: AMNL, seed ensemble" in a.index and a.loc["DCNN", "FD001"] == "12.61 / 273.7"
    g = summary[(summary.subset == "FD001") & (summary.arm == "amnl")].set_index("metric")
    assert a.loc["this book: AMNL", "FD001"] == (f"{g.loc['rmse', 'mean']:.2f}\u00a0±\u00a0{g.loc['rmse', 'sd']:.2f} / "
                                                f"{g.loc['nasa', 'mean']:,.0f}")  # wraps only at the "/"


def test_predictions_and_bias_table(grid):
    preds = REP.load_predictions("fake")
    assert len(preds) == 24 * 40
    nf = REP.load_predictions("fake", windows="near_failure")
    assert len(nf) == 24 * 6 and set(nf.columns) >= {"unit", "y_true", "y_pred"}
    bias = REP.bucket_bias_table(preds)
    assert list(bias.columns) == ["RUL ≤ 30", "30 < RUL ≤ 80", "RUL > 80"]
    with pytest.raises(ValueError, match="windows"):
        REP.load_predictions("fake", windows="all")


def test_figures_build(grid):
    import matplotlib.pyplot as plt

    from amnl_utils.book.style import FIGURE_WIDTH_IN, MIN_FONT_PT, min_font_pt, use_book_style

    use_book_style()
    summary, comparisons, _ = REP.load_summary("fake")
    preds = REP.load_predictions("fake")
    forest = REP.plot_forest(comparisons, ["rmse", "nf_rmse_all"])
    assert [ax.get_xlabel() for ax in forest.axes] == ["difference in RMSE (cycles)",
                                                      "difference in near-failure RMSE,\nall windows (cycles)"]
    ticks = forest.axes[0].get_yticklabels()
    assert [t.get_text() for t in ticks[:2]] == ["FD001", "AMNL − MSE"]  # top row: a subset's header, then its pairs
    assert ticks[0].get_fontweight() == "bold" and ticks[1].get_fontweight() == "normal"
    REP.mark_relative_range(forest.axes[0], comparisons, ("amnl", "mse"), "rmse", (0.1, 0.2), label="claim")
    hatched = [p for p in forest.axes[0].collections if p.get_hatch()]
    assert len(hatched) == len(set(comparisons.subset)), "one hatched claim per subset's AMNL − MSE row"
    for fig in (REP.plot_pred_vs_true(preds), REP.plot_bucket_rmse(summary), forest,
                REP.plot_metric_by_arm(summary, "rmse")):
        assert fig.get_size_inches()[0] <= FIGURE_WIDTH_IN + 1e-9  # drawn for a phone's column
        assert min_font_pt(fig) >= MIN_FONT_PT, "no text smaller than the book's smallest font"
        visible = [ax for ax in fig.axes if ax.get_visible()]
        bottom = visible[-1]  # stacked panels share their x-axis: the bottom one carries its labels
        assert bottom.get_xlabel() or bottom.get_xticklabels() or fig.get_supxlabel()
        assert all(ax.get_ylabel() or ax.get_yticklabels() or fig.get_supylabel() for ax in visible)
        plt.close(fig)


def test_pair_labels_are_short():
    assert REP.pair_label("amnl", "mse") == "AMNL − MSE"
    assert REP.pair_label("constant", "linear") == "constant − linear"
    assert REP.pair_label("amnl_w2", "scaled_w2") == "AMNL − scaled MSE, w_max = 2"
    assert REP.pair_label("amnl_w5", "amnl_w1") == "AMNL, w_max = 5 − MSE"


def test_missing_grid_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="engine run --grid nothing"):
        REP.load_summary("nothing", tmp_path)


def test_arm_labels():
    assert REP.arm_label("amnl_w1") == "MSE (w_max = 1)"
    assert REP.arm_label("amnl_w1.5") == "AMNL, w_max = 1.5"
    assert REP.arm_label("scaled_w12") == "scaled MSE, w_max = 12"
    assert REP.arm_order(__import__("pandas").DataFrame({"arm": ["scaled_w5", "amnl_w12", "amnl_w2", "mse"]})) == [
        "mse", "amnl_w2", "amnl_w12", "scaled_w5"]


def test_replayed_early_stopping_matches_training():
    """The replay on a whole curve keeps what train() keeps when it stops early itself."""
    from test_training import synthetic

    from amnl_utils.engine.training import train

    data = synthetic()
    base = dict(max_epochs=10, batch_size=32, warmup_epochs=0.0, lr=3e-3, seed=2)
    whole = train(TrainConfig(patience=10, **base), data, progress=False, threads=1).record
    curve = [c["val_rmse"] for c in whole["curves"]]
    for p in (1, 2, 3):
        stopped = train(TrainConfig(patience=p, **base), data, progress=False, threads=1).record["stopping"]
        replay = REP.replay_early_stopping(curve, p)
        assert (replay["best_epoch"], replay["epochs_run"]) == (stopped["best_epoch"], stopped["epochs_run"])
        assert replay["best_val_rmse"] == stopped["best_val_rmse"]


def test_replay_by_hand():
    assert REP.replay_early_stopping([5, 4, 4.5, 4.6, 3, 2], 2) == {"best_epoch": 2, "best_val_rmse": 4.0, "epochs_run": 4}
    assert REP.replay_early_stopping([5, 4, 3], 2) == {"best_epoch": 3, "best_val_rmse": 3.0, "epochs_run": 3}
    with pytest.raises(ValueError, match="patience"):
        REP.replay_early_stopping([1.0], 0)


def test_w_max_figure_and_stability_spread(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    arms = {"amnl_w1": dict(loss="mse"), "amnl_w2": dict(loss="amnl", w_max=2.0), "amnl_w5": dict(loss="amnl", w_max=5.0),
            "scaled_w5": dict(loss="scaled_mse", w_max=5.0)}
    runs = [E.RunSpec(a, TrainConfig(subset="FD001", seed=k, **kw)) for k in range(3) for a, kw in arms.items()]
    monkeypatch.setitem(E.GRIDS, "fakew", E.Grid("fakew", "hand-made", lambda: runs, pairs=(("amnl_w5", "scaled_w5"),)))
    y = np.linspace(0, 125, 30)
    for spec in runs:
        shift = R.canonical_config(spec.config)["w_max"]  # MSE is w_max = 1
        R.write_json_atomic(spec.path(tmp_path), _fake_record(spec.config, y, y + shift, y[:4], y[:4] + 1,
                                                              np.array([1, 1, 2, 2])))
    E.aggregate("fakew", tmp_path, n_boot=20)
    summary, _, _ = REP.load_summary("fakew", tmp_path)
    fig = REP.plot_w_max_effect(summary, ["rmse"], (1.0, 2.0, 5.0))
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "5"]
    amnl_line = ax.lines[0]
    np.testing.assert_allclose(np.asarray(amnl_line.get_ydata(), dtype=float), [1.0, 2.0, 5.0])  # RMSE of a constant error w_max
    plt.close(fig)
    table = REP.stability_table(summary)
    assert table.loc[("FD001", "AMNL, w_max = 5"), "spread of the selected pass, sd (passes)"] == "0.0"
    assert table.loc[("FD001", "scaled MSE, w_max = 5"), "diverged runs"] == "0 of 3"


def test_counts_carry_their_denominator(grid):
    summary, _, _ = REP.load_summary("fake")
    t = REP.metric_table(summary, ["late_count", "late_count_all"])
    # the fixture's test engines have RUL 0, 2, ..., 38 and 20 engines at 125: 16 are within 30
    # cycles of failure; its near-failure windows are 6
    n_last = int((np.arange(0, 40, 2.0) <= 30).sum())
    assert t.loc[("FD001", "MSE"), "late > 10 cycles, last windows (engines)"].endswith(f" of {n_last}")
    assert t.loc[("FD001", "MSE"), "late > 10 cycles, all windows (windows)"].endswith(" of 6")


def test_a_bound_that_rounds_to_zero_has_no_sign():
    from amnl_utils.book.tables import fmt as _fmt

    assert [_fmt(x, 1) for x in (-0.04, -0.0, 0.04, -0.06, -1234.56)] == ["0.0", "0.0", "0.0", "-0.1", "-1,234.6"]
    assert _fmt(float("nan"), 2) == "n/a"
