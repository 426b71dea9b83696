"""``ChipProgram``: a lowered graph plus where every neuron, synapse and route sits on the chip(s).

Layout on disk (``program.h5`` in a compile output directory)::

    /            attrs: format = "snnc.chipprogram", version, chip (JSON of the ChipSpec),
             chip_grid, strategy (the mapping strategy; absent in older files: "unknown"),
             rates (JSON {name: measured spikes per neuron per step}; absent: assumed),
             fallback (why the chip's default mapping was not used; absent: "")
    /graph       the lowered graph (snnc.ir.serialize.write_graph_group)
    /layers/<L>  attrs: order ("flat", "hwc" or "whc"), shape; dataset ``cores`` (global core ids)
    /cores       one column per CoreAlloc field
    /blocks      one column per SynapseBlock field
    /routes      one column per Route field

A layer's neurons are numbered in its *mapping order*: flat C-order, or, for (C, H, W) layers,
(H, W, C) order so that a core holds whole pixels with all their channels (short conv fan-in),
or (W, H, C) order (``whc``, the ``vendor`` mapping) so that a core holds whole W columns.
Core ``k`` of a layer holds mapping positions ``start:stop``. Tile coordinates (x, y) are within
chip ``chip``; chips sit in a row-major grid ``chip_grid`` wide, so a global tile position is
(cx * tiles_x + x, cy * tiles_y + y).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import FormatError
from ...ir import Graph
from .chips import ChipSpec

FORMAT = "snnc.chipprogram"
VERSION = 1
HOST = -1  # source "core" of input spikes: the host port at tile (0, 0) of chip 0


@dataclass(frozen=True)
class CoreAlloc:
    core: int
    layer: str
    start: int
    stop: int
    chip: int
    x: int
    y: int
    slot: int
    synapse_bits: int
    input_axons: int
    output_axons: int

    @property
    def neurons(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class LayerMap:
    name: str
    shape: tuple[int, ...]
    order: str  # "flat", "hwc" or "whc"
    cores: tuple[int, ...]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def positions(self) -> np.ndarray:
        """Flat C-order neuron index at each mapping position (int32 when the layer has fewer
        than 2**31 neurons: the mapper holds these per layer)."""
        idx = np.arange(self.size, dtype=np.int32 if self.size < 2**31 else np.int64)
        if self.order == "hwc":
            return idx.reshape(self.shape).transpose(1, 2, 0).ravel()
        if self.order == "whc":
            return idx.reshape(self.shape).transpose(2, 1, 0).ravel()
        return idx


@dataclass(frozen=True)
class SynapseBlock:
    synapse: str
    source: str
    target: str
    core: int
    fmt: str  # "dense", "sparse" or "conv"
    synapses: int
    memory_bits: int
    input_axons: int


@dataclass(frozen=True, slots=True)  # slots: a large program has 10^5 routes
class Route:
    src: int  # core id, or HOST
    dst: int
    hops_ew: int
    hops_ns: int
    chip_hops: int


@dataclass(frozen=True, eq=False)
class ChipProgram:
    graph: Graph
    chip: ChipSpec
    layers: dict[str, LayerMap]
    cores: tuple[CoreAlloc, ...]
    blocks: tuple[SynapseBlock, ...]
    routes: Sequence[Route]  # a tuple, or the mapper's RouteTable (routes.py)
    chip_grid: int = 1
    strategy: str = "unknown"  # the mapper's strategy (mapper.STRATEGIES); not part of equality
    # (name, spikes per neuron per step) measured on the calibration input, which the balanced
    # mapping weighed per-core work with; () = the assumed rate (balance.ASSUMED_RATE)
    rates: tuple[tuple[str, float], ...] = ()
    # why the chip's default strategy was not used ("" = it was, or one was asked for): e.g.
    # "vendor packing refused: ..." when the balanced mapping stood in (mapper.map_graph)
    fallback: str = ""

    @property
    def n_cores(self) -> int:
        return len(self.cores)

    @property
    def n_chips(self) -> int:
        return max((c.chip for c in self.cores), default=0) + 1

    @property
    def n_tiles(self) -> int:
        return len({(c.chip, c.x, c.y) for c in self.cores})

    def core_of_neuron(self, layer: str) -> np.ndarray:
        """(N,) global core id of each neuron of ``layer`` (flat C-order index)."""
        return self._core_maps[layer]

    @cached_property
    def _core_maps(self) -> dict[str, np.ndarray]:
        out = {}
        for name, lm in self.layers.items():
            pos = lm.positions()
            m = np.empty(lm.size, np.int64)
            for cid in lm.cores:
                c = self.cores[cid]
                m[pos[c.start:c.stop]] = cid
            out[name] = m
        return out

    def connectivity(self, synapse: str) -> Any:
        """The ``Connectivity`` of a synapse node, made afresh (the event simulator keeps its
        own per program: ``simulators/event/derived.py``)."""
        from .connectivity import Connectivity

        return Connectivity(self.graph.nodes[synapse])

    def tile_xy(self, core: int) -> tuple[int, int, int, int]:
        """Global tile position (X, Y) and chip-grid position (cx, cy) of a core or HOST."""
        if core == HOST:
            return 0, 0, 0, 0
        c = self.cores[core]
        cy, cx = divmod(c.chip, self.chip_grid)
        m = self.chip.mesh
        return cx * m.tiles_x + c.x, cy * m.tiles_y + c.y, cx, cy

    def hops_between(self, srcs: Any, dsts: Any) -> np.ndarray:
        """``hops(s, d)`` for every pair of ``srcs`` x ``dsts`` (core ids or HOST), as an int64
        array (len(srcs), len(dsts), 3)."""
        return np.stack(list(self.hop_planes(srcs, dsts)), axis=-1)

    def hop_planes(self, srcs: Any, dsts: Any) -> Iterator[np.ndarray]:
        """``hops_between``'s three (len(srcs), len(dsts)) int64 planes (E-W, N-S, chip hops),
        made one at a time (a caller summing each holds one plane, not the 3 + 4 of them)."""
        table = self._tile_table()
        a = table[np.asarray(srcs, np.int64).reshape(-1) - HOST]
        b = table[np.asarray(dsts, np.int64).reshape(-1) - HOST]

        def plane(c: int) -> np.ndarray:
            return np.abs(b[None, :, c] - a[:, None, c])

        yield plane(0)
        yield plane(1)
        chip = plane(2)
        chip += plane(3)
        yield chip

    def hops_of_pairs(self, srcs: Any, dsts: Any) -> np.ndarray:
        """``hops(srcs[i], dsts[i])`` for every i, as an int64 array (len(srcs), 3)."""
        return np.stack(self.hop_columns(srcs, dsts), axis=-1)

    def hop_columns(self, srcs: Any, dsts: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``hops_of_pairs`` as three (len(srcs),) int64 columns, made one tile coordinate at a
        time (no (n, 4) position tables of 10^5 routes)."""
        table = self._tile_table()
        i = np.asarray(srcs, np.int64).reshape(-1) - HOST
        j = np.asarray(dsts, np.int64).reshape(-1) - HOST
        ew, ns, cx, cy = (np.abs(table[j, c] - table[i, c]) for c in range(4))
        return ew, ns, cx + cy

    def _tile_table(self) -> np.ndarray:
        """(1 + n_cores, 4) int64: ``tile_xy`` of HOST (row 0, zeros) and of each core."""
        m = self.chip.mesh
        chip = np.array([c.chip for c in self.cores], np.int64)
        cx, cy = chip % self.chip_grid, chip // self.chip_grid
        tx = cx * m.tiles_x + np.array([c.x for c in self.cores], np.int64)
        ty = cy * m.tiles_y + np.array([c.y for c in self.cores], np.int64)
        return np.vstack([np.zeros((1, 4), np.int64),
                          np.stack([tx, ty, cx, cy], axis=1).reshape(-1, 4)])

    def hops(self, src: int, dst: int) -> tuple[int, int, int]:
        """(E-W tile hops, N-S tile hops, chip-to-chip hops) from ``src`` to ``dst``."""
        x0, y0, cx0, cy0 = self.tile_xy(src)
        x1, y1, cx1, cy1 = self.tile_xy(dst)
        return abs(x1 - x0), abs(y1 - y0), abs(cx1 - cx0) + abs(cy1 - cy0)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ChipProgram):
            return NotImplemented
        return (self.graph == other.graph and self.chip == other.chip
                and self.layers == other.layers and self.cores == other.cores
                and self.blocks == other.blocks and self.routes == other.routes
                and self.chip_grid == other.chip_grid)

    __hash__ = None  # type: ignore[assignment]

    # ---- persistence ------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write ``program.h5`` into directory ``path`` (or to ``path`` if it ends in .h5)."""
        from .program_io import save_program

        return save_program(self, path)

    @classmethod
    def load(cls, path: str | Path) -> ChipProgram:
        from .program_io import load_program

        return load_program(path)


def table_columns(rows: tuple[Any, ...], kind: type) -> dict[str, list[Any]]:
    """Column lists of a tuple of dataclass rows (for HDF5 tables)."""
    names = [f.name for f in fields(kind)]
    cols: dict[str, list[Any]] = {n: [] for n in names}
    for n in names:  # the fields are ints and strs: no deep copy (astuple) needed
        cols[n] = [getattr(r, n) for r in rows]
    return cols


def chip_from_json(text: str, where: str) -> ChipSpec:
    try:
        return ChipSpec.from_dict(json.loads(text), where)
    except json.JSONDecodeError as exc:
        raise FormatError(f"{where}: chip attribute is not JSON ({exc})") from None
