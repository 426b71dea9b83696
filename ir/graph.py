"""The frozen ``Graph``: named nodes, directed edges, time step; plus its editor and schedule.

Semantics of edges: the value a node receives is the sum of the values on its incoming edges
(ops with ``multi_input`` merge them by their own rule). Execution order comes from
``schedule()``: ops with ``latency == 1`` emit before they are fed, so edges into them do not
constrain the order; any other cycle must pass through a stateful node, and the edge that closes
it carries the previous step's value.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..errors import IRError
from .node import Node, Shape, register

Edge = tuple[str, str]


@dataclass(frozen=True)
class Schedule:
    """Execution plan: ``order`` of all nodes; ``delayed`` edges read the previous step's value."""

    order: tuple[str, ...]
    delayed: frozenset[Edge]


@dataclass(frozen=True, eq=False)
class Graph:
    """A frozen, verified graph. Build new ones with ``Graph.build`` or ``graph.edit()``."""

    nodes: Mapping[str, Node]
    edges: tuple[Edge, ...]
    dt: float | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", MappingProxyType(dict(self.nodes)))
        object.__setattr__(self, "edges", tuple((str(a), str(b)) for a, b in self.edges))
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))
        if self.dt is not None:
            object.__setattr__(self, "dt", float(self.dt))
        self.verify()

    @classmethod
    def build(cls, nodes: Mapping[str, Node] | Iterable[tuple[str, Node]], edges: Iterable[Edge],
              dt: float | None = None, metadata: Mapping[str, Any] | None = None) -> Graph:
        items = nodes.items() if isinstance(nodes, Mapping) else nodes
        return cls(dict(items), tuple(edges), dt, dict(metadata or {}))

    @classmethod
    def chain(cls, *named: tuple[str, Node], dt: float | None = None) -> Graph:
        """A linear graph: each node feeds the next."""
        names = [n for n, _ in named]
        return cls(dict(named), tuple(itertools.pairwise(names)), dt)

    # ---- queries ---------------------------------------------------------------------------

    @property
    def inputs(self) -> list[str]:
        return [n for n, node in self.nodes.items() if node.op == "input"]

    @property
    def outputs(self) -> list[str]:
        return [n for n, node in self.nodes.items() if node.op == "output"]

    def predecessors(self, name: str) -> list[str]:
        return [a for a, b in self.edges if b == name]

    def successors(self, name: str) -> list[str]:
        return [b for a, b in self.edges if a == name]

    def schedule(self) -> Schedule:
        """Topological order; see the module docstring for how cycles are handled."""
        names = list(self.nodes)
        rank = {n: i for i, n in enumerate(names)}
        pending: dict[str, set[str]] = {n: set() for n in names}
        for a, b in self.edges:
            if self.nodes[b].latency == 0:
                pending[b].add(a)
        order: list[str] = []
        delayed: set[Edge] = set()
        done: set[str] = set()
        while len(order) < len(names):
            ready = [n for n in names if n not in done and not (pending[n] - done)]
            if not ready:
                self._break_cycle(pending, done, rank, delayed)
                continue
            for n in ready:
                order.append(n)
                done.add(n)
        return Schedule(tuple(order), frozenset(delayed))

    def _break_cycle(self, pending: dict[str, set[str]], done: set[str], rank: dict[str, int],
                     delayed: set[Edge]) -> None:
        """Let the nodes of one cycle read the previous output of a stateful node on it.

        Only edges that close a cycle are delayed: a node downstream of the cycle (an output,
        the next layer) still reads the stateful node's current output.
        """
        blocked = [n for n in self.nodes if n not in done]
        waits = {n: _waits_on(n, pending, done) for n in blocked}
        stateful = [n for n in blocked if self.nodes[n].stateful and n in waits[n]]
        if not stateful:
            raise IRError(f"cycle without a stateful node among {sorted(blocked)}")
        pick = min(stateful, key=rank.__getitem__)
        for n in blocked:
            if pick in pending[n] and n in waits[pick]:
                pending[n].discard(pick)
                delayed.add((pick, n))

    # ---- checks ----------------------------------------------------------------------------

    def verify(self) -> None:
        """Names, dangling edges, port shapes, cycles; raises ``IRError``."""
        for name, node in self.nodes.items():
            if not isinstance(name, str) or not name:
                raise IRError(f"node names must be non-empty strings, got {name!r}")
            if not isinstance(node, Node):
                raise IRError(f"node {name!r} is not an IR node: {type(node).__name__}")
        seen: set[Edge] = set()
        for a, b in self.edges:
            for end in (a, b):
                if end not in self.nodes:
                    raise IRError(f"edge {a} -> {b} names a missing node {end!r}")
            if (a, b) in seen:
                raise IRError(f"duplicate edge {a} -> {b}")
            seen.add((a, b))
            src, dst = self.nodes[a], self.nodes[b]
            if dst.op == "input":
                raise IRError(f"edge {a} -> {b} enters an input node")
            if src.op == "output":
                raise IRError(f"edge {a} -> {b} leaves an output node")
            if src.out_shape != dst.in_shape:
                raise IRError(f"shape mismatch on edge {a} -> {b}: {a} ({src.op}) gives "
                              f"{src.out_shape}, {b} ({dst.op}) takes {dst.in_shape}")
        self.schedule()

    # ---- editing ---------------------------------------------------------------------------

    def edit(self) -> GraphEditor:
        return GraphEditor(dict(self.nodes), list(self.edges), self.dt, dict(self.metadata))

    def with_metadata(self, **changes: Any) -> Graph:
        return dataclasses.replace(self, metadata={**self.metadata, **changes})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Graph):
            return NotImplemented
        return (list(self.nodes) == list(other.nodes)
                and all(self.nodes[k] == other.nodes[k] for k in self.nodes)
                and sorted(self.edges) == sorted(other.edges) and self.dt == other.dt
                and dict(self.metadata) == dict(other.metadata))

    def __hash__(self) -> int:
        return hash((tuple(self.nodes), tuple(sorted(self.edges))))

    def __repr__(self) -> str:
        return f"<Graph {len(self.nodes)} nodes, {len(self.edges)} edges, dt={self.dt}>"


