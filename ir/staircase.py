"""Recognise quantized-activation chains (scale/shift/clip/relu around one floor) as ``qcfs``.

A ``round`` (halves to even) in place of the floor gives ``qcfs(rounding="half_even")``:
round is monotone like floor, so the same clip algebra holds.

QCFS and other quantized activations reach snnc op by op: PyTorch's tracer and ONNX exports
both give ``x / theta -> clip(0, 1) -> * L -> + 0.5 -> floor -> / L -> * theta``. Such a chain
computes ``clip(c * n + d, lo2, hi2)`` with ``n = clip(floor(a * x + b), n_lo, n_hi)``; when
that is a staircase from 0 with L equal steps (d = 0, the clips landing on steps 0 and L) it
is exactly ``qcfs(threshold = L / a, levels = L, offset = b, step = c)``. The rewrite is exact
in real arithmetic; chains of any other shape are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .activations import QCFS
from .graph import Graph

_POINTWISE = ("scale", "shift", "clip", "relu", "floor", "round")
#: the rounding step of a staircase: the op and the ``qcfs`` rounding it gives
_STEPS = {"floor": ("floor", np.floor), "round": ("half_even", np.round)}


@dataclass(frozen=True)
class _Affine:
    """value = clip(a * x + b, lo, hi), lo/hi in output units."""

    a: np.ndarray
    b: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @staticmethod
    def identity() -> _Affine:
        return _Affine(np.float64(1), np.float64(0), np.float64(-np.inf), np.float64(np.inf))

    def then(self, node: object) -> _Affine | None:
        op = node.op  # type: ignore[attr-defined]
        if op == "scale":
            s = np.asarray(node.scale)  # type: ignore[attr-defined]
            if np.any(s <= 0):
                return None
            return _Affine(self.a * s, self.b * s, self.lo * s, self.hi * s)
        if op == "shift":
            c = np.asarray(node.offset)  # type: ignore[attr-defined]
            return _Affine(self.a, self.b + c, self.lo + c, self.hi + c)
        lo, hi = (0.0, np.inf) if op == "relu" else (node.lo, node.hi)  # type: ignore[attr-defined]
        return _Affine(self.a, self.b, np.maximum(self.lo, lo), np.minimum(self.hi, hi))


def _is_int(v: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(v)) and np.allclose(v, np.round(v), rtol=0, atol=1e-9))


def _bound(n_bound: np.ndarray, clip: np.ndarray, c: np.ndarray, d: np.ndarray,
           low: bool) -> np.ndarray | None:
    """The level range's end after the post-floor clip, or None if the clip cuts between
    steps."""
    edge = c * n_bound + d
    full = np.broadcast_shapes(np.shape(edge), np.shape(clip))
    binds = np.broadcast_to(clip > edge if low else clip < edge, full)
    if not np.any(binds):
        return np.asarray(n_bound, dtype=np.float64)
    t = (clip - d) / c
    if not _is_int(np.where(binds, t, 0.0)):
        return None
    return np.where(binds, np.round(t), n_bound)


def as_qcfs(chain: list[object], shape: tuple[int, ...]) -> QCFS | None:
    """The ``qcfs`` op equal to ``chain`` (pointwise nodes, exactly one floor or round), or
    None."""
    floors = [i for i, n in enumerate(chain) if n.op in _STEPS]  # type: ignore[attr-defined]
    if len(floors) != 1:
        return None
    with np.errstate(invalid="ignore"):
        return _compose(chain, floors[0], shape)


def _compose(chain: list[object], fi: int, shape: tuple[int, ...]) -> QCFS | None:
    rounding, rnd = _STEPS[chain[fi].op]  # type: ignore[attr-defined]
    pre, post = _Affine.identity(), _Affine.identity()
    for node in chain[:fi]:
        pre = pre.then(node)  # type: ignore[assignment]
        if pre is None:
            return None
    for node in chain[fi + 1:]:
        post = post.then(node)  # type: ignore[assignment]
        if post is None:
            return None
    c, d = np.asarray(post.a), np.asarray(post.b)
    if not np.all(d == 0):
        return None
    k_lo = _bound(rnd(pre.lo), post.lo, c, d, low=True)
    k_hi = _bound(rnd(pre.hi), post.hi, c, d, low=False)
    if k_lo is None or k_hi is None or not np.all(k_lo == 0) or not _is_int(k_hi):
        return None
    levels = np.unique(np.round(k_hi))
    if levels.size != 1 or levels[0] < 1:
        return None
    big_l = int(levels[0])
    return QCFS(shape=shape, threshold=_squeeze(big_l / np.asarray(pre.a)), levels=big_l,
                offset=_squeeze(np.asarray(pre.b)), step=_squeeze(c), rounding=rounding)


def _squeeze(v: np.ndarray) -> np.ndarray:
    """A parameter that is one value (torch's ``tensor([theta])``) as a scalar."""
    return np.asarray(v).reshape(()) if np.size(v) == 1 else np.asarray(v)


def _name(names: list[str], taken: set[str]) -> str:
    """The fused node's name: the chain's common module path (``layer.qcfs``), if free."""
    parts = [n.split(".")[:-1] for n in names]
    common = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    name = ".".join(common)
    return name if name and name not in taken else names[0]


def _chain_around(graph: Graph, floor: str) -> list[str]:
    nodes = graph.nodes

    def single(name: str) -> bool:
        return (nodes[name].op in _POINTWISE and len(graph.predecessors(name)) == 1
                and len(graph.successors(name)) == 1)

    def last(name: str) -> bool:  # the chain's end may feed several nodes
        return nodes[name].op in _POINTWISE and len(graph.predecessors(name)) == 1

    chain = [floor]
    while single(chain[0]) and single(graph.predecessors(chain[0])[0]):
        chain.insert(0, graph.predecessors(chain[0])[0])
    while len(graph.successors(chain[-1])) == 1 and last(graph.successors(chain[-1])[0]):
        chain.append(graph.successors(chain[-1])[0])
        if not single(chain[-1]):
            break
    return chain


def _best(graph: Graph, chain: list[str]) -> tuple[list[str], QCFS] | None:
    """The longest sub-chain around the floor that is a staircase (outer scales may not be)."""
    fi = chain.index(next(n for n in chain if graph.nodes[n].op in _STEPS))
    for i in range(fi + 1):
        for j in range(len(chain), fi, -1):
            step: Any = graph.nodes[chain[fi]]
            q = as_qcfs([graph.nodes[n] for n in chain[i:j]], step.shape)
            if q is not None:
                return chain[i:j], q
    return None


def fuse_staircases(graph: Graph) -> Graph:
    """Replace every recognised quantized-activation chain by one ``qcfs`` node."""
    floors = [n for n, node in graph.nodes.items() if node.op in _STEPS]
    for floor in floors:
        if floor not in graph.nodes or len(graph.predecessors(floor)) != 1:
            continue
        found = _best(graph, _chain_around(graph, floor))
        if found is None:
            continue
        names, q = found
        pred = graph.predecessors(names[0])
        succ = graph.successors(names[-1])
        ed = graph.edit()
        for n in names:
            ed.remove(n)
        new = _name(names, set(ed.nodes))
        ed.add(new, q)
        for p in pred:
            ed.connect(p, new)
        for s in succ:
            ed.connect(new, s)
        graph = ed.finish()
    return graph
