"""Per-op step kernels: the ``Kernel`` interface, the table ``KERNELS`` and its decorators.

A ``Kernel`` holds no data: ``init(node, batch)`` makes the state, ``step(node, x, state, t)``
returns ``(y, new_state)``. Ops with ``latency == 1`` also implement ``emit(node, state)`` (the
output at step t, computed from inputs up to t-1) and ``update(node, x, state, t)`` (consume the
input of step t). ``t`` counts from 0 (Lava's ``time_step`` is t + 1). A kernel with an
``after_step(node, state, post, t)`` method is called once the step is complete, with the output
of the node's single successor (plastic synapses learn from their post-synaptic spikes this way).

Kernel modules register into ``KERNELS`` with ``@kernel(op)`` / ``@stateless(op)``; users look
kernels up through ``simulators/kernels.py``, which imports every built-in kernel module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

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
