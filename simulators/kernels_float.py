"""Float64 step kernels of the reference executor, one per op (see ``kernels.py`` for the API).

Each kernel is ``init(node, batch) -> state`` and ``step(node, x, state, t) -> (y, state)``, with
``x`` of shape (B, *node.in_shape). These functions define the ops' semantics; the neuron update
follows the equations in ``ir/neurons.py`` exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..ir import as_float
from ..ir.traits import Trait, ops_with
from .kernels import Kernel, kernel, stateless


def _cast(node: Any) -> np.ndarray:
    return as_float(node.weight)


@stateless("input")
@stateless("output")
@stateless("add")
def _identity(node: Any, x: np.ndarray) -> np.ndarray:
    return x


@stateless("affine")
def _affine(node: Any, x: np.ndarray) -> np.ndarray:
    return x @ _cast(node).T + node.bias


@stateless("linear")
def _linear(node: Any, x: np.ndarray) -> np.ndarray:
    return x @ _cast(node).T


@stateless("scale")
def _scale(node: Any, x: np.ndarray) -> np.ndarray:
    return x * node.scale


@stateless("flatten")
@stateless("reshape")
def _reshape(node: Any, x: np.ndarray) -> np.ndarray:
    return x.reshape((x.shape[0], *node.out_shape))


@stateless("threshold")
def _threshold(node: Any, x: np.ndarray) -> np.ndarray:
    hit = x >= node.threshold if node.comparator == ">=" else x > node.threshold
    return hit.astype(np.float64)


@stateless("batchnorm")
def _batchnorm(node: Any, x: np.ndarray) -> np.ndarray:
    a, b = node.channel_affine()
    shp = (-1,) + (1,) * (len(node.shape) - 1)
    return x * a.reshape(shp) + b.reshape(shp)


@stateless("or")
def _or(node: Any, x: list[np.ndarray]) -> np.ndarray:
    return np.any([v != 0 for v in x], axis=0).astype(np.float64)


def conv_nd(x: np.ndarray, w: np.ndarray, stride: tuple[int, ...], padding: tuple[int, ...],
            dilation: tuple[int, ...], groups: int) -> np.ndarray:
    """N-d cross-correlation, PyTorch semantics. x (B, C_in, *S), w (C_out, C_in/g, *K)."""
    nd = w.ndim - 2
    pad = [(0, 0), (0, 0)] + [(p, p) for p in padding]
    xp = np.pad(x, pad)
    k_eff = tuple(d * (k - 1) + 1 for k, d in zip(w.shape[2:], dilation, strict=True))
    win = sliding_window_view(xp, k_eff, axis=tuple(range(2, 2 + nd)))
    sl = (slice(None), slice(None), *(slice(None, None, s) for s in stride))
    sl += tuple(slice(None, None, d) for d in dilation)
    win = win[sl]  # (B, C_in, *O, *K)
    b = x.shape[0]
    cout, cpg = w.shape[:2]
    win = win.reshape(b, groups, cpg, *win.shape[2:])
    wg = w.reshape(groups, cout // groups, cpg, *w.shape[2:])
    letters = "ijklmn"[:nd]
    ks = "pqrstu"[:nd]
    out = np.einsum(f"bgc{letters}{ks},goc{ks}->bgo{letters}", win, wg, optimize=True)
    return out.reshape(b, cout, *out.shape[3:])


@stateless("conv1d")
@stateless("conv2d")
def _conv(node: Any, x: np.ndarray) -> np.ndarray:
    y = conv_nd(x, _cast(node), node.stride, node.padding, node.dilation, node.groups)
    bias = node.bias
    return y + (bias.reshape((-1,) + (1,) * (y.ndim - 2)) if bias.ndim else bias)


def pool_windows(x: np.ndarray, node: Any, fill: float) -> np.ndarray:
    """(B, C, Ho, Wo, kH, kW) windows of a 2-d pool over padded input."""
    ph, pw = node.padding
    xp = np.pad(x, [(0, 0), (0, 0), (ph, ph), (pw, pw)], constant_values=fill)
    win = sliding_window_view(xp, tuple(node.kernel_size), axis=(2, 3))
    ho, wo = node.out_shape[1:]
    return win[:, :, ::node.stride[0], ::node.stride[1]][:, :, :ho, :wo]


@stateless("sumpool2d")
def _sumpool(node: Any, x: np.ndarray) -> np.ndarray:
    return pool_windows(x, node, 0.0).sum(axis=(-1, -2))


@stateless("avgpool2d")
def _avgpool(node: Any, x: np.ndarray) -> np.ndarray:
    k = node.kernel_size[0] * node.kernel_size[1]
    return pool_windows(x, node, 0.0).sum(axis=(-1, -2)) / k


@stateless("maxpool2d")
def _maxpool(node: Any, x: np.ndarray) -> np.ndarray:
    return pool_windows(x, node, -np.inf).max(axis=(-1, -2))


class _Delay(Kernel):
    def init(self, node: Any, batch: int) -> Any:
        depth = int(node.delay.max()) + 1 if node.delay.size else 1
        return {"buf": np.zeros((depth, batch, *node.shape)), "pos": 0}

    def step(self, node: Any, x: np.ndarray, state: Any, t: int) -> tuple[np.ndarray, Any]:
        buf, pos = state["buf"], state["pos"]
        depth = buf.shape[0]
        buf[pos] = x  # slot pos holds x[t]; y[t] = x[t - d] sits in slot (pos - d) mod depth
        idx = (pos - np.broadcast_to(node.delay, node.shape)) % depth
        y = np.take_along_axis(buf, idx[None, None].repeat(x.shape[0], 1), axis=0)[0]
        return y, {"buf": buf, "pos": (pos + 1) % depth}

    def emit(self, node: Any, state: Any) -> np.ndarray:
        buf, pos = state["buf"], state["pos"]
        depth = buf.shape[0]
        idx = (pos - np.broadcast_to(node.delay, node.shape)) % depth
        return np.take_along_axis(buf, idx[None, None].repeat(buf.shape[1], 1), axis=0)[0]

    def update(self, node: Any, x: np.ndarray, state: Any, t: int) -> Any:
        buf, pos = state["buf"], state["pos"]
        buf[pos] = x
        return {"buf": buf, "pos": (pos + 1) % buf.shape[0]}


kernel("delay")(_Delay())


class _Neuron(Kernel):
    """All float neuron ops: the update of ir/neurons.py."""

    def init(self, node: Any, batch: int) -> Any:
        full = (batch, *node.shape)
        return {"v": np.broadcast_to(node.v_init, full).astype(np.float64).copy(),
                "i": np.zeros(full), "pending": np.zeros(full), "held": np.zeros(full, bool)}

    def step(self, node: Any, x: np.ndarray, st: Any, t: int) -> tuple[np.ndarray, Any]:
        decay_v, decay_i = node.decays()
        i = decay_i * st["i"] + node.gain_i * x if node.current else x
        v_pre = decay_v * st["v"] + node.gain * i + node.bias - st["pending"]
        if node.spiking and node.reset == "hard" and not node.decay_reset:
            v_pre = np.where(st["held"], node.v_reset, v_pre)  # delayed hard reset
        st = {"v": v_pre, "i": i, "pending": st["pending"], "held": st["held"]}
        if not node.spiking:
            return v_pre, st
        s = v_pre >= node.threshold if node.comparator == ">=" else v_pre > node.threshold
        v = v_pre
        if node.reset == "hard" and node.decay_reset:
            v = np.where(s, node.v_reset, v_pre)
        elif node.reset == "hard":
            st["held"] = s
        elif node.reset == "subtract" and node.decay_reset:
            v = v_pre - s * node.threshold
        elif node.reset == "subtract":
            st["pending"] = s * np.broadcast_to(node.threshold, v_pre.shape)
        st["v"] = v
        y = np.where(s, v_pre, 0.0) if node.graded else s.astype(np.float64)
        return y, st


for _name in ops_with(Trait.NEURON):  # every float neuron op; one with other semantics
    kernel(_name)(_Neuron())  # registers its own kernel in its own module
