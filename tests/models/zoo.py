"""User-style models, written the way the frameworks' tutorials write them (default settings).

Each entry builds the module, says how its own framework runs it over time (``run``: time-major
spikes in, (T, B, 10) output spikes out) and how a user saves it. Nothing here is adapted to
snnc: the point of the suite is that these compile as written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

BETA = 0.9  # snnTorch tutorials' usual leak


# --- snnTorch ------------------------------------------------------------------------------

class SnnTorchNet(nn.Module):
    """snnTorch tutorial 5: a class with a loop over the steps of the input inside forward."""

    def __init__(self) -> None:
        import snntorch as snn

        super().__init__()
        self.fc1 = nn.Linear(64, 128)
        self.lif1 = snn.Leaky(beta=BETA)
        self.fc2 = nn.Linear(128, 10)
        self.lif2 = snn.Leaky(beta=BETA)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mem1 = self.lif1.init_leaky()
        mem2 = self.lif2.init_leaky()
        spk2_rec = []
        for step in range(x.shape[0]):
            cur1 = self.fc1(x[step])
            spk1, mem1 = self.lif1(cur1, mem1)
            cur2 = self.fc2(spk1)
            spk2, mem2 = self.lif2(cur2, mem2)
            spk2_rec.append(spk2)
        return torch.stack(spk2_rec, dim=0)


def snntorch_mlp() -> nn.Module:
    return SnnTorchNet()


def snntorch_conv() -> nn.Module:
    """snnTorch tutorial 7 style: ``nn.Sequential`` with ``init_hidden=True`` neurons, one step
    per call, run by a loop outside (``utils.reset`` first)."""
    import snntorch as snn

    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), snn.Leaky(beta=BETA, init_hidden=True),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 10),
        snn.Leaky(beta=BETA, init_hidden=True, output=True))


def snntorch_nir_mlp() -> nn.Module:
    """The shape snnTorch's ``export_to_nir`` needs: per-neuron ``beta``/``threshold`` tensors
    and ``reset_mechanism="zero"`` (NIR's LIF resets to v_reset; subtract reset is dropped)."""
    import snntorch as snn

    def leaky(n: int, **kw: Any) -> nn.Module:
        return snn.Leaky(beta=torch.full((n,), BETA), threshold=torch.ones(n), init_hidden=True,
                         reset_mechanism="zero", **kw)

    return nn.Sequential(nn.Linear(64, 128), leaky(128), nn.Linear(128, 10),
                         leaky(10, output=True))


def run_snntorch_sequential(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    from snntorch import utils

    utils.reset(net)
    out = []
    for step in range(x.shape[0]):
        spk, _mem = net(x[step])
        out.append(spk)
    return torch.stack(out)


def reset_snntorch(net: nn.Module) -> None:
    from snntorch import utils

    utils.reset(net)


# --- SpikingJelly --------------------------------------------------------------------------

def spikingjelly_conv(node: str = "LIF") -> nn.Module:
    """SpikingJelly's multi-step conv net (``functional.set_step_mode(net, 'm')``)."""
    from spikingjelly.activation_based import functional, layer, neuron, surrogate

    def cell() -> nn.Module:
        if node == "IF":
            return neuron.IFNode(surrogate_function=surrogate.ATan())
        return neuron.LIFNode(tau=2.0, surrogate_function=surrogate.ATan())

    net = nn.Sequential(
        layer.Conv2d(1, 8, 3, padding=1, bias=False), layer.BatchNorm2d(8), cell(),
        layer.MaxPool2d(2), layer.Flatten(), layer.Linear(8 * 4 * 4, 10, bias=False), cell())
    functional.set_step_mode(net, "m")
    return net


def run_spikingjelly(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    from spikingjelly.activation_based import functional

    functional.reset_net(net)
    return net(x)


def reset_spikingjelly(net: nn.Module) -> None:
    from spikingjelly.activation_based import functional

    functional.reset_net(net)


class SEWBlock(nn.Module):
    """SEW-ResNet's basic block (Fang et al. 2021) as SpikingJelly's sew_resnet writes it: a
    conv-BN-neuron branch whose spikes meet the block's input spikes in ``cnf`` (ADD: ``out +
    identity``; OR, as SynA-ResNet: ``out + identity - out * identity``)."""

    def __init__(self, channels: int, cnf: str, node: str) -> None:
        from spikingjelly.activation_based import layer, neuron, surrogate

        super().__init__()
        cell = neuron.IFNode if node == "IF" else neuron.LIFNode
        self.conv = nn.Sequential(
            layer.Conv2d(channels, channels, 3, padding=1, bias=False),
            layer.BatchNorm2d(channels), cell(surrogate_function=surrogate.ATan()))
        self.cnf = cnf

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        if self.cnf == "ADD":
            return out + x
        return out + x - out * x


def spikingjelly_sew(cnf: str = "ADD", node: str = "IF") -> nn.Module:
    """A SEW residual block between a stem and a classifier, average pooling after the merge."""
    from spikingjelly.activation_based import functional, layer, neuron, surrogate

    cell = neuron.IFNode if node == "IF" else neuron.LIFNode
    net = nn.Sequential(
        layer.Conv2d(1, 8, 3, padding=1, bias=False), layer.BatchNorm2d(8),
        cell(surrogate_function=surrogate.ATan()),
        SEWBlock(8, cnf, node), layer.AvgPool2d(2), layer.Flatten(),
        layer.Linear(8 * 4 * 4, 10, bias=False), cell(surrogate_function=surrogate.ATan()))
    functional.set_step_mode(net, "m")
    return net


# --- plain PyTorch: hand-written neurons and fake-quantized weights -------------------------

class SpikeFn(torch.autograd.Function):
    """Heaviside forward, fast-sigmoid surrogate backward (as surrogate-gradient tutorials)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return (x > 0).float()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad / (1 + 10 * x.abs()) ** 2


class MyLIF(nn.Module):
    """State kept in an attribute, subtract reset."""

    def __init__(self, beta: float = BETA, threshold: float = 1.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold
        self.v: torch.Tensor | None = None

    def reset(self) -> None:
        self.v = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.v is None:
            self.v = torch.zeros_like(x)
        self.v = self.beta * self.v + x
        s = SpikeFn.apply(self.v - self.threshold)
        self.v = self.v - s * self.threshold
        return s


class MyIF(nn.Module):
    """State threaded through forward, hard reset."""

    def __init__(self, threshold: float = 1.0) -> None:
        super().__init__()
        self.threshold = threshold

    def forward(self, x: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        v = v + x
        s = SpikeFn.apply(v - self.threshold)
        v = v * (1 - s)
        return s, v


class FourBit(torch.autograd.Function):
    """Symmetric 4-bit fake quantization with a straight-through gradient."""

    @staticmethod
    def forward(ctx: Any, w: torch.Tensor) -> torch.Tensor:
        scale = w.abs().max() / 7
        return torch.round(w / scale).clamp(-8, 7) * scale

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return grad


class QLinear(nn.Linear):
    """``bits=4``: FourBit weights; ``bits=1``: sign(w) * mean|w| (XNOR-Net style, STE)."""

    def __init__(self, n_in: int, n_out: int, bits: int) -> None:
        super().__init__(n_in, n_out, bias=False)
        self.bits = bits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight
        if self.bits == 1:
            wq = w + (torch.sign(w) * w.abs().mean() - w).detach()
        else:
            wq = FourBit.apply(w)
        return nn.functional.linear(x, wq)


class HandLIFNet(nn.Module):
    """MLP with MyLIF neurons (attribute state), run one step per call by a loop outside."""

    def __init__(self, bits: int = 4) -> None:
        super().__init__()
        self.fc1, self.lif1 = QLinear(64, 128, bits), MyLIF()
        self.fc2, self.lif2 = QLinear(128, 10, bits), MyLIF()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lif2(self.fc2(self.lif1(self.fc1(x))))


class HandIFNet(nn.Module):
    """MLP with MyIF neurons, the time loop and ``torch.zeros(batch, n)`` states in forward."""

    def __init__(self, bits: int = 1) -> None:
        super().__init__()
        self.fc1, self.if1 = QLinear(64, 128, bits), MyIF()
        self.fc2, self.if2 = QLinear(128, 10, bits), MyIF()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v1 = torch.zeros(x.shape[1], 128)
        v2 = torch.zeros(x.shape[1], 10)
        out = []
        for step in range(x.shape[0]):
            s1, v1 = self.if1(self.fc1(x[step]), v1)
            s2, v2 = self.if2(self.fc2(s1), v2)
            out.append(s2)
        return torch.stack(out)


def run_stepwise(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    reset_stepwise(net)
    return torch.stack([net(x[t]) for t in range(x.shape[0])])


def reset_stepwise(net: nn.Module) -> None:
    for m in net.modules():
        if isinstance(m, MyLIF):
            m.reset()


def hand_lif_4bit() -> nn.Module:
    return HandLIFNet(bits=4)


def hand_lif_binary() -> nn.Module:
    return HandLIFNet(bits=1)


def hand_if_binary() -> nn.Module:
    return HandIFNet(bits=1)


def hand_if_4bit() -> nn.Module:
    return HandIFNet(bits=4)


# --- Norse ----------------------------------------------------------------------------------

def norse_lif() -> nn.Module:
    """Norse's sequence neurons (``norse.torch.LIF`` loops over T) in ``SequentialState``."""
    from norse.torch import LIF, LIFParameters, SequentialState

    p = LIFParameters(v_th=torch.tensor(0.5))
    # bias=False: a bias before a current-based neuron has no Lava equivalent (Known limits)
    return SequentialState(nn.Linear(64, 128, bias=False), LIF(p),
                           nn.Linear(128, 10, bias=False), LIF(p))


def run_norse(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return net(x)[0]


def norse_lift_box() -> nn.Module:
    """Norse 1.1 has no ``LIFBox`` sequence module: a box (current-free) LIF over a sequence is
    ``Lift(LIFBoxCell())``, Norse's wrapper that runs a module over the leading T axis."""
    from norse.torch import LIFBoxCell, LIFBoxParameters, Lift, SequentialState

    p = LIFBoxParameters(v_th=torch.tensor(0.5))
    return SequentialState(Lift(nn.Linear(64, 128)), Lift(LIFBoxCell(p)),
                           Lift(nn.Linear(128, 10)), Lift(LIFBoxCell(p)))


def run_norse_lift(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return net(x)[0][0]  # SequentialState's output is the last Lift(cell)'s (spikes, state)


@dataclass(frozen=True)
class ZooModel:
    name: str
    build: Callable[[], nn.Module]
    run: Callable[[nn.Module, torch.Tensor], torch.Tensor]
    reset: Callable[[nn.Module], None] | None
    conv: bool
    chip: str  # the chip the model needs ("loihi2" for subtract reset and '>=')
    epochs: int = 3
    lr: float = 5e-3
    cli_epochs: int = 2  # epochs of the CLI test's quick training (tests/models/test_zoo_cli.py)
    notes: str = ""


def _call(net: nn.Module, x: torch.Tensor) -> Any:
    return net(x)


MODELS: dict[str, ZooModel] = {m.name: m for m in (
    ZooModel("snntorch_mlp", snntorch_mlp, _call, None, conv=False, chip="loihi2"),
    ZooModel("snntorch_nir_mlp", snntorch_nir_mlp, run_snntorch_sequential,
             reset_snntorch, conv=False, chip="loihi1"),
    ZooModel("snntorch_conv", snntorch_conv, run_snntorch_sequential, reset_snntorch,
             conv=True, chip="loihi2"),
    ZooModel("spikingjelly_lif_conv", lambda: spikingjelly_conv("LIF"), run_spikingjelly,
             reset_spikingjelly, conv=True, chip="loihi2"),
    ZooModel("spikingjelly_if_conv", lambda: spikingjelly_conv("IF"), run_spikingjelly,
             reset_spikingjelly, conv=True, chip="loihi2", cli_epochs=10),
    ZooModel("spikingjelly_sew_add", lambda: spikingjelly_sew("ADD"), run_spikingjelly,
             reset_spikingjelly, conv=True, chip="loihi2", cli_epochs=4),
    ZooModel("hand_lif_4bit", hand_lif_4bit, run_stepwise, reset_stepwise, conv=False,
             chip="loihi2"),
    ZooModel("hand_lif_binary", hand_lif_binary, run_stepwise, reset_stepwise, conv=False,
             chip="loihi2"),
    ZooModel("hand_if_4bit", hand_if_4bit, _call, None, conv=False, chip="loihi1"),
    ZooModel("hand_if_binary", hand_if_binary, _call, None, conv=False, chip="loihi1"),
    ZooModel("norse_lif", norse_lif, run_norse, None, conv=False, chip="loihi1", lr=1e-2),
    ZooModel("norse_lift_box", norse_lift_box, run_norse_lift, None, conv=False, chip="loihi1",
             lr=1e-2, cli_epochs=4),
    ZooModel("spikingjelly_sew_or", lambda: spikingjelly_sew("OR"), run_spikingjelly,
             reset_spikingjelly, conv=True, chip="loihi2"),
)}
