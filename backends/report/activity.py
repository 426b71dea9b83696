"""Chip activity for the report: per-layer rates over time and a spike raster.

- ``layer_rates``: spikes per neuron per step of each layer over time, from the per-core
  counters, binned to at most ``MAX_POINTS`` points.
- ``raster``: for each layer whose spikes were probed (``"<layer>.s"``), the spike times of up
  to ``RASTER_NEURONS`` neurons of the first sample (neurons that fired, evenly spaced), over at
  most ``RASTER_STEPS`` steps.

The worst case (no input given) is counted by the simulator
(``simulators/event/worst_case.py``); this module only reads counters and probes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_POINTS = 400
RASTER_NEURONS = 64
RASTER_STEPS = 1000
RASTER_MAX_SPIKES = 20000


def bin_series(values: np.ndarray, max_points: int = MAX_POINTS) -> tuple[list[float], int]:
    """(mean over consecutive bins, bin width in steps) with at most ``max_points`` bins."""
    values = np.asarray(values, np.float64)
    width = max(1, int(np.ceil(len(values) / max_points)))
    if width == 1:
        return [float(v) for v in values], 1
    pad = (-len(values)) % width
    padded = np.concatenate([values, np.full(pad, np.nan)])
    return [float(v) for v in np.nanmean(padded.reshape(-1, width), axis=1)], width


def core_neurons(counters: Any) -> np.ndarray:
    """(n_cores,) neurons per core (every neuron is counted active or inactive every step)."""
    tot = np.asarray(counters.neurons_active) + np.asarray(counters.neurons_inactive)
    if tot.shape[0] == 0:
        return np.zeros(tot.shape[1], np.int64)
    return tot[0] // max(counters.n_samples, 1)


def layer_rates(counters: Any) -> dict[str, dict[str, Any]]:
    """Per layer: neurons, spikes per inference, mean rate and the binned rate over time."""
    spikes = np.asarray(counters.spikes_out, np.float64) / counters.n_samples  # (T, cores)
    neurons = core_neurons(counters)
    out: dict[str, dict[str, Any]] = {}
    for layer in dict.fromkeys(counters.core_layer):
        cols = [c for c, name in enumerate(counters.core_layer) if name == layer]
        n = int(neurons[cols].sum())
        per_step = spikes[:, cols].sum(1)
        series, width = bin_series(per_step / max(n, 1))
        out[layer] = {"neurons": n, "spikes": float(per_step.sum()),
                      "firing_rate": float(per_step.sum()) / max(n * len(per_step), 1),
                      "rate_over_time": series, "bin_steps": width}
    return out


def raster(probes: dict[str, np.ndarray], layers: list[str]) -> dict[str, dict[str, Any]]:
    """Spike times of a few neurons of each probed layer (first sample)."""
    out = {}
    for layer in layers:
        s = probes.get(f"{layer}.s")
        if s is None:
            continue
        s = np.asarray(s)[:RASTER_STEPS, 0].reshape(min(len(s), RASTER_STEPS), -1) != 0
        fired = np.flatnonzero(s.any(0))
        if len(fired) > RASTER_NEURONS:
            fired = fired[np.linspace(0, len(fired) - 1, RASTER_NEURONS).round().astype(int)]
        t, k = np.nonzero(s[:, fired])
        out[layer] = {"neurons_total": int(s.shape[1]), "neurons_shown": [int(i) for i in fired],
                      "steps": int(s.shape[0]),
                      "spikes": [[int(a), int(b)] for a, b in
                                 zip(t[:RASTER_MAX_SPIKES], k[:RASTER_MAX_SPIKES], strict=True)]}
    return out


def report_probes(program: Any) -> list[str]:
    """The probes ``snnc compile`` should record on the event simulator for the raster."""
    return [f"{layer}.s" for layer in program.layers]
