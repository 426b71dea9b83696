"""The event simulator: run a ``ChipProgram`` step by step and count what every core does.

``simulate(program, inputs, steps, probes)`` is a pure function of its arguments, so a dataset can
be split into shards of samples and the shards run anywhere. Results are bit-identical to the
fixed-point reference (``simulators/reference.py``) on the program's graph.

How it runs: feed-forward graphs advance layer after layer over a chunk of steps (each layer's
whole input for the chunk is known once the layers before it have run), which keeps per-step
Python overhead out of the loop. What cannot run that way advances one step at a time within
the chunk, in three phases as the reference does (synapses emit, neurons update in schedule
order, synapses absorb; ``stepping.py``): a graph with cycles entirely, and, while plastic
synapses learn, every node downstream of a plastic synapse (its weights change with the spikes
it causes); the nodes upstream of them still run chunked. Synaptic work is event-driven: only
non-zero inputs touch their weight rows (``kernels_jit``). Each chunk's results are a
``Piece`` (``pieces.py``): ``simulate`` collects them into one result, ``simulate_pieces``
hands them to a consumer one window at a time (``snnc simulate`` on long inputs).

Plastic synapses (``loihi.plastic_dense``, ``plastic.py``) learn by default, as in the reference
(batch 1); ``learning=LearningOptions(learn=False)`` runs them as static dense synapses with
their weights, any batch. ``session.py`` keeps learned weights across samples.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...backends.loihi.program import ChipProgram
from ...backends.loihi.topology import topology
from ...errors import SnncError, UnsupportedOpError
from ...ir.traits import Trait, has
from ..result import SimResult
from ..stimulus import parse_probes, stimuli
from .count_rows import CountRows
from .counting import CounterPlan, route_latency, syn_tables
from .derived import SHARED, ProgramCache
from .pieces import Piece, collect
from .plastic import PLASTIC_VARS, LearnCounts, PlasticSynapseRunner, Third
from .runners import LifRunner, SynapseRunner, SynapseStatic, kernels
from .sdn import SDN_OPS, SDN_VARS, SdnRunner
from .stepping import step_segment, stepwise_nodes

log = logging.getLogger(__name__)
CHUNK_ELEMENTS = 1 << 23  # bound on T_chunk * B * (values held per step) for one chunk


@dataclass(frozen=True)
class LearningOptions:
    """How plastic synapses behave in a run (programs without them ignore it).

    ``learn``: apply the learning rules (batch 1, as on the chip); False runs plastic synapses as
    static dense synapses with their current weights (any batch). ``third``: the third factor of
    three-factor rules, a function ``(post_spikes, t) -> {row: values} | None`` called every step
    with the post layer's spikes (n_post,) and the chip time t (row 0, 1, 2 sets y1, y2, y3 of
    every post neuron), or a dict of such functions by synapse name.
    """

    learn: bool = True
    third: Third | Mapping[str, Third] | None = None

    def third_for(self, synapse: str) -> Third | None:
        if isinstance(self.third, Mapping):
            return self.third.get(synapse)
        return self.third


def check_stimuli(program: ChipProgram, inputs: Any) -> dict[str, np.ndarray]:
    """The stimuli of ``inputs`` per input node, checked to be integers (spikes or payloads).
    A stimulus may also be a source read window by window (``window(t0, T)``, ``shape``,
    ``dtype``, e.g. ``snnc.stepfile.TimeLastFile``), which checks its own windows."""
    out = stimuli(program.graph, inputs)
    for name, x in out.items():
        if hasattr(x, "window"):
            continue
        if x.dtype.kind == "f" and not np.array_equal(x, np.round(x)):
            raise SnncError(f"stimulus for {name!r} has non-integer values; the chip takes "
                            "spikes (0/1) or integer graded payloads")
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


def event_probes(program: ChipProgram, probes: Iterable[str]) -> list[tuple[str, str, str]]:
    """``(probe, node, variable)`` of each probe, checked against what the simulator records."""
    out = parse_probes(program.graph, probes)
    for p, node, var in out:
        op = program.graph.nodes[node].op
        ok = var == "s" or (op == "loihi.lif" and var in ("u", "v")) or (
            op == "loihi.plastic_dense" and var in PLASTIC_VARS) or var in SDN_VARS.get(op, ())
        if not ok:
            raise SnncError(f"probe {p!r}: {node!r} ({op}) has no variable {var!r}; use .s, "
                            f".u / .v on a loihi.lif layer, .sigma / .act / .residue / .error "
                            f"on a sigma-delta layer, or .{' / .'.join(PLASTIC_VARS)} on "
                            "a loihi.plastic_dense synapse")
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


class EventRun:
    """One simulation's runners (state that outlives a sample), recordings and counters.

    ``cache`` holds what is derived from the program alone (``derived.py``); ``blocks`` the
    plastic synapses' ``PlasticDense`` blocks when a session keeps them across runs.
    """

    def __init__(self, program: ChipProgram, batch: int, use_jit: bool | str | None,
                 learning: LearningOptions, blocks: Mapping[str, Any] | None = None,
                 cache: ProgramCache = SHARED) -> None:
        self.p, self.g, self.batch, self.learning = program, program.graph, batch, learning
        self.cache = cache
        self.topo = topology(self.g)
        self.k = k = kernels(use_jit)
        self.plastic = self.topo.plastic(self.g)
        self.syn: dict[str, Any] = {}
        for s, (_, tgt) in self.topo.synapses.items():
            if s in self.plastic:
                local, n = self._local(tgt)
                self.syn[s] = PlasticSynapseRunner(s, self.g.nodes[s], batch, k, local, n,
                                                   learning.learn, (blocks or {}).get(s))
            else:
                self.syn[s] = SynapseRunner(self.g.nodes[s], batch, k, self._static(s))
        self.lif = {name: (SdnRunner if self.g.nodes[name].op in SDN_OPS else LifRunner)(
            self.g.nodes[name], batch, k, *self._local(name)) for name in self.topo.layers}
        self.sched = self.g.schedule()
        order = _topo_order(program)
        if order is None and self.sched.delayed:
            raise UnsupportedOpError(f"cycle through {sorted(self.sched.delayed)} has no synapse; "
                                     "the chip needs a synapse (one step of latency) in every loop")
        self.stepwise = stepwise_nodes(self.g, self.plastic, order, learning.learn)
        self.chunked = [n for n in order or () if n not in self.stepwise]
        self.t_base = 0  # chip time of the first step of the current recording

    def _static(self, s: str) -> SynapseStatic:
        def make() -> SynapseStatic:
            return SynapseStatic.of(self.g.nodes[s], self.cache.connectivity(self.p, s).weights)

        return self.cache.get(self.p, "synapse", s, make)

    def _local(self, layer: str) -> tuple[np.ndarray, int]:
        ids = np.asarray(self.p.layers[layer].cores)
        return self.p.core_of_neuron(layer) - ids[0], len(ids)

    def set_learning(self, learning: LearningOptions) -> None:
        """New learning options (a session's third factor may change between samples); whether
        plastic synapses learn is fixed when the run is built."""
        if learning.learn != self.learning.learn:
            raise ValueError("a run's learning mode is fixed when it is built")
        self.learning = learning

    def begin(self, stim: dict[str, np.ndarray], steps: int,
              probes: list[tuple[str, str, str]], t_base: int = 0) -> None:
        """Start recording ``steps`` steps of ``stim`` from chip time ``t_base`` (state carries
        on from before). A stimulus may be a lazy view (a memory-mapped file's) or a source
        with ``window(t0, T)``: each chunk reads its own steps only."""
        self.stim, self.steps, self.probes, self.t_base = stim, steps, probes, t_base
        self.record = {n for _, n, v in probes if v != "s" and n in self.lif}
        tables = self.cache.get(self.p, "counter tables", "",
                                lambda: syn_tables(self.p, self.cache.connectivity))
        lat = self.cache.get(self.p, "route latency", "", lambda: route_latency(self.p))
        self.counts = CounterPlan(self.p, 0, self.batch, self.k, tables, lat)
        for name, r in self.syn.items():
            r.bind_counters(tables[name].F, self._rows(name, tables[name].F))

    def _rows(self, name: str, F: np.ndarray) -> CountRows | None:
        """Synapse ``name``'s counter table as the AOT kernels take it (made once per program),
        or None for kernels that take ``F``."""
        if not getattr(self.k, "COMPACT_COUNTS", False):
            return None
        return self.cache.get(self.p, "counter rows", name, lambda: CountRows.of(F))

    def reset(self) -> None:
        for r in (*self.syn.values(), *self.lif.values()):
            r.reset()

    def _stim(self, name: str, t0: int, T: int) -> np.ndarray:
        src = self.stim[name]
        x = src.window(t0, T) if hasattr(src, "window") else src[t0:t0 + T]
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
        """Advance node ``name`` over steps t0..t0+T-1 of the recording (synapses: emit too)."""
        node = self.g.nodes[name]
        if node.op == "input":
            vals[name] = self._stim(name, t0, T)
        elif has(node, Trait.WIRING) or node.op == "output":
            src = vals[self.g.predecessors(name)[0]]
            vals[name] = src.reshape(T, self.batch, *node.out_shape)
        elif has(node, Trait.CHIP_SYNAPSE):
            vals[name] = self.syn[name].run(vals[self.g.predecessors(name)[0]], self.t_base + t0)
            if name in self.plastic:
                extra[name] = self.plastic_probes(name, T)
        else:
            step = self.lif[name].run(self._sum_inputs(name, vals, T), self.t_base + t0,
                                      name in self.record)
            vals[name] = step.spikes
            extra[name] = step

    def plastic_probes(self, name: str, T: int) -> dict[str, np.ndarray]:
        return {v: self.syn[name].probe(v, T) for _, n, v in self.probes if n == name and v != "s"}

    def chunk(self, t0: int, T: int) -> Piece:
        """Advance steps t0..t0+T-1 of the recording; their outputs, probes and counters."""
        vals: dict[str, np.ndarray] = {}
        extra: dict[str, Any] = {}
        for name in self.chunked:
            self.node(name, vals, t0, T, extra)
        seg = step_segment(self, vals, extra, t0, T) if self.stepwise else None
        syn_counts = {n: r.counts for n, r in self.syn.items()}
        if seg is not None:
            syn_counts.update(seg.syn_counts)
        return self.piece(t0, T, vals, extra, syn_counts, None if seg is None else seg.learn)

    def piece(self, t0: int, T: int, vals: dict, extra: dict,
              syn_counts: dict[str, np.ndarray],
              learn: dict[str, LearnCounts] | None) -> Piece:
        outs = {o: vals[o].astype(np.int64) for o in self.g.outputs}
        probes = {}
        for p, n, var in self.probes:
            if var == "s":
                val = vals[n]
            elif n in self.lif:
                val = extra[n].var(var)
            else:
                val = extra[n][var]
            probes[p] = np.asarray(val, np.int64)
        counters = self.counts.window(T)
        self.counts.chunk(0, T, syn_counts,
                          {n: (e.active, e.spiking) for n, e in extra.items() if n in self.lif},
                          learn)
        return Piece(t0, T, outs, probes, counters)

    def pieces(self, reset_interval: int = 0, chunk_steps: int | None = None,
               progress: bool = False) -> Iterator[Piece]:
        """Run the whole recording chunk after chunk, yielding each chunk's ``Piece``."""
        nodes = self.g.nodes.values()
        per_step = self.batch * sum(int(np.prod(n.out_shape)) for n in nodes)
        size = max(1, chunk_steps or CHUNK_ELEMENTS // max(per_step, 1))
        with _progress(self.steps, progress and self.steps >= 1000) as bar:
            for t0, T, reset in _chunks(self.steps, size, reset_interval):
                if reset:
                    self.reset()
                yield self.chunk(t0, T)
                bar(T)

    def advance(self, reset_interval: int = 0, chunk_steps: int | None = None,
                progress: bool = False) -> None:
        """Run the whole recording; ``result()`` then holds it."""
        self._result = collect(self.pieces(reset_interval, chunk_steps, progress), self.batch,
                               {o: self.g.nodes[o].out_shape for o in self.g.outputs},
                               {p: self.g.nodes[n].out_shape for p, n, _ in self.probes},
                               self.counts.window(0))

    def result(self) -> SimResult:
        return self._result


def _chunks(steps: int, size: int, reset_interval: int) -> Iterator[tuple[int, int, bool]]:
    t0 = 0
    while t0 < steps:
        stop = min(steps, t0 + size)
        if reset_interval > 0:
            stop = min(stop, (t0 // reset_interval + 1) * reset_interval)
        yield t0, stop - t0, reset_interval > 0 and t0 > 0 and t0 % reset_interval == 0
        t0 = stop


def _run(program: ChipProgram, inputs: np.ndarray | Mapping[str, np.ndarray],
         steps: int | None, probes: Iterable[str], use_jit: bool | str | None,
         learning: LearningOptions | None, cache: ProgramCache | None) -> EventRun:
    stim = check_stimuli(program, inputs)
    t_in = max(x.shape[0] for x in stim.values())
    steps = t_in if steps is None else int(steps)
    batch = next(iter(stim.values())).shape[1]
    run = EventRun(program, batch, use_jit, learning or LearningOptions(),
                   cache=SHARED if cache is None else cache)
    run.begin(stim, steps, event_probes(program, probes))
    return run


def simulate(program: ChipProgram, inputs: np.ndarray | Mapping[str, np.ndarray],
             steps: int | None = None, probes: Iterable[str] = (), *, reset_interval: int = 0,
             progress: bool = False, use_jit: bool | str | None = None,
             chunk_steps: int | None = None, learning: LearningOptions | None = None,
             cache: ProgramCache | None = None) -> SimResult:
    """Run ``program`` on ``inputs`` ((T, B, *shape) per input node) for ``steps`` steps.

    Inputs shorter than ``steps`` are padded with zeros. ``probes``: ``"layer.s"`` (any node's
    output), ``"layer.u"`` / ``"layer.v"`` (state of a ``loihi.lif`` layer after the step),
    ``"syn.w"`` / ``.t`` / ``.d`` / ``.x1`` / ``.y1`` (weights, tags and first traces of a
    ``loihi.plastic_dense``, after the step). ``reset_interval`` > 0 starts a new sample at
    steps k * reset_interval: neuron and synapse state restart, learned weights, tags and traces
    stay. ``learning`` (default ``LearningOptions()``: plastic synapses learn) only matters for
    programs with plastic synapses. Returns a ``SimResult`` whose ``counters`` is a ``Counters``
    (see ``counters.py``). ``cache``: where to keep what is derived from the program
    (default: ``derived.SHARED``). It is ``simulate_pieces`` collected into one result.
    """
    run = _run(program, inputs, steps, probes, use_jit, learning, cache)
    run.advance(reset_interval, chunk_steps, progress)
    return run.result()


def simulate_pieces(program: ChipProgram, inputs: np.ndarray | Mapping[str, np.ndarray],
                    steps: int | None = None, probes: Iterable[str] = (), *,
                    reset_interval: int = 0, use_jit: bool | str | None = None,
                    chunk_steps: int | None = None, learning: LearningOptions | None = None,
                    cache: ProgramCache | None = None, progress: bool = False
                    ) -> Iterator[Piece]:
    """``simulate`` as a stream: one ``Piece`` (outputs, probes, counters of a window of
    ``chunk_steps`` steps, default sized by ``CHUNK_ELEMENTS``) after another, so a consumer that
    writes them out holds one window at a time. ``inputs`` may be memory-mapped views; each
    window reads its own steps."""
    run = _run(program, inputs, steps, probes, use_jit, learning, cache)
    yield from run.pieces(reset_interval, chunk_steps, progress)
