"""Registry of per-op step kernels: what every op does in one time step.

Importing this module registers every built-in kernel (``kernels_float``, ``kernels_loihi``,
``learning/kernel.py``, imported at the end of this file), so any user of ``kernel_for`` (the
reference executor, fold-affine, bounds) sees the same complete table whatever was imported
before. A new built-in op registers its kernel in one of these modules (or in a new one imported
below).

A ``Kernel`` holds no data: ``init(node, batch)`` makes the state, ``step(node, x, state, t)``
returns ``(y, new_state)``. Ops with ``latency == 1`` also implement ``emit(node, state)`` (the
output at step t, computed from inputs up to t-1) and ``update(node, x, state, t)`` (consume the
input of step t). ``t`` counts from 0 (Lava's ``time_step`` is t + 1). A kernel with an
``after_step(node, state, post, t)`` method is called once the step is complete, with the output
of the node's single successor (plastic synapses learn from their post-synaptic spikes this way).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import UnsupportedOpError

KERNELS: dict[str, Kernel] = {}


class Kernel:
    def init(self, node: Any, batch: int) -> Any:
        return None

    def step(self, node: Any, x: np.ndarray, state: Any, t: int) -> tuple[np.ndarray, Any]:
        raise NotImplementedError

    def emit(self, node: Any, state: Any) -> np.ndarray:
        raise NotImplementedError

    def update(self, node: Any, x: np.ndarray, state: Any, t: int) -> Any:
        raise NotImplementedError

    def new_sample(self, node: Any, state: Any, batch: int) -> Any:
        """State at the start of a new sample; by default everything starts afresh."""
        return self.init(node, batch)

    def probe(self, name: str, state: Any) -> np.ndarray | None:
        """A state variable for probing (``v``, ``i``, ``u`` ...), or None if there is none."""
        if isinstance(state, dict) and name in state:
            return np.asarray(state[name])
        return None


class _Stateless(Kernel):
    def __init__(self, fn: Callable[[Any, np.ndarray], np.ndarray]) -> None:
        self.fn = fn

    def step(self, node: Any, x: np.ndarray, state: Any, t: int) -> tuple[np.ndarray, Any]:
        return self.fn(node, x), None


def kernel(op: str) -> Callable[[Kernel], Kernel]:
    def deco(k: Kernel) -> Kernel:
        KERNELS[op] = k
        return k

    return deco


def stateless(op: str) -> Callable[[Callable[..., np.ndarray]], Callable[..., np.ndarray]]:
    """Register a pure function ``fn(node, x) -> y`` as the kernel of ``op``."""

    def deco(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        KERNELS[op] = _Stateless(fn)
        return fn

    return deco


def kernel_for(op: str, where: str) -> Kernel:
    try:
        return KERNELS[op]
    except KeyError:
        raise UnsupportedOpError(
            f"the reference simulator has no kernel for op {op!r} (node {where!r}); "
            f"supported: {', '.join(sorted(KERNELS))}") from None


from . import kernels_float, kernels_loihi  # noqa: E402, F401  (register their kernels)
from .learning import kernel as _plastic  # noqa: E402, F401
