"""Core-to-core traffic of each synapse node, summed while its count table is made column by
column (``Connectivity.core_columns``), so the (n_in, cores) table of a large conv is never
held whole.

``SynTraffic`` holds what the mapper and the worst-case report need of a synapse's
``pre_core_counts`` table ``cnt`` (n_in, K) on a program: the synapses into each target core
(``cnt.sum(0)``), and per source core s and target core k the inputs of s with at least one
synapse into k (``(cnt[src == s] > 0).sum(0)``); ``reach`` counts, per input, the target cores
it sends to (``(cnt > 0).sum(1)``, the output edges the fan-out split limits). All integer
sums: the same numbers as from the whole table.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from .program import HOST, ChipProgram


@dataclass(frozen=True)
class SynTraffic:
    scores: np.ndarray  # (Ks,) sorted source core ids (HOST for the host's inputs)
    synapses: np.ndarray  # (K,) non-zero synapses into each target core
    messages: np.ndarray  # (Ks, K) inputs of source core s that reach target core k
    reach: np.ndarray  # (n_in,) target cores each input reaches


def syn_traffic(conn: Any, core_of_post: np.ndarray, n_cores: int,
                src_core: np.ndarray | None = None) -> SynTraffic:
    """The traffic of ``conn`` (a ``Connectivity``) when post neuron j lies on local core
    ``core_of_post[j]`` of ``n_cores`` and input i on ``src_core[i]`` (None: all HOST)."""
    if src_core is None:
        src_core = np.full(conn.n_in, HOST, np.int64)
    scores, inv = np.unique(src_core, return_inverse=True)
    ks = len(scores)
    syn = np.zeros(n_cores, np.int64)
    msg = np.zeros((ks, n_cores), np.int64)
    reach = np.zeros(conn.n_in, np.int64)
    for k, col in conn.core_columns(core_of_post, n_cores):
        hit = col > 0
        syn[k] = col.sum()
        msg[:, k] = np.bincount(inv[hit], minlength=ks)
        reach += hit
    return SynTraffic(scores, syn, msg, reach)


def program_traffic(program: ChipProgram, synapses: dict[str, tuple[str, str]]
                    ) -> dict[str, SynTraffic]:
    """``syn_traffic`` of every synapse (name -> (source, target) layer) on ``program``'s
    cores (source cores are global ids, target cores local to the target layer)."""
    out = {}
    for s, (src, tgt) in synapses.items():
        tcores = np.asarray(program.layers[tgt].cores)
        local = program.core_of_neuron(tgt) - tcores[0]
        conn = program.connectivity(s)
        scores = program.core_of_neuron(src) if src in program.layers else None
        out[s] = syn_traffic(conn, local, len(tcores), scores)
    return out


#: the mapper's summaries of the programs it returned, by id while the program lives
#: (a ChipProgram compares by value and is not hashable)
_KNOWN: dict[int, tuple[weakref.ref, dict[str, SynTraffic]]] = {}


def remember(program: ChipProgram, per_syn: dict[str, SynTraffic]) -> ChipProgram:
    """Keep ``per_syn`` (``program_traffic`` of a program with the same neuron-to-core
    assignment: placement moves cores, not neurons) for ``traffic_of(program)``."""
    _KNOWN[id(program)] = (weakref.ref(program), per_syn)
    weakref.finalize(program, _KNOWN.pop, id(program), None)
    return program


def traffic_of(program: ChipProgram, synapses: dict[str, tuple[str, str]]
               ) -> dict[str, SynTraffic]:
    """``program_traffic(program, synapses)``, or what the mapper remembered of it."""
    ref, known = _KNOWN.get(id(program), (None, {}))
    if ref is not None and ref() is program and all(s in known for s in synapses):
        return {s: known[s] for s in synapses}
    return program_traffic(program, synapses)
