"""Hypothesis strategies for the pass tests: typical SNN graphs whose folds are exact in float64.

Every folded factor is a power of two (BN scales with eps = 0 and var in {1/4, 1, 4}, quantized
scales, neuron gains, pool sizes 2x2), and every other value is dyadic, so an EXACT pass must
give bit-identical outputs on the reference simulator.

``snn_graphs(grid=False)``: chains of dense / conv blocks (float, QTensor uniform or binary,
codebook weights), batch norms, scales, avg/sum pools, affine chains without neurons, residual
adds, SEW spike adds (optionally pooled or scaled before the next synapse), identity ops,
silent channels, dead branches, any neuron semantics, spike or readout outputs. ``grid=True``
keeps to what Loihi represents exactly: IF, memoryless LIF and CUBA neurons (decays 0 or 1),
``threshold``, hard reset to 0, no initial potential.

``STRATEGIES`` maps every registered pass to a strategy of ``Case`` (graph, inputs, and the
passes to run first so that the graph meets the pass's ``requires``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st
from strategies import GraphBuilder

from snnc import ir
from snnc.passes import FLOAT_PIPELINE

POW2 = (0.25, 0.5, 1.0, 2.0)


@dataclass
class Case:
    graph: ir.Graph
    inputs: dict[str, np.ndarray]
    prelude: list[str] = field(default_factory=list)


def dy(draw: Any, shape: tuple[int, ...] | None, lo: float, hi: float, bits: int = 3) -> Any:
    """Dyadic k / 2**bits in [lo, hi]: a float, or an array of ``shape``."""
    k = st.integers(int(np.ceil(lo * 2**bits)), int(np.floor(hi * 2**bits)))
    if shape is None:
        return draw(k) / 2**bits
    n = int(np.prod(shape))
    return np.reshape(draw(st.lists(k, min_size=n, max_size=n)), shape) / 2**bits


def per_channel(draw: Any, shape: tuple[int, ...], lo: float, hi: float) -> Any:
    """Scalar, per channel or per neuron, dyadic."""
    form = draw(st.sampled_from(["scalar", "channel", "full"]))
    if form == "scalar":
        return dy(draw, None, lo, hi)
    if form == "channel":
        return dy(draw, (shape[0],) + (1,) * (len(shape) - 1), lo, hi)
    return dy(draw, shape, lo, hi)


def weights(draw: Any, shape: tuple[int, ...], silent_row: int | None) -> Any:
    kind = draw(st.sampled_from(["float", "uniform", "unsigned", "binary", "codebook"]))
    if kind == "codebook" and len(shape) == 4:
        book = draw(st.lists(st.sampled_from([-1, 1]), min_size=2 * shape[2] * shape[3],
                             max_size=2 * shape[2] * shape[3]))
        idx = draw(st.lists(st.integers(0, 1), min_size=shape[0] * shape[1],
                            max_size=shape[0] * shape[1]))
        alpha = np.array([draw(st.sampled_from(POW2)) for _ in range(shape[0])])
        return ir.CodebookTensor(np.reshape(book, (2, *shape[2:])), np.reshape(idx, shape[:2]),
                                 alpha)
    scale = np.array([draw(st.sampled_from(POW2)) for _ in range(shape[0])]).reshape(
        (-1,) + (1,) * (len(shape) - 1)) / 8
    if kind in ("binary", "codebook") and silent_row is None:
        mant = np.where(dy(draw, shape, -1, 1, 0) >= 0, 1, -1)
        return ir.QTensor(mant, scale, 1, kind="binary")
    mant = (dy(draw, shape, -1, 1) * 8).astype(np.int64)
    if silent_row is not None:
        mant[silent_row] = 0
    if kind == "unsigned":
        return ir.QTensor(np.abs(mant), scale, 4, signed=False)
    return mant / 8 if kind == "float" else ir.QTensor(mant, scale, 5)


@st.composite
def neurons(draw: Any, shape: tuple[int, ...], grid: bool,
            integrating_current: bool = False) -> ir.Node:
    ops = ("if", "lif", "cubalif", "threshold") if grid else \
        ("if", "lif", "cubalif", "threshold", "li", "cubali")
    op = draw(st.sampled_from(ops))
    if op == "threshold":
        return ir.Threshold(shape=shape, threshold=per_channel(draw, shape, 0.25, 2.0),
                            comparator=draw(st.sampled_from([">", ">="])))
    p: dict[str, Any] = {"shape": shape, "gain": draw(st.sampled_from(POW2)),
                         "bias": per_channel(draw, shape, -0.5, 0.5)}
    decays = (0.0, 1.0) if grid else (0.0, 0.5, 0.75, 1.0)
    cls = ir.op_class(op)
    if cls.leaky:
        p["decay_v"] = draw(st.sampled_from(decays))
    if cls.current:
        p["decay_i"] = draw(st.sampled_from(decays)) if integrating_current or not grid else 0.0
        p["gain_i"] = draw(st.sampled_from(POW2))
    if cls.spiking:
        p["threshold"] = per_channel(draw, shape, 0.25, 2.0)
        p["comparator"] = draw(st.sampled_from([">", ">="]))
        if not grid:
            p["reset"] = draw(st.sampled_from(["hard", "subtract"]))
            p["v_reset"] = dy(draw, None, -0.5, 0.25)
    if not grid:
        p["v_init"] = dy(draw, None, -0.5, 0.5)
    return cls(**p)


def bn(draw: Any, shape: tuple[int, ...]) -> ir.BatchNorm:
    c = (shape[0],)
    var = np.array([draw(st.sampled_from([0.25, 1.0, 4.0])) for _ in range(c[0])])
    gamma = np.array([draw(st.sampled_from((-1.0, *POW2))) for _ in range(c[0])])
    return ir.BatchNorm(shape=shape, mean=dy(draw, c, -1, 1), var=var, weight=gamma,
                        bias=dy(draw, c, -1, 1), eps=0.0)


def _synapse(draw: Any, b: GraphBuilder, x: str, grid: bool, silent: bool, no_bias: bool) -> str:
    shape = b.shape(x)
    lim = 0.0 if no_bias else 0.5
    if len(shape) == 3 and draw(st.booleans()):
        cout = draw(st.integers(1, 3))
        k = draw(st.integers(1, min(3, shape[1])))
        pad = draw(st.integers(0, 1)) if k > 1 else 0
        w = weights(draw, (cout, shape[0], k, k), 0 if silent else None)
        return b.add("conv", ir.Conv2d(input_shape=shape, weight=w, padding=(pad, pad),
                                       bias=dy(draw, (cout,), -lim, lim)), x)
    if len(shape) > 1:
        x = b.add("flat", ir.Flatten(input_shape=shape), x)
    n = draw(st.integers(2, 4))
    w = weights(draw, (n, b.shape(x)[0]), 0 if silent else None)
    if not grid and draw(st.booleans()):  # an affine chain without a neuron between
        x = b.add("pre", ir.Affine(weight=dy(draw, (b.shape(x)[0],) * 2, -1, 1),
                                   bias=dy(draw, (b.shape(x)[0],), -0.5, 0.5)), x)
    return b.add("fc", ir.Affine(weight=w, bias=dy(draw, (n,), -lim, lim)), x)


@st.composite
def _block(draw: Any, b: GraphBuilder, x: str, grid: bool, recurrent: bool) -> str:
    silent = draw(st.sampled_from([False, False, True])) and not (grid and recurrent)
    # Lava adds biases to v: a current that integrates (decay_i = 1) must not get one on the grid;
    # with recurrence on the grid, no biases at all (they leak through the pipeline fill)
    no_bias = grid and (recurrent or draw(st.sampled_from([False, False, True])))
    syn = _synapse(draw, b, x, grid, silent, no_bias)
    if len(b.shape(x)) == 1 and draw(st.sampled_from([False, False, True])):  # residual add
        other = _synapse(draw, b, x, grid, False, no_bias)
        if b.shape(other) == b.shape(syn):
            syn = b.add("add", ir.Add(shape=b.shape(syn)), syn, other)
    shape = b.shape(syn)
    if not no_bias and draw(st.booleans()):
        syn = b.add("bn", bn(draw, shape), syn)
    if draw(st.sampled_from([False, False, True])):
        syn = b.add("scale", ir.Scale(shape=shape, scale=draw(st.sampled_from(POW2))), syn)
    neuron = draw(neurons(shape, grid, integrating_current=no_bias))
    if grid and recurrent and hasattr(neuron, "bias"):
        neuron = neuron.replace(bias=0.0)
    if silent:  # the zero-weight row/channel stays below threshold: prune removes it
        neuron = neuron.replace(bias=np.where(np.arange(shape[0]).reshape(
            (-1,) + (1,) * (len(shape) - 1)) == 0, -2.0, 0.0) + np.zeros(shape)) \
            if hasattr(neuron, "bias") else neuron
    y = b.add("n", neuron, syn)
    if recurrent and len(shape) == 1 and neuron.op in ("lif", "if", "cubalif") \
            and draw(st.sampled_from([False, True])):
        rec = b.add("rec", ir.Linear(weight=weights(draw, (shape[0], shape[0]), None)), y)
        b.edges.append((rec, y))  # recurrence: the float schedule reads y's previous output
    if not grid and neuron.op in ("lif", "if", "cubalif", "threshold") \
            and draw(st.booleans()):  # a SEW spike ADD, pooled below
        if len(shape) == 3:
            w = weights(draw, (shape[0], shape[0], 3, 3), None)
            branch = b.add("sewconv", ir.Conv2d(input_shape=shape, weight=w, padding=(1, 1)), y)
        else:
            branch = b.add("sewfc", ir.Linear(weight=weights(draw, (shape[0],) * 2, None)), y)
        z = b.add("sewn", draw(neurons(shape, grid, integrating_current=False)), branch)
        y = b.add("sew", ir.Add(shape=shape), z, y)
        if len(shape) == 1 and draw(st.booleans()):
            y = b.add("sewscale", ir.Scale(shape=shape, scale=draw(st.sampled_from(POW2))), y)
    if len(shape) == 3 and shape[1] >= 2 and shape[2] >= 2 and draw(st.booleans()):
        pool = draw(st.sampled_from(["avgpool2d", "sumpool2d"]))
        y = b.add("pool", ir.op_class(pool)(input_shape=shape, kernel_size=(2, 2),
                                            stride=(2, 2)), y)
    if not grid and draw(st.sampled_from([False, False, True])):  # identity ops
        y = b.add("id", ir.Scale(shape=b.shape(y), scale=1.0), y)
    return y


@st.composite
def snn_graphs(draw: Any, grid: bool = False) -> Case:
    b = GraphBuilder()
    shape = draw(st.sampled_from([(3,), (5,), (2, 4, 4)]))
    x = b.add("in", ir.Input(shape=shape))
    recurrent = draw(st.booleans())
    for _ in range(draw(st.integers(1, 3))):
        x = draw(_block(b, x, grid, recurrent))
        if b.nodes[x].op in ("li", "cubali"):  # non-spiking: nothing can follow on Loihi
            break
    if draw(st.booleans()) and len(b.shape(x)) == 1 and b.nodes[x].op not in ("li", "cubali"):
        n = draw(st.integers(2, 3))
        lim = 0.0 if grid and recurrent else 0.5
        x = b.add("readout", ir.Affine(weight=dy(draw, (n, b.shape(x)[0]), -1, 1),
                                       bias=dy(draw, (n,), -lim, lim)), x)
    b.add("out", ir.Output(shape=b.shape(x)), x)
    if draw(st.booleans()):  # a dead branch
        b.add("dead", ir.LIF(shape=shape), "in0")
    g = ir.Graph.build(b.nodes, b.edges)
    seed = draw(st.integers(0, 2**16))
    t, batch = draw(st.integers(6, 12)), 2
    x_in = (np.random.default_rng(seed).random((t, batch, *shape)) < 0.4).astype(np.float64)
    return Case(g, {"in0": x_in})


def _with_prelude(strategy: st.SearchStrategy[Case], prelude: str) -> st.SearchStrategy[Case]:
    names = [p for p in prelude.split(",") if p]
    return strategy.map(lambda c: Case(c.graph, c.inputs, names))


def _sdsa_case(seed: int) -> Case:
    """A random spike-driven self-attention block (tests/sdsa_random.py) on spikes."""
    from sdsa_random import random_sdsa, spikes

    rng = np.random.default_rng([seed, 17])
    g = random_sdsa(rng)
    return Case(g, {"in": spikes(rng, g.nodes["in"].out_shape, t=8, b=2)})


STRATEGIES: dict[str, st.SearchStrategy[Case]] = {
    "lower-spike-products": _with_prelude(st.integers(0, 2**31 - 1).map(_sdsa_case),
                                          FLOAT_PIPELINE),
    "canonicalize": snn_graphs(),
    "dce": snn_graphs(),
    "fold-bn": snn_graphs(),
    "fold-scale": snn_graphs(),
    "fold-affine": snn_graphs(),
    "avgpool-to-sumpool": snn_graphs(),
    "prune": snn_graphs(),
    "quantize-loihi": _with_prelude(snn_graphs(grid=True), FLOAT_PIPELINE),
    "lower-loihi": _with_prelude(snn_graphs(grid=True), FLOAT_PIPELINE + ",quantize-loihi"),
}
