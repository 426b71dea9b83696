"""Permutation of per-sample axes (``transpose``/``permute`` of multi-head attention).

    y = x.transpose(perm)          (perm over the per-sample shape)

Unlike ``reshape`` it changes the C-order position of values, so it is not zero-cost wiring:
on the chip it is folded into the weights of the synapse that reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import IRError
from .node import InputShaped, Node, Shape, register, shape
from .traits import Trait


@register("permute")
@dataclass(frozen=True, eq=False, kw_only=True)
class Permute(InputShaped, Node):
    """Axis ``i`` of the output is axis ``perm[i]`` of the input."""

    traits = frozenset({Trait.LINEAR_MAP, Trait.MONOTONE})

    input_shape: Shape = shape()
    perm: Shape = shape()

    def _verify(self) -> None:
        if sorted(self.perm) != list(range(len(self.input_shape))):
            raise IRError(f"perm {self.perm} is not a permutation of the axes of "
                          f"{self.input_shape}")

    @property
    def out_shape(self) -> Shape:
        return tuple(self.input_shape[p] for p in self.perm)
