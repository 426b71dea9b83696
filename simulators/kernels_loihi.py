"""Exact-integer kernels of the ``loihi.*`` ops: Lava 0.10.0's bit-accurate ``fixed_pt`` models.

Transcribed from shared/reference/loihi.md §3 (Dense §3.4, DelayDense §3.5, Conv §3.6, LIF and
LIFReset §3.2-3.3). Sums are computed in float64 and converted back, which is exact while they
stay below 2**53 (they are at most 255 * 2**31 here).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .kernels import Kernel, kernel
from .kernels_float import conv_nd


def effective_dense_weights(w: np.ndarray, num_weight_bits: int) -> np.ndarray:
    """Lava's first-step weight processing: sign-mode clip, then drop 8 - bits (+1 mixed) LSBs."""
    w = np.asarray(w, dtype=np.int64)
    if w.size == 0 or w.min() >= 0:
        mode, lo, hi = "exc", 0, 255
    elif w.max() <= 0:
        mode, lo, hi = "inh", -255, 0
    else:
        mode, lo, hi = "mixed", -256, 255
    w = np.clip(w, lo, hi)
    k = 8 - num_weight_bits + (1 if mode == "mixed" else 0)
    if mode == "inh":
        return -((-w >> k) << k)
    return (w >> k) << k


def shift(acc: np.ndarray, exp: int) -> np.ndarray:
    """``acc << exp`` for exp >= 0, floor ``acc >> -exp`` otherwise."""
    return acc << exp if exp >= 0 else acc >> -exp


def _spikes(x: np.ndarray, message_bits: int) -> np.ndarray:
    x = np.asarray(x)
    return (x != 0).astype(np.float64) if message_bits == 0 else x.astype(np.float64)


class _Dense(Kernel):
    def init(self, node: Any, batch: int) -> Any:
        w = effective_dense_weights(node.weight, node.num_weight_bits)
        n_out = node.weight.shape[0]
        if node.delays is None:
            return {"w": w.astype(np.float64), "a_buf": np.zeros((batch, n_out), np.int64)}
        delays = np.broadcast_to(node.delays, w.shape)
        depth = int(delays.max()) + 1
        per_delay = [np.where(delays == d, w, 0).astype(np.float64) for d in range(depth)]
        return {"w_d": per_delay, "a_buf": np.zeros((batch, n_out, depth), np.int64)}

    def emit(self, node: Any, state: Any) -> np.ndarray:
        buf = state["a_buf"]
        return buf.copy() if buf.ndim == 2 else buf[:, :, 0].copy()

    def update(self, node: Any, x: np.ndarray, state: Any, t: int) -> Any:
        s = _spikes(x, node.num_message_bits)
        if "w" in state:
            acc = np.rint(s @ state["w"].T).astype(np.int64)
            state["a_buf"] = shift(acc, node.weight_exp)
            return state
        buf = state["a_buf"]
        buf[:, :, 0] = 0
        buf = np.roll(buf, -1, axis=2)
        for d, wd in enumerate(state["w_d"]):
            buf[:, :, d] += shift(np.rint(s @ wd.T).astype(np.int64), node.weight_exp)
        state["a_buf"] = buf
        return state


kernel("loihi.dense")(_Dense())


def wrap24(x: np.ndarray) -> np.ndarray:
    return ((x + 2**23) % 2**24) - 2**23


class _Conv(Kernel):
    """Lava's Conv: weight_exp and num_weight_bits are NOT applied; the output wraps to 24 bits."""

    def init(self, node: Any, batch: int) -> Any:
        return {"a_buf": np.zeros((batch, *node.out_shape), np.int64)}

    def emit(self, node: Any, state: Any) -> np.ndarray:
        return state["a_buf"].copy()

    def update(self, node: Any, x: np.ndarray, state: Any, t: int) -> Any:
        s = _spikes(x, node.num_message_bits)
        a = conv_nd(s, node.weight.astype(np.float64), node.stride, node.padding, node.dilation,
                    node.groups)
        state["a_buf"] = wrap24(np.rint(a).astype(np.int64))
        return state


kernel("loihi.conv")(_Conv())


def _decay(x: np.ndarray, factor: np.ndarray) -> np.ndarray:
    p = x * factor
    return np.sign(p) * (np.abs(p) >> 12)


class _LIF(Kernel):
    """PyLifModelBitAcc / PyLifResetModelBitAcc (shared/reference/loihi.md §3.2-3.3)."""

    def init(self, node: Any, batch: int) -> Any:
        z = np.zeros((batch, *node.shape), np.int64)
        return {"u": z, "v": z.copy()}

    def step(self, node: Any, x: np.ndarray, st: Any, t: int) -> tuple[np.ndarray, Any]:
        a = np.asarray(x).astype(np.int64)
        u, v = st["u"], st["v"]
        if node.reset_interval > 0:
            offset = node.reset_offset % node.reset_interval
            if (t + 1) % node.reset_interval == offset:
                u, v = np.zeros_like(u), np.zeros_like(v)
        bias = np.where(node.bias_exp >= 0, node.bias_mant << np.maximum(node.bias_exp, 0),
                        node.bias_mant >> np.maximum(-node.bias_exp, 0))
        u = _decay(u, 4096 - (node.du + 1)) + (a << 6)
        u = np.where(u > 2**23, u - 2**24, np.where(u <= -(2**23), u + 2**24, u))
        v = _decay(v, 4096 - node.dv) + u + bias
        v = np.clip(v, -(2**23 - 1), 2**23 - 1)
        s = v > (node.vth << 6)
        v = np.where(s, 0, v)
        return s.astype(np.int64), {"u": u, "v": v}


kernel("loihi.lif")(_LIF())
