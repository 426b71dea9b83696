"""snnTorch's own NIR export of the test models imports into snnc and simulates identically,
and equals snnc's direct trace of the same model.

snnTorch's exporter writes ``tau = dt / (1 - beta)`` with ``dt = 1e-4`` and no reset mode, so the
models here use ``reset_mechanism="zero"`` (NIR's reset to v_reset), per-neuron parameter
tensors (the exporter needs them for shapes), float64 (exact ``dt / tau``) and no batch norm
(not exported). ``Synaptic`` is left out: NIR's CubaLIF resets to v_reset, which none of
snnTorch's three Synaptic resets does (snnc's direct trace covers Synaptic).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
snntorch = pytest.importorskip("snntorch")
pytest.importorskip("nir")
pytest.importorskip("nirtorch")
from frontend.fe_torch_util import (  # noqa: E402
    check_identical,
    dyadic_input,
    dyadic_model,
    run_steps,
)
from snntorch import utils as snn_utils  # noqa: E402
from snntorch.export_nir import export_to_nir  # noqa: E402
from torch import nn  # noqa: E402

from snnc.frontend.torch import trace  # noqa: E402
from snnc.ir.nir_io import from_nir  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.requires("snntorch", "nir", "nirtorch")]

DT = 1e-4  # snnTorch's hard-coded export time step


def heaviside(x):
    return (x > 0).to(x.dtype)


def leaky(shape, beta, threshold=1.0, **kw):
    return snntorch.Leaky(beta=torch.full(shape, beta), threshold=torch.full(shape, threshold),
                          init_hidden=True, reset_mechanism="zero", spike_grad=heaviside, **kw)


def mlp():
    return nn.Sequential(nn.Linear(16, 12), leaky((12,), 0.5), nn.Linear(12, 5),
                         leaky((5,), 0.75, 0.5, output=True))


def convnet():
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), leaky((4, 6, 6), 0.5, 0.5),
                         nn.AvgPool2d(2), nn.Flatten(), nn.Linear(36, 5),
                         leaky((5,), 0.75, 0.25))


@pytest.mark.parametrize(("factory", "shape"), [(mlp, (16,)), (convnet, (2, 6, 6))])
def test_nir_export_simulates_identically(factory, shape):
    model = dyadic_model(factory())
    nir_graph = export_to_nir(model, torch.zeros(1, *shape, dtype=torch.float64),
                              ignore_dims=[0])
    graph = from_nir(nir_graph, dt=DT)
    x = dyadic_input(12, 3, shape, hi=25)
    snn_utils.reset(model)
    ref = run_steps(model, x)
    check_identical(graph, x, ref)
    assert np.array_equal(check_identical(trace(model, shape), x, ref), ref.numpy())
