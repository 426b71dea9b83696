"""Build a Brian2 ``Network`` from a collapsed plan (``collapse.py``): units, synapses, schedule.

Every object runs in the ``groups`` slot, ordered by the position ``k`` of its value node in
``graph.schedule()``: at ``10k+0`` the summed variables of the unit's analog synapses, ``10k+1``
its update, ``10k+2`` its threshold (or spike generator), ``10k+3`` the ``on_pre`` pathways of
synapses leaving it, ``10k+4`` its reset. History buffers shift in the ``start`` slot and
monitors record in ``end``. The batch is simulated as B copies of every group and synapse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import brian2 as b2
import numpy as np

from ...errors import BackendError
from .collapse import NEURON_OPS, Plan
from .equations import (
    Inflow,
    UnitSpec,
    analog_input_spec,
    neuron_spec,
    relay_spec,
    ring_code,
    threshold_spec,
)
from .sparse import Coo


@dataclass
class Link:
    """Synapses from ``src`` to ``dst``: spike-driven (``var`` None) or summed into ``var``."""

    src: str
    dst: str
    coo: Coo
    var: str | None = None
    read: str = "y"


@dataclass
class Built:
    net: Any
    clock: Any
    groups: dict[str, Any]
    sizes: dict[str, int]
    batch: int
    links: list[Link] = field(default_factory=list)


def _safe(name: str) -> str:
    return "snnc_" + "".join(c if c.isalnum() else "_" for c in name) + "*"


def emits_spikes(plan: Plan, name: str, stim: dict[str, np.ndarray]) -> bool:
    """True for units whose output is binary spikes (delivered by ``on_pre``)."""
    node = plan.graph.nodes[name]
    if node.op == "input":
        x = stim[name]
        return bool(np.all((x == 0) | (x == 1)))
    if node.op == "threshold":
        return True
    return node.op in NEURON_OPS and node.spiking and not node.graded


def plan_links(plan: Plan, spiking: dict[str, bool]) -> tuple[list[Link], dict[str, int]]:
    """One spike link per (src, dst); one analog link per (src, dst, delay); ring depths."""
    links: list[Link] = []
    depth = dict.fromkeys(plan.order, 0)
    for dst in plan.order:
        n_analog = 0
        for src, coo in plan.inputs[dst].terms.items():
            early = plan.position[src] < plan.position[dst]
            if spiking[src]:
                links.append(_spike_link(src, dst, coo, early))
                continue
            for d in np.unique(coo.delay):
                links.append(_analog_link(src, dst, coo, int(d), f"xa{n_analog}", early))
                n_analog += 1
                depth[src] = max(depth[src], int(d))
    return links, depth


def _spike_link(src: str, dst: str, coo: Coo, early: bool) -> Link:
    """Pathways of a source scheduled after ``dst`` deliver after dst's update: one step less."""
    if early:
        return Link(src, dst, coo)
    if coo.delay.min() < 1:
        raise BackendError(f"internal: zero-delay path {src} -> {dst} against schedule order")
    return Link(src, dst, coo.shifted(-1))


def _analog_link(src: str, dst: str, coo: Coo, d: int, var: str, early: bool) -> Link:
    """Delay 0 reads ``y`` (src already updated this step); delay d >= 1 reads history ``hd``."""
    if d == 0 and not early:
        raise BackendError(f"internal: zero-delay path {src} -> {dst} against schedule order")
    sel = coo.delay == d
    part = Coo(coo.pre[sel], coo.post[sel], coo.w[sel], np.zeros(int(sel.sum()), np.int64))
    return Link(src, dst, part, var, f"h{d}" if d else "y")


def unit_spec(plan: Plan, name: str, links: list[Link]) -> UnitSpec:
    node = plan.graph.nodes[name]
    size = int(np.prod(node.out_shape if node.op != "input" else node.shape, dtype=np.int64))
    inflow = Inflow(
        spikes=any(lk.dst == name and lk.var is None for lk in links),
        analog=[lk.var for lk in links if lk.dst == name and lk.var],
        consts=plan.inputs[name].const.by_delay(size),
    )
    if node.op in NEURON_OPS:
        return neuron_spec(node, inflow)
    if node.op == "threshold":
        return threshold_spec(node, inflow)
    return relay_spec(inflow)


