"""The ``vendor`` mapping (backends/loihi/vendor.py): the compiler's figures by hand, PilotNet LIF's
74 cores layer by layer as Lava's Loihi 2 compiler printed them, and unchanged spikes."""

from __future__ import annotations

import numpy as np
import pytest

from snnc import ir
from snnc.backends.loihi.mapper import map_graph
from snnc.backends.loihi.program import ChipProgram
from snnc.backends.loihi.vendor import column_width, dense_words


def test_dense_words_are_the_compilers_figures() -> None:
    # per axon ceil((n * (9 + 6) + 32) / 64) words: the compiler's log and table (lava-dl
    # pilotnet_snn/benchmark.ipynb): 100 neurons x 2560 axons -> 61440, 17 -> 12800, and the
    # one-core layers' Synapses column 1300 (50 x 100), 150 (10 x 50), 10 (1 x 10)
    assert dense_words(100, 2560) == 2560 * 24 == 61440
    assert dense_words(17, 2560) == 12800
    assert dense_words(9, 2560) == 2560 * 3  # (135 + 32) / 64 -> 3: fits 12,000
    assert (dense_words(50, 100), dense_words(10, 50), dense_words(1, 10)) == (1300, 150, 10)
    assert dense_words(0, 2560) == dense_words(5, 0) == 0


def test_column_width_is_the_compilers_conv_blocks() -> None:
    # (C, H, W) -> W columns per core: Conv(16, 66, 3), (4, 32, 24), (4, 15, 36), (8, 7, 48),
    # (8, 4, 64), (16, 2, 64) in the compiler's (W, H, C) notation
    shapes = [(3, 66, 200), (24, 32, 99), (36, 15, 49), (48, 7, 24), (64, 4, 22), (64, 2, 20)]
    assert [column_width(s) for s in shapes] == [16, 4, 4, 8, 8, 16]
    assert column_width((64, 64, 3)) == 1  # one column over the limit still gets a core
    assert column_width((1, 1, 5)) == 4  # never wider than the layer


def _conv_net() -> ir.Graph:
    rng = np.random.default_rng(0)
    w1 = rng.integers(-40, 60, size=(8, 2, 3, 3))
    w2 = rng.integers(-30, 40, size=(5, 8 * 6 * 12))
    return ir.Graph.chain(
        ("x", ir.Input(shape=(2, 8, 14))),
        ("c", ir.LoihiConv(input_shape=(2, 8, 14), weight=w1)),
        ("l", ir.LoihiLIF(shape=(8, 6, 12), du=4095, dv=256, vth=200)),
        ("f", ir.Flatten(input_shape=(8, 6, 12))),
        ("d", ir.LoihiDense(weight=w2)),
        ("m", ir.LoihiLIF(shape=(5,), du=4095, dv=256, vth=800)),
        ("y", ir.Output(shape=(5,))))


def test_vendor_cores_hold_whole_columns_and_give_the_same_spikes(tmp_path) -> None:
    from snnc.simulators.event import simulate

    g = _conv_net()
    prog = map_graph(g, "loihi2", strategy="vendor")
    assert prog.strategy == "vendor"
    assert prog.layers["l"].order == "whc"
    owner = prog.core_of_neuron("l").reshape(8, 6, 12)
    # 8 x 6 = 48 neurons per column: 64 columns would be 3072 < 4096, so the whole 12 columns
    # (576 neurons) sit on one core; every core holds whole columns
    assert (owner == owner[:1, :1, :]).all()
    x = (np.random.default_rng(1).random((10, 2, 2, 8, 14)) < 0.3).astype(np.int8)
    probes = ["l.s", "m.s"]
    a = simulate(map_graph(g, "loihi2", strategy="compact"), x, probes=probes).probes
    b = simulate(prog, x, probes=probes).probes
    for p in probes:
        np.testing.assert_array_equal(a[p], b[p])
    assert np.asarray(a["m.s"]).any()
    prog.save(tmp_path / "o")
    assert ChipProgram.load(tmp_path / "o") == prog  # the whc order round-trips


