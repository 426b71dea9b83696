"""Random Spike-driven Transformer models whose parameters are on Loihi's grid.

Weights are multiples of 1/4 in [-1, 1.5], batch norms have eps = 0, power-of-four variances
and power-of-two scales with dyadic means and shifts, so that the PyTorch forward, snnc's float
graph and the quantized program compute the same numbers (quantize-loihi reports every layer
exact) and every comparison of spikes is a real test.
"""

from __future__ import annotations

import torch
from spiking_transformer.sdt_models import SpikeDrivenTransformer
from torch import nn


def on_grid(model: nn.Module, seed: int, dtype: torch.dtype = torch.float64) -> nn.Module:
    gen = torch.Generator().manual_seed(seed)

    def ints(shape: tuple[int, ...], lo: int, hi: int) -> torch.Tensor:
        return torch.randint(lo, hi, shape, generator=gen).to(torch.float64)

    model = model.to(dtype).eval()
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.Linear | nn.Conv1d):
                mod.weight.copy_(ints(tuple(mod.weight.shape), -4, 7) / 4)
                if mod.bias is not None:
                    mod.bias.copy_(ints(tuple(mod.bias.shape), -2, 3) / 4)
            elif isinstance(mod, nn.BatchNorm1d):
                c = mod.num_features
                mod.eps = 0.0
                mod.running_mean.copy_(ints((c,), -2, 3) / 4)
                mod.running_var.copy_(4.0 ** ints((c,), 0, 2))
                mod.weight.copy_(2.0 ** ints((c,), 0, 2))
                mod.bias.copy_(ints((c,), -2, 3) / 4)
        for name, par in model.named_parameters():
            if name.rsplit(".", 1)[-1] in ("gamma1", "gamma2"):  # layer scale: 1/2, 1 or 2
                par.copy_(2.0 ** ints(tuple(par.shape), -1, 2))
    return model


def random_sdt(seed: int, neuron: str = "sj", depth: int = 1, dim: int = 8, heads: int = 2,
               patch: int = 4, dtype: torch.dtype = torch.float64,
               layer_scale: bool = False) -> nn.Module:
    torch.manual_seed(seed)
    net = SpikeDrivenTransformer(patch, dim, heads, 2 * dim, 5, depth=depth, neuron=neuron,
                                 layer_scale=layer_scale)
    return on_grid(net, seed, dtype)


def build_sdt() -> nn.Module:
    """Factory for ``--model spiking_transformer.sdt_random:build_sdt`` (float64 weights)."""
    return random_sdt(0)


class IntegerAttention(nn.Module):
    """QSD/BESTformer-style Q (Kᵀ V) of spike matrices: Kᵀ V is an integer matrix."""

    def __init__(self) -> None:
        super().__init__()
        from spiking_transformer.sdt_models import make_neuron, tokens

        self.q, self.k, self.v = (tokens("sj", 4, 4, bias=False) for _ in range(3))
        self.q_lif, self.k_lif, self.v_lif = (make_neuron("sj") for _ in range(3))

        self.out_lif = make_neuron("sj")
        self.proj = tokens("sj", 4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = self.q_lif(self.q(x)).transpose(-1, -2)  # (N, C)
        k = self.k_lif(self.k(x)).transpose(-1, -2)
        v = self.v_lif(self.v(x)).transpose(-1, -2)
        y = (q @ (k.transpose(-1, -2) @ v)).transpose(-1, -2)  # integer (C, N)
        return self.proj(self.out_lif(y * 0.25))


class CurrentProduct(nn.Module):
    """A product of a current (no neuron on q) with spikes: no exact lowering."""

    def __init__(self) -> None:
        super().__init__()
        from spiking_transformer.sdt_models import make_neuron, tokens

        self.q, self.k = (tokens("sj", 4, 4, bias=False) for _ in range(2))
        self.k_lif = make_neuron("sj")
        self.proj = tokens("sj", 4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.q(x) * self.k_lif(self.k(x)))  # the line the refusal names


def build_integer_attention() -> nn.Module:
    return on_grid(IntegerAttention(), 0)


def build_current_product() -> nn.Module:
    return on_grid(CurrentProduct(), 0)


class SoftmaxAttention(nn.Module):
    """Vanilla attention on spike tokens: softmax(Q Kᵀ) V (refused naming softmax and its line)."""

    def __init__(self) -> None:
        super().__init__()
        from spiking_transformer.sdt_models import make_neuron, tokens

        self.q, self.k = (tokens("sj", 4, 4, bias=False) for _ in range(2))
        self.q_lif, self.k_lif = (make_neuron("sj") for _ in range(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = self.q_lif(self.q(x)).transpose(-1, -2)
        k = self.k_lif(self.k(x)).transpose(-1, -2)
        return (q @ k.transpose(-1, -2)).softmax(dim=-1) @ k  # the line the refusal names


def build_softmax_attention() -> nn.Module:
    return on_grid(SoftmaxAttention(), 0)
