"""Training loop: loss selection and units, lr schedule, determinism, validation-only selection,
early stopping, clipping and balance records, divergence, weight averaging, the test-free mode."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from amnl_utils.core.constants import R_MAX
from amnl_utils.core.losses import moderate_weighted_mse_loss, weighted_mse_loss
from amnl_utils.core.weights import SCHEDULES, mean_weight
from amnl_utils.core.weights import schedule_weight_torch as sample_weights
from amnl_utils.engine.config import TrainConfig
from amnl_utils.engine.model import RUL_SCALE, DualTaskModel, FixedWeightLoss
from amnl_utils.engine.training import gradient_balance, lr_lambda, make_rul_loss, train, train_step

TINY = dict(max_epochs=3, patience=2, batch_size=32, warmup_epochs=0.0)


def synthetic(n_train=256, n_val=96, n_test=20, window=30, seed=0):
    """A PreparedData look-alike: windows whose mean sensor value tracks the RUL."""
    rng = np.random.default_rng(seed)

    def split(n):
        y = rng.uniform(0, 125, n).astype(np.float32)
        X = (rng.normal(0, 1, (n, window, 14)) + (y / 125.0)[:, None, None]).astype(np.float32)
        h = np.where(y > 80, 0, np.where(y > 30, 1, 2)).astype(np.int64)
        return X, y, h

    (Xt, yt, ht), (Xv, yv, hv), (Xs, ys, hs), (Xn, yn, _) = split(n_train), split(n_val), split(n_test), split(12)
    return SimpleNamespace(
        subset="FD001", X_train=Xt, y_train=yt, h_train=ht, X_val=Xv, y_val=yv, h_val=hv,
        X_test=Xs, y_test=ys, h_test=hs, units_test=np.arange(1, n_test + 1),
        X_test_nf=Xn, y_test_nf=np.minimum(yn, 30).astype(np.float32), units_test_nf=np.repeat([1, 2, 3], 4),
    )


def test_rul_losses_by_name_in_cycles():
    y = np.array([0.0, 50.0, 125.0, 200.0], dtype=np.float32)
    p = torch.tensor([10.0, 40.0, 130.0, 150.0])
    t = torch.from_numpy(y)
    mse, s = make_rul_loss("mse", y)
    scaled, s2 = make_rul_loss("scaled_mse", y)
    amnl, _ = make_rul_loss("amnl", y, w_max=3.0)
    assert s == s2 == pytest.approx(mean_weight(y)) == pytest.approx((2 + 1.6 + 1 + 1) / 4)
    assert float(scaled(p, t)) == pytest.approx(s * float(mse(p, t)))
    assert float(amnl(p, t)) == pytest.approx(float(moderate_weighted_mse_loss(p, t, w_max=3.0)))
    with pytest.raises(ValueError, match="unknown RUL loss"):
        make_rul_loss("huber", y)


@pytest.mark.parametrize("unit", [RUL_SCALE, 31.25])
@pytest.mark.parametrize("name", ["mse", "scaled_mse", "amnl"])
def test_loss_in_other_units_is_the_cycles_loss_over_unit_squared(name, unit):
    """Regressing y / unit changes the loss by exactly 1 / unit² and nothing else (weights included)."""
    y = np.array([3.0, 40.0, 90.0, 125.0], dtype=np.float32)
    p, t = torch.tensor([10.0, 35.0, 100.0, 118.0], dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    in_cycles, _ = make_rul_loss(name, y)
    in_units, _ = make_rul_loss(name, y, unit=unit)
    assert float(in_units(p / unit, t / unit)) == pytest.approx(float(in_cycles(p, t)) / unit**2, rel=1e-12)


@pytest.mark.parametrize("unit", [RUL_SCALE, 31.25])
def test_train_step_regresses_the_rul_in_the_given_unit(unit):
    torch.manual_seed(0)
    model = DualTaskModel("compact")
    x, y, h = torch.randn(8, 30, 14), torch.rand(8) * 125, torch.randint(0, 3, (8,))
    with torch.no_grad():
        model.train()
        torch.manual_seed(5)
        cycles, _ = model(x)
    loss, _ = make_rul_loss("amnl", y.numpy(), unit=unit)
    torch.manual_seed(5)  # same dropout masks as above
    out = train_step(model, (x, y, h), loss, FixedWeightLoss(), torch.optim.SGD(model.parameters(), lr=0.0),
                     unit=unit)
    expected = float(moderate_weighted_mse_loss(cycles.double(), y.double())) / unit**2
    assert out["rul_loss"] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_every_schedule_weights_the_batch_with_its_numpy_definition(schedule):
    y = np.array([0.0, 20.0, 55.0, 100.0, 125.0], dtype=np.float32)
    t = torch.tensor(y, dtype=torch.float64)
    p = t + torch.tensor([5.0, -3.0, 2.0, 7.0, -1.0], dtype=torch.float64)
    loss, scale = make_rul_loss("amnl", y, w_max=2.5, schedule_name=schedule)
    w = SCHEDULES[schedule](y.astype(np.float64), w_max=2.5)
    assert float(loss(p, t)) == pytest.approx(float(np.mean(w * (p - t).numpy() ** 2)), rel=1e-12)
    assert scale == pytest.approx(float(np.mean(w)))
    np.testing.assert_array_equal(sample_weights(t, schedule, R_MAX, 2.5).numpy(), w)


def test_linear_schedule_path_equals_the_generic_weighted_path():
    y = torch.tensor([0.0, 0.2, 0.7, 1.0, 1.3], dtype=torch.float64)  # in units of R_max
    p = y + 0.05
    fused = moderate_weighted_mse_loss(p, y, max_rul=1.0, w_max=2.0)
    generic = weighted_mse_loss(p, y, sample_weights(y, "linear", 1.0, 2.0))
    assert float(fused) == pytest.approx(float(generic), rel=1e-12)


@pytest.mark.parametrize(
    "kw, match",
    [({"loss": "l1"}, "unknown RUL loss"), ({"patience": 0}, "patience"), ({"window": 0}, "window"),
     ({"max_steps_per_epoch": 0}, "max_steps_per_epoch"), ({"lr": 0.0}, "lr"), ({"schedule": "cubic"}, "schedule"),
     ({"lr_schedule": "step"}, "lr_schedule"), ({"ema_decay": 1.0}, "ema_decay"), ({"w_max": 0.5}, "w_max"),
     ({"warmup_epochs": 40.0}, "warmup_epochs")],
)
def test_bad_config_raises(kw, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kw)


def test_lr_schedule_warms_up_then_decays_by_cosine():
    cfg = TrainConfig(max_epochs=10, warmup_epochs=1.0, lr_final=0.01)
    f = lr_lambda(cfg, steps_per_epoch=10)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)  # linear warm-up over 10 steps
    assert f(10) == pytest.approx(1.0)
    assert f(55) == pytest.approx(0.01 + 0.99 * 0.5)  # half way through the cosine
    assert f(100) == pytest.approx(0.01) and f(500) == pytest.approx(0.01)
    values = [f(k) for k in range(10, 101)]
    assert all(a >= b for a, b in zip(values, values[1:]))
    assert lr_lambda(TrainConfig(lr_schedule="constant"), 10)(37) == 1.0


def test_train_step_records_clipping_and_balance():
    torch.manual_seed(0)
    model = DualTaskModel("compact")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = [p.detach().clone() for p in model.parameters()]
    x, y, h = torch.randn(8, 30, 14), torch.rand(8) * 125, torch.randint(0, 3, (8,))
    mse = lambda a, b: torch.nn.functional.mse_loss(a, b)  # noqa: E731
    out = train_step(model, (x, y, h), mse, FixedWeightLoss(), opt, clip_norm=1e-3, measure_balance=True)
    assert out["loss"] == pytest.approx(0.5 * out["rul_loss"] + 0.5 * out["ce"], rel=1e-5)
    assert out["clipped"] and out["grad_norm"] > 1e-3 and out["finite"]
    total_norm = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters() if p.grad is not None))
    assert float(total_norm) <= 1e-3 * (1 + 1e-4)  # clipped in place
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert out["balance_rul"] > 0 and out["balance_ce"] > 0


def test_gradient_balance_reads_each_term_without_touching_grads():
    torch.manual_seed(0)
    model = DualTaskModel("compact")
    x, h = torch.randn(6, 30, 14), torch.randint(0, 3, (6,))
    pred, logits = model.forward_scaled(x)
    rul_term = 0.5 * (pred - 0.3).square().mean()
    ce_term = 0.5 * torch.nn.functional.cross_entropy(logits, h)
    g_rul, g_ce = gradient_balance(model, rul_term, ce_term)
    assert all(p.grad is None for p in model.parameters())
    rul_term.backward()
    trunk = [p for m in ("cnn", "bilstm", "attention", "attn_norm", "funnel") for p in getattr(model, m).parameters()]
    assert g_rul == pytest.approx(float(torch.sqrt(sum((p.grad.double() ** 2).sum() for p in trunk))), rel=1e-6)
    assert g_ce > 0


def test_train_record_and_determinism():
    data = synthetic()
    cfg = TrainConfig(loss="amnl", seed=3, **TINY)
    r1 = train(cfg, data, progress=False, threads=1).record
    r2 = train(cfg, data, progress=False, threads=1).record
    assert r1["predictions"] == r2["predictions"] and r1["curves"] == r2["curves"]
    assert r1["config"]["loss"] == "amnl" and r1["device"] in ("cpu", "cuda")
    assert len(r1["predictions"]["y_pred"]) == 20 and len(r1["predictions"]["nf"]["y_pred"]) == 12
    for k in ("rmse", "nasa", "nf_rmse", "late_count", "bucket", "health_acc", "health_f1", "nf_rmse_all",
              "late_count_all"):
        assert k in r1["test"]
    vals = [c["val_rmse"] for c in r1["curves"]]
    assert r1["stopping"]["best_epoch"] == int(np.argmin(vals)) + 1
    assert r1["stopping"]["best_val_rmse"] == min(vals) == r1["val"]["rmse"]  # the kept weights
    assert r1["loss_scale"] == pytest.approx(mean_weight(data.y_train))
    assert r1["stopping"]["steps_per_epoch"] == 8  # full passes: 256 windows / batch 32
    assert 0 <= r1["clipped_fraction"] <= 1
    assert all(c["balance_rul"] > 0 and c["balance_ce"] > 0 for c in r1["curves"])
    assert all(0 <= p <= R_MAX for p in r1["predictions"]["y_pred"])  # clipped to [0, R_max]


def test_test_set_does_not_influence_selection():
    """Model selection reads validation only: scrambling the test labels changes nothing but test metrics."""
    data = synthetic()
    cfg = TrainConfig(seed=1, **TINY)
    a = train(cfg, data, progress=False, threads=1).record
    data.y_test = data.y_test[::-1].copy()
    b = train(cfg, data, progress=False, threads=1).record
    assert a["curves"] == b["curves"] and a["stopping"] == b["stopping"]
    assert a["predictions"]["y_pred"] == b["predictions"]["y_pred"]
    assert a["test"]["rmse"] != b["test"]["rmse"]


def test_tuning_mode_never_reads_the_test_windows():
    data = synthetic()
    for name in ("X_test", "y_test", "h_test", "X_test_nf", "y_test_nf", "units_test_nf", "units_test"):
        delattr(data, name)  # any read would raise AttributeError
    rec = train(TrainConfig(seed=0, evaluate_test=False, **TINY), data, progress=False, threads=1).record
    assert rec["test"] is None and rec["predictions"] is None and math.isfinite(rec["val"]["rmse"])


def test_early_stopping_respects_patience():
    data = synthetic()
    rec = train(TrainConfig(max_epochs=12, patience=1, batch_size=64, warmup_epochs=0.0), data, progress=False,
                threads=1).record
    s = rec["stopping"]
    assert s["epochs_run"] <= s["best_epoch"] + 1
    assert s["epochs_run"] == 12 or s["epochs_run"] == s["best_epoch"] + 1


def test_divergence_stops_the_run_and_keeps_the_best_weights(monkeypatch):
    import amnl_utils.engine.training as T

    real = T.make_rul_loss

    def blows_up_in_epoch_3(*args, **kwargs):  # 8 steps per epoch: steps 17+ give NaN
        loss, scale = real(*args, **kwargs)
        calls = [0]

        def f(p, t):
            calls[0] += 1
            return loss(p, t) * (float("nan") if calls[0] > 17 else 1.0)

        return f, scale

    monkeypatch.setattr(T, "make_rul_loss", blows_up_in_epoch_3)
    rec = train(TrainConfig(max_epochs=6, patience=6, batch_size=32, warmup_epochs=0.0), synthetic(),
                progress=False, threads=1).record
    assert rec["stopping"]["diverged"] and rec["stopping"]["epochs_run"] == 2
    assert rec["stopping"]["best_epoch"] in (1, 2)
    assert all(math.isfinite(p) for p in rec["predictions"]["y_pred"])


def test_divergence_is_detected_on_a_nan_loss():
    torch.manual_seed(0)
    model = DualTaskModel("compact")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = [p.detach().clone() for p in model.parameters()]
    nan_loss = lambda a, b: (a - b).square().mean() * float("nan")  # noqa: E731
    out = train_step(model, (torch.randn(4, 30, 14), torch.rand(4) * 100, torch.zeros(4, dtype=torch.long)),
                     nan_loss, FixedWeightLoss(), opt)
    assert out["finite"] is False
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # no update


def test_weight_averaging_selects_the_average():
    data = synthetic()
    plain = train(TrainConfig(seed=0, **TINY), data, progress=False, threads=1).record
    avg = train(TrainConfig(seed=0, ema_decay=0.9, **TINY), data, progress=False, threads=1).record
    # the same training trajectory (train losses) but other validated weights
    assert [c["train_loss"] for c in plain["curves"]] == [c["train_loss"] for c in avg["curves"]][: len(plain["curves"])]
    assert plain["curves"][0]["val_rmse"] != avg["curves"][0]["val_rmse"]


def test_subset_and_window_mismatch_raise():
    with pytest.raises(ValueError, match="FD002"):
        train(TrainConfig(subset="FD002", **TINY), synthetic(), progress=False)
    with pytest.raises(ValueError, match="45"):
        train(TrainConfig(window=45, **TINY), synthetic(), progress=False)


def test_one_real_fd001_run_end_to_end(cmapss_dir):
    rec = train(TrainConfig(seed=0, max_steps_per_epoch=4, window=40, cycle_feature=True, **TINY),
                data_dir=str(cmapss_dir), progress=False, threads=1).record
    assert len(rec["predictions"]["unit"]) == 100
    assert rec["model"]["n_features"] == 15
    assert rec["loss_scale"] == pytest.approx(1.36, abs=0.03)  # FD001 at w_max = 2
    assert rec["test"]["n_engines"] == 25  # FD001 test engines within 30 cycles of failure
    assert np.isfinite(rec["test"]["rmse"])