class GraphEditor:
    """Mutable builder used by passes: ``g.edit().replace(...).remove(...).finish()``."""

    def __init__(self, nodes: dict[str, Node], edges: list[Edge], dt: float | None,
                 metadata: dict[str, Any]) -> None:
        self.nodes, self.edges, self.dt, self.metadata = nodes, edges, dt, metadata

    def add(self, name: str, node: Node) -> GraphEditor:
        if name in self.nodes:
            raise IRError(f"node {name!r} exists already")
        self.nodes[name] = node
        return self

    def replace(self, name: str, node: Node) -> GraphEditor:
        if name not in self.nodes:
            raise IRError(f"no node {name!r} to replace")
        self.nodes[name] = node
        return self

    def remove(self, name: str) -> GraphEditor:
        """Remove a node and every edge touching it."""
        self.nodes.pop(name)
        self.edges = [(a, b) for a, b in self.edges if name not in (a, b)]
        return self

    def bypass(self, name: str) -> GraphEditor:
        """Remove a node, connecting each of its predecessors to each of its successors."""
        preds = [a for a, b in self.edges if b == name]
        succs = [b for a, b in self.edges if a == name]
        self.remove(name)
        for p in preds:
            for s in succs:
                self.connect(p, s)
        return self

    def connect(self, src: str, dst: str) -> GraphEditor:
        if (src, dst) not in self.edges:
            self.edges.append((src, dst))
        return self

    def disconnect(self, src: str, dst: str) -> GraphEditor:
        self.edges.remove((src, dst))
        return self

    def insert_after(self, name: str, new_name: str, node: Node) -> GraphEditor:
        """Put ``node`` between ``name`` and all of its successors."""
        succs = [b for a, b in self.edges if a == name]
        self.edges = [(a, b) for a, b in self.edges if a != name]
        self.add(new_name, node).connect(name, new_name)
        for s in succs:
            self.connect(new_name, s)
        return self

    def fresh_name(self, base: str) -> str:
        if base not in self.nodes:
            return base
        i = 1
        while f"{base}_{i}" in self.nodes:
            i += 1
        return f"{base}_{i}"

    def finish(self) -> Graph:
        return Graph(self.nodes, tuple(self.edges), self.dt, self.metadata)


def _waits_on(start: str, pending: dict[str, set[str]], done: set[str]) -> set[str]:
    """Every node ``start`` waits for, directly or through other blocked nodes."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        for src in pending[stack.pop()] - done:
            if src not in seen:
                seen.add(src)
                stack.append(src)
    return seen


@register("graph")
@dataclass(frozen=True, eq=False, kw_only=True)
class Subgraph(Node):
    """A nested graph (NIR's NIRGraph) with exactly one input and one output node."""

    graph: Graph = None  # type: ignore[assignment]

    def _verify(self) -> None:
        if not isinstance(self.graph, Graph):
            raise IRError("graph field must hold a Graph")
        if len(self.graph.inputs) != 1 or len(self.graph.outputs) != 1:
            raise IRError("a nested graph needs exactly one input and one output node")

    @property
    def stateful(self) -> bool:  # type: ignore[override]
        return any(n.stateful for n in self.graph.nodes.values())

    @property
    def in_shape(self) -> Shape:
        return self.graph.nodes[self.graph.inputs[0]].in_shape

    @property
    def out_shape(self) -> Shape:
        return self.graph.nodes[self.graph.outputs[0]].out_shape


def flatten_subgraphs(graph: Graph, sep: str = ".") -> Graph:
    """Inline every ``Subgraph`` (recursively); inner names become ``outer.inner``."""
    if not any(n.op == "graph" for n in graph.nodes.values()):
        return graph
    nodes: dict[str, Node] = {}
    edges: list[Edge] = []
    entry: dict[str, list[str]] = {}  # subgraph -> inner successors of its input node
    exit_: dict[str, list[str]] = {}  # subgraph -> inner predecessors of its output node
    for name, node in graph.nodes.items():
        if node.op != "graph":
            nodes[name] = node
            continue
        inner = flatten_subgraphs(node.graph, sep)  # type: ignore[attr-defined]
        i_in, i_out = inner.inputs[0], inner.outputs[0]
        full = {n: f"{name}{sep}{n}" for n in inner.nodes}
        nodes.update({full[n]: v for n, v in inner.nodes.items() if n not in (i_in, i_out)})
        edges += [(full[a], full[b]) for a, b in inner.edges if a != i_in and b != i_out]
        entry[name] = [full[b] for a, b in inner.edges if a == i_in]
        exit_[name] = [full[a] for a, b in inner.edges if b == i_out]
    for a, b in graph.edges:
        edges += [(s, d) for s in exit_.get(a, [a]) for d in entry.get(b, [b])]
    return Graph(nodes, tuple(dict.fromkeys(edges)), graph.dt, graph.metadata)
