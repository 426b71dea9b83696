"""The registry-wide differential test: every registered pass against the reference simulator.

For each pass, random graphs that satisfy its ``requires`` (``strategies_passes.STRATEGIES``,
after the prelude passes the case names) run on the reference simulator before and after:

- EXACT passes: bit-identical outputs (spikes and values) on the same stimuli;
- APPROXIMATE (quantize-loihi): the strategy draws models trained on the grid, for which the
  stated metric is "fixed point equals float": the graph quantized *and lowered* is compared
  with the float graph under the latency convention (passes/fidelity.py) and must be identical;
- LOWERING (lower-loihi): the lowered graph against the float graph before quantization, with
  the latency convention: identical.

A meta-test fails when a registered pass has no strategy.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from passes.strategies_passes import STRATEGIES, Case
from strategies import float_graphs

from snnc.ir import Graph
from snnc.passes import (
    FLOAT_PIPELINE,
    PassContext,
    PassManager,
    Semantics,
    default_registry,
    parse_pipeline,
)
from snnc.passes.fidelity import compare_graphs
from snnc.simulators.reference import simulate

REGISTRY = default_registry()
EXAMPLES = int(os.environ.get("SNNC_PASS_EXAMPLES", "40"))  # raise it for a longer hunt


@pytest.mark.parametrize("name", REGISTRY.names())
def test_every_registered_pass_has_a_graph_strategy(name: str) -> None:
    assert name in STRATEGIES, f"pass {name!r} has no strategy in tests/passes/strategies_passes"


def _prelude(case: Case) -> tuple[Graph, PassContext]:
    ctx = PassContext(calibration=case.inputs)
    if not case.prelude:
        return case.graph, ctx
    return PassManager(parse_pipeline(",".join(case.prelude))).run(case.graph, ctx).graph, ctx


def _assert_identical(before: Graph, after: Graph, case: Case) -> None:
    a = simulate(before, case.inputs)
    b = simulate(after, case.inputs)
    assert sorted(a.outputs) == sorted(b.outputs)
    for name, x in a.outputs.items():
        assert x.shape == b.outputs[name].shape
        diff = (x != b.outputs[name]).reshape(x.shape[0], -1).any(1)
        assert not diff.any(), f"output {name!r} differs first at step {int(diff.argmax())}"


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_pass_keeps_its_semantics(name: str, data: st.DataObject) -> None:
    case = data.draw(STRATEGIES[name])
    graph, ctx = _prelude(case)
    p = REGISTRY.get(name)()
    after = PassManager([p]).run(graph, ctx).graph
    kind = p.effective_semantics()
    if kind is Semantics.EXACT:
        _assert_identical(graph, after, case)
        return
    if kind is Semantics.APPROXIMATE:
        lowered = PassManager(parse_pipeline("lower-loihi")).run(after, ctx).graph
        cmp = compare_graphs(graph, lowered, case.inputs)
    else:
        cmp = compare_graphs(case.graph, after, case.inputs)
    assert cmp.identical, cmp.first_difference


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=float_graphs())
def test_float_pipeline_accepts_every_float_graph(graph: Graph) -> None:
    """Robustness: the float pipeline never fails on the general strategies of tests/strategies
    (every op, nested graphs, soft resets, delays, ...), and keeps the outputs' shapes (values
    are checked on exact-friendly graphs above: here BN and pool factors are not dyadic)."""
    out = PassManager(parse_pipeline(FLOAT_PIPELINE)).run(graph).graph
    x = np.random.default_rng(0).random((4, 2, *graph.nodes[graph.inputs[0]].out_shape))
    a, b = simulate(graph, x).outputs, simulate(out, x).outputs
    assert {k: v.shape for k, v in a.items()} == {k: v.shape for k, v in b.items()}
