"""Float64 kernels of the ANN activation ops (``ir/activations.py``); stateless."""

from __future__ import annotations

from typing import Any

import numpy as np

from .kernels import stateless


@stateless("relu")
def _relu(node: Any, x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


@stateless("clip")
def _clip(node: Any, x: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(x, node.lo), node.hi)


@stateless("shift")
def _shift(node: Any, x: np.ndarray) -> np.ndarray:
    return x + node.offset


@stateless("floor")
def _floor(node: Any, x: np.ndarray) -> np.ndarray:
    return np.floor(x)


@stateless("round")
def _round(node: Any, x: np.ndarray) -> np.ndarray:
    return np.round(x)  # halves to even, as torch.round


@stateless("qcfs")
def _qcfs(node: Any, x: np.ndarray) -> np.ndarray:
    rnd = np.round if node.rounding == "half_even" else np.floor
    level = rnd(x * node.levels / node.threshold + node.offset)
    return node.step * np.clip(level, 0, node.levels)
