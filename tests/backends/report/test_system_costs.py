"""The system cost lines (backends/report/system.py) against sums made by hand.

The tiny program of test_energy.py, rebuilt here (2 host inputs -> 3 LIF on cores 0-1 -> 2 LIF
on core 2, 5 steps) under a user model whose [system] constants are powers of two.
Input messages by hand:
input 0 reaches neurons 0 and 1 (both on core 0): 1 message per spike; input 1 reaches neurons
1 and 2 (cores 0 and 1): 2 messages per spike. X has 3 spikes on input 0 and 2 on input 1, so
3 + 2 x 2 = 7 messages over the run, per step x0 + 2 x1.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from loihi_chips import tiny_program

from snnc.backends.report.energy import dynamic_energy, load_model
from snnc.backends.report.latency import latency
from snnc.backends.report.sections import run_model
from snnc.backends.report.system import Activity, parse_system, system_lines
from snnc.errors import FormatError
from snnc.simulators.event import simulate
from snnc.simulators.event.counters import Counters

X = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0]])  # (T, inputs)
E = {"syn_op_dense": 2.0, "syn_op_sparse": 2.0, "syn_op_conv": 2.0, "neuron_active": 1.0,
     "neuron_inactive": 1.0, "spike_out": 8.0, "axon_out": 16.0, "axon_in": 4.0,
     "hop_ew": 32.0, "hop_ns": 64.0, "chip_hop": 128.0}
TNS = {k: 1.0 for k in E}
SYSTEM = {"mgmt_w": 0.5, "input_msg_pj": 4.0, "input_msg_ns": 8.0, "payload_pj_per_bit": 2.0,
          "core_leak_w": 0.25, "board_w": 1.0}
STEP_NS = {"x86": 1000.0, "host": 3000.0}


def _toml(table: dict) -> str:
    return "\n".join(f"{k} = {v}" for k, v in table.items())


def _program(tmp_path):
    prog = tiny_program(tmp_path)
    return prog


def _model(tmp_path, path: str = "x86", system: bool = True):
    file = tmp_path / f"sys-{path}-{system}.toml"
    lines = ['name = "hand-sys"', 'source = "test"', 'costs = "table"', "[energy_pj]", _toml(E),
             "[time_ns]", _toml(TNS), "[barrier_ns]", "tiles = [1, 32]", "ns = [100.0, 100.0]",
             "[static]", "watts_per_chip = 2.0", 'source = "t"']
    if system:
        lines += ["[system]", f'input_path = "{path}"', _toml(SYSTEM),
                  'estimated = ["core_leakage"]', "[system.step_ns]", _toml(STEP_NS)]
    file.write_text("\n".join(lines) + "\n")
    return file


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sys")
    prog = _program(tmp)
    res = simulate(prog, X[:, None, :], probes=["lif1.s"])
    assert int(res.counters.host_axon_out.sum()) == 7  # the premise, by hand (module docstring)
    np.testing.assert_array_equal(res.counters.host_axon_out, X[:, 0] + 2 * X[:, 1])
    return tmp, prog, res.counters


def test_each_line_by_hand(run) -> None:
    tmp, prog, cnt = run
    model = load_model(_model(tmp), prog.chip)
    base = latency(cnt, dataclasses.replace(model, system=None), prog.n_tiles, prog.n_chips)
    en, lat = run_model(prog, model, cnt)
    T = len(X)
    # latency: every step gains the x86 step time and 8 ns per input message of that step
    np.testing.assert_allclose(lat.step_ns, base.step_ns + 1000.0 + 8.0 * (X[:, 0] + 2 * X[:, 1]))
    seconds = base.per_inference_s + (T * 1000.0 + 7 * 8.0) * 1e-9
    assert lat.per_inference_s == pytest.approx(seconds)
    lines = {ln["line"]: ln for ln in en.lines}
    assert lines["input_injection"]["joules"] == pytest.approx(7 * 4.0e-12)
    assert lines["management"]["joules"] == pytest.approx(T * 1000e-9 * 0.5)
    assert lines["graded_payload"]["joules"] == 0.0  # binary spikes: no payload bits
    assert lines["chip_static"]["joules"] == pytest.approx(2.0 * 1 * seconds)
    assert lines["core_leakage"]["joules"] == pytest.approx(0.25 * 3 * seconds)  # 3 cores
    assert lines["board"]["joules"] == pytest.approx(1.0 * 1 * seconds)
    assert lines["board"]["scope"] == "board"
    assert lines["management"]["scope"] == "chip"
    assert [ln["line"] for ln in en.lines if ln["estimate"]] == ["core_leakage"]
    cores = dynamic_energy(cnt, model, cnt.core_layer).dynamic_j
    assert en.dynamic_j == pytest.approx(cores)  # the cores' figure is unchanged
    assert en.total_dynamic_j == pytest.approx(cores + 7 * 4.0e-12 + T * 1000e-9 * 0.5)
    assert en.static_j == pytest.approx((2.0 + 0.75) * seconds)  # board kept apart
    assert en.total_j == pytest.approx(en.total_dynamic_j + en.static_j)
    assert en.board_j == pytest.approx(seconds)


def test_graded_payload_hook(run) -> None:
    tmp, prog, cnt = run
    graded = dataclasses.replace(cnt, payload_bits=np.full_like(cnt.syn_ops_dense, 3),
                                 host_payload_bits=np.full_like(cnt.host_axon_out, 5))
    en, _ = run_model(prog, load_model(_model(tmp), prog.chip), graded)
    n_bits = 3 * graded.payload_bits.size + 5 * len(X)
    lines = {ln["line"]: ln for ln in en.lines}
    assert lines["graded_payload"]["joules"] == pytest.approx(n_bits * 2.0e-12)
    assert en.by_kind["graded_payload"] == pytest.approx(n_bits * 2.0e-12)


def test_host_path_uses_the_host_step(run) -> None:
    tmp, prog, cnt = run
    x86 = run_model(prog, load_model(_model(tmp, "x86"), prog.chip), cnt)[1]
    host_en, host = run_model(prog, load_model(_model(tmp, "host"), prog.chip), cnt)
    np.testing.assert_allclose(host.step_ns - x86.step_ns, 2000.0)
    mgmt = next(ln for ln in host_en.lines if ln["line"] == "management")
    assert mgmt["joules"] == pytest.approx(len(X) * 3000e-9 * 0.5)
    assert mgmt["scope"] == "system"


@pytest.mark.parametrize(("field", "line"), [
    ("input_msgs", "input_injection"), ("steps", "management"), ("payload_bits", "graded_payload"),
    ("powered_cores", "core_leakage"), ("seconds", "chip_static"), ("seconds", "board"),
    ("chips", "chip_static")])
def test_each_line_is_zero_without_its_activity(tmp_path, field: str, line: str) -> None:
    sysc = parse_system({**SYSTEM, "step_ns": STEP_NS}, "test")
    act = Activity(steps=10, input_msgs=7, payload_bits=12, powered_cores=3, chips=1,
                   seconds=1e-3)
    busy = {ln["line"]: ln["joules"] for ln in system_lines(sysc, act, 2.0, None)}
    assert busy[line] > 0
    idle = dataclasses.replace(act, **{field: 0})
    got = {ln["line"]: ln["joules"] for ln in system_lines(sysc, idle, 2.0, None)}
    assert got[line] == 0.0


def test_a_model_without_system_prices_the_cores_only(run) -> None:
    tmp, prog, cnt = run
    model = load_model(_model(tmp, system=False), prog.chip)
    en, lat = run_model(prog, model, cnt)
    base = latency(cnt, model, prog.n_tiles, prog.n_chips)
    np.testing.assert_array_equal(lat.step_ns, base.step_ns)
    lines = {ln["line"]: ln["joules"] for ln in en.lines}
    assert lines["chip_static"] == pytest.approx(2.0 * lat.per_inference_s)
    assert all(v is None for k, v in lines.items() if k != "chip_static")  # not modelled
    assert en.total_dynamic_j == en.dynamic_j


@pytest.mark.parametrize("bad", [{"input_path": "usb"}, {"mgmt_w": -1.0}, {"mgmt_w": "fast"},
                                 {"step_ns": 5}])
def test_bad_system_tables_are_refused(bad: dict) -> None:
    with pytest.raises(FormatError, match=r"\[system"):
        parse_system({**SYSTEM, **bad}, "m.toml")


def test_payload_counters_round_trip_and_old_files_load(run, tmp_path) -> None:
    _, _, cnt = run
    graded = dataclasses.replace(cnt, payload_bits=np.full_like(cnt.syn_ops_dense, 3))
    back = Counters.load(graded.save(tmp_path / "c.npz"))
    np.testing.assert_array_equal(back.payload_bits, graded.payload_bits)
    path = cnt.save(tmp_path / "old.json")
    d = json.loads(path.read_text())
    del d["payload_bits"], d["host_payload_bits"]  # counters saved before the hook existed
    path.write_text(json.dumps(d))
    old = Counters.load(path)
    assert old.payload_bits.shape == cnt.syn_ops_dense.shape
    assert not old.payload_bits.any()
    assert not old.host_payload_bits.any()
