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

Both need a per-sample host-driven restart, so they run in snnc's reference simulator only (the
chip runs the ``plain`` graph); the latency they report is ``tau + T``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import SnncError
from ..ir import Graph
from ..simulators.kernels import KERNELS, Kernel

METHODS = ("plain", "srp", "cos")


class _Wrapped(Kernel):
    """The float neuron kernel with a given initial v and an optional output mask."""

    def __init__(self, v0: np.ndarray | None = None, mask: np.ndarray | None = None) -> None:
        self.base, self.v0, self.mask = KERNELS["if"], v0, mask

    def init(self, node: Any, batch: int) -> Any:
        st = self.base.init(node, batch)
        if self.v0 is not None:
            st["v"] = np.array(np.broadcast_to(self.v0, st["v"].shape), dtype=np.float64)
        return st

    def step(self, node: Any, x: np.ndarray, st: Any, t: int) -> tuple[np.ndarray, Any]:
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


def _residuals(graph: Graph, x: np.ndarray, tau: int, kernels: dict[str, Kernel]) -> Any:
    ex = _executor(graph, len(x), kernels)
    for t in range(tau):
        ex.step(t, {"input": x})
    return ex


def run(graph: Graph, x: np.ndarray, steps: int, method: str = "plain",
        tau: int = 8) -> np.ndarray:
    """Cumulative output (steps, N, *out) of the SNN on static input ``x`` (N, *shape)."""
    if method not in METHODS:
        raise SnncError(f"unknown conversion method {method!r}; choose one of {METHODS}")
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise SnncError("accuracy runs need a graph with one input and one output")
    x = np.asarray(x, dtype=np.float64)
    neurons = _neurons(graph)
    kernels: dict[str, Kernel] = {}
    thr = {n: np.asarray(graph.nodes[n].threshold, np.float64) for n in neurons}
    if method == "srp":
        half = {n: _Wrapped(v0=0.5 * thr[n]) for n in neurons}
        ex = _residuals(graph, x, tau, half)  # type: ignore[arg-type]
        kernels = {n: _Wrapped(v0=0.5 * thr[n], mask=(ex.state[n]["v"] > 1e-3 * thr[n]))
                   for n in neurons}
    elif method == "cos":
        v0 = {n: np.broadcast_to(0.5 * thr[n], (len(x), *graph.nodes[n].shape)).copy()
              for n in neurons}
        for n in neurons:
            ex = _residuals(graph, x, tau, {m: _Wrapped(v0=v0[m]) for m in neurons})
            r = ex.state[n]["v"]
            v0[n] = v0[n] - (r < 0) * thr[n] + (r >= thr[n]) * thr[n]
        kernels = {n: _Wrapped(v0=v0[n]) for n in neurons}
    ex = _executor(graph, len(x), kernels)
    return _steps(ex, x, steps, graph.outputs)


def ann_output(graph: Graph, x: np.ndarray) -> np.ndarray:
    """The float ANN's output (N, *out) on static input ``x``."""
    from ..simulators.reference import simulate

    res = simulate(graph, np.asarray(x, dtype=np.float64)[None], 1)
    return res.outputs[graph.outputs[0]][0]
