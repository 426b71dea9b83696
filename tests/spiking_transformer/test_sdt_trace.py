"""Spike-driven Transformer V1 models as its code writes them (Conv1d + BN projections, SDSA with
K ⊙ V, sum over tokens, talking-heads neuron, ⊙ Q, multi-head transposes, MLP, membrane
shortcut) trace to a graph that equals the PyTorch forward spike for spike, with SpikingJelly
(multi-step) and snnTorch (one step per call) neurons; float attention is refused by name."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from frontend.fe_torch_util import run_steps  # noqa: E402
from spiking_transformer.sdt_random import random_sdt  # noqa: E402
from torch import nn  # noqa: E402

from snnc.errors import UnsupportedOpError  # noqa: E402
from snnc.frontend.torch import trace  # noqa: E402
from snnc.simulators.reference import simulate  # noqa: E402

pytestmark = [pytest.mark.torch]
SHAPE = (4, 16)  # 16 tokens of 4 pixels


def spikes(seed: int, t: int = 8, b: int = 3) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand((t, b, *SHAPE), generator=gen) < 0.5).double()


def forward(model: nn.Module, x: torch.Tensor, neuron: str) -> torch.Tensor:
    with torch.no_grad():
        if neuron == "sj":
            from spikingjelly.activation_based import functional

            functional.reset_net(model)
            return model(x)
        import snntorch.utils

        snntorch.utils.reset(model)
        return run_steps(model, x)


@pytest.mark.parametrize("neuron", [
    pytest.param("sj", marks=pytest.mark.requires("spikingjelly")),
    pytest.param("snntorch", marks=pytest.mark.requires("snntorch"))])
@pytest.mark.parametrize(("seed", "depth"), [(0, 1), (1, 1), (2, 2)])
def test_traced_graph_equals_the_forward(neuron: str, seed: int, depth: int) -> None:
    # snnTorch keeps its hidden state in float32: run the model there (every value is a small
    # dyadic rational, so float32 is exact too)
    dtype = torch.float64 if neuron == "sj" else torch.float32
    model = random_sdt(seed, neuron, depth=depth, dtype=dtype)
    graph = trace(model, SHAPE)
    ops = [n.op for n in graph.nodes.values()]
    assert ops.count("mul") == 2 * depth
    assert "axis_sum" in ops
    assert "permute" in ops
    x = spikes(seed)
    ref = forward(model, x.to(dtype), neuron).double().numpy()
    out = simulate(graph, x.numpy()).output
    assert out.shape == ref.shape
    assert np.array_equal(out, ref), f"{np.sum(out != ref)} of {ref.size} outputs differ"
    assert len(np.unique(ref)) > 10  # the readout (linear head of the spike means) varies
    # the attention's spikes are not silent or saturated (else the equality says little)
    for blk in range(depth):
        name = f"blocks.{blk}.attn.talking_heads_lif"
        rate = simulate(graph, x.numpy(), probes=[f"{name}.s"]).probes[f"{name}.s"].mean()
        assert 0.02 < rate < 0.98, (name, rate)


class SoftmaxAttention(nn.Module):
    """Vanilla (float) attention on spikes: softmax(Q Kᵀ) V."""

    def __init__(self) -> None:
        super().__init__()
        self.q = nn.Conv1d(4, 4, 1)
        self.k = nn.Conv1d(4, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k = self.q(x), self.k(x)
        attn = (q.transpose(-1, -2) @ k).softmax(dim=-1)
        return attn @ x.transpose(-1, -2)


def test_softmax_attention_is_refused_naming_the_op_and_line() -> None:
    with pytest.raises(UnsupportedOpError) as err:
        trace(SoftmaxAttention(), SHAPE)
    msg = str(err.value)
    assert "softmax" in msg
    assert "test_sdt_trace.py:" in msg  # the model line
    assert "spike-driven self-attention" in msg
    assert "\n" not in msg.strip()


def test_layer_norm_is_refused() -> None:
    class Net(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return nn.functional.layer_norm(x, (16,))

    with pytest.raises(UnsupportedOpError, match="layer_norm"):
        trace(Net(), SHAPE)


def test_unflatten_of_heads_is_a_reshape() -> None:
    class Net(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.unflatten(-1, (4, 4)).transpose(-1, -2)

    g = trace(Net(), SHAPE)
    x = np.random.default_rng(0).random((2, 3, *SHAPE))
    out = simulate(g, x).output
    want = x.reshape(2, 3, 4, 4, 4).swapaxes(-1, -2)
    assert np.array_equal(out, want)


class _ModuleAttention(nn.Module):
    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.mha = nn.MultiheadAttention(4, 1, batch_first=True)
        self.softmax = nn.Softmax(dim=-1)
        self.norm = nn.LayerNorm(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.transpose(-1, -2)  # (N, C) tokens
        if self.kind == "MultiheadAttention":
            return self.mha(t, t, t)[0]
        if self.kind == "Softmax":
            return self.softmax(t @ t.transpose(-1, -2)) @ t
        return self.norm(t)


@pytest.mark.parametrize("kind", ["MultiheadAttention", "Softmax", "LayerNorm"])
def test_float_attention_modules_are_refused_naming_module_and_line(kind: str) -> None:
    with pytest.raises(UnsupportedOpError) as err:
        trace(_ModuleAttention(kind), SHAPE)
    msg = str(err.value)
    assert f"{kind} (float attention" in msg
    assert "test_sdt_trace.py:" in msg  # the model line
    assert "spike-driven self-attention" in msg
    assert "multi-level integer" in msg
