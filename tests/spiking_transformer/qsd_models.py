"""QSD-Transformer-style blocks: multi-level integer spikes and the spike-matrix form Q(KᵀV).

``MultiSpike`` is a per-step integer neuron, ``clamp(floor(x / theta), 0, L)`` (stateless, an
integer 0..L per step); ``RoundSpike`` is the one QSD-Transformer's and SpikeYOLO's code write,
a ``torch.autograd.Function`` computing ``round(clamp(x, 0, D))`` divided by a norm.
``QSDAttention`` projects (C, N) tokens with Conv1d + BN to multi-level Q, K, V, splits heads,
computes ``Q @ (Kᵀ @ V) * scale`` (an integer matrix product) and a multi-level neuron, and
projects back (Conv1d + BN); it, ``Quant`` and ``RoundSpike`` are the reference modules of
``snnc.nn.transformer`` (shared with examples/qsd_digits.py). ``QSDNet`` adds a patch embedding,
the membrane shortcut, a multi-level MLP, and a linear head on the token mean. Parameters on
Loihi's grid come from ``sdt_random.on_grid``.
"""

from __future__ import annotations

import torch
from spiking_transformer.sdt_models import tokens
from spiking_transformer.sdt_random import on_grid
from torch import nn

from snnc.nn.transformer import QSDAttention as QSDAttention_
from snnc.nn.transformer import Quant, RoundSpike

__all__ = ["MultiSpike", "QSDAttention", "QSDNet", "Quant", "RoundSpike", "build_qsd",
           "random_qsd"]


class MultiSpike(nn.Module):
    def __init__(self, levels: int = 2, theta: float = 1.0) -> None:
        super().__init__()
        self.levels, self.theta = levels, theta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(torch.floor(x / self.theta), 0, self.levels)


def _proj(c_in: int, c_out: int) -> nn.Module:
    return tokens("plain", c_in, c_out, bias=False)


def spike(levels: int, kind: str) -> nn.Module:
    return RoundSpike(levels, norm=2.0) if kind == "round" else MultiSpike(levels)


def QSDAttention(dim: int, heads: int, levels: int = 2, scale: float = 0.25,
                 kind: str = "floor") -> nn.Module:
    """The reference ``snnc.nn.transformer.QSDAttention`` with this file's spikes."""
    return QSDAttention_(dim, heads, lambda: spike(levels, kind),
                         lambda c_in, c_out, bias: _proj(c_in, c_out), scale=scale)


class QSDNet(nn.Module):
    """Input (P, N) per step (one call per time step, the loop outside the model)."""

    def __init__(self, patch: int = 4, dim: int = 4, heads: int = 1, levels: int = 2,
                 classes: int = 3, kind: str = "floor") -> None:
        super().__init__()
        self.embed = _proj(patch, dim)
        self.attn_s = spike(levels, kind)
        self.attn = QSDAttention(dim, heads, levels, kind=kind,
                                 scale=1.0 if kind == "round" else 0.25)
        self.mlp_s = spike(levels, kind)
        self.fc = _proj(dim, dim)
        self.head_s = spike(levels, kind)
        self.head = nn.Linear(dim, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x)
        x = x + self.attn(self.attn_s(x))
        x = x + self.fc(self.mlp_s(x))
        return self.head(self.head_s(x).mean(dim=-1))


def random_qsd(seed: int, dim: int = 4, heads: int = 1, levels: int = 2,
               kind: str = "floor") -> nn.Module:
    """``kind``: "floor" (``clamp(floor(x), 0, L)``) or "round" (``Quant.apply(x, 0, L) / 2``)."""
    torch.manual_seed(seed)
    return on_grid(QSDNet(dim=dim, heads=heads, levels=levels, kind=kind), seed)


def build_qsd() -> nn.Module:
    """Factory for ``--model spiking_transformer.qsd_models:build_qsd``."""
    return random_qsd(2)
