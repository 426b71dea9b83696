"""The counter table of a synapse (``counting.SynCount.F``) in the compact form the AOT kernels add.

``F`` (n_in, C) int64 holds what one event of input i costs: per target core its synapses and
messages (2K dense columns), then per source core messages and hops (4Ks columns, of which a
row has at most 4 non-zero: an input sits on one source core). Every event adds its row, so for
a layer on many cores the table is read as often as the weights and is larger than they are: on
a 4096 -> 4096 layer over 107 x 125 Loihi 2 cores a row is 714 int64 (5.7 KB) against 4 KB of
int8 weights, and a 4096 -> 10 readout's row is 430 int64 with 6 non-zero.

``CountRows`` splits the columns at ``h``: ``head`` (n_in, h) int32, added as a vector, and the
rest as compressed sparse rows (``ptr``, ``col``, ``val``), added entry by entry. ``h`` minimises
an estimate of the work per event (a head column costs 1, a tail entry 8); any ``h`` gives the
same sums, in int64 as before, so the counters are unchanged bit for bit (``dense()`` rebuilds
``F``; tested). The numba and numpy kernels keep taking ``F``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

TAIL_COST = 8  # an entry of the sparse tail against a column of the vector head


class CountRows(NamedTuple):
    head: np.ndarray  # (n_in, h) int32
    ptr: np.ndarray  # (n_in + 1,) int64: row i's tail entries are ptr[i]:ptr[i + 1]
    col: np.ndarray  # (nnz,) int32, every one >= h
    val: np.ndarray  # (nnz,) int64
    width: int  # C, the columns of F
    #: every sum of head rows over one step fits in int32 (n_in x the largest |head| < 2**31):
    #: the AOT dense kernel then sums a step's head in int32 lanes, the same integers
    fits32: bool = False

    @classmethod
    def of(cls, F: np.ndarray) -> CountRows:
        F = np.asarray(F, np.int64)
        n, c = F.shape
        nz = F != 0
        # tail entries per row if the head ended at column j, for every j (mean over rows)
        tail = np.zeros(c + 1)
        if n and c:
            tail[:c] = nz[:, ::-1].sum(0).cumsum()[::-1] / n
        h = int(np.argmin(np.arange(c + 1) + TAIL_COST * tail))
        big = np.iinfo(np.int32)
        if h and (F[:, :h].min() < big.min or F[:, :h].max() > big.max):
            h = 0
        rows, cols = np.nonzero(nz[:, h:])
        ptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=ptr[1:])
        top = int(np.abs(F[:, :h]).max(initial=0))
        return cls(np.ascontiguousarray(F[:, :h], np.int32), ptr,
                   (cols + h).astype(np.int32), F[rows, cols + h].astype(np.int64), c,
                   n * top < big.max)

    def dense(self) -> np.ndarray:
        """``F`` again (for tests)."""
        n, h = self.head.shape
        F = np.zeros((n, self.width), np.int64)
        F[:, :h] = self.head
        rows = np.repeat(np.arange(n), np.diff(self.ptr))
        F[rows, self.col] = self.val
        return F


def table_for(kern: Any, F: np.ndarray, rows: CountRows | None) -> Any:
    """What ``kern``'s kernels take as the counter table: ``CountRows`` for the AOT kernels
    (made from ``F`` if not given), else ``F``."""
    if not getattr(kern, "COMPACT_COUNTS", False):
        return F
    return CountRows.of(F) if rows is None else rows
