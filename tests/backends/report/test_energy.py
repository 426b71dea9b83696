"""Energy and latency of a tiny two-layer program against counts and sums made by hand.

The program: 2 host inputs -> dense W1 (3x2) -> lif1 (3 neurons, bias > vth: spikes every step)
-> dense W2 (2x3) -> lif2 (2 neurons, never spikes), on a 4-core chip with 2 neurons per core
and 2 cores per tile: lif1 on cores 0 and 1 (tile (0, 0)), lif2 on core 2 (tile (1, 0)), so
every lif1 -> lif2 message makes one east-west hop. Energy model: a user TOML whose per-event
costs are powers of two, with equal active and inactive neuron costs (so the split, which
depends on the neuron state, does not matter).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from loihi_chips import TINY_W1 as W1
from loihi_chips import TINY_W2 as W2
from loihi_chips import tiny_chip, tiny_program

from snnc.backends.report.energy import dynamic_energy, load_model, models_for_chip
from snnc.backends.report.latency import latency
from snnc.simulators.event import simulate

X = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0]])  # (T, inputs)
E = {"syn_op_dense": 2.0, "syn_op_sparse": 2.0, "syn_op_conv": 2.0, "neuron_active": 1.0,
     "neuron_inactive": 1.0, "spike_out": 8.0, "axon_out": 16.0, "axon_in": 4.0,
     "hop_ew": 32.0, "hop_ns": 64.0, "chip_hop": 128.0}
TNS = {"syn_op_dense": 1.0, "syn_op_sparse": 1.0, "syn_op_conv": 1.0, "neuron_active": 2.0,
       "neuron_inactive": 2.0, "spike_out": 4.0, "axon_out": 8.0, "axon_in": 16.0,
       "hop_ew": 0.0, "hop_ns": 0.0, "chip_hop": 0.0}


def _toml(table: dict[str, float]) -> str:
    return "\n".join(f"{k} = {v}" for k, v in table.items())


def _model_file(tmp_path, static: float = 0.5):
    path = tmp_path / "hand.toml"
    path.write_text("\n".join([
        'name = "hand"', 'source = "test"', 'costs = "table"', "[energy_pj]", _toml(E),
        "[time_ns]", _toml(TNS), "[barrier_ns]", "tiles = [1, 32]", "ns = [100.0, 100.0]",
        "[static]", f"watts_per_chip = {static}", "low = 0.25", "high = 1.0", 'source = "t"',
        "[uncertainty]", "energy_low = 0.5", "energy_high = 2.0", ""]))
    return path


def _program(tmp_path):
    prog = tiny_program(tmp_path)
    assert [(c.x, c.y) for c in prog.cores] == [(0, 0), (0, 0), (1, 0)]
    return prog


def _run(tmp_path):
    prog = _program(tmp_path)
    res = simulate(prog, X[:, None, :], probes=["lif1.s", "lif2.s"])
    assert res.probes["lif1.s"].all()
    assert not res.probes["lif2.s"].any()
    return prog, res


def test_dynamic_energy_by_hand(tmp_path) -> None:
    prog, res = _run(tmp_path)
    model = load_model(_model_file(tmp_path), prog.chip)
    en = dynamic_energy(res.counters, model, list(res.counters.core_layer))
    T = len(X)
    syn1 = int((X @ (W1 != 0).sum(0)).sum())  # each input spike drives its non-zero column
    syn2 = T * int((W2 != 0).sum())  # every lif1 neuron spikes every step
    msgs_host = int((X[:, 0] + X[:, 1] * 2).sum())  # input 0 reaches core 0, input 1 both
    msgs_12 = T * 2  # neurons 0 and 2 of lif1 have synapses into lif2's core
    want = {"syn_op_dense": 2.0 * (syn1 + syn2), "neuron_active": None,
            "spike_out": 8.0 * 3 * T, "axon_out": 16.0 * msgs_12,
            "axon_in": 4.0 * (msgs_host + msgs_12), "hop_ew": 32.0 * msgs_12}
    for kind, pj in want.items():
        if pj is not None:
            assert en.by_kind[kind] == pytest.approx(pj * 1e-12), kind
    neurons = 1.0 * 5 * T
    assert en.by_kind["neuron_active"] + en.by_kind["neuron_inactive"] == pytest.approx(
        neurons * 1e-12)
    total = sum(v for v in want.values() if v is not None) + neurons
    assert en.dynamic_j == pytest.approx(total * 1e-12)
    assert sum(en.by_layer.values()) == pytest.approx(en.dynamic_j)
    assert sum(en.by_core) == pytest.approx(en.dynamic_j)
    assert sum(en.per_step_j) == pytest.approx(en.dynamic_j)
    # lif2's core holds the W2 synapses, their messages' arrival and 2 neurons
    lif2 = 2.0 * syn2 + 4.0 * msgs_12 + 1.0 * 2 * T
    assert en.by_layer["lif2"] == pytest.approx(lif2 * 1e-12)


def test_latency_and_static_by_hand(tmp_path) -> None:
    prog, res = _run(tmp_path)
    model = load_model(_model_file(tmp_path), prog.chip)
    assert model.core_overlap  # loihi1: own-neuron and incoming work overlap (their max)
    lat = latency(res.counters, model, prog.n_tiles, prog.n_chips)
    summed = latency(res.counters, dataclasses.replace(model, core_overlap=False),
                     prog.n_tiles, prog.n_chips)
    hop = prog.chip.costs.time_ns["hop_ew"]  # the NoC term keeps the chip's hop time
    for t, x in enumerate(X):
        # (own: neuron updates, spikes, messages out; incoming: syn ops, messages in)
        core0 = (2 * 2 + 4 * 2 + 8 * 1, 1.0 * (x[0] * 2 + x[1] * 1) + 16 * (x[0] + x[1]))
        core1 = (2 * 1 + 4 * 1 + 8 * 1, 1.0 * (x[1] * 1) + 16 * x[1])  # neuron 2 of lif1
        core2 = (2 * 2, 1.0 * 3 + 16 * 2)  # W2 ops of this step's spikes, 2 messages in
        cores = (core0, core1, core2)
        assert lat.compute_ns[t] == pytest.approx(max(max(c) for c in cores)), t
        assert lat.step_ns[t] == pytest.approx(max(max(c) for c in cores) + hop + 100.0)
        assert summed.compute_ns[t] == pytest.approx(max(sum(c) for c in cores)), t
    assert lat.per_inference_s == pytest.approx(lat.step_ns.sum() * 1e-9)
    assert lat.throughput == pytest.approx(1.0 / lat.per_inference_s)
    from snnc.backends.report.energy import with_static

    en = with_static(dynamic_energy(res.counters, model, res.counters.core_layer), 1,
                     lat.per_inference_s)
    assert en.static_j == pytest.approx(0.5 * lat.per_inference_s)
    lo, hi = en.bounds((0.25 * lat.per_inference_s, 1.0 * lat.per_inference_s))
    assert lo == pytest.approx(0.5 * en.dynamic_j + 0.25 * lat.per_inference_s)
    assert hi == pytest.approx(2.0 * en.dynamic_j + 1.0 * lat.per_inference_s)


def test_chip_times_reproduce_the_simulator(tmp_path) -> None:
    """The chip table re-timed by latency.py gives the simulator's own step times."""
    prog, res = _run(tmp_path)
    default = models_for_chip(prog.chip)[0]
    assert default.name == "chip-table"
    assert default.times_from_chip
    lat = latency(res.counters, default, prog.n_tiles, prog.n_chips)
    np.testing.assert_array_equal(lat.step_ns, res.counters.step_ns)
    retimed = latency(res.counters, default.__class__(**{**default.__dict__,
                                                         "times_from_chip": False}),
                      prog.n_tiles, prog.n_chips)
    np.testing.assert_allclose(retimed.step_ns, res.counters.step_ns, rtol=1e-12)
    np.testing.assert_allclose(retimed.core_ns, res.counters.core_ns, rtol=1e-12)


