"""Sigma-delta programs (graded spikes) in the event simulator: mapped on a Loihi 2-like chip,
they equal the fixed-point reference bit for bit (which equals Lava's ``sdn`` processes,
tests/lava/test_sdn_vs_lava.py), and the payload counters charge every graded message its bits.
"""

from __future__ import annotations

import numpy as np
import pytest
from loihi_chips import tiny_chip
from sdn_random import SDN_SCENARIOS, random_sdn

from snnc import ir
from snnc.backends.loihi.mapper import map_graph
from snnc.backends.loihi.partition import sdn_state_bits
from snnc.simulators import reference
from snnc.simulators.event import runners, simulate

JIT = runners.available()


@pytest.mark.parametrize("use_jit", JIT)
@pytest.mark.parametrize("scenario", SDN_SCENARIOS)
def test_random_sdn_programs_match_reference(tmp_path, scenario, use_jit) -> None:
    chip = tiny_chip(tmp_path, neurons=5)
    sent = spread = 0
    for seed in range(6):
        net = random_sdn(np.random.default_rng([seed, SDN_SCENARIOS.index(scenario), 7]),
                         scenario, steps=24)
        prog = map_graph(net.graph, chip)
        spread += prog.n_cores > 3
        ref = reference.simulate(net.graph, net.stimulus, probes=net.probes)
        ev = simulate(prog, net.stimulus, probes=net.probes, use_jit=use_jit)
        np.testing.assert_array_equal(ev.output, ref.output)
        for p in net.probes:
            np.testing.assert_array_equal(ev.probes[p], ref.probes[p], err_msg=f"{seed} {p}")
        sent += int(ev.counters.payload_bits.sum() > 0)
    assert sent >= 3  # graded messages were sent and charged
    assert spread > 0  # layers span several cores


def test_sdn_chunked_equals_one_chunk(tmp_path) -> None:
    """State carries across chunk boundaries (the engine advances layers chunk by chunk)."""
    net = random_sdn(np.random.default_rng(11), "plain", steps=24)
    prog = map_graph(net.graph, tiny_chip(tmp_path, neurons=5))
    whole = simulate(prog, net.stimulus, probes=net.probes)
    parts = simulate(prog, net.stimulus, probes=net.probes, chunk_steps=5)
    for p in net.probes:
        np.testing.assert_array_equal(parts.probes[p], whole.probes[p], err_msg=p)
    np.testing.assert_array_equal(parts.counters.payload_bits, whole.counters.payload_bits)


def _tiny_sdn() -> ir.Graph:
    """x (2 graded inputs, 8-bit) -> dense -> SigmaDelta (3, 16-bit payloads) -> dense -> Sigma."""
    w1 = np.array([[1, 0], [2, 3], [0, 1]])
    w2 = np.array([[1, 0, 2], [0, 0, 3]])
    return ir.Graph.chain(
        ("x", ir.Input(shape=(2,))),
        ("d1", ir.LoihiDense(weight=w1, num_message_bits=8)),
        ("sd", ir.LoihiSigmaDelta(shape=(3,), vth=1, num_message_bits=16)),
        ("d2", ir.LoihiDense(weight=w2, num_message_bits=16)),
        ("out", ir.LoihiSigma(shape=(2,), num_message_bits=24)),
        ("y", ir.Output(shape=(2,))))


def test_payload_bits_by_hand(tmp_path) -> None:
    """Two cores of 2 neurons for ``sd`` (neurons 0, 1 | 2), one for ``out``.

    Step 0: the host sends x = (5, 0): one 8-bit message to each core of ``sd`` that input 0
    reaches (neurons 0 and 1, both on core 0): 8 bits. Step 1: d1 delivers 5 * (1, 2, 0): sd's
    neurons 0 and 1 send payloads 5 and 10 (|delta| >= vth); neuron 0 reaches out's neuron 0,
    neuron 1 reaches nothing (its column of w2 is zero): one 16-bit message from core 0.
    Nothing else is ever sent (the input stops, the deltas are then zero).
    """
    chip = tiny_chip(tmp_path, neurons=2)
    prog = map_graph(_tiny_sdn(), chip, strategy="compact")  # the layout the sums assume
    assert [c.layer for c in prog.cores] == ["sd", "sd", "out"]
    x = np.zeros((6, 1, 2), np.int64)
    x[0, 0] = (5, 0)
    res = simulate(prog, x, probes=("sd.s",))
    np.testing.assert_array_equal(res.probes["sd.s"][1, 0], [5, 10, 0])
    assert not res.probes["sd.s"][2:].any()
    assert res.counters.host_payload_bits.tolist() == [8, 0, 0, 0, 0, 0]
    want = np.zeros((6, 3), np.int64)
    want[1, 0] = 16
    np.testing.assert_array_equal(res.counters.payload_bits, want)
    np.testing.assert_array_equal(res.counters.axon_out[:, 0], [0, 1, 0, 0, 0, 0])


def test_payload_bits_zero_without_activity(tmp_path) -> None:
    prog = map_graph(_tiny_sdn(), tiny_chip(tmp_path, neurons=2))
    res = simulate(prog, np.zeros((5, 2, 2), np.int64))
    assert not res.counters.payload_bits.any()
    assert not res.counters.host_payload_bits.any()
    assert not res.counters.spikes_out.any()
    assert not res.counters.neurons_active.any()  # no bias, no input: no neuron can change


def test_graded_layer_memory() -> None:
    """On Loihi 2 a sigma-delta neuron holds one 24-bit word per state variable of Lava's model
    plus the 16 parameter bits a LIF neuron has beyond u and v (64 - 2 * 24); the mapper counts
    that against the core's shared memory instead of the LIF's 64 bits."""
    from snnc.backends.loihi.chips import load_chip
    from snnc.backends.loihi.partition import LayerCost

    chip = load_chip("loihi2")
    sd = ir.LoihiSigmaDelta(shape=(3,), vth=1)
    cum = ir.LoihiSigmaDelta(shape=(3,), vth=1, cum_error=True)
    assert sdn_state_bits(sd, chip) == 3 * 24 + 16
    assert sdn_state_bits(cum, chip) == 4 * 24 + 16
    assert sdn_state_bits(ir.LoihiSigma(shape=(2,)), chip) == 24 + 16
    assert sdn_state_bits(ir.LoihiDelta(shape=(2,)), chip) == 2 * 24 + 16
    pos = np.arange(3)
    lif = ir.LoihiLIF(shape=(3,), du=0, dv=0, vth=1)
    bits = {n.op + str(n.cum_error if n.op != "loihi.lif" else ""): LayerCost(
        "l", pos, [], chip, n).need(0, 3).bits for n in (lif, sd, cum)}
    assert bits == {"loihi.lif": 3 * 64, "loihi.sigma_deltaFalse": 3 * 88,
                    "loihi.sigma_deltaTrue": 3 * 112}


def test_graded_layers_refused_on_loihi1() -> None:
    from snnc.errors import UnsupportedOpError

    with pytest.raises(UnsupportedOpError, match=r"graded spikes.*--chip loihi2"):
        map_graph(_tiny_sdn(), "loihi1")
