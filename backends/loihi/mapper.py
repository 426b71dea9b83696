"""Map a lowered graph onto one or more chips: partition layers, place cores, route spikes.

1. ``topology`` checks the graph is lowered; ``check_design_rules`` checks widths.
2. Each layer is split into core ranges (``partition.py``); ranges whose neurons send to too
   many cores are split further (output-edge limit).
3. Cores are placed in layer order along a snake path over the tiles of each chip
   (left-to-right on even tile rows, right-to-left on odd ones), ``cores_per_tile`` per tile, so
   that consecutive layers sit on neighbouring tiles and spike traffic stays short. A chip is
   filled before the next one is used; chips form a square-ish row-major grid.
4. Routes are the (source core, destination core) pairs joined by at least one non-zero
   synapse; input spikes come from the host port (``HOST``) at tile (0, 0) of chip 0.
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import ResourceError, UnsupportedOpError
from ...ir import Graph
from ...ir.traits import Trait, has
from .chips import ChipSpec, load_chip
from .partition import LayerCost, partition, split_for_fanout, syn_info
from .program import HOST, ChipProgram, CoreAlloc, LayerMap, Route, SynapseBlock
from .rules import check_design_rules
from .topology import Topology, topology


def _order(shape: tuple[int, ...]) -> str:
    return "hwc" if len(shape) == 3 else "flat"


def _partition_all(graph: Graph, topo: Topology, chip: ChipSpec) -> tuple[dict[str, LayerMap],
                                                                          dict[str, LayerCost]]:
    layers, costs = {}, {}
    for name in topo.layers:
        shape = tuple(graph.nodes[name].shape)
        lm = LayerMap(name, shape, _order(shape), ())
        syns = [syn_info(s, graph.nodes[s], chip) for s in topo.synapses_into(name)]
        costs[name] = LayerCost(name, lm.positions(), syns, chip, graph.nodes[name])
        layers[name] = (lm, partition(costs[name]))
    return layers, costs  # type: ignore[return-value]


def _local_core_map(lm: LayerMap, ranges: list[tuple[int, int]]) -> np.ndarray:
    pos = lm.positions()
    m = np.empty(lm.size, np.int64)
    for k, (a, b) in enumerate(ranges):
        m[pos[a:b]] = k
    return m


def _fanout_split(graph: Graph, topo: Topology, chip: ChipSpec, parts: dict) -> dict:
    """Per layer: output edges of each mapping position; split cores over the limit."""
    for name in topo.layers:
        lm, ranges = parts[name]
        per_neuron = np.zeros(lm.size, np.int64)
        for s in topo.synapses_from(name):
            tgt = topo.synapses[s][1]
            tlm, tranges = parts[tgt]
            conn = syn_info(s, graph.nodes[s], chip).conn
            cnt = conn.pre_core_counts(_local_core_map(tlm, tranges), len(tranges))
            per_neuron += (cnt > 0).sum(1)
        per_pos = per_neuron[lm.positions()]
        parts[name] = (lm, split_for_fanout(ranges, per_pos, chip.core.output_axons, name,
                                            chip.name))
    return parts


def _tile(local: int, chip: ChipSpec) -> tuple[int, int, int]:
    tile, slot = divmod(local, chip.mesh.cores_per_tile)
    y, x = divmod(tile, chip.mesh.tiles_x)
    return (x if y % 2 == 0 else chip.mesh.tiles_x - 1 - x), y, slot


def _place(parts: dict, costs: dict, chip: ChipSpec, max_chips: int | None) -> tuple[
        dict[str, LayerMap], list[CoreAlloc], list[SynapseBlock]]:
    total = sum(len(r) for _, r in parts.values())
    limit = min(max_chips or chip.mesh.max_chips, chip.mesh.max_chips)
    need = math.ceil(total / chip.mesh.cores_per_chip)
    if need > limit:
        raise ResourceError(
            f"the network needs {total} cores = {need} {chip.name} chips, but at most {limit} "
            f"are allowed (over by {need - limit} chips). Allow more chips (a chip file with a "
            f"larger [mesh] max_chips, given with --chip FILE.toml), prune or quantize to fewer "
            f"weight bits, or use a larger chip (--chip loihi2).")
    layers, cores, blocks = {}, [], []
    for name, (lm, ranges) in parts.items():
        ids = []
        for a, b in ranges:
            cid = len(cores)
            chip_i, local = divmod(cid, chip.mesh.cores_per_chip)
            x, y, slot = _tile(local, chip)
            rows = lm.positions()[a:b]
            cost = costs[name]
            blk = [cost.block(i, rows) for i in range(len(cost.syns))]
            need_ = cost.need(a, b)
            cores.append(CoreAlloc(cid, name, a, b, chip_i, x, y, slot, need_.bits, need_.axons, 0))
            blocks += [SynapseBlock(s.name, "", name, cid, s.fmt, n, bits, ax)
                       for s, (n, bits, ax) in zip(cost.syns, blk, strict=True)]
            ids.append(cid)
        layers[name] = LayerMap(lm.name, lm.shape, lm.order, tuple(ids))
    return layers, cores, blocks


def _routes(program: ChipProgram, topo: Topology) -> tuple[list[Route], np.ndarray]:
    """Routes, and the output edges (messages per spike summed over neurons) of each core."""
    pairs: set[tuple[int, int]] = set()
    out_edges = np.zeros(program.n_cores, np.int64)
    for s, (src, tgt) in topo.synapses.items():
        tcores = np.asarray(program.layers[tgt].cores)
        local = program.core_of_neuron(tgt) - tcores[0]
        cnt = program.connectivity(s).pre_core_counts(local, len(tcores)) > 0
        if src in program.layers:
            scores = program.core_of_neuron(src)
        else:
            scores = np.full(cnt.shape[0], HOST)
        order = np.argsort(scores, kind="stable")  # inputs grouped by their source core
        uniq, starts = np.unique(scores[order], return_index=True)
        ends = [*starts[1:].tolist(), len(order)]
        for sc, a, b in zip(uniq.tolist(), starts.tolist(), ends, strict=True):
            hit = cnt[order[a:b]]
            pairs.update((int(sc), int(tcores[k])) for k in np.flatnonzero(hit.any(0)))
            if sc != HOST:
                out_edges[sc] += int(hit.sum())
    routes = [Route(a, b, *program.hops(a, b)) for a, b in sorted(pairs)]
    return routes, out_edges


def refuse_graded(graph: Graph, chip: ChipSpec) -> None:
    """Sigma-delta layers (graded spikes): Loihi 1 has none; on Loihi 2 the mapper and the event
    simulator do not model them yet (the reference backend runs them exactly)."""
    graded = [n for n, node in graph.nodes.items() if has(node, Trait.GRADED)]
    if not graded:
        return
    name, op = graded[0], graph.nodes[graded[0]].op
    if not chip.neuron.programmable:
        raise UnsupportedOpError(
            f"layer {name!r} ({op}) sends graded spikes (sigma-delta neurons), which chip "
            f"{chip.name!r} does not have (Loihi 1's spikes are binary); use --chip loihi2")
    raise UnsupportedOpError(
        f"layer {name!r} ({op}): snnc's chip mapper and event simulator (loihi-sim) do not "
        "model sigma-delta layers yet; run the network with --backend reference, which is "
        "Lava's fixed_pt arithmetic exactly")


def map_graph(graph: Graph, chip: ChipSpec | str = "loihi1",
              max_chips: int | None = None) -> ChipProgram:
    """Map a lowered graph onto ``chip``; raises ``ResourceError`` when it cannot fit."""
    chip = load_chip(chip) if isinstance(chip, str) else chip
    refuse_graded(graph, chip)
    topo = topology(graph)
    check_design_rules(graph, topo, chip)
    parts, costs = _partition_all(graph, topo, chip)
    parts = _fanout_split(graph, topo, chip, parts)
    layers, cores, blocks = _place(parts, costs, chip, max_chips)
    blocks = [SynapseBlock(b.synapse, topo.synapses[b.synapse][0], b.target, b.core, b.fmt,
                           b.synapses, b.memory_bits, b.input_axons) for b in blocks]
    n_chips = max((c.chip for c in cores), default=0) + 1
    grid = math.ceil(math.sqrt(n_chips))
    prog = ChipProgram(graph, chip, layers, tuple(cores), tuple(blocks), (), grid)
    routes, out_edges = _routes(prog, topo)
    cores = [CoreAlloc(**{**c.__dict__, "output_axons": int(out_edges[c.core])}) for c in cores]
    return ChipProgram(graph, chip, layers, tuple(cores), tuple(blocks), tuple(routes), grid)
