"""Functional ops in forward (view/reshape/flatten, cat, constant mul/div, sub, functional layers)
and the shipped example models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from frontend.fe_torch_util import check_identical, dyadic_input, dyadic_model  # noqa: E402
from torch import nn  # noqa: E402

import snnc.nn as snn  # noqa: E402
from snnc import api  # noqa: E402
from snnc.errors import UnsupportedOpError  # noqa: E402
from snnc.frontend.torch import trace  # noqa: E402
from snnc.simulators.reference import simulate  # noqa: E402

pytestmark = pytest.mark.torch
MODELS = Path(__file__).resolve().parents[2] / "examples" / "models"


class Functional(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.n0 = snn.IF(threshold=0.5)
        self.fc_a = nn.Linear(48, 6)
        self.fc_b = nn.Linear(48, 4)
        self.n1 = snn.LIF(0.5)
        self.n2 = snn.IF(threshold=0.5)
        self.bn_w = nn.Parameter(torch.ones(3))
        self.register_buffer("bn_m", torch.zeros(3))
        self.register_buffer("bn_v", torch.ones(3))

    def forward(self, x):
        y = F.conv2d(x, self.conv.weight, self.conv.bias, padding=1)
        y = F.batch_norm(y, self.bn_m, self.bn_v, self.bn_w, None, False, 0.1, 0.0)
        s = self.n0(F.avg_pool2d(y, 1) * 0.5 + F.max_pool2d(y, 1) / 2)
        flat = s.view(s.size(0), -1)
        a = self.n1(self.fc_a(flat))
        b = torch.neg(-self.fc_b(flat))
        z = torch.cat([a, b], dim=1).unsqueeze(1).reshape(-1, 10)
        return self.n2(z - torch.add(z, z, alpha=-0.5) * 0.25)


def test_functional_ops_identical():
    model = dyadic_model(Functional())
    graph = trace(model, (2, 4, 4))
    ops = {n.op for n in graph.nodes.values()}
    assert {"scale", "add", "linear", "reshape", "flatten", "batchnorm"} <= ops
    x = dyadic_input(10, 3, (2, 4, 4), hi=33)
    with torch.no_grad():
        check_identical(graph, x, snn.run(model, x))


def test_product_of_two_tensors_traces_to_mul():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            y = self.fc(x)
            return y * y

    # a product of two input-dependent tensors is an IR `mul` (spike products of attention);
    # the chip lowering decides whether it can be computed
    g = trace(Net(), (4,))
    assert any(n.op == "mul" for n in g.nodes.values())


def test_batch_axis_reshape_refused():
    class Net(nn.Module):
        def forward(self, x):
            return x.reshape(-1)

    with pytest.raises(UnsupportedOpError, match="batch"):
        trace(Net(), (4,))


@pytest.mark.parametrize("name", ["qsnn4", "bsnn"])
def test_shipped_example_models(name):
    graph = api.load(MODELS / f"{name}.pt")
    assert graph.nodes["0"].weight.kind == ("binary" if name == "bsnn" else "uniform")
    test = np.load(MODELS / "digits_test.npz")
    x = np.moveaxis(test["spikes"].astype(np.float64), -1, 0)  # (T, N, 64)
    assert set(np.unique(x)) == {0.0, 1.0}
    counts = simulate(graph, x).output.sum(0)
    assert np.mean(counts.argmax(1) == test["y"]) >= 0.9
    demo = np.load(MODELS / "X.npy")
    assert demo.shape == (16, 64, 8)
