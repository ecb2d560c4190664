"""NumPy and PyTorch losses: the worked example, parity, reduction, bad input (Methods page, "Metrics"; §14.1)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from amnl_utils.core.losses import (
    amnl_weighted_mse,
    moderate_weighted_mse_loss,
    normalised_weighted_mse,
    scaled_mse_loss,
    uniform_mse,
    weighted_mse_loss,
)
from amnl_utils.core.rivals import bmc, lds_weighted_mse, pinball

TARGET = np.array([5.0, 20.0, 50.0, 90.0, 125.0, 200.0])
PRED = TARGET + 10.0


def test_worked_example_numpy():
    loss, grad = uniform_mse(PRED, TARGET)
    assert loss == pytest.approx(100.0)
    np.testing.assert_allclose(grad, np.full(6, 10 / 3))
    loss, w, grad = amnl_weighted_mse(PRED, TARGET, max_rul=125.0)
    assert round(loss, 2) == 144.67
    np.testing.assert_allclose(w, [1.96, 1.84, 1.6, 1.28, 1.0, 1.0])
    # emphasis relative to uniform MSE is the weight itself
    np.testing.assert_allclose(grad / (10 / 3), w)


def test_worked_example_torch_gradient_equals_numpy_not_tenfold():
    p = torch.tensor(PRED, requires_grad=True)
    loss = moderate_weighted_mse_loss(p, torch.tensor(TARGET))
    loss.backward()
    _, _, grad = amnl_weighted_mse(PRED, TARGET)
    assert loss.item() == pytest.approx(144.6667, abs=1e-4)
    np.testing.assert_allclose(p.grad.numpy(), grad, rtol=1e-12)


batches = st.integers(1, 48).flatmap(
    lambda n: st.tuples(
        arrays(np.float64, n, elements=st.floats(-50, 300, allow_nan=False)),
        arrays(np.float64, n, elements=st.floats(0, 300, allow_nan=False)),
    )
)


@settings(max_examples=60, deadline=None)
@given(batch=batches, w_max=st.floats(1.0, 10.0), max_rul=st.floats(10.0, 300.0))
def test_numpy_torch_parity_on_random_batches(batch, w_max, max_rul):
    pred, target = batch
    loss_np, w_np, grad_np = amnl_weighted_mse(pred, target, max_rul=max_rul, w_max=w_max)
    p = torch.tensor(pred, requires_grad=True)
    loss_t = moderate_weighted_mse_loss(p, torch.tensor(target), max_rul=max_rul, w_max=w_max)
    loss_t.backward()
    assert loss_t.item() == pytest.approx(loss_np, rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(p.grad.numpy(), grad_np, rtol=1e-9, atol=1e-12)
    # plain-mean reduction: the loss is the batch mean of the per-sample weighted squares
    assert loss_np == pytest.approx(np.sum(w_np * (pred - target) ** 2) / len(pred), rel=1e-12)
    assert np.all((w_np >= 1) & (w_np <= w_max + 1e-12))


@settings(max_examples=40, deadline=None)
@given(batch=batches)
def test_w_max_one_is_exactly_mse(batch):
    pred, target = batch
    p1 = torch.tensor(pred, requires_grad=True)
    p2 = torch.tensor(pred, requires_grad=True)
    a = moderate_weighted_mse_loss(p1, torch.tensor(target), w_max=1.0)
    b = F.mse_loss(p2, torch.tensor(target))
    a.backward(), b.backward()
    assert a.item() == pytest.approx(b.item(), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(p1.grad.numpy(), p2.grad.numpy(), rtol=1e-12, atol=1e-15)
    loss_np, w, _ = amnl_weighted_mse(pred, target, w_max=1.0)
    assert np.all(w == 1.0) and loss_np == pytest.approx(uniform_mse(pred, target)[0], rel=1e-12)


def test_accepts_column_vectors_and_returns_0d_tensor_with_autograd():
    p = torch.tensor(PRED, dtype=torch.float32).reshape(-1, 1).requires_grad_()
    loss = moderate_weighted_mse_loss(p, torch.tensor(TARGET, dtype=torch.float32))
    assert loss.dim() == 0 and loss.requires_grad
    loss.backward()
    assert p.grad.shape == (6, 1)
    _, grad_col = uniform_mse(PRED.reshape(-1, 1), TARGET)
    assert grad_col.shape == (6, 1)


def test_plain_mean_keeps_batch_signal_normalised_form_loses_it():
    y = np.full(8, 5.0)
    assert amnl_weighted_mse(y + 10, y)[0] == pytest.approx(196.0)
    assert normalised_weighted_mse(y + 10, y) == pytest.approx(100.0)


def test_scaled_and_weighted_helpers():
    p, t = torch.tensor(PRED), torch.tensor(TARGET)
    assert scaled_mse_loss(p, t, 1.4).item() == pytest.approx(140.0)
    w = torch.linspace(1, 2, 6, dtype=torch.float64)
    assert weighted_mse_loss(p, t, w).item() == pytest.approx(float((w * 100).mean()))
    with pytest.raises(ValueError, match="scale must be"):
        scaled_mse_loss(p, t, 0.0)


@pytest.mark.parametrize(
    "pred, target, kwargs, match",
    [
        (torch.zeros(3), torch.zeros(4), {}, "differ in size"),
        (torch.zeros(0), torch.zeros(0), {}, "empty batch"),
        (torch.zeros(2), torch.tensor([1.0, float("nan")]), {}, "1 non-finite"),
        (torch.zeros(2), torch.tensor([1.0, float("inf")]), {}, "1 non-finite"),
        (torch.zeros(3), torch.tensor([1.0, -4.0, -2.0]), {}, r"2 negative values \(min -4.0\)"),
        (torch.zeros(2), torch.ones(2), {"max_rul": 0.0}, "max_rul must be"),
        (torch.zeros(2), torch.ones(2), {"w_max": 0.9}, "w_max must be"),
        (torch.zeros(2, 2), torch.ones(4), {}, r"shape \(B,\) or \(B, 1\)"),
    ],
)
def test_torch_bad_input(pred, target, kwargs, match):
    with pytest.raises(ValueError, match=match):
        moderate_weighted_mse_loss(pred, target, **kwargs)


@pytest.mark.parametrize(
    "pred, target, match",
    [
        (np.zeros(3), np.zeros(4), "differ in size"),
        (np.zeros(0), np.zeros(0), "empty batch"),
        (np.zeros(2), np.array([1.0, np.nan]), "non-finite"),
        (np.zeros(2), np.array([1.0, -1.0]), "negative"),
        (np.array([np.nan, 1.0]), np.ones(2), "pred has 1 non-finite"),
        (np.zeros((2, 2)), np.ones(4), r"shape \(B,\) or \(B, 1\)"),
    ],
)
def test_numpy_bad_input(pred, target, match):
    """Every NumPy loss, §14.5's rivals included, refuses bad input with the same message."""
    bins = np.ones(126)
    for fn in (amnl_weighted_mse, uniform_mse, lambda p, t: lds_weighted_mse(p, t, bins), lambda p, t: bmc(p, t, 1.0),
               lambda p, t: pinball(p, t, 0.3)):
        with pytest.raises(ValueError, match=match):
            fn(pred, target)


def test_fused_autograd_matches_the_plain_formula_in_float32_and_for_target_grads():
    g = torch.Generator().manual_seed(0)
    t = (torch.rand(5000, generator=g) * 200).requires_grad_()
    p = (t.detach() + torch.randn(5000, generator=g) * 15).requires_grad_()
    moderate_weighted_mse_loss(p, t, w_max=3.0).backward()
    p2, t2 = p.detach().clone().requires_grad_(), t.detach().clone().requires_grad_()
    from amnl_utils.core.weights import linear_weight_torch

    plain = (linear_weight_torch(t2, w_max=3.0) * (p2 - t2).square()).mean()
    plain.backward()
    torch.testing.assert_close(p.grad, p2.grad, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(t.grad, t2.grad, rtol=1e-5, atol=1e-7)


def test_mixed_dtypes_are_promoted():
    p = torch.tensor(PRED, dtype=torch.float32, requires_grad=True)
    loss = moderate_weighted_mse_loss(p, torch.tensor(TARGET, dtype=torch.float64))
    assert loss.dtype == torch.float64 and round(loss.item(), 2) == 144.67
    loss.backward()
    assert p.grad.dtype == torch.float32
