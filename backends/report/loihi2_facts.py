"""Loihi 2's cost figures, derived from what Intel has published about Loihi 2 systems.

Intel publishes no per-event energy or time for Loihi 2 (shared/reference/loihi.md section 2),
so ``loihi2-estimate`` prices Loihi 2 as the silicon-calibrated Loihi 1 table (SANA-FE) times
factors. Each factor, and its range, is computed here from published figures (the list below,
each with its source); the model TOML (``energy_models/loihi2-estimate.toml``) holds the
results, and tests/backends/report/test_loihi2_facts.py checks that it matches this derivation.
docs/energy-model.md explains the choices.

Time per event (Loihi 2 / Loihi 1), four published figures [D from S]:

- Hala Point (Intel, April 2024): 380e12 synaptic ops/s over 140,544 cores -> 0.370 ns per
  synaptic op per core, / SANA-FE's 4.0 ns dense synaptic op;
- the same: 240e12 neuron ops/s -> 0.586 ns per neuron update, / SANA-FE's 9.7 ns;
- Intel's Loihi 2 brief (2021): "up to 10x faster processing" -> 0.1;
- Hala Point "up to 12x" the performance of Pohoiki Springs (768 Loihi 1 chips x 128 cores)
  on 140,544 cores -> 12 x 98,304 / 140,544 = 8.39x per core -> 0.119.

Central: their geometric mean; range: their min and max. All four are peak ("up to") figures,
compared with SANA-FE's micro-benchmark (near-peak) times.

Energy per event (Loihi 2 / Loihi 1) [D from S]:

- high, a hard bound: Hala Point's maximum power (2,600 W, the whole system) at its peak
  synaptic rate is <= 6.84 pJ per synaptic op, / SANA-FE's 35.5 pJ = 0.193;
- low: Hala Point's "over 15 TOPS/W" (8-bit, DNNs), one synaptic op = 2 ops (multiply,
  accumulate) -> 0.133 pJ per op, / 35.5 pJ = 0.0038 (an approximate bound: total energy per
  counted op; a chip that skips zeros performs fewer events than the ops counted);
- central: the geometric mean of the two. Process scaling alone (core area 0.41 -> 0.21 mm²:
  0.51 to 0.72 at the same voltage) lies above the hard bound, so it is not used.

Chip static: Loihi 1's idle 0.029 W (Blouw 2019) x die area 31/60 mm² (low, 0.015 W) or x
transistors 2.3 / 2.07 B (high, equal leakage per transistor); central: geometric mean. Core
leakage: Loihi 1's per-core figure x core area 0.21 / 0.41.

System lines (Loihi 2's, from Loihi 1's calibration): input messages and graded payloads cost
Loihi 2's ``axon_out`` (the table's, scaled); the per-step management time scales with the
fastest published step: Hala Point runs small networks "up to 200x" faster than real time (1 ms
steps) = 5 µs per step vs Pohoiki Springs' fastest 5.8 µs per step (Frady 2020) -> 0.862; the
x86 (Lakemont, the same design on Intel 4) power scales with process alone (0.72 central).
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
    "l1_idle_w": (0.029, "Blouw et al., NICE 2019 [S]"),
    "l1_die_mm2": (60.0, "Intel Loihi 2 brief 2021 [S]"),
    "l2_die_mm2": (31.0, "Intel Loihi 2 brief 2021 [S]"),
    "l1_core_mm2": (0.41, "Intel Loihi 2 brief 2021 [S]"),
    "l2_core_mm2": (0.21, "Intel Loihi 2 brief 2021 [S]"),
    "l1_transistors": (2.07e9, "Davies et al. 2018 [P]"),
    "l2_transistors": (2.3e9, "Intel Loihi 2 brief 2021 [S]"),
}
OPS_PER_SYN_OP = 2  # a synaptic op counted as multiply + accumulate in TOPS figures [E]


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


def time_factor(l1_time_ns: dict[str, float]) -> Factor:
    per_core_syn = _f("hp_syn_ops_per_s") / _f("hp_cores")
    per_core_neu = _f("hp_neuron_ops_per_s") / _f("hp_cores")
    figs = {"hala_point_synaptic_op": 1e9 / per_core_syn / l1_time_ns["syn_op_dense"],
            "hala_point_neuron_update": 1e9 / per_core_neu / l1_time_ns["neuron_active"],
            "loihi2_brief": 1.0 / _f("brief_speedup"),
            "hala_point_vs_pohoiki_springs":
                1.0 / (_f("hp_vs_pohoiki") * _f("pohoiki_cores") / _f("hp_cores"))}
    vals = list(figs.values())
    return Factor(_gmean(vals), min(vals), max(vals), figs)


def energy_factor(l1_energy_pj: dict[str, float]) -> Factor:
    high = _f("hp_max_w") / _f("hp_syn_ops_per_s") * 1e12 / l1_energy_pj["syn_op_dense"]
    low = OPS_PER_SYN_OP / (_f("hp_tops_per_w") * 1e12) * 1e12 / l1_energy_pj["syn_op_dense"]
    return Factor(math.sqrt(low * high), low, high,
                  {"hala_point_max_power_bound": high, "hala_point_tops_per_w": low})


def static_w() -> Factor:
    low = _f("l1_idle_w") * _f("l2_die_mm2") / _f("l1_die_mm2")
    high = _f("l1_idle_w") * _f("l2_transistors") / _f("l1_transistors")
    return Factor(math.sqrt(low * high), low, high, {"die_area": low, "transistors": high})


def core_area_ratio() -> float:
    return _f("l2_core_mm2") / _f("l1_core_mm2")


def step_ratio() -> float:
    return _f("hp_fastest_step_us") / _f("pohoiki_fastest_step_us")


X86_POWER_FACTOR = math.sqrt(0.21 / 0.41)  # process alone: capacitance ~ length [D]


def loihi2_system(l1: SystemCosts, l1_energy_pj: dict[str, float],
                  l1_time_ns: dict[str, float]) -> SystemCosts:
    """Loihi 2's [system] lines from Loihi 1's calibrated ones (module docstring)."""
    ef, tf = energy_factor(l1_energy_pj).central, time_factor(l1_time_ns).central
    axon_pj, axon_ns = l1_energy_pj["axon_out"] * ef, l1_time_ns["axon_out"] * tf
    area = core_area_ratio()
    lr = l1.core_leak_range
    return dataclasses.replace(
        l1, step_ns={p: v * step_ratio() for p, v in l1.step_ns.items()},
        mgmt_w=l1.mgmt_w * X86_POWER_FACTOR, input_msg_pj=axon_pj, input_msg_ns=axon_ns,
        payload_pj_per_bit=axon_pj / 32, core_leak_w=l1.core_leak_w * area,
        core_leak_range=None if lr is None else (lr[0] * area, lr[1] * area),
        estimated=tuple(dict.fromkeys([*l1.estimated, "management", "input_injection",
                                       "chip_static"])), fitted=())


def summary(l1_energy_pj: dict[str, float], l1_time_ns: dict[str, float]) -> dict[str, Any]:
    """Every derived factor with the figures it came from (for docs and the calibrate log)."""
    return {"time": dataclasses.asdict(time_factor(l1_time_ns)),
            "energy": dataclasses.asdict(energy_factor(l1_energy_pj)),
            "static_w": dataclasses.asdict(static_w()), "core_area_ratio": core_area_ratio(),
            "step_ratio": step_ratio(), "x86_power_factor": X86_POWER_FACTOR}
