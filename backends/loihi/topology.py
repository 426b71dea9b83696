"""The shape of a lowered graph as the chip sees it: neuron layers, synapses, host inputs.

A lowered graph holds ``input`` nodes (spikes or graded payloads injected by the host),
``loihi.dense`` / ``loihi.plastic_dense`` / ``loihi.conv`` synapses, neuron layers (ops with the
``CHIP_NEURON`` trait: ``loihi.lif``, and on Loihi 2 the graded sigma-delta ops),
``output`` nodes and the zero-cost re-indexing ops ``flatten`` / ``reshape`` (C-order, so flat
indices are unchanged). A ``loihi.plastic_dense`` is a ``loihi.dense`` whose weights learn: it maps
like one (with a larger synaptic memory cost, ``partition.py``), and its post-synaptic population
is the one layer it feeds.
Every synapse reads exactly one source (an input or a layer) and feeds exactly one layer; a layer
sums the currents of all synapses into it. Anything else is an ``UnsupportedOpError`` that names
the node and says to run the lowering passes first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import UnsupportedOpError
from ...ir import Graph
from ...ir.traits import Trait, has, has_any


def is_layer(node: Any) -> bool:
    """A neuron layer: ``loihi.lif`` or a sigma-delta op (trait ``CHIP_NEURON``)."""
    return has(node, Trait.CHIP_NEURON)


def on_chip(node: Any) -> bool:
    """An op a lowered graph may hold: chip synapses and layers, wiring, inputs and outputs."""
    return has_any(node, Trait.CHIP_SYNAPSE, Trait.CHIP_NEURON, Trait.WIRING, Trait.HOST)


@dataclass(frozen=True)
class Topology:
    """Layers (neuron layer names, schedule order), inputs, and synapse -> (source, target)."""

    layers: tuple[str, ...]
    inputs: tuple[str, ...]
    synapses: dict[str, tuple[str, str]]
    outputs: dict[str, str]  # output node -> the layer or input whose values it records

    def synapses_into(self, layer: str) -> list[str]:
        return [s for s, (_, tgt) in self.synapses.items() if tgt == layer]

    def synapses_from(self, group: str) -> list[str]:
        return [s for s, (src, _) in self.synapses.items() if src == group]

    def plastic(self, graph: Graph) -> list[str]:
        """The synapses whose weights learn (``loihi.plastic_dense``), in schedule order."""
        return [s for s in self.synapses if has(graph.nodes[s], Trait.PLASTIC)]


def _unsupported(name: str, what: str) -> UnsupportedOpError:
    return UnsupportedOpError(
        f"node {name!r}: {what}. The Loihi mapper takes lowered graphs (input, loihi.dense, "
        f"loihi.plastic_dense, loihi.conv, loihi.lif, flatten, reshape, output); run the "
        f"default pipeline (`snnc compile --target loihi-sim`) to lower the model first.")


def _back(graph: Graph, name: str) -> str:
    """Follow flatten/reshape chains backwards to the node that produces the values."""
    while has(graph.nodes[name], Trait.WIRING):
        preds = graph.predecessors(name)
        if len(preds) != 1:
            raise _unsupported(name, f"a {graph.nodes[name].op} needs exactly one input")
        name = preds[0]
    return name


def _forward(graph: Graph, name: str) -> list[str]:
    """The non-passthrough consumers of ``name``'s values."""
    out: list[str] = []
    for succ in graph.successors(name):
        out += _forward(graph, succ) if has(graph.nodes[succ], Trait.WIRING) else [succ]
    return out


def topology(graph: Graph) -> Topology:
    """Check that ``graph`` is a lowered graph and return its chip-level structure."""
    order = graph.schedule().order
    for name in order:
        op = graph.nodes[name].op
        if not on_chip(graph.nodes[name]):
            raise _unsupported(name, f"op {op!r} has no Loihi equivalent")
    synapses: dict[str, tuple[str, str]] = {}
    for name in order:
        node = graph.nodes[name]
        if has(node, Trait.CHIP_SYNAPSE):
            synapses[name] = (_synapse_source(graph, name), _synapse_target(graph, name))
        elif is_layer(node):
            for p in graph.predecessors(name):
                src = _back(graph, p)
                if not has_any(graph.nodes[src], Trait.CHIP_SYNAPSE, Trait.HOST):
                    raise _unsupported(name, f"layer is fed by {src!r} without synapses")
    outputs = {}
    for name in graph.outputs:
        preds = graph.predecessors(name)
        src = _back(graph, preds[0]) if len(preds) == 1 else None
        if src is None or not (is_layer(graph.nodes[src]) or graph.nodes[src].op == "input"):
            raise _unsupported(name, "an output must record exactly one layer's spikes")
        outputs[name] = src
    layers = tuple(n for n in order if is_layer(graph.nodes[n]))
    return Topology(layers, tuple(graph.inputs), synapses, outputs)


def _synapse_source(graph: Graph, name: str) -> str:
    preds = graph.predecessors(name)
    if len(preds) != 1:
        raise _unsupported(name, f"a synapse needs exactly one source, has {len(preds)}")
    src = _back(graph, preds[0])
    if not (is_layer(graph.nodes[src]) or graph.nodes[src].op == "input"):
        raise _unsupported(name, f"synapse reads {src!r} ({graph.nodes[src].op}), "
                                 "not a neuron layer or input")
    return src


def _synapse_target(graph: Graph, name: str) -> str:
    succ = _forward(graph, name)
    if len(succ) != 1 or not is_layer(graph.nodes[succ[0]]):
        raise _unsupported(name, f"a synapse must feed exactly one neuron layer, feeds {succ}")
    return succ[0]
