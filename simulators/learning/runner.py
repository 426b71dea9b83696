"""Online learning on a lowered graph, sample after sample, as the chip would do it.

The chosen ``loihi.dense`` layers become ``loihi.plastic_dense`` (``PlasticDense`` blocks); the
graph runs on the event simulator (mapped onto a chip) or on the reference executor, with the
same results. Each sample starts from zero neuron state (the chip's per-sample reset) while
weights, tags and traces carry over. A three-factor rule gets its third factor from the label:
``error`` delivers y1 = 64 + e to the post neurons: e = +c on the target neuron when it is silent
and not yet ahead in spike count, -c on any other neuron that spikes while it is level with or
ahead of the target (learning stops once the sample is classified with a margin); ``reward``
delivers y2 = 64 +/- c by whether the winning neuron so far is the target.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...errors import ResourceError, SnncError, UnsupportedOpError
from ...ir import Graph, LoihiPlasticDense
from ..reference import Executor
from .builtin import ERROR_OFFSET, RuleSpec
from .engine import PlasticDense

log = logging.getLogger(__name__)
Third = Callable[[np.ndarray, int], "dict[int, np.ndarray] | None"]


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


class _ReferenceEngine:
    """Samples on the reference executor, one step at a time (any graph it can run)."""

    name = "reference"

    def __init__(self, graph: Graph, thirds: dict[str, Third]) -> None:
        self.ex = Executor(graph, 1)
        self.steps = 0
        for name, fn in thirds.items():
            self.ex.state[name]["third"] = fn

    @property
    def blocks(self) -> dict[str, PlasticDense]:
        return {n: st["block"] for n, st in self.ex.state.items()
                if isinstance(st, dict) and "block" in st}

    def run(self, x: np.ndarray, source: str, readout: str, learn: bool) -> np.ndarray:
        """x (T, *shape) -> the readout's spikes (T, *out_shape)."""
        self.ex.reset()
        for st in self.ex.state.values():
            if isinstance(st, dict) and "block" in st:
                st["learn"] = learn
        out = [self.ex.step(self.steps + t, {source: x[t][None]})[readout][0]
               for t in range(x.shape[0])]
        self.steps += x.shape[0]
        return np.asarray(out)


class _EventEngine:
    """Samples on the event simulator (``EventSession``): the layers before the first plastic
    synapse run a whole sample at once; frozen runs take a batch of samples."""

    name = "event"

    def __init__(self, program: Any, graph: Graph, thirds: dict[str, Third]) -> None:
        from ..event.session import EventSession

        self.session = EventSession(program, third=thirds)
        self.batchable = all(n.reset_interval == 0 for n in graph.nodes.values()
                             if n.op == "loihi.lif")  # no LIFReset: samples need not be in turn

    @property
    def blocks(self) -> dict[str, PlasticDense]:
        return self.session.blocks

    @property
    def steps(self) -> int:
        return self.session.steps

    def run(self, x: np.ndarray, source: str, readout: str, learn: bool) -> np.ndarray:
        """x (T, B, *shape) -> the readout's spikes (T, B, *out_shape); B = 1 when learning."""
        self.session.learn = learn
        res = self.session.run_sample({source: x}, probes=[f"{readout}.s"])
        self.session.steps += (x.shape[1] - 1) * x.shape[0]  # as if run one after another
        return res.probes[f"{readout}.s"]


def _decide(out: np.ndarray) -> np.ndarray:
    """(T, N, n) readout spikes -> (N,) predictions: most spikes; ties to the earliest first
    spike; -1 if no spike or the tie remains."""
    steps = out.shape[0]
    counts = out.sum(0)
    first = np.where(out.any(0), np.argmax(out != 0, axis=0), steps)
    score = counts * (steps + 1) - first
    top = score == score.max(1, keepdims=True)
    ok = (counts.max(1) > 0) & (top.sum(1) == 1)
    return np.where(ok, np.argmax(score, axis=1), -1)


