"""``RouteTable``: a program's routes as one integer matrix instead of 10^5 ``Route`` objects.

The mapper's ResNet-18-sized program has 66,000 routes: as ``Route`` objects (slots) they held
4.5 MB for the whole compile, as an (n, 5) int32 matrix 1.3 MB. A ``RouteTable`` is a read-only
sequence of ``Route`` (made when a row is read), so every reader of ``ChipProgram.routes``
(iteration, ``len``, indexing) works unchanged, and it equals a tuple of the same ``Route``s
(``load_program`` gives a tuple: a saved and loaded program equals the one saved).
Columns in ``Route``'s field order: src (core id or HOST), dst, hops_ew, hops_ns, chip_hops.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np

from .program import Route

_CHUNK = 4096  # rows made into Python ints at a time while iterating


class RouteTable(Sequence[Route]):
    __slots__ = ("rows",)

    def __init__(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows)
        if rows.ndim != 2 or rows.shape[1] != 5:
            raise ValueError(f"a route table has 5 columns, not shape {rows.shape}")
        lo, hi = (int(rows.min()), int(rows.max())) if rows.size else (0, 0)
        small = np.iinfo(np.int32)
        dtype = np.int32 if small.min <= lo and hi <= small.max else np.int64
        self.rows = np.ascontiguousarray(rows, dtype)
        self.rows.setflags(write=False)

    @classmethod
    def of(cls, src: Any, dst: Any, hops: np.ndarray) -> RouteTable:
        """From source and destination core arrays and their (n, 3) hops."""
        return cls(np.column_stack([np.asarray(src), np.asarray(dst), np.asarray(hops)]))

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    @overload
    def __getitem__(self, i: int) -> Route: ...

    @overload
    def __getitem__(self, i: slice) -> RouteTable: ...

    def __getitem__(self, i: int | slice) -> Route | RouteTable:
        if isinstance(i, slice):
            return RouteTable(self.rows[i])
        return Route(*self.rows[i].tolist())

    def __iter__(self) -> Iterator[Route]:
        for a in range(0, len(self), _CHUNK):
            for row in self.rows[a:a + _CHUNK].tolist():
                yield Route(*row)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RouteTable):
            return bool(np.array_equal(self.rows, other.rows))
        if isinstance(other, tuple | list):
            return len(other) == len(self) and all(
                a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RouteTable({len(self)} routes)"

    def int_matrix(self) -> np.ndarray:
        """The rows as int64 (``program_io``'s table of routes)."""
        return self.rows.astype(np.int64)
