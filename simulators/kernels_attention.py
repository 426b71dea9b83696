"""Float64 kernels of the attention ops: ``mul``, ``axis_sum``, ``permute``, ``broadcast``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .kernels import stateless


@stateless("mul")
def _mul(node: Any, x: list[np.ndarray]) -> np.ndarray:
    if len(x) != node.arity:
        raise ValueError(f"mul with arity {node.arity} received {len(x)} operands")
    out = x[0]
    for v in x[1:]:
        out = out * v
    return out


@stateless("axis_sum")
def _axis_sum(node: Any, x: np.ndarray) -> np.ndarray:
    return x.sum(axis=tuple(a + 1 for a in node.axes), keepdims=node.keepdim)


@stateless("permute")
def _permute(node: Any, x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose((0, *(p + 1 for p in node.perm))))


@stateless("broadcast")
def _broadcast(node: Any, x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.broadcast_to(x, (x.shape[0], *node.output_shape)))
