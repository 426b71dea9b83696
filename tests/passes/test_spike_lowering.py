"""Lowering what users train with: subtract reset and '>=' (Loihi 2 programmable neurons),
max-pool of spikes and spike OR (OR neurons).

Exactness is checked as for the other lowering rules: on random graphs whose parameters are
dyadic (k / 2^m, so that the float model is exact in float64 and on Lava's grid), the lowered
graph equals the float graph spike for spike under the latency convention (``compare_graphs``).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from snnc import ir
from snnc.errors import UnsupportedOpError
from snnc.passes import DEFAULT_PIPELINE, PassContext, PassManager, parse_pipeline
from snnc.passes.fidelity import compare_graphs


def spikes(shape: tuple[int, ...], rng: np.random.Generator, t: int = 12, b: int = 4) -> Any:
    return (rng.random((t, b, *shape)) < rng.uniform(0.2, 0.7)).astype(np.float64)


def lower(g: ir.Graph, x: np.ndarray, programmable: bool = True) -> ir.Graph:
    ctx = PassContext(calibration={g.inputs[0]: x}, programmable_neurons=programmable)
    return PassManager(parse_pipeline(DEFAULT_PIPELINE)).run(g, ctx).graph


def dyadic(rng: np.random.Generator, shape: tuple[int, ...], m: int = 2) -> np.ndarray:
    return rng.integers(-4, 7, size=shape) / 2**m


def neuron(rng: np.random.Generator, n: int) -> ir.Node:
    """IF or memoryless LIF with random reset (hard, subtract, delayed subtract) and comparator."""
    reset = str(rng.choice(["hard", "subtract", "subtract-delayed"]))
    kw = {"threshold": float(rng.integers(1, 8)) / 4, "comparator": str(rng.choice([">", ">="])),
          "reset": "hard" if reset == "hard" else "subtract",
          "decay_reset": reset != "subtract-delayed"}
    if rng.random() < 0.5:
        return ir.IF(shape=(n,), **kw)
    return ir.LIF(shape=(n,), decay_v=float(rng.choice([0.0, 1.0])), **kw)


def random_mlp(rng: np.random.Generator) -> ir.Graph:
    sizes = [int(rng.integers(3, 9)) for _ in range(int(rng.integers(2, 4)))]
    nodes: list[tuple[str, ir.Node]] = [("in", ir.Input(shape=(sizes[0],)))]
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        nodes += [(f"fc{i}", ir.Linear(weight=dyadic(rng, (b, a)))), (f"n{i}", neuron(rng, b))]
    nodes.append(("out", ir.Output(shape=(sizes[-1],))))
    return ir.Graph.chain(*nodes)


@pytest.mark.parametrize("seed", range(12))
def test_subtract_reset_and_ge_lower_exactly_on_programmable_neurons(seed: int) -> None:
    rng = np.random.default_rng([seed, 14])
    g = random_mlp(rng)
    x = spikes(g.nodes["in"].out_shape, rng)
    low = lower(g, x)
    cmp = compare_graphs(g, low, x)
    assert cmp.identical, cmp
    for name, node in g.nodes.items():
        if isinstance(node, ir.IF | ir.LIF):
            lif = low.nodes[name]
            assert (lif.reset, lif.decay_reset) == (node.reset, node.decay_reset)


def test_soft_reset_is_refused_on_loihi1_naming_the_layer() -> None:
    rng = np.random.default_rng(0)
    g = ir.Graph.chain(("in", ir.Input(shape=(3,))), ("fc", ir.Linear(weight=dyadic(rng, (2, 3)))),
                       ("lif1", ir.LIF(shape=(2,), decay_v=0.5, reset="subtract",
                                       decay_reset=False)), ("out", ir.Output(shape=(2,))))
    with pytest.raises(UnsupportedOpError, match=r"layer 'lif1'.*subtract.*--chip loihi2"):
        lower(g, spikes((3,), rng), programmable=False)


def test_ge_keeps_its_exact_rewrite_on_loihi1() -> None:
    """'>=' on an IF layer with hard reset is exact on Lava's LIF (v > theta - 1), any chip."""
    rng = np.random.default_rng(1)
    g = ir.Graph.chain(("in", ir.Input(shape=(4,))), ("fc", ir.Linear(weight=dyadic(rng, (3, 4)))),
                       ("n", ir.IF(shape=(3,), threshold=0.5, comparator=">=")),
                       ("out", ir.Output(shape=(3,))))
    x = spikes((4,), rng)
    low = lower(g, x, programmable=False)
    assert low.nodes["n"].comparator == ">"
    assert not low.nodes["n"].programmable
    assert compare_graphs(g, low, x).identical


