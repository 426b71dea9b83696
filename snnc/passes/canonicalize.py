"""``canonicalize`` (identity ops out, one form for equivalent graphs) and ``dce``.

Canonicalize rewrites, each exact, until nothing changes (nested graphs are inlined first):

- identities bypassed: ``scale`` by 1, ``flatten``/``reshape`` to the same shape, ``delay`` of 0,
  pools with a 1x1 window, stride 1 and no padding, ``or`` of a single binary spike source;
- ``add`` bypassed (incoming edges sum anyway), unless that would merge two edges into one or
  feed an op that merges its inputs by its own rule;
- consecutive ``flatten``/``reshape`` merged into one ``reshape`` (both are C-order);
- ``affine`` with a zero bias becomes ``linear``; a conv's all-zero bias becomes a scalar 0;
- ``loihi.dense``/``loihi.conv`` whose effective weights are all zero are removed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import (
    Delay,
    Graph,
    GraphEditor,
    Linear,
    LoihiDense,
    Node,
    Reshape,
    Scale,
    flatten_subgraphs,
)
from ..ir.access import as_op, bias_of, field_of, weight_of
from ..ir.traits import Trait, has
from ..ir.weights import effective_dense_weights
from .graphutil import is_spiking
from .manager import Pass, PassContext, Semantics


def _is_identity(g: Graph, name: str) -> bool:
    node: Node = g.nodes[name]
    op = node.op
    if op == "scale":
        return bool(np.all(as_op(node, Scale).scale == 1.0))
    if has(node, Trait.WIRING):
        return node.in_shape == node.out_shape
    if op == "delay":
        return bool(np.all(as_op(node, Delay).delay == 0))
    if has(node, Trait.POOLING):
        return all(tuple(field_of(node, f)) == v for f, v in
                   (("kernel_size", (1, 1)), ("stride", (1, 1)), ("padding", (0, 0))))
    if op == "or":
        ps = g.predecessors(name)
        return len(ps) == 1 and is_spiking(g.nodes[ps[0]])
    return op == "add"


def can_bypass(g: Graph, name: str) -> bool:
    """Removing ``name`` and wiring its inputs to its outputs keeps every sum intact."""
    ps, ss = g.predecessors(name), g.successors(name)
    edges = set(g.edges)
    for s in ss:
        if len(ps) > 1 and g.nodes[s].multi_input:
            return False
        if any((p, s) in edges for p in ps) or s in ps or name in ps:
            return False
    return True


def _zero_synapse(node: Node) -> bool:
    if node.op == "loihi.dense":
        dense = as_op(node, LoihiDense)
        return not np.any(effective_dense_weights(dense.weight, dense.num_weight_bits))
    return node.op == "loihi.conv" and not np.any(weight_of(node))


def _simplify_node(node: Node) -> Node | None:
    if node.op == "affine" and not np.any(bias_of(node)):
        return Linear(weight=weight_of(node))
    if has(node, Trait.CONV):
        b = bias_of(node)
        if b.ndim and not np.any(b):
            return node.replace(bias=np.float64(0.0))
    return None


def _merge_wiring(g: Graph, ed: GraphEditor) -> bool:
    for name, node in g.nodes.items():
        succ = g.successors(name)
        if not has(node, Trait.WIRING) or len(succ) != 1:
            continue
        nxt = g.nodes[succ[0]]
        if has(nxt, Trait.WIRING) and g.predecessors(succ[0]) == [name]:
            ed.replace(name, Reshape(input_shape=node.in_shape, output_shape=nxt.out_shape))
            ed.bypass(succ[0])
            return True
    return False


def canonicalize(g: Graph) -> tuple[Graph, list[str]]:
    """Apply the rewrites above until a fixed point; returns the graph and a change log."""
    changes: list[str] = []
    if any(n.op == "graph" for n in g.nodes.values()):
        g = flatten_subgraphs(g)
        changes.append("inlined nested graphs")
    while True:
        ed = g.edit()
        done = False
        for name, node in g.nodes.items():
            if _is_identity(g, name) and can_bypass(g, name):
                ed.bypass(name)
                changes.append(f"bypassed {node.op} {name}")
                done = True
                break
            if _zero_synapse(node):
                ed.remove(name)
                changes.append(f"removed all-zero {node.op} {name}")
                done = True
                break
            new = _simplify_node(node)
            if new is not None:
                ed.replace(name, new)
                changes.append(f"simplified {node.op} {name}")
                done = True
                break
        if not done and _merge_wiring(g, ed):
            changes.append("merged reshapes")
            done = True
        if not done:
            return g, changes
        g = ed.finish()


@dataclass(frozen=True)
class Canonicalize(Pass):
    name = "canonicalize"
    summary = ("Remove identity ops (scale 1, no-op reshape, add), merge reshapes, drop zero "
               "synapses.")
    semantics = Semantics.EXACT

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        out, changes = canonicalize(graph)
        ctx.report(self, changes=changes)
        return out


def live_nodes(g: Graph) -> set[str]:
    """Nodes from which some output is reachable, plus every input node."""
    live = set(g.outputs)
    stack = list(live)
    while stack:
        n = stack.pop()
        for p in g.predecessors(n):
            if p not in live:
                live.add(p)
                stack.append(p)
    return live | set(g.inputs)


def dead_code_elimination(g: Graph) -> tuple[Graph, list[str]]:
    live = live_nodes(g)
    dead = [n for n in g.nodes if n not in live]
    if not dead:
        return g, []
    ed = g.edit()
    for n in dead:
        ed.remove(n)
    return ed.finish(), dead


@dataclass(frozen=True)
class DeadCodeElimination(Pass):
    name = "dce"
    summary = "Remove nodes from which no output can be reached (inputs are kept)."
    semantics = Semantics.EXACT

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        out, dead = dead_code_elimination(graph)
        ctx.report(self, removed=dead)
        return out
