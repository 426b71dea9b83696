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
    assert bal.n_chips == 1 and bal.n_cores <= prog.n_cores + len(prog.layers)
    _check_limits(bal)


def test_loihi2_shares_memory_and_packs_tighter() -> None:
    l1, l2 = map_graph(dense_net(), "loihi1"), map_graph(dense_net(), "loihi2")
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
