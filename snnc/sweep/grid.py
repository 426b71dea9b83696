"""The sweep grid: a TOML file of design axes, expanded into points.

    [grid]                      # every axis is optional; each is a non-empty list
    bits = [2, 4, 8]            # weight bits: quantize-loihi{max_weight=2**(bits-1)-1}
    prune_threshold = [0, 0.02] # prune{threshold=...}: synapses with |w| <= t become zero
    steps = [8, 16]             # input time steps (static data re-encoded; recorded data cut or
                                # padded with empty steps)
    chip = ["loihi1", "loihi2"] # chip spec name or a chip .toml file
    pipeline = ["..."]          # whole pass pipelines (bits/prune_threshold are applied to them)

    [data]                      # optional defaults for the command-line options
    path = "test.npz"
    x_key = "x"
    y_key = "y"
    limit = 100
    encode = "rate"             # static data: rate | latency | delta | direct
    seed = 0

Points are the Cartesian product of the axes, in the order written above. A point's key is
readable (``bits4-chip_loihi1``) plus a hash of its parameters and of the model and data it was
evaluated on, so a cached point is reused only for the same experiment.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import FormatError

AXES = ("bits", "prune_threshold", "steps", "chip", "pipeline")
DATA_KEYS = ("path", "x_key", "y_key", "limit", "encode", "seed")
_TYPES: dict[str, tuple[type, ...]] = {"bits": (int,), "prune_threshold": (int, float),
                                        "steps": (int,), "chip": (str,), "pipeline": (str,)}


@dataclass(frozen=True)
class Point:
    params: tuple[tuple[str, Any], ...]  # (axis, value) in AXES order

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.params)

    def label(self) -> str:
        parts = []
        for k, v in self.params:
            text = f"p{hashlib.sha256(v.encode()).hexdigest()[:6]}" if k == "pipeline" else v
            parts.append(f"{k}{text}" if k in ("bits", "steps") else f"{k}_{text}")
        return re.sub(r"[^A-Za-z0-9_.-]", "_", "-".join(parts)) or "default"

    def key(self, fingerprint: str) -> str:
        blob = json.dumps([list(self.params), fingerprint], sort_keys=True, default=str)
        return f"{self.label()}-{hashlib.sha256(blob.encode()).hexdigest()[:10]}"


@dataclass(frozen=True)
class Grid:
    axes: tuple[tuple[str, tuple[Any, ...]], ...]
    data: dict[str, Any]
    source: str

    def points(self) -> list[Point]:
        names = [a for a, _ in self.axes]
        combos = itertools.product(*(vals for _, vals in self.axes))
        return [Point(tuple(zip(names, c, strict=True))) for c in combos]


def _axis(name: str, vals: Any, where: str) -> tuple[Any, ...]:
    if not isinstance(vals, list) or not vals:
        raise FormatError(f"{where}: [grid] {name} must be a non-empty list")
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, _TYPES[name]):
            raise FormatError(f"{where}: [grid] {name} has {v!r}; expected "
                              f"{' or '.join(t.__name__ for t in _TYPES[name])} values")
    if name == "bits" and any(not 2 <= v <= 8 for v in vals):
        raise FormatError(f"{where}: [grid] bits must lie in 2..8 (Loihi weights are at most "
                          "8-bit signed mantissas)")
    if name == "steps" and any(v < 1 for v in vals):
        raise FormatError(f"{where}: [grid] steps must be positive")
    if name == "prune_threshold" and any(v < 0 for v in vals):
        raise FormatError(f"{where}: [grid] prune_threshold must be >= 0")
    if len(set(map(str, vals))) != len(vals):
        raise FormatError(f"{where}: [grid] {name} lists a value twice")
    return tuple(vals)


def read_grid(path: str | Path) -> Grid:
    from ..io import read_toml

    p = Path(path)
    doc = read_toml(p, "sweep grid")
    where = str(p)
    unknown = sorted(set(doc) - {"grid", "data"})
    if unknown:
        raise FormatError(f"{where}: unknown table(s) {', '.join(unknown)}; use [grid] and [data]")
    grid = doc.get("grid")
    if not isinstance(grid, dict) or not grid:
        raise FormatError(f"{where}: needs a [grid] table with at least one of {', '.join(AXES)}")
    bad = sorted(set(grid) - set(AXES))
    if bad:
        raise FormatError(f"{where}: unknown axis {bad[0]!r}; axes are {', '.join(AXES)}")
    data = doc.get("data", {})
    bad = sorted(set(data) - set(DATA_KEYS))
    if bad:
        raise FormatError(f"{where}: unknown [data] key {bad[0]!r}; keys are "
                          f"{', '.join(DATA_KEYS)}")
    axes = tuple((a, _axis(a, grid[a], where)) for a in AXES if a in grid)
    return Grid(axes, dict(data), where)