def test_builtin_models_carry_sources_and_uncertainty(tmp_path) -> None:
    from snnc.backends.loihi.chips import load_chip

    l1 = {m.name: m for m in models_for_chip(load_chip("loihi1"))}
    assert set(l1) == {"loihi1-sanafe", "loihi1-davies2018"}
    dav = l1["loihi1-davies2018"]
    assert dav.energy_pj["syn_op_dense"] == 23.6
    assert dav.energy_pj["neuron_active"] == 81.0
    assert dav.time_ns["syn_op_dense"] == 3.5
    assert "Davies" in dav.source
    assert l1["loihi1-sanafe"].energy_pj["syn_op_dense"] == 35.5
    (l2,) = models_for_chip(load_chip("loihi2"))
    assert l2.estimate
    # measured idle 0.232 / 0.282 W minus the cores' leakage: tests/.../test_loihi2_facts
    assert 0.22 <= l2.static_w <= 0.273
    assert "ESTIMATE" in l2.source
    # Loihi 1's table x factors, both from lava-dl's Loihi 2 PilotNet LIF: energy 0.597x-0.830x,
    # time 0.435x-0.450x (its step less a floor between 5 µs and 0)
    l1_syn = l1["loihi1-sanafe"].energy_pj["syn_op_dense"]
    e_central = l2.energy_pj["syn_op_dense"] / l1_syn
    assert e_central * l2.factor("energy", "low") == pytest.approx(0.597, abs=0.001)
    assert e_central * l2.factor("energy", "high") == pytest.approx(0.830, abs=0.001)
    assert l2.time_scale * l2.factor("time", "low") == pytest.approx(0.435, abs=0.001)
    assert l2.time_scale * l2.factor("time", "high") == pytest.approx(0.450, abs=0.001)
    assert l2.system is not None
    assert l2.system.mgmt_w > 0
    user = models_for_chip(tiny_chip(tmp_path))
    assert [m.name for m in user] == ["chip-table"]
    assert user[0].static_w is None
