"""Stateless NIR twins and snnc's extensions: I/O, affine maps, convolutions, pooling, shapes,
merges.

Shapes never include batch or time. Image tensors are (C, H, W); 1-d signals (C, L).
Several edges into a node sum their values (NIR's rule), except for ops with ``multi_input``
that merge by their own rule (``or``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import IRError
from .node import (
    InputShaped,
    Node,
    SameShape,
    Shape,
    as_float,
    check_broadcast,
    farray,
    iarray,
    register,
    shape,
    weight,
)
from .qtensor import weight_shape
from .traits import Trait


def conv_out_len(n: int, k: int, stride: int, pad: int, dil: int) -> int:
    return (n + 2 * pad - dil * (k - 1) - 1) // stride + 1


def conv_out_shape(node: Any, wshape: Shape) -> Shape:
    """(C_out, *spatial) of a convolution node with weight shape (C_out, C_in/g, *kernel)."""
    return (wshape[0], *(conv_out_len(n, k, s, p, d) for n, k, s, p, d in zip(
        node.input_shape[1:], wshape[2:], node.stride, node.padding, node.dilation, strict=True)))


def check_groups(cin: int, groups: int, wshape: Shape) -> None:
    if groups < 1 or cin % groups or wshape[0] % groups or wshape[1] * groups != cin:
        raise IRError(f"groups={groups} does not fit C_in={cin} and weight {wshape}")


def _pair(v: tuple[int, ...], nd: int, name: str) -> None:
    if len(v) != nd or any(x < 0 for x in v):
        raise IRError(f"{name} must be {nd} non-negative ints, got {v}")


@register("input")
@dataclass(frozen=True, eq=False, kw_only=True)
class Input(SameShape, Node):
    """Graph input: passes the external stimulus of the given shape."""
    traits = frozenset({Trait.HOST})

    shape: Shape = shape()


@register("output")
@dataclass(frozen=True, eq=False, kw_only=True)
class Output(SameShape, Node):
    """Graph output: records what flows into it."""
    traits = frozenset({Trait.HOST, Trait.MONOTONE})

    shape: Shape = shape()


@register("affine")
@dataclass(frozen=True, eq=False, kw_only=True)
class Affine(Node):
    """y = W x + b; W (out, in), b (out,)."""
    traits = frozenset({Trait.SYNAPSE, Trait.DENSE, Trait.LINEAR_MAP})

    weight: object = weight()
    bias: np.ndarray = farray()

    def _verify(self) -> None:
        ws = weight_shape(self.weight)
        if len(ws) != 2:
            raise IRError(f"weight must be 2-d (out, in), got {ws}")
        if self.bias.shape != (ws[0],):
            raise IRError(f"bias must have shape ({ws[0]},), got {self.bias.shape}")

    @property
    def in_shape(self) -> Shape:
        return (weight_shape(self.weight)[1],)

    @property
    def out_shape(self) -> Shape:
        return (weight_shape(self.weight)[0],)


@register("linear")
@dataclass(frozen=True, eq=False, kw_only=True)
class Linear(Node):
    """y = W x; W (out, in)."""
    traits = frozenset({Trait.SYNAPSE, Trait.DENSE, Trait.LINEAR_MAP})

    weight: object = weight()

    def _verify(self) -> None:
        if len(weight_shape(self.weight)) != 2:
            raise IRError(f"weight must be 2-d (out, in), got {weight_shape(self.weight)}")

    @property
    def in_shape(self) -> Shape:
        return (weight_shape(self.weight)[1],)

    @property
    def out_shape(self) -> Shape:
        return (weight_shape(self.weight)[0],)


@register("scale")
@dataclass(frozen=True, eq=False, kw_only=True)
class Scale(SameShape, Node):
    """y = s * x, element-wise; ``shape`` is the data shape, ``scale`` broadcasts to it."""
    traits = frozenset({Trait.LINEAR_MAP})

    shape: Shape = shape()
    scale: np.ndarray = farray()

    def _verify(self) -> None:
        check_broadcast(self.scale, self.shape, "scale")


@dataclass(frozen=True, eq=False, kw_only=True)
class _ConvBase(InputShaped, Node):
    """Cross-correlation (PyTorch convention), zero padding, groups; weight (C_out, C_in/g, *k)."""
    traits = frozenset({Trait.SYNAPSE, Trait.CONV, Trait.LINEAR_MAP})

    input_shape: Shape = shape()
    weight: object = weight()
    bias: np.ndarray = farray(0.0)
    stride: Shape = shape(default=(1,))
    padding: Shape = shape(default=(0,))
    dilation: Shape = shape(default=(1,))
    groups: int = 1
    nd = 1

    def _verify(self) -> None:
        nd = self.nd
        ws = weight_shape(self.weight)
        if len(ws) != nd + 2 or len(self.input_shape) != nd + 1:
            raise IRError(f"conv{nd}d needs a {nd + 2}-d weight and {nd + 1}-d input shape, got "
                          f"{ws} and {self.input_shape}")
        for name in ("stride", "padding", "dilation"):
            _pair(getattr(self, name), nd, name)
        check_groups(self.input_shape[0], self.groups, ws)
        if self.bias.ndim != 0 and self.bias.shape != (ws[0],):
            raise IRError(f"bias must be a scalar or shape ({ws[0]},), got {self.bias.shape}")
        if any(d <= 0 for d in self.out_shape):
            raise IRError(f"output shape {self.out_shape} is empty")

    @property
    def out_shape(self) -> Shape:
        return conv_out_shape(self, weight_shape(self.weight))

    def float_weight(self) -> np.ndarray:
        w = as_float(self.weight)
        assert w is not None  # verified: a conv always has a weight
        return w


@register("conv1d")
@dataclass(frozen=True, eq=False, kw_only=True)
class Conv1d(_ConvBase):
    nd = 1


@register("conv2d")
@dataclass(frozen=True, eq=False, kw_only=True)
class Conv2d(_ConvBase):
    stride: Shape = shape(default=(1, 1))
    padding: Shape = shape(default=(0, 0))
    dilation: Shape = shape(default=(1, 1))
    nd = 2


@dataclass(frozen=True, eq=False, kw_only=True)
class _Pool2d(InputShaped, Node):
    input_shape: Shape = shape()
    kernel_size: Shape = shape()
    stride: Shape = shape()
    padding: Shape = shape(default=(0, 0))

    def _verify(self) -> None:
        if len(self.input_shape) != 3:
            raise IRError(f"input shape must be (C, H, W), got {self.input_shape}")
        for name in ("kernel_size", "stride", "padding"):
            _pair(getattr(self, name), 2, name)
        if any(d <= 0 for d in self.out_shape):
            raise IRError(f"output shape {self.out_shape} is empty")

    @property
    def out_shape(self) -> Shape:
        c, *hw = self.input_shape
        return (c, *(conv_out_len(n, k, s, p, 1) for n, k, s, p in
                     zip(hw, self.kernel_size, self.stride, self.padding, strict=True)))


@register("sumpool2d")
@dataclass(frozen=True, eq=False, kw_only=True)
class SumPool2d(_Pool2d):
    """Sum over each window (zero padding)."""
    traits = frozenset({Trait.POOLING, Trait.MONOTONE, Trait.LINEAR_MAP})


@register("avgpool2d")
@dataclass(frozen=True, eq=False, kw_only=True)
class AvgPool2d(_Pool2d):
    """Mean over each window, dividing by the full kernel size (zero padding counts)."""
    traits = frozenset({Trait.POOLING, Trait.MONOTONE, Trait.LINEAR_MAP})


@register("maxpool2d")
@dataclass(frozen=True, eq=False, kw_only=True)
class MaxPool2d(_Pool2d):
    """Max over each window (padding never wins); on binary spikes this is an OR."""
    traits = frozenset({Trait.POOLING, Trait.MONOTONE})


@register("flatten")
@dataclass(frozen=True, eq=False, kw_only=True)
class Flatten(InputShaped, Node):
    """Merge dims start_dim..end_dim (inclusive, over the non-batch shape; negatives count back)."""
    traits = frozenset({Trait.WIRING, Trait.MONOTONE, Trait.LINEAR_MAP})

    input_shape: Shape = shape()
    start_dim: int = 0
    end_dim: int = -1

    def _dims(self) -> tuple[int, int]:
        n = len(self.input_shape)
        s, e = self.start_dim % n if n else 0, self.end_dim % n if n else 0
        return s, e

    def _verify(self) -> None:
        n = len(self.input_shape)
        if n == 0 or not (-n <= self.start_dim < n and -n <= self.end_dim < n):
            raise IRError(f"dims {self.start_dim}..{self.end_dim} out of range for "
                          f"{self.input_shape}")
        s, e = self._dims()
        if s > e:
            raise IRError(f"start_dim {self.start_dim} after end_dim {self.end_dim}")

    @property
    def out_shape(self) -> Shape:
        s, e = self._dims()
        shp = self.input_shape
        return (*shp[:s], int(np.prod(shp[s:e + 1])), *shp[e + 1:])


@register("reshape")
@dataclass(frozen=True, eq=False, kw_only=True)
class Reshape(InputShaped, Node):
    """C-order reshape of the non-batch shape (torch ``view``/``reshape``)."""
    traits = frozenset({Trait.WIRING, Trait.MONOTONE, Trait.LINEAR_MAP})

    input_shape: Shape = shape()
    output_shape: Shape = shape()

    def _verify(self) -> None:
        if int(np.prod(self.input_shape)) != int(np.prod(self.output_shape)):
            raise IRError(f"cannot reshape {self.input_shape} to {self.output_shape}")

    @property
    def out_shape(self) -> Shape:
        return self.output_shape


@register("delay")
@dataclass(frozen=True, eq=False, kw_only=True)
class Delay(SameShape, Node):
    """y[t] = x[t - d] per element (d in whole steps, >= 0; x before step 0 is 0)."""

    shape: Shape = shape()
    delay: np.ndarray = iarray()

    stateful = True

    def _verify(self) -> None:
        check_broadcast(self.delay, self.shape, "delay")
        if self.delay.size and self.delay.min() < 0:
            raise IRError("delays must be >= 0")

    @property
    def latency(self) -> int:
        return int(self.delay.size > 0 and self.delay.min() >= 1)


@register("threshold")
@dataclass(frozen=True, eq=False, kw_only=True)
class Threshold(SameShape, Node):
    """s = x > threshold (or >=); stateless."""
    traits = frozenset({Trait.SPIKING})

    shape: Shape = shape()
    threshold: np.ndarray = farray()
    comparator: str = ">"

    def _verify(self) -> None:
        check_broadcast(self.threshold, self.shape, "threshold")
        if self.comparator not in (">", ">="):
            raise IRError(f"comparator must be '>' or '>=', got {self.comparator!r}")


@register("batchnorm")
@dataclass(frozen=True, eq=False, kw_only=True)
class BatchNorm(SameShape, Node):
    """Eval-mode batch norm over axis 0 (channels) of ``shape`` (1d: (C,) or (C, L); 2d: (C, H, W)).

    y = (x - mean) / sqrt(var + eps) * weight + bias, per channel. Folded away before lowering.
    """
    traits = frozenset({Trait.LINEAR_MAP})

    shape: Shape = shape()
    mean: np.ndarray = farray()
    var: np.ndarray = farray()
    weight: np.ndarray = farray()
    bias: np.ndarray = farray()
    eps: float = 1e-5

    def _verify(self) -> None:
        c = self.shape[0] if self.shape else -1
        for name in ("mean", "var", "weight", "bias"):
            if getattr(self, name).shape != (c,):
                raise IRError(f"{name} must have shape ({c},), got {getattr(self, name).shape}")
        if np.any(self.var + self.eps <= 0):
            raise IRError("var + eps must be positive")

    def channel_affine(self) -> tuple[np.ndarray, np.ndarray]:
        """(a, b) with y = a * x + b per channel."""
        a = self.weight / np.sqrt(self.var + self.eps)
        return a, self.bias - a * self.mean


@register("add")
@dataclass(frozen=True, eq=False, kw_only=True)
class Add(SameShape, Node):
    """Residual merge of currents: y = sum of all inputs."""
    traits = frozenset({Trait.MERGE, Trait.MONOTONE})

    shape: Shape = shape()


@register("or")
@dataclass(frozen=True, eq=False, kw_only=True)
class Or(SameShape, Node):
    """Residual merge of spikes: y = 1 where any input is non-zero, else 0."""
    traits = frozenset({Trait.MERGE})

    shape: Shape = shape()
    multi_input = True
