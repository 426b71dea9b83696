"""What on-chip learning cost: synaptic updates made, their energy and time, and the same run
with time-step-driven updates (every synapse updated every step) for comparison.

Costs per synaptic update come from Davies et al., IEEE Micro 2018, Table 2 ("synaptic update,
pairwise STDP": 120 pJ, 6.1 ns at 0.75 V) [P]. No Loihi 2 figure is published; snnc uses the
Loihi 1 value for it and labels the result an estimate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

UPDATE_COST = {
    "loihi1": {"energy_pj": 120.0, "time_ns": 6.1, "estimate": False,
               "source": "Davies et al., IEEE Micro 38(1) 2018, Table 2 (pairwise STDP update)"},
    "loihi2": {"energy_pj": 120.0, "time_ns": 6.1, "estimate": True,
               "source": "no published Loihi 2 figure; Loihi 1 value (Davies et al. 2018) used"},
}


@dataclass
class LearningReport:
    """Schema ``snnc.learning/1`` (written as learning_report.json)."""

    rule: str
    rule_strings: dict[str, str]
    layers: list[str]
    chip: str
    samples: int
    epochs: int
    steps: int
    synapses: int
    updates_event: int
    updates_timestep: int
    flips: int
    accuracy_curve: list[tuple[int, float]] = field(default_factory=list)
    cost: dict[str, Any] = field(default_factory=dict)

    def energy(self) -> dict[str, float]:
        pj = self.cost["energy_pj"]
        ns = self.cost["time_ns"]
        event_j = self.updates_event * pj * 1e-12
        step_j = self.updates_timestep * pj * 1e-12
        return {"event_driven_j": event_j, "time_step_driven_j": step_j,
                "event_driven_update_time_s": self.updates_event * ns * 1e-9,
                "saving_factor": step_j / event_j if event_j else float("inf")}

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["schema"] = "snnc.learning/1"
        out["energy"] = self.energy()
        out["accuracy_curve"] = [{"samples": s, "accuracy": a} for s, a in self.accuracy_curve]
        return out
