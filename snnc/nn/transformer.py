"""Spiking self-attention written the way the papers' reference code writes it.

Tokens are laid out (C, N) per sample (channels, tokens); every projection is a factory's module,
usually ``Conv1d(kernel_size=1)`` + ``BatchNorm1d``. Two attentions:

- ``SDSA``, Spike-driven Transformer V1's spike-driven self-attention::

      q, k, v = SN(proj(x))                     (heads split by reshape/transpose)
      y = proj(Q * SN_0.5(sum over tokens of K * V))

- ``QSDAttention``, QSD-Transformer's spike-matrix form with multi-level spikes::

      q, k, v = S(proj(x));  y = proj(S(Q @ (Kᵀ @ V) * scale))

The neuron (``SN``, ``S``) and the projection are factories, so the same attention serves
SpikingJelly multi-step neurons, snnTorch's ``Leaky`` or the stateless ``RoundSpike`` below
(QSD-Transformer's / SpikeYOLO's ``round(clamp(x, 0, D)) / norm`` with a straight-through
gradient). The examples and the tests build their blocks from these; snnc traces them into
its spike-product ops (``lower-spike-products`` puts them on Loihi).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

#: (c_in, c_out, bias) -> projection module over (C, N) tokens
Proj = Callable[[int, int, bool], nn.Module]


def split_heads(s: torch.Tensor, heads: int) -> torch.Tensor:
    """(..., C, N) -> (..., heads, N, C / heads)."""
    c = s.shape[-2]
    return s.transpose(-1, -2).unflatten(-1, (heads, c // heads)).transpose(-3, -2)


def merge_heads(y: torch.Tensor) -> torch.Tensor:
    """(..., heads, N, C / heads) -> (..., C, N)."""
    return y.transpose(-1, -2).flatten(-3, -2)


class SDSA(nn.Module):
    """Spike-driven self-attention (V1): Q ⊙ SN_0.5(Σ_tokens K ⊙ V), projected back.

    ``neuron(threshold)`` makes a spiking neuron; ``proj(c_in, c_out, bias)`` a projection.
    """

    def __init__(self, dim: int, heads: int, neuron: Callable[[float], nn.Module],
                 proj: Proj) -> None:
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v = (proj(dim, dim, False) for _ in range(3))
        self.q_lif, self.k_lif, self.v_lif = (neuron(1.0) for _ in range(3))
        self.talking_heads_lif = neuron(0.5)
        self.proj = proj(dim, dim, True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = split_heads(self.q_lif(self.q(x)), self.heads)
        k = split_heads(self.k_lif(self.k(x)), self.heads)
        v = split_heads(self.v_lif(self.v(x)), self.heads)
        kv = self.talking_heads_lif(k.mul(v).sum(dim=-2, keepdim=True))
        return self.proj(merge_heads(q.mul(kv)))


class QSDAttention(nn.Module):
    """QSD-Transformer's attention: S(Q @ (Kᵀ @ V) * scale) (KᵀV an integer matrix).

    ``spike()`` makes a (multi-level) spiking neuron; projections have no bias.
    """

    def __init__(self, dim: int, heads: int, spike: Callable[[], nn.Module], proj: Proj,
                 scale: float = 0.25) -> None:
        super().__init__()
        self.heads, self.scale = heads, scale
        self.q, self.k, self.v = (proj(dim, dim, False) for _ in range(3))
        self.q_s, self.k_s, self.v_s = (spike() for _ in range(3))
        self.attn_s = spike()
        self.proj = proj(dim, dim, False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = split_heads(self.q_s(self.q(x)), self.heads)
        k = split_heads(self.k_s(self.k(x)), self.heads)
        v = split_heads(self.v_s(self.v(x)), self.heads)
        y = q @ (k.transpose(-1, -2) @ v) * self.scale  # (..., heads, N, d), integer-valued
        return self.proj(merge_heads(self.attn_s(y)))


class Quant(torch.autograd.Function):
    """round(clamp(x, lo, hi)) with a straight-through gradient inside [lo, hi]."""

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
    """The multi-level spike as QSD-Transformer's and SpikeYOLO's code write it:
    ``Quant.apply(x, 0, D) / norm`` (round halves to even)."""

    def __init__(self, levels: int = 2, norm: float = 1.0) -> None:
        super().__init__()
        self.levels, self.norm = levels, norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return Quant.apply(x, 0, self.levels) / self.norm


def image_patches(images: np.ndarray, side: int, patch: int) -> np.ndarray:
    """(B, side*side) images -> (B, patch*patch, tokens): pixel (dy, dx) of patch (py, px) at
    [patch*dy + dx, (side // patch)*py + px]."""
    n = side // patch
    b = images.reshape(-1, n, patch, n, patch)  # (B, py, dy, px, dx)
    return np.ascontiguousarray(b.transpose(0, 2, 4, 1, 3).reshape(-1, patch * patch, n * n))
