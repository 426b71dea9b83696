"""The product of input-dependent tensors (spiking attention: Q ⊙ K, K ⊙ V).

A synapse multiplies a dynamic value by a fixed weight; ``mul`` multiplies several dynamic values
with each other, element by element, within one time step:

    y[t] = x_1[t] * x_2[t] * ... * x_k[t]          (k >= 2 inputs, all of shape ``shape``)

On binary spikes this is an AND, which a memoryless neuron computes exactly (it fires when the
sum of its k inputs exceeds k - 1: ``snnc/passes/spike_products.py``). Products with an
integer-valued operand (the Q(KᵀV) form) have no binary-spike lowering.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import IRError
from .node import Node, SameShape, Shape, register, shape
from .traits import Trait


@register("mul")
@dataclass(frozen=True, eq=False, kw_only=True)
class Mul(SameShape, Node):
    """Element-wise product of all inputs (each edge one operand, all of ``shape``)."""

    traits = frozenset({Trait.MERGE})
    multi_input = True

    shape: Shape = shape()
    arity: int = 2

    def _verify(self) -> None:
        if self.arity < 2:
            raise IRError(f"a product needs at least 2 operands, got arity {self.arity}")
