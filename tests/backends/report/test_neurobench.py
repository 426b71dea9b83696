"""snnc's NeuroBench metrics: by hand on tiny graphs, and against NeuroBench 2.3.0 itself."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from snnc import ir
from snnc.backends.report.graphstats import fanout
from snnc.backends.report.neurobench import neurobench_metrics
from snnc.stages.measure import record_float as record


def _tiny_graph() -> ir.Graph:
    w = np.array([[1.0, 0.0, 0.5], [0.0, 0.0, -2.0]])  # input 0 -> 1 weight, 1 -> 0, 2 -> 2
    return ir.Graph.chain(("x", ir.Input(shape=(3,))),
                          ("fc", ir.Affine(weight=w, bias=np.array([0.25, 0.0]))),
                          ("lif", ir.LIF(shape=(2,), decay_v=np.array(0.5),
                                         threshold=np.array(1.0))),
                          ("y", ir.Output(shape=(2,))))


def test_synaptic_ops_sparsity_and_updates_by_hand() -> None:
    g = _tiny_graph()
    x = np.zeros((4, 2, 3))
    x[0, 0] = [1, 1, 0]  # spiking step: 1 + 0 = 1 op in sample 0
    x[1, 1] = [0, 0, 1]  # spiking: 2 ops
    x[2, 0] = [0.5, 0, 0]  # analog step: 1 MAC
    probes = record(g, x)
    m = neurobench_metrics(g, probes)
    syn = m["synaptic_operations"]
    assert syn == {"Effective_MACs": 1 / 2, "Effective_ACs": 3 / 2, "Dense": 6 * 4 * 2 / 2}
    s = probes["lif.s"]
    assert m["activation_sparsity"] == 1 - np.count_nonzero(s) / s.size
    v = probes["lif.v"]
    assert m["membrane_updates"] == (2 * 2 + np.count_nonzero(v[1:] != v[:-1])) / 2
    assert m["parameter_count"] == 6 + 2
    assert m["footprint_bytes"] == 8 * 4
    assert m["connection_sparsity"] == round(3 / 6, 4)


def _brute_fanout(w: np.ndarray, in_shape, stride, padding, dilation, groups) -> np.ndarray:
    _, h, wd = in_shape
    cout, cpg, kh, kw = w.shape
    opg = cout // groups
    oh = (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    cnt = np.zeros(in_shape, np.int64)
    for co, oy, ox, ci, ky, kx in itertools.product(range(cout), range(oh), range(ow),
                                                    range(cpg), range(kh), range(kw)):
        iy = oy * stride[0] - padding[0] + ky * dilation[0]
        ix = ox * stride[1] - padding[1] + kx * dilation[1]
        if 0 <= iy < h and 0 <= ix < wd and w[co, ci, ky, kx] != 0:
            cnt[(co // opg) * cpg + ci, iy, ix] += 1
    return cnt.ravel()


@pytest.mark.parametrize("seed", range(4))
def test_conv_fanout_matches_brute_force(seed) -> None:
    rng = np.random.default_rng(seed)
    groups = int(rng.choice([1, 2]))
    cin, cout = 2 * groups, 2 * groups
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    w = rng.integers(-1, 2, (cout, cin // groups, *k)).astype(np.float64)
    stride = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    padding = (int(rng.integers(0, 2)), int(rng.integers(0, 2)))
    dilation = (int(rng.integers(1, 3)), 1)
    in_shape = (cin, 6, 5)
    node = ir.Conv2d(input_shape=in_shape, weight=w, stride=stride, padding=padding,
                     dilation=dilation, groups=groups)
    want = _brute_fanout(w, in_shape, stride, padding, dilation, groups)
    np.testing.assert_array_equal(fanout(node), want)
    ones = _brute_fanout(np.ones_like(w), in_shape, stride, padding, dilation, groups)
    np.testing.assert_array_equal(fanout(node, all_ones=True), ones)


def test_conv1d_fanout_is_a_one_row_conv2d() -> None:
    w = np.array([[[1.0, 0.0, 2.0]], [[0.0, 3.0, 0.0]]])  # (2, 1, 3)
    node = ir.Conv1d(input_shape=(1, 5), weight=w, padding=(1,))
    want = _brute_fanout(w[:, :, None, :], (1, 1, 5), (1, 1), (0, 1), (1, 1), 1)
    np.testing.assert_array_equal(fanout(node), want)
