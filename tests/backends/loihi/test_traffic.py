"""Traffic summaries made core by core against the whole (n_in, cores) count table.

``traffic.syn_traffic`` (the mapper's routes, NoC weights and fan-out split) and
``counting.syn_totals`` (the worst-case report) never hold ``pre_core_counts``' table of a
conv; here both are checked against sums of that table, and of the event simulator's counter
table ``syn_count``'s rows, on random programs split over many small cores.
"""

from __future__ import annotations

import numpy as np
import pytest
from loihi_chips import tiny_chip
from loihi_random import random_network

from snnc.backends.loihi.connectivity import Connectivity
from snnc.backends.loihi.mapper import map_graph
from snnc.backends.loihi.program import HOST
from snnc.backends.loihi.traffic import core_hits, program_traffic, syn_traffic
from snnc.simulators.event.counting import syn_count, syn_totals, synapse_pairs
from snnc.simulators.event.worst_case import worst_case_counters


@pytest.mark.parametrize("seed", range(10))
def test_syn_traffic_equals_sums_of_the_table(seed) -> None:
    net = random_network(np.random.default_rng([seed, 7]), "plain")
    rng = np.random.default_rng(seed)
    for name in net.synapses:
        conn = Connectivity(net.graph.nodes[name])
        k = int(rng.integers(1, 6))
        core = rng.integers(0, k, size=conn.n_out)
        src = rng.choice(np.array([HOST, 3, 5, 9]), size=conn.n_in)
        cnt = conn.pre_core_counts(core, k)
        got = dict(conn.core_columns(core, k))
        np.testing.assert_array_equal(np.stack([got[c] for c in range(k)], 1), cnt)
        tr = syn_traffic(conn, core, k, src)
        np.testing.assert_array_equal(tr.scores, np.unique(src))
        np.testing.assert_array_equal(tr.synapses, cnt.sum(0))
        np.testing.assert_array_equal(core_hits(conn, core, k).reach(conn.n_in),
                                      (cnt > 0).sum(1))
        want = np.stack([(cnt[src == s] > 0).sum(0) for s in tr.scores])
        np.testing.assert_array_equal(tr.messages, want)


@pytest.mark.parametrize("seed", range(8))
def test_worst_case_totals_equal_the_counter_tables_row_sums(seed, tmp_path) -> None:
    net = random_network(np.random.default_rng([seed, 11]), "plain", steps=8)
    prog = map_graph(net.graph, tiny_chip(tmp_path, neurons=3))
    pairs = dict(synapse_pairs(prog))
    traffic = program_traffic(prog, pairs)
    for s, (src, tgt) in pairs.items():
        full = syn_count(prog, s, src, tgt)
        sc, total = syn_totals(prog, s, src, tgt, traffic[s])
        np.testing.assert_array_equal(total, full.F.sum(0))
        np.testing.assert_array_equal(sc.scores, full.scores)
        np.testing.assert_array_equal(sc.tcores, full.tcores)
        assert (sc.field, sc.payload_bits) == (full.field, full.payload_bits)
        assert sc.F.shape == (0, full.F.shape[1])
    # and the whole worst case is the simulator's accounting of every row once per step
    c = worst_case_counters(prog, 5)
    assert c.syn_ops_dense.sum() + c.syn_ops_conv.sum() + c.syn_ops_sparse.sum() == 5 * sum(
        int(traffic[s].synapses.sum()) for s in pairs)


def test_the_random_programs_span_many_cores(tmp_path) -> None:
    cores = [map_graph(random_network(np.random.default_rng([seed, 11]), "plain", steps=8).graph,
                       tiny_chip(tmp_path, neurons=3)).n_cores for seed in range(8)]
    assert sum(c > 2 for c in cores) >= 5, cores


def test_the_mapper_remembers_the_final_programs_traffic(tmp_path) -> None:
    from snnc.backends.loihi.traffic import _KNOWN, traffic_of

    for seed in range(4):
        prog = map_graph(random_network(np.random.default_rng([seed, 13]), "plain").graph,
                         tiny_chip(tmp_path, neurons=3))
        assert id(prog) in _KNOWN  # kept by the mapper (placement moved cores, not neurons)
        pairs = dict(synapse_pairs(prog))
        got, fresh = traffic_of(prog, pairs), program_traffic(prog, pairs)
        for s in pairs:
            for f in ("scores", "synapses", "messages"):
                np.testing.assert_array_equal(getattr(got[s], f), getattr(fresh[s], f))


@pytest.mark.parametrize("seed", range(4))
def test_worst_case_in_windows_of_steps_equals_one_chunk(seed, tmp_path, monkeypatch) -> None:
    import snnc.simulators.event.worst_case as wc

    prog = map_graph(random_network(np.random.default_rng([seed, 11]), "plain", steps=8).graph,
                     tiny_chip(tmp_path, neurons=3))
    monkeypatch.setattr(wc, "WINDOW_BYTES", 10**12)  # one chunk of every step
    whole = wc.worst_case_counters(prog, 7)
    monkeypatch.setattr(wc, "WINDOW_BYTES", 1)  # one step at a time
    steps = wc.worst_case_counters(prog, 7)
    for f, v in vars(whole).items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(getattr(steps, f), v, err_msg=f)
    assert whole.per_sample is not None
    for f, v in whole.per_sample.events.items():
        np.testing.assert_array_equal(steps.per_sample.events[f], v, err_msg=f)
    np.testing.assert_array_equal(steps.per_sample.step_ns, whole.per_sample.step_ns)
    assert whole.syn_ops_dense.sum() + whole.syn_ops_sparse.sum() + whole.syn_ops_conv.sum() > 0
