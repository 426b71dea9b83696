"""Balanced mapping: more cores for the layers whose cores carry more than the mean work.

``balance`` (the "balanced" mapping, the default) gives layers whose per-core work is above
the network's mean more cores, so that no core dominates the step time: a core's work per step is
estimated from the chip's time table at an assumed activity (``ASSUMED_RATE`` of the presynaptic
neurons spike per step; every neuron is updated every step):

    work(core) = sum over its stored synapses of rate x t_syn_op[format]
                 + neurons x (t_neuron_active + rate x t_spike_out)
                 + input axons x rate x t_axon_in

The mean is the network's total work over the compact core count (``partition.partition``); a
layer of work W gets max(compact cores, ceil(W / mean)) cores, split so each holds about the same
work, if the split still fits every core limit (otherwise its compact ranges stay). The core
count grows by at most one per layer.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .partition import LayerCost

ASSUMED_RATE = 0.1  # spikes per neuron per step assumed for balancing (activity is not known)


def work_per_position(cost: LayerCost, rate: float = ASSUMED_RATE) -> np.ndarray:
    """(size,) estimated serial work per step (ns) of each mapping position's neuron: its stored
    synapses' ops and its own update and spike (input axons are added per core: ``work``)."""
    t = cost.chip.costs.time_ns
    per = np.full(cost.size, t["neuron_active"] + rate * t["spike_out"], np.float64)
    for s, counts in zip(cost.syns, cost.counts, strict=True):
        per += rate * t[f"syn_op_{s.fmt}"] * np.asarray(counts, np.float64)[cost.pos]
    return per


def work(cost: LayerCost, a: int, b: int, per: np.ndarray | None = None,
         rate: float = ASSUMED_RATE) -> float:
    """Estimated serial work per step (ns) of the core holding positions ``a:b``."""
    per = work_per_position(cost, rate) if per is None else per
    return float(per[a:b].sum()) + rate * cost.chip.costs.time_ns["axon_in"] * cost.need(a, b).axons


def _equal_work(per: np.ndarray, k: int) -> list[tuple[int, int]]:
    csum = np.concatenate([[0.0], np.cumsum(per)])
    cuts = np.searchsorted(csum, np.linspace(0.0, csum[-1], k + 1)[1:-1], side="left")
    edges = sorted({0, len(per), *(int(c) for c in cuts)})
    return list(itertools.pairwise(edges))


def balance(costs: dict[str, LayerCost], ranges: dict[str, list[tuple[int, int]]],
            rate: float = ASSUMED_RATE) -> dict[str, list[tuple[int, int]]]:
    """More cores for the layers whose compact cores carry more than the mean work (module
    docstring); a layer whose balanced split would break a core limit keeps its ranges."""
    per = {n: work_per_position(c, rate) for n, c in costs.items()}
    total = {n: sum(work(costs[n], a, b, per[n], rate) for a, b in r) for n, r in ranges.items()}
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
