"""What the report needs to know about a graph's layers, float or lowered, without running it.

*Connection* nodes are the ones NeuroBench hooks (``nn.Linear``, ``nn.Conv1d/2d``) and their IR
twins: ``affine``, ``linear``, ``conv1d``, ``conv2d``, and after lowering ``loihi.dense`` and
``loihi.conv``. *Neuron* nodes are every IR neuron op (``lif``, ``if``, ``cubalif``, ``li``, ...)
and ``loihi.lif``.

``fanout(node)`` is, for every input element, the number of non-zero weights it drives: one
input event then costs exactly that many (non-zero input, non-zero weight) pairs, the quantity
NeuroBench's binarised re-run of the layer sums. With ``all_ones`` every weight counts (NeuroBench's
"dense" count); padding never counts, as in a real convolution.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from ...ir import Graph
from ...ir.neurons import NeuronBase
from ...ir.node import as_float
from ...ir.qtensor import weight_shape
from ...ir.traits import Trait, has
from ..loihi.connectivity import Connectivity

CONNECTION_OPS = ("affine", "linear", "conv1d", "conv2d", "loihi.dense", "loihi.conv")
#: spike-driven self-attention's additions: the column sum over tokens of K * V (the Hadamard
#: products themselves are masks, no arithmetic: Spike-driven Transformer V1)
ATTENTION_SUM_OPS = ("axis_sum",)


def connection_nodes(graph: Graph) -> list[str]:
    """Connection nodes in schedule order."""
    return [n for n in graph.schedule().order if graph.nodes[n].op in CONNECTION_OPS]


def attention_sums(graph: Graph) -> list[str]:
    """Sums over tokens (``axis_sum``) in schedule order."""
    return [n for n in graph.schedule().order if graph.nodes[n].op in ATTENTION_SUM_OPS]


def neuron_nodes(graph: Graph) -> list[str]:
    """Neuron nodes (float neuron ops and ``loihi.lif``) in schedule order."""
    return [n for n in graph.schedule().order
            if isinstance(graph.nodes[n], NeuronBase) or graph.nodes[n].op == "loihi.lif"]


def weight_values(node: Any) -> np.ndarray:
    """The weights as they act: float (dequantized) or effective integer ones after lowering."""
    if node.op in ("loihi.dense", "loihi.conv"):
        return Connectivity(node).weights
    return as_float(node.weight)


def nonzero_weights(node: Any) -> np.ndarray:
    """``weight_values(node) != 0``, without the int64 weights of a large lowered dense node
    (``Connectivity.nonzero`` makes it a block of rows at a time)."""
    if node.op in ("loihi.dense", "loihi.conv"):
        return Connectivity(node).nonzero
    return as_float(node.weight) != 0


def _conv_standin(node: Any, mask: np.ndarray) -> SimpleNamespace:
    """A ``loihi.conv``-shaped view of a float conv (conv1d as a 1 x L conv2d) for Connectivity."""
    if node.op == "conv1d":
        c, length = node.input_shape
        return SimpleNamespace(op="loihi.conv", weight=mask[:, :, None, :],
                               in_shape=(c, 1, length), out_shape=(node.out_shape[0], 1,
                                                                   node.out_shape[1]),
                               stride=(1, node.stride[0]), padding=(0, node.padding[0]),
                               dilation=(1, node.dilation[0]), groups=node.groups)
    return SimpleNamespace(op="loihi.conv", weight=mask, in_shape=tuple(node.in_shape),
                           out_shape=tuple(node.out_shape), stride=node.stride,
                           padding=node.padding, dilation=node.dilation, groups=node.groups)


def weight_counts(node: Any) -> tuple[int, int]:
    """(weights, non-zero weights) of a connection node; a lowered node's pattern is counted a
    block of rows at a time (no whole boolean copy of a large matrix)."""
    if node.op == "loihi.dense":
        return int(node.weight.size), Connectivity(node).nnz
    if node.op == "loihi.conv":  # weights as stored (not synapses: a tap serves many pixels)
        return int(node.weight.size), int(np.count_nonzero(node.weight))
    nz = nonzero_weights(node)
    return int(nz.size), int(np.count_nonzero(nz))


def fanout(node: Any, all_ones: bool = False) -> np.ndarray:
    """(n_in,) int64: weights driven by each input element (non-zero ones unless ``all_ones``)."""
    if node.op == "loihi.dense" and not all_ones:
        return Connectivity(node).fanout_counts()
    if node.op == "loihi.conv" and not all_ones:
        conn = Connectivity(node)
        return conn.pre_core_counts(np.zeros(conn.n_out, np.int64), 1)[:, 0]
    nz = nonzero_weights(node)
    if node.op in ("affine", "linear", "loihi.dense"):  # (out, in)
        if all_ones:
            return np.full(nz.shape[1], nz.shape[0], np.int64)
        return nz.sum(0, dtype=np.int64)
    mask = np.ones(nz.shape, np.int64) if all_ones else nz.astype(np.int64)
    view = _conv_standin(node, mask)
    n_out = int(np.prod(view.out_shape))
    return Connectivity(view).pre_core_counts(np.zeros(n_out, np.int64), 1)[:, 0]


def dense_flops(node: Any) -> int:
    """MACs of one dense evaluation as papers count them: out x in, or Cout*out_pixels*Cin/g*k."""
    ws = weight_shape(node.weight)
    if node.op in ("affine", "linear", "loihi.dense"):
        return int(ws[0] * ws[1])
    out_pixels = int(np.prod(node.out_shape[1:]))
    return int(ws[0] * out_pixels * int(np.prod(ws[1:])))


def bias_size(node: Any) -> int:
    """Bias parameters of a connection node (a scalar zero conv bias means none)."""
    b = getattr(node, "bias", None)
    if b is None or np.ndim(b) == 0:
        return 0
    return int(np.size(b))


def source_of(graph: Graph, name: str) -> str:
    """The node that produces a connection node's input, through flatten/reshape."""
    preds = graph.predecessors(name)
    src = preds[0] if len(preds) == 1 else name
    while len(preds) == 1 and has(graph.nodes[src], Trait.WIRING):
        preds = graph.predecessors(src)
        src = preds[0] if len(preds) == 1 else src
    return src


