"""The layer structure Loihi needs, and the exact rewrites that bring a folded graph into it.

A Loihi layer is a neuron group (``lif``, ``if``, ``cubalif``, ``threshold``; or a non-spiking
readout ``li``, ``i``, ``cubali``) fed only by synapses (``linear``/``affine``/``conv2d`` without
bias), each reading one source: a graph input or a spiking neuron group, possibly through
``flatten``/``reshape``. Each synapse feeds exactly one neuron group (a Lava Dense/Conv process
connects two processes).

``normalize`` applies these exact rewrites first:

- nested subgraphs are inlined;
- max pooling of spikes is an OR over the window: a depthwise ``conv2d`` of ones (stride and
  padding of the pool) into a memoryless ``lif`` that fires when the window's sum is > 0; a
  spike ``or`` of several branches is that neuron fed by each branch (identity synapses below).
  Both are exact on binary spikes and add one synapse of latency, which ``lower-loihi`` aligns;
- ``sumpool2d`` becomes a depthwise ``conv2d`` with a kernel of ones (a synapse on Loihi);
- a synapse (or flatten/reshape) that reads a sum of several sources (a SEW spike ADD, after
  canonicalize bypassed the ``add``) becomes one copy per source, the bias kept on the first:
  W(a + b) = Wa + Wb, so the sum of spikes arrives as two synapse groups on the next layer;
- ``threshold`` becomes a memoryless ``lif`` (decay_v = 0), which can also carry a bias;
- a synapse with several consumers is duplicated, one copy per consumer;
- a synapse that feeds an output gets a readout neuron: ``li`` with decay 0 (v = input + bias);
- a neuron fed directly by an input or another neuron gets an identity synapse;
- synapse biases move into the neuron's bias (Lava's Dense has no bias): exact for neurons
  without a current stage or with decay_i = 0, else ``UnsupportedOpError``; a synapse left
  without input (its source was pruned as silent) is then removed.

``layers`` then checks the structure and lists the layers, raising an error that names the node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import PassError, UnsupportedOpError
from ..ir import LI, LIF, Conv2d, Graph, GraphEditor, Linear, flatten_subgraphs, weight_shape
from ..ir.traits import Trait, has, has_any
from .fold import bias_vector, neuron_with_constant
from .graphutil import channel_array, compact, is_spiking

#: the float synapses lower-loihi lowers (Lava has 2-d convolutions only)
LOIHI_SYNAPSES = ("linear", "affine", "conv2d")


def is_neuron_like(node: Any) -> bool:
    """A float neuron op or ``threshold``: what becomes a ``loihi.lif`` layer."""
    return has_any(node, Trait.NEURON, Trait.SPIKING)

_HINTS = {
    "batchnorm": (PassError, "batch norm must be folded first (run fold-bn)"),
    "avgpool2d": (PassError, "run avgpool-to-sumpool (and fold-affine) first"),
    "scale": (PassError, "a scale between layers must be folded first (fold-affine, fold-scale)"),
    "add": (PassError, "run canonicalize first (an add merges currents by summing edges)"),
    "maxpool2d": (UnsupportedOpError, "max pooling of values that are not binary spikes (e.g. "
                  "currents before a neuron) has no Loihi lowering; pool the spikes (put the "
                  "max-pool after the neuron), or use average pooling"),
    "or": (UnsupportedOpError, "a spike OR of inputs that are not all binary spikes has no "
           "Loihi lowering"),
    "delay": (UnsupportedOpError, "explicit delay nodes have no Loihi lowering yet"),
    "conv1d": (UnsupportedOpError, "Lava has 2-d convolutions only; reshape conv1d to conv2d"),
}


@dataclass(frozen=True)
class SynapseRef:
    name: str
    source: str  # the node whose values the synapse reads (past flatten/reshape)
    from_input: bool


@dataclass(frozen=True)
class Layer:
    neuron: str
    synapses: tuple[SynapseRef, ...]


def back_through_wiring(g: Graph, name: str) -> str:
    while has(g.nodes[name], Trait.WIRING) and len(g.predecessors(name)) == 1:
        name = g.predecessors(name)[0]
    return name


def identity_synapse(shape: tuple[int, ...]) -> Any:
    if len(shape) == 1:
        return Linear(weight=np.eye(shape[0]))
    if len(shape) == 3:
        return Conv2d(input_shape=shape, weight=np.ones((shape[0], 1, 1, 1)), groups=shape[0])
    return None


def _duplicate_synapses(g: Graph, ed: GraphEditor) -> None:
    for name, node in g.nodes.items():
        if not has(node, Trait.SYNAPSE):
            continue
        for s in g.successors(name)[1:]:
            copy = ed.fresh_name(f"{name}_{s}")
            ed.add(copy, node)
            for p in g.predecessors(name):
                ed.connect(p, copy)
            ed.disconnect(name, s).connect(copy, s)


def _sumpool_to_conv(node: Any) -> Conv2d:
    c = node.input_shape[0]
    return Conv2d(input_shape=node.input_shape, weight=np.ones((c, 1, *node.kernel_size)),
                  stride=node.stride, padding=node.padding, groups=c)


def _insert_readouts(g: Graph, ed: GraphEditor) -> None:
    for out in g.outputs:
        for p in g.predecessors(out):
            src = back_through_wiring(g, p)
            if has(g.nodes[src], Trait.SYNAPSE):
                ed.insert_after(src, ed.fresh_name(f"{src}_readout"),
                                LI(shape=g.nodes[src].out_shape, decay_v=np.float64(0.0)))


def _insert_identities(g: Graph, ed: GraphEditor) -> None:
    for name, node in g.nodes.items():
        if not is_neuron_like(node):
            continue
        for p in g.predecessors(name):
            if has(g.nodes[back_through_wiring(g, p)], Trait.SYNAPSE):
                continue
            syn = identity_synapse(node.in_shape)
            if syn is not None:
                ed.disconnect(p, name)
                new = ed.fresh_name(f"{name}_in")
                ed.add(new, syn).connect(p, new).connect(new, name)


def _bias_at(syn: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A synapse's bias as the array its neuron group of ``shape`` receives (C-order)."""
    full = np.broadcast_to(channel_array(bias_vector(syn), syn.out_shape), syn.out_shape)
    return full.reshape(shape)


