"""Latency of a simulated run: per time step, per inference, and throughput.

Loihi cores run asynchronously and synchronise at a mesh-wide barrier after every time step, so a
step lasts as long as its slowest core's work (every event it handled, times the event's
duration; see below for how a core's stages combine), plus the longest spike route used in the
step (NoC), plus the barrier:

    step[t] = max_core core_ns[t, core] + noc_ns[t] + barrier(tiles in use, chips in use)
              + system_ns[t]

where ``system_ns[t]`` is the model's ``[system]`` time (``system.py``): the per-step
management / synchronisation time of the input path (embedded x86 cores or host link; a run
whose input is held on the chip and that writes no input message pays the table's
``step_ns.chip`` when it has one) plus the
time to write that step's input messages into the mesh (zero for a model without ``[system]``).

One inference is one sample of the simulated run, so its latency is the sum of its step times;
throughput = 1 / latency (samples run one after another; no pipelining across samples).

The cores' work is a pipeline of stages (``CORE_STAGES``), each the core's events of that stage
times their time: ``synapse`` (synaptic ops of every storage format), ``neuron`` (dendrite and
soma updates, active and inactive), ``spike_out`` (spike generation and the messages sent),
``axon_in`` (messages received), ``learning`` (synaptic updates). Loihi's cores are
asynchronous (no clock), so stage times are ns, not cycles. ``core_stages`` gives each stage's
(T, n_cores) time; the report shows the bottleneck core's stages and the share of the step it
takes, and splits the ``[system]`` time into management (per step) and input (per message).
A core's time is its own neurons' stages (``OWN_STAGES``: neuron, spike_out) plus its
incoming-message stages (synapse, axon_in, learning), or, on a chip whose cores overlap the
two (``[costs] core_overlap``, Loihi 1 after SANA-FE's core model), the larger of the two.

When the energy model uses the chip's own time table the event simulator's step times are used
as they are (times the model's ``[scale] time`` factor, e.g. Loihi 2's Intel 4 estimate);
another model's table re-times every core's events (the NoC term keeps the chip's
hop times, which every built-in model shares).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .energy import EnergyModel, event_fields

NOC_EVENTS = ("hop_ew", "hop_ns", "chip_hop")  # paid in the NoC term, not on a core
CORE_STAGES = {"synapse": ("syn_op_dense", "syn_op_sparse", "syn_op_conv"),
               "neuron": ("neuron_active", "neuron_inactive"),
               "spike_out": ("spike_out", "axon_out"), "axon_in": ("axon_in",),
               "learning": ("syn_update",)}
OWN_STAGES = ("neuron", "spike_out")  # a core's own neurons' work (chips.OWN_EVENTS)


@dataclass
class LatencyResult:
    """Per-step times (ns, averaged over samples) and what they add up to."""

    step_ns: np.ndarray  # (T,)
    compute_ns: np.ndarray  # (T,) slowest core
    noc_ns: np.ndarray  # (T,)
    barrier_ns: float
    core_ns: np.ndarray  # (T, n_cores)
    system_ns: np.ndarray | None = None  # (T,) management + input time; None: zeros
    core_stages: dict[str, np.ndarray] | None = None  # stage -> (T, n_cores) ns (core_stages)
    system_split: dict[str, float] | None = None  # management / input, mean ns per step

    def pipeline(self) -> dict[str, Any]:
        """The bottleneck core's stages (mean ns per step), its mean share of the step time,
        and the [system] split: what ``latency.pipeline`` of the report holds."""
        core, frac = self.bottleneck()
        T = max(len(self.step_ns), 1)
        stages = {k: (float(v[:, core].sum()) / T if core >= 0 else 0.0)
                  for k, v in (self.core_stages or {}).items()}
        return {"bottleneck_core": core, "bottleneck_fraction_of_steps": frac,
                "bottleneck_core_stages_ns": stages, "slowest_core_share": self.core_share(),
                "system_ns": dict(self.system_split or {"management": 0.0, "input": 0.0})}

    def stages_ns(self) -> dict[str, float]:
        """Mean time per step of each pipeline stage (ns): cores, NoC, barrier, management,
        input (the last two from the model's [system] table)."""
        T = max(len(self.step_ns), 1)
        sys = np.zeros(len(self.step_ns)) if self.system_ns is None else self.system_ns
        return {"cores": float(self.compute_ns.sum()) / T, "noc": float(self.noc_ns.sum()) / T,
                "barrier": self.barrier_ns if len(self.step_ns) else 0.0,
                "system": float(sys.sum()) / T}

    def bottleneck_stage(self) -> tuple[str, float]:
        """(stage with the largest share of the run time, that share)."""
        st = self.stages_ns()
        total = sum(st.values())
        if total <= 0:
            return "none", 0.0
        name = max(st, key=lambda k: st[k])
        return name, st[name] / total

    @property
    def per_inference_s(self) -> float:
        return float(self.step_ns.sum()) * 1e-9

    @property
    def throughput(self) -> float:
        """Inferences per second."""
        s = self.per_inference_s
        return 1.0 / s if s > 0 else float("inf")

    def utilisation(self) -> list[float]:
        """Per core: busy time / run time."""
        total = float(self.step_ns.sum())
        if total <= 0:
            return [0.0] * self.core_ns.shape[1]
        return [float(x) / total for x in self.core_ns.sum(0)]

    def core_share(self) -> float:
        """Mean over steps of the slowest core's share of the step time (0 when idle)."""
        busy = self.step_ns > 0
        if not busy.any():
            return 0.0
        return float(np.mean(self.compute_ns[busy] / self.step_ns[busy]))

    def bottleneck(self) -> tuple[int, float]:
        """(core that is slowest most often, fraction of steps it is the slowest)."""
        if self.core_ns.size == 0 or self.core_ns.shape[1] == 0:
            return -1, 0.0
        busy = self.core_ns.max(1) > 0
        if not busy.any():
            return -1, 0.0
        slow = np.argmax(self.core_ns[busy], axis=1)
        counts = np.bincount(slow, minlength=self.core_ns.shape[1])
        core = int(np.argmax(counts))
        return core, float(counts[core]) / float(busy.sum())


def _core_ns(counters: Any, model: EnergyModel) -> np.ndarray:
    """(T, n_cores) each core's time in the step under ``model``'s table: its own-neuron
    stages and its incoming-message stages (``OWN_STAGES``), summed, or their maximum when
    the chip's cores overlap them (``model.core_overlap``)."""
    st = core_stages(counters, model)
    own = sum(st[k] for k in OWN_STAGES)
    incoming = sum(v for k, v in st.items() if k not in OWN_STAGES)
    return np.maximum(own, incoming) if model.core_overlap else own + incoming


def core_stages(counters: Any, model: EnergyModel) -> dict[str, np.ndarray]:
    """Per stage (``CORE_STAGES``): (T, n_cores) ns per step, mean over samples; their sum is
    the cores' serial work, which is ``LatencyResult.core_ns`` unless the chip's cores overlap
    own-neuron and incoming-message work (then ``core_ns`` is the larger part)."""
    n = counters.n_samples
    ev_of = dict(event_fields(counters, model))
    out = {}
    for stage, events in CORE_STAGES.items():
        arr = np.zeros(np.shape(counters.core_ns), np.float64)
        for fld, ev in ev_of.items():
            if ev in events and ev in model.time_ns:
                arr = arr + np.asarray(getattr(counters, fld), np.float64) * (model.time_ns[ev] / n)
        out[stage] = arr
    return out


def system_split_ns(counters: Any, model: EnergyModel,
                    input_on_chip: bool = False) -> dict[str, float]:
    """Mean per step of the [system] time: ``management`` (per step) and ``input`` (the input
    messages written into the mesh); zeros for a model without ``[system]``."""
    sys = model.system
    if sys is None:
        return {"management": 0.0, "input": 0.0}
    T = max(int(np.shape(counters.step_ns)[0]), 1)
    msgs = float(np.asarray(counters.host_axon_out, np.float64).sum()) / counters.n_samples
    return {"management": sys.step_ns_for(msgs, input_on_chip),
            "input": msgs * sys.input_msg_ns / T}


def system_ns(counters: Any, model: EnergyModel, input_on_chip: bool = False) -> np.ndarray:
    """(T,) the model's [system] time per step: management of the input path plus the input
    messages of the step (mean over samples) times the time per message."""
    T = int(np.shape(counters.step_ns)[0])
    sys = model.system
    if sys is None:
        return np.zeros(T)
    msgs = np.asarray(counters.host_axon_out, np.float64) / counters.n_samples
    return sys.step_ns_for(float(msgs.sum()), input_on_chip) + msgs * sys.input_msg_ns


def latency(counters: Any, model: EnergyModel, n_tiles: int, n_chips: int,
            input_on_chip: bool = False) -> LatencyResult:
    """Step times of the run in ``counters`` under ``model`` (see the module docstring);
    ``input_on_chip``: the graph's input is held on the chip (``system.step_ns_for``)."""
    noc = np.asarray(counters.noc_ns, np.float64)
    extra = system_ns(counters, model, input_on_chip)
    split = system_split_ns(counters, model, input_on_chip)
    if model.times_from_chip:  # the simulator's times, scaled by the model's [scale] time
        k = model.time_scale
        step = np.asarray(counters.step_ns, np.float64) * k
        barrier = float(counters.barrier_ns) * k
        core = np.asarray(counters.core_ns, np.float64) * k
        noc = noc * k
        return LatencyResult(step + extra, np.maximum(step - noc - barrier, 0.0), noc, barrier,
                             core, extra, core_stages(counters, model), split)
    core = _core_ns(counters, model)
    barrier = model.barrier(n_tiles, n_chips)
    compute = core.max(1, initial=0.0) if core.ndim == 2 else np.zeros(len(noc))
    return LatencyResult(compute + noc + barrier + extra, compute, noc, barrier, core, extra,
                         core_stages(counters, model), split)
