"""One learning run as the CLI and examples use it: train, evaluate, report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...ir import Graph
from .builtin import BUILTIN
from .report import LearningReport
from .runner import OnlineLearner, train


@dataclass
class LearningResult:
    graph: Graph
    report: LearningReport
    learner: OnlineLearner


def _zeroed(graph: Graph, layers: Sequence[str]) -> Graph:
    ed = graph.edit()
    for name in layers:
        node = graph.nodes[name]
        ed.replace(name, node.replace(weight=np.zeros_like(node.weight)))
    return ed.finish()


def run(graph: Graph, layers: Sequence[str], rule: str, xs: np.ndarray, ys: np.ndarray,
        test: tuple[np.ndarray, np.ndarray] | None, epochs: int = 1, eval_every: int = 0,
        error_scale: int = 32, reset_layers: bool = False, chip: str = "loihi2",
        progress: bool = True, rule_options: dict | None = None,
        map_program: Callable[[Graph, str], Any] | None = None) -> LearningResult:
    """Learn online on ``xs`` (N, T, *shape) with labels ``ys``; test on ``test``.

    ``rule_options`` go to the built-in rule's factory (for example ``{"shift": 4}``);
    ``map_program`` maps the plastic graph for the event engine (``OnlineLearner``; without it
    the reference engine learns, with the same result). ``snnc.api.learn`` passes the mapper.
    """
    spec = BUILTIN[rule](**(rule_options or {}))
    if reset_layers:
        graph = _zeroed(graph, layers)
    learner = OnlineLearner(graph, layers, spec, error_scale=error_scale,
                            engine="reference" if map_program is None else "event",
                            map_program=map_program)
    every = eval_every or max(len(ys) * epochs // 4, 1)
    with _bar(len(ys) * epochs, progress) as advance:
        curve = train(learner, xs, ys, epochs, eval_set=test, eval_every=every, progress=advance)
    blocks = learner.blocks
    synapses = sum(b.weights.size for b in blocks.values())
    report = LearningReport(
        rule=rule, rule_strings={k: v for k, v in (("dw", spec.rule.dw), ("dd", spec.rule.dd),
                                                   ("dt", spec.rule.dt)) if v},
        layers=list(layers), chip=chip, samples=len(ys), epochs=epochs, steps=learner.steps,
        synapses=synapses, updates_event=sum(b.counts["updates"] for b in blocks.values()),
        updates_timestep=synapses * learner.steps,
        flips=sum(b.counts["flips"] for b in blocks.values()), accuracy_curve=curve)
    return LearningResult(learner.learned_graph(), report, learner)


class _bar:
    """A rich progress bar over samples (silent when not on a terminal)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled, self.progress = total, enabled, None

    def __enter__(self):
        if not self.enabled:
            return lambda n: None
        from rich.progress import Progress

        self.progress = Progress(transient=True)
        self.progress.__enter__()
        task = self.progress.add_task("learning on chip", total=self.total)
        return lambda n: self.progress.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)