def _move_biases(g: Graph, ed: GraphEditor) -> None:
    for name, node in g.nodes.items():
        syns = [q for q in (back_through_wiring(g, p) for p in g.predecessors(name))
                if has(g.nodes[q], Trait.SYNAPSE)]
        if not is_neuron_like(node) or not syns:
            continue
        if not any(np.any(bias_vector(g.nodes[p])) for p in syns):
            continue
        total = sum((_bias_at(g.nodes[p], node.in_shape) for p in syns), np.zeros(node.in_shape))
        new = neuron_with_constant(node, compact(total)) if np.any(total) else node
        if new is None:
            raise UnsupportedOpError(
                f"layer {name!r} ({node.op}): its synapses have a bias, which Lava adds to the "
                "voltage, not to the current; with decay_i != 0 that changes the dynamics. Train "
                "without synapse bias or with decay_i = 0.")
        ed.replace(name, new)
        for p in syns:
            syn: Any = g.nodes[p]
            ed.replace(p, Linear(weight=syn.weight) if syn.op in ("affine", "linear")
                       else syn.replace(bias=np.float64(0.0)))


def _drop_sourceless(g: Graph, ed: GraphEditor) -> None:
    """A synapse without input (e.g. after prune silenced its source) carried only its bias,
    which ``_move_biases`` put into the neuron: remove it."""
    for name, node in g.nodes.items():
        if has(node, Trait.SYNAPSE) and not g.predecessors(name):
            ed.remove(name)


def or_neuron(shape: tuple[int, ...]) -> LIF:
    """Fires when its input (a count of spikes) is > 0: an OR of binary spikes."""
    return LIF(shape=shape, decay_v=np.float64(0.0), threshold=np.float64(0.0), comparator=">")


def _binary(g: Graph, name: str) -> bool:
    """``name`` outputs binary spikes: a spiking neuron, or an OR / max-pool of binary spikes
    (both become OR neurons here), e.g. a max-pool after a SynA-ResNet spike OR."""
    node = g.nodes[name]
    if is_spiking(node):
        return True
    return node.op in ("or", "maxpool2d") and _reads_spikes(g, name)


def _reads_spikes(g: Graph, name: str) -> bool:
    preds = g.predecessors(name)
    return bool(preds) and all(_binary(g, back_through_wiring(g, p)) for p in preds)


def _spike_merges(g: Graph, ed: GraphEditor) -> None:
    """Max-pool of spikes and spike OR become OR neurons (module docstring)."""
    for name, n in g.nodes.items():
        node: Any = n
        if node.op not in ("maxpool2d", "or") or not _reads_spikes(g, name):
            continue
        ed.replace(name, or_neuron(node.out_shape))
        if node.op == "or":
            continue
        c = node.input_shape[0]
        window = Conv2d(input_shape=node.input_shape, weight=np.ones((c, 1, *node.kernel_size)),
                        stride=node.stride, padding=node.padding, groups=c)
        win = ed.fresh_name(f"{name}_window")
        ed.add(win, window)
        for p in g.predecessors(name):
            ed.disconnect(p, name).connect(p, win)
        ed.connect(win, name)


