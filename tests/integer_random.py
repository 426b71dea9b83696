"""Random integer-valued attention in the IR (no PyTorch): multi-level spikes (``qcfs`` with
random levels, per-channel thresholds and steps, offsets 0 or 1/2) and binary neurons as
sources, products of 2 or 3 operands seen through permutes, broadcasts and sums over tokens,
a product of a product's sum (the Q(KᵀV) form), read by a synapse into a neuron, with dyadic
parameters so the float model is exact in float64 and on Lava's grid (steps 1/2 or 1: wider
ranges of step products need more than the 8-bit weights of the readout synapse, which
quantize-loihi then reports as inexact).

    x -> Conv1d -> s_i (qcfs or IF/LIF, shape (c, n))     for i = 0, 1, 2
    p = s_0 * s_1 (or * permuted / broadcast-summed forms)   (c, n)
    kv = sum over tokens of p, broadcast back;   y = s_2 * kv   [* s_0 for arity 3]
    m = neuron(Linear(flatten(y)) + Linear(flatten(p)))  ->  readout

Shared by tests/passes/test_integer_products.py.
"""

from __future__ import annotations

import numpy as np
from residual_random import Builder, dyadic, neuron
from residual_random import spikes as _spikes

from snnc import ir


def source(rng: np.random.Generator, shape: tuple[int, int]) -> ir.Node:
    if rng.random() < 0.6:
        c = shape[0]
        levels = int(rng.integers(1, 4))
        theta = rng.integers(1, 5, size=(c, 1)) / 2 if rng.random() < 0.5 else \
            np.float64(rng.integers(1, 5) / 2)
        step = 2.0 ** rng.integers(-1, 1, size=(c, 1)) if rng.random() < 0.5 else \
            np.float64(2.0 ** rng.integers(-1, 1))
        return ir.QCFS(shape=shape, threshold=theta * levels, levels=levels,
                       offset=np.float64(rng.choice([0.0, 0.5])), step=step)
    return neuron(rng, shape)


def random_integer_attention(rng: np.random.Generator) -> ir.Graph:
    c, n = int(rng.integers(2, 4)), int(rng.integers(2, 4))
    net = Builder()
    add = net.add

    x = add("in", ir.Input(shape=(2, n)))
    srcs = []
    for i in range(3):
        conv = add(f"c{i}", ir.Conv1d(input_shape=(2, n), weight=dyadic(rng, (c, 2, 1)) * 2,
                                      bias=dyadic(rng, (c,))), x)
        srcs.append(add(f"s{i}", source(rng, (c, n)), conv))
    a = srcs[1]
    if rng.random() < 0.5:  # the second operand transposed twice (a permute chain)
        a = add("t", ir.Permute(input_shape=(c, n), perm=(1, 0)), a)
        a = add("tt", ir.Permute(input_shape=(n, c), perm=(1, 0)), a)
    p = add("p", ir.Mul(shape=(c, n)), srcs[0], a)
    col = add("col", ir.AxisSum(input_shape=(c, n), axes=(1,), keepdim=True), p)
    kv = add("kv", ir.Broadcast(input_shape=(c, 1), output_shape=(c, n)), col)
    arity = int(rng.integers(2, 4))
    y = add("y", ir.Mul(shape=(c, n), arity=arity), srcs[2], kv, *srcs[:arity - 2])
    fy = add("fy", ir.Flatten(input_shape=(c, n)), y)
    fp = add("fp", ir.Flatten(input_shape=(c, n)), p)
    wy = add("wy", ir.Linear(weight=dyadic(rng, (3, c * n)) / 2), fy)
    wp = add("wp", ir.Linear(weight=dyadic(rng, (3, c * n)) / 2), fp)
    m = add("m", ir.LI(shape=(3,), decay_v=np.float64(0.5)), wy, wp)
    add("out", ir.Output(shape=(3,)), m)
    return net.build()


def spikes(rng: np.random.Generator, shape: tuple[int, ...], t: int = 8, b: int = 3
           ) -> np.ndarray:
    return _spikes(rng, shape, t, b, rate=(0.4, 0.8))
