"""Aligning paths of different latency: synaptic delays where the chip has them, relay neurons
where it does not.

On Loihi every synapse takes one step (``latency.py``), so two paths into one neuron group that
cross a different number of synapses (a residual block's shortcut and its convolutions, the two
branches of a spike ADD or OR) arrive at different steps. The float graph says they arrive
together. ``compute_latency`` gives every synapse the delay that realigns it:

- a **dense** synapse holds its delay itself (Lava's DelayDense; a delay d arrives d + 1 steps
  after the spike), up to ``max_delay`` (62 on Loihi 1 and 2, loihi.md: 6 delay bits, netx's
  clamp);
- a **conv** synapse cannot (Lava's Conv has no delays), nor can a dense one beyond
  ``max_delay``: ``align_paths`` inserts, in front of the synapse, a chain of **relay neurons**,
  each an identity synapse into a memoryless neuron with threshold 0 (v = input, fires when
  v > 0). A relay repeats its binary input one step later, exactly; it cannot carry a graded
  value, so the relayed source must send binary spikes (a spiking layer, or a graph input
  encoded as spikes).

``align_paths`` is the reusable entry point: it takes a graph in the layer structure
``loihi_layers.layers`` accepts (after ``normalize``) and returns the graph with relays
inserted and the list of what was inserted. Relays are exact in the float semantics (they are
the identity on binary spikes and take no time there), so any lowering that builds a float
graph of Loihi layers can call it before quantization; ``quantize-loihi`` does. Recurrent
synapses are left alone (their delay comes from the schedule).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import UnsupportedOpError
from ..ir import Graph
from .graphutil import is_spiking
from .latency import compute_latency
from .loihi_layers import identity_synapse, layers, or_neuron

#: the largest synaptic delay both Loihi chips hold (loihi.md: 6 bits; netx clamps to 62)
MAX_DELAY = 62


def dense_holds_delays(node: Any) -> bool:
    """Lava's Dense becomes DelayDense with a delay; its Conv has none."""
    return node.op in ("linear", "affine")


@dataclass(frozen=True)
class Alignment:
    graph: Graph
    relays: dict[str, tuple[str, ...]]  # synapse -> relay neurons in front of it, source first

    def describe(self) -> list[str]:
        return [f"synapse {s!r}: {len(r)} relay neuron layer(s) {list(r)} (a synapse that "
                "cannot hold the delay)" for s, r in sorted(self.relays.items())]


def align_paths(g: Graph, *, binary_sources: frozenset[str] = frozenset(),
                holds_delay: Callable[[Any], bool] = dense_holds_delays,
                max_delay: int = MAX_DELAY) -> Alignment:
    """Insert relay neurons wherever a synapse needs a delay it cannot hold (module docstring).

    ``binary_sources``: graph inputs known to carry 0/1 spikes (spiking layers always do).
    """
    lays = layers(g)
    lat = compute_latency(g, lays)
    ed = g.edit()
    relays: dict[str, tuple[str, ...]] = {}
    for lay in lays:
        for s in lay.synapses:
            d = lat.delays[s.name]
            held = min(d, max_delay) if holds_delay(g.nodes[s.name]) else 0
            if d - held <= 0 or s.name in lat.recurrent:
                continue
            _check_binary(g, s.name, s.source, d, binary_sources)
            relays[s.name] = _relay_chain(g, ed, s.name, d - held)
    return Alignment(ed.finish() if relays else g, relays)


def _check_binary(g: Graph, syn: str, src: str, d: int, binary: frozenset[str]) -> None:
    if is_spiking(g.nodes[src]) or src in binary:
        return
    raise UnsupportedOpError(
        f"synapse {syn!r} needs a delay of {d} step(s) to align path latencies (another path "
        f"into its layer crosses more synapses), and it cannot hold one (Lava's Conv has no "
        f"delays); relay neurons would repeat its source {src!r}, but they carry binary spikes "
        "only and this source is not known to send them (give binary calibration or example "
        "input, or use a dense synapse on this path)")


def _relay_chain(g: Graph, ed: Any, syn: str, count: int) -> tuple[str, ...]:
    pred = g.predecessors(syn)[0]
    shape = g.nodes[pred].out_shape
    ident = identity_synapse(shape)
    if ident is None:
        raise UnsupportedOpError(
            f"synapse {syn!r} needs relay neurons to align path latencies, and relays exist "
            f"for flat or (C, H, W) sources only, not {shape}")
    ed.disconnect(pred, syn)
    names: list[str] = []
    for k in range(count):
        into, relay = ed.fresh_name(f"{syn}_relay{k}_in"), ed.fresh_name(f"{syn}_relay{k}")
        ed.add(into, ident).connect(pred, into)
        ed.add(relay, or_neuron(shape)).connect(into, relay)
        names.append(relay)
        pred = relay
    ed.connect(pred, syn)
    return tuple(names)
