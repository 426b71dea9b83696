"""Stimuli read from a time-last ``.npy`` file window of steps by window of steps.

``snnc simulate`` takes X.npy time last, (B, *shape, T): each sample's rows hold all its steps
contiguously. A window of steps t0..t1 of a memory-mapped file touches one page of every row,
and the kernel maps the page cache around each touched page (read-ahead, large folios), so the
first window alone puts most of the file in the process's resident memory. ``TimeLastFile``
reads a window with positioned reads (``os.preadv``) instead, so memory follows the window and
not the file: when the window is at least an eighth of the steps, whole rows are read in blocks
of at most ``BLOCK_BYTES`` and the window cut out of them (a few large reads; at most 8x the
window's bytes read); for a narrower window, one read per row of just its steps (one system
call per row: 1.5 M calls for 512 samples of 784 inputs at four windows per run, 2.6 s of a
3.5 s simulate, before the block reads). The event simulator takes it in
place of an array (``window(t0, T)``, ``shape``, ``dtype``; see ``simulators/event/engine``).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .errors import SnncError


class TimeLastFile:
    """Samples ``b0 .. b1 - 1`` of the C-ordered time-last array of ``path`` (data at byte
    ``offset``, ``(B, *shape, T)``), seen time-major: ``shape`` is ``(T, b1 - b0, *shape)``."""

    BLOCK_BYTES = 4 << 20  # scratch for the block reads (whole rows), bounded whatever the file

    def __init__(self, path: str, offset: int, full: tuple[int, ...], dtype: np.dtype,
                 b0: int = 0, b1: int | None = None) -> None:
        self.path, self.offset, self.full, self.dtype = path, offset, full, np.dtype(dtype)
        self.b1 = full[0] if b1 is None else min(b1, full[0])
        self.b0 = min(b0, self.b1)
        self.rows = int(np.prod(full[1:-1]))
        self.steps = full[-1]
        self.shape = (self.steps, self.b1 - self.b0, *full[1:-1])
        self.ndim = len(self.shape)

    @classmethod
    def of(cls, x: np.ndarray, batched: bool) -> TimeLastFile | None:
        """The file behind ``x``, a time-major view ((T, B, *shape)) of a memory-mapped
        time-last array, or None if ``x`` is not one."""
        base: Any = x
        while base is not None and not isinstance(base, np.memmap):
            base = getattr(base, "base", None)
        if base is None or not base.flags.c_contiguous or base.filename is None:
            return None
        full = tuple(base.shape) if batched else (1, *base.shape)
        if (full[-1], full[0], *full[1:-1]) != tuple(x.shape):
            return None
        return cls(str(base.filename), int(base.offset), full, base.dtype)

    def samples(self, b0: int, b1: int) -> TimeLastFile:
        return TimeLastFile(self.path, self.offset, self.full, self.dtype, self.b0 + b0,
                            self.b0 + b1)

    def window(self, t0: int, T: int) -> np.ndarray:
        """Steps t0 .. t0 + T - 1 (those before the file's end), (T', B, *shape)."""
        t1 = min(self.steps, t0 + T)
        n, k = self.b1 - self.b0, max(t1 - t0, 0)
        out = np.empty((n * self.rows, k), self.dtype)
        size = self.dtype.itemsize
        fd = os.open(self.path, os.O_RDONLY)
        try:
            if k == self.steps:  # whole rows: the samples are one contiguous block
                self._read(fd, out.reshape(-1), self.b0 * self.rows * self.steps * size)
            elif 8 * k >= self.steps:  # blocks of whole rows, the window cut out of each
                first = self.b0 * self.rows * self.steps * size
                m = max(1, self.BLOCK_BYTES // (self.steps * size))
                scratch = np.empty((min(m, n * self.rows), self.steps), self.dtype)
                for r0 in range(0, n * self.rows, m):
                    r1 = min(r0 + m, n * self.rows)
                    self._read(fd, scratch[:r1 - r0].reshape(-1),
                               first + r0 * self.steps * size)
                    out[r0:r1] = scratch[:r1 - r0, t0:t1]
            elif k:
                for r in range(n * self.rows):
                    self._read(fd, out[r], ((self.b0 * self.rows + r) * self.steps + t0) * size)
        finally:
            os.close(fd)
        if self.dtype.kind == "f" and not np.array_equal(out, np.round(out)):
            raise SnncError(f"{self.path}: the input has non-integer values; the chip takes "
                            "spikes (0/1) or integer graded payloads")
        return np.moveaxis(out.reshape(n, *self.full[1:-1], k), -1, 0)

    def _read(self, fd: int, buf: np.ndarray, at: int) -> None:
        view = memoryview(buf).cast("B")
        done = 0
        while done < len(view):
            got = os.preadv(fd, [view[done:]], self.offset + at + done)
            if got <= 0:
                raise SnncError(f"{self.path}: the input file ended early (truncated?)")
            done += got
