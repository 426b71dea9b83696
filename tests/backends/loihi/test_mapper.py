"""Mapper: layers split within every per-core limit, several chips when needed, clear failures."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from loihi_chips import tiny_chip
from loihi_random import random_network

from snnc import ir
from snnc.backends.loihi.chips import load_chip
from snnc.backends.loihi.connectivity import Connectivity
from snnc.backends.loihi.mapper import map_graph
from snnc.backends.loihi.program import HOST, ChipProgram
from snnc.errors import ResourceError, UnsupportedOpError


def dense_net(sizes=(784, 512, 256, 10), seed=0, graded_bits=0) -> ir.Graph:
    rng = np.random.default_rng(seed)
    nodes = [("in", ir.Input(shape=(sizes[0],)))]
    for i, (a, b) in enumerate(pairwise(sizes)):
        w = (rng.integers(-20, 40, size=(b, a)) >> 1) << 1
        nodes.append((f"fc{i}", ir.LoihiDense(weight=w,
                                              num_message_bits=graded_bits if i == 0 else 0)))
        nodes.append((f"lif{i}", ir.LoihiLIF(shape=(b,), du=4095, dv=256, vth=3000)))
    nodes.append(("out", ir.Output(shape=(sizes[-1],))))
    return ir.Graph.chain(*nodes)


def _check_limits(prog: ChipProgram) -> None:
    """Recount every core's needs from the weights and compare with the chip's limits."""
    core = prog.chip.core
    for name, lm in prog.layers.items():
        owner = prog.core_of_neuron(name)
        assert sorted(np.unique(owner).tolist()) == list(lm.cores)  # every neuron placed once
        syns = [s for s, n in prog.graph.nodes.items() if n.op.startswith("loihi.") and
                prog.graph.successors(s) == [name]]
        for cid in lm.cores:
            c = prog.cores[cid]
            rows = np.flatnonzero(owner == cid)
            assert len(rows) == c.neurons <= core.neurons
            axons = sum(int(Connectivity(prog.graph.nodes[s]).fanin(rows).sum()) for s in syns)
            assert axons == c.input_axons <= core.input_axons
            assert c.synapse_bits <= (core.synapse_memory_bits or core.shared_memory_bits)
            assert c.output_axons <= core.output_axons


def test_benchmark_net_fits_one_loihi1_chip() -> None:
    prog = map_graph(dense_net(), "loihi1", strategy="compact")
    assert prog.n_chips == 1
    assert [len(lm.cores) for lm in prog.layers.values()] == [4, 2, 1]
    _check_limits(prog)
    assert {(r.src, r.dst) for r in prog.routes} >= {(HOST, 0), (0, 4), (4, 6)}
    bal = map_graph(dense_net(), "loihi1")  # balanced: the heavy first layer gets more cores
    assert bal.n_chips == 1
    assert bal.n_cores <= prog.n_cores + len(prog.layers)
    _check_limits(bal)


def test_loihi2_shares_memory_and_packs_tighter() -> None:
    # like with like: the same strategy on both (Loihi 2's default is vendor)
    l1 = map_graph(dense_net(), "loihi1", strategy="balanced")
    l2 = map_graph(dense_net(), "loihi2", strategy="balanced")
    assert l2.n_cores < l1.n_cores
    _check_limits(l2)


def test_random_programs_respect_limits(tmp_path) -> None:
    chip = tiny_chip(tmp_path, neurons=5, axons=40, bits=4000)
    mapped, failures = 0, []
    for seed in range(12):
        net = random_network(np.random.default_rng([seed, 7]), "plain")
        try:
            prog = map_graph(net.graph, chip)
        except ResourceError as exc:  # a single neuron may exceed the tiny limits
            failures.append(str(exc))
            continue
        _check_limits(prog)
        mapped += 1
    assert mapped >= 6
    assert all("over by" in msg for msg in failures)


def test_too_large_for_one_chip_spans_several(tmp_path) -> None:
    chip = tiny_chip(tmp_path, neurons=16)
    prog = map_graph(dense_net((40, 60, 30, 10)), chip)
    assert prog.n_chips >= 2
    assert len({(c.chip, c.x, c.y, c.slot) for c in prog.cores}) == prog.n_cores
    assert any(r.chip_hops > 0 for r in prog.routes)
    _check_limits(prog)


def test_chip_budget_exceeded_says_by_how_much(tmp_path) -> None:
    chip = tiny_chip(tmp_path, neurons=16)
    with pytest.raises(ResourceError, match=r"needs \d+ cores = \d+ tiny chips.*over by"):
        map_graph(dense_net((40, 60, 30, 10)), chip, max_chips=1)


def test_fan_in_over_the_axon_limit_fails_clearly() -> None:
    pattern = r"fan-in of 4\d{3} input axons.*accepts 4096 \(over by \d+\)"
    with pytest.raises(ResourceError, match=pattern):
        map_graph(dense_net((5000, 4)), "loihi1")


def test_synaptic_memory_of_one_neuron_fails_clearly(tmp_path) -> None:
    chip = tiny_chip(tmp_path, bits=1000)
    with pytest.raises(ResourceError, match=r"synaptic memory.*over by.*fewer weight bits"):
        map_graph(dense_net((200, 4)), chip)


def test_fan_out_limit_splits_source_cores(tmp_path) -> None:
    chip = tiny_chip(tmp_path, neurons=4, out_edges=6)
    prog = map_graph(dense_net((6, 8, 12)), chip)
    assert all(c.output_axons <= 6 for c in prog.cores)
    assert len(prog.layers["lif0"].cores) > 2  # 8 neurons need more than 2 cores of 4
    _check_limits(prog)


def test_graded_input_needs_a_graded_chip() -> None:
    with pytest.raises(ResourceError, match=r"binary spikes only.*loihi2"):
        map_graph(dense_net((20, 5), graded_bits=8), "loihi1")
    assert map_graph(dense_net((20, 5), graded_bits=8), "loihi2").n_cores == 1


def test_unlowered_graph_is_rejected() -> None:
    g = ir.Graph.chain(("x", ir.Input(shape=(3,))), ("fc", ir.Linear(weight=np.eye(3))),
                       ("y", ir.Output(shape=(3,))))
    with pytest.raises(UnsupportedOpError, match=r"'fc'.*lower"):
        map_graph(g, "loihi1")


def test_conv_layers_map_whole_pixels(tmp_path) -> None:
    w = np.random.default_rng(0).integers(-50, 50, size=(6, 3, 3, 3))
    g = ir.Graph.chain(("x", ir.Input(shape=(3, 8, 8))),
                       ("c", ir.LoihiConv(input_shape=(3, 8, 8), weight=w, padding=(1, 1))),
                       ("l", ir.LoihiLIF(shape=(6, 8, 8), vth=10)),
                       ("y", ir.Output(shape=(6, 8, 8))))
    prog = map_graph(g, tiny_chip(tmp_path, neurons=12))
    assert prog.layers["l"].order == "hwc"
    owner = prog.core_of_neuron("l").reshape(6, 8, 8)
    assert (owner == owner[:1]).all()  # all channels of a pixel on one core
    _check_limits(prog)


def test_program_round_trips_through_disk(tmp_path) -> None:
    prog = map_graph(dense_net((30, 20, 5)), tiny_chip(tmp_path, neurons=8))
    path = prog.save(tmp_path / "out")
    assert path.name == "program.h5"
    back = ChipProgram.load(tmp_path / "out")
    assert back == prog
    assert back.chip == prog.chip
    assert back.routes == prog.routes


def test_describe_program_lists_every_layer(tmp_path) -> None:
    from rich.console import Console

    from snnc.backends.loihi.describe import describe_program

    prog = map_graph(dense_net((30, 20, 5)), tiny_chip(tmp_path, neurons=8))
    prog.save(tmp_path / "out")
    console = Console(record=True, width=160)
    console.print(describe_program(tmp_path / "out"))
    text = console.export_text()
    assert "tiny" in text
    assert all(name in text for name in ("lif0", "lif1"))


def test_loaded_chip_is_the_builtin() -> None:
    assert load_chip("loihi1").core.neurons == 1024


# ---- mapping strategies (issue 19): balanced partition, NoC-aware placement ----------------


def test_core_work_is_hand_computed() -> None:
    """partition.work on a 4 -> 3 dense layer, loihi1 times: syn op 4.0 ns, neuron update
    9.7 ns, spike out 30 ns, axon in 16 ns, at the assumed 10 % activity."""
    from snnc.backends.loihi.balance import work
    from snnc.backends.loihi.partition import LayerCost, syn_info

    chip = load_chip("loihi1")
    w = np.array([[1, 2, 3, 4], [0, 5, 0, 6], [0, 0, 0, 0]])  # 6 stored synapses, 4 axons
    g = ir.Graph.chain(("x", ir.Input(shape=(4,))), ("d", ir.LoihiDense(weight=w)),
                       ("l", ir.LoihiLIF(shape=(3,), du=4095, dv=4095, vth=10)),
                       ("y", ir.Output(shape=(3,))))
    node = g.nodes["d"]
    cost = LayerCost("l", np.arange(3), [syn_info("d", node, chip)], chip)
    # 0.1 * 4.0 * 6 + 3 * (9.7 + 0.1 * 30) + 0.1 * 16 * 4 = 2.4 + 38.1 + 6.4
    assert work(cost, 0, 3) == pytest.approx(46.9)
    # neuron 2 alone: no synapse, no axon: 9.7 + 3.0
    assert work(cost, 2, 3) == pytest.approx(12.7)
    assert work(cost, 0, 3, rate=0.0) == pytest.approx(3 * 9.7)  # no activity: updates only


def _max_work(prog: ChipProgram) -> float:
    from snnc.backends.loihi.packing import packing

    return max(r["work_max_ns"] for r in packing(prog))


@pytest.mark.parametrize("chip", ["loihi1", "loihi2"])
def test_balanced_lowers_the_busiest_core_within_one_core_per_layer(chip: str) -> None:
    g = dense_net()
    comp, bal = map_graph(g, chip, strategy="compact"), map_graph(g, chip, strategy="balanced")
    assert comp.strategy == "compact"
    assert bal.strategy == "balanced"
    assert comp.n_cores < bal.n_cores <= comp.n_cores + len(comp.layers)
    assert _max_work(bal) < 0.8 * _max_work(comp)
    _check_limits(bal)


@pytest.mark.parametrize("chip", ["loihi1", "loihi2"])
def test_balanced_and_compact_give_the_same_spikes(chip: str) -> None:
    from snnc.simulators.event import simulate

    g = dense_net()
    x = (np.random.default_rng(3).random((12, 2, 784)) < 0.2).astype(np.int8)
    probes = [f"lif{i}.s" for i in range(3)]
    a = simulate(map_graph(g, chip, strategy="compact"), x, probes=probes).probes
    b = simulate(map_graph(g, chip, strategy="balanced"), x, probes=probes).probes
    for p in probes:
        np.testing.assert_array_equal(a[p], b[p])
    assert np.asarray(a["lif2.s"]).any()  # the comparison is not of silent layers


def _one_core_tiles(tmp_path):
    import dataclasses

    chip = load_chip("loihi1")
    return dataclasses.replace(chip, mesh=dataclasses.replace(chip.mesh, cores_per_tile=1))


def _snake(prog: ChipProgram) -> ChipProgram:
    import dataclasses

    from snnc.backends.loihi.mapper import _tile

    cores = []
    for c in prog.cores:
        x, y, slot = _tile(c.core % prog.chip.mesh.cores_per_chip, prog.chip)
        cores.append(dataclasses.replace(c, x=x, y=y, slot=slot))
    return dataclasses.replace(prog, cores=tuple(cores))


def _skip_net() -> ir.Graph:
    """in -> l0 -> l1 -> l2 -> l3, and in -> l3 directly through 64 inputs (a skip)."""
    rng = np.random.default_rng(1)
    nodes = [("in", ir.Input(shape=(64,))),
             ("skip", ir.LoihiDense(weight=rng.integers(1, 9, size=(8, 64))))]
    edges = [("in", "skip"), ("skip", "l3"), ("l3", "out")]
    prev = "in"
    for i in range(4):
        nodes += [(f"d{i}", ir.LoihiDense(weight=rng.integers(1, 9, size=(8, 64 if i == 0
                                                                           else 8)))),
                  (f"l{i}", ir.LoihiLIF(shape=(8,), du=4095, dv=4095, vth=100))]
        edges += [(prev, f"d{i}"), (f"d{i}", f"l{i}")]
        prev = f"l{i}"
    return ir.Graph.build([*nodes, ("out", ir.Output(shape=(8,)))], edges)


def test_traffic_placement_beats_the_snake_and_keeps_the_snake_when_it_is_cheaper(
        tmp_path) -> None:
    from snnc.backends.loihi.mapper import _traffic, noc_cost
    from snnc.backends.loihi.topology import topology

    chip = _one_core_tiles(tmp_path)
    g = _skip_net()
    prog = map_graph(g, chip)
    traffic = _traffic(prog, topology(g))
    src, dst, w = traffic
    into_l3 = (src == HOST) & (dst == prog.layers["l3"].cores[0])
    assert w[into_l3].tolist() == [64]  # every input reaches l3's core, one route
    snake = _snake(prog)
    # snake: l3 sits 3 E-W hops from the host port; the placement puts it next to the host
    assert noc_cost(prog, traffic) < noc_cost(snake, traffic)
    c3 = prog.cores[prog.layers["l3"].cores[0]]
    assert c3.x + c3.y <= 1
    # a plain chain: the snake is already optimal on one row, and it is kept
    chain = dense_net((16, 8, 8, 8), seed=2)
    p2 = map_graph(chain, chip)
    assert [(c.x, c.y) for c in p2.cores] == [(c.x, c.y) for c in _snake(p2).cores]


def test_balanced_never_takes_another_chip(tmp_path) -> None:
    chip = tiny_chip(tmp_path, neurons=16)  # 4 cores per chip
    three = dense_net((64, 16, 16, 4))  # compact: 3 cores; balanced: the busy layer gets 2
    assert map_graph(three, chip, strategy="compact").n_cores == 3
    assert map_graph(three, chip).n_cores == 4
    four = dense_net((64, 16, 16, 16, 4))  # compact fills the chip: a 5th core needs a 2nd chip
    for kw in ({}, {"max_chips": 1}):
        prog = map_graph(four, chip, **kw)
        assert prog.n_cores == 4
        assert prog.n_chips == 1
        _check_limits(prog)


# ---- measured activity (issue 19): balancing at the calibration input's rates ---------------


def test_core_work_at_measured_rates_is_hand_computed() -> None:
    """The 4 -> 3 layer above with measured rates: input x 0.5, layer l 0.2 spikes per step;
    a name missing from the rates keeps the assumed 10 %."""
    import dataclasses

    from snnc.backends.loihi.balance import work
    from snnc.backends.loihi.partition import LayerCost, syn_info

    chip = load_chip("loihi1")
    w = np.array([[1, 2, 3, 4], [0, 5, 0, 6], [0, 0, 0, 0]])
    g = ir.Graph.chain(("x", ir.Input(shape=(4,))), ("d", ir.LoihiDense(weight=w)),
                       ("l", ir.LoihiLIF(shape=(3,), du=4095, dv=4095, vth=10)),
                       ("y", ir.Output(shape=(3,))))
    syn = dataclasses.replace(syn_info("d", g.nodes["d"], chip), src="x")
    cost = LayerCost("l", np.arange(3), [syn], chip)
    # 0.5 * 4.0 * 6 + 3 * (9.7 + 0.2 * 30) + 0.5 * 16 * 4 = 12 + 47.1 + 32
    assert work(cost, 0, 3, rates={"x": 0.5, "l": 0.2}) == pytest.approx(91.1)
    # x not measured: 0.1 * 4.0 * 6 + 47.1 + 0.1 * 16 * 4 = 2.4 + 47.1 + 6.4
    assert work(cost, 0, 3, rates={"l": 0.2}) == pytest.approx(55.9)
    assert work(cost, 0, 3, rates={}) == pytest.approx(46.9)  # nothing measured: assumed


@pytest.mark.parametrize("chip", ["loihi1", "loihi2"])
def test_measured_rates_steer_balancing_and_are_recorded(tmp_path, chip: str) -> None:
    from snnc.backends.loihi.packing import packing

    g = dense_net()
    assumed = map_graph(g, chip, strategy="balanced")
    # a silent input and a busy last hidden layer: fc0's work shrinks, fc2's grows
    rates = {"in": 0.0, "lif0": 0.0, "lif1": 0.9, "lif2": 0.9}
    measured = map_graph(g, chip, strategy="balanced", rates=rates)
    assert assumed.rates == ()
    assert dict(measured.rates) == rates
    per = {r["layer"]: r for r in packing(measured)}
    assert per["lif0"]["rate"] == 0.0
    assert per["lif0"]["rate_measured"]
    assert len(measured.layers["lif0"].cores) < len(assumed.layers["lif0"].cores)
    assert len(measured.layers["lif2"].cores) > len(assumed.layers["lif2"].cores)
    _check_limits(measured)
    back = ChipProgram.load(measured.save(tmp_path))
    assert back.rates == measured.rates
    assert ChipProgram.load(assumed.save(tmp_path / "a")).rates == ()


def test_loihi2_neurons_and_synapses_trade_in_one_memory() -> None:
    """Loihi 2's 192 KB (1,572,864 bits) per core hold both: a dense block costs 32 bits per
    input axon plus 9 bits (8-bit weight + sign) per synapse, and each neuron 64 state bits. Fan-in
    1024: (1,572,864 - 1024 x 32) / (1024 x 9 + 64) = 165.96 -> 165 neurons per core; fan-in 16:
    (1,572,864 - 16 x 32) / (16 x 9 + 64) = 7559.4 -> 7559, below the 8192-neuron limit."""
    def cores(fanin: int, n: int) -> int:
        w = np.full((n, fanin), 2)
        w[0, 0] = -2  # mixed sign: 9-bit weights
        g = ir.Graph.chain(("x", ir.Input(shape=(fanin,))), ("d", ir.LoihiDense(weight=w)),
                           ("l", ir.LoihiLIF(shape=(n,), du=4095, dv=0, vth=100)),
                           ("y", ir.Output(shape=(n,))))
        return map_graph(g, "loihi2", strategy="compact").n_cores

    assert (cores(1024, 165), cores(1024, 166)) == (1, 2)
    assert (cores(16, 7559), cores(16, 7560)) == (1, 2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_traffic_arrays_equal_the_route_dict_in_order(seed, tmp_path) -> None:
    """``_traffic``'s arrays hold the routes in the order a dict keyed by (source, destination)
    would have inserted them over the synapses' messages, with the same summed weights, and
    ``_partners`` gives each core the same (other, weight) list as appending per route (the
    placement's float sums follow these orders, so the programs stay the same)."""
    from snnc.backends.loihi.mapper import _partners, _traffic
    from snnc.backends.loihi.topology import topology
    from snnc.backends.loihi.traffic import program_traffic

    if seed == 0:  # many small cores: routes from every source core to several targets
        g = dense_net((64, 48, 48, 8), seed=seed)
        prog = map_graph(g, tiny_chip(tmp_path, neurons=16))
    else:
        g = random_network(np.random.default_rng(seed)).graph
        prog = map_graph(g, "loihi2")
    topo = topology(g)
    per_syn = program_traffic(prog, topo.synapses)
    want: dict[tuple[int, int], int] = {}
    for s, (_, tgt) in topo.synapses.items():
        tcores = np.asarray(prog.layers[tgt].cores)
        for sc, per in zip(per_syn[s].scores, per_syn[s].messages, strict=True):
            for k in np.flatnonzero(per):
                key = (int(sc), int(tcores[k]))
                want[key] = want.get(key, 0) + int(per[k])
    a, b, w = _traffic(prog, topo, per_syn)
    assert list(zip(a.tolist(), b.tolist(), strict=True)) == list(want)
    assert w.tolist() == list(want.values())
    assert len(want) > (10 if seed == 0 else 0)
    lists: dict[int, list[tuple[int, int]]] = {}
    for (x, y), v in want.items():
        if x != y:
            lists.setdefault(y, []).append((x, v))
            if x != HOST:
                lists.setdefault(x, []).append((y, v))
    partners = _partners((a, b, w))
    for core in range(-1, prog.n_cores + 1):
        assert partners(core) == lists.get(core, [])
