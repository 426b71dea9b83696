"""The QSD-style example (examples/qsd_digits.py) in its reduced mode (2 epochs on 300 digits, 64
test digits): the traced graph equals the PyTorch forward, loihi-sim equals snnc's reference
simulation of the lowered program, the latency is as the README states."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "qsd_digits.py"


@pytest.mark.torch
@pytest.mark.requires("sklearn")
def test_qsd_example_quick_mode():
    spec = importlib.util.spec_from_file_location("qsd_digits", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.main(["--quick", "--quiet"])
    assert out["traced_equal"]
    assert out["chip_equals_lowered_reference"]
    assert out["acc_torch"] == out["acc_reference"]
    assert out["acc_torch"] > 0.15  # learning started (chance is 0.1)
    assert out["prediction_agreement"] >= 0.9
    # embed 1, attention 4 (Q/K/V, AND(K, V), AND(Q, KV), attention spike), projection into
    # the MLP's spike 1, MLP 2, head 1
    assert out["latency_steps"] == 9
