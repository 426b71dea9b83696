"""The kernel package: every built-in per-op step kernel, registered on import.

Importing this module imports the kernel modules (``kernels_float``, ``kernels_loihi``,
``learning/kernel.py``), which register into ``kernel_base.KERNELS``; so any user of
``kernel_for`` (the reference executor, fold-affine, bounds) sees the same complete table,
whatever was imported before. A new built-in op registers its kernel in one of these modules (or
in a new one imported here); ``kernel_base.py`` describes the ``Kernel`` interface.
"""

from __future__ import annotations

from ..errors import UnsupportedOpError
from . import kernels_float, kernels_loihi  # noqa: F401  (register their kernels)
from .kernel_base import KERNELS, Kernel, kernel, stateless
from .learning import kernel as _plastic  # noqa: F401

__all__ = ["KERNELS", "Kernel", "kernel", "kernel_for", "stateless"]


def kernel_for(op: str, where: str) -> Kernel:
    try:
        return KERNELS[op]
    except KeyError:
        raise UnsupportedOpError(
            f"the reference simulator has no kernel for op {op!r} (node {where!r}); "
            f"supported: {', '.join(sorted(KERNELS))}") from None
