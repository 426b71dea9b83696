"""The event simulator against the fixed-point reference: spikes, u and v bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from loihi_chips import tiny_chip
from loihi_random import SCENARIOS, random_network

from snnc import ir
from snnc.backends.loihi.mapper import map_graph
from snnc.simulators import reference
from snnc.simulators.event import runners, simulate

JIT = runners.available()  # every kernel set built here: aot, numba, numpy


def _same(ref, ev, probes) -> None:
    np.testing.assert_array_equal(ev.output, ref.output)
    for p in probes:
        np.testing.assert_array_equal(ev.probes[p], ref.probes[p], err_msg=p)


@pytest.mark.parametrize("use_jit", JIT)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_random_programs_match_reference(tmp_path, scenario, use_jit) -> None:
    chip = tiny_chip(tmp_path, neurons=5)
    spread = 0
    for seed in range(6):
        net = random_network(np.random.default_rng([seed, SCENARIOS.index(scenario)]), scenario,
                             steps=24)
        prog = map_graph(net.graph, chip)
        spread += prog.n_chips > 1
        ref = reference.simulate(net.graph, net.stimulus, probes=net.probes)
        ev = simulate(prog, net.stimulus, probes=net.probes, use_jit=use_jit)
        _same(ref, ev, net.probes)
    assert spread > 0  # some programs span several chips


def _recurrent(rng: np.random.Generator) -> ir.Graph:
    n_in, n = 6, 9
    w_in = rng.integers(-256, 256, size=(n, n_in))
    w_rec = rng.integers(-256, 256, size=(n, n))
    nodes = {"x": ir.Input(shape=(n_in,)), "fc": ir.LoihiDense(weight=w_in, weight_exp=2),
             "rec": ir.LoihiDense(weight=w_rec, weight_exp=-1, delays=rng.integers(0, 4, (n, n))),
             "lif": ir.LoihiLIF(shape=(n,), du=100, dv=300, vth=40, bias_mant=3, bias_exp=2),
             "y": ir.Output(shape=(n,))}
    edges = [("x", "fc"), ("fc", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "y")]
    return ir.Graph.build(nodes, edges)


@pytest.mark.parametrize("use_jit", JIT)
def test_recurrent_program_matches_reference(tmp_path, use_jit) -> None:
    rng = np.random.default_rng(3)
    g = _recurrent(rng)
    x = (rng.random((40, 2, 6)) < 0.4).astype(np.int64)
    prog = map_graph(g, tiny_chip(tmp_path, neurons=4))
    probes = ("lif.u", "lif.v", "rec.s")
    _same(reference.simulate(g, x, probes=probes), simulate(prog, x, probes=probes,
                                                            use_jit=use_jit), probes)


def _two_inputs(rng: np.random.Generator) -> ir.Graph:
    nodes = {"a": ir.Input(shape=(5,)), "b": ir.Input(shape=(2, 3, 3)),
             "fa": ir.LoihiDense(weight=rng.integers(-100, 100, size=(8, 5))),
             "cb": ir.LoihiConv(input_shape=(2, 3, 3), weight=rng.integers(-60, 60, (2, 2, 2, 2))),
             "lif": ir.LoihiLIF(shape=(2, 2, 2), du=4095, dv=0, vth=20),
             "r": ir.Reshape(input_shape=(8,), output_shape=(2, 2, 2)),
             "y": ir.Output(shape=(2, 2, 2))}
    edges = [("a", "fa"), ("fa", "r"), ("r", "lif"), ("b", "cb"), ("cb", "lif"), ("lif", "y")]
    return ir.Graph.build(nodes, edges)


def test_two_synapses_into_one_layer(tmp_path) -> None:
    rng = np.random.default_rng(5)
    g = _two_inputs(rng)
    x = {"a": (rng.random((20, 3, 5)) < 0.5).astype(np.int64),
         "b": (rng.random((20, 3, 2, 3, 3)) < 0.5).astype(np.int64)}
    prog = map_graph(g, tiny_chip(tmp_path, neurons=3))
    _same(reference.simulate(g, x, probes=("lif.v",)), simulate(prog, x, probes=("lif.v",)),
          ("lif.v",))


def test_batch_blas_path_matches_reference(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(runners, "BLAS_MIN_BATCH", 1)
    for seed in range(4):
        net = random_network(np.random.default_rng([seed, 99]), "plain", steps=16)
        rng = np.random.default_rng(seed)
        x = np.repeat(net.stimulus, 9, axis=1) * (rng.random((16, 9, *net.stimulus.shape[2:])) < .7)
        prog = map_graph(net.graph, tiny_chip(tmp_path, neurons=6))
        _same(reference.simulate(net.graph, x, probes=net.probes),
              simulate(prog, x, probes=net.probes), net.probes)


def test_chunking_does_not_change_results(tmp_path) -> None:
    net = random_network(np.random.default_rng(11), "plain", steps=30)
    prog = map_graph(net.graph, tiny_chip(tmp_path))
    whole = simulate(prog, net.stimulus, probes=net.probes)
    parts = simulate(prog, net.stimulus, probes=net.probes, chunk_steps=7)
    _same(whole, parts, net.probes)
    np.testing.assert_array_equal(whole.counters.syn_ops, parts.counters.syn_ops)
    np.testing.assert_allclose(whole.counters.step_ns, parts.counters.step_ns)


def test_reset_interval_runs_samples_independently(tmp_path) -> None:
    net = random_network(np.random.default_rng(21), "plain", steps=12)
    prog = map_graph(net.graph, tiny_chip(tmp_path))
    rng = np.random.default_rng(0)
    samples = [net.stimulus * (rng.random(net.stimulus.shape) < 0.8) for _ in range(3)]
    seq = simulate(prog, np.concatenate(samples), probes=net.probes, reset_interval=12)
    for k, xs in enumerate(samples):
        one = simulate(prog, xs, probes=net.probes)
        np.testing.assert_array_equal(seq.output[12 * k:12 * (k + 1)], one.output)
        for p in net.probes:
            np.testing.assert_array_equal(seq.probes[p][12 * k:12 * (k + 1)], one.probes[p])


def test_steps_beyond_input_pad_with_zeros(tmp_path) -> None:
    net = random_network(np.random.default_rng(4), "plain", steps=10)
    prog = map_graph(net.graph, tiny_chip(tmp_path))
    ref = reference.simulate(net.graph, net.stimulus, steps=25, probes=net.probes)
    _same(ref, simulate(prog, net.stimulus, steps=25, probes=net.probes), net.probes)


def test_non_integer_stimulus_is_refused(tmp_path) -> None:
    from snnc.errors import SnncError

    net = random_network(np.random.default_rng(4), "plain", steps=5)
    prog = map_graph(net.graph, tiny_chip(tmp_path))
    with pytest.raises(SnncError, match="non-integer"):
        simulate(prog, net.stimulus * 0.5 + 0.25)
