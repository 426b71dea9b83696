"""Running graphs in Lava: ``run_lava`` (one graph, a batch of samples) and ``run_jobs`` (many).

Lava has no batch mode, and each Lava run pays a start-up of roughly 0.3 s plus one OS process
per Lava process. ``run_jobs`` therefore builds several independent networks (samples, or
different graphs) side by side and runs them together: one ``Recorder`` observes all of them,
which also makes them a single connected process graph, so they compile and run as one Lava run.
Groups are capped at ``max_processes`` Lava processes per run.

Time: Lava's step t (from 1) is index t-1 here; a source sends ``x[t-1]`` at step t, recorded
outputs and spikes are those sent at step t, probed u/v are read after step t: the same
indexing as ``simulators.reference``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import BackendError, SnncError
from ...ir import Graph, flatten_subgraphs
from ...simulators.result import SimResult
from ...simulators.stimulus import parse_probes, stimuli
from . import layout
from ._env import require_lava
from .build import LavaNetwork, build_lava, check_integer_stimulus, count_processes
from .collect import make_collector, run_config

DEFAULT_MAX_PROCESSES = 48


@dataclass(frozen=True)
class LavaJob:
    """One network to run: a graph, one sample of stimulus per input ((T, *shape), IR layout)."""

    graph: Graph
    stimulus: Mapping[str, np.ndarray]
    probes: tuple[str, ...] = ()


@dataclass
class _Planned:
    job: LavaJob
    net: LavaNetwork
    sources: list[Any]
    targets: list[tuple[str, Any, tuple[int, ...]]] = field(default_factory=list)

    def processes(self) -> list[Any]:
        return [*self.sources, *self.net.processes.values()]


def run_lava(graph: Graph, inputs: np.ndarray | Mapping[str, np.ndarray],
             steps: int | None = None, probes: Iterable[str] = (), hw: bool = False) -> SimResult:
    """Run ``graph`` (lowered: ``loihi.*`` ops) in Lava; same contract as ``reference.simulate``.

    Args:
        graph: the lowered graph.
        inputs: (T, B, *shape) integer array for a single-input graph, or a dict per input node.
        steps: number of steps (default: T); shorter inputs are padded with zeros.
        probes: ``"node.s"`` (any node's output), ``"node.u"`` / ``"node.v"`` (loihi.lif).
        hw: run on Loihi 2 through ``Loihi2HwCfg`` (needs lava-loihi and hardware) instead of
            Lava's bit-accurate CPU models (``Loihi1SimCfg(select_tag="fixed_pt")``).

    Returns:
        ``SimResult`` with int64 arrays (T, B, *shape). Samples run independently (Lava has no
        batch mode), several per Lava run.
    """
    require_lava()
    graph = flatten_subgraphs(graph)
    stim = stimuli(graph, inputs)
    t_in = max((x.shape[0] for x in stim.values()), default=0)
    steps = t_in if steps is None else int(steps)
    batch = next(iter(stim.values())).shape[1] if stim else 1
    probes = tuple(probes)
    jobs = [LavaJob(graph, {k: x[:, b] for k, x in stim.items()}, probes) for b in range(batch)]
    results = run_jobs(jobs, steps, hw=hw)
    nodes = graph.nodes
    outputs = {o: _stack([r[o] for r in results], steps, nodes[o].out_shape)
               for o in graph.outputs}
    probed = {p: _stack([r[p] for r in results], steps, ()) for p in probes}
    return SimResult(outputs, probed)


def run_jobs(jobs: Sequence[LavaJob], steps: int, *, hw: bool = False,
             max_processes: int = DEFAULT_MAX_PROCESSES,
             collector: str | None = None) -> list[dict[str, np.ndarray]]:
    """Run many independent networks; per job, {output or probe name: (steps, *shape) int64}.

    ``collector`` is ``"recorder"`` (one Recorder process per run, CPU only; the default
    without ``hw``) or ``"monitors"`` (Lava's own sink RingBuffers and Monitors, one run per
    job; the default with ``hw``).
    """
    require_lava()
    kind = collector or ("monitors" if hw else "recorder")
    if steps <= 0:
        return [_empty(job) for job in jobs]
    groups = [[job] for job in jobs] if kind == "monitors" else _groups(jobs, max_processes)
    out: list[dict[str, np.ndarray]] = []
    for group in groups:
        out.extend(_run_group(group, steps, kind, hw))
    return out


def _groups(jobs: Sequence[LavaJob], cap: int) -> list[list[LavaJob]]:
    groups: list[list[LavaJob]] = []
    size = 0
    for job in jobs:
        n = count_processes(job.graph) + len(job.graph.inputs)
        if not groups or size + n > cap:
            groups.append([])
            size = 0
        groups[-1].append(job)
        size += n
    return groups


def _run_group(jobs: list[LavaJob], steps: int, kind: str, hw: bool) -> list[dict[str, Any]]:
    coll = make_collector(kind, steps)
    try:
        plans = [_plan(job, steps, coll) for job in jobs]
        anchor = coll.finish() or next(iter(plans[0].net.processes.values()), None)
        if anchor is None:
            raise BackendError("nothing to run: the graph has no loihi.* node and no output")
        procs = [p for plan in plans for p in plan.processes()]
        cfg = run_config(hw, procs + coll.lava_processes(), coll.model_map())
        return _execute(anchor, cfg, steps, lambda: [_read(plan, coll, steps) for plan in plans])
    finally:
        coll.close()


def _execute(anchor: Any, cfg: Any, steps: int, read: Callable[[], list[Any]]) -> list[Any]:
    """One blocking Lava run of the process graph around ``anchor``, then ``read()`` the
    records (Lava's Vars can be read only before the runtime stops); always stops it."""
    from lava.magma.core.run_conditions import RunSteps

    try:
        anchor.run(condition=RunSteps(num_steps=steps), run_cfg=cfg)
        return read()
    except SnncError:
        raise
    except Exception as exc:
        raise BackendError(f"Lava failed while running the network: {type(exc).__name__}: "
                           f"{exc}") from exc
    finally:
        _stop(anchor)


def _plan(job: LavaJob, steps: int, coll: Any) -> _Planned:
    from lava.proc.io.source import RingBuffer

    graph = job.graph
    sources: dict[str, Any] = {}
    for name in graph.inputs:
        x = check_integer_stimulus(name, job.stimulus[name])
        data = np.zeros((steps, *graph.nodes[name].out_shape), np.int32)
        n = min(steps, x.shape[0])
        data[:n] = x[:n]
        sources[name] = RingBuffer(data=np.ascontiguousarray(layout.to_lava(data))).s_out
    net = build_lava(graph, sources)
    plan = _Planned(job, net, [port.process for port in sources.values()])
    for o in graph.outputs:
        ports = net.output_ports(o)
        plan.targets.append((o, coll.add_ports(ports), graph.nodes[o].out_shape))
    for probe, node, var in parse_probes(graph, job.probes):
        shape = graph.nodes[node].out_shape
        if var == "s":
            plan.targets.append((probe, coll.add_ports(net.ports(node)), shape))
        else:
            plan.targets.append((probe, coll.add_var(net.var(node, var)), shape))
    return plan


def _read(plan: _Planned, coll: Any, steps: int) -> dict[str, np.ndarray]:
    out = {}
    for name, handle, shape in plan.targets:
        data = coll.read(handle)
        out[name] = (np.zeros((steps, *shape), np.int64) if data is None
                     else layout.from_lava(data, lead=1))
    return out


def _stop(anchor: Any) -> None:
    with contextlib.suppress(Exception):  # a runtime that failed to start has nothing to stop
        anchor.stop()


def _empty(job: LavaJob) -> dict[str, np.ndarray]:
    nodes = job.graph.nodes
    out = {o: np.zeros((0, *nodes[o].out_shape), np.int64) for o in job.graph.outputs}
    for p, node, _ in parse_probes(job.graph, job.probes):
        out[p] = np.zeros((0, *nodes[node].out_shape), np.int64)
    return out


def _stack(frames: list[np.ndarray], steps: int, shape: tuple[int, ...]) -> np.ndarray:
    if not frames:
        return np.zeros((steps, 0, *shape), np.int64)
    return np.stack(frames, axis=1)
