"""``CounterPlan.chunk`` works in windows of steps: any window size gives the same counters, bit
for bit (integer counts, float times, per-sample totals), as one window over the whole chunk."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from loihi_chips import tiny_chip
from loihi_random import SCENARIOS, random_network

from snnc.backends.loihi.mapper import map_graph
from snnc.simulators.event import LearningOptions, counting, simulate
from tests.simulators.event.test_plastic import random_case, third_factor


def _same_counters(a, b) -> None:
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype, f.name
            np.testing.assert_array_equal(x, y, err_msg=f.name)
    pa, pb = a.per_sample, b.per_sample
    assert pa is not None
    assert pb is not None
    np.testing.assert_array_equal(pa.step_ns, pb.step_ns)
    for f in pa.events:
        np.testing.assert_array_equal(pa.events[f], pb.events[f], err_msg=f)


def _runs(monkeypatch, run) -> list:
    """``run()`` with one window per chunk and with windows of 1, 2 and 3 cells' worth."""
    monkeypatch.setattr(counting, "BLOCK_ELEMENTS", 1 << 30)
    one = run()
    out = []
    for cells in (1, 5, 23):
        monkeypatch.setattr(counting, "BLOCK_ELEMENTS", cells)
        out.append(run())
    return [one, *out]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_windows_equal_one_pass(tmp_path, monkeypatch, scenario) -> None:
    chip = tiny_chip(tmp_path, neurons=5)
    for seed in range(3):
        net = random_network(np.random.default_rng([seed, 7, SCENARIOS.index(scenario)]),
                             scenario, steps=24)
        prog = map_graph(net.graph, chip)
        stim = net.stimulus
        batch = np.concatenate([stim, stim[::-1]], axis=1)  # two samples, the second reversed
        for x in (stim, batch):
            def run(x=x, prog=prog, probes=net.probes):
                return simulate(prog, x, probes=probes)

            one, *rest = _runs(monkeypatch, run)
            assert one.counters.step_ns.shape[0] == x.shape[0]
            for r in rest:
                np.testing.assert_array_equal(r.output, one.output)
                _same_counters(one.counters, r.counters)


def test_windows_equal_one_pass_with_learning(tmp_path, monkeypatch) -> None:
    case = random_case(np.random.default_rng([3, 1, 8]), 1)
    prog = map_graph(case.graph, tiny_chip(tmp_path, neurons=3))
    steps = case.samples[0].shape[0]
    opts = LearningOptions(third={s: third_factor for s in case.third})
    one, *rest = _runs(monkeypatch, lambda: simulate(prog, np.concatenate(case.samples),
                                                     reset_interval=steps, learning=opts))
    assert one.counters.syn_updates.sum() > 0  # the learning counters are exercised
    for r in rest:
        _same_counters(one.counters, r.counters)
