"""Load an example script of examples/ as a module and run it, and the checks every trained
transformer example must pass in its quick mode."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str) -> ModuleType:
    """examples/<name>.py as a module (examples are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_deploys_exactly(out: dict[str, Any], min_accuracy: float) -> None:
    """The traced graph equals the PyTorch forward, loihi-sim equals snnc's reference simulation
    of the lowered program, learning happened (``min_accuracy`` above chance, 0.1) and the chip
    predicts as PyTorch on at least 90 % of the test digits."""
    assert out["traced_equal"]
    assert out["chip_equals_lowered_reference"]
    assert out["acc_torch"] == out["acc_reference"]
    assert out["acc_torch"] > min_accuracy
    assert out["prediction_agreement"] >= 0.9
