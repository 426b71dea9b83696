"""lava-dl's tiny.net (whose input block is a neuron layer driven by the host) on loihi-sim."""

from __future__ import annotations

import numpy as np

from snnc.backends.loihi.mapper import map_graph
from snnc.frontend.netx import read_netx
from snnc.simulators.event import simulate as event_simulate
from snnc.simulators.reference import simulate as reference_simulate


def test_tiny_net_runs_on_the_chip_like_the_reference(lavadl_assets) -> None:
    graph = read_netx(lavadl_assets / "tiny.net", reset_interval=17)
    assert graph.predecessors("layer0") == ["input"]  # input current injected by the host
    program = map_graph(graph, "loihi2")
    x = np.random.default_rng(0).integers(0, 60, (40, 2, 3, 16, 16)).astype(float)
    probes = ["layer0.v", "layer1.u", "layer2.v"]
    chip = event_simulate(program, x, 40, probes)
    ref = reference_simulate(graph, x, 40, probes)
    assert 0 < chip.output.sum() < chip.output.size
    np.testing.assert_array_equal(chip.output, ref.output)
    for p in probes:
        np.testing.assert_array_equal(chip.probes[p], ref.probes[p])
    assert chip.counters.totals()["syn_ops_conv"] > 0
