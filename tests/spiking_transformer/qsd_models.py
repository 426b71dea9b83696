"""QSD-Transformer-style blocks: multi-level integer spikes and the spike-matrix form Q(KᵀV).

``MultiSpike`` is a per-step integer neuron, ``clamp(floor(x / theta), 0, L)`` (stateless, an
integer 0..L per step); ``RoundSpike`` is the one QSD-Transformer's and SpikeYOLO's code write,
a ``torch.autograd.Function`` computing ``round(clamp(x, 0, D))`` divided by a norm.
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


class Quant(torch.autograd.Function):
    """QSD-Transformer / SpikeYOLO's integer spike: round(clamp(x, 0, D)), straight-through."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, lo: int = 0, hi: int = 4) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return torch.round(torch.clamp(x, min=lo, max=hi))

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return grad * ((x >= ctx.lo) & (x <= ctx.hi)), None, None


class RoundSpike(nn.Module):
    """The multi-level spike as those papers' code writes it: ``Quant.apply(x, 0, D) / Norm``
    (round halves to even, so ties of the dyadic test values exercise the rule)."""

    def __init__(self, levels: int = 2, norm: float = 1.0) -> None:
        super().__init__()
        self.levels, self.norm = levels, norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return Quant.apply(x, 0, self.levels) / self.norm


def _proj(c_in: int, c_out: int) -> nn.Module:
    return tokens("plain", c_in, c_out, bias=False)


def spike(levels: int, kind: str) -> nn.Module:
    return RoundSpike(levels, norm=2.0) if kind == "round" else MultiSpike(levels)


class QSDAttention(nn.Module):
    def __init__(self, dim: int, heads: int, levels: int = 2, scale: float = 0.25,
                 kind: str = "floor") -> None:
        super().__init__()
        self.heads, self.scale = heads, scale
        self.q, self.k, self.v = (_proj(dim, dim) for _ in range(3))
        self.q_s, self.k_s, self.v_s = (spike(levels, kind) for _ in range(3))
        self.attn_s = spike(levels, kind)
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
