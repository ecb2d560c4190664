"""§14.3's optimiser demonstrations (amnl_utils.analysis.optimiser): Adam's scale invariance, SGD's stability
limit, clipping, the tilt, the dual-task balance. Synthetic data; every run is tiny."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from amnl_utils.analysis import optimiser as O  # noqa: E402
from amnl_utils.core.weights import linear_weight  # noqa: E402


@pytest.fixture(scope="module")
def problem() -> O.LinearProblem:
    """64 windows of 4 cycles × 3 features; RUL a noisy linear rule of the last cycle, capped."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4, 3)).astype(np.float32)
    y = np.clip(70 + X[:, -1, :].astype(float) @ [30.0, -15.0, 5.0] + rng.normal(0, 20, 64), 0, 125)
    return O.linear_problem(X, y)


def test_adam_ignores_a_loss_scale_and_sgd_does_not(problem):
    ref = O.run(problem, w_max=2.0, steps=60)
    scaled = O.run(problem, w_max=2.0, loss_scale=10.0, steps=60)
    assert O.trajectory_gap(ref, scaled).max() < 1e-6
    sgd = O.run(problem, w_max=2.0, optimiser="sgd", lr=0.01, steps=60)
    sgd_scaled = O.run(problem, w_max=2.0, loss_scale=1.36, optimiser="sgd", lr=0.01, steps=60)
    assert O.trajectory_gap(sgd, sgd_scaled).max() > 1e-3
    rows = O.scale_invariance(problem, scales=(1.36, 10.0), steps=40)
    assert [(r["optimiser"], r["c"]) for r in rows] == [("adam", 1.36), ("adam", 10.0), ("sgd", 1.36), ("sgd", 10.0)]
    assert all(r["max_gap"] < 1e-6 for r in rows if r["optimiser"] == "adam")


def test_adam_first_step_moves_every_parameter_by_lr(problem):
    # step 1: m_hat = g, v_hat = g², so the update is lr * g / (|g| + eps) = lr * sign(g)
    t = O.run(problem, w_max=3.0, steps=1, lr=0.01)
    np.testing.assert_allclose(np.abs(np.diff(t.params, axis=0)), 0.01, rtol=1e-6)


def test_sgd_step_is_lr_times_scaled_gradient(problem):
    theta0 = O.initial_parameters(problem).numpy()
    g = O.loss_gradient(problem, theta0, w_max=2.0)
    t = O.run(problem, w_max=2.0, loss_scale=3.0, optimiser="sgd", lr=0.001, steps=1)
    np.testing.assert_allclose(t.params[1] - t.params[0], -0.001 * 3.0 * g, rtol=1e-10)


def test_gradient_is_the_weighted_least_squares_gradient(problem):
    theta = O.initial_parameters(problem).numpy()
    A, target = problem.A.numpy(), problem.target.numpy()
    w = linear_weight(problem.y, w_max=4.0)
    expected = 2 / len(w) * A.T @ (w * (A @ theta - target))
    np.testing.assert_allclose(O.loss_gradient(problem, theta, 4.0), expected, rtol=1e-10)


def test_hessian_matches_autograd(problem):
    # the loss written with the elementwise PyTorch twins (the fused AMNL function has no double backward)
    from amnl_utils.core.losses import weighted_mse_loss
    from amnl_utils.core.weights import linear_weight_torch

    w = linear_weight_torch(problem.target, max_rul=125.0 / problem.unit, w_max=3.0)
    theta = O.initial_parameters(problem)
    auto = torch.autograd.functional.hessian(lambda t: weighted_mse_loss(problem.A @ t, problem.target, w), theta).numpy()
    np.testing.assert_allclose(O.hessian(problem, 3.0), auto, rtol=1e-9, atol=1e-12)


def test_sgd_stability_limit_separates_convergence_from_divergence(problem):
    limit = O.sgd_stability_limit(problem, 3.0)
    assert not O.run(problem, w_max=3.0, optimiser="sgd", lr=0.9 * limit, steps=400).diverged
    assert O.run(problem, w_max=3.0, optimiser="sgd", lr=1.1 * limit, steps=400).diverged
    # more weight on some samples raises the curvature, so the limit falls
    assert O.sgd_stability_limit(problem, 5.0) < limit < O.sgd_stability_limit(problem, 1.0)


