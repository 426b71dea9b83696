"""Loihi 2's cost figures, derived from published Loihi 2 figures and one Loihi 2 measurement.

Intel publishes no per-event energy or time for Loihi 2 (shared/reference/loihi.md section 2),
so ``loihi2-estimate`` prices Loihi 2 as the silicon-calibrated Loihi 1 table (SANA-FE) times
factors. Each factor, and its range, is computed here from published figures (the list below,
each with its source); the model TOML (``energy_models/loihi2-estimate.toml``) holds the
results, and tests/backends/report/test_loihi2_facts.py checks that it matches this derivation.
docs/energy-model.md explains the choices.

Time per event (Loihi 2 / Loihi 1) [D from M], FITTED on the one Loihi 2 time measurement
snnc reconstructs (lava-dl's PilotNet LIF, 152.85 µs per step on Lava's own 74-core mapping,
which the ``vendor`` mapping reproduces core for core): a step is the slowest core's serial work
plus the NoC and barrier at Loihi 1's SANA-FE per-event times (the event simulator's step,
``PILOTNET_LIF_STEP_L1_NS``) times the factor, plus Loihi 2's per-step floor:

- the floor [M]: OzU-CAST's Loihi 2 measurements (github OzU-CAST/LoihiScalingEfficiency,
  ``Figs/latency.png``, Lava's execution-time probe): LIF networks of 200-1,200 neurons on 5-69
  cores of one chip take 1.76-1.79 µs per step whatever their size, so a step with next to no
  work costs ``ozu_step_floor_us`` = 1.78 µs (read off the figure). It is the management and
  barrier time of a run with no per-step input; snnc uses it as Loihi 2's ``step_ns.chip``;
- central, the fit: (152.85 - 1.78) / 339.65 = 0.445;
- range: the floor between Hala Point's fastest step (5 µs, an upper bound for one chip) and
  zero: 0.435-0.450. It does not cover how the time splits between event types (one factor for
  every event; a network bound by other events than PilotNet's conv synaptic ops may be further
  off), nor the notebook's frame, which is not shipped (the activity is lava-dl's own frame's).

Superseded (kept in ``FACTS`` and ``Factor.figures``): Intel's peak figures, Hala Point's
per-core synaptic and neuron rates (0.092, 0.060 of Loihi 1's), "up to 10x" (Loihi 2 brief)
and "up to 12x Pohoiki Springs" per core (0.119): the measured step is 4-7x slower than they
imply (they are peak rates, not a compiled network's step).

Energy per event (Loihi 2 / Loihi 1) [D from M]: from the one Loihi 2 measurement snnc
reconstructs, lava-dl's PilotNet LIF benchmark (Oheo Gulch, one chip; benchmarks/
loihi2_published.py): its dynamic energy per step, 68.35 µJ (0.447156 W x 152.85 µs), against
the same run's events priced with Loihi 1's SANA-FE table, ``PILOTNET_LIF_EVENTS_L1_UJ`` (snnc's
event counts of the network driven as lava-dl drives it; no input messages, no payloads):

- high, a hard bound: every joule of the dynamic energy spent on events -> 68.35 / 82.35 = 0.830;
- low: all six x86 cores of Loihi 2 (Loihi 1 has three) working through the whole step at
  Loihi 1's fitted management power scaled by process (0.0877 W x 6 / 3 x 0.716 = 0.126 W,
  19.2 µJ per step), the rest events -> (68.35 - 19.19) / 82.35 = 0.597;
- central, the fit (one constant, one point): the dynamic energy less snnc's own management line
  for Loihi 2 (0.0628 W x the 1.78 µs floor = 0.11 µJ, below) over the events ->
  68.23 / 82.35 = 0.829 (process scaling alone, core area 0.41 -> 0.21 mm², says 0.51-0.72).
  The range rests on snnc's event counts for lava-dl's own frame (``image.npy``); the
  notebook's frame (100 of the dataset) is not shipped.

Superseded (kept in ``FACTS`` for the record): Hala Point's 2,600 W at 380e12 synaptic ops/s
(<= 0.193) and 15 TOPS/W (~0.0038) gave 0.0038-0.193 (51x wide); the measurement lies 4x above
the first, so that "bound" does not hold for a network like PilotNet (peak rate and maximum power
are not one operating point, and count different ops).

Chip static [M]: measured on Loihi 2 by lava-dl's benchmark notebooks (Oheo Gulch board, one
Loihi 2 chip; the profiler's idle power of the chip's rails VDD + VDDM + VDDIO after the run):
0.232078 W with PilotNet LIF loaded (74 cores) and 0.281775 W with PilotNet SDNN (61 cores).
Each minus its powered cores' leakage (``core_leak_w``, priced as its own line) is the chip's;
low / high: the two, central: their geometric mean. (Until this measurement was found, Loihi 1's
0.029 W idle scaled by area or transistors, 0.015-0.032 W: ten times too low.)

System lines (Loihi 2's, from Loihi 1's calibration): input messages and graded payloads cost
Loihi 2's ``axon_out`` (the table's, scaled); a run whose input is on the chip (biases, as
PilotNet's, graph metadata ``input_on_chip``; no message written from outside) pays the
measured floor per step (``step_ns.chip`` = 1.78 µs, above); the x86 and host paths'
per-step times (x86 input injection, as NxTF's) scale Loihi 1's fits with the fastest
published step: Hala Point runs small networks "up to 200x" faster than real time (1 ms
steps) = 5 µs per step vs Pohoiki Springs' fastest 5.8 µs per step (Frady 2020) -> 0.862
(x86: 52.9 -> 45.6 µs, 26x the floor: unmeasured on Loihi 2); the x86 (Lakemont, the same
design on Intel 4) power scales with process alone (0.72 central).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from .system import SystemCosts

# published figures (value, source)
FACTS: dict[str, tuple[float, str]] = {
    "hp_syn_ops_per_s": (380e12, "Intel, Hala Point announcement, April 2024 [S]"),
    "hp_neuron_ops_per_s": (240e12, "Intel, Hala Point announcement, April 2024 [S]"),
    "hp_cores": (140_544, "Intel, Hala Point announcement, April 2024 [S]"),
    "hp_max_w": (2600.0, "Intel, Hala Point announcement, April 2024 (maximum power) [S]"),
    "hp_tops_per_w": (15.0, "Intel, Hala Point announcement, April 2024 (8-bit DNNs) [S]"),
    "hp_vs_pohoiki": (12.0, "Intel, Hala Point announcement: up to 12x Pohoiki Springs [S]"),
    "hp_fastest_step_us": (1000.0 / 200, "Intel, Hala Point: up to 200x faster than real "
                                         "time (1 ms steps) at lower capacity [S]"),
    "pohoiki_cores": (768 * 128, "Frady et al., NICE 2020: 768 Loihi 1 chips [S]"),
    "pohoiki_fastest_step_us": (5.8, "Frady et al., NICE 2020: 5.8-13 µs per step [S]"),
    "brief_speedup": (10.0, "Intel Loihi 2 brief 2021: up to 10x faster processing [S]"),
    "ozu_step_floor_us": (1.78, "OzU-CAST/LoihiScalingEfficiency Figs/latency.png: LIF "
                                "networks of 200-1,200 neurons on one Loihi 2 chip, 1.76-1.79 "
                                "µs per step (read off the figure) [M]"),
    "l1_idle_w": (0.029, "Blouw et al., NICE 2019 [S]"),
    # lava-dl tutorials/lava/lib/dl/netx/pilotnet_{snn,sdnn}/benchmark.ipynb, outputs as
    # committed in lava-dl b9e3691 (2023-01-10), Loihi 2 on an Oheo Gulch board ('oheogulch')
    "lif_fps": (408.91, "lava-dl pilotnet_snn/benchmark.ipynb: 16-step frames per second [M]"),
    "lif_steps_per_frame": (16, "lava-dl pilotnet_snn/benchmark.ipynb: reset_interval 16 [M]"),
    "lif_total_w": (0.679234, "lava-dl pilotnet_snn/benchmark.ipynb: total power [M]"),
    "lif_static_w": (0.232078, "lava-dl pilotnet_snn/benchmark.ipynb: static power [M]"),
    "lif_cores": (74, "lava-dl pilotnet_snn/benchmark.ipynb: the compiler's per-core table [M]"),
    "sdnn_static_w": (0.281775, "lava-dl pilotnet_sdnn/benchmark.ipynb: static power [M]"),
    "sdnn_total_w": (0.275709, "lava-dl pilotnet_sdnn/benchmark.ipynb: total power [M]"),
    "sdnn_fps": (16.87, "lava-dl pilotnet_sdnn/benchmark.ipynb: frames (steps) per second, "
                        "host-input bound [M]"),
    "sdnn_cores": (61, "lava-dl pilotnet_sdnn/benchmark.ipynb: the compiler's per-core table [M]"),
    "l1_die_mm2": (60.0, "Intel Loihi 2 brief 2021 [S]"),
    "l2_die_mm2": (31.0, "Intel Loihi 2 brief 2021 [S]"),
    "l1_core_mm2": (0.41, "Intel Loihi 2 brief 2021 [S]"),
    "l2_core_mm2": (0.21, "Intel Loihi 2 brief 2021 [S]"),
    "l1_transistors": (2.07e9, "Davies et al. 2018 [P]"),
    "l2_transistors": (2.3e9, "Intel Loihi 2 brief 2021 [S]"),
    "l1_x86_cores": (3, "Davies et al. 2018 [P]"),
    "l2_x86_cores": (6, "Intel Loihi 2 brief 2021 [S]"),
}
OPS_PER_SYN_OP = 2  # a synaptic op counted as multiply + accumulate in TOPS figures [E]
#: lava-dl PilotNet LIF's events per step (image.npy bias, reset 16 / offset 3, 160 steps, the
#: vendor mapping's 74 cores on Loihi 2) priced with Loihi 1's SANA-FE per-event table, µJ [D];
#: computed and re-checked by benchmarks/calibrate.py (loihi2_published.events_at_loihi1_uj)
PILOTNET_LIF_EVENTS_L1_UJ = 82.3459
#: the same run's mean step at Loihi 1's SANA-FE per-event times (slowest core + NoC + barrier,
#: the event simulator's ``step_ns``), ns [D]; re-checked the same way (chip_step_l1_ns)
PILOTNET_LIF_STEP_L1_NS = 339647.3


def _f(key: str) -> float:
    return FACTS[key][0]


def _gmean(xs: list[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


@dataclasses.dataclass(frozen=True)
class Factor:
    central: float
    low: float
    high: float
    figures: dict[str, float]

    @property
    def on_central(self) -> tuple[float, float]:
        """(low, high) as factors on the central value (the model's [uncertainty])."""
        return self.low / self.central, self.high / self.central


def published_time_figures(l1_time_ns: dict[str, float]) -> dict[str, float]:
    """Intel's peak figures as Loihi 2 / Loihi 1 time per event (superseded by the fit)."""
    per_core_syn = _f("hp_syn_ops_per_s") / _f("hp_cores")
    per_core_neu = _f("hp_neuron_ops_per_s") / _f("hp_cores")
    return {"superseded_hala_point_synaptic_op": 1e9 / per_core_syn / l1_time_ns["syn_op_dense"],
            "superseded_hala_point_neuron_update":
                1e9 / per_core_neu / l1_time_ns["neuron_active"],
            "superseded_loihi2_brief": 1.0 / _f("brief_speedup"),
            "superseded_hala_point_vs_pohoiki_springs":
                1.0 / (_f("hp_vs_pohoiki") * _f("pohoiki_cores") / _f("hp_cores"))}


def step_floor_ns() -> float:
    """Loihi 2's measured per-step floor (ns): management and barrier of a run with no
    per-step input (OzU-CAST, module docstring)."""
    return _f("ozu_step_floor_us") * 1e3


def time_factor(l1_time_ns: dict[str, float]) -> Factor:
    """Loihi 2's per-event time / Loihi 1's, fitted on PilotNet LIF's measured step (module
    docstring); ``l1_time_ns``: Loihi 1's table, for the superseded published figures."""
    t_ns, s_ns = pilotnet_lif_measured()["time_us"] * 1e3, PILOTNET_LIF_STEP_L1_NS
    central = (t_ns - step_floor_ns()) / s_ns
    low = (t_ns - _f("hp_fastest_step_us") * 1e3) / s_ns
    figs = {"pilotnet_lif_fit": central, "pilotnet_lif_floor_5us": low,
            "pilotnet_lif_no_floor": t_ns / s_ns, **published_time_figures(l1_time_ns)}
    return Factor(central, low, t_ns / s_ns, figs)


def energy_factor(l1_energy_pj: dict[str, float], l1: SystemCosts) -> Factor:
    """Loihi 2's per-event energy / Loihi 1's (module docstring); ``l1``: Loihi 1's calibrated
    [system] lines (loihi1-sanafe's), whose management power and step time it scales."""
    m = pilotnet_lif_measured()
    mgmt_w = l1.mgmt_w * X86_POWER_FACTOR
    high = m["dynamic_uj"] / PILOTNET_LIF_EVENTS_L1_UJ
    low = (m["dynamic_uj"] - mgmt_w * _f("l2_x86_cores") / _f("l1_x86_cores") * m["time_us"]
           ) / PILOTNET_LIF_EVENTS_L1_UJ
    central = (m["dynamic_uj"] - mgmt_w * step_floor_ns() * 1e-3) / PILOTNET_LIF_EVENTS_L1_UJ
    hp_high = _f("hp_max_w") / _f("hp_syn_ops_per_s") * 1e12 / l1_energy_pj["syn_op_dense"]
    hp_low = OPS_PER_SYN_OP / (_f("hp_tops_per_w") * 1e12) * 1e12 / l1_energy_pj["syn_op_dense"]
    return Factor(central, low, high,
                  {"pilotnet_lif_all_events": high, "pilotnet_lif_minus_x86": low,
                   "superseded_hala_point_max_power": hp_high,
                   "superseded_hala_point_tops_per_w": hp_low})


def static_w(core_leak_w: float) -> Factor:
    """The chip's static power (module docstring): the two measured idle powers, each minus the
    leakage ``core_leak_w`` (W per powered core, its own report line) of the cores it had."""
    lif = _f("lif_static_w") - _f("lif_cores") * core_leak_w
    sdnn = _f("sdnn_static_w") - _f("sdnn_cores") * core_leak_w
    return Factor(math.sqrt(lif * sdnn), min(lif, sdnn), max(lif, sdnn),
                  {"pilotnet_lif_idle": lif, "pilotnet_sdnn_idle": sdnn})


def pilotnet_lif_measured() -> dict[str, float]:
    """lava-dl's Loihi 2 PilotNet LIF run per time step: time (µs), total and dynamic energy
    (µJ, total minus the static the profiler measured), the cores its compiler used."""
    step_s = 1.0 / (_f("lif_fps") * _f("lif_steps_per_frame"))
    return {"time_us": step_s * 1e6, "total_uj": _f("lif_total_w") * step_s * 1e6,
            "dynamic_uj": (_f("lif_total_w") - _f("lif_static_w")) * step_s * 1e6,
            "cores": _f("lif_cores")}


def core_area_ratio() -> float:
    return _f("l2_core_mm2") / _f("l1_core_mm2")


def step_ratio() -> float:
    return _f("hp_fastest_step_us") / _f("pohoiki_fastest_step_us")


X86_POWER_FACTOR = math.sqrt(0.21 / 0.41)  # process alone: capacitance ~ length [D]


def loihi2_system(l1: SystemCosts, l1_energy_pj: dict[str, float],
                  l1_time_ns: dict[str, float]) -> SystemCosts:
    """Loihi 2's [system] lines from Loihi 1's calibrated ones (module docstring)."""
    ef = energy_factor(l1_energy_pj, l1).central
    tf = time_factor(l1_time_ns).central
    axon_pj, axon_ns = l1_energy_pj["axon_out"] * ef, l1_time_ns["axon_out"] * tf
    area = core_area_ratio()
    lr = l1.core_leak_range
    steps = {p: v * step_ratio() for p, v in l1.step_ns.items() if p != "chip"}
    steps["chip"] = step_floor_ns()
    return dataclasses.replace(
        l1, step_ns=steps,
        mgmt_w=l1.mgmt_w * X86_POWER_FACTOR, input_msg_pj=axon_pj, input_msg_ns=axon_ns,
        payload_pj_per_bit=axon_pj / 32, core_leak_w=l1.core_leak_w * area,
        core_leak_range=None if lr is None else (lr[0] * area, lr[1] * area),
        estimated=tuple(dict.fromkeys([*l1.estimated, "management", "input_injection"])),
        fitted=())


def summary(l1_energy_pj: dict[str, float], l1_time_ns: dict[str, float],
            core_leak_w: float, l1: SystemCosts) -> dict[str, Any]:
    """Every derived factor with the figures it came from (for docs and the calibrate log)."""
    return {"time": dataclasses.asdict(time_factor(l1_time_ns)),
            "energy": dataclasses.asdict(energy_factor(l1_energy_pj, l1)),
            "static_w": dataclasses.asdict(static_w(core_leak_w)),
            "core_area_ratio": core_area_ratio(),
            "step_ratio": step_ratio(), "x86_power_factor": X86_POWER_FACTOR}
