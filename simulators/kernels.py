"""Registry of per-op step kernels: what every op does in one time step.

Every built-in kernel (``kernels_float``, ``kernels_ann``, ``kernels_loihi``,
``learning/kernel.py``) is registered the first time the table is read (``kernel_for``,
``KERNELS``), so any user (the reference executor, fold-affine, bounds) sees the same complete
table whatever was imported before, and the kernel modules may import each other in any
order. A new built-in op registers its kernel in one of these modules (or in a new one named in
``BUILTIN_MODULES``).

A ``Kernel`` holds no data: ``init(node, batch)`` makes the state, ``step(node, x, state, t)``
returns ``(y, new_state)``. Ops with ``latency == 1`` also implement ``emit(node, state)`` (the
output at step t, computed from inputs up to t-1) and ``update(node, x, state, t)`` (consume the
input of step t). ``t`` counts from 0 (Lava's ``time_step`` is t + 1). A kernel with an
``after_step(node, state, post, t)`` method is called once the step is complete, with the output
of the node's single successor (plastic synapses learn from their post-synaptic spikes this way).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import UnsupportedOpError

_KERNELS: dict[str, Kernel] = {}
#: the modules whose import registers the built-in kernels (relative to this package)
BUILTIN_MODULES = (".kernels_float", ".kernels_ann", ".kernels_loihi", ".kernels_sdn",
                   ".learning.kernel")
_loaded = False


def _load_builtins() -> dict[str, Kernel]:
    global _loaded
    if not _loaded:
        _loaded = True
        for name in BUILTIN_MODULES:
            importlib.import_module(name, __package__)
    return _KERNELS


def __getattr__(name: str) -> Any:
    if name == "KERNELS":  # the complete table, built-ins registered
        return _load_builtins()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
        _KERNELS[op] = k
        return k

    return deco


def stateless(op: str) -> Callable[[Callable[..., np.ndarray]], Callable[..., np.ndarray]]:
    """Register a pure function ``fn(node, x) -> y`` as the kernel of ``op``."""

    def deco(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        _KERNELS[op] = _Stateless(fn)
        return fn

    return deco


def kernel_for(op: str, where: str) -> Kernel:
    table = _load_builtins()
    try:
        return table[op]
    except KeyError:
        raise UnsupportedOpError(
            f"the reference simulator has no kernel for op {op!r} (node {where!r}); "
            f"supported: {', '.join(sorted(table))}") from None
