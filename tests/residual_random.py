"""Random residual networks whose paths differ in latency (SEW spike ADD, residual currents,
spike OR), with dyadic parameters so the float model is exact in float64 and on Lava's grid.

Shared by the exact-lowering tests (tests/passes/test_alignment.py) and the Lava test
(tests/lava/test_alignment_in_lava.py). ``kind``:

- ``sew``: two SEW blocks, ``y = sn(conv(sn(conv(x)))) + x`` then ``z = sn(conv(y)) + y``, the
  graded sum z read by a flatten and a linear readout layer;
- ``current``: a neuron fed by a two-conv path and a one-conv shortcut (two synapse groups onto
  one compartment, the shortcut one layer shorter);
- ``or``: a spike OR (SynA-ResNet) of a two-layer branch and the block input, then a conv;
- ``dense``: the SEW block on flat vectors (dense synapses hold the delays themselves);
- ``sew_avgpool``: SEW-ResNet's downsampling, ``avgpool(sn(conv(sn(conv(x)))) + x)`` read by
  the linear readout (fold-affine distributes the pool and the readout over both branches);
- ``or_maxpool``: a spike OR then a max-pool of it (binary, so an OR neuron over the window).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from snnc import ir

KINDS = ("sew", "current", "or", "dense", "sew_avgpool", "or_maxpool")


def dyadic(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-4, 7, size=shape) / 4


def neuron(rng: np.random.Generator, shape: tuple[int, ...]) -> ir.Node:
    """IF or LIF (decay 1/2 or 0) with a random reset (hard, subtract, delayed subtract) and
    comparator, as Loihi 2's programmable neurons run them."""
    reset = str(rng.choice(["hard", "subtract", "subtract-delayed"]))
    kw: dict[str, Any] = {"threshold": float(rng.integers(1, 8)) / 4,
                          "comparator": str(rng.choice([">", ">="])),
                          "reset": "hard" if reset == "hard" else "subtract",
                          "decay_reset": reset != "subtract-delayed"}
    if rng.random() < 0.5:
        return ir.IF(shape=shape, **kw)
    return ir.LIF(shape=shape, decay_v=float(rng.choice([0.0, 0.5])), **kw)


class Builder:
    """A graph built node by node: ``add(name, node, *sources)`` returns ``name``."""

    def __init__(self) -> None:
        self.nodes: dict[str, ir.Node] = {}
        self.edges: list[tuple[str, str]] = []

    def add(self, name: str, node: ir.Node, *srcs: str) -> str:
        self.nodes[name] = node
        self.edges += [(s, name) for s in srcs]
        return name

    def build(self) -> ir.Graph:
        return ir.Graph.build(self.nodes, self.edges)


class _Net(Builder):
    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__()
        self.rng = rng

    def conv_layer(self, name: str, src: str, c_in: int, c: int, h: int) -> str:
        conv = ir.Conv2d(input_shape=(c_in, h, h), weight=dyadic(self.rng, (c, c_in, 3, 3)),
                         padding=(1, 1))
        self.add(f"{name}_conv", conv, src)
        return self.add(name, neuron(self.rng, (c, h, h)), f"{name}_conv")

    def dense_layer(self, name: str, src: str, n_in: int, n: int) -> str:
        self.add(f"{name}_fc", ir.Linear(weight=dyadic(self.rng, (n, n_in))), src)
        return self.add(name, neuron(self.rng, (n,)), f"{name}_fc")

    def readout(self, src: str, shape: tuple[int, ...], n_out: int = 3) -> ir.Graph:
        n = int(np.prod(shape))
        if len(shape) > 1:
            src = self.add("flat", ir.Flatten(input_shape=shape), src)
        last = self.dense_layer("head", src, n, n_out)
        self.add("out", ir.Output(shape=(n_out,)), last)
        return self.build()


def random_residual(rng: np.random.Generator, kind: str) -> ir.Graph:
    c, h = 2, 5
    net = _Net(rng)
    if kind == "dense":
        n = int(rng.integers(3, 7))
        x = net.dense_layer("stem", net.add("in", ir.Input(shape=(4,))), 4, n)
        a = net.dense_layer("b2", net.dense_layer("b1", x, n, n), n, n)
        y = net.add("sum", ir.Add(shape=(n,)), a, x)
        return net.readout(y, (n,))
    x = net.conv_layer("stem", net.add("in", ir.Input(shape=(1, h, h))), 1, c, h)
    a1 = net.conv_layer("b1", x, c, c, h)
    if kind == "current":
        conv2 = ir.Conv2d(input_shape=(c, h, h), weight=dyadic(rng, (c, c, 3, 3)), padding=(1, 1))
        skip = ir.Conv2d(input_shape=(c, h, h), weight=dyadic(rng, (c, c, 1, 1)))
        net.add("b2_conv", conv2, a1)
        net.add("skip", skip, x)
        y = net.add("b2", neuron(rng, (c, h, h)), "b2_conv", "skip")
        return net.readout(y, (c, h, h))
    a = net.conv_layer("b2", a1, c, c, h)
    if kind == "or":
        y = net.add("merge", ir.Or(shape=(c, h, h)), a, x)
        return net.readout(net.conv_layer("after", y, c, c, h), (c, h, h))
    if kind in ("sew_avgpool", "or_maxpool"):
        merge = ir.Add(shape=(c, h, h)) if kind == "sew_avgpool" else ir.Or(shape=(c, h, h))
        y = net.add("merge", merge, a, x)
        pool = ir.AvgPool2d if kind == "sew_avgpool" else ir.MaxPool2d
        p = net.add("pool", pool(input_shape=(c, h, h), kernel_size=(2, 2), stride=(2, 2)), y)
        return net.readout(p, (c, h // 2, h // 2))
    y = net.add("sum1", ir.Add(shape=(c, h, h)), a, x)
    b = net.conv_layer("b3", y, c, c, h)
    z = net.add("sum2", ir.Add(shape=(c, h, h)), b, y)
    return net.readout(z, (c, h, h))


def spikes(rng: np.random.Generator, shape: tuple[int, ...], t: int = 12, b: int = 4,
           rate: tuple[float, float] = (0.3, 0.7)) -> Any:
    """(t, b, *shape) Bernoulli 0/1 spikes of one rate drawn uniformly in ``rate``."""
    return (rng.random((t, b, *shape)) < rng.uniform(*rate)).astype(np.float64)
