"""snnc.nn: neuron updates, surrogate gradients, quantizers and their straight-through gradients."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import snnc.nn as snn  # noqa: E402
from snnc.ir import LIF as IrLIF  # noqa: E402
from snnc.ir import Graph, Input, Output  # noqa: E402
from snnc.nn.quant import uniform_scale  # noqa: E402
from snnc.simulators.reference import simulate  # noqa: E402

pytestmark = pytest.mark.torch


@pytest.mark.parametrize(("reset", "comparator"), [("hard", ">"), ("subtract", ">="),
                                                   ("none", ">")])
def test_lif_matches_ir_kernel(reset, comparator):
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(-2, 5, (40, 6, 5), generator=gen).double() / 4
    beta = torch.tensor([0.5, 0.75, 1.0, 0.25, 0.875], dtype=torch.float64)
    neuron = snn.LIF(beta, threshold=1.0, reset=reset, comparator=comparator).double()
    with torch.no_grad():
        ref = snn.run(neuron, x).numpy()
    node = IrLIF(shape=(5,), decay_v=beta.numpy(), threshold=1.0, reset=reset,
                 comparator=comparator)
    graph = Graph.chain(("in", Input(shape=(5,))), ("n", node), ("out", Output(shape=(5,))))
    assert 0.05 < ref.mean() < 0.95
    assert np.array_equal(simulate(graph, x.numpy()).output, ref)


def test_if_has_no_leak_and_state_resets():
    n = snn.IF(threshold=2.0)
    x = torch.full((1, 3), 0.75)
    out = [float(n(x)[0, 0]) for _ in range(3)]
    assert out == [0.0, 0.0, 1.0]
    snn.reset_states(n)
    assert float(n(x)[0, 0]) == 0.0


def test_surrogate_gradient_flows_and_forward_is_exact():
    n = snn.LIF(0.5)
    x = torch.tensor([[0.9, 1.0, 1.1]], requires_grad=True)
    s = n(x)
    assert s.tolist() == [[0.0, 0.0, 1.0]]
    s.sum().backward()
    assert torch.all(x.grad > 0)


def test_learnable_parameters():
    n = snn.LIF(0.5, learn_beta=True, learn_threshold=True)
    assert {name for name, _ in n.named_parameters()} == {"beta", "threshold"}
    n(torch.ones(2, 3)).sum().backward()
    assert n.threshold.grad is not None


def test_quantizer_grid_and_straight_through():
    torch.manual_seed(0)
    w = torch.randn(6, 10, requires_grad=True)
    q = snn.quantize_uniform(w, 4)
    s = uniform_scale(w, 4, True, True)
    mant = (q / s).detach()
    assert torch.equal(mant, mant.round())
    assert mant.abs().max() <= 8
    assert torch.equal(torch.log2(s), torch.log2(s).round())
    q.sum().backward()
    assert torch.equal(w.grad, torch.ones_like(w))


def test_binary_layer_and_bias_on_grid():
    torch.manual_seed(1)
    layer = snn.BinaryLinear(8, 4, bias=True)
    w, b = layer.quant_params()
    alpha = w.detach().abs().amax(1)
    assert torch.equal(w.detach().abs(), alpha[:, None].expand(4, 8))
    assert torch.equal(b.detach() / alpha, (b.detach() / alpha).round())
    assert layer(torch.ones(2, 8)).shape == (2, 4)


def test_quantconv_forward_uses_quantized_weights():
    torch.manual_seed(2)
    conv = snn.QuantConv2d(2, 3, 3, padding=1, bits=3)
    w, _ = conv.quant_params()
    x = torch.randn(1, 2, 5, 5)
    ref = torch.nn.functional.conv2d(x, w.detach(), None, 1, 1)
    assert torch.allclose(conv(x), ref)


def test_bad_arguments():
    with pytest.raises(ValueError, match="reset"):
        snn.LIF(reset="zero")
    with pytest.raises(ValueError, match="comparator"):
        snn.IF(comparator="<")
