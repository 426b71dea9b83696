"""Core-to-core traffic of each synapse node, summed while its count table is made column by
column (``Connectivity.core_columns``), so the (n_in, cores) table of a large conv is never
held whole.

``SynTraffic`` holds what the mapper and the worst-case report need of a synapse's
``pre_core_counts`` table ``cnt`` (n_in, K) on a program: the synapses into each target core
(``cnt.sum(0)``), and per source core s and target core k the inputs of s with at least one
synapse into k (``(cnt[src == s] > 0).sum(0)``). ``CoreHits.reach`` counts, per input, the
target cores it sends to (``(cnt > 0).sum(1)``, the output edges the fan-out split limits); the
summary does not keep it (n_in int64s per synapse, 4 MB on the ResNet-18-sized chain, that no
later stage reads). All integer sums: the same numbers as from the whole table.
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


@dataclass(frozen=True)
class CoreHits:
    """What a synapse sends to the cores of one partition of its target layer, whatever the
    source cores: synapses into each core, and the inputs with a synapse into each (sorted)."""
    synapses: np.ndarray  # (K,)
    hits: tuple[np.ndarray, ...]  # K arrays of input indices (the smallest unsigned dtype)

    def reach(self, n_in: int) -> np.ndarray:
        if not self.hits:
            return np.zeros(n_in, np.int64)
        return np.bincount(np.concatenate(self.hits), minlength=n_in).astype(np.int64)


#: (synapse name, the target layer's core ranges) -> CoreHits, for one mapping run
HitCache = dict[tuple[str, tuple[tuple[int, int], ...]], CoreHits]


def core_hits(conn: Any, core_of_post: np.ndarray, n_cores: int) -> CoreHits:
    """``CoreHits`` of ``conn`` (a ``Connectivity``) when post neuron j lies on local core
    ``core_of_post[j]`` of ``n_cores``."""
    syn = np.zeros(n_cores, np.int64)
    small = np.min_scalar_type(max(conn.n_in - 1, 0))  # unsigned: indices are kept per core
    hits = [np.zeros(0, small)] * n_cores
    for k, col in conn.core_columns(core_of_post, n_cores):
        syn[k] = col.sum()
        hits[k] = np.flatnonzero(col).astype(small)
    return CoreHits(syn, tuple(hits))


def cached_hits(cache: HitCache | None, key: tuple[str, tuple[tuple[int, int], ...]],
                conn: Any, core_of_post: np.ndarray, n_cores: int) -> CoreHits:
    """``core_hits``, made once per key when a ``cache`` is given."""
    if cache is None:
        return core_hits(conn, core_of_post, n_cores)
    if key not in cache:
        cache[key] = core_hits(conn, core_of_post, n_cores)
    return cache[key]


def syn_traffic(conn: Any, core_of_post: np.ndarray, n_cores: int,
                src_core: np.ndarray | None = None, hits: CoreHits | None = None
                ) -> SynTraffic:
    """The traffic of ``conn`` (a ``Connectivity``) when post neuron j lies on local core
    ``core_of_post[j]`` of ``n_cores`` and input i on ``src_core[i]`` (None: all HOST);
    ``hits``: its ``core_hits`` on these cores, if known."""
    hits = core_hits(conn, core_of_post, n_cores) if hits is None else hits
    if src_core is None:
        src_core = np.full(conn.n_in, HOST, np.int64)
    scores, inv = np.unique(src_core, return_inverse=True)
    inv = inv.ravel()
    msg = np.zeros((len(scores), n_cores), np.int64)
    for k, idx in enumerate(hits.hits):
        msg[:, k] = np.bincount(inv[idx], minlength=len(scores))
    return SynTraffic(scores, hits.synapses, msg)


def layer_ranges(program: ChipProgram, layer: str) -> tuple[tuple[int, int], ...]:
    """The (start, stop) mapping-position ranges of ``layer``'s cores, in core order."""
    return tuple((program.cores[c].start, program.cores[c].stop)
                 for c in program.layers[layer].cores)


def program_traffic(program: ChipProgram, synapses: dict[str, tuple[str, str]],
                    cache: HitCache | None = None, conns: dict[str, Any] | None = None
                    ) -> dict[str, SynTraffic]:
    """``syn_traffic`` of every synapse (name -> (source, target) layer) on ``program``'s
    cores (source cores are global ids, target cores local to the target layer); ``conns``:
    the synapses' ``Connectivity`` objects, if the caller has them. The ``cache`` is used up:
    entries of other partitions are dropped first, and each synapse's hits once its traffic is
    made (the summary keeps none of them), so the hits of one partition are the most held."""
    keys = {s: (s, layer_ranges(program, tgt)) for s, (_, tgt) in synapses.items()}
    if cache is not None:
        for dead in set(cache) - set(keys.values()):
            del cache[dead]
    out = {}
    for s, (src, tgt) in synapses.items():
        tcores = np.asarray(program.layers[tgt].cores)
        local = program.core_of_neuron(tgt) - tcores[0]
        conn = conns[s] if conns is not None and s in conns else program.connectivity(s)
        hits = cached_hits(cache, keys[s], conn, local, len(tcores))
        scores = program.core_of_neuron(src) if src in program.layers else None
        out[s] = syn_traffic(conn, local, len(tcores), scores, hits)
        if cache is not None:
            cache.pop(keys[s], None)
        del hits
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
