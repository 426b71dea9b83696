"""Mapping ``loihi.plastic_dense``: every synapse stored, learning fields in the memory cost."""

from __future__ import annotations

import numpy as np
import pytest
from loihi_chips import tiny_chip

from snnc import ir
from snnc.backends.loihi.chips import load_chip
from snnc.backends.loihi.mapper import map_graph
from snnc.backends.loihi.program import HOST, ChipProgram
from snnc.errors import ResourceError


def _chain(syn: ir.Node, n_in: int, n_out: int) -> ir.Graph:
    return ir.Graph.chain(("x", ir.Input(shape=(n_in,))), ("syn", syn),
                          ("lif", ir.LoihiLIF(shape=(n_out,), du=4095, dv=0, vth=10)),
                          ("y", ir.Output(shape=(n_out,))))


def _plastic(weight: np.ndarray, **kw) -> ir.LoihiPlasticDense:
    return ir.LoihiPlasticDense(weight=weight, dw="2^-2*y0*x1 - 2^-2*x0*y1",
                                x_impulse=(16.0, 0.0), x_tau=(10, 0), **kw)


W = np.array([[1, -2, 0], [0, 0, 0], [5, 0, 0], [0, 0, 0]])


@pytest.mark.parametrize(("kw", "bits"), [
    # dense format: axons * (header 32 + neurons * per-synapse bits), 3 axons, 4 neurons
    ({"dd": "2^-3*x0*y1"}, 3 * (32 + 4 * (9 + 9 + 8))),  # 9 b weight, tag_1 9 b, tag_2 8 b
    ({}, 3 * (32 + 4 * (9 + 9))),  # no dd: no tag_2
    ({"sign_mode": "exc", "dt": "x0*y1"}, 3 * (32 + 4 * (8 + 9))),  # unsigned 8 b weights
])
def test_memory_cost_by_hand_loihi1(kw, bits) -> None:
    w = np.abs(W) if kw.get("sign_mode") == "exc" else W
    prog = map_graph(_chain(_plastic(w, num_weight_bits=4, **kw), 3, 4), "loihi1")
    (block,) = prog.blocks
    assert (block.fmt, block.synapses, block.input_axons) == ("dense", 12, 3)
    assert block.memory_bits == bits
    assert prog.cores[0].synapse_bits == bits


def test_memory_cost_by_hand_loihi2_counts_traces_in_shared_memory() -> None:
    prog = map_graph(_chain(_plastic(W, dd="x0*y1"), 3, 4), "loihi2")
    (block,) = prog.blocks
    synapses = 3 * (32 + 4 * (9 + 9 + 8))
    traces = 7 * (2 * 3 + 3 * 4)  # x1, x2 per input axon; y1..y3 per neuron
    assert block.memory_bits == synapses + traces
    neuron_state = 4 * load_chip("loihi2").core.neuron_state_bits
    assert prog.cores[0].synapse_bits == synapses + traces + neuron_state


def test_static_dense_with_the_same_weights_costs_less() -> None:
    w = np.array([[2, -4, 0], [0, 0, 0], [6, 0, 0], [0, 0, 0]])  # survive the LSB truncation
    dense = map_graph(_chain(ir.LoihiDense(weight=w), 3, 4), "loihi1")
    (block,) = dense.blocks
    # only the 3 non-zero synapses, from 2 axons, 8-bit magnitude + sign, 10-bit index: sparse
    assert (block.fmt, block.synapses, block.input_axons) == ("sparse", 3, 2)
    assert block.memory_bits == 2 * 32 + 3 * (9 + 10)
    plastic = map_graph(_chain(_plastic(w), 3, 4), "loihi1")
    assert plastic.blocks[0].memory_bits == 3 * (32 + 4 * (9 + 9))


def test_larger_synapses_need_more_cores(tmp_path) -> None:
    """10 inputs -> 12 neurons, all weights non-zero, 1000 bits per core: dense format costs
    10 * (32 + n * s) bits for n neurons. Static mixed 8-bit (s = 9): n <= 7, 2 cores;
    plastic (s = 9 + 9 tag_1): n <= 3, 4 cores."""
    rng = np.random.default_rng(0)
    w = rng.integers(1, 200, (12, 10)) * rng.choice([-1, 1], (12, 10))
    chip = tiny_chip(tmp_path, neurons=64, bits=1000)
    static = map_graph(_chain(ir.LoihiDense(weight=w), 10, 12), chip)
    plastic = map_graph(_chain(_plastic(w), 10, 12), chip)
    assert [c.neurons for c in static.cores] == [6, 6]
    assert [c.neurons for c in plastic.cores] == [3, 3, 3, 3]
    assert all(c.synapse_bits == 10 * (32 + 3 * 18) for c in plastic.cores)


def test_zero_plastic_readout_is_stored_and_routed() -> None:
    """A readout that starts at zero must still hold (and route to) all its synapses."""
    prog = map_graph(_chain(_plastic(np.zeros((4, 3), np.int64)), 3, 4), "loihi1")
    (block,) = prog.blocks
    assert (block.synapses, block.input_axons, block.fmt) == (12, 3, "dense")
    assert [(r.src, r.dst) for r in prog.routes] == [(HOST, 0)]
    static = map_graph(_chain(ir.LoihiDense(weight=np.zeros((4, 3), np.int64)), 3, 4),
                       "loihi1")
    assert static.blocks[0].synapses == 0
    assert static.routes == ()


def test_plastic_program_saves_and_loads_identical(tmp_path) -> None:
    rng = np.random.default_rng(1)
    node = ir.LoihiPlasticDense(
        weight=rng.integers(-256, 256, (5, 6)), weight_exp=-1, num_weight_bits=7,
        dw="2^-4*x0*(y1-64) - 2^-7*u2*w", dt="2^-2*y0*x1 - 2^-3*u0*t", dd="x0*y1",
        x_impulse=(16.25, 3.0), x_tau=(10, 4), y_impulse=(0.0, 0.0, 0.0),
        y_tau=(65535, 65535, 65535), t_epoch=3, rng_seed=7, third_factor=True,
        tag_1=rng.integers(-100, 100, (5, 6)), tag_2=rng.integers(0, 100, (5, 6)))
    prog = map_graph(_chain(node, 6, 5), "loihi2")
    prog.save(tmp_path / "out")
    back = ChipProgram.load(tmp_path / "out")
    assert back == prog
    got = back.graph.nodes["syn"]
    assert got.op == "loihi.plastic_dense"
    assert got.dd == "x0*y1"
    assert got.t_epoch == 3
    np.testing.assert_array_equal(got.tag_1, node.tag_1)
    np.testing.assert_array_equal(got.x_impulse, node.x_impulse)


def test_chip_with_narrow_weights_refuses_plastic_synapses(tmp_path) -> None:
    path = tmp_path / "narrow.toml"
    path.write_text('base = "loihi1"\nname = "narrow"\n[synapse]\nmax_weight_bits = 6\n')
    chip = load_chip(path)
    map_graph(_chain(ir.LoihiDense(weight=W, num_weight_bits=6), 3, 4), chip)  # fits
    with pytest.raises(ResourceError, match="Learned weights span 8 magnitude bits"):
        map_graph(_chain(_plastic(W, num_weight_bits=6), 3, 4), chip)


def test_learning_update_costs_are_in_the_builtin_chips() -> None:
    l1, l2 = load_chip("loihi1"), load_chip("loihi2")
    assert (l1.costs.energy_pj["syn_update"], l1.costs.time_ns["syn_update"]) == (120.0, 6.1)
    assert "syn_update" not in l1.costs.estimated
    assert "syn_update" in l2.costs.estimated