def test_step_sizes(problem):
    rows = O.step_sizes(problem, w_maxes=(1.0, 10.0), steps=50)
    assert all(r["adam_max_step"] == pytest.approx(O.LR["adam"], rel=0.05) for r in rows)
    assert rows[1]["sgd_lr_limit"] < rows[0]["sgd_lr_limit"]


def test_clipping_on_every_step_restores_invariance(problem):
    # a clip that always binds feeds Adam g/|g| * tau in both runs: the same numbers
    out = O.clipping(problem, c=10.0, clip_norm=1e-3, steps=30)
    assert out["clipped_plain"] == out["clipped_scaled"] == 30 and out["first_mismatch"] is None
    assert out["gap"].max() < 1e-6  # equal up to the eps of Adam and of the clip


def test_clipping_breaks_invariance_from_the_first_mismatch(problem):
    norms = O.run(problem, w_max=2.0, steps=80).grad_norms
    tau = float(np.quantile(norms, 0.5))  # binds on some steps of L, on more of 100·L
    out = O.clipping(problem, c=100.0, clip_norm=tau, steps=80)
    k = out["first_mismatch"]
    assert k is not None and out["clipped_scaled"] > out["clipped_plain"]
    assert out["gap"][: k + 1].max() < 1e-6  # the runs agree up to and including that step's start
    assert out["gap"].max() > 1e-4


def test_tilt(problem):
    rows = O.tilt(problem, problem.y, w_maxes=(1.0, 4.0), steps=150)
    mse, amnl, scaled = rows
    assert (mse["loss"], amnl["loss"], scaled["loss"]) == ("MSE", "amnl", "scaled_mse")
    assert mse["cos_to_mse"] == pytest.approx(1.0) and scaled["cos_to_mse"] == pytest.approx(1.0)
    assert amnl["cos_to_mse"] < 1 - 1e-3
    assert scaled["c"] == pytest.approx(float(np.mean(linear_weight(problem.y, w_max=4.0))))
    for key in ("RUL ≤ 30", "RUL > 80", "all"):
        assert scaled[key] == pytest.approx(mse[key], abs=1e-5)  # Adam: the scale changes nothing


def test_bucket_rmse_by_hand(problem):
    theta = np.zeros(problem.A.shape[1])
    theta[0] = 100.0 / problem.unit  # predicts 100 cycles for every window
    out = O.bucket_rmse(problem, theta)
    near = problem.y <= 30
    assert out["RUL ≤ 30"] == pytest.approx(np.sqrt(np.mean((100 - problem.y[near]) ** 2)))
    assert out["all"] == pytest.approx(np.sqrt(np.mean((100 - problem.y) ** 2)))


def test_cosine():
    assert O.cosine([1, 0], [0, 2]) == 0 and O.cosine([1, 1], [2, 2]) == pytest.approx(1)
    with pytest.raises(ValueError, match="zero vector"):
        O.cosine([0, 0], [1, 1])


def test_dual_task_balance_on_a_small_batch():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(16, 30, 14, generator=gen)
    y = torch.linspace(0, 125, 16)
    h = torch.tensor([2] * 4 + [1] * 6 + [0] * 6)
    y_train = np.linspace(0, 125, 200)
    threads = torch.get_num_threads()
    rows = O.dual_task_balance(x, y, h, y_train, w_maxes=(1.0, 3.0))
    assert torch.get_num_threads() == threads
    one, three = rows
    assert one["rul_amnl"] == pytest.approx(one["rul_scaled"], rel=1e-5)  # w_max = 1: both are MSE
    assert one["ce"] == three["ce"]  # the CE term does not depend on the RUL loss
    # scaled MSE multiplies the RUL term, hence its gradient, by c = mean weight (2 here: uniform y)
    assert three["c"] == pytest.approx(2.0, rel=1e-3)
    assert three["rul_scaled"] == pytest.approx(three["c"] * one["rul_scaled"], rel=1e-5)
    assert three["ratio_scaled"] == pytest.approx(three["rul_scaled"] / three["ce"])


