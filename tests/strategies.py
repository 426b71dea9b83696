"""Hypothesis strategies for random valid IR graphs with dyadic parameters (exact in float64).

Composable pieces, small sizes so that tests stay fast:

- ``dyadic``, ``dyadic_arrays``, ``param_arrays`` (0-d, per-channel or full), ``float_weights``
  (float, QTensor uniform / binary, per-tensor or per-channel, CodebookTensor);
- ``neuron_nodes(shape, ops, nir_only)``: every neuron op, reset mode, comparator, graded output;
- ``float_graphs()``: chains and DAGs of affine / linear / scale / conv1d / conv2d / pools /
  flatten / reshape / batchnorm / delay / threshold / neurons, residual ``add`` / ``or``,
  recurrence through a neuron, quantized weights and nested subgraphs;
- ``nir_graphs()``: only what NIR can express (NIR twins, hard reset, ``>``, float weights);
- ``loihi_graphs()``: ``loihi.dense`` / ``loihi.conv`` -> ``loihi.lif`` chains;
- ``graphs()``: any of the above.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from snnc import ir

NEURON_OPS = ("i", "if", "li", "lif", "cubali", "cubalif")
DTS = (1.0, 0.5, 0.125, 2.0**-10)

Shape = tuple[int, ...]


def dyadic(lo: float = -2.0, hi: float = 2.0, bits: int = 3) -> st.SearchStrategy[float]:
    """k / 2**bits in [lo, hi]."""
    scale = 2**bits
    return st.integers(int(np.ceil(lo * scale)), int(np.floor(hi * scale))).map(lambda k: k / scale)


def dyadic_arrays(shape: Shape, lo: float = -2.0, hi: float = 2.0,
                  bits: int = 3) -> st.SearchStrategy[np.ndarray]:
    n = int(np.prod(shape, dtype=np.int64))
    return st.lists(dyadic(lo, hi, bits), min_size=n, max_size=n).map(
        lambda v: np.array(v, dtype=np.float64).reshape(shape))


def param_arrays(shape: Shape, lo: float = -1.0, hi: float = 1.0,
                 bits: int = 3) -> st.SearchStrategy[np.ndarray]:
    """A parameter that broadcasts to ``shape``: scalar, per channel (C, 1, ...) or full."""
    forms = [(), tuple(shape)]
    if len(shape) > 1:
        forms.append((shape[0],) + (1,) * (len(shape) - 1))
    return st.sampled_from(forms).flatmap(lambda s: dyadic_arrays(s, lo, hi, bits))


@st.composite
def qtensors(draw: Any, shape: Shape) -> ir.QTensor:
    per_channel = draw(st.booleans())
    scale_shape = (shape[0],) + (1,) * (len(shape) - 1) if per_channel else ()
    scale = draw(dyadic_arrays(scale_shape, 0.125, 1.0, 3).filter(lambda a: np.all(a > 0)))
    if draw(st.booleans()):
        mant = draw(st.lists(st.sampled_from([-1, 1]), min_size=int(np.prod(shape)),
                             max_size=int(np.prod(shape))))
        return ir.QTensor(mant=np.reshape(mant, shape), scale=scale, bits=1, kind="binary")
    bits = draw(st.integers(2, 8))
    signed = draw(st.booleans())
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    n = int(np.prod(shape))
    mant = draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n))
    return ir.QTensor(mant=np.reshape(mant, shape), scale=scale, bits=bits, signed=signed)


@st.composite
def codebooks(draw: Any, shape: Shape) -> ir.CodebookTensor:
    k = draw(st.integers(1, 3))
    kernel = shape[2:]
    size = k * int(np.prod(kernel, dtype=np.int64))
    book = draw(st.lists(st.sampled_from([-1, 1]), min_size=size, max_size=size))
    idx = draw(st.lists(st.integers(0, k - 1), min_size=shape[0] * shape[1],
                        max_size=shape[0] * shape[1]))
    alpha = draw(dyadic_arrays((shape[0],), 0.125, 1.0, 3))
    return ir.CodebookTensor(codebook=np.reshape(book, (k, *kernel)),
                             indices=np.reshape(idx, shape[:2]), alpha=alpha)


def float_weights(shape: Shape, quantized: bool = True) -> st.SearchStrategy[Any]:
    """A weight of ``shape``: float64, or (``quantized``) a QTensor or CodebookTensor."""
    plain = dyadic_arrays(shape, -1.0, 1.0, 3)
    if not quantized:
        return plain
    return st.one_of(plain, qtensors(shape), codebooks(shape))


@st.composite
def neuron_nodes(draw: Any, shape: Shape | None = None, ops: tuple[str, ...] = NEURON_OPS,
                 nir_only: bool = False) -> ir.Node:
    """A neuron op over ``shape`` (drawn when None). ``nir_only``: no snnc-only semantics."""
    if shape is None:
        shape = draw(st.sampled_from([(3,), (2, 3), (2, 2, 3)]))
    op = draw(st.sampled_from(ops))
    cls = ir.op_class(op)
    p: dict[str, Any] = {"shape": shape, "gain": draw(param_arrays(shape, 0.25, 2.0))}
    if not (nir_only and op in ("i", "if")):
        p["bias"] = draw(param_arrays(shape, -0.5, 0.5))
    if not nir_only:
        p["v_init"] = draw(param_arrays(shape, -0.5, 0.5))
    hi_decay = 0.875 if nir_only else 1.0
    if cls.leaky:
        p["decay_v"] = draw(param_arrays(shape, 0.0, hi_decay))
    if cls.current:
        p["decay_i"] = draw(param_arrays(shape, 0.0, 0.875))
        p["gain_i"] = draw(param_arrays(shape, 0.25, 2.0))
    if getattr(cls, "spiking", False):
        p["threshold"] = draw(param_arrays(shape, 0.25, 2.0))
        p["v_reset"] = draw(param_arrays(shape, -0.5, 0.5))
        if not nir_only:
            p["comparator"] = draw(st.sampled_from([">", ">="]))
            p["reset"] = draw(st.sampled_from(["hard", "subtract", "none"]))
            p["decay_reset"] = draw(st.booleans())
            p["graded"] = draw(st.booleans())
    return cls(**p)


# ---- graphs ----------------------------------------------------------------------------------


class GraphBuilder:
    """Accumulates named nodes and edges while a strategy draws layers."""

    def __init__(self) -> None:
        self.nodes: dict[str, ir.Node] = {}
        self.edges: list[tuple[str, str]] = []

    def add(self, prefix: str, node: ir.Node, *preds: str) -> str:
        name = f"{prefix}{len(self.nodes)}"
        self.nodes[name] = node
        self.edges += [(p, name) for p in preds]
        return name

    def shape(self, name: str) -> Shape:
        return self.nodes[name].out_shape

    def graph(self, dt: float | None) -> ir.Graph:
        return ir.Graph.build(self.nodes, self.edges, dt)


@st.composite
def _conv(draw: Any, shape: Shape, quantized: bool) -> ir.Node:
    nd = len(shape) - 1
    cin = shape[0]
    groups = draw(st.sampled_from([g for g in (1, 2, 3) if cin % g == 0]))
    cout = groups * draw(st.integers(1, 2))
    dil = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    pad = tuple(draw(st.integers(0, 1)) for _ in range(nd))
    k = tuple(draw(st.integers(1, max(1, min(3, (n + 2 * p - 1) // d + 1))))
              for n, p, d in zip(shape[1:], pad, dil, strict=True))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    weight = draw(float_weights((cout, cin // groups, *k), quantized))
    bias = draw(st.one_of(dyadic_arrays((), -1, 1), dyadic_arrays((cout,), -1, 1)))
    cls = ir.Conv1d if nd == 1 else ir.Conv2d
    return cls(input_shape=shape, weight=weight, bias=bias, stride=stride, padding=pad,
               dilation=dil, groups=groups)


@st.composite
def _pool(draw: Any, shape: Shape, ops: tuple[str, ...]) -> ir.Node:
    pad = tuple(draw(st.integers(0, 1)) for _ in range(2))
    k = tuple(draw(st.integers(max(1, 2 * p), min(3, n + 2 * p)))
              for n, p in zip(shape[1:], pad, strict=True))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(2))
    cls = ir.op_class(draw(st.sampled_from(ops)))
    return cls(input_shape=shape, kernel_size=k, stride=stride, padding=pad)


@st.composite
def _layer(draw: Any, b: GraphBuilder, x: str, nir_only: bool, quantized: bool) -> str:
    """Append one layer (or a small residual / recurrent block) after node ``x``."""
    shape = b.shape(x)
    kinds = ["neuron", "scale", "delay", "threshold"]
    kinds += {1: ["affine", "linear", "residual", "recurrent"], 2: ["conv", "flatten"],
              3: ["conv", "pool", "flatten"]}[len(shape)]
    if not nir_only:
        kinds += ["batchnorm", "reshape"]
    kind = draw(st.sampled_from(kinds))
    q = quantized and not nir_only
    if kind == "neuron":
        return b.add("n", draw(neuron_nodes(shape, nir_only=nir_only)), x)
    if kind == "scale":
        return b.add("s", ir.Scale(shape=shape, scale=draw(param_arrays(shape, -1, 1))), x)
    if kind == "delay":
        d = draw(st.sampled_from([(), shape]))
        return b.add("d", ir.Delay(shape=shape, delay=draw(st.lists(
            st.integers(0, 3), min_size=int(np.prod(d)), max_size=int(np.prod(d)))
            .map(lambda v, d=d: np.reshape(v, d)))), x)
    if kind == "threshold":
        cmp = ">" if nir_only else draw(st.sampled_from([">", ">="]))
        return b.add("t", ir.Threshold(shape=shape, threshold=draw(param_arrays(shape)),
                                       comparator=cmp), x)
    if kind in ("affine", "linear"):
        w = draw(float_weights((draw(st.integers(1, 4)), shape[0]), q))
        node = ir.Affine(weight=w, bias=draw(dyadic_arrays(w.shape[:1], -1, 1))) \
            if kind == "affine" else ir.Linear(weight=w)
        return b.add("fc", node, x)
    if kind == "conv":
        return b.add("c", draw(_conv(shape, q)), x)
    if kind == "pool":
        pools = ("sumpool2d", "avgpool2d") if nir_only else ("sumpool2d", "avgpool2d", "maxpool2d")
        return b.add("p", draw(_pool(shape, pools)), x)
    if kind == "flatten":
        s = draw(st.integers(0, len(shape) - 1))
        e = draw(st.sampled_from([-1, *range(s, len(shape))]))
        return b.add("f", ir.Flatten(input_shape=shape, start_dim=s, end_dim=e), x)
    if kind == "batchnorm":
        c = (shape[0],)
        return b.add("bn", ir.BatchNorm(
            shape=shape, mean=draw(dyadic_arrays(c)), var=draw(dyadic_arrays(c, 0.25, 2)),
            weight=draw(dyadic_arrays(c)), bias=draw(dyadic_arrays(c))), x)
    if kind == "reshape":
        n = int(np.prod(shape))
        out = draw(st.sampled_from([(n,), (1, n), shape[::-1]]))
        return b.add("r", ir.Reshape(input_shape=shape, output_shape=out), x)
    if kind == "recurrent":
        lif = b.add("rn", draw(neuron_nodes(shape, ("lif", "if"), nir_only)), x)
        w = draw(float_weights((shape[0], shape[0]), q))
        b.add("rw", ir.Linear(weight=w), lif)
        b.edges.append((list(b.nodes)[-1], lif))
        return lif
    return draw(_residual(b, x, nir_only))


@st.composite
def _residual(draw: Any, b: GraphBuilder, x: str, nir_only: bool) -> str:
    """Two branches from ``x`` merged by add / or, or (NIR) by summing edges into a neuron."""
    shape = b.shape(x)
    left = b.add("s", ir.Scale(shape=shape, scale=draw(dyadic_arrays((), -1, 1))), x)
    right = b.add("d", ir.Delay(shape=shape, delay=draw(st.integers(0, 2))), x)
    merge = "sum" if nir_only else draw(st.sampled_from(["add", "or", "sum"]))
    if merge == "sum":
        return b.add("n", draw(neuron_nodes(shape, nir_only=nir_only)), left, right)
    if merge == "add":
        return b.add("add", ir.Add(shape=shape), left, right)
    spikes = [b.add("n", draw(neuron_nodes(shape, ("lif", "if"), nir_only)), p)
              for p in (left, right)]
    return b.add("or", ir.Or(shape=shape), *spikes)


@st.composite
def _chain(draw: Any, max_layers: int, nir_only: bool, quantized: bool,
           subgraphs: bool, depth: int = 0, shape: Shape | None = None) -> ir.Graph:
    b = GraphBuilder()
    shape = shape or draw(st.sampled_from([(3,), (2, 5), (2, 4, 5)]))
    x = b.add("in", ir.Input(shape=shape))
    for _ in range(draw(st.integers(1, max_layers))):
        if subgraphs and depth == 0 and draw(st.sampled_from([False] * 4 + [True])):
            inner = draw(_chain(2, nir_only, quantized, False, depth + 1, b.shape(x)))
            x = b.add("g", ir.Subgraph(graph=inner), x)
        else:
            x = draw(_layer(b, x, nir_only, quantized))
    b.add("out", ir.Output(shape=b.shape(x)), x)
    dt = draw(st.sampled_from([None, *DTS])) if depth else None
    return b.graph(dt)


@st.composite
def float_graphs(draw: Any, max_layers: int = 4, quantized: bool = True,
                 subgraphs: bool = True) -> ir.Graph:
    """Float-domain graphs of every non-hardware op (see the module docstring)."""
    g = draw(_chain(max_layers, False, quantized, subgraphs))
    return ir.Graph.build(g.nodes, g.edges, draw(st.sampled_from([None, *DTS])))


@st.composite
def nir_graphs(draw: Any, max_layers: int = 4, subgraphs: bool = True) -> ir.Graph:
    """Graphs NIR can express exactly (with a time step)."""
    g = draw(_chain(max_layers, True, False, subgraphs))
    return ir.Graph.build(g.nodes, g.edges, draw(st.sampled_from([*DTS, 1e-3])))


@st.composite
def _loihi_lif(draw: Any, shape: Shape) -> ir.LoihiLIF:
    def p(lo: int, hi: int) -> Any:
        return draw(st.one_of(st.integers(lo, hi), st.lists(
            st.integers(lo, hi), min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))
            .map(lambda v: np.reshape(v, shape))))

    return ir.LoihiLIF(shape=shape, du=p(0, 4095), dv=p(0, 4095), vth=p(1, 2000),
                       bias_mant=p(-100, 100), bias_exp=p(0, 3),
                       reset_interval=draw(st.sampled_from([0, 0, 4])), reset_offset=1)


def _ints(shape: Shape, lo: int, hi: int) -> st.SearchStrategy[np.ndarray]:
    n = int(np.prod(shape))
    return st.lists(st.integers(lo, hi), min_size=n, max_size=n).map(lambda v: np.reshape(v, shape))


@st.composite
def loihi_graphs(draw: Any, max_layers: int = 3) -> ir.Graph:
    """Lowered graphs: input -> (loihi.conv | loihi.dense) -> loihi.lif ... -> output."""
    b = GraphBuilder()
    shape = draw(st.sampled_from([(4,), (2, 4, 4)]))
    x = b.add("in", ir.Input(shape=shape))
    for _ in range(draw(st.integers(1, max_layers))):
        shape = b.shape(x)
        common = {"weight_exp": draw(st.integers(-2, 2))}
        if len(shape) == 3 and draw(st.booleans()):
            k = draw(st.integers(1, min(3, shape[1])))
            w = draw(_ints((draw(st.integers(1, 3)), shape[0], k, k), -128, 127))
            syn = ir.LoihiConv(input_shape=shape, weight=w, **common)
        else:
            if len(shape) > 1:
                x = b.add("f", ir.Flatten(input_shape=shape), x)
                shape = b.shape(x)
            w = draw(_ints((draw(st.integers(1, 4)), shape[0]), -128, 127))
            delays = draw(st.one_of(st.none(), _ints(w.shape, 0, 3)))
            syn = ir.LoihiDense(weight=w, delays=delays, **common)
        x = b.add("syn", syn, x)
        x = b.add("lif", draw(_loihi_lif(b.shape(x))), x)
    b.add("out", ir.Output(shape=b.shape(x)), x)
    return b.graph(draw(st.sampled_from([None, 1.0])))


def graphs() -> st.SearchStrategy[ir.Graph]:
    """Any graph: float, NIR-expressible or lowered."""
    return st.one_of(float_graphs(), nir_graphs(), loihi_graphs())


__all__ = [
    "DTS", "NEURON_OPS", "codebooks", "dyadic", "dyadic_arrays", "float_graphs", "float_weights",
    "graphs", "loihi_graphs", "neuron_nodes", "nir_graphs", "param_arrays", "qtensors",
]
