"""Broadcast of size-1 per-sample axes (``q * kv`` with kv summed over tokens, keepdim).

    y = broadcast_to(x, output_shape)      (same rank; only axes of size 1 grow)

A fixed fan-out: on the chip it is folded into the synapse that reads it (0/1 weights).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import IRError
from .node import InputShaped, Node, Shape, register, shape
from .traits import Trait


@register("broadcast")
@dataclass(frozen=True, eq=False, kw_only=True)
class Broadcast(InputShaped, Node):
    """Repeat the size-1 axes of ``input_shape`` to ``output_shape``."""

    traits = frozenset({Trait.LINEAR_MAP, Trait.MONOTONE})

    input_shape: Shape = shape()
    output_shape: Shape = shape()

    def _verify(self) -> None:
        a, b = self.input_shape, self.output_shape
        if len(a) != len(b) or any(x not in (1, y) for x, y in zip(a, b, strict=True)):
            raise IRError(f"cannot broadcast {a} to {b} (same rank, size-1 axes only)")

    @property
    def out_shape(self) -> Shape:
        return self.output_shape
