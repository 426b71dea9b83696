"""Energy and latency of every sample of a batched run, under the chip's default energy model.

From ``Counters.per_sample`` (the event simulator's per-sample totals): dynamic energy = sum
over events of count x the model's per-event energy (core events and the host's mesh hops, the
same accounting as ``backends/report/energy.py``); latency = the sample's own run time (sum of
its step times); static energy = idle power x chips x that time. The model's system cost lines
(``backends/report/system.py``: input injection, management, graded payloads, chip static, core
leakage) are charged on each sample's own activity and time. The mean over samples equals
what the report computes from the batch's summed counters. The built-in default models take
their times from the chip (``times_from_chip``), as the simulator timed the run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backends.report.energy import HOST_EVENT_OF, models_for_chip
from ..backends.report.sections import input_on_chip
from ..backends.report.system import Activity, system_lines
from ..errors import SnncError
from ..simulators.event.counters import EVENT_OF


def default_model(program: Any) -> Any:
    return models_for_chip(program.chip)[0]


def sample_costs(program: Any, counters: Any) -> dict[str, np.ndarray]:
    """``energy_j``, ``dynamic_j`` (every dynamic line, as the report's ``energy.dynamic``),
    ``latency_s``, ``spikes``, ``syn_ops`` per sample."""
    per = getattr(counters, "per_sample", None)
    if per is None:
        raise SnncError("these counters have no per-sample totals (not an event-simulator run)")
    model = default_model(program)
    pj = model.energy_pj
    dyn = np.zeros(per.time_ns.shape[0])
    for fld, ev in (*EVENT_OF.items(), *HOST_EVENT_OF.items()):
        dyn += per.events[fld] * pj[ev]
    steps = float(per.step_ns.shape[0])
    msgs = per.events["host_axon_out"].astype(np.float64)
    on_chip = input_on_chip(program)
    extra = np.array([model.system.extra_ns(steps, m, on_chip) if model.system else 0.0
                      for m in msgs])
    latency = (per.time_ns * model.time_scale + extra) * 1e-9
    bits = per.events.get("payload_bits", np.zeros(len(msgs)))
    sys_dyn, static = np.zeros(len(msgs)), np.zeros(len(msgs))
    for b in range(len(msgs)):
        act = Activity(steps, float(msgs[b]), float(bits[b]), program.n_cores, program.n_chips,
                       float(latency[b]), on_chip)
        for ln in system_lines(model.system, act, model.static_w, model.static_range):
            if ln["scope"] == "chip" or ln["line"] == "management":
                (sys_dyn if ln["kind"] == "dynamic" else static)[b] += ln["joules"] or 0.0
    syn = per.events["syn_ops_dense"] + per.events["syn_ops_sparse"] + per.events["syn_ops_conv"]
    return {"energy_j": dyn * 1e-12 + sys_dyn + static, "dynamic_j": dyn * 1e-12 + sys_dyn,
            "latency_s": latency,
            "spikes": per.events["spikes_out"].astype(np.float64),
            "syn_ops": syn.astype(np.float64)}
