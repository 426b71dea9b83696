"""The ``conversion`` section of ``report.json``: accuracy versus time steps of a converted SNN,
with the energy and latency per inference at each T under the report's energy model.

Pure: the accuracies and the event simulator's counters per T come from the measure stage
(``snnc/stages/conversion.py``: ``ConversionRun``); each T's counters are priced with
``run_model`` exactly as the report's main energy figure is.
"""

from __future__ import annotations

from typing import Any

from . import fmt
from .sections import run_model


def conversion_section(program: Any, run: Any, model: Any) -> dict[str, Any] | None:
    """Rows per T: ANN / float SNN / chip accuracy, chip energy and latency per inference."""
    if run is None:
        return None
    rows = []
    for t in run.steps:
        en, lat = run_model(program, model, run.counters[t])
        rows.append({"T": int(t), "snn_accuracy": run.snn_accuracy[t],
                     "chip_accuracy": run.chip_accuracy[t], "energy": en.total_j,
                     "dynamic_energy": en.total_dynamic_j,
                     "latency_per_inference": lat.per_inference_s,
                     "steps_simulated": int(run.counters[t].step_ns.shape[0]),
                     "methods": {m: {"snn_accuracy": run.snn_methods[m][t],
                                     "chip_accuracy": run.chip_methods[m][t]}
                                 for m in run.chip_methods}})
    return {"source": run.source, "samples": int(run.samples),
            "energy_samples": int(run.energy_samples), "ann_accuracy": run.ann_accuracy,
            "method": "plain", "methods": ["plain", *run.chip_methods],
            "tau": int(run.tau), "energy_model": model.name, "unit": "J per inference",
            "rows": rows,
            "note": ("accuracy on the labelled data: float ANN, float SNN (reference "
                     "simulator) and chip (event simulator) with the same analog input at "
                     "every step, prediction = output summed over T; energy and latency: the "
                     f"chip's counters on the first {run.energy_samples} samples, T input steps "
                     "plus the network's drain, priced by the report's energy model, for the "
                     "plain method. SRP/COS (if asked for) run in the chip's fixed-point "
                     "arithmetic with a host-driven pre-run of tau + L steps (COS: one per "
                     "converted layer) and a per-sample restart; their energy is not "
                     "measured (at least the plain figure plus the pre-runs)"),
            "notes": list(run.notes)}


def conversion_lines(sec: dict[str, Any]) -> list[str]:
    """The terminal table."""
    ann = sec.get("ann_accuracy")
    extra = [m for m in sec.get("methods", []) if m != "plain"]
    lines = [f"accuracy vs time steps ({sec['samples']} samples; ANN "
             f"{'-' if ann is None else f'{ann:.1%}'}; energy {sec['energy_model']}):",
             f"  {'T':>3} {'SNN float':>10} {'SNN chip':>9} "
             + "".join(f"{m + ' chip':>10} " for m in extra)
             + f"{'energy/inf':>12} {'latency/inf':>12}"]
    for r in sec["rows"]:
        lines.append(f"  {r['T']:>3} {r['snn_accuracy']:>10.1%} {r['chip_accuracy']:>9.1%} "
                     + "".join(f"{r['methods'][m]['chip_accuracy']:>10.1%} " for m in extra)
                     + f"{fmt.energy(r['energy']):>12} "
                     f"{fmt.seconds(r['latency_per_inference']):>12}")
    return lines
