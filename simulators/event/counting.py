"""Turn one chunk of simulated activity into per-core counters (``counters.py`` conventions).

For each synapse node, a precomputed integer table ``F`` (n_in, cols) holds what one event of
input i costs: columns = [synapses into each target core | messages into each target core | per
source core: messages out, E-W hops, N-S hops, chip hops]. Each chunk adds the rows of the inputs
that were non-zero (``gather_counts``): work proportional to the events, as on the chip.
Graded messages (a synapse with ``num_message_bits`` > 0 reads them) add that many payload bits
per message to the sending core's ``payload_bits`` (the host's to ``host_payload_bits``).
Learning counts (``syn_updates``, ``learning_epochs``) come per plastic synapse and target core
from ``plastic.py`` and add ``syn_update`` time to the core's incoming-message work (a core's
time: own-neuron work + incoming work, or their maximum with ``[costs] core_overlap``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...backends.loihi.chips import OWN_EVENTS
from ...backends.loihi.program import HOST, ChipProgram
from .counters import EVENT_OF, HOST_FIELDS, Counters, SampleTotals

SYN_FIELD = {"dense": "syn_ops_dense", "sparse": "syn_ops_sparse", "conv": "syn_ops_conv"}
FIELDS = tuple(EVENT_OF)
IDX = {f: i for i, f in enumerate(FIELDS)}
SRC_FIELDS = ("axon_out", "hops_ew", "hops_ns", "chip_hops")  # counted on the sending core


@dataclass(frozen=True)
class SynCount:
    synapse: str
    source: str
    field: str
    tcores: np.ndarray  # global ids of the target layer's cores, (K,)
    scores: np.ndarray  # source core ids (HOST for input), (Ks,)
    F: np.ndarray  # (n_in, 2K + 4Ks) int64
    payload_bits: int = 0  # bits a graded message into this synapse carries (0: binary spikes)


def route_latency(program: ChipProgram) -> dict[int, float]:
    """Per source core (HOST included): the longest of its routes' NoC latencies (ns)."""
    t = program.chip.costs.time_ns
    lat: dict[int, float] = {}
    for r in program.routes:
        ns = r.hops_ew * t["hop_ew"] + r.hops_ns * t["hop_ns"] + r.chip_hops * t["chip_hop"]
        lat[r.src] = max(lat.get(r.src, 0.0), ns)
    return lat


def syn_count(program: ChipProgram, syn: str, source: str, target: str,
              connectivity: Any = None) -> SynCount:
    """The counter table of synapse ``syn`` (``connectivity``: its ``Connectivity``, if known)."""
    lm = program.layers[target]
    tcores = np.asarray(lm.cores, np.int64)
    local = program.core_of_neuron(target) - tcores[0]
    conn = program.connectivity(syn) if connectivity is None else connectivity
    cnt = conn.pre_core_counts(local, len(tcores))
    n_in, k = cnt.shape
    src_core = (program.core_of_neuron(source) if source in program.layers
                else np.full(n_in, HOST, np.int64))
    scores, inv = np.unique(src_core, return_inverse=True)
    hops = program.hops_between(scores, tcores)  # (Ks, K, 3)
    # integer columns written in place: [cnt | msg | per source core: messages, hops x 3]
    ks = len(scores)
    F = np.zeros((n_in, 2 * k + 4 * ks), np.int64)
    F[:, :k] = cnt
    msg = F[:, k:2 * k]
    np.greater(cnt, 0, out=msg, casting="unsafe")
    rows = np.arange(n_in)
    F[rows, 2 * k + inv] = msg.sum(1)
    order = np.argsort(inv, kind="stable")  # inputs grouped by their source core
    bounds = np.searchsorted(inv[order], np.arange(ks + 1))
    for s in range(ks):  # hops of each input's messages
        mine = order[bounds[s]:bounds[s + 1]]
        per = msg[mine] @ hops[s]  # (n, 3)
        for i in range(3):
            F[mine, 2 * k + (i + 1) * ks + s] = per[:, i]
    fmt = next(b.fmt for b in program.blocks if b.synapse == syn)
    bits = int(program.graph.nodes[syn].num_message_bits)
    return SynCount(syn, source, SYN_FIELD[fmt], tcores, scores, F, bits)


