"""Sum over per-sample axes (the column sum over tokens of spike-driven self-attention).

    y = x.sum(axis=axes, keepdims=keepdim)        (axes over the per-sample shape)

A fixed linear map: on the chip it is a synapse whose weights are 0/1.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import IRError
from .node import InputShaped, Node, Shape, register, shape
from .traits import Trait


@register("axis_sum")
@dataclass(frozen=True, eq=False, kw_only=True)
class AxisSum(InputShaped, Node):
    """Sum of ``input_shape`` over ``axes`` (non-negative, sorted), keeping them as size 1 when
    ``keepdim``."""

    traits = frozenset({Trait.LINEAR_MAP, Trait.MONOTONE})

    input_shape: Shape = shape()
    axes: Shape = shape()
    keepdim: bool = False

    def _verify(self) -> None:
        n = len(self.input_shape)
        if not self.axes or any(a >= n for a in self.axes) or list(self.axes) != sorted(
                set(self.axes)):
            raise IRError(f"axes {self.axes} must be sorted, distinct and < {n}")

    @property
    def out_shape(self) -> Shape:
        if self.keepdim:
            return tuple(1 if i in self.axes else d for i, d in enumerate(self.input_shape))
        return tuple(d for i, d in enumerate(self.input_shape) if i not in self.axes)