def _tile(v: np.ndarray, batch: int) -> np.ndarray:
    return np.tile(np.asarray(v, dtype=np.float64), batch)


def make_group(spec: UnitSpec, n: int, batch: int, ring: int, clock: Any, k: int, name: str,
               namespace: dict[str, Any] | None = None) -> tuple[Any, list[Any]]:
    """The unit's ``NeuronGroup`` (plus its history shift), scheduled at position ``k``."""
    model = list(spec.model)
    shift = None
    if ring:
        hist, shift = ring_code(ring)
        model += hist
    g = b2.NeuronGroup(n * batch, "\n".join(model), threshold=spec.threshold,
                       reset=spec.reset, clock=clock, name=_safe(name),
                       namespace=namespace or {})
    for var, val in spec.values.items():
        setattr(g, var, _tile(val, batch))
    extra = [g.run_regularly(spec.update, when="groups", order=10 * k + 1)]
    if shift:
        extra.append(g.run_regularly(shift, when="start", order=0))
    if spec.threshold:
        g.thresholder["spike"].when, g.thresholder["spike"].order = "groups", 10 * k + 2
        g.resetter["spike"].when, g.resetter["spike"].order = "groups", 10 * k + 4
    return g, extra


def spike_input(x: np.ndarray, steps: int, clock: Any, k: int, name: str) -> Any:
    """A ``SpikeGeneratorGroup`` emitting the binary stimulus x (T, B, *shape)."""
    flat = _flat_time(x, steps)
    t, idx = np.nonzero(flat)
    return b2.SpikeGeneratorGroup(flat.shape[1], idx, t * clock.dt, clock=clock,
                                  name=_safe(name), when="groups", order=10 * k + 2)


def _flat_time(x: np.ndarray, steps: int) -> np.ndarray:
    """(T, B, *shape) -> (steps, B*n), cut or zero-padded to ``steps``."""
    width = int(np.prod(x.shape[1:], dtype=np.int64))
    flat = np.zeros((steps, width))
    n = min(steps, x.shape[0])
    flat[:n] = x[:n].reshape(n, width)
    return flat


def analog_input(x: np.ndarray, steps: int, ring: int, clock: Any, k: int,
                 name: str) -> tuple[Any, list[Any]]:
    """A unit replaying the analog stimulus x (T, B, *shape) from a ``TimedArray``."""
    flat = _flat_time(x, steps)
    stim = b2.TimedArray(flat if steps else np.zeros((1, flat.shape[1])), dt=clock.dt)
    return make_group(analog_input_spec("stim"), flat.shape[1], 1, ring, clock, k, name,
                      {"stim": stim})


def make_synapses(link: Link, built: Built, k_src: int, k_dst: int) -> Any:
    """Synapses for one link, replicated over the batch."""
    src, dst = built.groups[link.src], built.groups[link.dst]
    ns, nd, b = built.sizes[link.src], built.sizes[link.dst], built.batch
    name = _safe(f"{link.src}__{link.dst}")
    if link.var is None:
        syn = b2.Synapses(src, dst, "w : 1", on_pre="xs_post += w", clock=built.clock,
                          name=name, namespace={})
    else:
        model = f"w : 1\n{link.var}_post = w * {link.read}_pre : 1 (summed)"
        syn = b2.Synapses(src, dst, model, clock=built.clock, name=name, namespace={})
    offs_s = np.repeat(np.arange(b) * ns, len(link.coo))
    offs_d = np.repeat(np.arange(b) * nd, len(link.coo))
    syn.connect(i=np.tile(link.coo.pre, b) + offs_s, j=np.tile(link.coo.post, b) + offs_d)
    syn.w = np.tile(link.coo.w, b)
    if link.var is None:
        syn.delay = np.tile(link.coo.delay, b) * built.clock.dt
        syn.pre.when, syn.pre.order = "groups", 10 * k_src + 3
    else:
        upd = syn.summed_updaters[f"{link.var}_post"]
        upd.when, upd.order = "groups", 10 * k_dst
    return syn