def reads_graph_input(graph: Graph, name: str) -> bool:
    return graph.nodes[source_of(graph, name)].op == "input"


def node_input(graph: Graph, name: str, probes: dict[str, np.ndarray]) -> np.ndarray | None:
    """(T, B, n_in) input of ``name``: the sum of its predecessors' recorded outputs."""
    total = None
    for p in graph.predecessors(name):
        val = probes.get(f"{p}.s")
        while val is None and has(graph.nodes[p], Trait.WIRING) and len(graph.predecessors(p)) == 1:
            p = graph.predecessors(p)[0]
            val = probes.get(f"{p}.s")
        if val is None:
            return None
        val = np.asarray(val).reshape(val.shape[0], val.shape[1], -1)
        total = val if total is None else total + val
    return total


#: per-sample maps a spike unit passes through unchanged in kind (values stay multiples of it)
_UNIT_MAPS = ("permute", "broadcast", "axis_sum", "reshape", "flatten")


def spike_unit(graph: Graph, name: str) -> float | None:
    """The value of one binary spike in ``name``'s output, when it is a count of spikes: 1 for
    binary spiking neurons, ``step`` for a multi-level spike (``qcfs``, a count of levels: the
    D virtual time steps of QSD-Transformer / SpikeYOLO), the product of its operands' units
    for a ``mul``, through rearrangements and sums; None otherwise (currents, graded values)."""
    node: Any = graph.nodes[name]
    if node.op == "qcfs":
        step = np.unique(np.asarray(node.step, np.float64))
        return float(step[0]) if step.size == 1 else None
    if node.op == "mul":
        units = [spike_unit(graph, p) for p in graph.predecessors(name)]
        return None if any(u is None for u in units) else float(np.prod(units))
    if node.op in _UNIT_MAPS and len(graph.predecessors(name)) == 1:
        return spike_unit(graph, graph.predecessors(name)[0])
    binary = node.op == "threshold" or (has(node, Trait.NEURON, Trait.SPIKING)
                                        and not getattr(node, "graded", False))
    return 1.0 if binary else None


def input_rate(graph: Graph, name: str, x: np.ndarray | None) -> float:
    """Spikes per input element and step: the fraction of non-zero elements, or for inputs that
    are counts of spikes (``spike_unit``) the mean count, each unit of a multi-level spike or of
    an integer product counted as one binary spike (equal to the fraction for binary spikes)."""
    if x is None:
        return 1.0
    preds = graph.predecessors(name)
    units = [spike_unit(graph, p) for p in preds]
    if preds and all(u is not None for u in units) and len(set(units)) == 1 and units[0]:
        return float(np.abs(x).sum() / units[0]) / max(x.size, 1)
    return float(np.count_nonzero(x)) / max(x.size, 1)


def input_probes(graph: Graph) -> list[str]:
    """Probes that record every connection node's input and every neuron's output and state."""
    out: list[str] = []
    for n in connection_nodes(graph) + attention_sums(graph):
        out += [f"{p}.s" for p in graph.predecessors(n)]
    for n in neuron_nodes(graph):
        out += [f"{n}.s", f"{n}.v"] + ([] if graph.nodes[n].op == "loihi.lif" else [f"{n}.i"])
    return list(dict.fromkeys(out))
