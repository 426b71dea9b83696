"""What the event simulator derives from a program lives in a ``ProgramCache``, not the program."""

from __future__ import annotations

import gc

import numpy as np
from loihi_chips import tiny_chip
from loihi_random import SCENARIOS, random_network

from snnc.backends.loihi.mapper import map_graph
from snnc.simulators.event import EventSession, simulate
from snnc.simulators.event.derived import ProgramCache


def _program(tmp_path, seed: int = 0):
    net = random_network(np.random.default_rng([seed, 0]), SCENARIOS[0], steps=12)
    return net, map_graph(net.graph, tiny_chip(tmp_path, neurons=5))


def test_cache_is_per_program_and_reused(tmp_path) -> None:
    net, prog = _program(tmp_path)
    cache = ProgramCache()
    first = simulate(prog, net.stimulus, probes=net.probes, cache=cache)
    assert len(cache) == 1
    derived = dict(cache.entries(prog))
    assert any(kind == "synapse" for kind, _ in derived)
    assert any(kind == "counter tables" for kind, _ in derived)
    again = simulate(prog, net.stimulus, probes=net.probes, cache=cache)
    assert all(cache.entries(prog)[k] is v for k, v in derived.items())  # not rebuilt
    fresh = simulate(prog, net.stimulus, probes=net.probes, cache=ProgramCache())
    for res in (again, fresh):
        np.testing.assert_array_equal(res.output, first.output)
        for p in net.probes:
            np.testing.assert_array_equal(res.probes[p], first.probes[p])
        np.testing.assert_array_equal(res.counters.syn_ops, first.counters.syn_ops)
    assert not hasattr(prog, "cache")  # the frozen program holds no scratch state


def test_entries_go_with_their_program(tmp_path) -> None:
    net, prog = _program(tmp_path)
    cache = ProgramCache()
    simulate(prog, net.stimulus, cache=cache)
    assert len(cache) == 1
    del prog
    gc.collect()
    assert len(cache) == 0


def test_session_owns_its_cache(tmp_path) -> None:
    net, prog = _program(tmp_path)
    sess = EventSession(prog, learn=False)
    res = sess.run_sample(net.stimulus, probes=net.probes)
    assert len(sess.cache) == 1
    ref = simulate(prog, net.stimulus, probes=net.probes)
    np.testing.assert_array_equal(res.output, ref.output)
