"""Delayed sparse linear maps over flat (C-order) neuron indices, and their composition.

A ``Coo`` is a list of weighted, delayed connections ``pre -> post``: ``y[post, t] +=
w * x[pre, t - delay]``. The stateless linear IR ops (dense, conv, pooling, reshapes, scale, add,
batch norm, delay) become ``Coo`` maps, and a chain of them composes into one map: the
synapses that Brian2 simulates. Bias terms travel as ``Const``: ``y[post, t] += value`` for
``t >= delay`` (a bias that passed through a ``delay`` op appears only after that delay).

Composition multiplies weights and sums over shared intermediate indices; with dyadic
parameters this is exact in float64, so the composed map gives the values the op-by-op
reference computes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Coo:
    """Connections ``pre -> post`` with weight ``w`` and a delay in whole steps."""

    pre: np.ndarray
    post: np.ndarray
    w: np.ndarray
    delay: np.ndarray

    @classmethod
    def make(cls, pre, post, w, delay=0) -> Coo:
        pre = np.asarray(pre, dtype=np.int64).ravel()
        post = np.asarray(post, dtype=np.int64).ravel()
        w = np.broadcast_to(np.asarray(w, dtype=np.float64), pre.shape).copy()
        d = np.broadcast_to(np.asarray(delay, dtype=np.int64), pre.shape).copy()
        return cls(pre, post, w, d)

    @classmethod
    def identity(cls, n: int) -> Coo:
        idx = np.arange(n)
        return cls.make(idx, idx, 1.0)

    @classmethod
    def empty(cls) -> Coo:
        return cls.make([], [], 0.0)

    def __len__(self) -> int:
        return int(self.pre.size)

    def shifted(self, steps: int) -> Coo:
        return Coo(self.pre, self.post, self.w, self.delay + steps)

    def then(self, other: Coo) -> Coo:
        """The composed map: first ``self`` (a -> b), then ``other`` (b -> c)."""
        order = np.argsort(other.pre, kind="stable")
        mid = other.pre[order]
        lo = np.searchsorted(mid, self.post, side="left")
        hi = np.searchsorted(mid, self.post, side="right")
        counts = hi - lo
        ia = np.repeat(np.arange(len(self)), counts)
        starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
        ib = order[starts + np.arange(ia.size)]
        return Coo(self.pre[ia], other.post[ib], self.w[ia] * other.w[ib],
                   self.delay[ia] + other.delay[ib]).coalesced()

    def coalesced(self) -> Coo:
        """Merge connections with equal (pre, post, delay) by summing; drop zero weights."""
        if not len(self):
            return self
        order = np.lexsort((self.delay, self.post, self.pre))
        pre, post, d = self.pre[order], self.post[order], self.delay[order]
        new = np.ones(pre.size, dtype=bool)
        new[1:] = (pre[1:] != pre[:-1]) | (post[1:] != post[:-1]) | (d[1:] != d[:-1])
        starts = np.flatnonzero(new)
        w = self.w[order] if starts.size == pre.size else np.add.reduceat(self.w[order], starts)
        keep = w != 0
        return Coo(pre[starts][keep], post[starts][keep], w[keep], d[starts][keep])

    @staticmethod
    def concat(parts: list[Coo]) -> Coo:
        if not parts:
            return Coo.empty()
        return Coo(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("pre", "post", "w", "delay")))


@dataclass(frozen=True)
class Const:
    """Constant inputs: ``y[post, t] += value`` for every ``t >= delay``."""

    post: np.ndarray
    value: np.ndarray
    delay: np.ndarray

    @classmethod
    def dense(cls, vec: np.ndarray) -> Const:
        vec = np.asarray(vec, dtype=np.float64).ravel()
        nz = np.flatnonzero(vec)
        return cls(nz, vec[nz], np.zeros(nz.size, dtype=np.int64))

    @classmethod
    def empty(cls) -> Const:
        return cls.dense(np.zeros(0))

    def through(self, op: Coo) -> Const:
        """The constant after the linear map ``op``."""
        as_coo = Coo(np.zeros_like(self.post), self.post, self.value, self.delay)
        out = as_coo.then(op)
        return Const(out.post, out.w, out.delay)

    def shifted(self, steps: int) -> Const:
        return Const(self.post, self.value, self.delay + steps)

    def by_delay(self, size: int) -> dict[int, np.ndarray]:
        """{delay: dense vector of length ``size``}, zeros dropped."""
        out: dict[int, np.ndarray] = {}
        for d in np.unique(self.delay):
            sel = self.delay == d
            vec = np.bincount(self.post[sel], weights=self.value[sel], minlength=size)
            if np.any(vec != 0):
                out[int(d)] = vec
        return out

    @staticmethod
    def concat(parts: list[Const]) -> Const:
        if not parts:
            return Const.empty()
        return Const(*(np.concatenate([getattr(p, f) for p in parts])
                       for f in ("post", "value", "delay")))
