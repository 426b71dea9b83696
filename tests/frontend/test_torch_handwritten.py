"""Plain-PyTorch neurons: recognised by what they compute (whatever the class is called), traced
models simulate exactly like the module's own forward, unrecognised neurons get a message naming
them and ``register_neuron``, and registered classes convert with the user's ``to_ir``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from frontend.fe_torch_util import check_identical, dyadic_input, dyadic_model  # noqa: E402
from torch import nn  # noqa: E402

from snnc import ir  # noqa: E402
from snnc.errors import UnsupportedOpError  # noqa: E402
from snnc.frontend import neurons, register_neuron  # noqa: E402
from snnc.frontend.torch import trace  # noqa: E402

pytestmark = pytest.mark.torch


class Surrogate(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g / (1 + x.abs()) ** 2


class Cell(nn.Module):
    """State in an attribute; reset 'subtract' or 'hard' (v * (1 - s))."""

    def __init__(self, beta: float, th: float, reset: str) -> None:
        super().__init__()
        self.beta, self.th, self.mode = beta, th, reset
        self.v = None

    def forward(self, x: Any) -> Any:
        if self.v is None:
            self.v = torch.zeros_like(x)
        self.v = self.beta * self.v + x
        s = Surrogate.apply(self.v - self.th)
        self.v = self.v - s * self.th if self.mode == "subtract" else self.v * (1 - s)
        return s


class Threaded(nn.Module):
    """State threaded through forward, torch.where hard reset, '>=' through heaviside."""

    def __init__(self, beta: float = 0.5, th: float = 0.75) -> None:
        super().__init__()
        self.beta, self.th = beta, th

    def forward(self, x: Any, v: Any) -> Any:
        v = self.beta * v + x
        s = torch.heaviside(v - self.th, torch.ones_like(v))
        return s, torch.where(s > 0, torch.zeros_like(v), v)


class Adaptive(nn.Module):
    """An adaptive-threshold neuron (two state tensors): not the recognised pattern."""

    def __init__(self) -> None:
        super().__init__()
        self.v = self.a = None

    def forward(self, x: Any) -> Any:
        if self.v is None:
            self.v, self.a = torch.zeros_like(x), torch.zeros_like(x)
        self.v = 0.5 * self.v + x
        s = (self.v > 1 + self.a).to(x.dtype)
        self.a = 0.5 * self.a + s
        self.v = self.v * (1 - s)
        return s


class StepNet(nn.Module):
    def __init__(self, cell: Any, cell2: Any) -> None:
        super().__init__()
        self.fc1, self.n1, self.fc2, self.n2 = nn.Linear(6, 8), cell, nn.Linear(8, 3), cell2

    def forward(self, x: Any) -> Any:
        return self.n2(self.fc2(self.n1(self.fc1(x))))


class LoopNet(nn.Module):
    """Time loop over range(x.shape[0]) and torch.zeros(batch, n) states inside forward."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.n1, self.fc2, self.n2 = nn.Linear(6, 8), Threaded(), nn.Linear(8, 3), \
            Threaded(0.25, 0.5)

    def forward(self, x: Any) -> Any:
        v1, v2 = torch.zeros(x.shape[1], 8), torch.zeros(x.shape[1], 3)
        out = []
        for t in range(x.shape[0]):
            s1, v1 = self.n1(self.fc1(x[t]), v1)
            s2, v2 = self.n2(self.fc2(s1), v2)
            out.append(s2)
        return torch.stack(out)


def run_cells(net: nn.Module, x: Any) -> Any:
    for m in net.modules():
        if hasattr(m, "v"):
            m.v = None
    with torch.no_grad():
        return torch.stack([net(xt) for xt in x])


