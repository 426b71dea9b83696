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
