"""Counters against counts made by hand from the weights, the mapping and the spikes."""

from __future__ import annotations

import numpy as np
from loihi_chips import tiny_chip
from loihi_random import random_network

from snnc.backends.loihi.connectivity import Connectivity
from snnc.backends.loihi.mapper import map_graph
from snnc.backends.loihi.program import HOST
from snnc.simulators.event import Counters, simulate


def _net(seed: int):
    for k in range(50):
        net = random_network(np.random.default_rng([seed, k]), "plain", steps=20)
        if all(net.graph.nodes[s].op == "loihi.dense" for s in net.synapses):
            return net
    raise AssertionError("no dense-only network drawn")


def test_synaptic_ops_messages_and_hops_match_hand_counts(tmp_path) -> None:
    net = _net(1)
    prog = map_graph(net.graph, tiny_chip(tmp_path, neurons=3))
    res = simulate(prog, net.stimulus, probes=[f"{n}.s" for n in net.neurons])
    c = res.counters
    syn_ops = np.zeros_like(c.syn_ops)
    axon_in = np.zeros_like(c.axon_in)
    hops_ew = np.zeros_like(c.hops_ew)
    host_out = np.zeros_like(c.host_axon_out)
    for syn in net.synapses:
        src = prog.graph.predecessors(syn)[0]
        while prog.graph.nodes[src].op in ("flatten", "reshape"):
            src = prog.graph.predecessors(src)[0]
        tgt = prog.graph.successors(syn)[0]
        x = net.stimulus if src == "x" else res.probes[f"{src}.s"]
        x = (x.reshape(x.shape[0], -1) != 0)
        nz = Connectivity(prog.graph.nodes[syn]).nonzero  # (out, in)
        owner = prog.core_of_neuron(tgt)
        src_core = prog.core_of_neuron(src) if src in prog.layers else np.full(nz.shape[1], HOST)
        for t in range(x.shape[0]):
            for i in np.flatnonzero(x[t]):
                for core in np.unique(owner[nz[:, i]]):
                    n = int(nz[owner == core, i].sum())
                    syn_ops[t, core] += n
                    axon_in[t, core] += 1
                    ew = prog.hops(int(src_core[i]), int(core))[0]
                    if src_core[i] == HOST:
                        host_out[t] += 1
                    else:
                        hops_ew[t, src_core[i]] += ew
    np.testing.assert_array_equal(c.syn_ops, syn_ops)
    np.testing.assert_array_equal(c.axon_in, axon_in)
    np.testing.assert_array_equal(c.hops_ew, hops_ew)
    np.testing.assert_array_equal(c.host_axon_out, host_out)
    np.testing.assert_array_equal(c.axon_out.sum(1) + c.host_axon_out, c.axon_in.sum(1))


def test_neuron_counts_and_times_are_consistent(tmp_path) -> None:
    net = random_network(np.random.default_rng(8), "plain", steps=20)
    x = np.repeat(net.stimulus, 3, axis=1)
    prog = map_graph(net.graph, tiny_chip(tmp_path, neurons=4))
    res = simulate(prog, x, probes=[f"{n}.s" for n in net.neurons])
    c = res.counters
    neurons = np.array([core.neurons for core in prog.cores])
    np.testing.assert_array_equal(c.neurons_active + c.neurons_inactive,
                                  np.broadcast_to(3 * neurons, c.neurons_active.shape))
    spikes = sum(res.probes[f"{n}.s"].sum() for n in net.neurons)
    assert c.spikes_out.sum() == spikes
    assert c.n_samples == 3
    t = prog.chip.costs.time_ns
    assert (c.step_ns >= c.core_ns.max(1) + c.barrier_ns - 1e-9).all()
    idle = (c.neurons_inactive * t["neuron_inactive"]).sum() / 3
    assert c.core_ns.sum() >= idle


def test_counters_save_and_load(tmp_path) -> None:
    net = random_network(np.random.default_rng(2), "plain", steps=10)
    c = simulate(map_graph(net.graph, tiny_chip(tmp_path)), net.stimulus).counters
    for suffix in (".json", ".npz"):
        path = c.save(tmp_path / f"c{suffix}")
        back = Counters.load(path)
        for f in ("syn_ops_dense", "axon_out", "step_ns", "core_ns"):
            np.testing.assert_array_equal(getattr(back, f), getattr(c, f))
        assert back.core_layer == c.core_layer
        assert back.chip == c.chip
    assert c.to_dict()["units"]["step_ns"].startswith("ns")
