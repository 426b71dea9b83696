"""Which kernel module the event simulator runs: ahead-of-time compiled (Cython), numba or numpy.

``kernels()`` picks the fastest that imports (``SNNC_KERNELS`` overrides), loading each at most
once and lazily, so a run with the AOT kernels never imports numba; ``threads()`` is how many
threads the AOT kernels use (``SNNC_THREADS``). Re-exported by ``runners``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ...errors import SnncError
from . import kernels_np

#: Kernel sets, fastest first: ahead-of-time compiled (Cython, built by scripts/build_kernels.py
#: in the README set-up), numba (JIT, cached), pure numpy (a warning says so). SNNC_KERNELS=aot,
#: numba or numpy picks one; SNNC_NO_NUMBA=1 skips numba.
KERNEL_SETS = ("aot", "numba", "numpy")
_loaded: dict[str, Any] = {}


def _load(name: str) -> Any:
    """The kernel module ``name`` or None if it cannot be imported (imported lazily, once)."""
    if name not in _loaded:
        mod: Any = None
        try:
            if name == "aot":
                with _passive_omp():
                    from . import kernels_aot as mod

                mod.set_threads(threads())
            elif name == "numba":
                if os.environ.get("SNNC_NO_NUMBA", "") in ("", "0"):
                    from . import kernels_jit as mod
            else:
                mod = kernels_np
        except ImportError:
            mod = None
        _loaded[name] = mod
    return _loaded[name]


@contextmanager
def _passive_omp() -> Iterator[None]:
    """``OMP_WAIT_POLICY=PASSIVE`` while the AOT kernels load (libgomp reads it once, when it
    is loaded), unless the user set a policy: OpenMP threads that finished their part then
    sleep instead of spinning. On the shared 2-core machine (load 2) spinning made 2 threads
    2.1x slower than one on a batch of 64; passive, 1.0x. Restored at once, so child processes
    see the user's environment."""
    key = "OMP_WAIT_POLICY"
    old = os.environ.get(key)
    if old is None:
        os.environ[key] = "PASSIVE"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(key, None)


def threads() -> int:
    """Threads the AOT kernels use over the samples of a batch, or over the neurons of one
    sample's large layer: ``SNNC_THREADS``, else every core this process may run on. Results
    do not depend on it (samples, and a layer's neurons within a chunk, are independent)."""
    env = os.environ.get("SNNC_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


def available() -> list[str]:
    """The kernel sets that import here, fastest first."""
    return [n for n in KERNEL_SETS if _load(n) is not None]


_warned = False


def kernels(use_jit: bool | str | None = None) -> Any:
    """The kernel module: ``None`` or True the fastest available (``SNNC_KERNELS`` overrides),
    False pure numpy, or a name from ``KERNEL_SETS`` (an error if it is not available)."""
    global _warned
    if isinstance(use_jit, str):
        mod = _load(use_jit) if use_jit in KERNEL_SETS else None
        if mod is None:
            raise SnncError(f"event simulator kernels {use_jit!r} are not available here "
                            f"(available: {', '.join(available())})")
        return mod
    if use_jit is False:
        return kernels_np
    forced = os.environ.get("SNNC_KERNELS", "")
    if forced:
        return kernels(forced)
    for name in KERNEL_SETS[:2]:
        mod = _load(name)
        if mod is not None:
            return mod
    if not _warned:
        _warned = True
        warnings.warn("snnc: the event simulator's compiled kernels are not built (run "
                      "`make setup-main` or `python scripts/build_kernels.py`) and numba is not "
                      "installed; running the pure-numpy kernels, 10-50x slower", stacklevel=2)
    return kernels_np


def __getattr__(name: str) -> Any:
    if name == "HAVE_JIT":  # whether the numba kernels (kernels_jit) import; loads them
        return _load("numba") is not None
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
