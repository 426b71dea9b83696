"""Random IF networks whose weights are integer multiples of a unit off the dyadic grid (the
lattice layers of snnc/passes/qlattice.py), for the lowering and Lava tests."""

from __future__ import annotations

import numpy as np

from snnc import ir


def net(rng: np.random.Generator, levels: int, comparator: str = ">",
        **lif: object) -> ir.Graph:
    """16 -> 24 -> 6 neurons; weights k * q_l with |k| <= levels, q_l off the dyadic grid."""
    def w(shape: tuple[int, int]) -> np.ndarray:
        q = float(rng.uniform(0.05, 0.4))  # a random unit: no power of two an 8-bit grid holds
        k = rng.integers(-levels, levels + 1, shape) if levels > 1 else rng.choice([-1, 1], shape)
        return k * q

    neuron = {"decay_v": np.array(1.0), "threshold": np.array(1.0), "comparator": comparator,
              **lif}
    return ir.Graph.chain(
        ("x", ir.Input(shape=(16,))), ("fc1", ir.Linear(weight=w((24, 16)))),
        ("n1", ir.LIF(shape=(24,), **neuron)), ("fc2", ir.Linear(weight=w((6, 24)))),
        ("n2", ir.LIF(shape=(6,), **neuron)), ("y", ir.Output(shape=(6,))))


def spikes(rng: np.random.Generator, t: int = 24, b: int = 4) -> np.ndarray:
    return (rng.random((t, b, 16)) < 0.4).astype(np.float64)
