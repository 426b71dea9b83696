"""Collapse a float IR graph into value nodes joined by delayed sparse maps.

Brian2 simulates groups of units and the synapses between them. The IR's stateless linear ops
(``linear.py``) have no units of their own: each *value node* (input, neuron, threshold, output)
receives the composition of the linear ops between it and the value nodes that feed it. An edge
that ``graph.schedule()`` marks ``delayed`` (it closes a cycle and carries the previous step's
value) adds one step of delay, exactly like a ``delay`` op of 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...errors import UnsupportedOpError
from ...ir import Graph
from .linear import LINEAR_OPS
from .sparse import Const, Coo

NEURON_OPS = ("i", "li", "if", "lif", "cubali", "cubalif")
VALUE_OPS = ("input", "output", "threshold", *NEURON_OPS)


@dataclass
class Expr:
    """A node's value as ``sum_src terms[src] @ y_src + const`` (each term delayed)."""

    terms: dict[str, Coo] = field(default_factory=dict)
    const: Const = field(default_factory=Const.empty)

    def shifted(self, steps: int) -> Expr:
        if not steps:
            return self
        return Expr({s: c.shifted(steps) for s, c in self.terms.items()},
                    self.const.shifted(steps))

    @staticmethod
    def total(parts: list[Expr]) -> Expr:
        srcs = dict.fromkeys(s for p in parts for s in p.terms)
        terms = {s: Coo.concat([p.terms[s] for p in parts if s in p.terms]).coalesced()
                 for s in srcs}
        return Expr({s: c for s, c in terms.items() if len(c)},
                    Const.concat([p.const for p in parts]))


@dataclass
class Plan:
    """The value nodes in execution order and what each one receives."""

    graph: Graph
    order: list[str]
    inputs: dict[str, Expr]
    position: dict[str, int]


class _Collapser:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.sched = graph.schedule()
        self.out: dict[str, Expr] = {}
        self.busy: set[str] = set()

    def value_out(self, name: str) -> Expr:
        """The node's output as an expression over value nodes."""
        if name in self.out:
            return self.out[name]
        node = self.graph.nodes[name]
        if node.op in VALUE_OPS:
            n = int(_size(node.out_shape))
            expr = Expr({name: Coo.identity(n)})
        else:
            expr = self._linear_out(name, node)
        self.out[name] = expr
        return expr

    def _linear_out(self, name: str, node) -> Expr:
        build = LINEAR_OPS.get(node.op)
        if build is None:
            raise UnsupportedOpError(
                f"the Brian2 backend cannot simulate node {name!r} (op {node.op!r}); it takes "
                f"float graphs made of {', '.join(sorted(VALUE_OPS + tuple(LINEAR_OPS)))}. "
                "Simulate quantized or lowered graphs with snnc's reference simulator.")
        if name in self.busy:
            raise UnsupportedOpError(
                f"node {name!r} sits on a cycle of stateless/delay ops without a neuron; the "
                "Brian2 backend needs a neuron on every cycle")
        self.busy.add(name)
        x = self.value_in(name)
        self.busy.discard(name)
        op, bias = build(node)
        const = x.const.through(op)
        if bias is not None:
            const = Const.concat([const, Const.dense(bias)])
        terms = {s: c.then(op) for s, c in x.terms.items()}
        return Expr({s: c for s, c in terms.items() if len(c)}, const)

    def value_in(self, name: str) -> Expr:
        """The sum of what flows into the node, delayed edges shifted by one step."""
        parts = [self.value_out(a).shifted(int((a, name) in self.sched.delayed))
                 for a in self.graph.predecessors(name)]
        return Expr.total(parts)


def _size(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def collapse(graph: Graph, extra: tuple[str, ...] = ()) -> Plan:
    """The plan for ``graph``; ``extra`` non-value nodes get a relay unit each (for probes)."""
    c = _Collapser(graph)
    order = c.sched.order
    values = [n for n in order if graph.nodes[n].op in VALUE_OPS or n in extra]
    inputs: dict[str, Expr] = {}
    for n in values:
        if graph.nodes[n].op == "input":
            inputs[n] = Expr()
        elif graph.nodes[n].op in VALUE_OPS:
            inputs[n] = c.value_in(n)
        else:
            inputs[n] = c.value_out(n)
    return Plan(graph, values, inputs, {n: i for i, n in enumerate(order)})
