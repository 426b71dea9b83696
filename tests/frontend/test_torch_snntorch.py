"""snnTorch models: snnc's trace simulates exactly like snnTorch's own forward."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
snntorch = pytest.importorskip("snntorch")
from frontend.fe_torch_util import (  # noqa: E402
    check_identical,
    dyadic_input,
    dyadic_model,
    run_steps,
)
from snntorch import utils as snn_utils  # noqa: E402
from torch import nn  # noqa: E402

from snnc.errors import UnsupportedOpError  # noqa: E402
from snnc.frontend.torch import trace  # noqa: E402
from snnc.simulators.reference import simulate  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.requires("snntorch")]


def heaviside(x):
    """snnTorch's spike forward (x > 0), keeping float64 (its surrogates return float32)."""
    return (x > 0).to(x.dtype)


def leaky(**kw):
    return snntorch.Leaky(init_hidden=True, spike_grad=heaviside, **kw)


def mlp():
    return nn.Sequential(nn.Linear(16, 12), leaky(beta=0.5), nn.Linear(12, 8),
                         leaky(beta=0.75, reset_mechanism="zero"), nn.Linear(8, 5),
                         leaky(beta=0.875, output=True))


def convnet():
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), leaky(beta=0.5), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6),
        leaky(beta=0.5, reset_mechanism="zero"), nn.AvgPool2d(3), nn.Flatten(),
        nn.Linear(6, 4), leaky(beta=0.75, reset_mechanism="none", threshold=0.5, output=True))


class Residual(nn.Module):
    """Explicit-state calls (init_hidden=False); current add and spike OR."""

    def __init__(self):
        super().__init__()
        self.fc0 = nn.Linear(16, 10)
        self.lif0 = snntorch.Leaky(beta=0.5, spike_grad=heaviside)
        self.fc1 = nn.Linear(10, 10)
        self.lif1 = snntorch.Synaptic(alpha=0.5, beta=0.75, spike_grad=heaviside)
        self.fc2 = nn.Linear(10, 10)
        self.lif2 = snntorch.Leaky(beta=torch.full((10,), 0.5), learn_beta=True,
                                   threshold=torch.linspace(0.5, 1.5, 10).round(decimals=0),
                                   learn_threshold=True, spike_grad=heaviside)
        self.fc3 = nn.Linear(10, 4)
        self.lif3 = snntorch.Synaptic(alpha=0.25, beta=0.5, reset_mechanism="none",
                                      spike_grad=heaviside)

    def forward(self, x):
        s0, _ = self.lif0(self.fc0(x))
        s1, _, _ = self.lif1(self.fc1(s0))
        s2, _ = self.lif2(self.fc2(s1) + s0)
        s = s2 + s0 - s2 * s0
        s3, _, m3 = self.lif3(self.fc3(s))
        return s3, m3


@pytest.mark.parametrize(("factory", "shape"), [(mlp, (16,)), (convnet, (2, 6, 6)),
                                                (Residual, (16,))])
def test_identical_spikes(factory, shape):
    model = dyadic_model(factory())
    graph = trace(model, shape)
    x = dyadic_input(15, 4, shape)
    snn_utils.reset(model)
    for m in model.modules():
        if hasattr(m, "reset_mem"):
            m.reset_mem()
    ref = run_steps(model, x)
    check_identical(graph, x, ref)
    assert graph.metadata["source"] == "snntorch"


def test_float32_default_surrogate():
    """snnTorch as users run it (float32, ATan surrogate); short T keeps float32 exact."""
    model = nn.Sequential(nn.Linear(16, 8), snntorch.Leaky(0.5, 0.25, init_hidden=True),
                          nn.Linear(8, 4), snntorch.Leaky(0.5, 0.25, init_hidden=True))
    model = dyadic_model(model).float()
    graph = trace(model, (16,))
    x = dyadic_input(6, 4, (16,))
    snn_utils.reset(model)
    ref = run_steps(model, x.float())
    check_identical(graph, x, ref)


def tie_prone(neuron, n=8, t=30, b=8):
    """Linear(n, n, no bias) with weights in {-1, 0, 1} and 0/1 inputs: v == threshold often."""
    gen = torch.Generator().manual_seed(3)
    model = nn.Sequential(nn.Linear(n, n, bias=False), neuron).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.randint(-1, 2, (n, n), generator=gen).double())
    x = torch.randint(0, 2, (t, b, n), generator=gen).double()
    return model, x


