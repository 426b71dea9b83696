"""Float vs fixed point: the fidelity report of ``snnc compile`` and graph comparisons.

Latency convention (see ``latency.py``): node n of a lowered graph at step ``t + D(n)``
corresponds to the float graph at step ``t``. The float graph runs T steps; the lowered graph
runs T + L steps (L = max D) on the same stimuli encoded as ``loihi.inputs`` says and padded with
zeros, and its traces are cut to ``[D(n), D(n) + T)`` before comparing. Readout outputs (non-
spiking neurons) are read from the readout's ``v`` times the stored scale.

Per layer (spiking neurons present in both graphs): spike counts float and fixed, the fraction
of equal spike entries, and ``near_threshold``: the fraction of neurons whose float pre-reset
potential came within one threshold LSB (64 / S, the vth step) of the threshold at some step,
the neurons a deployment may flip. Per output: spike or value agreement, and the classification
agreement (argmax over the time-summed output, per sample). Clipped weights come from
``loihi.layers``. ``alignment`` lists what lowering inserted to align paths of different
latency (``align.py``): synapse delays and relay neurons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..ir import Graph
from ..simulators.reference import simulate
from .fidelity_stats import bounded_report
from .graphutil import is_spiking
from .qinputs import encode_inputs


def is_lowered(g: Graph) -> bool:
    return any(n.op.startswith("loihi.") for n in g.nodes.values())


def _as_dict(g: Graph, inputs: Mapping[str, np.ndarray] | np.ndarray) -> dict[str, np.ndarray]:
    if isinstance(inputs, Mapping):
        return {k: np.asarray(v) for k, v in inputs.items()}
    return {g.inputs[0]: np.asarray(inputs)}


@dataclass
class Runs:
    """Aligned float and fixed-point traces ``float_[key]``, ``fixed[key]``, each (T, B, ...)."""

    steps: int
    latency: int
    float_: dict[str, np.ndarray]
    fixed: dict[str, np.ndarray]
    input_rates: dict[str, float] = field(default_factory=dict)  # non-zero fraction per input


def run_aligned(float_graph: Graph, lowered: Graph, inputs: Mapping[str, np.ndarray] | np.ndarray,
                steps: int | None = None, layers: list[str] | None = None) -> Runs:
    """Simulate both graphs and align the lowered traces (outputs and ``layer.s``)."""
    stim = _as_dict(float_graph, inputs)
    t = steps or max(x.shape[0] for x in stim.values())
    depth = dict(lowered.metadata.get("loihi.latency", {}))
    lat = max(depth.values(), default=0)
    readout = dict(lowered.metadata.get("loihi.readout", {}))
    layers = layers or []
    f_probes = [f"{n}.{v}" for n in layers for v in
                (("s",) if float_graph.nodes[n].op == "threshold" else ("s", "v", "i"))]
    fres = simulate(float_graph, stim, steps=t, probes=f_probes)
    l_probes = [f"{n}.s" for n in layers] + [f"{r['node']}.v" for r in readout.values()]
    enc = encode_inputs(lowered, stim)
    lres = simulate(lowered, enc, steps=t + lat, probes=l_probes)
    fixed = {}
    for o, arr in lres.outputs.items():
        if o in readout:
            r = readout[o]
            arr = lres.probes[f"{r['node']}.v"] * r["scale"]
            arr = arr.reshape(arr.shape[:2] + float_graph.nodes[o].out_shape)
        d = depth.get(o, lat)
        fixed[o] = arr[d:d + t]
    for n in layers:
        d = depth.get(n, 0)
        fixed[f"{n}.s"] = lres.probes[f"{n}.s"][d:d + t]
    float_ = {**fres.outputs, **fres.probes}
    return Runs(t, lat, float_, fixed, _input_rates(enc, t))


def _input_rates(enc: Mapping[str, np.ndarray], t: int) -> dict[str, float]:
    """Non-zero fraction of each encoded input over its first ``t`` steps."""
    return {k: float((np.asarray(v)[:t] != 0).mean()) if np.size(v) else 0.0
            for k, v in enc.items()}


def _alignment(lowered: Graph) -> dict[str, Any]:
    """What lowering inserted to align paths: synaptic delays and relay neurons."""
    meta = dict(lowered.metadata.get("loihi.alignment", {}))
    return {"delays": dict(meta.get("delays", {})),
            "relays": {k: list(v) for k, v in dict(meta.get("relays", {})).items()}}


def fidelity_report(float_graph: Graph, lowered: Graph,
                    inputs: Mapping[str, np.ndarray] | np.ndarray,
                    steps: int | None = None) -> dict[str, Any]:
    """The per-layer and per-output comparison described in the module docstring."""
    names = [n for n, node in float_graph.nodes.items()
             if is_spiking(node) and n in lowered.nodes and lowered.nodes[n].op == "loihi.lif"]
    stim = _as_dict(float_graph, inputs)
    t = steps or max(x.shape[0] for x in stim.values())
    enc = encode_inputs(lowered, stim)
    layers, outputs, batch = bounded_report(float_graph, lowered, stim, enc, t, names)
    agree = [r["classification_agreement"] for r in outputs.values()
             if "classification_agreement" in r]
    return {"steps": t, "latency": max(dict(lowered.metadata.get("loihi.latency", {})).values(),
                                       default=0), "batch": batch,
            "convention": "lowered step t + D(n) == float step t; lowered run T + L steps",
            "layers": layers, "outputs": outputs,
            "alignment": _alignment(lowered), "input_rates": _input_rates(enc, t),
            "classification_agreement": agree[0] if agree else None}


def measured_rates(lowered: Graph, inputs: Mapping[str, np.ndarray] | np.ndarray,
                   steps: int | None = None, max_samples: int = 8,
                   max_steps: int = 256) -> dict[str, float]:
    """Non-zero outputs (spikes, graded messages) per neuron per step of every neuron node of an
    already-lowered graph (``loihi.*`` nodes without weights) and of its inputs, on the
    reference simulator: what the fidelity report measures for graphs snnc lowers itself, for a
    graph that arrives lowered (a lava-dl ``.net`` file). At most ``max_samples`` samples and
    ``max_steps`` steps (the rates are for balancing, an estimate: a bounded run suffices)."""
    stim = {k: np.asarray(v)[:, :max_samples] for k, v in _as_dict(lowered, inputs).items()}
    enc = encode_inputs(lowered, stim)
    t = min(steps or max((x.shape[0] for x in enc.values()), default=0), max_steps)
    names = [n for n, node in lowered.nodes.items()
             if node.op.startswith("loihi.") and getattr(node, "weight", None) is None]
    res = simulate(lowered, enc, steps=t, probes=[f"{n}.s" for n in names])
    out = {n: float((res.probes[f"{n}.s"] != 0).mean()) if res.probes[f"{n}.s"].size else 0.0
           for n in names}
    out.update({k: float((np.asarray(v)[:t] != 0).mean()) if np.size(v) else 0.0
                for k, v in enc.items()})
    return out


@dataclass
class Comparison:
    identical: bool
    agreement: float
    first_difference: str | None

    def summary(self) -> dict[str, Any]:
        return {"identical": self.identical, "agreement": self.agreement,
                "first_difference": self.first_difference}


def compare_graphs(before: Graph, after: Graph, inputs: Mapping[str, np.ndarray] | np.ndarray,
                   steps: int | None = None) -> Comparison:
    """Outputs of ``before`` vs ``after`` on the reference (aligned if ``after`` is lowered)."""
    pairs: dict[str, tuple[Any, Any]]
    if is_lowered(after) and not is_lowered(before):
        runs = run_aligned(before, after, inputs, steps)
        pairs = {o: (runs.float_[o], runs.fixed[o]) for o in before.outputs}
    else:
        stim = _as_dict(before, inputs)
        if is_lowered(before):  # both lowered: the chip sees encoded inputs
            stim = encode_inputs(before, stim)
        a, b = simulate(before, stim, steps), simulate(after, stim, steps)
        pairs = {o: (a.outputs[o], b.outputs.get(o)) for o in before.outputs}
    first, equal, total = None, 0, 0
    for o, (x, y) in pairs.items():
        if y is None or x.shape != y.shape:
            return Comparison(False, 0.0, f"output {o!r} missing or reshaped")
        same = x == y
        equal, total = equal + int(same.sum()), total + same.size
        if first is None and not same.all():
            t = int(np.argwhere(~same)[0][0])
            first = f"output {o!r} differs first at step {t}"
    return Comparison(first is None, equal / total if total else 1.0, first)
