"""``fold-bn`` and ``fold-scale``: move per-channel affine factors out of the synapses.

fold-bn, for each eval-mode ``batchnorm`` (y = a*x + b per channel), the first rule that applies:

1. after synapses (affine/linear/conv; several if their outputs sum into it) with float
   weights: into their weights and bias;
2. after synapses with quantized/binary weights feeding one neuron: the sign of ``a`` into the
   weight rows (still on the grid), ``b/|a|`` into the synapse bias and ``|a|`` into the
   neuron's threshold, bias and reset (``graphutil.scale_input``), so the weights keep their grid;
   if no single neuron follows, ``a`` goes into the QTensor's scale (the mantissas stay);
3. before an affine/linear, or a conv without padding (float weights): into its input columns;
4. directly before a neuron: ``b`` into the neuron's bias, ``a`` via ``scale_input`` (a > 0
   for spiking neurons; a current-based neuron needs decay_i = 0 for the bias).

fold-scale: (1) a spiking neuron's input gain goes into its threshold, bias and reset (gain = 1);
(2) a ``scale`` node that is a neuron's only input goes into the neuron; (3) when all synapses
into a neuron carry quantized weights with the same per-channel scale alpha, the weights become
pure integers (sign of alpha in the rows) and |alpha| moves into the neuron.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import IRError
from ..ir import (
    Affine,
    Graph,
    NeuronBase,
    Node,
    Scale,
    Threshold,
    as_float,
    is_qweight,
    weight_shape,
)
from ..ir.access import as_op, bias_of, weight_of
from ..ir.traits import Trait, has, has_any
from .graphutil import (
    channel_array,
    channel_scale,
    compact,
    input_gain,
    is_spiking,
    negate_rows,
    only_succ,
    out_scale_weight,
    scale_input,
    strip_scale,
    unit_gain,
)
from .manager import Pass, PassContext, Semantics


def bias_vector(syn: Node) -> np.ndarray:
    c = weight_shape(weight_of(syn))[0]
    return np.broadcast_to(bias_of(syn), (c,)).astype(np.float64)


def with_weight_bias(syn: Node, weight: Any, bias: np.ndarray) -> Node:
    if has(syn, Trait.DENSE):
        return Affine(weight=weight, bias=bias)
    return syn.replace(weight=weight, bias=compact(bias))


def neuron_with_constant(node: Node, b: np.ndarray) -> Node | None:
    """The neuron that behaves on x as ``node`` does on x + b (None if not expressible)."""
    if node.op == "threshold":
        return node.replace(threshold=as_op(node, Threshold).threshold - b)
    neuron = as_op(node, NeuronBase)
    if neuron.current and np.any(neuron.decays()[1] != 0):
        return None
    return node.replace(bias=compact(neuron.bias + input_gain(node) * b))


def can_scale(node: Node, a: np.ndarray) -> bool:
    """``scale_input(node, a)`` is exact: positive factors for spiking neurons."""
    if not has_any(node, Trait.NEURON, Trait.SPIKING):
        return False
    return bool(np.all(a > 0)) if is_spiking(node) else bool(np.all(np.isfinite(a)))


def _fold_after_synapses(g: Graph, name: str, a: np.ndarray,
                         b: np.ndarray) -> tuple[Any, str]:
    """BN after one or more synapses whose only consumer it is (their outputs sum into it)."""
    ed = g.edit()
    ps = g.predecessors(name)
    n = only_succ(g, name)
    neuron = g.nodes[n] if n is not None else None
    quantized = any(is_qweight(weight_of(g.nodes[p])) for p in ps)
    if quantized and n is not None and neuron is not None and g.predecessors(n) == [name]:
        mag = np.abs(a)
        scaled = channel_array(mag, neuron.in_shape)
        if np.all(mag > 0) and can_scale(neuron, scaled):
            sign = np.sign(a)
            for i, p in enumerate(ps):
                syn: Any = g.nodes[p]
                extra = b / mag if i == 0 else 0.0
                ed.replace(p, with_weight_bias(syn, negate_rows(syn.weight, sign < 0),
                                               sign * bias_vector(syn) + extra))
            ed.replace(n, scale_input(neuron, scaled))
            return ed.bypass(name).finish(), "into threshold"
    for i, p in enumerate(ps):
        syn = g.nodes[p]
        extra = b if i == 0 else 0.0
        ed.replace(p, with_weight_bias(syn, out_scale_weight(syn.weight, a),
                                       a * bias_vector(syn) + extra))
    return ed.bypass(name).finish(), "into weights"


def _in_channel_index(syn: Node) -> np.ndarray:
    """(C_out, C_in/groups) index of the input channel each weight column reads."""
    cout, cpg = weight_shape(weight_of(syn))[:2]
    groups = getattr(syn, "groups", 1)
    group = np.arange(cout) // (cout // groups)
    return group[:, None] * cpg + np.arange(cpg)[None, :]


def _fold_before_synapse(g: Graph, name: str, a: np.ndarray, b: np.ndarray) -> Graph:
    s = only_succ(g, name)
    if s is None:
        raise IRError(f"batch norm {name!r} has no single consumer to fold into")
    syn = g.nodes[s]
    w: Any = as_float(weight_of(syn))
    idx = _in_channel_index(syn)
    extra = (1,) * (w.ndim - 2)
    a_cols = a[idx].reshape(idx.shape + extra)
    bias = bias_vector(syn) + (w * b[idx].reshape(idx.shape + extra)).reshape(w.shape[0], -1).sum(1)
    return g.edit().replace(s, with_weight_bias(syn, w * a_cols, bias)).bypass(name).finish()


def fold_one_bn(g: Graph, name: str) -> tuple[Graph, str] | None:
    """Fold batch norm ``name`` by the first applicable rule, or None."""
    bn: Any = g.nodes[name]
    a, b = bn.channel_affine()
    ps, s = g.predecessors(name), only_succ(g, name)
    if ps and all(has(g.nodes[p], Trait.SYNAPSE) and g.successors(p) == [name] for p in ps):
        return _fold_after_synapses(g, name, a, b)
    if s is None or g.predecessors(s) != [name]:
        return None
    nxt: Any = g.nodes[s]
    if has(nxt, Trait.DENSE) and len(bn.shape) == 1 and not is_qweight(nxt.weight):
        return _fold_before_synapse(g, name, a, b), "into next weights"
    if has(nxt, Trait.CONV) and not any(nxt.padding) and not is_qweight(nxt.weight):
        return _fold_before_synapse(g, name, a, b), "into next weights"
    scaled = channel_array(a, bn.shape)
    shifted = neuron_with_constant(nxt, channel_array(b, bn.shape)) if can_scale(nxt, scaled) \
        else None
    if shifted is None:
        return None
    return g.edit().replace(s, scale_input(shifted, scaled)).bypass(name).finish(), "into neuron"


@dataclass(frozen=True)
class FoldBatchNorm(Pass):
    name = "fold-bn"
    summary = ("Fold batch norm into the preceding weights and bias, or into threshold and bias "
               "when the weights are quantized.")
    semantics = Semantics.EXACT

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        folded: dict[str, str] = {}
        for name in [n for n in graph.schedule().order if graph.nodes[n].op == "batchnorm"]:
            out = fold_one_bn(graph, name)
            if out is not None:
                graph, folded[name] = out
        left = [n for n, node in graph.nodes.items() if node.op == "batchnorm"]
        for n in left:
            ctx.log.warning("fold-bn: batch norm %r could not be folded (no adjacent synapse or "
                            "neuron it can merge into)", n)
        ctx.report(self, folded=folded, remaining=left)
        return graph


# ---- fold-scale ----------------------------------------------------------------------------------


def _fold_gain(node: Node) -> Node | None:
    if not is_spiking(node) or node.op == "threshold":
        return None
    g = input_gain(node)
    if np.all(g == 1.0) or not np.all(g > 0):
        return None
    return scale_input(unit_gain(node), g)


def _fold_scale_node(g: Graph, name: str) -> Graph | None:
    s = only_succ(g, name)
    if s is None or g.predecessors(s) != [name]:
        return None
    factor = np.asarray(as_op(g.nodes[name], Scale).scale)
    if not can_scale(g.nodes[s], factor):
        return None
    return g.edit().replace(s, scale_input(g.nodes[s], factor)).bypass(name).finish()


def _fold_weight_scales(g: Graph, n: str) -> Graph | None:
    ps = g.predecessors(n)
    if not ps or any(not has(g.nodes[p], Trait.SYNAPSE) or g.successors(p) != [n] for p in ps):
        return None
    alphas = [channel_scale(weight_of(g.nodes[p])) for p in ps]
    first = alphas[0]
    if first is None or any(a is None or not np.array_equal(a, first) for a in alphas):
        return None
    mag = np.abs(first)
    neuron = g.nodes[n]
    scaled = channel_array(mag, neuron.in_shape)
    if np.all(first == 1.0) or not np.all(mag > 0) or not can_scale(neuron, scaled):
        return None
    ed = g.edit()
    for p in ps:
        syn: Any = g.nodes[p]
        w = negate_rows(strip_scale(syn.weight), first < 0)
        ed.replace(p, with_weight_bias(syn, w, bias_vector(syn) / mag))
    return ed.replace(n, scale_input(neuron, scaled)).finish()


@dataclass(frozen=True)
class FoldScale(Pass):
    name = "fold-scale"
    summary = ("Fold binary alpha, quantization scales and neuron gains into thresholds and "
               "biases, so synapses carry pure integers.")
    semantics = Semantics.EXACT

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        done: dict[str, list[str]] = {"gains": [], "scale_nodes": [], "weight_scales": []}
        for name in list(graph.nodes):
            new = _fold_gain(graph.nodes[name])
            if new is not None:
                graph = graph.edit().replace(name, new).finish()
                done["gains"].append(name)
        for name in [n for n, node in graph.nodes.items() if node.op == "scale"]:
            out = _fold_scale_node(graph, name)
            if out is not None:
                graph = out
                done["scale_nodes"].append(name)
        for name in list(graph.nodes):
            out = _fold_weight_scales(graph, name)
            if out is not None:
                graph = out
                done["weight_scales"].append(name)
        ctx.report(self, **done)
        return graph
