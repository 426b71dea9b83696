"""QSD-Transformer-style blocks: multi-level integer spikes and the spike-matrix form Q(KᵀV).

``MultiSpike`` is the per-step integer neuron of QSD-Transformer / SpikeYOLO-style models written
as its code writes it: ``clamp(floor(x / theta), 0, L)`` (stateless, an integer 0..L per step).
``QSDAttention`` projects (C, N) tokens with Conv1d + BN to multi-level Q, K, V, splits heads,
computes ``Q @ (Kᵀ @ V) * scale`` (an integer matrix product) and a multi-level neuron, and
projects back (Conv1d + BN). ``QSDNet`` adds a patch embedding, the membrane shortcut, a
multi-level MLP, and a linear head on the token mean. Parameters on Loihi's grid come from
``sdt_random.on_grid``.
"""

from __future__ import annotations

import torch
from spiking_transformer.sdt_models import tokens
from spiking_transformer.sdt_random import on_grid
from torch import nn


class MultiSpike(nn.Module):
    def __init__(self, levels: int = 2, theta: float = 1.0) -> None:
        super().__init__()
        self.levels, self.theta = levels, theta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(torch.floor(x / self.theta), 0, self.levels)


def _proj(c_in: int, c_out: int) -> nn.Module:
    return tokens("plain", c_in, c_out, bias=False)


class QSDAttention(nn.Module):
    def __init__(self, dim: int, heads: int, levels: int = 2, scale: float = 0.25) -> None:
        super().__init__()
        self.heads, self.scale = heads, scale
        self.q, self.k, self.v = (_proj(dim, dim) for _ in range(3))
        self.q_s, self.k_s, self.v_s = (MultiSpike(levels) for _ in range(3))
        self.attn_s = MultiSpike(levels)
        self.proj = _proj(dim, dim)

    def _heads(self, s: torch.Tensor) -> torch.Tensor:
        c = s.shape[-2]
        return s.transpose(-1, -2).unflatten(-1, (self.heads, c // self.heads)).transpose(-3, -2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = self._heads(self.q_s(self.q(x)))
        k = self._heads(self.k_s(self.k(x)))
        v = self._heads(self.v_s(self.v(x)))
        y = q @ (k.transpose(-1, -2) @ v) * self.scale  # (..., heads, N, d), integer-valued
        y = self.attn_s(y).transpose(-1, -2).flatten(-3, -2)
        return self.proj(y)


class QSDNet(nn.Module):
    """Input (P, N) per step (one call per time step, the loop outside the model)."""

    def __init__(self, patch: int = 4, dim: int = 4, heads: int = 1, levels: int = 2,
                 classes: int = 3, binary_q: bool = False) -> None:
        super().__init__()
        self.embed = _proj(patch, dim)
        self.attn_s = MultiSpike(levels)
        self.attn = QSDAttention(dim, heads, levels)
        self.mlp_s = MultiSpike(levels)
        self.fc = _proj(dim, dim)
        self.head_s = MultiSpike(levels)
        self.head = nn.Linear(dim, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x)
        x = x + self.attn(self.attn_s(x))
        x = x + self.fc(self.mlp_s(x))
        return self.head(self.head_s(x).mean(dim=-1))


def random_qsd(seed: int, dim: int = 4, heads: int = 1, levels: int = 2) -> nn.Module:
    torch.manual_seed(seed)
    return on_grid(QSDNet(dim=dim, heads=heads, levels=levels), seed)


def build_qsd() -> nn.Module:
    """Factory for ``--model spiking_transformer.qsd_models:build_qsd``."""
    return random_qsd(2)
