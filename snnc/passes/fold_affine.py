"""``fold-affine`` (chains of linear ops without a neuron between them) and ``avgpool-to-sumpool``.

fold-affine merges a producer A into its only consumer B (B's only input), until nothing changes:

- affine/linear into affine/linear: ``W = W_B W_A``, ``b = W_B b_A + b_B``;
- ``scale`` into the following synapse's input columns, or synapses (whose outputs sum) into
  the following ``scale`` (per output channel); consecutive scales multiply;
- ``sumpool2d`` into the following ``conv2d`` when the pool windows do not overlap
  (kernel <= stride, no pool padding): one conv with a dilated-by-stride composite kernel;
- any other chain of linear ops (pools, convs, scales, batch norms, reshapes) ending in a
  synapse: materialised into one affine over the flattened source (reshaped back to a conv's
  output shape), when the matrix has at most ``max_elements`` entries;
- a linear op that reads a sum of several branches (a SEW spike ADD followed by average
  pooling, a scale, a sum of convs) is distributed over them when a synapse follows it: one
  copy per branch, its constant term (bias) on the first copy only, each copy feeding what
  the original fed, since f(a + b) = f(a) + f(b) - f(0). The copies then fold branch by
  branch with the rules above, and the branches arrive as separate synapse groups on the
  next neuron (a Loihi layer with several synapses). A pool or scale that reads a sum and feeds
  a neuron is left to ``loihi_layers.normalize`` (which copies synapses per source).

avgpool-to-sumpool replaces each ``avgpool2d`` by a ``sumpool2d`` and moves the 1/k factor into
the next synapse's weights (through flatten/reshape), else into the next neuron; otherwise the
average pool becomes a depthwise ``conv2d`` with weights 1/k (a synapse on Loihi).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ir import (
    Affine,
    Conv2d,
    Flatten,
    Graph,
    Linear,
    Node,
    Reshape,
    Scale,
    SumPool2d,
    as_float,
)
from ..ir.traits import Trait, has
from ..simulators.kernels import kernel_for
from .fold import _in_channel_index, bias_vector, can_scale, with_weight_bias
from .graphutil import compact, only_pred, only_succ, out_scale_weight, scale_input
from .manager import Pass, PassContext, Semantics


def apply_chain(chain: list[Node], x: np.ndarray) -> np.ndarray:
    """Run stateless nodes in sequence on a batch ``x`` with the reference kernels."""
    for node in chain:
        x, _ = kernel_for(node.op, node.op).step(node, x, None, 0)
    return x


def materialize(chain: list[Node], chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(M, c) with chain(x) = M @ x.flatten() + c, columns computed on basis vectors."""
    shape = chain[0].in_shape
    n_in = int(np.prod(shape))
    c = apply_chain(chain, np.zeros((1, *shape))).reshape(-1)
    cols = []
    for start in range(0, n_in, chunk):
        k = min(chunk, n_in - start)
        basis = np.zeros((k, n_in))
        basis[np.arange(k), start + np.arange(k)] = 1.0
        cols.append((apply_chain(chain, basis.reshape(k, *shape)).reshape(k, -1) - c).T)
    return np.concatenate(cols, axis=1), c


def _dense_pair(a: Any, b: Any) -> Node:
    wa: Any = as_float(a.weight)
    wb: Any = as_float(b.weight)
    bias = wb @ bias_vector(a) + bias_vector(b)
    return Affine(weight=wb @ wa, bias=bias) if np.any(bias) else Linear(weight=wb @ wa)


def _scale_then_synapse(s: Any, syn: Any) -> Node | None:
    factor = np.broadcast_to(s.scale, s.shape)
    if np.all(factor == factor.flat[0]):
        return syn.replace(weight=out_scale_weight(syn.weight, factor.flat[0]))
    w: Any = as_float(syn.weight)
    if has(syn, Trait.DENSE):
        return syn.replace(weight=w * factor[None, :])
    per_channel = factor.reshape(factor.shape[0], -1)
    if not np.all(per_channel == per_channel[:, :1]):
        return None
    idx = _in_channel_index(syn)
    return syn.replace(weight=w * per_channel[:, 0][idx].reshape(idx.shape + (1,) * (w.ndim - 2)))


def _synapse_then_scale(syn: Any, s: Any) -> Node | None:
    factor = np.broadcast_to(s.scale, s.shape).reshape(s.shape[0], -1)
    if not np.all(factor == factor[:, :1]):
        return None
    vec = factor[:, 0]
    return with_weight_bias(syn, out_scale_weight(syn.weight, vec), bias_vector(syn) * vec)


