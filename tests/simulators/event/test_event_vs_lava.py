"""The event simulator against Lava 0.10.0 itself (``fixed_pt``), in the Lava environment."""

from __future__ import annotations

import numpy as np
import pytest
from loihi_chips import tiny_chip
from loihi_random import random_network

from snnc.backends.loihi.mapper import map_graph
from snnc.simulators.event import simulate

pytestmark = pytest.mark.lava


@pytest.mark.parametrize("scenario", ["plain", "u_wrap", "graded"])
def test_event_simulator_matches_lava(tmp_path, scenario) -> None:
    from snnc.backends.lava import run_lava

    net = random_network(np.random.default_rng([41, len(scenario)]), scenario, steps=20)
    prog = map_graph(net.graph, tiny_chip(tmp_path, neurons=4))
    probes = tuple(p for p in net.probes if p.rsplit(".", 1)[0] in net.neurons)
    lava = run_lava(net.graph, net.stimulus, probes=probes)
    ev = simulate(prog, net.stimulus, probes=probes)
    np.testing.assert_array_equal(ev.output, lava.output)
    for p in probes:
        np.testing.assert_array_equal(ev.probes[p], lava.probes[p].reshape(ev.probes[p].shape),
                                      err_msg=p)
