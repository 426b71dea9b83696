"""Connectivity against brute force: the synapse matrix recovered by feeding unit impulses."""

from __future__ import annotations

import numpy as np
import pytest
from loihi_random import random_network

from snnc.backends.loihi.connectivity import Connectivity
from snnc.simulators.kernels_float import conv_nd
from snnc.simulators.kernels_loihi import effective_dense_weights


def _matrix(node) -> np.ndarray:
    """(n_out, n_in) bool: non-zero effective synapses, by brute force."""
    if node.op == "loihi.dense":
        return effective_dense_weights(node.weight, node.num_weight_bits) != 0
    n_in = int(np.prod(node.in_shape))
    eye = np.eye(n_in).reshape(n_in, *node.in_shape)
    out = conv_nd(eye, (node.weight != 0).astype(float), node.stride, node.padding,
                  node.dilation, node.groups)
    return out.reshape(n_in, -1).T != 0


@pytest.mark.parametrize("seed", range(12))
def test_counts_match_brute_force(seed) -> None:
    net = random_network(np.random.default_rng([seed, 3]), "plain")
    rng = np.random.default_rng(seed)
    for name in net.synapses:
        node = net.graph.nodes[name]
        conn, m = Connectivity(node), _matrix(node)
        np.testing.assert_array_equal(conn.fanin_counts(), m.sum(1))
        rows = np.flatnonzero(rng.random(m.shape[0]) < 0.5)
        assert (conn.fanin(rows) >= m[rows].any(0)).all()  # conv: a superset is allowed
        if node.op == "loihi.dense":
            np.testing.assert_array_equal(conn.fanin(rows), m[rows].any(0))
        k = 3
        core = rng.integers(0, k, size=m.shape[0])
        want = np.stack([m[core == c].sum(0) for c in range(k)], axis=1)
        np.testing.assert_array_equal(conn.pre_core_counts(core, k), want)
