"""Spike-driven self-attention in Lava itself: random SDSA blocks (tests/sdsa_random.py) lowered
for Loihi 2 (coincidence neurons, 0/1 synapses for the sum over tokens and the head
rearrangements, delays on the Q path and the membrane shortcut), run by Lava's ``fixed_pt``
models and by the event simulator: spikes, u and v equal at every step, and the aligned
outputs equal the float model. Likewise random integer-valued attention (multi-level spikes,
Q(KᵀV) products; tests/integer_random.py)."""

from __future__ import annotations

import numpy as np
import pytest
from sdsa_random import random_sdsa, spikes

from snnc.passes.fidelity import compare_graphs
from tests.lava.compare import assert_lava_equals_event, lower, padded_stimulus

pytestmark = pytest.mark.lava


@pytest.mark.parametrize("seed", [0, 1])
def test_sdsa_blocks_run_identically_in_lava(seed: int) -> None:
    rng = np.random.default_rng([seed, 17])
    g = random_sdsa(rng)
    x = spikes(rng, g.nodes["in"].out_shape, t=8, b=2)
    low, ctx = lower(g, x)
    assert set(ctx.last_report("lower-spike-products")["products"]) == {"kv", "y"}
    assert compare_graphs(g, low, x).identical
    lava, lifs = assert_lava_equals_event(low, *padded_stimulus(low, x))
    ands = [n for n in lifs if n.endswith("_and")]
    assert len(ands) == 2
    for a in ands:  # the coincidence neurons are not silent in Lava
        assert lava.probes[f"{a}.s"].any(), a


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_integer_attention_runs_identically_in_lava(seed: int) -> None:
    """Multi-level spikes (unary neurons) and integer products (ANDs) of tests/integer_random.py
    in Lava: spikes, u and v of every neuron equal the event simulator's at every step."""
    from integer_random import random_integer_attention
    from integer_random import spikes as int_spikes

    rng = np.random.default_rng([seed, 1718])
    g = random_integer_attention(rng)
    x = int_spikes(rng, g.nodes["in"].out_shape)
    low, _ = lower(g, x)
    assert compare_graphs(g, low, x).identical
    lava, _ = assert_lava_equals_event(low, *padded_stimulus(low, x))
    assert lava.probes["y_and.s"].any()  # the outer ANDs fire in Lava
