"""Integer-valued products and multi-level spikes (``lower-spike-products`` through
``integer_products``) on random IR graphs (tests/integer_random.py): the rewrite alone is exact
in the float semantics (same values at every step), and the whole default pipeline is exact on
the chip's grid (compare_graphs under the latency convention), with the integer values really
used (levels above one, products above one)."""

from __future__ import annotations

import numpy as np
import pytest
from integer_random import random_integer_attention, spikes

from snnc.passes import DEFAULT_PIPELINE, PassContext, PassManager, parse_pipeline
from snnc.passes.fidelity import compare_graphs
from snnc.passes.spike_products import LowerSpikeProducts
from snnc.simulators.reference import simulate


@pytest.mark.parametrize("seed", range(12))
def test_the_rewrite_is_exact_in_the_float_semantics(seed: int) -> None:
    rng = np.random.default_rng([seed, 1717])
    g = random_integer_attention(rng)
    x = spikes(rng, g.nodes["in"].out_shape)
    ctx = PassContext()
    low = LowerSpikeProducts().run(g, ctx)
    assert not any(v.op in ("mul", "qcfs", "axis_sum", "broadcast") for v in low.nodes.values())
    want = simulate(g, x).output
    np.testing.assert_array_equal(simulate(low, x).output, want)


@pytest.mark.parametrize("seed", range(10))
def test_random_integer_attention_lowers_exactly(seed: int) -> None:
    rng = np.random.default_rng([seed, 1718])
    g = random_integer_attention(rng)
    x = spikes(rng, g.nodes["in"].out_shape)
    ctx = PassContext(calibration={"in": x}, programmable_neurons=True)
    low = PassManager(parse_pipeline(DEFAULT_PIPELINE)).run(g, ctx).graph
    assert all(m["exact"] for m in low.metadata["loihi.layers"].values())
    cmp = compare_graphs(g, low, x)
    assert cmp.identical, cmp


def test_random_integer_attention_is_not_trivial() -> None:
    """Over the seeds, products take values above one and the readout varies."""
    big, varied = 0, 0
    for seed in range(12):
        rng = np.random.default_rng([seed, 1717])
        g = random_integer_attention(rng)
        x = spikes(rng, g.nodes["in"].out_shape)
        res = simulate(g, x, probes=["y.s", "p.s"])
        big += res.probes["y.s"].max() > 1
        varied += len(np.unique(res.output)) > 4
    assert big >= 6
    assert varied >= 8