def syn_totals(program: ChipProgram, syn: str, source: str, target: str,
               traffic: Any) -> tuple[SynCount, np.ndarray]:
    """``syn_count``'s table without its rows (``F`` has none) and the sum of its rows
    (2K + 4Ks,), from the synapse's ``backends.loihi.traffic.SynTraffic``: what every input
    spiking once costs, without the (n_in, 2K + 4Ks) table."""
    tcores = np.asarray(program.layers[target].cores, np.int64)
    msg = traffic.messages  # (Ks, K)
    # hops_between's (Ks, K) planes one at a time: 14 MB less at once on a 500 x 500 pair
    per_hop = [(msg * h).sum(1) for h in program.hop_planes(traffic.scores, tcores)]
    total = np.concatenate([traffic.synapses, msg.sum(0), msg.sum(1), *per_hop])
    fmt = next(b.fmt for b in program.blocks if b.synapse == syn)
    bits = int(program.graph.nodes[syn].num_message_bits)
    empty = np.zeros((0, total.size), np.int64)
    return SynCount(syn, source, SYN_FIELD[fmt], tcores, traffic.scores, empty, bits), total


def syn_tables(program: ChipProgram,
               connectivity: Callable[[ChipProgram, str], Any] | None = None
               ) -> dict[str, SynCount]:
    """The counter table of every synapse of ``program`` (``connectivity(program, name)``
    gives a synapse's ``Connectivity``, for a caller that caches them)."""
    return {s: syn_count(program, s, src, tgt,
                         None if connectivity is None else connectivity(program, s))
            for s, (src, tgt) in synapse_pairs(program)}


