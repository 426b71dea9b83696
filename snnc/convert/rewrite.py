"""The ANN graph -> SNN graph rewrite: every activation becomes an integrate-and-fire neuron.

An activation ``A`` with threshold theta (input units) becomes

    A      if(threshold=theta, comparator='>=', reset='subtract', v_init=v0 * theta)
    A.out  scale(out)                       each spike carries out (theta; step * L for qcfs)

so that the spike rate times ``out`` approximates the activation. v0 (in thresholds) is 0
(threshold balancing, as SpikingJelly), 1/2 with OPI (optimal potential initialisation, Bu et al.
2022), and the QCFS shift (1/2) for ``qcfs``, where the spike count over T = L steps equals the
ANN's quantized level exactly for a constant input. This is SpikingJelly's
``VoltageScaler(1/theta) -> IFNode(v_threshold=1, v_reset=None) -> VoltageScaler(theta)`` with
the potential measured in input units instead of thresholds (v_snnc = theta * v_sj): the same
spikes in exact arithmetic, and when the weights, biases, inputs and thresholds are dyadic every
parameter of the chip layer stays dyadic (W * theta_prev, theta), so the Loihi lowering is exact;
a ``scale(1/theta)`` before the neuron would put 1/theta, rarely dyadic, into every weight.
Everything else (layers, pooling, BN) is kept; the usual passes fold BN and the output scales
into the next weights later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UnsupportedOpError
from ..ir import IF, Graph, Scale
from .calibrate import activation_nodes


@dataclass(frozen=True)
class Layer:
    """One converted activation: its threshold (input units), output per spike and v0."""

    name: str
    op: str
    threshold: np.ndarray
    out: np.ndarray
    v_init: np.ndarray


def plan(graph: Graph, thresholds: dict[str, float], opi: bool) -> list[Layer]:
    """Threshold, spike value and initial potential of every activation."""
    layers = []
    for name in activation_nodes(graph):
        node = graph.nodes[name]
        if node.op == "qcfs":
            layers.append(Layer(name, "qcfs", np.asarray(node.threshold),
                                np.asarray(node.step * node.levels), np.asarray(node.floor_offset)))
            continue
        if node.op == "clip" and np.any(node.lo != 0):
            raise UnsupportedOpError(
                f"node {name!r} (clip to [{node.lo}, {node.hi}]): an integrate-and-fire neuron "
                "has no negative rates, so only clips from 0 (ReLU, ReLU6, clamp(0, x)) convert")
        theta = float(thresholds[name])
        if not theta > 0:
            raise UnsupportedOpError(
                f"node {name!r}: its calibrated threshold is {theta} (the activation never "
                "becomes positive on the calibration data); use other data or mode 'max'")
        v0 = 0.5 if opi else 0.0
        layers.append(Layer(name, node.op, np.asarray(theta), np.asarray(theta), np.asarray(v0)))
    return layers


def _check_maxpool(graph: Graph, maxpool: str) -> None:
    pools = [n for n, node in graph.nodes.items() if node.op == "maxpool2d"]
    if pools and maxpool != "spike":
        raise UnsupportedOpError(
            f"max pooling ({', '.join(pools)}) does not convert: the max of spike trains is not "
            "the spike train of the max, so rates come out too high. Replace it by average "
            "pooling and retrain (what SpikingJelly's converter documents), or pass "
            "--maxpool spike to pool the spikes (an OR over the window on binary spikes, which "
            "overestimates the rate)")


def to_snn(graph: Graph, layers: list[Layer], maxpool: str = "refuse") -> Graph:
    """The SNN graph: each planned activation replaced as the module docstring says."""
    _check_maxpool(graph, maxpool)
    ed = graph.edit()
    for lay in layers:
        shape = graph.nodes[lay.name].shape
        preds, succs = graph.predecessors(lay.name), graph.successors(lay.name)
        ed.remove(lay.name)
        post = ed.fresh_name(f"{lay.name}.out")
        ed.add(lay.name, IF(shape=shape, threshold=lay.threshold, comparator=">=",
                            reset="subtract", v_init=lay.v_init * lay.threshold))
        ed.add(post, Scale(shape=shape, scale=lay.out))
        for p in preds:
            ed.connect(p, lay.name)
        ed.connect(lay.name, post)
        for s in succs:
            ed.connect(post, s)
    meta = dict(graph.metadata)
    meta["converted"] = {lay.name: {"op": lay.op, "threshold": lay.threshold.tolist(),
                                    "spike_value": lay.out.tolist(),
                                    "v_init": lay.v_init.tolist()} for lay in layers}
    ed.metadata = meta
    return ed.finish()
