"""Assemble ``report.json`` from a chip program, the event simulator's counters and the float graph.

``build_report`` is a pure function of its arguments and returns the JSON document (a dict, see
docs/report-schema.md); ``write_report`` (``__init__.py``) writes it and ``report.html``. It runs
nothing: the counters (measured, or the worst case) and the float graph's probes come from the
``measure`` stage (``snnc/stages/measure.py``).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ... import __version__
from ...errors import SnncError
from ...ir import Graph
from .agreement import layer_fidelity
from .analytic import analytic_estimate, per_block
from .conversion import conversion_section
from .energy import EnergyModel, cost_line, load_model, models_for_chip
from .neurobench import neurobench_metrics
from .programmable import note as programmable_note
from .programmable import programmable_section
from .schema import SCHEMA, VERSION
from .sections import (
    activity_section,
    alternatives_section,
    chip_section,
    cores_section,
    energy_section,
    jsonable,
    latency_section,
    layers_section,
    run_model,
)

log = logging.getLogger(__name__)
INPUT_NOTES = {
    "user": "activity measured on the input given with --input",
    "example": "activity measured on the model's example input",
    "calibration": "activity measured on the calibration data",
    "worst-case": "WORST CASE: no input was given, so every input and every neuron is assumed to "
                  "spike at every step; real activity (and energy) is lower",
}


def _program(program: Any) -> Any:
    if isinstance(program, Graph) or not hasattr(program, "layers"):
        raise SnncError("build_report needs a mapped ChipProgram (backends.loihi.mapper."
                        "map_graph), not a graph")
    return program


def _input_steps(inputs: Any, default: int) -> int:
    if inputs is None:
        return default
    arrays = inputs.values() if isinstance(inputs, dict) else [inputs]
    return max(int(np.shape(x)[0]) for x in arrays)


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


def _notes(model: EnergyModel, kind: str, counters: Any, strategy: str = "",
           fallback: str = "") -> list[str]:
    notes = [f"energy model {model.name}: {model.source}"]
    if model.estimate:
        notes.append(f"ESTIMATE: {model.description}; {model.uncertainty.get('basis', '')}")
    fitted_on = model.uncertainty.get("time_fitted_mapping")
    refit = fitted_on and strategy and strategy != fitted_on
    if fallback:  # the chip's default strategy refused the graph (mapper.map_graph)
        notes.append(f"mapping: {strategy} ({fallback})" + (
            f"; time per event was fitted on the {fitted_on!r} mapping, so the step time may "
            "differ from silicon's more than the stated range" if refit else ""))
    elif refit:  # a mapping asked for that is not the chip's default
        notes.append(f"time per event fitted on the {fitted_on!r} mapping; this program is "
                     f"mapped {strategy!r} (not the default), whose slowest core differs "
                     f"(lava-dl's PilotNet LIF: 97.8 µs per step balanced, 152.9 µs vendor, "
                     f"152.8 µs measured): compile with --mapping {fitted_on} to compare a "
                     "time with silicon")
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
                 input_source: str | None = None,
                 notes: tuple[str, ...] = (), conversion: Any = None) -> dict[str, Any]:
    """The report document of one compiled program and (optionally) one simulated run.

    ``sim_result``: the event simulator's ``SimResult`` (its ``counters``, and ``"<layer>.s"``
    probes for the raster and fidelity), or of the worst case
    (``simulators.event.worst_case.worst_case_counters``, with ``input_kind="worst-case"``).
    ``inputs``: the time-major input of the float model (array or dict per input node);
    ``float_probes``: what the reference simulator recorded of ``float_graph`` on it, for the
    NeuroBench metrics, the analytic estimate and the fidelity; ``chip_inputs``: what the chip
    received, if encoded differently (default: ``inputs``); ``notes``: the measuring stage's
    own notes (e.g. why the float model could not be run); ``conversion``: the measure stage's
    ``ConversionRun`` of a converted SNN on labelled data (accuracy and counters per T).
    """
    program = _program(program_or_graph)
    counters = getattr(sim_result, "counters", None)
    if counters is None:
        raise SnncError("build_report needs counters: simulate the program "
                        "(simulators.event.simulate) or count the worst case "
                        "(simulators.event.worst_case.worst_case_counters)")
    kind = input_kind or "user"
    chip_probes = dict(getattr(sim_result, "probes", None) or {})
    models = models_for_chip(program.chip)
    if energy_model is not None:
        chosen = load_model(energy_model, program.chip)
        models = [chosen, *[m for m in models if m.name != chosen.name]]
    en, lat = run_model(program, models[0], counters)
    T = int(counters.step_ns.shape[0])
    notes = [*_notes(models[0], kind, counters, program.strategy,
                     getattr(program, "fallback", "")), *notes]
    fprobes = float_probes
    t_model = _input_steps(inputs, T)
    chip_in = inputs if chip_inputs is None else chip_inputs
    layers = layers_section(program, counters, en)
    prog = programmable_section(program, counters, models[0])
    by_layer = {r["layer"]: r for r in prog["layers"]}
    for row in layers:
        r = by_layer.get(row["name"])
        row["programmable"] = r["features"] if r else []
        row["programmable_energy"] = r["joules"] if r else 0.0
    pnote = programmable_note(prog, en.dynamic_j)
    if pnote is not None:
        notes.append(pnote)
    analytic = _analytic(float_graph, fprobes, program, chip_in, chip_probes, t_model)
    if analytic is not None:
        analytic["blocks"] = per_block(layers, analytic)
    return {
        "schema": SCHEMA, "version": VERSION, "generator": f"snnc {__version__}",
        "target": target,
        "chip": {**chip_section(program), "costs": cost_line(program.chip.name, models[0])},
        "input": {"kind": kind, "source": input_source, "samples": int(counters.n_samples),
                  "timesteps": T, "note": INPUT_NOTES[kind]},
        "energy": {**energy_section(program, en, lat), "programmable": prog},
        "alternative_energy": alternatives_section(program, models, counters),
        "latency": latency_section(program, lat, models[0]),
        "layers": layers,
        "cores": cores_section(program, counters, en, lat),
        "activity": activity_section(counters, chip_probes, list(program.layers)),
        "neurobench": _neurobench(float_graph, fprobes, program, chip_in, chip_probes),
        "analytic": analytic,
        "fidelity": _fidelity(fidelity, float_graph, fprobes, program, chip_probes),
        "notes": notes,
        **({"conversion": conversion_section(program, conversion, models[0])}
           if conversion is not None else {}),
    }
