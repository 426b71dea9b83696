"""The same snnTorch model through NeuroBench 2.3.0 itself and through snnc's report metrics.

NeuroBench runs the torch model with its hooks (``Benchmark`` with ``SNNTorchModel``); snnc traces
the model into IR, records the activity with the reference simulator (float64, exactly the
torch forward on dyadic parameters) and counts from the graph. Every metric must agree; the
footprint differs only by the neuron buffers snnTorch keeps (documented in neurobench.py).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")
from frontend.fe_torch_util import dyadic_input, dyadic_model  # noqa: E402
from torch import nn  # noqa: E402

from snnc.backends.report.neurobench import neurobench_metrics  # noqa: E402
from snnc.frontend.torch import trace  # noqa: E402
from snnc.stages.measure import record_float as record  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.requires("snntorch", "neurobench")]


def heaviside(x):
    return (x > 0).to(x.dtype)


def leaky(**kw):
    return snn.Leaky(init_hidden=True, spike_grad=heaviside, **kw)


def convnet():
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, stride=2), leaky(beta=0.5),
                         nn.Flatten(), nn.Linear(36, 6), leaky(beta=0.75, reset_mechanism="zero"),
                         nn.Linear(6, 3), leaky(beta=0.5, output=True))


def _inputs(kind: str) -> torch.Tensor:
    x = dyadic_input(6, 3, (2, 5, 5), hi=17)
    if kind == "spikes":  # binary events with two silent steps: first layer counts ACs
        x = (x > 0.5).double()
        x[2:4] = 0
    return x


def _neurobench(model: nn.Module, x: torch.Tensor) -> dict:
    from neurobench.benchmarks import Benchmark
    from neurobench.metrics.static import ConnectionSparsity, Footprint, ParameterCount
    from neurobench.metrics.workload import (
        ActivationSparsity,
        MembraneUpdates,
        SynapticOperations,
    )
    from neurobench.models import SNNTorchModel
    from torch.utils.data import DataLoader, TensorDataset

    data = x.transpose(0, 1)  # NeuroBench takes (B, T, ...)
    loader = DataLoader(TensorDataset(data, torch.zeros(len(data))), batch_size=len(data))
    bench = Benchmark(SNNTorchModel(model), loader, [], [],
                      [[ParameterCount, ConnectionSparsity, Footprint],
                       [SynapticOperations, ActivationSparsity, MembraneUpdates]])
    return bench.run(quiet=True)


@pytest.mark.parametrize("kind", ["analog", "spikes"])
def test_metrics_equal_neurobench(kind) -> None:
    model = dyadic_model(convnet())
    with torch.no_grad():
        model[3].weight[:, :10] = 0  # some zero weights: effective < dense, sparsity > 0
        if kind == "spikes":  # no bias: silent steps leave reset membranes unchanged
            for i in (0, 3, 5):
                model[i].bias.zero_()
    x = _inputs(kind)
    ours = neurobench_metrics(trace(model, (2, 5, 5)), record(trace(model, (2, 5, 5)),
                                                              x.numpy()))
    theirs = _neurobench(model, x)
    syn = theirs["SynapticOperations"]
    assert syn["Dense"] > syn["Effective_MACs"] + syn["Effective_ACs"] > 0
    if kind == "spikes":
        assert syn["Effective_MACs"] == 0
    else:
        assert syn["Effective_MACs"] > 0
        assert syn["Effective_ACs"] > 0
    assert ours["synaptic_operations"] == pytest.approx(syn, rel=1e-12)
    assert ours["activation_sparsity"] == pytest.approx(theirs["ActivationSparsity"], rel=1e-12)
    assert ours["membrane_updates"] == pytest.approx(theirs["MembraneUpdates"], rel=1e-12)
    assert ours["connection_sparsity"] == theirs["ConnectionSparsity"]
    assert ours["parameter_count"] == theirs["ParameterCount"]
    if kind == "spikes":  # zero input and hard resets leave some membranes unchanged
        assert theirs["MembraneUpdates"] < 45 * 6


def test_footprint_differs_only_by_neuron_buffers() -> None:
    model = convnet().float().eval()
    ours = neurobench_metrics(trace(model, (2, 5, 5)), None)
    buffers = sum(b.numel() * b.element_size() for b in model.buffers())
    theirs = _neurobench(model, torch.zeros(2, 1, 2, 5, 5))["Footprint"]
    assert ours["footprint_bytes"] == theirs - buffers
    assert ours["synaptic_operations"] is None
    assert ours["membrane_updates"] is None
    np.testing.assert_equal(ours["parameter_count"], sum(p.numel() for p in model.parameters()))
