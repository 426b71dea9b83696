"""Lattice layers (fake-quantized weights, snnc/passes/qlattice.py) in Lava itself: random IF
networks with weights k * q off the dyadic grid are lowered exactly for Loihi 1, mapped, and
run by Lava's ``fixed_pt`` models and by the event simulator: spikes, u and v equal at every
step, and the aligned output equals the float model."""

from __future__ import annotations

import numpy as np
import pytest
from lattice_random import net, spikes

from snnc.backends.loihi.mapper import map_graph
from snnc.passes import DEFAULT_PIPELINE, PassContext, PassManager, parse_pipeline
from snnc.passes.fidelity import compare_graphs
from snnc.simulators.event import simulate

pytestmark = pytest.mark.lava


@pytest.mark.parametrize(("levels", "comparator"), [(1, ">"), (7, ">=")])
def test_lattice_networks_run_identically_in_lava(levels: int, comparator: str) -> None:
    from snnc.backends.lava import run_lava

    rng = np.random.default_rng([levels, len(comparator), 14])
    g = net(rng, levels, comparator)
    x = spikes(rng, t=12, b=2)
    ctx = PassContext(calibration={"x": x})
    low = PassManager(parse_pipeline(DEFAULT_PIPELINE)).run(g, ctx).graph
    assert ctx.last_report("quantize-loihi")["exact"] is True
    assert compare_graphs(g, low, x).identical
    steps = len(x) + max(low.metadata["loihi.latency"].values())
    stim = np.concatenate([x, np.zeros((steps - len(x), *x.shape[1:]))])
    lifs = [n for n, v in low.nodes.items() if v.op == "loihi.lif"]
    probes = tuple(f"{n}.{var}" for n in lifs for var in ("s", "u", "v"))
    lava = run_lava(low, stim, steps, probes=probes)
    ev = simulate(map_graph(low, "loihi1"), stim, steps, probes=probes)
    assert ev.output.any()
    np.testing.assert_array_equal(ev.output, lava.output)
    for p in probes:
        np.testing.assert_array_equal(ev.probes[p], lava.probes[p].reshape(ev.probes[p].shape),
                                      err_msg=p)
