"""Balanced mapping: more cores for the layers whose cores carry more than the mean work.

``balance`` (the "balanced" mapping, Loihi 1's default) then gives layers whose per-core work is
above the network's mean more cores, so that no core dominates the step time: a core's work per
step is estimated from the chip's time table at the activity measured on the compile's
calibration input (``rates``: spikes per neuron per step of each layer and input), or, for what
was not measured, at an assumed ``ASSUMED_RATE`` (every neuron is updated every step):

    work(core) = sum over its stored synapses of rate(source) x t_syn_op[format]
                 + neurons x (t_neuron_active + rate(layer) x t_spike_out)
                 + sum over its blocks of input axons x rate(source) x t_axon_in

The mean is the network's total work over the compact core count
(``partition.partition``); a layer of work W gets
max(compact cores, ceil(W / mean)) cores, split so each holds about the same work, if the split
still fits every core limit (otherwise its compact ranges stay). The core count grows by at most
one per layer.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .partition import LayerCost

ASSUMED_RATE = 0.1  # spikes per neuron per step assumed for balancing when activity is unknown
Rates = dict[str, float]  # measured spikes per neuron per step, per layer or input name


def rate_of(name: str, rates: Rates | None, rate: float = ASSUMED_RATE) -> float:
    """The measured rate of ``name``, or ``rate`` (the assumption) when it was not measured."""
    return rate if rates is None else float(rates.get(name, rate))


def work_per_position(cost: LayerCost, rate: float = ASSUMED_RATE,
                      rates: Rates | None = None) -> np.ndarray:
    """(size,) estimated serial work per step (ns) of each mapping position's neuron: its stored
    synapses' ops at their source's rate and its own update and spike at its own rate (input
    axons are added per core: ``work``). ``rates``: measured rates; ``rate`` for the others."""
    t = cost.chip.costs.time_ns
    own = rate_of(cost.name, rates, rate)
    per = np.full(cost.size, t["neuron_active"] + own * t["spike_out"], np.float64)
    for s, counts in zip(cost.syns, cost.counts, strict=True):
        per += (rate_of(s.src, rates, rate) * t[f"syn_op_{s.fmt}"]
                * np.asarray(counts, np.float64)[cost.pos])
    return per


def work(cost: LayerCost, a: int, b: int, per: np.ndarray | None = None,
         rate: float = ASSUMED_RATE, rates: Rates | None = None) -> float:
    """Estimated serial work per step (ns) of the core holding positions ``a:b``."""
    per = work_per_position(cost, rate, rates) if per is None else per
    axons = sum(rate_of(s.src, rates, rate) * blk[2]
                for s, blk in zip(cost.syns, cost.blocks(a, b), strict=True))
    return float(per[a:b].sum()) + cost.chip.costs.time_ns["axon_in"] * axons


def _equal_work(per: np.ndarray, k: int) -> list[tuple[int, int]]:
    csum = np.concatenate([[0.0], np.cumsum(per)])
    cuts = np.searchsorted(csum, np.linspace(0.0, csum[-1], k + 1)[1:-1], side="left")
    edges = sorted({0, len(per), *(int(c) for c in cuts)})
    return list(itertools.pairwise(edges))


def balance(costs: dict[str, LayerCost], ranges: dict[str, list[tuple[int, int]]],
            rate: float = ASSUMED_RATE,
            rates: Rates | None = None) -> dict[str, list[tuple[int, int]]]:
    """More cores for the layers whose compact cores carry more than the mean work (module
    docstring); a layer whose balanced split would break a core limit keeps its ranges.
    ``rates``: measured activity (layers or inputs missing from it: ``rate``)."""
    per = {n: work_per_position(c, rate, rates) for n, c in costs.items()}
    total = {n: sum(work(costs[n], a, b, per[n], rate, rates) for a, b in r)
             for n, r in ranges.items()}
    n_cores = sum(len(r) for r in ranges.values())
    mean = sum(total.values()) / max(n_cores, 1)
    out = {}
    for name, r in ranges.items():
        cost = costs[name]
        k = min(max(len(r), math.ceil(total[name] / mean - 1e-9) if mean > 0 else 1), cost.size)
        if k == len(r):
            out[name] = r
            continue
        split = _equal_work(per[name], k)
        if len(split) != k or not all(cost.fits(a, b) for a, b in split):
            edges = np.linspace(0, cost.size, k + 1).round().astype(int)
            split = list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))
        ok = all(b > a for a, b in split) and all(cost.fits(a, b) for a, b in split)
        out[name] = split if ok else r
    return out
