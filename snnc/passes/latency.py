"""Per-layer latency of a lowered graph, and the synaptic delays that align it with the float one.

Float ops take no time; each Lava synapse adds one step (loihi.md §3.1). With D(n) the step
offset of node n's output in the lowered graph relative to the float graph:

    D(input) = 0,   D(flatten/reshape/output) = D(its input) (- 1 on an edge the float
    schedule marks delayed, i.e. reads from the previous step),
    D(neuron) = max over its synapses of D(source) + 1 (+ 0 for a recurrent synapse),

and a forward synapse whose source lags gets ``delay = D(neuron) - D(source) - 1`` (a Lava
DelayDense delay d arrives d + 1 steps after the spike) so that every input of a neuron arrives
in the same lowered step as in the float graph. A recurrent synapse (an edge the float schedule
reads from the previous step) needs ``delay = D(neuron) - D(source)``: 0 for a neuron feeding
itself. D is the longest path under these constraints (a fixed point over the layers); a loop
whose constraints keep growing (a float recurrence with a one-step delay through several
synapses) has no Loihi equivalent. Lowered step ``t + D(n)`` of node n corresponds to float
step ``t``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UnsupportedOpError
from ..ir import Graph
from ..ir.traits import Trait, has
from .loihi_layers import Layer


@dataclass(frozen=True)
class Latency:
    depth: dict[str, int]  # D(n) for inputs, neurons, outputs and wiring
    delays: dict[str, int]  # synapse -> delay in steps (0 = plain Dense/Conv)
    recurrent: frozenset[str]  # synapses the float schedule reads from the previous step


def _is_back(g: Graph, delayed: frozenset[tuple[str, str]], syn: str) -> bool:
    cur = syn
    while True:
        preds = g.predecessors(cur)
        if not preds:
            return False
        if (preds[0], cur) in delayed:
            return True
        if not has(g.nodes[preds[0]], Trait.WIRING):
            return False
        cur = preds[0]


def compute_latency(g: Graph, lays: list[Layer]) -> Latency:
    """D(n) and synapse delays for a normalized float graph (see the module docstring)."""
    sched = g.schedule()
    back = {s.name: _is_back(g, sched.delayed, s.name) for lay in lays for s in lay.synapses}
    depth: dict[str, int] = {n: 0 for n in g.inputs}
    depth.update({lay.neuron: 1 for lay in lays})
    for _ in range(len(lays) + 1):  # longest path; a loop that keeps growing cannot be kept
        changed = []
        for lay in lays:
            need = max((depth[s.source] + (0 if back[s.name] else 1) for s in lay.synapses),
                       default=1)
            if need > depth[lay.neuron]:
                depth[lay.neuron] = need
                changed.append(lay.neuron)
        if not changed:
            break
    else:
        raise UnsupportedOpError(
            f"the recurrent loop through {sorted(changed)} has a one-step delay in the float "
            "model but spans several synapses, each of which takes a step on Loihi; make the "
            "recurrence a synapse from a layer to itself")
    delays = {s.name: depth[lay.neuron] - depth[s.source] - (0 if back[s.name] else 1)
              for lay in lays for s in lay.synapses}
    for name in sched.order:
        if has(g.nodes[name], Trait.WIRING) or g.nodes[name].op == "output":
            _wiring_depth(g, name, sched.delayed, depth)
    return Latency(depth, delays, frozenset(k for k, v in back.items() if v))


def _wiring_depth(g: Graph, name: str, delayed: frozenset[tuple[str, str]],
                  depth: dict[str, int]) -> int:
    """D of a flatten/reshape/output: its input's, minus one when the float schedule reads the
    input's previous value (an output of a recurrent layer records the previous step)."""
    if name not in depth:
        preds = g.predecessors(name)
        if not preds:
            depth[name] = 0
        else:
            p = preds[0]
            d = depth[p] if p in depth else _wiring_depth(g, p, delayed, depth)
            depth[name] = d - int((p, name) in delayed)
    return depth[name]
