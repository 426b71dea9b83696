"""The lowering conventions (staggered LIFReset offsets, DelayDense on a skip path, graded input,
readout neurons) hold in Lava itself: the compiled graph run by Lava's fixed_pt models equals
the float model under the latency convention."""

from __future__ import annotations

import numpy as np
import pytest

from snnc import ir
from snnc.passes import DEFAULT_PIPELINE, PassContext, PassManager, parse_pipeline
from snnc.passes.fidelity import run_aligned
from snnc.passes.qinputs import encode_inputs

pytestmark = pytest.mark.lava


def model() -> ir.Graph:
    nodes = {
        "in": ir.Input(shape=(4,)),
        "fc1": ir.Affine(weight=np.array([[0.5, -0.25, 1.0, 0.25], [0.25, 0.5, 0.5, -0.5],
                                          [0.75, 0.0, -0.25, 0.5]]), bias=np.full(3, 0.125)),
        "n1": ir.LIF(shape=(3,), decay_v=0.5, threshold=0.5),
        "fc2": ir.Linear(weight=np.array([[1.0, -0.5, 0.5], [0.5, 0.5, -0.25]])),
        "skip": ir.Linear(weight=np.array([[0.25, 0.25, 0.0, 0.0], [0.0, 0.0, 0.25, 0.25]])),
        "n2": ir.IF(shape=(2,), threshold=0.75, bias=np.array([0.0, -0.125])),
        "ro": ir.Affine(weight=np.array([[1.0, -1.0], [0.5, 0.5]]), bias=np.array([0.25, 0.0])),
        "out": ir.Output(shape=(2,))}
    edges = [("in", "fc1"), ("fc1", "n1"), ("n1", "fc2"), ("fc2", "n2"), ("in", "skip"),
             ("skip", "n2"), ("n2", "ro"), ("ro", "out")]
    return ir.Graph.build(nodes, edges)


def test_compiled_graph_runs_identically_in_lava() -> None:
    from snnc.backends.lava import run_lava

    g = model()
    x = np.random.default_rng(0).integers(0, 3, (10, 2, 4)).astype(np.float64)  # graded
    low = PassManager(parse_pipeline(DEFAULT_PIPELINE)).run(
        g, PassContext(calibration={"in": x})).graph
    assert low.nodes["skip"].delays is not None
    assert low.nodes["n1"].reset_interval > 0
    lat = max(low.metadata["loihi.latency"].values())
    stim = encode_inputs(low, {"in": x})["in"]
    probes = ["ro_readout.v", "n1.s", "n2.s"]
    lava = run_lava(low, stim, steps=len(x) + lat, probes=probes)
    runs = run_aligned(g, low, {"in": x}, layers=["n1", "n2"])
    depth = low.metadata["loihi.latency"]
    for n in ("n1", "n2"):
        assert np.array_equal(lava.probes[f"{n}.s"][depth[n]:depth[n] + len(x)],
                              runs.float_[f"{n}.s"])
    scale = low.metadata["loihi.readout"]["out"]["scale"]
    d = depth["out"]
    assert np.array_equal(lava.probes["ro_readout.v"][d:d + len(x)] * scale, runs.float_["out"])
