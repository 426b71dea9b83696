"""Interval bounds on every node's output, and neurons proven never to fire.

``value_bounds`` propagates per-element intervals [lo, hi] in schedule order: spikes are in
[0, 1] (or [0, 0] once proven silent), graph inputs in [-B, B] (unbounded by default), linear
ops split their weights into positive and negative parts, pools are monotone. Infinite bounds
are tracked with indicator arrays so that 0 * inf never appears.

``never_fires`` bounds the pre-reset membrane potential over all time from the input bound:
with per-step drive c <= C and decay d in [0, 1), v_pre <= max(d*v_init, 0) + C/(1-d) (C >= 0)
or max(d*v_init, 0) + C (C < 0); with d = 1 (IF), v_pre <= v_init + C when C <= 0. A neuron
whose bound stays at or below its threshold (below, for ``>=``) never spikes. Recurrent edges
are handled by iterating: each round assumes only the neurons proven silent so far.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ir import Graph, Linear, Node, as_float
from ..ir.traits import Trait, has
from ..simulators.kernels import kernel_for
from .graphutil import is_spiking

Interval = tuple[np.ndarray, np.ndarray]


def _mul(c: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> Interval:
    """c * [lo, hi] element-wise, with 0 * inf = 0."""
    with np.errstate(invalid="ignore"):
        hi2 = np.where(c > 0, c * hi, np.where(c < 0, c * lo, 0.0))
        lo2 = np.where(c > 0, c * lo, np.where(c < 0, c * hi, 0.0))
    return lo2, hi2


def _apply(node: Node, x: np.ndarray) -> np.ndarray:
    return kernel_for(node.op, node.op).step(node, x[None], None, 0)[0][0]


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)  # a node keeps a read-only array as it is (no copy)
    return a


def _linear(node: Any, lo: np.ndarray, hi: np.ndarray) -> Interval:
    def op(weight: np.ndarray, x: np.ndarray) -> np.ndarray:
        if node.op in ("affine", "linear"):
            return _apply(Linear(weight=weight), x)
        return _apply(node.replace(weight=weight, bias=np.float64(0.0)), x)

    fin = {"lo": np.where(np.isinf(lo), 0.0, lo), "hi": np.where(np.isinf(hi), 0.0, hi)}
    inf = {"lo": np.isinf(lo).astype(float), "hi": np.isinf(hi).astype(float)}
    # one weight-sized part at a time (positive, negative, their non-zero indicators), each
    # dropped once applied: a 64 M-weight layer held seven float64 copies at once before
    w: Any = as_float(node.weight)
    out: dict[str, np.ndarray] = {}
    for sign, part in (("pos", np.maximum), ("neg", np.minimum)):
        wp = _frozen(part(w, 0))
        out[f"{sign} hi"], out[f"{sign} lo"] = op(wp, fin["hi"]), op(wp, fin["lo"])
        ind = _frozen((wp != 0).astype(float))
        del wp
        out[f"{sign} inf hi"], out[f"{sign} inf lo"] = op(ind, inf["hi"]), op(ind, inf["lo"])
        del ind
    del w
    bias: Any = 0.0 if node.op == "linear" else node.bias
    if node.op in ("conv1d", "conv2d") and np.ndim(bias):
        bias = bias.reshape((-1,) + (1,) * (len(node.out_shape) - 1))
    new_hi = out["pos hi"] + out["neg lo"] + bias
    new_lo = out["pos lo"] + out["neg hi"] + bias
    up = out["pos inf hi"] + out["neg inf lo"] > 0
    down = out["pos inf lo"] + out["neg inf hi"] > 0
    return np.where(down, -np.inf, new_lo), np.where(up, np.inf, new_hi)


def _through(node: Any, lo: np.ndarray, hi: np.ndarray) -> Interval:
    """Output interval of a non-neuron op."""
    if has(node, Trait.SYNAPSE):
        return _linear(node, lo, hi)
    if has(node, Trait.MONOTONE):
        return _apply(node, lo), _apply(node, hi)
    if node.op == "scale":
        return _mul(np.broadcast_to(node.scale, node.shape), lo, hi)
    if node.op == "batchnorm":
        a, b = node.channel_affine()
        shp = (-1,) + (1,) * (len(node.shape) - 1)
        lo2, hi2 = _mul(np.broadcast_to(a.reshape(shp), node.shape), lo, hi)
        return lo2 + b.reshape(shp), hi2 + b.reshape(shp)
    if node.op == "delay":
        return np.minimum(lo, 0.0), np.maximum(hi, 0.0)
    full = np.full(node.out_shape, np.inf)
    return -full, full


def _filtered(m_lo: np.ndarray, m_hi: np.ndarray, d: np.ndarray) -> Interval:
    """Bounds of i[t] = d * i[t-1] + m[t] over all t (i[-1] = 0) for m in [m_lo, m_hi]."""
    ok = (d >= 0) & (d < 1)
    ok1 = ok | (d == 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        hi = np.where(m_hi >= 0, np.where(ok, m_hi / (1 - d), np.inf), np.where(ok1, m_hi, np.inf))
        lo = np.where(m_lo <= 0, np.where(ok, m_lo / (1 - d), -np.inf),
                      np.where(ok1, m_lo, -np.inf))
    return lo, hi


def _drive(node: Any, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Upper bound on the per-step contribution to v (gain * current + bias)."""
    shape = node.shape
    if node.current:
        m_lo, m_hi = _mul(np.broadcast_to(node.gain_i, shape), lo, hi)
        lo, hi = _filtered(m_lo, m_hi, np.broadcast_to(node.decay_i, shape))
    _, c_hi = _mul(np.broadcast_to(node.gain, shape), lo, hi)
    return c_hi + node.bias