class OnlineLearner:
    """Runs samples through a graph whose ``layers`` learn with ``spec``.

    ``engine``: ``"event"`` (default) runs the plastic graph on the event simulator, mapped onto
    ``chip`` by ``map_program(graph, chip)`` (the caller's mapper, e.g.
    ``snnc.backends.loihi.mapper.map_graph``; ``snnc.api.learn`` passes it: simulators never
    call the mapper); ``"reference"`` steps the reference executor. Both give the same spikes and
    weights bit for bit; the event engine is faster (``benchmarks/bench_learning.py``) and falls
    back to the reference one for graphs the mapper does not take (logged). ``chip`` only decides
    the mapping (default ``"loihi2"``: graded spikes and large cores), never the arithmetic.
    """

    def __init__(self, graph: Graph, layers: Sequence[str], spec: RuleSpec,
                 readout: str | None = None, error_scale: int = 32, *, engine: str = "event",
                 chip: str = "loihi2", map_program: Callable[[Graph, str], Any] | None = None
                 ) -> None:
        self.spec, self.scale = spec, error_scale
        self.post = {name: _post_of(graph, name) for name in layers}
        self.readout = readout or self.post[layers[-1]]
        self.graph = make_plastic(graph, layers, spec)
        self.label: int | None = None
        self.counts = np.zeros(self.graph.nodes[self.readout].out_shape)
        self.first = np.zeros(self.counts.shape, np.int64)
        self._seen = (-1, np.zeros(self.counts.shape))  # (t, post) of the last third-factor call
        thirds = {name: self._third for name in layers if self.post[name] == self.readout}
        self.engine = self._engine(engine, thirds, chip, map_program)

    def _engine(self, kind: str, thirds: dict[str, Third], chip: str,
                map_program: Callable[[Graph, str], Any] | None) -> Any:
        if kind not in ("event", "reference"):
            raise SnncError(f"unknown learning engine {kind!r}: use 'event' or 'reference'")
        if kind == "event":
            if map_program is None:
                raise SnncError("the event learning engine needs map_program (e.g. "
                                "snnc.backends.loihi.mapper.map_graph, as snnc.api.learn "
                                "passes), or use engine='reference'")
            try:
                return _EventEngine(map_program(self.graph, chip), self.graph, thirds)
            except (ResourceError, UnsupportedOpError) as exc:
                log.info("learning on the reference executor: the event simulator cannot map "
                         "this graph (%s)", exc)
        return _ReferenceEngine(self.graph, thirds)

    @property
    def blocks(self) -> dict[str, PlasticDense]:
        return self.engine.blocks

    @property
    def steps(self) -> int:
        """Chip time: steps run so far, over all samples."""
        return self.engine.steps

    def _third(self, post: np.ndarray, t: int) -> dict[int, np.ndarray] | None:
        if self.label is None:
            return None
        last_t, last_post = self._seen
        if t != last_t:  # a new step: the last one's spikes join the running count
            self.counts = self.counts + last_post
            self._seen = (t, post)
        return third_factor(self.spec.third_factor, post, self.label, self.counts + post,
                            self.scale)

    def run_sample(self, x: np.ndarray, label: int | None, learn: bool) -> np.ndarray:
        """x: (T, *shape) for the single input. Returns the readout's spike counts.

        ``self.first`` holds each readout neuron's first spike step (T if it never spiked).
        Chip time runs on across samples; neuron state restarts with each sample.
        """
        self.label = label
        self.counts = np.zeros(self.counts.shape)
        self._seen = (-1, np.zeros(self.counts.shape))
        x = np.asarray(x)
        batch = x[:, None] if isinstance(self.engine, _EventEngine) else x
        out = np.asarray(self.engine.run(batch, self.graph.inputs[0], self.readout, learn))
        out = out.reshape(x.shape[0], -1)
        self.counts = out.sum(0).astype(np.float64).reshape(self.counts.shape)
        steps = x.shape[0]
        self.first = np.where(out.any(0), np.argmax(out != 0, axis=0), steps).reshape(
            self.counts.shape)
        return self.counts.copy()

    def predict(self, x: np.ndarray) -> int:
        """Most spikes wins; ties go to the earliest first spike; -1 if the tie remains."""
        counts = self.run_sample(x, None, learn=False)
        score = counts * (x.shape[0] + 1) - self.first
        top = np.flatnonzero(score == score.max())
        return int(top[0]) if counts.max() > 0 and len(top) == 1 else -1

    def accuracy(self, xs: np.ndarray, ys: np.ndarray) -> float:
        """Classification accuracy of ``predict`` (an unresolved tie counts as wrong); the event
        engine runs the whole set as one batch with the weights frozen."""
        xs, ys = np.asarray(xs), np.asarray(ys)
        if not len(ys):
            return 0.0
        if isinstance(self.engine, _EventEngine) and self.engine.batchable:
            self.label = None
            out = self.engine.run(np.moveaxis(xs, 0, 1), self.graph.inputs[0], self.readout,
                                  learn=False)
            pred = _decide(out.reshape(*out.shape[:2], -1))
        else:
            pred = np.array([self.predict(x) for x in xs])
        return int(np.count_nonzero(pred == ys)) / len(ys)

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