def test_subtract_reset_is_undecayed_and_comparator_strict():
    """Ties v == threshold are common here: the IR must use '>' and decay_reset=False."""
    model, x = tie_prone(leaky(beta=0.5))
    graph = trace(model, (8,))
    node = graph.nodes["1"]
    assert (node.reset, node.decay_reset, node.comparator) == ("subtract", False, ">")
    snn_utils.reset(model)
    ref = run_steps(model, x)
    check_identical(graph, x, ref)
    for change in ({"comparator": ">="}, {"decay_reset": True}):
        wrong = graph.edit().replace("1", node.replace(**change)).finish()
        assert not np.array_equal(simulate(wrong, x.numpy()).output, ref.numpy()), change


def test_mem_output_recorded_as_state():
    graph = trace(dyadic_model(mlp()), (16,))
    assert graph.metadata["state_outputs"] == ["5.v"]
    assert graph.outputs == ["output"]


def test_synaptic_zero_reset_is_a_delayed_hard_reset():
    """Synaptic's "zero" sets mem to 0 on the step after a spike, that step's input included."""
    model, x = tie_prone(snntorch.Synaptic(alpha=0.5, beta=0.5, threshold=0.5,
                                           reset_mechanism="zero", spike_grad=heaviside,
                                           init_hidden=True))
    graph = trace(model, (8,))
    node = graph.nodes["1"]
    assert (node.reset, node.decay_reset) == ("hard", False)
    snn_utils.reset(model)
    ref = run_steps(model, x)
    assert 0 < ref.sum() < ref.numel()
    check_identical(graph, x, ref)
    immediate = graph.edit().replace("1", node.replace(decay_reset=True)).finish()
    assert not np.array_equal(simulate(immediate, x.numpy()).output, ref.numpy())


class Tutorial(nn.Module):
    """snnTorch tutorial style: the loop over time inside forward, states threaded by hand."""

    def __init__(self, steps, indexed):
        super().__init__()
        self.steps, self.indexed = steps, indexed
        self.fc1, self.lif1 = nn.Linear(16, 10), snntorch.Leaky(beta=0.5, spike_grad=heaviside)
        self.fc2 = nn.Linear(10, 4)
        self.lif2 = snntorch.Synaptic(alpha=0.5, beta=0.75, spike_grad=heaviside)

    def forward(self, x):
        mem1 = self.lif1.reset_mem()
        syn2, mem2 = self.lif2.reset_mem()
        spk_rec, mem_rec = [], []
        for step in range(self.steps):
            cur1 = self.fc1(x[step] if self.indexed else x)
            spk1, mem1 = self.lif1(cur1, mem1)
            spk2, syn2, mem2 = self.lif2(self.fc2(spk1), syn2, mem2)
            spk_rec.append(spk2)
            mem_rec.append(mem2)
        return torch.stack(spk_rec, dim=0), torch.stack(mem_rec, dim=0)


class Counting(Tutorial):
    def forward(self, x):
        return super().forward(x)[0].sum(0)  # spike counts over time


def test_time_loop_with_spike_count_readout():
    graph = trace(dyadic_model(Counting(8, False)), (16,))
    assert graph.metadata["readout"] == {"output": "sum over time"}


@pytest.mark.parametrize("indexed", [False, True])
def test_time_loop_inside_forward(indexed):
    model = dyadic_model(Tutorial(12, indexed))
    graph = trace(model, (16,))
    assert graph.metadata["time_axis"].startswith("time loop in forward (12 steps)")
    assert [n.op for n in graph.nodes.values()] == ["input", "affine", "lif", "affine",
                                                    "cubalif", "output"]
    x = dyadic_input(12, 3, (16,))
    if not indexed:
        x = x[:1].expand(12, -1, -1)  # direct encoding: the same input every step
    with torch.no_grad():
        ref = model(x if indexed else x[0])[0]
    check_identical(graph, x, ref)


def test_uneven_neuron_calls_refused():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.a = snntorch.Leaky(beta=0.5, init_hidden=True)
            self.b = snntorch.Leaky(beta=0.5, init_hidden=True)

        def forward(self, x):
            return self.b(self.a(self.a(self.fc(x))))

    with pytest.raises(UnsupportedOpError, match="different numbers of times"):
        trace(Twice(), (4,))


def test_graded_spikes_factor_becomes_a_scale():
    model = dyadic_model(nn.Sequential(
        nn.Linear(16, 8), leaky(beta=0.5, graded_spikes_factor=0.5, threshold=0.5),
        nn.Linear(8, 4), leaky(beta=0.5, threshold=0.25)))
    graph = trace(model, (16,))
    assert graph.nodes["1.graded"].op == "scale"
    x = dyadic_input(12, 3, (16,))
    snn_utils.reset(model)
    check_identical(graph, x, run_steps(model, x))
