"""The papers' analytic estimate and the ANN baseline, against sums made by hand."""

from __future__ import annotations

import numpy as np
import pytest

from snnc import ir
from snnc.backends.report.analytic import analytic_estimate
from snnc.backends.report.graphstats import dense_flops
from snnc.stages.measure import record_float as record


def _graph() -> ir.Graph:
    conv = ir.Conv2d(input_shape=(1, 4, 4), weight=np.full((2, 1, 3, 3), 0.25), padding=(1, 1))
    return ir.Graph.chain(
        ("x", ir.Input(shape=(1, 4, 4))), ("conv", conv),
        ("lif0", ir.LIF(shape=(2, 4, 4), decay_v=np.array(0.5), threshold=np.array(0.5))),
        ("flat", ir.Flatten(input_shape=(2, 4, 4))),
        ("fc", ir.Linear(weight=np.full((3, 32), 0.125))),
        ("lif1", ir.LIF(shape=(3,), threshold=np.array(1.0))), ("y", ir.Output(shape=(3,))))


def test_flops_as_papers_count_them() -> None:
    g = _graph()
    assert dense_flops(g.nodes["conv"]) == 2 * 4 * 4 * 1 * 3 * 3  # Cout*H*W*Cin*k*k
    assert dense_flops(g.nodes["fc"]) == 3 * 32


@pytest.mark.parametrize("static", [True, False])
def test_snn_and_ann_energy_by_hand(static) -> None:
    g = _graph()
    T = 5
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 5, (1, 2, 1, 4, 4)) / 4.0  # analog input, 2 samples
    x = np.repeat(frame, T, axis=0) if static else rng.integers(0, 5, (T, 2, 1, 4, 4)) / 4.0
    probes = record(g, x)
    est = analytic_estimate(g, probes, T)
    conv_flops, fc_flops = 288, 96
    rate = np.count_nonzero(probes["lif0.s"]) / probes["lif0.s"].size
    assert 0 < rate < 1
    first_steps = 1 if static else T
    want_snn = 4.6e-12 * conv_flops * first_steps + 0.9e-12 * rate * T * fc_flops
    assert est["snn_energy"] == pytest.approx(want_snn)
    assert est["ann_energy"] == pytest.approx(4.6e-12 * (conv_flops + fc_flops))
    first, second = est["layers"]
    assert (first["charged_as"], first["steps"], second["charged_as"]) == ("MAC", first_steps,
                                                                          "AC")
    assert second["input_rate"] == pytest.approx(rate)


def test_spiking_input_is_charged_as_accumulates() -> None:
    g = _graph()
    x = (np.random.default_rng(1).random((4, 1, 1, 4, 4)) < 0.25).astype(float)
    est = analytic_estimate(g, record(g, x), 4, precision="int8")
    first = est["layers"][0]
    rate = x.mean()
    assert first["charged_as"] == "AC"
    assert first["input_rate"] == pytest.approx(rate)
    assert first["energy"] == pytest.approx(0.03e-12 * rate * 4 * 288)


def test_worst_case_uses_rate_one() -> None:
    est = analytic_estimate(_graph(), None, 8)
    assert [r["input_rate"] for r in est["layers"]] == [1.0, 1.0]
    assert est["snn_energy"] == pytest.approx(4.6e-12 * 288 * 8 + 0.9e-12 * 8 * 96)
    assert "worst case" in est["rates_from"]


