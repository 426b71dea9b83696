"""Spike-driven Transformer V1 blocks written the way its reference code writes them.

Tokens are laid out (C, N) per sample and every projection is a ``Conv1d(kernel_size=1)`` with a
``BatchNorm1d`` (as in the paper's code); SDSA is

    q, k, v = LIF(BN(Conv1d(x)))            (multi-head: (heads, N, C/heads) by reshape/transpose)
    kv = LIF_0.5((k * v).sum(over tokens, keepdim=True))
    y = BN(Conv1d((q * kv) transposed back to (C, N)))

and blocks use the membrane shortcut: x = x + SDSA(LIF(x)); x = x + MLP(LIF(x)), the sums being
of currents (BN outputs), each sub-block starting with its own neuron. Neurons are SpikingJelly's
multi-step ``LIFNode`` or snnTorch's ``Leaky`` (``neuron="sj"`` / ``"snntorch"``). SDSA is the
reference module ``snnc.nn.transformer.SDSA`` (shared with examples/spiking_transformer_digits.py).
"""

from __future__ import annotations

import torch
from torch import nn

from snnc.nn import transformer


def make_neuron(kind: str, threshold: float = 1.0, tau: float = 2.0) -> nn.Module:
    if kind == "sj":  # SDT's MultiStepLIFNode
        from spikingjelly.activation_based import neuron

        return neuron.LIFNode(tau=tau, v_threshold=threshold, detach_reset=True, step_mode="m")
    if kind == "snntorch":  # one step per call, the time loop outside the model
        import snntorch as snn

        return snn.Leaky(beta=1.0 - 1.0 / tau, threshold=threshold, reset_mechanism="zero",
                         init_hidden=True)
    raise ValueError(kind)


def tokens(kind: str, c_in: int, c_out: int, bias: bool = True) -> nn.Module:
    """Conv1d(kernel_size=1) + BatchNorm1d over (C, N) tokens: per step (SpikingJelly's
    multi-step container over T) or plain (snnTorch, one step per call)."""
    conv, bn = nn.Conv1d(c_in, c_out, 1, bias=bias), nn.BatchNorm1d(c_out)
    if kind == "sj":
        from spikingjelly.activation_based import layer

        return layer.SeqToANNContainer(conv, bn)
    return nn.Sequential(conv, bn)


def SDSA(dim: int, heads: int, neuron: str = "sj") -> nn.Module:
    """The reference SDSA (``snnc.nn.transformer``) with this file's neurons and projections."""
    return transformer.SDSA(dim, heads, lambda th: make_neuron(neuron, threshold=th),
                            lambda c_in, c_out, bias: tokens(neuron, c_in, c_out, bias=bias))


class MLP(nn.Module):
    def __init__(self, dim: int, hidden: int, neuron: str = "sj") -> None:
        super().__init__()
        self.fc1 = tokens(neuron, dim, hidden)
        self.fc1_lif = make_neuron(neuron)
        self.fc2 = tokens(neuron, hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.fc1_lif(self.fc1(x)))


class Block(nn.Module):
    """Membrane shortcut: each sub-block starts with a neuron and adds its current back; with
    ``layer_scale`` each sub-block's output is multiplied by a learned per-channel gamma."""

    def __init__(self, dim: int, heads: int, hidden: int, neuron: str = "sj",
                 layer_scale: bool = False) -> None:
        super().__init__()
        self.attn_lif = make_neuron(neuron)
        self.attn = SDSA(dim, heads, neuron)
        self.mlp_lif = make_neuron(neuron)
        self.mlp = MLP(dim, hidden, neuron)
        self.gamma1 = nn.Parameter(torch.ones(dim, 1)) if layer_scale else None
        self.gamma2 = nn.Parameter(torch.ones(dim, 1)) if layer_scale else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.attn(self.attn_lif(x))
        x = x + (a if self.gamma1 is None else self.gamma1 * a)
        m = self.mlp(self.mlp_lif(x))
        return x + (m if self.gamma2 is None else self.gamma2 * m)


class SpikeDrivenTransformer(nn.Module):
    """Patch embedding (Conv1d over patch pixels + BN), ``depth`` blocks, a head neuron, the mean
    over tokens and a linear classifier. Input (..., P, N): N tokens of P pixels each."""

    def __init__(self, patch: int, dim: int, heads: int, hidden: int, classes: int,
                 depth: int = 1, neuron: str = "sj", layer_scale: bool = False) -> None:
        super().__init__()
        self.embed = tokens(neuron, patch, dim, bias=False)
        self.blocks = nn.ModuleList(Block(dim, heads, hidden, neuron, layer_scale)
                                    for _ in range(depth))
        self.head_lif = make_neuron(neuron)
        self.head = nn.Linear(dim, classes)
        if neuron == "sj":
            from spikingjelly.activation_based import layer

            self.head = layer.SeqToANNContainer(self.head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x)
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.head_lif(x).mean(dim=-1))  # mean over tokens