def _unbiased(node: Any) -> Any:
    if node.op == "affine":
        return Linear(weight=node.weight)
    return node.replace(bias=np.float64(0.0)) if hasattr(node, "bias") else node


def _split_sums(g: Graph, ed: GraphEditor) -> bool:
    """One copy of a synapse or wiring node per summed source (module docstring)."""
    changed = False
    for name, node in g.nodes.items():
        preds = g.predecessors(name)
        if len(preds) < 2 or not has_any(node, Trait.SYNAPSE, Trait.WIRING):
            continue
        for p in preds[1:]:
            copy = ed.fresh_name(f"{name}_{p}")
            ed.add(copy, _unbiased(node)).disconnect(p, name).connect(p, copy)
            for s in g.successors(name):
                ed.connect(copy, s)
        changed = True
    return changed


def normalize(g: Graph) -> Graph:
    """Apply the exact rewrites of the module docstring."""
    g = flatten_subgraphs(g)
    ed = g.edit()
    _spike_merges(g, ed)
    g = ed.finish()
    ed = g.edit()
    for name, n in g.nodes.items():
        node: Any = n
        if node.op == "sumpool2d":
            ed.replace(name, _sumpool_to_conv(node))
        elif node.op == "threshold":  # a memoryless LIF, which can also hold a bias
            ed.replace(name, LIF(shape=node.shape, decay_v=np.float64(0.0),
                                 threshold=node.threshold, comparator=node.comparator))
    g = ed.finish()
    ed = g.edit()
    while _split_sums(g, ed):  # a sum through flatten into a synapse takes two rounds
        g = ed.finish()
        ed = g.edit()
    for step in (_duplicate_synapses, _insert_readouts, _insert_identities, _move_biases,
                 _drop_sourceless):
        g = ed.finish()
        ed = g.edit()
        step(g, ed)
    return ed.finish()


def _fail(name: str, op: str) -> None:
    cls, hint = _HINTS.get(op, (UnsupportedOpError, "this op has no Loihi lowering"))
    raise cls(f"node {name!r} ({op}): {hint}")


def forward_through_wiring(g: Graph, name: str) -> list[str]:
    """The consumers of ``name``'s values past flatten/reshape nodes."""
    out: list[str] = []
    for s in g.successors(name):
        out += forward_through_wiring(g, s) if has(g.nodes[s], Trait.WIRING) else [s]
    return out


def _check_synapse(g: Graph, name: str) -> SynapseRef:
    succ = forward_through_wiring(g, name)
    for s in succ:  # an op without a lowering: say what it is rather than blame the synapse
        if g.nodes[s].op in _HINTS:
            _fail(s, g.nodes[s].op)
    if len(succ) != 1 or not is_neuron_like(g.nodes[succ[0]]):
        raise PassError(f"synapse {name!r} must feed exactly one neuron group, it feeds {succ}")
    preds = g.predecessors(name)
    if len(preds) != 1:
        raise PassError(f"synapse {name!r} must read exactly one source, it reads {preds}")
    src = back_through_wiring(g, preds[0])
    node = g.nodes[src]
    if node.op != "input" and not is_spiking(node):
        raise UnsupportedOpError(
            f"synapse {name!r} reads {src!r} ({node.op}), which does not send binary spikes; on "
            "Loihi synapses carry spikes from neurons or values from the host input")
    if np.any(getattr(g.nodes[name], "bias", 0.0)):
        raise PassError(f"synapse {name!r} has a bias; normalize moves it into the neuron")
    return SynapseRef(name, src, node.op == "input")


def layers(g: Graph) -> list[Layer]:
    """The layers of a normalized graph, in schedule order; errors name the offending node."""
    out = []
    syn_refs: dict[str, SynapseRef] = {}
    for name in g.schedule().order:
        node: Any = g.nodes[name]
        if has_any(node, Trait.HOST, Trait.WIRING):
            continue
        if node.op in LOIHI_SYNAPSES:
            syn_refs[name] = _check_synapse(g, name)
        elif not is_neuron_like(node):
            _fail(name, node.op)
        elif getattr(node, "graded", False):
            raise UnsupportedOpError(f"neuron {name!r}: graded spikes have no Lava LIF equivalent")
    for name in g.schedule().order:
        if not is_neuron_like(g.nodes[name]):
            continue
        preds = [back_through_wiring(g, p) for p in g.predecessors(name)]
        bad = [p for p in preds if p not in syn_refs]
        if bad:
            raise PassError(f"neuron {name!r} is fed by {bad}, which are not synapses")
        out.append(Layer(name, tuple(syn_refs[p] for p in preds)))
    return out


def synapse_shape(node: Any) -> tuple[int, ...]:
    return weight_shape(node.weight)
