"""§14.5's decision engines: the three-way split by engine, the fold rotation, the record of
per-cycle predictions, and the run ids of the settings added for it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from amnl_utils.cmapss.prepare import (
    DECISION_FOLDS,
    decision_folds,
    fit_normaliser,
    prepare,
    split_engines_with_decision,
    window_labels,
)
from amnl_utils.engine import store as R
from amnl_utils.engine.config import TrainConfig
from amnl_utils.engine.training import make_rul_loss, predict, train

IDS = np.arange(1, 101)


def test_three_way_split_is_disjoint_and_complete():
    for seed in range(10):
        train_ids, val, dec = split_engines_with_decision(IDS, 0.2, seed)
        assert (len(train_ids), len(val), len(dec)) == (64, 16, 20)
        assert not (set(train_ids) & set(val) or set(train_ids) & set(dec) or set(val) & set(dec))
        assert np.array_equal(np.sort(np.r_[train_ids, val, dec]), IDS)


def test_ten_seeds_hold_every_engine_out_exactly_twice():
    held = np.concatenate([split_engines_with_decision(IDS, 0.2, s)[2] for s in range(10)])
    assert np.array_equal(np.bincount(held, minlength=101)[1:], np.full(100, 2))
    same_fold = [split_engines_with_decision(IDS, 0.2, s) for s in (2, 2 + DECISION_FOLDS)]
    assert np.array_equal(same_fold[0][2], same_fold[1][2])  # seed s and s + 5 share a fold …
    assert not np.array_equal(same_fold[0][1], same_fold[1][1])  # … but not their validation engines


def test_folds_are_fixed_and_near_equal():
    folds = decision_folds(np.arange(1, 250))  # FD004's 249 engines
    assert [len(f) for f in folds] == [50, 50, 50, 50, 49]
    assert all(np.array_equal(a, b) for a, b in zip(folds, decision_folds(np.arange(1, 250))))
    with pytest.raises(ValueError, match="n_folds must be"):
        decision_folds(IDS, n_folds=1)
    with pytest.raises(ValueError, match="seed must be"):
        split_engines_with_decision(IDS, 0.2, -1)


def test_window_labels_match_sliding_windows():
    units = np.repeat([1, 2, 3], [5, 2, 4])
    labels = np.arange(11.0)
    assert window_labels(units, labels, 3).tolist() == [2.0, 3.0, 4.0, 9.0, 10.0]


@pytest.fixture(scope="module")
def fd001_decision(cmapss_dir):
    return prepare("FD001", window=45, seed=3, data_dir=cmapss_dir, cycle_feature=True, decision_fold=True)


def test_prepare_holds_the_decision_engines_out_of_training_and_statistics(fd001_decision, cmapss_dir):
    d = fd001_decision
    train_ids, val_ids, dec_ids = split_engines_with_decision(IDS, 0.2, 3)
    assert set(np.unique(d.units_train)) == set(train_ids)
    assert set(np.unique(d.units_val)) == set(val_ids)
    assert set(np.unique(d.units_dec)) == set(dec_ids)
    plain = prepare("FD001", window=45, seed=3, data_dir=cmapss_dir, cycle_feature=True)
    assert plain.X_dec is None and not plain.decision_fold
    assert len(plain.y_train) > len(d.y_train)  # the decision engines were taken from training
    # the z-score statistics are those of the training engines' rows alone
    from amnl_utils.cmapss.read import SENSOR_COLUMNS, load_arrays

    raw = load_arrays("FD001", cmapss_dir).train
    rows = np.isin(raw[:, 0], train_ids)
    cols = list(SENSOR_COLUMNS) + [1]
    ref = fit_normaliser(raw[rows][:, cols], np.zeros(rows.sum(), np.int64), np.full((1, 3), np.nan))
    np.testing.assert_allclose(d.normaliser.mean, ref.mean)


def test_uncapped_rul_counts_down_to_failure_on_every_held_out_engine(fd001_decision):
    d = fd001_decision
    for units, raw, capped in ((d.units_dec, d.rul_dec_raw, d.y_dec), (d.units_val, d.rul_val_raw, d.y_val)):
        np.testing.assert_array_equal(np.minimum(raw, 125), capped)
        for u in np.unique(units):
            r = raw[units == u]
            assert r[-1] == 0 and np.all(np.diff(r) == -1)


def test_the_record_stores_every_cycle_of_the_held_out_engines(fd001_decision):
    cfg = TrainConfig(seed=3, window=45, cycle_feature=True, decision_fold=True, max_epochs=1, patience=1,
                      max_steps_per_epoch=2, warmup_epochs=0.0, loss="pinball", quantile=0.3)
    result = train(cfg, fd001_decision, progress=False, threads=1)
    eng = result.record["engines"]
    assert [e["unit"] for e in eng["decision"]] == sorted(np.unique(fd001_decision.units_dec).tolist())
    pred, _ = predict(result.model, fd001_decision.X_dec)
    flat = np.concatenate([e["y_pred"] for e in eng["decision"]])
    np.testing.assert_allclose(flat, np.round(pred, 2), atol=1e-9)
    for e in eng["decision"] + eng["val"]:
        assert len(e["y_pred"]) == e["rul_start"] + 1  # one prediction per cycle down to failure
    with pytest.raises(ValueError, match="decision_fold"):
        train(replace(cfg, decision_fold=False), fd001_decision, progress=False)


def test_rival_losses_by_name():
    y = np.array([0.0, 50.0, 125.0, 125.0], dtype=np.float32)
    p, t = torch.tensor([10.0, 40.0, 130.0, 120.0]), torch.from_numpy(y)
    pin, _ = make_rul_loss("pinball", y, quantile=0.3)
    assert float(pin(p, t)) == pytest.approx((0.7 * 10 + 0.3 * 10 + 0.7 * 5 + 0.3 * 5) / 4)
    lds, _ = make_rul_loss("lds", y)
    assert float(lds(t, t)) == 0.0
    bmc, _ = make_rul_loss("bmc", y, unit=31.25)
    assert np.isfinite(float(bmc(p / 31.25, t / 31.25)))


def test_new_settings_keep_old_ids_and_separate_new_runs():
    old = TrainConfig(loss="amnl", seed=4)
    d = R.canonical_config(old)
    assert "quantile" not in d and "decision_fold" not in d  # the ids of runs made before them stay
    assert R.run_id(old) != R.run_id(replace(old, decision_fold=True))
    pin = TrainConfig(loss="pinball", quantile=0.3)
    assert R.run_id(pin) != R.run_id(replace(pin, quantile=0.4))
    assert R.run_id(pin) == R.run_id(replace(pin, w_max=5.0, schedule="step"))  # ignored by pinball
    assert R.run_id(TrainConfig(loss="lds")) == R.run_id(TrainConfig(loss="lds", quantile=0.2))
    assert R.run_id(TrainConfig(loss="lds")) != R.run_id(TrainConfig(loss="mse"))  # w_max 1 is not MSE here
    assert R.run_path("/r", pin).name.startswith("pinball_t0.3_s0_")
    assert R.run_path("/r", TrainConfig(loss="bmc", w_max=1.0)).name.startswith("bmc_s0_")


@pytest.mark.parametrize("kw, match", [({"quantile": 1.0}, "quantile must be"), ({"quantile": True}, "quantile must be"),
                                       ({"decision_fold": 1}, "decision_fold must be")])
def test_bad_new_settings_raise(kw, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kw)

