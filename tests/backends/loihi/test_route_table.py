"""``RouteTable`` (routes as a matrix), ``hops_of_pairs``, the vectorized NoC cost and
``heap.release``: each equal to the per-route Python it replaced."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from loihi_chips import tiny_chip
from loihi_random import random_network

from snnc.backends.loihi.heap import release
from snnc.backends.loihi.mapper import _traffic, map_graph, noc_cost
from snnc.backends.loihi.program import HOST, ChipProgram, Route
from snnc.backends.loihi.routes import RouteTable
from snnc.backends.loihi.topology import topology


def _program(seed: int, tmp_path) -> ChipProgram:
    net = random_network(np.random.default_rng([seed, 11]), "plain", steps=8)
    return map_graph(net.graph, tiny_chip(tmp_path, neurons=3))


def test_route_table_is_a_sequence_of_routes_equal_to_the_tuple() -> None:
    rows = np.array([[HOST, 0, 0, 0, 0], [0, 3, 1, 2, 0], [2, 7, 0, 1, 1]])
    t = RouteTable(rows)
    want = tuple(Route(*r) for r in rows.tolist())
    assert len(t) == 3
    assert tuple(t) == want
    assert list(t) == list(want)
    assert t == want
    assert want == t
    assert t == list(want)
    assert t[1] == want[1]
    assert t[-1] == want[-1]
    assert tuple(t[1:]) == want[1:]
    assert t != want[:2]
    assert t != ()
    assert RouteTable(rows[:0]) == ()
    assert t == RouteTable(rows.astype(np.int64))
    assert t != RouteTable(rows[::-1])
    assert all(type(v) is int for r in t for v in (r.src, r.dst, r.hops_ew, r.chip_hops))
    assert t.rows.dtype == np.int32
    assert not t.rows.flags.writeable
    assert pickle.loads(pickle.dumps(t)) == t
    with pytest.raises(ValueError, match="5 columns"):
        RouteTable(rows[:, :4])


def test_route_table_iterates_past_one_chunk() -> None:
    rows = np.arange(5 * 9000).reshape(9000, 5) % 97
    got = [(r.src, r.dst, r.hops_ew, r.hops_ns, r.chip_hops) for r in RouteTable(rows)]
    assert got == [tuple(r) for r in rows.tolist()]


@pytest.mark.parametrize("seed", range(6))
def test_mapped_routes_equal_the_per_pair_definition(seed, tmp_path) -> None:
    prog = _program(seed, tmp_path)
    assert isinstance(prog.routes, RouteTable)
    pairs = sorted({(r.src, r.dst) for r in prog.routes})
    assert [(r.src, r.dst) for r in prog.routes] == pairs  # distinct, sorted
    assert tuple(prog.routes) == tuple(Route(a, b, *prog.hops(a, b)) for a, b in pairs)
    path = prog.save(tmp_path / f"out{seed}")
    back = ChipProgram.load(path)
    assert back == prog
    assert back.routes == prog.routes


@pytest.mark.parametrize("seed", range(6))
def test_hops_of_pairs_and_noc_cost_equal_the_loops(seed, tmp_path) -> None:
    prog = _program(seed, tmp_path)
    ids = [HOST, *range(prog.n_cores)]
    rng = np.random.default_rng(seed)
    a, b = rng.choice(ids, 50), rng.choice(ids, 50)
    got = prog.hops_of_pairs(a, b)
    assert got.shape == (50, 3)
    assert got.tolist() == [list(prog.hops(int(s), int(d))) for s, d in zip(a, b, strict=True)]
    every = prog.hops_between(ids, ids)
    assert every.shape == (len(ids), len(ids), 3)
    assert every.tolist() == [[list(prog.hops(s, d)) for d in ids] for s in ids]
    traffic = _traffic(prog, topology(prog.graph))
    assert traffic[0].size == len(prog.routes)  # one weight per route
    e = prog.chip.costs.energy_pj
    total = 0.0  # the per-route loop noc_cost was: the same float, not merely close
    for s, d, w in zip(*(v.tolist() for v in traffic), strict=True):
        ew, ns, ch = prog.hops(s, d)
        total += w * (ew * e["hop_ew"] + ns * e["hop_ns"] + ch * e["chip_hop"])
    assert noc_cost(prog, traffic) == total


def test_release_changes_nothing_and_can_be_called_often() -> None:
    x = np.arange(10**6)
    for _ in range(3):
        release()
    assert int(x.sum()) == 10**6 * (10**6 - 1) // 2
