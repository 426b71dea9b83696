"""ANN activations in the PyTorch front end (for ``snnc convert``): nn.ReLU, F.relu,
torch.relu, clamp, ReLU6, Hardtanh, constants added, and a QCFS module as papers write it;
traced by torch.fx and from torch.export programs, checked against torch's own forward."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from snnc.frontend.torch import load_torch, trace
from snnc.simulators.reference import simulate

pytestmark = [pytest.mark.torch]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "convert_digits.py"


def _qcfs_cls():
    spec = importlib.util.spec_from_file_location("convert_digits", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.QCFS


class Mixed(nn.Module):
    def __init__(self, qcfs: type):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(6, 12), nn.Linear(12, 12), nn.Linear(12, 12)
        self.act, self.r6, self.ht = nn.ReLU(), nn.ReLU6(), nn.Hardtanh(0.0, 0.5)
        self.q, self.fc4 = qcfs(1.5, 4), nn.Linear(12, 4)

    def forward(self, x):
        h = self.act(self.fc1(x)) + F.relu(self.fc1(x) - 0.25)
        h = torch.clamp(self.fc2(h), min=0.0, max=1.0) + self.r6(h + 0.5) + self.ht(h)
        h = torch.relu(self.fc3(h)).clamp(0, 3)
        return self.fc4(self.q(h))


def _check(graph, model, x: torch.Tensor) -> None:
    out = simulate(graph, x.numpy()[None]).outputs["output"][0]
    with torch.no_grad():
        ref = model(x).numpy()
    assert np.abs(ref).max() > 0.1
    np.testing.assert_allclose(out, ref, atol=1e-12)


def test_activations_trace_and_match_torch():
    torch.manual_seed(0)
    model = Mixed(_qcfs_cls()).double().eval()
    g = trace(model, (6,))
    ops = [v.op for v in g.nodes.values()]
    assert ops.count("relu") == 2  # the third, and the clamp after it, fuse into the qcfs
    assert "shift" in ops
    assert ops.count("qcfs") == 1
    assert "floor" not in ops
    _check(g, model, torch.randn(64, 6, dtype=torch.float64) * 2)


def test_torch_export_program_of_an_ann(tmp_path):
    torch.manual_seed(1)
    model = Mixed(_qcfs_cls()).double().eval()
    path = tmp_path / "ann.pt2"
    ep = torch.export.export(model, (torch.zeros(2, 6, dtype=torch.float64),), strict=False)
    torch.export.save(ep, path)
    g = load_torch(path)
    ops = [v.op for v in g.nodes.values()]
    assert ops.count("qcfs") == 1
    assert "relu" in ops
    _check(g, model, torch.randn(64, 6, dtype=torch.float64) * 2)