def _pool_then_conv(p: Any, c: Any) -> Node | None:
    if c.op != "conv2d" or any(p.padding) or any(d != 1 for d in c.dilation):
        return None
    if any(k > s for k, s in zip(p.kernel_size, p.stride, strict=True)):
        return None
    hp = p.out_shape[1:]
    if any(pc and n * s < full for pc, n, s, full in
           zip(c.padding, hp, p.stride, p.input_shape[1:], strict=True)):
        return None
    w: Any = as_float(c.weight)
    (sh, sw), (kph, kpw) = p.stride, p.kernel_size
    k = np.zeros((*w.shape[:2], (w.shape[2] - 1) * sh + kph, (w.shape[3] - 1) * sw + kpw))
    for r in range(kph):
        for q in range(kpw):
            k[:, :, r::sh, q::sw][:, :, :w.shape[2], :w.shape[3]] = w
    new = Conv2d(input_shape=p.input_shape, weight=k, bias=c.bias, groups=c.groups,
                 stride=(c.stride[0] * sh, c.stride[1] * sw),
                 padding=(c.padding[0] * sh, c.padding[1] * sw))
    return new if new.out_shape == c.out_shape else None


def _merge_pair(a: Any, b: Any) -> Node | None:
    if has(a, Trait.DENSE) and has(b, Trait.DENSE):
        return _dense_pair(a, b)
    if a.op == "scale" and has(b, Trait.SYNAPSE):
        return _scale_then_synapse(a, b)
    if has(a, Trait.SYNAPSE) and b.op == "scale":
        return _synapse_then_scale(a, b)
    if a.op == "scale" and b.op == "scale":
        return Scale(shape=b.shape, scale=compact(np.broadcast_to(a.scale * b.scale, b.shape)))
    if a.op == "sumpool2d":
        return _pool_then_conv(a, b)
    return None


def _scale_after_synapses(g: Graph, name: str) -> tuple[Graph, str] | None:
    """A scale applied to the sum of several synapses goes into each of them."""
    ps = g.predecessors(name)
    if any(not has(g.nodes[p], Trait.SYNAPSE) or g.successors(p) != [name] for p in ps):
        return None
    merged = {p: _synapse_then_scale(g.nodes[p], g.nodes[name]) for p in ps}
    ed = g.edit()
    for p, m in merged.items():
        if m is None:
            return None
        ed.replace(p, m)
    return ed.bypass(name).finish(), "+".join([*ps, name])


def _feeds_synapse(g: Graph, name: str) -> bool:
    """A synapse follows ``name`` through a one-successor chain of linear ops."""
    cur = name
    while (s := only_succ(g, cur)) is not None and has(g.nodes[s], Trait.LINEAR_MAP):
        if has(g.nodes[s], Trait.SYNAPSE):
            return True
        cur = s
    return False


def _without_constant(node: Any) -> Any:
    """``node`` with f(0) = 0 (a synapse without its bias), or None if it has another constant."""
    if has(node, Trait.SYNAPSE):
        if not np.any(bias_vector(node)):
            return node
        return Linear(weight=node.weight) if has(node, Trait.DENSE) \
            else node.replace(bias=np.float64(0.0))
    zero = apply_chain([node], np.zeros((1, *node.in_shape)))
    return None if np.any(zero) else node


def _distributable(g: Graph, name: str) -> bool:
    node = g.nodes[name]
    preds = g.predecessors(name)
    if len(preds) < 2 or not has(node, Trait.LINEAR_MAP):
        return False
    if any(g.nodes[s].op == "output" for s in g.successors(name)) or name in preds:
        return False
    if has(node, Trait.SYNAPSE) or has(node, Trait.WIRING):
        # worth it only when a branch is a linear op that can then fold into its copy
        return any(has(g.nodes[p], Trait.LINEAR_MAP) and g.successors(p) == [name]
                   for p in preds)
    return _feeds_synapse(g, name)


def _distribute(g: Graph, name: str) -> tuple[Graph, str] | None:
    """One copy of ``name`` per summed branch (module docstring)."""
    node = g.nodes[name]
    rest = _without_constant(node)
    if rest is None:
        return None
    preds, succs = g.predecessors(name), g.successors(name)
    ed = g.edit().remove(name)
    for i, p in enumerate(preds):
        copy = name if i == 0 else ed.fresh_name(f"{name}_{p}")
        ed.add(copy, node if i == 0 else rest).connect(p, copy)
        for s in succs:
            ed.connect(copy, s)
    return ed.finish(), f"{name} distributed over {', '.join(preds)}"


def _chain_into(g: Graph, name: str) -> list[str]:
    """Linear ops feeding ``name`` one-to-one (nearest last), ``name`` excluded."""
    chain: list[str] = []
    cur = name
    while (p := only_pred(g, cur)) is not None and has(g.nodes[p], Trait.LINEAR_MAP) \
            and g.successors(p) == [cur] and only_pred(g, p) is not None:
        chain.insert(0, p)
        cur = p
    return chain


