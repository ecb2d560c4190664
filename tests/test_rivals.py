"""§14.5's rival losses: hand-worked examples from each paper's definition, NumPy vs PyTorch
(loss and gradient), and the bad-input behaviour of the existing losses."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from amnl_utils.core.rivals import (
    bmc,
    bmc_loss,
    lds_bin_weights,
    lds_kernel,
    lds_weighted_mse,
    lds_weighted_mse_loss,
    pinball,
    pinball_loss,
)


def torch_grad(fn, pred: np.ndarray, target: np.ndarray, *args):
    p = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    loss = fn(p, torch.tensor(target, dtype=torch.float64), *args)
    loss.backward()
    return float(loss.detach()), p.grad.numpy()


# --------------------------------------------------------------------------- LDS


def test_lds_kernel_is_the_stated_gaussian():
    np.testing.assert_allclose(lds_kernel(), [math.exp(-0.5), math.exp(-0.125), 1.0, math.exp(-0.125), math.exp(-0.5)])


def test_lds_hand_worked_two_bins():
    # labels {0, 1, 1, 1}: √n = (1, √3); smoothed s0 = 1 + √3 e^{-1/8}, s1 = e^{-1/8} + √3;
    # w ∝ 1/s, scaled so that the mean over the four labels is 1.
    k1 = math.exp(-1 / 8)
    s0, s1 = 1 + math.sqrt(3) * k1, k1 + math.sqrt(3)
    mean = (1 / s0 + 3 / s1) / 4
    w = lds_bin_weights(np.array([0.0, 1.0, 1.0, 1.0]), max_rul=1.0)
    np.testing.assert_allclose(w, [1 / s0 / mean, 1 / s1 / mean])
    assert w[0] > w[1]  # the rarer label weighs more


def test_lds_on_a_capped_label_set_turns_the_plateau_down_and_averages_one():
    # one engine's labels per cycle, 200 cycles long, capped at 125: 0..124 once, 125 76 times
    y = np.minimum(np.arange(200)[::-1], 125).astype(np.float64)
    w = lds_bin_weights(y, max_rul=125)
    assert w.shape == (126,)
    assert np.mean(w[np.rint(y).astype(int)]) == pytest.approx(1.0)
    assert w[125] < 0.5 * w[60]  # the plateau is turned down
    np.testing.assert_allclose(w[10:110], w[60], rtol=1e-12)  # uniform labels get one weight


def test_lds_numpy_torch_parity_loss_and_gradient():
    rng = np.random.default_rng(3)
    y_train = np.minimum(rng.integers(0, 300, 500), 125).astype(np.float64)
    bins = lds_bin_weights(y_train)
    target = np.minimum(rng.integers(0, 200, 64), 125).astype(np.float64)
    pred = target + rng.normal(0, 15, 64)
    loss, grad = lds_weighted_mse(pred, target, bins)
    unit = 31.25
    p = torch.tensor(pred / unit, requires_grad=True)
    tl = lds_weighted_mse_loss(p, torch.tensor(target / unit), torch.tensor(bins), unit)
    tl.backward()
    assert float(tl.detach()) * unit**2 == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(p.grad.numpy() * unit, grad, rtol=1e-10)


def test_lds_refuses_bad_labels():
    with pytest.raises(ValueError, match="y_train has 1 negative"):
        lds_bin_weights(np.array([1.0, -2.0]))
    with pytest.raises(ValueError, match="y_train is empty"):
        lds_bin_weights(np.array([]))
    with pytest.raises(ValueError, match="odd positive integer"):
        lds_kernel(4)


# --------------------------------------------------------------------------- BMC


def test_bmc_hand_worked_batch_of_two():
    # pred (0, 1), target (0, 2), σ = 1: logits row 0 = (0, -2), row 1 = (-1/2, -1/2);
    # CE = (log(1 + e^-2) + log 2) / 2, times 2σ² = 2.
    expected = math.log(1 + math.exp(-2)) + math.log(2)
    loss, grad = bmc(np.array([0.0, 1.0]), np.array([0.0, 2.0]), sigma=1.0)
    assert loss == pytest.approx(expected, rel=1e-12)
    # ∂L/∂ŷ_i = (2/B) Σ_j P_ij (y_j - y_i): row 0: P_01 = e^-2/(1+e^-2), (2 - 0); row 1: ½ (0 - 2)
    p01 = math.exp(-2) / (1 + math.exp(-2))
    np.testing.assert_allclose(grad, [p01 * 2, 0.5 * -2], rtol=1e-12)


def test_bmc_numpy_torch_parity_and_its_scale_equivalence():
    rng = np.random.default_rng(4)
    target = rng.uniform(0, 125, 32)
    pred = target + rng.normal(0, 10, 32)
    loss, grad = bmc(pred, target, 12.5)
    tl, tg = torch_grad(bmc_loss, pred, target, 12.5)
    assert tl == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(tg, grad, rtol=1e-9, atol=1e-12)
    # the same loss in units of 31.25 cycles, σ in those units, is the cycle loss / 31.25²
    scaled, _ = bmc(pred / 31.25, target / 31.25, 12.5 / 31.25)
    assert scaled * 31.25**2 == pytest.approx(loss, rel=1e-10)


def test_bmc_refuses_a_bad_sigma():
    with pytest.raises(ValueError, match="sigma must be"):
        bmc(np.zeros(2), np.ones(2), 0.0)
    with pytest.raises(ValueError, match="sigma must be"):
        bmc_loss(torch.zeros(2), torch.ones(2), float("nan"))


# --------------------------------------------------------------------------- pinball


def test_pinball_hand_worked_late_costs_more_than_early():
    # τ = 0.3: ten cycles late costs 0.7 · 10, ten cycles early 0.3 · 10; the mean is 5
    loss, grad = pinball(np.array([10.0, 0.0]), np.array([0.0, 10.0]), 0.3)
    assert loss == pytest.approx(5.0)
    np.testing.assert_allclose(grad, [0.7 / 2, -0.3 / 2])


def test_pinball_minimiser_is_the_quantile():
    y = np.arange(1.0, 11.0)  # 1..10
    grid = np.linspace(0, 11, 1101)
    losses = [pinball(np.full(10, c), y, 0.3)[0] for c in grid]
    best = grid[int(np.argmin(losses))]
    assert 3.0 <= best <= 4.0  # any point between the 3rd and 4th order statistics


def test_pinball_numpy_torch_parity_including_the_kink():
    rng = np.random.default_rng(5)
    target = rng.uniform(0, 125, 40)
    pred = target + rng.normal(0, 10, 40)
    pred[:3] = target[:3]  # exact predictions: the kink
    for tau in (0.3, 0.4):
        loss, grad = pinball(pred, target, tau)
        tl, tg = torch_grad(pinball_loss, pred, target, tau)
        assert tl == pytest.approx(loss, rel=1e-12)
        np.testing.assert_allclose(tg, grad, rtol=1e-12)


@pytest.mark.parametrize("tau", [0.0, 1.0, -0.1, True, float("nan")])
def test_pinball_refuses_a_bad_tau(tau):
    with pytest.raises(ValueError, match="tau must be"):
        pinball(np.zeros(2), np.ones(2), tau)


# --------------------------------------------------------------------------- shared bad input
# (the NumPy rivals are in tests/test_losses.py::test_numpy_bad_input, beside the existing losses)


@pytest.mark.parametrize(
    "pred, target, error, match",
    [
        (torch.zeros(3), torch.zeros(4), ValueError, "differ in size"),
        (torch.zeros(0), torch.zeros(0), ValueError, "empty batch"),
        (torch.zeros(2), torch.tensor([1.0, float("nan")]), ValueError, "1 non-finite"),
        (torch.zeros(3), torch.tensor([1.0, -4.0, -2.0]), ValueError, r"2 negative values \(min -4.0\)"),
        (torch.tensor([float("nan"), 0.0]), torch.ones(2), ValueError, "pred has 1 non-finite"),
        (torch.zeros(2, dtype=torch.int64), torch.ones(2), TypeError, "floating-point tensors only"),
    ],
)
def test_torch_rivals_refuse_bad_input_like_the_existing_losses(pred, target, error, match):
    bins = torch.ones(126)
    for fn in (lambda p, t: lds_weighted_mse_loss(p, t, bins), lambda p, t: bmc_loss(p, t, 1.0),
               lambda p, t: pinball_loss(p, t, 0.3)):
        with pytest.raises(error, match=match):
            fn(pred, target)
