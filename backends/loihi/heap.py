"""Give freed heap memory back to the system between the mapper's stages.

The mapper makes and drops many mid-sized numpy arrays (per-core input sets, per-neuron maps):
glibc's allocator keeps the freed chunks in its heap, and on the ResNet-18-sized chain 15-25 MB
of the compile's peak resident memory was heap that held nothing (``mallinfo2``: 41 MB of heap,
19 MB in use, at the peak). ``release()`` calls glibc's ``malloc_trim(0)``, which returns every
wholly free page of the heap (its top and, since glibc 2.8, the pages inside it) to the kernel.
It changes no value, only where freed memory lives; it costs about a millisecond per call.
Elsewhere than glibc (macOS, musl, Windows) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable

_TRIM: list[Callable[[int], int] | None] = []


def _trim() -> Callable[[int], int] | None:
    if not _TRIM:
        fn = None
        if sys.platform.startswith("linux"):
            try:
                fn = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
                fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
            except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
                fn = None
        _TRIM.append(fn)
    return _TRIM[0]


def release() -> None:
    """Return the heap's free pages to the system (glibc only; no-op elsewhere)."""
    fn = _trim()
    if fn is not None:
        fn(0)
