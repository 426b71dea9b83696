"""Random spike-driven self-attention blocks in the IR (no PyTorch), with dyadic parameters so
the float model is exact in float64 and on Lava's grid (as tests/residual_random.py).

One block as Spike-driven Transformer V1 computes it, on (C, N) tokens:

    e = Conv1d(x) + b                      (patch embedding, current)
    a = n(e);  q, k, v = n(Conv1d(a))      (heads: (C, N) -> (N, C) -> (N, H, d) -> (H, N, d))
    kv = n_0.5(sum over tokens of k * v);  y = q * kv        (back to (C, N))
    m = n(Conv1d(y) + e)                   (membrane shortcut: the projection's current plus e)
    out = Linear(flatten(m))               (readout layer)

Neurons are IF or LIF with random resets and comparators (residual_random.neuron). Shared by
tests/passes/test_spike_products.py and tests/lava/test_spike_products_in_lava.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from residual_random import Builder, dyadic, neuron
from residual_random import spikes as _spikes

from snnc import ir


def random_sdsa(rng: np.random.Generator, c_in: int = 3) -> ir.Graph:
    heads = int(rng.integers(1, 3))
    d = int(rng.integers(2, 4))
    c, n = heads * d, int(rng.integers(3, 6))
    net = Builder()
    add = net.add

    def conv(name: str, src: str, ci: int, co: int, bias: bool = False) -> str:
        b = dyadic(rng, (co,)) / 2 if bias else 0.0
        return add(name, ir.Conv1d(input_shape=(ci, n), weight=dyadic(rng, (co, ci, 1)),
                                   bias=b), src)

    def split(name: str, src: str) -> str:
        t = add(f"{name}_t", ir.Permute(input_shape=(c, n), perm=(1, 0)), src)
        r = add(f"{name}_r", ir.Reshape(input_shape=(n, c), output_shape=(n, heads, d)), t)
        return add(f"{name}_h", ir.Permute(input_shape=(n, heads, d), perm=(1, 0, 2)), r)

    x = add("in", ir.Input(shape=(c_in, n)))
    e = conv("embed", x, c_in, c, bias=True)
    a = add("a", neuron(rng, (c, n)), e)
    qkv = [split(s, add(s, neuron(rng, (c, n)), conv(f"{s}_conv", a, c, c))) for s in "qkv"]
    hs = (heads, n, d)
    kv = add("kv", ir.Mul(shape=hs), qkv[1], qkv[2])
    col = add("col", ir.AxisSum(input_shape=hs, axes=(1,), keepdim=True), kv)
    th = add("talk", ir.LIF(shape=(heads, 1, d), decay_v=0.5, threshold=0.5), col)
    bc = add("talk_b", ir.Broadcast(input_shape=(heads, 1, d), output_shape=hs), th)
    y = add("y", ir.Mul(shape=hs), qkv[0], bc)
    yt = add("y_t", ir.Permute(input_shape=hs, perm=(0, 2, 1)), y)
    yr = add("y_r", ir.Reshape(input_shape=(heads, d, n), output_shape=(c, n)), yt)
    proj = conv("proj", yr, c, c)
    m = add("m", neuron(rng, (c, n)), proj, e)
    flat = add("flat", ir.Flatten(input_shape=(c, n)), m)
    head = add("head", ir.Linear(weight=dyadic(rng, (3, c * n))), flat)
    add("out", ir.Output(shape=(3,)), head)
    return net.build()


def spikes(rng: np.random.Generator, shape: tuple[int, ...], t: int = 12, b: int = 4
           ) -> Any:
    return _spikes(rng, shape, t, b, rate=(0.4, 0.8))
