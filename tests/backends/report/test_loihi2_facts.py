"""Loihi 2's derived cost figures (backends/report/loihi2_facts.py) against arithmetic by hand,
the loihi2-estimate TOML against the derivation, and every Loihi 2 line zero without activity.

By hand (Loihi 1 SANA-FE table: dense synaptic op 4.0 ns / 35.5 pJ, active neuron 9.7 ns):
time, fitted on lava-dl's Loihi 2 PilotNet LIF (152.845 µs per step; the simulator's step at
Loihi 1's times on the vendor mapping 339,647.3 ns; Loihi 2's floor 1.78 µs, OzU-CAST):
(152,845 - 1,780) / 339,647.3 = 0.444771; floor 5 µs: 147,845 / 339,647.3 = 0.435291; no floor:
152,845 / 339,647.3 = 0.450012. Superseded peak figures: 140,544 / 380e12 s = 0.36985 ns ->
/ 4.0 = 0.092463; 140,544 / 240e12 s = 0.5856 ns -> / 9.7 = 0.060371; brief 1 / 10 = 0.1;
1 / (12 x 98,304 / 140,544) = 0.119141. energy (its events at Loihi 1's prices 82.3459 µJ per
step; Loihi 1's management 0.0877 W): high 68.3457 / 82.3459 = 0.829983; low
(68.3457 - 0.0877 x 0.715678 x 6 / 3 x 152.845) / 82.3459 = (68.3457 - 19.1867) / 82.3459 =
0.596982; central (68.3457 - 0.062765 x 1.78) / 82.3459 = 68.2340 / 82.3459 = 0.828627.
Superseded Hala Point figures: 2,600 / 380e12 J = 6.8421 pJ / 35.5 = 0.192735; 2 / 15e12 J =
0.13333 pJ / 35.5 = 0.0037559. static (lava-dl's measured Loihi 2 idle powers minus the cores'
leakage at 0.15366 mW): 0.232078 - 74 x 0.00015366 = 0.22070716 W; 0.281775 - 61 x 0.00015366 =
0.27240174 W.
PilotNet LIF per step: 1 / (408.91 x 16) s = 152.845 µs; dynamic 0.447156 W x 152.845 µs =
68.346 µJ; total 0.679234 W x 152.845 µs = 103.818 µJ.
"""

from __future__ import annotations

import math

import pytest

from snnc.backends.loihi.chips import load_chip
from snnc.backends.report.energy import load_model
from snnc.backends.report.loihi2_facts import (
    energy_factor,
    loihi2_system,
    pilotnet_lif_measured,
    static_w,
    step_floor_ns,
    step_ratio,
    time_factor,
)
from snnc.backends.report.system import Activity, system_lines

L1 = load_chip("loihi1").costs
L1_SYS = load_model("loihi1-sanafe", load_chip("loihi1")).system


def test_time_factor_by_hand() -> None:
    f = time_factor(L1.time_ns)
    assert f.central == pytest.approx(0.444771, rel=1e-5)
    assert (f.low, f.high) == (pytest.approx(0.435291, rel=1e-5), pytest.approx(0.450012,
                                                                                rel=1e-5))
    assert f.figures["superseded_hala_point_synaptic_op"] == pytest.approx(0.36985 / 4.0,
                                                                           rel=1e-4)
    assert f.figures["superseded_hala_point_neuron_update"] == pytest.approx(0.5856 / 9.7,
                                                                             rel=1e-4)
    assert f.figures["superseded_loihi2_brief"] == 0.1
    assert f.figures["superseded_hala_point_vs_pohoiki_springs"] == pytest.approx(
        140544 / 1179648)
    assert step_floor_ns() == 1780.0


