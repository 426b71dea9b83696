"""The spiking-transformer example in its reduced mode (2 epochs on 300 digits, 64 test digits):
the traced graph equals the PyTorch forward, loihi-sim equals snnc's reference simulation of the
lowered program, and the report has the per-block table."""

import pytest

from tests.examples.quick import assert_deploys_exactly, load_example


@pytest.mark.torch
@pytest.mark.requires("sklearn", "spikingjelly")
def test_spiking_transformer_example_quick_mode():
    out = load_example("spiking_transformer_digits").main(["--quick", "--quiet"])
    assert_deploys_exactly(out, min_accuracy=0.3)  # learning happened (chance is 0.1)
    assert out["latency_steps"] == 9  # embed 1, SDSA 4, projection/MLP 3, head 1
    blocks = {b["block"]: b for b in out["blocks"]}
    assert set(blocks) == {"embed", "blocks.0", "head"}
    assert blocks["blocks.0"]["chip_energy"] > 0
    assert blocks["blocks.0"]["analytic_ac"] > 0