def test_vendor_mapping_is_refused_on_loihi1() -> None:
    from snnc.errors import UnsupportedOpError

    with pytest.raises(UnsupportedOpError, match="Loihi 2 compiler"):
        map_graph(_conv_net(), "loihi1", strategy="vendor")


def test_pilotnet_lif_maps_to_the_compilers_74_cores(lavadl_assets) -> None:
    from snnc.api import load

    d = lavadl_assets / "gts" / "pilotnet_lif"
    if not (d / "network.net").is_file():
        pytest.skip("pilotnet_lif assets missing")
    g = load(d / "network.net", input_bias=d / "image.npy", reset_interval=16, reset_offset=3)
    prog = map_graph(g, "loihi2", strategy="vendor")
    per_layer = [len(lm.cores) for lm in prog.layers.values()]
    # the compiler's table, input layer first: Conv(16,66,3) 13, (4,32,24) 25, (4,15,36) 13,
    # (8,7,48) 3, (8,4,64) 3, (16,2,64) 2, dense 12, 1, 1, 1
    assert per_layer == [13, 25, 13, 3, 3, 2, 12, 1, 1, 1]
    assert prog.n_cores == 74
    sizes = [prog.cores[i].neurons for i in prog.layers["layer0"].cores]
    assert sizes[:-1] == [3168] * 12  # 16 columns x 66 x 3; the last holds the 8 left over


def test_compile_with_vendor_mapping_and_inspect_show_the_choice(lavadl_assets, tmp_path,
                                                                 capsys) -> None:
    from cli_run import run

    d = lavadl_assets / "gts" / "pilotnet_lif"
    if not (d / "network.net").is_file():
        pytest.skip("pilotnet_lif assets missing")
    out = tmp_path / "o"
    code, _, err = run(["compile", str(d / "network.net"), "--input-bias", str(d / "image.npy"),
                        "--reset-interval", "16", "--reset-offset", "3", "--mapping", "vendor",
                        "-q", "-o", str(out)], capsys)
    assert code == 0, err
    assert ChipProgram.load(out).n_cores == 74
    code, shown, _ = run(["inspect", str(out)], capsys)
    text = " ".join(shown.split())
    assert code == 0
    assert "mapping strategy 'vendor'" in text
    assert "16 of 200 W columns per core" in text  # the input layer's packing choice
    assert "SynMem 7680 of 12000 words" in text  # the first dense layer's: 2560 x 3 words
    # Loihi 1 refuses it as a one-paragraph error (exit 2)
    code, _, err = run(["compile", str(d / "network.net"), "--input-bias", str(d / "image.npy"),
                        "--chip", "loihi1", "--mapping", "vendor", "-q",
                        "-o", str(tmp_path / "l1")], capsys)
    assert code == 2
    assert "Loihi 2 compiler" in err
    assert "Traceback" not in err


def test_random_networks_give_the_same_spikes_on_the_vendor_mapping() -> None:
    """Random dense / conv / delay chains (tests/loihi_random.py) on Loihi 2: the vendor cores
    respect the neuron and memory limits, cover every neuron once, and the spikes equal the
    compact mapping's."""
    from loihi_random import random_network

    from snnc.simulators.event import simulate

    checked = 0
    for seed in range(8):
        net = random_network(np.random.default_rng([seed, 42]), "plain", steps=12)
        a = map_graph(net.graph, "loihi2", strategy="compact")
        b = map_graph(net.graph, "loihi2", strategy="vendor")
        core = b.chip.core
        for name, lm in b.layers.items():
            owner = b.core_of_neuron(name)
            assert sorted(np.unique(owner).tolist()) == list(lm.cores)
            for cid in lm.cores:
                assert b.cores[cid].neurons <= core.neurons
                assert b.cores[cid].synapse_bits <= core.shared_memory_bits
        pa = simulate(a, net.stimulus, probes=list(net.probes)).probes
        pb = simulate(b, net.stimulus, probes=list(net.probes)).probes
        for p in net.probes:
            np.testing.assert_array_equal(pa[p], pb[p])
        checked += 1
    assert checked == 8


