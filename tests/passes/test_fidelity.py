"""The fidelity report: latency alignment, readout values, near-threshold neurons."""

from __future__ import annotations

import numpy as np

from snnc import ir
from snnc.passes import DEFAULT_PIPELINE, PassContext, PassManager, parse_pipeline
from snnc.passes.fidelity import fidelity_report, run_aligned
from snnc.simulators.reference import simulate


def chain() -> ir.Graph:
    return ir.Graph.chain(
        ("in", ir.Input(shape=(2,))),
        ("fc1", ir.Linear(weight=np.array([[0.5, 0.0], [0.25, 0.25], [0.0, 0.125]]))),
        ("a", ir.IF(shape=(3,), threshold=np.array([1.0, 0.5, 4.0]))),
        ("fc2", ir.Linear(weight=np.array([[1.0, 0.5, 0.5], [-0.5, 1.0, 0.25]]))),
        ("b", ir.IF(shape=(2,), threshold=0.5)),
        ("fc3", ir.Affine(weight=np.array([[1.0, -1.0], [0.5, 0.5]]), bias=np.array([0.25, 0.0]))),
        ("out", ir.Output(shape=(2,))))


def lowered(g: ir.Graph, x: np.ndarray) -> ir.Graph:
    return PassManager(parse_pipeline(DEFAULT_PIPELINE)).run(
        g, PassContext(calibration={"in": x})).graph


def test_lowered_traces_are_cut_at_each_nodes_latency() -> None:
    g = chain()
    x = np.ones((6, 1, 2))
    low = lowered(g, x)
    assert dict(low.metadata["loihi.latency"]) == {"a": 1, "b": 2, "fc3_readout": 3, "in": 0,
                                                   "out": 3}
    raw = simulate(low, x, steps=9, probes=["a.s", "fc3_readout.v"])
    runs = run_aligned(g, low, x, layers=["a"])
    assert np.array_equal(runs.fixed["a.s"], raw.probes["a.s"][1:7])
    scale = low.metadata["loihi.readout"]["out"]["scale"]
    assert np.array_equal(runs.fixed["out"], raw.probes["fc3_readout.v"][3:9] * scale)
    assert np.array_equal(runs.fixed["out"], runs.float_["out"])  # values, not just spikes


def test_near_threshold_counts_neurons_that_came_within_one_lsb() -> None:
    g = chain()
    x = np.ones((6, 1, 2))  # a: v = 0.5 t (fires above 1), 0.5 t (at 0.5: ties), 0.125 t (never)
    rep = fidelity_report(g, lowered(g, x), x)
    rows = {r["layer"]: r for r in rep["layers"]}
    assert rows["a"]["near_threshold"] == 2 / 3
    assert rows["a"]["float_spikes"] == rows["a"]["fixed_spikes"] > 0
    assert rep["outputs"]["out"]["max_abs_error"] == 0.0
    assert rep["classification_agreement"] == 1.0
