"""Online learning on a lowered graph, sample after sample, as the chip would do it.

The chosen ``loihi.dense`` layers become ``PlasticDense`` blocks; everything else runs on the
reference kernels. Each sample starts from zero neuron state (the chip's per-sample reset) while
weights and tags carry over. A three-factor rule gets its third factor from the label:
``error`` delivers y1 = 64 + e to the post neurons: e = +c on the target neuron when it is silent
and not yet ahead in spike count, -c on any other neuron that spikes while it is level with or
ahead of the target (learning stops once the sample is classified with a margin); ``reward``
delivers y2 = 64 +/- c by whether the winning neuron so far is the target.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ...errors import SnncError
from ...ir import Graph, LoihiPlasticDense
from ..reference import Executor
from .builtin import ERROR_OFFSET, RuleSpec
from .engine import PlasticDense


def make_plastic(graph: Graph, layers: Sequence[str], spec: RuleSpec) -> Graph:
    """Turn the chosen ``loihi.dense`` layers into ``loihi.plastic_dense`` with ``spec``'s rule."""
    ed = graph.edit()
    r = spec.rule
    for name in layers:
        _post_of(graph, name)
        node = graph.nodes[name]
        ed.replace(name, LoihiPlasticDense(  # learning uses the full 8-bit weight field
            weight=node.weight, weight_exp=node.weight_exp, num_weight_bits=8,
            num_message_bits=node.num_message_bits, dw=r.dw or "", dd=r.dd or "", dt=r.dt or "",
            x_impulse=(r.x1_impulse, r.x2_impulse), x_tau=(r.x1_tau, r.x2_tau),
            y_impulse=(r.y1_impulse, r.y2_impulse, r.y3_impulse),
            y_tau=(r.y1_tau, r.y2_tau, r.y3_tau), t_epoch=r.t_epoch, rng_seed=r.rng_seed,
            third_factor=r.third_factor,
            flip_threshold=-1 if spec.flip_threshold is None else spec.flip_threshold))
    return ed.finish()


def _post_of(graph: Graph, layer: str) -> str:
    if layer not in graph.nodes or graph.nodes[layer].op != "loihi.dense":
        dense = [n for n, v in graph.nodes.items() if v.op == "loihi.dense"]
        raise SnncError(f"layer {layer!r} is not a loihi.dense layer of the compiled graph; "
                        f"layers that can learn: {dense}")
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
        self.spec, self.scale = spec, error_scale
        self.post = {name: _post_of(graph, name) for name in layers}
        self.readout = readout or self.post[layers[-1]]
        self.graph = make_plastic(graph, layers, spec)
        self.ex = Executor(self.graph, 1)
        self.steps = 0
        self.label: int | None = None
        self.counts = np.zeros(self.graph.nodes[self.readout].out_shape)
        for name in layers:
            if self.post[name] == self.readout:
                self.ex.state[name]["third"] = self._third

    @property
    def blocks(self) -> dict[str, PlasticDense]:
        return {n: st["block"] for n, st in self.ex.state.items()
                if isinstance(st, dict) and "block" in st}

    def _third(self, post: np.ndarray, t: int) -> dict[int, np.ndarray] | None:
        if self.label is None:
            return None
        return third_factor(self.spec.third_factor, post, self.label, self.counts + post,
                            self.scale)

    def run_sample(self, x: np.ndarray, label: int | None, learn: bool) -> np.ndarray:
        """x: (T, *shape) for the single input. Returns the readout's spike counts.

        ``self.first`` holds each readout neuron's first spike step (T if it never spiked).
        Chip time runs on across samples; neuron state restarts with each sample.
        """
        self.ex.reset()
        for st in self.ex.state.values():
            if isinstance(st, dict) and "block" in st:
                st["learn"] = learn
        self.label = label
        source = self.graph.inputs[0]
        steps = x.shape[0]
        self.counts = np.zeros(self.counts.shape)
        self.first = np.full(self.counts.shape, steps)
        for t in range(steps):
            out = self.ex.step(self.steps + t, {source: x[t][None]})[self.readout][0]
            self.counts += out
            self.first = np.where((out != 0) & (self.first == steps), t, self.first)
        self.steps += steps
        return self.counts.copy()

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
        """The plastic graph with its learned weights and tags (still plastic)."""
        ed = self.graph.edit()
        for name, block in self.blocks.items():
            ed.replace(name, self.graph.nodes[name].replace(
                weight=block.weights, tag_1=block.tag_1, tag_2=block.tag_2))
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
