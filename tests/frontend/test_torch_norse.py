"""Norse cells (LIFBoxCell, LIFCell) and ``Lift`` of them (Norse 1.1's sequence form of a box
neuron; there is no ``LIFBox`` module): snnc's trace simulates like Norse's own forward."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("norse")
from frontend.fe_torch_util import check_identical, dyadic_input, dyadic_model  # noqa: E402
from norse.torch import (  # noqa: E402
    LIFBoxCell,
    LIFBoxParameters,
    LIFCell,
    LIFParameters,
    Lift,
    SequentialState,
)
from norse.torch.functional.reset import reset_subtract, reset_value  # noqa: E402
from torch import nn  # noqa: E402

from snnc.frontend.torch import trace  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.requires("norse")]

DT = 2.0**-10  # with tau_mem_inv = 256: dt / tau = 1/4, exactly representable


def box(v_th=0.5, v_leak=0.0, subtract=False):
    p = LIFBoxParameters(tau_mem_inv=torch.tensor(256.0), v_th=torch.tensor(v_th),
                         v_leak=torch.tensor(v_leak), v_reset=torch.tensor(0.0),
                         reset_method=reset_subtract if subtract else reset_value)
    return LIFBoxCell(p, dt=DT)


def cell(v_th=0.5):
    p = LIFParameters(tau_syn_inv=torch.tensor(512.0), tau_mem_inv=torch.tensor(256.0),
                      v_th=torch.tensor(v_th), v_leak=torch.tensor(0.0),
                      v_reset=torch.tensor(-0.25))
    return LIFCell(p, dt=DT)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.cell1 = nn.Linear(16, 12), box(v_leak=0.125)
        self.fc2, self.cell2 = nn.Linear(12, 5), cell(0.25)

    def forward(self, x, state=None):
        s1, s2 = state if state is not None else (None, None)
        z1, s1 = self.cell1(self.fc1(x), s1)
        z2, s2 = self.cell2(self.fc2(z1), s2)
        return z2, (s1, s2)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv0, self.c0 = nn.Conv2d(2, 4, 3, padding=1), box()
        self.conv1, self.bn1, self.c1 = nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4), cell()
        self.conv2, self.c2 = nn.Conv2d(4, 4, 1, bias=False), box(0.25, subtract=True)
        self.pool, self.fc, self.c3 = nn.MaxPool2d(2), nn.Linear(36, 5), box(0.25)

    def forward(self, x, state=None):
        st = state if state is not None else [None] * 4
        s0, st0 = self.c0(self.conv0(x), st[0])
        s1, st1 = self.c1(self.bn1(self.conv1(s0)) + s0, st[1])
        s2, st2 = self.c2(self.conv2(s1), st[2])
        s = s1 + s2 - s1 * s2
        out, st3 = self.c3(self.fc(torch.flatten(self.pool(s), 1)), st[3])
        return out, [st0, st1, st2, st3]


def sequential():
    return SequentialState(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), box(), nn.AvgPool2d(2),
                           nn.Flatten(), nn.Linear(16, 6), cell(0.25))


def run_norse(model, x):
    state, outs = None, []
    with torch.no_grad():
        for xt in x:
            out, state = model(xt, state)
            outs.append(out)
    return torch.stack(outs)


@pytest.mark.parametrize(("factory", "shape"), [(MLP, (16,)), (Residual, (2, 6, 6)),
                                                (sequential, (2, 6, 6))])
def test_identical_spikes(factory, shape):
    model = dyadic_model(factory())
    graph = trace(model, shape)
    x = dyadic_input(12, 3, shape)
    check_identical(graph, x, run_norse(model, x))
    assert graph.metadata["source"] == "norse"


def test_cell_parameters():
    graph = trace(dyadic_model(MLP()), (16,))
    n1, n2 = graph.nodes["cell1"], graph.nodes["cell2"]
    assert (n1.op, float(n1.decay_v), float(n1.gain), float(n1.v_init)) == ("lif", 0.75, 0.25,
                                                                           0.125)
    assert (n2.op, float(n2.decay_i), float(n2.v_reset), n2.comparator) == ("cubalif", 0.5,
                                                                          -0.25, ">")


def lifted():
    """Norse's sequence form of cells: ``Lift`` runs each module over the leading T axis."""
    return SequentialState(Lift(nn.Conv2d(2, 4, 3)), Lift(box()), Lift(nn.Flatten()),
                           Lift(nn.Linear(64, 6)), Lift(box(0.25, subtract=True)),
                           Lift(nn.Linear(6, 5)), Lift(cell(0.25)))


def test_lift_of_cells_is_the_sequence_form():
    model = dyadic_model(lifted())
    graph = trace(model, (2, 6, 6))
    x = dyadic_input(12, 3, (2, 6, 6))
    with torch.no_grad():
        ref = model(x)[0][0]  # SequentialState's output: Lift(cell)'s (spikes, state)
    check_identical(graph, x, ref)
    ops = [n.op for n in graph.nodes.values()]
    assert ops.count("lif") == 2
    assert ops.count("cubalif") == 1
    assert [n.reset for n in graph.nodes.values() if n.op == "lif"] == ["hard", "subtract"]


def test_lift_of_an_unsupported_cell_is_refused():
    from norse.torch import LIFAdExCell

    from snnc.errors import SnncError

    model = SequentialState(Lift(nn.Linear(4, 3)), Lift(LIFAdExCell()))
    with pytest.raises(SnncError, match="Lift of LIFAdExCell"):
        trace(model, (4,))
    # Norse's Lift starts a cell from the state a preceding Lift(cell) hands it: refused
    model = SequentialState(Lift(nn.Linear(4, 3)), Lift(box()), Lift(box()))
    with pytest.raises(SnncError, match="right after Lift of a cell"):
        trace(model, (4,))
