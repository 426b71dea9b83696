"""Float-vs-fixed fidelity per layer: the float model's spikes against the chip's.

Layers are paired by name (a lowered ``loihi.lif`` that keeps its float neuron's name), or else
by position when the float graph has as many spiking neuron layers as the chip program. Every
``loihi.*`` synapse adds one step of latency and float ops add none, so a chip layer that sits
``d`` synapses after the input answers at step t + d what the float layer computes at step t;
the comparison shifts by that lag and uses the steps both runs cover.

Per pair: each side's firing rate (spikes per neuron per step) and the *spike agreement*, the
fraction of (step, sample, neuron) with the same spike / no-spike outcome.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...ir import Graph


def chip_depths(program: Any) -> dict[str, int]:
    """Per chip layer: synapses on the longest path from an input (= its latency in steps)."""
    from ..loihi.topology import topology

    topo = topology(program.graph)
    depth: dict[str, int] = dict.fromkeys(topo.inputs, 0)
    for _ in range(len(topo.layers) + 1):
        for src, tgt in topo.synapses.values():
            if src in depth and depth.get(tgt, -1) < depth[src] + 1 and src != tgt:
                depth[tgt] = depth[src] + 1
    return {layer: depth.get(layer, 0) for layer in topo.layers}


def pair_layers(float_graph: Graph, chip_layers: list[str]) -> list[tuple[str, str]]:
    """(float neuron node, chip layer) pairs, by name or else by position."""
    spiking = [n for n in float_graph.schedule().order
               if getattr(float_graph.nodes[n], "spiking", False)]
    if all(c in float_graph.nodes for c in chip_layers):
        return [(c, c) for c in chip_layers]
    if len(spiking) == len(chip_layers):
        return list(zip(spiking, chip_layers, strict=True))
    return []


def _compare(f: np.ndarray, c: np.ndarray, lag: int) -> dict[str, Any] | None:
    f = np.asarray(f).reshape(f.shape[0], f.shape[1], -1) != 0
    c = np.asarray(c).reshape(c.shape[0], c.shape[1], -1) != 0
    if f.shape[1:] != c.shape[1:]:
        return None
    n = min(f.shape[0], c.shape[0] - lag)
    if n <= 0:
        return None
    fa, ca = f[:n], c[lag:lag + n]
    return {"float_rate": float(fa.mean()), "chip_rate": float(ca.mean()),
            "spike_agreement": float(np.mean(fa == ca)), "lag_steps": lag, "steps_compared": n}


def layer_fidelity(float_graph: Graph, float_probes: dict[str, np.ndarray], program: Any,
                   chip_probes: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Per paired layer: rates and spike agreement (empty when nothing can be paired)."""
    depths = chip_depths(program)
    rows = []
    for fl, cl in pair_layers(float_graph, list(program.layers)):
        f, c = float_probes.get(f"{fl}.s"), chip_probes.get(f"{cl}.s")
        if f is None or c is None:
            continue
        row = _compare(f, c, depths.get(cl, 0))
        if row is not None:
            rows.append({"layer": cl, "float_layer": fl, **row})
    return rows
