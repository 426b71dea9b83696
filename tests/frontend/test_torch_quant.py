"""Fake-quantized weights arrive as integer mantissas equal to the quantizer's (Q-SNN, QP-SNN,
BSO, LSQ and snnc.nn styles)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from frontend.fe_torch_util import check_identical, dyadic_input  # noqa: E402
from torch import nn  # noqa: E402

import snnc.nn as snn  # noqa: E402
from snnc.frontend.torch import trace  # noqa: E402
from snnc.ir import QTensor  # noqa: E402
from snnc.nn.quant import binary_scale, uniform_scale  # noqa: E402

pytestmark = pytest.mark.torch


def weight_of(model: nn.Module, shape: tuple[int, ...], name: str = "0"):
    return trace(model, shape).nodes[name].weight


def test_quantlinear_per_channel_mantissas():
    torch.manual_seed(0)
    layer = snn.QuantLinear(32, 10, bits=4)
    with torch.no_grad():  # channels of different magnitudes: per-channel scales differ
        layer.weight.mul_(2.0 ** torch.arange(-2, 3).repeat(2).view(-1, 1))
    w = weight_of(nn.Sequential(layer, snn.IF()), (32,))
    s = uniform_scale(layer.weight.detach(), 4, True, True)
    mant = torch.clamp(torch.round(layer.weight.detach() / s), -8, 7)
    assert isinstance(w, QTensor)
    assert (w.kind, w.bits, w.scale.shape) == ("uniform", 4, (10, 1))
    assert np.array_equal(w.mant, mant.numpy().astype(np.int64))
    assert np.array_equal(w.scale, s.double().numpy())
    assert np.all(np.log2(w.scale) == np.round(np.log2(w.scale)))


def test_quantconv_per_tensor_and_binary_per_channel():
    torch.manual_seed(1)
    conv = snn.QuantConv2d(3, 8, 3, bits=8, per_channel=False)
    w = weight_of(nn.Sequential(conv, snn.IF()), (3, 6, 6))
    assert (w.bits, w.scale.shape) == (8, ())
    s = uniform_scale(conv.weight.detach(), 8, False, True)
    assert np.array_equal(w.mant, torch.round(conv.weight.detach() / s).numpy())
    lin = snn.BinaryLinear(20, 6)
    b = weight_of(nn.Sequential(lin, snn.IF()), (20,))
    assert (b.kind, b.bits) == ("binary", 1)
    assert np.array_equal(b.mant, np.where(lin.weight.detach().numpy() >= 0, 1, -1))
    alpha = binary_scale(lin.weight.detach(), True, True).numpy()
    assert np.array_equal(np.broadcast_to(b.scale, alpha.shape), alpha)


class QSNNConv(nn.Conv2d):
    """Q-SNN's binary QConv2d: standardise per channel, sign, times 2^round(log2 mean|bw|)."""

    def forward(self, x):
        w = self.weight
        bw = w - w.mean(dim=(1, 2, 3), keepdim=True)
        bw = bw / bw.std(dim=(1, 2, 3), keepdim=True)
        sw = torch.pow(2.0, torch.round(torch.log2(bw.abs().mean(dim=(1, 2, 3), keepdim=True))))
        q = torch.sign(bw) * sw
        return F.conv2d(x, q + bw - bw.detach(), None, self.stride, self.padding)


class RoundPass(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, g):
        return g


class LSQLinear(nn.Linear):
    """QSD's LinearLSQ: learned per-channel alpha (arbitrary floats), 4-bit signed."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.alpha = nn.Parameter(2 * self.weight.detach().abs().mean(1) / 7**0.5)

    def forward(self, x):
        a = self.alpha.view(-1, 1)
        return F.linear(x, RoundPass.apply(torch.clamp(self.weight / a, -8, 7)) * a, self.bias)


class ReScaWLinear(nn.Linear):
    """QP-SNN's zero-free 2-bit ReScaW: levels {-1, -1/3, 1/3, 1} * gamma per channel."""

    def forward(self, x):
        gamma = self.weight.abs().mean(1, keepdim=True)
        n = (2**2 - 1) / 2
        wt = torch.clamp(self.weight / gamma, -1, 1)
        wq = gamma * (torch.round((wt + 1) * n) / n - 1)
        return F.linear(x, self.weight + (wq - self.weight).detach())


def test_qsnn_binary_standardised():
    torch.manual_seed(2)
    conv = QSNNConv(2, 4, 3, bias=False)
    w = weight_of(nn.Sequential(conv, snn.IF()), (2, 5, 5))
    assert w.kind == "binary"
    bw = conv.weight.detach() - conv.weight.detach().mean(dim=(1, 2, 3), keepdim=True)
    assert np.array_equal(w.mant, torch.sign(bw).numpy())


def test_bso_stored_signs():
    conv = nn.Conv2d(2, 4, 3, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.where(torch.randn(4, 2, 3, 3) >= 0, 1.0, -1.0))
    w = weight_of(nn.Sequential(conv, snn.IF()), (2, 5, 5))
    assert (w.kind, float(w.scale)) == ("binary", 1.0)


def test_lsq_arbitrary_scale_float32():
    torch.manual_seed(3)
    lin = LSQLinear(24, 6, bias=False)
    w = weight_of(nn.Sequential(lin, snn.IF()), (24,))
    a = lin.alpha.detach().view(-1, 1)
    mant = torch.round(torch.clamp(lin.weight.detach() / a, -8, 7))
    assert w.bits <= 4
    assert np.array_equal(w.mant, mant.numpy())
    assert np.allclose(w.scale.ravel(), a.double().numpy().ravel(), rtol=1e-6, atol=0)


def test_rescaw_zero_free_odd_mantissas():
    torch.manual_seed(4)
    w = weight_of(nn.Sequential(ReScaWLinear(16, 5, bias=False), snn.IF()), (16,))
    assert w.bits == 3
    assert set(np.unique(w.mant)) <= {-3, -1, 1, 3}


def test_float_weights_stay_float():
    torch.manual_seed(5)
    w = weight_of(nn.Sequential(nn.Linear(8, 4), snn.IF()), (8,))
    assert isinstance(w, np.ndarray)


def test_quantized_model_simulates_identically():
    torch.manual_seed(6)
    model = nn.Sequential(snn.QuantConv2d(2, 4, 3, padding=1, bits=4, bias=True), snn.IF(),
                          nn.Flatten(), snn.BinaryLinear(64, 6), snn.LIF(0.5, 0.25)).double().eval()
    graph = trace(model, (2, 4, 4))
    x = dyadic_input(10, 4, (2, 4, 4), hi=33) * 4
    with torch.no_grad():
        check_identical(graph, x, snn.run(model, x))
    assert isinstance(graph.nodes["0"].weight, QTensor)
    assert graph.nodes["3"].weight.kind == "binary"
