"""The mapper's memory cost of Loihi 2's programmable neurons, by hand.

On Loihi 2 (shared memory: synapses and neuron state in one 192 KB pool) every neuron costs
``neuron_state_bits``; a programmable neuron with a delayed subtract reset (snnTorch's
``reset_delay=True``) keeps its last spike too: ``programmable_state_bits`` more (1 bit,
backends/loihi/chips/loihi2.toml). Subtract reset applied at once, ``>=`` and ``v_init`` need
no extra state.
"""

from __future__ import annotations

import numpy as np
import pytest

from snnc import ir
from snnc.backends.loihi.chips import load_chip
from snnc.backends.loihi.partition import LayerCost

N = 10


def _bits(chip, **lif) -> int:
    node = ir.LoihiLIF(shape=(N,), du=4095, dv=4095, vth=10, **lif)
    return LayerCost("lif", np.arange(N), [], chip, node).need(0, N).bits


@pytest.mark.parametrize(("lif", "extra"), [
    ({}, 0), ({"reset": "subtract"}, 0), ({"comparator": ">="}, 0),
    ({"v_init": np.full(N, 64)}, 0), ({"reset": "subtract", "decay_reset": False}, 1)])
def test_neuron_state_bits_by_hand(lif, extra) -> None:
    chip = load_chip("loihi2")
    assert chip.core.shared_memory_bits > 0
    per = chip.core.neuron_state_bits
    assert chip.neuron.programmable_state_bits == 1
    assert _bits(chip, **lif) == N * (per + extra)