def test_bad_arguments(problem):
    with pytest.raises(ValueError, match="optimiser"):
        O.run(problem, optimiser="rmsprop")
    with pytest.raises(ValueError, match="loss_scale"):
        O.run(problem, loss_scale=0.0)
    with pytest.raises(ValueError, match="steps"):
        O.run(problem, steps=0)
    with pytest.raises(ValueError, match="clip_norm"):
        O.run(problem, clip_norm=-1.0)
    with pytest.raises(ValueError, match="shape"):
        O.linear_problem(np.zeros((4, 2, 3)), np.zeros(5))


def test_key_numbers_format_and_guard_the_prose(problem):
    from amnl_utils.analysis.gradients import gradient_spread
    from amnl_utils.analysis.weight_moments import moment_table

    y = problem.y
    r = np.linspace(-20, 20, len(y))
    moments = moment_table(y, w_maxes=(1.0, 2.0), n=1000)
    spread = gradient_spread(y, r, w_maxes=(1.0, 2.0))
    scale = O.scale_invariance(problem, scales=(10.0,), steps=30)
    tilt_rows = O.tilt(problem, y, w_maxes=(1.0, 2.0), steps=30)
    steps = O.step_sizes(problem, w_maxes=(1.0,), steps=30)
    norms = O.run(problem, w_max=2.0, steps=40).grad_norms
    clip = O.clipping(problem, c=100.0, clip_norm=float(np.quantile(norms, 0.5)), steps=40)
    clip["gap"][-1] = 0.0  # pretend the runs met again at the end (the real problem's runs do)
    gen = torch.Generator().manual_seed(0)
    balance = O.dual_task_balance(torch.randn(8, 30, 14, generator=gen), torch.linspace(0, 125, 8),
                                  torch.tensor([2, 2, 1, 1, 0, 0, 0, 0]), np.linspace(0, 125, 50), w_maxes=(1.0,))
    k = O.key_numbers(moments, spread, scale, tilt_rows, steps, clip, balance)
    assert k["ew2_uniform_w2"] == "2.33"  # (1 + 2 + 4) / 3
    assert k["tail_w1"] == f"{spread[0]['p99/median']:.2f}"
    assert k["adam_lr"] == "0.01" and k["sgd_lr"] == "0.03"
    assert k["first_mismatch"] == str(clip["first_mismatch"])
    assert k["ratio_amnl_w1"] == k["ratio_scaled_w1"]  # w_max = 1: AMNL is MSE
    bad = [dict(row, max_gap=1.0) if row["optimiser"] == "adam" else row for row in scale]
    with pytest.raises(ValueError, match="Adam gap"):
        O.key_numbers(moments, spread, bad, tilt_rows, steps, clip, balance)
    clip["gap"][-1] = 1.0
    with pytest.raises(ValueError, match="same minimum"):
        O.key_numbers(moments, spread, scale, tilt_rows, steps, clip, balance)


def test_dual_task_balance_regresses_in_the_given_unit():
    """A unit of R_max / 4 multiplies the RUL loss, and so its gradient, by exactly 16."""
    gen = torch.Generator().manual_seed(3)
    x, y = torch.randn(8, 30, 14, generator=gen), torch.linspace(0, 125, 8)
    h, y_train = torch.randint(0, 3, (8,), generator=gen), np.linspace(0, 125, 50)
    at_rmax = O.dual_task_balance(x, y, h, y_train, w_maxes=(2.0,), unit=125.0)[0]
    at_quarter = O.dual_task_balance(x, y, h, y_train, w_maxes=(2.0,), unit=31.25)[0]
    assert at_quarter["rul_amnl"] == pytest.approx(16 * at_rmax["rul_amnl"], rel=1e-5)
    assert at_quarter["ce"] == pytest.approx(at_rmax["ce"], rel=1e-9)
