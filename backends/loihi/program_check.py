"""Schema check of a ``ChipProgram`` read from ``program.h5``: cross-references and ranges.

A damaged or hand-edited file must fail here with a ``FormatError`` naming the table and row,
not later inside a simulator as an ``IndexError``. Checked: every layer is a graph node of the
same size, its cores exist and cover its neurons; every core's layer, neuron range, chip and
tile position are in range; every synapse block and route names existing nodes and cores.
"""

from __future__ import annotations

import numpy as np

from ...errors import FormatError
from .program import HOST, ChipProgram


def _fail(where: str, what: str) -> None:
    raise FormatError(f"{where}: {what}; the program file is damaged (recompile the model)")


def check_program(p: ChipProgram, where: str) -> ChipProgram:
    m = p.chip.mesh
    n_cores = len(p.cores)
    if not 1 <= p.chip_grid <= m.max_chips:
        _fail(where, f"attribute chip_grid = {p.chip_grid} is outside 1..{m.max_chips}")
    for i, c in enumerate(p.cores):
        at = f"cores row {i}"
        if c.core != i:
            _fail(where, f"{at}: core id {c.core} (expected {i})")
        if c.layer not in p.layers:
            _fail(where, f"{at}: layer {c.layer!r} is not a mapped layer")
        if not 0 <= c.start < c.stop <= p.layers[c.layer].size:
            _fail(where, f"{at}: neurons {c.start}..{c.stop} outside layer {c.layer!r}")
        if not (0 <= c.chip < m.max_chips and 0 <= c.x < m.tiles_x and 0 <= c.y < m.tiles_y):
            _fail(where, f"{at}: chip {c.chip} tile ({c.x}, {c.y}) outside the chip's mesh")
    for name, lm in p.layers.items():
        node = p.graph.nodes.get(name)
        if node is None:
            _fail(where, f"layer {name!r} is not a node of the graph")
        if lm.order not in ("flat", "hwc", "whc") or any(d < 1 for d in lm.shape):
            _fail(where, f"layer {name!r}: bad shape {lm.shape} or order {lm.order!r}")
        if lm.size != int(np.prod(node.out_shape)) or (lm.order != "flat" and len(lm.shape) != 3):
            _fail(where, f"layer {name!r}: shape {lm.shape} does not match the node")
        if not lm.cores or any(not 0 <= k < n_cores or p.cores[k].layer != name
                               for k in lm.cores):
            _fail(where, f"layer {name!r}: core list {lm.cores[:8]} is not its cores")
        if sum(p.cores[k].stop - p.cores[k].start for k in lm.cores) != lm.size:
            _fail(where, f"layer {name!r}: its cores do not cover its {lm.size} neurons")
    for i, b in enumerate(p.blocks):
        if not {b.synapse, b.source, b.target} <= set(p.graph.nodes) or not 0 <= b.core < n_cores:
            _fail(where, f"blocks row {i}: names a node or core that does not exist")
    for i, r in enumerate(p.routes):
        if not all(v == HOST or 0 <= v < n_cores for v in (r.src, r.dst)):
            _fail(where, f"routes row {i}: core {r.src} -> {r.dst} does not exist")
    return p
