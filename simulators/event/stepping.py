"""The part of a chunk that must advance one step at a time (cycles, learning synapses).

Per step t, as the reference executor does it: (1) every step-wise synapse emits what it
computed at t - 1; (2) the other step-wise nodes run in schedule order on this step's values
(inputs from the chunked part of the graph are read at t); (3) every step-wise synapse absorbs
its input of step t; (4) learning synapses run their spike phase with their post layer's spikes
of step t (and learning phase at an epoch's end). Outputs, LIF counters and synaptic counters of
the steps are stacked into the chunk's arrays, so recording and counting stay per chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ...ir import Graph
from ...ir.traits import Trait, has
from .plastic import LearnCounts
from .runners import LifStep
from .sdn import SdnStep


class Segment(NamedTuple):
    """What a step-wise segment counted: learning counters per plastic synapse that learns, and
    the synaptic counters (T, B, C) of the step-wise synapses."""

    learn: dict[str, LearnCounts]
    syn_counts: dict[str, np.ndarray]


def stepwise_nodes(graph: Graph, plastic: Sequence[str], order: list[str] | None,
                   learn: bool) -> set[str]:
    """Nodes that advance step by step: all of a cyclic graph (``order`` None); else, while
    learning, the plastic synapses and everything downstream of them; else none."""
    if order is None:
        return set(graph.nodes)
    if not learn:
        return set()
    down: set[str] = set()
    stack = list(plastic)
    while stack:
        name = stack.pop()
        if name not in down:
            down.add(name)
            stack += graph.successors(name)
    return down


def _stack(parts: list[Any]) -> Any:
    """Concatenate per-step records over time: ``LifStep``s field by field, dicts key by key."""
    if isinstance(parts[0], LifStep):
        return LifStep(*(np.concatenate(p) for p in zip(*parts, strict=True)))
    if isinstance(parts[0], SdnStep):
        return SdnStep(*(np.concatenate([getattr(p, f) for p in parts])
                         for f in ("spikes", "active", "spiking")),
                       {k: np.concatenate([p.state[k] for p in parts]) for k in parts[0].state})
    if isinstance(parts[0], dict):
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return np.concatenate(parts)


def step_segment(run: Any, vals: dict[str, np.ndarray], extra: dict[str, Any], t0: int,
                 T: int) -> Segment:
    """Advance ``run.stepwise`` (an ``engine.EventRun``) over steps t0..t0+T-1; fill ``vals`` /
    ``extra`` for them and return their counters."""
    g, topo = run.g, run.topo
    order = [n for n in run.sched.order if n in run.stepwise]
    syns = [n for n in order if has(g.nodes[n], Trait.CHIP_SYNAPSE)]
    others = [n for n in order if not has(g.nodes[n], Trait.CHIP_SYNAPSE)]
    boundary = {p for n in order for p in g.predecessors(n) if p not in run.stepwise}
    learning = [s for s in run.plastic if s in run.stepwise and run.learning.learn]
    thirds = {s: run.learning.third_for(s) for s in learning}
    outs: dict[str, list[Any]] = {n: [] for n in order}
    ext: dict[str, list[Any]] = {n: [] for n in order if n in run.lif or n in run.plastic}
    cnt: dict[str, list[np.ndarray]] = {s: [] for s in syns}
    learn: dict[str, list[LearnCounts]] = {s: [] for s in learning}
    for i in range(T):
        t = run.t_base + t0 + i
        cur = {p: vals[p][i:i + 1] for p in boundary}
        for s in syns:
            cur[s] = run.syn[s].emit(t).reshape(1, run.batch, *g.nodes[s].out_shape)
        ex: dict[str, Any] = {}
        for n in others:
            run.node(n, cur, t0 + i, 1, ex)
        for s in syns:
            run.syn[s].run(cur[g.predecessors(s)[0]], t, emit=False)
            cnt[s].append(run.syn[s].counts)
        for s in learning:
            post = np.asarray(cur[topo.synapses[s][1]][0, 0], np.int64).ravel()
            learn[s].append(run.syn[s].after_step(post, t, thirds[s]))
        for s in run.plastic:
            if s in ext:
                ex[s] = run.plastic_probes(s, 1)
        for n in order:
            outs[n].append(cur[n])
            if n in ext:
                ext[n].append(ex[n])
    for n in order:
        vals[n] = np.concatenate(outs[n])
        if n in ext:
            extra[n] = _stack(ext[n])
    return Segment({s: LearnCounts(np.stack([c.updates for c in v]),
                                   np.stack([c.epochs for c in v])) for s, v in learn.items()},
                   {s: np.concatenate(cnt[s]) for s in syns})
