"""Lattice layers (fake-quantized weights, snnc/passes/qlattice.py) in Lava itself: random IF
networks with weights k * q off the dyadic grid are lowered exactly for Loihi 1, mapped, and
run by Lava's ``fixed_pt`` models and by the event simulator: spikes, u and v equal at every
step, and the aligned output equals the float model."""

from __future__ import annotations

import numpy as np
import pytest
from lattice_random import net, spikes

from snnc.passes import DEFAULT_PIPELINE, PassContext, PassManager, parse_pipeline
from snnc.passes.fidelity import compare_graphs
from tests.lava.compare import assert_lava_equals_event

pytestmark = pytest.mark.lava


@pytest.mark.parametrize(("levels", "comparator"), [(1, ">"), (7, ">=")])
def test_lattice_networks_run_identically_in_lava(levels: int, comparator: str) -> None:
    rng = np.random.default_rng([levels, len(comparator), 14])
    g = net(rng, levels, comparator)
    x = spikes(rng, t=12, b=2)
    ctx = PassContext(calibration={"x": x})
    low = PassManager(parse_pipeline(DEFAULT_PIPELINE)).run(g, ctx).graph
    assert ctx.last_report("quantize-loihi")["exact"] is True
    assert compare_graphs(g, low, x).identical
    steps = len(x) + max(low.metadata["loihi.latency"].values())
    stim = np.concatenate([x, np.zeros((steps - len(x), *x.shape[1:]))])
    lava, _ = assert_lava_equals_event(low, stim, steps, chip="loihi1")
    assert lava.output.any()  # (the event simulator's output, equal to it, is not silent)
