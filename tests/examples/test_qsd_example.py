"""The QSD-style example (examples/qsd_digits.py) in its reduced mode (2 epochs on 300 digits, 64
test digits): the traced graph equals the PyTorch forward, loihi-sim equals snnc's reference
simulation of the lowered program, the latency is as the README states."""

import pytest

from tests.examples.quick import assert_deploys_exactly, load_example


@pytest.mark.torch
@pytest.mark.requires("sklearn")
def test_qsd_example_quick_mode():
    out = load_example("qsd_digits").main(["--quick", "--quiet"])
    assert_deploys_exactly(out, min_accuracy=0.15)  # learning started (chance is 0.1)
    # embed 1, attention 4 (Q/K/V, AND(K, V), AND(Q, KV), attention spike), projection into
    # the MLP's spike 1, MLP 2, head 1
    assert out["latency_steps"] == 9
