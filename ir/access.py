"""Typed views of nodes for passes: the fields a trait promises, checked at run time.

``Graph.nodes`` holds ``Node``; a pass that has asked ``has(node, Trait.SYNAPSE)`` knows the node
has a weight, and these accessors say so to the type checker (and raise ``IRError`` naming the
op when the promise does not hold), so passes need no ``# type: ignore``.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np

from ..errors import IRError
from .node import Node
from .traits import Trait, has_any

N = TypeVar("N", bound=Node)


def as_op(node: Node, cls: type[N]) -> N:
    """``node`` as an instance of op class ``cls`` (``IRError`` if it is another op)."""
    if not isinstance(node, cls):
        raise IRError(f"expected a {cls.op or cls.__name__} node, got {node.op!r}")
    return node


def weight_of(node: Node) -> Any:
    """The weight (array, ``QTensor`` or ``CodebookTensor``) of a synapse op."""
    if not has_any(node, Trait.SYNAPSE, Trait.CHIP_SYNAPSE):
        raise IRError(f"op {node.op!r} has no weight")
    return getattr(node, "weight")  # noqa: B009 - every synapse op declares the field


def bias_of(node: Node) -> np.ndarray:
    """The bias of a synapse op (0 for ``linear``, which has none)."""
    weight_of(node)
    return np.asarray(getattr(node, "bias", 0.0), np.float64)


def field_of(node: Node, name: str) -> Any:
    """Field ``name`` of ``node``; ``IRError`` naming the op when it has no such field."""
    if not hasattr(node, name):
        raise IRError(f"op {node.op!r} has no field {name!r}")
    return getattr(node, name)
