"""The event simulator: run a ``ChipProgram`` step by step and count what every core does.

``simulate(program, inputs, steps, probes)`` is a pure function of its arguments, so a dataset can
be split into shards of samples and the shards run anywhere. Results are bit-identical to the
fixed-point reference (``simulators/reference.py``) on the program's graph.

How it runs: feed-forward graphs advance layer after layer over a chunk of steps (each layer's
whole input for the chunk is known once the layers before it have run), which keeps per-step
Python overhead out of the loop; graphs with cycles advance one step at a time in three phases,
as the reference does (synapses emit, neurons update in schedule order, synapses absorb).
Synaptic work is event-driven: only non-zero inputs touch their weight rows (``kernels_jit``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from ...backends.loihi.program import ChipProgram
from ...backends.loihi.topology import PASSTHROUGH, SYNAPSES, topology
from ...errors import SnncError, UnsupportedOpError
from ..result import SimResult
from .counting import CounterPlan
from .runners import LifRunner, SynapseRunner, kernels

log = logging.getLogger(__name__)
CHUNK_ELEMENTS = 1 << 23  # bound on T_chunk * B * (values held per step) for one chunk


def _stimuli(program: ChipProgram, inputs: Any) -> dict[str, np.ndarray]:
    names = program.graph.inputs
    if not isinstance(inputs, Mapping):
        if len(names) != 1:
            raise SnncError(f"the program has inputs {names}; pass a dict of arrays")
        inputs = {names[0]: inputs}
    out = {}
    for name in names:
        if name not in inputs:
            raise SnncError(f"no stimulus for input node {name!r}")
        x = np.asarray(inputs[name])
        want = tuple(program.graph.nodes[name].out_shape)
        if x.ndim != len(want) + 2 or tuple(x.shape[2:]) != want:
            raise SnncError(f"stimulus for {name!r} has shape {x.shape}, expected (T, B, *{want})")
        if x.dtype.kind == "f" and not np.array_equal(x, np.round(x)):
            raise SnncError(f"stimulus for {name!r} has non-integer values; the chip takes "
                            "spikes (0/1) or integer graded payloads")
        out[name] = x
    return out


def _topo_order(program: ChipProgram) -> list[str] | None:
    """Order over all edges (synapse latency ignored), or None if the graph has a cycle."""
    g = program.graph
    indeg = {n: 0 for n in g.nodes}
    for _, b in g.edges:
        indeg[b] += 1
    ready = [n for n in g.nodes if indeg[n] == 0]
    order = []
    while ready:
        n = ready.pop(0)
        order.append(n)
        for m in g.successors(n):
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    return order if len(order) == len(g.nodes) else None


def _parse_probes(program: ChipProgram, probes: Iterable[str]) -> list[tuple[str, str, str]]:
    out = []
    for p in probes:
        node, _, var = p.rpartition(".")
        if not node:
            node, var = var, "s"
        if node not in program.graph.nodes:
            raise SnncError(f"probe {p!r}: no node named {node!r}; nodes: "
                            f"{', '.join(program.graph.nodes)}")
        op = program.graph.nodes[node].op
        if var not in ("s", "u", "v") or (var != "s" and op != "loihi.lif"):
            raise SnncError(f"probe {p!r}: {node!r} ({op}) has no variable {var!r}; use .s, or "
                            ".u / .v on a loihi.lif layer")
        out.append((p, node, var))
    return out


@contextmanager
def _progress(total: int, show: bool) -> Iterator[Any]:
    if not show or not sys.stderr.isatty():
        yield lambda n: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("simulating", total=total)
        yield lambda n: bar.advance(task, n)


class _Run:
    """State of one simulation: runners, recordings, counters."""

    def __init__(self, program: ChipProgram, stim: dict[str, np.ndarray], steps: int,
                 probes: list[tuple[str, str, str]], use_jit: bool | None) -> None:
        self.p, self.g, self.stim, self.steps = program, program.graph, stim, steps
        self.batch = next(iter(stim.values())).shape[1]
        self.topo = topology(self.g)
        k = kernels(use_jit)
        self.syn = {s: SynapseRunner(self.g.nodes[s], self.batch, k,
                                     program.cache.setdefault(("event.syn", s), {}),
                                     program.connectivity(s).weights)
                    for s in self.topo.synapses}
        self.lif = {}
        for name in self.topo.layers:
            ids = np.asarray(program.layers[name].cores)
            local = program.core_of_neuron(name) - ids[0]
            self.lif[name] = LifRunner(self.g.nodes[name], self.batch, k, local, len(ids))
        self.probes = probes
        self.record = {n for _, n, v in probes if v in ("u", "v")}
        self.rec: dict[str, list[np.ndarray]] = {o: [] for o in self.g.outputs}
        self.rec.update({p: [] for p, _, _ in probes})
        self.counts = CounterPlan(program, steps, self.batch, k)
        for name, r in self.syn.items():
            r.F = self.counts.syns[name].F
        self.sched = self.g.schedule()

    def reset(self) -> None:
        for r in (*self.syn.values(), *self.lif.values()):
            r.reset()

    def _stim(self, name: str, t0: int, T: int) -> np.ndarray:
        x = self.stim[name][t0:t0 + T]
        if x.shape[0] < T:
            pad = np.zeros((T - x.shape[0], *x.shape[1:]), x.dtype)
            x = np.concatenate([x, pad])
        return x

    def _sum_inputs(self, name: str, vals: dict[str, np.ndarray], T: int) -> np.ndarray:
        shape = (T, self.batch, *self.g.nodes[name].in_shape)
        preds = self.g.predecessors(name)
        if len(preds) == 1:
            return vals[preds[0]].reshape(shape)
        total = np.zeros(shape, np.int64)
        for p in preds:
            total += vals[p].reshape(shape)
        return total

    def node(self, name: str, vals: dict, t0: int, T: int, extra: dict) -> None:
        node = self.g.nodes[name]
        if node.op == "input":
            vals[name] = self._stim(name, t0, T)
        elif node.op in PASSTHROUGH or node.op == "output":
            src = vals[self.g.predecessors(name)[0]]
            vals[name] = src.reshape(T, self.batch, *node.out_shape)
        elif node.op in SYNAPSES:
            vals[name] = self.syn[name].run(vals[self.g.predecessors(name)[0]], t0)
        else:
            s, act, spk, ru, rv = self.lif[name].run(self._sum_inputs(name, vals, T), t0,
                                                     name in self.record)
            vals[name] = s
            extra[name] = (act, spk, ru, rv)

    def finish_chunk(self, t0: int, vals: dict, extra: dict) -> None:
        for o in self.g.outputs:
            self.rec[o].append(vals[o].astype(np.int64))
        for p, n, var in self.probes:
            val = vals[n] if var == "s" else extra[n][2 if var == "u" else 3]
            self.rec[p].append(np.asarray(val, np.int64))
        T = next(iter(vals.values())).shape[0]
        self.counts.chunk(t0, T, {n: r.counts for n, r in self.syn.items()},
                          {n: e[:2] for n, e in extra.items()})

    def result(self) -> SimResult:
        def cat(name: str, shape: tuple[int, ...]) -> np.ndarray:
            parts = self.rec[name]
            return np.concatenate(parts) if parts else np.zeros((0, self.batch, *shape), np.int64)

        outs = {o: cat(o, self.g.nodes[o].out_shape) for o in self.g.outputs}
        probes = {p: cat(p, self.g.nodes[n].out_shape) for p, n, _ in self.probes}
        return SimResult(outs, probes, self.counts.counters)


def _chunks(steps: int, size: int, reset_interval: int) -> Iterator[tuple[int, int, bool]]:
    t0 = 0
    while t0 < steps:
        stop = min(steps, t0 + size)
        if reset_interval > 0:
            stop = min(stop, (t0 // reset_interval + 1) * reset_interval)
        yield t0, stop - t0, reset_interval > 0 and t0 > 0 and t0 % reset_interval == 0
        t0 = stop


def simulate(program: ChipProgram, inputs: np.ndarray | Mapping[str, np.ndarray],
             steps: int | None = None, probes: Iterable[str] = (), *, reset_interval: int = 0,
             progress: bool = False, use_jit: bool | None = None,
             chunk_steps: int | None = None) -> SimResult:
    """Run ``program`` on ``inputs`` ((T, B, *shape) per input node) for ``steps`` steps.

    Inputs shorter than ``steps`` are padded with zeros. ``probes``: ``"layer.s"`` (any node's
    output), ``"layer.u"`` / ``"layer.v"`` (state of a ``loihi.lif`` layer after the step).
    ``reset_interval`` > 0 zeroes every neuron and synapse state at steps k * reset_interval, so
    consecutive windows of the input are independent samples. Returns a ``SimResult`` whose
    ``counters`` is a ``Counters`` (see ``counters.py``).
    """
    stim = _stimuli(program, inputs)
    t_in = max(x.shape[0] for x in stim.values())
    steps = t_in if steps is None else int(steps)
    run = _Run(program, stim, steps, _parse_probes(program, probes), use_jit)
    order = _topo_order(program)
    per_step = run.batch * sum(int(np.prod(n.out_shape)) for n in program.graph.nodes.values())
    size = 1 if order is None else max(1, chunk_steps or CHUNK_ELEMENTS // max(per_step, 1))
    with _progress(steps, progress and steps >= 1000) as advance:
        for t0, T, reset in _chunks(steps, size, reset_interval):
            if reset:
                run.reset()
            if order is None:
                _cyclic_step(run, t0)
            else:
                vals: dict[str, np.ndarray] = {}
                extra: dict[str, Any] = {}
                for name in order:
                    run.node(name, vals, t0, T, extra)
                run.finish_chunk(t0, vals, extra)
            advance(T)
    return run.result()


def _cyclic_step(run: _Run, t: int) -> None:
    """One step of a graph with cycles: emit, update in schedule order, absorb."""
    sched = run.sched
    if sched.delayed:
        raise UnsupportedOpError(f"cycle through {sorted(sched.delayed)} has no synapse; the "
                                 "chip needs a synapse (one step of latency) in every loop")
    vals: dict[str, np.ndarray] = {s: r.emit(t)[None] for s, r in run.syn.items()}
    extra: dict[str, Any] = {}
    for name in sched.order:
        if name not in run.syn:
            run.node(name, vals, t, 1, extra)
    for s, r in run.syn.items():
        r.run(vals[run.g.predecessors(s)[0]], t, emit=False)
    run.finish_chunk(t, vals, extra)
