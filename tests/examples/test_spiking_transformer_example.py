"""The spiking-transformer example in its reduced mode (2 epochs on 300 digits, 64 test digits):
the traced graph equals the PyTorch forward, loihi-sim equals snnc's reference simulation of the
lowered program, and the report has the per-block table."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "spiking_transformer_digits.py"


@pytest.mark.torch
@pytest.mark.requires("sklearn", "spikingjelly")
def test_spiking_transformer_example_quick_mode():
    spec = importlib.util.spec_from_file_location("spiking_transformer_digits", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.main(["--quick", "--quiet"])
    assert out["traced_equal"]
    assert out["chip_equals_lowered_reference"]
    assert out["acc_torch"] == out["acc_reference"]
    assert out["acc_torch"] > 0.3  # learning happened (chance is 0.1)
    assert out["prediction_agreement"] >= 0.9
    assert out["latency_steps"] == 9  # embed 1, SDSA 4, projection/MLP 3, head 1
    blocks = {b["block"]: b for b in out["blocks"]}
    assert set(blocks) == {"embed", "blocks.0", "head"}
    assert blocks["blocks.0"]["chip_energy"] > 0
    assert blocks["blocks.0"]["analytic_ac"] > 0
