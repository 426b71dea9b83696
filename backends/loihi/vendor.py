"""The ``vendor`` mapping: cores per layer chosen as Lava's Loihi 2 compiler chooses them.

Lava's Loihi 2 compiler (closed source, lava-loihi) prints its partition when it compiles a
netx network. lava-dl's PilotNet LIF benchmark notebook (``tutorials/lava/lib/dl/netx/
pilotnet_snn/benchmark.ipynb``, outputs as committed in lava-dl b9e3691, 2023-01-10) shows it
for the network snnc reproduces bit for bit (74 cores), and the PilotNet SDNN notebook of the
same commit for a network with the same layer shapes (61 cores, no input layer) [M]. Read off
those tables (docs/DESIGN.md, "vendor mapping"):

- **(C, H, W) layers** (conv outputs and the image-shaped input layer) are cut along W only:
  every core holds ``w`` whole columns (all H rows, all C channels), ``w`` the largest power of
  two whose block has fewer than ``CONV_NEURONS`` (4,096) neurons. This reproduces all six
  layers of the table: Conv(16, 66, 3), (4, 32, 24), (4, 15, 36), (8, 7, 48), (8, 4, 64),
  (16, 2, 64); blocks of 3,168 neurons are used and none of 4,096 (conv 5 would take 32
  columns, 4,096 neurons, on one core; the compiler used two). The table's ``AxonIn`` of a conv
  core is 1-2: a Loihi 2 conv core receives one message per presynaptic spike and expands the
  kernel itself, so the input-axon limit does not bind conv synapses here.
- **Flat (dense) layers**: synaptic memory per core is counted as the compiler's ``SynMem``
  register: per input axon, ``ceil((neurons * (SIGNED_WEIGHT_BITS + DELAY_BITS) + HEADER_BITS)
  / WORD_BITS)`` 64-bit words, at most ``SYNMEM_WORDS`` (12,000, printed by the compiler) per
  core. A layer starts on one core; while its fullest core is over the limit, the core count is
  multiplied by ceil(allocation / limit) and the neurons split evenly (the compiler's log:
  "Violation ... SynMem allocation=61440 ... 12000", "max_ratio=6", then 12,800 on six cores,
  twelve cores in the table). With 9 weight bits (Lava's signed 8-bit weights) + 6 delay bits
  + a 32-bit axon header this gives every dense figure of the table exactly: 2,560 axons x 24
  words = 61,440 for 100 neurons, 2,560 x 5 = 12,800 for 17, and the ``Synapses`` column of
  the one-core layers (100 x 13 = 1,300 for 50 neurons, 50 x 3 = 150 for 10, 10 x 1 for 1).

These constants come from the compiler's table of this one network, so reproducing its 74 cores
checks the implementation, not a prediction; the SDNN table (same shapes) agrees on every conv
and dense core count. A core the rule gives that breaks snnc's own limits (neurons, memory,
dense input axons) is split further by the compact partitioner.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from .partition import LayerCost, partition

CONV_NEURONS = 4096  # a conv core holds fewer neurons than this (table: 3,168 used, 4,096 not)
SYNMEM_WORDS = 12000  # the compiler's SynMem register limit per core (printed) [M]
WORD_BITS = 64
SIGNED_WEIGHT_BITS = 9  # Lava's 8-bit weight magnitude + sign
DELAY_BITS = 6  # Loihi 2's delay field (shared/reference/loihi.md section 2)
HEADER_BITS = 32  # per input axon (snnc's axon_header_bits)


def dense_words(neurons: int, axons: int) -> int:
    """The compiler's SynMem words of a dense block: ``axons`` input axons into ``neurons``."""
    if neurons <= 0 or axons <= 0:
        return 0
    per_axon = neurons * (SIGNED_WEIGHT_BITS + DELAY_BITS) + HEADER_BITS
    return axons * math.ceil(per_axon / WORD_BITS)


def column_width(shape: tuple[int, ...]) -> int:
    """W columns per core of a (C, H, W) layer: the largest power of two with a block of
    fewer than ``CONV_NEURONS`` neurons (at least 1, at most W)."""
    c, h, w = shape
    k = 1
    while 2 * k <= w and 2 * k * h * c < CONV_NEURONS:
        k *= 2
    return k


def _even(n: int, k: int) -> list[tuple[int, int]]:
    edges = np.linspace(0, n, k + 1).round().astype(int)
    return list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))


def dense_ranges(cost: LayerCost) -> list[tuple[int, int]]:
    """The compiler's dense split (module docstring): multiply the cores by the worst core's
    ceil(SynMem / limit) until every core fits. Every presynaptic neuron is an input axon of
    every core (the compiler's 2,560 for PilotNet's first dense layer on six cores, whose
    weights are 73 % zero)."""
    k = 1
    while True:
        ranges = _even(cost.size, k)
        worst = max(sum(dense_words(b - a, s.conn.n_in) for s in cost.syns) for a, b in ranges)
        ratio = math.ceil(worst / SYNMEM_WORDS)
        if ratio <= 1 or k >= cost.size:
            return ranges
        k = min(k * ratio, cost.size)


def _fits_snnc(cost: LayerCost, a: int, b: int, conv: bool) -> bool:
    n, lim = cost.need(a, b), cost.limits()
    axons_ok = conv or n.axons <= lim.axons
    return n.neurons <= lim.neurons and n.bits <= lim.bits and axons_ok


def vendor_ranges(cost: LayerCost, shape: tuple[int, ...]) -> list[tuple[int, int]]:
    """Per-core (start, stop) ranges of one layer (positions in ``whc`` order for 3-D layers)."""
    conv = len(shape) == 3
    if conv:
        block = column_width(shape) * shape[0] * shape[1]
        ranges = [(a, min(a + block, cost.size)) for a in range(0, cost.size, block)]
    else:
        ranges = dense_ranges(cost)
    out = []
    for a, b in ranges:
        if _fits_snnc(cost, a, b, conv):
            out.append((a, b))
        else:  # snnc's own limits: the compact partitioner on this range
            sub = copy.copy(cost)  # same synapses and neuron state, positions a:b only
            sub.pos, sub._blocks = cost.pos[a:b], {}
            out += [(a + x, a + y) for x, y in partition(sub)]
    return out
