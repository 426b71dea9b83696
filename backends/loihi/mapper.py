"""Map a lowered graph onto one or more chips: partition layers, place cores, route spikes.

1. ``topology`` checks the graph is lowered; ``check_design_rules`` checks widths.
2. Each layer is split into core ranges (``partition.py``): the fewest cores that respect every
   per-core limit (neurons, synaptic memory in its storage format, input axons); with the
   ``balanced`` strategy layers that carry more than the mean per-core work get
   more cores (``balance.balance``), unless that needs more chips than the fewest cores do
   (then the fewest cores are kept). Ranges whose neurons send to too many cores are split
   further (output-edge limit).
3. Cores get global ids in layer order; a chip is filled before the next one is used; chips form
   a square-ish row-major grid. Within a chip, ``compact`` places them along a snake path over
   the tiles (left-to-right on even tile rows, right-to-left on odd ones), ``cores_per_tile``
   per tile. ``balanced`` places them on the same number of tiles, chosen nearest the host
   port, greedily: each core in id order goes to the free slot that minimises the NoC energy of
   its messages to and from the cores already placed (and the host), messages weighted by how
   many presynaptic neurons use the route; the snake placement is kept if it is cheaper.
4. Routes are the (source core, destination core) pairs joined by at least one non-zero
   synapse; input spikes come from the host port (``HOST``) at tile (0, 0) of chip 0.

``STRATEGIES``: ``balanced`` (Loihi 1's default), ``compact`` (snnc's mapping before issue
19: fewest cores, snake placement) and ``vendor`` (Loihi 2's default, ``default_strategy``:
cores per layer as Lava's Loihi 2 compiler chooses them, ``vendor.py``: conv layers in whole W
columns, dense layers by the compiler's synaptic memory count; (C, H, W) layers in ``whc``
order; placed as ``balanced`` places). Where the default vendor packing refuses a graph,
``balanced`` stands in and the program's ``fallback`` says why.
All give the same neuron-to-layer semantics; only core boundaries and positions differ, so
every simulator gives the same spikes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math

import numpy as np

from ...errors import ResourceError, UnsupportedOpError
from ...ir import Graph
from ...ir.traits import Trait, has
from .balance import Rates, balance
from .chips import DEFAULT_CHIP, ChipSpec, load_chip
from .heap import release
from .partition import LayerCost, partition, split_for_fanout, syn_info
from .program import HOST, ChipProgram, CoreAlloc, LayerMap, SynapseBlock
from .routes import RouteTable
from .rules import check_design_rules
from .topology import Topology, topology
from .traffic import HitCache, SynTraffic, cached_hits, program_traffic, remember
from .vendor import vendor_ranges

STRATEGIES = ("balanced", "compact", "vendor")


def _order(shape: tuple[int, ...], strategy: str = "") -> str:
    if len(shape) != 3:
        return "flat"
    return "whc" if strategy == "vendor" else "hwc"


def _partition_all(graph: Graph, topo: Topology, chip: ChipSpec, strategy: str = ""
                   ) -> tuple[dict[str, LayerMap], dict[str, LayerCost]]:
    """Per layer: its map and fewest-core ranges (``vendor``: the vendor-like ranges)."""
    layers, costs = {}, {}
    for name in topo.layers:
        shape = tuple(graph.nodes[name].shape)
        lm = LayerMap(name, shape, _order(shape, strategy), ())
        syns = [dataclasses.replace(syn_info(s, graph.nodes[s], chip), src=topo.synapses[s][0])
                for s in topo.synapses_into(name)]
        costs[name] = LayerCost(name, lm.positions(), syns, chip, graph.nodes[name])
        ranges = (vendor_ranges(costs[name], shape) if strategy == "vendor"
                  else partition(costs[name]))
        layers[name] = (lm, ranges)
    return layers, costs  # type: ignore[return-value]


def _local_core_map(lm: LayerMap, ranges: list[tuple[int, int]]) -> np.ndarray:
    pos = lm.positions()
    m = np.empty(lm.size, np.int64)
    for k, (a, b) in enumerate(ranges):
        m[pos[a:b]] = k
    return m


def _fanout_split(graph: Graph, topo: Topology, chip: ChipSpec, parts: dict,
                  cache: HitCache | None = None, conns: dict | None = None) -> dict:
    """Per layer: output edges of each mapping position; split cores over the limit
    (``conns``: synapse -> its ``Connectivity``, made here if not given)."""
    for name in topo.layers:
        lm, ranges = parts[name]
        per_neuron = np.zeros(lm.size, np.int64)
        for s in topo.synapses_from(name):
            tgt = topo.synapses[s][1]
            tlm, tranges = parts[tgt]
            conn = (conns or {}).get(s) or syn_info(s, graph.nodes[s], chip).conn
            hits = cached_hits(cache, (s, tuple(tranges)), conn, _local_core_map(tlm, tranges),
                               len(tranges))
            per_neuron += hits.reach(conn.n_in)
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
            "weight bits" + (", or use a larger chip (--chip loihi2)." if chip.name == "loihi1"
                              else "."))
    layers, cores, blocks = {}, [], []
    for name, (lm, ranges) in parts.items():
        ids = []
        for a, b in ranges:
            cid = len(cores)
            chip_i, local = divmod(cid, chip.mesh.cores_per_chip)
            x, y, slot = _tile(local, chip)
            cost = costs[name]
            blk = cost.blocks(a, b)
            need_ = cost.need(a, b)
            cores.append(CoreAlloc(cid, name, a, b, chip_i, x, y, slot, need_.bits, need_.axons, 0))
            blocks += [SynapseBlock(s.name, "", name, cid, s.fmt, n, bits, ax)
                       for s, (n, bits, ax) in zip(cost.syns, blk, strict=True)]
            ids.append(cid)
        layers[name] = LayerMap(lm.name, lm.shape, lm.order, tuple(ids))
    return layers, cores, blocks


#: (source core or HOST, destination core, presynaptic neurons using the route) per route, in
#: the order routes first occur over the synapses' messages (the order sums are taken in)
Traffic = tuple[np.ndarray, np.ndarray, np.ndarray]


def _traffic(program: ChipProgram, topo: Topology,
             per_syn: dict[str, SynTraffic] | None = None) -> Traffic:
    """Per (source core or HOST, destination core): presynaptic neurons that use the route
    (``per_syn``: the synapses' ``program_traffic``, made here if not given). Three arrays,
    not a dict of tuples: a large program has 10^5 routes."""
    per_syn = program_traffic(program, topo.synapses) if per_syn is None else per_syn
    src, dst, w = [], [], []
    for s, (_, tgt) in topo.synapses.items():
        tcores = np.asarray(program.layers[tgt].cores, np.int64)
        tr = per_syn[s]
        rows, ks = np.nonzero(tr.messages)  # row-major: source core, then target core
        src.append(np.asarray(tr.scores, np.int64)[rows])
        dst.append(tcores[ks])
        w.append(np.asarray(tr.messages[rows, ks], np.int64))
    if not src:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    a, b, v = np.concatenate(src), np.concatenate(dst), np.concatenate(w)
    key = (a - int(a.min(initial=0))) * (int(b.max(initial=0)) + 1) + b
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    total = np.zeros(first.size, np.int64)
    np.add.at(total, inv, v)
    order = np.argsort(first, kind="stable")
    return a[first[order]], b[first[order]], total[order]


def noc_cost(program: ChipProgram, traffic: Traffic) -> float:
    """NoC energy (pJ) of one message on every route, weighted by ``traffic``."""
    e = program.chip.costs.energy_pj
    a, b, w = traffic
    if not a.size:
        return 0.0
    ew, ns, ch = program.hop_columns(a, b)
    terms = w * (ew * e["hop_ew"] + ns * e["hop_ns"] + ch * e["chip_hop"])
    # summed in route order, one addition at a time (cumsum, not pairwise): the float the
    # per-route loop gave, so the placement comparison cannot change
    return float(np.cumsum(terms)[-1])


def _hop_energy(t: tuple[int, int], near: list[tuple[tuple[int, int], int]],
                e: dict[str, float]) -> float:
    return sum(w * (abs(t[0] - q[0]) * e["hop_ew"] + abs(t[1] - q[1]) * e["hop_ns"])
               for q, w in near)


def _partners(traffic: Traffic):
    """``partners(core)``: (other core, weight) of every route into the core and, for a core
    source, out of it, in route order (a route's destination side first), as arrays grouped
    by core instead of 10^5 tuples in lists."""
    a, b, w = traffic
    # int32 where the values fit (core ids, neuron counts): half the sort's temporaries; the
    # lists handed out are Python ints either way
    small = np.int32 if max(int(w.max(initial=0)), 2 * a.size + 1) < 2**31 else np.int64
    a, b, w = a.astype(small), b.astype(small), w.astype(small)
    i = np.arange(a.size, dtype=small)
    into, out_of = a != b, (a != b) & (a != HOST)
    owner = np.concatenate([b[into], a[out_of]])
    other = np.concatenate([a[into], b[out_of]])
    weight = np.concatenate([w[into], w[out_of]])
    seq = np.concatenate([2 * i[into], 2 * i[out_of] + 1])
    order = np.lexsort((seq, owner))
    owner, other, weight = owner[order], other[order], weight[order]
    cores, start = np.unique(owner, return_index=True)
    stop = np.r_[start[1:], owner.size]
    spans = dict(zip(cores.tolist(), zip(start.tolist(), stop.tolist(), strict=True),
                     strict=True))

    def of(core: int) -> list[tuple[int, int]]:
        lo, hi = spans.get(core, (0, 0))
        return list(zip(other[lo:hi].tolist(), weight[lo:hi].tolist(), strict=True))

    return of


def _greedy_place(cores: list[CoreAlloc], traffic: Traffic,
                  chip: ChipSpec) -> list[CoreAlloc]:
    """Positions within each chip that reduce the weighted NoC energy (module docstring)."""
    m, e = chip.mesh, chip.costs.energy_pj
    partners = _partners(traffic)
    release()  # the sort temporaries of the grouping
    out = list(cores)
    by_chip: dict[int, list[int]] = {}
    for c in cores:
        by_chip.setdefault(c.chip, []).append(c.core)
    for chip_i, ids in by_chip.items():
        tiles = sorted(((x, y) for y in range(m.tiles_y) for x in range(m.tiles_x)),
                       key=lambda t: (t[0] + t[1], t[1], t[0]))
        tiles = tiles[:math.ceil(len(ids) / m.cores_per_tile)]
        free = {t: m.cores_per_tile for t in tiles}
        pos: dict[int, tuple[int, int]] = {HOST: (0, 0)} if chip_i == 0 else {}
        mine = set(ids)
        for cid in ids:
            near = [(pos[p], w) for p, w in partners(cid)
                    if p in pos and (p == HOST or p in mine)]
            best = min((t for t in tiles if free[t]),
                       key=lambda t, near=near: _hop_energy(t, near, e))
            slot = m.cores_per_tile - free[best]
            free[best] -= 1
            pos[cid] = best
            out[cid] = CoreAlloc(**{**cores[cid].__dict__, "x": best[0], "y": best[1],
                                    "slot": slot})
    return out


def _routes(program: ChipProgram, topo: Topology,
            per_syn: dict[str, SynTraffic] | None = None) -> tuple[RouteTable, np.ndarray]:
    """Routes, and the output edges (messages per spike summed over neurons) of each core."""
    per_syn = program_traffic(program, topo.synapses) if per_syn is None else per_syn
    src, dst = [], []
    out_edges = np.zeros(program.n_cores, np.int64)
    for s, (_, tgt) in topo.synapses.items():
        tcores = np.asarray(program.layers[tgt].cores, np.int64)
        tr = per_syn[s]
        rows, ks = np.nonzero(tr.messages)
        src.append(np.asarray(tr.scores, np.int64)[rows])
        dst.append(tcores[ks])
        core = np.asarray(tr.scores) != HOST
        np.add.at(out_edges, np.asarray(tr.scores, np.int64)[core],
                  tr.messages[core].sum(1).astype(np.int64))
    if not src:
        return RouteTable(np.zeros((0, 5), np.int64)), out_edges
    # the distinct (source, destination) pairs in sorted order, as arrays (no set of tuples)
    pairs = np.unique(np.stack([np.concatenate(src), np.concatenate(dst)], 1), axis=0)
    # a matrix, not 10^5 Route objects (routes.py)
    return RouteTable.of(pairs[:, 0], pairs[:, 1], program.hops_of_pairs(pairs[:, 0], pairs[:, 1])
                         ), out_edges


def refuse_graded(graph: Graph, chip: ChipSpec) -> None:
    """Sigma-delta layers (graded spikes) need Loihi 2: Loihi 1's spikes are binary."""
    graded = [n for n, node in graph.nodes.items() if has(node, Trait.GRADED)]
    if not graded or chip.neuron.max_message_bits:
        return
    name, op = graded[0], graph.nodes[graded[0]].op
    raise UnsupportedOpError(
        f"layer {name!r} ({op}) sends graded spikes (sigma-delta neurons), which chip "
        f"{chip.name!r} does not have (Loihi 1's spikes are binary); use --chip loihi2")


def default_strategy(chip: ChipSpec) -> str:
    """The strategy a chip maps with when none is asked for: ``vendor`` on a chip with Loihi
    2's flexible core memory (Lava's Loihi 2 compiler places what snnc exports, so its packing
    is what silicon runs and what the time factor was fitted on), else ``balanced`` (no vendor
    rules are known for Loihi 1's NxSDK)."""
    return "vendor" if chip.core.shared_memory_bits else "balanced"


def map_graph(graph: Graph, chip: ChipSpec | str = DEFAULT_CHIP,
              max_chips: int | None = None, strategy: str | None = None,
              rates: Rates | None = None) -> ChipProgram:
    """Map a lowered graph onto ``chip`` with ``strategy`` (``STRATEGIES``, module docstring;
    None: ``default_strategy(chip)``); ``rates``: measured spikes per neuron per step of layers
    and inputs, which the balanced strategy weighs work with (None or a missing name:
    ``balance.ASSUMED_RATE``). Raises ``ResourceError`` when it cannot fit. When the default
    ``vendor`` packing refuses a graph (e.g. its extra cores need more chips than allowed), the
    ``balanced`` mapping stands in and the program's ``fallback`` says why; an explicit
    ``strategy`` never falls back."""
    if strategy is not None and strategy not in STRATEGIES:
        raise ValueError(f"mapping strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
    chip = load_chip(chip) if isinstance(chip, str) else chip
    if strategy is not None or default_strategy(chip) != "vendor":
        return _map_graph(graph, chip, max_chips, strategy or default_strategy(chip), rates)
    try:
        return _map_graph(graph, chip, max_chips, "vendor", rates)
    except (ResourceError, UnsupportedOpError) as exc:
        refused = str(exc)
    # balanced's own refusal, if any, stands (as before vendor was the default)
    return _map_graph(graph, chip, max_chips, "balanced", rates,
                      f"vendor packing refused: {refused}")


def _map_graph(graph: Graph, chip: ChipSpec, max_chips: int | None, strategy: str,
               rates: Rates | None, fallback: str = "") -> ChipProgram:
    if strategy == "vendor" and not chip.core.shared_memory_bits:
        raise UnsupportedOpError(
            f"mapping 'vendor' follows Lava's Loihi 2 compiler (conv cores that expand the "
            f"kernel, one flexible memory), which chip {chip.name!r} does not have; use "
            f"--chip loihi2, or --mapping balanced / compact on {chip.name!r}")
    refuse_graded(graph, chip)
    topo = topology(graph)
    check_design_rules(graph, topo, chip)
    parts, costs = _partition_all(graph, topo, chip, strategy)
    # no cache of per-core input sets across partitions: each fan-out split and the traffic
    # summary count them again (on the ResNet-18-sized chain 13 MB held vs about 1 s)
    cache = None
    conns = {si.name: si.conn for c in costs.values() for si in c.syns}  # one per synapse
    release()
    # vendor: no output-edge split (the compiler's table has a core whose 2,048 neurons each
    # reach 12 cores, far beyond the 4,096 edges loihi2.toml assumes from Loihi 1 [E])
    compact = dict(parts) if strategy == "vendor" else _fanout_split(graph, topo, chip,
                                                                     dict(parts), cache, conns)
    release()
    placed = None
    if strategy == "balanced":
        bal = balance(costs, {n: r for n, (_, r) in parts.items()}, rates=rates)
        balanced = _fanout_split(graph, topo, chip, {n: (lm, bal[n]) for n, (lm, _) in
                                                     parts.items()}, cache, conns)
        release()
        # never more chips than the fewest cores need (nor than allowed)
        chips = math.ceil(sum(len(r) for _, r in compact.values()) / chip.mesh.cores_per_chip)
        with contextlib.suppress(ResourceError):
            placed = _place(balanced, costs, chip, min(chips, max_chips or chips))
    if placed is None:
        placed = _place(compact, costs, chip, max_chips)
    layers, cores, blocks = placed
    del costs, parts, compact, placed  # the per-neuron working arrays of partitioning
    blocks = [SynapseBlock(b.synapse, topo.synapses[b.synapse][0], b.target, b.core, b.fmt,
                           b.synapses, b.memory_bits, b.input_axons) for b in blocks]
    n_chips = max((c.chip for c in cores), default=0) + 1
    grid = math.ceil(math.sqrt(n_chips))
    prog = ChipProgram(graph, chip, layers, tuple(cores), tuple(blocks), (), grid)
    # placement moves cores, not neurons: one traffic summary serves every placement
    per_syn = program_traffic(prog, topo.synapses, cache, conns)
    del cache, conns
    release()
    if strategy in ("balanced", "vendor") and len(cores) > 1:
        traffic = _traffic(prog, topo, per_syn)
        release()  # the sort temporaries of the route sums
        placed = ChipProgram(graph, chip, layers, tuple(_greedy_place(cores, traffic, chip)),
                             tuple(blocks), (), grid)
        if noc_cost(placed, traffic) < noc_cost(prog, traffic):
            prog = placed
        del traffic, placed
        release()
    cores = list(prog.cores)
    routes, out_edges = _routes(prog, topo, per_syn)
    cores = [CoreAlloc(**{**c.__dict__, "output_axons": int(out_edges[c.core])}) for c in cores]
    release()
    measured = tuple(sorted((str(k), float(v)) for k, v in (rates or {}).items()))
    return remember(ChipProgram(graph, chip, layers, tuple(cores), tuple(blocks), routes,
                                grid, strategy, measured, fallback), per_syn)
