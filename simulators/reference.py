"""The reference executor: the living definition of every op's semantics.

A time-stepped executor over the per-op kernels of ``kernels_float`` (float64) and
``kernels_loihi`` (exact integers reproducing Lava's ``fixed_pt`` models). Each step:

1. ops with latency 1 (loihi synapses, delays >= 1) emit what they computed at the previous step;
2. the remaining ops run in ``graph.schedule()`` order, each on the sum of its incoming values
   (edges marked ``delayed`` carry the source's previous output);
3. ops with latency 1 consume this step's input.

All arrays are time-major, (T, B, *shape).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from ..errors import SnncError
from ..ir import Graph, flatten_subgraphs
from .kernels import kernel_for
from .result import SimResult
from .stimulus import parse_probes, stimuli

__all__ = ["Executor", "SimResult", "run_steps", "simulate"]


class Executor:
    """Step-by-step execution of a graph for a batch; ``simulate`` drives one over time.

    ``kernels`` may override the kernel of chosen nodes (the learning runner swaps in plastic
    synapses this way).
    """

    def __init__(self, graph: Graph, batch: int, kernels: Mapping[str, Any] | None = None) -> None:
        self.graph = flatten_subgraphs(graph)
        self.batch = batch
        nodes = self.graph.nodes
        sched = self.graph.schedule()
        self.order = [n for n in sched.order if nodes[n].latency == 0]
        self.late = [n for n in sched.order if nodes[n].latency == 1]
        self.kern = {n: kernel_for(nodes[n].op, n) for n in nodes}
        self.kern.update(kernels or {})
        self.preds = {n: [(a, (a, n) in sched.delayed) for a, b in self.graph.edges if b == n]
                      for n in nodes}
        self.hooked = {n: self._single_successor(n) for n in nodes
                       if hasattr(self.kern[n], "after_step")}
        self.state = {n: self.kern[n].init(nodes[n], batch) for n in nodes}
        self.prev = {n: np.zeros((batch, *nodes[n].out_shape)) for n in nodes}

    def _single_successor(self, name: str) -> str:
        succ = self.graph.successors(name)
        if len(succ) != 1:
            raise SnncError(f"node {name!r} ({self.graph.nodes[name].op}) must feed exactly one "
                            f"node, it feeds {succ}")
        return succ[0]

    def reset(self) -> None:
        """Start a new sample: neuron and synapse state restart; learned weights stay."""
        nodes = self.graph.nodes
        self.state = {n: self.kern[n].new_sample(nodes[n], self.state[n], self.batch)
                      for n in nodes}
        self.prev = {n: np.zeros((self.batch, *nodes[n].out_shape)) for n in nodes}

    def step(self, t: int, stim: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Advance one step; ``stim`` maps input names to (B, *shape). Returns every output."""
        nodes, kern, state = self.graph.nodes, self.kern, self.state
        cur: dict[str, np.ndarray] = {n: kern[n].emit(nodes[n], state[n]) for n in self.late}
        for n in self.order:
            x = _gather(n, nodes[n], self.preds[n], cur, self.prev, stim, self.batch)
            cur[n], state[n] = kern[n].step(nodes[n], x, state[n], t)
        for n in self.late:
            x = _gather(n, nodes[n], self.preds[n], cur, self.prev, stim, self.batch)
            state[n] = kern[n].update(nodes[n], x, state[n], t)
        for n, post in self.hooked.items():
            kern[n].after_step(nodes[n], state[n], cur[post], t)
        self.prev = cur
        return cur

    def probe(self, name: str, var: str, cur: Mapping[str, np.ndarray]) -> np.ndarray:
        if var == "s":
            return np.array(cur[name])
        val = self.kern[name].probe(var, self.state[name])
        if val is None:
            raise SnncError(f"probe {name}.{var}: node {name!r} has no state variable {var!r}")
        return np.array(val)


def simulate(graph: Graph, inputs: np.ndarray | Mapping[str, np.ndarray], steps: int | None = None,
             probes: Iterable[str] = ()) -> SimResult:
    """Run ``graph`` on ``inputs`` ((T, B, *shape) per input node) for ``steps`` steps.

    Inputs shorter than ``steps`` are padded with zeros. Probes are ``"node.var"`` with var
    ``s`` (the node's output), or a state variable: ``v``, ``i`` (float neurons), ``u``/``v``
    (loihi.lif). Probed state is read after the node's update in that step.
    """
    graph = flatten_subgraphs(graph)
    probes = list(probes)
    batch, frames = run_steps(graph, inputs, steps, probes)
    rec_out: dict[str, list[np.ndarray]] = {o: [] for o in graph.outputs}
    rec_probe: dict[str, list[np.ndarray]] = {p: [] for p, _, _ in parse_probes(graph, probes)}
    for _, cur, probed in frames:
        for o in rec_out:
            rec_out[o].append(np.array(cur[o]))
        for p in rec_probe:
            rec_probe[p].append(probed[p])
    nodes = graph.nodes
    return SimResult({o: _stack(v, batch, nodes[o].out_shape) for o, v in rec_out.items()},
                     {p: np.stack(v) if v else np.zeros((0, batch)) for p, v in rec_probe.items()})


def run_steps(graph: Graph, inputs: np.ndarray | Mapping[str, np.ndarray],
              steps: int | None = None, probes: Iterable[str] = ()
              ) -> tuple[int, Iterator[tuple[int, dict[str, np.ndarray], dict[str, np.ndarray]]]]:
    """(batch, an iterator over steps of ``(t, every node's output, {probe: value})``): the
    same run as ``simulate`` without recording, for callers that reduce each step at once and
    so hold one step, not T (the fidelity report, quantization's calibration statistics)."""
    graph = flatten_subgraphs(graph)
    stim = stimuli(graph, inputs)
    t_in = max((x.shape[0] for x in stim.values()), default=0)
    steps = t_in if steps is None else int(steps)
    batch = next(iter(stim.values())).shape[1] if stim else 1
    ex = Executor(graph, batch)
    plist = parse_probes(graph, probes)

    def frames() -> Iterator[tuple[int, dict[str, np.ndarray], dict[str, np.ndarray]]]:
        for t in range(steps):
            frame = {k: (x[t] if t < x.shape[0] else np.zeros_like(x[0])) for k, x in stim.items()}
            cur = ex.step(t, frame)
            yield t, cur, {p: ex.probe(n, var, cur) for p, n, var in plist}

    return batch, frames()


def _gather(name: str, node: Any, preds: list[tuple[str, bool]], cur: Mapping[str, np.ndarray],
            prev: Mapping[str, np.ndarray], stim: Mapping[str, np.ndarray], batch: int) -> Any:
    if node.op == "input":
        return stim[name]
    vals = [prev[a] if delayed else cur[a] for a, delayed in preds]
    if not vals:
        return np.zeros((batch, *node.in_shape))
    if node.multi_input:
        return vals
    total = vals[0]
    for v in vals[1:]:
        total = total + v
    return total


def _stack(frames: list[np.ndarray], batch: int, shape: tuple[int, ...]) -> np.ndarray:
    return np.stack(frames) if frames else np.zeros((0, batch, *shape))
