"""Models trained on the Loihi grid with snnc.nn compile exactly; the shipped example models keep
their classification in fixed point (>= 98 % agreement, reported by the fidelity report)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from snnc.api import compile as compile_model
from snnc.io import to_time_major
from snnc.passes.fidelity import compare_graphs

pytestmark = pytest.mark.torch
MODELS = Path(__file__).resolve().parents[2] / "examples" / "models"


@pytest.mark.parametrize("chip", [None, "loihi1"])  # None: the default, Loihi 2
@pytest.mark.parametrize("name", ["qsnn4", "bsnn"])
def test_example_models_keep_their_classification(name: str, chip: str | None) -> None:
    path = MODELS / f"{name}.pt"
    if not path.is_file():
        pytest.skip(f"{path} not built (python examples/train_digits.py)")
    test = np.load(MODELS / "digits_test.npz")
    spikes = to_time_major(test["spikes"].astype(np.float64), (64,))
    result = compile_model(path, calibration=spikes, chip=chip)
    assert result.program.chip.name == (chip or "loihi2")
    fid = result.fidelity
    assert fid["batch"] == len(test["y"])
    assert fid["classification_agreement"] >= 0.98
    # trained on the grid (4-bit / binary weights, power-of-two scales, IF, no bias): exact
    assert all(row["exact"] and row["spike_agreement"] == 1.0 for row in fid["layers"])
    assert fid["classification_agreement"] == 1.0


def _grid_model(binary: bool) -> object:
    """Leak 1/2 and 3/4, a conv, average pooling, '>=' on a neuron without leak (exact on Lava;
    with leak it is not, see test_loihi_lowering)."""
    import torch
    from torch import nn

    import snnc.nn as snn

    torch.manual_seed(1)
    lin = snn.BinaryLinear if binary else snn.QuantLinear
    conv = snn.BinaryConv2d if binary else snn.QuantConv2d
    model = nn.Sequential(
        conv(2, 4, 3, padding=1), snn.LIF(beta=0.5, threshold=0.5),
        nn.AvgPool2d(2), nn.Flatten(), lin(4 * 3 * 3, 8),
        snn.LIF(beta=0.75, threshold=0.25), lin(8, 3), snn.IF(threshold=0.5, comparator=">="))
    for m in model.modules():  # weights of a trained model: spread, no tiny values
        if isinstance(m, nn.Linear | nn.Conv2d):
            nn.init.uniform_(m.weight, -1.0, 1.0)
    model.snnc_input_shape = (2, 6, 6)
    return model


@pytest.mark.parametrize("chip", [None, "loihi1"])  # '>=' native on Loihi 2, rewritten on 1
@pytest.mark.parametrize("binary", [False, True])
def test_snnc_nn_models_on_the_grid_are_exact_in_fixed_point(binary: bool, chip: str | None,
                                                             tmp_path: Path) -> None:
    import torch

    path = tmp_path / "m.pt"
    torch.save(_grid_model(binary), path)
    x = (np.random.default_rng(0).random((8, 6, 2, 6, 6)) < 0.3).astype(np.float64)
    result = compile_model(path, calibration=x, chip=chip)
    assert compare_graphs(result.input_graph, result.lowered, x).identical
    assert all(row["exact"] for row in result.fidelity["layers"])