def test_energy_and_static_by_hand() -> None:
    assert L1_SYS is not None
    assert L1_SYS.mgmt_w == 0.0877  # the hand numbers' input
    e = energy_factor(L1.energy_pj, L1_SYS)
    assert e.high == pytest.approx(0.829983, rel=1e-4)
    assert e.low == pytest.approx(0.596982, rel=1e-4)
    assert e.central == pytest.approx(0.828627, rel=1e-4)
    assert e.figures["superseded_hala_point_max_power"] == pytest.approx(6.8421 / 35.5, rel=1e-4)
    assert e.figures["superseded_hala_point_tops_per_w"] == pytest.approx(0.13333 / 35.5,
                                                                          rel=1e-4)
    s = static_w(0.00015366)
    assert (s.low, s.high) == (pytest.approx(0.22070716, rel=1e-6),
                               pytest.approx(0.27240174, rel=1e-6))
    assert s.central == pytest.approx(math.sqrt(0.22070716 * 0.27240174), rel=1e-6)
    assert step_ratio() == pytest.approx(5.0 / 5.8)


def test_pilotnet_lif_measurement_by_hand() -> None:
    m = pilotnet_lif_measured()
    assert m["time_us"] == pytest.approx(152.845, rel=1e-5)
    assert m["dynamic_uj"] == pytest.approx(68.346, rel=1e-4)
    assert m["total_uj"] == pytest.approx(103.818, rel=1e-4)
    assert m["cores"] == 74


def test_the_model_file_holds_the_derivation() -> None:
    m = load_model("loihi2-estimate", load_chip("loihi2"))
    assert m.system is not None
    e, t = energy_factor(L1.energy_pj, L1_SYS), time_factor(L1.time_ns)
    s = static_w(m.system.core_leak_w)
    assert m.energy_pj["syn_op_dense"] == pytest.approx(35.5 * e.central, rel=2e-3)
    assert m.time_scale == pytest.approx(t.central, rel=2e-3)
    for kind, f in (("energy", e), ("time", t)):
        lo, hi = f.on_central
        assert m.factor(kind, "low") == pytest.approx(lo, rel=1e-3)
        assert m.factor(kind, "high") == pytest.approx(hi, rel=1e-3)
    assert m.static_w == pytest.approx(s.central, rel=1e-3)
    assert m.static_range == (pytest.approx(s.low, rel=1e-3), pytest.approx(s.high, rel=1e-3))


def test_loihi2_system_lines_are_loihi2s_not_loihi1s() -> None:
    l1 = load_model("loihi1-sanafe", load_chip("loihi1")).system
    l2 = load_model("loihi2-estimate", load_chip("loihi2")).system
    assert l1 is not None
    assert l2 is not None
    want = loihi2_system(l1, L1.energy_pj, L1.time_ns)
    e, t = energy_factor(L1.energy_pj, l1).central, time_factor(L1.time_ns).central
    assert l2.input_msg_pj == pytest.approx(111.0 * e, rel=1e-3) != l1.input_msg_pj
    assert l2.input_msg_ns == pytest.approx(5.1 * t, rel=1e-3)
    assert l2.payload_pj_per_bit == pytest.approx(111.0 * e / 32, rel=1e-3)
    assert l2.step_ns["x86"] == pytest.approx(l1.step_ns["x86"] * 5 / 5.8, abs=1)
    assert l2.step_ns["chip"] == 1780  # Loihi 2's measured floor (no input from outside)
    assert "chip" not in l1.step_ns
    assert l2.step_ns["host"] == pytest.approx(l1.step_ns["host"] * 5 / 5.8, abs=1)
    assert l2.mgmt_w == pytest.approx(l1.mgmt_w * math.sqrt(0.21 / 0.41), rel=2e-3)
    assert l2.core_leak_w == pytest.approx(l1.core_leak_w * 0.21 / 0.41, rel=2e-3)
    assert l2.mgmt_w == pytest.approx(want.mgmt_w, rel=2e-3)
    assert "management" in l2.estimated
    assert l2.fitted == want.fitted == ()


