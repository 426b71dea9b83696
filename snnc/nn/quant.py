"""Fake-quantized layers: k-bit uniform and binary weights with straight-through gradients.

The forward pass uses ``w_q = mant * scale`` with integer mantissas; the backward pass treats the
quantizer as identity (``w + (w_q - w).detach()``). Scales are per output channel by default and
rounded to powers of two (``pow2=True``), so that the weights of a trained model lie exactly on
a grid that Loihi's mantissa/exponent format represents: snnc recognises the grid when it traces
the model and stores integer mantissas. Biases, when present, are rounded to the same per-channel
grid, so that ``W x + b`` stays an integer multiple of the channel's scale.

Scales are computed from the current weights (``max |w|`` for k-bit, ``mean |w|`` for binary):
they are functions of the parameters only, so tracing evaluates them to constants.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _reduce_dims(ndim: int, per_channel: bool) -> tuple[int, ...]:
    return tuple(range(1, ndim)) if per_channel else tuple(range(ndim))


_BITS = {torch.float32: (torch.int32, 23, 127), torch.float64: (torch.int64, 52, 1023)}


def _pow2(x: torch.Tensor, mode: str) -> torch.Tensor:
    """2^ceil(log2 x) or 2^round(log2 x), exactly (x > 0).

    From the binary exponent, not a float log2: with ``x = m 2^e``, m in [0.5, 1),
    ceil(log2 x) is e - 1 when m = 0.5, else e; round(log2 x) is e - 1 when m < 2^-1/2
    (m^2 < 1/2 in float64, exact for a float32 m; no tie is possible), else e. A float32
    ``log2`` is off by an ulp near those boundaries, so ``exp2(ceil(log2(x)))`` could give the
    power below ``x`` (then ``max |w| > s * qmax`` and the largest weight clipped), and the result
    depended on the library's rounding; this is the same in torch and in the torch-free reader
    (``snnc/frontend/snncpt``). The power is built from its bits (normal range)."""
    if x.dtype not in _BITS:
        e = torch.log2(x)
        return torch.exp2(torch.ceil(e) if mode == "ceil" else torch.round(e))
    m, e = torch.frexp(x)
    below = m == 0.5 if mode == "ceil" else m.double() ** 2 < 0.5
    k = e.to(torch.int64) - below.to(torch.int64)
    ity, shift, bias = _BITS[x.dtype]
    return ((k + bias).clamp(1, 2 * bias) << shift).to(ity).view(x.dtype)


def uniform_scale(w: torch.Tensor, bits: int, per_channel: bool, pow2: bool,
                  ndim: int | None = None) -> torch.Tensor:
    """Scale s with ``max |w| <= s * (2^(bits-1) - 1)`` (rounded up to 2^k when ``pow2``).

    ``ndim`` (the weight's rank) is needed when ``w`` is a torch.fx proxy."""
    qmax = 2 ** (bits - 1) - 1
    dims = _reduce_dims(w.ndim if ndim is None else ndim, per_channel)
    m = w.detach().abs().amax(dim=dims, keepdim=True)
    s = m.clamp_min(1e-8) / qmax
    return _pow2(s, "ceil") if pow2 else s


def binary_scale(w: torch.Tensor, per_channel: bool, pow2: bool,
                 ndim: int | None = None) -> torch.Tensor:
    """alpha = mean |w| (rounded to the nearest 2^k when ``pow2``)."""
    dims = _reduce_dims(w.ndim if ndim is None else ndim, per_channel)
    alpha = w.detach().abs().mean(dim=dims, keepdim=True).clamp_min(1e-8)
    return _pow2(alpha, "round") if pow2 else alpha


def quantize_uniform(w: torch.Tensor, bits: int, per_channel: bool = True,
                     pow2: bool = True) -> torch.Tensor:
    """Symmetric k-bit fake quantization with a straight-through gradient."""
    return _fake_uniform(w, bits, uniform_scale(w, bits, per_channel, pow2))


def quantize_binary(w: torch.Tensor, per_channel: bool = True, pow2: bool = True) -> torch.Tensor:
    """``sign(w) * alpha`` (sign(0) = +1) with a straight-through gradient."""
    return _fake_binary(w, binary_scale(w, per_channel, pow2))


def _fake_uniform(w: torch.Tensor, bits: int, s: torch.Tensor) -> torch.Tensor:
    mant = torch.clamp(torch.round(w / s), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    return w + (mant * s - w).detach()


def _fake_binary(w: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    sign = torch.where(w >= 0, torch.ones_like(w), -torch.ones_like(w))
    return w + (sign * alpha - w).detach()


def quantize_bias(b: torch.Tensor, scale: torch.Tensor, bits: int,
                  per_channel: bool = True) -> torch.Tensor:
    """Round ``b`` to the weight grid: integer multiples of ``scale`` (per channel or tensor)."""
    s = scale.reshape(-1) if per_channel else scale.reshape(())
    lim = 2.0 ** (bits - 1)
    q = torch.clamp(torch.round(b / s), -lim, lim - 1) * s
    return b + (q - b).detach()


class _QuantMixin:
    bits: int
    per_channel: bool
    pow2: bool
    bias_bits: int
    weight_ndim: int

    def quant_params(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(fake-quantized weight, bias on the same grid or None)."""
        w = self.weight
        if self.bits == 1:
            s = binary_scale(w, self.per_channel, self.pow2, self.weight_ndim)
            w_q = _fake_binary(w, s)
        else:
            s = uniform_scale(w, self.bits, self.per_channel, self.pow2, self.weight_ndim)
            w_q = _fake_uniform(w, self.bits, s)
        b = self.bias
        return w_q, None if b is None else quantize_bias(b, s, self.bias_bits, self.per_channel)


class QuantLinear(_QuantMixin, nn.Linear):
    """``nn.Linear`` with k-bit weights (``bits=1``: binary ±alpha).

    Args:
        bits: weight bits (2..8 uniform symmetric; 1 = binary).
        per_channel: one scale per output feature (else one per tensor).
        pow2: round scales to powers of two (exact on Loihi).
        bias_bits: bits of the bias mantissa on the weight grid.
    """

    weight_ndim = 2

    def __init__(self, in_features: int, out_features: int, bias: bool = False, bits: int = 4,
                 per_channel: bool = True, pow2: bool = True, bias_bits: int = 16) -> None:
        super().__init__(in_features, out_features, bias=bias)
        self.bits, self.per_channel, self.pow2, self.bias_bits = bits, per_channel, pow2, bias_bits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w, b = self.quant_params()
        return F.linear(x, w, b)


class QuantConv2d(_QuantMixin, nn.Conv2d):
    """``nn.Conv2d`` with k-bit weights (``bits=1``: binary); options as ``QuantLinear``."""

    weight_ndim = 4

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 groups: int = 1, bias: bool = False, bits: int = 4, per_channel: bool = True,
                 pow2: bool = True, bias_bits: int = 16) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                         groups=groups, bias=bias)
        self.bits, self.per_channel, self.pow2, self.bias_bits = bits, per_channel, pow2, bias_bits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w, b = self.quant_params()
        return F.conv2d(x, w, b, self.stride, self.padding, self.dilation, self.groups)


class BinaryLinear(QuantLinear):
    """``sign(w) * alpha`` weights, alpha per output feature (power of two by default)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = False,
                 per_channel: bool = True, pow2: bool = True, bias_bits: int = 16) -> None:
        super().__init__(in_features, out_features, bias, 1, per_channel, pow2, bias_bits)


class BinaryConv2d(QuantConv2d):
    """Binary-weight ``Conv2d``; options as ``QuantConv2d``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 groups: int = 1, bias: bool = False, per_channel: bool = True, pow2: bool = True,
                 bias_bits: int = 16) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, groups, bias, 1,
                         per_channel, pow2, bias_bits)