@pytest.mark.parametrize("reset", ["subtract", "hard"])
def test_attribute_state_neurons_simulate_like_the_module(reset: str) -> None:
    net = dyadic_model(StepNet(Cell(0.5, 1.0, reset), Cell(0.75, 0.5, reset)))
    x = dyadic_input(12, 5, (6,))
    g = trace(net, (6,))
    assert g.nodes["n1"].op == "lif"
    assert float(g.nodes["n1"].decay_v) == 0.5
    assert float(g.nodes["n2"].threshold) == 0.5
    assert g.nodes["n1"].reset == reset
    check_identical(g, x, run_cells(net, x))


def test_threaded_state_time_loop_and_ge_comparator() -> None:
    net = dyadic_model(LoopNet())
    x = dyadic_input(10, 5, (6,))
    g = trace(net, (6,))
    n1 = g.nodes["n1"]
    assert (n1.op, n1.comparator, n1.reset, float(n1.threshold)) == ("lif", ">=", "hard", 0.75)
    with torch.no_grad():
        check_identical(g, x, net(x))


def test_the_class_name_does_not_matter() -> None:
    renamed = type("Anything", (Cell,), {})
    a = trace(dyadic_model(StepNet(Cell(0.5, 1.0, "hard"), Cell(0.5, 1.0, "hard"))), (6,))
    b = trace(dyadic_model(StepNet(renamed(0.5, 1.0, "hard"), renamed(0.5, 1.0, "hard"))),
              (6,))
    assert a.nodes["n1"] == b.nodes["n1"]


def test_an_unrecognised_neuron_names_itself_and_register_neuron() -> None:
    net = dyadic_model(StepNet(Adaptive(), Adaptive()))
    with pytest.raises(UnsupportedOpError) as exc:
        trace(net, (6,))
    msg = str(exc.value)
    assert "Adaptive" in msg
    assert "register_neuron" in msg
    assert "2 state tensors" in msg


def test_register_neuron_converts_the_rest() -> None:
    def to_ir(mod: Any, shape: tuple[int, ...]) -> Any:
        return ir.LIF(shape=shape, decay_v=np.float64(0.5), threshold=np.float64(1.0))

    register_neuron(Adaptive, to_ir)
    try:
        g = trace(dyadic_model(StepNet(Adaptive(), Adaptive())), (6,))
    finally:
        neurons.REGISTERED.pop(Adaptive)
    assert g.nodes["n1"].op == "lif"
    assert float(g.nodes["n1"].decay_v) == 0.5


def test_a_comparison_on_weights_stays_a_weight_quantizer() -> None:
    class Binarize(nn.Module):
        def forward(self, w: Any) -> Any:
            return torch.where(w >= 0, torch.ones_like(w), -torch.ones_like(w)) * 0.25

    class BinLinear(nn.Linear):
        def __init__(self) -> None:
            super().__init__(6, 8, bias=False)
            self.q = Binarize()

        def forward(self, x: Any) -> Any:
            return nn.functional.linear(x, self.q(self.weight))

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc, self.n = BinLinear(), Cell(0.5, 0.5, "subtract")

        def forward(self, x: Any) -> Any:
            return self.n(self.fc(x))

    net = dyadic_model(Net())
    g = trace(net, (6,))
    w = next(n for n in g.nodes.values() if n.op in ("linear", "affine")).weight
    assert set(np.unique(np.abs(np.asarray(ir.as_float(w))))) == {0.25}
    x = dyadic_input(10, 5, (6,))
    check_identical(g, x, run_cells(net, x))


def test_recognition_is_not_inherited_by_a_module_at_a_reused_address() -> None:
    """A module's answer must die with it: a new neuron allocated where a non-neuron module
    lived (CPython reuses addresses at once) is still recognised."""
    from snnc.frontend.torch.handwritten import is_candidate

    reused = 0
    for _ in range(50):
        plain = nn.Identity()
        assert not is_candidate(plain)
        old = id(plain)
        del plain
        cell = Cell(0.5, 1.0, "hard")
        reused += id(cell) == old
        assert is_candidate(cell)
    assert reused > 0, "no address was reused, so the test checked nothing"