def test_each_loihi2_line_is_zero_without_its_activity() -> None:
    m = load_model("loihi2-estimate", load_chip("loihi2"))
    zero = Activity(steps=0, input_msgs=0, payload_bits=0, powered_cores=0, chips=0, seconds=0.0)
    for ln in system_lines(m.system, zero, m.static_w, m.static_range):
        assert ln["joules"] in (0.0, None), ln
    # one unit of each activity, by hand: one message, one step, one bit, one core-second
    one = Activity(steps=1, input_msgs=1, payload_bits=1, powered_cores=1, chips=1, seconds=1.0)
    got = {ln["line"]: ln["joules"] for ln in system_lines(m.system, one, m.static_w,
                                                            m.static_range)}
    s = m.system
    assert got["input_injection"] == pytest.approx(s.input_msg_pj * 1e-12)
    assert got["management"] == pytest.approx(s.step_ns["x86"] * 1e-9 * s.mgmt_w)
    assert got["graded_payload"] == pytest.approx(s.payload_pj_per_bit * 1e-12)
    assert got["chip_static"] == pytest.approx(m.static_w)
    assert got["core_leakage"] == pytest.approx(s.core_leak_w)
    assert got["board"] is None


def test_a_run_with_its_input_on_the_chip_pays_the_measured_floor() -> None:
    """By hand: 10 steps of a run whose input is held on the chip, with no input message, cost
    10 x 1,780 ns of management time and 10 x 1,780 ns x mgmt_w joules; one input message, or
    an input not held on the chip (host currents, as a netx input layer without --input-bias),
    pays the x86 path's 45,609 ns per step; zero steps cost nothing either way."""
    s = load_model("loihi2-estimate", load_chip("loihi2")).system
    assert s is not None
    assert s.extra_ns(10, 0, input_on_chip=True) == pytest.approx(17800.0)
    assert s.extra_ns(10, 1, input_on_chip=True) == pytest.approx(10 * 45609 + s.input_msg_ns,
                                                                  rel=1e-6)
    assert s.extra_ns(10, 0) == pytest.approx(10 * 45609)
    assert s.extra_ns(0, 0, input_on_chip=True) == 0.0
    act = Activity(steps=10, input_msgs=0, payload_bits=0, powered_cores=0, chips=0, seconds=0.0,
                   input_on_chip=True)
    got = {ln["line"]: ln["joules"] for ln in system_lines(s, act, None, None)}
    assert got["management"] == pytest.approx(10 * 1780e-9 * s.mgmt_w)
    assert got["input_injection"] == 0.0


def test_the_netx_bias_drive_marks_the_input_on_the_chip(lavadl_assets) -> None:
    from snnc.api import load
    from snnc.backends.report.sections import input_on_chip

    d = lavadl_assets / "gts" / "pilotnet_lif"
    if not (d / "network.net").is_file():
        pytest.skip("pilotnet_lif assets missing")
    biased = load(d / "network.net", input_bias=d / "image.npy")
    plain = load(d / "network.net")
    assert biased.metadata["input_on_chip"] is True
    assert "input_on_chip" not in plain.metadata

    class P:  # what input_on_chip reads of a program
        graph = biased

    assert input_on_chip(P())


def test_lines_say_estimate_or_fitted() -> None:
    """Loihi 1's management line is fitted to silicon; on Loihi 2 no system line is fitted (the
    fitted constant is the cores' energy scale), chip static is measured, the rest estimates."""
    one = Activity(steps=1, input_msgs=1, payload_bits=1, powered_cores=1, chips=1, seconds=1.0)
    l1 = load_model("loihi1-sanafe", load_chip("loihi1"))
    l2 = load_model("loihi2-estimate", load_chip("loihi2"))
    by1 = {ln["line"]: ln for ln in system_lines(l1.system, one, l1.static_w, l1.static_range)}
    by2 = {ln["line"]: ln for ln in system_lines(l2.system, one, l2.static_w, l2.static_range)}
    assert by1["management"]["fitted"]
    assert not by1["management"]["estimate"]
    assert not by1["chip_static"]["estimate"]  # Blouw 2019's measured idle power
    assert not by2["chip_static"]["estimate"]  # lava-dl's measured Loihi 2 idle power
    assert not any(ln["fitted"] for ln in by2.values())
    for name in ("management", "input_injection", "core_leakage"):
        assert by2[name]["estimate"], name