class CounterPlan:
    """Per-chunk accumulation of counters for one program and batch size (``tables``: the
    program's ``syn_tables``, ``latency`` its ``route_latency``, made here if not given: a
    Python loop over the routes, 23 ms on a 233-core program, which a caller with a
    ``ProgramCache`` pays once)."""

    def __init__(self, program: ChipProgram, steps: int, batch: int, kern: Any,
                 tables: Mapping[str, SynCount] | None = None,
                 latency: Mapping[int, float] | None = None) -> None:
        self.program, self.batch, self.k = program, batch, kern
        self.n = program.n_cores
        self.syns: Mapping[str, SynCount] = syn_tables(program) if tables is None else tables
        self.neurons = np.array([c.neurons for c in program.cores], np.int64)
        costs = program.chip.costs
        # serial time per event on a core; hops are paid in the NoC term instead
        self.weights = np.array([0.0 if f in SRC_FIELDS[1:] else costs.time_ns[EVENT_OF[f]]
                                 for f in FIELDS])
        own = np.array([EVENT_OF[f] in OWN_EVENTS for f in FIELDS])
        self.w_own, self.w_in = self.weights * own, self.weights * ~own
        self.costs = costs
        lat = route_latency(program) if latency is None else latency
        self.core_lat = np.array([lat.get(c, 0.0) for c in range(self.n)])
        self.update_ns = costs.time_ns.get("syn_update", 0.0)
        self.host_lat = lat.get(HOST, 0.0)
        self.barrier_ns = costs.barrier(program.n_tiles, program.n_chips)
        self.window(steps)

    def window(self, steps: int) -> Counters:
        """Start new counters of ``steps`` steps (a streamed run's next window); returns them."""
        p = self.program
        self.counters = Counters.zeros(
            steps, self.n, self.batch, self.barrier_ns, p.chip.name,
            [c.layer for c in p.cores], [c.chip for c in p.cores],
            per_sample=SampleTotals.zeros(steps, self.batch, FIELDS + HOST_FIELDS))
        return self.counters

    def chunk(self, t0: int, T: int, syn_counts: dict[str, np.ndarray],
              lif_counts: dict[str, tuple],
              learn_counts: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        """Add a chunk of T steps: ``syn_counts`` synapse -> (T, B, C) sums of its counter table
        rows over the events; ``lif_counts`` layer -> (active (T, B, K), spikes (T, B, K));
        ``learn_counts`` plastic synapse -> (updates (T, K), epochs (T, K)) on its target's
        K cores (batch 1)."""
        learn = np.zeros((2, T, self.n), np.int64)
        for name, (upd, ep) in (learn_counts or {}).items():
            ids = self.syns[name].tcores
            learn[0][:, ids] += upd
            learn[1][:, ids] += ep
        per = np.zeros((len(FIELDS), T, self.batch, self.n), np.int64)
        host = np.zeros((4, T, self.batch), np.int64)
        self.payload = np.zeros((T, self.n), np.int64)
        self.host_payload = np.zeros(T, np.int64)
        for name, (act, spk) in lif_counts.items():
            ids = np.asarray(self.program.layers[name].cores)
            per[IDX["neurons_active"]][:, :, ids] += act
            per[IDX["neurons_inactive"]][:, :, ids] += self.neurons[ids] - act
            per[IDX["spikes_out"]][:, :, ids] += spk
        for name, r in syn_counts.items():
            self._synapse(self.syns[name], r, per, host)
        self._store(t0, T, per, host, learn)

    def _synapse(self, sc: SynCount, r: np.ndarray, per: np.ndarray, host: np.ndarray) -> None:
        T, B = r.shape[:2]
        k, ks = len(sc.tcores), len(sc.scores)
        per[IDX[sc.field]][:, :, sc.tcores] += r[:, :, :k]
        per[IDX["axon_in"]][:, :, sc.tcores] += r[:, :, k:2 * k]
        src = np.moveaxis(r[:, :, 2 * k:].reshape(T, B, 4, ks), 2, 0)  # (4, T, B, Ks)
        on_chip = sc.scores != HOST
        if not on_chip.all():
            host += src[..., ~on_chip].sum(-1)
            self.host_payload += sc.payload_bits * src[0][..., ~on_chip].sum((1, 2))
        if on_chip.any():
            rows = [IDX[f] for f in SRC_FIELDS]
            for i, f in enumerate(rows):
                per[f][:, :, sc.scores[on_chip]] += src[i][..., on_chip]
            if sc.payload_bits:  # graded messages: each carries the payload's bits
                np.add.at(self.payload, (slice(None), sc.scores[on_chip]),
                          sc.payload_bits * src[0][..., on_chip].sum(1))

    def _store(self, t0: int, T: int, per: np.ndarray, host: np.ndarray,
               learn: np.ndarray) -> None:
        c = self.counters
        sl = slice(t0, t0 + T)
        # (T, B, n): own-neuron work and incoming-message work (+ learning), combined by the
        # chip's core model (their sum, or their maximum with core_overlap)
        core_ns = self.costs.core_time(np.tensordot(self.w_own, per, axes=1),
                                       np.tensordot(self.w_in, per, axes=1)
                                       + (learn[0] * self.update_ns)[:, None, :])
        c.syn_updates[sl] = learn[0]
        c.learning_epochs[sl] = learn[1]
        c.payload_bits[sl] = self.payload
        c.host_payload_bits[sl] = self.host_payload
        sent = per[IDX["axon_out"]] > 0
        noc = np.where(sent, self.core_lat, 0.0).max(2, initial=0.0)
        noc = np.maximum(noc, np.where(host[0] > 0, self.host_lat, 0.0))
        c.core_ns[sl] = core_ns.mean(1)
        c.noc_ns[sl] = noc.mean(1)
        c.step_ns[sl] = (core_ns.max(2, initial=0.0) + noc).mean(1) + c.barrier_ns
        # per sample, summed field by field (elementwise, so the same bits whatever the batch)
        mine = np.zeros(per.shape[1:])
        incoming = (learn[0] * self.update_ns)[:, None, :] + np.zeros(per.shape[1:])
        for i, (wo, wi) in enumerate(zip(self.w_own, self.w_in, strict=True)):
            if wo:
                mine += wo * per[i]
            if wi:
                incoming += wi * per[i]
        own = self.costs.core_time(mine, incoming)
        assert c.per_sample is not None  # built with it above
        c.per_sample.add(sl, per.sum((1, 3)), host.sum(1),
                         own.max(2, initial=0.0) + noc + c.barrier_ns)
        tot = per.sum(2)  # (F, T, n)
        for i, f in enumerate(FIELDS):
            getattr(c, f)[sl] = tot[i]
        htot = host.sum(2)
        for i, f in enumerate(HOST_FIELDS):
            getattr(c, f)[sl] = htot[i]


def synapse_pairs(program: ChipProgram) -> list[tuple[str, tuple[str, str]]]:
    """(synapse, (source, target)) of every synapse with blocks on ``program``, in block order."""
    seen: dict[str, tuple[str, str]] = {}
    for b in program.blocks:
        seen.setdefault(b.synapse, (b.source, b.target))
    return list(seen.items())
