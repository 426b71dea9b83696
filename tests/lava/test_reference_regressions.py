"""Regression cases where the fixed-point reference once disagreed with Lava 0.10.0.

Lava's ``fixed_pt`` models compute in NumPy int32, so large values wrap modulo 2**32 where the
first reference (int64 throughout) did not; the random differential test found it with a conv
layer driving a slowly decaying LIF. Each case pins the values Lava produced: the unmarked test
checks the reference against them anywhere; the ``lava`` test re-derives them from Lava itself.
"""

from __future__ import annotations

import numpy as np
import pytest

from snnc import ir
from snnc.simulators.reference import simulate


def graded_dense() -> tuple[ir.Graph, np.ndarray]:
    """``W @ s`` of graded spikes is an int32 dot product: it wraps *before* weight_exp."""
    w = np.array([[255, 255], [3, -5]])  # mixed signs: 255 is truncated to 254
    g = ir.Graph.chain(("x", ir.Input(shape=(2,))),
                       ("d", ir.LoihiDense(weight=w, weight_exp=-1, num_message_bits=24)),
                       ("y", ir.Output(shape=(2,))))
    x = np.zeros((4, 1, 2), np.int64)
    x[0, 0], x[1, 0] = [2**23, 2**23], [2**22, 2**23]
    return g, x


def graded_delay_dense() -> tuple[ir.Graph, np.ndarray]:
    """DelayDense multiplies each graded payload by its weight in int32 (each product wraps)."""
    d = ir.LoihiDense(weight=np.array([[255], [254]]), delays=np.array([[0], [1]]),
                      weight_exp=-1, num_message_bits=24)
    g = ir.Graph.chain(("x", ir.Input(shape=(1,))), ("d", d), ("y", ir.Output(shape=(2,))))
    x = np.zeros((4, 1, 1), np.int64)
    x[0, 0] = 2**24
    return g, x


def lif_past_int32() -> tuple[ir.Graph, np.ndarray]:
    """u far outside 24 bits survives its single wrap, grows, and wraps at int32 (v too)."""
    lif = ir.LoihiLIF(shape=(2,), du=np.array([-1, 0]), dv=4096, vth=2**17, bias_mant=4095,
                      bias_exp=7)
    g = ir.Graph.chain(("x", ir.Input(shape=(2,))), ("l", lif), ("y", ir.Output(shape=(2,))))
    return g, np.full((8, 1, 2), 2**23 - 1, np.int64)


# Values recorded from Lava 0.10.0 (Loihi1SimCfg(select_tag="fixed_pt")).
GOLDEN = {
    "graded_dense": (graded_dense, "y", [[0, 0], [-16777216, -16777216],
                                         [-549453824, -20971520], [0, 0]]),
    "graded_delay_dense": (graded_delay_dense, "y", [[0, 0], [-8388608, 0], [0, -16777216],
                                                     [0, 0]]),
    "lif_u": (lif_past_int32, "l.u", [
        [520093632, 520093632], [1040187264, 1040060288], [1560280896, 1559899999],
        [2080374528, 2079612796], [-1660944704, -1662214154], [-1107296640, -1108160275],
        [-553648576, -554241664], [-512, -458287]]),
    "lif_v": (lif_past_int32, "l.v", [[8388607] * 2] * 4 + [[-8388607] * 2] * 3
              + [[523648, 65873]]),
}


def _record(result, name: str) -> np.ndarray:
    return (result.outputs.get(name) if name in result.outputs else result.probes[name])[:, 0]


@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_reference_reproduces_lava_int32_wraps(case: str) -> None:
    make, name, want = GOLDEN[case]
    graph, x = make()
    probes = [] if name in graph.outputs else [name]
    got = _record(simulate(graph, x, len(x), probes=probes), name)
    np.testing.assert_array_equal(got, np.array(want))


@pytest.mark.lava
@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_golden_values_come_from_lava(case: str) -> None:
    from snnc.backends.lava import run_lava

    make, name, want = GOLDEN[case]
    graph, x = make()
    probes = [] if name in graph.outputs else [name]
    got = _record(run_lava(graph, x, len(x), probes=probes), name)
    np.testing.assert_array_equal(got, np.array(want))