def test_attention_column_sum_is_charged_as_accumulates() -> None:
    """Spike-driven self-attention: the Hadamard products are masks (no energy), the column sum
    over tokens of K * V adds fr * T * n_in ACs (Spike-driven Transformer V1's appendix)."""
    from sdsa_random import random_sdsa, spikes

    from snnc.simulators.reference import simulate

    rng = np.random.default_rng([0, 17])
    g = random_sdsa(rng)
    x = spikes(rng, g.nodes["in"].out_shape, t=6, b=2)
    est = analytic_estimate(g, record(g, x), 6)
    (row,) = [r for r in est["layers"] if r.get("kind") == "attention-sum"]
    kv = simulate(g, x, probes=["kv.s"]).probes["kv.s"]
    assert 0 < kv.mean() < 1
    n_in = int(np.prod(g.nodes["col"].input_shape))
    assert row["layer"] == "col"
    assert row["ops"] == pytest.approx(kv.mean() * 6 * n_in)
    assert row["energy"] == pytest.approx(0.9e-12 * kv.mean() * 6 * n_in)
    # the ANN baseline counts the connection layers only
    conn = [r for r in est["layers"] if "kind" not in r]
    assert est["ann_energy"] == pytest.approx(4.6e-12 * sum(r["flops"] for r in conn))


def test_per_block_groups_chip_and_analytic_rows() -> None:
    from snnc.backends.report.analytic import block_of, per_block

    assert block_of("blocks.0.attn.q.0") == "blocks.0"
    assert block_of("blocks.1.attn.mul_1_and") == "blocks.1"
    assert block_of("embed.0_embed.0_1d1_relay3") == "embed"
    assert block_of("head_lif") == "head"
    chip = [{"name": "blocks.0.attn.q_lif", "energy": 2.0, "syn_ops": 10.0, "spikes": 3.0},
            {"name": "blocks.0.mlp_lif", "energy": 1.0, "syn_ops": 5.0, "spikes": 1.0},
            {"name": "head_lif", "energy": 0.5, "syn_ops": 1.0, "spikes": 0.0}]
    an = {"layers": [{"layer": "embed.0", "energy": 4.0, "charged_as": "MAC", "ops": 8.0},
                     {"layer": "blocks.0.attn.q.0", "energy": 0.25, "charged_as": "AC",
                      "ops": 3.0},
                     {"layer": "blocks.0.attn.sum_1", "energy": 0.5, "charged_as": "AC",
                      "ops": 2.0}]}
    rows = {r["block"]: r for r in per_block(chip, an)}
    assert rows["blocks.0"]["chip_energy"] == 3.0
    assert rows["blocks.0"]["chip_syn_ops"] == 15.0
    assert rows["blocks.0"]["analytic_energy"] == 0.75
    assert rows["blocks.0"]["analytic_ac"] == 5.0
    assert rows["embed"]["analytic_mac"] == 8.0
    assert rows["embed"]["chip_energy"] == 0.0
    assert rows["head"]["chip_layers"] == 1


def test_sdt_appendix_formula_by_hand_on_an_sdsa_block() -> None:
    """E = E_AC * T * (sum_n FL_n * fr_n + fr_KV * N * D) for spike input (no MAC layer), with
    FL of a kernel-1 Conv1d = c_out * N * c_in and of a Linear = out * in (S1, S2)."""
    from sdsa_random import random_sdsa, spikes

    from snnc.simulators.reference import simulate

    rng = np.random.default_rng([1, 17])
    g = random_sdsa(rng)
    T = 6
    x = spikes(rng, g.nodes["in"].out_shape, t=T, b=2)
    est = analytic_estimate(g, record(g, x), T)
    c_in, n = g.nodes["in"].out_shape
    c = g.nodes["a"].shape[0]
    probes = simulate(g, x, probes=["a.s", "q.s", "kv.s", "y.s", "m.s"]).probes
    fr = {k: float(np.mean(v != 0)) for k, v in probes.items()}
    terms = [(c * n * c_in, float(np.mean(x != 0))),  # embed reads the input spikes
             *[(c * n * c, fr["a.s"])] * 3,  # q, k, v convs read a
             (c * n * c, fr["y.s"]),  # the projection reads Q * KV
             (3 * c * n, fr["m.s"]),  # the readout Linear
             (c * n, fr["kv.s"])]  # the column sum over tokens of K * V
    want = 0.9e-12 * T * sum(f * r for f, r in terms)
    assert est["snn_energy"] == pytest.approx(want)
    assert all(r["charged_as"] == "AC" for r in est["layers"])
