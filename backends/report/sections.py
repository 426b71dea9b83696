"""The chip-side sections of ``report.json``: chip, energy, latency, layers, cores, activity.

Each function turns the program, the counters and an energy model's results into the plain JSON
values docs/report-schema.md describes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .activity import bin_series, core_neurons, layer_rates, raster
from .energy import EnergyModel, EnergyResult, dynamic_energy, with_system
from .latency import LatencyResult, latency
from .system import Activity


def jsonable(obj: Any) -> Any:
    """Plain JSON values from numpy scalars/arrays, dataclasses and objects with ``to_dict``."""
    if hasattr(obj, "to_dict"):
        return jsonable(obj.to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable(dataclasses.asdict(obj))
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist()) if obj.size <= 10000 else f"<array {obj.shape}>"
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    return str(obj)


def chip_section(program: Any) -> dict[str, Any]:
    chip = program.chip
    m = chip.mesh
    return {"name": chip.name, "description": chip.description, "chips": program.n_chips,
            "cores": program.n_cores, "tiles": program.n_tiles, "cores_per_chip": m.cores_per_chip,
            "neurons_per_core": chip.core.neurons,
            "mesh": {"tiles_x": m.tiles_x, "tiles_y": m.tiles_y, "cores_per_tile": m.cores_per_tile,
                     "chip_grid": program.chip_grid},
            "mapping": {"strategy": getattr(program, "strategy", "unknown"),
                        "activity": "measured" if getattr(program, "rates", ()) else "assumed",
                        "rates": dict(getattr(program, "rates", ())),
                        "fallback": getattr(program, "fallback", "")}}


def activity(program: Any, counters: Any, lat: LatencyResult) -> Activity:
    """Per-inference activity the system lines are charged on (``system.Activity``)."""
    n = counters.n_samples
    bits = (float(np.asarray(counters.payload_bits, np.float64).sum())
            + float(np.asarray(counters.host_payload_bits, np.float64).sum())) / n
    return Activity(steps=float(np.shape(counters.step_ns)[0]),
                    input_msgs=float(np.asarray(counters.host_axon_out).sum()) / n,
                    payload_bits=bits, powered_cores=int(program.n_cores),
                    chips=int(program.n_chips), seconds=lat.per_inference_s,
                    input_on_chip=input_on_chip(program))


def input_on_chip(program: Any) -> bool:
    """The program's input is held on the chip (graph metadata, netx's bias drive)."""
    return bool(dict(getattr(program.graph, "metadata", {}) or {}).get("input_on_chip"))


def run_model(program: Any, model: EnergyModel,
              counters: Any) -> tuple[EnergyResult, LatencyResult]:
    """The public cost function: a program's counters -> (energy, latency) under ``model``.

    Energy per inference: the cores' and mesh's events (``dynamic_energy``) plus the system
    lines (``with_system``: input injection, management, graded payloads, chip static, core
    leakage, board); latency: the step pipeline of ``latency.py``, system time included."""
    lat = latency(counters, model, program.n_tiles, program.n_chips, input_on_chip(program))
    en = with_system(dynamic_energy(counters, model, list(counters.core_layer)),
                     activity(program, counters, lat))
    return en, lat


def energy_section(program: Any, en: EnergyResult, lat: LatencyResult) -> dict[str, Any]:
    srange = list(en.static_range_j) if en.static_range_j else None
    bounds = en.bounds(en.static_range_j)
    return {"model": en.model.to_dict(), "unit": "J per inference", "total": en.total_j,
            "dynamic": en.total_dynamic_j, "cores_dynamic": en.dynamic_j,
            "system_dynamic": en.system_dynamic_j, "static": en.static_j,
            "static_range": srange, "board": en.board_j,
            "system_total": en.total_j + (en.board_j or 0.0),
            "total_range": list(bounds) if bounds else None, "lines": en.lines,
            "by_kind": en.by_kind, "by_layer": en.by_layer, "by_core": en.by_core}


def alternatives_section(program: Any, models: list[EnergyModel],
                         counters: Any) -> list[dict[str, Any]]:
    rows = []
    for model in models:
        en, lat = run_model(program, model, counters)
        bounds = en.bounds(en.static_range_j)
        rows.append({"model": model.name, "description": model.description,
                     "source": model.source, "estimate": model.estimate, "total": en.total_j,
                     "dynamic": en.total_dynamic_j, "cores_dynamic": en.dynamic_j,
                     "static": en.static_j,
                     "total_range": list(bounds) if bounds else None,
                     "latency_per_inference": lat.per_inference_s})
    return rows


def _pipeline_s(lat: LatencyResult) -> dict[str, Any]:
    """``LatencyResult.pipeline`` with its times in seconds (the section's unit)."""
    p = lat.pipeline()
    return {"bottleneck_core": p["bottleneck_core"],
            "bottleneck_fraction_of_steps": p["bottleneck_fraction_of_steps"],
            "bottleneck_core_stages": {k: v * 1e-9
                                       for k, v in p["bottleneck_core_stages_ns"].items()},
            "slowest_core_share": p["slowest_core_share"],
            "system": {k: v * 1e-9 for k, v in p["system_ns"].items()}}


def latency_section(program: Any, lat: LatencyResult, model: EnergyModel) -> dict[str, Any]:
    core, frac = lat.bottleneck()
    stage, stage_share = lat.bottleneck_stage()
    step = lat.step_ns
    series, width = bin_series(step)
    lo, hi = model.factor("time", "low"), model.factor("time", "high")
    per = lat.per_inference_s
    return {"unit": "s", "per_inference": per,
            "per_inference_range": [per * lo, per * hi] if lo is not None and hi is not None
            else None, "throughput_per_s": lat.throughput,
            "per_step": {"mean": float(step.mean()) * 1e-9 if step.size else 0.0,
                         "max": float(step.max()) * 1e-9 if step.size else 0.0,
                         "min": float(step.min()) * 1e-9 if step.size else 0.0,
                         "compute_mean": float(lat.compute_ns.mean()) * 1e-9 if step.size else 0.0,
                         "noc_mean": float(lat.noc_ns.mean()) * 1e-9 if step.size else 0.0,
                         "barrier": lat.barrier_ns * 1e-9,
                         "system_mean": lat.stages_ns()["system"] * 1e-9},
            "stages": {k: v * 1e-9 for k, v in lat.stages_ns().items()},
            "pipeline": _pipeline_s(lat),
            "bottleneck": {"core": core, "layer": program.cores[core].layer if core >= 0 else None,
                           "fraction_of_steps": frac, "stage": stage,
                           "stage_share": stage_share},
            "over_time_ns": series, "bin_steps": width}


def layers_section(program: Any, counters: Any, en: EnergyResult) -> list[dict[str, Any]]:
    rates = layer_rates(counters)
    syn = np.asarray(counters.syn_ops, np.float64).sum(0) / counters.n_samples
    total = en.dynamic_j or 1.0
    rows = []
    for name, lm in program.layers.items():
        r = rates.get(name, {"neurons": lm.size, "spikes": 0.0, "firing_rate": 0.0,
                             "rate_over_time": [], "bin_steps": 1})
        energy = en.by_layer.get(name, 0.0)
        rows.append({"name": name, "shape": list(lm.shape), "cores": len(lm.cores), **r,
                     "syn_ops": float(syn[list(lm.cores)].sum()), "energy": energy,
                     "energy_share": energy / total})
    return rows


def cores_section(program: Any, counters: Any, en: EnergyResult, lat: LatencyResult) -> list[dict]:
    n = counters.n_samples
    syn = np.asarray(counters.syn_ops, np.float64).sum(0) / n
    spk = np.asarray(counters.spikes_out, np.float64).sum(0) / n
    util = lat.utilisation()
    neurons = core_neurons(counters)
    return [{"core": c.core, "layer": c.layer, "chip": c.chip, "x": c.x, "y": c.y, "slot": c.slot,
             "neurons": int(neurons[c.core]), "syn_ops": float(syn[c.core]),
             "spikes": float(spk[c.core]), "energy": en.by_core[c.core],
             "utilisation": util[c.core], "busy_ns": float(lat.core_ns[:, c.core].sum()),
             "stage_ns": {k: float(v[:, c.core].sum()) for k, v in (lat.core_stages or {}).items()}}
            for c in program.cores]


def activity_section(counters: Any, probes: dict[str, np.ndarray],
                     layers: list[str]) -> dict[str, Any]:
    tot = counters.totals()
    per = {"syn_ops": tot["syn_ops_dense"] + tot["syn_ops_sparse"] + tot["syn_ops_conv"],
           **{k: tot[k] for k in ("syn_ops_dense", "syn_ops_sparse", "syn_ops_conv",
                                  "neurons_active", "neurons_inactive", "spikes_out",
                                  "axon_out", "hops_ew", "hops_ns", "chip_hops", "host_axon_out")}}
    return {"per_inference": per, "raster": raster(probes, layers)}
