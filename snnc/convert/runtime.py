"""Running a converted SNN on static inputs, with the two-phase methods SRP and COS.

The input is presented as the same analog current at every step (direct encoding, as in the
conversion papers); the prediction is the output summed over the steps. ``run`` returns the
cumulative output after each step, so one run of T_max steps gives the result for every
T <= T_max.

- ``plain``: the graph as converted (v0 as planned: 0, or theta/2 with OPI / QCFS).
- ``srp`` (residual membrane potential, Hao et al., AAAI 2023): pre-simulate ``tau`` steps,
  keep ``mask = v > 1e-3 theta`` per neuron and sample (neurons whose residual potential went
  to zero or below fired spikes they should not have), restart with v0 = theta/2 and multiply
  spikes by its mask for the T steps.
- ``cos`` (offset-spike calibration, Hao et al., ICLR 2023): starting from v0 = theta/2, layer by
  layer, pre-simulate ``tau`` steps and read each neuron's residual potential; below 0 means
  one spike too many, so its v0 is lowered by one threshold; at or above the threshold means
  one spike too few, so v0 is raised by one. Then run T steps from the calibrated v0.

Both need a per-sample host-driven restart: a pre-run, a read of every neuron's potential, then
new initial potentials (COS) or masks on the neurons' outputs (SRP) for the run proper. Here they
run in snnc's reference simulator on the float SNN; ``convert/chip.py`` runs the same two phases
in the chip's fixed-point arithmetic (the lowered graph). ``two_phase`` holds the procedure
for both; the latency they report is ``tau + T``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import SnncError
from ..ir import Graph
from ..simulators.kernels import KERNELS, Kernel

METHODS = ("plain", "srp", "cos")


class _Wrapped(Kernel):
    """A neuron kernel (default the float ``if``) with a given initial v and an optional output
    mask."""

    def __init__(self, v0: np.ndarray | None = None, mask: np.ndarray | None = None,
                 op: str = "if") -> None:
        self.base, self.v0, self.mask = KERNELS[op], v0, mask

    def init(self, node: Any, batch: int) -> Any:
        st = self.base.init(node, batch)
        if self.v0 is not None:
            st["v"] = np.array(np.broadcast_to(self.v0, st["v"].shape), dtype=st["v"].dtype)
        return st

    def step(self, node: Any, x: np.ndarray, st: Any, t: int) -> tuple[np.ndarray, Any]:
        iv = int(getattr(node, "reset_interval", 0) or 0)
        if self.v0 is not None and iv > 0 and (t + 1) % iv == int(node.reset_offset) % iv:
            # a lowered layer restarts when its input first arrives (alignment): from our v0
            st = {k: np.zeros_like(v) for k, v in st.items()}
            st["v"] = np.array(np.broadcast_to(self.v0, st["v"].shape), dtype=st["v"].dtype)
            node = node.replace(reset_interval=0)
        y, st = self.base.step(node, x, st, t)
        return (y if self.mask is None else y * self.mask), st


def _neurons(graph: Graph) -> list[str]:
    return [n for n in graph.schedule().order if graph.nodes[n].op == "if"]


def _executor(graph: Graph, batch: int, kernels: dict[str, Kernel] | None = None) -> Any:
    from ..simulators.reference import Executor

    return Executor(graph, batch, kernels)


def _steps(ex: Any, x: np.ndarray, steps: int, outputs: list[str]) -> np.ndarray:
    """(steps, B, *out) cumulative sum of the (single) output."""
    out = []
    total = None
    for t in range(steps):
        cur = ex.step(t, {"input": x})
        y = np.array(cur[outputs[0]])
        total = y if total is None else total + y
        out.append(total.copy())
    return np.stack(out)


def _residuals(graph: Graph, feed: dict[str, np.ndarray], tau: int, kernels: dict[str, Kernel],
               depth: dict[str, int], batch: int) -> dict[str, np.ndarray]:
    """Each neuron's v once it has integrated ``tau`` steps of input (step depth + tau - 1)."""
    ex = _executor(graph, batch, kernels)
    out: dict[str, np.ndarray] = {}
    for t in range(tau + max(depth.values(), default=0)):
        ex.step(t, feed)
        for n, d in depth.items():
            if t == d + tau - 1:
                out[n] = np.array(ex.state[n]["v"])
    return out


def two_phase(graph: Graph, feed: dict[str, np.ndarray], batch: int, method: str, tau: int,
              thr: dict[str, np.ndarray], depth: dict[str, int], op: str = "if"
              ) -> dict[str, Kernel]:
    """The kernels of the run proper after SRP's or COS's pre-simulation (module docstring).

    ``thr``: each neuron layer's threshold in the units of its ``v``; ``depth``: the step at
    which it first sees the input (0 in the float SNN, the layer's latency on the chip);
    ``feed``: the (constant) input of every step; ``op``: the neurons' kernel."""
    neurons = list(thr)
    shape = {n: (batch, *graph.nodes[n].shape) for n in neurons}
    half = {n: np.broadcast_to(thr[n] / 2 if op == "if" else thr[n] // 2, shape[n]).copy()
            for n in neurons}
    if method == "plain":
        return {}
    if method == "srp":
        res = _residuals(graph, feed, tau, {n: _Wrapped(half[n], op=op) for n in neurons},
                         depth, batch)
        return {n: _Wrapped(half[n], mask=(res[n] > 1e-3 * thr[n]), op=op) for n in neurons}
    v0 = dict(half)
    for n in neurons:  # layer by layer, each with the calibrated v0 of the layers before it
        res = _residuals(graph, feed, tau, {m: _Wrapped(v0[m], op=op) for m in neurons},
                         {n: depth[n]}, batch)
        r = res[n]
        v0[n] = v0[n] - (r < 0) * thr[n] + (r >= thr[n]) * thr[n]
    return {n: _Wrapped(v0[n], op=op) for n in neurons}


def run(graph: Graph, x: np.ndarray, steps: int, method: str = "plain",
        tau: int = 8) -> np.ndarray:
    """Cumulative output (steps, N, *out) of the SNN on static input ``x`` (N, *shape)."""
    if method not in METHODS:
        raise SnncError(f"unknown conversion method {method!r}; choose one of {METHODS}")
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise SnncError("accuracy runs need a graph with one input and one output")
    x = np.asarray(x, dtype=np.float64)
    neurons = _neurons(graph)
    thr = {n: np.asarray(graph.nodes[n].threshold, np.float64) for n in neurons}
    kernels = two_phase(graph, {"input": x}, len(x), method, tau, thr, dict.fromkeys(neurons, 0))
    ex = _executor(graph, len(x), kernels)
    return _steps(ex, x, steps, graph.outputs)


def ann_output(graph: Graph, x: np.ndarray) -> np.ndarray:
    """The float ANN's output (N, *out) on static input ``x``."""
    from ..simulators.reference import simulate

    res = simulate(graph, np.asarray(x, dtype=np.float64)[None], 1)
    return res.outputs[graph.outputs[0]][0]
