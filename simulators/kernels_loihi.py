"""Exact-integer kernels of the ``loihi.*`` ops: Lava 0.10.0's bit-accurate ``fixed_pt`` models.

Transcribed from shared/reference/loihi.md §3 and checked against Lava itself, step by step, on
hundreds of random networks (tests/lava/test_reference_vs_lava.py). Lava's Python models compute
in NumPy integer types, and where those overflow, so does Lava; this module reproduces that:

- Every synapse sends its output through an **int32** channel (``a_out``): values wrap modulo
  2**32 (``wrap32``). A LIF receives the int32 sum of its inputs.
- ``loihi.dense`` (``PyDenseModelBitAcc``): weights clipped to the sign mode's 8-bit range and
  truncated to ``num_weight_bits`` (``effective_dense_weights``). Binary spikes: the sum of the
  weights of the inputs that are non-zero, exact (int64). Graded (``num_message_bits > 0``):
  ``W @ s`` in int32, so the sum wraps before ``weight_exp`` is applied. Then ``shift``.
- ``loihi.dense`` with delays (``PyDelayDenseModelBitAcc``): per delay d, the same sum over the
  synapses of delay d, shifted on its own, arrives d + 1 steps later. Graded products
  ``W_ij * s_j`` are int32 (each wraps), their sum int64.
- ``loihi.conv`` (``PyConvModelFixed``): a convolution of the input (binary: non-zero -> 1) with
  the weights, exact; ``weight_exp`` and ``num_weight_bits`` are NOT applied; the output wraps to
  24 bits (``wrap24``). Lava converts the exact float64 sum to int32 first; a sum beyond int32
  (only possible with graded payloads of > 2**15) is undefined there and not reproduced here.
- ``loihi.lif`` (``PyLifModelBitAcc``, ``PyLifResetModelBitAcc``), per step, in int32::

      if reset_interval and t % reset_interval == reset_offset % reset_interval: u = v = 0
      u = wrap32(decay(u, 4096 - (du + 1)) + (a << 6))
      u = u - 2**24 if u > 2**23 else u + 2**24 if u <= -2**23 else u    # ONE wrap, not modulo
      v = clip(wrap32(decay(v, 4096 - dv) + u + bias), -(2**23 - 1), 2**23 - 1)
      s = v > vth << 6;  v[s] = 0                                       # u is not reset

  Loihi 2 programmable variants (``comparator``, ``reset``, ``decay_reset``; Lava twin in
  backends/lava/programmable_lif.py): ``s = v >= vth << 6`` for ``>=``; ``v[s] -= vth << 6`` for an
  immediate subtract reset; a delayed one (``decay_reset=False``) leaves v as it is and
  subtracts ``r * (vth << 6)`` from the next step's sum, inside the clip, with r the previous
  step's spikes (zeroed by the periodic reset like u and v). ``v_init`` (programmable, default
  0) is v at the start and after every periodic reset (u and r go to 0 as before).

  with ``decay(x, f) = sign(x f) * (|x f| >> 12)`` (truncation toward zero), ``bias =
  bias_mant << bias_exp`` (``>> -bias_exp`` when negative) and t counted from 1. A u far beyond
  24 bits stays beyond after its single wrap, and keeps growing until int32 wraps it.

Sums go through float64 BLAS where they are exact (below 2**53).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ir.weights import effective_dense_weights
from .kernels import Kernel, kernel
from .kernels_float import conv_nd
from .loihi_lif import lif_step, prog_lif_step, shift


def wrap32(x: np.ndarray) -> np.ndarray:
    """Two's-complement wrap to int32 (what an int32 NumPy array does on overflow)."""
    return ((np.asarray(x, dtype=np.int64) + 2**31) % 2**32) - 2**31


def wrap24(x: np.ndarray) -> np.ndarray:
    """Lava's ``signed_clamp(x, 24)``: despite its name, a modulo wrap to 24 bits."""
    return ((x + 2**23) % 2**24) - 2**23


def _spikes(x: np.ndarray, message_bits: int) -> np.ndarray:
    x = np.asarray(x)
    return (x != 0).astype(np.float64) if message_bits == 0 else x.astype(np.float64)


