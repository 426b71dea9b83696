"""Aligned residual paths in Lava itself: random SEW ADD, residual-current, spike-OR and dense
residual networks (tests/residual_random.py) are lowered for Loihi 2 (relay neurons and
synaptic delays inserted), mapped, and run by Lava's ``fixed_pt`` models and by the event
simulator: spikes, u and v equal at every step, and the aligned outputs equal the float model."""

from __future__ import annotations

import numpy as np
import pytest
from residual_random import KINDS, random_residual, spikes

from snnc.passes.fidelity import compare_graphs
from tests.lava.compare import assert_lava_equals_event, lower, padded_stimulus

pytestmark = pytest.mark.lava


@pytest.mark.parametrize("kind", KINDS)
def test_aligned_residual_networks_run_identically_in_lava(kind: str) -> None:
    rng = np.random.default_rng([int.from_bytes(kind.encode(), "little") % 2**31, 14])
    g = random_residual(rng, kind)
    x = spikes(rng, g.nodes["in"].out_shape, t=10, b=2)
    low, _ = lower(g, x)
    align = low.metadata.get("loihi.alignment", {"delays": {}, "relays": {}})
    assert align["relays"] or align["delays"]
    assert compare_graphs(g, low, x).identical
    assert_lava_equals_event(low, *padded_stimulus(low, x))
