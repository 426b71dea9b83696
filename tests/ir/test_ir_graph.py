"""Graph verification (dangling edges, shapes, cycles), schedule, editor and subgraph inlining."""

from __future__ import annotations

import numpy as np
import pytest

from snnc import ir
from snnc.errors import IRError


def _s(n=2):
    return ir.Scale(shape=(n,), scale=1.0)


def test_dangling_edge():
    with pytest.raises(IRError, match="names a missing node 'ghost'"):
        ir.Graph.build({"a": _s()}, [("a", "ghost")])


def test_shape_mismatch_names_the_edge():
    with pytest.raises(IRError, match=r"shape mismatch on edge a -> b: a \(scale\) gives \(2,\)"):
        ir.Graph.build({"a": _s(2), "b": _s(3)}, [("a", "b")])


def test_cycle_without_state():
    with pytest.raises(IRError, match="cycle without a stateful node"):
        ir.Graph.build({"a": _s(), "b": _s()}, [("a", "b"), ("b", "a")])


def test_cycle_through_neuron_is_scheduled_with_a_delayed_edge():
    g = ir.Graph.build({"in": ir.Input(shape=(2,)), "lif": ir.LIF(shape=(2,)),
                        "w": ir.Linear(weight=np.eye(2))},
                       [("in", "lif"), ("lif", "w"), ("w", "lif")])
    sched = g.schedule()
    assert sched.delayed == {("lif", "w")}  # w reads the neuron's previous output
    pos = {n: i for i, n in enumerate(sched.order)}
    assert all(pos[a] < pos[b] for a, b in g.edges if (a, b) not in sched.delayed)


@pytest.mark.parametrize(("edges", "match"), [
    ([("a", "in")], "enters an input node"),
    ([("out", "a")], "leaves an output node"),
    ([("in", "a"), ("in", "a")], "duplicate edge"),
])
def test_io_rules(edges, match):
    nodes = {"in": ir.Input(shape=(2,)), "a": _s(), "out": ir.Output(shape=(2,))}
    with pytest.raises(IRError, match=match):
        ir.Graph.build(nodes, edges)


def test_editor_builds_new_verified_graphs():
    g = ir.Graph.chain(("in", ir.Input(shape=(2,))), ("a", _s()), ("out", ir.Output(shape=(2,))))
    h = g.edit().insert_after("a", "b", _s()).finish()
    assert ("a", "b") in h.edges
    assert ("b", "out") in h.edges
    assert ("a", "out") not in h.edges
    assert g.edit().bypass("a").finish().edges == (("in", "out"),)
    with pytest.raises(IRError, match="shape mismatch"):
        g.edit().replace("a", ir.Scale(shape=(3,), scale=1.0)).finish()
    assert g.edit().finish() == g  # the original is untouched


def test_flatten_subgraphs_prefixes_inner_names():
    inner = ir.Graph.chain(("i", ir.Input(shape=(2,))), ("n", ir.LIF(shape=(2,))),
                           ("o", ir.Output(shape=(2,))))
    g = ir.Graph.chain(("in", ir.Input(shape=(2,))), ("sub", ir.Subgraph(graph=inner)),
                       ("out", ir.Output(shape=(2,))))
    flat = ir.flatten_subgraphs(g)
    assert list(flat.nodes) == ["in", "sub.n", "out"]
    assert sorted(flat.edges) == [("in", "sub.n"), ("sub.n", "out")]
