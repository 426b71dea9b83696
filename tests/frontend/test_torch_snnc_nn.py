"""snnc.nn models traced by the PyTorch front end simulate identically to their own forward."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from frontend.fe_torch_util import check_identical, dyadic_input, dyadic_model  # noqa: E402
from torch import nn  # noqa: E402

import snnc.nn as snn  # noqa: E402
from snnc.frontend.torch import trace  # noqa: E402

pytestmark = pytest.mark.torch


class Residual(nn.Module):
    """conv-bn-LIF twice with a current residual, then a spike OR with the block input."""

    def __init__(self) -> None:
        super().__init__()
        self.conv0 = nn.Conv2d(2, 4, 3, padding=1, bias=False)
        self.n0 = snn.IF(threshold=0.5)
        self.conv1 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.n1 = snn.LIF(beta=0.5, reset="subtract")
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1, groups=4)
        self.bn2 = nn.BatchNorm2d(4)
        self.n2 = snn.LIF(beta=0.75, comparator=">=")
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(4 * 3 * 3, 5)
        self.n3 = snn.IF()

    def forward(self, x):
        s0 = self.n0(self.conv0(x))
        s1 = self.n1(self.bn1(self.conv1(s0)))
        s2 = self.n2(self.bn2(self.conv2(s1)) + s0)
        s3 = s2 + s0 - s2 * s0
        y = self.pool(s3).flatten(1)
        return self.n3(self.fc(y))


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 12), snn.LIF(beta=0.5),
                         nn.Dropout(0.3), nn.Linear(12, 6), snn.IF(reset="subtract"))


def convnet():
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), snn.LIF(0.5),
                         nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, stride=1), nn.BatchNorm2d(6),
                         snn.IF(), nn.Flatten(), nn.Linear(6, 4), snn.IF(threshold=0.5))


@pytest.mark.parametrize(("factory", "shape"), [(mlp, (4, 4)), (convnet, (2, 6, 6)),
                                                (Residual, (2, 6, 6))])
def test_identical_spikes(factory, shape):
    model = dyadic_model(factory())
    graph = trace(model, shape)
    x = dyadic_input(12, 3, shape)
    with torch.no_grad():
        ref = snn.run(model, x)
    check_identical(graph, x, ref)
    assert graph.metadata["source"] == "snnc.nn"


def test_residual_graph_has_add_and_or():
    graph = trace(dyadic_model(Residual()), (2, 6, 6))
    ops = [n.op for n in graph.nodes.values()]
    assert "add" in ops
    assert "or" in ops
    assert "mul" not in ops


def conv1d_net():
    return nn.Sequential(nn.Conv1d(3, 4, 3, padding=1), nn.BatchNorm1d(4), snn.LIF(0.5),
                         nn.Conv1d(4, 4, 3, groups=2), nn.BatchNorm1d(4), snn.IF(0.5),
                         nn.Flatten(), nn.Linear(24, 5), nn.BatchNorm1d(5), snn.IF(0.5))


def test_conv1d_and_batchnorm1d():
    model = dyadic_model(conv1d_net())
    graph = trace(model, (3, 8))
    assert [n.op for n in graph.nodes.values()].count("conv1d") == 2
    x = dyadic_input(12, 3, (3, 8))
    with torch.no_grad():
        check_identical(graph, x, snn.run(model, x))