def _pilotnet_shapes(input_on_chip: bool) -> ir.Graph:
    """PilotNet's layer shapes (the notebooks' tables) with random weights: the conv layers
    24@99x32, 36@49x15, 48@24x7, 64@22x4, 64@20x2 and dense 100, 50, 10, 1."""
    rng = np.random.default_rng(5)
    convs = [(24, (2, 2), (0, 0)), (36, (2, 2), (0, 0)), (48, (2, 2), (0, 0)),
             (64, (2, 1), (1, 0)), (64, (1, 1), (0, 0))]
    shape = (3, 66, 200)
    nodes: list = [("x", ir.Input(shape=shape))]
    if input_on_chip:
        nodes.append(("in", ir.LoihiLIF(shape=shape, vth=100)))
    for i, (c, stride, pad) in enumerate(convs):
        w = rng.integers(-8, 9, size=(c, shape[0], 3, 3))
        conv = ir.LoihiConv(input_shape=shape, weight=w, stride=stride, padding=pad)
        shape = tuple(conv.out_shape)
        nodes += [(f"c{i}", conv), (f"l{i}", ir.LoihiLIF(shape=shape, vth=100))]
    nodes.append(("f", ir.Flatten(input_shape=shape)))
    n_in = int(np.prod(shape))
    for i, n in enumerate((100, 50, 10, 1)):
        nodes += [(f"d{i}", ir.LoihiDense(weight=rng.integers(-8, 9, size=(n, n_in)))),
                  (f"m{i}", ir.LoihiLIF(shape=(n,), vth=100))]
        n_in = n
    nodes.append(("y", ir.Output(shape=(1,))))
    return ir.Graph.chain(*nodes)


def test_pilotnet_shapes_give_both_notebooks_core_counts() -> None:
    # LIF notebook: input layer on the chip, 74 cores; SDNN notebook (skip_layers=1: the
    # input encoder runs off the chip), 61 cores: 25, 13, 3, 3, 2 conv and 12, 1, 1, 1 dense
    lif = map_graph(_pilotnet_shapes(True), "loihi2", strategy="vendor")
    sdnn = map_graph(_pilotnet_shapes(False), "loihi2", strategy="vendor")
    assert [len(lm.cores) for lm in sdnn.layers.values()] == [25, 13, 3, 3, 2, 12, 1, 1, 1]
    assert (lif.n_cores, sdnn.n_cores) == (74, 61)


def test_a_loihi2_report_on_another_mapping_says_where_time_was_fitted() -> None:
    from snnc.backends.report import build_report
    from snnc.simulators.event import simulate

    g = _conv_net()
    x = (np.random.default_rng(2).random((6, 1, 2, 8, 14)) < 0.3).astype(np.int8)
    notes = {}
    for strategy in ("balanced", "vendor"):
        prog = map_graph(g, "loihi2", strategy=strategy)
        doc = build_report(prog, simulate(prog, x))
        notes[strategy] = [n for n in doc["notes"] if "time per event fitted" in n]
    assert len(notes["balanced"]) == 1
    assert "--mapping vendor" in notes["balanced"][0]
    assert notes["vendor"] == []


def test_a_vendor_core_over_snncs_own_limits_is_split_further() -> None:
    # 10,000 neurons with a fan-in of 2: the compiler's SynMem count fits one core (2 axons x
    # ceil((10,000 x 15 + 32) / 64) = 4,690 words), but a Loihi 2 core holds 8,192 neurons
    rng = np.random.default_rng(0)
    g = ir.Graph.chain(("x", ir.Input(shape=(2,))),
                       ("d", ir.LoihiDense(weight=rng.integers(1, 9, size=(10000, 2)))),
                       ("l", ir.LoihiLIF(shape=(10000,), vth=100)),
                       ("y", ir.Output(shape=(10000,))))
    assert dense_words(10000, 2) == 4690
    prog = map_graph(g, "loihi2", strategy="vendor")
    sizes = [prog.cores[i].neurons for i in prog.layers["l"].cores]
    assert len(sizes) >= 2
    assert sum(sizes) == 10000
    assert max(sizes) <= prog.chip.core.neurons
