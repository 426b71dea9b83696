"""The one published Loihi 2 measurement snnc reconstructs exactly: lava-dl's PilotNet LIF.

lava-dl's ``tutorials/lava/lib/dl/netx/pilotnet_snn/benchmark.ipynb`` (outputs as committed in
lava-dl b9e3691, 2023-01-10) runs ``network.net`` (the same file, blob bd720b9e, as the
``gts/pilotnet_lif`` recording snnc matches bit for bit) on one Loihi 2 chip of an Oheo Gulch
board for 10,000 steps, one frame written once as the input layer's bias, reset every 16 steps
(offset 3), and prints 408.91 frames/s, total 0.679234 W, static 0.232078 W, dynamic 0.447156 W
(figures in ``backends/report/loihi2_facts.py``). snnc runs the same network with the same drive
(``gts/pilotnet_lif/image.npy``: lava-dl's own frame, not necessarily the notebook's frame 100 of
the dataset, which is not shipped; the input layer's firing, 0.89, equals the recording's) on the
event simulator for ``STEPS`` steps (ten reset periods; the activity repeats each period) and
prices it per step with ``loihi2-estimate``.

Role: Loihi 2's per-event energy and time factors are both FITTED on this point (one constant
each: its dynamic energy, ``loihi2_facts.energy_factor``, and its step, ``time_factor``), so
nothing here is held back; its total energy follows from the fit and the measured static power
(``loihi2_facts.static_w``), which is not a fit. The mapping is ``vendor``: the 74 cores Lava's
compiler gave this network, layer by layer.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from snnc.api import load
from snnc.backends.loihi.mapper import map_graph
from snnc.backends.report.loihi2_facts import pilotnet_lif_measured
from snnc.backends.report.sections import run_model
from snnc.simulators.event import simulate

STEPS = 160
STRATEGY = "vendor"  # Lava's compiler's 74 cores, layer by layer (backends/loihi/vendor.py)
NAME = "lava-dl PilotNet LIF (on-chip bias input)"


def assets() -> Path:
    root = os.environ.get("SNNC_LAVADL_ASSETS", ".cache/lava-dl/netx")
    return Path(root) / "gts" / "pilotnet_lif"


def program_and_counters(steps: int = STEPS) -> tuple[object, object]:
    """PilotNet LIF mapped on Loihi 2 as Lava's compiler maps it (``STRATEGY``: the vendor
    mapping, 74 cores; the activity measured on this drive recorded with it), and its event
    counters over ``steps`` steps."""
    d = assets()
    graph = load(d / "network.net", input_bias=d / "image.npy", reset_interval=16,
                 reset_offset=3)
    (inp,) = graph.inputs
    x = np.zeros((steps, 1, *graph.nodes[inp].shape), dtype=np.int64)  # the bias drives it
    layers = [n for n, node in graph.nodes.items() if node.op == "loihi.lif"]
    compact = map_graph(graph, "loihi2", strategy="compact")
    res = simulate(compact, x, probes=[f"{n}.s" for n in layers])
    rates = {n: float(np.mean(res.probes[f"{n}.s"] != 0)) for n in layers}
    program = map_graph(graph, "loihi2", strategy=STRATEGY, rates=rates)
    return program, simulate(program, x).counters


def predict(program, counters, model) -> dict[str, float]:
    """Per step: time (µs), dynamic and total energy (µJ), with the lines."""
    en, lat = run_model(program, model, counters)
    n = len(lat.step_ns)
    out = {"time_us": lat.per_inference_s * 1e6 / n, "dynamic_uj": en.total_dynamic_j * 1e6 / n,
           "total_uj": en.total_j * 1e6 / n, "cores_uj": en.dynamic_j * 1e6 / n,
           "steps": float(n), "cores": float(program.n_cores)}
    out.update({f"line_{ln['line']}": (ln["joules"] or 0.0) * 1e6 / n for ln in en.lines})
    return out


def events_at_loihi1_uj(program, counters, model) -> float:
    """The cores' and mesh's events of this run per step (µJ) priced with Loihi 1's per-event
    table (SANA-FE), unscaled: the denominator of Loihi 2's per-event energy factor
    (``loihi2_facts.PILOTNET_LIF_EVENTS_L1_UJ``)."""
    from snnc.backends.loihi.chips import load_chip
    from snnc.backends.report.energy import dynamic_energy

    l1 = dataclasses.replace(model, energy_pj=dict(load_chip("loihi1").costs.energy_pj),
                             system=None)
    res = dynamic_energy(counters, l1, list(counters.core_layer))
    return res.dynamic_j * 1e6 / counters_steps(counters, program, model)


def chip_step_l1_ns(counters) -> float:
    """The simulator's mean step (ns: slowest core + NoC + barrier) at the chip file's own
    per-event times, Loihi 1's SANA-FE table, unscaled: what Loihi 2's fitted time factor
    multiplies (``loihi2_facts.PILOTNET_LIF_STEP_L1_NS``)."""
    return float(np.mean(np.asarray(counters.step_ns, np.float64)))


def counters_steps(counters, program, model) -> int:
    return len(run_model(program, dataclasses.replace(model, system=None), counters)[1].step_ns)


def rows(program, counters, model) -> list[str]:
    m, pr = pilotnet_lif_measured(), predict(program, counters, model)

    def e(a: float, b: float) -> str:
        return f"{100 * (a / b - 1):+.0f} %"

    lines = " + ".join(f"{k[5:]} {v:.2f}" for k, v in pr.items() if k.startswith("line_") and v)
    return [f"| loihi2-estimate | {NAME} | fit / fit | {pr['cores']:.0f} / "
            f"{m['cores']:.0f} | {pr['dynamic_uj']:.2f} | {pr['total_uj']:.2f} | "
            f"{m['dynamic_uj']:.2f} (dynamic), {m['total_uj']:.2f} (total) | "
            f"{e(pr['dynamic_uj'], m['dynamic_uj'])} dynamic, "
            f"{e(pr['total_uj'], m['total_uj'])} total | {pr['time_us']:.1f} | "
            f"{m['time_us']:.1f} | {e(pr['time_us'], m['time_us'])} | per step (µJ, µs) |",
            f"# {NAME}: per step predicted cores {pr['cores_uj']:.2f} + {lines} µJ"]
