"""Split one neuron layer into per-core ranges that respect a chip's per-core limits.

A core holds a contiguous range of the layer's mapping positions (see ``program.py``). Its needs:

- neurons: the range length, at most ``core.neurons``;
- input axons: distinct (synapse node, presynaptic neuron) pairs with a non-zero synapse into the
  range, at most ``core.input_axons``;
- memory bits, at most ``synapse_memory_bits`` (or ``shared_memory_bits``, which also holds
  ``neuron_state_bits`` per neuron, plus ``programmable_state_bits`` for a programmable neuron
  with a delayed subtract reset, which keeps its last spike; a sigma-delta neuron (graded spikes,
  Loihi 2) holds instead one ``neuron.state_bits`` word per state variable of Lava's model
  (``sdn_state_bits``) plus the LIF's parameter bits). Per synapse node and core, by
  storage format, with s = weight bits + delay bits + learning bits per synapse:

  =========  ==============================================================================
  dense      axons * (header + neurons * s)
  sparse     axons * header + synapses * (s + index bits)
  conv       axons * header + out-channels * (C_in / groups) * kH * kW * weight bits
             (chips with ``conv_weight_sharing``; otherwise stored as sparse)
  =========  ==============================================================================

  A dense node is stored ``dense`` when its density is at least ``dense_min_density``.

Plastic synapses (``loihi.plastic_dense``, Loihi 1's learning fields, shared/reference/loihi.md
§1.2) store every synapse of their matrix (``connectivity.py``), so they are dense unless a chip
sets ``dense_min_density`` above 1. Per synapse: the weight takes 8 magnitude bits (+ a sign bit
in the mixed sign mode: 9 b signed, the range learning can reach), plus ``TAG_1_BITS`` (tag t,
9 b signed) always, plus ``TAG_2_BITS`` (tag d, 8 b: Lava's range 0..255) when the rule has a
``dd``; no delay field (plastic synapses take no delays). On chips with shared memory
(``shared_memory_bits``, Loihi 2), where neuron state is counted too, a plastic block also holds
its traces: x1, x2 per input axon and y1, y2, y3 per post-synaptic neuron, ``TRACE_BITS`` (7)
each. Chips with dedicated synaptic memory (Loihi 1) keep traces outside it (not counted).

Ranges are found greedily (largest range that fits, by binary search from the previous core's
size), then evened out when an
equal split into as many cores fits too (``partition``: the fewest cores, "compact").

``balance.py`` then evens the work per core (the "balanced" mapping, Loihi 1's default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import ResourceError
from .chips import ChipSpec
from .connectivity import Connectivity
from .rules import weight_bits_of


@dataclass(frozen=True)
class Need:
    neurons: int
    axons: int
    bits: int


TAG_1_BITS = 9
TAG_2_BITS = 8
TRACE_BITS = 7
X_TRACES, Y_TRACES = 2, 3


@dataclass(frozen=True)
class SynInfo:
    name: str
    conn: Connectivity
    fmt: str
    wbits: int
    dbits: int
    lbits: int = 0  # learning fields per synapse (tags)
    plastic: bool = False
    src: str = ""  # the presynaptic layer or input (its activity drives this block's work)

    @property
    def bits(self) -> int:
        """Bits of one stored synapse, index excluded."""
        return self.wbits + self.dbits + self.lbits


def storage_format(conn: Connectivity, chip: ChipSpec) -> str:
    if conn.is_conv:
        return "conv"
    return "dense" if conn.density >= chip.synapse.dense_min_density else "sparse"


def syn_info(name: str, node: Any, chip: ChipSpec) -> SynInfo:
    conn = Connectivity(node)
    delays = getattr(node, "delays", None)
    dbits = chip.synapse.delay_bits if delays is not None and delays.size and delays.max() > 0 \
        else 0
    plastic = node.op == "loihi.plastic_dense"
    lbits = TAG_1_BITS + (TAG_2_BITS if node.dd.strip() else 0) if plastic else 0
    return SynInfo(name, conn, storage_format(conn, chip), weight_bits_of(node), dbits, lbits,
                   plastic)


#: the state a sigma-delta neuron keeps between steps (Lava's fixed_pt models; ``error`` only
#: with ``cum_error``)
SDN_STATE_VARS = {"loihi.delta": ("act", "residue"), "loihi.sigma_delta": ("sigma", "act",
                                                                          "residue"),
                  "loihi.sigma": ("sigma",)}


def sdn_state_bits(node: Any, chip: Any) -> int:
    """Neuron-state bits of one sigma-delta neuron: a ``state_bits`` word (24 on Loihi 2, the
    precision of Lava's sdn Vars) per state variable, plus the parameter bits a LIF neuron has
    beyond its u and v (``neuron_state_bits - 2 * state_bits``). An estimate [E]: Intel has not
    published the SDNN microcode's memory layout."""
    n_vars = len(SDN_STATE_VARS[node.op]) + (1 if getattr(node, "cum_error", False) else 0)
    param = max(chip.core.neuron_state_bits - 2 * chip.neuron.state_bits, 0)
    return n_vars * chip.neuron.state_bits + param


class LayerCost:
    """Resource needs of any range of one layer's mapping positions."""

    def __init__(self, name: str, positions: np.ndarray, syns: list[SynInfo], chip: ChipSpec,
                 neuron: Any = None):
        self.name, self.pos, self.syns, self.chip = name, positions, syns, chip
        # a programmable neuron with a delayed reset keeps its last spike: extra state bits
        delayed = neuron is not None and not getattr(neuron, "decay_reset", True)
        self.extra_state_bits = chip.neuron.programmable_state_bits if delayed else 0
        if neuron is not None and neuron.op in SDN_STATE_VARS:
            self.extra_state_bits = sdn_state_bits(neuron, chip) - chip.core.neuron_state_bits
        # int32: a neuron's fan-in is far below 2**31 (sums widen to int64)
        self.counts = [s.conn.fanin_counts().astype(np.int32) for s in syns]
        self._blocks: dict[tuple[int, int], list[tuple[int, int, int]]] = {}

    @property
    def size(self) -> int:
        return len(self.pos)

    def block(self, syn: int, rows: np.ndarray) -> tuple[int, int, int]:
        """(synapses, memory bits, input axons) of synapse node ``syn`` for post ``rows``."""
        s, c = self.syns[syn], self.chip.synapse
        axons = int(s.conn.fanin(rows).sum())
        nsyn = int(self.counts[syn][rows].sum())
        if s.fmt == "dense":
            bits = axons * (c.axon_header_bits + len(rows) * s.bits)
        elif s.fmt == "conv" and c.conv_weight_sharing:
            node = s.conn.node
            held = np.zeros(node.out_shape[0], bool)
            held[rows // int(np.prod(node.out_shape[1:]))] = True
            n_co = int(held.sum())
            bits = axons * c.axon_header_bits + n_co * int(np.prod(node.weight.shape[1:])) * s.wbits
        else:
            bits = axons * c.axon_header_bits + nsyn * (s.bits + c.index_bits)
        if s.plastic and self._shared:
            bits += TRACE_BITS * (X_TRACES * axons + Y_TRACES * len(rows))
        return nsyn, bits, axons

    @property
    def _shared(self) -> bool:
        """Synapses share memory with neuron state (and so with traces)."""
        return bool(self.chip.core.shared_memory_bits and not self.chip.core.synapse_memory_bits)

    def blocks(self, a: int, b: int) -> list[tuple[int, int, int]]:
        """``block`` of every synapse node for positions ``a:b``, made once per range (the
        partition search, balancing, work estimates and placement ask for the same ranges)."""
        key = (a, b)
        if key not in self._blocks:
            rows = self.pos[a:b]
            self._blocks[key] = [self.block(i, rows) for i in range(len(self.syns))]
        return self._blocks[key]

    def need(self, a: int, b: int) -> Need:
        blocks = self.blocks(a, b)
        bits = sum(x[1] for x in blocks)
        if self._shared:
            bits += (b - a) * (self.chip.core.neuron_state_bits + self.extra_state_bits)
        return Need(b - a, sum(x[2] for x in blocks), bits)

    def limits(self) -> Need:
        core = self.chip.core
        return Need(core.neurons, core.input_axons,
                    core.synapse_memory_bits or core.shared_memory_bits)

    def fits(self, a: int, b: int) -> bool:
        n, lim = self.need(a, b), self.limits()
        return n.neurons <= lim.neurons and n.axons <= lim.axons and n.bits <= lim.bits

    def error(self, a: int) -> ResourceError:
        n, lim = self.need(a, a + 1), self.limits()
        chip = self.chip.name
        if n.axons > lim.axons:
            return ResourceError(
                f"layer {self.name!r}: one neuron has a fan-in of {n.axons} input axons but a "
                f"{chip} core accepts {lim.axons} (over by {n.axons - lim.axons}). Prune its "
                f"incoming weights, use a smaller kernel or fewer input channels, or choose a "
                f"chip with more input axons per core (--chip my_chip.toml).")
        return ResourceError(
            f"layer {self.name!r}: one neuron needs {n.bits} bits of synaptic memory but a {chip} "
            f"core has {lim.bits} (over by {n.bits - lim.bits}). Use fewer weight bits "
            f"(quantize-loihi), prune weights, or choose a chip with more synaptic memory per "
            f"core ({'--chip loihi2' if chip == 'loihi1' else '--chip my_chip.toml'}).")


def _largest_fit(cost: LayerCost, a: int, guess: int = 0) -> int:
    """The largest b with positions a:b on one core. ``fits(a, b)`` only gets harder as b
    grows (every need is a sum or a union over the positions), so a ``guess`` (the previous
    core's size) that fits while one more does not is the answer the bisection finds."""
    hi = min(cost.size, a + cost.chip.core.neurons)
    if not cost.fits(a, a + 1):
        raise cost.error(a)
    if cost.fits(a, hi):
        return hi
    lo = a + 1  # fits; hi does not
    g = a + guess
    if lo < g < hi:
        if cost.fits(a, g):
            if not cost.fits(a, g + 1):
                return g
            lo = g + 1
        else:
            hi = g
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if cost.fits(a, mid):
            lo = mid
        else:
            hi = mid
    return lo


def partition(cost: LayerCost) -> list[tuple[int, int]]:
    """Contiguous (start, stop) ranges covering the layer, one per core."""
    ranges, a = [], 0
    while a < cost.size:
        b = _largest_fit(cost, a, ranges[-1][1] - ranges[-1][0] if ranges else 0)
        ranges.append((a, b))
        a = b
    k = len(ranges)
    if k > 1:
        edges = np.linspace(0, cost.size, k + 1).round().astype(int)
        even = list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))
        if all(cost.fits(x, y) for x, y in even):
            return even
    return ranges


def split_for_fanout(ranges: list[tuple[int, int]], per_pos: np.ndarray, limit: int,
                     layer: str, chip: str) -> list[tuple[int, int]]:
    """Split ranges whose total output edges (``per_pos`` per position) exceed ``limit``."""
    worst = int(per_pos.max(initial=0))
    if worst > limit:
        raise ResourceError(
            f"layer {layer!r}: one neuron sends to {worst} cores but a {chip} core has "
            f"{limit} output edges (over by {worst - limit}). Reduce that layer's fan-out or "
            f"map its targets onto fewer, fuller cores.")
    out = []
    for a, b in ranges:
        while a < b:
            csum = np.cumsum(per_pos[a:b])
            stop = a + int(np.searchsorted(csum, limit, side="right"))
            stop = max(stop, a + 1)
            out.append((a, min(stop, b)))
            a = min(stop, b)
    return out