def _matmul(s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Exact integer ``s @ w.T`` for (B, N_in) and (N_out, N_in) float64 operands."""
    return np.rint(s @ w.T).astype(np.int64)


def _wrapped_products_sum(s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """sum_j wrap32(w_ij * s_j): Lava's graded DelayDense multiplies in int32, sums in int64."""
    prod = s.astype(np.int64)[:, None, :] * w.astype(np.int64)[None, :, :]
    return wrap32(prod).sum(axis=2)


class _Dense(Kernel):
    def init(self, node: Any, batch: int) -> Any:
        w = effective_dense_weights(node.weight, node.num_weight_bits)
        n_out = node.weight.shape[0]
        if node.delays is None:
            return {"w": w.astype(np.float64), "a_buf": np.zeros((batch, n_out), np.int64)}
        delays = np.broadcast_to(node.delays, w.shape)
        depth = int(delays.max()) + 1
        per_delay = [np.where(delays == d, w, 0).astype(np.float64) for d in range(depth)]
        # all delays in one product: rows d * n_out .. (d + 1) * n_out - 1 hold delay d
        return {"w_d": per_delay, "w_all": np.concatenate(per_delay),
                "a_buf": np.zeros((batch, n_out, depth), np.int64)}

    def emit(self, node: Any, state: Any) -> np.ndarray:
        buf = state["a_buf"]
        return wrap32(buf if buf.ndim == 2 else buf[:, :, 0])

    def update(self, node: Any, x: np.ndarray, state: Any, t: int) -> Any:
        s = _spikes(x, node.num_message_bits)
        if "w" in state:
            acc = _matmul(s, state["w"])
            if node.num_message_bits:  # int32 dot product
                acc = wrap32(acc)
            state["a_buf"] = shift(acc, node.weight_exp)
            return state
        buf = np.roll(state["a_buf"], -1, axis=2)
        buf[:, :, -1] = 0
        if not s.any():  # no input: nothing to add (shift of 0 is 0)
            state["a_buf"] = wrap32(buf)
            return state
        if node.num_message_bits and np.abs(s).max(initial=0) * 256 >= 2**31:
            for d, wd in enumerate(state["w_d"]):  # products that wrap one by one
                buf[:, :, d] += shift(_wrapped_products_sum(s, wd), node.weight_exp)
        else:
            depth = buf.shape[2]
            acc = _matmul(s, state["w_all"]).reshape(s.shape[0], depth, -1).transpose(0, 2, 1)
            buf += shift(acc, node.weight_exp)
        state["a_buf"] = wrap32(buf)
        return state


kernel("loihi.dense")(_Dense())


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


def decay(x: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """``x * factor / 4096`` truncated toward zero, in int64 (Lava's u and v decay)."""
    p = x * factor
    return np.sign(p) * (np.abs(p) >> 12)


def lif_bias(node: Any) -> np.ndarray:
    return np.where(node.bias_exp >= 0, node.bias_mant << np.maximum(node.bias_exp, 0),
                    node.bias_mant >> np.maximum(-node.bias_exp, 0))


class _LIF(Kernel):
    """PyLifModelBitAcc / PyLifResetModelBitAcc (see the module docstring)."""

    def init(self, node: Any, batch: int) -> Any:
        z = np.zeros((batch, *node.shape), np.int64)
        return {"u": z, "v": _v_init(node, z), "r": z.copy()}

    def step(self, node: Any, x: np.ndarray, st: Any, t: int) -> tuple[np.ndarray, Any]:
        a = wrap32(np.asarray(x).astype(np.int64))
        u, v, r = st["u"], st["v"], st["r"]
        if node.reset_interval > 0:
            offset = node.reset_offset % node.reset_interval
            if (t + 1) % node.reset_interval == offset:
                u, v, r = np.zeros_like(u), _v_init(node, v), np.zeros_like(r)
        if node.programmable:
            return _programmable_step(node, a, u, v, r)
        u, v, s = lif_step(a, u, v, 4096 - (node.du + 1), 4096 - node.dv, lif_bias(node),
                           node.vth << 6)
        return s.astype(np.int64), {"u": u, "v": v, "r": r}


def _v_init(node: Any, like: np.ndarray) -> np.ndarray:
    return np.broadcast_to(np.asarray(node.v_init, np.int64), like.shape[1:]) + np.zeros_like(like)


def _programmable_step(node: Any, a: np.ndarray, u: np.ndarray, v: np.ndarray,
                       r: np.ndarray) -> tuple[np.ndarray, Any]:
    """Loihi 2's programmable neuron: ``loihi_lif.prog_lif_step`` (docstring above)."""
    u, v, r, s = prog_lif_step(a, u, v, r, 4096 - (node.du + 1), 4096 - node.dv,
                               lif_bias(node), node.vth << 6, node.comparator == ">=",
                               node.reset, node.decay_reset)
    return s.astype(np.int64), {"u": u, "v": v, "r": np.asarray(r, np.int64)}


kernel("loihi.lif")(_LIF())
