"""The per-step latency pipeline (backends/report/latency.py) against sums made by hand.

Two cores, two steps, two samples (counts are summed over samples, so each count below is twice
the per-sample count), under a table model whose times are powers of two: syn op 2 ns, active
neuron 4, inactive 1, spike out 8, axon out 16, axon in 32; barrier 100 ns; [system] x86
1000 ns per step and 8 ns per input message.

Step 0, per sample: core 0 does 3 dense syn ops (6 ns), 1 active + 2 inactive updates (6 ns),
1 spike and 1 message out (24 ns) = 36 ns; core 1 does 1 sparse syn op (2), 1 inactive update
(1), 1 message in (32) = 35 ns; the host writes 2 input messages (16 ns); the NoC takes 10 ns.
Step 1: each core updates 1 inactive neuron (1 ns); nothing else.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from snnc.backends.loihi.chips import load_chip
from snnc.backends.report.energy import load_model
from snnc.backends.report.latency import CORE_STAGES, latency
from snnc.simulators.event.counters import Counters

TNS = {"syn_op_dense": 2.0, "syn_op_sparse": 2.0, "syn_op_conv": 2.0, "neuron_active": 4.0,
       "neuron_inactive": 1.0, "spike_out": 8.0, "axon_out": 16.0, "axon_in": 32.0,
       "hop_ew": 64.0, "hop_ns": 128.0, "chip_hop": 256.0}


def _model(tmp_path, system: bool = True):
    file = tmp_path / f"lat-{system}.toml"
    tab = "\n".join(f"{k} = {v}" for k, v in TNS.items())
    lines = ['name = "hand-lat"', 'source = "test"', 'costs = "table"', "[energy_pj]", tab,
             "[time_ns]", tab, "[barrier_ns]", "tiles = [1, 32]", "ns = [100.0, 100.0]",
             "[static]", 'source = "t"']
    if system:
        lines += ["[system]", "input_msg_ns = 8.0", "[system.step_ns]", "x86 = 1000.0"]
    file.write_text("\n".join(lines) + "\n")
    return load_model(file, load_chip("loihi1"))


def _counters() -> Counters:
    c = Counters.zeros(2, 2, 2, 100.0, "loihi1", ["a", "b"], [0, 0])
    c.syn_ops_dense[0, 0] = 6
    c.neurons_active[0, 0] = 2
    c.neurons_inactive[:] = [[4, 2], [2, 2]]
    c.spikes_out[0, 0] = 2
    c.axon_out[0, 0] = 2
    c.syn_ops_sparse[0, 1] = 2
    c.axon_in[0, 1] = 2
    c.host_axon_out[0] = 4
    c.noc_ns[:] = [10.0, 0.0]
    return c


def test_every_term_by_hand(tmp_path) -> None:
    summed = dataclasses.replace(_model(tmp_path), core_overlap=False)  # a chip that sums them
    lat = latency(_counters(), summed, n_tiles=1, n_chips=1)
    np.testing.assert_allclose(lat.core_ns, [[36.0, 35.0], [1.0, 1.0]])
    np.testing.assert_allclose(lat.compute_ns, [36.0, 1.0])
    np.testing.assert_allclose(lat.step_ns, [36 + 10 + 100 + 1000 + 16, 1 + 100 + 1000])
    st = lat.core_stages
    np.testing.assert_allclose(st["synapse"], [[6.0, 2.0], [0.0, 0.0]])
    np.testing.assert_allclose(st["neuron"], [[6.0, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(st["spike_out"], [[24.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(st["axon_in"], [[0.0, 32.0], [0.0, 0.0]])
    np.testing.assert_allclose(sum(st.values()), lat.core_ns)  # the stages add up
    p = lat.pipeline()
    assert p["bottleneck_core"] == 0
    assert p["bottleneck_core_stages_ns"] == pytest.approx(
        {"synapse": 3.0, "neuron": 3.5, "spike_out": 12.0, "axon_in": 0.0, "learning": 0.0})
    assert p["slowest_core_share"] == pytest.approx((36 / 1162 + 1 / 1101) / 2)
    assert p["system_ns"] == pytest.approx({"management": 1000.0, "input": 8.0})
    assert lat.stages_ns() == pytest.approx({"cores": 18.5, "noc": 5.0, "barrier": 100.0,
                                             "system": 1008.0})


def test_overlapped_core_takes_the_larger_part_by_hand(tmp_path) -> None:
    """Loihi 1 (``core_overlap``): a core's own-neuron stages and its incoming-message stages
    run concurrently. Step 0, per sample: core 0 own = neuron 6 + spike out 24 = 30 ns,
    incoming = synapse 6 + axon in 0 = 6 ns -> 30 ns (summed: 36); core 1 own = 1, incoming =
    2 + 32 = 34 -> 34 ns (summed: 35). Step 1: own 1, incoming 0 -> 1 ns on each core."""
    model = _model(tmp_path)
    assert model.core_overlap  # from the loihi1 chip file
    lat = latency(_counters(), model, n_tiles=1, n_chips=1)
    np.testing.assert_allclose(lat.core_ns, [[30.0, 34.0], [1.0, 1.0]])
    np.testing.assert_allclose(lat.compute_ns, [34.0, 1.0])
    np.testing.assert_allclose(lat.step_ns, [34 + 10 + 100 + 1000 + 16, 1 + 100 + 1000])
    chip = load_chip("loihi1").costs
    assert chip.core_time(30.0, 6.0) == 30.0
    assert chip.core_time(0.0, 0.0) == 0.0
    assert load_chip("loihi2").costs.core_time(30.0, 6.0) == 36.0  # Loihi 2 keeps the sum


STAGE_FIELDS = {"synapse": ("syn_ops_dense", "syn_ops_sparse"),
                "neuron": ("neurons_active", "neurons_inactive"),
                "spike_out": ("spikes_out", "axon_out"), "axon_in": ("axon_in",)}


@pytest.mark.parametrize("stage", sorted(STAGE_FIELDS))
def test_each_stage_is_zero_without_its_events(tmp_path, stage: str) -> None:
    model = _model(tmp_path)
    busy = latency(_counters(), model, 1, 1).core_stages
    assert busy[stage].sum() > 0
    idle = _counters()
    for f in STAGE_FIELDS[stage]:
        getattr(idle, f)[:] = 0
    got = latency(idle, model, 1, 1).core_stages
    assert got[stage].sum() == 0.0
    for other in set(CORE_STAGES) - {stage, "learning"}:
        np.testing.assert_allclose(got[other], busy[other])


def test_no_activity_leaves_barrier_and_management_only(tmp_path) -> None:
    zero = Counters.zeros(3, 2, 1, 100.0, "loihi1", ["a", "b"], [0, 0])
    lat = latency(zero, _model(tmp_path), 1, 1)
    assert all(v.sum() == 0.0 for v in lat.core_stages.values())
    assert lat.pipeline()["system_ns"] == {"management": 1000.0, "input": 0.0}
    np.testing.assert_allclose(lat.step_ns, 1100.0)
    bare = latency(zero, dataclasses.replace(_model(tmp_path), system=None), 1, 1)
    np.testing.assert_allclose(bare.step_ns, 100.0)  # the barrier alone
    assert bare.pipeline()["bottleneck_core"] == -1
    assert bare.pipeline()["slowest_core_share"] == 0.0
