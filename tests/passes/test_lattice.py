"""Lattice layers (snnc/passes/qlattice.py): weights that are integer multiples of a unit that is
not a power of two (fake-quantized 4-bit and binary weights) lower exactly when the potential
can only hold whole units: IF neurons (and memoryless ones), hard reset, spike or integer input.

Random IF networks with weights k * q (q drawn off the dyadic grid) and thresholds that are not
multiples of q are lowered; the lowered graph equals the float graph spike for spike
(``compare_graphs``), the quantizer calls every layer exact, and without the lattice (a leak,
a subtract reset) the same weights are not called exact.
"""

from __future__ import annotations

import numpy as np
import pytest
from lattice_random import net, spikes

from snnc import ir
from snnc.passes import DEFAULT_PIPELINE, PassContext, PassManager, parse_pipeline
from snnc.passes.fidelity import compare_graphs
from snnc.passes.qlattice import lattice_threshold, lattice_unit


def lower(g: ir.Graph, x: np.ndarray, programmable: bool = False):
    ctx = PassContext(calibration={g.inputs[0]: x}, programmable_neurons=programmable)
    res = PassManager(parse_pipeline(DEFAULT_PIPELINE)).run(g, ctx)
    report = next(r for r in ctx.reports if r.get("pass") == "quantize-loihi")
    return res.graph, report


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("levels", "comparator"), [(1, ">"), (7, ">"), (1, ">="), (7, ">=")])
def test_lattice_layers_lower_exactly(seed: int, levels: int, comparator: str) -> None:
    rng = np.random.default_rng([seed, levels, len(comparator)])
    g = net(rng, levels, comparator)
    x = spikes(rng)
    low, report = lower(g, x)
    assert report["exact"] is True
    assert all("lattice" in " ".join(m["notes"]) for m in report["layers"].values())
    cmp = compare_graphs(g, low, x)
    assert cmp.identical, cmp
    from snnc.simulators.reference import simulate

    s = simulate(g, {"x": x}, probes=["n1.s", "n2.s"]).probes
    assert 0.02 < s["n1.s"].mean() < 0.98  # the networks spike, so equality can fail
    assert s["n2.s"].any()


def test_without_whole_units_the_lattice_does_not_apply() -> None:
    rng = np.random.default_rng(5)
    for lif, programmable in (({"decay_v": np.array(0.75)}, False),
                              ({"reset": "subtract"}, True)):
        g = net(rng, 7, **lif)
        _, report = lower(g, spikes(rng), programmable)
        assert report["exact"] is False
        assert not any("lattice" in " ".join(m["notes"]) for m in report["layers"].values())


def test_analog_input_does_not_take_the_lattice() -> None:
    rng = np.random.default_rng(6)
    g = net(rng, 7)
    x = rng.random((24, 4, 16))
    _, report = lower(g, x)
    assert "lattice" not in " ".join(report["layers"]["n1"]["notes"])


def test_unit_and_threshold_by_hand() -> None:
    q = 0.3
    assert lattice_unit([np.array([q, -2 * q, 0.0]), np.array([[3 * q]])], np.zeros(3)) == \
        pytest.approx(q)
    assert lattice_unit([np.array([2 * q, 3 * q])], np.zeros(1)) == pytest.approx(q)  # d = 2
    assert lattice_unit([np.array([q, 0.5 * q + 0.01])], np.zeros(1)) is None
    assert lattice_unit([np.array([q])], np.array([0.5 * q])) == pytest.approx(0.5 * q)
    assert lattice_unit([np.array([q, 300 * q])], np.zeros(1)) is None  # beyond 8 bits
    # n * 0.3 > 1.0 <=> n >= 4 <=> n > 3; n * 0.3 > 0.9 <=> n > 3; n * 0.3 >= 0.9 <=> n > 2
    assert lattice_threshold(np.array([1.0, 0.9]), q, ">").tolist() == [3, 3]
    assert lattice_threshold(np.array([1.0, 0.9]), q, ">=").tolist() == [3, 2]
