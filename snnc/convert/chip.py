"""A converted SNN's methods on the chip's arithmetic: the lowered graph (Loihi 2) on static input.

``scores`` runs the lowered graph in snnc's fixed-point reference simulator (bit-identical to
loihi-sim, see ``simulators/event``) with the input encoded as the chip receives it, and
returns the readout summed over T for every T up to ``steps``. ``plain`` is the compiled
program as it stands. SRP and COS are the host-driven two-phase runs of ``runtime.two_phase``
in integer units: a pre-run of tau + L steps (L: the lowered graph's latency; layer k's
potential is read once it has integrated tau input steps), then per sample the host rewrites
initial potentials (COS: v0 = vth/2 -/+ vth per neuron) or masks neurons' outputs (SRP) and the
run proper starts from a reset. On a chip that costs, per sample, the pre-run (COS: one per
converted layer, each tau + L steps), a read of every converted neuron's v and a write of its
v (COS) or of its output mask (SRP) from the host, before the T + L steps of the run; snnc
prices the run proper only (the report's energy per T is the ``plain`` program's).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import SnncError
from ..ir import Graph
from .runtime import METHODS, _executor, two_phase


def converted_neurons(lowered: Graph) -> list[str]:
    """The ``loihi.lif`` layers that conversion made (subtract reset), in schedule order."""
    conv = set(dict(lowered.metadata.get("converted", {})))
    order = lowered.schedule().order
    return [n for n in order if lowered.nodes[n].op == "loihi.lif"
            and (n in conv or (not conv and getattr(lowered.nodes[n], "reset", "") ==
                               "subtract"))]


def two_phase_kernels(lowered: Graph, chip_x: np.ndarray, method: str, tau: int) -> dict:
    """Kernels of the run proper (SRP masks / COS initial potentials) for encoded input."""
    neurons = converted_neurons(lowered)
    depth = dict(lowered.metadata.get("loihi.latency", {}))
    thr = {n: np.asarray(lowered.nodes[n].vth, np.int64) << 6 for n in neurons}
    return two_phase(lowered, {lowered.inputs[0]: chip_x}, len(chip_x), method, tau, thr,
                     {n: int(depth.get(n, 0)) for n in neurons}, op="loihi.lif")


def scores(lowered: Graph, chip_x: np.ndarray, steps: int, method: str = "plain",
           tau: int = 8) -> np.ndarray:
    """(steps, N, classes): the chip's readout summed over 1..steps on static input ``chip_x``
    (N, *shape), encoded as the chip receives it (``passes.qinputs.encode_inputs``)."""
    if method not in METHODS:
        raise SnncError(f"unknown conversion method {method!r}; choose one of {METHODS}")
    if len(lowered.inputs) != 1 or len(lowered.outputs) != 1:
        raise SnncError("accuracy runs need a graph with one input and one output")
    inp, out = lowered.inputs[0], lowered.outputs[0]
    chip_x = np.asarray(chip_x)
    kernels = two_phase_kernels(lowered, chip_x, method, tau)
    depth = dict(lowered.metadata.get("loihi.latency", {}))
    d = int(depth.get(out, max(depth.values(), default=0)))
    readout: Any = dict(lowered.metadata.get("loihi.readout", {})).get(out)
    ex = _executor(lowered, len(chip_x), kernels)
    rows = []
    for t in range(steps + d):
        cur = ex.step(t, {inp: chip_x})
        if t < d:
            continue
        y = (np.asarray(ex.state[readout["node"]]["v"], np.float64) * readout["scale"]
             if readout else np.asarray(cur[out], np.float64))
        rows.append(y.reshape(len(chip_x), -1))
    return np.cumsum(np.stack(rows), axis=0)
