"""Online learning on a lowered graph, sample after sample, as the chip would do it.

The chosen ``loihi.dense`` layers become ``PlasticDense`` blocks; everything else runs on the
reference kernels. Each sample starts from zero neuron state (the chip's per-sample reset) while
weights and tags carry over. A three-factor rule gets its third factor from the label:
``error`` delivers y1 = 64 + e to the post neurons: e = +c on the target neuron when it is silent
and not yet ahead in spike count, -c on any other neuron that spikes while it is level with or
ahead of the target (learning stops once the sample is classified with a margin); ``reward`` delivers y2 = 64 +/- c by whether
the winning neuron so far is the target.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import SnncError
from ...ir import Graph, LoihiDense
from ..kernels import Kernel
from ..reference import Executor
from .builtin import ERROR_OFFSET, RuleSpec
from .engine import PlasticDense

log = logging.getLogger(__name__)


class _PlasticKernel(Kernel):
    """Stands in for a loihi.dense node: emits the block's a_buf, stashes its input."""

    def __init__(self, block: PlasticDense) -> None:
        self.block = block

    def init(self, node: Any, batch: int) -> Any:
        self.block.a_buf[:] = 0
        return {"x": np.zeros(node.in_shape)}

    def emit(self, node: Any, state: Any) -> np.ndarray:
        return self.block.a_buf[None].copy()

    def update(self, node: Any, x: np.ndarray, state: Any, t: int) -> Any:
        state["x"] = np.asarray(x)[0]
        return state


@dataclass
class LearningOutcome:
    graph: Graph
    curve: list[tuple[int, float]] = field(default_factory=list)  # (samples seen, accuracy)
    blocks: dict[str, PlasticDense] = field(default_factory=dict)
    steps: int = 0


def _post_of(graph: Graph, layer: str) -> str:
    if layer not in graph.nodes or graph.nodes[layer].op != "loihi.dense":
        raise SnncError(f"layer {layer!r} is not a loihi.dense layer of the compiled graph; "
                        f"plastic layers: {[n for n, v in graph.nodes.items() if v.op == 'loihi.dense']}")
    succ = graph.successors(layer)
    if len(succ) != 1 or graph.nodes[succ[0]].op != "loihi.lif":
        raise SnncError(f"layer {layer!r} must feed exactly one loihi.lif population")
    return succ[0]


def third_factor(kind: str | None, post: np.ndarray, label: int, counts: np.ndarray,
                 scale: int) -> dict[int, np.ndarray] | None:
    """What is delivered this step: y1 (row 0) for errors, y2 (row 1) for rewards, offset 64."""
    if kind is None:
        return None
    target = np.zeros(post.shape, np.int64)
    target[label] = 1
    if kind == "error":
        mine = counts[label]
        rival = np.max(np.delete(counts, label)) if counts.size > 1 else -1
        push = target * (post == 0) * (mine <= rival)
        pull = (1 - target) * (post != 0) * (counts >= mine)
        return {0: np.clip(ERROR_OFFSET + scale * (push - pull), 0, 127)}
    win = int(np.argmax(counts)) if counts.any() else -1
    return {1: np.full(post.shape, np.clip(ERROR_OFFSET + (scale if win == label else -scale),
                                           0, 127))}


class OnlineLearner:
    """Runs samples through a graph whose ``layers`` learn with ``spec``."""

    def __init__(self, graph: Graph, layers: Sequence[str], spec: RuleSpec,
                 readout: str | None = None, error_scale: int = 32) -> None:
        self.graph, self.spec, self.scale = graph, spec, error_scale
        self.post = {name: _post_of(graph, name) for name in layers}
        self.readout = readout or self.post[layers[-1]]
        self.blocks = {name: self._block(graph.nodes[name]) for name in layers}
        kernels = {name: _PlasticKernel(b) for name, b in self.blocks.items()}
        self.ex = Executor(graph, 1, kernels)
        self.steps = 0

    def _block(self, node: LoihiDense) -> PlasticDense:
        return PlasticDense(weights=node.weight, rule=self.spec.rule, weight_exp=node.weight_exp,
                            num_weight_bits=node.num_weight_bits,
                            num_message_bits=node.num_message_bits,
                            flip_threshold=self.spec.flip_threshold)

    def run_sample(self, x: np.ndarray, label: int | None, learn: bool) -> np.ndarray:
        """x: (T, *shape) for the single input. Returns the readout's spike counts.

        ``self.first`` holds each readout neuron's first spike step (T if it never spiked).
        """
        self.ex.reset()
        source = self.graph.inputs[0]
        counts = np.zeros(self.graph.nodes[self.readout].out_shape)
        self.first = np.full(counts.shape, x.shape[0])
        for t in range(x.shape[0]):
            cur = self.ex.step(t, {source: x[t][None]})
            out = cur[self.readout][0]
            counts += out
            self.first = np.where((out != 0) & (self.first == x.shape[0]), t, self.first)
            if learn:
                self._learn_step(cur, label, counts, self.steps + t)
            else:
                for name, block in self.blocks.items():
                    block.accumulate(self.ex.state[name]["x"])
        self.steps += x.shape[0]
        return counts

    def _learn_step(self, cur: dict[str, np.ndarray], label: int | None, counts: np.ndarray,
                    t: int) -> None:
        """One step of learning at chip time ``t`` (time runs on across samples)."""
        for name, block in self.blocks.items():
            post = cur[self.post[name]][0]
            third = None
            if self.post[name] == self.readout and label is not None:
                third = third_factor(self.spec.third_factor, post, label, counts, self.scale)
            block.spike_phase(self.ex.state[name]["x"], post, t, third)
            if block.is_learning_step(t):
                block.learning_phase(t)

    def predict(self, x: np.ndarray) -> int:
        """Most spikes wins; ties go to the earliest first spike; -1 if the tie remains."""
        counts = self.run_sample(x, None, learn=False)
        score = counts * (x.shape[0] + 1) - self.first
        top = np.flatnonzero(score == score.max())
        return int(top[0]) if counts.max() > 0 and len(top) == 1 else -1

    def accuracy(self, xs: np.ndarray, ys: np.ndarray) -> float:
        """Classification accuracy of ``predict`` (an unresolved tie counts as wrong)."""
        hits = sum(int(self.predict(x) == y) for x, y in zip(xs, ys, strict=True))
        return hits / max(len(ys), 1)

    def learned_graph(self) -> Graph:
        ed = self.graph.edit()
        for name, block in self.blocks.items():
            ed.replace(name, self.graph.nodes[name].replace(weight=block.weights))
        return ed.finish()


def train(learner: OnlineLearner, xs: np.ndarray, ys: np.ndarray, epochs: int,
          eval_set: tuple[np.ndarray, np.ndarray] | None = None, eval_every: int = 0,
          progress: Callable[[int], None] | None = None) -> list[tuple[int, float]]:
    """Present every sample ``epochs`` times, learning online; returns the accuracy curve."""
    curve: list[tuple[int, float]] = []
    seen = 0
    if eval_set is not None:
        curve.append((0, learner.accuracy(*eval_set)))
    for _ in range(epochs):
        for x, y in zip(xs, ys, strict=True):
            learner.run_sample(x, int(y), learn=True)
            seen += 1
            if progress:
                progress(1)
            if eval_set is not None and eval_every and seen % eval_every == 0:
                curve.append((seen, learner.accuracy(*eval_set)))
    if eval_set is not None and (not curve or curve[-1][0] != seen):
        curve.append((seen, learner.accuracy(*eval_set)))
    return curve
