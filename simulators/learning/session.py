"""One learning run as the CLI and examples use it: train, evaluate, report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...ir import Graph
from .builtin import BUILTIN
from .report import UPDATE_COST, LearningReport
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
        error_scale: int = 32, reset_layers: bool = False, chip: str = "loihi1",
        progress: bool = True, rule_options: dict | None = None) -> LearningResult:
    """Learn online on ``xs`` (N, T, *shape) with labels ``ys``; test on ``test``.

    ``rule_options`` go to the built-in rule's factory (for example ``{"shift": 4}``).
    """
    spec = BUILTIN[rule](**(rule_options or {}))
    if reset_layers:
        graph = _zeroed(graph, layers)
    learner = OnlineLearner(graph, layers, spec, error_scale=error_scale)
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
        flips=sum(b.counts["flips"] for b in blocks.values()), accuracy_curve=curve,
        cost=dict(UPDATE_COST[chip]))
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


def print_summary(report: LearningReport, out: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"on-chip learning: rule {report.rule}, layers {', '.join(report.layers)}")
    table.add_column("samples seen", justify="right")
    table.add_column("test accuracy", justify="right")
    for seen, acc in report.accuracy_curve:
        table.add_row(str(seen), f"{acc:.1%}")
    console.print(table)
    e = report.energy()
    tag = " (estimate)" if report.cost.get("estimate") else ""
    console.print(f"synaptic updates: {report.updates_event:,} event-driven vs "
                  f"{report.updates_timestep:,} time-step-driven")
    console.print(f"learning energy{tag}: {e['event_driven_j'] * 1e6:.2f} µJ event-driven vs "
                  f"{e['time_step_driven_j'] * 1e6:.2f} µJ time-step-driven "
                  f"({e['saving_factor']:.1f}x less), at {report.cost['energy_pj']} pJ/update")
    if out is not None:
        console.print(f"wrote {out}/graph.learned.snnc and {out}/learning_report.json")
