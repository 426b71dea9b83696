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


def _conv_fanin_loops(node, rows) -> np.ndarray:
    """The conv fan-in the mapper sizes cores by, written as plain loops: per group of the
    rows' output channels, every input channel one of those channels reads (non-zero tap)
    at every input pixel one of the rows' positions reads through a tap one of them uses."""
    cin, h, w = node.in_shape
    cout, oh, ow = node.out_shape
    g = node.groups
    cpg, opg = cin // g, cout // g
    nz = node.weight != 0
    out = np.zeros((cin, h, w), bool)
    for grp in range(g):
        mine = [r for r in rows if r // (oh * ow) // opg == grp]
        if not mine:
            continue
        chans_out = {r // (oh * ow) for r in mine}
        chans = {grp * cpg + ci for co in chans_out for ci in range(cpg) if nz[co, ci].any()}
        taps = {(ky, kx) for co in chans_out for ky in range(nz.shape[2])
                for kx in range(nz.shape[3]) if nz[co, :, ky, kx].any()}
        pix = set()
        for r in mine:
            oy, ox = divmod(r % (oh * ow), ow)
            for ky, kx in taps:
                iy = oy * node.stride[0] - node.padding[0] + ky * node.dilation[0]
                ix = ox * node.stride[1] - node.padding[1] + kx * node.dilation[1]
                if 0 <= iy < h and 0 <= ix < w:
                    pix.add((iy, ix))
        for c in chans:
            for iy, ix in pix:
                out[c, iy, ix] = True
    return out.ravel()


@pytest.mark.parametrize("seed", range(12))
def test_conv_fanin_equals_the_loop_definition(seed) -> None:
    net = random_network(np.random.default_rng([seed, 3]), "plain")
    rng = np.random.default_rng([seed, 9])
    for name in net.synapses:
        node = net.graph.nodes[name]
        if node.op != "loihi.conv":
            continue
        conn = Connectivity(node)
        for frac in (0.05, 0.5, 1.0):
            rows = np.flatnonzero(rng.random(conn.n_out) < frac)
            np.testing.assert_array_equal(conn.fanin(rows), _conv_fanin_loops(node, rows))
        a = int(rng.integers(0, conn.n_out))  # a contiguous range, as the partitioner asks
        rows = np.arange(a, min(conn.n_out, a + int(rng.integers(1, 64))))
        np.testing.assert_array_equal(conn.fanin(rows), _conv_fanin_loops(node, rows))


@pytest.mark.parametrize("seed", range(12))
def test_core_counts_of_hwc_ranges_match_brute_force(seed, monkeypatch) -> None:
    """Cores holding ranges of hwc mapping positions (as the partitioner makes them) take the
    per-channel-set route of ``_conv_core``; random assignments mostly the per-channel one:
    both against brute force, and both routes taken."""
    routes = {"channels": 0}
    per_channel = Connectivity._conv_channels

    def counted(self, *a):
        routes["channels"] += 1
        return per_channel(self, *a)

    monkeypatch.setattr(Connectivity, "_conv_channels", counted)
    rng = np.random.default_rng([seed, 5])
    convs = 0
    while convs < 2:
        net = random_network(rng, "plain")
        for name in net.synapses:
            node = net.graph.nodes[name]
            if node.op != "loihi.conv":
                continue
            convs += 1
            conn, m = Connectivity(node), _matrix(node)
            c, oh, ow = node.out_shape
            hwc = np.arange(c * oh * ow).reshape(c, oh, ow).transpose(1, 2, 0).ravel()
            k = int(rng.integers(1, 7))
            cuts = np.sort(rng.choice(np.arange(1, hwc.size), size=min(k, hwc.size) - 1,
                                      replace=False)) if hwc.size > 1 else []
            core = np.empty(hwc.size, np.int64)
            for i, part in enumerate(np.split(hwc, cuts)):
                core[part] = i
            k = len(cuts) + 1
            before = routes["channels"]
            want = np.stack([m[core == i].sum(0) for i in range(k)], axis=1)
            np.testing.assert_array_equal(conn.pre_core_counts(core, k), want)
            assert routes["channels"] == before  # every hwc core: at most its channels' sets
            rand = rng.integers(0, 2, size=core.size)
            want = np.stack([m[rand == i].sum(0) for i in range(2)], axis=1)
            np.testing.assert_array_equal(conn.pre_core_counts(rand, 2), want)


def test_scattered_cores_take_the_per_channel_route(monkeypatch) -> None:
    from snnc import ir

    rng = np.random.default_rng(4)
    node = ir.LoihiConv(input_shape=(4, 7, 6), weight=rng.integers(-2, 3, size=(6, 2, 3, 3)),
                        padding=(1, 0), stride=(2, 1), dilation=(1, 2), groups=2)
    calls = []
    per_channel = Connectivity._conv_channels
    monkeypatch.setattr(Connectivity, "_conv_channels",
                        lambda self, *a: calls.append(1) or per_channel(self, *a))
    m = _matrix(node)
    core = rng.integers(0, 3, size=m.shape[0])
    want = np.stack([m[core == i].sum(0) for i in range(3)], axis=1)
    np.testing.assert_array_equal(Connectivity(node).pre_core_counts(core, 3), want)
    assert calls  # at least one core had more channel sets than channels


@pytest.mark.parametrize("sign", ["exc", "inh", "mixed"])
def test_blockwise_nonzero_equals_the_effective_weights(sign) -> None:
    """The mapper's dense pattern, made a few rows at a time with the whole matrix's sign mode,
    equals the non-zeros of the effective weights (including the LSBs a low weight-bit count
    drops, and rows whose own signs would pick another mode)."""
    from snnc.ir.weights import effective_dense_nonzero, effective_dense_weights

    rng = np.random.default_rng(len(sign))
    lo, hi = {"exc": (0, 300), "inh": (-300, 1), "mixed": (-300, 300)}[sign]
    w = rng.integers(lo, hi, size=(37, 11))
    if sign == "mixed":
        w[:20] = np.abs(w[:20])  # the first blocks alone would look excitatory
    for bits in (1, 3, 8):
        want = effective_dense_weights(w, bits) != 0
        np.testing.assert_array_equal(effective_dense_nonzero(w, bits, block_bytes=8 * 11 * 4),
                                      want)


def test_dense_counts_of_sorted_cores_with_an_empty_one() -> None:
    from snnc import ir

    rng = np.random.default_rng(9)
    node = ir.LoihiDense(weight=rng.integers(-3, 4, size=(10, 6)))
    m = _matrix(node)
    core = np.array([0, 0, 0, 2, 2, 3, 3, 3, 3, 3])  # core 1 holds nothing
    want = np.stack([m[core == i].sum(0) for i in range(5)], axis=1)
    got = Connectivity(node).pre_core_counts(core, 5)
    np.testing.assert_array_equal(got, want)
    assert not got[:, 1].any()
    assert not got[:, 4].any()
