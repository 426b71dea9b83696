"""A run streamed as pieces (windows of steps) equals the collected run, counters included."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
from loihi_chips import tiny_chip
from loihi_random import random_network

from snnc.backends.loihi.mapper import map_graph
from snnc.simulators.event import Counters, simulate, simulate_pieces


def test_pieces_of_a_memory_mapped_input_equal_the_whole_run(tmp_path) -> None:
    net = random_network(np.random.default_rng(5), "plain", steps=40)
    prog = map_graph(net.graph, tiny_chip(tmp_path))
    path = tmp_path / "x.npy"
    np.save(path, net.stimulus)
    lazy = np.load(path, mmap_mode="r")
    whole = simulate(prog, net.stimulus, probes=net.probes, steps=45)
    pieces = list(simulate_pieces(prog, lazy, steps=45, probes=net.probes, chunk_steps=8))
    assert [(p.t0, p.T) for p in pieces] == [(0, 8), (8, 8), (16, 8), (24, 8), (32, 8), (40, 5)]
    assert whole.output.any()
    for name, val in whole.outputs.items():
        np.testing.assert_array_equal(np.concatenate([p.outputs[name] for p in pieces]), val)
    for name in net.probes:
        np.testing.assert_array_equal(np.concatenate([p.probes[name] for p in pieces]),
                                      whole.probes[name], err_msg=name)
    joined = Counters.concat([p.counters for p in pieces])
    for f in fields(Counters):
        a, b = getattr(joined, f.name), getattr(whole.counters, f.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=f.name)
    assert joined.totals() == whole.counters.totals()
    ps, pw = joined.per_sample, whole.counters.per_sample
    np.testing.assert_array_equal(ps.time_ns, pw.time_ns)
    for k, v in pw.events.items():
        np.testing.assert_array_equal(ps.events[k], v, err_msg=k)
    # every piece's own counters cover its steps only
    assert sum(p.counters.syn_ops.sum() for p in pieces) == whole.counters.syn_ops.sum()
    assert all(p.counters.step_ns.shape == (p.T,) for p in pieces)


def test_zero_steps_give_empty_results(tmp_path) -> None:
    net = random_network(np.random.default_rng(6), "plain", steps=5)
    prog = map_graph(net.graph, tiny_chip(tmp_path))
    res = simulate(prog, net.stimulus, steps=0, probes=net.probes)
    assert res.output.shape[0] == 0
    assert res.counters.step_ns.shape == (0,)
