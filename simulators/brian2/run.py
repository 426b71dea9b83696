"""``run_brian2``: build the Brian2 network for a float graph, run it, collect a ``SimResult``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import brian2 as b2
import numpy as np

from ...errors import BackendError, SnncError
from ...ir import Graph, flatten_subgraphs
from ..result import SimResult
from ..stimulus import parse_probes, stimuli
from .collapse import NEURON_OPS, VALUE_OPS, Plan, collapse
from .network import (
    Built,
    analog_input,
    emits_spikes,
    make_group,
    make_synapses,
    plan_links,
    spike_input,
    unit_spec,
)

TARGETS = ("numpy", "cython")
_VARS = {"s": "y", "v": "v", "i": "isyn"}


@contextlib.contextmanager
def _codegen_target(target: str) -> Iterator[None]:
    old = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        yield
    finally:
        b2.prefs.codegen.target = old


def _parse_probes(graph: Graph, probes: Iterable[str]) -> list[tuple[str, str, str]]:
    parsed = parse_probes(graph, probes)
    for p, node, var in parsed:
        op = graph.nodes[node].op
        if var != "s" and (op not in NEURON_OPS or var not in _VARS):
            raise SnncError(f"probe {p!r}: the Brian2 backend records s for every node and "
                            f"v, i for neurons; node {node!r} is a {op!r}")
    return parsed


def _build(plan: Plan, stim: dict[str, np.ndarray], steps: int, batch: int, dt: Any) -> Built:
    clock = b2.Clock(dt=dt, name="snnc_clock*")
    spiking = {n: emits_spikes(plan, n, stim) for n in plan.order}
    links, ring = plan_links(plan, spiking)
    built = Built(b2.Network(), clock, {}, {}, batch, links)
    for name in plan.order:
        node, k = plan.graph.nodes[name], plan.position[name]
        size = int(np.prod(node.out_shape, dtype=np.int64))
        built.sizes[name] = size
        if node.op == "input" and spiking[name]:
            built.groups[name] = spike_input(stim[name], steps, clock, k, name)
            built.net.add(built.groups[name])
            continue
        if node.op == "input":
            group, extra = analog_input(stim[name], steps, ring[name], clock, k, name)
        else:
            spec = unit_spec(plan, name, links)
            group, extra = make_group(spec, size, batch, ring[name], clock, k, name)
        built.groups[name] = group
        built.net.add(group, *extra)
    for lk in links:
        built.net.add(make_synapses(lk, built, plan.position[lk.src], plan.position[lk.dst]))
    return built


def _monitor(built: Built, name: str, var: str) -> Any:
    mon = b2.StateMonitor(built.groups[name], var, record=True, when="end", clock=built.clock)
    built.net.add(mon)
    return mon


def _read(mon: Any, var: str, steps: int, batch: int, shape: tuple[int, ...]) -> np.ndarray:
    vals = np.asarray(getattr(mon, var), dtype=np.float64)[:, :steps]  # (B*n, T)
    return vals.T.reshape((steps, batch, *shape))


def run_brian2(graph: Graph, inputs_time_major: np.ndarray | Mapping[str, np.ndarray],
               steps: int | None = None, probes: Iterable[str] = (),
               target: str = "numpy") -> SimResult:
    """Simulate a float IR graph in Brian2; same arguments and result as ``reference.simulate``.

    Args:
        graph: a float graph (before quantization / lowering).
        inputs_time_major: (T, B, *shape) for a single-input graph, or {input name: array}.
            Inputs of only 0/1 values drive a ``SpikeGeneratorGroup``, others a ``TimedArray``.
        steps: number of time steps (default: the stimulus length; shorter inputs are
            zero-padded).
        probes: ``"node.s"`` for any node, ``"node.v"`` / ``"node.i"`` for neurons.
        target: Brian2 code generation target, ``"numpy"`` or ``"cython"``.
    """
    if target not in TARGETS:
        raise BackendError(f"unknown Brian2 target {target!r}; choose one of {TARGETS}")
    graph = flatten_subgraphs(graph)
    stim = stimuli(graph, inputs_time_major, dtype=np.float64)
    steps = max((x.shape[0] for x in stim.values()), default=0) if steps is None else int(steps)
    batch = next(iter(stim.values())).shape[1] if stim else 1
    plist = _parse_probes(graph, probes)
    relays = tuple(dict.fromkeys(n for _, n, _ in plist if graph.nodes[n].op not in VALUE_OPS))
    plan = collapse(graph, relays)
    dt = (graph.dt if graph.dt is not None else 1e-3) * b2.second
    with _codegen_target(target):
        built = _build(plan, stim, steps, batch, dt)
        return _run(built, graph, stim, plist, steps)


def _run(built: Built, graph: Graph, stim: dict[str, np.ndarray],
         plist: list[tuple[str, str, str]], steps: int) -> SimResult:
    wanted = [(o, o, "s") for o in graph.outputs] + plist
    mons: dict[tuple[str, str], Any] = {}
    for _, node, var in wanted:
        if graph.nodes[node].op != "input" and (node, var) not in mons:
            mons[node, var] = _monitor(built, node, _VARS[var])
    try:
        built.net.run(steps * built.clock.dt, namespace={})
    except b2.BrianObjectException as exc:
        raise BackendError(f"Brian2 failed while running the network: {exc}") from exc

    def get(node: str, var: str) -> np.ndarray:
        shape = tuple(graph.nodes[node].out_shape)
        if graph.nodes[node].op == "input":
            x = stim[node][:steps]
            pad = np.zeros((steps - x.shape[0], *x.shape[1:]))
            return np.concatenate([x, pad])
        return _read(mons[node, var], _VARS[var], steps, built.batch, shape)

    return SimResult({o: get(o, "s") for o in graph.outputs},
                     {p: get(n, v) for p, n, v in plist})
