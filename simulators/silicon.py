"""``--fidelity silicon``: the Loihi 2 behaviours that Lava's CPU models (``fixed_pt``) leave out.

lava-dl ships Loihi 2 recordings of PilotNet LIF (``gts/pilotnet_lif``: every layer's spikes,
u and v over 24 steps, netx ``reset_interval=16``). ``fixed_pt`` (Lava's semantics, snnc's
default) matches them at equal indices only until the first periodic reset reaches a layer (layer
k from step 16 + k). Two mechanisms explain every difference in the first ten layers
(docs/loihi-sim.md gives the evidence):

1. **Reset period.** The chip's periodic reset (Lava's ``LIFReset``) comes every
   ``reset_interval + 1`` steps, at the same phase: with ``reset_interval = 16`` the input
   layer's spikes from step 17 on repeat those from step 0 (period 17, not 16), and every layer
   matches all 24 steps once its interval is 17. ``silicon_graph`` adds the step.
2. **v readout after a spike.** A neuron that spiked in a step reads v = 128 (2 << 6) after it,
   where Lava's model has 0; the next steps evolve from v = 0 (the spikes stay equal), so it is
   a read-out value, not state. ``silicon_readout`` writes it into the ``.v`` probes.

The last layer of PilotNet LIF (``fc-3``, recorded as 25 float steps) departs from both modes
from step 8: its recording is of another run (``fixed_pt`` with netx reset_offset 15 equals it
at every step), which no single run also matching layers 0-9 can reproduce (docs/loihi-sim.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import SnncError
from ..ir import Graph
from .result import SimResult

FIDELITIES = ("fixed_pt", "silicon")
#: what the chip reads for v of a neuron that spiked in the step (Lava's model: 0)
SPIKED_V_READOUT = 128


def check_fidelity(fidelity: str) -> str:
    if fidelity not in FIDELITIES:
        raise SnncError(f"fidelity {fidelity!r}: choose one of {', '.join(FIDELITIES)}")
    return fidelity


def silicon_graph(graph: Graph) -> Graph:
    """``graph`` with every periodically reset ``loihi.lif`` on the chip's period (interval + 1,
    same phase)."""
    edit, changed = graph.edit(), False
    for name, node in graph.nodes.items():
        if node.op == "loihi.lif" and int(node.reset_interval) > 0:
            edit = edit.replace(name, node.replace(reset_interval=int(node.reset_interval) + 1))
            changed = True
    return edit.finish() if changed else graph


def silicon_subject(subject: Any) -> Any:
    """A graph or ``ChipProgram`` (same mapping, silicon graph) for a silicon run."""
    if isinstance(subject, Graph):
        return silicon_graph(subject)
    if hasattr(subject, "graph") and dataclasses.is_dataclass(subject):
        return dataclasses.replace(subject, graph=silicon_graph(subject.graph))
    raise SnncError(f"--fidelity silicon cannot adjust a {type(subject).__name__}")


def lif_v_probes(graph: Graph, probes: Iterable[str]) -> list[str]:
    """The ``layer.v`` probes of ``loihi.lif`` layers among ``probes``."""
    out = []
    for p in probes:
        node, _, var = p.rpartition(".")
        if var == "v" and node in graph.nodes and graph.nodes[node].op == "loihi.lif":
            out.append(p)
    return out


def probes_needed(graph: Graph, probes: Iterable[str]) -> tuple[str, ...]:
    """``probes`` plus the spikes that the v readout needs."""
    probes = tuple(probes)
    extra = [p[:-2] + ".s" for p in lif_v_probes(graph, probes) if p[:-2] + ".s" not in probes]
    return probes + tuple(extra)


def silicon_readout(graph: Graph, result: SimResult, requested: Iterable[str]) -> SimResult:
    """``result`` with v = ``SPIKED_V_READOUT`` where the layer spiked, and only the
    ``requested`` probes."""
    requested = tuple(requested)
    probes = dict(result.probes)
    for p in lif_v_probes(graph, requested):
        v = np.array(probes[p], copy=True)
        v[np.asarray(probes[p[:-2] + ".s"]) != 0] = SPIKED_V_READOUT
        probes[p] = v
    return SimResult(result.outputs, {p: probes[p] for p in requested}, result.counters)
