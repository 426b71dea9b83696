"""Aligned residual paths in Lava itself: random SEW ADD, residual-current, spike-OR and dense
residual networks (tests/residual_random.py) are lowered for Loihi 2 (relay neurons and
synaptic delays inserted), mapped, and run by Lava's ``fixed_pt`` models and by the event
simulator: spikes, u and v equal at every step, and the aligned outputs equal the float model."""

from __future__ import annotations

import numpy as np
import pytest
from residual_random import KINDS, random_residual, spikes

from snnc.backends.loihi.mapper import map_graph
from snnc.passes import DEFAULT_PIPELINE, PassContext, PassManager, parse_pipeline
from snnc.passes.fidelity import compare_graphs
from snnc.passes.qinputs import encode_inputs
from snnc.simulators.event import simulate

pytestmark = pytest.mark.lava


@pytest.mark.parametrize("kind", KINDS)
def test_aligned_residual_networks_run_identically_in_lava(kind: str) -> None:
    from snnc.backends.lava import run_lava

    rng = np.random.default_rng([int.from_bytes(kind.encode(), "little") % 2**31, 14])
    g = random_residual(rng, kind)
    x = spikes(rng, g.nodes["in"].out_shape, t=10, b=2)
    ctx = PassContext(calibration={"in": x}, programmable_neurons=True)
    low = PassManager(parse_pipeline(DEFAULT_PIPELINE)).run(g, ctx).graph
    align = low.metadata.get("loihi.alignment", {"delays": {}, "relays": {}})
    assert align["relays"] or align["delays"]
    assert compare_graphs(g, low, x).identical
    steps = len(x) + max(low.metadata["loihi.latency"].values())
    stim = encode_inputs(low, {"in": x})["in"]
    stim = np.concatenate([stim, np.zeros((steps - len(x), *stim.shape[1:]))])
    lifs = [n for n, v in low.nodes.items() if v.op == "loihi.lif"]
    probes = tuple(f"{n}.{var}" for n in lifs for var in ("s", "u", "v"))
    lava = run_lava(low, stim, steps, probes=probes)
    ev = simulate(map_graph(low, "loihi2"), stim, steps, probes=probes)
    np.testing.assert_array_equal(ev.output, lava.output)
    for p in probes:
        np.testing.assert_array_equal(ev.probes[p], lava.probes[p].reshape(ev.probes[p].shape),
                                      err_msg=p)
