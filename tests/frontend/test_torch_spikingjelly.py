"""SpikingJelly models (single- and multi-step): snnc's trace simulates like SpikingJelly."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("spikingjelly")
from frontend.fe_torch_util import (  # noqa: E402
    check_identical,
    dyadic_input,
    dyadic_model,
    run_steps,
)
from spikingjelly.activation_based import functional, layer, neuron  # noqa: E402
from torch import nn  # noqa: E402

from snnc.errors import UnsupportedOpError  # noqa: E402
from snnc.frontend.torch import trace  # noqa: E402
from snnc.simulators.reference import simulate  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.requires("spikingjelly")]


def mlp(mode="s"):
    return nn.Sequential(
        layer.Flatten(step_mode=mode), layer.Linear(16, 12, step_mode=mode),
        neuron.IFNode(step_mode=mode), layer.Linear(12, 8, step_mode=mode),
        neuron.LIFNode(tau=2.0, v_reset=None, step_mode=mode),
        layer.Linear(8, 5, step_mode=mode),
        neuron.LIFNode(tau=4.0, decay_input=False, v_reset=-0.5, v_threshold=0.25,
                       step_mode=mode))


def convnet(mode="s"):
    return nn.Sequential(
        layer.Conv2d(2, 4, 3, padding=1, bias=False, step_mode=mode),
        layer.BatchNorm2d(4, step_mode=mode), neuron.ParametricLIFNode(step_mode=mode),
        layer.MaxPool2d(2, step_mode=mode),
        layer.Conv2d(4, 6, 3, padding=1, step_mode=mode), layer.BatchNorm2d(6, step_mode=mode),
        neuron.IFNode(v_reset=None, step_mode=mode), layer.AvgPool2d(3, step_mode=mode),
        layer.Flatten(step_mode=mode), layer.Linear(6, 4, step_mode=mode),
        neuron.LIFNode(tau=2.0, v_threshold=0.125, step_mode=mode))


class SeqNet(nn.Module):
    """Multi-step with SeqToANNContainer, a current residual and a spike OR; mean over T."""

    def __init__(self):
        super().__init__()
        self.stem = layer.SeqToANNContainer(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4))
        self.sn0 = neuron.IFNode(step_mode="m")
        self.conv = layer.SeqToANNContainer(nn.Conv2d(4, 4, 3, padding=1, bias=False),
                                            nn.BatchNorm2d(4))
        self.sn1 = neuron.LIFNode(tau=2.0, step_mode="m")
        self.conv2 = layer.SeqToANNContainer(nn.Conv2d(4, 4, 1))
        self.sn2 = neuron.IFNode(v_reset=None, step_mode="m")
        self.head = layer.SeqToANNContainer(nn.AvgPool2d(2), nn.Flatten(), nn.Linear(36, 5))
        self.sn3 = neuron.IFNode(step_mode="m")

    def forward(self, x):
        s0 = self.sn0(self.stem(x))
        s1 = self.sn1(self.conv(s0) + s0)
        s2 = self.sn2(self.conv2(s1))
        s = s1 + s2 - s1 * s2
        return self.sn3(self.head(s))


def multi_step_forward(model, x):
    functional.reset_net(model)
    with torch.no_grad():
        return model(x)


@pytest.mark.parametrize(("factory", "shape"), [(mlp, (4, 4)), (convnet, (2, 6, 6))])
def test_single_step(factory, shape):
    model = dyadic_model(factory())
    graph = trace(model, shape)
    x = dyadic_input(12, 3, shape)
    functional.reset_net(model)
    check_identical(graph, x, run_steps(model, x))
    assert graph.metadata["source"] == "spikingjelly"


@pytest.mark.parametrize(("factory", "shape"), [(lambda: mlp("m"), (4, 4)),
                                                (lambda: convnet("m"), (2, 6, 6)),
                                                (SeqNet, (2, 6, 6))])
def test_multi_step(factory, shape):
    model = dyadic_model(factory())
    graph = trace(model, shape)
    assert graph.metadata["time_axis"].startswith("multi-step")
    x = dyadic_input(12, 3, shape)
    check_identical(graph, x, multi_step_forward(model, x))


def test_mean_over_time_is_the_readout():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = layer.Linear(8, 4, step_mode="m")
            self.sn = neuron.IFNode(step_mode="m")

        def forward(self, x):
            return self.sn(self.fc(x)).mean(0)

    graph = trace(dyadic_model(Net()), (8,))
    assert graph.metadata["readout"] == {"output": "mean over time"}


def test_comparator_is_inclusive():
    """0/1 inputs and {-1, 0, 1} weights make v == threshold common: '>=' matters."""
    gen = torch.Generator().manual_seed(5)
    model = nn.Sequential(layer.Linear(8, 8, bias=False), neuron.IFNode(v_reset=None)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.randint(-1, 2, (8, 8), generator=gen).double())
    x = torch.randint(0, 2, (30, 8, 8), generator=gen).double()
    graph = trace(model, (8,))
    functional.reset_net(model)
    ref = run_steps(model, x)
    check_identical(graph, x, ref)
    node = graph.nodes["1"]
    assert (node.comparator, node.reset) == (">=", "subtract")
    wrong = graph.edit().replace("1", node.replace(comparator=">")).finish()
    assert not np.array_equal(simulate(wrong, x.numpy()).output, ref.numpy())


def test_single_step_module_on_multi_step_input_refused():
    model = nn.Sequential(layer.Linear(4, 4, step_mode="m"), neuron.IFNode(step_mode="s"))
    with pytest.raises(UnsupportedOpError, match=r"1 \[.*IFNode\].*single-step module"):
        trace(model, (4,))


def test_neuron_subclass_with_other_dynamics_refused():
    class Custom(neuron.LIFNode):
        def neuronal_charge(self, x):  # different dynamics, same forward
            self.v = self.v + 2 * x

    model = nn.Sequential(layer.Linear(4, 4), Custom(tau=2.0))
    with pytest.raises(UnsupportedOpError, match=r"1 \[.*Custom\].*unsupported module"):
        trace(model, (4,))