def never_fires(node: Any, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Boolean mask over ``node.shape``: neurons proven never to spike."""
    if node.op == "threshold":
        thr = np.broadcast_to(node.threshold, node.shape)
        return hi < thr if node.comparator == ">=" else hi <= thr
    c = _drive(node, lo, hi)
    d = np.broadcast_to(node.decays()[0], node.shape)
    v0 = np.broadcast_to(node.v_init, node.shape)
    start = np.maximum(d * v0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        leaky = start + np.where(c >= 0, c / (1 - d), c)
    bound = np.where((d >= 0) & (d < 1), leaky, np.where((d == 1) & (c <= 0), v0 + c, np.inf))
    thr = np.broadcast_to(node.threshold, node.shape)
    return bound < thr if node.comparator == ">=" else bound <= thr


def value_bounds(g: Graph, silent: dict[str, np.ndarray],
                 input_bound: float | None) -> dict[str, Interval]:
    """Output interval of every node, given the neurons already known to be silent."""
    sched = g.schedule()
    out: dict[str, Interval] = {}

    def static(name: str) -> Interval:
        node = g.nodes[name]
        if is_spiking(node):
            return np.zeros(node.out_shape), np.where(silent.get(name, False), 0.0, 1.0) \
                + np.zeros(node.out_shape)
        full = np.full(node.out_shape, np.inf)
        return -full, full

    for name in sched.order:
        node: Any = g.nodes[name]
        lo = np.zeros(node.in_shape)
        hi = np.zeros(node.in_shape)
        for p, _ in [(a, b) for a, b in g.edges if b == name]:
            plo, phi = static(p) if (p, name) in sched.delayed or p not in out else out[p]
            lo, hi = lo + plo, hi + phi
        if node.op == "input":
            b = np.inf if input_bound is None else float(input_bound)
            out[name] = (np.full(node.out_shape, -b), np.full(node.out_shape, b))
        elif is_spiking(node) or (node.stateful and node.op != "delay"):
            out[name] = static(name)
            if is_spiking(node):
                out[name + "#in"] = (lo, hi)
        else:
            out[name] = _through(node, lo, hi)
    return out


def silent_neurons(g: Graph, input_bound: float | None = None) -> dict[str, np.ndarray]:
    """Fixed point of ``never_fires``: {spiking node: mask of neurons that never spike}."""
    silent: dict[str, np.ndarray] = {}
    for _ in range(len(g.nodes) + 1):
        bounds = value_bounds(g, silent, input_bound)
        new = {}
        for name, node in g.nodes.items():
            if is_spiking(node) and name + "#in" in bounds:
                lo, hi = bounds[name + "#in"]
                new[name] = never_fires(node, lo, hi)
        if all(np.array_equal(new[k], silent.get(k, np.zeros_like(new[k]))) for k in new):
            return new
        silent = new
    return silent
