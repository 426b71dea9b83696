"""Per-layer latency of a lowered graph, and the synaptic delays that align it with the float one.

Float ops take no time; each Lava synapse adds one step (loihi.md §3.1). With D(n) the step
offset of node n's output in the lowered graph relative to the float graph:

    D(input) = 0,   D(flatten/reshape) = D(its input),
    D(neuron) = max over its forward synapses of D(source) + 1,   D(output) = D(its input),

and a forward synapse whose source lags gets ``delay = D(neuron) - D(source) - 1`` (a Lava
DelayDense delay d arrives d + 1 steps after the spike) so that every input of a neuron arrives
in the same lowered step as in the float graph. A recurrent synapse (an edge the float schedule
reads from the previous step) needs ``delay = D(neuron) - D(source)``: 0 for a neuron feeding
itself. Lowered step ``t + D(n)`` of node n corresponds to float step ``t``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UnsupportedOpError
from ..ir import Graph
from .graphutil import WIRING
from .loihi_layers import Layer


@dataclass(frozen=True)
class Latency:
    depth: dict[str, int]  # D(n) for inputs, neurons, outputs and wiring
    delays: dict[str, int]  # synapse -> delay in steps (0 = plain Dense/Conv)


def _is_back(g: Graph, delayed: frozenset[tuple[str, str]], syn: str) -> bool:
    cur = syn
    while True:
        preds = g.predecessors(cur)
        if not preds:
            return False
        if (preds[0], cur) in delayed:
            return True
        if g.nodes[preds[0]].op not in WIRING:
            return False
        cur = preds[0]


def compute_latency(g: Graph, lays: list[Layer]) -> Latency:
    """D(n) and synapse delays for a normalized float graph (see the module docstring)."""
    sched = g.schedule()
    by_neuron = {layer.neuron: layer for layer in lays}
    depth: dict[str, int] = {}
    back: dict[str, bool] = {}
    for name in sched.order:
        op = g.nodes[name].op
        if op == "input":
            depth[name] = 0
        elif name in by_neuron:
            fwd = []
            for s in by_neuron[name].synapses:
                back[s.name] = _is_back(g, sched.delayed, s.name)
                if not back[s.name]:
                    fwd.append(depth[s.source] + 1)
            depth[name] = max(fwd, default=1)
        elif op in (*WIRING, "output"):
            preds = g.predecessors(name)
            if preds and preds[0] in depth:
                depth[name] = depth[preds[0]]
    delays = {}
    for layer in lays:
        for s in layer.synapses:
            d = depth[layer.neuron] - depth[s.source] - (0 if back[s.name] else 1)
            if d < 0:
                raise UnsupportedOpError(
                    f"recurrent synapse {s.name!r} from {s.source!r} into {layer.neuron!r}: the "
                    f"source is {-d} step(s) later in the Loihi pipeline than its target, so the "
                    "recurrence cannot keep the float model's one-step delay")
            delays[s.name] = d
    for name in sched.order:  # outputs fed through wiring from a later node
        if name not in depth and g.nodes[name].op in (*WIRING, "output"):
            preds = g.predecessors(name)
            depth[name] = depth.get(preds[0], 0) if preds else 0
    return Latency(depth, delays)
