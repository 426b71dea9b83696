"""``--target nir`` output runs in snnTorch's own NIR importer exactly like the original model.

snnTorch's importer hard-codes dt = 1e-4 (beta = 1 - dt/tau) and maps NIR LIF to a Leaky neuron
with reset to zero, so the float graph is exported with dt = 1e-4. Its NIR ``IF`` import is
broken upstream (it becomes a Leaky with beta 0.9, cf. snntorch#452), so the models here are LIF.
NIR's Flatten counts dims on the unbatched shape (snnc writes it so), while snnTorch's importer
hands them to ``torch.nn.Flatten``, which counts the batch: flatten layers are left out here.
"""

import numpy as np
import pytest

pytestmark = [pytest.mark.torch, pytest.mark.requires("snntorch", "nir", "nirtorch")]

T = 20


def _leaky(snn):
    return snn.Leaky(beta=0.5, threshold=1.0, reset_mechanism="zero", init_hidden=True)


def _mlp(torch, snn):
    class MLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(8, 16, bias=False)
            self.lif1 = _leaky(snn)
            self.fc2 = torch.nn.Linear(16, 4, bias=False)
            self.lif2 = _leaky(snn)

        def forward(self, x):
            return self.lif2(self.fc2(self.lif1(self.fc1(x))))

    return MLP(), (8,), (-3, 9)


def _conv(torch, snn):
    class ConvNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(1, 4, 3, padding=1)
            self.lif1 = _leaky(snn)
            self.pool = torch.nn.AvgPool2d(2)
            self.conv2 = torch.nn.Conv2d(4, 2, 3, stride=1)
            self.lif2 = _leaky(snn)

        def forward(self, x):
            return self.lif2(self.conv2(self.pool(self.lif1(self.conv1(x)))))

    return ConvNet(), (1, 6, 6), (-4, 7)


@pytest.mark.parametrize("build", [_mlp, _conv])
def test_snntorch_imports_the_exported_nir_and_matches(build, tmp_path):
    import nir
    import snntorch as snn
    import torch
    from snntorch import utils
    from snntorch.import_nir import import_from_nir

    from snnc.api import compile as snnc_compile
    from snnc.frontend.torch.tracer import trace

    rng = np.random.default_rng(7)
    model, shape, (lo, hi) = build(torch, snn)
    with torch.no_grad():  # dyadic parameters: float32 and float64 agree exactly
        for p in model.parameters():
            p.copy_(torch.tensor(rng.integers(lo, hi, p.shape) / 8.0))
    graph = trace(model, shape)
    editor = graph.edit()
    editor.dt = 1e-4
    snnc_compile(editor.finish(), target="nir", out_dir=tmp_path / "out")
    imported = import_from_nir(nir.read(tmp_path / "out" / "model.nir"))

    x = torch.tensor(rng.random((T, 3, *shape)) < 0.5, dtype=torch.float32)
    utils.reset(model)
    expected = torch.stack([model(x[t]) for t in range(T)])
    state, outputs = None, []
    for t in range(T):
        out, state = imported(x[t], state)
        outputs.append(out)
    got = torch.stack(outputs)
    assert 0 < expected.sum() < expected.numel()  # neither silent nor saturated
    assert torch.equal(got, expected)
