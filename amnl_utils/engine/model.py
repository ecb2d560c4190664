"""DualTaskModel: a shared CNN → BiLSTM → self-attention trunk with a RUL head and a health head.

The model section of the book's Methods page describes it. Data flow for a batch of B windows of
T cycles (30–60, a run setting) and F input features (the 14 sensors, plus a normalised cycle index
when the run asks for it)::

    x (B, T, F)
      → CNN front end: [Conv1d(k=3, same padding) → BatchNorm → ReLU → Dropout] × len(cnn_channels)
      → BiLSTM (lstm_layers layers, hidden lstm_hidden per direction)      → (B, T, 2·lstm_hidden)
      → multi-head self-attention, residual + LayerNorm, read at the last cycle → (B, 2·lstm_hidden)
      → FC funnel [Linear → ReLU → Dropout] to the shared feature z           → (B, 32)
      → RUL head    32 → 64 → 32 → 16 → 1, final ReLU (RUL >= 0), × 125       → (B,)   cycles
      → health head 32 → 32 → 16 → 3 logits (normal, degrading, critical)     → (B, 3)

Last-cycle pooling reads only the attention output at the window's last cycle, so only that one
query is computed (keys and values still come from every cycle): the other T - 1 rows of a full
self-attention would be thrown away. ``tests/test_model.py`` checks that this equals the last row of
``nn.MultiheadAttention`` with the same weights; on a 2-core CPU it makes a training step about
1.7x faster (``benchmarks/bench_training.py``).

Two presets share this topology: ``paper`` (about 3.5 M parameters, for a GPU) and ``compact``
(narrow widths, so that a full C-MAPSS run trains in minutes on a 2-core CPU).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from ..core.optional import require

torch = require("torch", "the model")
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from ..core.constants import R_MAX

#: Width of the shared feature z that both heads read.
Z_DIM: int = 32
#: Hidden widths of the two heads (fixed by the design, identical in both presets).
RUL_HEAD: tuple[int, ...] = (64, 32, 16)
HEALTH_HEAD: tuple[int, ...] = (32, 16)
#: Number of health states: 0 normal, 1 degrading, 2 critical.
N_HEALTH: int = 3
#: The RUL head works in units of R_MAX (its output times RUL_SCALE is cycles), so that its
#: regression target is O(1) like the logits of the health head.
RUL_SCALE: float = R_MAX
#: Initial bias of the RUL head's last layer (in units of RUL_SCALE): the untrained model predicts
#: about half the cap instead of ~0, where the final ReLU would clip half the batch and stall.
RUL_BIAS_INIT: float = 0.5


@dataclass(frozen=True)
class ModelConfig:
    """Widths of one DualTaskModel preset.

    cnn_channels: output channels of each Conv1d layer (the input has ``n_features`` channels).
    lstm_hidden: hidden size per direction; the BiLSTM outputs ``2 * lstm_hidden`` features.
    lstm_layers: stacked BiLSTM layers.
    attn_heads: heads of the self-attention on ``2 * lstm_hidden`` features (must divide it).
    funnel: widths of the FC funnel after pooling; the last one is the shared feature z (32).
    dropout: dropout rate in the CNN and the funnel.
    """

    cnn_channels: tuple[int, ...]
    lstm_hidden: int
    lstm_layers: int
    attn_heads: int
    funnel: tuple[int, ...]
    dropout: float = 0.2

    @property
    def d_model(self) -> int:
        """Feature width after the BiLSTM (both directions)."""
        return 2 * self.lstm_hidden


#: The two named presets. ``paper``: CNN 14→64→128→64, BiLSTM 2×256, 8 heads on 512, funnel
#: 512→256→64→32. ``compact``: the same topology with narrow widths, sized for a 2-core CPU.
PRESETS: dict[str, ModelConfig] = {
    "paper": ModelConfig(
        cnn_channels=(64, 128, 64), lstm_hidden=256, lstm_layers=2, attn_heads=8, funnel=(256, 64, 32)
    ),
    "compact": ModelConfig(
        cnn_channels=(16, 32, 16), lstm_hidden=32, lstm_layers=1, attn_heads=4, funnel=(32, 32, 32)
    ),
}


def get_config(preset: str | ModelConfig) -> ModelConfig:
    """Return the :class:`ModelConfig` of a preset name (``"compact"`` or ``"paper"``) or pass one through."""
    if isinstance(preset, ModelConfig):
        return preset
    try:
        return PRESETS[preset]
    except (KeyError, TypeError):
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}") from None


def _mlp(widths: list[int], dropout: float = 0.0, final_relu: bool = True) -> nn.Sequential:
    """Linear layers ``widths[0] → widths[1] → …`` with ReLU (and dropout) between them."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        last = i == len(widths) - 2
        if not last or final_relu:
            layers.append(nn.ReLU())
        if dropout > 0 and not last:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class DualTaskModel(nn.Module):
    """Shared trunk + RUL head + health head (see the module docstring for the data flow).

    preset: ``"compact"`` or ``"paper"`` (or a :class:`ModelConfig`); n_features: features per cycle;
    dropout: overrides the preset's dropout rate (CNN and funnel) when given.
    ``forward(x)`` takes x: (B, T, n_features) float, normalised sensors, and returns
    ``(rul, health_logits)``: rul (B,) predicted RUL in cycles (>= 0), health_logits (B, 3).
    """

    def __init__(self, preset: str | ModelConfig = "compact", n_features: int = 14, dropout: float | None = None) -> None:
        super().__init__()
        if not isinstance(n_features, int) or n_features < 1:
            raise ValueError(f"n_features must be a positive integer, got {n_features!r}")
        cfg = get_config(preset)
        if dropout is not None:
            if not 0 <= dropout < 1:
                raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
            cfg = replace(cfg, dropout=float(dropout))
        if cfg.d_model % cfg.attn_heads != 0:
            raise ValueError(
                f"attn_heads={cfg.attn_heads} must divide the BiLSTM width 2*lstm_hidden={cfg.d_model}"
            )
        if cfg.funnel[-1] != Z_DIM:
            raise ValueError(f"the funnel must end at the shared width {Z_DIM}, got {cfg.funnel}")
        self.preset = preset if isinstance(preset, str) else "custom"
        self.config = cfg
        self.n_features = n_features

        cnn: list[nn.Module] = []
        c_in = n_features
        for c_out in cfg.cnn_channels:
            cnn += [
                nn.Conv1d(c_in, c_out, kernel_size=3, padding=1),  # same padding: T is kept
                nn.BatchNorm1d(c_out),
                nn.ReLU(),
                nn.Dropout(cfg.dropout),
            ]
            c_in = c_out
        self.cnn = nn.Sequential(*cnn)
        self.bilstm = nn.LSTM(
            input_size=c_in,
            hidden_size=cfg.lstm_hidden,
            num_layers=cfg.lstm_layers,
            batch_first=True,
            bidirectional=True,
        )
        # nn.MultiheadAttention holds (and initialises) the projections; features() applies them to
        # the last query only (see the module docstring).
        self.attention = nn.MultiheadAttention(cfg.d_model, cfg.attn_heads, batch_first=True)
        self.attn_norm = nn.LayerNorm(cfg.d_model)
        self.funnel = _mlp([cfg.d_model, *cfg.funnel], dropout=cfg.dropout, final_relu=True)
        # Final ReLU keeps the predicted RUL non-negative.
        self.rul_head = _mlp([Z_DIM, *RUL_HEAD, 1], final_relu=True)
        with torch.no_grad():
            self.rul_head[-2].bias.fill_(RUL_BIAS_INIT)
        self.health_head = _mlp([Z_DIM, *HEALTH_HEAD, N_HEALTH], final_relu=False)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The shared feature z: (B, T, F) → (B, 32)."""
        if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[2] != self.n_features:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(
                f"expected x of shape (batch, window, {self.n_features}) = (B, T, {self.n_features}), "
                f"got {shape}"
            )
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(f"x has an empty batch or window: shape {tuple(x.shape)}")
        h = self.cnn(x.transpose(1, 2)).transpose(1, 2)  # Conv1d wants (B, C, T)
        h, _ = self.bilstm(h)  # (B, T, 2H)
        last = h[:, -1, :]
        a = last_query_attention(self.attention, h)
        return self.funnel(self.attn_norm(last + a))  # residual + LayerNorm at the last cycle → (B, 32)

    def forward_scaled(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(rul / RUL_SCALE, health_logits)``: the RUL in units of R_max (about 0 … 1), (B,) and (B, 3).

        Training regresses ``y / R_max`` with this output, so the RUL term is commensurate with the
        cross-entropy of the health head.
        """
        z = self.features(x)
        return self.rul_head(z).squeeze(-1), self.health_head(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(rul, health_logits)``: rul (B,) in cycles (>= 0), health_logits (B, 3)."""
        r, logits = self.forward_scaled(x)
        return RUL_SCALE * r, logits


def last_query_attention(att: nn.MultiheadAttention, h: torch.Tensor) -> torch.Tensor:
    """Self-attention output at the last position only, with the weights of ``att``.

    h: (B, T, E) with ``att.batch_first``. Returns (B, E), equal (to float rounding) to
    ``att(h, h, h)[0][:, -1]``: the query is the last row of h, the keys and values are all T rows.
    """
    B, T, E = h.shape
    n_heads = att.num_heads
    d = E // n_heads
    w, b = att.in_proj_weight, att.in_proj_bias
    q = F.linear(h[:, -1, :], w[:E], b[:E]).view(B, n_heads, 1, d)
    kv = F.linear(h, w[E:], b[E:]).view(B, T, 2, n_heads, d)
    k, v = kv[:, :, 0].transpose(1, 2), kv[:, :, 1].transpose(1, 2)  # (B, heads, T, d)
    o = F.scaled_dot_product_attention(q, k, v)  # (B, heads, 1, d)
    return att.out_proj(o.reshape(B, E))


#: Blocks of :func:`parameter_table`, in data-flow order, and the submodules each one holds.
BLOCKS: dict[str, tuple[str, ...]] = {
    "cnn": ("cnn",),
    "bilstm": ("bilstm",),
    "attention": ("attention", "attn_norm"),
    "funnel": ("funnel",),
    "rul_head": ("rul_head",),
    "health_head": ("health_head",),
}


def parameter_table(model: DualTaskModel) -> dict[str, int]:
    """Trainable parameters per block, counted from the module itself, plus ``total``.

    Keys: cnn, bilstm, attention (incl. its LayerNorm), funnel, rul_head, health_head, total.
    """
    table = {
        block: sum(p.numel() for m in mods for p in getattr(model, m).parameters() if p.requires_grad)
        for block, mods in BLOCKS.items()
    }
    total = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if total != sum(table.values()):  # a new submodule must be assigned to a block
        raise RuntimeError(f"parameter blocks sum to {sum(table.values())}, model has {total}")
    table["total"] = total
    return table


def preset_summary(preset: str) -> dict:
    """The widths of a preset as a plain dict (for result files and the book's tables)."""
    return {"preset": preset, **asdict(get_config(preset))}


class FixedWeightLoss(nn.Module):
    """``rul_weight · L_rul + health_weight · CE(health_logits, health)``: the 0.5/0.5 combination.

    ``forward(rul_loss, health_logits, health)`` takes the already-reduced RUL loss (0-d tensor, any
    of MSE / scaled MSE / AMNL), health_logits (B, 3) and health (B,) int64 class labels; returns
    ``(total, ce)`` as 0-d tensors. The weights are fixed numbers, not learned (a learnable weight
    would be uncertainty weighting, a different method).
    """

    def __init__(self, rul_weight: float = 0.5, health_weight: float = 0.5) -> None:
        super().__init__()
        for name, v in (("rul_weight", rul_weight), ("health_weight", health_weight)):
            if not (isinstance(v, (int, float)) and v >= 0 and v == v and v != float("inf")):
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        self.rul_weight = float(rul_weight)
        self.health_weight = float(health_weight)

    def forward(
        self, rul_loss: torch.Tensor, health_logits: torch.Tensor, health: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if rul_loss.dim() != 0:
            raise ValueError(f"rul_loss must be a 0-d (reduced) tensor, got shape {tuple(rul_loss.shape)}")
        ce = F.cross_entropy(health_logits, health)
        return self.rul_weight * rul_loss + self.health_weight * ce, ce

    def extra_repr(self) -> str:
        return f"rul_weight={self.rul_weight}, health_weight={self.health_weight}"