@dataclass(frozen=True)
class FoldAffine(Pass):
    name = "fold-affine"
    summary = ("Merge chains of linear ops with no neuron between them (affine, scale, "
               "sum-pool into conv, pools/convs materialised into the next dense layer).")
    semantics = Semantics.EXACT
    max_elements: int = 1 << 24

    def _step(self, g: Graph) -> tuple[Graph, str] | None:
        for name, node in g.nodes.items():
            p = only_pred(g, name)
            if p is not None and g.successors(p) == [name]:
                merged = _merge_pair(g.nodes[p], node)
                if merged is not None:
                    keep, drop = (p, name) if node.op == "scale" and merged.op != "scale" \
                        else (name, p)
                    return g.edit().replace(keep, merged).bypass(drop).finish(), \
                        f"{p}+{name}"
            if node.op == "scale" and len(g.predecessors(name)) > 1:
                out = _scale_after_synapses(g, name)
                if out is not None:
                    return out
            if has(node, Trait.SYNAPSE):
                out = self._materialize(g, name)
                if out is not None:
                    return out
            if _distributable(g, name):
                out = _distribute(g, name)
                if out is not None:
                    return out
        return None

    def _materialize(self, g: Graph, name: str) -> tuple[Graph, str] | None:
        chain = _chain_into(g, name)
        if not any(not has(g.nodes[c], Trait.WIRING) for c in chain):
            return None
        nodes = [g.nodes[c] for c in [*chain, name]]
        n_in, n_out = int(np.prod(nodes[0].in_shape)), int(np.prod(nodes[-1].out_shape))
        if n_in * n_out > self.max_elements:
            return None
        m, c = materialize(nodes)
        source = only_pred(g, chain[0])
        if source is None:  # _chain_into keeps only ops with one predecessor
            return None
        ed = g.edit()
        for n in chain:
            ed.remove(n)
        ed.replace(name, Affine(weight=m, bias=c) if np.any(c) else Linear(weight=m))
        if len(nodes[-1].out_shape) > 1:  # a conv at the end: reshape back to its output
            ed.insert_after(name, ed.fresh_name(f"{name}_shape"), Reshape(
                input_shape=(n_out,), output_shape=nodes[-1].out_shape))
        if len(nodes[0].in_shape) > 1:
            flat = ed.fresh_name(f"{name}_flatten")
            ed.add(flat, Flatten(input_shape=nodes[0].in_shape)).connect(source, flat)
            ed.connect(flat, name)
        else:
            ed.connect(source, name)
        return ed.finish(), "+".join([*chain, name])

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        merged = []
        while (out := self._step(graph)) is not None:
            graph, what = out
            merged.append(what)
        ctx.report(self, merged=merged)
        return graph


def _after_wiring(g: Graph, name: str) -> str | None:
    """The consumer of ``name``'s values past single flatten/reshape links (one-to-one only)."""
    cur = name
    while (s := only_succ(g, cur)) is not None and g.predecessors(s) == [cur]:
        if not has(g.nodes[s], Trait.WIRING):
            return s
        cur = s
    return None


@dataclass(frozen=True)
class AvgPoolToSumPool(Pass):
    name = "avgpool-to-sumpool"
    summary = "Average pooling as sum pooling, with the 1/k rescale moved into the next weights."
    semantics = Semantics.EXACT

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        moved: dict[str, str] = {}
        for name in [n for n, node in graph.nodes.items() if node.op == "avgpool2d"]:
            avg: Any = graph.nodes[name]
            factor = 1.0 / (avg.kernel_size[0] * avg.kernel_size[1])
            ed = graph.edit().replace(name, SumPool2d(**avg.params()))
            nxt = _after_wiring(graph, name) or ""
            node: Any = graph.nodes[nxt] if nxt else None
            if node is not None and has(node, Trait.SYNAPSE):
                ed.replace(nxt, node.replace(weight=out_scale_weight(node.weight, factor)))
                moved[name] = f"weights of {nxt}"
            elif node is not None and can_scale(node, np.asarray(factor)):
                ed.replace(nxt, scale_input(node, factor))
                moved[name] = f"neuron {nxt}"
            else:
                c = avg.input_shape[0]
                ed.replace(name, Conv2d(input_shape=avg.input_shape, groups=c,
                                        weight=np.full((c, 1, *avg.kernel_size), factor),
                                        stride=avg.stride, padding=avg.padding))
                moved[name] = "depthwise conv (no weighted consumer)"
            graph = ed.finish()
        ctx.report(self, moved=moved)
        return graph
