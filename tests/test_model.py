"""DualTaskModel: shapes, per-block parameter counts against hand-computed formulas, presets, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from amnl_utils.core.optional import EXTRAS, require
from amnl_utils.engine.model import (
    PRESETS,
    RUL_SCALE,
    DualTaskModel,
    FixedWeightLoss,
    ModelConfig,
    get_config,
    last_query_attention,
    parameter_table,
)


def lstm_params(n_in: int, h: int, layers: int) -> int:
    """Bidirectional nn.LSTM: per direction and layer 4h(n_in + h) weights + 2·4h biases."""
    total, d_in = 0, n_in
    for _ in range(layers):
        total += 2 * (4 * h * (d_in + h) + 8 * h)
        d_in = 2 * h
    return total


def cnn_params(n_in: int, channels: tuple[int, ...]) -> int:
    """Conv1d(k=3) weights + bias, BatchNorm weight + bias, per layer."""
    total, c_in = 0, n_in
    for c in channels:
        total += c_in * c * 3 + c + 2 * c
        c_in = c
    return total


def linear_chain(widths: list[int]) -> int:
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_forward_shapes_and_nonnegative_rul(preset):
    torch.manual_seed(0)
    model = DualTaskModel(preset).eval()
    rul, logits = model(torch.randn(5, 30, 14))
    assert rul.shape == (5,)
    assert logits.shape == (5, 3)
    assert (rul >= 0).all()


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_parameter_blocks_match_hand_formulas(preset):
    cfg = get_config(preset)
    table = parameter_table(DualTaskModel(preset))
    d = cfg.d_model
    assert table["cnn"] == cnn_params(14, cfg.cnn_channels)
    assert table["bilstm"] == lstm_params(cfg.cnn_channels[-1], cfg.lstm_hidden, cfg.lstm_layers)
    # in-projection 3d² + 3d, out-projection d² + d, LayerNorm 2d
    assert table["attention"] == 4 * d * d + 4 * d + 2 * d
    assert table["funnel"] == linear_chain([d, *cfg.funnel])
    assert table["rul_head"] == linear_chain([32, 64, 32, 16, 1]) == 4737
    assert table["health_head"] == linear_chain([32, 32, 16, 3]) == 1635
    assert table["total"] == sum(v for k, v in table.items() if k != "total")


def test_paper_preset_is_about_3_5_million():
    table = parameter_table(DualTaskModel("paper"))
    assert table["total"] == 3_496_900
    assert table["bilstm"] == 2_236_416


def test_compact_is_much_smaller_than_paper():
    assert parameter_table(DualTaskModel("compact"))["total"] < 100_000


def test_untrained_model_predicts_mid_range_rul():
    """The RUL head starts at about half the cap (bias init), so the final ReLU is not dead."""
    torch.manual_seed(0)
    with torch.no_grad():
        rul, _ = DualTaskModel("compact").eval()(torch.randn(64, 30, 14))
    assert 20 < float(rul.mean()) < 110
    assert (rul > 0).float().mean() > 0.9


def test_unknown_preset_raises():
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        DualTaskModel("huge")


@pytest.mark.parametrize("shape", [(4, 30), (4, 30, 13), (2, 4, 30, 14), (0, 30, 14)])
def test_wrong_input_shape_raises(shape):
    with pytest.raises(ValueError, match="shape|empty"):
        DualTaskModel("compact")(torch.zeros(shape))


def test_heads_must_divide_width():
    bad = ModelConfig(cnn_channels=(8,), lstm_hidden=5, lstm_layers=1, attn_heads=4, funnel=(32,))
    with pytest.raises(ValueError, match="attn_heads"):
        DualTaskModel(bad)


def test_fixed_weight_loss_combines_and_backprops():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 3.0]], requires_grad=True)
    h = torch.tensor([0, 2])
    rul_loss = torch.tensor(10.0, requires_grad=True)
    total, ce = FixedWeightLoss(0.5, 0.5)(rul_loss, logits, h)
    expected_ce = torch.nn.functional.cross_entropy(logits, h)
    assert torch.isclose(ce, expected_ce)
    assert torch.isclose(total, 5.0 + 0.5 * expected_ce)
    total.backward()
    assert rul_loss.grad == pytest.approx(0.5)


def test_fixed_weight_loss_rejects_bad_input():
    with pytest.raises(ValueError, match="rul_weight"):
        FixedWeightLoss(-1.0, 0.5)
    with pytest.raises(ValueError, match="0-d"):
        FixedWeightLoss()(torch.ones(3), torch.zeros(3, 3), torch.zeros(3, dtype=torch.long))


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_last_query_attention_equals_the_last_row_of_full_attention(preset):
    """Only the last cycle is read, so computing only its query changes nothing (same weights)."""
    torch.manual_seed(1)
    model = DualTaskModel(preset).eval()
    h = torch.randn(7, 45, model.config.d_model)
    full, _ = model.attention(h, h, h, need_weights=False)
    np.testing.assert_allclose(last_query_attention(model.attention, h).detach().numpy(),
                               full[:, -1].detach().numpy(), atol=2e-6)


def test_features_equal_the_full_attention_trunk():
    torch.manual_seed(2)
    model = DualTaskModel("compact").eval()
    x = torch.randn(9, 30, 14)
    with torch.no_grad():
        h, _ = model.bilstm(model.cnn(x.transpose(1, 2)).transpose(1, 2))
        a, _ = model.attention(h, h, h, need_weights=False)
        reference = model.funnel(model.attn_norm(h + a)[:, -1])
        np.testing.assert_allclose(model.features(x).numpy(), reference.numpy(), atol=2e-6)


def test_forward_scaled_is_forward_in_units_of_r_max():
    torch.manual_seed(3)
    model = DualTaskModel("compact", n_features=15).eval()
    x = torch.randn(4, 40, 15)  # any window length, a 15th feature (the cycle index)
    with torch.no_grad():
        scaled, logits_a = model.forward_scaled(x)
        rul, logits_b = model(x)
    assert torch.equal(rul, RUL_SCALE * scaled) and torch.equal(logits_a, logits_b)


def test_missing_optional_dependency_names_the_extra():
    with pytest.raises(ImportError, match=r"the model needs no_such_module.*pip install no_such_module"):
        require("no_such_module", "the model")
    assert EXTRAS["torch"][0] == "torch"  # pip install 'amnl_utils[torch]'
