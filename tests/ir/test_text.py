"""The text form: exact golden output, lossless parsing, summary form, errors with line numbers."""

# ruff: noqa: E501  (the golden text has long node lines on purpose)
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from snnc import ir
from snnc.errors import FormatError
from snnc.ir.text import parse_graph, print_graph

GOLDEN = """\
graph {
  dt = 0.001
  metadata = {"source": "x.pt"}
  %in = input(shape=(3,)) : (3,) -> (3,)
  %fc1 = affine(weight=f64[2,3]{0.5, -1.0, 0.0, 0.1, 1e-05, 2.0}, bias=f64[2]{0.0, 0.25}) : (3,) -> (2,)
  %"lif 1" = lif(shape=(2,), gain=f64[]{1.0}, bias=f64[]{0.0}, v_init=f64[]{0.0}, threshold=f64[2]{1.0, inf}, comparator=">=", reset="subtract", v_reset=f64[]{0.0}, decay_reset=true, graded=false, decay_v=f64[]{0.75}) : (2,) -> (2,)
  %out = output(shape=(2,)) : (2,) -> (2,)
  %in -> %fc1
  %fc1 -> %"lif 1"
  %"lif 1" -> %out
}
"""


def _golden_graph():
    w = np.array([[0.5, -1.0, 0.0], [0.1, 1e-5, 2.0]])
    lif = ir.LIF(shape=(2,), decay_v=0.75, threshold=[1.0, np.inf], comparator=">=",
                 reset="subtract")
    return ir.Graph.chain(("in", ir.Input(shape=(3,))), ("fc1", ir.Affine(weight=w, bias=[0, 0.25])),
                          ("lif 1", lif), ("out", ir.Output(shape=(2,))),
                          dt=0.001).with_metadata(source="x.pt")


def test_golden_text():
    assert print_graph(_golden_graph()) == GOLDEN
    assert parse_graph(GOLDEN) == _golden_graph()


def test_floats_round_trip_exactly():
    values = [0.1, 1 / 3, -2.5e-300, 1e300, np.nextafter(1.0, 2.0), -0.0]
    g = ir.Graph.chain(("in", ir.Input(shape=(6,))), ("s", ir.Scale(shape=(6,), scale=values)))
    back = parse_graph(print_graph(g)).nodes["s"].scale
    assert back.tobytes() == np.array(values).tobytes()


def test_int_and_float_arrays_and_0d_keep_dtype_and_shape():
    g = ir.Graph.chain(("in", ir.Input(shape=(2,))),
                       ("d", ir.LoihiDense(weight=[[1, 2], [3, 4]], delays=2)),
                       ("n", ir.LoihiLIF(shape=(2,), du=[1, 2], dv=3, vth=10)))
    back = parse_graph(print_graph(g))
    assert back.nodes["d"].delays.shape == ()
    assert back.nodes["d"].delays.dtype == np.int64
    assert back.nodes["n"].du.shape == (2,)
    assert back == g


def test_summary_elides_and_is_not_parseable():
    w = np.arange(40.0).reshape(4, 10) / 8
    g = ir.Graph.chain(("in", ir.Input(shape=(10,))), ("fc", ir.Linear(weight=w)),
                       ("lif", ir.LIF(shape=(4,), decay_v=0.5)))
    text = print_graph(g, summary=True)
    assert "f64[4,10]{0.0..4.875}" in text
    assert "lif(shape=(4,), decay_v=0.5)" in text  # defaults left out, scalars plain
    with pytest.raises(FormatError, match="summary form"):
        parse_graph(text)


@pytest.mark.parametrize(("text", "match"), [
    ("graph {\n  %a = warp(shape=(1,))\n}", r"<text>:2: node %a: unknown op 'warp'"),
    ("graph {\n  dt = 1.0\n  %a = input()\n}", r":3: node %a \(input\) is missing field 'shape'"),
    ("graph {\n  %a = input(shape=(1,), colour=2)\n}", r":2: .*has no field 'colour'"),
    ("graph {\n  %a = input(shape=(1,)) : (2,) -> (2,)\n}", r":2: .*declared \(2,\) -> \(2,\)"),
    ("graph {\n  %a = input(shape=(1,))\n  %a = input(shape=(1,))\n}", r":3: node %a is defined"),
    ("graph {\n\n  %a -> %b\n}", r":1: graph does not verify: edge a -> b names a missing"),
    ("graph {\n  %s = scale(shape=(2,), scale=f64[3]{1.0, 2.0})\n}", r":2: array of shape"),
    ("graph {\n  %s = scale(shape=(2,), scale=f64[3]{1.0, 2.0, 3.0})\n}", r":2: node %s: scale"),
    ("graph {\n  %a = input(shape=(1,)) ?\n}", r":2: unexpected character '\?'"),
    ("graph {\n  %a = input(shape=(1,))\n", r":3: expected 'graph'|:3: expected"),
    ("graph {\n  %q = linear(weight=qtensor(mant=i64[1,1]{9}, scale=1.0, bits=2))\n}",
     r":2: bad qtensor: QTensor mantissa outside"),
])
def test_parse_errors_name_the_line(text, match):
    with pytest.raises(FormatError, match=match):
        parse_graph(text)


def test_cycle_without_state_is_a_parse_error():
    text = """graph {
      %a = scale(shape=(1,), scale=f64[]{1.0})
      %b = scale(shape=(1,), scale=f64[]{1.0})
      %a -> %b
      %b -> %a
    }"""
    with pytest.raises(FormatError, match="cycle without a stateful node"):
        parse_graph(text)


def test_comments_and_layout_are_free():
    text = "# a comment\ngraph{dt=none %a=input(shape=(2,))%b=output(shape=(2,)) %a->%b}"
    g = parse_graph(text)
    assert list(g.nodes) == ["a", "b"]
    assert g.edges == (("a", "b"),)
    assert g.dt is None


def test_unprintable_metadata_is_refused():
    g = _golden_graph().with_metadata(bad={1, 2})
    with pytest.raises(FormatError, match="JSON"):
        print_graph(g)


@given(st.lists(st.text(min_size=1, max_size=6), min_size=2, max_size=4, unique=True))
def test_any_node_names_round_trip(names):
    nodes = {n: ir.Scale(shape=(1,), scale=0.5) for n in names}
    g = ir.Graph.build(nodes, list(itertools.pairwise(names)))
    assert parse_graph(print_graph(g)) == g
