"""Assemble ``report.json`` from a chip program, the event simulator's counters and the float graph.

``build_report`` is a pure function of its arguments and returns the JSON document (a dict, see
docs/report-schema.md); ``write_report`` (``__init__.py``) writes it and ``report.html``.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np

from ... import __version__
from ...errors import SnncError
from ...ir import Graph
from .activity import bin_series, core_neurons, layer_rates, raster, worst_case_counters
from .agreement import layer_fidelity
from .analytic import analytic_estimate
from .energy import (
    EnergyModel,
    EnergyResult,
    dynamic_energy,
    load_model,
    models_for_chip,
    with_static,
)
from .latency import LatencyResult, latency
from .neurobench import neurobench_metrics, record
from .schema import SCHEMA, VERSION

log = logging.getLogger(__name__)
INPUT_NOTES = {
    "user": "activity measured on the input given with --input",
    "example": "activity measured on the model's example input",
    "calibration": "activity measured on the calibration data",
    "worst-case": "WORST CASE: no input was given, so every input and every neuron is assumed to "
                  "spike at every step; real activity (and energy) is lower",
}


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


def _chip(program: Any) -> dict[str, Any]:
    chip = program.chip
    m = chip.mesh
    return {"name": chip.name, "description": chip.description, "chips": program.n_chips,
            "cores": program.n_cores, "tiles": program.n_tiles, "cores_per_chip": m.cores_per_chip,
            "neurons_per_core": chip.core.neurons,
            "mesh": {"tiles_x": m.tiles_x, "tiles_y": m.tiles_y, "cores_per_tile": m.cores_per_tile,
                     "chip_grid": program.chip_grid}}


def _run(program: Any, model: EnergyModel, counters: Any) -> tuple[EnergyResult, LatencyResult]:
    lat = latency(counters, model, program.n_tiles, program.n_chips)
    en = with_static(dynamic_energy(counters, model, list(counters.core_layer)), program.n_chips,
                     lat.per_inference_s)
    return en, lat


def _static_range(model: EnergyModel, program: Any, seconds: float) -> list[float] | None:
    if model.static_range is None:
        return None
    return [w * program.n_chips * seconds for w in model.static_range]


def _energy(program: Any, en: EnergyResult, lat: LatencyResult) -> dict[str, Any]:
    srange = _static_range(en.model, program, lat.per_inference_s)
    bounds = en.bounds(tuple(srange) if srange else None)  # type: ignore[arg-type]
    return {"model": en.model.to_dict(), "unit": "J per inference", "total": en.total_j,
            "dynamic": en.dynamic_j, "static": en.static_j, "static_range": srange,
            "total_range": list(bounds) if bounds else None, "by_kind": en.by_kind,
            "by_layer": en.by_layer, "by_core": en.by_core}


def _alternatives(program: Any, models: list[EnergyModel], counters: Any) -> list[dict[str, Any]]:
    rows = []
    for model in models:
        en, lat = _run(program, model, counters)
        srange = _static_range(model, program, lat.per_inference_s)
        bounds = en.bounds(tuple(srange) if srange else None)  # type: ignore[arg-type]
        rows.append({"model": model.name, "description": model.description,
                     "source": model.source, "estimate": model.estimate, "total": en.total_j,
                     "dynamic": en.dynamic_j, "static": en.static_j,
                     "total_range": list(bounds) if bounds else None,
                     "latency_per_inference": lat.per_inference_s})
    return rows


def _latency(program: Any, lat: LatencyResult, model: EnergyModel) -> dict[str, Any]:
    core, frac = lat.bottleneck()
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
                         "barrier": lat.barrier_ns * 1e-9},
            "bottleneck": {"core": core, "layer": program.cores[core].layer if core >= 0 else None,
                           "fraction_of_steps": frac},
            "over_time_ns": series, "bin_steps": width}


def _layers(program: Any, counters: Any, en: EnergyResult) -> list[dict[str, Any]]:
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


def _cores(program: Any, counters: Any, en: EnergyResult, lat: LatencyResult) -> list[dict]:
    n = counters.n_samples
    syn = np.asarray(counters.syn_ops, np.float64).sum(0) / n
    spk = np.asarray(counters.spikes_out, np.float64).sum(0) / n
    util = lat.utilisation()
    neurons = core_neurons(counters)
    return [{"core": c.core, "layer": c.layer, "chip": c.chip, "x": c.x, "y": c.y, "slot": c.slot,
             "neurons": int(neurons[c.core]), "syn_ops": float(syn[c.core]),
             "spikes": float(spk[c.core]), "energy": en.by_core[c.core],
             "utilisation": util[c.core], "busy_ns": float(lat.core_ns[:, c.core].sum())}
            for c in program.cores]


def _activity(counters: Any, probes: dict[str, np.ndarray], layers: list[str]) -> dict[str, Any]:
    tot = counters.totals()
    per = {"syn_ops": tot["syn_ops_dense"] + tot["syn_ops_sparse"] + tot["syn_ops_conv"],
           **{k: tot[k] for k in ("syn_ops_dense", "syn_ops_sparse", "syn_ops_conv",
                                  "neurons_active", "neurons_inactive", "spikes_out",
                                  "axon_out", "hops_ew", "hops_ns", "chip_hops", "host_axon_out")}}
    return {"per_inference": per, "raster": raster(probes, layers)}


def _program(program_or_graph: Any) -> Any:
    if isinstance(program_or_graph, Graph):
        from ..loihi.mapper import map_graph

        return map_graph(program_or_graph)
    return program_or_graph


def _input_steps(inputs: Any, default: int) -> int:
    if inputs is None:
        return default
    arrays = inputs.values() if isinstance(inputs, dict) else [inputs]
    return max(int(np.shape(x)[0]) for x in arrays)


def _float_probes(float_graph: Graph | None, inputs: Any,
                  notes: list[str]) -> dict[str, np.ndarray] | None:
    if float_graph is None or inputs is None:
        return None
    try:
        return record(float_graph, inputs)
    except SnncError as exc:
        notes.append(f"the float model could not be run on the input ({exc}); NeuroBench "
                     "workload metrics and measured analytic rates are left out")
        return None


def _lowered_probes(program: Any, inputs: Any, chip_probes: dict) -> dict | None:
    """Chip activity as probes of the lowered graph (inputs and every layer's spikes)."""
    names = program.graph.inputs
    if inputs is None or any(f"{layer}.s" not in chip_probes for layer in program.layers):
        return None
    stim = inputs if isinstance(inputs, dict) else {names[0]: inputs}
    return {**{f"{k}.s": np.asarray(v) for k, v in stim.items()}, **chip_probes}


def _analytic(float_graph: Graph | None, fprobes: dict | None, program: Any, inputs: Any,
              chip_probes: dict, steps: int) -> dict[str, Any]:
    if float_graph is not None and fprobes is not None:
        return analytic_estimate(float_graph, fprobes, steps)
    lowered = _lowered_probes(program, inputs, chip_probes)
    graph = float_graph if float_graph is not None else program.graph
    out = analytic_estimate(graph, lowered if float_graph is None else None, steps)
    if lowered is not None and float_graph is None:
        out["rates_from"] = "measured chip activity (no float model given)"
    return out


def _neurobench(float_graph: Graph | None, fprobes: dict | None, program: Any, inputs: Any,
                chip_probes: dict) -> dict[str, Any]:
    if float_graph is not None:
        return {"model": "float graph, activity from the reference simulator",
                **neurobench_metrics(float_graph, fprobes)}
    lowered = _lowered_probes(program, inputs, chip_probes)
    return {"model": "lowered graph, activity from the chip simulator (no float model given)",
            **neurobench_metrics(program.graph, lowered)}


def _given_layers(given: Any) -> list[dict[str, Any]]:
    """Rows of the compile fidelity report (``snnc.passes.fidelity``) in the report's form."""
    if not isinstance(given, dict) or not isinstance(given.get("layers"), list):
        return []
    per = max(int(given.get("steps") or 0) * int(given.get("batch") or 0), 1)
    rows = []
    for r in given["layers"]:
        if not isinstance(r, dict) or "spike_agreement" not in r:
            continue
        n = max(int(r.get("neurons") or 1), 1) * per
        rows.append({"layer": r.get("layer"), "float_layer": r.get("layer"),
                     "float_rate": float(r.get("float_spikes", 0)) / n,
                     "chip_rate": float(r.get("fixed_spikes", 0)) / n,
                     "spike_agreement": float(r["spike_agreement"]),
                     "lag_steps": given.get("latency"), "near_threshold": r.get("near_threshold"),
                     "clipped_weights": r.get("clipped_weights")})
    return rows


def _fidelity(given: Any, float_graph: Graph | None, fprobes: dict | None, program: Any,
              chip_probes: dict) -> dict[str, Any] | None:
    layers = _given_layers(given)
    source = ("compile fidelity report: float model vs fixed point (reference simulator) on "
              f"{given.get('calibration', 'the calibration input')}" if layers else "")
    if not layers and float_graph is not None and fprobes is not None and chip_probes:
        layers = layer_fidelity(float_graph, fprobes, program, chip_probes)
        source = "float model (reference simulator) vs chip (event simulator), per layer"
    if not layers and given is None:
        return None
    return {"source": source or "no per-layer comparison", "layers": layers,
            "given": jsonable(given)}


def _notes(model: EnergyModel, kind: str, counters: Any) -> list[str]:
    notes = [f"energy model {model.name}: {model.source}"]
    if model.estimate:
        notes.append(f"ESTIMATE: {model.description}; {model.uncertainty.get('basis', '')}")
    if model.static_w is None:
        notes.append(f"static power unknown ({model.static_source}): totals are dynamic only")
    notes.append(INPUT_NOTES[kind])
    if counters.n_samples > 1 and not model.times_from_chip:
        notes.append("step times re-timed from per-core counts averaged over samples")
    return notes


def build_report(program_or_graph: Any, sim_result: Any = None, float_graph: Graph | None = None,
                 fidelity: Any = None, input_kind: str | None = None, *, inputs: Any = None,
                 chip_inputs: Any = None, float_probes: dict[str, np.ndarray] | None = None,
                 energy_model: str | None = None, target: str | None = None,
                 input_source: str | None = None, steps: int = 1) -> dict[str, Any]:
    """The report document of one compiled program and (optionally) one simulated run.

    ``sim_result``: the event simulator's ``SimResult`` (its ``counters``, and ``"<layer>.s"``
    probes for the raster and fidelity); None reports the worst case over ``steps`` steps.
    ``inputs``: the time-major input of the float model (array or dict per input node), run on
    ``float_graph`` for the NeuroBench metrics, the analytic estimate and the fidelity (or pass
    ``float_probes`` recorded already); ``chip_inputs``: what the chip received, if encoded
    differently (default: ``inputs``).
    """
    program = _program(program_or_graph)
    counters = getattr(sim_result, "counters", None)
    kind = input_kind or ("user" if counters is not None else "worst-case")
    if counters is None:
        counters, kind = worst_case_counters(program, steps), "worst-case"
    chip_probes = dict(getattr(sim_result, "probes", None) or {})
    models = models_for_chip(program.chip)
    if energy_model is not None:
        chosen = load_model(energy_model, program.chip)
        models = [chosen, *[m for m in models if m.name != chosen.name]]
    en, lat = _run(program, models[0], counters)
    T = int(counters.step_ns.shape[0])
    notes = _notes(models[0], kind, counters)
    fprobes = float_probes if float_probes is not None else _float_probes(float_graph, inputs,
                                                                          notes)
    t_model = _input_steps(inputs, T)
    chip_in = inputs if chip_inputs is None else chip_inputs
    return {
        "schema": SCHEMA, "version": VERSION, "generator": f"snnc {__version__}",
        "target": target, "chip": _chip(program),
        "input": {"kind": kind, "source": input_source, "samples": int(counters.n_samples),
                  "timesteps": T, "note": INPUT_NOTES[kind]},
        "energy": _energy(program, en, lat),
        "alternative_energy": _alternatives(program, models, counters),
        "latency": _latency(program, lat, models[0]),
        "layers": _layers(program, counters, en), "cores": _cores(program, counters, en, lat),
        "activity": _activity(counters, chip_probes, list(program.layers)),
        "neurobench": _neurobench(float_graph, fprobes, program, chip_in, chip_probes),
        "analytic": _analytic(float_graph, fprobes, program, chip_in, chip_probes, t_model),
        "fidelity": _fidelity(fidelity, float_graph, fprobes, program, chip_probes),
        "notes": notes,
    }
