"""Activity counters of the event simulator, per core and per time step.

Counting conventions (the energy report turns them into joules with the chip's cost table,
``backends/loihi/chips.py``; event names match the table's keys):

- ``syn_ops_dense`` / ``_sparse`` / ``_conv``: synaptic operations, one per (presynaptic spike or
  non-zero graded payload) x (non-zero synapse of its fan-out), counted on the core that holds the
  postsynaptic neuron. The kind is the synapse block's storage format (``SynapseBlock.fmt``).
- ``neurons_active``: neuron updates where, as the step starts, the input, u, v or bias of the
  neuron is non-zero (its state can change); ``neurons_inactive``: all other neurons of the core
  (every neuron is updated every step).
- ``spikes_out``: spikes emitted by the core's neurons.
- ``axon_out``: messages a core sends (one per spike per destination core that has at least one
  non-zero synapse from the spiking neuron); ``axon_in``: the same messages, counted where they
  arrive. ``hops_ew`` / ``hops_ns`` / ``chip_hops``: tile hops East-West, North-South and
  chip-to-chip crossings of those messages, counted on the sending core (X-then-Y routing).
- ``host_*``: the same for input spikes sent from the host port (tile (0, 0) of chip 0).
- ``syn_updates`` (on-chip learning): synapses whose learned variables (weight, tags) a learning
  epoch updated, counted on the core that stores them (the post-synaptic neuron's core): per
  epoch, every synapse whose pre neuron (x0) or post neuron (y0) spiked during the epoch, and
  every synapse of the block on epochs where a ``u<k>`` dependency is active. It equals
  ``PlasticDense.counts["updates"]`` (simulators/learning/engine.py). Event name ``syn_update``
  (``LEARNING_EVENT_OF``). ``learning_epochs``: learning epochs run, one per plastic synapse
  block per core holding part of it, on the step that ends the epoch. Both are zero without
  plastic synapses; both default to zeros, so counters saved before learning existed still load.

- ``payload_bits`` (graded spikes, a hook filled by the simulator that sends graded messages):
  payload bits of the graded messages each core sent, (T, n_cores); ``host_payload_bits`` the
  same for the host's input messages, (T,). Binary spikes carry no payload: both default to
  zeros. The report charges them ``[system] payload_pj_per_bit`` (``backends/report/system.py``).

Per-sample figures: ``Counters.per_sample`` (a ``SampleTotals``, set by the event simulator, not
saved with the counters) holds every sample's own whole-run total of each core and host event
(summed over steps and cores) and its own run time (sum over steps of its slowest core + its
NoC + the barrier), so a batched run still gives the distribution over samples.

Per-core arrays are (T, n_cores) int64 **summed over the samples** of the batch (divide by
``n_samples`` for per-sample figures). Times are in nanoseconds, **averaged over samples**:
``core_ns`` (T, n_cores) is each core's time: its own-neuron work and its incoming-message work
(each a sum over events of count x ``time_ns``; ``chips.OWN_EVENTS``) added, or their maximum on
a chip whose cores overlap the two (``[costs] core_overlap``, Loihi 1);
``step_ns`` (T,) is the step time: max over cores of ``core_ns`` + ``noc_ns`` (the longest route
used in the step) + ``barrier_ns`` (mesh-wide barrier for the tiles and chips in use).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ...io import atomic_path

CORE_FIELDS = ("syn_ops_dense", "syn_ops_sparse", "syn_ops_conv", "neurons_active",
               "neurons_inactive", "spikes_out", "axon_out", "axon_in", "hops_ew", "hops_ns",
               "chip_hops")
HOST_FIELDS = ("host_axon_out", "host_hops_ew", "host_hops_ns", "host_chip_hops")
# counter -> event name in the chip's cost table
EVENT_OF = {"syn_ops_dense": "syn_op_dense", "syn_ops_sparse": "syn_op_sparse",
            "syn_ops_conv": "syn_op_conv", "neurons_active": "neuron_active",
            "neurons_inactive": "neuron_inactive", "spikes_out": "spike_out",
            "axon_out": "axon_out", "axon_in": "axon_in", "hops_ew": "hop_ew",
            "hops_ns": "hop_ns", "chip_hops": "chip_hop"}
LEARNING_FIELDS = ("syn_updates", "learning_epochs")
PAYLOAD_FIELDS = ("payload_bits", "host_payload_bits")  # graded-spike payloads (hook)
OPTIONAL_FIELDS = LEARNING_FIELDS + PAYLOAD_FIELDS  # may be absent from saved counters
# learning counter -> event name in the chip's cost table (learning_epochs has no published cost)
LEARNING_EVENT_OF = {"syn_updates": "syn_update"}
UNITS = {**{f: "events, summed over samples"
            for f in CORE_FIELDS + HOST_FIELDS + LEARNING_FIELDS},
         "payload_bits": "bits, summed over samples",
         "host_payload_bits": "bits, summed over samples",
         "core_ns": "ns, mean over samples", "step_ns": "ns, mean over samples",
         "noc_ns": "ns, mean over samples", "barrier_ns": "ns per step"}


@dataclass
class SampleTotals:
    """Per-sample totals: ``events[field]`` (B,) int64 whole-run counts, ``step_ns`` (T, B)."""

    events: dict[str, np.ndarray]
    step_ns: np.ndarray

    @classmethod
    def zeros(cls, steps: int, batch: int, names: tuple[str, ...]) -> SampleTotals:
        return cls({f: np.zeros(batch, np.int64) for f in names}, np.zeros((steps, batch)))

    def add(self, sl: slice, core: np.ndarray, host: np.ndarray, step_ns: np.ndarray) -> None:
        """Add the chunk of steps ``sl``: ``core`` (len(EVENT_OF), B) and ``host``
        (len(HOST_FIELDS), B) event sums, ``step_ns`` (T_chunk, B) step times."""
        for i, f in enumerate(EVENT_OF):
            self.events[f] += core[i]
        for i, f in enumerate(HOST_FIELDS):
            self.events[f] += host[i]
        self.step_ns[sl] = step_ns

    @classmethod
    def concat(cls, parts: list[SampleTotals]) -> SampleTotals:
        """Consecutive windows of steps of one run: event totals added, step times joined."""
        events = {f: sum((p.events[f] for p in parts[1:]), parts[0].events[f].copy())
                  for f in parts[0].events}
        return cls(events, np.concatenate([p.step_ns for p in parts]))

    @property
    def time_ns(self) -> np.ndarray:
        """(B,) each sample's run time, summed step after step (so the same bits whatever the
        batch size; numpy's own reduction order depends on the array's shape)."""
        total = np.zeros(self.step_ns.shape[1])
        for row in self.step_ns:
            total += row
        return total


@dataclass
class Counters:
    """Per-core, per-step activity of one simulation (see the module docstring)."""

    syn_ops_dense: np.ndarray
    syn_ops_sparse: np.ndarray
    syn_ops_conv: np.ndarray
    neurons_active: np.ndarray
    neurons_inactive: np.ndarray
    spikes_out: np.ndarray
    axon_out: np.ndarray
    axon_in: np.ndarray
    hops_ew: np.ndarray
    hops_ns: np.ndarray
    chip_hops: np.ndarray
    host_axon_out: np.ndarray
    host_hops_ew: np.ndarray
    host_hops_ns: np.ndarray
    host_chip_hops: np.ndarray
    core_ns: np.ndarray
    step_ns: np.ndarray
    noc_ns: np.ndarray
    barrier_ns: float
    n_samples: int
    chip: str
    core_layer: list[str] = field(default_factory=list)
    core_chip: list[int] = field(default_factory=list)
    syn_updates: np.ndarray | None = None  # (T, n_cores); None: zeros
    learning_epochs: np.ndarray | None = None  # (T, n_cores); None: zeros
    payload_bits: np.ndarray | None = None  # (T, n_cores); None: zeros
    host_payload_bits: np.ndarray | None = None  # (T,); None: zeros
    #: per-sample totals, set by the event simulator; not saved, not compared
    per_sample: SampleTotals | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in (*LEARNING_FIELDS, "payload_bits"):
            if getattr(self, name) is None:
                setattr(self, name, np.zeros(np.shape(self.syn_ops_dense), np.int64))
        if self.host_payload_bits is None:
            self.host_payload_bits = np.zeros(np.shape(self.host_axon_out), np.int64)

    @classmethod
    def zeros(cls, steps: int, n_cores: int, n_samples: int, barrier_ns: float, chip: str,
              core_layer: list[str], core_chip: list[int],
              per_sample: SampleTotals | None = None) -> Counters:
        z = {f: np.zeros((steps, n_cores), np.int64) for f in CORE_FIELDS}
        h = {f: np.zeros(steps, np.int64) for f in HOST_FIELDS}
        return cls(**z, **h, core_ns=np.zeros((steps, n_cores)), step_ns=np.zeros(steps),
                   noc_ns=np.zeros(steps), barrier_ns=barrier_ns, n_samples=n_samples,
                   chip=chip, core_layer=core_layer, core_chip=core_chip, per_sample=per_sample)

    @classmethod
    def concat(cls, parts: list[Counters]) -> Counters:
        """The counters of consecutive windows of steps of one run, as one run's (a single part
        is returned as it is). Per-step arrays are joined over time; per-sample totals added."""
        if len(parts) == 1:
            return parts[0]
        first = parts[0]
        kw: dict[str, Any] = {}
        for f in fields(cls):
            val = getattr(first, f.name)
            kw[f.name] = (np.concatenate([getattr(p, f.name) for p in parts])
                          if isinstance(val, np.ndarray) else val)
        ps = [p.per_sample for p in parts]
        if all(p is not None for p in ps):
            kw["per_sample"] = SampleTotals.concat(ps)  # type: ignore[arg-type]
        return cls(**kw)

    @property
    def syn_ops(self) -> np.ndarray:
        """All synaptic operations, (T, n_cores)."""
        return self.syn_ops_dense + self.syn_ops_sparse + self.syn_ops_conv

    def totals(self) -> dict[str, float]:
        """Whole-run totals per sample: every event count, and the run time in ns."""
        out = {f: float(getattr(self, f).sum()) / self.n_samples for f in CORE_FIELDS}
        out.update({f: float(getattr(self, f).sum()) / self.n_samples for f in HOST_FIELDS})
        out.update({f: float(getattr(self, f).sum()) / self.n_samples for f in LEARNING_FIELDS})
        out["time_ns"] = float(self.step_ns.sum())
        return out

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for f in _saved():
            val = getattr(self, f.name)
            d[f.name] = val.tolist() if isinstance(val, np.ndarray) else val
        d["units"] = UNITS
        return d

    def save(self, path: str | Path) -> Path:
        """Write ``.json`` (lists) or ``.npz`` (arrays; strings as arrays) by suffix, atomically."""
        dest = Path(path)
        with atomic_path(dest) as tmp:
            if dest.suffix == ".json":
                tmp.write_text(json.dumps(self.to_dict()))
            else:
                arrays = {f.name: np.asarray(getattr(self, f.name)) for f in _saved()}
                with tmp.open("wb") as fh:
                    np.savez(fh, **arrays)
        return dest

    @classmethod
    def load(cls, path: str | Path) -> Counters:
        p = Path(path)
        if p.suffix == ".json":
            d = json.loads(p.read_text())
            d.pop("units", None)
        else:
            with np.load(p) as z:
                d = {k: z[k] for k in z.files}
        kw: dict[str, Any] = {}
        for f in _saved():
            if f.name in OPTIONAL_FIELDS and f.name not in d:
                continue  # saved before on-chip learning / graded payloads: zeros
            v = d[f.name]
            if f.name in ("barrier_ns",):
                kw[f.name] = float(np.asarray(v))
            elif f.name == "n_samples":
                kw[f.name] = int(np.asarray(v))
            elif f.name == "chip":
                kw[f.name] = str(np.asarray(v))
            elif f.name in ("core_layer", "core_chip"):
                kw[f.name] = [type_(x) for x in np.asarray(v).tolist()
                              for type_ in ((str,) if f.name == "core_layer" else (int,))]
            else:
                kw[f.name] = np.asarray(v, np.float64 if f.name.endswith("_ns") else np.int64)
        return cls(**kw)


def _saved() -> tuple[Any, ...]:
    """The fields saved to disk (all but the run-only ``per_sample``)."""
    return tuple(f for f in fields(Counters) if f.name != "per_sample")