def conv_pool_net(rng: np.random.Generator, merge: str) -> ir.Graph:
    """conv -> IF -> (maxpool | OR of two branches) -> flatten -> linear -> IF."""
    c, h = 2, 6
    conv = ir.Conv2d(input_shape=(1, h, h), weight=dyadic(rng, (c, 1, 3, 3)), padding=(1, 1))
    nodes = {"in": ir.Input(shape=(1, h, h)), "conv": conv,
             "sp": ir.IF(shape=(c, h, h), threshold=0.5)}
    edges = [("in", "conv"), ("conv", "sp")]
    if merge == "maxpool":
        k = int(rng.choice([2, 3]))
        pool = ir.MaxPool2d(input_shape=(c, h, h), kernel_size=(k, k), stride=(k - 1, k - 1),
                            padding=(int(rng.integers(0, 2)),) * 2)
        nodes["pool"] = pool
        edges.append(("sp", "pool"))
        last, shape = "pool", pool.out_shape
    else:
        nodes["conv2"] = ir.Conv2d(input_shape=(1, h, h), weight=dyadic(rng, (c, 1, 3, 3)),
                                   padding=(1, 1))
        nodes["sp2"] = ir.IF(shape=(c, h, h), threshold=0.5)
        nodes["pool"] = ir.Or(shape=(c, h, h))
        edges += [("in", "conv2"), ("conv2", "sp2"), ("sp", "pool"), ("sp2", "pool")]
        last, shape = "pool", (c, h, h)
    n = int(np.prod(shape))
    nodes |= {"flat": ir.Flatten(input_shape=shape),
              "fc": ir.Linear(weight=dyadic(rng, (4, n))), "n2": ir.IF(shape=(4,), threshold=1.0),
              "out": ir.Output(shape=(4,))}
    edges += [(last, "flat"), ("flat", "fc"), ("fc", "n2"), ("n2", "out")]
    return ir.Graph.build(nodes, edges)


@pytest.mark.parametrize("merge", ["maxpool", "or"])
@pytest.mark.parametrize("seed", range(4))
def test_maxpool_and_or_of_spikes_lower_exactly(merge: str, seed: int) -> None:
    rng = np.random.default_rng([seed, 15])
    g = conv_pool_net(rng, merge)
    x = spikes((1, 6, 6), rng)
    low = lower(g, x, programmable=False)  # OR neurons run on Loihi 1's LIF
    assert low.nodes["pool"].op == "loihi.lif"
    cmp = compare_graphs(g, low, x)
    assert cmp.identical, cmp


def test_maxpool_of_currents_is_refused_with_the_fix() -> None:
    rng = np.random.default_rng(2)
    g = ir.Graph.chain(
        ("in", ir.Input(shape=(1, 4, 4))),
        ("conv", ir.Conv2d(input_shape=(1, 4, 4), weight=dyadic(rng, (2, 1, 3, 3)))),
        ("pool", ir.MaxPool2d(input_shape=(2, 2, 2), kernel_size=(2, 2), stride=(2, 2))),
        ("n", ir.IF(shape=(2, 1, 1), threshold=0.5)), ("out", ir.Output(shape=(2, 1, 1))))
    with pytest.raises(UnsupportedOpError, match=r"'pool'.*put the max-pool after the neuron"):
        lower(g, spikes((1, 4, 4), rng))
