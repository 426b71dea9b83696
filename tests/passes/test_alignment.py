"""Residual paths of different latency (SEW spike ADD, residual currents, spike OR) lower
exactly: synaptic delays on dense synapses, relay neurons in front of conv synapses.

As for the other lowering rules, random graphs with dyadic parameters (tests/residual_random.py)
are lowered and the lowered graph equals the float graph spike for spike under the latency
convention (``compare_graphs``); what was inserted is asserted from the pass reports.
"""

from __future__ import annotations

import numpy as np
import pytest
from residual_random import KINDS, random_residual, spikes

from snnc import ir
from snnc.errors import UnsupportedOpError
from snnc.passes import DEFAULT_PIPELINE, PassContext, PassManager, parse_pipeline
from snnc.passes.align import align_paths
from snnc.passes.fidelity import compare_graphs, fidelity_report
from snnc.passes.loihi_layers import normalize
from snnc.simulators.reference import simulate


def lower(g: ir.Graph, x: np.ndarray) -> tuple[ir.Graph, PassContext]:
    ctx = PassContext(calibration={g.inputs[0]: x}, programmable_neurons=True)
    return PassManager(parse_pipeline(DEFAULT_PIPELINE)).run(g, ctx).graph, ctx


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", range(5))
def test_residual_paths_lower_exactly(kind: str, seed: int) -> None:
    rng = np.random.default_rng([seed, 14, KINDS.index(kind)])
    g = random_residual(rng, kind)
    x = spikes(rng, g.nodes["in"].out_shape)
    low, _ = lower(g, x)
    cmp = compare_graphs(g, low, x)
    assert cmp.identical, cmp
    align = low.metadata.get("loihi.alignment", {"delays": {}, "relays": {}})
    if not all(n in low.nodes for n in ("b1", "b2")[:1 if kind == "current" else 2]):
        return  # prune removed a silent branch: the paths are of one length again
    if kind in ("dense", "sew_avgpool"):  # the shortcut's copy of the (dense) head synapse
        assert align["delays"]            # waits 2 steps itself; the pool folded into it
        assert not align["relays"]
        assert max(align["delays"].values()) == 2
        if kind == "sew_avgpool":
            assert not any(n.op in ("sumpool2d", "avgpool2d") for n in low.nodes.values())
    else:  # conv synapses cannot wait: relay neurons repeat the shortcut's spikes
        assert align["relays"]
        assert all(low.nodes[r].op == "loihi.lif" for rs in align["relays"].values() for r in rs)


def test_the_models_are_not_trivial() -> None:
    """The random residual networks spike in every layer on most seeds (else the exactness test
    above would compare silences)."""
    active = 0
    for seed in range(5):
        for kind in KINDS:
            rng = np.random.default_rng([seed, 14, KINDS.index(kind)])
            g = random_residual(rng, kind)
            x = spikes(rng, g.nodes["in"].out_shape)
            names = [n for n, v in g.nodes.items() if isinstance(v, ir.IF | ir.LIF)]
            res = simulate(g, x, probes=[f"{n}.s" for n in names])
            active += all(res.probes[f"{n}.s"].any() for n in names)
    assert active >= 12


def test_sew_block_relays_are_counted_and_reported() -> None:
    rng = np.random.default_rng([0, 14, 0])
    g = random_residual(rng, "sew")
    x = spikes(rng, g.nodes["in"].out_shape)
    low, ctx = lower(g, x)
    relays = ctx.last_report("quantize-loihi")["relays"]
    # y = b2 + stem: the copy of b3's conv reading stem waits 2 layers; z = b3 + b2 + stem
    assert len(relays["b3_conv_stem"]) == 2
    fid = fidelity_report(g, low, x)
    assert fid["alignment"]["relays"] == relays
    assert all(r["spike_agreement"] == 1.0 for r in fid["layers"])


def test_align_paths_is_a_no_op_on_aligned_graphs() -> None:
    g = normalize(ir.Graph.chain(
        ("in", ir.Input(shape=(1, 4, 4))),
        ("c", ir.Conv2d(input_shape=(1, 4, 4), weight=np.ones((2, 1, 3, 3)) / 4, padding=(1, 1))),
        ("n", ir.IF(shape=(2, 4, 4))), ("out", ir.Output(shape=(2, 4, 4)))))
    al = align_paths(g)
    assert al.graph is g
    assert al.relays == {}


def test_a_relay_cannot_repeat_an_analog_input() -> None:
    rng = np.random.default_rng(1)
    nodes = {"in": ir.Input(shape=(1, 4, 4)),
             "c1": ir.Conv2d(input_shape=(1, 4, 4), weight=np.full((1, 1, 1, 1), 0.5)),
             "n1": ir.IF(shape=(1, 4, 4), threshold=0.25),
             "c2": ir.Conv2d(input_shape=(1, 4, 4), weight=np.full((1, 1, 1, 1), 0.5)),
             "skip": ir.Conv2d(input_shape=(1, 4, 4), weight=np.full((1, 1, 1, 1), 0.25)),
             "n2": ir.IF(shape=(1, 4, 4), threshold=0.25), "out": ir.Output(shape=(1, 4, 4))}
    g = ir.Graph.build(nodes, [("in", "c1"), ("c1", "n1"), ("n1", "c2"), ("c2", "n2"),
                               ("in", "skip"), ("skip", "n2"), ("n2", "out")])
    x = rng.random((8, 2, 1, 4, 4))
    with pytest.raises(UnsupportedOpError, match=r"'skip' needs a delay of 1.*binary spikes"):
        lower(g, x)
