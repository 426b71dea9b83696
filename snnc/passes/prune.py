"""``prune``: remove what provably never contributes, and report it.

1. Synapses at zero: weights with |w| <= ``threshold`` are set to 0 (``threshold = 0``, the
   default, only counts the existing zeros and keeps the pass exact; a positive threshold makes
   it approximate). Binary weights are never zeroed.
2. Neurons proven never to fire (``bounds.silent_neurons``, from weight, bias and threshold
   bounds; graph inputs are unbounded unless ``input_bound`` is given). A silent output channel
   (a conv channel or a dense neuron whose every element is silent, which includes channels
   whose weights are all zero and whose bias keeps them below threshold) is removed from the
   layer, from the synapses that feed it and from the inputs of every consumer (affine/linear
   columns, conv input channels, through a flatten). A layer that is entirely silent is
   disconnected from its consumers (they received only zeros from it).
3. Nodes that reach no output (``dce``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ir import CodebookTensor, Graph, GraphEditor, Node, QTensor, as_float, is_qweight
from ..ir.access import weight_of
from ..ir.traits import Trait, has
from .bounds import silent_neurons
from .canonicalize import dead_code_elimination
from .manager import Pass, PassContext, Semantics


def _take(w: Any, keep: np.ndarray, axis: int) -> Any:
    """Slice a weight (float, QTensor or codebook) along axis 0 (rows) or 1 (columns)."""
    if isinstance(w, QTensor):
        scale = w.scale[keep] if (axis == 0 and w.per_channel) else w.scale
        return QTensor(np.compress(keep, w.mant, axis), scale, w.bits, w.signed, w.kind)
    if isinstance(w, CodebookTensor):
        alpha = w.alpha[keep] if axis == 0 else w.alpha
        return CodebookTensor(w.codebook, np.compress(keep, w.indices, axis), alpha)
    return np.compress(keep, np.asarray(w), axis)


def _slice_param(arr: np.ndarray, keep: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if arr.ndim == len(shape) and arr.shape[0] == shape[0] and shape[0] > 1:
        return np.compress(keep, arr, 0)
    return arr


def _shrink_neuron(node: Any, keep: np.ndarray) -> Node:
    shape = node.shape
    changes = {k: _slice_param(v, keep, shape) for k, v in node.params().items()
               if isinstance(v, np.ndarray)}
    return node.replace(shape=(int(keep.sum()), *shape[1:]), **changes)


def _shrink_producer(node: Any, keep: np.ndarray) -> Node:
    changes: dict[str, Any] = {"weight": _take(node.weight, keep, 0)}
    if node.op != "linear" and node.bias.ndim:
        changes["bias"] = node.bias[keep]
    return node.replace(**changes)


def _shrink_consumer(node: Any, keep: np.ndarray) -> Node:
    if has(node, Trait.DENSE):
        return node.replace(weight=_take(node.weight, keep, 1))
    return node.replace(weight=_take(node.weight, keep, 1),
                        input_shape=(int(keep.sum()), *node.input_shape[1:]))


def _consumer_plan(g: Graph, name: str, keep: np.ndarray) -> list[tuple[str, Any]] | None:
    """(node, how to shrink it) for every consumer of ``name``, or None if one cannot shrink."""
    plan: list[tuple[str, Any]] = []
    shape = g.nodes[name].out_shape
    for s in g.successors(name):
        node: Any = g.nodes[s]
        if g.predecessors(s) != [name]:
            return None
        if has(node, Trait.SYNAPSE) and getattr(node, "groups", 1) == 1:
            plan.append((s, keep))
            continue
        nxt = g.successors(s)
        if node.op != "flatten" or len(nxt) != 1 or g.predecessors(nxt[0]) != [s] \
                or g.nodes[nxt[0]].op not in ("affine", "linear") or node.start_dim != 0 \
                or node.end_dim not in (-1, len(shape) - 1):
            return None
        flat_keep = np.repeat(keep, int(np.prod(shape[1:])))
        plan.append((s, ("flatten", keep)))
        plan.append((nxt[0], flat_keep))
    return plan


def _prune_units(g: Graph, ed: GraphEditor, name: str, keep: np.ndarray) -> bool:
    producers = g.predecessors(name)
    if not producers or any(not has(g.nodes[p], Trait.SYNAPSE) or g.successors(p) != [name]
                            or getattr(g.nodes[p], "groups", 1) != 1 for p in producers):
        return False
    plan = _consumer_plan(g, name, keep)
    if plan is None:
        return False
    cur = ed.nodes  # read the editor's nodes: a neighbour layer may have been shrunk already
    ed.replace(name, _shrink_neuron(cur[name], keep))
    for p in producers:
        ed.replace(p, _shrink_producer(cur[p], keep))
    for s, how in plan:
        node: Any = cur[s]
        if isinstance(how, tuple):
            ed.replace(s, node.replace(input_shape=(int(how[1].sum()), *node.input_shape[1:])))
        else:
            ed.replace(s, _shrink_consumer(node, how))
    return True


def _value_edges(g: Graph, name: str) -> list[tuple[str, str]]:
    """The edges that deliver ``name``'s values to their consumers, past flatten/reshape."""
    out = []
    for s in g.successors(name):
        out += _value_edges(g, s) if has(g.nodes[s], Trait.WIRING) else [(name, s)]
    return out


def _unit_mask(mask: np.ndarray) -> np.ndarray:
    """Silent units: single neurons of a 1-d layer, whole channels otherwise."""
    return np.asarray(mask if mask.ndim == 1 else mask.reshape(mask.shape[0], -1).all(axis=1))


def _zero_small(w: Any, threshold: float) -> tuple[Any, int]:
    if isinstance(w, QTensor) and w.kind == "uniform":
        hit = (np.abs(w.dequant()) <= threshold) & (w.mant != 0)
        return QTensor(np.where(hit, 0, w.mant), w.scale, w.bits, w.signed), int(hit.sum())
    if is_qweight(w):
        return w, 0
    w = np.asarray(w)
    hit = (np.abs(w) <= threshold) & (w != 0)
    return np.where(hit, 0.0, w), int(hit.sum())


@dataclass(frozen=True)
class Prune(Pass):
    name = "prune"
    summary = ("Remove silent neurons and zero output channels (and the matching consumer "
               "inputs), zero small synapses, and nodes that reach no output; reports it all.")
    semantics = Semantics.EXACT
    threshold: float = 0.0
    input_bound: float | None = None

    def effective_semantics(self) -> Semantics:
        return Semantics.APPROXIMATE if self.threshold > 0 else Semantics.EXACT

    def _zero(self, g: Graph) -> tuple[Graph, dict[str, int], int]:
        zeros: dict[str, int] = {}
        zeroed = 0
        ed = g.edit()
        for name, node in g.nodes.items():
            if not has(node, Trait.SYNAPSE):
                continue
            w = weight_of(node)
            if self.threshold > 0:
                w, n = _zero_small(w, self.threshold)
                zeroed += n
                ed.replace(name, node.replace(weight=w))
            zeros[name] = int(np.sum(as_float(w) == 0))
        return ed.finish(), zeros, zeroed

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        graph, zeros, zeroed = self._zero(graph)
        silent = silent_neurons(graph, self.input_bound)
        ed = graph.edit()
        removed: dict[str, int] = {}
        silenced: list[str] = []
        for name, mask in silent.items():
            units = _unit_mask(mask)
            if not units.any():
                continue
            if units.all():
                for a, s in _value_edges(graph, name):
                    if graph.nodes[s].op != "output" and not graph.nodes[s].multi_input:
                        ed.disconnect(a, s)
                silenced.append(name)
            elif _prune_units(graph, ed, name, ~units):
                removed[name] = int(units.sum())
        graph, dead = dead_code_elimination(ed.finish())
        ctx.report(self, zeroed_synapses=zeroed, zero_synapses=zeros,
                   silent_neurons={k: int(m.sum()) for k, m in silent.items() if m.any()},
                   removed_units=removed, silenced_layers=silenced, removed_nodes=dead)
        return graph
